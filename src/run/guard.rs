//! Guard rails of a dated run: refusals that stop a run which cannot be the
//! business day it claims to be, before anything is written. A cron job sees
//! exit 2 instead of a clean-looking day.

use std::path::Path;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;

use super::RunError;
use crate::digest::sha256_hex;
use crate::input::carry::CarryIn;
use crate::input::SourceFile;
use crate::matching::period::in_period;
use crate::matching::{Sides, MAX_ROWS};
use crate::rules::business::BusinessDay;

/// The ledger and the statement must be different files (the same bytes
/// given twice reconcile perfectly and prove nothing). Checked before either
/// is read: only files of equal size are hashed.
pub(crate) fn distinct_files(ledger: &Path, bank: &Path) -> Result<(), RunError> {
    let size = |p: &Path| std::fs::metadata(p).ok().map(|m| m.len());
    if size(ledger).is_none() || size(ledger) != size(bank) {
        return Ok(());
    }
    let hash = |p: &Path| std::fs::read(p).ok().map(|b| sha256_hex(&b));
    match (hash(ledger), hash(bank)) {
        (Some(a), Some(b)) if a == b => Err(RunError::Guard(format!(
            "--ledger {} and --bank {} have identical content (sha256 {a}): give the platform ledger and the bank statement",
            ledger.display(),
            bank.display(),
        ))),
        _ => Ok(()),
    }
}

/// Each side of a run may hold at most `MAX_ROWS` records, this run's rows
/// and the carried-in ones together (a match holds row indices as `u32`).
/// The reader runs out of memory well before (4.3 billion records are over
/// 250 GB), so this is a bound for the record, not a limit a day meets.
pub(crate) fn rows_fit(sides: Sides, ledger: &Path, bank: &Path) -> Result<(), RunError> {
    for (side, flag, path) in [(sides.ledger, "--ledger", ledger), (sides.bank, "--bank", bank)] {
        if side.len() > MAX_ROWS {
            return Err(RunError::Guard(format!(
                "{flag} {}: {} records with the carried-in rows, more than the {MAX_ROWS} one run reconciles per side: split the day (recon split, or recon run --memory-limit)",
                path.display(),
                side.len(),
            )));
        }
    }
    Ok(())
}

/// `--carry-in` must hold the results of the day before `date`.
pub(super) fn previous_day(carry: &CarryIn, date: NaiveDate) -> Result<(), RunError> {
    let expected = date.pred_opt();
    match carry.results_date {
        Some(from) if Some(from) == expected => Ok(()),
        from => Err(RunError::Guard(format!(
            "--carry-in {}: holds the results of {}, but this run reconciles {date}, whose previous business day is {}: carry in that day's results, or give --allow-gap to accept the gap",
            carry.pending.path,
            from.map_or_else(|| "an undated run".to_string(), |d| d.to_string()),
            expected.map_or_else(|| "-".to_string(), |d| d.to_string()),
        ))),
    }
}

/// A file with rows must have at least one in the business day's period;
/// else `--date` is wrong (a typo, or the wrong file).
pub(crate) fn some_rows_in_period(
    source: &SourceFile,
    day: &BusinessDay,
    statement_until: Option<DateTime<Utc>>,
    date: NaiveDate,
    zone: Tz,
) -> Result<(), RunError> {
    let records = &source.typed.records;
    if records.is_empty()
        || records
            .iter()
            .any(|r| in_period(r.side(), day, r, statement_until))
    {
        return Ok(());
    }
    let times = records.iter().filter_map(|r| r.time());
    let until = match source.typed.records[0].side() {
        crate::model::Side::Ledger => day.end,
        crate::model::Side::Bank => statement_until.map_or(day.cutoff, |u| u.max(day.cutoff)),
    };
    let span = match (times.clone().min(), times.max()) {
        (Some(first), Some(last)) => format!(
            "from {} to {}",
            first.with_timezone(&zone).format("%Y-%m-%d %H:%M:%S"),
            last.with_timezone(&zone).format("%Y-%m-%d %H:%M:%S")
        ),
        _ => "at no time".to_string(),
    };
    Err(RunError::Guard(format!(
        "{}: none of its {} row(s) falls in business day {date} ({zone}, {} to {}); its rows run {span}. Check --date, and that this is the right file",
        source.located.path.display(),
        records.len(),
        day.start.with_timezone(&zone).format("%Y-%m-%d %H:%M"),
        until.with_timezone(&zone).format("%Y-%m-%d %H:%M"),
    )))
}
