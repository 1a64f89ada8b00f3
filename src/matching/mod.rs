//! Reconciling two record sets with the plan's ordered stages, then sorting
//! what is left into duplicates, ignored rows and unmatched rows with a
//! reason. Every record ends with exactly one `Disposition`.
//!
//! With `--date`, `period` decides which rows enter the stages and, after
//! them, which rows wait for the next day or belong to another one.
//!
//! Stages work on partitions (a key, a merchant bucket) that are independent
//! of each other, so they run in parallel with rayon; inside a partition the
//! order is fixed by the rows' content (time first, line last), so results
//! depend neither on threads nor on the order of the rows in the files.

mod batch;
mod currency;
mod duplicates;
mod fallback;
mod groups;
mod key;
mod matches;
pub mod period;
mod split;

use std::collections::{BTreeSet, HashMap};
use std::fmt;

use rayon::prelude::*;
use rust_decimal::Decimal;

pub use batch::{net_of, statement_until, Batch, BatchOutcome};
pub use matches::{Match, Matches, Rows, MAX_ROWS};

use crate::model::{Currency, Record, RowRef, Side};
use crate::rules::business::BusinessDay;
use crate::rules::plan::{Plan, StagePlan};
use crate::rules::report::Lang;

/// Why a record stayed unmatched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// Nothing on the other side has its key, nor fits a fallback stage.
    NoCounterpart,
    /// The other side has the same key and direction but a different amount.
    AmountMismatch,
    /// A fallback stage found several equally good candidates and the rule says not to choose.
    Ambiguous,
    /// The other side has the key and direction, but every such row is matched to another row.
    CounterpartMatched,
    /// A row carried in from the previous run's pending.csv still found no counterpart.
    NoCounterpartAfterGrace,
}

impl Reason {
    /// The name written in `unmatched.csv`.
    pub fn name(self) -> &'static str {
        match self {
            Reason::NoCounterpart => "no_counterpart",
            Reason::AmountMismatch => "amount_mismatch",
            Reason::Ambiguous => "ambiguous",
            Reason::CounterpartMatched => "counterpart_matched",
            Reason::NoCounterpartAfterGrace => "no_counterpart_after_grace",
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Where one record ended up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Disposition {
    /// Part of `matches[i]`.
    Matched(usize),
    /// Not reconciled.
    Unmatched {
        /// Why.
        reason: Reason,
        /// Candidate rows on the other side, if any (a boxed slice, not a
        /// `Vec`: a disposition is 24 bytes instead of 32, and a 10M day holds 20M).
        counterpart: Box<[RowRef]>,
    },
    /// Repeats a matched row on the same side.
    Duplicate {
        /// The row it repeats.
        of: RowRef,
    },
    /// Set aside: an unmatched row below `ignore_below`.
    Ignored,
    /// No counterpart yet, but within `pending_grace` of the day's end: waits
    /// for the next day's run (`awaiting_counterpart`).
    Pending,
    /// Not this business day's row (`--date`), or already settled by the previous run.
    OutOfPeriod(period::PeriodReason),
}

/// The result of reconciling.
#[derive(Debug, Clone)]
pub struct Reconciliation {
    /// Matches sorted by their first ledger line, then first bank line.
    pub matches: Matches,
    /// One disposition per ledger record.
    pub ledger: Vec<Disposition>,
    /// One disposition per bank record.
    pub bank: Vec<Disposition>,
    /// The groups batch stages formed, in stage order, then (merchant, day) order.
    pub batches: Vec<Batch>,
}

/// The records of both sides, indexable by side.
#[derive(Clone, Copy)]
pub struct Sides<'a> {
    /// Ledger records.
    pub ledger: &'a [Record],
    /// Bank records.
    pub bank: &'a [Record],
}

impl<'a> Sides<'a> {
    /// The records of one side.
    pub fn of(&self, side: Side) -> &'a [Record] {
        match side {
            Side::Ledger => self.ledger,
            Side::Bank => self.bank,
        }
    }
}

/// Which records are still free, per side.
pub(crate) struct Free {
    ledger: Vec<bool>,
    bank: Vec<bool>,
}

