//! Reading a text file in bounded pieces: `recon run` (through
//! `read_source`) and `recon split` never hold a large file's bytes or its
//! decoded text whole. The file is read in pieces cut after a line break and
//! hashed as it is read (`Pieces`), on a thread of its own a few pieces ahead;
//! each piece is decoded and typed on every core (`chunked::TypedStream`),
//! giving the records, rejected rows, skipped lines and line count the
//! whole-text reader (`chunked::read_typed`) gives. Only what the file's first
//! piece decides for sure is streamed (encoding, delimiter, header); a file it
//! cannot decide, or a piece that does not decode or holds an error the
//! whole-text reader reports (an unclosed quote, a field too long), is left
//! to that reader, which decides or reports it with its file:line:column.
//!
//! Test hook: `RECON_TEST_PIECE_BYTES="HEAD PIECE"` reads every file larger
//! than `HEAD` bytes in a first piece of `HEAD` bytes and later pieces of
//! `PIECE` bytes (`N` alone: both), so that a test can cut a small file at
//! many places.

use std::borrow::Cow;
use std::fs::File;
use std::io::Read;
use std::path::Path;
use std::sync::mpsc::{Receiver, SyncSender};

use rayon::prelude::*;
use sha2::{Digest, Sha256};

use super::chunked::{quotes_closed, Settled, TypedStream};
use super::encoding::{decide_on_head, decode_piece_strictly};
use super::plan::SidePlan;
use super::records::Typed;
use super::table::SkippedLines;
use super::{excel, table_options, typed_in_chunks, Located, ReadError, SourceFile};
use crate::model::Side;

/// Bytes of the first piece: enough for encoding detection's window and
/// the rows that locate the header; smaller files are read whole.
pub const HEAD_BYTES: usize = 2 << 20;

/// Bytes of every later piece.
pub const PIECE_BYTES: usize = 1 << 20;

/// A file read in pieces that end after a line break (the last one at the
/// file's end), hashed as they are read.
pub struct Pieces {
    file: File,
    hasher: Sha256,
    /// Bytes read so far.
    read: u64,
    /// Bytes read after the last piece's line break.
    carry: Vec<u8>,
    eof: bool,
}

impl Pieces {
    /// Reads `file` from its start.
    pub fn new(file: File) -> Pieces {
        Pieces {
            file,
            hasher: Sha256::new(),
            read: 0,
            carry: Vec::new(),
            eof: false,
        }
    }

    /// The next piece: its first `size` bytes and the rest of the line they
    /// end in (fewer when the file ends first).
    pub fn next(&mut self, size: usize) -> std::io::Result<Option<Vec<u8>>> {
        let size = size.max(1);
        let mut buf = std::mem::take(&mut self.carry);
        loop {
            if buf.len() >= size {
                if let Some(end) = memchr::memchr(b'\n', &buf[size - 1..]) {
                    self.carry = buf.split_off(size + end);
                    return Ok(Some(buf));
                }
            }
            if self.eof {
                return Ok((!buf.is_empty()).then_some(buf));
            }
            let old = buf.len();
            buf.resize(old + size.max(1 << 16), 0);
            let n = self.file.read(&mut buf[old..])?;
            buf.truncate(old + n);
            self.hasher.update(&buf[old..]);
            self.read += n as u64;
            self.eof = n == 0;
        }
    }

    /// The hash of every byte read.
    pub fn into_hasher(self) -> Sha256 {
        self.hasher
    }

    /// Sends the pieces after the ones taken so far to `tx`, `size` bytes
    /// each, until the file ends, a read fails (sent too) or the receiver
    /// hangs up; returns the hash and size of what was read.
    pub fn send_rest(mut self, size: usize, tx: SyncSender<std::io::Result<Vec<u8>>>) -> (Sha256, u64) {
        while let Some(piece) = self.next(size).transpose() {
            let failed = piece.is_err();
            if tx.send(piece).is_err() || failed {
                break;
            }
        }
        (self.hasher, self.read)
    }
}

/// Head and piece sizes: `HEAD_BYTES` and `PIECE_BYTES`, or the test
/// hook's (see the module docs).
fn sizes() -> (usize, usize) {
    let test = std::env::var("RECON_TEST_PIECE_BYTES").unwrap_or_default();
    let sizes: Vec<usize> = test.split(' ').filter_map(|n| n.parse().ok()).collect();
    match sizes[..] {
        [n] => (n, n),
        [head, piece] => (head, piece),
        _ => (HEAD_BYTES, PIECE_BYTES),
    }
}

