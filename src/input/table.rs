//! Finding the table inside decoded text: the delimiter, the header row, and
//! the preamble and trailer lines around the data rows. Field values are not
//! interpreted here (see `records`), only located.

use std::fmt;

use csv::StringRecord;
use rayon::prelude::*;
use thiserror::Error;

use super::field::clean_field;
use super::sniff::sniff_delimiter;

/// How many leading rows are examined to find the header.
pub(crate) const SNIFF_ROWS: usize = 400;

/// The longest field accepted, in bytes. Real statement fields are short
/// (a memo of a few hundred characters at most); a longer one means a damaged
/// file or a quote that swallowed many rows.
pub const MAX_FIELD_BYTES: usize = 64 * 1024;

/// Settings that override detection.
#[derive(Debug, Clone, Default)]
pub struct TableOptions {
    /// Field delimiter; `None` sniffs it.
    pub delimiter: Option<u8>,
    /// 1-based physical line of the header row; `None` finds it.
    pub header_line: Option<u64>,
    /// Column names the caller will look up; the first row holding all of them is the header.
    pub expected_columns: Vec<String>,
    /// `Some(false)`: the file has no header row; `None`: detect it (a file
    /// whose first row looks like data and that has no header row is read
    /// without one).
    pub header: Option<bool>,
}

/// One data row: where it starts in the file and its raw fields.
#[derive(Debug, Clone)]
pub struct RawRow {
    /// 1-based physical line where the row starts.
    pub line: u64,
    /// Fields as written (unquoted by the CSV reader, otherwise untouched).
    pub fields: StringRecord,
}

/// Why lines were left out of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SkipReason {
    /// Lines above the header (titles, account details, notes).
    Preamble,
    /// Lines below the data (totals, counts, rules, notes).
    Trailer,
    /// Blank lines inside the data.
    Blank,
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SkipReason::Preamble => "preamble",
            SkipReason::Trailer => "trailer",
            SkipReason::Blank => "blank",
        })
    }
}

/// A run of consecutive physical lines that were skipped for one reason.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SkippedLines {
    /// First skipped line (1-based).
    pub first: u64,
    /// Last skipped line (inclusive).
    pub last: u64,
    /// Why they were skipped.
    pub reason: SkipReason,
    /// The first non-blank skipped line's text, shortened, so a reader can recognise it.
    pub sample: String,
}

/// How the delimiter was decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DelimiterSource {
    /// Given by the rule file or command line.
    Explicit,
    /// Sniffed from the rows that look like the table.
    Sniffed,
    /// None: the rows come from spreadsheet cells.
    Cells,
}

/// The located table: header, data rows and what was skipped around them.
#[derive(Debug, Clone)]
pub struct Table {
    /// The field delimiter.
    pub delimiter: u8,
    /// How the delimiter was decided.
    pub delimiter_source: DelimiterSource,
    /// 1-based line of the header row (0 when the file has none).
    pub header_line: u64,
    /// Header names, cleaned of padding and spreadsheet guards; `1`, `2`, …
    /// when the file has no header row.
    pub header: Vec<String>,
    /// The file has no header row: columns are named by their 1-based position.
    pub headerless: bool,
    /// Data rows in file order.
    pub rows: Vec<RawRow>,
    /// Skipped line runs in file order.
    pub skipped: Vec<SkippedLines>,
    /// Number of physical lines in the text.
    pub total_lines: u64,
}

/// Why no table could be located.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum TableError {
    /// Nothing but whitespace.
    #[error("the file is empty: expected a header row and data rows; check the path, or export the statement again")]
    Empty,
    /// No row looks like a header.
    #[error("no header row found: no row has the table's column names{hint}")]
    NoHeader {
        /// Extra advice (which names were looked for).
        hint: String,
    },
    /// `header_line` points at no row.
    #[error("header_line = {0} does not point at a row of the file")]
    HeaderLineMissing(u64),
    /// A quote opened and never closed.
    #[error("line {line}: a quoted field opened here is never closed (unbalanced '\"'); fix the quote or export the file again")]
    UnbalancedQuote {
        /// Line where the quoted field starts.
        line: u64,
    },
    /// A field far longer than any real statement field.
    #[error("line {line}, field {column}: a field of {bytes} bytes, longer than the {MAX_FIELD_BYTES} any statement field needs: the file is damaged here (or a quote opened here swallowed the rows after it); fix it or export the file again")]
    FieldTooLong {
        /// Line where the row starts.
        line: u64,
        /// 1-based field number.
        column: usize,
        /// The field's length in bytes.
        bytes: usize,
    },
    /// A row the CSV reader could not read.
    #[error("line {line}: {message}")]
    Csv {
        /// Line of the bad row.
        line: u64,
        /// What the reader said.
        message: String,
    },
}

