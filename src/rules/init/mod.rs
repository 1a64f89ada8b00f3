//! `recon rules init`: a starting rule file drafted from a ledger and a bank
//! file. Each file is read with detection everywhere; a built-in profile is
//! used when its whole header is there, else the column roles are guessed
//! from header names and values. Key columns are ranked by how many values
//! the two files share, and the time offset between rows sharing a key
//! suggests the bank file's time zone. `draft_toml` writes it all down with
//! comments; the draft is loaded like any rule file before it is returned.

mod batch;
mod toml_text;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, Offset, TimeDelta, TimeZone, Utc};
use thiserror::Error;

use super::plan::{self, SidePlan, TimeColumns, DEFAULT_ZONE};
use super::profiles;
use super::schema::SideSpec;
use crate::input::encoding::EncodingChoice;
use crate::input::field::{clean_field, is_placeholder};
use crate::input::guess::guess_columns_with_values;
use crate::input::records::type_rows;
use crate::input::table::TableOptions;
use crate::input::{locate, Located, ReadError};
use crate::model::{Record, Side};
use crate::rules::inspect::locate_with;

/// How many data rows per file are looked at for key candidates.
const KEY_SAMPLE_ROWS: usize = 50_000;

/// Why no draft could be made.
#[derive(Debug, Error)]
pub enum InitError {
    /// A file could not be read.
    #[error(transparent)]
    Read(#[from] ReadError),
    /// Neither a profile nor the header names or values show an amount.
    #[error("{path}:{line}:1: no amount column found (header: {header}); no built-in profile fits and no header name or column of values looks like an amount: write the columns yourself, see rules/default.toml")]
    NoAmount {
        /// The file.
        path: PathBuf,
        /// Its header line.
        line: u64,
        /// Its header names.
        header: String,
    },
    /// A profile or the draft itself is inconsistent (a bug; the draft is not written).
    #[error("{0}")]
    Draft(String),
}

/// One file as the draft reads it.
struct SideDraft {
    side: Side,
    path: PathBuf,
    located: Located,
    plan: SidePlan,
    /// The recognised profile and its confidence.
    profile: Option<(String, f64)>,
    /// Roles found from the values rather than the header names.
    from_values: Vec<&'static str>,
}

/// A pair of columns, one per file, and how many values they share.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyCandidate {
    /// The ledger's column.
    pub ledger: String,
    /// The bank file's column.
    pub bank: String,
    /// Distinct values found in both.
    pub shared: usize,
}

/// Bank time minus ledger time over rows sharing a key, as written (no zones).
#[derive(Debug, Clone, Copy)]
struct Offsets {
    median: TimeDelta,
    min: TimeDelta,
    max: TimeDelta,
    pairs: usize,
}

/// A finished draft: the rule file text and a few lines for the terminal.
#[derive(Debug)]
pub struct Draft {
    /// The rule file.
    pub text: String,
    /// What was decided, one line each.
    pub notes: Vec<String>,
}

/// Drafts a rule file named `name` for reconciling `ledger` against `bank`.
pub fn draft(ledger: &Path, bank: &Path, name: &str, today: NaiveDate) -> Result<Draft, InitError> {
    let (l, b) = (read_side(ledger, Side::Ledger)?, read_side(bank, Side::Bank)?);
    let keys = rank_keys(&l, &b);
    let key = keys.first().cloned();
    let offsets = key.as_ref().and_then(|k| time_offsets(&l, &b, k));
    let zones = ZoneAdvice::new(&l, &b, offsets);
    let business_zone = zones.ledger.parse().unwrap_or(DEFAULT_ZONE);
    let batch = batch::advise(&l, &b, business_zone);
    let text = toml_text::Writer {
        name,
        today,
        ledger: &l,
        bank: &b,
        keys: &keys,
        zones: &zones,
        batch: batch.as_ref(),
    }
    .render();
    let file: super::schema::RuleFile =
        toml::from_str(&text).map_err(|e| InitError::Draft(format!("the draft is not valid TOML: {e}")))?;
    plan::build(&file, "draft", "").map_err(|e| InitError::Draft(format!("the draft does not load: {e}")))?;
    let mut notes = Vec::new();
    for d in [&l, &b] {
        notes.push(match &d.profile {
            Some((p, c)) => format!("{}: profile {p} (confidence {c:.2})", d.side),
            None => format!("{}: columns guessed from header names and values", d.side),
        });
    }
    notes.push(match &key {
        Some(k) => format!("key: {} ↔ {} ({} shared values)", k.ledger, k.bank, k.shared),
        None => "key: none shared; matching by merchant, amount and time only".to_string(),
    });
    notes.push(format!("bank timezone: {} ({})", zones.bank, zones.reason));
    if let Some(a) = &batch {
        notes.push(format!(
            "batches: {} of the statement's {} credits are the nets of the ledger's merchant-day groups ({} rows), paid T+{}: a batch stage",
            a.fits, a.credits, a.rows, a.settle_days
        ));
    }
    Ok(Draft { text, notes })
}

