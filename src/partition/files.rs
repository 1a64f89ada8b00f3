//! One result file of every partition merged into the file a run of the
//! whole day writes: every partition's file is already in that order, so a
//! streaming k-way merge of its units (a row; all rows of one match) keeps
//! only one unit per partition in memory. Rows are copied as the runs wrote
//! them, byte for byte: only the fields that order them are looked at (a
//! row without quotes is cut at its commas, one with quotes parsed as CSV).
//! Match numbers are per run, so matched.csv's are renumbered in merged
//! order, and review.csv's review items follow them.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context};
use csv::ByteRecord;

use crate::output::tables::match_id;

/// How the rows of a file are ordered in a run's output. A row is ordered
/// as its `RowRef`: side, line, then this run's row before a carried-in row
/// of the same line (which has a `carried_from`, or an item `carried:…`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Order {
    /// By side (ledger first), then line.
    Rows,
    /// matched.csv: matches by their first ledger row, then first bank row.
    Matches,
    /// review.csv: review items by match number, then rows by side and line.
    Review,
}

/// What of the merged file is kept in memory (for report.html).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Keep {
    /// Every row.
    All,
    /// Only matched.csv's rows flagged for review (what a streamed run keeps).
    Review,
    /// The first rows (what report.html shows of a worklist).
    Head(usize),
}

/// New match ids of the review-flagged matches: (partition, old id) → new id.
pub(super) type MatchIds = HashMap<(usize, Vec<u8>), Vec<u8>>;

/// One partition's file being read, one unit ahead.
struct Source {
    part: usize,
    path: PathBuf,
    reader: BufReader<File>,
    ahead: Option<Row>,
    unit: Vec<Row>,
    /// The unit's place in the order (unused places are 0).
    key: [u64; 6],
}

/// One record of a result file as its run wrote it: its bytes, line end included.
struct Row(Vec<u8>);

impl Row {
    /// Reads the next record: lines up to one that closes every quote
    /// (a quoted field may span lines); blank lines are skipped, as csv does.
    fn read(reader: &mut impl BufRead) -> std::io::Result<Option<Row>> {
        let mut raw = Vec::new();
        loop {
            let start = raw.len();
            if reader.read_until(b'\n', &mut raw)? == 0 {
                break;
            }
            if start == 0 && matches!(&raw[..], b"\n" | b"\r\n") {
                raw.clear();
                continue;
            }
            if memchr::memchr_iter(b'"', &raw).count().is_multiple_of(2) {
                break;
            }
        }
        if !raw.is_empty() && !raw.ends_with(b"\n") {
            raw.push(b'\n');
        }
        Ok((!raw.is_empty()).then_some(Row(raw)))
    }

    /// The record without its line end.
    fn body(&self) -> &[u8] {
        let body = self.0.strip_suffix(b"\n").unwrap_or(&self.0);
        body.strip_suffix(b"\r").unwrap_or(body)
    }

    /// The record's fields, parsed as CSV.
    fn parsed(&self) -> ByteRecord {
        let mut record = ByteRecord::new();
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(self.body());
        // An unreadable record has no fields: it sorts last and is copied as it is.
        let _ = reader.read_byte_record(&mut record);
        record
    }

