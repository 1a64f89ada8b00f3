//! Resolutions of exceptions (`recon resolve`), read back from the audit
//! log and applied to a run: a manual match (`pair`) of unmatched or
//! duplicate rows becomes a match of stage `manual`; an accepted row
//! (`accept`, with a reason code of the rules) stays where it is, marked
//! resolved. Rows are recognised by their fingerprint (see `review`), so a
//! resolution follows its rows across re-exports; when one of its rows has
//! changed or is no longer an exception it is reported as stale and not
//! applied. `resolutions.csv` lists every exception of the run with its
//! likely cause and its handling, or `open`.

use std::collections::{BTreeMap, HashMap};

use rayon::prelude::*;
use rust_decimal::Decimal;
use serde::Serialize;

use super::causes::LikelyCauses;
use super::fees::FeeVariance;
use super::review::{self, FastState};
use super::tables::match_id;
use crate::input::field::safe;
use crate::input::time::ZonedWriter;
use crate::matching::{Disposition, Reconciliation, Sides};
use crate::model::{Record, RowRef, Side};
use crate::rules::Plan;

/// File name of the exception report with its handling.
pub const FILE_NAME: &str = "resolutions.csv";

/// Rows per block of `Resolved::render_in_blocks`: the rows report.html
/// shows, so the header and the first block are all it needs.
pub const BLOCK: usize = super::html::MAX_TABLE_ROWS;

/// What a resolution does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ResolutionKind {
    /// A manual match of several rows.
    Pair,
    /// An exception accepted as real, with a reason.
    Accept,
}

impl ResolutionKind {
    /// The name in the audit log and the outputs.
    pub fn name(self) -> &'static str {
        match self {
            ResolutionKind::Pair => "pair",
            ResolutionKind::Accept => "accept",
        }
    }
}

/// One row named by a resolution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct ResolvedRow {
    /// `ledger:11`, as numbered in the results it was picked from.
    pub item: String,
    /// Its fingerprint (see `review`).
    pub fingerprint: String,
}

/// A resolution in force, as recorded in the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolution {
    /// `R-1a2b3c4d`.
    pub id: String,
    /// Pair or accept.
    pub kind: ResolutionKind,
    /// The business date of the results it was made on.
    pub business_date: Option<String>,
    /// The rows.
    pub rows: Vec<ResolvedRow>,
    /// Reason code and label of an accepted row.
    pub reason: Option<(String, String)>,
    /// Who resolved (`--by`).
    pub by: String,
    /// The operating-system user.
    pub user: String,
    /// The role acted under.
    pub role: Option<String>,
    /// When (RFC 3339).
    pub at: String,
    /// The note (account-like numbers masked).
    pub note: String,
    /// The audit log line that records it.
    pub audit_line: u64,
}

/// A resolution that no longer fits the rows of this run.
#[derive(Debug, Clone, Serialize)]
pub struct Stale {
    /// Its id.
    pub id: String,
    /// Pair or accept.
    pub kind: ResolutionKind,
    /// Who made it.
    pub by: String,
    /// Its rows (as numbered when resolved) that are changed, gone, or no longer exceptions.
    pub rows_changed: Vec<String>,
}

/// A resolution applied in this run, for summary.json and the terminal.
#[derive(Debug, Clone, Serialize)]
pub struct Applied {
    /// Its id.
    pub id: String,
    /// Pair or accept.
    pub kind: ResolutionKind,
    /// Its rows as numbered in this run.
    pub items: Vec<String>,
    /// The match id of a manual match.
    pub match_id: Option<String>,
    /// Ledger minus bank of a manual match.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub difference: Option<String>,
    /// Reason code of an accepted row.
    pub reason: Option<String>,
    /// Its label.
    pub reason_label: Option<String>,
    /// Who resolved.
    pub by: String,
    /// The operating-system user.
    pub user: String,
    /// The role acted under.
    pub role: Option<String>,
    /// When.
    pub at: String,
    /// The note.
    pub note: String,
    /// The audit log line that records it.
    pub audit_line: u64,
}

