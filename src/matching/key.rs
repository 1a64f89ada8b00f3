//! The key stage: rows with the same key and direction on both sides are
//! paired one to one when their amounts agree within the tolerance.

use std::collections::{HashMap, HashSet};

use rayon::iter::Either;
use rayon::prelude::*;

use super::groups::{Group, GroupAmounts, Groups};
use super::matches::{Matches, Packed};
use super::{Free, Sides, StageResult};
use crate::model::{ContentOrder, Record, RowRef, Side};
use crate::rules::plan::Tolerance;

/// Groups the free records with a non-empty key by (key, is outflow).
pub(crate) fn free_groups(sides: Sides<'_>, free: &Free) -> Groups {
    Groups::build(sides, free, Record::key_hash, Record::key)
}

/// Runs the key stage.
pub(crate) fn run(sides: Sides, free: &Free, stage: usize, tolerance: Tolerance) -> StageResult {
    let groups = free_groups(sides, free);
    let matches = groups
        .par_both_sides_with_amounts()
        .flat_map_iter(|(group, amounts)| pair_group(sides, group, amounts, stage, tolerance))
        .collect();
    StageResult {
        matches: Matches::pairs(matches),
        ..StageResult::default()
    }
}

/// Pairs each ledger row, in content order, with the closest bank row:
/// smallest amount difference, then nearest time, then content order.
fn pair_group(
    sides: Sides,
    (ledger, bank): Group,
    amounts: GroupAmounts,
    stage: usize,
    tolerance: Tolerance,
) -> impl Iterator<Item = Packed> {
    let pair = |l: usize, b: usize| Packed::pair(stage, l, b);
    if let (([l], [b]), ([l_amount], [b_amount])) = ((ledger, bank), amounts) {
        // The common case: one row on each side, no allocation, no record read.
        let allowed = tolerance.allows(*l_amount, *b_amount);
        return Either::Left(allowed.then(|| pair(*l, *b)).into_iter());
    }
    let mut used = vec![false; bank.len()];
    let mut matches = Vec::new();
    for &l in ledger {
        let lr = &sides.ledger[l];
        let best = bank
            .iter()
            .enumerate()
            .filter(|&(j, &b)| !used[j] && tolerance.allows_amounts(lr.amount, sides.bank[b].amount))
            .min_by_key(|&(_, &b)| closeness(lr, &sides.bank[b]));
        if let Some((j, &b)) = best {
            used[j] = true;
            matches.push(pair(l, b));
        }
    }
    Either::Right(matches.into_iter())
}

/// Sort key for the candidates for `row` (of either side): amount
/// difference, time distance, then the candidate's content order (line last).
pub(crate) fn closeness<'c>(
    row: &Record,
    candidate: &'c Record,
) -> (rust_decimal::Decimal, i64, ContentOrder<'c>) {
    // Whole seconds apart, as `(b - a).num_seconds().abs()` counts them.
    let seconds = row
        .time
        .apart(candidate.time)
        .map_or(0, |nanos| (nanos / 1_000_000_000) as i64);
    (
        (row.amount() - candidate.amount()).abs(),
        seconds,
        candidate.content_order(),
    )
}

/// A row and its record index.
type Indexed = (RowRef, usize);

/// Rows by (key, direction) and side, to name counterparts of unmatched rows.
pub(crate) struct KeyIndex<'a> {
    /// Per (key, direction): for each side, its rows in file order.
    rows: HashMap<(&'a str, bool), [Vec<Indexed>; 2], foldhash::fast::RandomState>,
}

/// Indexes the keyed records that share a (key, direction) with a free
/// record: only those can be asked for counterparts. The pass over every
/// record compares precomputed key hashes first and reads a key only on a hit.
pub(crate) fn index_by_key<'a>(sides: Sides<'a>, free: &Free) -> KeyIndex<'a> {
    let mut rows: HashMap<(&str, bool), [Vec<Indexed>; 2], _> = HashMap::default();
    let mut hashes: HashSet<u64, foldhash::fast::RandomState> = HashSet::default();
    for side in Side::BOTH {
        // The few free keyed rows, found on every core.
        let keyed: Vec<(u64, &Record)> = sides
            .of(side)
            .par_iter()
            .zip(free.of(side))
            .filter_map(|(r, &free)| r.key_hash().filter(|_| free).map(|hash| (hash, r)))
            .collect();
        for (hash, r) in keyed {
            hashes.insert(hash);
            rows.entry((r.key(), r.is_outflow())).or_default();
        }
    }
    if rows.is_empty() {
        return KeyIndex { rows };
    }
    for (slot, side) in Side::BOTH.into_iter().enumerate() {
        // Found in parallel, gathered in file order.
        let sharing: Vec<(usize, &Record)> = sides
            .of(side)
            .par_iter()
            .enumerate()
            .filter(|(_, r)| {
                r.key_hash().is_some_and(|h| hashes.contains(&h))
                    && rows.contains_key(&(r.key(), r.is_outflow()))
            })
            .collect();
        for (i, r) in sharing {
            if let Some(slots) = rows.get_mut(&(r.key(), r.is_outflow())) {
                slots[slot].push((r.row_ref(), i));
            }
        }
    }
    KeyIndex { rows }
}

impl KeyIndex<'_> {
    /// Rows on the other side with the same key and direction, with their
    /// record indices, in file order (for a free record).
    pub(crate) fn counterparts<'s>(&'s self, record: &'s Record) -> &'s [Indexed] {
        if record.key().is_empty() {
            return &[];
        }
        let other = match record.side() {
            Side::Ledger => 1,
            Side::Bank => 0,
        };
        self.rows
            .get(&(record.key(), record.is_outflow()))
            .map_or(&[], |slots| slots[other].as_slice())
    }
}
