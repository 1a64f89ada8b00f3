//! The split stage: all free rows of one key and direction match as a group
//! when one side has several rows (a split payment, 1:n or n:1) and the two
//! sums agree within the tolerance. Payments and refunds are never netted:
//! direction is part of the group.

use rayon::prelude::*;
use rust_decimal::Decimal;

use super::key::free_groups;
use super::{Free, Matches, Sides, StageResult};
use crate::model::{Amount, Record};
use crate::rules::plan::Tolerance;

/// Runs the split stage.
pub(crate) fn run(
    sides: Sides,
    free: &Free,
    stage: usize,
    tolerance: Tolerance,
    max_parts: usize,
) -> StageResult {
    let groups = free_groups(sides, free);
    let found: Vec<_> = groups
        .par_both_sides()
        .filter(|(l, b)| l.len() + b.len() >= 3 && l.len() <= max_parts && b.len() <= max_parts)
        .filter_map(|(ledger, bank)| {
            let allowed = match (sum(sides.ledger, ledger), sum(sides.bank, bank)) {
                (Some(l), Some(b)) => tolerance.allows_amounts(l, b),
                _ => {
                    let exact = |side: &[Record], rows: &[usize]| -> Decimal {
                        rows.iter().map(|&i| side[i].amount()).sum()
                    };
                    tolerance.allows(exact(sides.ledger, ledger), exact(sides.bank, bank))
                }
            };
            if !allowed {
                return None;
            }
            Some((ledger, bank))
        })
        .collect();
    let mut matches = Matches::default();
    for (ledger, bank) in found {
        // Groups list each side in content order already.
        matches.push(stage, ledger, bank, Vec::new());
    }
    StageResult {
        matches,
        ..StageResult::default()
    }
}

/// The sum of `rows`' amounts on integers; `None` when it does not fit one scale.
fn sum(side: &[Record], rows: &[usize]) -> Option<Amount> {
    let (&first, rest) = rows.split_first()?;
    rest.iter()
        .try_fold(side[first].amount, |total, &i| total.checked_add(side[i].amount))
}