/// How the exceptions of a run are handled, for summary.json.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ResolutionStatus {
    /// Exception rows before resolutions (unmatched and duplicate).
    pub exceptions: u64,
    /// Of them, rows in manual matches.
    pub paired: u64,
    /// Of them, rows accepted with a reason.
    pub accepted: u64,
    /// Of them, rows still open.
    pub open: u64,
    /// Resolutions applied.
    pub applied: Vec<Applied>,
    /// Resolutions of this day that no longer apply.
    pub stale: Vec<Stale>,
}

/// An exception item of the run before resolutions: an unmatched or
/// duplicate row, or a row's fee variance (`fee` set: expected and actual).
struct ExceptionRow {
    side: Side,
    index: usize,
    before: Disposition,
    fee: Option<(Decimal, Decimal)>,
    fingerprint: String,
}

/// Where an item is: its row, and whether it is the row's fee variance.
type At = (Side, usize, bool);

/// The resolutions applied to one run.
#[derive(Default)]
pub struct Resolved {
    rows: Vec<ExceptionRow>,
    /// Item → (resolution index, match index when paired).
    handled: HashMap<At, (usize, Option<usize>), FastState>,
    matches: HashMap<usize, usize, FastState>,
    by_ref: HashMap<RowRef, usize, FastState>,
    /// Accepted fee variances by their row.
    fee_by_ref: HashMap<RowRef, usize, FastState>,
    resolutions: Vec<Resolution>,
    texts: Vec<String>,
    /// Whether the day has resolutions, applied or stale.
    shown: bool,
    /// The status summary.json reports.
    pub status: ResolutionStatus,
}

/// Applies the resolutions of `date` (in log order, later ones first come
/// first served) to `result`: manual matches are appended to its matches
/// with stage index `manual_stage`. `fees` are the rows with a fee variance
/// (the fee check's), which may only be accepted. `prints` holds the
/// fingerprints of the exception and fee variance rows (`review::worklist_prints`).
pub fn apply(
    sides: Sides,
    result: &mut Reconciliation,
    prints: &review::Prints,
    resolutions: &[Resolution],
    date: Option<&str>,
    manual_stage: usize,
    fees: &[FeeVariance],
) -> Resolved {
    let wanted = review::exception_rows(result);
    let mut resolved = Resolved::default();
    let mine: Vec<&Resolution> = resolutions
        .iter()
        .filter(|r| r.business_date.as_deref() == date)
        .collect();
    resolved.shown = !mine.is_empty();
    let print = |side, index| prints.get(&(side, index)).cloned().unwrap_or_default();
    let current: &Reconciliation = result;
    // Copied on every core, in the order of `wanted` then `fees`.
    resolved.rows = wanted
        .par_iter()
        .map(|&(side, index)| ExceptionRow {
            side,
            index,
            before: dispositions(current, side)[index].clone(),
            fee: None,
            fingerprint: print(side, index),
        })
        .chain(fees.par_iter().map(|f| ExceptionRow {
            side: f.side,
            index: f.index,
            before: dispositions(current, f.side)[f.index].clone(),
            fee: Some((f.expected, f.actual)),
            fingerprint: fee_fingerprint(&print(f.side, f.index)),
        }))
        .collect();
    let by_print: HashMap<&str, At> = resolved
        .rows
        .iter()
        .map(|r| (r.fingerprint.as_str(), (r.side, r.index, r.fee.is_some())))
        .collect();
    for r in mine {
        let found: Vec<Option<At>> = r
            .rows
            .iter()
            .map(|row| {
                by_print
                    .get(row.fingerprint.as_str())
                    .copied()
                    .filter(|at| !resolved.handled.contains_key(at))
            })
            .collect();
        if found.iter().any(Option::is_none) {
            resolved.status.stale.push(Stale {
                id: r.id.clone(),
                kind: r.kind,
                by: r.by.clone(),
                rows_changed: r
                    .rows
                    .iter()
                    .zip(&found)
                    .filter(|(_, f)| f.is_none())
                    .map(|(row, _)| row.item.clone())
                    .collect(),
            });
            continue;
        }
        let at: Vec<At> = found.into_iter().flatten().collect();
        if r.kind == ResolutionKind::Pair && at.iter().any(|&(_, _, fee)| fee) {
            // A fee variance is accepted, never matched (`recon resolve` refuses it).
            continue;
        }
        let n = resolved.resolutions.len();
        let mut applied = Applied {
            id: r.id.clone(),
            kind: r.kind,
            items: at
                .iter()
                .map(|&(s, i, fee)| item_name(sides.of(s)[i].row_ref(), fee))
                .collect(),
            match_id: None,
            difference: None,
            reason: r.reason.as_ref().map(|(c, _)| c.clone()),
            reason_label: r.reason.as_ref().map(|(_, l)| l.clone()),
            by: r.by.clone(),
            user: r.user.clone(),
            role: r.role.clone(),
            at: r.at.clone(),
            note: r.note.clone(),
            audit_line: r.audit_line,
        };
        let matched = match r.kind {
            ResolutionKind::Pair => {
                let index = result.matches.len();
                let rows_of = |side: Side| {
                    let mut rows: Vec<usize> = at
                        .iter()
                        .filter(|(s, _, _)| *s == side)
                        .map(|&(_, i, _)| i)
                        .collect();
                    rows.sort_by_key(|&i| sides.of(side)[i].row_ref());
                    rows
                };
                let (ledger, bank) = (rows_of(Side::Ledger), rows_of(Side::Bank));
                let sum = |side: Side, rows: &[usize]| -> Decimal {
                    rows.iter().map(|&i| sides.of(side)[i].amount()).sum()
                };
                applied.difference = Some((sum(Side::Ledger, &ledger) - sum(Side::Bank, &bank)).to_string());
                applied.match_id = Some(match_id(index));
                for &(side, i, _) in &at {
                    dispositions_mut(result, side)[i] = Disposition::Matched(index);
                }
                result.matches.push(manual_stage, &ledger, &bank, Vec::new());
                resolved.matches.insert(index, n);
                resolved.status.paired += at.len() as u64;
                Some(index)
            }
            ResolutionKind::Accept => {
                resolved.status.accepted += at.len() as u64;
                None
            }
        };
        for (side, i, fee) in at {
            resolved.handled.insert((side, i, fee), (n, matched));
            let by_ref = if fee {
                &mut resolved.fee_by_ref
            } else {
                &mut resolved.by_ref
            };
            by_ref.insert(sides.of(side)[i].row_ref(), n);
        }
        resolved.texts.push(text(r, applied.difference.as_deref()));
        resolved.resolutions.push(r.clone());
        resolved.status.applied.push(applied);
    }
    resolved.status.exceptions = resolved.rows.len() as u64;
    resolved.status.open = resolved.status.exceptions - resolved.status.paired - resolved.status.accepted;
    resolved
}