    /// Field `i` (empty when the record has fewer), read as csv reads what
    /// a csv writer wrote: a field in quotes is unquoted (`""` is `"`).
    fn field(&self, i: usize) -> Cow<'_, [u8]> {
        let body = self.body();
        let mut at = 0;
        let mut n = 0;
        loop {
            let quoted = body.get(at) == Some(&b'"');
            // Where the field's text ends: its closing quote, when quoted.
            let mut end = at;
            let mut escaped = false;
            if quoted {
                end = at + 1;
                loop {
                    match memchr::memchr(b'"', &body[end..]) {
                        Some(q) if body.get(end + q + 1) == Some(&b'"') => {
                            end += q + 2;
                            escaped = true;
                        }
                        Some(q) => {
                            end += q;
                            break;
                        }
                        None => {
                            end = body.len();
                            break;
                        }
                    }
                }
            }
            let stop = memchr::memchr(b',', &body[end..]).map_or(body.len(), |c| end + c);
            if n == i {
                return match (quoted, escaped) {
                    (false, _) => Cow::Borrowed(&body[at..stop]),
                    (true, false) => Cow::Borrowed(&body[at + 1..end]),
                    (true, true) => Cow::Owned(unescape(&body[at + 1..end])),
                };
            }
            if stop == body.len() {
                return Cow::Borrowed(&[]);
            }
            at = stop + 1;
            n += 1;
        }
    }

    /// The record with its first field replaced.
    fn with_first(self, first: &[u8]) -> Row {
        if self.0.first() != Some(&b'"') {
            let end = memchr::memchr(b',', self.body()).unwrap_or(self.body().len());
            let mut raw = Vec::with_capacity(self.0.len() + first.len());
            raw.extend_from_slice(first);
            raw.extend_from_slice(&self.0[end..]);
            return Row(raw);
        }
        let mut record = ByteRecord::new();
        record.push_field(first);
        for field in self.parsed().iter().skip(1) {
            record.push_field(field);
        }
        let mut writer = csv::Writer::from_writer(Vec::new());
        // Writing to memory cannot fail.
        let _ = writer.write_byte_record(&record);
        Row(writer.into_inner().unwrap_or_default())
    }
}

/// A quoted field's text with each `""` read as `"`.
fn unescape(text: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    let mut k = 0;
    while k < text.len() {
        out.push(text[k]);
        k += 1 + usize::from(text[k] == b'"');
    }
    out
}

/// Column positions the order needs.
struct Columns {
    side: usize,
    line: usize,
    review: Option<usize>,
    kind: Option<usize>,
    /// `carried_from` (with `--carry-in`), else an `item` column (resolutions.csv).
    carried: Option<usize>,
    item: Option<usize>,
}

impl Columns {
    fn of(header: &ByteRecord, order: Order) -> Option<Columns> {
        let at = |name: &str| header.iter().position(|h| h == name.as_bytes());
        Some(match order {
            Order::Review => Columns {
                side: 0,
                line: 0,
                review: None,
                kind: at("kind"),
                carried: None,
                item: None,
            },
            _ => Columns {
                side: at("side")?,
                line: at("line")?,
                review: at("review"),
                kind: None,
                carried: at("carried_from"),
                item: at("item"),
            },
        })
    }
}

fn side_rank(side: &[u8]) -> u64 {
    u64::from(side != b"ledger")
}

/// A review or resolution item's row (`ledger:12`, `carried:bank:7`): its
/// side rank, line and origin rank (carried in after this run's rows).
fn item_row(item: &[u8]) -> [u64; 3] {
    let (origin, rest) = match item.strip_prefix(b"carried:") {
        Some(rest) => (1, rest),
        None => (0, item),
    };
    let text = std::str::from_utf8(rest).unwrap_or_default();
    let (side, line) = text.rsplit_once(':').unwrap_or(("", ""));
    [side_rank(side.as_bytes()), number(line.as_bytes()), origin]
}

impl Columns {
    /// 1 for a row carried in, 0 for a row of this run's files.
    fn origin(&self, r: &Row) -> u64 {
        match (self.carried, self.item) {
            (Some(i), _) => u64::from(!r.field(i).is_empty()),
            (None, Some(i)) => u64::from(r.field(i).starts_with(b"carried:")),
            (None, None) => 0,
        }
    }
}

fn number(bytes: &[u8]) -> u64 {
    std::str::from_utf8(bytes)
        .ok()
        .and_then(|t| t.parse().ok())
        .unwrap_or(u64::MAX)
}

/// Merges `inputs` (one per partition: partition number, path) into `out`;
/// returns the kept rows under the header. `out` is written (and hashed) on
/// a thread of its own, a megabyte at a time, while the rows are merged.
pub(super) fn merge(
    inputs: &[(usize, &Path)],
    order: Order,
    keep: Keep,
    ids: &mut MatchIds,
    mut out: impl Write + Send,
) -> anyhow::Result<Vec<u8>> {
    let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<u8>>(2);
    std::thread::scope(|scope| {
        let writer = scope.spawn(move || -> std::io::Result<()> {
            for bytes in rx {
                out.write_all(&bytes)?;
            }
            out.flush()
        });
        let mut aside = Aside {
            bytes: Vec::with_capacity(ASIDE_BYTES),
            tx,
        };
        let merged = merge_rows(inputs, order, keep, ids, &mut aside).and_then(|kept| {
            aside.flush()?;
            Ok(kept)
        });
        drop(aside);
        let written = writer
            .join()
            .map_err(|_| anyhow!("the thread writing a merged file failed"))?;
        // The writer's error says more than the merge's failing to hand it bytes.
        written?;
        merged
    })
}

