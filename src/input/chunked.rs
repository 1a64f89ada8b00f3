//! Reading a table's data rows in parallel, typed as they are parsed. The
//! header is found on the first rows as `table::read_table` finds it; the text
//! after it is cut at record boundaries into chunks, and each chunk is parsed
//! with one reused csv `ByteRecord` and typed straight into records: no row is
//! stored as strings. Header, skipped lines, records and rejected rows are
//! exactly those of `read_table` followed by `records::type_rows`, whatever the
//! thread count. `read_rows` reads the same way but keeps the rows as strings
//! instead (for readers that need them before they can type: `recon check`
//! guessing columns, status sorting): exactly `read_table`, in parallel.

use csv::{ByteRecord, StringRecord};
use rayon::prelude::*;

use super::field::clean_field;
use super::plan::SidePlan;
use super::records::{resolve, type_row, Fields, Layout, MappingError, RowError, Typed};
use super::sniff::sniff_delimiter;
use super::table::{
    count_lines, csv_reader, field_too_long, find_header_or_none, is_blank_row, newlines_in,
    normalize_line_ends, parse_rows_until, trailer_start, DelimiterSource, LineCounter, RawRow, RowShape,
    SkipRuns, Table, TableError, TableOptions, SNIFF_ROWS,
};
use crate::model::{Record, Side};

/// Bytes per chunk: large enough that per-chunk costs vanish, small enough
/// that two threads stay balanced.
const CHUNK_BYTES: usize = 2 << 20;

/// Locates the table in `text` and types its data rows for `side`. The
/// table comes back without rows; a mapping error is reported only when the
/// table itself is sound, as `type_rows` after `read_table` would.
pub fn read_typed(
    text: &str,
    options: &TableOptions,
    side: Side,
    plan: &SidePlan,
) -> Result<(Table, Result<Typed, MappingError>), TableError> {
    read_in_chunks(text, options, Some((side, plan)), CHUNK_BYTES)
}

/// Locates the table in `text` with its data rows: the same table as
/// `table::read_table`, parsed in parallel.
pub fn read_rows(text: &str, options: &TableOptions) -> Result<Table, TableError> {
    read_in_chunks(text, options, None, CHUNK_BYTES).map(|(table, _)| table)
}

/// `read_typed` (with a side and plan) or `read_rows` (without), with chunks
/// of about `chunk_bytes`.
fn read_in_chunks(
    text: &str,
    options: &TableOptions,
    typing: Option<(Side, &SidePlan)>,
    chunk_bytes: usize,
) -> Result<(Table, Result<Typed, MappingError>), TableError> {
    let text = normalize_line_ends(text);
    let text: &str = &text;
    let total_lines = count_lines(text);
    let (delimiter, delimiter_source) = match options.delimiter {
        Some(d) => (d, DelimiterSource::Explicit),
        None => (sniff_delimiter(text), DelimiterSource::Sniffed),
    };
    let (head, ends) = parse_head(text, delimiter, options)?;
    if head.iter().all(is_blank_row) {
        return Err(TableError::Empty);
    }
    let Some(header_index) = find_header_or_none(&head, options)? else {
        // No header row: read on one thread (such files are small bank exports).
        let mut table = super::table::read_table(text, options)?;
        let typed = typing.map(|(side, plan)| super::records::type_rows(&mut table, side, plan));
        return Ok((table, typed.unwrap_or_else(|| Ok(Typed::default()))));
    };
    let header_row = &head[header_index];
    let mut table = Table {
        delimiter,
        delimiter_source,
        header_line: header_row.line,
        header: header_row
            .fields
            .iter()
            .map(|f| clean_field(f).to_string())
            .collect(),
        headerless: false,
        rows: Vec::new(),
        skipped: Vec::new(),
        total_lines,
    };
    let layout = typing.map(|(_, plan)| resolve(&table, plan)).transpose();
    let data_start = ends[header_index];
    let reader = ChunkReader {
        delimiter,
        width: table.header.len(),
        typing: match (&layout, typing) {
            (Ok(Some(layout)), Some((side, plan))) => Some((layout, side, plan)),
            _ => None,
        },
        keep_rows: typing.is_none(),
    };
    let chunks = split_chunks(text, data_start, delimiter, header_row, total_lines, chunk_bytes);
    let mut outs: Vec<ChunkOut> = chunks.par_iter().map(|c| reader.read(c)).collect();
    if let Some(line) = outs.iter().find_map(|o| o.unbalanced) {
        return Err(TableError::UnbalancedQuote { line });
    }
    if let Some(error) = outs.iter_mut().find_map(|o| o.too_long.take()) {
        return Err(error);
    }
    let last_data_line = last_data_line(&outs);
    let data_end_line = last_data_line.unwrap_or(table.header_line) + 1;
    let mut runs = SkipRuns::new(table.header_line, data_end_line);
    add_preamble(&mut runs, &head[..=header_index]);
    let mut typed = Typed::default();
    typed
        .records
        .reserve_exact(outs.iter().map(|o| o.records.len()).sum());
    for out in outs {
        let is_data = |line: u64| last_data_line.is_some_and(|last| line <= last);
        add_chunk_skips(&mut runs, &out, &is_data);
        typed
            .records
            .extend(out.records.into_iter().filter(|r| is_data(r.line)));
        typed
            .rejected
            .extend(out.rejected.into_iter().filter(|(e, _)| is_data(e.line)));
        table
            .rows
            .extend(out.rows.into_iter().filter(|r| is_data(r.line)));
    }
    table.skipped = runs.finish();
    Ok((table, layout.map(|_| typed)))
}

