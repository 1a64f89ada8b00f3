//! The scope of one run. Before matching, `Scope::new` sets aside rows that
//! are not this run's business: with `--date D`, ledger rows of other days
//! and statement rows outside D's start up to its cutoff; with `--carry-in`,
//! file rows the previous run already settled. Rows carried in from the
//! previous run's pending.csv join the day's rows.
//!
//! After matching, `Scope::settle` finishes the dispositions: statement rows
//! stamped after D's end stay only when they belong to D's payments (matched,
//! repeating or naming one of them), else they are left to D+1; rows of D's
//! last `pending_grace` with no counterpart wait as `Pending`; carried-in
//! rows that again found nothing become `no_counterpart_after_grace`.
//!
//! A batch stage may extend the statement rows a run takes in past the
//! cutoff, to the end of the day's settlement day (`statement_until`): those
//! rows stay only when a batch takes them (or names them), like the rows
//! after midnight above.
//!
//! This module never matches anything itself and keeps the matcher's order:
//! every record keeps one place, so results stay the same for any thread count.

use std::fmt;

use chrono::{DateTime, Utc};
use rayon::prelude::*;

use super::{Disposition, Reason, Reconciliation, Sides};
use crate::model::{Origin, Record, Side};
use crate::rules::business::BusinessDay;

pub use crate::model::AWAITING_COUNTERPART;

/// Why a row is not part of this run's reconciliation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PeriodReason {
    /// Its time falls in another business day (or after the cutoff); that
    /// day's run reconciles it.
    OtherBusinessDay,
    /// The run given to `--carry-in` already matched, reported or carried it.
    AlreadyInPreviousRun,
}

impl PeriodReason {
    /// The name written in `out_of_period.csv`.
    pub fn name(self) -> &'static str {
        match self {
            PeriodReason::OtherBusinessDay => "other_business_day",
            PeriodReason::AlreadyInPreviousRun => "already_in_previous_run",
        }
    }
}

