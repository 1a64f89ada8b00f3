//! Duplicates: a free row that repeats a matched row on the same side (same
//! key and amount, within the time window), as a double submission does.

use std::collections::{HashMap, HashSet};

use chrono::TimeDelta;
use rayon::prelude::*;
use rust_decimal::Decimal;

use super::{Free, Matches, RowMap, Sides};
use crate::model::{Record, RowRef, Side};

type FastState = foldhash::fast::RandomState;

/// Maps each duplicate row to the matched row it repeats.
pub(crate) fn find(sides: Sides, free: &Free, matches: &Matches, window: TimeDelta) -> RowMap<RowRef> {
    let mut found = RowMap::default();
    for side in Side::BOTH {
        let records = sides.of(side);
        let candidates: Vec<&Record> = records
            .par_iter()
            .enumerate()
            .filter(|&(i, r)| free.of(side)[i] && r.key_hash().is_some())
            .map(|(_, r)| r)
            .collect();
        if candidates.is_empty() {
            continue;
        }
        // Only matched rows sharing a key with a free row can be repeated;
        // key hashes rule out the others without reading their keys.
        let keys: HashSet<&str, FastState> = candidates.iter().map(|r| r.key()).collect();
        let hashes: HashSet<u64, FastState> = candidates.iter().filter_map(|r| r.key_hash()).collect();
        // Found in parallel, gathered in match order.
        let sharing: Vec<&Record> = matches
            .par_iter()
            .flat_map_iter(|m| m.rows(side).iter())
            .map(|i| &records[i])
            .filter(|r| r.key_hash().is_some_and(|h| hashes.contains(&h)) && keys.contains(r.key()))
            .collect();
        let mut matched: HashMap<(&str, Decimal), Vec<&Record>, FastState> = HashMap::default();
        for r in sharing {
            matched
                .entry((r.key(), r.amount().normalize()))
                .or_default()
                .push(r);
        }
        for r in candidates {
            let Some(originals) = matched.get(&(r.key(), r.amount().normalize())) else {
                continue;
            };
            let nearest = originals
                .iter()
                .map(|o| (distance(r, o), o.line(), o))
                .filter(|(d, _, _)| *d <= window)
                .min_by_key(|(d, line, _)| (*d, *line));
            if let Some((_, _, original)) = nearest {
                found.insert(r.row_ref(), original.row_ref());
            }
        }
    }
    found
}

/// Time between two rows; rows without times are treated as simultaneous.
fn distance(a: &Record, b: &Record) -> TimeDelta {
    a.time.apart(b.time).map_or(TimeDelta::zero(), |nanos| {
        i64::try_from(nanos).map_or(TimeDelta::MAX, TimeDelta::nanoseconds)
    })
}
