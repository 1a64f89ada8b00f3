//! Parsing times into absolute instants. Local times are interpreted in the
//! zone the source declares (chrono-tz); a written offset or `Z` wins. The
//! common layouts are parsed by hand from bytes (no format strings on the
//! hot path); a rule file's `time_format` uses chrono's strftime parser.

use chrono::{
    DateTime, Datelike, FixedOffset, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeZone,
    Timelike, Utc,
};
use chrono_tz::Tz;
use thiserror::Error;

use super::field::{clean_field, excerpt, is_placeholder};

/// How times are written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TimeLayout {
    /// Recognise the common layouts.
    Auto,
    /// A chrono strftime pattern, e.g. `%d/%m/%Y %H:%M`.
    Format(String),
}

/// Why a text is not a time.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum TimeError {
    /// Nothing to parse.
    #[error("the time is empty")]
    Empty,
    /// No known layout fits.
    #[error("\"{0}\" is not a time in a known layout (2026-11-24 10:15:03, 2026/11/24 10:15:03, 20261124101503, 2026-11-24T02:15:03Z, 2026-11-24); set time_format in the rule file for other layouts")]
    Unrecognized(String),
    /// The layout fits but the date or time does not exist.
    #[error("\"{0}\" does not exist (no such date or time of day): correct it in the file")]
    Impossible(String),
    /// The local time falls in a daylight-saving gap.
    #[error("\"{text}\" does not exist in {zone}: it falls in the daylight-saving gap; check the file's time zone")]
    DstGap {
        /// The text.
        text: String,
        /// The zone.
        zone: String,
    },
    /// A year no payment file holds: a typo or a damaged value.
    #[error("\"{text}\" is in the year {year}: payment times lie between {} and {}; correct the date", YEARS.start(), YEARS.end())]
    Implausible {
        /// The text.
        text: String,
        /// The year as written.
        year: i32,
    },
    /// `05/01/2023`: day first or month first cannot be told from the value.
    #[error("\"{0}\" could be day/month/year or month/day/year: set time_format = \"%d/%m/%Y\" (day first) or \"%m/%d/%Y\" (month first) in the rule file's columns section")]
    AmbiguousDayMonth(String),
    /// The text does not match the rule file's pattern.
    #[error("\"{text}\" does not match time_format \"{format}\"")]
    Format {
        /// The text.
        text: String,
        /// The pattern.
        format: String,
    },
}

/// The years a payment time may be in (electronic payments started long
/// after 1970; a year past 2199 is a typo).
const YEARS: std::ops::RangeInclusive<i32> = 1970..=2199;

/// A parsed time before zone resolution.
enum Parsed {
    Local(NaiveDateTime),
    Fixed(DateTime<FixedOffset>),
}

/// Parses a time (or date) from one column.
pub fn parse_time(text: &str, layout: &TimeLayout, zone: Tz) -> Result<DateTime<Utc>, TimeError> {
    let text = clean_field(text);
    if text.is_empty() {
        return Err(TimeError::Empty);
    }
    if let (TimeLayout::Auto, Some(seconds)) = (layout, utc_seconds(text, zone)) {
        if let Some(t) = DateTime::from_timestamp(seconds, 0) {
            return Ok(t);
        }
    }
    let parsed = match layout {
        TimeLayout::Auto => parse_auto(text)?,
        TimeLayout::Format(format) => parse_format(text, format)?,
    };
    resolve(parsed, zone, text)
}

/// Parses a date column and a time-of-day column (an empty time is midnight).
pub fn parse_date_time(
    date: &str,
    time: &str,
    layout: &TimeLayout,
    zone: Tz,
) -> Result<DateTime<Utc>, TimeError> {
    let date = clean_field(date);
    let time = clean_field(time);
    if let TimeLayout::Format(format) = layout {
        let joined = format!("{date} {time}");
        return resolve(parse_format(joined.trim(), format)?, zone, &joined);
    }
    if date.is_empty() {
        return Err(TimeError::Empty);
    }
    let Parsed::Local(day) = parse_auto(date)? else {
        return Err(TimeError::Unrecognized(excerpt(date)));
    };
    let clock = if is_placeholder(time) {
        NaiveTime::MIN
    } else {
        parse_clock(time)?
    };
    resolve(
        Parsed::Local(day.date().and_time(clock)),
        zone,
        &format!("{date} {time}"),
    )
}

