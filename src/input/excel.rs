//! Reading `.xlsx` and `.xls` workbooks (with calamine) as tables: the first
//! worksheet that holds data becomes rows of cell text, and the same region
//! detection as for CSV finds the header, preamble and trailer. A row's line
//! is its 1-based spreadsheet row number and a field's number is its
//! 1-based column number (A = 1), so errors point at the cell to look at.
//!
//! Cells become the text a person sees: numbers in their shortest exact
//! decimal form at Excel's 15 significant digits (never through `Decimal`
//! from a float: amounts are parsed from this text like any other), dates as
//! ISO text. This module does not decide what the columns mean.

use std::io::Cursor;
use std::path::Path;

use calamine::{Data, Range, Reader, SheetType, SheetVisible, Xls, Xlsx};
use csv::StringRecord;
use thiserror::Error;

use super::table::{locate_region, DelimiterSource, RawRow, Table, TableError, TableOptions};

/// The workbook formats read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkbookKind {
    /// Office Open XML workbook (a ZIP archive holding `xl/workbook.xml`).
    Xlsx,
    /// Legacy BIFF workbook in an OLE compound file.
    Xls,
}

impl WorkbookKind {
    /// `xlsx` or `xls`.
    pub fn name(self) -> &'static str {
        match self {
            WorkbookKind::Xlsx => "xlsx",
            WorkbookKind::Xls => "xls",
        }
    }
}

/// Which sheet of which kind of workbook a table was read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkbookSource {
    /// The workbook format.
    pub kind: WorkbookKind,
    /// The worksheet's name.
    pub sheet: String,
}

/// Why a workbook could not be read.
#[derive(Debug, Error)]
pub enum ExcelError {
    /// calamine could not open or parse the workbook.
    #[error("cannot read this .{kind} workbook: {message}; open it in a spreadsheet program and save it again, or export the sheet as CSV", kind = .kind.name())]
    Unreadable {
        /// The format tried.
        kind: WorkbookKind,
        /// What calamine said.
        message: String,
    },
    /// Every worksheet is empty (or there are only chart sheets).
    #[error("the .{kind} workbook has no worksheet with data (sheets: {sheets})", kind = .kind.name())]
    NoData {
        /// The format.
        kind: WorkbookKind,
        /// The sheet names, comma-separated.
        sheets: String,
    },
    /// A file named `.xls`/`.xlsx` that is an HTML page, as some banks export.
    #[error("named like a workbook but it is an HTML page (some banks export web pages as .xls): open it in a spreadsheet program and save it as CSV or .xlsx")]
    HtmlPage,
    /// No table in the sheet.
    #[error(transparent)]
    Table(#[from] TableError),
}

const ZIP_MAGIC: &[u8] = b"PK\x03\x04";
const OLE_MAGIC: &[u8] = b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1";

/// The workbook kind the bytes are, by magic number: a ZIP archive holding
/// `xl/workbook.xml` is `.xlsx`, an OLE compound file is `.xls`. Other ZIP
/// archives are not workbooks (the text reader refuses them).
pub fn workbook_kind(bytes: &[u8]) -> Option<WorkbookKind> {
    if bytes.starts_with(ZIP_MAGIC) && contains(bytes, b"xl/workbook.xml") {
        Some(WorkbookKind::Xlsx)
    } else if bytes.starts_with(OLE_MAGIC) {
        Some(WorkbookKind::Xls)
    } else {
        None
    }
}

/// An HTML page saved under a workbook's extension.
pub fn is_html_disguised_as_workbook(path: &Path, bytes: &[u8]) -> bool {
    let workbook_name = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("xls") || e.eq_ignore_ascii_case("xlsx"));
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(512)]).to_ascii_lowercase();
    let head = head.trim_start_matches('\u{feff}').trim_start();
    workbook_name
        && (head.starts_with("<!doctype html") || head.starts_with("<html") || head.starts_with("<table"))
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Reads the first worksheet with data and locates its table.
pub fn read_workbook(
    bytes: Vec<u8>,
    kind: WorkbookKind,
    options: &TableOptions,
) -> Result<(Table, WorkbookSource), ExcelError> {
    let unreadable = |e: &dyn std::fmt::Display| ExcelError::Unreadable {
        kind,
        message: e.to_string(),
    };
    let cursor = Cursor::new(bytes);
    let (sheet, range) = match kind {
        WorkbookKind::Xlsx => {
            let mut book: Xlsx<_> = Xlsx::new(cursor).map_err(|e| unreadable(&e))?;
            first_sheet_with_data(&mut book, kind)?
        }
        WorkbookKind::Xls => {
            let mut book: Xls<_> = Xls::new(cursor).map_err(|e| unreadable(&e))?;
            first_sheet_with_data(&mut book, kind)?
        }
    };
    let (rows, total_lines) = sheet_rows(&range);
    let table = locate_region(rows, total_lines, b',', DelimiterSource::Cells, options)?;
    Ok((table, WorkbookSource { kind, sheet }))
}

