//! Rows of different currencies never match: with more than one currency
//! among the records, each currency is reconciled on its own (stages,
//! duplicates, unmatched reasons) and the results are put back together
//! with every index pointing into the original record lists.

use std::collections::BTreeSet;

use super::{match_order, reconcile_one, Disposition, Matches, Reconciliation, Sides};
use crate::model::{Currency, Record};
use crate::rules::business::BusinessDay;
use crate::rules::plan::Plan;

/// Reconciles the records of each currency apart and merges the results.
pub(super) fn reconcile_each(
    sides: Sides,
    plan: &Plan,
    day: Option<&BusinessDay>,
    currencies: &BTreeSet<Currency>,
) -> Reconciliation {
    let mut merged = Reconciliation {
        matches: Matches::default(),
        ledger: vec![Disposition::Ignored; sides.ledger.len()],
        bank: vec![Disposition::Ignored; sides.bank.len()],
        batches: Vec::new(),
    };
    for &currency in currencies {
        let pick = |records: &[Record]| -> (Vec<usize>, Vec<Record>) {
            records
                .iter()
                .enumerate()
                .filter(|(_, r)| r.currency == currency)
                .map(|(i, r)| (i, r.clone()))
                .unzip()
        };
        let (ledger_at, ledger) = pick(sides.ledger);
        let (bank_at, bank) = pick(sides.bank);
        let part = reconcile_one(
            Sides {
                ledger: &ledger,
                bank: &bank,
            },
            plan,
            day,
        );
        for mut b in part.batches {
            b.ledger = b.ledger.iter().map(|&i| ledger_at[i]).collect();
            b.credit = b.credit.map(|i| bank_at[i]);
            merged.batches.push(b);
        }
        let offset = merged.matches.len();
        let mut matches = part.matches;
        matches.renumber(&ledger_at, &bank_at);
        merged.matches.append(matches);
        let shift = |d: Disposition| match d {
            Disposition::Matched(i) => Disposition::Matched(i + offset),
            other => other,
        };
        for (k, d) in part.ledger.into_iter().enumerate() {
            merged.ledger[ledger_at[k]] = shift(d);
        }
        for (k, d) in part.bank.into_iter().enumerate() {
            merged.bank[bank_at[k]] = shift(d);
        }
    }
    // List the matches as one currency's run would: by their first rows.
    let order = match_order(sides, &merged.matches);
    let mut new_index = vec![0; order.len()];
    for (new, &old) in order.iter().enumerate() {
        new_index[old] = new;
    }
    merged.matches.permute(&order);
    for d in merged.ledger.iter_mut().chain(merged.bank.iter_mut()) {
        if let Disposition::Matched(i) = d {
            *i = new_index[*i];
        }
    }
    // Batches in stage order, then (merchant, day) order, as one currency's
    // run lists them; a merchant's batches of several currencies stay in currency order.
    merged.batches.sort_by(|a, b| {
        (a.stage, &a.merchant, a.business_date).cmp(&(b.stage, &b.merchant, b.business_date))
    });
    merged
}
