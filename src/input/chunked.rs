//! Reading a table's data rows in parallel, typed as they are parsed. The
//! header is found on the first rows as `table::read_table` finds it; the text
//! after it is cut at record boundaries into chunks, and each chunk is parsed
//! with one reused csv `ByteRecord` and typed straight into records: no row is
//! stored as strings. Header, skipped lines, records and rejected rows are
//! exactly those of `read_table` followed by `records::type_rows`, whatever the
//! thread count. `read_rows` reads the same way but keeps the rows as strings
//! instead (for readers that need them before they can type: `recon check`
//! guessing columns, status sorting): exactly `read_table`, in parallel.

use std::borrow::Cow;

use csv::{ByteRecord, StringRecord};
use rayon::prelude::*;

use super::field::clean_field;
use super::plan::SidePlan;
use super::records::{resolve, type_row, Fields, Layout, MappingError, RowError, Typed};
use super::sniff::sniff_delimiter;
use super::table::{
    count_lines, csv_reader, field_too_long, find_header_or_none, is_blank_row, newlines_in,
    normalize_line_ends, parse_rows_until, record_lines, trailer_start, DelimiterSource, RawRow, RowShape,
    SkipRuns, SkippedLines, Table, TableError, TableOptions, MAX_FIELD_BYTES, SNIFF_ROWS,
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
    let Some(head) = read_head(text, options)? else {
        // No header row: read on one thread (such files are small bank exports).
        let mut table = super::table::read_table(text, options)?;
        let typed = typing.map(|(side, plan)| super::records::type_rows(&mut table, side, plan));
        return Ok((table, typed.unwrap_or_else(|| Ok(Typed::default()))));
    };
    let mut table = head.table();
    let layout = typing.map(|(_, plan)| resolve(&table, plan)).transpose();
    let reader = ChunkReader {
        delimiter: head.delimiter,
        width: table.header.len(),
        typing: match (&layout, typing) {
            (Ok(Some(layout)), Some((side, plan))) => Some((layout, side, plan)),
            _ => None,
        },
        keep_rows: typing.is_none(),
    };
    let chunks = head.chunks(chunk_bytes);
    let outs: Vec<ChunkOut> = chunks.par_iter().map(|c| reader.read(c)).collect();
    let walks: Vec<&Walked> = outs.iter().map(|o| &o.walked).collect();
    if let Some(error) = walk_error(&walks) {
        return Err(error);
    }
    let last_data_line = last_data_line(&walks);
    table.skipped = skipped_runs(&head.rows, &walks, last_data_line);
    let is_data = |line: u64| last_data_line.is_some_and(|last| line <= last);
    let mut typed = Typed::default();
    typed
        .records
        .reserve_exact(outs.iter().map(|o| o.records.len()).sum());
    for out in outs {
        typed
            .records
            .extend(out.records.into_iter().filter(|r| is_data(r.line())));
        typed
            .rejected
            .extend(out.rejected.into_iter().filter(|(e, _)| is_data(e.line)));
        table
            .rows
            .extend(out.rows.into_iter().filter(|r| is_data(r.line)));
    }
    Ok((table, layout.map(|_| typed)))
}

/// A table's text down to its header row, found as `read_rows` finds it:
/// the data rows after it can be sampled (`sample`) and folded in parallel
/// without keeping them (`fold`).
pub struct Head<'t> {
    /// The text, with old-Mac line ends made LF.
    text: Cow<'t, str>,
    total_lines: u64,
    delimiter: u8,
    delimiter_source: DelimiterSource,
    /// The rows read to find the header, through the header row.
    rows: Vec<RawRow>,
    /// Byte offset of the text after the header row.
    data_start: usize,
}

/// Finds the delimiter and the header row of the table in `text`; `None`
/// for a file without a header row (`read_rows` reads those).
pub fn read_head<'t>(text: &'t str, options: &TableOptions) -> Result<Option<Head<'t>>, TableError> {
    let text = normalize_line_ends(text);
    let total_lines = count_lines(&text);
    let (delimiter, delimiter_source) = match options.delimiter {
        Some(d) => (d, DelimiterSource::Explicit),
        None => (sniff_delimiter(&text), DelimiterSource::Sniffed),
    };
    let (mut rows, ends) = parse_head(&text, delimiter, options)?;
    if rows.iter().all(is_blank_row) {
        return Err(TableError::Empty);
    }
    let Some(header_index) = find_header_or_none(&rows, options)? else {
        return Ok(None);
    };
    rows.truncate(header_index + 1);
    Ok(Some(Head {
        data_start: ends[header_index],
        text,
        total_lines,
        delimiter,
        delimiter_source,
        rows,
    }))
}

