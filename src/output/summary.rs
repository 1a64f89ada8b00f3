//! `summary.json` and the short text summary: counts and sums per output and
//! side, the conservation proof (this run's files plus rows carried in), and
//! what produced the result (rules, inputs, tool version, business day).

mod text;

pub use text::label;

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::Serialize;

use super::mask::ViewFacts;
use super::resolutions::ResolutionStatus;
use super::review::ReviewStatus;
use super::tables::{add_currency_tallies, CurrencyTallies, OutputFile, SideTallies};
use crate::crypto::Sm4Key;
use crate::input::carry::CarryIn;
use crate::matching::{Batch, BatchOutcome, Disposition, Reconciliation};
use crate::model::{Currency, Record, Side, Tally};
use crate::rules::business::BusinessDay;
use crate::rules::plan::{Plan, RuleIdentity, StagePlan};

/// The whole summary, serialized as `summary.json`.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// `recon` and its version.
    pub tool: String,
    /// The run's id, as in the audit log.
    pub run_id: String,
    /// The role whose view these results are, and what it masks; `null` without roles.
    pub role: Option<ViewFacts>,
    /// The business date reconciled, when given.
    pub business_date: Option<String>,
    /// With `--date`: the instants the business day was cut at.
    pub period: Option<PeriodFacts>,
    /// When the run started (RFC 3339).
    pub started_at: String,
    /// When the outputs were rendered (RFC 3339).
    pub finished_at: String,
    /// The rules used.
    pub rules: RuleIdentity,
    /// The two input files.
    pub inputs: BTreeMap<&'static str, InputFacts>,
    /// With `--carry-in`: the previous run's pending rows taken in.
    pub carried_in: Option<CarriedInFacts>,
    /// Rows written per output file and side.
    pub outputs: BTreeMap<&'static str, SideTallies>,
    /// Matches made, per stage name, in stage order.
    pub stages: Vec<StageCount>,
    /// Groups formed by batch stages, by outcome; absent without a batch stage.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub batches: Option<BatchCounts>,
    /// The fee check; absent without `[fees]`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fees: Option<FeeFacts>,
    /// Matches flagged for review.
    pub review: u64,
    /// Unmatched rows per reason and side.
    pub unmatched_by_reason: BTreeMap<&'static str, SideCounts>,
    /// Items of review.csv and which of them reviewers have confirmed.
    pub confirmations: ReviewStatus,
    /// Exception rows paired, accepted or open, and the resolutions applied
    /// (`recon resolve`, read back from the audit log).
    pub resolutions: ResolutionStatus,
    /// What keeps the day from being closed.
    pub open: OpenFacts,
    /// Per side: input tally, sum of output tallies, and whether they agree.
    pub conservation: BTreeMap<&'static str, Conservation>,
    /// The same per currency, when any row is in another currency than CNY
    /// (rows of different currencies never match; rejected rows have none).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub currencies: BTreeMap<String, CurrencyConservation>,
    /// `reconciled` (no exceptions), `closed` (every exception paired or
    /// accepted and every review flag confirmed) or `exceptions`.
    pub status: &'static str,
    /// With a role limited to some rows: which, the scope's status, and that
    /// every count above (inputs, outputs, stages, reasons, batches, fees,
    /// review, confirmations, resolutions, open, conservation) is the scope's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<ScopeFacts>,
    /// How the result files are encrypted; absent for plain results.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encryption: Option<Encryption>,
    /// The audit log line that recorded this run's start (`recon verify DIR` checks it).
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub audit: Option<AuditMark>,
}

/// Where the audit log recorded a run's `started` line: cutting the log
/// short or replacing it is caught by comparing the line with this mark.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditMark {
    /// The audit log's path, as the run used it.
    pub audit_log: String,
    /// The `started` line's number (its `seq`).
    pub audit_started_line: u64,
    /// The `started` line's SHA-256 (the next line's `prev`).
    pub audit_started_sha256: String,
}

