//! What one audit line records, per command: `recon run` (`RunEntry`),
//! `recon rules test` (`RulesTestEntry`) and `recon confirm`
//! (`ConfirmEntry`), plus who ran it, where and how. Entries hold hashes,
//! counts, sums and paths, never row data; free text (errors, notes, the
//! command line) has account-like numbers masked.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

use crate::digest::sha256_hex;
use crate::model::Tally;
use crate::output::mask::redact_numbers;
use crate::rules::plan::RuleIdentity;

/// `recon` and its version, as recorded in every entry.
pub fn tool() -> String {
    format!("recon {}", env!("CARGO_PKG_VERSION"))
}

/// The current time as recorded in entries (RFC 3339, UTC, milliseconds).
pub fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Who ran a command, and on which machine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    /// The operating-system user (`USER`, else `LOGNAME`, else `USERNAME`,
    /// else `uid N`).
    pub user: String,
    /// The host name.
    pub host: String,
}

impl Actor {
    /// The user and host of this process.
    pub fn current() -> Actor {
        let user = ["USER", "LOGNAME", "USERNAME"]
            .iter()
            .find_map(|v| std::env::var(v).ok().filter(|s| !s.is_empty()))
            .unwrap_or_else(uid);
        Actor { user, host: host() }
    }
}

#[cfg(unix)]
fn uid() -> String {
    format!("uid {}", rustix::process::getuid().as_raw())
}

#[cfg(not(unix))]
fn uid() -> String {
    "unknown".into()
}

#[cfg(unix)]
fn host() -> String {
    rustix::system::uname().nodename().to_string_lossy().into_owned()
}

#[cfg(not(unix))]
fn host() -> String {
    std::env::var("COMPUTERNAME").unwrap_or_else(|_| "unknown".into())
}

/// A run id: start time plus 8 hex digits of a hash of host, process id and
/// nanoseconds, e.g. `20261125T020003Z-3fa9c2d1`.
pub fn new_run_id(started: DateTime<Utc>) -> String {
    let seed = format!(
        "{}|{}|{}",
        host(),
        std::process::id(),
        started.timestamp_nanos_opt().unwrap_or_default()
    );
    let digest = sha256_hex(seed.as_bytes());
    format!("{}-{}", started.format("%Y%m%dT%H%M%SZ"), &digest[..8])
}

/// This process's command line, with account-like numbers masked.
pub fn command_line() -> Vec<String> {
    std::env::args_os()
        .map(|a| redact_numbers(&a.to_string_lossy()).into_owned())
        .collect()
}

/// What the entry of every command shares.
#[derive(Debug, Clone, Serialize)]
pub struct Common {
    /// `run`, `rules_test` or `confirm`.
    pub kind: &'static str,
    /// Unique id of this invocation.
    pub run_id: String,
    /// `recon` and its version.
    pub tool: String,
    /// Who and where.
    #[serde(flatten)]
    pub actor: Actor,
    /// When it started.
    pub started_at: String,
    /// When it ended.
    pub finished_at: String,
    /// The command line.
    pub command: Vec<String>,
}

impl Common {
    /// The shared part of an entry of `kind` for a command that started at `started`.
    pub fn new(kind: &'static str, run_id: String, started: DateTime<Utc>) -> Common {
        Common {
            kind,
            run_id,
            tool: tool(),
            actor: Actor::current(),
            started_at: timestamp(started),
            finished_at: timestamp(Utc::now()),
            command: command_line(),
        }
    }
}

/// An input file: its path and, when it could be read, its SHA-256.
#[derive(Debug, Clone, Serialize)]
pub struct InputDigest {
    /// The path as given.
    pub path: String,
    /// SHA-256 of its bytes; `None` when it could not be read.
    pub sha256: Option<String>,
}

impl InputDigest {
    /// Hashes the file at `path`, if it can be read.
    pub fn of(path: &Path) -> InputDigest {
        InputDigest {
            path: path.display().to_string(),
            sha256: std::fs::read(path).ok().map(|b| sha256_hex(&b)),
        }
    }
}

