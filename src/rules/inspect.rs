//! Inspecting one file for `recon check` (and preparing `recon convert`):
//! how it was decoded, where the table is, which columns play which role
//! (from a rule file or guessed), totals, time range and every problem.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;
use thiserror::Error;

use super::plan::{self, AmountColumns, ColumnPlan, SidePlan, TimeColumns, DEFAULT_ZONE};
use super::profiles::{self, Candidate};
use super::{self as rules, RulesError};
use crate::input::records::{MappingError, AMOUNT_NOTE};
use crate::input::status::type_by_status;
use crate::input::table::{DelimiterSource, SkippedLines};
use crate::input::tally::Tally;
use crate::input::time::{format_in_zone, TimeLayout};
use crate::input::{encoding, field, locate, settle, table, Located, ReadError};
use crate::model::Side;

/// What the caller knows about the file.
#[derive(Debug, Clone)]
pub struct InspectOptions {
    /// Rule file or directory with the column mapping.
    pub rules: Option<PathBuf>,
    /// Which side of the rule file the file is.
    pub side: Side,
    /// Business date for choosing a rule version.
    pub date: Option<NaiveDate>,
    /// Forced encoding label.
    pub encoding: Option<String>,
    /// Forced delimiter.
    pub delimiter: Option<String>,
    /// Zone for guessed times.
    pub timezone: Option<String>,
    /// Read with this built-in profile, or `auto` for the recognised one.
    pub profile: Option<String>,
}

/// Which built-in profiles fit the file.
#[derive(Debug, Clone, Serialize)]
pub struct Recognition {
    /// The profile `--profile auto` reads the file with, if any.
    pub recognized: Option<String>,
    /// Its confidence (1.0: every header name of the profile found; 0.5: roles guessed).
    pub confidence: f64,
    /// Line of the header it was recognised on.
    pub line: Option<u64>,
    /// Every profile, best first.
    pub considered: Vec<Candidate>,
}