/// Reads one side's text file in pieces and types its rows, as
/// `read_source` would read it whole; `Ok(None)` when it is to be read whole
/// (see the module docs): a workbook, a small file, columns guessed or
/// sorted by status, a `;` file (decimal commas), an encoding or header the
/// first piece cannot decide, a piece that does not decode, an unclosed
/// quote or a field too long (rows that do not type are rejected rows, as
/// when read whole).
pub fn read_in_pieces(path: &Path, side: Side, plan: &SidePlan) -> Result<Option<SourceFile>, ReadError> {
    let (head_bytes, piece_bytes) = sizes();
    read_with(path, side, plan, head_bytes, piece_bytes)
}

fn read_with(
    path: &Path,
    side: Side,
    plan: &SidePlan,
    head_bytes: usize,
    piece_bytes: usize,
) -> Result<Option<SourceFile>, ReadError> {
    if !typed_in_chunks(plan) {
        return Ok(None);
    }
    // What cannot be opened is reported by the whole-file reader.
    let Ok(file) = File::open(path) else {
        return Ok(None);
    };
    let size = match file.metadata() {
        Ok(m) if m.is_file() && m.len() > head_bytes as u64 => m.len(),
        _ => return Ok(None),
    };
    let io_error = |source| ReadError::Io {
        path: path.into(),
        source,
    };
    let mut pieces = Pieces::new(file);
    let Some(head) = pieces.next(head_bytes).map_err(io_error)? else {
        return Ok(None);
    };
    if excel::workbook_kind(&head).is_some() || excel::is_html_disguised_as_workbook(path, &head) {
        return Ok(None);
    }
    let Some((encoding, bom, detection)) = decide_on_head(&head, plan.encoding) else {
        return Ok(None);
    };
    let Some(head_text) = decode_piece_strictly(&head[bom..], encoding) else {
        return Ok(None);
    };
    let options = table_options(plan);
    let Some((stream, table, data_start)) = TypedStream::start(&head_text, &options, side, plan) else {
        return Ok(None);
    };
    // A `;` file may write decimal commas, which only its whole amount column tells.
    if table.delimiter == b';' {
        return Ok(None);
    }
    let first = head_text[data_start..].to_string();
    let consumed = head.len() as u64;
    drop(head_text);
    drop(head);
    let wave = 4 * rayon::current_num_threads().max(1);
    let (tx, rx) = std::sync::mpsc::sync_channel(wave);
    let reading = Reading {
        stream,
        delimiter: table.delimiter,
        encoding,
        wave,
        size,
    };
    let (typed, read) = std::thread::scope(|scope| {
        let reader = scope.spawn(move || pieces.send_rest(piece_bytes, tx));
        let typed = reading.type_pieces(first, consumed, rx);
        (typed, reader.join())
    });
    let Some((typed, skipped, total_lines)) = typed.map_err(io_error)? else {
        return Ok(None);
    };
    let (hasher, read) =
        read.map_err(|_| io_error(std::io::Error::other("the thread reading the file failed")))?;
    let mut table = table;
    table.skipped = skipped;
    table.total_lines = total_lines;
    Ok(Some(SourceFile {
        located: Located {
            path: path.into(),
            sha256: crate::digest::hex(&hasher.finalize()),
            size: read,
            encoding,
            detection,
            workbook: None,
            table,
        },
        typed,
        set_aside: Vec::new(),
        profile: plan.profile.clone(),
    }))
}

/// How the pieces after the head are typed.
struct Reading<'p> {
    stream: TypedStream<'p>,
    delimiter: u8,
    encoding: &'static encoding_rs::Encoding,
    /// Pieces decoded and typed at once.
    wave: usize,
    /// The file's size, to reserve room for its records.
    size: u64,
}