impl Free {
    fn new(sides: Sides) -> Free {
        Free {
            ledger: vec![true; sides.ledger.len()],
            bank: vec![true; sides.bank.len()],
        }
    }

    pub(crate) fn of(&self, side: Side) -> &[bool] {
        match side {
            Side::Ledger => &self.ledger,
            Side::Bank => &self.bank,
        }
    }

    fn take(&mut self, m: Match) {
        for i in m.ledger() {
            self.ledger[i] = false;
        }
        for i in m.bank() {
            self.bank[i] = false;
        }
    }
}

/// What a stage returns: new matches, rows it found ambiguous, and the
/// groups a batch stage formed.
#[derive(Default)]
pub(crate) struct StageResult {
    pub matches: Matches,
    pub ambiguous: Vec<(RowRef, Vec<RowRef>)>,
    pub batches: Vec<Batch>,
}

/// Runs every stage of `plan`, then classifies what is left. `day` is the
/// run's business day (`--date`), which batch stages compare settlement days with.
pub fn reconcile(sides: Sides, plan: &Plan, day: Option<&BusinessDay>) -> Reconciliation {
    let currencies: BTreeSet<Currency> = sides
        .ledger
        .iter()
        .chain(sides.bank)
        .map(|r| r.currency)
        .collect();
    if currencies.len() <= 1 {
        return reconcile_one(sides, plan, day);
    }
    currency::reconcile_each(sides, plan, day, &currencies)
}

/// `reconcile` of records that are all in one currency.
fn reconcile_one(sides: Sides, plan: &Plan, day: Option<&BusinessDay>) -> Reconciliation {
    let mut free = Free::new(sides);
    let mut matches = Matches::default();
    let mut batches = Vec::new();
    let mut ambiguous: RowMap<Vec<RowRef>> = RowMap::default();
    for (index, stage) in plan.stages.iter().enumerate() {
        let result = match stage {
            StagePlan::Key { tolerance, .. } => key::run(sides, &free, index, *tolerance),
            StagePlan::Split {
                tolerance, max_parts, ..
            } => split::run(sides, &free, index, *tolerance, *max_parts),
            StagePlan::Fallback { .. } => {
                fallback::run(sides, &free, index, stage, plan.report.lang.unwrap_or_default())
            }
            StagePlan::Batch { .. } => batch::run(sides, &free, index, stage, plan, day),
        };
        for m in result.matches.iter() {
            free.take(m);
        }
        // The first stage's matches are most of them: taken, not copied.
        matches.append(result.matches);
        batches.extend(result.batches);
        for (row, candidates) in result.ambiguous {
            for c in &candidates {
                ambiguous.entry(*c).or_default().push(row);
            }
            ambiguous.entry(row).or_default().extend(candidates);
        }
    }
    sort_matches(sides, &mut matches);
    flag_reviews(sides, plan, &mut matches);
    let verdicts = batch_verdicts(sides, &batches);
    let mut result = classify(sides, plan, matches, &free, &ambiguous, &verdicts);
    result.batches = batches;
    result
}

/// The disposition of every row of a batch no credit settled: its ledger
/// rows and the credit it was compared with.
fn batch_verdicts(sides: Sides, batches: &[Batch]) -> RowMap<Disposition> {
    let mut verdicts = RowMap::default();
    for b in batches {
        let rows = || b.ledger.iter().map(|&i| sides.ledger[i].row_ref());
        let ledger = match (b.outcome, b.credit) {
            (BatchOutcome::Settled, _) => continue,
            (BatchOutcome::AmountMismatch, Some(c)) => {
                let mut named: Vec<RowRef> = rows().collect();
                named.sort();
                named.truncate(MAX_COUNTERPARTS);
                let credit = sides.bank[c].row_ref();
                verdicts.insert(
                    credit,
                    Disposition::Unmatched {
                        reason: Reason::AmountMismatch,
                        counterpart: named.into(),
                    },
                );
                Disposition::Unmatched {
                    reason: Reason::AmountMismatch,
                    counterpart: Box::new([credit]),
                }
            }
            (BatchOutcome::Pending, _) => Disposition::Pending,
            _ => Disposition::Unmatched {
                reason: Reason::NoCounterpart,
                counterpart: Box::default(),
            },
        };
        verdicts.extend(rows().map(|r| (r, ledger.clone())));
    }
    verdicts
}