fn read_side(path: &Path, side: Side) -> Result<SideDraft, InitError> {
    let located = locate(path, EncodingChoice::Auto, &TableOptions::default())?;
    let candidates = profiles::recognize(&located.table).map_err(InitError::Draft)?;
    if let Some(c) = candidates.iter().find(|c| c.confidence >= 1.0) {
        let plan = profiles::plan_for(&c.name, None).map_err(InitError::Draft)?;
        let located = locate_with(path, &plan)?;
        return Ok(SideDraft {
            side,
            path: path.into(),
            located,
            plan,
            profile: Some((c.name.clone(), c.confidence)),
            from_values: Vec::new(),
        });
    }
    let table = &located.table;
    let Some((columns, from_values)) = guess_columns_with_values(table) else {
        return Err(InitError::NoAmount {
            path: path.into(),
            line: table.header_line,
            header: table.header.join(", "),
        });
    };
    let spec = SideSpec {
        columns: columns.to_spec(),
        ..SideSpec::default()
    };
    let plan = plan::side(side.name(), &spec, DEFAULT_ZONE).map_err(InitError::Draft)?;
    Ok(SideDraft {
        side,
        path: path.into(),
        located,
        plan,
        profile: None,
        from_values,
    })
}

/// Column pairs sharing values, most shared first; the planned key columns
/// win ties, then header order.
fn rank_keys(l: &SideDraft, b: &SideDraft) -> Vec<KeyCandidate> {
    let (lc, bc) = (key_columns(l), key_columns(b));
    let planned = |d: &SideDraft, name: &str| d.plan.columns.key.as_deref() == Some(name);
    let mut ranked: Vec<(KeyCandidate, bool, usize)> = Vec::new();
    for (li, (ln, lv)) in lc.iter().enumerate() {
        for (bi, (bn, bv)) in bc.iter().enumerate() {
            let shared = lv.intersection(bv).count();
            if shared > 0 {
                let preferred = planned(l, ln) || planned(b, bn);
                let candidate = KeyCandidate {
                    ledger: ln.clone(),
                    bank: bn.clone(),
                    shared,
                };
                ranked.push((candidate, preferred, li * 1000 + bi));
            }
        }
    }
    ranked.sort_by(|a, b| {
        b.0.shared
            .cmp(&a.0.shared)
            .then(b.1.cmp(&a.1))
            .then(a.2.cmp(&b.2))
    });
    ranked.into_iter().map(|(c, _, _)| c).collect()
}

/// Columns that could hold a key: not mapped to another role, named once
/// in the header, and mostly distinct values.
fn key_columns(d: &SideDraft) -> Vec<(String, HashSet<String>)> {
    let table = &d.located.table;
    let mut taken: Vec<String> = d.plan.columns.names();
    if let Some(key) = &d.plan.columns.key {
        taken.retain(|n| n != key);
    }
    let mut columns = Vec::new();
    for (i, name) in table.header.iter().enumerate() {
        let unique_name = table.header.iter().filter(|h| *h == name).count() == 1;
        if name.is_empty() || !unique_name || taken.contains(name) {
            continue;
        }
        let values: Vec<&str> = table
            .rows
            .iter()
            .take(KEY_SAMPLE_ROWS)
            .map(|r| clean_field(r.fields.get(i).unwrap_or("")))
            .filter(|v| !is_placeholder(v))
            .collect();
        let distinct: HashSet<String> = values.iter().map(|v| v.to_string()).collect();
        if !values.is_empty() && distinct.len() * 5 >= values.len() * 4 {
            columns.push((name.clone(), distinct));
        }
    }
    columns
}

/// Types a side with `key` as its key column and every time read as UTC,
/// so times compare as written.
fn records_as_written(d: &SideDraft, key: &str) -> Vec<Record> {
    let mut plan = d.plan.clone();
    plan.columns.key = Some(key.to_string());
    plan.zone = chrono_tz::UTC;
    let mut table = d.located.table.clone();
    type_rows(&mut table, d.side, &plan).map_or_else(|_| Vec::new(), |t| t.records)
}

