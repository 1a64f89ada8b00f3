//! The checked, typed form of a rule file: decimals, durations, zones and
//! regexes instead of text. Everything downstream (reader, matcher, outputs)
//! takes a `Plan`; nothing downstream sees TOML.

use std::str::FromStr;

use chrono::{NaiveDate, TimeDelta};
use chrono_tz::Tz;
use regex::Regex;
use rust_decimal::Decimal;

use super::business::{BusinessDay, Cutoff};
use super::fees::{self, FeePlan, FeeRate, Rounding};
use super::profiles;
use super::report::ReportPlan;
use super::roles::Roles;
use super::schema::{CleanSpec, RuleFile, SideSpec, StageSpec, StatusSpec, ValueSpec};
use crate::input::encoding::{encoding_from_label, EncodingChoice};
use crate::model::Amount;
use crate::model::Currency;

/// The reading settings the reader consumes live with the reader.
pub use crate::input::plan::{
    all_guessed, columns, default_status_words, default_values, placeholder_columns, AmountColumns, Cleaner,
    ColumnPlan, SidePlan, StatusClass, StatusWords, TimeColumns, ValueWords,
};

/// Zone used when `[business] timezone` is absent.
pub const DEFAULT_ZONE: Tz = chrono_tz::Asia::Shanghai;

/// Where the rules came from, recorded in every summary.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RuleIdentity {
    /// `[rules] name`.
    pub name: String,
    /// `[rules] version`.
    pub version: String,
    /// `[rules] effective_from`.
    pub effective_from: NaiveDate,
    /// `[rules] description`.
    pub description: String,
    /// The rule file's path as given.
    pub path: String,
    /// SHA-256 of the rule file's bytes.
    pub sha256: String,
}

/// The stage name of manual matches (`recon resolve --pair`) in matched.csv.
pub const MANUAL_STAGE: &str = "manual";

/// Most `[[stage]]`s a rule file may define: a match holds its stage as a
/// `u16`, and the manual stage is numbered after the last.
pub const MAX_STAGES: usize = u16::MAX as usize;

/// A validated rule set.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Which rules these are.
    pub identity: RuleIdentity,
    /// Zone that business days and output times are in.
    pub business_zone: Tz,
    /// When a business day's statement is complete (`T+1 10:00`).
    pub cutoff: Cutoff,
    /// Rows this long before the day's end may wait for the next day's run.
    pub pending_grace: TimeDelta,
    /// How to read the ledger.
    pub ledger: SidePlan,
    /// How to read the bank statement.
    pub bank: SidePlan,
    /// Match stages in order.
    pub stages: Vec<StagePlan>,
    /// Unmatched rows with |amount| below this are ignored.
    pub ignore_below: Option<Decimal>,
    /// Matches with |amount| at or above this are flagged for review.
    pub review_above: Option<Decimal>,
    /// How far apart a repeated row may be to count as a duplicate.
    pub duplicate_window: TimeDelta,
    /// `[fees]`: the agreed fee each row's `fee` column is checked against.
    pub fees: Option<FeePlan>,
    /// Who sees which columns.
    pub roles: Roles,
    /// `[report]`: language, column templates and named reports (set by `rules::load_file`).
    pub report: ReportPlan,
    /// `[resolution]`: reason codes of accepted exceptions, four eyes.
    pub resolution: super::resolution::ResolutionPlan,
}

impl Plan {
    /// The name of stage `index`; an index past the last stage is a manual
    /// match (`recon resolve --pair`).
    pub fn stage_name(&self, index: usize) -> &str {
        self.stages.get(index).map_or(MANUAL_STAGE, StagePlan::name)
    }

    /// The instants of business day `date` under these rules.
    pub fn business_day(&self, date: NaiveDate) -> BusinessDay {
        BusinessDay::new(date, self.business_zone, self.cutoff, self.pending_grace)
    }
}

/// Allowed amount difference between the two sides of a match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tolerance {
    /// At most this much, in money.
    Absolute(Decimal),
    /// At most this percentage of the ledger amount.
    Percent(Decimal),
}

impl Tolerance {
    /// Exact equality.
    pub const EXACT: Tolerance = Tolerance::Absolute(Decimal::ZERO);

    /// Whether `ledger` and `bank` amounts are close enough.
    pub fn allows(self, ledger: Decimal, bank: Decimal) -> bool {
        ledger
            .checked_sub(bank)
            .is_some_and(|d| d.abs() <= self.limit(ledger))
    }