/// The line of the last data row (`None`: no data rows), found as
/// `read_table` finds the trailer: on the rows after the last row that can
/// never be trailer (`RowShape::is_data`), which each chunk keeps.
fn last_data_line(outs: &[ChunkOut]) -> Option<u64> {
    let from = outs.iter().rposition(|o| o.last_hard_line.is_some());
    let tail: Vec<&TailRow> = outs[from.unwrap_or(0)..].iter().flat_map(|o| &o.tail).collect();
    let shapes: Vec<RowShape> = tail.iter().map(|r| r.shape).collect();
    match trailer_start(&shapes) {
        0 => from.and_then(|h| outs[h].last_hard_line),
        start => Some(tail[start - 1].line),
    }
}

/// The rows needed to find the header: at least `SNIFF_ROWS` + 1 (the
/// window `find_header` looks at), one non-blank row, and the row on
/// `header_line` when it is set.
fn parse_head(
    text: &str,
    delimiter: u8,
    options: &TableOptions,
) -> Result<(Vec<RawRow>, Vec<usize>), TableError> {
    let mut seen_filled = false;
    parse_rows_until(text, delimiter, |rows| {
        seen_filled = seen_filled || rows.last().is_some_and(|r| !is_blank_row(r));
        let past_header = match (options.header_line, rows.last()) {
            (Some(line), Some(last)) => last.line >= line,
            (Some(_), None) => false,
            (None, _) => true,
        };
        rows.len() > SNIFF_ROWS && seen_filled && past_header
    })
}

/// Preamble lines: everything before the header row.
fn add_preamble(runs: &mut SkipRuns, head_through_header: &[RawRow]) {
    let Some((header, preamble)) = head_through_header.split_last() else {
        return;
    };
    let mut next_line = 1;
    for row in preamble {
        runs.add_blank(next_line, row.line);
        let end_line = row.line + newlines_in(&row.fields);
        runs.add_row(row, end_line);
        next_line = end_line + 1;
    }
    runs.add_blank(next_line, header.line);
}

/// A chunk's blank lines and trailer rows, in line order.
fn add_chunk_skips(runs: &mut SkipRuns, out: &ChunkOut, is_data: &impl Fn(u64) -> bool) {
    let mut tail = out
        .tail
        .iter()
        .filter(|r| !is_data(r.line))
        .filter_map(|r| Some((r.raw.as_ref()?, r.end_line)))
        .peekable();
    for &(first, end) in &out.blank {
        while let Some((row, end_line)) = tail.next_if(|(row, _)| row.line < first) {
            runs.add_row(row, end_line);
        }
        runs.add_blank(first, end);
    }
    for (row, end_line) in tail {
        runs.add_row(row, end_line);
    }
}