/// The `resolution` cell: `manual R-1a2b3c4d by Li (finance, li) at …: note`.
fn text(r: &Resolution, difference: Option<&str>) -> String {
    let what = match (&r.reason, difference) {
        (Some((code, label)), _) => format!("accepted {} {code} ({label})", r.id),
        (None, Some(d)) => format!("manual {} difference {d}", r.id),
        (None, None) => format!("manual {}", r.id),
    };
    let role = r.role.as_deref().map(|x| format!("{x}, ")).unwrap_or_default();
    format!("{what} by {} ({role}{}) at {}: {}", r.by, r.user, r.at, r.note)
}

impl Resolved {
    /// The `resolution` cell of a match ("" unless manual).
    pub fn of_match(&self, index: usize) -> &str {
        self.matches.get(&index).map_or("", |&n| self.texts[n].as_str())
    }

    /// The `resolution` cell of an unmatched or duplicate row ("" while open).
    pub fn of_row(&self, row: RowRef) -> &str {
        self.by_ref.get(&row).map_or("", |&n| self.texts[n].as_str())
    }

    /// True when the day has resolutions: matched.csv, unmatched.csv and
    /// duplicates.csv then have a `resolution` column.
    pub fn shown(&self) -> bool {
        self.shown
    }

    /// The handling of a row's fee variance ("" while open).
    pub fn of_fee(&self, row: RowRef) -> &str {
        self.fee_by_ref.get(&row).map_or("", |&n| self.texts[n].as_str())
    }

    /// Unmatched and duplicate rows and fee variances no resolution handles.
    pub fn open(&self) -> u64 {
        self.status.open
    }