/// How the result files of a run are encrypted at rest.
#[derive(Debug, Clone, Serialize)]
pub struct Encryption {
    /// Always `SM4-GCM`.
    pub cipher: &'static str,
    /// The key id (first 8 bytes of SHA-256 of the key, hex).
    pub key_id: String,
}

impl Encryption {
    /// The facts for results encrypted under `key`.
    pub fn of(key: &Sm4Key) -> Self {
        Encryption {
            cipher: "SM4-GCM",
            key_id: key.id_hex(),
        }
    }
}

/// The rows a scoped role's view holds.
#[derive(Debug, Clone, Serialize)]
pub struct ScopeFacts {
    /// The role.
    pub role: String,
    /// Its row filter as written.
    pub rows: String,
    /// The scope's own status, decided as the day's is over its rows only.
    pub status: &'static str,
    /// The conservation proof over every row, before the view was cut (a run
    /// whose proof fails publishes nothing, so always `holds`).
    pub all_rows_conservation: &'static str,
    /// What the counts mean.
    pub note: &'static str,
}

/// What is still open in a run.
#[derive(Debug, Clone, Copy, Default, Serialize, serde::Deserialize)]
pub struct OpenFacts {
    /// Unmatched and duplicate rows neither paired nor accepted.
    pub rows: u64,
    /// Rows that could not be read (`--skip-bad-rows`).
    pub rejected: u64,
    /// Matches flagged for review and not confirmed.
    pub review_flags: u64,
}

/// Facts about one input file.
#[derive(Debug, Clone, Serialize)]
pub struct InputFacts {
    /// The path as given.
    pub path: String,
    /// SHA-256 of its bytes.
    pub sha256: String,
    /// Encoding it was read with.
    pub encoding: String,
    /// 1-based header line.
    pub header_line: u64,
    /// Records read (typed rows, plus rejected rows with a zero amount).
    pub records: Tally,
    /// Rows that could not be typed (with `--skip-bad-rows`).
    pub rejected: u64,
    /// Rows set aside by their status (closed, failed), in ignored.csv.
    pub ignored_by_status: u64,
    /// The built-in profile the file was read with, if any.
    pub profile: Option<String>,
}

/// The business day of a run with `--date`, as instants in the business zone.
#[derive(Debug, Clone, Serialize)]
pub struct PeriodFacts {
    /// The rule's cutoff, e.g. `T+1 10:00`.
    pub cutoff_rule: String,
    /// The rule's pending grace, e.g. `10m`.
    pub pending_grace: String,
    /// Start of the day (ledger and statement rows from here).
    pub starts: String,
    /// End of the day (ledger rows before this).
    pub ends: String,
    /// The cutoff (statement rows before this, when they belong to the day's payments).
    pub cutoff: String,
    /// Unanswered rows from here to the day's end are pending, not exceptions.
    pub pending_from: String,
}

impl PeriodFacts {
    /// The facts of a business day under a plan.
    pub fn new(day: &BusinessDay, plan: &Plan) -> PeriodFacts {
        PeriodFacts {
            cutoff_rule: plan.cutoff.to_string(),
            pending_grace: short_duration(plan.pending_grace),
            starts: day.show(day.start),
            ends: day.show(day.end),
            cutoff: day.show(day.cutoff),
            pending_from: day.show(day.pending_from),
        }
    }
}