/// A piece of the data text that starts at a record boundary.
struct Chunk<'t> {
    text: &'t str,
    /// Line of the chunk's first byte.
    first_line: u64,
    /// First line not yet covered by a row (after the header for the first chunk).
    next_line: u64,
    /// Last line of the chunk.
    last_line: u64,
}

/// Cuts the text after the header into chunks at record boundaries.
fn split_chunks<'t>(
    text: &'t str,
    data_start: usize,
    delimiter: u8,
    header: &RawRow,
    total_lines: u64,
    chunk_bytes: usize,
) -> Vec<Chunk<'t>> {
    let data = &text[data_start..];
    let cuts = record_cuts(data.as_bytes(), delimiter, chunk_bytes).unwrap_or_default();
    let bounds: Vec<(usize, usize)> = std::iter::once(0)
        .chain(cuts.iter().copied())
        .zip(cuts.iter().copied().chain(std::iter::once(data.len())))
        .collect();
    let newlines: Vec<u64> = bounds
        .par_iter()
        .map(|&(from, to)| memchr::memchr_iter(b'\n', &data.as_bytes()[from..to]).count() as u64)
        .collect();
    let mut first_line = 1 + memchr::memchr_iter(b'\n', &text.as_bytes()[..data_start]).count() as u64;
    let mut chunks = Vec::with_capacity(bounds.len());
    for (i, (&(from, to), n)) in bounds.iter().zip(newlines).enumerate() {
        let next_first = first_line + n;
        chunks.push(Chunk {
            text: &data[from..to],
            first_line,
            next_line: if i == 0 {
                header.line + newlines_in(&header.fields) + 1
            } else {
                first_line
            },
            last_line: if i + 1 == bounds.len() {
                total_lines
            } else {
                next_first - 1
            },
        });
        first_line = next_first;
    }
    chunks
}

/// Offsets (after a line break) where records start, about `target` bytes
/// apart. A line break outside quotes ends a record when every quote opens
/// at the start of a field and closes at its end, as csv reads them; with a
/// quote anywhere else csv reads it literally and quote parity could
/// mislead, so `None`: the caller reads the text in one piece.
fn record_cuts(bytes: &[u8], delimiter: u8, target: usize) -> Option<Vec<usize>> {
    let ends_field = |at: usize| {
        bytes
            .get(at)
            .is_none_or(|b| matches!(*b, b'\r' | b'\n') || *b == delimiter)
    };
    let starts_field =
        |at: usize| at == 0 || matches!(bytes[at - 1], b'\r' | b'\n') || bytes[at - 1] == delimiter;
    let mut quotes = memchr::memchr_iter(b'"', bytes).peekable();
    let mut in_quotes = false;
    let mut cuts = Vec::new();
    let mut from = target;
    while from < bytes.len() {
        let Some(newline) = memchr::memchr(b'\n', &bytes[from..]).map(|i| from + i) else {
            break;
        };
        while let Some(q) = quotes.next_if(|&q| q < newline) {
            if !in_quotes {
                if !starts_field(q) {
                    return None;
                }
                in_quotes = true;
            } else if bytes.get(q + 1) == Some(&b'"') {
                quotes.next();
            } else {
                if !ends_field(q + 1) {
                    return None;
                }
                in_quotes = false;
            }
        }
        if in_quotes {
            from = newline + 1;
        } else {
            if newline + 1 < bytes.len() {
                cuts.push(newline + 1);
            }
            from = newline + 1 + target;
        }
    }
    Some(cuts)
}