impl fmt::Display for PeriodReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Every record of one run, per side: the rows to match first (this run's
/// file rows, then carried-in rows), then the rows set aside.
#[derive(Debug)]
pub struct Scope {
    ledger: Vec<Record>,
    bank: Vec<Record>,
    /// How many leading records of each side (ledger, bank) are matched.
    matched_part: [usize; 2],
    /// Why each record after the matched part was set aside, per side.
    set_aside: [Vec<PeriodReason>; 2],
    day: Option<BusinessDay>,
}

/// One side's rows going into a scope.
pub struct SideRows {
    /// Rows read from this run's file, in file order.
    pub file: Vec<Record>,
    /// Rows carried in from the previous run.
    pub carried: Vec<Record>,
}

impl Scope {
    /// Splits the rows of both sides. `already_settled` is asked once per
    /// in-period file row, in file order, whether the previous run settled it.
    /// `statement_until`, when later than the cutoff, is where the statement
    /// rows taken in end instead (a batch stage's settlement day).
    pub fn new(
        ledger: SideRows,
        bank: SideRows,
        day: Option<BusinessDay>,
        statement_until: Option<DateTime<Utc>>,
        mut already_settled: impl FnMut(&Record) -> bool,
    ) -> Scope {
        // In place: the rows set aside are taken out of the file's rows (in
        // file order) and put back after the kept ones, so the records are
        // never held twice (a million rows are 70 MB).
        let mut split_side = |side: Side, rows: SideRows| {
            let mut kept = rows.file;
            let mut reasons = Vec::new();
            let aside: Vec<Record> = kept
                .extract_if(.., |r| {
                    let why = match day.filter(|d| !in_period(side, d, r, statement_until)) {
                        Some(_) => PeriodReason::OtherBusinessDay,
                        None if already_settled(r) => PeriodReason::AlreadyInPreviousRun,
                        None => return false,
                    };
                    reasons.push(why);
                    true
                })
                .collect();
            kept.extend(rows.carried);
            let count = kept.len();
            kept.extend(aside);
            (kept, count, reasons)
        };
        let (ledger, ledger_count, ledger_aside) = split_side(Side::Ledger, ledger);
        let (bank, bank_count, bank_aside) = split_side(Side::Bank, bank);
        Scope {
            ledger,
            bank,
            matched_part: [ledger_count, bank_count],
            set_aside: [ledger_aside, bank_aside],
            day,
        }
    }

    /// The rows that go through the match stages.
    pub fn to_match(&self) -> Sides<'_> {
        Sides {
            ledger: &self.ledger[..self.matched_part[0]],
            bank: &self.bank[..self.matched_part[1]],
        }
    }

    /// Every row of the run, in the order `settle`'s dispositions follow.
    pub fn all(&self) -> Sides<'_> {
        Sides {
            ledger: &self.ledger,
            bank: &self.bank,
        }
    }

    /// Frees the records on every core: each owns its text, and two million
    /// frees take a while on one.
    pub fn free(self) {
        let Scope { ledger, bank, .. } = self;
        rayon::join(
            || ledger.into_par_iter().for_each(drop),
            || bank.into_par_iter().for_each(drop),
        );
    }

    /// Finishes the matcher's result (over `to_match`) into one disposition
    /// per row of `all`.
    pub fn settle(&self, mut result: Reconciliation) -> Reconciliation {
        for (slot, side) in Side::BOTH.into_iter().enumerate() {
            let (records, dispositions) = match side {
                Side::Ledger => (&self.ledger, &mut result.ledger),
                Side::Bank => (&self.bank, &mut result.bank),
            };
            records
                .par_iter()
                .zip(dispositions.par_iter_mut())
                .for_each(|(record, d)| {
                    if let Some(settled) = self.settle_one(record, d) {
                        *d = settled;
                    }
                });
            dispositions.extend(
                self.set_aside[slot]
                    .iter()
                    .map(|&why| Disposition::OutOfPeriod(why)),
            );
        }
        result
    }

    /// The final disposition of a matched-part row, when it changes.
    fn settle_one(&self, record: &Record, d: &Disposition) -> Option<Disposition> {
        let no_counterpart = matches!(
            d,
            Disposition::Unmatched {
                reason: Reason::NoCounterpart,
                ..
            }
        );
        if record.origin() == Origin::CarriedIn {
            return no_counterpart.then(|| Disposition::Unmatched {
                reason: Reason::NoCounterpartAfterGrace,
                counterpart: Box::default(),
            });
        }
        let day = self.day.as_ref()?;
        let time = record.time()?;
        if time >= day.end {
            // A statement row after midnight that is none of the day's business.
            let unrelated = no_counterpart || *d == Disposition::Ignored;
            return unrelated.then_some(Disposition::OutOfPeriod(PeriodReason::OtherBusinessDay));
        }
        (no_counterpart && time >= day.pending_from).then_some(Disposition::Pending)
    }
}

/// Whether a file row belongs to the day: ledger rows of the day itself,
/// statement rows from the day's start up to the cutoff (or `statement_until`
/// when later). Rows without a time cannot be placed and are taken as the day's.
pub fn in_period(
    side: Side,
    day: &BusinessDay,
    record: &Record,
    statement_until: Option<DateTime<Utc>>,
) -> bool {
    let Some(t) = record.time.nanos() else { return true };
    let until = match side {
        Side::Ledger => day.end,
        Side::Bank => statement_until.map_or(day.cutoff, |u| u.max(day.cutoff)),
    };
    match (day.start.timestamp_nanos_opt(), until.timestamp_nanos_opt()) {
        (Some(start), Some(until)) => start <= t && t < until,
        // A day outside 1677–2262: compare the instants themselves.
        _ => record.time().is_some_and(|t| day.start <= t && t < until),
    }
}