/// `10m`, `1h`, `90s`: a duration as a rule file writes it.
fn short_duration(d: chrono::TimeDelta) -> String {
    match d.num_seconds() {
        s if s % 3600 == 0 && s != 0 => format!("{}h", s / 3600),
        s if s % 60 == 0 && s != 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

/// The pending rows carried in with `--carry-in`: an input of their own.
#[derive(Debug, Clone, Serialize)]
pub struct CarriedInFacts {
    /// The pending.csv read.
    pub path: String,
    /// Its SHA-256.
    pub sha256: String,
    /// The business date its rows were pending on.
    pub business_date: Option<String>,
    /// Ledger rows carried in.
    pub ledger: Tally,
    /// Statement rows carried in.
    pub bank: Tally,
}

impl CarriedInFacts {
    /// Counts and sums of what was carried in.
    pub fn new(carry: &CarryIn) -> CarriedInFacts {
        CarriedInFacts {
            path: carry.pending.path.clone(),
            sha256: carry.pending.sha256.clone(),
            business_date: carry.business_date.map(|d| d.to_string()),
            ledger: Tally::of(&carry.ledger),
            bank: Tally::of(&carry.bank),
        }
    }

    /// The carried-in tallies per side.
    pub fn tallies(&self) -> SideTallies {
        SideTallies {
            ledger: self.ledger,
            bank: self.bank,
        }
    }
}

/// Batches (groups of ledger rows held against one statement credit) by outcome.
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize)]
pub struct BatchCounts {
    /// Groups formed.
    pub total: u64,
    /// Paid by a credit within the tolerance.
    pub settled: u64,
    /// Compared with a credit that differs beyond the tolerance.
    pub amount_mismatch: u64,
    /// No credit on the settlement day.
    pub no_counterpart: u64,
    /// No credit yet; the settlement day ends after the cutoff.
    pub pending: u64,
}

impl BatchCounts {
    /// Counts the batches of a run; `None` when the rules have no batch stage.
    pub fn of(plan: &Plan, batches: &[Batch]) -> Option<BatchCounts> {
        if !plan.stages.iter().any(|s| matches!(s, StagePlan::Batch { .. })) {
            return None;
        }
        let mut counts = BatchCounts::default();
        for b in batches {
            counts.total += 1;
            *match b.outcome {
                BatchOutcome::Settled => &mut counts.settled,
                BatchOutcome::AmountMismatch => &mut counts.amount_mismatch,
                BatchOutcome::Missing => &mut counts.no_counterpart,
                BatchOutcome::Pending => &mut counts.pending,
            } += 1;
        }
        Some(counts)
    }
}

/// What the fee check found (`[fees]`).
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize)]
pub struct FeeFacts {
    /// Rows whose fee was checked.
    pub checked: u64,
    /// Rows whose fee differs from the expected one beyond the tolerance (fee_variances.csv).
    pub variances: u64,
    /// The sums, when every checked row is in one currency (else see `currencies`).
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub sums: Option<FeeSums>,
    /// The sums per currency, when any checked row is in another currency than CNY
    /// (fees of different currencies are never added up).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub currencies: BTreeMap<String, FeeSums>,
}

/// Sums of the fee check in one currency.
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize)]
pub struct FeeSums {
    /// Sum of the expected fees of the checked rows.
    #[serde(with = "rust_decimal::serde::str")]
    pub expected: Decimal,
    /// Sum of the fees charged on the checked rows.
    #[serde(with = "rust_decimal::serde::str")]
    pub actual: Decimal,
    /// Sum of actual minus expected over the variances.
    #[serde(with = "rust_decimal::serde::str")]
    pub variance_total: Decimal,
}

impl FeeFacts {
    /// Sets the sums from the per-currency ones: one currency's at the top,
    /// and per currency when any is not CNY.
    pub fn set_sums(&mut self, sums: BTreeMap<Currency, FeeSums>) {
        if sums.keys().any(|&c| c != Currency::CNY) {
            self.currencies = sums
                .iter()
                .map(|(c, s)| (c.as_str().to_string(), s.clone()))
                .collect();
        }
        self.sums = match sums.len() {
            0 => Some(FeeSums::default()),
            1 => sums.into_values().next(),
            _ => None,
        };
    }

    /// The sums per currency, as `set_sums` was given them (one currency's
    /// sums without a `currencies` map are CNY's).
    pub fn by_currency(&self) -> BTreeMap<Currency, FeeSums> {
        if self.currencies.is_empty() {
            return self.sums.iter().map(|s| (Currency::CNY, s.clone())).collect();
        }
        (self.currencies.iter())
            .filter_map(|(code, s)| Some((Currency::new(code)?, s.clone())))
            .collect()
    }