impl TableError {
    /// The physical line the error is about, when there is one.
    pub fn line(&self) -> Option<u64> {
        match self {
            TableError::UnbalancedQuote { line }
            | TableError::Csv { line, .. }
            | TableError::FieldTooLong { line, .. } => Some(*line),
            _ => None,
        }
    }

    /// `LINE:COL` of the error (1-based; the column is a field number, 1
    /// when the error is about a whole line or the whole file).
    pub fn position(&self) -> String {
        let column = match self {
            TableError::FieldTooLong { column, .. } => *column,
            _ => 1,
        };
        format!("{}:{column}", self.line().unwrap_or(1))
    }
}

/// Locates the table in `text`, on one thread: the reference definition
/// that `chunked::read_rows` and `chunked::read_typed` (what recon runs) are
/// tested against, row for row.
pub fn read_table(text: &str, options: &TableOptions) -> Result<Table, TableError> {
    let text = normalize_line_ends(text);
    let total_lines = count_lines(&text);
    let (delimiter, delimiter_source) = match options.delimiter {
        Some(d) => (d, DelimiterSource::Explicit),
        None => (sniff_delimiter(&text), DelimiterSource::Sniffed),
    };
    let rows = parse_rows(&text, delimiter)?;
    locate_region(rows, total_lines, delimiter, delimiter_source, options)
}

/// Locates header, data rows, preamble and trailer among rows already split
/// into fields (by the CSV reader, or cell by cell from a spreadsheet);
/// `total_lines` is the number of physical lines (or sheet rows).
pub fn locate_region(
    rows: Vec<RawRow>,
    total_lines: u64,
    delimiter: u8,
    delimiter_source: DelimiterSource,
    options: &TableOptions,
) -> Result<Table, TableError> {
    if rows.iter().all(is_blank_row) {
        return Err(TableError::Empty);
    }
    check_field_lengths(&rows)?;
    let Some(header_index) = find_header_or_none(&rows, options)? else {
        return Ok(headerless_region(rows, total_lines, delimiter, delimiter_source));
    };
    let header: Vec<String> = rows[header_index]
        .fields
        .iter()
        .map(|f| clean_field(f).to_string())
        .collect();
    check_unbalanced_quote(&rows[header_index..], header.len())?;
    let data_end = find_trailer_start(&rows, header_index + 1, header.len());
    let skipped = skipped_lines(&rows, header_index, data_end, total_lines);
    let header_line = rows[header_index].line;
    let mut rows = rows;
    rows.truncate(data_end);
    let data: Vec<RawRow> = rows
        .drain(header_index + 1..)
        .filter(|r| !is_blank_row(r))
        .collect();
    Ok(Table {
        delimiter,
        delimiter_source,
        header_line,
        header,
        headerless: false,
        rows: data,
        skipped,
        total_lines,
    })
}

/// The table of a file without a header row: every row from the first
/// filled one to the trailer is data, the columns are named `1`, `2`, ….
fn headerless_region(
    rows: Vec<RawRow>,
    total_lines: u64,
    delimiter: u8,
    delimiter_source: DelimiterSource,
) -> Table {
    let first = rows.iter().position(|r| !is_blank_row(r)).unwrap_or(0);
    let width = dominant_width(&rows[..rows.len().min(SNIFF_ROWS)]);
    let data_end = first + trailer_start_of(&rows[first..], width);
    let mut runs = SkipRuns::new(rows[first].line, rows[data_end.max(first + 1) - 1].line + 1);
    let mut next_line = 1;
    for (i, row) in rows.iter().enumerate() {
        runs.add_blank(next_line, row.line);
        let end_line = row.line + newlines_in(&row.fields);
        if !(first..data_end).contains(&i) || is_blank_row(row) {
            runs.add_row(row, end_line);
        }
        next_line = end_line + 1;
    }
    runs.add_blank(next_line, total_lines + 1);
    let mut rows = rows;
    rows.truncate(data_end);
    let data: Vec<RawRow> = rows.drain(first..).filter(|r| !is_blank_row(r)).collect();
    Table {
        delimiter,
        delimiter_source,
        header_line: 0,
        header: (1..=width).map(|i| i.to_string()).collect(),
        headerless: true,
        rows: data,
        skipped: runs.finish(),
        total_lines,
    }
}