/// Why a file could not be inspected at all.
#[derive(Debug, Error)]
pub enum InspectError {
    /// The rules could not be loaded.
    #[error(transparent)]
    Rules(#[from] RulesError),
    /// The file could not be read.
    #[error(transparent)]
    Read(#[from] ReadError),
    /// A command-line setting is invalid.
    #[error("{0}")]
    Setting(String),
}

/// Everything `recon check` reports.
#[derive(Debug, Clone, Serialize)]
pub struct Inspection {
    /// The file.
    pub file: String,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256 of its bytes.
    pub sha256: String,
    /// Encoding used.
    pub encoding: String,
    /// How it was decided.
    pub encoding_detection: String,
    /// Delimiter name.
    pub delimiter: String,
    /// `sniffed` or `explicit`.
    pub delimiter_source: &'static str,
    /// Header line.
    pub header_line: u64,
    /// Header names (`1`, `2`, … when the file has no header row).
    pub header: Vec<String>,
    /// The file has no header row: columns are named by position.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub headerless: bool,
    /// Skipped line runs.
    pub skipped: Vec<SkippedLines>,
    /// Physical lines in the file.
    pub total_lines: u64,
    /// The profile the file was read with, if any.
    pub profile: Option<String>,
    /// Which profiles fit (when no rule file is given).
    pub recognition: Option<Recognition>,
    /// Where the mapping came from.
    pub mapping_source: String,
    /// Column roles, when there is a mapping.
    pub mapping: Option<BTreeMap<&'static str, String>>,
    /// Data rows.
    pub rows: u64,
    /// Rows that typed cleanly and count (payments and refunds); `None` when
    /// there is no column mapping to type them with.
    pub records: Option<u64>,
    /// Rows set aside by their status (closed, failed).
    pub ignored_by_status: u64,
    /// Sum of amounts.
    pub amount_total: Option<Decimal>,
    /// Sum of money in.
    pub income_total: Option<Decimal>,
    /// Sum of money out.
    pub expense_total: Option<Decimal>,
    /// Earliest time, in the file's zone.
    pub time_from: Option<String>,
    /// Latest time.
    pub time_to: Option<String>,
    /// Totals by currency, when any row is in another currency than CNY.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub currencies: BTreeMap<String, Decimal>,
    /// What was done to read the file that a reader should know (unwrapped
    /// `="…"` cells, decimal commas, annotated amounts, …).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// Problems as `FILE:LINE:COL: message`.
    pub problems: Vec<String>,
}

/// The reading settings for a side: from the rule file, else defaults plus overrides.
pub fn side_plan(options: &InspectOptions) -> Result<(Option<SidePlan>, String), InspectError> {
    let mut source = "guessed from header names".to_string();
    let mut side_plan = match &options.rules {
        Some(path) => {
            let date = options.date.unwrap_or_else(|| chrono::Local::now().date_naive());
            let plan = rules::load(path, date)?;
            source = format!(
                "rules {} {} ({}), side {}",
                plan.identity.name, plan.identity.version, plan.identity.path, options.side
            );
            Some(match options.side {
                Side::Ledger => plan.ledger,
                Side::Bank => plan.bank,
            })
        }
        None => None,
    };
    if let Some(sp) = &mut side_plan {
        apply_overrides(sp, options)?;
    }
    Ok((side_plan, source))
}

fn apply_overrides(sp: &mut SidePlan, options: &InspectOptions) -> Result<(), InspectError> {
    if let Some(label) = &options.encoding {
        let enc = encoding::encoding_from_label(label)
            .map_err(|e| InspectError::Setting(format!("--encoding: {e}")))?;
        sp.encoding = encoding::EncodingChoice::Fixed(enc);
    }
    if let Some(d) = &options.delimiter {
        sp.delimiter =
            Some(plan::parse_delimiter(d).map_err(|e| InspectError::Setting(format!("--delimiter: {e}")))?);
    }
    Ok(())
}

/// A plan for a file with no rule file: detection everywhere, column roles
/// guessed from the header once it is located.
pub fn guessed_plan(options: &InspectOptions) -> Result<SidePlan, InspectError> {
    let zone = match &options.timezone {
        Some(z) => plan::zone("--timezone", z).map_err(InspectError::Setting)?,
        None => DEFAULT_ZONE,
    };
    let mut sp = plan::all_guessed(zone);
    apply_overrides(&mut sp, options)?;
    Ok(sp)
}

/// Reads `path` the way `sp` says and locates its table (looking for the
/// header by the mapped names unless the roles are still to be guessed).
pub fn locate_with(path: &Path, sp: &SidePlan) -> Result<Located, ReadError> {
    locate(path, sp.encoding, &crate::input::table_options(sp))
}

/// The plan `check` reads a file with when no rule file is given: a
/// profile (`--profile NAME`, or the recognised one with `--profile auto`),
/// else guessed roles. Also returns where the mapping comes from, which
/// profiles were considered, and the located table when it can be reused.
fn plan_without_rules(
    path: &Path,
    options: &InspectOptions,
) -> Result<(SidePlan, String, Recognition, Option<Located>), InspectError> {
    let guessed = guessed_plan(options)?;
    let located = locate_with(path, &guessed)?;
    let considered = profiles::recognize(&located.table).map_err(InspectError::Setting)?;
    let best = profiles::pick(&considered);
    let recognition = Recognition {
        recognized: best.map(|c| c.name.clone()),
        confidence: best.map_or(0.0, |c| c.confidence),
        line: best.and_then(|c| c.line),
        considered: considered.clone(),
    };
    let chosen = match options.profile.as_deref() {
        None => None,
        Some("auto") => recognition.recognized.clone(),
        Some(name) => Some(name.to_string()),
    };
    let Some(name) = chosen else {
        let source = match options.profile {
            Some(_) => "guessed from header names (no profile recognised)",
            None => "guessed from header names",
        };
        return Ok((guessed, source.to_string(), recognition, Some(located)));
    };
    let mut sp = profiles::plan_for(&name, options.timezone.as_deref())
        .map_err(|e| InspectError::Setting(format!("--profile: {e}")))?;
    apply_overrides(&mut sp, options)?;
    let source = if options.profile.as_deref() == Some("auto") {
        format!(
            "profile {name} (recognised, confidence {:.2})",
            recognition.confidence
        )
    } else {
        format!("profile {name}")
    };
    Ok((sp, source, recognition, None))
}

/// Inspects one file: in one pass over a text file's rows when its roles
/// can be decided on a sample (see `streamed`), else on the whole table.
pub fn inspect(path: &Path, options: &InspectOptions) -> Result<Inspection, InspectError> {
    if options.profile.is_none() {
        if let Some(report) = super::streamed::inspect(path, options)? {
            return Ok(report);
        }
    }
    inspect_whole(path, options)
}

/// Inspects one file with its whole table in memory: the reference the
/// one-pass inspection is tested against.
pub(super) fn inspect_whole(path: &Path, options: &InspectOptions) -> Result<Inspection, InspectError> {
    let (from_rules, rules_source) = side_plan(options)?;
    let by_rules = from_rules.is_some();
    let (mut sp, mut mapping_source, recognition, reuse) = match from_rules {
        Some(sp) => (sp, rules_source, None, None),
        None => {
            let (sp, source, recognition, located) = plan_without_rules(path, options)?;
            (sp, source, Some(recognition), located)
        }
    };
    let mut located = match reuse {
        Some(located) => located,
        None => locate_with(path, &sp)?,
    };
    let mut settled = settle(&sp, options.side.name(), &located.table);
    // A file a profile recognises is read with it when the roles cannot be
    // guessed from the row taken for the header (a workbook's generic
    // Column1… titles above the bill's own header).
    if let (Err(_), Some(recognised)) = (&settled, recognised_profile(&recognition, options, by_rules)) {
        let mut profiled =
            profiles::plan_for(&recognised, options.timezone.as_deref()).map_err(InspectError::Setting)?;
        apply_overrides(&mut profiled, options)?;
        located = locate_with(path, &profiled)?;
        mapping_source = format!(
            "profile {recognised} (recognised, confidence 1.00; no amount column in the row taken for the header)"
        );
        settled = settle(&profiled, options.side.name(), &located.table);
        sp = profiled;
    }
    let rows = located.table.rows.len() as u64;
    let report = Inspection::located(path, &located, recognition, rows, formula_cells(&located.table));
    let by = Mapped {
        by_rules,
        headerless: located.table.headerless,
        profiled: sp.profile.is_some(),
        source: mapping_source,
    };
    Ok(finish(report, settled, by, options, |sp, note_at| {
        let sorted = type_by_status(&mut located.table, options.side, sp)?;
        let mut tally = Tally::default();
        for record in &sorted.typed.records {
            tally.add_record(record, note_at);
        }
        tally.rejected = sorted.typed.rejected.into_iter().map(|(e, _)| e).collect();
        Ok((tally, sorted.set_aside.len() as u64))
    }))
}

/// How a file's column mapping was come by.
pub(super) struct Mapped {
    /// From a rule file.
    pub(super) by_rules: bool,
    /// The file has no header row.
    pub(super) headerless: bool,
    /// The plan settled came from a profile.
    pub(super) profiled: bool,
    /// Where the mapping comes from, as the report says it.
    pub(super) source: String,
}

/// The report of a located file finished with its mapping and typed rows:
/// `typed` types the rows with the plan it is given (the settled one with
/// `amount_note` carried, as value `note_at`) into totals and a count of
/// rows set aside by status.
pub(super) fn finish(
    mut report: Inspection,
    settled: Result<SidePlan, String>,
    by: Mapped,
    options: &InspectOptions,
    typed: impl FnOnce(&SidePlan, usize) -> Result<(Tally, u64), MappingError>,
) -> Inspection {
    let sp = match settled {
        Ok(sp) => sp,
        Err(_) if !by.by_rules && !by.profiled => {
            report.mapping_source = "none: no amount column recognised; pass --rules R --side S".into();
            return report;
        }
        Err(message) => {
            report.mapping_source = by.source;
            report
                .problems
                .push(format!("{}:{}:1: {message}", report.file, report.header_line));
            return report;
        }
    };
    report.mapping_source =
        if by.headerless && !by.by_rules && sp.profile.as_deref().is_none_or(|p| p == "generic-bank") {
            "no header: columns by position, roles guessed from the values".to_string()
        } else {
            by.source
        };
    let (sp, mapping, note_at) = typing_plan(sp, by.by_rules, options);
    report.mapping = Some(mapping);
    report.profile = sp.profile.clone();
    if sp.decimal_comma {
        report
            .notes
            .push("amounts are written with decimal commas (1.234,56 is 1234.56): ';' between fields and every amount ends in a comma and two digits".into());
    }
    match typed(&sp, note_at) {
        Err(e) => report.problems.push(format!(
            "{}:{}:{}: {e}",
            report.file,
            report.header_line,
            e.column()
        )),
        Ok((tally, ignored)) => report.add_tally(tally, ignored, sp.zone),
    }
    report
}

/// The settled plan as rows are typed with it for the report: `amount_note`
/// carried (its place is returned too) and, for guessed roles, times in UTC
/// when the time column's name says so; also the mapping as the report shows it.
pub(super) fn typing_plan(
    mut sp: SidePlan,
    by_rules: bool,
    options: &InspectOptions,
) -> (SidePlan, BTreeMap<&'static str, String>, usize) {
    let mut mapping = describe(&sp.columns);
    if !by_rules && sp.profile.is_none() && options.timezone.is_none() && names_utc(&sp.columns.time) {
        sp.zone = chrono_tz::UTC;
        mapping.insert("timezone", "UTC (the time column's name says so)".into());
    }
    if !sp.columns.carry.iter().any(|c| c == AMOUNT_NOTE) {
        sp.columns.carry.push(AMOUNT_NOTE.to_string());
    }
    let note_at = sp
        .columns
        .carry
        .iter()
        .position(|c| c == AMOUNT_NOTE)
        .unwrap_or_default();
    (sp, mapping, note_at)
}

/// The profile to fall back on: one that fits the whole header, when no
/// rule file or profile was named.
fn recognised_profile(
    recognition: &Option<Recognition>,
    options: &InspectOptions,
    by_rules: bool,
) -> Option<String> {
    let r = recognition.as_ref()?;
    (!by_rules && options.profile.is_none() && r.confidence >= 1.0)
        .then(|| r.recognized.clone())
        .flatten()
}

/// Whether the time column's name says its times are UTC (`交易时间(UTC)`, `Time (GMT)`).
fn names_utc(time: &TimeColumns) -> bool {
    let says = |name: &str| {
        let upper = name.to_uppercase();
        upper.contains("UTC") || upper.contains("GMT")
    };
    match time {
        TimeColumns::None => false,
        TimeColumns::One(t) => says(t),
        TimeColumns::DateAndTime { date, time } => says(date) || says(time),
    }
}

impl Inspection {
    /// The facts of a located file, before any typing: its table has `rows`
    /// data rows, `formula_cells` of their cells written as `="…"`.
    pub(super) fn located(
        path: &Path,
        located: &Located,
        recognition: Option<Recognition>,
        rows: u64,
        formula_cells: u64,
    ) -> Inspection {
        let table = &located.table;
        Inspection {
            file: path.display().to_string(),
            size: located.size,
            sha256: located.sha256.clone(),
            encoding: located.encoding_label().to_string(),
            encoding_detection: match &located.workbook {
                Some(w) => format!("{}, sheet \"{}\"", located.detection, w.sheet),
                None => located.detection.to_string(),
            },
            delimiter: match table.delimiter_source {
                DelimiterSource::Cells => "none".to_string(),
                _ => delimiter_name(table.delimiter),
            },
            delimiter_source: match table.delimiter_source {
                DelimiterSource::Explicit => "explicit",
                DelimiterSource::Sniffed => "sniffed",
                DelimiterSource::Cells => "cells",
            },
            header_line: table.header_line,
            header: table.header.clone(),
            headerless: table.headerless,
            skipped: table.skipped.clone(),
            total_lines: table.total_lines,
            profile: None,
            recognition,
            mapping_source: String::new(),
            mapping: None,
            rows,
            records: None,
            ignored_by_status: 0,
            amount_total: None,
            income_total: None,
            expense_total: None,
            time_from: None,
            time_to: None,
            currencies: BTreeMap::new(),
            notes: (formula_cells > 0)
                .then(|| format!("{formula_cells} cell(s) written as Excel text formulas (=\"…\") read as the text inside"))
                .into_iter()
                .collect(),
            problems: Vec::new(),
        }
    }

    /// Totals, time range and problems of the typed rows, `ignored` more set aside by status.
    fn add_tally(&mut self, tally: Tally, ignored: u64, zone: chrono_tz::Tz) {
        for e in &tally.rejected {
            self.problems
                .push(format!("{}:{}:{}: {}", self.file, e.line, e.column, e.message));
        }
        self.records = Some(tally.records);
        self.ignored_by_status = ignored;
        self.amount_total = Some(tally.amount_total);
        self.income_total = Some(tally.income_total);
        self.expense_total = Some(tally.expense_total);
        self.time_from = tally.time_from.map(|t| format_in_zone(t, zone));
        self.time_to = tally.time_to.map(|t| format_in_zone(t, zone));
        let mut currencies: BTreeMap<String, Decimal> = BTreeMap::new();
        for (currency, total) in tally.currencies {
            *currencies.entry(currency.to_string()).or_default() += total;
        }
        if currencies.len() > 1 || currencies.keys().any(|c| c != "CNY") {
            self.currencies = currencies;
        }
        if !tally.amount_notes.is_empty() {
            self.notes.push(format!(
                "{} amount(s) carry a note after the number, read as the amount and kept as amount_note: {}",
                tally.amount_notes.len(),
                tally.amount_notes.join("; ")
            ));
        }
    }
}

/// How many cells of the table's rows are wrapped as Excel text formulas.
fn formula_cells(table: &table::Table) -> u64 {
    let wrapped = |f: &str| field::formula_text(f.trim()).is_some();
    table
        .rows
        .iter()
        .map(|r| r.fields.iter().filter(|f| wrapped(f)).count() as u64)
        .sum()
}

/// `comma`, `tab`, `semicolon`, `pipe`, or the character.
pub fn delimiter_name(d: u8) -> String {
    match d {
        b',' => "comma".into(),
        b'\t' => "tab".into(),
        b';' => "semicolon".into(),
        b'|' => "pipe".into(),
        other => format!("'{}'", char::from(other)),
    }
}

/// Column roles as `role → header name`.
pub fn describe(c: &ColumnPlan) -> BTreeMap<&'static str, String> {
    let mut m = BTreeMap::new();
    if let Some(k) = &c.key {
        m.insert("key", k.clone());
    }
    match &c.amount {
        AmountColumns::Single { amount, direction } => {
            m.insert("amount", amount.clone());
            if let Some(d) = direction {
                m.insert("direction", d.clone());
            }
        }
        AmountColumns::DebitCredit { debit, credit } => {
            m.insert("debit", debit.clone());
            m.insert("credit", credit.clone());
        }
    }
    match &c.time {
        TimeColumns::None => {}
        TimeColumns::One(t) => {
            m.insert("time", t.clone());
        }
        TimeColumns::DateAndTime { date, time } => {
            m.insert("date", date.clone());
            m.insert("time", time.clone());
        }
    }
    if let TimeLayout::Format(f) = &c.time_layout {
        m.insert("time_format", f.clone());
    }
    if let Some(x) = &c.merchant {
        m.insert("merchant", x.clone());
    }
    if let Some(x) = &c.kind {
        m.insert("type", x.clone());
    }
    if let Some(x) = &c.status {
        m.insert("status", x.clone());
    }
    if let Some(x) = &c.refund_amount {
        m.insert("refund_amount", x.clone());
    }
    if let Some(x) = &c.currency {
        m.insert("currency", x.clone());
    }
    m
}

/// The JSON document: the report (in field order), then the number of
/// problems before `--max-problems` cut the list.
#[derive(Serialize)]
struct JsonReport<'a> {
    #[serde(flatten)]
    report: &'a Inspection,
    problems_total: usize,
}

