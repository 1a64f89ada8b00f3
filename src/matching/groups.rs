//! Grouping the free records of both sides by a text (key or merchant) and
//! direction, the partitions every stage works on. Records are grouped by
//! sorting compact entries (hash of the text, direction, side, time) rather than by a hash map of vectors: one allocation for all groups, no
//! per-group vectors, and each group comes out with its ledger rows, then its
//! bank rows, each in content order (`Record::content_order`: time first,
//! line last), whatever the thread count and the order of rows in the files.

use rayon::prelude::*;
use rust_decimal::Decimal;

use super::{Free, Sides};
use crate::model::{Record, Side};

/// One record's place in the sort that forms the groups (40 bytes: a 10M
/// day sorts 20M of them). Rows of one side at the same instant are put in
/// content order after the sort (`Piece::group`), so the line is not needed here.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Entry {
    /// The text's hash but its two lowest bits, then whether the record is
    /// an outflow, then its side (`pack`): one run of equal `key >> 1` is
    /// one (text, direction), ledger rows first.
    key: u64,
    seconds: i64,
    nanos: u32,
    /// The record's index on its side (`MAX_ROWS` bounds it).
    index: u32,
    /// Last in the order, and carried so that pairing a group need not
    /// read its records (each such read is a likely cache miss).
    amount: Decimal,
}

impl Entry {
    fn side(&self) -> Side {
        if self.key & 1 == 0 {
            Side::Ledger
        } else {
            Side::Bank
        }
    }

    fn index(&self) -> usize {
        self.index as usize
    }

    /// Whether `other` has the same (hash, direction).
    fn same_run(&self, other: &Entry) -> bool {
        self.key >> 1 == other.key >> 1
    }
}

/// The sort key of a record: its text's hash (with two bits fewer: a
/// collision is as harmless as any other, texts are compared), direction and side.
fn pack(hash: u64, outflow: bool, side: Side) -> u64 {
    hash & !0b11 | u64::from(outflow) << 1 | u64::from(side == Side::Bank)
}

/// Where one group's members are in `Groups::members`: its ledger rows,
/// then its bank rows (16 bytes: a 10M day forms about 10M groups).
#[derive(Clone, Copy)]
struct Span {
    start: usize,
    /// Counts of one side's rows (`MAX_ROWS` bounds them).
    ledger: u32,
    bank: u32,
}

impl Span {
    fn split(self) -> usize {
        self.start + self.ledger as usize
    }

    fn end(self) -> usize {
        self.split() + self.bank as usize
    }

    fn both_sides(self) -> bool {
        self.ledger > 0 && self.bank > 0
    }
}

/// Free records grouped by (text, direction), ledger rows before bank rows.
pub(crate) struct Groups {
    /// Record indices, group after group.
    members: Vec<usize>,
    /// The amount of each record of `members`.
    amounts: Vec<Decimal>,
    spans: Vec<Span>,
}

/// One group: ledger and bank record indices, each in content order.
pub(crate) type Group<'g> = (&'g [usize], &'g [usize]);

/// The amounts of a group's ledger and bank records, in the group's order.
pub(crate) type GroupAmounts<'g> = (&'g [Decimal], &'g [Decimal]);