/// A table's data rows typed piece by piece, for a file read in pieces
/// (`recon split`): the records and rejected rows `read_typed` finds in the
/// whole text, each piece read by the same `ChunkReader`. A row after the
/// last row that cannot be trailer is held until a later such row (or the
/// end, where the trailer is found as `read_typed` finds it) settles it.
pub struct TypedStream<'p> {
    delimiter: u8,
    width: usize,
    layout: Layout<'p>,
    side: Side,
    plan: &'p SidePlan,
    /// Line of the next piece's first byte.
    next_line: u64,
    /// The first line after the header row, for the first piece.
    after_header: Option<u64>,
    /// Line of the last row that cannot be trailer.
    last_hard_line: Option<u64>,
    /// Trailer candidates since that row: their lines and shapes.
    tail: Vec<(u64, RowShape)>,
    /// Records and rejected rows among them, not settled yet.
    held: Settled,
}

/// Rows whose fate is known: data rows of the table, in line order.
#[derive(Default)]
pub struct Settled {
    /// Typed records.
    pub records: Vec<Record>,
    /// Rows that could not be typed.
    pub rejected: Vec<RowError>,
}

impl Settled {
    /// Moves the rows on lines up to `line` (all with `None`) from `self` into `into`.
    fn settle(&mut self, line: Option<u64>, into: &mut Settled) {
        let upto = line.unwrap_or(u64::MAX);
        let r = self.records.partition_point(|r| r.line <= upto);
        into.records.extend(self.records.drain(..r));
        let e = self.rejected.partition_point(|e| e.line <= upto);
        into.rejected.extend(self.rejected.drain(..e));
    }
}

impl<'p> TypedStream<'p> {
    /// Locates the table on the decoded `head` of a file, as `read_typed`
    /// locates it on the whole text: the stream, the table (without rows)
    /// and the offset in `head` where its data rows start. `None` when the
    /// head cannot tell what the whole text would (too short, no header, a
    /// mapping error, old-Mac line ends, or an error the whole read reports).
    pub fn start(
        head: &str,
        options: &TableOptions,
        side: Side,
        plan: &'p SidePlan,
    ) -> Option<(TypedStream<'p>, Table, usize)> {
        if !head.contains('\n') {
            return None;
        }
        let delimiter = match options.delimiter {
            Some(d) => d,
            None => super::sniff::sniff_delimiter_on_head(head)?,
        };
        let (rows, ends) = parse_head(head, delimiter, options).ok()?;
        if rows.len() <= SNIFF_ROWS || ends.last().is_none_or(|&e| e >= head.len()) {
            return None;
        }
        if rows.iter().all(is_blank_row) {
            return None;
        }
        let header_index = find_header_or_none(&rows, options).ok()??;
        let header_row = &rows[header_index];
        let table = Table {
            delimiter,
            delimiter_source: match options.delimiter {
                Some(_) => DelimiterSource::Explicit,
                None => DelimiterSource::Sniffed,
            },
            header_line: header_row.line,
            header: header_row
                .fields
                .iter()
                .map(|f| clean_field(f).to_string())
                .collect(),
            headerless: false,
            rows: Vec::new(),
            skipped: Vec::new(),
            total_lines: 0,
        };
        let layout = resolve(&table, plan).ok()?;
        let data_start = ends[header_index];
        let stream = TypedStream {
            delimiter,
            width: table.header.len(),
            layout,
            side,
            plan,
            next_line: 1 + memchr::memchr_iter(b'\n', &head.as_bytes()[..data_start]).count() as u64,
            after_header: Some(header_row.line + newlines_in(&header_row.fields) + 1),
            last_hard_line: None,
            tail: Vec::new(),
            held: Settled::default(),
        };
        Some((stream, table, data_start))
    }

