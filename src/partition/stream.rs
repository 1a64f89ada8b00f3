//! `recon split` of a large text file in one pass with bounded memory: the
//! file is read in pieces of about a megabyte cut after a line break, each
//! piece hashed, decoded and typed (`input::chunked::TypedStream`), and its
//! lines written, byte for byte, to the partitions of their rows. Only what
//! the file's first pieces decide for sure is streamed (encoding, delimiter,
//! header); a file they cannot decide, a bad row, or a day with no row in the
//! period is left to the whole-file reader, which decides or reports it
//! exactly as a run does.

use std::collections::VecDeque;
use std::fs::File;
use std::io::Write;

use rayon::prelude::*;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context};
use sha2::Digest;

use super::split::WrittenSide;
use super::PartitionKey;
use crate::input::chunked::{quotes_closed, Settled, TypedStream};
use crate::input::encoding::{decide_on_head, decode_piece_strictly};
use crate::input::pieces::Pieces;
use crate::input::{self, excel};
use crate::matching::period::in_period;
use crate::model::{Side, Tally};
use crate::rules::business::BusinessDay;
use crate::rules::plan::SidePlan;

pub(super) use crate::input::pieces::{HEAD_BYTES, PIECE_BYTES};

/// A line that goes to every partition (the header and what is above it).
pub(super) const EVERY: u32 = u32::MAX;

/// What one streamed side needs besides its file.
pub(super) struct StreamSide<'a> {
    pub path: &'a Path,
    pub side: Side,
    pub plan: &'a SidePlan,
    pub key: PartitionKey,
    pub dirs: &'a [PathBuf],
    /// The business day and statement end, to check some row falls in it.
    pub period: Option<(&'a BusinessDay, Option<chrono::DateTime<chrono::Utc>>)>,
    pub skip_bad_rows: bool,
}

/// Streams one side into the partitions; `Ok(None)` when the file is to be
/// read whole instead (the partition files it began are then rewritten).
pub(super) fn stream_side(
    s: &StreamSide,
    head_bytes: usize,
    piece_bytes: usize,
) -> anyhow::Result<Option<WrittenSide>> {
    if !input::typed_in_chunks(s.plan) {
        return Ok(None);
    }
    let Ok(file) = File::open(s.path) else {
        return Ok(None);
    };
    if file
        .metadata()
        .map_or(true, |m| !m.is_file() || m.len() <= head_bytes as u64)
    {
        return Ok(None);
    }
    let mut pieces = Pieces::new(file);
    let read_error = |e: std::io::Error| anyhow!("{}: cannot read: {e}", s.path.display());
    let Some(head) = pieces.next(head_bytes).map_err(read_error)? else {
        return Ok(None);
    };
    if excel::workbook_kind(&head).is_some() || excel::is_html_disguised_as_workbook(s.path, &head) {
        return Ok(None);
    }
    let Some((encoding, bom, _)) = decide_on_head(&head, s.plan.encoding) else {
        return Ok(None);
    };
    let Some(head_text) = decode_piece_strictly(&head[bom..], encoding) else {
        return Ok(None);
    };
    let options = input::table_options(s.plan);
    let Some((stream, table, data_start)) = TypedStream::start(&head_text, &options, s.side, s.plan) else {
        return Ok(None);
    };
    // A `;` file may write decimal commas, which only its whole amount column tells.
    if table.delimiter == b';' {
        return Ok(None);
    }
    let mut router = Router::create(s, table.header_line)?;
    router.hold(&head);
    let text = head_text[data_start..].to_string();
    drop(head_text);
    // The rest of the file is read (and hashed) on a thread of its own, a
    // few pieces ahead, while the pieces before are decoded and typed on
    // every thread and written out in file order.
    let wave = 2 * rayon::current_num_threads().max(1);
    let (tx, rx) = std::sync::mpsc::sync_channel::<std::io::Result<Vec<u8>>>(wave);
    let (tally, hasher) = std::thread::scope(|scope| {
        // A send fails once the typing side stopped: the file is read whole instead.
        let reader = scope.spawn(move || pieces.send_rest(piece_bytes, tx).0);
        let tally = route_pieces(
            s,
            Typing {
                stream,
                delimiter: table.delimiter,
                encoding,
                wave,
            },
            text,
            rx,
            &mut router,
        );
        let hasher = reader
            .join()
            .map_err(|_| anyhow!("{}: the reading thread failed", s.path.display()));
        (tally, hasher)
    });
    let Some((input, bad_rows, in_day)) = tally? else {
        return Ok(None);
    };
    let hasher = hasher?;
    if (bad_rows > 0 && !s.skip_bad_rows) || (!in_day && input.count > 0) {
        return Ok(None);
    }
    let mut input = input;
    input.count += bad_rows;
    let rows = router.finish()?;
    Ok(Some(WrittenSide {
        name: s.side.name(),
        path: s.path.display().to_string(),
        sha256: crate::digest::hex(&hasher.finalize()),
        encoding: encoding.name().to_string(),
        delimiter: char::from(table.delimiter),
        rows,
        input,
    }))
}