/// The header row's index, or `None` for a file without one: when the rule
/// file says so (`header = false`), or when no row looks like a header and
/// the first filled row looks like data (a number or date among its fields,
/// as wide as the table).
pub(crate) fn find_header_or_none(
    rows: &[RawRow],
    options: &TableOptions,
) -> Result<Option<usize>, TableError> {
    if options.header == Some(false) {
        return Ok(None);
    }
    match find_header(rows, options) {
        Ok(i) => Ok(Some(i)),
        Err(TableError::NoHeader { .. })
            if options.header.is_none() && options.header_line.is_none() && looks_headerless(rows) =>
        {
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// The first filled row is data: as wide as most rows (at least two
/// fields), with a numeric field, and most rows are that wide.
fn looks_headerless(rows: &[RawRow]) -> bool {
    let window = &rows[..rows.len().min(SNIFF_ROWS)];
    let width = dominant_width(window);
    let Some(first) = window.iter().find(|r| !is_blank_row(r)) else {
        return false;
    };
    let wide = window.iter().filter(|r| r.fields.len() == width).count();
    width >= 2
        && first.fields.len() == width
        && first.fields.iter().map(clean_field).any(looks_numeric)
        && wide * 2 > window.iter().filter(|r| !is_blank_row(r)).count()
}

/// Turns old-Mac CR-only line ends into LF so line numbers count physical lines.
pub(crate) fn normalize_line_ends(text: &str) -> std::borrow::Cow<'_, str> {
    if text.contains('\r') && !text.contains('\n') {
        std::borrow::Cow::Owned(text.replace('\r', "\n"))
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

pub(crate) fn count_lines(text: &str) -> u64 {
    let newlines: u64 = text
        .as_bytes()
        .par_chunks(1 << 22)
        .map(|piece| memchr::memchr_iter(b'\n', piece).count() as u64)
        .sum();
    if text.is_empty() || text.ends_with('\n') {
        newlines
    } else {
        newlines + 1
    }
}

fn parse_rows(text: &str, delimiter: u8) -> Result<Vec<RawRow>, TableError> {
    parse_rows_until(text, delimiter, |_| false).map(|(rows, _)| rows)
}

/// Parses rows until `stop` says enough (or the text ends); also returns,
/// for each row, the byte offset where the text after it starts.
pub(crate) fn parse_rows_until(
    text: &str,
    delimiter: u8,
    mut stop: impl FnMut(&[RawRow]) -> bool,
) -> Result<(Vec<RawRow>, Vec<usize>), TableError> {
    let mut reader = csv_reader(text.as_bytes(), delimiter);
    let mut lines = LineCounter::starting_at(text.as_bytes(), 1);
    let mut rows = Vec::new();
    let mut ends = Vec::new();
    let mut record = csv::ByteRecord::new();
    while !stop(&rows) {
        match reader.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                let line = lines.line_of(record.position().map_or(0, |p| p.byte() as usize));
                if let Some(error) = field_too_long(line, record.iter()) {
                    return Err(error);
                }
                // The input is a &str, so every field is valid UTF-8.
                let fields = StringRecord::from_byte_record(record.clone()).map_err(|e| TableError::Csv {
                    line,
                    message: e.to_string(),
                })?;
                rows.push(RawRow { line, fields });
                ends.push(reader.position().byte() as usize);
            }
            Err(e) => {
                let line = lines.line_of(e.position().map_or(0, |p| p.byte() as usize));
                return Err(TableError::Csv {
                    line,
                    message: e.to_string(),
                });
            }
        }
    }
    Ok((rows, ends))
}

/// The CSV reader every table is parsed with: no header handling, rows of any width.
pub(crate) fn csv_reader(bytes: &[u8], delimiter: u8) -> csv::Reader<&[u8]> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(bytes)
}

/// Physical line numbers from byte offsets, counted incrementally. (The csv
/// crate's own line numbers are off for CRLF files; its byte offsets point at
/// the line end before a record, so those are skipped first.)
pub(crate) struct LineCounter<'a> {
    bytes: &'a [u8],
    counted_to: usize,
    line: u64,
}