    /// `allows` for the amounts records hold: on integers when both have
    /// the same scale or align to one and the tolerance is absolute, else
    /// on their `Decimal`s. The answer is `allows`'.
    pub fn allows_amounts(self, ledger: Amount, bank: Amount) -> bool {
        if let (Tolerance::Absolute(limit), Some((l, b))) = (self, ledger.aligned(bank)) {
            // |l - b| × 10^-scale ≤ limit, both sides in units of the finer scale.
            let scale = ledger.scale().max(bank.scale());
            let difference = i128::from(l).abs_diff(i128::from(b));
            let limit_units = limit.mantissa().unsigned_abs();
            let within = match scale.cmp(&limit.scale()) {
                std::cmp::Ordering::Equal => Some(difference <= limit_units),
                std::cmp::Ordering::Greater => 10u128
                    .checked_pow(scale - limit.scale())
                    .and_then(|f| limit_units.checked_mul(f))
                    .map(|limit| difference <= limit),
                std::cmp::Ordering::Less => 10u128
                    .checked_pow(limit.scale() - scale)
                    .and_then(|f| difference.checked_mul(f))
                    .map(|difference| difference <= limit_units),
            };
            if let Some(within) = within {
                return within;
            }
        }
        self.allows(ledger.decimal(), bank.decimal())
    }

    /// The largest allowed difference for a given ledger amount (a
    /// percentage too large to compute allows any difference).
    pub fn limit(self, ledger: Decimal) -> Decimal {
        match self {
            Tolerance::Absolute(limit) => limit,
            Tolerance::Percent(p) => ledger
                .abs()
                .checked_mul(p)
                .and_then(|v| v.checked_div(Decimal::ONE_HUNDRED))
                .unwrap_or(Decimal::MAX),
        }
    }
}

/// What a fallback stage does when several candidates fit equally.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ambiguity {
    /// Take the closest in time (ties by the rows' content, then line), and say so.
    Closest,
    /// Leave the row and its candidates unmatched as `ambiguous`.
    LeaveUnmatched,
}

/// Fields a fallback stage compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FallbackFields {
    /// Merchants must be equal.
    pub merchant: bool,
    /// Amounts must agree within the tolerance.
    pub amount: bool,
}

/// One match stage.
#[derive(Debug, Clone)]
pub enum StagePlan {
    /// Same key, amounts within tolerance, one to one.
    Key {
        /// Stage name.
        name: String,
        /// Amount tolerance.
        tolerance: Tolerance,
    },
    /// Same chosen fields, bank time within a window of the ledger time.
    Fallback {
        /// Stage name.
        name: String,
        /// Fields compared.
        on: FallbackFields,
        /// Earliest allowed bank time minus ledger time.
        window_from: TimeDelta,
        /// Latest allowed bank time minus ledger time.
        window_to: TimeDelta,
        /// Amount tolerance.
        tolerance: Tolerance,
        /// What to do with equal candidates.
        ambiguity: Ambiguity,
    },
    /// Several rows on one side summing to the rows with the same key on the other.
    Split {
        /// Stage name.
        name: String,
        /// Tolerance on the sums.
        tolerance: Tolerance,
        /// Most rows in one split.
        max_parts: usize,
    },
    /// A day's ledger rows per group, net of fees, against one statement
    /// credit on the settlement day (see `matching::batch`).
    Batch {
        /// Stage name.
        name: String,
        /// Group by merchant (else one batch per day).
        by_merchant: bool,
        /// When a day's batch is paid.
        settle: Settle,
        /// What is subtracted from each ledger row.
        net: Net,
        /// Tolerance on the batch's net against the credit.
        tolerance: Tolerance,
    },
}

/// `settle = "T+1"`: the settlement day of business day D.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settle {
    /// The N of T+N.
    pub days: u32,
    /// Count only Monday to Friday (no public-holiday calendar), else calendar days.
    pub weekdays: bool,
}

impl Settle {
    /// The day business day `date`'s batch is paid on.
    pub fn date(self, date: NaiveDate) -> NaiveDate {
        use chrono::{Datelike, Weekday};
        let weekend = |d: NaiveDate| matches!(d.weekday(), Weekday::Sat | Weekday::Sun);
        let mut day = date;
        if !self.weekdays {
            return day + TimeDelta::days(i64::from(self.days));
        }
        // A weekend batch is paid as if it were Monday's.
        while weekend(day) {
            day = day.succ_opt().unwrap_or(day);
        }
        for _ in 0..self.days {
            day = day.succ_opt().unwrap_or(day);
            while weekend(day) {
                day = day.succ_opt().unwrap_or(day);
            }
        }
        day
    }
}