    /// Types the next piece of data text, which starts where the last one
    /// ended and ends at a record boundary (see `quotes_closed`), or at the
    /// end of the file. Returns the rows settled so far; `None` when the
    /// piece holds an error the whole read reports (an unclosed quote, a
    /// field too long).
    pub fn feed(&mut self, text: &str) -> Option<Settled> {
        let newlines = memchr::memchr_iter(b'\n', text.as_bytes()).count() as u64;
        let first_line = self.next_line;
        let chunk = Chunk {
            text,
            first_line,
            next_line: self.after_header.take().unwrap_or(first_line),
            last_line: (first_line + newlines).saturating_sub(u64::from(text.ends_with('\n'))),
        };
        self.next_line += newlines;
        let reader = ChunkReader {
            delimiter: self.delimiter,
            width: self.width,
            typing: Some((&self.layout, self.side, self.plan)),
            keep_rows: false,
        };
        let out = reader.read(&chunk);
        if out.unbalanced.is_some() || out.too_long.is_some() {
            return None;
        }
        self.held.records.extend(out.records);
        self.held
            .rejected
            .extend(out.rejected.into_iter().map(|(e, _)| e));
        let mut settled = Settled::default();
        if let Some(hard) = out.last_hard_line {
            self.last_hard_line = Some(hard);
            self.tail.clear();
            self.held.settle(Some(hard), &mut settled);
        }
        self.tail.extend(out.tail.iter().map(|t| (t.line, t.shape)));
        Some(settled)
    }

    /// The first line whose fate is not known yet: rows from there on may
    /// still turn out to be data or trailer.
    pub fn unsettled_from(&self) -> Option<u64> {
        self.tail.first().map(|&(line, _)| line)
    }

    /// The line the next piece starts on.
    pub fn next_line(&self) -> u64 {
        self.next_line
    }

    /// At the end of the file: the trailer found, the rows before it settled.
    pub fn finish(mut self) -> Settled {
        let shapes: Vec<RowShape> = self.tail.iter().map(|&(_, shape)| shape).collect();
        let last_data_line = match trailer_start(&shapes) {
            0 => self.last_hard_line,
            start => Some(self.tail[start - 1].0),
        };
        let mut settled = Settled::default();
        if let Some(line) = last_data_line {
            self.held.settle(Some(line), &mut settled);
        }
        settled
    }
}

/// Whether `bytes`, from a record boundary on, end outside quotes (so the
/// next byte starts a record), by the rules of `record_cuts`; `None` for a
/// quote csv would read literally.
pub fn quotes_closed(bytes: &[u8], delimiter: u8) -> Option<bool> {
    let ends_field = |at: usize| {
        bytes
            .get(at)
            .is_none_or(|b| matches!(*b, b'\r' | b'\n') || *b == delimiter)
    };
    let starts_field =
        |at: usize| at == 0 || matches!(bytes[at - 1], b'\r' | b'\n') || bytes[at - 1] == delimiter;
    let mut quotes = memchr::memchr_iter(b'"', bytes).peekable();
    let mut in_quotes = false;
    while let Some(q) = quotes.next() {
        if !in_quotes {
            if !starts_field(q) {
                return None;
            }
            in_quotes = true;
        } else if bytes.get(q + 1) == Some(&b'"') {
            quotes.next();
        } else {
            if !ends_field(q + 1) {
                return None;
            }
            in_quotes = false;
        }
    }
    Some(!in_quotes)
}

/// What one chunk yields.
#[derive(Default)]
struct ChunkOut {
    records: Vec<Record>,
    rejected: Vec<(RowError, RawRow)>,
    /// Non-blank rows, when kept.
    rows: Vec<RawRow>,
    /// Line ranges `[first, end)` holding no data: empty lines and blank rows.
    blank: Vec<(u64, u64)>,
    /// The rows after the chunk's last row that cannot be trailer: trailer candidates.
    tail: Vec<TailRow>,
    /// Line of the chunk's last row that cannot be trailer (`RowShape::is_data`).
    last_hard_line: Option<u64>,
    /// First row whose unclosed quote swallowed several lines.
    unbalanced: Option<u64>,
    /// The first field longer than any statement field needs.
    too_long: Option<TableError>,
}

/// A row that may belong to the trailer.
struct TailRow {
    line: u64,
    end_line: u64,
    shape: RowShape,
    /// The row, unless it is blank.
    raw: Option<RawRow>,
}

/// How chunks are read: the table's shape and, when the mapping resolved, how to type rows.
struct ChunkReader<'p> {
    delimiter: u8,
    width: usize,
    typing: Option<(&'p Layout<'p>, Side, &'p SidePlan)>,
    /// Keep every non-blank row as strings (for `read_rows`).
    keep_rows: bool,
}