/// How the pieces after the head are typed.
struct Typing<'p> {
    stream: TypedStream<'p>,
    delimiter: u8,
    encoding: &'static encoding_rs::Encoding,
    /// Pieces decoded and typed at once.
    wave: usize,
}

/// Decodes, types and routes the pieces `rx` brings, after the head's data
/// `text`, a wave at a time: decoding and typing on every thread, then the
/// rows settled, in file order. Returns the rows' tally, the bad rows and
/// whether some row fell in the period; `None` when the file is to be read
/// whole instead.
fn route_pieces(
    s: &StreamSide,
    typing: Typing,
    mut text: String,
    rx: std::sync::mpsc::Receiver<std::io::Result<Vec<u8>>>,
    router: &mut Router,
) -> anyhow::Result<Option<(Tally, u64, bool)>> {
    let Typing {
        mut stream,
        delimiter,
        encoding,
        wave,
    } = typing;
    let mut input = Tally::default();
    let mut bad_rows = 0u64;
    let mut in_day = s.period.is_none();
    let mut eof = false;
    while !eof {
        let mut raws = Vec::with_capacity(wave);
        while raws.len() < wave {
            match rx.recv() {
                Ok(Ok(raw)) => raws.push(raw),
                Ok(Err(e)) => return Err(anyhow!("{}: cannot read: {e}", s.path.display())),
                Err(_) => {
                    eof = true;
                    break;
                }
            }
        }
        let decoded: Vec<Option<std::borrow::Cow<str>>> = raws
            .par_iter()
            .map(|raw| decode_piece_strictly(raw, encoding))
            .collect();
        // Cut the text at record boundaries: a piece whose quotes are still
        // open goes on into the next one.
        let mut texts = Vec::with_capacity(wave + 1);
        for (raw, piece) in raws.iter().zip(decoded) {
            let Some(piece) = piece else {
                return Ok(None);
            };
            if !text.is_empty() {
                match quotes_closed(text.as_bytes(), delimiter) {
                    None => return Ok(None),
                    Some(false) => {}
                    Some(true) => texts.push(std::mem::replace(
                        &mut text,
                        String::with_capacity(2 * piece.len()),
                    )),
                }
            }
            text.push_str(&piece);
            router.hold(raw);
        }
        drop(raws);
        if eof && !text.is_empty() {
            if quotes_closed(text.as_bytes(), delimiter).is_none() {
                return Ok(None);
            }
            texts.push(std::mem::take(&mut text));
        }
        // Each piece's place, and the line after it.
        let placed: Vec<_> = texts
            .iter()
            .map(|t| (stream.place(t), stream.next_line()))
            .collect();
        let typed: Vec<_> = placed
            .par_iter()
            .map(|(p, end)| (stream.type_piece(p), *end))
            .collect();
        drop(placed);
        for (piece, end) in typed {
            let Some(settled) = stream.absorb(piece) else {
                return Ok(None);
            };
            in_day = in_day
                || settled.records.iter().any(|r| {
                    s.period
                        .is_some_and(|(day, until)| in_period(s.side, day, r, until))
                });
            input += Tally::of(&settled.records);
            bad_rows += settled.rejected.len() as u64;
            router.route(&settled, s.key);
            router.write_before(stream.unsettled_from().unwrap_or(end));
        }
        if eof {
            break;
        }
        router.flush()?;
    }
    let settled = stream.finish().settled;
    input += Tally::of(&settled.records);
    bad_rows += settled.rejected.len() as u64;
    in_day = in_day
        || settled.records.iter().any(|r| {
            s.period
                .is_some_and(|(day, until)| in_period(s.side, day, r, until))
        });
    router.route(&settled, s.key);
    router.write_before(u64::MAX);
    router.flush()?;
    Ok(Some((input, bad_rows, in_day)))
}

