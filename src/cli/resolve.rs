//! `recon resolve DIR`: close exceptions of a day. `--pair` records a manual
//! match of unmatched or duplicate rows, `--accept` an exception that is real
//! and explained (with a reason code of the rules), `--undo` reverses either.
//! Each is appended to the audit log with the rows' fingerprints (their
//! stable identity, from DIR/resolutions.csv), the operating-system user,
//! the role and a note; later runs of the same day apply them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context};
use chrono::Utc;
use rust_decimal::Decimal;

use super::acting::{self, Row};
use super::confirm::parse_row;
use super::Outcome;
use crate::audit;
use crate::audit::entry::{self, Common, ResolveEntry};
use crate::digest::sha256_hex;
use crate::output::fees::ITEM_PREFIX as FEE;
use crate::output::mask::redact_numbers;
use crate::output::resolutions::{self, ResolvedRow};
use crate::rules::roles::Action;

/// Arguments of `recon resolve`.
#[derive(Debug, clap::Args)]
#[command(after_long_help = "\
What can be resolved is listed in DIR/resolutions.csv: every unmatched and duplicate row of the
day, with its likely cause and its handling so far (open, paired or accepted). Rows are named
SIDE:LINE as in that file. A resolution is recorded in the audit log with the rows' fingerprints
(a hash of side, key, amount, time and merchant, not the line), the operating-system user, the
role and the note; the next run of the same business day applies it: paired rows move to
matched.csv with stage = manual, accepted rows stay in unmatched.csv or duplicates.csv with the
resolution in its resolution column. A fee variance (fee_variances.csv, item fee:SIDE:LINE) can
only be accepted: the bank paid what it paid. When every exception is paired or accepted and every
review flag confirmed (recon confirm), the run's status is closed and it exits 0. A resolution
whose rows have changed no longer applies, and the run says so.

Examples:
  recon resolve out/2026-11-24 --pair ledger:11 bank:16 --note 'order id mistyped, fee 1.00'
  recon resolve out/2026-11-24 --accept bank:17 --reason interest --note 'quarterly interest'
  recon resolve out/2026-11-24 --accept fee:ledger:8 --reason fee_rate --note 'rate not yet booked'
  recon resolve out/2026-11-24 --undo R-1a2b3c4d --note 'paired the wrong rows'