/// What a batch stage subtracts from each ledger row to get what the channel pays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Net {
    /// Nothing: the gross amount is paid.
    Gross,
    /// The row's mapped `fee` column (`net = ["fee"]`).
    FeeColumn,
    /// A rate of the amount (`fee_rate = "0.6%"`).
    Rate(FeeRate),
}

impl StagePlan {
    /// The stage's name.
    pub fn name(&self) -> &str {
        match self {
            StagePlan::Key { name, .. }
            | StagePlan::Fallback { name, .. }
            | StagePlan::Split { name, .. }
            | StagePlan::Batch { name, .. } => name,
        }
    }
}

/// A rule-file setting that cannot work: what is wrong, and the key it is
/// about, so the loader can point at its line and column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    /// Dotted path of the key (`thresholds.ignore_below`, `stage.3.window`,
    /// `ledger.columns`); numbers are 0-based positions in arrays of tables.
    pub key: String,
    /// What is wrong and how to fix it; names the key as the user wrote it.
    pub message: String,
}

impl std::fmt::Display for Invalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// Attaches the key path `key` to a message.
fn at(key: impl Into<String>) -> impl FnOnce(String) -> Invalid {
    let key = key.into();
    move |message| Invalid { key, message }
}

/// Builds a plan from a parsed rule file; every message names the offending
/// key. Roles are checked afterwards against the plan's columns (`rules::roles`).
pub fn build(file: &RuleFile, path: &str, sha256: &str) -> Result<Plan, Invalid> {
    for (key, value) in [("name", &file.rules.name), ("version", &file.rules.version)] {
        if value.trim().is_empty() {
            return Err(at(format!("rules.{key}"))(format!(
                "[rules] {key} is empty: every summary records the rules' name and version, so give both"
            )));
        }
    }
    let effective_from = toml_date(&file.rules.effective_from).ok_or_else(|| {
        at("rules.effective_from")("[rules] effective_from must be a date such as 2026-11-01".into())
    })?;
    let business_zone = match &file.business.timezone {
        Some(z) => zone("[business] timezone", z).map_err(at("business.timezone"))?,
        None => DEFAULT_ZONE,
    };
    let ignore_below = money("[thresholds] ignore_below", &file.thresholds.ignore_below)
        .map_err(at("thresholds.ignore_below"))?;
    let review_above = money("[thresholds] review_above", &file.thresholds.review_above)
        .map_err(at("thresholds.review_above"))?;
    if let (Some(i), Some(r)) = (ignore_below, review_above) {
        if i >= r {
            return Err(at("thresholds.ignore_below")(format!(
                "[thresholds] ignore_below ({i}) is not below review_above ({r}): amounts that need a second confirmation cannot also be too small to matter; lower ignore_below or raise review_above"
            )));
        }
    }
    let duplicate_window = match &file.duplicates.window {
        Some(w) => duration("[duplicates] window", w).map_err(at("duplicates.window"))?,
        None => TimeDelta::hours(24),
    };
    let fee_plan = file
        .fees
        .as_ref()
        .map(FeePlan::build)
        .transpose()
        .map_err(|(k, message)| at(format!("fees.{k}"))(message))?;
    let rounding = fee_plan.as_ref().map_or(Rounding::HalfUp, |f| f.rate.rounding);
    let stages = stages(&file.stages, rounding)?;
    let ledger = side_at("ledger", &file.ledger, business_zone)?;
    let bank = side_at("bank", &file.bank, business_zone)?;
    check_fee_columns(&ledger, &bank, fee_plan.is_some(), &stages)?;
    Ok(Plan {
        identity: RuleIdentity {
            name: file.rules.name.clone(),
            version: file.rules.version.clone(),
            effective_from,
            description: file.rules.description.clone(),
            path: path.to_string(),
            sha256: sha256.to_string(),
        },
        business_zone,
        cutoff: file.business.cutoff.unwrap_or(Cutoff::END_OF_DAY),
        pending_grace: file.business.pending_grace.unwrap_or_else(TimeDelta::zero),
        ledger,
        bank,
        stages,
        ignore_below,
        review_above,
        duplicate_window,
        fees: fee_plan,
        roles: Roles::default(),
        report: ReportPlan::default(),
        resolution: super::resolution::build(&file.resolution).map_err(at("resolution.reasons"))?,
    })
}

