//! `recon confirm DIR`: a reviewer's second look at a flagged match or an
//! exception row, recorded in the audit log. The item is looked up in
//! DIR/review.csv, which gives its stable identity; later runs that produce
//! the same item show it as confirmed.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use chrono::Utc;

use super::acting;
use super::Outcome;
use crate::audit::entry::{self, Common, ConfirmEntry};
use crate::output::mask::redact_numbers;
use crate::output::{resolutions, review};
use crate::rules::roles::Action;

/// Arguments of `recon confirm`.
#[derive(Debug, clap::Args)]
#[command(after_long_help = "\
What can be confirmed is listed in DIR/review.csv: matches flagged review = true (by match id)
and unmatched or duplicate rows (by SIDE:LINE). The confirmation is appended to the audit log
with the item's stable identity (a hash of its rows' side, key, amount, time and merchant, not
its match id or line), so a later run that produces the same item shows it as confirmed in
summary.json, review.csv and on stdout, even when ids and lines have moved.

Examples:
  recon confirm out/2026-11-24 --match-id M000003 --by 'Li Wei' --note 'called the bank: tuition paid in full'
  recon confirm out/2026-11-24 --row ledger:10 --by 'Li Wei' --note 'refunded on 11-25, ticket 4411'

A role limited to some rows (rows = '…' in the rules) may confirm only items whose rows are all
in scope; a refusal is recorded in the audit log.

Exit codes: 0 recorded, 2 refused (no such item, it needs no confirmation, or the role may not
confirm it) or the audit log is not writable; nothing was recorded.")]
pub struct Args {
    /// A results directory written by `recon run`
    dir: PathBuf,
    /// A flagged match, as numbered in DIR's matched.csv and review.csv (e.g. M000003)
    #[arg(
        long,
        value_name = "ID",
        required_unless_present = "row",
        conflicts_with = "row"
    )]
    match_id: Option<String>,
    /// An unmatched or duplicate row: SIDE:LINE, as in DIR's unmatched.csv, duplicates.csv and review.csv (e.g. ledger:10)
    #[arg(long, value_name = "SIDE:LINE")]
    row: Option<String>,
    /// Who confirms (default: the operating-system user, which is recorded beside it)
    #[arg(long, value_name = "NAME")]
    by: Option<String>,
    /// Act under this role of the rules
    #[arg(long, value_name = "NAME")]
    role: Option<String>,
    /// The rule file (default: the one DIR/summary.json names)
    #[arg(long, value_name = "FILE")]
    rules: Option<PathBuf>,
    /// What was checked, and the conclusion
    #[arg(long, value_name = "TEXT")]
    note: String,
    /// Audit log to append to (default: audit.log in the directory holding DIR)
    #[arg(long, value_name = "FILE")]
    audit: Option<PathBuf>,
}

/// Runs `recon confirm`.
pub fn run(args: Args) -> anyhow::Result<Outcome> {
    let started = Utc::now();
    let item = match (&args.match_id, &args.row) {
        (Some(id), _) => id.trim().to_uppercase(),
        (None, row) => parse_row(row.as_deref().unwrap_or_default())?,
    };
    if args.note.trim().is_empty() || args.by.as_deref().is_some_and(|b| b.trim().is_empty()) {
        bail!("--by and --note must not be empty: a confirmation says who checked what");
    }
    let found = find(&args.dir, &item)?;
    let acting::Session {
        plan,
        log,
        acting,
        by,
        ..
    } = acting::open(
        &args.dir,
        args.rules.as_deref(),
        args.audit.as_deref(),
        args.role.as_deref(),
        args.by.as_deref(),
        Action::Confirm,
    )?;
    if acting.role(&plan).is_some_and(|r| r.rows.is_some()) {
        let rows = rows_of(&args.dir, &item)?;
        let rows: Vec<&acting::Row> = rows.iter().collect();
        acting::require_in_scope(&plan, &acting, &log, Action::Confirm, &item, &rows)?;
    }
    let record = ConfirmEntry {
        common: Common::new("confirm", entry::new_run_id(started), started),
        results: args.dir.display().to_string(),
        confirms_run: run_id_of(&args.dir),
        item: item.clone(),
        item_kind: found.kind.clone(),
        identity: found.identity,
        by,
        note: redact_numbers(args.note.trim()).into_owned(),
    };
    let appended = log.append(&record)?;
    outln!(
        "confirmed {item} ({}) by {}: recorded at line {} of {}",
        found.kind,
        record.by,
        appended,
        log.path().display()
    )?;
    Ok(Outcome::Clean)
}

