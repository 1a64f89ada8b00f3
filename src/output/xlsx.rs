//! results.xlsx (`recon run --xlsx`): the run as one Excel workbook. A
//! Summary sheet (rules, inputs, counts and sums per output, the
//! conservation proof), then one sheet per result CSV (Matched, Unmatched,
//! Duplicates, Ignored, and any other result or named report written).
//!
//! Sheets are built from the final CSV bytes, so they hold exactly what the
//! CSVs hold (column templates and masking included). Cells are typed by
//! column name: `line`/`column` as integers, `amount`/`difference` as
//! numbers with a 2-decimal format (more when the value has more), `time` as
//! an Excel date-time in the business zone, `review` as a boolean, the rest
//! as text. Money stays `Decimal` until the cell: the CSV text is parsed
//! straight to the nearest `f64`; when a value has more than 15 significant
//! digits (beyond what a double holds exactly) the sheet gets an extra text
//! column `<name>_exact` with the exact figures. Header rows are frozen,
//! filtered and sized; a sheet over Excel's row limit continues on
//! "Matched (2)", … Sheets are written in constant-memory mode.

use rust_decimal::Decimal;
use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, Workbook, Worksheet, XlsxError};

use super::sheet_words::{self, word};
use super::summary::Summary;
use crate::model::Tally;
use crate::rules::report::Lang;

/// Data rows per sheet (Excel's limit minus the header).
const MAX_ROWS: usize = 1_048_575;

/// Digits an `f64` carries exactly.
const EXACT_DIGITS: u32 = 15;

/// Longest text Excel keeps in a cell.
const MAX_CELL_CHARS: usize = 32_767;

/// Widest column set automatically, in characters.
const MAX_WIDTH: usize = 60;

/// How a column's cells are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CellKind {
    Integer,
    Money,
    Time,
    Boolean,
    Text,
}

fn kind_of(column: &str) -> CellKind {
    match column {
        "line" | "column" => CellKind::Integer,
        "amount" | "difference" => CellKind::Money,
        "time" => CellKind::Time,
        "review" => CellKind::Boolean,
        _ => CellKind::Text,
    }
}

/// Builds the workbook from the summary and the (file name, CSV bytes) of every table.
pub fn workbook(
    summary: &Summary,
    zone: &str,
    tables: &[(&str, &[u8])],
    lang: Lang,
) -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    // The workbook says it was created when the run started, not when it was zipped.
    let started = chrono::DateTime::parse_from_rfc3339(&summary.started_at)
        .ok()
        .and_then(|t| ExcelDateTime::from_timestamp(t.timestamp()).ok());
    if let Some(t) = started {
        book.set_properties(
            &DocProperties::new()
                .set_creation_datetime(&t)
                .set_title(format!("recon results: {}", summary.rules.name)),
        );
    }
    let formats = Formats::new();
    summary_sheet(book.add_worksheet(), summary, zone, tables, &formats, lang)?;
    for (file, bytes) in tables {
        data_sheets(&mut book, file, bytes, &formats, lang)?;
    }
    book.save_to_buffer()
}

struct Formats {
    bold: Format,
    time: Format,
    money: Vec<Format>,
}

impl Formats {
    fn new() -> Formats {
        Formats {
            bold: Format::new().set_bold(),
            time: Format::new().set_num_format("yyyy-mm-dd hh:mm:ss"),
            money: (0..=28)
                .map(|scale| {
                    let decimals = "0".repeat(scale.max(2));
                    Format::new().set_num_format(format!("#,##0.{decimals}"))
                })
                .collect(),
        }
    }

    fn money(&self, value: &Decimal) -> &Format {
        &self.money[(value.scale() as usize).min(28)]
    }
}

/// "matched.csv" → "Matched", "out_of_period.csv" → "Out of period"; the
/// n-th continuation → "Matched (n)".
fn sheet_name(file: &str, part: usize, lang: Lang) -> String {
    let stem = file.strip_suffix(".csv").unwrap_or(file);
    let mut name: String = match sheet_words::sheet(lang, stem) {
        Some(zh) => zh.to_string(),
        None => stem
            .chars()
            .take(24)
            .map(|c| if c == '_' { ' ' } else { c })
            .collect(),
    };
    if let Some(first) = name.get(..1) {
        name = first.to_uppercase() + &name[1..];
    }
    if part > 1 {
        name.push_str(&format!(" ({part})"));
    }
    name
}

