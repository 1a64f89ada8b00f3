//! The `batch` stage: channels pay merchants in batches, so the statement
//! holds one credit per merchant (the group key) per settlement day. The
//! free ledger rows are grouped by merchant and business day — payments and
//! refunds together: inside a batch refunds are netted — and each group's
//! net (amounts minus fees) is matched with one free statement row of the
//! same merchant stamped on the group's settlement day, within the
//! tolerance. Groups are taken in (merchant, day) order and a group picks
//! the closest credit (ties by content), so the result does not depend on
//! the order of the rows or on threads.
//!
//! A group left over is reported through a `Batch` outcome: its rows are
//! `amount_mismatch` against the closest free credit of its merchant and
//! day, else `no_counterpart`, or pending when the settlement day ends after
//! the run's cutoff (the statement cannot hold the credit yet).

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;

use super::{Free, Sides, StageResult};
use crate::model::{Origin, Record, Side};
use crate::rules::business::BusinessDay;
use crate::rules::plan::{Net, Plan, StagePlan};

/// What became of one group of ledger rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchOutcome {
    /// A credit within the tolerance paid it.
    Settled,
    /// The closest credit of its merchant and settlement day differs beyond the tolerance.
    AmountMismatch,
    /// No credit of its merchant on the settlement day.
    Missing,
    /// No credit yet, and the settlement day ends after the run's cutoff.
    Pending,
}

impl BatchOutcome {
    /// The name used in summary.json.
    pub fn name(self) -> &'static str {
        match self {
            BatchOutcome::Settled => "settled",
            BatchOutcome::AmountMismatch => "amount_mismatch",
            BatchOutcome::Missing => "no_counterpart",
            BatchOutcome::Pending => "pending",
        }
    }
}

/// One group of ledger rows and the statement row it was held against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    /// Index of the stage (in the plan) that formed it.
    pub stage: usize,
    /// The group's merchant (empty when the stage does not group by merchant).
    pub merchant: String,
    /// The business day of its rows.
    pub business_date: NaiveDate,
    /// The day its credit is due.
    pub settle_date: NaiveDate,
    /// Its ledger record indices, in content order.
    pub ledger: Vec<usize>,
    /// The credit that paid it, or the closest one it was compared with.
    pub credit: Option<usize>,
    /// Sum of the rows' amounts minus their fees.
    pub net: Decimal,
    /// What became of it.
    pub outcome: BatchOutcome,
}

/// A ledger row's contribution to its batch's net under batch stage `stage`.
pub fn net_of(plan: &Plan, stage: &StagePlan, record: &Record) -> Decimal {
    let StagePlan::Batch { net, .. } = stage else {
        return record.amount();
    };
    match net {
        Net::Gross => record.amount(),
        Net::FeeColumn => {
            record.amount()
                - plan
                    .ledger
                    .columns
                    .fee_slot()
                    .map_or(Decimal::ZERO, |s| record.fee(s))
        }
        Net::Rate(rate) => record.amount() - rate.fee(record.amount()),
    }
}

/// Runs batch stage `stage` (number `index`); `day` is the run's business day with `--date`.
pub(crate) fn run<'a>(
    sides: Sides<'a>,
    free: &Free,
    index: usize,
    stage: &StagePlan,
    plan: &Plan,
    day: Option<&BusinessDay>,
) -> StageResult {
    let StagePlan::Batch {
        by_merchant,
        settle,
        tolerance,
        ..
    } = stage
    else {
        return StageResult::default();
    };
    let zone = plan.business_zone;
    let group_of = |r: &'a Record| -> Option<(&'a str, NaiveDate)> {
        let merchant = if *by_merchant { r.merchant() } else { "" };
        r.time().map(|t| (merchant, BusinessDay::date_of(zone, t)))
    };
    let collect = |records: &'a [Record], free: &[bool]| {
        let mut groups: BTreeMap<(&str, NaiveDate), Vec<usize>> = BTreeMap::new();
        for (i, r) in records.iter().enumerate().filter(|&(i, _)| free[i]) {
            if let Some(key) = group_of(r) {
                groups.entry(key).or_default().push(i);
            }
        }
        for rows in groups.values_mut() {
            rows.sort_by(|&a, &b| records[a].content_order().cmp(&records[b].content_order()));
        }
        groups
    };
    let groups = collect(sides.ledger, free.of(Side::Ledger));
    let credits = collect(sides.bank, free.of(Side::Bank));
    let mut taken = vec![false; sides.bank.len()];
    let closest = |merchant: &str, settle_date: NaiveDate, net: Decimal, taken: &[bool]| {
        let list = credits.get(&(merchant, settle_date))?;
        let bank = sides.bank;
        list.iter().copied().filter(|&c| !taken[c]).min_by(|&a, &b| {
            let by = |c: usize| ((bank[c].amount() - net).abs(), bank[c].content_order());
            by(a).cmp(&by(b))
        })
    };
    let mut result = StageResult::default();
    let mut left = Vec::new();
    for ((merchant, date), rows) in groups {
        let net: Decimal = rows.iter().map(|&i| net_of(plan, stage, &sides.ledger[i])).sum();
        let settle_date = settle.date(date);
        let mut batch = Batch {
            stage: index,
            merchant: merchant.to_string(),
            business_date: date,
            settle_date,
            ledger: rows,
            credit: None,
            net,
            outcome: BatchOutcome::Missing,
        };
        let paid = closest(merchant, settle_date, net, &taken)
            .filter(|&c| tolerance.allows(net, sides.bank[c].amount()));
        match paid {
            Some(c) => {
                taken[c] = true;
                batch.credit = Some(c);
                batch.outcome = BatchOutcome::Settled;
                result.matches.push(index, &batch.ledger, &[c], Vec::new());
                result.batches.push(batch);
            }
            None => left.push(batch),
        }
    }
    // Groups that found no credit within the tolerance are compared with the
    // closest credit no group took; a credit is held against one group only.
    for mut batch in left {
        batch.outcome = match closest(&batch.merchant, batch.settle_date, batch.net, &taken) {
            Some(c) => {
                taken[c] = true;
                batch.credit = Some(c);
                BatchOutcome::AmountMismatch
            }
            None if awaits_credit(&batch, sides, plan, day) => BatchOutcome::Pending,
            None => BatchOutcome::Missing,
        };
        result.batches.push(batch);
    }
    result
}

/// With `--date`, the end of the latest settlement day of the day's batches,
/// when it is after the cutoff: the statement rows a run takes in reach that far.
pub fn statement_until(plan: &Plan, day: &BusinessDay) -> Option<DateTime<Utc>> {
    plan.stages
        .iter()
        .filter_map(|s| match s {
            StagePlan::Batch { settle, .. } => Some(plan.business_day(settle.date(day.date)).end),
            _ => None,
        })
        .max()
        .filter(|&end| end > day.cutoff)
}

/// Whether a group without credit may still be paid: with `--date`, when its
/// settlement day ends after the cutoff (rows carried in already waited).
fn awaits_credit(batch: &Batch, sides: Sides, plan: &Plan, day: Option<&BusinessDay>) -> bool {
    let Some(day) = day else { return false };
    let fresh = batch
        .ledger
        .iter()
        .all(|&i| sides.ledger[i].origin() == Origin::Input);
    fresh && plan.business_day(batch.settle_date).end > day.cutoff
}