fn time_offsets(l: &SideDraft, b: &SideDraft, key: &KeyCandidate) -> Option<Offsets> {
    if l.plan.columns.time == TimeColumns::None || b.plan.columns.time == TimeColumns::None {
        return None;
    }
    let (ledger_records, bank_records) = (
        records_as_written(l, &key.ledger),
        records_as_written(b, &key.bank),
    );
    let (ledger, bank) = (unique_key_times(&ledger_records), unique_key_times(&bank_records));
    let mut diffs: Vec<TimeDelta> = bank
        .iter()
        .filter_map(|(k, t)| Some(*t - *ledger.get(k)?))
        .collect();
    if diffs.is_empty() {
        return None;
    }
    diffs.sort();
    let at = |share: usize| diffs[(diffs.len() - 1) * share / 100];
    Some(Offsets {
        median: at(50),
        min: at(5),
        max: at(95),
        pairs: diffs.len(),
    })
}

/// The time of every key that occurs exactly once (repeated keys cannot be paired reliably).
fn unique_key_times(records: &[Record]) -> HashMap<&str, DateTime<Utc>> {
    let mut seen: HashMap<&str, Option<DateTime<Utc>>> = HashMap::new();
    for r in records.iter().filter(|r| !r.key().is_empty()) {
        seen.entry(r.key()).and_modify(|t| *t = None).or_insert(r.time());
    }
    seen.into_iter().filter_map(|(k, t)| Some((k, t?))).collect()
}

/// The zones the draft writes, and why.
struct ZoneAdvice {
    ledger: String,
    bank: String,
    reason: String,
    offsets: Option<Offsets>,
    /// Whole hours the bank's times are shifted from the ledger's.
    shift_hours: i64,
}

impl ZoneAdvice {
    fn new(l: &SideDraft, b: &SideDraft, offsets: Option<Offsets>) -> ZoneAdvice {
        let ledger = l.plan.zone;
        let bank_default = b.plan.zone.name().to_string();
        let Some(o) = offsets else {
            return ZoneAdvice {
                ledger: ledger.name().to_string(),
                bank: bank_default,
                reason: "no rows share a key and a time, so the offset was not measured".into(),
                offsets,
                shift_hours: 0,
            };
        };
        let hours = (o.median.num_minutes() as f64 / 60.0).round() as i64;
        let whole = (o.median - TimeDelta::hours(hours)).num_minutes().abs() <= 15;
        let shift_hours = if whole { hours } else { 0 };
        let (bank, reason) = if shift_hours == 0 {
            (
                if ledger == b.plan.zone {
                    bank_default
                } else {
                    ledger.name().to_string()
                },
                format!(
                    "rows sharing a key are {} apart as written: same zone as the ledger",
                    span(o.median)
                ),
            )
        } else {
            let at = Utc::now();
            let ledger_offset = i64::from(
                ledger
                    .offset_from_utc_datetime(&at.naive_utc())
                    .fix()
                    .local_minus_utc(),
            ) / 3600;
            let bank_hours = ledger_offset + shift_hours;
            let direction = if shift_hours < 0 { "behind" } else { "ahead of" };
            (
                fixed_zone_name(bank_hours),
                format!(
                    "the bank's times are {} {direction} the ledger's ({}): UTC{:+}",
                    span(TimeDelta::hours(shift_hours.abs())),
                    ledger.name(),
                    bank_hours
                ),
            )
        };
        ZoneAdvice {
            ledger: ledger.name().to_string(),
            bank,
            reason,
            offsets,
            shift_hours,
        }
    }

    /// Fallback window (bank minus ledger time, after the zone fix) covering
    /// what was seen, at least 0..120 s and at most a day either way.
    fn window(&self) -> (i64, i64) {
        const DAY: i64 = 86_400;
        match self.offsets {
            Some(o) => {
                let shift = TimeDelta::hours(self.shift_hours);
                let from = (o.min - shift).num_seconds().clamp(-DAY, 0);
                let to = (o.max - shift).num_seconds().clamp(120, DAY);
                (from, to)
            }
            None => (0, 120),
        }
    }
}

/// An IANA name for a whole-hour offset (POSIX sign: Etc/GMT-8 is UTC+8).
fn fixed_zone_name(hours: i64) -> String {
    match hours {
        0 => "UTC".to_string(),
        8 => "Asia/Shanghai".to_string(),
        h => format!("Etc/GMT{:+}", -h),
    }
}

/// `-8h00m15s`-style text.
fn span(d: TimeDelta) -> String {
    let sign = if d < TimeDelta::zero() { "-" } else { "" };
    let s = d.num_seconds().abs();
    format!("{sign}{}h{:02}m{:02}s", s / 3600, s / 60 % 60, s % 60)
}
