//! The rule file as written in TOML: plain serde types that mirror what an
//! accountant edits. Unknown keys are rejected. Values stay as text here and
//! `plan` checks and converts them, except the `[business]` cutoff and grace,
//! which are checked as they are read so their errors carry line and column.

use serde::Deserialize;

use super::roles::RolesSpec;

pub use crate::input::plan::ColumnSpec;

/// A whole rule file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleFile {
    /// `[rules]`: name, version, effective date.
    pub rules: Identity,
    /// `[business]`: time zone and day boundary.
    #[serde(default)]
    pub business: BusinessSpec,
    /// `[thresholds]`: ignore and review limits.
    #[serde(default)]
    pub thresholds: ThresholdSpec,
    /// `[duplicates]`: what counts as a repeated row.
    #[serde(default)]
    pub duplicates: DuplicateSpec,
    /// `[fees]`: the agreed fee rate each row's `fee` column is checked against.
    pub fees: Option<FeeSpec>,
    /// `[ledger]`: how to read the platform ledger.
    pub ledger: SideSpec,
    /// `[bank]`: how to read the bank or channel statement.
    pub bank: SideSpec,
    /// `[[stage]]`: match stages, applied in order.
    #[serde(default, rename = "stage")]
    pub stages: Vec<StageSpec>,
    /// `[roles]`: who sees which columns (see `rules::roles`).
    pub roles: Option<RolesSpec>,
    /// `[report]`: language, column templates and named reports.
    #[serde(default)]
    pub report: super::report::ReportSpec,
    /// `[resolution]`: reason codes of accepted exceptions, four eyes.
    #[serde(default)]
    pub resolution: super::resolution::ResolutionSpec,
}

/// `[rules]`: which rules these are.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Identity {
    /// Name of the rule set, e.g. `city-payments`.
    pub name: String,
    /// Version label, e.g. `2026.11.1`.
    pub version: String,
    /// First business date these rules apply to (TOML date).
    pub effective_from: toml::value::Datetime,
    /// What changed and why.
    #[serde(default)]
    pub description: String,
}

/// `[business]`: the finance team's calendar.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BusinessSpec {
    /// IANA zone that business days are counted in (default `Asia/Shanghai`).
    pub timezone: Option<String>,
    /// When a day's statement is complete, e.g. `"T+1 10:00"` (default `"T+1 00:00"`).
    #[serde(default, deserialize_with = "super::business::deserialize_cutoff")]
    pub cutoff: Option<super::business::Cutoff>,
    /// How long before the day's end an unanswered row waits for the next day (default `"0s"`).
    #[serde(default, deserialize_with = "super::business::deserialize_grace")]
    pub pending_grace: Option<chrono::TimeDelta>,
}

/// `[thresholds]`: amounts are written as strings so they stay exact.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThresholdSpec {
    /// Unmatched rows with an absolute amount below this are set aside as ignored.
    pub ignore_below: Option<String>,
    /// Matches with an absolute amount at or above this are flagged for review.
    pub review_above: Option<String>,
}

/// `[duplicates]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DuplicateSpec {
    /// How far apart in time a repeat may be (e.g. `"24h"`; default 24h).
    pub window: Option<String>,
}

/// `[ledger]` / `[bank]`: reading one file. Also the `[side]` section of a
/// built-in profile (see `profiles`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SideSpec {
    /// A built-in profile (`recon rules profiles` lists them) supplying every
    /// setting below that this section does not set itself.
    pub profile: Option<String>,
    /// `"auto"` (default) or an encoding label such as `"gbk"`.
    pub encoding: Option<String>,
    /// `"auto"` (default), `","`, `"tab"`, `";"` or `"|"`.
    pub delimiter: Option<String>,
    /// 1-based line of the header row; found automatically when absent.
    pub header_line: Option<u64>,
    /// `false` for a file without a header row: columns are then named by
    /// position, `amount = 3` (1-based). Detected when absent.
    pub header: Option<bool>,
    /// Currency of rows that name none in their amount or currency column (default CNY).
    pub currency: Option<String>,
    /// IANA zone the file's times are written in (default: the business zone).
    pub timezone: Option<String>,
    /// Most decimal places an amount may have (default 2).
    pub amount_decimals: Option<u32>,
    /// Negate every amount (for files that write money in as negative).
    pub flip_sign: Option<bool>,
    /// `[*.columns]`: which column holds what.
    #[serde(default)]
    pub columns: ColumnSpec,
    /// `[*.values]`: words used in direction and type columns.
    #[serde(default)]
    pub values: ValueSpec,
    /// `[*.status]`: which values of the `status` column count.
    #[serde(default)]
    pub status: StatusSpec,
    /// `[[*.clean]]`: per-column clean-ups applied before use.
    #[serde(default)]
    pub clean: Vec<CleanSpec>,
}