/// Writes lines to the partitions of their rows: lines up to the header to
/// every partition, a row's lines to its partition, any other line (blank,
/// trailer, a row's continuation) where the line before it went. Lines are
/// gathered per partition and written a wave at a time, every partition's
/// files on any thread.
struct Router {
    /// Per partition: its data file and its line map, and what they still take.
    files: Vec<[(File, Vec<u8>); 2]>,
    header_line: u64,
    /// Where the last line went.
    current: u32,
    /// Rows per partition.
    rows: Vec<u64>,
    /// Lines read, routed up to `routed`; the unrouted ones are from line `held_line` on.
    held: Vec<u8>,
    routed: usize,
    held_line: u64,
    /// The settled rows not routed yet: (line, partition).
    owners: VecDeque<(u64, u32)>,
}

impl Router {
    fn create(s: &StreamSide, header_line: u64) -> anyhow::Result<Router> {
        let create = |dir: &PathBuf, file: String| -> anyhow::Result<(File, Vec<u8>)> {
            let path = dir.join(file);
            let file = File::create(&path).with_context(|| format!("{}: cannot create", path.display()))?;
            Ok((file, Vec::new()))
        };
        let name = s.side.name();
        Ok(Router {
            files: s
                .dirs
                .iter()
                .map(|d| {
                    Ok([
                        create(d, format!("{name}.csv"))?,
                        create(d, format!("{name}.lines"))?,
                    ])
                })
                .collect::<anyhow::Result<_>>()?,
            header_line,
            current: EVERY,
            rows: vec![0; s.dirs.len()],
            held: Vec::new(),
            routed: 0,
            held_line: 1,
            owners: VecDeque::new(),
        })
    }

    /// Keeps `raw` to route, after what is held.
    fn hold(&mut self, raw: &[u8]) {
        // What was routed is dropped here, not line by line: only the unrouted rest moves.
        self.held.drain(..std::mem::take(&mut self.routed));
        self.held.extend_from_slice(raw);
    }

    /// Records go to their key's partition, unreadable rows to the first.
    fn route(&mut self, settled: &Settled, key: PartitionKey) {
        let parts = self.files.len();
        let mut owners: Vec<(u64, u32)> = settled
            .records
            .iter()
            .map(|r| (r.line(), PartitionKey::part_of(key.value(r), parts) as u32))
            .chain(settled.rejected.iter().map(|(e, _)| (e.line, 0)))
            .collect();
        owners.sort_unstable();
        for &(_, part) in &owners {
            self.rows[part as usize] += 1;
        }
        self.owners.extend(owners);
    }

    /// Routes the held lines before line `end` to their partitions' buffers.
    fn write_before(&mut self, end: u64) {
        let mut start = self.routed;
        let mut number = itoa::Buffer::new();
        while self.held_line < end && start < self.held.len() {
            let stop = memchr::memchr(b'\n', &self.held[start..]).map_or(self.held.len(), |i| start + i + 1);
            let line = self.held_line;
            if line <= self.header_line {
                self.current = EVERY;
            }
            if let Some(&(_, part)) = self.owners.front().filter(|(l, _)| *l == line) {
                self.current = part;
                self.owners.pop_front();
            }
            let bytes = &self.held[start..stop];
            let targets = if self.current == EVERY {
                0..self.files.len()
            } else {
                self.current as usize..self.current as usize + 1
            };
            let digits = number.format(line).as_bytes();
            for [(_, data), (_, map)] in &mut self.files[targets] {
                data.extend_from_slice(bytes);
                map.extend_from_slice(digits);
                map.push(b'\n');
            }
            self.held_line += 1;
            start = stop;
        }
        self.routed = start;
    }

    /// Writes what the partitions' files took since the last flush.
    fn flush(&mut self) -> anyhow::Result<()> {
        self.files
            .par_iter_mut()
            .flat_map_iter(|pair| pair.iter_mut())
            .try_for_each(|(file, bytes)| {
                file.write_all(bytes)?;
                bytes.clear();
                Ok(())
            })
            .map_err(|e: std::io::Error| anyhow!("cannot write the partitions: {e}"))
    }