fn toml_date(value: &toml::value::Datetime) -> Option<NaiveDate> {
    let d = value.date.as_ref()?;
    if value.time.is_some() {
        return None;
    }
    NaiveDate::from_ymd_opt(i32::from(d.year), u32::from(d.month), u32::from(d.day))
}

/// Parses an IANA zone name.
pub fn zone(what: &str, name: &str) -> Result<Tz, String> {
    Tz::from_str(name).map_err(|_| {
        format!("{what}: unknown time zone \"{name}\" (use an IANA name such as Asia/Shanghai or UTC)")
    })
}

fn money(what: &str, text: &Option<String>) -> Result<Option<Decimal>, String> {
    let Some(text) = text else { return Ok(None) };
    let value = Decimal::from_str_exact(text.trim())
        .map_err(|_| format!("{what}: \"{text}\" is not an amount (write it like \"10.00\")"))?;
    if value.is_sign_negative() {
        return Err(format!("{what}: must not be negative, got {value}"));
    }
    Ok(Some(value))
}

/// Parses durations like `90s`, `2m`, `1h30m`, `1d`, `-30s`.
pub fn duration(what: &str, text: &str) -> Result<TimeDelta, String> {
    let bad = || {
        format!("{what}: \"{text}\" is not a duration (write e.g. \"120s\", \"10m\", \"1h30m\", \"-30s\")")
    };
    let trimmed = text.trim();
    let (negative, body) = match trimmed.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, trimmed.strip_prefix('+').unwrap_or(trimmed)),
    };
    if body.is_empty() {
        return Err(bad());
    }
    let mut total = 0i64;
    let mut digits = String::new();
    for c in body.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            _ => return Err(bad()),
        };
        let n: i64 = digits.parse().map_err(|_| bad())?;
        total = n
            .checked_mul(unit)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(bad)?;
        digits.clear();
    }
    if !digits.is_empty() {
        return Err(bad());
    }
    Ok(TimeDelta::seconds(if negative { -total } else { total }))
}

fn tolerance(what: &str, text: &Option<String>) -> Result<Tolerance, String> {
    let Some(text) = text else {
        return Ok(Tolerance::EXACT);
    };
    let bad = || format!("{what}: \"{text}\" is not a tolerance (write \"0.01\" or \"0.6%\")");
    let t = text.trim();
    let (number, percent) = match t.strip_suffix('%') {
        Some(n) => (n.trim(), true),
        None => (t, false),
    };
    let value = Decimal::from_str_exact(number).map_err(|_| bad())?;
    if value.is_sign_negative() {
        return Err(bad());
    }
    Ok(if percent {
        Tolerance::Percent(value)
    } else {
        Tolerance::Absolute(value)
    })
}

/// `[fees]` needs a `fee` column on a side, and `net = ["fee"]` one on the ledger.
fn check_fee_columns(
    ledger: &SidePlan,
    bank: &SidePlan,
    fees: bool,
    stages: &[StagePlan],
) -> Result<(), Invalid> {
    let has_fee =
        |s: &SidePlan| s.columns.fee.is_some() || s.guess_columns.as_ref().is_some_and(|c| c.fee.is_some());
    if fees && !has_fee(ledger) && !has_fee(bank) {
        return Err(at("fees")(
            "[fees] checks each row's fee, but neither [ledger.columns] nor [bank.columns] maps a fee column: add fee = \"…\" (e.g. fee = \"手续费\") to the side that has one".into(),
        ));
    }
    for (i, stage) in stages.iter().enumerate() {
        if let StagePlan::Batch {
            net: Net::FeeColumn,
            name,
            ..
        } = stage
        {
            if !has_fee(ledger) {
                return Err(at(format!("stage.{i}.net"))(format!(
                    "[[stage]] #{} \"{name}\": net = [\"fee\"] subtracts the ledger's fee column, but [ledger.columns] maps none: add fee = \"…\"",
                    i + 1
                )));
            }
        }
    }
    Ok(())
}

fn stages(specs: &[StageSpec], rounding: Rounding) -> Result<Vec<StagePlan>, Invalid> {
    if specs.is_empty() {
        return Err(at("stage")(
            "no [[stage]] defined: add at least one, e.g. [[stage]] name = \"order-id\" match = \"key\""
                .into(),
        ));
    }
    if specs.len() > MAX_STAGES {
        return Err(at("stage")(format!(
            "{} [[stage]]s defined: at most {MAX_STAGES} are allowed",
            specs.len()
        )));
    }
    let mut seen = std::collections::HashSet::new();
    specs
        .iter()
        .enumerate()
        .map(|(i, s)| {
            if s.name.trim().is_empty() {
                return Err(at(format!("stage.{i}.name"))(format!(
                    "[[stage]] #{}: name is empty: matched.csv names the stage of every match, so give it a name",
                    i + 1
                )));
            }
            if !seen.insert(s.name.as_str()) {
                return Err(at(format!("stage.{i}.name"))(format!(
                    "[[stage]] #{}: name \"{}\" is used twice",
                    i + 1,
                    s.name
                )));
            }
            stage(i, s, rounding)
        })
        .collect()
}