/// What `Head::fold` does with the data rows.
pub trait RowFold: Send + Sized {
    /// Takes in a data row starting on `line`.
    fn row(&mut self, line: u64, fields: &impl Fields);
    /// Adds the fold of the rows after this one's.
    fn merge(&mut self, later: Self);
}

impl Head<'_> {
    fn header_row(&self) -> &RawRow {
        self.rows.last().expect("a head ends with its header row")
    }

    /// The table's delimiter and header, with no rows and no skipped lines.
    pub fn table(&self) -> Table {
        headed_table(
            self.delimiter,
            self.delimiter_source,
            self.header_row(),
            self.total_lines,
        )
    }

    /// The first `n` non-blank rows after the header (fewer when there are
    /// fewer), which are the table's first data rows unless the table ends
    /// among them: then they may end with trailer rows.
    pub fn sample(&self, n: usize) -> Result<Vec<RawRow>, TableError> {
        let header_line = self.header_row().line;
        let mut filled = 0;
        let (rows, _) = parse_rows_until(&self.text, self.delimiter, |rows| {
            let last = rows.last().filter(|r| r.line > header_line);
            filled += usize::from(last.is_some_and(|r| !is_blank_row(r)));
            filled >= n
        })?;
        Ok(rows
            .into_iter()
            .filter(|r| r.line > header_line && !is_blank_row(r))
            .take(n)
            .collect())
    }

    /// Folds every data row, in parallel chunks whose folds are merged in
    /// file order, into what `make` makes; returns the table with its
    /// skipped lines (and no rows) and the fold of all rows.
    pub fn fold<F: RowFold>(&self, make: impl Fn() -> F + Sync) -> Result<(Table, F), TableError> {
        self.fold_in(CHUNK_BYTES, make)
    }

    fn fold_in<F: RowFold>(
        &self,
        chunk_bytes: usize,
        make: impl Fn() -> F + Sync,
    ) -> Result<(Table, F), TableError> {
        let reader = self.reader();
        let folded: Vec<(Walked, F)> = self
            .chunks(chunk_bytes)
            .par_iter()
            .map(|chunk| fold_chunk(&reader, chunk, &make))
            .collect();
        self.merge(folded, self.total_lines, make)
    }

    /// `fold` for a head decoded from the start of `bytes`, a text in the
    /// legacy `encoding` (see `encoding::decode_or_defer`): the data rows
    /// are cut into chunks at record boundaries in the bytes themselves
    /// (`record_cuts`: no quote, line break or `,`/tab byte is part of a
    /// character there), each decoded and folded on its own, so the whole
    /// text is never decoded at once. `None` when a chunk does not decode
    /// (the whole decoding then tells where) or the head cannot be placed
    /// in the bytes.
    pub fn fold_legacy<F: RowFold>(
        &self,
        bytes: &[u8],
        encoding: &'static encoding_rs::Encoding,
        make: impl Fn() -> F + Sync,
    ) -> Result<Option<(Table, F)>, TableError> {
        self.fold_legacy_in(bytes, encoding, CHUNK_BYTES, make)
    }

    fn fold_legacy_in<F: RowFold>(
        &self,
        bytes: &[u8],
        encoding: &'static encoding_rs::Encoding,
        chunk_bytes: usize,
        make: impl Fn() -> F + Sync,
    ) -> Result<Option<(Table, F)>, TableError> {
        let Some(data_start) = self.data_start_in(bytes) else {
            return Ok(None);
        };
        // A cut in the bytes is a cut in the text only where a delimiter
        // byte never ends a character (`;` files are read whole anyway).
        let chunk_bytes = if self.delimiter < b'0' {
            chunk_bytes
        } else {
            usize::MAX
        };
        let (spans, total_lines) = spans(
            bytes,
            data_start,
            self.delimiter,
            self.header_row(),
            None,
            chunk_bytes,
        );
        let reader = self.reader();
        let folded: Option<Vec<(Walked, F)>> = spans
            .par_iter()
            .map(|span| {
                let text = super::encoding::decode_piece_strictly(&bytes[span.range.clone()], encoding)?;
                Some(fold_chunk(&reader, &span.chunk(&text), &make))
            })
            .collect();
        let Some(folded) = folded else {
            return Ok(None);
        };
        self.merge(folded, total_lines, make).map(Some)
    }

    /// Where the data after the header starts in `bytes`, the undecoded text
    /// whose start this head was decoded from: in the same line (counting
    /// line breaks), as many bytes from its start or from its end as the
    /// head's text has, when those are ASCII.
    fn data_start_in(&self, bytes: &[u8]) -> Option<usize> {
        let text = self.text.as_bytes();
        let before = &text[..self.data_start];
        let line = memchr::memchr_iter(b'\n', before).count();
        let line_start = |n: usize| match n {
            0 => Some(0),
            n => memchr::memchr_iter(b'\n', bytes).nth(n - 1).map(|i| i + 1),
        };
        let from_start = &before[memchr::memrchr(b'\n', before).map_or(0, |i| i + 1)..];
        let to_end = &text[self.data_start
            ..memchr::memchr(b'\n', &text[self.data_start..])
                .map_or(text.len(), |i| self.data_start + i + 1)];
        let start = if from_start.is_ascii() {
            line_start(line)? + from_start.len()
        } else if to_end.is_ascii() && to_end.ends_with(b"\n") {
            line_start(line + 1)?.checked_sub(to_end.len())?
        } else {
            return None;
        };
        (start <= bytes.len()).then_some(start)
    }

    /// Reads the chunks of the table's data rows.
    fn reader(&self) -> ChunkReader<'static> {
        ChunkReader {
            delimiter: self.delimiter,
            width: self.header_row().fields.len(),
            typing: None,
            keep_rows: false,
        }
    }

    /// The table and the fold of all rows, from the chunks' walks and folds
    /// in file order: the first broken row is an error; rows held back as
    /// possible trailer are folded when they are data.
    fn merge<F: RowFold>(
        &self,
        folded: Vec<(Walked, F)>,
        total_lines: u64,
        make: impl Fn() -> F,
    ) -> Result<(Table, F), TableError> {
        let mut table = self.table();
        table.total_lines = total_lines;
        let walks: Vec<&Walked> = folded.iter().map(|(w, _)| w).collect();
        if let Some(error) = walk_error(&walks) {
            return Err(error);
        }
        let last_data_line = last_data_line(&walks);
        table.skipped = skipped_runs(&self.rows, &walks, last_data_line);
        let mut all: Option<F> = None;
        for (walked, mut fold) in folded {
            // Rows after the chunk's last hard row are data unless trailer.
            for row in &walked.tail {
                if let (Some(raw), true) = (&row.raw, last_data_line.is_some_and(|l| row.line <= l)) {
                    fold.row(row.line, &raw.fields);
                }
            }
            match &mut all {
                None => all = Some(fold),
                Some(all) => all.merge(fold),
            }
        }
        Ok((table, all.unwrap_or_else(make)))
    }

    /// The text after the header cut into chunks at record boundaries.
    fn chunks(&self, chunk_bytes: usize) -> Vec<Chunk<'_>> {
        split_chunks(
            &self.text,
            self.data_start,
            self.delimiter,
            self.header_row(),
            self.total_lines,
            chunk_bytes,
        )
    }
}

