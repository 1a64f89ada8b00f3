//! The fee check (`[fees]`): every row of this run's files on a side with a
//! mapped `fee` column has its fee compared with the expected one (the
//! agreed rate of its merchant, else of its currency, rounded per row);
//! differences beyond the tolerance are written to `fee_variances.csv`. A
//! variance never changes a row's disposition: the bank paid what it paid.
//! Each variance is an item (`fee:SIDE:LINE`) that `recon resolve --accept`
//! can close; its handling is shown next to it.

use std::collections::BTreeMap;

use rayon::prelude::*;
use rust_decimal::Decimal;

use super::resolutions::Resolved;
use super::summary::{FeeFacts, FeeSums};
use crate::input::field::safe;
use crate::input::time::ZonedWriter;
use crate::matching::{Disposition, Reconciliation, Sides};
use crate::model::{Currency, Origin, Record, Side};
use crate::rules::plan::Plan;

/// The file the variances are written to.
pub const FILE_NAME: &str = "fee_variances.csv";

/// The prefix of a fee variance's item (`fee:ledger:8`).
pub const ITEM_PREFIX: &str = "fee:";

/// One row whose fee differs from the expected one beyond the tolerance.
#[derive(Debug, Clone)]
pub struct FeeVariance {
    /// Its side.
    pub side: Side,
    /// Its index in the side's records.
    pub index: usize,
    /// The fee the agreed rate gives.
    pub expected: Decimal,
    /// The fee charged.
    pub actual: Decimal,
}

/// What the check found.
pub struct FeeCheck {
    /// Counts and sums for summary.json.
    pub facts: FeeFacts,
    /// The variances, ledger first, by line.
    pub variances: Vec<FeeVariance>,
    /// Whether any checked row is in another currency than CNY (a `currency` column).
    currencies: bool,
}

/// Checks the fees of the rows of `sides` this run reconciles: not the rows
/// of another business day, nor rows carried in (their own run checked
/// them). `None` without `[fees]`.
pub fn check(sides: Sides, result: &Reconciliation, plan: &Plan) -> Option<FeeCheck> {
    check_where(sides, result, plan, |_| true)
}

/// `check` over the rows `keep` holds (a role's row scope).
pub fn check_where(
    sides: Sides,
    result: &Reconciliation,
    plan: &Plan,
    keep: impl Fn(&Record) -> bool + Sync,
) -> Option<FeeCheck> {
    let fees = plan.fees.as_ref()?;
    let mut facts = FeeFacts::default();
    let mut sums: BTreeMap<Currency, FeeSums> = BTreeMap::new();
    let mut variances = Vec::new();
    for side in Side::BOTH {
        let side_plan = match side {
            Side::Ledger => &plan.ledger,
            Side::Bank => &plan.bank,
        };
        let Some(slot) = side_plan.columns.fee_slot() else {
            continue;
        };
        let dispositions = match side {
            Side::Ledger => &result.ledger,
            Side::Bank => &result.bank,
        };
        let records = sides.of(side);
        let mut checked: Vec<FeeVariance> = records
            .par_iter()
            .zip(dispositions)
            .enumerate()
            .filter(|(_, (r, d))| {
                r.origin() == Origin::Input && !matches!(d, Disposition::OutOfPeriod(_)) && keep(r)
            })
            .map(|(index, (record, _))| FeeVariance {
                side,
                index,
                expected: fees
                    .rate_for(record.merchant(), record.currency.as_str())
                    .fee(record.amount()),
                actual: record.fee(slot),
            })
            .collect();
        checked.sort_by_key(|c| records[c.index].line());
        for c in checked {
            facts.checked += 1;
            let sum = sums.entry(records[c.index].currency).or_default();
            sum.expected += c.expected;
            sum.actual += c.actual;
            if (c.actual - c.expected).abs() > fees.tolerance {
                facts.variances += 1;
                sum.variance_total += c.actual - c.expected;
                variances.push(c);
            }
        }
    }
    let currencies = sums.keys().any(|&c| c != Currency::CNY);
    facts.set_sums(sums);
    Some(FeeCheck {
        facts,
        variances,
        currencies,
    })
}

impl FeeCheck {
    /// The variances' rows, for resolutions.
    pub fn rows(&self) -> Vec<(Side, usize)> {
        self.variances.iter().map(|v| (v.side, v.index)).collect()
    }

    /// Renders fee_variances.csv: each variance with its item, its row's
    /// columns (those a role's `rows` filter and masks work on), and its
    /// handling (`open` or `accepted`, as resolutions.csv shows it).
    pub fn render(&self, sides: Sides, plan: &Plan, resolved: &Resolved) -> Vec<u8> {
        let carried = super::resolutions::carried_names(plan);
        let mut writer = csv::Writer::from_writer(Vec::new());
        let mut header = vec!["item", "side", "line", "key", "amount", "time", "merchant"];
        if self.currencies {
            header.push("currency");
        }
        header.extend(["expected", "actual", "difference", "status", "resolution"]);
        writer
            .write_record(header.into_iter().chain(carried.iter().map(String::as_str)))
            .expect("writing to memory");
        let mut times = ZonedWriter::new(plan.business_zone);
        for v in &self.variances {
            let r = &sides.of(v.side)[v.index];
            let mut time = String::new();
            if let Some(t) = r.time() {
                times.write(t, &mut time);
            }
            let resolution = resolved.of_fee(r.row_ref());
            let mut cells: Vec<String> = vec![
                format!("{ITEM_PREFIX}{}", r.row_ref()),
                r.side().name().into(),
                r.line().to_string(),
                safe(r.key()).into_owned(),
                r.amount().to_string(),
                time,
                safe(r.merchant()).into_owned(),
            ];
            if self.currencies {
                cells.push(r.currency.as_str().into());
            }
            cells.extend([
                v.expected.to_string(),
                v.actual.to_string(),
                (v.actual - v.expected).to_string(),
                if resolution.is_empty() { "open" } else { "accepted" }.into(),
                safe(resolution).into_owned(),
            ]);
            let values = super::resolutions::carried_values(r, plan, &carried);
            writer
                .write_record(
                    cells
                        .iter()
                        .map(String::as_str)
                        .chain(values.iter().map(|v| v.as_ref())),
                )
                .expect("writing to memory");
        }
        writer.into_inner().expect("writing to memory")
    }
}