/// Checks the stage at 0-based position `index`; `rounding` rounds a batch's `fee_rate`.
fn stage(index: usize, s: &StageSpec, rounding: Rounding) -> Result<StagePlan, Invalid> {
    let what = format!("[[stage]] #{} \"{}\"", index + 1, s.name);
    let key = |name: &str| format!("stage.{index}.{name}");
    let tolerance = tolerance(&format!("{what} tolerance"), &s.tolerance).map_err(at(key("tolerance")))?;
    let not_for = |name: &str, present: bool| {
        if present {
            Err(at(key(name))(format!(
                "{what}: `{name}` does not apply to match = \"{}\"",
                s.kind
            )))
        } else {
            Ok(())
        }
    };
    if s.kind != "batch" {
        not_for("group_by", s.group_by.is_some())?;
        not_for("settle", s.settle.is_some())?;
        not_for("settle_days", s.settle_days.is_some())?;
        not_for("net", s.net.is_some())?;
        not_for("fee_rate", s.fee_rate.is_some())?;
    }
    match s.kind.as_str() {
        "batch" => {
            not_for("on", s.on.is_some())?;
            not_for("window", s.window.is_some())?;
            not_for("ambiguous", s.ambiguous.is_some())?;
            not_for("max_parts", s.max_parts.is_some())?;
            batch(&what, s, tolerance, rounding).map_err(|(name, message)| at(key(name))(message))
        }
        "key" => {
            not_for("on", s.on.is_some())?;
            not_for("window", s.window.is_some())?;
            not_for("ambiguous", s.ambiguous.is_some())?;
            not_for("max_parts", s.max_parts.is_some())?;
            Ok(StagePlan::Key {
                name: s.name.clone(),
                tolerance,
            })
        }
        "split" => {
            not_for("on", s.on.is_some())?;
            not_for("window", s.window.is_some())?;
            not_for("ambiguous", s.ambiguous.is_some())?;
            let max_parts = s.max_parts.unwrap_or(10);
            if max_parts < 2 {
                return Err(at(key("max_parts"))(format!(
                    "{what}: max_parts must be at least 2"
                )));
            }
            Ok(StagePlan::Split {
                name: s.name.clone(),
                tolerance,
                max_parts,
            })
        }
        "fallback" => fallback(&what, s, tolerance).map_err(|(name, message)| at(key(name))(message)),
        other => Err(at(key("match"))(format!(
            "{what}: match = \"{other}\" is not a stage kind (use \"key\", \"fallback\", \"split\" or \"batch\")"
        ))),
    }
}

/// Checks a batch stage; an error names the stage key it is about.
fn batch(
    what: &str,
    s: &StageSpec,
    tolerance: Tolerance,
    rounding: Rounding,
) -> Result<StagePlan, (&'static str, String)> {
    let mut by_merchant = false;
    for field in s.group_by.as_deref().unwrap_or(&["merchant".to_string()]) {
        match field.as_str() {
            "merchant" => by_merchant = true,
            other => {
                return Err((
                    "group_by",
                    format!("{what}: group_by = \"{other}\" is not a field (use [\"merchant\"], or [] for one batch per day)"),
                ))
            }
        }
    }
    let settle_text = s.settle.as_deref().unwrap_or("T+1");
    let days = settle_text
        .trim()
        .strip_prefix(['T', 't'])
        .and_then(|r| r.trim().strip_prefix('+'))
        .and_then(|n| n.trim().parse::<u32>().ok())
        .filter(|&n| n <= 7)
        .ok_or_else(|| {
            (
                "settle",
                format!("{what}: settle = \"{settle_text}\" is not a settlement day (write \"T+0\" … \"T+7\", e.g. \"T+1\")"),
            )
        })?;
    let weekdays = match s.settle_days.as_deref() {
        None | Some("calendar") => false,
        Some("weekdays") => true,
        Some(other) => {
            return Err((
                "settle_days",
                format!("{what}: settle_days = \"{other}\" (use \"calendar\" or \"weekdays\")"),
            ))
        }
    };
    let net = match (s.net.as_deref(), &s.fee_rate) {
        (Some(_), Some(_)) => {
            return Err((
                "fee_rate",
                format!(
                "{what}: set net = [\"fee\"] (the fee column) or fee_rate (a rate of each amount), not both"
            ),
            ))
        }
        (None | Some([]), None) => Net::Gross,
        (Some([one]), None) if one == "fee" => Net::FeeColumn,
        (Some(other), None) => {
            return Err((
                "net",
                format!(
                    "{what}: net = {other:?}: only the mapped fee column can be subtracted (net = [\"fee\"])"
                ),
            ))
        }
        (None, Some(rate)) => Net::Rate(FeeRate {
            percent: fees::percent(&format!("{what} fee_rate"), rate).map_err(|e| ("fee_rate", e))?,
            rounding,
            places: 2,
        }),
    };
    Ok(StagePlan::Batch {
        name: s.name.clone(),
        by_merchant,
        settle: Settle { days, weekdays },
        net,
        tolerance,
    })
}