/// Walks one chunk, folding its rows into a new fold.
fn fold_chunk<F: RowFold>(reader: &ChunkReader, chunk: &Chunk, make: &impl Fn() -> F) -> (Walked, F) {
    let mut folding = Folding(make());
    let walked = reader.walk(chunk, &mut folding);
    (walked, folding.0)
}

/// Hands the rows that can never be trailer to a fold at once, and possible
/// trailer rows once a row after them shows they are data.
struct Folding<F>(F);

impl<F: RowFold> RowVisitor for Folding<F> {
    fn row(&mut self, line: u64, record: &ByteRecord, shape: RowShape) {
        if shape.is_data() {
            self.0.row(line, record);
        }
    }

    fn confirmed(&mut self, tail: &[TailRow]) {
        for row in tail {
            if let Some(raw) = &row.raw {
                self.0.row(row.line, &raw.fields);
            }
        }
    }
}

/// The first problem the walks found: an unclosed quote anywhere before a
/// field too long (as `read_table` checks them).
fn walk_error(walks: &[&Walked]) -> Option<TableError> {
    if let Some(line) = walks.iter().find_map(|w| w.unbalanced) {
        return Some(TableError::UnbalancedQuote { line });
    }
    walks.iter().find_map(|w| w.too_long.clone())
}