    /// The status of the exception rows `keep` holds (a role's row scope):
    /// their counts, the resolutions all of whose rows it holds, and the
    /// stale ones naming a row it holds.
    pub fn status_where(&self, sides: Sides, keep: impl Fn(&Record) -> bool) -> ResolutionStatus {
        let mut status = ResolutionStatus::default();
        for row in &self.rows {
            if !keep(&sides.of(row.side)[row.index]) {
                continue;
            }
            status.exceptions += 1;
            match self.handled.get(&(row.side, row.index, row.fee.is_some())) {
                None => status.open += 1,
                Some((n, _)) => match self.resolutions[*n].kind {
                    ResolutionKind::Pair => status.paired += 1,
                    ResolutionKind::Accept => status.accepted += 1,
                },
            }
        }
        let held: std::collections::HashSet<String> = Side::BOTH
            .into_iter()
            .flat_map(|side| sides.of(side).iter())
            .filter(|r| keep(r))
            .map(|r| r.row_ref().to_string())
            .collect();
        let held_item =
            |item: &String| held.contains(item.strip_prefix(super::fees::ITEM_PREFIX).unwrap_or(item));
        status.applied = (self.status.applied.iter())
            .filter(|a| a.items.iter().all(held_item))
            .cloned()
            .collect();
        status.stale = (self.status.stale.iter())
            .filter(|st| st.rows_changed.iter().any(held_item))
            .cloned()
            .collect();
        status
    }

    /// Renders resolutions.csv: every exception row before resolutions, with
    /// its likely cause and its handling or `open`.
    pub fn render(&self, sides: Sides, plan: &Plan, causes: &LikelyCauses) -> Vec<u8> {
        let mut bytes = Vec::new();
        self.render_in_blocks(sides, plan, causes, |block| bytes.extend_from_slice(&block));
        bytes
    }

    /// `render` a block at a time, each block handed to `take` in order: the
    /// header line, then `BLOCK` rows per block (the last may hold fewer),
    /// rendered a few blocks at once on every core.
    pub fn render_in_blocks(
        &self,
        sides: Sides,
        plan: &Plan,
        causes: &LikelyCauses,
        mut take: impl FnMut(Vec<u8>),
    ) {
        let carried = carried_names(plan);
        let mut writer = csv::Writer::from_writer(Vec::new());
        let header = [
            "item",
            "exception",
            "detail",
            "side",
            "line",
            "key",
            "amount",
            "time",
            "merchant",
            "likely_cause",
            "status",
            "resolution_id",
            "match_id",
            "reason",
            "reason_label",
            "difference",
            "resolved_by",
            "os_user",
            "role",
            "resolved_at",
            "note",
            "fingerprint",
        ];
        writer
            .write_record(header.iter().copied().chain(carried.iter().map(String::as_str)))
            .expect("writing to memory");
        take(writer.into_inner().expect("writing to memory"));
        let mut rows: Vec<&ExceptionRow> = self.rows.iter().collect();
        rows.sort_by_key(|r| (r.side, sides.of(r.side)[r.index].row_ref(), r.fee.is_some()));
        let wave = BLOCK * 2 * rayon::current_num_threads().max(1);
        for wave in rows.chunks(wave) {
            let blocks: Vec<Vec<u8>> = wave
                .par_chunks(BLOCK)
                .map(|block| self.render_rows(block, sides, plan, causes, &carried))
                .collect();
            blocks.into_iter().for_each(&mut take);
        }
    }