fn write_tally(sheet: &mut Worksheet, row: u32, col: u16, t: Tally, f: &Formats) -> Result<(), XlsxError> {
    sheet.write_number(row, col, t.count as f64)?;
    money_cell(sheet, row, col + 1, &t.amount.to_string(), f)?;
    Ok(())
}

fn summary_sheet(
    sheet: &mut Worksheet,
    s: &Summary,
    zone: &str,
    tables: &[(&str, &[u8])],
    f: &Formats,
    lang: Lang,
) -> Result<(), XlsxError> {
    let w = |en| word(lang, en);
    sheet.set_name(w("Summary"))?;
    sheet.write_string_with_format(0, 0, w("recon results"), &f.bold)?;
    let facts = [
        ("Status", w(s.status).to_string()),
        ("Business date", s.business_date.clone().unwrap_or_default()),
        ("Rules", s.rules.name.clone()),
        ("Rules version", s.rules.version.clone()),
        ("Effective from", s.rules.effective_from.to_string()),
        ("Rule file", s.rules.path.clone()),
        ("Rules SHA-256", s.rules.sha256.clone()),
        ("Started", s.started_at.clone()),
        ("Finished", s.finished_at.clone()),
        ("Tool", s.tool.clone()),
        (
            "Times",
            match lang {
                Lang::En => format!("local time in {zone}, as in the CSVs"),
                Lang::Zh => format!("{zone} 当地时间，与 CSV 相同"),
            },
        ),
    ];
    let scope = s.scope.iter().flat_map(|scope| {
        let rows = match lang {
            Lang::En => format!(
                "rows where {}: every count on this sheet is of those rows (conservation was proved over every row before the cut)",
                scope.rows
            ),
            Lang::Zh => format!("仅含 {} 的记录：本表所有计数均为这些记录的（裁剪前已对全部记录证明守恒）", scope.rows),
        };
        [("Scope", rows), ("Status in scope", w(scope.status).to_string())]
    });
    let mut row = 2;
    for (label, value) in facts.into_iter().chain(scope) {
        sheet.write_string_with_format(row, 0, w(label), &f.bold)?;
        sheet.write_string(row, 1, value)?;
        row += 1;
    }
    row += 1;
    let head = [
        "Output",
        "Ledger rows",
        "Ledger amount",
        "Bank rows",
        "Bank amount",
    ];
    for (c, h) in head.iter().enumerate() {
        sheet.write_string_with_format(row, c as u16, w(h), &f.bold)?;
    }
    let (ledger, bank) = (s.conservation["ledger"], s.conservation["bank"]);
    let mut lines: Vec<(String, Tally, Tally)> = vec![(w("input").into(), ledger.input, bank.input)];
    for (file, _) in tables {
        if let Some(t) = s.outputs.get(file) {
            lines.push((file.to_string(), t.ledger, t.bank));
        }
    }
    lines.push((w("outputs total").into(), ledger.outputs, bank.outputs));
    for (label, l, b) in lines {
        row += 1;
        sheet.write_string(row, 0, label)?;
        write_tally(sheet, row, 1, l, f)?;
        write_tally(sheet, row, 3, b, f)?;
    }
    row += 2;
    for (side, c) in &s.conservation {
        let label = match lang {
            Lang::En => format!("Conservation ({side})"),
            Lang::Zh => format!("守恒（{}）", w(side)),
        };
        sheet.write_string_with_format(row, 0, label, &f.bold)?;
        sheet.write_string(row, 1, w(if c.holds { "holds" } else { "FAILS" }))?;
        row += 1;
    }
    row += 1;
    for (c, h) in ["Input", "Path", "SHA-256", "Encoding", "Rows"]
        .iter()
        .enumerate()
    {
        sheet.write_string_with_format(row, c as u16, w(h), &f.bold)?;
    }
    for (side, facts) in &s.inputs {
        row += 1;
        sheet.write_string(row, 0, w(side))?;
        sheet.write_string(row, 1, &facts.path)?;
        sheet.write_string(row, 2, &facts.sha256)?;
        sheet.write_string(row, 3, &facts.encoding)?;
        sheet.write_number(row, 4, facts.records.count as f64)?;
    }
    for (col, width) in [(0, 22), (1, 40), (2, 66), (3, 14), (4, 16)] {
        sheet.set_column_width(col, width)?;
    }
    Ok(())
}