    /// The variances' total as shown to a person: `1.10`, or per currency
    /// (`1.10 CNY, 2.00 USD`) when there are several.
    pub fn variance_text(&self) -> String {
        match &self.sums {
            Some(s) if self.currencies.len() <= 1 => match self.currencies.keys().next() {
                Some(code) => format!("{} {code}", s.variance_total),
                None => s.variance_total.to_string(),
            },
            _ => {
                let totals: Vec<String> = self
                    .currencies
                    .iter()
                    .filter(|(_, s)| !s.variance_total.is_zero())
                    .map(|(code, s)| format!("{} {code}", s.variance_total))
                    .collect();
                if totals.is_empty() {
                    "0".to_string()
                } else {
                    totals.join(", ")
                }
            }
        }
    }
}

/// Matches per stage.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct StageCount {
    /// Stage name.
    pub name: String,
    /// Matches it made.
    pub matches: u64,
}

/// A count per side.
#[derive(Debug, Clone, Copy, Default, Serialize, serde::Deserialize)]
pub struct SideCounts {
    /// Ledger rows.
    pub ledger: u64,
    /// Bank rows.
    pub bank: u64,
}

/// The conservation proof for one side.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Conservation {
    /// What was read: the file's rows plus the rows carried in.
    pub input: Tally,
    /// Of `input`, the rows carried in from the previous run.
    pub carried_in: Tally,
    /// What the outputs hold, summed.
    pub outputs: Tally,
    /// Whether the two agree exactly.
    pub holds: bool,
}

/// The conservation proof for one currency.
#[derive(Debug, Clone, Copy, Serialize, serde::Deserialize)]
pub struct CurrencyConservation {
    /// Rows read in this currency (this run's files, carried in, set aside by status).
    pub input: SideTallies,
    /// What the outputs hold in this currency.
    pub outputs: SideTallies,
    /// Whether the two agree exactly.
    pub holds: bool,
}

/// Per currency: the records read and what the outputs hold. Empty when
/// every record is in CNY, so a CNY-only summary is as it always was.
pub fn currency_conservation<'r>(
    read: impl IntoIterator<Item = &'r Record>,
    outputs: &[OutputFile],
) -> BTreeMap<String, CurrencyConservation> {
    let mut input = CurrencyTallies::new();
    for r in read {
        input
            .entry(r.currency)
            .or_default()
            .side_mut(r.side())
            .add(r.amount());
    }
    let mut written = CurrencyTallies::new();
    for f in outputs {
        add_currency_tallies(&mut written, &f.currencies);
    }
    let currencies: std::collections::BTreeSet<&Currency> = input.keys().chain(written.keys()).collect();
    if currencies.iter().all(|c| **c == Currency::CNY) {
        return BTreeMap::new();
    }
    currencies
        .into_iter()
        .map(|c| {
            let input = input.get(c).copied().unwrap_or_default();
            let outputs = written.get(c).copied().unwrap_or_default();
            (
                c.to_string(),
                CurrencyConservation {
                    input,
                    outputs,
                    holds: input == outputs,
                },
            )
        })
        .collect()
}

/// Sums the output tallies per side and compares them with what was read
/// from the files plus what was carried in.
pub fn conservation(
    files_read: &SideTallies,
    carried_in: &SideTallies,
    outputs: &[OutputFile],
) -> BTreeMap<&'static str, Conservation> {
    let mut totals = SideTallies::default();
    for f in outputs {
        totals.ledger += f.tallies.ledger;
        totals.bank += f.tallies.bank;
    }
    [
        (Side::Ledger, files_read.ledger, carried_in.ledger, totals.ledger),
        (Side::Bank, files_read.bank, carried_in.bank, totals.bank),
    ]
    .into_iter()
    .map(|(side, read, carried_in, outputs)| {
        let mut input = read;
        input += carried_in;
        (
            side.name(),
            Conservation {
                input,
                carried_in,
                outputs,
                holds: input == outputs,
            },
        )
    })
    .collect()
}