/// `[*.values]`: the words a file uses.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValueSpec {
    /// Direction values meaning money in (default 收入, 收, 贷, income, credit, …).
    pub income: Option<Vec<String>>,
    /// Direction values meaning money out (default 支出, 支, 借, expense, debit, …).
    pub expense: Option<Vec<String>>,
    /// Direction values meaning neither (default 不计收支, 中性交易, /): the amount is kept as written.
    pub neutral: Option<Vec<String>>,
    /// Type values marking a refund or reversal (default 退款, 冲正, refund, reversal, …).
    pub refund: Option<Vec<String>>,
}

/// `[*.status]`: values of the `status` column. A row whose status is in
/// none of the lists is a bad row (the message says which list to add it to).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusSpec {
    /// Completed payments: the row counts (e.g. 交易成功, 支付成功, SUCCESS).
    pub success: Option<Vec<String>>,
    /// Completed refunds: the row counts as a refund (e.g. 退款成功, REFUND).
    pub refund: Option<Vec<String>>,
    /// Closed, failed or cancelled: the row is set aside in ignored.csv with its status as the reason.
    pub ignore: Option<Vec<String>>,
}

/// `[[*.clean]]`: a clean-up for one column.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CleanSpec {
    /// Header name of the column to clean.
    pub column: String,
    /// Text removed from the start when present.
    pub strip_prefix: Option<String>,
    /// Text removed from the end when present.
    pub strip_suffix: Option<String>,
    /// Regular expression whose first capture group (or whole match) becomes the value.
    pub extract: Option<String>,
}

/// `[[stage]]`: one match stage.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StageSpec {
    /// Name shown in `matched.csv`'s `stage` column.
    pub name: String,
    /// `"key"`, `"fallback"` or `"split"`.
    #[serde(rename = "match")]
    pub kind: String,
    /// Allowed amount difference: `"0.01"` (absolute) or `"0.6%"` (of the ledger amount).
    pub tolerance: Option<String>,
    /// Fallback: fields that must agree, from `merchant`, `amount`.
    pub on: Option<Vec<String>>,
    /// Fallback: bank time minus ledger time, `["0s", "120s"]`.
    pub window: Option<Vec<String>>,
    /// Fallback: `"closest"` picks among equal candidates, `"unmatched"` leaves them all unmatched.
    pub ambiguous: Option<String>,
    /// Split: most rows on the many side of one split (default 10).
    pub max_parts: Option<usize>,
    /// Batch: what ledger rows are grouped by besides their business day (default `["merchant"]`).
    pub group_by: Option<Vec<String>>,
    /// Batch: when a day's batch is paid, `"T+0"` … `"T+7"` (default `"T+1"`).
    pub settle: Option<String>,
    /// Batch: how `settle` counts days, `"calendar"` (default) or `"weekdays"`.
    pub settle_days: Option<String>,
    /// Batch: mapped columns subtracted from each ledger row (`["fee"]`).
    pub net: Option<Vec<String>>,
    /// Batch: subtract this rate of each ledger row instead (`"0.6%"`).
    pub fee_rate: Option<String>,
}

/// `[fees]`: the agreed fee, checked against every row's `fee` column.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeeSpec {
    /// The rate, `"0.6%"`.
    pub rate: String,
    /// `"half_up"` (default), `"half_even"`, `"down"` or `"up"`, applied to each row's fee.
    pub rounding: Option<String>,
    /// Decimal places the expected fee is rounded to (default 2).
    pub places: Option<u32>,
    /// Largest difference that is not a variance (default `"0.00"`).
    pub tolerance: Option<String>,
    /// `[fees.merchants]`: rates agreed with single merchants, by merchant value.
    #[serde(default)]
    pub merchants: std::collections::BTreeMap<String, String>,
    /// `[fees.currencies]`: rates of rows in other currencies, by ISO code
    /// (a merchant's own rate still wins).
    #[serde(default)]
    pub currencies: std::collections::BTreeMap<String, String>,
}