/// A map keyed by input row (foldhash: fast, and lookups only, never iterated into output).
pub(crate) type RowMap<V> = HashMap<RowRef, V, foldhash::fast::RandomState>;

fn sort_matches(sides: Sides, matches: &mut Matches) {
    let order = match_order(sides, matches);
    matches.permute(&order);
}

/// The order matches are listed in: by their first ledger row, then their
/// first bank row (`order[new] = old`).
fn match_order(sides: Sides, matches: &Matches) -> Vec<usize> {
    let first_row = |side: Side, m: Match| m.rows(side).iter().map(|i| sides.of(side)[i].row_ref()).min();
    // Sorted by the first ledger row alone (24 bytes a match instead of 40
    // with the bank row: a 10M day sorts 9.4M): a row is in one match at
    // most, so two keys are equal only when neither match has a ledger row,
    // and then their first bank rows decide. The order is deterministic.
    let mut order: Vec<(Option<RowRef>, usize)> = matches
        .par_iter()
        .enumerate()
        .map(|(i, m)| (first_row(Side::Ledger, m), i))
        .collect();
    let bank = |i: usize| first_row(Side::Bank, matches.get(i));
    order.par_sort_unstable_by(|a, b| a.0.cmp(&b.0).then_with(|| bank(a.1).cmp(&bank(b.1))));
    order.into_iter().map(|(_, i)| i).collect()
}

/// Puts a reason first on every match with a row at or above `review_above`.
fn flag_reviews(sides: Sides, plan: &Plan, matches: &mut Matches) {
    let Some(limit) = plan.review_above else { return };
    let lang = plan.report.lang.unwrap_or_default();
    let flagged: Vec<(usize, String)> = matches
        .par_iter()
        .enumerate()
        .filter_map(|(i, m)| {
            let largest = m
                .ledger()
                .iter()
                .map(|i| &sides.ledger[i])
                .chain(m.bank().iter().map(|i| &sides.bank[i]))
                .map(|r| r.amount().abs())
                .max()
                .unwrap_or(Decimal::ZERO);
            (largest >= limit).then(|| {
                let reason = match lang {
                    Lang::En => format!("amount {largest} at or above review_above {limit}"),
                    Lang::Zh => format!("金额 {largest} 达到复核阈值 review_above {limit}"),
                };
                (i, reason)
            })
        })
        .collect();
    for (i, reason) in flagged {
        matches.flag_first(i, reason);
    }
}

fn classify(
    sides: Sides,
    plan: &Plan,
    matches: Matches,
    free: &Free,
    ambiguous: &RowMap<Vec<RowRef>>,
    verdicts: &RowMap<Disposition>,
) -> Reconciliation {
    // Four independent steps, each mostly on one thread: side by side.
    let ((ledger, bank), (duplicates, by_key)) = rayon::join(
        || {
            rayon::join(
                || matched_dispositions(sides.ledger.len(), &matches, Side::Ledger),
                || matched_dispositions(sides.bank.len(), &matches, Side::Bank),
            )
        },
        || {
            rayon::join(
                || duplicates::find(sides, free, &matches, plan.duplicate_window),
                || key::index_by_key(sides, free),
            )
        },
    );
    let mut dispositions = [ledger, bank];
    for (slot, side) in Side::BOTH.into_iter().enumerate() {
        let records = sides.of(side);
        let left = records.par_iter().enumerate().filter(|&(i, _)| free.of(side)[i]);
        let left: Vec<(usize, Disposition)> = left
            .map(|(i, record)| {
                let verdict = (!verdicts.is_empty())
                    .then(|| verdicts.get(&record.row_ref()))
                    .flatten();
                let disposition = if let Some(verdict) = verdict {
                    verdict.clone()
                } else if let Some(of) = duplicates.get(&record.row_ref()) {
                    Disposition::Duplicate { of: *of }
                } else {
                    let (reason, counterpart) = unmatched_reason(sides, record, &by_key, free, ambiguous);
                    let below = plan
                        .ignore_below
                        .is_some_and(|limit| record.amount().abs() < limit);
                    if below {
                        Disposition::Ignored
                    } else {
                        Disposition::Unmatched {
                            reason,
                            counterpart: counterpart.into(),
                        }
                    }
                };
                (i, disposition)
            })
            .collect();
        for (i, disposition) in left {
            dispositions[slot][i] = disposition;
        }
    }
    let [ledger, bank] = dispositions;
    Reconciliation {
        matches,
        ledger,
        bank,
        batches: Vec::new(),
    }
}