/// Checks a fallback stage; an error names the stage key it is about.
fn fallback(what: &str, s: &StageSpec, tolerance: Tolerance) -> Result<StagePlan, (&'static str, String)> {
    if s.max_parts.is_some() {
        return Err((
            "max_parts",
            format!("{what}: `max_parts` does not apply to match = \"fallback\""),
        ));
    }
    let on_list =
        s.on.clone()
            .unwrap_or_else(|| vec!["merchant".into(), "amount".into()]);
    let mut on = FallbackFields {
        merchant: false,
        amount: false,
    };
    for field in &on_list {
        match field.as_str() {
            "merchant" => on.merchant = true,
            "amount" => on.amount = true,
            other => {
                return Err((
                    "on",
                    format!("{what}: on = \"{other}\" is not a field (use \"merchant\" and/or \"amount\")"),
                ))
            }
        }
    }
    if !on.amount {
        return Err((
            "on",
            format!("{what}: on must include \"amount\": matching without comparing money would pair any two rows"),
        ));
    }
    let window = s
        .window
        .clone()
        .unwrap_or_else(|| vec!["0s".into(), "120s".into()]);
    let in_window = |message| ("window", message);
    let [from, to] = window.as_slice() else {
        return Err(in_window(format!(
            "{what}: window must be two durations, e.g. [\"0s\", \"120s\"]"
        )));
    };
    let window_from = duration(&format!("{what} window"), from).map_err(in_window)?;
    let window_to = duration(&format!("{what} window"), to).map_err(in_window)?;
    if window_from > window_to {
        return Err(in_window(format!(
            "{what}: window starts after it ends ({from} > {to})"
        )));
    }
    let ambiguity = match s.ambiguous.as_deref() {
        None | Some("closest") => Ambiguity::Closest,
        Some("unmatched") => Ambiguity::LeaveUnmatched,
        Some(other) => {
            return Err((
                "ambiguous",
                format!("{what}: ambiguous = \"{other}\" (use \"closest\" or \"unmatched\")"),
            ))
        }
    };
    Ok(StagePlan::Fallback {
        name: s.name.clone(),
        on,
        window_from,
        window_to,
        tolerance,
        ambiguity,
    })
}

/// Builds the reading plan of one side (`name` is `ledger` or `bank`, for
/// messages), starting from its profile when it names one.
pub fn side(name: &str, spec: &SideSpec, business_zone: Tz) -> Result<SidePlan, String> {
    side_at(name, spec, business_zone).map_err(|e| e.message)
}

/// `side`, with the key each error is about.
fn side_at(name: &str, spec: &SideSpec, business_zone: Tz) -> Result<SidePlan, Invalid> {
    let Some(profile_name) = &spec.profile else {
        return side_settings(name, spec, business_zone, None);
    };
    let profile = profiles::find(profile_name)
        .map_err(|e| at(format!("{name}.profile"))(format!("[{name}] profile: {e}")))?;
    let merged = profiles::overlay(&profile.side, spec);
    side_settings(name, &merged, business_zone, Some(profile))
}

