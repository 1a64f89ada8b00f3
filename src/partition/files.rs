//! One result file of every partition merged into the file a run of the
//! whole day writes: every partition's file is already in that order, so a
//! streaming k-way merge of its units (a row; all rows of one match) keeps
//! only one unit per partition in memory. Match numbers are per run, so
//! matched.csv's are renumbered in merged order, and review.csv's review
//! items follow them.

use std::collections::HashMap;
use std::fs::File;
use std::io::Write;
use std::path::Path;

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
    reader: csv::Reader<File>,
    ahead: Option<ByteRecord>,
    unit: Vec<ByteRecord>,
    key: Vec<u64>,
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
    fn origin(&self, r: &ByteRecord) -> u64 {
        match (self.carried, self.item) {
            (Some(i), _) => u64::from(r.get(i).is_some_and(|v| !v.is_empty())),
            (None, Some(i)) => u64::from(r.get(i).is_some_and(|v| v.starts_with(b"carried:"))),
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
/// returns the kept rows under the header.
pub(super) fn merge(
    inputs: &[(usize, &Path)],
    order: Order,
    keep: Keep,
    ids: &mut MatchIds,
    out: impl Write,
) -> anyhow::Result<Vec<u8>> {
    let mut header: Option<ByteRecord> = None;
    let mut sources = Vec::new();
    for &(part, path) in inputs {
        let mut reader = csv::ReaderBuilder::new()
            .flexible(true)
            .from_path(path)
            .with_context(|| format!("{}: cannot read", path.display()))?;
        let h = reader
            .byte_headers()
            .with_context(|| format!("{}: cannot read", path.display()))?
            .clone();
        match &header {
            Some(first) if *first != h => {
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
            reader,
            ahead: None,
            unit: Vec::new(),
            key: Vec::new(),
        });
    }
    let Some(header) = header else {
        return Ok(Vec::new());
    };
    let columns =
        Columns::of(&header, order).ok_or_else(|| anyhow!("result file without side and line columns"))?;
    let mut file = csv::Writer::from_writer(out);
    let mut kept = csv::Writer::from_writer(Vec::new());
    file.write_byte_record(&header)?;
    kept.write_byte_record(&header)?;
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
            (Order::Matches, Some(i)) => source.unit[0].get(i) == Some(b"true"),
            _ => false,
        };
        for record in std::mem::take(&mut source.unit) {
            let record = match order {
                Order::Matches => {
                    let new = match_id(matches).into_bytes();
                    if review {
                        ids.insert((source.part, record[0].to_vec()), new.clone());
                    }
                    with_first(&record, &new)
                }
                Order::Review if columns.kind.is_some_and(|k| record.get(k) == Some(b"review")) => {
                    let new = ids.get(&(source.part, record[0].to_vec())).ok_or_else(|| {
                        anyhow!(
                            "review.csv item {} of partition {} is no flagged match of its matched.csv",
                            String::from_utf8_lossy(&record[0]),
                            source.part
                        )
                    })?;
                    with_first(&record, new)
                }
                _ => record,
            };
            file.write_byte_record(&record)?;
            let wanted = match keep {
                Keep::All => true,
                Keep::Review => review,
                Keep::Head(n) => rows < n,
            };
            if wanted {
                kept.write_byte_record(&record)?;
            }
            rows += 1;
        }
        matches += 1;
        source.next(order, &columns, ids)?;
    }
    file.flush()?;
    kept.into_inner().map_err(|e| anyhow!("{e}"))
}

/// `record` with its first field replaced.
fn with_first(record: &ByteRecord, first: &[u8]) -> ByteRecord {
    let mut out = ByteRecord::new();
    out.push_field(first);
    for field in record.iter().skip(1) {
        out.push_field(field);
    }
    out
}

impl Source {
    fn read(&mut self) -> anyhow::Result<Option<ByteRecord>> {
        if let Some(r) = self.ahead.take() {
            return Ok(Some(r));
        }
        let mut r = ByteRecord::new();
        Ok(self.reader.read_byte_record(&mut r)?.then_some(r))
    }

    /// Reads the next unit and its key (an empty unit at the end).
    fn next(&mut self, order: Order, c: &Columns, ids: &MatchIds) -> anyhow::Result<()> {
        self.unit.clear();
        let Some(first) = self.read()? else {
            return Ok(());
        };
        let row = |r: &ByteRecord| (side_rank(&r[c.side]), number(&r[c.line]), c.origin(r));
        self.key = match order {
            Order::Rows => {
                let (side, line, origin) = row(&first);
                vec![side, line, origin]
            }
            Order::Review => match c.kind.map(|k| &first[k]) {
                Some(b"review") => {
                    let new = ids.get(&(self.part, first[0].to_vec()));
                    vec![0, new.map_or(u64::MAX, |n| number(&n[1..]))]
                }
                _ => {
                    let [side, line, origin] = item_row(&first[0]);
                    vec![1, side, line, origin]
                }
            },
            Order::Matches => {
                let id = first[0].to_vec();
                self.unit.push(first);
                loop {
                    match self.read()? {
                        Some(r) if r[0] == id[..] => self.unit.push(r),
                        other => {
                            self.ahead = other;
                            break;
                        }
                    }
                }
                // (present, line, origin) per side: a match without ledger rows sorts first, as in a run.
                let mut key = vec![0; 6];
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
