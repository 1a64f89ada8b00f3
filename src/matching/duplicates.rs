//! Duplicates: a free row that repeats a matched row on the same side (same
//! key and amount, within the time window), as a double submission does.

use std::collections::HashMap;

use chrono::TimeDelta;
use rust_decimal::Decimal;

use super::{Free, Match, Sides};
use crate::model::{Record, RowRef, Side};

/// Maps each duplicate row to the matched row it repeats.
pub(crate) fn find(
    sides: Sides,
    free: &Free,
    matches: &[Match],
    window: TimeDelta,
) -> HashMap<RowRef, RowRef> {
    let mut found = HashMap::new();
    for side in Side::BOTH {
        let records = sides.of(side);
        let mut matched: HashMap<(&str, Decimal), Vec<&Record>> = HashMap::new();
        for m in matches {
            let indices = match side {
                Side::Ledger => &m.ledger,
                Side::Bank => &m.bank,
            };
            for &i in indices.iter().filter(|&&i| !records[i].key.is_empty()) {
                let r = &records[i];
                matched.entry((&r.key, r.amount.normalize())).or_default().push(r);
            }
        }
        for (i, r) in records.iter().enumerate() {
            if !free.of(side)[i] || r.key.is_empty() {
                continue;
            }
            let Some(originals) = matched.get(&(&*r.key, r.amount.normalize())) else {
                continue;
            };
            let nearest = originals
                .iter()
                .map(|o| (distance(r, o), o.line, o))
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
    match (a.time, b.time) {
        (Some(x), Some(y)) => (x - y).abs(),
        _ => TimeDelta::zero(),
    }
}