/// `ledger:10` / `bank:7` / `carried:ledger:10`, normalized.
pub(super) fn parse_row(text: &str) -> anyhow::Result<String> {
    let lower = text.trim().to_lowercase();
    let (carried, rest) = match lower.strip_prefix("carried:") {
        Some(rest) => ("carried:", rest),
        None => ("", lower.as_str()),
    };
    let parsed = rest.split_once(':').and_then(|(side, line)| {
        let line: u64 = line.trim().parse().ok().filter(|&l| l > 0)?;
        let side = side.trim();
        ["ledger", "bank"]
            .contains(&side)
            .then(|| format!("{carried}{side}:{line}"))
    });
    match parsed {
        Some(row) => Ok(row),
        None => bail!(
            "--row {text}: write SIDE:LINE, e.g. ledger:10 or bank:7 (carried:ledger:10 for a carried-in row), as in review.csv"
        ),
    }
}

/// The rows of `item` as the results show them, to check a row scope
/// against: a match's rows in matched.csv, an exception row in resolutions.csv.
fn rows_of(dir: &Path, item: &str) -> anyhow::Result<Vec<acting::Row>> {
    let (file, column) = if item.contains(':') {
        (resolutions::FILE_NAME, "item")
    } else {
        ("matched.csv", "match_id")
    };
    let path = dir.join(file);
    let mut reader = csv::Reader::from_path(&path).with_context(|| {
        format!(
            "{}: cannot read, so the role's row scope cannot be checked",
            path.display()
        )
    })?;
    let headers = reader.headers()?.clone();
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.with_context(|| format!("{}: cannot read", path.display()))?;
        let row: acting::Row = headers
            .iter()
            .map(String::from)
            .zip(record.iter().map(String::from))
            .collect();
        if row.get(column).map(String::as_str) == Some(item) {
            rows.push(row);
        }
    }
    Ok(rows)
}

/// An entry of review.csv.
struct Found {
    kind: String,
    identity: String,
}

/// Looks `item` up in DIR/review.csv; explains why when it is not there.
fn find(dir: &Path, item: &str) -> anyhow::Result<Found> {
    let path = dir.join(review::FILE_NAME);
    let mut reader = acting::results_csv(dir, review::FILE_NAME)?;
    let headers = reader.headers()?.clone();
    let column = |name: &str| headers.iter().position(|h| h == name);
    let (Some(at_item), Some(at_kind), Some(at_identity)) =
        (column("item"), column("kind"), column("identity"))
    else {
        bail!(
            "{}: not a review worklist (no item, kind and identity columns)",
            path.display()
        );
    };
    for row in reader.records() {
        let row = row.with_context(|| format!("{}: cannot read", path.display()))?;
        if row.get(at_item) == Some(item) {
            return Ok(Found {
                kind: row.get(at_kind).unwrap_or_default().to_string(),
                identity: row.get(at_identity).unwrap_or_default().to_string(),
            });
        }
    }
    bail!("{}", not_reviewable(dir, item))
}

/// Why `item` is not in review.csv: where it is instead, or that it does not exist.
fn not_reviewable(dir: &Path, item: &str) -> String {
    let is_match = !item.contains(':');
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "csv") && !p.ends_with(review::FILE_NAME))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    for file in files {
        let name = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let Ok(mut reader) = csv::Reader::from_path(&file) else {
            continue;
        };
        let Ok(headers) = reader.headers().cloned() else {
            continue;
        };
        let column = |n: &str| headers.iter().position(|h| h == n);
        for row in reader.records().flatten() {
            let get = |n: &str| column(n).and_then(|i| row.get(i)).unwrap_or_default().to_string();
            if is_match && get("match_id") == item {
                return format!("{item} is a match in {name} that is not flagged for review (review = false): only flagged matches take a confirmation");
            }
            let carried = if get("carried_from").is_empty() {
                ""
            } else {
                "carried:"
            };
            if !is_match && format!("{carried}{}:{}", get("side"), get("line")) == item {
                return match get("match_id").as_str() {
                    "" => format!("{item} is in {name}, not an exception: only unmatched and duplicate rows take a confirmation (see review.csv)"),
                    id => format!("{item} is matched ({id} in {name}), not an exception; to confirm a flagged match use --match-id"),
                };
            }
        }
    }
    let what = if is_match { "match" } else { "row" };
    format!(
        "no {what} {item} in {}: review.csv lists what can be confirmed",
        dir.display()
    )
}

/// The `run_id` recorded in DIR/summary.json, when there is one.
fn run_id_of(dir: &Path) -> Option<String> {
    let bytes = std::fs::read(dir.join("summary.json")).ok()?;
    let summary: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    summary.get("run_id")?.as_str().map(String::from)
}