impl Groups {
    /// Groups the free records for which `hash` gives a value (the
    /// `model::text_hash` of their `text`) by text; records with `None` are
    /// left out. Texts are read only to check that equal hashes hold equal
    /// texts, once per record in a hash run of two or more.
    pub(crate) fn build<'r, H, T>(sides: Sides<'r>, free: &Free, hash: H, text: T) -> Groups
    where
        H: Fn(&'r Record) -> Option<u64> + Sync,
        T: Fn(&'r Record) -> &'r str + Sync,
    {
        let mut entries = entries(sides, free, &hash);
        entries.par_sort_unstable();
        let texts = |e: &Entry| text(&sides.of(e.side())[e.index()]);
        // A run of equal (hash, direction) fills the members and amounts at
        // its entries' positions. Runs are made into groups on every core, in
        // pieces of whole runs of about `PIECE` entries (a task per run held
        // a 56-byte task per run, 0.5 GB at 10M orders).
        let mut members = vec![0; entries.len()];
        let mut amounts: Vec<Decimal> = (0..entries.len())
            .into_par_iter()
            .map(|_| Decimal::ZERO)
            .collect();
        let mut pieces = Vec::new();
        {
            let (mut entries, mut members, mut amounts) =
                (&mut entries[..], &mut members[..], &mut amounts[..]);
            let mut start = 0;
            while !entries.is_empty() {
                let mut len = PIECE.min(entries.len());
                while len < entries.len() && entries[len].same_run(&entries[len - 1]) {
                    len += 1;
                }
                let (e, rest_e) = std::mem::take(&mut entries).split_at_mut(len);
                let (m, rest_m) = std::mem::take(&mut members).split_at_mut(len);
                let (a, rest_a) = std::mem::take(&mut amounts).split_at_mut(len);
                (entries, members, amounts) = (rest_e, rest_m, rest_a);
                pieces.push(Piece {
                    start,
                    entries: e,
                    members: m,
                    amounts: a,
                });
                start += len;
            }
        }
        let spans = pieces
            .into_par_iter()
            .flat_map_iter(|mut piece| {
                let mut spans = Vec::new();
                let mut from = 0;
                while from < piece.entries.len() {
                    let first = &piece.entries[from];
                    let run = piece.entries[from..]
                        .iter()
                        .take_while(|e| e.same_run(first))
                        .count();
                    piece.run(sides, &texts, from, from + run, &mut spans);
                    from += run;
                }
                spans
            })
            .collect();
        Groups {
            members,
            amounts,
            spans,
        }
    }

    /// Every group with rows on both sides, in parallel.
    pub(crate) fn par_both_sides(&self) -> impl ParallelIterator<Item = Group<'_>> + '_ {
        self.spans
            .par_iter()
            .map(|s| self.group(*s))
            .filter(|(l, b)| !l.is_empty() && !b.is_empty())
    }

    /// `par_both_sides`, each group with its records' amounts, in the same order.
    pub(crate) fn par_both_sides_with_amounts(
        &self,
    ) -> impl ParallelIterator<Item = (Group<'_>, GroupAmounts<'_>)> + '_ {
        self.spans.par_iter().filter(|s| s.both_sides()).map(|s| {
            let amounts = (
                &self.amounts[s.start..s.split()],
                &self.amounts[s.split()..s.end()],
            );
            (self.group(*s), amounts)
        })
    }

    fn group(&self, s: Span) -> Group<'_> {
        (
            &self.members[s.start..s.split()],
            &self.members[s.split()..s.end()],
        )
    }
}

/// Whole runs of sorted entries (equal hash and direction), and where their
/// members and amounts go.
struct Piece<'e> {
    /// Position of its first entry among all entries.
    start: usize,
    entries: &'e mut [Entry],
    members: &'e mut [usize],
    amounts: &'e mut [Decimal],
}

impl Piece<'_> {
    /// Makes the run `entries[from..to]` into groups, one per text, and
    /// adds their spans to `spans`.
    fn run<'r>(
        &mut self,
        sides: Sides<'r>,
        texts: &impl Fn(&Entry) -> &'r str,
        from: usize,
        to: usize,
        spans: &mut Vec<Span>,
    ) {
        // Each text is read once (every read is a likely cache miss).
        let one_text = match &self.entries[from..to] {
            [first, rest @ ..] => {
                let first = texts(first);
                rest.iter().all(|e| texts(e) == first)
            }
            [] => true,
        };
        if one_text {
            spans.push(self.group(sides, from, to));
            return;
        }
        // A hash collision: order by text, keeping (side, time) order within.
        self.entries[from..to].sort_by(|a, b| texts(a).cmp(texts(b)).then(a.cmp(b)));
        let mut bounds = Vec::new();
        let mut at = from;
        for group in self.entries[from..to].chunk_by(|a, b| texts(a) == texts(b)) {
            bounds.push((at, at + group.len()));
            at += group.len();
        }
        for (from, to) in bounds {
            spans.push(self.group(sides, from, to));
        }
    }

    /// Writes the members and amounts of the group `entries[from..to]` (one
    /// text, ledger rows first) and returns its span. Entries come in
    /// (side, time) order: rows of one side at the same instant are put in
    /// content order, so the line decides last.
    fn group(&mut self, sides: Sides, from: usize, to: usize) -> Span {
        let group = &self.entries[from..to];
        let mut at = from;
        for tie in group.chunk_by(|a, b| (a.key, a.seconds, a.nanos) == (b.key, b.seconds, b.nanos)) {
            let members = &mut self.members[at..at + tie.len()];
            let amounts = &mut self.amounts[at..at + tie.len()];
            for (slot, e) in members.iter_mut().zip(tie) {
                *slot = e.index();
            }
            if tie.len() > 1 {
                let side = sides.of(tie[0].side());
                members.sort_by_key(|&i| side[i].content_order());
                for (slot, &i) in amounts.iter_mut().zip(members.iter()) {
                    *slot = side[i].amount();
                }
            } else {
                for (slot, e) in amounts.iter_mut().zip(tie) {
                    *slot = e.amount;
                }
            }
            at += tie.len();
        }
        let ledger = group.iter().take_while(|e| e.side() == Side::Ledger).count();
        let count = |n: usize| u32::try_from(n).expect("a side holds at most MAX_ROWS records");
        Span {
            start: self.start + from,
            ledger: count(ledger),
            bank: count(to - from - ledger),
        }
    }
}