impl ChunkReader<'_> {
    fn read(&self, chunk: &Chunk) -> ChunkOut {
        let bytes = chunk.text.as_bytes();
        let mut reader = csv_reader(bytes, self.delimiter);
        let mut lines = LineCounter::starting_at(bytes, chunk.first_line);
        let mut record = ByteRecord::new();
        let mut out = ChunkOut::default();
        let mut next_line = chunk.next_line;
        // Reading from memory cannot fail, and with `flexible` no row is malformed.
        while reader.read_byte_record(&mut record).unwrap_or(false) {
            let line = lines.line_of(record.position().map_or(0, |p| p.byte() as usize));
            let end_line = line + memchr::memchr_iter(b'\n', record.as_slice()).count() as u64;
            if next_line < line {
                out.blank.push((next_line, line));
            }
            next_line = end_line + 1;
            if out.unbalanced.is_none() && end_line >= line + 2 && self.unbalanced(&record) {
                out.unbalanced = Some(line);
            }
            if out.too_long.is_none() {
                out.too_long = field_too_long(line, record.iter());
            }
            let (filled, first) = filled_and_first(&record);
            let shape = RowShape::of(first, filled, record.len(), self.width);
            if shape.is_data() {
                out.tail.clear();
                out.last_hard_line = Some(line);
            } else {
                let raw = (!shape.blank).then(|| raw_row(line, &record));
                out.tail.push(TailRow {
                    line,
                    end_line,
                    shape,
                    raw,
                });
            }
            if shape.blank {
                out.blank.push((line, end_line + 1));
                continue;
            }
            if self.keep_rows {
                out.rows.push(raw_row(line, &record));
            }
            if let Some((layout, side, plan)) = self.typing {
                match type_row(line, &record, side, plan, layout) {
                    Ok(r) => out.records.push(r),
                    Err(e) => out.rejected.push((e, raw_row(line, &record))),
                }
            }
        }
        if next_line <= chunk.last_line {
            out.blank.push((next_line, chunk.last_line + 1));
        }
        out
    }

    /// A field holding two or more line breaks in a row of the wrong width.
    fn unbalanced(&self, record: &ByteRecord) -> bool {
        record.len() != self.width
            && record
                .iter()
                .any(|f| memchr::memchr_iter(b'\n', f).nth(1).is_some())
    }
}

/// How many fields are filled (0, 1, or 2 meaning "two or more") and the first filled one.
fn filled_and_first(record: &ByteRecord) -> (usize, Option<&str>) {
    let mut first = None;
    let mut filled = 0;
    for i in 0..Fields::count(record) {
        let f = clean_field(Fields::get(record, i).unwrap_or(""));
        if !f.is_empty() {
            filled += 1;
            if filled == 2 {
                break;
            }
            first = Some(f);
        }
    }
    (filled, first)
}