/// The first visible worksheet whose used range is not empty.
fn first_sheet_with_data<R, RS>(book: &mut R, kind: WorkbookKind) -> Result<(String, Range<Data>), ExcelError>
where
    R: Reader<RS>,
    R::Error: std::fmt::Display,
    RS: std::io::Read + std::io::Seek,
{
    let sheets: Vec<_> = book
        .sheets_metadata()
        .iter()
        .filter(|s| s.typ == SheetType::WorkSheet)
        .map(|s| (s.name.clone(), s.visible == SheetVisible::Visible))
        .collect();
    // Visible sheets first, in workbook order.
    let mut order: Vec<&(String, bool)> = sheets.iter().filter(|s| s.1).collect();
    order.extend(sheets.iter().filter(|s| !s.1));
    for (name, _) in order {
        let range = book.worksheet_range(name).map_err(|e| ExcelError::Unreadable {
            kind,
            message: format!("sheet \"{name}\": {e}"),
        })?;
        if range.cells().any(|(_, _, c)| !cell_text(c).trim().is_empty()) {
            return Ok((name.clone(), range));
        }
    }
    Err(ExcelError::NoData {
        kind,
        sheets: sheets.iter().map(|s| s.0.as_str()).collect::<Vec<_>>().join(", "),
    })
}

/// Rows of cell text numbered by sheet row; empty columns left of the used
/// range are kept so field numbers are column numbers.
fn sheet_rows(range: &Range<Data>) -> (Vec<RawRow>, u64) {
    let Some((first_row, first_col)) = range.start() else {
        return (Vec::new(), 0);
    };
    let mut rows = Vec::with_capacity(range.height());
    for (i, cells) in range.rows().enumerate() {
        let mut fields: Vec<String> = vec![String::new(); first_col as usize];
        fields.extend(cells.iter().map(cell_text));
        rows.push(RawRow {
            line: u64::from(first_row) + i as u64 + 1,
            fields: StringRecord::from(fields),
        });
    }
    let total_lines = rows.last().map_or(0, |r| r.line);
    (rows, total_lines)
}

/// The text a cell shows: numbers without float noise, dates as ISO text.
pub fn cell_text(cell: &Data) -> String {
    match cell {
        Data::Empty => String::new(),
        Data::String(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) => number_text(*f),
        Data::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_string(),
        Data::DateTime(d) if d.is_duration() => duration_text(d.as_f64()),
        Data::DateTime(d) => {
            let (y, mo, da, h, mi, s, ms) = d.to_ymd_hms_milli();
            date_time_text(d.as_f64(), (y, mo, da), (h, mi, s, ms))
        }
        Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Error(e) => e.to_string(),
    }
}

/// Excel keeps 15 significant digits; a double's shortest round-trip form
/// can show more (0.1 + 0.2 = 0.30000000000000004), so longer forms are
/// rounded to 15 significant digits first. Never exponent notation.
pub fn number_text(value: f64) -> String {
    if !value.is_finite() {
        return value.to_string();
    }
    let shortest = format!("{value}");
    let digits = significant_digits(&shortest);
    let text = if digits > 15 {
        let rounded: f64 = format!("{value:.14e}").parse().unwrap_or(value);
        format!("{rounded}")
    } else {
        shortest
    };
    if text == "-0" {
        "0".to_string()
    } else {
        text
    }
}

/// Digits from the first non-zero digit to the last non-zero digit.
fn significant_digits(text: &str) -> usize {
    let digits: Vec<u8> = text.bytes().filter(u8::is_ascii_digit).collect();
    let first = digits.iter().position(|&d| d != b'0');
    let last = digits.iter().rposition(|&d| d != b'0');
    match (first, last) {
        (Some(f), Some(l)) => l - f + 1,
        _ => 0,
    }
}