impl<'a> LineCounter<'a> {
    /// A counter over `bytes`, whose first byte is on line `first_line`.
    pub(crate) fn starting_at(bytes: &'a [u8], first_line: u64) -> Self {
        LineCounter {
            bytes,
            counted_to: 0,
            line: first_line,
        }
    }

    /// 1-based line of the first content byte at or after `offset` (offsets must not decrease).
    pub(crate) fn line_of(&mut self, offset: usize) -> u64 {
        let mut start = offset.max(self.counted_to);
        while start < self.bytes.len() && matches!(self.bytes[start], b'\r' | b'\n') {
            start += 1;
        }
        self.line += memchr::memchr_iter(b'\n', &self.bytes[self.counted_to..start]).count() as u64;
        self.counted_to = start;
        self.line
    }
}

/// The lines of the record a csv reader over `bytes` (whose first byte is
/// on line `first_line`) just read, from its positions `before` and `after`
/// the read: the line of its first content byte (the line ends csv skipped
/// before it aside) and of its last (its own ending line break aside). csv
/// counts every line break it consumes, so the record's bytes are not
/// searched again; the result is `LineCounter`'s.
pub(crate) fn record_lines(
    bytes: &[u8],
    first_line: u64,
    before: &csv::Position,
    after: &csv::Position,
) -> (u64, u64) {
    let from = (before.byte() as usize).min(bytes.len());
    let skipped = bytes[from..]
        .iter()
        .take_while(|b| matches!(b, b'\r' | b'\n'))
        .filter(|&&b| b == b'\n')
        .count() as u64;
    let line = first_line + before.line().saturating_sub(1) + skipped;
    let end = after.byte() as usize;
    let ends_with_break = end > 0 && bytes.get(end - 1) == Some(&b'\n');
    let end_line = (first_line + after.line().saturating_sub(1)).saturating_sub(u64::from(ends_with_break));
    (line, end_line.max(line))
}

pub(crate) fn is_blank_row(row: &RawRow) -> bool {
    row.fields.iter().all(|f| clean_field(f).is_empty())
}

fn filled(row: &RawRow) -> usize {
    row.fields.iter().filter(|f| !clean_field(f).is_empty()).count()
}

pub(crate) fn find_header(rows: &[RawRow], options: &TableOptions) -> Result<usize, TableError> {
    if let Some(line) = options.header_line {
        return rows
            .iter()
            .position(|r| r.line == line)
            .ok_or(TableError::HeaderLineMissing(line));
    }
    let window = &rows[..rows.len().min(SNIFF_ROWS)];
    if !options.expected_columns.is_empty() {
        if let Some(i) = window
            .iter()
            .position(|r| holds_all_names(r, &options.expected_columns))
        {
            return Ok(i);
        }
    }
    let width = dominant_width(window);
    window
        .iter()
        .enumerate()
        .position(|(i, row)| looks_like_header(row, window.get(i + 1), width))
        .ok_or_else(|| TableError::NoHeader {
            hint: "; set header_line in the rule file if the file has one".to_string(),
        })
}

fn holds_all_names(row: &RawRow, names: &[String]) -> bool {
    names
        .iter()
        .all(|name| row.fields.iter().any(|f| clean_field(f) == name))
}

/// The most common field count among rows with at least two filled fields.
fn dominant_width(rows: &[RawRow]) -> usize {
    let mut counts = std::collections::BTreeMap::new();
    for row in rows.iter().filter(|r| filled(r) >= 2) {
        *counts.entry(row.fields.len()).or_insert(0usize) += 1;
    }
    counts
        .into_iter()
        .max_by_key(|&(width, n)| (n, width))
        .map_or(1, |(width, _)| width)
}