/// Display width of text: CJK and other wide characters count twice.
fn width(text: &str) -> usize {
    text.chars().map(|c| if c.is_ascii() { 1 } else { 2 }).sum()
}

/// What one pass over a table learns: per column, its width and whether it needs an exact copy.
struct Layout {
    header: Vec<String>,
    kinds: Vec<CellKind>,
    widths: Vec<usize>,
    exact: Vec<bool>,
    rows: usize,
}

fn layout(bytes: &[u8]) -> Layout {
    let mut reader = csv::Reader::from_reader(bytes);
    let header: Vec<String> = reader
        .headers()
        .expect("result CSV")
        .iter()
        .map(String::from)
        .collect();
    let kinds: Vec<CellKind> = header.iter().map(|h| kind_of(h)).collect();
    let mut widths: Vec<usize> = header.iter().map(|h| width(h) + 3).collect();
    let mut exact = vec![false; header.len()];
    let mut rows = 0;
    for record in reader.records() {
        let record = record.expect("result CSV");
        rows += 1;
        for (i, cell) in record.iter().enumerate().take(header.len()) {
            let shown = match kinds[i] {
                CellKind::Time => 19,
                CellKind::Money => width(cell) + width(cell) / 3,
                _ => width(cell),
            };
            widths[i] = widths[i].max(shown + 1);
            if kinds[i] == CellKind::Money {
                let digits = Decimal::from_str_exact(cell)
                    .map(|d| {
                        d.normalize()
                            .mantissa()
                            .unsigned_abs()
                            .checked_ilog10()
                            .unwrap_or(0)
                            + 1
                    })
                    .unwrap_or(0);
                exact[i] |= digits > EXACT_DIGITS;
            }
        }
    }
    Layout {
        header,
        kinds,
        widths,
        exact,
        rows,
    }
}

fn data_sheets(
    book: &mut Workbook,
    file: &str,
    bytes: &[u8],
    f: &Formats,
    lang: Lang,
) -> Result<(), XlsxError> {
    let layout = layout(bytes);
    // Sheet column of each CSV column; an `_exact` copy follows its column.
    let mut at = Vec::with_capacity(layout.header.len());
    let mut next = 0u16;
    for exact in &layout.exact {
        at.push(next);
        next += if *exact { 2 } else { 1 };
    }
    let last_col = next.saturating_sub(1);
    let mut reader = csv::Reader::from_reader(bytes);
    let mut records = reader.records();
    let parts = layout.rows.div_ceil(MAX_ROWS).max(1);
    for part in 1..=parts {
        let sheet = book.add_worksheet_with_constant_memory()?;
        sheet.set_name(sheet_name(file, part, lang))?;
        for (i, name) in layout.header.iter().enumerate() {
            sheet.set_column_width(at[i], layout.widths[i].min(MAX_WIDTH) as f64)?;
            let name = sheet_words::column(lang, name);
            sheet.write_string_with_format(0, at[i], &name, &f.bold)?;
            if layout.exact[i] {
                sheet.set_column_width(at[i] + 1, layout.widths[i].min(MAX_WIDTH) as f64)?;
                sheet.write_string_with_format(0, at[i] + 1, format!("{name}_exact"), &f.bold)?;
            }
        }
        sheet.set_freeze_panes(1, 0)?;
        let mut row = 0u32;
        for record in records.by_ref().take(MAX_ROWS) {
            let record = record.expect("result CSV");
            row += 1;
            for (i, cell) in record.iter().enumerate().take(layout.header.len()) {
                write_cell(sheet, row, at[i], layout.kinds[i], cell, f)?;
                if layout.exact[i] && !cell.is_empty() {
                    text_cell(sheet, row, at[i] + 1, cell)?;
                }
            }
        }
        sheet.autofilter(0, 0, row, last_col)?;
    }
    Ok(())
}