    /// The lines of resolutions.csv for `rows`.
    fn render_rows(
        &self,
        rows: &[&ExceptionRow],
        sides: Sides,
        plan: &Plan,
        causes: &LikelyCauses,
        carried: &[String],
    ) -> Vec<u8> {
        let mut writer = csv::Writer::from_writer(Vec::new());
        let mut times = ZonedWriter::new(plan.business_zone);
        for &row in rows {
            let record = &sides.of(row.side)[row.index];
            let (exception, detail) = match row.fee {
                Some((expected, actual)) => (
                    "fee_variance",
                    format!(
                        "expected {expected} actual {actual} difference {}",
                        actual - expected
                    ),
                ),
                None => describe(&row.before),
            };
            let mut time = String::new();
            if let Some(t) = record.time() {
                times.write(t, &mut time);
            }
            let handled = self.handled.get(&(row.side, row.index, row.fee.is_some()));
            let r = handled.map(|&(n, _)| (&self.resolutions[n], &self.status.applied[n]));
            let status = match r.map(|(r, _)| r.kind) {
                None => "open",
                Some(ResolutionKind::Pair) => "paired",
                Some(ResolutionKind::Accept) => "accepted",
            };
            let get = |f: fn(&Resolution, &Applied) -> String| r.map(|(r, a)| f(r, a)).unwrap_or_default();
            let cells: Vec<String> = vec![
                item_name(record.row_ref(), row.fee.is_some()),
                exception.into(),
                detail,
                record.side().name().into(),
                record.line().to_string(),
                safe(record.key()).into_owned(),
                record.amount().to_string(),
                time,
                safe(record.merchant()).into_owned(),
                match row.fee {
                    Some(_) => String::new(),
                    None => safe(causes.of_row(record.row_ref())).into_owned(),
                },
                status.into(),
                get(|r, _| r.id.clone()),
                get(|_, a| a.match_id.clone().unwrap_or_default()),
                get(|_, a| a.reason.clone().unwrap_or_default()),
                get(|_, a| safe(a.reason_label.as_deref().unwrap_or_default()).into_owned()),
                get(|_, a| a.difference.clone().unwrap_or_default()),
                get(|r, _| safe(&r.by).into_owned()),
                get(|r, _| safe(&r.user).into_owned()),
                get(|r, _| r.role.clone().unwrap_or_default()),
                get(|r, _| r.at.clone()),
                get(|r, _| safe(&r.note).into_owned()),
                row.fingerprint.clone(),
            ];
            let values = carried_values(record, plan, carried);
            writer
                .write_record(
                    cells
                        .iter()
                        .map(String::as_str)
                        .chain(values.iter().map(|v| v.as_ref())),
                )
                .expect("writing to memory");
        }
        writer.into_inner().expect("writing to memory")
    }
}

/// `ledger:8`, or `fee:ledger:8` for the row's fee variance.
fn item_name(row: RowRef, fee: bool) -> String {
    if fee {
        format!("{}{row}", super::fees::ITEM_PREFIX)
    } else {
        row.to_string()
    }
}

/// A fee variance's fingerprint: its row's, marked as the fee's, so
/// accepting it never touches the row's own exception.
fn fee_fingerprint(row: &str) -> String {
    crate::digest::sha256_hex(format!("recon-fee-v1\n{row}").as_bytes())
}

/// (`unmatched` | `duplicate`, its reason and related rows).
fn describe(d: &Disposition) -> (&'static str, String) {
    match d {
        Disposition::Unmatched { reason, counterpart } => {
            let refs: Vec<String> = counterpart.iter().map(RowRef::to_string).collect();
            (
                "unmatched",
                format!("{reason} {}", refs.join(" ")).trim().to_string(),
            )
        }
        Disposition::Duplicate { of } => ("duplicate", format!("duplicate_of {of}")),
        _ => ("", String::new()),
    }
}

/// Both sides' carried column names, ledger's first.
pub(super) fn carried_names(plan: &Plan) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for name in plan.ledger.columns.carry.iter().chain(&plan.bank.columns.carry) {
        if !names.contains(name) {
            names.push(name.clone());
        }
    }
    names
}

pub(super) fn carried_values<'r>(
    record: &'r Record,
    plan: &Plan,
    names: &[String],
) -> Vec<std::borrow::Cow<'r, str>> {
    let own = match record.side() {
        Side::Ledger => &plan.ledger.columns.carry,
        Side::Bank => &plan.bank.columns.carry,
    };
    let values: BTreeMap<&str, &str> = own.iter().map(String::as_str).zip(record.carried()).collect();
    names
        .iter()
        .map(|n| safe(values.get(n.as_str()).copied().unwrap_or_default()))
        .collect()
}

fn dispositions(result: &Reconciliation, side: Side) -> &[Disposition] {
    match side {
        Side::Ledger => &result.ledger,
        Side::Bank => &result.bank,
    }
}

fn dispositions_mut(result: &mut Reconciliation, side: Side) -> &mut [Disposition] {
    match side {
        Side::Ledger => &mut result.ledger,
        Side::Bank => &mut result.bank,
    }
}