/// A header names its columns: enough filled cells, no numbers, and the next
/// row has about as many fields.
fn looks_like_header(row: &RawRow, next: Option<&RawRow>, width: usize) -> bool {
    let filled = filled(row);
    let wide_enough = if width <= 1 {
        filled == 1
    } else {
        filled >= 2 && filled * 2 >= width
    };
    let names_only = row
        .fields
        .iter()
        .map(clean_field)
        .filter(|f| !f.is_empty())
        .all(|f| !looks_numeric(f));
    let next_fits = next.is_none_or(|n| n.fields.len().abs_diff(row.fields.len()) <= 1);
    wide_enough && names_only && next_fits && !is_trailer_text(row)
}

fn looks_numeric(text: &str) -> bool {
    let digits = text.chars().filter(|c| c.is_ascii_digit()).count();
    digits * 2 > text.chars().count()
}

/// Index of the first trailer row: walks back from the end over rows that
/// are blank, summary lines, or single-cell notes in a wider table, and over
/// a summary header with its narrow value row (WeChat Pay merchant bills end
/// with `总交易单数,应结订单总金额,…` and then `` `2,`9.90,… ``).
fn find_trailer_start(rows: &[RawRow], data_start: usize, width: usize) -> usize {
    data_start + trailer_start_of(&rows[data_start..], width)
}

/// `find_trailer_start` of rows that are all after the header.
fn trailer_start_of(rows: &[RawRow], width: usize) -> usize {
    let shapes: Vec<RowShape> = rows
        .iter()
        .map(|row| {
            let first = row.fields.iter().map(clean_field).find(|f| !f.is_empty());
            RowShape::of(first, filled(row), row.fields.len(), width)
        })
        .collect();
    trailer_start(&shapes)
}

/// What the trailer search needs to know about a row.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RowShape {
    /// Every field empty.
    pub(crate) blank: bool,
    /// The first filled field starts a summary line.
    pub(crate) summary: bool,
    /// At most one filled field in a table of three or more columns.
    pub(crate) note: bool,
    /// At most half as many fields as the table has.
    pub(crate) narrow: bool,
}

impl RowShape {
    /// The shape of a row from its first filled (cleaned) field, its number
    /// of filled fields (counting to 2 is enough) and of fields.
    pub(crate) fn of(first_filled: Option<&str>, filled: usize, fields: usize, width: usize) -> RowShape {
        RowShape {
            blank: filled == 0,
            summary: first_filled.is_some_and(is_trailer_first_field),
            note: width >= 3 && filled <= 1,
            narrow: fields * 2 <= width,
        }
    }

    /// Blank, a summary line or a note: a trailer row wherever it stands at the end.
    pub(crate) fn trailer_like(self) -> bool {
        self.blank || self.summary || self.note
    }

    /// Never part of a trailer: the search stops at such a row.
    pub(crate) fn is_data(self) -> bool {
        !self.trailer_like() && !self.narrow
    }
}

/// Index of the first trailer row among the rows after the header (or
/// after a row that `RowShape::is_data`): `find_trailer_start` on shapes.
pub(crate) fn trailer_start(rows: &[RowShape]) -> usize {
    let mut end = rows.len();
    while end > 0 {
        if rows[end - 1].trailer_like() {
            end -= 1;
        } else if let Some(summary) = summary_block_start(rows, end) {
            end = summary;
        } else {
            break;
        }
    }
    end
}

/// The start of a summary header row followed (up to `end`) only by rows
/// less than half as wide as the table, looking at most 3 rows back.
fn summary_block_start(rows: &[RowShape], end: usize) -> Option<usize> {
    (end.saturating_sub(3)..end)
        .rev()
        .find(|&k| rows[k].summary)
        .filter(|&k| rows[k + 1..end].iter().all(|r| r.narrow))
}

/// Summary and rule lines that exports append: totals, counts, dashes.
fn is_trailer_text(row: &RawRow) -> bool {
    row.fields
        .iter()
        .map(clean_field)
        .find(|f| !f.is_empty())
        .is_some_and(is_trailer_first_field)
}