/// Counts matches per stage and unmatched rows per reason.
pub fn stage_and_reason_counts(
    result: &Reconciliation,
    stage_names: &[String],
) -> (Vec<StageCount>, BTreeMap<&'static str, SideCounts>) {
    let mut stages: Vec<StageCount> = stage_names
        .iter()
        .map(|name| StageCount {
            name: name.clone(),
            matches: 0,
        })
        .collect();
    for m in result.matches.iter() {
        stages[m.stage()].matches += 1;
    }
    let mut reasons: BTreeMap<&'static str, SideCounts> = BTreeMap::new();
    for (side, dispositions) in [(Side::Ledger, &result.ledger), (Side::Bank, &result.bank)] {
        for d in dispositions {
            if let Disposition::Unmatched { reason, .. } = d {
                let counts = reasons.entry(reason.name()).or_default();
                match side {
                    Side::Ledger => counts.ledger += 1,
                    Side::Bank => counts.bank += 1,
                }
            }
        }
    }
    (stages, reasons)
}

impl Summary {
    /// Pretty JSON with a trailing newline.
    pub fn to_json(&self) -> Vec<u8> {
        let mut bytes = serde_json::to_vec_pretty(self).expect("summary serializes");
        bytes.push(b'\n');
        bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::Decimal;

    fn tally(count: u64, cents: i64) -> Tally {
        Tally {
            count,
            amount: Decimal::new(cents, 2),
        }
    }

    fn file(name: &'static str, ledger: Tally, bank: Tally) -> OutputFile {
        OutputFile {
            name,
            bytes: Vec::new(),
            sha256: None,
            tallies: SideTallies { ledger, bank },
            currencies: Default::default(),
        }
    }

    #[test]
    fn conservation_holds_when_outputs_add_up_to_the_inputs() {
        let inputs = SideTallies {
            ledger: tally(3, 30_000),
            bank: tally(2, 25_000),
        };
        let files = [
            file("matched.csv", tally(2, 25_000), tally(2, 25_000)),
            file("unmatched.csv", tally(1, 5_000), Tally::default()),
        ];
        let c = conservation(&inputs, &SideTallies::default(), &files);
        assert!(c["ledger"].holds && c["bank"].holds);
        assert_eq!(c["ledger"].outputs, inputs.ledger);
    }

    #[test]
    fn carried_in_rows_count_as_input() {
        let read = SideTallies {
            ledger: tally(1, 10_000),
            bank: tally(1, 10_000),
        };
        let carried = SideTallies {
            ledger: tally(1, 500),
            bank: Tally::default(),
        };
        let files = [
            file("matched.csv", tally(1, 10_000), tally(1, 10_000)),
            file("unmatched.csv", tally(1, 500), Tally::default()),
        ];
        let c = conservation(&read, &carried, &files);
        assert!(c["ledger"].holds && c["bank"].holds);
        assert_eq!(c["ledger"].input, tally(2, 10_500));
        assert!(!conservation(&read, &SideTallies::default(), &files)["ledger"].holds);
    }

    #[test]
    fn conservation_fails_on_a_lost_row_a_double_row_or_a_changed_amount() {
        let inputs = SideTallies {
            ledger: tally(2, 20_000),
            bank: tally(2, 20_000),
        };
        let lost = [file("matched.csv", tally(1, 10_000), tally(2, 20_000))];
        let twice = [
            file("matched.csv", tally(2, 20_000), tally(2, 20_000)),
            file("duplicates.csv", Tally::default(), tally(1, 10_000)),
        ];
        let changed = [file("matched.csv", tally(2, 20_001), tally(2, 20_000))];
        for (files, broken) in [
            (&lost[..], "ledger"),
            (&twice[..], "bank"),
            (&changed[..], "ledger"),
        ] {
            let c = conservation(&inputs, &SideTallies::default(), files);
            assert!(!c[broken].holds, "{broken}");
            let other = if broken == "ledger" { "bank" } else { "ledger" };
            assert!(c[other].holds, "{other}");
        }
    }
}