impl Reading<'_> {
    /// Decodes and types the head's data `first` (after `consumed` bytes of
    /// the file), then the pieces `rx` brings, a wave at a time: decoding and
    /// typing on every thread, the rows settled in file order. Returns the
    /// rows, the skipped lines and the file's lines; `None` when the file is
    /// to be read whole.
    fn type_pieces(
        mut self,
        first: String,
        mut consumed: u64,
        rx: Receiver<std::io::Result<Vec<u8>>>,
    ) -> std::io::Result<Option<(Typed, Vec<SkippedLines>, u64)>> {
        let mut typed = Settled::default();
        // Text since the last record boundary, when a piece ended inside quotes.
        let mut open = first;
        let mut eof = false;
        while !eof {
            let mut raws = Vec::with_capacity(self.wave);
            while raws.len() < self.wave {
                match rx.recv() {
                    Ok(raw) => {
                        let raw = raw?;
                        consumed += raw.len() as u64;
                        raws.push(raw);
                    }
                    Err(_) => {
                        eof = true;
                        break;
                    }
                }
            }
            let delimiter = self.delimiter;
            let encoding = self.encoding;
            let decoded: Vec<Option<(Cow<str>, Option<bool>)>> = raws
                .par_iter()
                .map(|raw| {
                    let text = decode_piece_strictly(raw, encoding)?;
                    let closed = quotes_closed(text.as_bytes(), delimiter);
                    Some((text, closed))
                })
                .collect();
            // Texts that start and end at record boundaries: a piece whose
            // quotes are still open goes on into the next one.
            let mut texts: Vec<Cow<str>> = Vec::with_capacity(raws.len() + 1);
            if !open.is_empty() {
                match quotes_closed(open.as_bytes(), delimiter) {
                    None => return Ok(None),
                    Some(false) => {}
                    Some(true) => texts.push(Cow::Owned(std::mem::take(&mut open))),
                }
            }
            for piece in decoded {
                let Some((text, closed)) = piece else {
                    return Ok(None);
                };
                if open.is_empty() {
                    match closed {
                        None => return Ok(None),
                        Some(true) => texts.push(text),
                        Some(false) => open = text.into_owned(),
                    }
                    continue;
                }
                open.push_str(&text);
                match quotes_closed(open.as_bytes(), delimiter) {
                    None => return Ok(None),
                    Some(false) => {}
                    Some(true) => texts.push(Cow::Owned(std::mem::take(&mut open))),
                }
            }
            if eof && !open.is_empty() {
                if quotes_closed(open.as_bytes(), delimiter).is_none() {
                    return Ok(None);
                }
                texts.push(Cow::Owned(std::mem::take(&mut open)));
            }
            if !self.type_wave(&texts, &mut typed, consumed) {
                return Ok(None);
            }
        }
        let finished = self.stream.finish();
        typed.records.extend(finished.settled.records);
        typed.rejected.extend(finished.settled.rejected);
        let typed = Typed {
            records: typed.records,
            rejected: typed.rejected,
        };
        Ok(Some((typed, finished.skipped, finished.total_lines)))
    }

    /// Types `texts` on every thread and settles their rows into `typed` in
    /// file order; false when a piece holds an error. Room for the records
    /// is reserved as the text read so far (`consumed` bytes) says the
    /// file's rows will need.
    fn type_wave(&mut self, texts: &[Cow<str>], typed: &mut Settled, consumed: u64) -> bool {
        let placed: Vec<_> = texts.iter().map(|t| self.stream.place(t)).collect();
        let stream = &self.stream;
        let pieces: Vec<_> = placed.par_iter().map(|p| stream.type_piece(p)).collect();
        drop(placed);
        for piece in pieces {
            if !self.stream.absorb_into(piece, typed) {
                return false;
            }
        }
        let records = &mut typed.records;
        let expected = (records.len() as u64)
            .saturating_mul(self.size)
            .checked_div(consumed)
            .and_then(|n| usize::try_from(n).ok())
            .unwrap_or(0);
        if records.capacity() < expected {
            records.reserve_exact(expected + expected / 16 - records.len());
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::encoding::EncodingChoice;
    use crate::input::plan::{all_guessed, AmountColumns, ColumnPlan, TimeColumns};

    /// The ledger's columns, named up front, in `encoding`.
    fn plan(encoding: EncodingChoice) -> SidePlan {
        let mut plan = all_guessed(chrono_tz::Asia::Shanghai);
        plan.guess_columns = None;
        plan.encoding = encoding;
        plan.columns = ColumnPlan {
            key: Some("order".into()),
            amount: AmountColumns::Single {
                amount: "amount".into(),
                direction: None,
            },
            time: TimeColumns::One("time".into()),
            merchant: Some("merchant".into()),
            carry: vec!["memo".into()],
            ..plan.columns
        };
        plan
    }

    /// A ledger with a preamble, CRLF line ends, memos over two lines,
    /// blank lines, narrow rows among the data, bad amounts and a trailer.
    fn ledger(rows: usize) -> String {
        let mut text = String::from("对账单 Ledger export\r\n\r\norder,amount,time,merchant,memo\r\n");
        for i in 0..rows {
            let amount = if i % 997 == 5 {
                "12x.00".to_string()
            } else {
                format!("{}.{:02}", i % 900 + 1, i % 100)
            };
            let memo = match i % 37 {
                0 => "\"两行\r\nlines, quoted \"\"here\"\"\"",
                _ => "备注",
            };
            text.push_str(&format!(
                "A{i:06},{amount},2026-11-24 10:{:02}:00,M{},{memo}\r\n",
                i % 60,
                i % 13
            ));
            if i % 501 == 0 {
                text.push_str("\r\n,,,,\r\n");
            }
            if i % 777 == 3 {
                text.push_str("note\r\n");
            }
        }
        text.push_str("合计,1234.00,,,\r\n\r\n共 9 笔\r\n");
        text
    }

    /// Everything a run reads of a file, comparable between readers.
    fn seen(source: &SourceFile) -> String {
        let l = &source.located;
        let t = &l.table;
        let records = crate::input::chunked::tests::record_lines(&source.typed);
        let rejected: Vec<String> = (source.typed.rejected.iter())
            .map(|(e, raw)| {
                format!(
                    "{}:{}:{}:{}:{:?}",
                    e.line, e.column, e.message, raw.line, raw.fields
                )
            })
            .collect();
        format!(
            "{} {} {} {:?} {} {:?} {:?} {} {:?} {:?}\n{records:?}\n{rejected:?}\n{:?} {}",
            l.sha256,
            l.size,
            l.encoding.name(),
            l.detection,
            t.header_line,
            t.header,
            t.delimiter_source,
            t.delimiter,
            t.rows.len(),
            t.total_lines,
            t.skipped,
            source.set_aside.len()
        )
    }

    #[test]
    fn a_file_read_in_pieces_reads_as_when_read_whole() {
        let dir = tempfile::tempdir().unwrap();
        let text = ledger(3000);
        let gbk = encoding_rs::GBK;
        let cases = [
            (EncodingChoice::Auto, text.clone().into_bytes(), "ValidUtf8"),
            (
                EncodingChoice::Fixed(gbk),
                gbk.encode(&text).0.into_owned(),
                "GBK",
            ),
            // A byte-order mark, and a last line without a line break.
            (
                EncodingChoice::Auto,
                format!("\u{feff}{}", text.trim_end()).into_bytes(),
                "Bom",
            ),
        ];
        for (encoding, bytes, name) in cases {
            let path = dir.path().join("ledger.csv");
            std::fs::write(&path, &bytes).unwrap();
            let plan = plan(encoding);
            let whole = crate::input::read_source(&path, Side::Ledger, &plan).unwrap();
            let want = seen(&whole);
            assert!(want.contains(name) && want.contains("Trailer") && !whole.typed.rejected.is_empty());
            for piece in [1, 7, 100, 4096, 1 << 20] {
                let streamed = read_with(&path, Side::Ledger, &plan, 40 << 10, piece)
                    .unwrap()
                    .expect("read in pieces");
                assert_eq!(seen(&streamed), want, "{name}, pieces of {piece}");
            }
        }
    }

    #[test]
    fn what_the_first_piece_cannot_decide_is_read_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ledger.csv");
        let read = |bytes: &[u8]| {
            std::fs::write(&path, bytes).unwrap();
            read_with(&path, Side::Ledger, &plan(EncodingChoice::Auto), 40 << 10, 100).unwrap()
        };
        let text = ledger(3000);
        assert!(read(text.as_bytes()).is_some());
        // Not UTF-8 after the first piece: the whole read decides (and reports).
        let mut bytes = text.clone().into_bytes();
        bytes.extend_from_slice(b"B1,1.00,2026-11-24 10:00:00,M,\xff\xfe\r\n");
        assert!(read(&bytes).is_none());
        // An unclosed quote late in the file.
        assert!(read(format!("{text}\"B1,1.00,,,\n1,2,3\n4,5\n").as_bytes()).is_none());
        // Decimal commas may hide in a `;` file's amounts.
        assert!(read(text.replace(',', ";").as_bytes()).is_none());
        // A file no larger than the first piece.
        assert!(read(ledger(10).as_bytes()).is_none());
    }
}