fn write_cell(
    sheet: &mut Worksheet,
    row: u32,
    col: u16,
    kind: CellKind,
    cell: &str,
    f: &Formats,
) -> Result<(), XlsxError> {
    if cell.is_empty() {
        return Ok(());
    }
    match kind {
        CellKind::Integer => match cell.parse::<u64>() {
            Ok(n) => sheet.write_number(row, col, n as f64).map(|_| ()),
            Err(_) => text_cell(sheet, row, col, cell),
        },
        CellKind::Money => money_cell(sheet, row, col, cell, f),
        CellKind::Time => match excel_time(cell) {
            Some(t) => sheet
                .write_datetime_with_format(row, col, &t, &f.time)
                .map(|_| ()),
            None => text_cell(sheet, row, col, cell),
        },
        CellKind::Boolean => match cell {
            "true" | "false" => sheet.write_boolean(row, col, cell == "true").map(|_| ()),
            _ => text_cell(sheet, row, col, cell),
        },
        CellKind::Text => text_cell(sheet, row, col, cell),
    }
}

/// A money cell: the exact decimal text parsed to the nearest `f64`, shown with its decimals.
fn money_cell(sheet: &mut Worksheet, row: u32, col: u16, text: &str, f: &Formats) -> Result<(), XlsxError> {
    match (Decimal::from_str_exact(text), text.parse::<f64>()) {
        (Ok(d), Ok(n)) => sheet
            .write_number_with_format(row, col, n, f.money(&d))
            .map(|_| ()),
        _ => text_cell(sheet, row, col, text),
    }
}

fn text_cell(sheet: &mut Worksheet, row: u32, col: u16, text: &str) -> Result<(), XlsxError> {
    if text.chars().count() > MAX_CELL_CHARS {
        let cut: String = text.chars().take(MAX_CELL_CHARS - 1).chain(['…']).collect();
        return sheet.write_string(row, col, cut).map(|_| ());
    }
    sheet.write_string(row, col, text).map(|_| ())
}

/// `2026-11-24T09:15:03+08:00` → the local date-time as written (the offset is the business zone's).
fn excel_time(text: &str) -> Option<ExcelDateTime> {
    let local = chrono::NaiveDateTime::parse_from_str(text.get(..19)?, "%Y-%m-%dT%H:%M:%S").ok()?;
    use chrono::{Datelike, Timelike};
    ExcelDateTime::from_ymd(
        u16::try_from(local.year()).ok()?,
        local.month() as u8,
        local.day() as u8,
    )
    .ok()?
    .and_hms(local.hour() as u16, local.minute() as u8, local.second())
    .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sheet_names_follow_files() {
        assert_eq!(sheet_name("matched.csv", 1, Lang::En), "Matched");
        assert_eq!(sheet_name("matched.csv", 3, Lang::En), "Matched (3)");
        assert_eq!(sheet_name("report-big.csv", 1, Lang::En), "Report-big");
        assert_eq!(sheet_name("out_of_period.csv", 1, Lang::En), "Out of period");
    }

    #[test]
    fn layout_flags_values_beyond_double_precision() {
        let l = layout(b"amount,difference,time\n1234567890123.45,0.01,2026-11-24T09:15:03+08:00\n12345678901234.56,0,\n");
        assert_eq!(l.exact, [true, false, false]);
        assert_eq!(l.kinds, [CellKind::Money, CellKind::Money, CellKind::Time]);
        assert_eq!(l.rows, 2);
    }

    #[test]
    fn times_keep_the_local_clock() {
        let t = excel_time("2026-11-24T23:59:50+08:00").unwrap();
        let expected = ExcelDateTime::from_ymd(2026, 11, 24)
            .unwrap()
            .and_hms(23, 59, 50)
            .unwrap();
        assert_eq!(t.to_excel(), expected.to_excel());
        assert!(excel_time("yesterday").is_none());
    }
}
