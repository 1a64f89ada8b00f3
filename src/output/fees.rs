//! The fee check (`[fees]`): every row of this run's files on a side with a
//! mapped `fee` column has its fee compared with the expected one (the
//! agreed rate of its merchant, rounded per row); differences beyond the
//! tolerance are written to `fee_variances.csv`. A variance never changes
//! a row's disposition: the bank paid what it paid.

use rayon::prelude::*;
use rust_decimal::Decimal;

use super::summary::FeeFacts;
use super::tables::safe;
use crate::matching::{Disposition, Reconciliation, Sides};
use crate::model::{Origin, Record, Side};
use crate::rules::plan::Plan;

/// The file the variances are written to.
pub const FILE_NAME: &str = "fee_variances.csv";

/// What the check found.
pub struct FeeCheck {
    /// Counts and sums for summary.json.
    pub facts: FeeFacts,
    /// fee_variances.csv.
    pub csv: Vec<u8>,
}

/// One row's fee: the expected one and the one charged.
struct RowFee<'a> {
    record: &'a Record,
    expected: Decimal,
    actual: Decimal,
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
        let mut checked: Vec<RowFee> = sides
            .of(side)
            .par_iter()
            .zip(dispositions)
            .filter(|(r, d)| {
                r.origin == Origin::Input && !matches!(d, Disposition::OutOfPeriod(_)) && keep(r)
            })
            .map(|(record, _)| RowFee {
                record,
                expected: fees.rate_for(record.merchant()).fee(record.amount),
                actual: record.fee(slot),
            })
            .collect();
        checked.sort_by_key(|c| c.record.line);
        for c in checked {
            facts.checked += 1;
            facts.expected += c.expected;
            facts.actual += c.actual;
            if (c.actual - c.expected).abs() > fees.tolerance {
                facts.variances += 1;
                facts.variance_total += c.actual - c.expected;
                variances.push(c);
            }
        }
    }
    Some(FeeCheck {
        facts,
        csv: render(&variances),
    })
}

fn render(variances: &[RowFee]) -> Vec<u8> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let header = [
        "side",
        "line",
        "key",
        "merchant",
        "amount",
        "expected",
        "actual",
        "difference",
    ];
    writer.write_record(header).expect("writing to memory");
    for v in variances {
        let r = v.record;
        writer
            .write_record([
                r.side.name(),
                &r.line.to_string(),
                &safe(r.key()),
                &safe(r.merchant()),
                &r.amount.to_string(),
                &v.expected.to_string(),
                &v.actual.to_string(),
                &(v.actual - v.expected).to_string(),
            ])
            .expect("writing to memory");
    }
    writer.into_inner().expect("writing to memory")
}