impl Inspection {
    /// The report as one JSON document (problems cut to `max`, 0 = all).
    pub fn to_json(&self, max: usize) -> String {
        let mut shown = self.clone();
        let total = shown.problems.len();
        if max > 0 {
            shown.problems.truncate(max);
        }
        let document = JsonReport {
            report: &shown,
            problems_total: total,
        };
        serde_json::to_string_pretty(&document).expect("report serializes")
    }

    /// The report as lines for a person (problems cut to `max`, 0 = all).
    pub fn to_text(&self, max: usize) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "file        {} ({} bytes)", self.file, self.size);
        let _ = writeln!(s, "encoding    {} ({})", self.encoding, self.encoding_detection);
        let _ = writeln!(s, "delimiter   {} ({})", self.delimiter, self.delimiter_source);
        if self.headerless {
            let _ = writeln!(
                s,
                "header      none: columns by position (1..{})",
                self.header.len()
            );
        } else {
            let _ = writeln!(
                s,
                "header      line {}: {}",
                self.header_line,
                self.header.join(" | ")
            );
        }
        if self.skipped.is_empty() {
            let _ = writeln!(s, "skipped     none");
        }
        for run in &self.skipped {
            let lines = if run.first == run.last {
                format!("line {}", run.first)
            } else {
                format!("lines {}-{}", run.first, run.last)
            };
            let _ = writeln!(s, "skipped     {lines} ({}): {}", run.reason, run.sample);
        }
        if let Some(r) = &self.recognition {
            write_recognition(&mut s, r);
        }
        let _ = writeln!(s, "mapping     {}", self.mapping_source);
        let width = self
            .mapping
            .iter()
            .flatten()
            .map(|(role, _)| role.len())
            .max()
            .unwrap_or(0)
            .max(9);
        for (role, column) in self.mapping.iter().flatten() {
            let _ = writeln!(s, "  {role:<width$} {column}");
        }
        match self.records {
            None => {
                let why = match self.mapping {
                    None => "no column mapping",
                    Some(_) => "the mapping does not fit the header, see problems",
                };
                let _ = writeln!(s, "rows        {} (not typed: {why})", self.rows);
            }
            Some(records) if self.ignored_by_status == 0 => {
                let _ = writeln!(s, "rows        {} ({records} read cleanly)", self.rows);
            }
            Some(records) => {
                let _ = writeln!(
                    s,
                    "rows        {} ({} read cleanly: {records} counted, {} ignored by status)",
                    self.rows,
                    records + self.ignored_by_status,
                    self.ignored_by_status
                );
            }
        }
        if let Some(total) = self.amount_total {
            let _ = writeln!(
                s,
                "amount      {total} (in {}, out {})",
                self.income_total.unwrap_or_default(),
                self.expense_total.unwrap_or_default()
            );
        }
        if !self.currencies.is_empty() {
            let by: Vec<String> = self.currencies.iter().map(|(c, t)| format!("{c} {t}")).collect();
            let _ = writeln!(s, "currencies  {}", by.join(", "));
        }
        if let (Some(from), Some(to)) = (&self.time_from, &self.time_to) {
            let _ = writeln!(s, "time range  {from} .. {to}");
        }
        for note in &self.notes {
            let _ = writeln!(s, "note        {note}");
        }
        if self.problems.is_empty() {
            let _ = writeln!(s, "problems    none");
        } else {
            let _ = writeln!(s, "problems    {}", self.problems.len());
            let limit = if max == 0 { self.problems.len() } else { max };
            for p in self.problems.iter().take(limit) {
                let _ = writeln!(s, "{p}");
            }
            if self.problems.len() > limit {
                let _ = writeln!(
                    s,
                    "… {} more (use --max-problems 0 to list all)",
                    self.problems.len() - limit
                );
            }
        }
        s
    }
}

