//! The split stage: all free rows of one key and direction match as a group
//! when one side has several rows (a split payment, 1:n or n:1) and the two
//! sums agree within the tolerance. Payments and refunds are never netted:
//! direction is part of the group.

use rayon::prelude::*;
use rust_decimal::Decimal;

use super::key::free_groups;
use super::{Free, Matches, Sides, StageResult};
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
            let sum_l: Decimal = ledger.iter().map(|&i| sides.ledger[i].amount).sum();
            let sum_b: Decimal = bank.iter().map(|&i| sides.bank[i].amount).sum();
            if !tolerance.allows(sum_l, sum_b) {
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