/// Bytes handed to the writing thread at a time.
const ASIDE_BYTES: usize = 1 << 20;

/// Bytes gathered for the writing thread.
struct Aside {
    bytes: Vec<u8>,
    tx: std::sync::mpsc::SyncSender<Vec<u8>>,
}

impl Write for Aside {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.bytes.extend_from_slice(buf);
        if self.bytes.len() >= ASIDE_BYTES {
            self.flush()?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.bytes.is_empty() {
            return Ok(());
        }
        let full = std::mem::replace(&mut self.bytes, Vec::with_capacity(ASIDE_BYTES));
        self.tx
            .send(full)
            .map_err(|_| std::io::Error::other("the writing thread stopped"))
    }
}

/// `merge` of the rows into `file`.
fn merge_rows(
    inputs: &[(usize, &Path)],
    order: Order,
    keep: Keep,
    ids: &mut MatchIds,
    file: &mut impl Write,
) -> anyhow::Result<Vec<u8>> {
    let mut header: Option<Row> = None;
    let mut sources = Vec::new();
    for &(part, path) in inputs {
        let file = File::open(path).with_context(|| format!("{}: cannot read", path.display()))?;
        let mut reader = BufReader::with_capacity(1 << 18, file);
        let h = Row::read(&mut reader)
            .with_context(|| format!("{}: cannot read", path.display()))?
            .unwrap_or(Row(Vec::new()));
        match &header {
            Some(first) if first.body() != h.body() => {
                return Err(anyhow!(
                    "{}: its columns differ from the other partitions' (a currency column appears only when a partition holds a row in another currency than CNY); these partitions cannot be merged byte for byte",
                    path.display()
                ))
            }
            Some(_) => {}
            None => header = Some(h),
        }
        sources.push(Source {
            part,
            path: path.to_path_buf(),
            reader,
            ahead: None,
            unit: Vec::new(),
            key: [0; 6],
        });
    }
    let Some(header) = header else {
        return Ok(Vec::new());
    };
    let columns = Columns::of(&header.parsed(), order)
        .ok_or_else(|| anyhow!("result file without side and line columns"))?;
    let mut kept = Vec::new();
    file.write_all(&header.0)?;
    kept.extend_from_slice(&header.0);
    for s in &mut sources {
        s.next(order, &columns, ids)?;
    }
    let mut matches = 0usize;
    let mut rows = 0usize;
    while let Some(at) = (0..sources.len())
        .filter(|&i| !sources[i].unit.is_empty())
        .min_by(|&a, &b| sources[a].key.cmp(&sources[b].key))
    {
        let source = &mut sources[at];
        let review = match (order, columns.review) {
            (Order::Matches, Some(i)) => *source.unit[0].field(i) == *b"true",
            _ => false,
        };
        for row in std::mem::take(&mut source.unit) {
            let row = match order {
                Order::Matches => {
                    let new = match_id(matches).into_bytes();
                    if review {
                        ids.insert((source.part, row.field(0).into_owned()), new.clone());
                    }
                    row.with_first(&new)
                }
                Order::Review if columns.kind.is_some_and(|k| *row.field(k) == *b"review") => {
                    let id = row.field(0).into_owned();
                    let new = ids.get(&(source.part, id)).ok_or_else(|| {
                        anyhow!(
                            "review.csv item {} of partition {} is no flagged match of its matched.csv",
                            String::from_utf8_lossy(&row.field(0)),
                            source.part
                        )
                    })?;
                    row.with_first(new)
                }
                _ => row,
            };
            file.write_all(&row.0)?;
            let wanted = match keep {
                Keep::All => true,
                Keep::Review => review,
                Keep::Head(n) => rows < n,
            };
            if wanted {
                kept.extend_from_slice(&row.0);
            }
            rows += 1;
        }
        matches += 1;
        source.next(order, &columns, ids)?;
    }
    Ok(kept)
}