/// `2026-11-24`, `2026-11-24 10:15:03` (`.250` when there are milliseconds),
/// or `10:15:03` for a time of day alone (a serial below 1).
fn date_time_text(serial: f64, date: (u16, u8, u8), clock: (u8, u8, u8, u16)) -> String {
    let (y, mo, d) = date;
    let (h, mi, s, ms) = clock;
    let time = if ms == 0 {
        format!("{h:02}:{mi:02}:{s:02}")
    } else {
        format!("{h:02}:{mi:02}:{s:02}.{ms:03}")
    };
    if (0.0..1.0).contains(&serial) {
        time
    } else if (h, mi, s, ms) == (0, 0, 0, 0) {
        format!("{y:04}-{mo:02}-{d:02}")
    } else {
        format!("{y:04}-{mo:02}-{d:02} {time}")
    }
}

/// `[h]:mm:ss` durations as hours:minutes:seconds.
fn duration_text(days: f64) -> String {
    let total_ms = (days * 86_400_000.0).round() as i64;
    let sign = if total_ms < 0 { "-" } else { "" };
    let secs = total_ms.abs() / 1000;
    format!("{sign}{}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60)
}

#[cfg(test)]
mod tests {
    use super::*;
    use calamine::{ExcelDateTime, ExcelDateTimeType};

    #[test]
    fn numbers_are_shown_without_float_noise() {
        assert_eq!(number_text(28.16), "28.16");
        assert_eq!(number_text(0.1 + 0.2), "0.3");
        assert_eq!(number_text(1234.5), "1234.5");
        assert_eq!(number_text(50.0), "50");
        assert_eq!(number_text(-12345.89), "-12345.89");
        assert_eq!(number_text(-0.0), "0");
        assert_eq!(number_text(0.01), "0.01");
        assert_eq!(number_text(1.005 * 1000.0), "1005");
        assert_eq!(number_text(99999999999.99), "99999999999.99");
        assert_eq!(number_text(4.2000000692017103e27), "4200000069201710000000000000");
        assert_eq!(number_text(0.000001), "0.000001");
    }

    #[test]
    fn dates_and_times_are_iso_text() {
        let at = |serial: f64| Data::DateTime(ExcelDateTime::new(serial, ExcelDateTimeType::DateTime, false));
        assert_eq!(cell_text(&at(45943.5)), "2025-10-13 12:00:00");
        assert_eq!(cell_text(&at(45943.0)), "2025-10-13");
        assert_eq!(cell_text(&at(45943.541)), "2025-10-13 12:59:02.400");
        assert_eq!(cell_text(&at(0.75)), "18:00:00");
        let duration = Data::DateTime(ExcelDateTime::new(1.5, ExcelDateTimeType::TimeDelta, false));
        assert_eq!(cell_text(&duration), "36:00:00");
    }

    #[test]
    fn other_cells() {
        assert_eq!(cell_text(&Data::Int(42)), "42");
        assert_eq!(cell_text(&Data::Bool(true)), "TRUE");
        assert_eq!(cell_text(&Data::Empty), "");
        assert_eq!(cell_text(&Data::String("`123".into())), "`123");
        assert_eq!(cell_text(&Data::Error(calamine::CellErrorType::Div0)), "#DIV/0!");
    }

    #[test]
    fn kinds_by_magic() {
        assert_eq!(
            workbook_kind(b"PK\x03\x04....xl/workbook.xml.."),
            Some(WorkbookKind::Xlsx)
        );
        assert_eq!(workbook_kind(b"PK\x03\x04....word/document.xml"), None);
        assert_eq!(workbook_kind(OLE_MAGIC), Some(WorkbookKind::Xls));
        assert_eq!(workbook_kind(b"a,b\n1,2\n"), None);
    }

    #[test]
    fn html_pages_named_xls_are_recognised() {
        assert!(is_html_disguised_as_workbook(
            Path::new("a.XLS"),
            b"  <html><table>"
        ));
        assert!(!is_html_disguised_as_workbook(Path::new("a.csv"), b"<html>"));
        assert!(!is_html_disguised_as_workbook(
            Path::new("a.xls"),
            b"date\tamount\n"
        ));
    }
}