/// One published result file.
#[derive(Debug, Clone, Serialize)]
pub struct OutputDigest {
    /// SHA-256 of the file as published.
    pub sha256: String,
    /// Ledger rows it holds (result CSVs only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ledger: Option<Tally>,
    /// Bank rows it holds (result CSVs only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bank: Option<Tally>,
}

/// The entry of one `recon run`.
#[derive(Debug, Clone, Serialize)]
pub struct RunEntry {
    /// Kind, id, tool, user, host, times, command line.
    #[serde(flatten)]
    pub common: Common,
    /// The business date, when given.
    pub business_date: Option<String>,
    /// The role whose view was written, when the rules define roles.
    pub role: Option<String>,
    /// The results directory.
    pub results: String,
    /// `ledger`, `bank`, and `carry_in` with `--carry-in`.
    pub inputs: BTreeMap<&'static str, InputDigest>,
    /// The rules used; `None` when they could not be loaded.
    pub rules: Option<RuleIdentity>,
    /// Published files by name; empty when the run failed.
    pub outputs: BTreeMap<String, OutputDigest>,
    /// Items in review.csv and how many are confirmed.
    pub review: Option<ReviewCounts>,
    /// With `--encrypt-key-file`: the key's id (never the key).
    pub encryption_key_id: Option<String>,
    /// `started`, then `reconciled`, `exceptions`, `failed` or `interrupted`.
    pub status: &'static str,
    /// The process exit code (none on a `started` line).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<u8>,
    /// Why the run failed (account-like numbers masked).
    pub error: Option<String>,
    /// What this line records: `started` (written before any result file),
    /// `published`, `failed` or `interrupted`.
    pub event: &'static str,
    /// The line number of this run's `started` line, on the line that ends it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub started_line: Option<u64>,
}

/// Review worklist counts of a run.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct ReviewCounts {
    /// Items in review.csv.
    pub items: u64,
    /// Items a reviewer has confirmed.
    pub confirmed: u64,
}

/// The entry of one `recon rules test`.
#[derive(Debug, Clone, Serialize)]
pub struct RulesTestEntry {
    /// Kind, id, tool, user, host, times, command line.
    #[serde(flatten)]
    pub common: Common,
    /// The case folder (or folder of cases) tested.
    pub cases_dir: String,
    /// Each case.
    pub cases: Vec<CaseDigest>,
    /// `passed`, `failed` or `error`.
    pub status: &'static str,
    /// The process exit code.
    pub exit_code: u8,
    /// Why the cases could not be run (account-like numbers masked).
    pub error: Option<String>,
}

/// One regression case.
#[derive(Debug, Clone, Serialize)]
pub struct CaseDigest {
    /// The case folder's name.
    pub name: String,
    /// Whether it passed.
    pub passed: bool,
    /// How many differences were found.
    pub failures: usize,
    /// The case's rules; `None` when they could not be loaded.
    pub rules: Option<RuleIdentity>,
}

/// The entry of one `recon confirm`.
#[derive(Debug, Clone, Serialize)]
pub struct ConfirmEntry {
    /// Kind, id, tool, user, host, times, command line.
    #[serde(flatten)]
    pub common: Common,
    /// The results directory the item was picked from.
    pub results: String,
    /// The run that produced those results (its summary.json `run_id`).
    pub confirms_run: Option<String>,
    /// The item as numbered in that run: `M000003` or `ledger:10`.
    pub item: String,
    /// `review`, `unmatched` or `duplicate`.
    pub item_kind: String,
    /// The item's stable identity (see `output::review`).
    pub identity: String,
    /// The reviewer.
    pub by: String,
    /// The reviewer's note (account-like numbers masked).
    pub note: String,
}

/// The fields of a confirm entry that later runs read back.
#[derive(Debug, Clone, Deserialize)]
pub struct ConfirmRecord {
    /// The item's stable identity.
    pub identity: String,
    /// The reviewer.
    pub by: String,
    /// When the confirmation was recorded.
    pub finished_at: String,
    /// The reviewer's note.
    pub note: String,
}