/// A cleaned time in a fixed-width common layout (`2026-11-24 10:15:03`,
/// `2026/11/24 10:15:03`, `2026-11-24T10:15:03`, `20261124101503`,
/// `2026-11-24`, each with or without `Z`, `+08:00` or `+0800` after the
/// clock), straight to seconds since 1970-01-01 UTC; `None` for any other
/// text, a date or time that does not exist, a year outside `YEARS`, or a
/// local time near a change of `zone`'s offset, which `parse_time` reads
/// the general way. Where it answers, the answer is `parse_time`'s.
pub fn utc_seconds(text: &str, zone: Tz) -> Option<i64> {
    let b = text.as_bytes();
    let digits = |from: usize, n: usize| -> Option<u32> {
        b.get(from..from + n)?.iter().try_fold(0u32, |v, &d| {
            d.is_ascii_digit().then(|| v * 10 + u32::from(d - b'0'))
        })
    };
    let (date, clock, rest) = match b.get(4) {
        Some(&sep @ (b'-' | b'/' | b'.')) if b.get(7) == Some(&sep) => {
            let date = (digits(0, 4)?, digits(5, 2)?, digits(8, 2)?);
            match b.get(10) {
                None => (date, (0, 0, 0), &b[10..]),
                Some(b' ' | b'T') if b.get(13) == Some(&b':') && b.get(16) == Some(&b':') => (
                    date,
                    (digits(11, 2)?, digits(14, 2)?, digits(17, 2)?),
                    b.get(19..)?,
                ),
                _ => return None,
            }
        }
        _ => {
            let date = (digits(0, 4)?, digits(4, 2)?, digits(6, 2)?);
            let clock = (digits(8, 2)?, digits(10, 2)?, digits(12, 2)?);
            (date, clock, b.get(14..)?)
        }
    };
    let ((year, month, day), (hour, minute, second)) = (date, clock);
    let valid = YEARS.contains(&(year as i32))
        && (1..=12).contains(&month)
        && (1..=days_in_month(year, month)).contains(&day)
        && hour < 24
        && minute < 60
        && second < 60;
    if !valid {
        return None;
    }
    let local = days_from_civil(year, month, day) * 86_400 + i64::from(hour * 3600 + minute * 60 + second);
    let offset = match rest {
        [] => zone_offset(zone, local)?,
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), h1, h2, tail @ ..] => {
            let minutes = match tail {
                [b':', m1, m2] | [m1, m2] => [*m1, *m2],
                _ => return None,
            };
            let number = |pair: [u8; 2]| {
                pair.iter()
                    .all(u8::is_ascii_digit)
                    .then(|| i64::from(pair[0] - b'0') * 10 + i64::from(pair[1] - b'0'))
            };
            let (hours, minutes) = (number([*h1, *h2])?, number(minutes)?);
            if hours > 23 || minutes > 59 {
                return None;
            }
            let east = hours * 3600 + minutes * 60;
            if *sign == b'-' {
                -east
            } else {
                east
            }
        }
        _ => return None,
    };
    Some(local - offset)
}