fn side_settings(
    name: &str,
    spec: &SideSpec,
    business_zone: Tz,
    profile: Option<&profiles::Profile>,
) -> Result<SidePlan, Invalid> {
    let key = |k: &str| at(format!("{name}.{k}"));
    let encoding = match spec.encoding.as_deref() {
        None | Some("auto") => EncodingChoice::Auto,
        Some(label) => EncodingChoice::Fixed(
            encoding_from_label(label).map_err(|e| key("encoding")(format!("[{name}] encoding: {e}")))?,
        ),
    };
    let delimiter = match spec.delimiter.as_deref() {
        None | Some("auto") => None,
        Some(d) => {
            Some(parse_delimiter(d).map_err(|e| key("delimiter")(format!("[{name}] delimiter: {e}")))?)
        }
    };
    let zone = match &spec.timezone {
        Some(z) => zone(&format!("[{name}] timezone"), z).map_err(key("timezone"))?,
        None => business_zone,
    };
    let c = &spec.columns;
    let guess = profile.is_some_and(|p| p.guess_columns)
        && c.amount.is_none()
        && c.debit.is_none()
        && c.credit.is_none();
    Ok(SidePlan {
        encoding,
        delimiter,
        header_line: spec.header_line,
        zone,
        amount_decimals: Some(spec.amount_decimals.unwrap_or(2)),
        flip_sign: spec.flip_sign.unwrap_or(false),
        columns: if guess {
            placeholder_columns()
        } else {
            columns(name, c).map_err(key("columns"))?
        },
        values: values(&spec.values),
        status: status_words(name, &spec.status).map_err(key("status"))?,
        cleaners: cleaners(name, &spec.clean)?,
        profile: profile.map(|p| p.name.clone()),
        header: spec.header,
        currency: match &spec.currency {
            None => Currency::CNY,
            Some(code) => Currency::new(code).ok_or_else(|| {
                key("currency")(format!(
                    "[{name}] currency: \"{code}\" is not a three-letter currency code such as CNY or USD"
                ))
            })?,
        },
        decimal_comma: false,
        guess_columns: guess.then(|| c.clone()),
    })
}

/// Parses a delimiter setting: one character, or `tab`.
pub fn parse_delimiter(text: &str) -> Result<u8, String> {
    match text {
        "tab" | "\\t" | "\t" => Ok(b'\t'),
        "comma" => Ok(b','),
        "semicolon" => Ok(b';'),
        "pipe" => Ok(b'|'),
        t if t.len() == 1 && t.is_ascii() => Ok(t.as_bytes()[0]),
        other => Err(format!(
            "\"{other}\" is not a delimiter (use \"auto\", \",\", \"tab\", \";\" or \"|\")"
        )),
    }
}

fn values(v: &ValueSpec) -> ValueWords {
    let d = default_values();
    ValueWords {
        income: v.income.clone().unwrap_or(d.income),
        expense: v.expense.clone().unwrap_or(d.expense),
        neutral: v.neutral.clone().unwrap_or(d.neutral),
        refund: v.refund.clone().unwrap_or(d.refund),
    }
}

/// The status lists, each value in at most one of them.
fn status_words(side: &str, s: &StatusSpec) -> Result<StatusWords, String> {
    let d = default_status_words();
    let words = StatusWords {
        success: s.success.clone().unwrap_or(d.success),
        refund: s.refund.clone().unwrap_or(d.refund),
        ignore: s.ignore.clone().unwrap_or(d.ignore),
    };
    let lists = [
        ("success", &words.success),
        ("refund", &words.refund),
        ("ignore", &words.ignore),
    ];
    for (i, (first, a)) in lists.iter().enumerate() {
        for (second, b) in &lists[i + 1..] {
            if let Some(both) = a.iter().find(|w| b.contains(w)) {
                return Err(format!(
                    "[{side}.status]: \"{both}\" is in both {first} and {second} (a profile's lists count too: set the list that should not hold it in full)"
                ));
            }
        }
    }
    Ok(words)
}

