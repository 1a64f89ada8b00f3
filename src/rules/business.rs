//! `[business]` settings beyond the time zone: the T+n `cutoff` by which a
//! business day's statement rows have arrived, and the `pending_grace` a row
//! of the day's last minutes gets before a missing counterpart is an
//! exception. Also turns a business date into the instants a run compares
//! against (day start, day end, cutoff, start of the grace period).
//!
//! Both settings are checked while the TOML is read, so an impossible value
//! is reported as `RULES:LINE:COL: message` like any other rule error.

use std::str::FromStr;

use chrono::{DateTime, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Deserializer};

use super::plan::duration;
use crate::input::time::format_in_zone;

/// Latest allowed cutoff, in days after the business day.
const MAX_CUTOFF_DAYS: u32 = 7;

/// `cutoff = "T+1 10:00"`: day D's statement is complete at 10:00 (business
/// time) on day D+1; rows stamped up to then may still be D's payments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cutoff {
    /// Days after the business day (the `1` of `T+1`).
    pub days_after: u32,
    /// Time of day in the business zone.
    pub time: NaiveTime,
}

impl Cutoff {
    /// `T+1 00:00`: the day ends at midnight and nothing later belongs to it
    /// (used when a rule file sets no cutoff).
    pub const END_OF_DAY: Cutoff = Cutoff {
        days_after: 1,
        time: NaiveTime::MIN,
    };
}

impl std::fmt::Display for Cutoff {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "T+{} {}", self.days_after, self.time.format("%H:%M"))
    }
}

impl FromStr for Cutoff {
    type Err = String;

    fn from_str(text: &str) -> Result<Cutoff, String> {
        let bad = || {
            format!(
                "cutoff \"{text}\" is not a cutoff: write \"T+1 10:00\" (10:00 business time on the day after the business day)"
            )
        };
        let rest = text.trim().strip_prefix(['T', 't']).ok_or_else(bad)?.trim_start();
        let (days, clock) = rest
            .strip_prefix('+')
            .and_then(|r| r.split_once(' '))
            .ok_or_else(bad)?;
        let days: u32 = days.trim().parse().map_err(|_| bad())?;
        let clock = clock.trim();
        let time = NaiveTime::parse_from_str(clock, "%H:%M").map_err(|_| {
            format!("cutoff \"{text}\": \"{clock}\" is not a time of day (write HH:MM, from 00:00 to 23:59)")
        })?;
        if days == 0 {
            return Err(format!(
                "cutoff \"{text}\" falls inside the business day itself, before the day's statement can be complete: use T+1 or later, e.g. \"T+1 10:00\""
            ));
        }
        if days > MAX_CUTOFF_DAYS {
            return Err(format!(
                "cutoff \"{text}\" is more than {MAX_CUTOFF_DAYS} days after the business day: a day must be closed within a week (T+{MAX_CUTOFF_DAYS} at most)"
            ));
        }
        Ok(Cutoff {
            days_after: days,
            time,
        })
    }
}

/// Parses `pending_grace`: a duration from `0s` (no grace) up to, not including, a day.
pub fn pending_grace(text: &str) -> Result<TimeDelta, String> {
    let grace = duration("pending_grace", text)?;
    if grace < TimeDelta::zero() {
        return Err(format!(
            "pending_grace \"{text}\" is negative: write how long before the end of the day a row may wait, e.g. \"10m\" (\"0s\" for none)"
        ));
    }
    if grace >= TimeDelta::days(1) {
        return Err(format!(
            "pending_grace \"{text}\" covers the whole business day, so no missing counterpart would ever be an exception: use less than 24h, e.g. \"10m\""
        ));
    }
    Ok(grace)
}

/// Reads an optional `cutoff` and checks it while the TOML is read.
pub(crate) fn deserialize_cutoff<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Cutoff>, D::Error> {
    let text = String::deserialize(d)?;
    text.parse().map(Some).map_err(serde::de::Error::custom)
}

/// Reads an optional `pending_grace` and checks it while the TOML is read.
pub(crate) fn deserialize_grace<'de, D: Deserializer<'de>>(d: D) -> Result<Option<TimeDelta>, D::Error> {
    let text = String::deserialize(d)?;
    pending_grace(&text).map(Some).map_err(serde::de::Error::custom)
}