/// Records per piece of `entries` (and entries per piece of runs).
const PIECE: usize = 1 << 14;

/// The entries of the free records that `hash` gives a value, in record
/// order, side after side. Built in parallel pieces straight into one vector
/// of the exact size (a first pass counts each piece's entries): collecting
/// them from a filter held them twice, 80 MB at a million rows a side.
fn entries<'r, H>(sides: Sides<'r>, free: &Free, hash: &H) -> Vec<Entry>
where
    H: Fn(&'r Record) -> Option<u64> + Sync,
{
    let pieces: Vec<(Side, usize)> = Side::BOTH
        .into_iter()
        .flat_map(|side| {
            (0..sides.of(side).len())
                .step_by(PIECE)
                .map(move |start| (side, start))
        })
        .collect();
    let records = |(side, start): (Side, usize)| {
        let records = sides.of(side);
        let end = records.len().min(start + PIECE);
        let free = &free.of(side)[start..end];
        records[start..end]
            .iter()
            .zip(free)
            .enumerate()
            .filter(|(_, (_, &free))| free)
            .map(move |(i, (r, _))| (start + i, r))
    };
    let counts: Vec<usize> = pieces
        .par_iter()
        .map(|&piece| records(piece).filter(|(_, r)| hash(r).is_some()).count())
        .collect();
    let empty = Entry {
        key: 0,
        seconds: 0,
        nanos: 0,
        index: 0,
        amount: Decimal::ZERO,
    };
    let mut entries: Vec<Entry> = (0..counts.iter().sum()).into_par_iter().map(|_| empty).collect();
    let mut outs = Vec::with_capacity(pieces.len());
    let mut rest = &mut entries[..];
    for &count in &counts {
        let (out, after) = rest.split_at_mut(count);
        outs.push(out);
        rest = after;
    }
    pieces.into_par_iter().zip(outs).for_each(|(piece, out)| {
        let made = records(piece).filter_map(|(i, r)| hash(r).map(|h| entry(h, r, i)));
        for (slot, e) in out.iter_mut().zip(made) {
            *slot = e;
        }
    });
    entries
}

fn entry(hash: u64, r: &Record, index: usize) -> Entry {
    const NANOS: i64 = 1_000_000_000;
    let (seconds, nanos) = r.time.nanos().map_or((i64::MIN, 0), |n| {
        (n.div_euclid(NANOS), n.rem_euclid(NANOS) as u32)
    });
    Entry {
        key: pack(hash, r.is_outflow(), r.side()),
        seconds,
        nanos,
        index: u32::try_from(index).expect("a side holds at most MAX_ROWS records"),
        amount: r.amount(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Amount, Currency, RecordText, Stamp};

    fn record(side: Side, line: u64, key: &str) -> Record {
        let one = Amount::new(1, 0, false).unwrap();
        Record::new(
            side,
            line,
            one,
            Stamp::NONE,
            RecordText::new(key, "", []),
            Currency::CNY,
        )
        .unwrap()
    }

    #[test]
    fn colliding_hashes_still_group_by_text() {
        let ledger = [
            record(Side::Ledger, 2, "a"),
            record(Side::Ledger, 3, "b"),
            record(Side::Ledger, 4, "a"),
        ];
        let bank = [record(Side::Bank, 2, "b"), record(Side::Bank, 3, "a")];
        let sides = Sides {
            ledger: &ledger,
            bank: &bank,
        };
        let free = Free::new(sides);
        // One hash for every text, and hashes that differ only in the two
        // bits the sort key gives to direction and side.
        let same = |_: &Record| Some(7);
        let low_bits = |r: &Record| Some(if r.key() == "a" { 4 } else { 5 });
        for groups in [
            Groups::build(sides, &free, same, Record::key),
            Groups::build(sides, &free, low_bits, Record::key),
        ] {
            let mut found: Vec<(Vec<usize>, Vec<usize>)> = groups
                .par_both_sides()
                .map(|(l, b)| (l.to_vec(), b.to_vec()))
                .collect();
            found.sort();
            assert_eq!(found, [(vec![0, 2], vec![1]), (vec![1], vec![0])]);
        }
    }
}
