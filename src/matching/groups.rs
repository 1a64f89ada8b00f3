//! Grouping the free records of both sides by a text (key or merchant) and
//! direction, the partitions every stage works on. Records are grouped by
//! sorting compact entries (hash of the text, direction, side, time, line)
//! rather than by a hash map of vectors: one allocation for all groups, no
//! per-group vectors, and each group comes out with its ledger rows, then its
//! bank rows, each in content order (`Record::content_order`: time first,
//! line last), whatever the thread count and the order of rows in the files.

use rayon::prelude::*;

use super::{Free, Sides};
use crate::model::{Record, Side};

/// One record's place in the sort that forms the groups.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Entry {
    hash: u64,
    outflow: bool,
    side: Side,
    seconds: i64,
    nanos: u32,
    line: u64,
    index: usize,
}

/// Where one group's members are in `Groups::members`.
#[derive(Clone, Copy)]
struct Span {
    start: usize,
    split: usize,
    end: usize,
}

/// Free records grouped by (text, direction), ledger rows before bank rows.
pub(crate) struct Groups {
    /// Record indices, group after group.
    members: Vec<usize>,
    spans: Vec<Span>,
}

/// One group: ledger and bank record indices, each in content order.
pub(crate) type Group<'g> = (&'g [usize], &'g [usize]);

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
        let mut entries: Vec<Entry> = Side::BOTH
            .into_par_iter()
            .flat_map(|side| {
                let free = free.of(side);
                let hash = &hash;
                sides
                    .of(side)
                    .par_iter()
                    .enumerate()
                    .filter(move |&(i, _)| free[i])
                    .filter_map(move |(i, r)| hash(r).map(|h| entry(h, r, i)))
            })
            .collect();
        entries.par_sort_unstable();
        let texts = |e: &Entry| text(&sides.of(e.side)[e.index]);
        let mut members = Vec::with_capacity(entries.len());
        let mut spans = Vec::new();
        let mut push = |group: &[Entry]| {
            let start = members.len();
            // Entries come in (side, time, line) order: rows of one side at the
            // same instant are put in content order, so the line decides last.
            for tie in group.chunk_by(|a, b| (a.side, a.seconds, a.nanos) == (b.side, b.seconds, b.nanos)) {
                let at = members.len();
                members.extend(tie.iter().map(|e| e.index));
                if tie.len() > 1 {
                    let side = sides.of(tie[0].side);
                    members[at..].sort_by_key(|&i| side[i].content_order());
                }
            }
            let ledger = group.iter().take_while(|e| e.side == Side::Ledger).count();
            spans.push(Span {
                start,
                split: start + ledger,
                end: members.len(),
            });
        };
        // Each text is read once, on every core (every read is a likely cache miss).
        let runs: Vec<&mut [Entry]> = entries
            .chunk_by_mut(|a, b| a.hash == b.hash && a.outflow == b.outflow)
            .collect();
        let one_text: Vec<bool> = runs
            .par_iter()
            .map(|run| match run {
                [_] => true,
                [first, rest @ ..] => {
                    let first = texts(first);
                    rest.iter().all(|e| texts(e) == first)
                }
                [] => true,
            })
            .collect();
        for (run, one_text) in runs.into_iter().zip(one_text) {
            if one_text {
                push(run);
                continue;
            }
            // A hash collision: order by text, keeping (side, time, line) order within.
            run.sort_by(|a, b| texts(a).cmp(texts(b)).then(a.cmp(b)));
            for group in run.chunk_by(|a, b| texts(a) == texts(b)) {
                push(group);
            }
        }
        Groups { members, spans }
    }

    /// Every group with rows on both sides, in parallel.
    pub(crate) fn par_both_sides(&self) -> impl ParallelIterator<Item = Group<'_>> + '_ {
        self.spans
            .par_iter()
            .map(|s| self.group(*s))
            .filter(|(l, b)| !l.is_empty() && !b.is_empty())
    }

    fn group(&self, s: Span) -> Group<'_> {
        (&self.members[s.start..s.split], &self.members[s.split..s.end])
    }
}

fn entry(hash: u64, r: &Record, index: usize) -> Entry {
    let (seconds, nanos) = r
        .time
        .map_or((i64::MIN, 0), |t| (t.timestamp(), t.timestamp_subsec_nanos()));
    Entry {
        hash,
        outflow: r.is_outflow(),
        side: r.side,
        seconds,
        nanos,
        line: r.line,
        index,
    }
}