impl Source {
    fn read(&mut self) -> anyhow::Result<Option<Row>> {
        if let Some(r) = self.ahead.take() {
            return Ok(Some(r));
        }
        Row::read(&mut self.reader).with_context(|| format!("{}: cannot read", self.path.display()))
    }

    /// Reads the next unit and its key (an empty unit at the end).
    fn next(&mut self, order: Order, c: &Columns, ids: &MatchIds) -> anyhow::Result<()> {
        self.unit.clear();
        let Some(first) = self.read()? else {
            return Ok(());
        };
        let row = |r: &Row| (side_rank(&r.field(c.side)), number(&r.field(c.line)), c.origin(r));
        self.key = match order {
            Order::Rows => {
                let (side, line, origin) = row(&first);
                [side, line, origin, 0, 0, 0]
            }
            Order::Review => match c.kind.map(|k| first.field(k)).as_deref() {
                Some(b"review") => {
                    let new = ids.get(&(self.part, first.field(0).into_owned()));
                    [0, new.map_or(u64::MAX, |n| number(&n[1..])), 0, 0, 0, 0]
                }
                _ => {
                    let [side, line, origin] = item_row(&first.field(0));
                    [1, side, line, origin, 0, 0]
                }
            },
            Order::Matches => {
                let id = first.field(0).into_owned();
                self.unit.push(first);
                loop {
                    match self.read()? {
                        Some(r) if *r.field(0) == *id => self.unit.push(r),
                        other => {
                            self.ahead = other;
                            break;
                        }
                    }
                }
                // (present, line, origin) per side: a match without ledger rows sorts first, as in a run.
                let mut key = [0; 6];
                for r in &self.unit {
                    let (side, line, origin) = row(r);
                    let slot = 3 * side as usize;
                    if key[slot] == 0 || (line, origin) < (key[slot + 1], key[slot + 2]) {
                        key[slot] = 1;
                        key[slot + 1] = line;
                        key[slot + 2] = origin;
                    }
                }
                self.key = key;
                return Ok(());
            }
        };
        self.unit.push(first);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every field of `text` as `field` reads it, against the csv crate's reading.
    fn fields_both_ways(text: &str) -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
        let row = Row::read(&mut text.as_bytes()).unwrap().unwrap();
        let csv: Vec<Vec<u8>> = row.parsed().iter().map(<[u8]>::to_vec).collect();
        let ours = (0..csv.len() + 1).map(|i| row.field(i).into_owned()).collect();
        let mut csv = csv;
        csv.push(Vec::new());
        (ours, csv)
    }

    #[test]
    fn fields_are_read_as_csv_reads_them() {
        for text in [
            "M000001,ledger,12,\"1,234.00\",plain\n",
            "a,\"say \"\"hi\"\", twice\",,\"\"\r\n",
            "\"quoted first\",\"two\nlines\",last\n",
            "\"\"\"\",x\n",
            "one\n",
        ] {
            let (ours, csv) = fields_both_ways(text);
            assert_eq!(ours, csv, "{text:?}");
        }
    }

    #[test]
    fn a_record_over_lines_is_one_row_copied_as_written_and_renumbered_in_place() {
        let text = "M000007,\"memo\nover lines\",ledger,3\nM000008,x,bank,4\n";
        let mut reader = text.as_bytes();
        let first = Row::read(&mut reader).unwrap().unwrap();
        assert_eq!(first.0, b"M000007,\"memo\nover lines\",ledger,3\n");
        assert_eq!(
            first.with_first(b"M000001").0,
            b"M000001,\"memo\nover lines\",ledger,3\n"
        );
        let second = Row::read(&mut reader).unwrap().unwrap();
        assert_eq!(&*second.field(3), b"4");
        assert!(Row::read(&mut reader).unwrap().is_none());
        let quoted = Row(b"\"M,1\",x\n".to_vec());
        assert_eq!(quoted.with_first(b"M000002").0, b"M000002,x\n");
    }
}
