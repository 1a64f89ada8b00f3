//! The key stage: rows with the same key and direction on both sides are
//! paired one to one when their amounts agree within the tolerance.

use std::collections::HashMap;

use rayon::prelude::*;

use super::{by_time_then_line, Free, Match, Sides, StageResult};
use crate::model::{Record, RowRef, Side};
use crate::rules::plan::Tolerance;

/// Free ledger and bank indices that share one (key, direction).
pub(crate) type KeyGroup = (Vec<usize>, Vec<usize>);

/// Groups the free records with a non-empty key by (key, is outflow).
pub(crate) fn free_groups(sides: Sides, free: &Free) -> Vec<KeyGroup> {
    let mut groups: HashMap<(&str, bool), KeyGroup> = HashMap::new();
    for side in Side::BOTH {
        for (i, r) in sides.of(side).iter().enumerate() {
            if free.of(side)[i] && !r.key.is_empty() {
                let group = groups.entry((&r.key, r.is_outflow())).or_default();
                match side {
                    Side::Ledger => group.0.push(i),
                    Side::Bank => group.1.push(i),
                }
            }
        }
    }
    groups
        .into_values()
        .filter(|(l, b)| !l.is_empty() && !b.is_empty())
        .collect()
}

/// Runs the key stage.
pub(crate) fn run(sides: Sides, free: &Free, stage: usize, tolerance: Tolerance) -> StageResult {
    let matches = free_groups(sides, free)
        .into_par_iter()
        .flat_map_iter(|group| pair_group(sides, group, stage, tolerance))
        .collect();
    StageResult {
        matches,
        ambiguous: Vec::new(),
    }
}

/// Pairs each ledger row, in (time, line) order, with the closest bank row:
/// smallest amount difference, then nearest time, then earliest line.
fn pair_group(
    sides: Sides,
    (mut ledger, mut bank): KeyGroup,
    stage: usize,
    tolerance: Tolerance,
) -> Vec<Match> {
    by_time_then_line(sides.ledger, &mut ledger);
    by_time_then_line(sides.bank, &mut bank);
    let mut used = vec![false; bank.len()];
    let mut matches = Vec::new();
    for &l in &ledger {
        let lr = &sides.ledger[l];
        let best = bank
            .iter()
            .enumerate()
            .filter(|&(j, &b)| !used[j] && tolerance.allows(lr.amount, sides.bank[b].amount))
            .min_by_key(|&(_, &b)| closeness(lr, &sides.bank[b]));
        if let Some((j, &b)) = best {
            used[j] = true;
            matches.push(Match {
                stage,
                ledger: vec![l],
                bank: vec![b],
                review_reasons: Vec::new(),
            });
        }
    }
    matches
}

/// Sort key for candidates: amount difference, time distance, line.
pub(crate) fn closeness(ledger: &Record, bank: &Record) -> (rust_decimal::Decimal, i64, u64) {
    let seconds = match (ledger.time, bank.time) {
        (Some(a), Some(b)) => (b - a).num_seconds().abs(),
        _ => 0,
    };
    ((ledger.amount - bank.amount).abs(), seconds, bank.line)
}

/// A row and its record index.
type Indexed = (RowRef, usize);

/// Every record's row, by (key, direction) and side, to name counterparts of unmatched rows.
pub(crate) struct KeyIndex<'a> {
    /// Per (key, direction): for each side, its rows in file order.
    rows: HashMap<(&'a str, bool), [Vec<Indexed>; 2]>,
}

/// Indexes every keyed record of both sides.
pub(crate) fn index_by_key(sides: Sides<'_>) -> KeyIndex<'_> {
    let mut rows: HashMap<(&str, bool), [Vec<Indexed>; 2]> = HashMap::new();
    for (slot, side) in Side::BOTH.into_iter().enumerate() {
        for (i, r) in sides
            .of(side)
            .iter()
            .enumerate()
            .filter(|(_, r)| !r.key.is_empty())
        {
            rows.entry((&r.key, r.is_outflow())).or_default()[slot].push((r.row_ref(), i));
        }
    }
    KeyIndex { rows }
}

impl KeyIndex<'_> {
    /// Rows on the other side with the same key and direction, with their
    /// record indices, in file order.
    pub(crate) fn counterparts<'s>(&'s self, record: &'s Record) -> &'s [Indexed] {
        if record.key.is_empty() {
            return &[];
        }
        let other = match record.side {
            Side::Ledger => 1,
            Side::Bank => 0,
        };
        self.rows
            .get(&(&*record.key, record.is_outflow()))
            .map_or(&[], |slots| slots[other].as_slice())
    }
}