Reason codes and their labels come from the rules: [resolution] reasons = { interest = \"利息\" }.
With roles that name users or groups, the user must hold the role (--role, default: the rules'
default role, else the first role they hold that may resolve) and the role must list resolve in
its may; a role with rows = '…' may resolve only rows in scope.

Exit codes: 0 recorded, 2 refused (no such row, already resolved, unknown reason, not allowed)
or the audit log is not writable; a refusal for want of permission is itself recorded.")]
pub struct Args {
    /// A results directory written by `recon run`
    dir: PathBuf,
    /// Rows to match by hand: SIDE:LINE SIDE:LINE … (two or more unmatched or duplicate rows)
    #[arg(long, value_name = "SIDE:LINE", num_args = 2.., required_unless_present_any = ["accept", "undo"], conflicts_with_all = ["accept", "undo"])]
    pair: Vec<String>,
    /// An unmatched or duplicate row, or a fee variance (fee:SIDE:LINE), to accept as a real, explained exception
    #[arg(long, value_name = "SIDE:LINE", requires = "reason", conflicts_with = "undo")]
    accept: Option<String>,
    /// Why it is accepted: a reason code of the rules' [resolution] reasons
    #[arg(long, value_name = "CODE", requires = "accept")]
    reason: Option<String>,
    /// Reverse an earlier resolution (its id, e.g. R-1a2b3c4d)
    #[arg(long, value_name = "ID")]
    undo: Option<String>,
    /// What was found, and the conclusion
    #[arg(long, value_name = "TEXT")]
    note: String,
    /// Who resolves (default: the operating-system user)
    #[arg(long, value_name = "NAME")]
    by: Option<String>,
    /// Act under this role of the rules
    #[arg(long, value_name = "NAME")]
    role: Option<String>,
    /// The rule file (default: the one DIR/summary.json names)
    #[arg(long, value_name = "FILE")]
    rules: Option<PathBuf>,
    /// Audit log to append to (default: audit.log in the directory holding DIR)
    #[arg(long, value_name = "FILE")]
    audit: Option<PathBuf>,
}

/// Runs `recon resolve`.
pub fn run(args: Args) -> anyhow::Result<Outcome> {
    let started = Utc::now();
    if args.note.trim().is_empty() {
        bail!("--note must not be empty: a resolution says what was found");
    }
    let acting::Session {
        day,
        plan,
        log,
        acting,
        by,
    } = acting::open(
        &args.dir,
        args.rules.as_deref(),
        args.audit.as_deref(),
        args.role.as_deref(),
        args.by.as_deref(),
        Action::Resolve,
    )?;
    let rows = read_rows(&args.dir)?;
    let in_scope =
        |item: &str, row: &Row| acting::require_in_scope(&plan, &acting, &log, Action::Resolve, item, &[row]);
    let (action, picked, reason, undoes) = if let Some(id) = &args.undo {
        let contents = log.contents()?;
        let active = audit::resolutions(&contents);
        let Some(undone) = active.iter().find(|r| r.id == id.trim()) else {
            bail!(
                "no resolution {id} in force in {}: `recon audit show {}` lists them",
                log.path().display(),
                log.path().display()
            );
        };
        ("undo", undone.rows.clone(), None, Some(undone.id.clone()))
    } else {
        let items: Vec<String> = match &args.accept {
            Some(item) => vec![parse_item(item)?],
            None => args
                .pair
                .iter()
                .map(|p| match parse_item(p) {
                    Ok(item) if item.starts_with(FEE) => {
                        bail!("{item} is a fee variance: it cannot be paired, only accepted (--accept {item} --reason CODE)")
                    }
                    other => other,
                })
                .collect::<Result<_, _>>()?,
        };
        let mut picked = Vec::new();
        for item in &items {
            if picked.iter().any(|p: &ResolvedRow| &p.item == item) {
                bail!("{item} is named twice");
            }
            let row = rows.get(item).ok_or_else(|| not_an_exception(&args.dir, item))?;
            in_scope(item, row)?;
            if row["status"] != "open" {
                bail!(
                    "{item} is already {} ({}): undo that first with recon resolve --undo {}",
                    row["status"],
                    row["resolution_id"],
                    row["resolution_id"]
                );
            }
            picked.push(ResolvedRow {
                item: item.clone(),
                fingerprint: row["fingerprint"].clone(),
            });
        }
        let reason = match &args.reason {
            Some(code) => {
                let reasons = &plan.resolution.reasons;
                let Some(label) = reasons.get(code.trim()) else {
                    let known: Vec<String> = reasons.iter().map(|(c, l)| format!("{c} ({l})")).collect();
                    bail!(
                        "--reason {code}: not a reason code of {} ({}); codes and labels are set in the rules: [resolution] reasons = {{ bank_fee = \"银行手续费\", … }}",
                        plan.identity.path,
                        if known.is_empty() { "it defines none".into() } else { known.join(", ") }
                    );
                };
                Some((code.trim().to_string(), label.clone()))
            }
            None => None,
        };
        let contents = log.contents()?;
        let active = audit::resolutions(&contents);
        let earlier = active
            .iter()
            .filter(|r| r.business_date == day.business_date)
            .find_map(|r| {
                let row = picked
                    .iter()
                    .find(|p| r.rows.iter().any(|q| q.fingerprint == p.fingerprint))?;
                Some((r.id.clone(), row.item.clone()))
            });
        if let Some((id, item)) = earlier {
            bail!("{item} is already resolved by {id} (applied by the next run): undo that first with recon resolve --undo {id}");
        }
        let action = if args.accept.is_some() { "accept" } else { "pair" };
        (action, picked, reason, None)
    };
    let identity = identity(action, &picked);
    let run_id = entry::new_run_id(started);
    let id = undoes.clone().unwrap_or_else(|| {
        format!(
            "R-{}",
            &sha256_hex(format!("{run_id}\n{identity}").as_bytes())[..8]
        )
    });
    let difference = (action == "pair").then(|| difference(&picked, &rows).to_string());
    let record = ResolveEntry {
        common: Common::new("resolve", run_id, started),
        results: args.dir.display().to_string(),
        resolves_run: day.run_id.clone(),
        business_date: day.business_date.clone(),
        role: acting.role.clone(),
        action,
        resolution: id.clone(),
        rows: picked.clone(),
        identity,
        difference: difference.clone(),
        reason: reason.as_ref().map(|(c, _)| c.clone()),
        reason_label: reason.as_ref().map(|(_, l)| l.clone()),
        by: by.clone(),
        note: redact_numbers(args.note.trim()).into_owned(),
    };
    let line = log.append(&record)?;
    let items: Vec<&str> = picked.iter().map(|p| p.item.as_str()).collect();
    let what = match (action, &reason, &difference) {
        ("undo", _, _) => format!("undid {id} ({})", items.join(" ")),
        (_, Some((code, label)), _) => format!("accepted {} as {code} ({label}): {id}", items.join(" ")),
        (_, _, Some(d)) => format!("paired {} as {id} (difference {d})", items.join(" ")),
        _ => id.clone(),
    };
    let role = acting
        .role
        .as_deref()
        .map(|r| format!(" as {r}"))
        .unwrap_or_default();
    outln!(
        "{what} by {by} ({}{role}): recorded at line {line} of {}; the next run of this day applies it",
        acting.person.user,
        log.path().display()
    )?;
    Ok(Outcome::Clean)
}

/// An item to accept: `SIDE:LINE`, or `fee:SIDE:LINE` for a row's fee
/// variance (fee_variances.csv), which can only be accepted.
fn parse_item(text: &str) -> anyhow::Result<String> {
    let trimmed = text.trim();
    match trimmed.get(..FEE.len()) {
        Some(prefix) if prefix.eq_ignore_ascii_case(FEE) => {
            Ok(format!("{FEE}{}", parse_row(&trimmed[FEE.len()..])?))
        }
        _ => parse_row(text),
    }
}

/// DIR/resolutions.csv by item.
fn read_rows(dir: &Path) -> anyhow::Result<BTreeMap<String, Row>> {
    let path = dir.join(resolutions::FILE_NAME);
    let mut reader = acting::results_csv(dir, resolutions::FILE_NAME)?;
    let headers = reader.headers()?.clone();
    for needed in ["item", "status", "fingerprint", "side", "amount", "resolution_id"] {
        if !headers.iter().any(|h| h == needed) {
            bail!(
                "{}: no {needed} column: not written by this recon",
                path.display()
            );
        }
    }
    let mut rows = BTreeMap::new();
    for record in reader.records() {
        let record = record.with_context(|| format!("{}: cannot read", path.display()))?;
        let row: Row = headers
            .iter()
            .map(String::from)
            .zip(record.iter().map(String::from))
            .collect();
        rows.insert(row["item"].clone(), row);
    }
    Ok(rows)
}

fn not_an_exception(dir: &Path, item: &str) -> anyhow::Error {
    anyhow!(
        "{item} is not an unmatched or duplicate row or a fee variance of {}: resolutions.csv lists the items that can be paired or accepted",
        dir.display()
    )
}

/// Ledger minus bank of the picked rows.
fn difference(picked: &[ResolvedRow], rows: &BTreeMap<String, Row>) -> Decimal {
    picked
        .iter()
        .map(|p| {
            let row = &rows[&p.item];
            let amount: Decimal = row["amount"].parse().unwrap_or_default();
            if row["side"] == "bank" {
                -amount
            } else {
                amount
            }
        })
        .sum()
}

/// The stable identity of a resolution's rows together.
fn identity(action: &str, rows: &[ResolvedRow]) -> String {
    let mut prints: Vec<&str> = rows.iter().map(|r| r.fingerprint.as_str()).collect();
    prints.sort_unstable();
    let kind = if action == "accept" { "accept" } else { "pair" };
    sha256_hex(format!("recon-resolution-v1\n{kind}\n{}", prints.join("\n")).as_bytes())
}