/// Whether a row's first filled field starts a summary line.
fn is_trailer_first_field(first: &str) -> bool {
    const PREFIXES: [&str; 12] = [
        "合计",
        "总交易单数",
        "资金流水总笔数",
        "总计",
        "小计",
        "汇总",
        "人民币合计",
        "#",
        "---",
        "===",
        "Total",
        "TOTAL",
    ];
    PREFIXES.iter().any(|p| first.starts_with(p)) || is_count_line(first)
}

/// `共N笔…` lines (record counts).
fn is_count_line(text: &str) -> bool {
    let Some(rest) = text.strip_prefix('共') else {
        return false;
    };
    let digits = rest.chars().take_while(|c| c.is_ascii_digit()).count();
    digits > 0 && rest[digits..].starts_with('笔')
}

/// Refuses a field longer than `MAX_FIELD_BYTES` (checked on rows that
/// did not come through `parse_rows_until`: spreadsheet cells).
fn check_field_lengths(rows: &[RawRow]) -> Result<(), TableError> {
    match rows
        .iter()
        .find_map(|row| field_too_long(row.line, row.fields.iter().map(str::as_bytes)))
    {
        Some(error) => Err(error),
        None => Ok(()),
    }
}

/// The error for the first field of a row (starting on `line`) longer than
/// `MAX_FIELD_BYTES`: an unclosed quote when it spans several lines, as one
/// that swallowed rows does, else a field too long.
pub(crate) fn field_too_long<'f>(line: u64, fields: impl Iterator<Item = &'f [u8]>) -> Option<TableError> {
    let (i, field) = fields.enumerate().find(|(_, f)| f.len() > MAX_FIELD_BYTES)?;
    if memchr::memchr_iter(b'\n', field).nth(1).is_some() {
        return Some(TableError::UnbalancedQuote { line });
    }
    Some(TableError::FieldTooLong {
        line,
        column: i + 1,
        bytes: field.len(),
    })
}

/// A quoted field that swallowed several lines in a row of the wrong width is
/// a quote that was never closed.
fn check_unbalanced_quote(rows: &[RawRow], width: usize) -> Result<(), TableError> {
    for row in rows {
        let spans_lines = row.fields.iter().any(|f| f.matches('\n').count() >= 2);
        if spans_lines && row.fields.len() != width {
            return Err(TableError::UnbalancedQuote { line: row.line });
        }
    }
    Ok(())
}

/// Every line that is not the header or a data row, as runs of one reason:
/// rows and unparsed blank lines above the header are preamble, below the
/// data trailer, and blank ones in between blank.
fn skipped_lines(rows: &[RawRow], header: usize, data_end: usize, total_lines: u64) -> Vec<SkippedLines> {
    // Lines after the last data row (or the header, when there is none) are trailer.
    let mut runs = SkipRuns::new(rows[header].line, rows[data_end - 1].line + 1);
    let mut next_line = 1;
    for (i, row) in rows.iter().enumerate() {
        runs.add_blank(next_line, row.line);
        let end_line = row.line + newlines_in(&row.fields);
        let is_data = i > header && i < data_end && !is_blank_row(row);
        if i != header && !is_data {
            runs.add_row(row, end_line);
        }
        next_line = end_line + 1;
    }
    runs.add_blank(next_line, total_lines + 1);
    runs.finish()
}

/// Line breaks inside a row's fields (a row spans this many lines more than one).
pub(crate) fn newlines_in(fields: &StringRecord) -> u64 {
    fields
        .iter()
        .map(|f| memchr::memchr_iter(b'\n', f.as_bytes()).count() as u64)
        .sum()
}

/// Builds runs of skipped lines from lines given in increasing order.
pub(crate) struct SkipRuns {
    header_line: u64,
    data_end_line: u64,
    runs: Vec<SkippedLines>,
}

impl SkipRuns {
    /// Lines before `header_line` are preamble, from `data_end_line` on trailer, blank in between.
    pub(crate) fn new(header_line: u64, data_end_line: u64) -> SkipRuns {
        SkipRuns {
            header_line,
            data_end_line,
            runs: Vec::new(),
        }
    }

