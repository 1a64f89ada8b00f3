//! `--date`: `YYYY-MM-DD`, `YYYYMMDD`, `today` or `yesterday`, the last two
//! in the rules' business time zone; and the dated days under `--out-root`.

use std::path::Path;

use chrono::{NaiveDate, Utc};
use chrono_tz::Tz;

use crate::rules;

/// A business date as given on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateArg {
    /// A calendar date.
    On(NaiveDate),
    /// Today in the business zone.
    Today,
    /// Yesterday in the business zone.
    Yesterday,
}

/// A resolved business date and the zone it was resolved in.
#[derive(Debug, Clone, Copy)]
pub struct Resolved {
    /// The date.
    pub date: NaiveDate,
    /// The rules' business zone (UTC when the rules cannot be read).
    pub zone: Tz,
}

/// Parses `--date`: strict `YYYY-MM-DD` or `YYYYMMDD` (so `2026-1-24` is a
/// typo, not January), `today` or `yesterday`.
pub fn parse(text: &str) -> Result<DateArg, String> {
    let bad = || {
        format!("\"{text}\" is not a date: write YYYY-MM-DD (2026-11-24), YYYYMMDD (20261124), today or yesterday")
    };
    match text {
        "today" => return Ok(DateArg::Today),
        "yesterday" => return Ok(DateArg::Yesterday),
        _ => {}
    }
    let digits = text.bytes().filter(u8::is_ascii_digit).count();
    let format = match (text.len(), digits) {
        (10, 8) if text.as_bytes()[4] == b'-' && text.as_bytes()[7] == b'-' => "%Y-%m-%d",
        (8, 8) => "%Y%m%d",
        _ => return Err(bad()),
    };
    NaiveDate::parse_from_str(text, format)
        .map(DateArg::On)
        .map_err(|_| bad())
}

impl DateArg {
    /// The date, with `today` and `yesterday` taken in the business zone of
    /// the rules at `rules` (the version in force today).
    pub fn resolve(self, rules: &Path) -> Resolved {
        let zone = rules::load(rules, Utc::now().date_naive())
            .map(|plan| plan.business_zone)
            .unwrap_or(Tz::UTC);
        let today = Utc::now().with_timezone(&zone).date_naive();
        let date = match self {
            DateArg::On(date) => date,
            DateArg::Today => today,
            DateArg::Yesterday => today.pred_opt().unwrap_or(today),
        };
        Resolved { date, zone }
    }

    /// `today` or `yesterday` for a relative date.
    pub fn word(self) -> Option<&'static str> {
        match self {
            DateArg::On(_) => None,
            DateArg::Today => Some("today"),
            DateArg::Yesterday => Some("yesterday"),
        }
    }
}

/// The `YYYY-MM-DD` results directories under `root` before `date`, oldest first.
pub fn earlier_days(root: &Path, date: NaiveDate) -> Vec<NaiveDate> {
    let mut days: Vec<NaiveDate> = std::fs::read_dir(root)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .filter(|e| e.path().is_dir())
        .filter_map(|e| NaiveDate::parse_from_str(&e.file_name().to_string_lossy(), "%Y-%m-%d").ok())
        .filter(|d| *d < date)
        .collect();
    days.sort();
    days
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_strict() {
        let day = NaiveDate::from_ymd_opt(2026, 11, 24).unwrap();
        assert_eq!(parse("2026-11-24"), Ok(DateArg::On(day)));
        assert_eq!(parse("20261124"), Ok(DateArg::On(day)));
        assert_eq!(parse("yesterday"), Ok(DateArg::Yesterday));
        for typo in [
            "2026-1-24",
            "2026-11-4",
            "261124",
            "2026/11/24",
            "2026-13-01",
            "Today",
        ] {
            assert!(parse(typo).unwrap_err().contains("is not a date"), "{typo}");
        }
    }
}
