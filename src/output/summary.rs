//! `summary.json` and the short text summary: counts and sums per output and
//! side, the conservation proof, and what produced the result (rules, inputs,
//! tool version, business date).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use super::tables::{OutputFile, SideTallies};
use crate::crypto::Sm4Key;
use crate::matching::{Disposition, Reconciliation};
use crate::model::{Side, Tally};
use crate::rules::plan::RuleIdentity;

/// The whole summary, serialized as `summary.json`.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// `recon` and its version.
    pub tool: String,
    /// The business date reconciled, when given.
    pub business_date: Option<String>,
    /// When the run started (RFC 3339).
    pub started_at: String,
    /// When the outputs were rendered (RFC 3339).
    pub finished_at: String,
    /// The rules used.
    pub rules: RuleIdentity,
    /// The two input files.
    pub inputs: BTreeMap<&'static str, InputFacts>,
    /// Rows written per output file and side.
    pub outputs: BTreeMap<&'static str, SideTallies>,
    /// Matches made, per stage name, in stage order.
    pub stages: Vec<StageCount>,
    /// Matches flagged for review.
    pub review: u64,
    /// Unmatched rows per reason and side.
    pub unmatched_by_reason: BTreeMap<&'static str, SideCounts>,
    /// Per side: input tally, sum of output tallies, and whether they agree.
    pub conservation: BTreeMap<&'static str, Conservation>,
    /// `reconciled` or `exceptions`.
    pub status: &'static str,
    /// How the result files are encrypted; absent for plain results.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encryption: Option<Encryption>,
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
}

/// Matches per stage.
#[derive(Debug, Clone, Serialize)]
pub struct StageCount {
    /// Stage name.
    pub name: String,
    /// Matches it made.
    pub matches: u64,
}

/// A count per side.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct SideCounts {
    /// Ledger rows.
    pub ledger: u64,
    /// Bank rows.
    pub bank: u64,
}

/// The conservation proof for one side.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Conservation {
    /// What was read.
    pub input: Tally,
    /// What the outputs hold, summed.
    pub outputs: Tally,
    /// Whether the two agree exactly.
    pub holds: bool,
}

/// Sums the output tallies per side and compares them with the inputs.
pub fn conservation(inputs: &SideTallies, files: &[OutputFile]) -> BTreeMap<&'static str, Conservation> {
    let mut totals = SideTallies::default();
    for f in files {
        totals.ledger += f.tallies.ledger;
        totals.bank += f.tallies.bank;
    }
    [
        (Side::Ledger, inputs.ledger, totals.ledger),
        (Side::Bank, inputs.bank, totals.bank),
    ]
    .into_iter()
    .map(|(side, input, outputs)| {
        (
            side.name(),
            Conservation {
                input,
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
    for m in &result.matches {
        stages[m.stage].matches += 1;
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

    /// The few lines printed after a run.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "rules    {} {} (sha256 {}…)",
            self.rules.name,
            self.rules.version,
            &self.rules.sha256[..12]
        );
        if let Some(date) = &self.business_date {
            let _ = writeln!(s, "date     {date}");
        }
        let _ = writeln!(
            s,
            "{:<12}{:>10} {:>16}{:>10} {:>16}",
            "", "ledger", "amount", "bank", "amount"
        );
        let mut row = |name: &str, t: &SideTallies| {
            let _ = writeln!(
                s,
                "{:<12}{:>10} {:>16}{:>10} {:>16}",
                name, t.ledger.count, t.ledger.amount, t.bank.count, t.bank.amount
            );
        };
        let input = SideTallies {
            ledger: self.conservation["ledger"].input,
            bank: self.conservation["bank"].input,
        };
        row("input", &input);
        for (name, t) in &self.outputs {
            row(name.trim_end_matches(".csv"), t);
        }
        let _ = writeln!(
            s,
            "review   {} match(es) flagged for a second confirmation",
            self.review
        );
        for (reason, c) in &self.unmatched_by_reason {
            let _ = writeln!(s, "unmatched {reason}: ledger {}, bank {}", c.ledger, c.bank);
        }
        let holds = self.conservation.values().all(|c| c.holds);
        let _ = writeln!(s, "conservation {}", if holds { "holds" } else { "FAILED" });
        let _ = writeln!(s, "status   {}", self.status);
        s
    }
}