/// The skipped lines: the preamble above the header (the last of
/// `head_through_header`), then each chunk's blank lines and trailer rows.
fn skipped_runs(
    head_through_header: &[RawRow],
    walks: &[&Walked],
    last_data_line: Option<u64>,
) -> Vec<SkippedLines> {
    let header_line = head_through_header.last().map_or(0, |h| h.line);
    let mut runs = SkipRuns::new(header_line, last_data_line.unwrap_or(header_line) + 1);
    add_preamble(&mut runs, head_through_header);
    let is_data = |line: u64| last_data_line.is_some_and(|last| line <= last);
    for walked in walks {
        add_chunk_skips(&mut runs, walked, &is_data);
    }
    runs.finish()
}

/// The line of the last data row (`None`: no data rows), found as
/// `read_table` finds the trailer: on the rows after the last row that can
/// never be trailer (`RowShape::is_data`), which each chunk keeps.
fn last_data_line(walks: &[&Walked]) -> Option<u64> {
    let from = walks.iter().rposition(|w| w.last_hard_line.is_some());
    let tail: Vec<&TailRow> = walks[from.unwrap_or(0)..].iter().flat_map(|w| &w.tail).collect();
    let shapes: Vec<RowShape> = tail.iter().map(|r| r.shape).collect();
    match trailer_start(&shapes) {
        0 => from.and_then(|h| walks[h].last_hard_line),
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
fn add_chunk_skips(runs: &mut SkipRuns, walked: &Walked, is_data: &impl Fn(u64) -> bool) {
    let mut tail = walked
        .tail
        .iter()
        .filter(|r| !is_data(r.line))
        .filter_map(|r| Some((r.raw.as_ref()?, r.end_line)))
        .peekable();
    for &(first, end) in &walked.blank {
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
    spans(
        text.as_bytes(),
        data_start,
        delimiter,
        header,
        Some(total_lines),
        chunk_bytes,
    )
    .0
    .into_iter()
    .map(|span| span.chunk(&text[span.range.clone()]))
    .collect()
}

/// Where a chunk lies in the text (or in the bytes it is decoded from) and its lines.
struct Span {
    range: std::ops::Range<usize>,
    first_line: u64,
    next_line: u64,
    last_line: u64,
}

impl Span {
    /// The chunk of `text`, this span's text.
    fn chunk<'t>(&self, text: &'t str) -> Chunk<'t> {
        Chunk {
            text,
            first_line: self.first_line,
            next_line: self.next_line,
            last_line: self.last_line,
        }
    }
}

/// Cuts `bytes` after `data_start` (the end of the header row) into spans at
/// record boundaries, about `chunk_bytes` apart; also returns the lines of
/// `bytes` (`table::count_lines` of the text they decode to), counted with
/// the spans' own lines when `total_lines` is not given.
fn spans(
    bytes: &[u8],
    data_start: usize,
    delimiter: u8,
    header: &RawRow,
    total_lines: Option<u64>,
    chunk_bytes: usize,
) -> (Vec<Span>, u64) {
    let data = &bytes[data_start..];
    let cuts = record_cuts(data, delimiter, chunk_bytes).unwrap_or_default();
    let bounds: Vec<(usize, usize)> = std::iter::once(0)
        .chain(cuts.iter().copied())
        .zip(cuts.iter().copied().chain(std::iter::once(data.len())))
        .collect();
    let newlines: Vec<u64> = bounds
        .par_iter()
        .map(|&(from, to)| memchr::memchr_iter(b'\n', &data[from..to]).count() as u64)
        .collect();
    let mut first_line = 1 + memchr::memchr_iter(b'\n', &bytes[..data_start]).count() as u64;
    let total_lines = total_lines.unwrap_or_else(|| {
        let breaks = first_line - 1 + newlines.iter().sum::<u64>();
        match bytes.last() {
            None | Some(b'\n') => breaks,
            Some(_) => breaks + 1,
        }
    });
    let mut spans = Vec::with_capacity(bounds.len());
    for (i, (&(from, to), n)) in bounds.iter().zip(newlines).enumerate() {
        let next_first = first_line + n;
        spans.push(Span {
            range: data_start + from..data_start + to,
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
    (spans, total_lines)
}

/// Offsets (after a line break) where records start, about `target` bytes
/// apart. A line break outside quotes ends a record when every quote opens
/// at the start of a field and closes at its end, as csv reads them; with a
/// quote anywhere else csv reads it literally and quote parity could
/// mislead, so `None`: the caller reads the text in one piece. The text is
/// cut into blocks at the first line break past every `target` bytes; which
/// blocks start inside quotes follows from the number of quotes before them,
/// and each block is then checked and searched for its first record start
/// on its own, in parallel.
fn record_cuts(bytes: &[u8], delimiter: u8, target: usize) -> Option<Vec<usize>> {
    let mut starts = vec![0];
    let mut at = target.max(1);
    while at < bytes.len() {
        match memchr::memchr(b'\n', &bytes[at..]) {
            Some(i) if at + i + 1 < bytes.len() => {
                starts.push(at + i + 1);
                at = (at + i + 1).saturating_add(target.max(1));
            }
            _ => break,
        }
    }
    let blocks: Vec<(usize, usize)> = starts
        .iter()
        .copied()
        .zip(starts[1..].iter().copied().chain(std::iter::once(bytes.len())))
        .collect();
    // Each block walked as if it started outside quotes (almost every block
    // does), which also counts its quotes; a block that starts inside is
    // walked again.
    let outside: Vec<(Option<Walk>, bool)> = blocks
        .par_iter()
        .map(|&(from, to)| {
            let walk = first_record_start(bytes, from, to, false, delimiter);
            let odd = match &walk {
                Some(walk) => walk.odd,
                None => memchr::memchr_iter(b'"', &bytes[from..to]).count() % 2 == 1,
            };
            (walk, odd)
        })
        .collect();
    let quoted_at_start: Vec<bool> = outside
        .iter()
        .scan(false, |quoted, &(_, odd)| {
            let at_start = *quoted;
            *quoted ^= odd;
            Some(at_start)
        })
        .collect();
    let cuts: Vec<Option<usize>> = blocks
        .par_iter()
        .zip(outside)
        .zip(quoted_at_start)
        .map(|((&(from, to), (walk, _)), quoted)| match quoted {
            false => walk,
            true => first_record_start(bytes, from, to, true, delimiter),
        })
        .map(|walk| walk.map(|w| w.cut))
        .collect::<Option<_>>()?;
    let mut cuts: Vec<usize> = cuts
        .into_iter()
        .flatten()
        .filter(|&c| c > 0 && c < bytes.len())
        .collect();
    cuts.dedup();
    Some(cuts)
}

/// What `first_record_start` finds in a block.
struct Walk {
    /// The first record start, if any.
    cut: Option<usize>,
    /// Whether the block holds an odd number of quotes.
    odd: bool,
}

/// The first record start in `bytes[from..to]` (a block that starts after a
/// line break, `quoted` when inside a quoted field), if any, and the parity
/// of its quotes; `None` when a quote in the block stands where csv would
/// read it literally.
fn first_record_start(bytes: &[u8], from: usize, to: usize, quoted: bool, delimiter: u8) -> Option<Walk> {
    let ends_field = |at: usize| {
        bytes
            .get(at)
            .is_none_or(|b| matches!(*b, b'\r' | b'\n') || *b == delimiter)
    };
    let starts_field =
        |at: usize| at == 0 || matches!(bytes[at - 1], b'\r' | b'\n') || bytes[at - 1] == delimiter;
    let mut in_quotes = quoted;
    let mut cut = (!quoted).then_some(from);
    // Start of the stretch outside quotes being walked.
    let mut outside_from = from;
    let line_break_outside =
        |from: usize, to: usize| memchr::memchr(b'\n', &bytes[from..to]).map(|i| from + i + 1);
    let mut quotes = memchr::memchr_iter(b'"', &bytes[from..to])
        .map(|q| from + q)
        .peekable();
    let mut odd = false;
    while let Some(q) = quotes.next() {
        odd = !odd;
        if !in_quotes {
            if cut.is_none() {
                cut = line_break_outside(outside_from, q);
            }
            if !starts_field(q) {
                return None;
            }
            in_quotes = true;
        } else if bytes.get(q + 1) == Some(&b'"') {
            if quotes.next().is_some() {
                odd = !odd;
            }
        } else {
            if !ends_field(q + 1) {
                return None;
            }
            in_quotes = false;
            outside_from = q + 1;
        }
    }
    if !in_quotes && cut.is_none() {
        cut = line_break_outside(outside_from, to);
    }
    Some(Walk { cut, odd })
}

/// A table's data rows typed piece by piece, for a file read in pieces
/// (`recon split`, `input::pieces`): the records, rejected rows and skipped
/// lines `read_typed` finds in the whole text, each piece read by the same
/// `ChunkReader`. A row after the last row that cannot be trailer is held
/// until a later such row (or the end, where the trailer is found as
/// `read_typed` finds it) settles it.
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
    /// The rows read to find the header, through the header row.
    head_rows: Vec<RawRow>,
    /// What each piece's walk found (blank lines, trailer candidates), for the skipped lines.
    walks: Vec<Walked>,
    /// Whether the last piece placed ends in a line break (or none was placed).
    ends_with_newline: bool,
}

/// Rows whose fate is known: data rows of the table, in line order.
#[derive(Default)]
pub struct Settled {
    /// Typed records.
    pub records: Vec<Record>,
    /// Rows that could not be typed, with their raw text.
    pub rejected: Vec<(RowError, RawRow)>,
}

/// What a `TypedStream` found at the end of the file.
pub struct Finished {
    /// The rows settled last.
    pub settled: Settled,
    /// The skipped lines: preamble, blank lines, trailer.
    pub skipped: Vec<SkippedLines>,
    /// Lines in the file's text (`table::count_lines`).
    pub total_lines: u64,
}

impl Settled {
    /// Moves the rows on lines up to `line` (all with `None`) from `self` into `into`.
    fn settle(&mut self, line: Option<u64>, into: &mut Settled) {
        let upto = line.unwrap_or(u64::MAX);
        let r = self.records.partition_point(|r| r.line() <= upto);
        into.records.extend(self.records.drain(..r));
        let e = self.rejected.partition_point(|(e, _)| e.line <= upto);
        into.rejected.extend(self.rejected.drain(..e));
    }
}

/// A table with `header_row` as its header and no rows or skipped lines yet.
fn headed_table(delimiter: u8, source: DelimiterSource, header_row: &RawRow, total_lines: u64) -> Table {
    Table {
        delimiter,
        delimiter_source: source,
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
    }
}

/// A piece of a `TypedStream` given its place in the file, ready to type.
pub struct Placed<'t>(Chunk<'t>);

/// A piece of a `TypedStream` typed, to absorb in file order.
pub struct TypedPiece(ChunkOut);

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
        let (mut rows, ends) = parse_head(head, delimiter, options).ok()?;
        if rows.len() <= SNIFF_ROWS || ends.last().is_none_or(|&e| e >= head.len()) {
            return None;
        }
        if rows.iter().all(is_blank_row) {
            return None;
        }
        let header_index = find_header_or_none(&rows, options).ok()??;
        let header_row = rows[header_index].clone();
        let source = match options.delimiter {
            Some(_) => DelimiterSource::Explicit,
            None => DelimiterSource::Sniffed,
        };
        let table = headed_table(delimiter, source, &header_row, 0);
        let layout = resolve(&table, plan).ok()?;
        let data_start = ends[header_index];
        rows.truncate(header_index + 1);
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
            head_rows: rows,
            walks: Vec::new(),
            ends_with_newline: true,
        };
        Some((stream, table, data_start))
    }

    /// Places the next piece of data text, which starts where the last one
    /// ended and ends at a record boundary (see `quotes_closed`), or at the
    /// end of the file. Pieces are placed in file order, typed on any thread
    /// (`type_piece`), and absorbed in file order again (`absorb`).
    pub fn place<'t>(&mut self, text: &'t str) -> Placed<'t> {
        let newlines = memchr::memchr_iter(b'\n', text.as_bytes()).count() as u64;
        let first_line = self.next_line;
        let chunk = Chunk {
            text,
            first_line,
            next_line: self.after_header.take().unwrap_or(first_line),
            last_line: (first_line + newlines).saturating_sub(u64::from(text.ends_with('\n'))),
        };
        self.next_line += newlines;
        self.ends_with_newline = text.is_empty() || text.ends_with('\n');
        Placed(chunk)
    }

    /// Types a placed piece (see `place`).
    pub fn type_piece(&self, placed: &Placed) -> TypedPiece {
        let reader = ChunkReader {
            delimiter: self.delimiter,
            width: self.width,
            typing: Some((&self.layout, self.side, self.plan)),
            keep_rows: false,
        };
        TypedPiece(reader.read(&placed.0))
    }

    /// Takes in the next typed piece in file order (see `place`): the rows
    /// settled so far; `None` when the piece holds an error the whole read
    /// reports (an unclosed quote, a field too long).
    pub fn absorb(&mut self, typed: TypedPiece) -> Option<Settled> {
        let mut settled = Settled::default();
        self.absorb_into(typed, &mut settled).then_some(settled)
    }

    /// `absorb`, adding the rows settled to `settled`; false on an error.
    pub fn absorb_into(&mut self, typed: TypedPiece, settled: &mut Settled) -> bool {
        let out = typed.0;
        if out.walked.unbalanced.is_some() || out.walked.too_long.is_some() {
            return false;
        }
        let mut piece = Settled {
            records: out.records,
            rejected: out.rejected,
        };
        if let Some(hard) = out.walked.last_hard_line {
            self.last_hard_line = Some(hard);
            self.tail.clear();
            // Every row held is on a line before this piece's: all settled,
            // then this piece's rows up to `hard` go straight from the piece.
            self.held.settle(None, settled);
            piece.settle(Some(hard), settled);
        }
        self.held.records.append(&mut piece.records);
        self.held.rejected.append(&mut piece.rejected);
        self.tail
            .extend(out.walked.tail.iter().map(|t| (t.line, t.shape)));
        self.walks.push(out.walked);
        true
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

    /// At the end of the file: the trailer found, the rows before it
    /// settled, the skipped lines and the file's lines.
    pub fn finish(mut self) -> Finished {
        let shapes: Vec<RowShape> = self.tail.iter().map(|&(_, shape)| shape).collect();
        let last_data_line = match trailer_start(&shapes) {
            0 => self.last_hard_line,
            start => Some(self.tail[start - 1].0),
        };
        let mut settled = Settled::default();
        if let Some(line) = last_data_line {
            self.held.settle(Some(line), &mut settled);
        }
        let walks: Vec<&Walked> = self.walks.iter().collect();
        Finished {
            settled,
            skipped: skipped_runs(&self.head_rows, &walks, last_data_line),
            total_lines: self.next_line - u64::from(self.ends_with_newline),
        }
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

/// What one chunk yields when its rows are kept or typed.
#[derive(Default)]
struct ChunkOut {
    records: Vec<Record>,
    rejected: Vec<(RowError, RawRow)>,
    /// Non-blank rows, when kept.
    rows: Vec<RawRow>,
    /// What the walk over the chunk found out about its lines.
    walked: Walked,
}

/// What a walk over one chunk's rows finds, whatever is done with the rows.
#[derive(Default)]
struct Walked {
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

/// What a walk over a chunk does with its rows.
trait RowVisitor {
    /// A non-blank row starting on `line`.
    fn row(&mut self, line: u64, record: &ByteRecord, shape: RowShape);
    /// Rows held back as possible trailer (see `Walked::tail`) that a row
    /// after them shows to be data.
    fn confirmed(&mut self, _tail: &[TailRow]) {}
}

/// Keeps or types every non-blank row, as `ChunkReader` says (possible
/// trailer rows too: they are filtered once the trailer is known).
struct Keep<'r, 'p> {
    reader: &'r ChunkReader<'p>,
    out: ChunkOut,
}

impl RowVisitor for Keep<'_, '_> {
    fn row(&mut self, line: u64, record: &ByteRecord, _shape: RowShape) {
        if self.reader.keep_rows {
            self.out.rows.push(raw_row(line, record));
        }
        if let Some((layout, side, plan)) = self.reader.typing {
            match type_row(line, record, side, plan, layout) {
                Ok(r) => self.out.records.push(r),
                Err(e) => self.out.rejected.push((e, raw_row(line, record))),
            }
        }
    }
}

impl ChunkReader<'_> {
    fn read(&self, chunk: &Chunk) -> ChunkOut {
        let mut keep = Keep {
            reader: self,
            out: ChunkOut::default(),
        };
        keep.out.walked = self.walk(chunk, &mut keep);
        keep.out
    }

    /// Parses a chunk's rows with one reused record, noting blank lines,
    /// possible trailer rows and broken rows, and hands every non-blank
    /// row to `visitor`.
    fn walk(&self, chunk: &Chunk, visitor: &mut impl RowVisitor) -> Walked {
        let bytes = chunk.text.as_bytes();
        let mut reader = csv_reader(bytes, self.delimiter);
        let mut record = ByteRecord::new();
        let mut out = Walked::default();
        let mut next_line = chunk.next_line;
        // Reading from memory cannot fail, and with `flexible` no row is malformed.
        while reader.read_byte_record(&mut record).unwrap_or(false) {
            let start = csv::Position::new();
            let before = record.position().unwrap_or(&start);
            let (line, end_line) = record_lines(bytes, chunk.first_line, before, reader.position());
            if next_line < line {
                out.blank.push((next_line, line));
            }
            next_line = end_line + 1;
            if out.unbalanced.is_none() && end_line >= line + 2 && self.unbalanced(&record) {
                out.unbalanced = Some(line);
            }
            if out.too_long.is_none() && record.as_slice().len() > MAX_FIELD_BYTES {
                out.too_long = field_too_long(line, record.iter());
            }
            let (filled, first) = filled_and_first(&record);
            let shape = RowShape::of(first, filled, record.len(), self.width);
            if shape.is_data() {
                if !out.tail.is_empty() {
                    visitor.confirmed(&out.tail);
                    out.tail.clear();
                }
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
            visitor.row(line, &record, shape);
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
pub(crate) mod tests {
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

    /// Each record's line, key, amount and carried values, comparable between readers.
    pub(crate) fn record_lines(typed: &Typed) -> Vec<String> {
        let line = |r: &crate::model::Record| {
            let carried: Vec<&str> = r.carried().collect();
            format!("{}:{}:{}:{carried:?}", r.line(), r.key(), r.amount())
        };
        typed.records.iter().map(line).collect()
    }

    /// What a reading produced, comparable across chunk sizes and with the sequential reader.
    fn summary(table: &Table, typed: &Typed) -> String {
        let records = record_lines(typed);
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

    /// Collects the rows a fold is given.
    #[derive(Default)]
    struct Collect(Vec<(u64, Vec<String>)>);

    impl RowFold for Collect {
        fn row(&mut self, line: u64, fields: &impl Fields) {
            let fields = (0..fields.count()).map(|i| fields.get(i).unwrap_or("").to_string());
            self.0.push((line, fields.collect()));
        }

        fn merge(&mut self, later: Self) {
            self.0.extend(later.0);
        }
    }

    #[test]
    fn a_fold_sees_the_rows_read_rows_keeps() {
        for text in [TRICKY, SUMMARY_BLOCK, "a,b\n1,2\n\n3,4\n合计,7\n"] {
            let options = TableOptions::default();
            let want = read_rows(text, &options).unwrap();
            let want_rows: Vec<(u64, Vec<String>)> = want
                .rows
                .iter()
                .map(|r| (r.line, r.fields.iter().map(str::to_string).collect()))
                .collect();
            let head = read_head(text, &options).unwrap().unwrap();
            for chunk_bytes in [1, 2, 5, 13, 40, 1 << 20] {
                let (table, Collect(rows)) = head.fold_in(chunk_bytes, Collect::default).unwrap();
                assert_eq!(rows, want_rows, "chunks of {chunk_bytes}");
                assert_eq!(
                    summary(&table, &Typed::default()),
                    summary(&want, &Typed::default())
                );
            }
            let sample = head.sample(2).unwrap();
            assert_eq!(sample.len(), 2);
            assert_eq!(sample[0].line, want.rows[0].line);
        }
    }

    #[test]
    fn a_legacy_fold_decodes_each_chunk_as_the_whole_text_reads() {
        let gbk = encoding_rs::GBK;
        for text in [TRICKY, SUMMARY_BLOCK, "标题\n时间,金额\r\n1,\"二\n三\"\r\n"] {
            let bytes = gbk.encode(text).0.into_owned();
            let options = TableOptions::default();
            let head = read_head(text, &options).unwrap().unwrap();
            let (want_table, Collect(want)) = head.fold(Collect::default).unwrap();
            for chunk_bytes in [1, 3, 7, 1 << 20] {
                let (table, Collect(rows)) = head
                    .fold_legacy_in(&bytes, gbk, chunk_bytes, Collect::default)
                    .unwrap()
                    .unwrap();
                assert_eq!(rows, want, "chunks of {chunk_bytes}");
                assert_eq!(
                    summary(&table, &Typed::default()),
                    summary(&want_table, &Typed::default())
                );
            }
        }
        // A malformed sequence in a chunk leaves the error to the whole decoding.
        let mut bytes = gbk.encode("时间,金额\n1,2\n").0.into_owned();
        bytes.extend_from_slice(b"3,\x81\n");
        let head = read_head("时间,金额\n1,2\n", &TableOptions::default())
            .unwrap()
            .unwrap();
        assert!(head.fold_legacy(&bytes, gbk, Collect::default).unwrap().is_none());
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