    fn finish(mut self) -> anyhow::Result<Vec<u64>> {
        self.flush()?;
        Ok(self.rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::plan::Plan;

    fn plan() -> Plan {
        let text = "[rules]\nname = \"t\"\nversion = \"1\"\neffective_from = 2026-01-01\n\
             [ledger.columns]\nkey = \"order\"\namount = \"amount\"\ntime = \"time\"\nmerchant = \"merchant\"\n\
             [bank.columns]\nkey = \"order\"\namount = \"amount\"\n\
             [[stage]]\nname = \"id\"\nmatch = \"key\"\n";
        let file: crate::rules::schema::RuleFile = toml::from_str(text).unwrap();
        crate::rules::plan::build(&file, "t.toml", "0").unwrap()
    }

    /// A ledger with a preamble, CRLF line ends, memos spanning lines, blank
    /// lines, one unreadable amount (`bad`) and a trailer.
    fn ledger(rows: usize, bad: bool) -> String {
        let mut text = String::from("Ledger export, 2026-11-24\r\n\r\norder,amount,time,merchant,memo\r\n");
        for i in 0..rows {
            let amount = if bad && i == rows / 2 {
                "12x.00".to_string()
            } else {
                format!("{}.{:02}", i % 900 + 1, i % 100)
            };
            let memo = if i % 37 == 0 {
                "\"two\r\nlines, quoted \"\"here\"\"\""
            } else {
                "plain"
            };
            text.push_str(&format!(
                "A{i:06},{amount},2026-11-24 10:{:02}:00,M{},{memo}\r\n",
                i % 60,
                i % 13
            ));
            if i % 501 == 0 {
                text.push_str("\r\n");
            }
        }
        text.push_str("合计,1234.00,,,\r\n共 9 笔\r\n");
        text
    }

    /// Every file the two ways of writing one side put in the partitions, and what they report.
    fn both_ways(text: &str, skip_bad_rows: bool) -> (Option<Vec<Vec<u8>>>, Vec<Vec<u8>>) {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("ledger.csv");
        std::fs::write(&path, text).unwrap();
        let plan = plan();
        let files = |dirs: &[PathBuf]| -> Vec<Vec<u8>> {
            dirs.iter()
                .flat_map(|d| ["ledger.csv", "ledger.lines"].map(|f| std::fs::read(d.join(f)).unwrap()))
                .collect()
        };
        let dirs = |name: &str| -> Vec<PathBuf> {
            (0..3)
                .map(|k| {
                    let d = tmp.path().join(format!("{name}{k}"));
                    std::fs::create_dir(&d).unwrap();
                    d
                })
                .collect()
        };
        let (streamed, whole) = (dirs("s"), dirs("w"));
        let side = StreamSide {
            path: &path,
            side: Side::Ledger,
            plan: &plan.ledger,
            key: PartitionKey::Merchant,
            dirs: &streamed,
            period: None,
            skip_bad_rows,
        };
        let written = stream_side(&side, 64 << 10, 4 << 10).unwrap();
        let source = input::read_source(&path, Side::Ledger, &plan.ledger).unwrap();
        let reference =
            super::super::split::write_side(&source, &path, Side::Ledger, PartitionKey::Merchant, &whole)
                .unwrap();
        let streamed_files = written.map(|w| {
            assert_eq!(w.rows, reference.rows);
            assert_eq!(w.input, reference.input);
            assert_eq!(
                (w.sha256, w.encoding, w.delimiter),
                (reference.sha256, reference.encoding, reference.delimiter)
            );
            files(&streamed)
        });
        (streamed_files, files(&whole))
    }

    #[test]
    fn a_file_streamed_in_pieces_is_cut_as_when_read_whole() {
        let text = ledger(3000, false);
        assert!(text.len() > (64 << 10) + 8 * (4 << 10), "many pieces");
        let (streamed, whole) = both_ways(&text, false);
        assert_eq!(streamed.expect("streamed"), whole);
        // Rows with memos over two lines and the trailer went somewhere, all of them.
        let lines: usize = whole
            .iter()
            .skip(1)
            .step_by(2)
            .map(|m| m.split(|&b| b == b'\n').count() - 1)
            .sum();
        assert_eq!(
            lines,
            text.matches('\n').count() + 3 * 2,
            "every line once, the 3 header lines in all 3 partitions"
        );
    }

    #[test]
    fn a_byte_order_mark_and_a_last_line_without_line_end_stream_too() {
        let text = format!("\u{feff}{}", ledger(3000, false));
        let text = text.strip_suffix("\r\n").unwrap();
        let (streamed, whole) = both_ways(text, false);
        assert_eq!(streamed.expect("streamed"), whole);
        // Old-Mac line ends (CR only) are left to the whole-file reader.
        let (streamed, _) = both_ways(&ledger(3000, false).replace("\r\n", "\r"), false);
        assert!(streamed.is_none());
    }

    #[test]
    fn a_bad_row_is_left_to_the_whole_file_reader_unless_bad_rows_are_skipped() {
        let text = ledger(3000, true);
        assert!(both_ways(&text, false).0.is_none());
        let (streamed, whole) = both_ways(&text, true);
        assert_eq!(streamed.expect("streamed"), whole);
    }

    #[test]
    fn a_small_file_is_read_whole() {
        let (streamed, _) = both_ways(&ledger(100, false), false);
        assert!(streamed.is_none());
    }
}
