//! Sorting rows by their status column before they are typed: completed
//! payments become records, completed refunds become refund records (read
//! from the refund amount column when the format has one), closed or failed
//! rows are set aside with their status as the reason, and a status in no
//! list is a bad row. Without a status column every row is typed as is.

use std::collections::HashMap;

use super::field::{clean_field, excerpt};
use super::plan::{AmountColumns, SidePlan, StatusClass};
use super::records::{position, type_rows, MappingError, RowError, Typed};
use super::table::{RawRow, Table};
use crate::model::{Record, Side};

/// A record that takes no part in matching, with why.
#[derive(Debug, Clone)]
pub struct SetAside {
    /// The typed row.
    pub record: Record,
    /// `status_ignored (交易关闭)`.
    pub reason: String,
}

/// A file's rows after status sorting and typing.
#[derive(Debug, Default)]
pub struct Sorted {
    /// Records that take part in matching (payments and refunds), and bad rows.
    pub typed: Typed,
    /// Rows set aside by their status.
    pub set_aside: Vec<SetAside>,
}

/// Types the rows of `table`, sorting them by status first when the plan
/// maps a status column. Rows are moved out of the table.
pub fn type_by_status(table: &mut Table, side: Side, plan: &SidePlan) -> Result<Sorted, MappingError> {
    let Some(column) = &plan.columns.status else {
        return Ok(Sorted {
            typed: type_rows(table, side, plan)?,
            set_aside: Vec::new(),
        });
    };
    // A mapping that does not fit the header is reported before any status.
    for name in plan.columns.names() {
        position(table, &name)?;
    }
    let at = position(table, column)?;
    let groups = split(std::mem::take(&mut table.rows), at, plan);
    let mut typed = type_group(table, groups.counted, side, plan)?;
    let refund_plan = refund_plan(plan);
    let mut refunds = type_group(table, groups.refunds, side, &refund_plan)?;
    for record in &mut refunds.records {
        record.amount = record.amount.outflow();
    }
    let aside = type_group(table, groups.aside, side, &aside_plan(plan))?;
    let had_refunds = !refunds.records.is_empty();
    typed.records.append(&mut refunds.records);
    if had_refunds {
        typed.records.sort_by_key(|r| r.line());
    }
    typed.rejected.append(&mut refunds.rejected);
    typed.rejected.extend(aside.rejected);
    typed.rejected.extend(groups.unknown);
    typed.rejected.sort_by_key(|(e, _)| e.line);
    let set_aside = aside
        .records
        .into_iter()
        .map(|record| {
            let status = groups.aside_status.get(&record.line()).map_or("", String::as_str);
            SetAside {
                reason: format!("status_ignored ({status})"),
                record,
            }
        })
        .collect();
    Ok(Sorted { typed, set_aside })
}

/// Rows by what their status says.
#[derive(Default)]
struct Groups {
    counted: Vec<RawRow>,
    refunds: Vec<RawRow>,
    aside: Vec<RawRow>,
    aside_status: HashMap<u64, String>,
    unknown: Vec<(RowError, RawRow)>,
}

fn split(rows: Vec<RawRow>, at: usize, plan: &SidePlan) -> Groups {
    let mut groups = Groups::default();
    for row in rows {
        let status = clean_field(row.fields.get(at).unwrap_or(""));
        match plan.status.classify(status) {
            StatusClass::Success => groups.counted.push(row),
            StatusClass::Refund => groups.refunds.push(row),
            StatusClass::Ignore => {
                groups.aside_status.insert(row.line, status.to_string());
                groups.aside.push(row);
            }
            StatusClass::Unknown => {
                let error = RowError {
                    line: row.line,
                    column: at + 1,
                    message: unknown_status(status, plan),
                };
                groups.unknown.push((error, row));
            }
        }
    }
    groups
}

fn unknown_status(status: &str, plan: &SidePlan) -> String {
    let words = &plan.status;
    format!(
        "status \"{}\" is not a success ({}), refund ({}) or ignore ({}) status; add it to [status] success, refund or ignore in the rule file's side section",
        excerpt(status),
        words.success.join(" "),
        words.refund.join(" "),
        words.ignore.join(" ")
    )
}

/// Types one group of rows with the table's header.
fn type_group(
    table: &mut Table,
    rows: Vec<RawRow>,
    side: Side,
    plan: &SidePlan,
) -> Result<Typed, MappingError> {
    if rows.is_empty() {
        return Ok(Typed::default());
    }
    table.rows = rows;
    type_rows(table, side, plan)
}

/// The plan for rows set aside by their status: a closed or failed payment
/// often has no direction (an empty 收/支 cell), and its amount is kept as written.
fn aside_plan(plan: &SidePlan) -> SidePlan {
    let mut aside = plan.clone();
    aside.values.neutral.push(String::new());
    aside
}

/// The plan for refund rows: the amount comes from `refund_amount` when set.
fn refund_plan(plan: &SidePlan) -> SidePlan {
    let mut refund = plan.clone();
    if let Some(column) = &plan.columns.refund_amount {
        refund.columns.amount = AmountColumns::Single {
            amount: column.clone(),
            direction: None,
        };
    }
    refund
}