/// One business day as instants, for a run with `--date`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BusinessDay {
    /// The business date.
    pub date: NaiveDate,
    /// Its zone.
    pub zone: Tz,
    /// 00:00 of the date in the business zone.
    pub start: DateTime<Utc>,
    /// 00:00 of the next date: the day is `start <= t < end`.
    pub end: DateTime<Utc>,
    /// Statement rows stamped `end <= t < cutoff` may still be this day's payments.
    pub cutoff: DateTime<Utc>,
    /// Rows stamped `pending_from <= t < end` without a counterpart are pending.
    pub pending_from: DateTime<Utc>,
}

impl BusinessDay {
    /// The instants of `date` under the given zone, cutoff and grace.
    pub fn new(date: NaiveDate, zone: Tz, cutoff: Cutoff, grace: TimeDelta) -> BusinessDay {
        let next = date.succ_opt().unwrap_or(date);
        let cutoff_date = date
            .checked_add_days(chrono::Days::new(u64::from(cutoff.days_after)))
            .unwrap_or(next);
        let end = local_instant(zone, next.and_time(NaiveTime::MIN));
        BusinessDay {
            date,
            zone,
            start: local_instant(zone, date.and_time(NaiveTime::MIN)),
            end,
            cutoff: local_instant(zone, cutoff_date.and_time(cutoff.time)),
            pending_from: end - grace,
        }
    }

    /// The business date an instant falls on.
    pub fn date_of(zone: Tz, t: DateTime<Utc>) -> NaiveDate {
        t.with_timezone(&zone).date_naive()
    }

    /// An instant written in the business zone, as in the outputs.
    pub fn show(&self, t: DateTime<Utc>) -> String {
        format_in_zone(t, self.zone)
    }
}

/// The first instant at or after a local time: the earlier one when the
/// clock repeats, the end of the gap when the clock skips it.
fn local_instant(zone: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    let mut probe = local;
    for _ in 0..=24 * 60 {
        match zone.from_local_datetime(&probe) {
            LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => return t.with_timezone(&Utc),
            LocalResult::None => probe += TimeDelta::minutes(1),
        }
    }
    Utc.from_utc_datetime(&local)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cutoffs() {
        let c: Cutoff = "T+1 10:00".parse().unwrap();
        assert_eq!(c.days_after, 1);
        assert_eq!(c.to_string(), "T+1 10:00");
        assert_eq!("t+2 23:59".parse::<Cutoff>().unwrap().days_after, 2);
        for (text, says) in [
            ("T+0 18:00", "inside the business day"),
            ("T+1 25:00", "not a time of day"),
            ("T+1 10:60", "not a time of day"),
            ("T+9 10:00", "more than 7 days"),
            ("T-1 10:00", "is not a cutoff"),
            ("10:00", "is not a cutoff"),
            ("T+1", "is not a cutoff"),
        ] {
            let err = text.parse::<Cutoff>().unwrap_err();
            assert!(err.contains(says), "{text}: {err}");
        }
    }

    #[test]
    fn graces() {
        assert_eq!(pending_grace("10m").unwrap(), TimeDelta::minutes(10));
        assert_eq!(pending_grace("0s").unwrap(), TimeDelta::zero());
        assert!(pending_grace("-5m").unwrap_err().contains("negative"));
        assert!(pending_grace("24h").unwrap_err().contains("whole business day"));
        assert!(pending_grace("soon").is_err());
    }

    #[test]
    fn a_shanghai_day_in_utc() {
        let date = NaiveDate::from_ymd_opt(2026, 11, 24).unwrap();
        let cutoff = "T+1 10:00".parse().unwrap();
        let day = BusinessDay::new(date, chrono_tz::Asia::Shanghai, cutoff, TimeDelta::minutes(10));
        assert_eq!(day.start.to_rfc3339(), "2026-11-23T16:00:00+00:00");
        assert_eq!(day.end.to_rfc3339(), "2026-11-24T16:00:00+00:00");
        assert_eq!(day.cutoff.to_rfc3339(), "2026-11-25T02:00:00+00:00");
        assert_eq!(day.show(day.pending_from), "2026-11-24T23:50:00+08:00");
    }

    #[test]
    fn a_midnight_that_does_not_exist() {
        // Santiago skipped 2022-09-11 00:00-01:00: the day starts at 01:00.
        let date = NaiveDate::from_ymd_opt(2022, 9, 11).unwrap();
        let zone = chrono_tz::America::Santiago;
        let day = BusinessDay::new(date, zone, Cutoff::END_OF_DAY, TimeDelta::zero());
        assert_eq!(day.show(day.start), "2022-09-11T01:00:00-03:00");
        assert_eq!(day.cutoff, day.end);
    }
}