    /// Adds lines `first..end` that hold nothing.
    pub(crate) fn add_blank(&mut self, first: u64, end: u64) {
        for line in first..end {
            self.add(line, String::new());
        }
    }

    /// Adds the lines of a skipped row (`row.line..=end_line`), sampled by its text.
    pub(crate) fn add_row(&mut self, row: &RawRow, end_line: u64) {
        let text = row.fields.iter().map(clean_field).collect::<Vec<_>>().join(" ");
        self.add(row.line, shorten(&text));
        self.add_blank(row.line + 1, end_line + 1);
    }

    fn add(&mut self, line: u64, text: String) {
        let reason = if line < self.header_line {
            SkipReason::Preamble
        } else if line >= self.data_end_line {
            SkipReason::Trailer
        } else {
            SkipReason::Blank
        };
        match self.runs.last_mut() {
            Some(last) if last.reason == reason && last.last + 1 == line => {
                last.last = line;
                if last.sample.is_empty() {
                    last.sample = text;
                }
            }
            _ => self.runs.push(SkippedLines {
                first: line,
                last: line,
                reason,
                sample: text,
            }),
        }
    }

    /// The runs, in line order.
    pub(crate) fn finish(self) -> Vec<SkippedLines> {
        self.runs
    }
}

pub(crate) fn shorten(text: &str) -> String {
    let trimmed = text.trim();
    if trimmed.chars().count() <= 48 {
        trimmed.to_string()
    } else {
        let head: String = trimmed.chars().take(47).collect();
        format!("{head}…")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(text: &str) -> Table {
        read_table(text, &TableOptions::default()).unwrap()
    }

    #[test]
    fn plain_csv_has_header_on_line_one() {
        let t = table("a,b,c\n1,2,3\n4,5,6\n");
        assert_eq!(t.header, ["a", "b", "c"]);
        assert_eq!(t.header_line, 1);
        assert_eq!(t.rows.len(), 2);
        assert_eq!(t.rows[1].line, 3);
        assert!(t.skipped.is_empty());
    }

    #[test]
    fn quoted_commas_do_not_count() {
        let text = "时间,金额,备注\n2026-01-01,\"1,234.00\",x\n2026-01-02,\"2,000.00\",y\n";
        assert_eq!(sniff_delimiter(text), b',');
        assert_eq!(table(text).rows[0].fields[1].to_string(), "1,234.00");
    }

    #[test]
    fn preamble_with_commas_is_skipped() {
        let text = "微信支付账单明细,,,\n起始时间：[2019-08-01],,,\n,,,\n交易时间,类型,金额,单号\n2019-09-26 12:45:27,消费,¥28.16,1\n";
        let t = table(text);
        assert_eq!(t.header_line, 4);
        assert_eq!(t.rows.len(), 1);
        assert_eq!(t.skipped[0].reason, SkipReason::Preamble);
        assert_eq!((t.skipped[0].first, t.skipped[0].last), (1, 3));
    }

    #[test]
    fn trailer_totals_and_counts_are_skipped() {
        let text = "日期,金额,摘要\n2023-01-01,1.00,a\n2023-01-02,2.00,b\n \n合计,3.00,\n共2笔,,\n";
        let t = table(text);
        assert_eq!(t.rows.len(), 2);
        let trailer: Vec<_> = t
            .skipped
            .iter()
            .filter(|s| s.reason == SkipReason::Trailer)
            .collect();
        assert_eq!((trailer[0].first, trailer[0].last), (4, 6));
    }

    #[test]
    fn summary_header_with_value_row_is_trailer() {
        let text = "交易时间,商户订单号,交易状态,应结订单金额\n`2026-09-24 10:00:00,`p1,`SUCCESS,`9.90\n`2026-09-24 11:00:00,`p2,`SUCCESS,`1.00\n总交易单数,应结订单总金额\n`2,`10.90\n";
        let t = table(text);
        assert_eq!(t.rows.len(), 2);
        let trailer = t.skipped.last().unwrap();
        assert_eq!(
            (trailer.first, trailer.last, trailer.reason),
            (4, 5, SkipReason::Trailer)
        );
    }

    #[test]
    fn every_skipped_line_is_accounted_for() {
        let t = table("Following data,\n\n\nh1,h2\n\n1,2\n3,4\n\n合计,7\n");
        let runs: Vec<_> = t.skipped.iter().map(|s| (s.first, s.last, s.reason)).collect();
        assert_eq!(
            runs,
            [
                (1, 3, SkipReason::Preamble),
                (5, 5, SkipReason::Blank),
                (8, 9, SkipReason::Trailer)
            ]
        );
        assert_eq!(t.skipped[2].sample, "合计 7");
    }

    #[test]
    fn crlf_and_cr_only_line_ends_count_physical_lines() {
        let crlf = table("a,b\r\n1,2\r\n3,4\r\n");
        assert_eq!(crlf.rows[1].line, 3);
        assert_eq!(crlf.rows[1].fields[1].to_string(), "4");
        let cr = table("a,b\r1,2\r3,4\r");
        assert_eq!(cr.rows[1].line, 3);
        assert_eq!(cr.total_lines, 3);
    }

    #[test]
    fn quoted_field_across_lines_keeps_start_line() {
        let t = table("a,b\n\"x\ny\",1\n2,3\n");
        assert_eq!(t.rows[0].line, 2);
        assert_eq!(t.rows[1].line, 4);
    }

    #[test]
    fn expected_columns_choose_the_header() {
        let text = "name,value\nx,1\n订单号,金额\nA1,2.00\n";
        let options = TableOptions {
            expected_columns: vec!["订单号".into(), "金额".into()],
            ..TableOptions::default()
        };
        let t = read_table(text, &options).unwrap();
        assert_eq!(t.header_line, 3);
        assert_eq!(t.rows.len(), 1);
    }

    #[test]
    fn missing_expected_columns_fall_back_to_the_shape() {
        let options = TableOptions {
            expected_columns: vec!["订单号".into()],
            ..TableOptions::default()
        };
        let t = read_table("title\na,b\n1,2\n", &options).unwrap();
        assert_eq!(t.header_line, 2);
    }

    #[test]
    fn empty_and_header_only_files() {
        assert_eq!(
            read_table("", &TableOptions::default()).unwrap_err(),
            TableError::Empty
        );
        assert_eq!(
            read_table(" \n\n", &TableOptions::default()).unwrap_err(),
            TableError::Empty
        );
        let t = table("a,b,c\n");
        assert_eq!(t.rows.len(), 0);
        assert_eq!(t.header, ["a", "b", "c"]);
    }

    #[test]
    fn unclosed_quote_is_reported_at_its_line() {
        let err = read_table("a,b\n1,2\n\"3,4\n5,6\n7,8\n", &TableOptions::default()).unwrap_err();
        assert_eq!(err, TableError::UnbalancedQuote { line: 3 });
    }

    #[test]
    fn a_file_whose_first_row_is_data_has_no_header() {
        let text =
            "\n2025-01-02,Coffee,4.50,,995.50\n2025-01-03,Salary,,1000.00,1995.50\nTotal,,4.50,1000.00,\n";
        let t = read_table(text, &TableOptions::default()).unwrap();
        assert!(t.headerless);
        assert_eq!((t.header_line, t.header.len(), t.rows.len()), (0, 5, 2));
        assert_eq!(t.header, ["1", "2", "3", "4", "5"]);
        assert_eq!(t.rows[0].line, 2);
        assert_eq!(t.skipped.last().unwrap().reason, SkipReason::Trailer);
        let told = TableOptions {
            header: Some(false),
            ..TableOptions::default()
        };
        let t = read_table("a,b\n1,2\n", &told).unwrap();
        assert_eq!((t.headerless, t.rows.len()), (true, 2));
    }

    #[test]
    fn header_line_option_is_obeyed() {
        let options = TableOptions {
            header_line: Some(2),
            ..TableOptions::default()
        };
        let t = read_table("title\na,b\n1,2\n", &options).unwrap();
        assert_eq!(t.header, ["a", "b"]);
        let missing = TableOptions {
            header_line: Some(9),
            ..TableOptions::default()
        };
        assert_eq!(
            read_table("a\n", &missing).unwrap_err(),
            TableError::HeaderLineMissing(9)
        );
    }
}