/// Days in `month` of `year` (proleptic Gregorian).
fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to a valid date (H. Hinnant's `days_from_civil`).
fn days_from_civil(year: u32, month: u32, day: u32) -> i64 {
    let year = i64::from(year) - i64::from(month <= 2);
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let shifted_month = i64::from((month + 9) % 12);
    let day_of_year = (153 * shifted_month + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

thread_local! {
    /// The last local hour `zone_offset` found one offset for: zone, hour
    /// (local seconds / 3600) and the offset east of UTC in seconds.
    static HOUR_OFFSET: std::cell::Cell<Option<(Tz, i64, i64)>> = const { std::cell::Cell::new(None) };
}

/// `zone`'s offset east of UTC, in seconds, at local time `local` (seconds
/// since 1970-01-01 on the local clock), when the whole local hour around
/// it has that one offset: its first and last second are each a single
/// instant at the same offset (no two changes of offset lie an hour apart).
/// `None` in an hour with a gap, a repeat or a change, where `resolve`
/// decides. The hour found is kept per thread: rows of a file come in
/// about time order, so most rows ask for the hour asked for last.
fn zone_offset(zone: Tz, local: i64) -> Option<i64> {
    let hour = local.div_euclid(3600);
    if let Some((z, h, offset)) = HOUR_OFFSET.get() {
        if z == zone && h == hour {
            return Some(offset);
        }
    }
    let single = |seconds: i64| match zone
        .offset_from_local_datetime(&DateTime::from_timestamp(seconds, 0)?.naive_utc())
    {
        LocalResult::Single(offset) => Some(i64::from(offset.fix().local_minus_utc())),
        _ => None,
    };
    let offset = single(hour * 3600)?;
    if single(hour * 3600 + 3599)? != offset {
        return None;
    }
    HOUR_OFFSET.set(Some((zone, hour, offset)));
    Some(offset)
}

/// Formats an instant in `zone` as ISO-8601 with offset, e.g.
/// `2026-11-24T10:15:03+08:00`; fractions of a second, when there are any,
/// are kept (`10:15:03.250`), and so are the seconds of an offset that has
/// them (local mean time, `+08:05:43`), so the text reads back as the same instant.
pub fn format_in_zone(t: DateTime<Utc>, zone: Tz) -> String {
    let local = t.with_timezone(&zone);
    let format = if local.offset().fix().local_minus_utc() % 60 == 0 {
        "%Y-%m-%dT%H:%M:%S%.f%:z"
    } else {
        "%Y-%m-%dT%H:%M:%S%.f%::z"
    };
    local.format(format).to_string()
}

/// Writes instants in one zone as `format_in_zone` does, without a format
/// string: the zone's offset is looked up once per hour of UTC (an hour whose
/// start and end have the same offset has it throughout), the digits are
/// written by hand. Years outside 0..=9999, leap seconds and offsets with
/// seconds take chrono's formatter.
#[derive(Debug, Clone)]
pub struct ZonedWriter {
    zone: Tz,
    /// The last UTC hour looked up and its offset in seconds, when constant.
    hour: Option<(i64, i32)>,
}

impl ZonedWriter {
    /// A writer for `zone`.
    pub fn new(zone: Tz) -> ZonedWriter {
        ZonedWriter { zone, hour: None }
    }

    /// Appends `t` as `2026-11-24T10:15:03+08:00` (`10:15:03.250` with a fraction).
    pub fn write(&mut self, t: DateTime<Utc>, out: &mut String) {
        let hour = t.timestamp().div_euclid(3600);
        let offset = match self.hour {
            Some((h, offset)) if h == hour => Some(offset),
            _ => {
                let at = |s: i64| {
                    DateTime::from_timestamp(s, 0)
                        .map(|u| self.zone.offset_from_utc_datetime(&u.naive_utc()).fix())
                };
                let (start, end) = (at(hour * 3600), at(hour * 3600 + 3599));
                let offset = start.filter(|s| Some(*s) == end).map(|o| o.local_minus_utc());
                self.hour = offset.map(|o| (hour, o));
                offset
            }
        };
        let local = offset.and_then(|o| {
            t.naive_utc()
                .checked_add_signed(chrono::TimeDelta::seconds(i64::from(o)))
        });
        match (offset, local) {
            (Some(o), Some(local))
                if o % 60 == 0
                    && (0..=9999).contains(&local.year())
                    && local.nanosecond() < 1_000_000_000 =>
            {
                write_local(local, o, out);
            }
            _ => out.push_str(&format_in_zone(t, self.zone)),
        }
    }
}

fn write_local(local: NaiveDateTime, offset: i32, out: &mut String) {
    let two = |out: &mut String, n: u32| {
        out.push(char::from(b'0' + (n / 10) as u8));
        out.push(char::from(b'0' + (n % 10) as u8));
    };
    let year = local.year() as u32;
    two(out, year / 100);
    two(out, year % 100);
    out.push('-');
    two(out, local.month());
    out.push('-');
    two(out, local.day());
    out.push('T');
    two(out, local.hour());
    out.push(':');
    two(out, local.minute());
    out.push(':');
    two(out, local.second());
    write_fraction(local.nanosecond(), out);
    out.push(if offset < 0 { '-' } else { '+' });
    let minutes = offset.unsigned_abs() / 60;
    two(out, minutes / 60);
    out.push(':');
    two(out, minutes % 60);
}

/// Appends `.250`, `.250100` or `.250100300` as chrono's `%.f` does: nothing
/// for a whole second, else 3, 6 or 9 digits, whichever is exact.
fn write_fraction(nanos: u32, out: &mut String) {
    let (value, digits) = match nanos {
        0 => return,
        n if n % 1_000_000 == 0 => (n / 1_000_000, 3),
        n if n % 1_000 == 0 => (n / 1_000, 6),
        n => (n, 9),
    };
    out.push('.');
    for place in (0..digits).rev() {
        out.push(char::from(b'0' + (value / 10u32.pow(place) % 10) as u8));
    }
}

fn resolve(parsed: Parsed, zone: Tz, text: &str) -> Result<DateTime<Utc>, TimeError> {
    let year = match &parsed {
        Parsed::Fixed(t) => t.year(),
        Parsed::Local(t) => t.year(),
    };
    if !YEARS.contains(&year) {
        return Err(TimeError::Implausible {
            text: excerpt(text),
            year,
        });
    }
    match parsed {
        Parsed::Fixed(t) => Ok(t.with_timezone(&Utc)),
        Parsed::Local(naive) => match zone.from_local_datetime(&naive) {
            LocalResult::Single(t) => Ok(t.with_timezone(&Utc)),
            // A repeated hour (DST fall-back): the earlier instant.
            LocalResult::Ambiguous(earlier, _) => Ok(earlier.with_timezone(&Utc)),
            LocalResult::None => Err(TimeError::DstGap {
                text: excerpt(text),
                zone: zone.name().to_string(),
            }),
        },
    }
}

fn parse_format(text: &str, format: &str) -> Result<Parsed, TimeError> {
    if let Ok(t) = DateTime::parse_from_str(text, format) {
        return Ok(Parsed::Fixed(t));
    }
    if let Ok(t) = NaiveDateTime::parse_from_str(text, format) {
        return Ok(Parsed::Local(t));
    }
    if let Ok(d) = NaiveDate::parse_from_str(text, format) {
        return Ok(Parsed::Local(d.and_time(NaiveTime::MIN)));
    }
    Err(TimeError::Format {
        text: excerpt(text),
        format: format.to_string(),
    })
}

/// A cursor over the bytes of a time text.
struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Cursor<'_> {
    /// Reads between `min` and `max` digits.
    fn number(&mut self, min: usize, max: usize) -> Option<u32> {
        let start = self.at;
        while self.at < self.bytes.len() && self.at - start < max && self.bytes[self.at].is_ascii_digit() {
            self.at += 1;
        }
        let n = self.at - start;
        if n < min {
            return None;
        }
        Some(
            self.bytes[start..self.at]
                .iter()
                .fold(0, |v, b| v * 10 + u32::from(b - b'0')),
        )
    }

    fn eat(&mut self, byte: u8) -> bool {
        if self.peek() == Some(byte) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn done(&self) -> bool {
        self.at == self.bytes.len()
    }
}

/// The common layouts, then the others rewritten into one of them (see `rewrite`).
fn parse_auto(text: &str) -> Result<Parsed, TimeError> {
    match parse_iso_like(text) {
        Ok(parsed) => Ok(parsed),
        Err(TimeError::Unrecognized(_)) => match rewrite(text)? {
            Some(rewritten) => parse_iso_like(&rewritten).map_err(|e| match e {
                TimeError::Impossible(_) => TimeError::Impossible(excerpt(text)),
                _ => TimeError::Unrecognized(excerpt(text)),
            }),
            None => Err(TimeError::Unrecognized(excerpt(text))),
        },
        Err(e) => Err(e),
    }
}

/// Month names (English, three letters or whole) as exports write them.
const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];

/// Rewrites the layouts the fast parser does not know into `YYYY-MM-DD[ rest]`:
/// `2025年01月10日 10:15:03`, repeated spaces, `10.01.2025` (day first, as
/// German and Swiss banks write), `30 Jun 2023` and `10-Jan-2025`, and
/// `24/03/2025` or `03/24/2025` when the first or second part is above 12
/// (`05/01/2023` is ambiguous: an error that says how to set `time_format`).
fn rewrite(text: &str) -> Result<Option<String>, TimeError> {
    let mut s = text
        .replace(['年', '月'], "-")
        .replace('日', " ")
        .replace(['\t', '\u{3000}'], " ");
    while s.contains("  ") {
        s = s.replace("  ", " ");
    }
    let s = s.trim().to_string();
    let (date, rest) = match s.split_once(' ') {
        Some((d, r))
            if d.bytes().any(|b| b.is_ascii_digit()) && !d.bytes().all(|b| b.is_ascii_alphabetic()) =>
        {
            (d.to_string(), r.to_string())
        }
        _ => (s.clone(), String::new()),
    };
    let (date, rest) = match named_month(&s) {
        Some((ymd, rest)) => (ymd, rest),
        None => (date, rest),
    };
    let parts: Vec<&str> = date.split(['.', '/', '-']).collect();
    let numeric = |p: &str| !p.is_empty() && p.len() <= 4 && p.bytes().all(|b| b.is_ascii_digit());
    let joined = |y: &str, m: &str, d: &str| {
        let ymd = format!("{y}-{m:0>2}-{d:0>2}");
        Some(if rest.is_empty() {
            ymd
        } else {
            format!("{ymd} {rest}")
        })
    };
    if parts.len() == 3 && parts.iter().all(|p| numeric(p)) {
        let (a, b, y) = (parts[0], parts[1], parts[2]);
        if parts[0].len() == 4 {
            return Ok(joined(parts[0], parts[1], parts[2]));
        }
        if y.len() != 4 || a.len() > 2 || b.len() > 2 {
            return Ok(None);
        }
        if date.contains('.') || date.contains('-') {
            return Ok(joined(y, b, a));
        }
        let (first, second): (u32, u32) = (a.parse().unwrap_or(0), b.parse().unwrap_or(0));
        return match (first > 12, second > 12) {
            (true, false) => Ok(joined(y, b, a)),
            (false, true) => Ok(joined(y, a, b)),
            (false, false) if first != second => Err(TimeError::AmbiguousDayMonth(excerpt(text))),
            _ => Ok(joined(y, b, a)),
        };
    }
    Ok(if s != text { Some(s) } else { None })
}

/// `30 Jun 2023[ rest]`, `10-Jan-2025[ rest]`, `Jun 30, 2023[ rest]` as
/// (`2023-06-30`, rest).
fn named_month(s: &str) -> Option<(String, String)> {
    let mut words = s.splitn(4, [' ', '-', ',']).filter(|w| !w.is_empty());
    let (a, b, c) = (words.next()?, words.next()?, words.next()?);
    let month = |w: &str| {
        let lower = w.to_ascii_lowercase();
        MONTHS
            .iter()
            .position(|m| lower.len() >= 3 && (lower == *m || lower.starts_with(m) && lower.len() > 3))
            .map(|i| i + 1)
    };
    let number = |w: &str| w.parse::<u32>().ok();
    let (day, month, year) = match (number(a), month(b), month(a)) {
        (Some(d), Some(m), _) => (d, m, c),
        (None, _, Some(m)) => (number(b)?, m, c),
        _ => return None,
    };
    if year.len() != 4 || !year.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let consumed = s.find(year)? + year.len();
    let rest = s[consumed..].trim().to_string();
    Some((format!("{year}-{month:02}-{day:02}"), rest))
}

fn parse_iso_like(text: &str) -> Result<Parsed, TimeError> {
    let unrecognized = || TimeError::Unrecognized(excerpt(text));
    let mut c = Cursor {
        bytes: text.as_bytes(),
        at: 0,
    };
    let (y, m, d) = date_part(&mut c).ok_or_else(unrecognized)?;
    let date = NaiveDate::from_ymd_opt(y as i32, m, d).ok_or_else(|| TimeError::Impossible(excerpt(text)))?;
    if c.done() {
        return Ok(Parsed::Local(date.and_time(NaiveTime::MIN)));
    }
    let compact = c.peek().is_some_and(|b| b.is_ascii_digit());
    if !compact && !c.eat(b' ') && !c.eat(b'T') {
        return Err(unrecognized());
    }
    while c.eat(b' ') {}
    let (h, min, s, nanos) = clock_part(&mut c).ok_or_else(unrecognized)?;
    let time =
        NaiveTime::from_hms_nano_opt(h, min, s, nanos).ok_or_else(|| TimeError::Impossible(excerpt(text)))?;
    let local = date.and_time(time);
    let _ = c.eat(b' ');
    if c.done() {
        return Ok(Parsed::Local(local));
    }
    let offset = offset_part(&mut c)
        .filter(|_| c.done())
        .ok_or_else(unrecognized)?;
    let fixed = offset
        .from_local_datetime(&local)
        .single()
        .ok_or_else(unrecognized)?;
    Ok(Parsed::Fixed(fixed))
}

/// `YYYY-M-D`, `YYYY/M/D` or `YYYYMMDD`.
fn date_part(c: &mut Cursor) -> Option<(u32, u32, u32)> {
    let year = c.number(4, 4)?;
    for sep in [b'-', b'/', b'.'] {
        if c.eat(sep) {
            let month = c.number(1, 2)?;
            if !c.eat(sep) {
                return None;
            }
            return Some((year, month, c.number(1, 2)?));
        }
    }
    Some((year, c.number(2, 2)?, c.number(2, 2)?))
}

/// `H:MM[:SS[.fff]]` or `HHMMSS`.
fn clock_part(c: &mut Cursor) -> Option<(u32, u32, u32, u32)> {
    let start = c.at;
    let hour = c.number(1, 2)?;
    if !c.eat(b':') {
        c.at = start;
        let (h, m, s) = (c.number(2, 2)?, c.number(2, 2)?, c.number(2, 2)?);
        return Some((h, m, s, 0));
    }
    let minute = c.number(2, 2)?;
    let second = if c.eat(b':') { c.number(2, 2)? } else { 0 };
    let mut nanos = 0;
    if c.eat(b'.') {
        let before = c.at;
        let fraction = c.number(1, 9)?;
        nanos = fraction * 10u32.pow(9 - (c.at - before) as u32);
    }
    Some((hour, minute, second, nanos))
}

/// `Z`, `+08:00`, `+0800`, `-05`, `+08:05:43`.
fn offset_part(c: &mut Cursor) -> Option<FixedOffset> {
    if c.eat(b'Z') || c.eat(b'z') {
        return FixedOffset::east_opt(0);
    }
    let sign = if c.eat(b'+') {
        1
    } else if c.eat(b'-') {
        -1
    } else {
        return None;
    };
    let hours = c.number(2, 2)?;
    let _ = c.eat(b':');
    let minutes = if c.done() { 0 } else { c.number(2, 2)? };
    let seconds = if c.eat(b':') { c.number(2, 2)? } else { 0 };
    FixedOffset::east_opt(sign * (hours * 3600 + minutes * 60 + seconds) as i32)
}

/// A time of day alone: `17:57:17`, `9:05`, `123456`.
fn parse_clock(text: &str) -> Result<NaiveTime, TimeError> {
    let mut c = Cursor {
        bytes: text.as_bytes(),
        at: 0,
    };
    let (h, m, s, nanos) = clock_part(&mut c)
        .filter(|_| c.done())
        .ok_or_else(|| TimeError::Unrecognized(excerpt(text)))?;
    NaiveTime::from_hms_nano_opt(h, m, s, nanos).ok_or_else(|| TimeError::Impossible(excerpt(text)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SH: Tz = chrono_tz::Asia::Shanghai;

    /// Zones with no change, with daylight saving, and with half-hour changes.
    const ZONES: [Tz; 5] = [
        Tz::UTC,
        SH,
        chrono_tz::America::New_York,
        chrono_tz::Europe::London,
        chrono_tz::Australia::Lord_Howe,
    ];

    /// `utc_seconds`' answer and the general reading's (`parse_auto`, then `resolve`).
    fn fast_and_general(text: &str, zone: Tz) -> (Option<i64>, Option<i64>) {
        let general = parse_auto(text)
            .and_then(|parsed| resolve(parsed, zone, text))
            .ok()
            .filter(|t| t.timestamp_subsec_nanos() == 0)
            .map(|t| t.timestamp());
        (utc_seconds(text, zone), general)
    }

    /// The layouts `utc_seconds` reads, and an offset to write after the clock.
    fn written(fields: [u32; 6], layout: u8, suffix: &str) -> String {
        let [y, m, d, h, mi, s] = fields;
        match layout {
            0 => format!("{y:04}-{m:02}-{d:02} {h:02}:{mi:02}:{s:02}{suffix}"),
            1 => format!("{y:04}/{m:02}/{d:02} {h:02}:{mi:02}:{s:02}{suffix}"),
            2 => format!("{y:04}-{m:02}-{d:02}T{h:02}:{mi:02}:{s:02}{suffix}"),
            3 => format!("{y:04}{m:02}{d:02}{h:02}{mi:02}{s:02}{suffix}"),
            _ => format!("{y:04}.{m:02}.{d:02}"),
        }
    }

    const SUFFIXES: [&str; 7] = ["", "", "Z", "+08:00", "-0530", "+23:59", " +08:00"];

    proptest::proptest! {
        #[test]
        fn utc_seconds_agree_with_the_general_reading(
            fields in (1960u32..2210, 0u32..14, 0u32..33, 0u32..26, 0u32..62, 0u32..62),
            layout in 0u8..5,
            suffix in 0usize..SUFFIXES.len(),
            zone in 0usize..ZONES.len(),
        ) {
            let (y, m, d, h, mi, s) = fields;
            let text = written([y, m, d, h, mi, s], layout, SUFFIXES[suffix]);
            let (fast, general) = fast_and_general(&text, ZONES[zone]);
            if fast.is_some() {
                proptest::prop_assert_eq!(fast, general, "{} in {}", text, ZONES[zone]);
            }
            // Every time read, as a record holds it (`Record::time`).
            if let Ok(t) = parse_time(&text, &TimeLayout::Auto, ZONES[zone]) {
                let held = crate::model::Stamp::new(Some(t));
                proptest::prop_assert_eq!(held.and_then(|s| s.get()), Some(t), "{}", text);
            }
            let ordinary = NaiveDate::from_ymd_opt(y as i32, m, d).is_some()
                && YEARS.contains(&(y as i32)) && h < 24 && mi < 60 && s < 60 && suffix < 6;
            if ordinary && ZONES[zone] == Tz::UTC {
                proptest::prop_assert!(fast.is_some(), "{} not taken fast", text);
            }
        }

        #[test]
        fn utc_seconds_agree_around_changes_of_offset(
            day in 0usize..5,
            clock in (0u32..4, 0u32..60, 0u32..60),
            layout in 0u8..4,
        ) {
            // New York's and London's 2026 changes, Lord Howe's half-hour ones.
            let days = [
                (chrono_tz::America::New_York, [2026, 3, 8]),
                (chrono_tz::America::New_York, [2026, 11, 1]),
                (chrono_tz::Europe::London, [2026, 3, 29]),
                (chrono_tz::Australia::Lord_Howe, [2026, 4, 5]),
                (chrono_tz::Australia::Lord_Howe, [2026, 10, 4]),
            ];
            let (zone, [y, m, d]) = days[day];
            let text = written([y, m, d, clock.0, clock.1, clock.2], layout, "");
            let (fast, general) = fast_and_general(&text, zone);
            if fast.is_some() {
                proptest::prop_assert_eq!(fast, general, "{} in {}", text, zone);
            }
        }
    }

    #[test]
    fn utc_seconds_leave_gaps_and_repeats_to_the_general_reading() {
        let york = chrono_tz::America::New_York;
        // In the gap, in the repeated hour, then ordinary hours on both sides.
        assert_eq!(utc_seconds("2026-03-08 02:30:00", york), None);
        assert_eq!(utc_seconds("2026-11-01 01:30:00", york), None);
        assert_eq!(utc_seconds("2026-03-08 03:30:00", york), Some(1_772_955_000));
        assert_eq!(utc_seconds("2026-11-01 02:30:00", york), Some(1_793_518_200));
        assert_eq!(utc_seconds("2026-11-24 10:15:03", SH), Some(1_795_486_503));
        assert_eq!(utc_seconds("20261124101503+0800", york), Some(1_795_486_503));
        assert_eq!(utc_seconds("2026-11-24T02:15:03Z", SH), Some(1_795_486_503));
        for text in [
            "2026-02-29 10:00:00",
            "1969-12-31 23:59:59",
            "2026-11-24 10:15",
            "2026-11-24 10:15:03.5",
        ] {
            assert_eq!(utc_seconds(text, SH), None, "{text}");
        }
    }

    fn utc(text: &str) -> String {
        parse_time(text, &TimeLayout::Auto, SH).unwrap().to_rfc3339()
    }

    #[test]
    fn common_layouts_in_shanghai() {
        let want = "2026-11-24T02:15:03+00:00";
        for text in [
            "2026-11-24 10:15:03",
            "2026/11/24 10:15:03",
            "2026-11-24T10:15:03",
            "20261124101503",
            "20261124 101503",
            "2026-11-24T02:15:03Z",
            "2026-11-24T10:15:03+08:00",
            "2026-11-24 10:15:03 +0800",
            " 2026-11-24 10:15:03\t",
        ] {
            assert_eq!(utc(text), want, "{text}");
        }
        assert_eq!(utc("2026/1/5 9:05:03"), "2026-01-05T01:05:03+00:00");
        assert_eq!(utc("2026-11-24 10:15"), "2026-11-24T02:15:00+00:00");
        assert_eq!(utc("2026-11-24 10:15:03.250"), "2026-11-24T02:15:03.250+00:00");
    }

    #[test]
    fn other_layouts_exports_write() {
        let want = "2025-01-10T02:15:03+00:00";
        for text in [
            "2025年01月10日 10:15:03",
            "2025/01/10  10:15:03",
            "20250110 101503",
            "10.01.2025 10:15:03",
            "10 Jan 2025 10:15:03",
            "10-Jan-2025 10:15:03",
        ] {
            assert_eq!(utc(text), want, "{text}");
        }
        assert_eq!(utc("30 Jun 2023"), "2023-06-29T16:00:00+00:00");
        assert_eq!(utc("30.06.2023"), "2023-06-29T16:00:00+00:00");
        assert_eq!(utc("2023年6月30日"), "2023-06-29T16:00:00+00:00");
        assert_eq!(utc("30/06/2023"), "2023-06-29T16:00:00+00:00");
        assert_eq!(utc("06/30/2023"), "2023-06-29T16:00:00+00:00");
        assert_eq!(utc("05/05/2023"), "2023-05-04T16:00:00+00:00");
        let ambiguous = parse_time("05/01/2023", &TimeLayout::Auto, SH).unwrap_err();
        assert_eq!(ambiguous, TimeError::AmbiguousDayMonth("05/01/2023".into()));
        assert!(ambiguous.to_string().contains("time_format = \"%d/%m/%Y\""));
        assert!(matches!(
            parse_time("31.02.2023", &TimeLayout::Auto, SH),
            Err(TimeError::Impossible(_))
        ));
        assert!(matches!(
            parse_time("Total 12", &TimeLayout::Auto, SH),
            Err(TimeError::Unrecognized(_))
        ));
    }

    #[test]
    fn dates_alone_are_local_midnight() {
        for text in ["2026-11-24", "2026/11/24", "20261124"] {
            assert_eq!(utc(text), "2026-11-23T16:00:00+00:00", "{text}");
        }
    }

    #[test]
    fn same_instant_from_local_and_utc_sources() {
        let local = parse_time("2026-11-24 23:59:50", &TimeLayout::Auto, SH).unwrap();
        let channel = parse_time("2026-11-24 15:59:50", &TimeLayout::Auto, Tz::UTC).unwrap();
        assert_eq!(local, channel);
        assert_eq!(format_in_zone(channel, SH), "2026-11-24T23:59:50+08:00");
        assert_eq!(format_in_zone(channel, Tz::UTC), "2026-11-24T15:59:50+00:00");
        let fraction = parse_time("2026-11-24 10:15:03.250", &TimeLayout::Auto, SH).unwrap();
        assert_eq!(format_in_zone(fraction, SH), "2026-11-24T10:15:03.250+08:00");
    }

    #[test]
    fn two_columns() {
        let t = parse_date_time("2025-08-22", "17:57:17", &TimeLayout::Auto, SH).unwrap();
        assert_eq!(format_in_zone(t, SH), "2025-08-22T17:57:17+08:00");
        let abc = parse_date_time("20240101", "123456", &TimeLayout::Auto, SH).unwrap();
        assert_eq!(format_in_zone(abc, SH), "2024-01-01T12:34:56+08:00");
        let no_time = parse_date_time("20240103", "", &TimeLayout::Auto, SH).unwrap();
        assert_eq!(format_in_zone(no_time, SH), "2024-01-03T00:00:00+08:00");
        let formatted = parse_date_time(
            "24/03/2025",
            "9:05",
            &TimeLayout::Format("%d/%m/%Y %H:%M".into()),
            SH,
        );
        assert_eq!(
            format_in_zone(formatted.unwrap(), SH),
            "2025-03-24T09:05:00+08:00"
        );
    }

    #[test]
    fn explicit_formats() {
        let day_first = TimeLayout::Format("%d/%m/%Y".into());
        assert_eq!(
            format_in_zone(parse_time("24/03/2025", &day_first, SH).unwrap(), SH),
            "2025-03-24T00:00:00+08:00"
        );
        let err = parse_time("2025-03-24", &day_first, SH).unwrap_err();
        assert!(matches!(err, TimeError::Format { .. }), "{err}");
    }

    #[test]
    fn impossible_and_unknown() {
        assert_eq!(
            parse_time("2026-02-30 10:00:00", &TimeLayout::Auto, SH),
            Err(TimeError::Impossible("2026-02-30 10:00:00".into()))
        );
        assert!(matches!(
            parse_time("2026-02-29", &TimeLayout::Auto, SH),
            Err(TimeError::Impossible(_))
        ));
        assert!(parse_time("2024-02-29", &TimeLayout::Auto, SH).is_ok());
        assert!(matches!(
            parse_time("2026-11-24 25:00:00", &TimeLayout::Auto, SH),
            Err(TimeError::Impossible(_))
        ));
        assert!(matches!(
            parse_time("yesterday", &TimeLayout::Auto, SH),
            Err(TimeError::Unrecognized(_))
        ));
        assert!(matches!(
            parse_time("2026-11-24 10:15:03 junk", &TimeLayout::Auto, SH),
            Err(TimeError::Unrecognized(_))
        ));
        assert_eq!(parse_time(" ", &TimeLayout::Auto, SH), Err(TimeError::Empty));
    }

    #[test]
    fn years_outside_payment_times_are_refused() {
        // Found by fuzzing: year 26 in Shanghai is local mean time (+08:05:43).
        let typo = parse_time("0026-11-2 05:30:03 +0800", &TimeLayout::Auto, SH).unwrap_err();
        assert_eq!(
            typo,
            TimeError::Implausible {
                text: "0026-11-2 05:30:03 +0800".into(),
                year: 26
            }
        );
        assert!(typo.to_string().contains("between 1970 and 2199"));
        assert!(parse_time("1970-01-01", &TimeLayout::Auto, Tz::UTC).is_ok());
        assert!(parse_time("2200-01-01", &TimeLayout::Auto, SH).is_err());
        let format = TimeLayout::Format("%Y/%m/%d".into());
        assert!(matches!(
            parse_time("0099/01/01", &format, SH),
            Err(TimeError::Implausible { year: 99, .. })
        ));
    }

    #[test]
    fn offsets_with_seconds_read_back() {
        let lmt = parse_time(
            "1900-06-01 12:00:00",
            &TimeLayout::Format("%Y-%m-%d %H:%M:%S".into()),
            SH,
        );
        assert!(lmt.is_err(), "before 1970");
        let monrovia = chrono_tz::Africa::Monrovia;
        let t = parse_time("1971-06-01 12:00:00", &TimeLayout::Auto, monrovia).unwrap();
        let written = format_in_zone(t, monrovia);
        assert_eq!(written, "1971-06-01T12:00:00-00:44:30");
        assert_eq!(parse_time(&written, &TimeLayout::Auto, SH).unwrap(), t);
    }

    #[test]
    fn zoned_writer_agrees_with_chrono() {
        let ny = chrono_tz::America::New_York;
        let mut instants: Vec<DateTime<Utc>> = Vec::new();
        // Across New York's 2026 fall-back hour, minute by minute, and odd years.
        let start = parse_time("2026-11-01 04:00:00", &TimeLayout::Auto, Tz::UTC).unwrap();
        instants.extend((0..240).map(|m| start + chrono::TimeDelta::minutes(m)));
        // Years no payment time has (parse_time refuses them), but writing must not care.
        for (y, m, d) in [(1, 1, 1), (1900, 6, 30), (9999, 12, 31)] {
            let day = NaiveDate::from_ymd_opt(y, m, d).unwrap();
            instants.push(day.and_hms_opt(23, 59, 59).unwrap().and_utc());
        }
        instants.push(instants[10] + chrono::TimeDelta::milliseconds(1500));
        for nanos in [1, 120, 250_000, 250_100, 7_000_000, 999_999_999] {
            instants.push(instants[20] + chrono::TimeDelta::nanoseconds(nanos));
        }
        for zone in [SH, ny, Tz::UTC, chrono_tz::Asia::Kolkata] {
            let mut writer = ZonedWriter::new(zone);
            for &t in &instants {
                let mut out = String::new();
                writer.write(t, &mut out);
                assert_eq!(out, format_in_zone(t, zone), "{t} in {zone}");
            }
        }
    }

    #[test]
    fn daylight_saving() {
        let ny = chrono_tz::America::New_York;
        let gap = parse_time("2026-03-08 02:30:00", &TimeLayout::Auto, ny).unwrap_err();
        assert!(matches!(gap, TimeError::DstGap { .. }));
        assert!(gap.to_string().contains("America/New_York"));
        // 01:30 happens twice on 2026-11-01; the earlier (EDT, UTC-4) is taken.
        let twice = parse_time("2026-11-01 01:30:00", &TimeLayout::Auto, ny).unwrap();
        assert_eq!(twice.to_rfc3339(), "2026-11-01T05:30:00+00:00");
    }
}