/// One side's dispositions before classifying: `Matched` for the rows of
/// `matches` (their rows on `side`), `Ignored` for the others.
fn matched_dispositions(len: usize, matches: &Matches, side: Side) -> Vec<Disposition> {
    let mut dispositions: Vec<Disposition> = (0..len).into_par_iter().map(|_| Disposition::Ignored).collect();
    for (i, m) in matches.iter().enumerate() {
        for r in m.rows(side) {
            dispositions[r] = Disposition::Matched(i);
        }
    }
    dispositions
}

/// Most counterparts listed for one unmatched row.
const MAX_COUNTERPARTS: usize = 5;

/// Why `record` is unmatched, and which rows on the other side to look at:
/// the candidates it was ambiguous with; else the free rows with its key
/// and direction (their amounts differ beyond every tolerance); else the
/// rows with its key that other rows matched; else none. Of many rows with
/// its key, the `MAX_COUNTERPARTS` closest in amount, then time, then
/// content are named (in line order), so the choice does not depend on the
/// rows' order in the files.
fn unmatched_reason(
    sides: Sides,
    record: &Record,
    by_key: &key::KeyIndex,
    free: &Free,
    ambiguous: &RowMap<Vec<RowRef>>,
) -> (Reason, Vec<RowRef>) {
    if let Some(candidates) = ambiguous.get(&record.row_ref()) {
        let mut c = candidates.clone();
        c.sort();
        c.dedup();
        return (Reason::Ambiguous, c);
    }
    let same_key = by_key.counterparts(record);
    if same_key.is_empty() {
        return (Reason::NoCounterpart, Vec::new());
    }
    let other_side = record.side().other();
    let other = free.of(other_side);
    let closest = |rows: Vec<&(RowRef, usize)>| -> Vec<RowRef> {
        let records = sides.of(other_side);
        let mut rows = rows;
        rows.sort_by_key(|&&(_, i)| key::closeness(record, &records[i]));
        let mut named: Vec<RowRef> = rows.iter().take(MAX_COUNTERPARTS).map(|&&(r, _)| r).collect();
        named.sort();
        named
    };
    let unmatched = closest(same_key.iter().filter(|&&(_, i)| other[i]).collect());
    if unmatched.is_empty() {
        (Reason::CounterpartMatched, closest(same_key.iter().collect()))
    } else {
        (Reason::AmountMismatch, unmatched)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_disposition_is_24_bytes() {
        // A 10M-order day holds 20M of them until the end of the run.
        assert_eq!(std::mem::size_of::<Disposition>(), 24);
    }

    #[test]
    fn every_unmatched_reason_is_documented() {
        let readme = include_str!("../../docs/outputs.md");
        let all = [
            Reason::NoCounterpart,
            Reason::AmountMismatch,
            Reason::Ambiguous,
            Reason::CounterpartMatched,
            Reason::NoCounterpartAfterGrace,
        ];
        for reason in all {
            // No wildcard: a new reason does not compile until it is listed above.
            match reason {
                Reason::NoCounterpart
                | Reason::AmountMismatch
                | Reason::Ambiguous
                | Reason::CounterpartMatched
                | Reason::NoCounterpartAfterGrace => {}
            }
            let row = format!("| `{}` |", reason.name());
            assert!(
                readme.contains(&row),
                "docs/outputs.md's reason table lacks {row}"
            );
        }
    }
}
