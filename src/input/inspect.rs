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

use super::guess::guess_columns;
use super::records::type_rows;
use super::table::{DelimiterSource, SkippedLines, TableOptions};
use super::time::{format_in_zone, TimeLayout};
use super::{encoding, locate, Located, ReadError};
use crate::model::Side;
use crate::rules::plan::{self, AmountColumns, ColumnPlan, SidePlan, TimeColumns, DEFAULT_ZONE};
use crate::rules::{self, RulesError};

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
    /// Header names.
    pub header: Vec<String>,
    /// Skipped line runs.
    pub skipped: Vec<SkippedLines>,
    /// Physical lines in the file.
    pub total_lines: u64,
    /// Where the mapping came from.
    pub mapping_source: String,
    /// Column roles, when there is a mapping.
    pub mapping: Option<BTreeMap<&'static str, String>>,
    /// Data rows.
    pub rows: u64,
    /// Rows that typed cleanly; `None` when there is no column mapping to type them with.
    pub records: Option<u64>,
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

/// A plan for a file with no rule file: detection everywhere, guessed columns.
pub fn guessed_plan(options: &InspectOptions) -> Result<SidePlan, InspectError> {
    let zone = match &options.timezone {
        Some(z) => plan::zone("--timezone", z).map_err(InspectError::Setting)?,
        None => DEFAULT_ZONE,
    };
    let mut sp = SidePlan {
        encoding: encoding::EncodingChoice::Auto,
        delimiter: None,
        header_line: None,
        zone,
        amount_decimals: None,
        flip_sign: false,
        columns: ColumnPlan {
            key: None,
            amount: AmountColumns::Single {
                amount: String::new(),
                direction: None,
            },
            time: TimeColumns::None,
            time_layout: TimeLayout::Auto,
            merchant: None,
            kind: None,
            carry: Vec::new(),
        },
        values: plan::default_values(),
        cleaners: Vec::new(),
    };
    apply_overrides(&mut sp, options)?;
    Ok(sp)
}

/// Reads `path` the way `sp` says and locates its table.
pub fn locate_with(path: &Path, sp: &SidePlan, known_columns: bool) -> Result<Located, ReadError> {
    let options = TableOptions {
        delimiter: sp.delimiter,
        header_line: sp.header_line,
        expected_columns: if known_columns {
            sp.columns.names()
        } else {
            Vec::new()
        },
    };
    locate(path, sp.encoding, &options)
}

/// Inspects one file.
pub fn inspect(path: &Path, options: &InspectOptions) -> Result<Inspection, InspectError> {
    let (from_rules, mapping_source) = side_plan(options)?;
    let known = from_rules.is_some();
    let mut sp = match from_rules {
        Some(sp) => sp,
        None => guessed_plan(options)?,
    };
    let mut located = locate_with(path, &sp, known)?;
    let table = &located.table;
    let mut report = Inspection {
        file: path.display().to_string(),
        size: located.size,
        sha256: located.sha256.clone(),
        encoding: located.encoding.name().to_string(),
        encoding_detection: located.detection.to_string(),
        delimiter: delimiter_name(table.delimiter),
        delimiter_source: match table.delimiter_source {
            DelimiterSource::Explicit => "explicit",
            DelimiterSource::Sniffed => "sniffed",
        },
        header_line: table.header_line,
        header: table.header.clone(),
        skipped: table.skipped.clone(),
        total_lines: table.total_lines,
        mapping_source: String::new(),
        mapping: None,
        rows: table.rows.len() as u64,
        records: None,
        amount_total: None,
        income_total: None,
        expense_total: None,
        time_from: None,
        time_to: None,
        problems: Vec::new(),
    };
    if !known {
        match guess_columns(table) {
            Some(columns) => sp.columns = columns,
            None => {
                report.mapping_source = "none: no amount column recognised; pass --rules R --side S".into();
                return Ok(report);
            }
        }
    }
    report.mapping = Some(describe(&sp.columns));
    let file = path.display().to_string();
    match type_rows(&mut located.table, options.side, &sp) {
        Err(e) => report
            .problems
            .push(format!("{file}:{}:1: {e}", report.header_line)),
        Ok(typed) => {
            for (e, _) in &typed.rejected {
                report
                    .problems
                    .push(format!("{file}:{}:{}: {}", e.line, e.column, e.message));
            }
            report.records = Some(typed.records.len() as u64);
            let amounts = typed.records.iter().map(|r| r.amount);
            report.amount_total = Some(amounts.clone().sum());
            report.income_total = Some(amounts.clone().filter(|a| a.is_sign_positive()).sum());
            report.expense_total = Some(amounts.filter(|a| a.is_sign_negative()).sum());
            let times = typed.records.iter().filter_map(|r| r.time);
            report.time_from = times.clone().min().map(|t| format_in_zone(t, sp.zone));
            report.time_to = times.max().map(|t| format_in_zone(t, sp.zone));
        }
    }
    mapping_source.clone_into(&mut report.mapping_source);
    Ok(report)
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
        let _ = writeln!(
            s,
            "header      line {}: {}",
            self.header_line,
            self.header.join(" | ")
        );
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
        let _ = writeln!(s, "mapping     {}", self.mapping_source);
        for (role, column) in self.mapping.iter().flatten() {
            let _ = writeln!(s, "  {role:<12}{column}");
        }
        match self.records {
            Some(records) => {
                let _ = writeln!(s, "rows        {} ({records} read cleanly)", self.rows);
            }
            None => {
                let _ = writeln!(s, "rows        {} (not typed: no column mapping)", self.rows);
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
        if let (Some(from), Some(to)) = (&self.time_from, &self.time_to) {
            let _ = writeln!(s, "time range  {from} .. {to}");
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