/// The `profile` and `considered` lines of the text report.
fn write_recognition(s: &mut String, r: &Recognition) {
    match &r.recognized {
        Some(name) => {
            let line = match r.line {
                Some(0) => ", no header row".to_string(),
                Some(l) => format!(", header line {l}"),
                None => String::new(),
            };
            let _ = writeln!(s, "profile     {name} (confidence {:.2}{line})", r.confidence);
        }
        None => {
            let _ = writeln!(s, "profile     none recognised");
        }
    }
    let detailed = r
        .considered
        .iter()
        .enumerate()
        .filter(|(i, c)| *i < 3 || c.confidence >= 0.5)
        .count();
    let (some, rest) = r.considered.split_at(detailed);
    for c in some {
        let missing = if c.missing.is_empty() {
            String::new()
        } else {
            let shown: Vec<&str> = c.missing.iter().take(3).map(String::as_str).collect();
            let more = c.missing.len().saturating_sub(shown.len());
            let more = if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            };
            format!(" (missing {}{more})", shown.join(", "))
        };
        let _ = writeln!(s, "considered  {:<24}{:.2}{missing}", c.name, c.confidence);
    }
    if !rest.is_empty() {
        let scores: Vec<String> = rest
            .iter()
            .map(|c| format!("{} {:.2}", c.name, c.confidence))
            .collect();
        let _ = writeln!(s, "considered  also {}", scores.join(", "));
    }
}