fn cleaners(side: &str, specs: &[CleanSpec]) -> Result<Vec<Cleaner>, Invalid> {
    specs
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let extract = match &s.extract {
                Some(pattern) => Some(Regex::new(pattern).map_err(|e| {
                    at(format!("{side}.clean.{i}.extract"))(format!(
                        "[[{side}.clean]] column \"{}\": extract is not a valid regex: {e}",
                        s.column
                    ))
                })?),
                None => None,
            };
            Ok(Cleaner {
                column: s.column.clone(),
                strip_prefix: s.strip_prefix.clone(),
                strip_suffix: s.strip_suffix.clone(),
                extract,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #[test]
        fn tolerances_allow_integer_amounts_as_they_allow_decimals(
            l in (-100_000i64..100_000, 0u32..5),
            b in (-100_000i64..100_000, 0u32..5),
            limit in (0i64..2_000, 0u32..6),
            percent in proptest::bool::ANY,
            near in proptest::bool::ANY,
        ) {
            let amount = |(units, scale): (i64, u32)| Amount::new(units, scale, units < 0).unwrap();
            let ledger = amount(l);
            // Near: the bank amount a few units off the ledger's, so limits bite.
            let bank = if near { amount((l.0 + b.0 % 7, l.1)) } else { amount(b) };
            let limit = Decimal::new(limit.0, limit.1);
            let tolerance = if percent { Tolerance::Percent(limit) } else { Tolerance::Absolute(limit) };
            proptest::prop_assert_eq!(
                tolerance.allows_amounts(ledger, bank),
                tolerance.allows(ledger.decimal(), bank.decimal())
            );
        }
    }

    #[test]
    fn durations() {
        assert_eq!(duration("w", "120s").unwrap(), TimeDelta::seconds(120));
        assert_eq!(duration("w", "1h30m").unwrap(), TimeDelta::seconds(5400));
        assert_eq!(duration("w", "-30s").unwrap(), TimeDelta::seconds(-30));
        assert_eq!(duration("w", "1d").unwrap(), TimeDelta::days(1));
        assert!(duration("w", "10").is_err());
        assert!(duration("w", "ten minutes").is_err());
        assert!(duration("w", "").is_err());
    }

    #[test]
    fn tolerances() {
        let abs = tolerance("t", &Some("0.01".into())).unwrap();
        assert!(abs.allows(Decimal::new(10000, 2), Decimal::new(9999, 2)));
        assert!(!abs.allows(Decimal::new(10000, 2), Decimal::new(9998, 2)));
        let pct = tolerance("t", &Some("0.6%".into())).unwrap();
        assert!(pct.allows(Decimal::new(10000, 2), Decimal::new(9940, 2)));
        assert!(!pct.allows(Decimal::new(10000, 2), Decimal::new(9939, 2)));
        assert!(tolerance("t", &Some("-1".into())).is_err());
    }

    #[test]
    fn cleaner_extracts_first_group() {
        let c = Cleaner {
            column: "memo".into(),
            strip_prefix: Some("`".into()),
            strip_suffix: None,
            extract: Some(Regex::new(r"ORD-(\d+)").unwrap()),
        };
        assert_eq!(c.apply("`pay ORD-123 water"), "123");
        assert_eq!(c.apply("no order"), "");
    }

    #[test]
    fn bilingual_and_signed_direction_words() {
        let v = default_values();
        for w in ["贷 Cr", "收入(+)", "Credit", "贷/CR", "收入（+）"] {
            assert!(v.is_income(w) && !v.is_expense(w), "{w}");
        }
        for w in ["借 Dr", "支出/Debit", "Debit", "支出(-)"] {
            assert!(v.is_expense(w) && !v.is_income(w), "{w}");
        }
        for w in ["贷 Dr", "收入(-)", "(+)", "收入 转账", ""] {
            assert!(!v.is_income(w) && !v.is_expense(w), "{w}");
        }
    }

    #[test]
    fn value_words_ignore_latin_case() {
        let v = default_values();
        assert!(v.is_income("Income") && v.is_income("CR") && v.is_income("收入"));
        assert!(v.is_expense("EXPENSE") && v.is_expense("dr") && v.is_expense("借"));
        assert!(v.is_refund("Refund") && v.is_refund("冲正"));
        assert!(!v.is_income("支出") && !v.is_neutral("income"));
    }

    #[test]
    fn settlement_days_count_calendar_days_or_weekdays() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let calendar = Settle {
            days: 1,
            weekdays: false,
        };
        let weekdays = Settle {
            days: 1,
            weekdays: true,
        };
        // 2026-11-27 is a Friday.
        assert_eq!(calendar.date(d("2026-11-27")), d("2026-11-28"));
        assert_eq!(weekdays.date(d("2026-11-27")), d("2026-11-30"));
        assert_eq!(
            weekdays.date(d("2026-11-28")),
            d("2026-12-01"),
            "a Saturday counts as Monday"
        );
        assert_eq!(
            Settle {
                days: 0,
                weekdays: true
            }
            .date(d("2026-11-29")),
            d("2026-11-30")
        );
        assert_eq!(
            Settle {
                days: 0,
                weekdays: false
            }
            .date(d("2026-11-29")),
            d("2026-11-29")
        );
    }

    #[test]
    fn delimiters() {
        assert_eq!(parse_delimiter("tab").unwrap(), b'\t');
        assert_eq!(parse_delimiter(";").unwrap(), b';');
        assert!(parse_delimiter("::").is_err());
    }
}