fn raw_row(line: u64, record: &ByteRecord) -> RawRow {
    RawRow {
        line,
        fields: StringRecord::from_byte_record(record.clone()).unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::plan::{AmountColumns, ColumnPlan, TimeColumns};
    use crate::input::records::type_rows;
    use crate::input::table::read_table;

    fn plan() -> SidePlan {
        let mut plan = crate::input::plan::all_guessed(chrono_tz::Asia::Shanghai);
        plan.columns = ColumnPlan {
            key: Some("key".into()),
            amount: AmountColumns::Single {
                amount: "amount".into(),
                direction: None,
            },
            time: TimeColumns::None,
            time_layout: crate::input::time::TimeLayout::Auto,
            merchant: None,
            kind: None,
            refund_amount: None,
            currency: None,
            status: None,
            fee: None,
            carry: vec!["memo".into()],
        };
        plan
    }

    /// What a reading produced, comparable across chunk sizes and with the sequential reader.
    fn summary(table: &Table, typed: &Typed) -> String {
        let records: Vec<String> = typed
            .records
            .iter()
            .map(|r| {
                format!(
                    "{}:{}:{}:{:?}",
                    r.line,
                    r.key(),
                    r.amount,
                    r.carried().collect::<Vec<_>>()
                )
            })
            .collect();
        let rejected: Vec<String> = typed
            .rejected
            .iter()
            .map(|(e, raw)| format!("{}:{}:{}:{:?}", e.line, e.column, e.message, raw.fields))
            .collect();
        format!(
            "{} {:?} {} {:?}\n{records:?}\n{rejected:?}\n{:?}",
            table.header_line, table.header, table.total_lines, table.delimiter, table.skipped
        )
    }

    const TRICKY: &str = "Statement,,\nAccount: 1,,\n\nkey,amount,memo\nA1,1.00,plain\n\n,,\nA2,\"1,234.50\",\"two\nlines\"\nA3,bad,x\r\nA4,2.00,\"say \"\"hi\"\"\"\n\nnote,,\nA5,3.00,y\n合计,1239.50,\n\n共5笔,,\n";

    /// A totals block as WeChat Pay merchant bills end: a summary header,
    /// then narrow value rows (trailer), after narrow data rows and a blank row.
    const SUMMARY_BLOCK: &str =
        "key,amount,memo,x,y,z\nA1,1.00,a,x,y,z\nA2,2.00,b\n,,,,,\nA3,3.00,c\n总交易单数,总金额\n`3,`6.00\n";

    fn reads_like_the_sequential_reader(text: &str) -> String {
        let plan = plan();
        let options = TableOptions::default();
        let sequential = read_table(text, &options).unwrap();
        let rows = |t: &Table| {
            t.rows
                .iter()
                .map(|r| (r.line, r.fields.clone()))
                .collect::<Vec<_>>()
        };
        let mut table = sequential.clone();
        let typed = type_rows(&mut table, Side::Bank, &plan).unwrap();
        let want = summary(&table, &typed);
        for chunk_bytes in [1, 2, 5, 13, 40, 1 << 20] {
            let typing = Some((Side::Bank, &plan));
            let (table, typed) = read_in_chunks(text, &options, typing, chunk_bytes).unwrap();
            assert_eq!(summary(&table, &typed.unwrap()), want, "chunks of {chunk_bytes}");
            let (with_rows, _) = read_in_chunks(text, &options, None, chunk_bytes).unwrap();
            assert_eq!(
                rows(&with_rows),
                rows(&sequential),
                "rows, chunks of {chunk_bytes}"
            );
            assert_eq!(
                summary(&with_rows, &Typed::default()),
                summary(&sequential, &Typed::default())
            );
        }
        want
    }

    #[test]
    fn every_chunk_size_reads_like_the_sequential_reader() {
        let want = reads_like_the_sequential_reader(TRICKY);
        assert!(want.contains("A5") && !want.contains("合计:"), "{want}");
        let want = reads_like_the_sequential_reader(SUMMARY_BLOCK);
        assert!(
            want.contains("5:A3:3.00") && want.contains("first: 6, last: 7, reason: Trailer"),
            "{want}"
        );
    }

    #[test]
    fn cuts_fall_outside_quotes_and_irregular_quotes_give_none() {
        let text = b"a,\"x\ny\"\nb,c\nd,e\n";
        assert_eq!(record_cuts(text, b',', 1), Some(vec![8, 12]));
        assert_eq!(record_cuts(b"a,b\"c\nd,e\n", b',', 1), None);
        assert_eq!(record_cuts(b"a,\"b\"c\nd\n", b',', 1), None);
        // A target past the last line break still keeps the cuts found before it.
        assert_eq!(record_cuts(b"a,b\nc,d\ne,f", b',', 2), Some(vec![4, 8]));
    }

    #[test]
    fn unclosed_quote_is_found_in_any_chunk() {
        let text = "a,b\n1,2\n\"3,4\n5,6\n7,8\n";
        for chunk_bytes in [1, 4, 1 << 20] {
            let err = read_in_chunks(
                text,
                &TableOptions::default(),
                Some((Side::Bank, &plan())),
                chunk_bytes,
            )
            .unwrap_err();
            assert_eq!(err, TableError::UnbalancedQuote { line: 3 });
        }
    }
}
