//! Typing the rows of a located table: the rule file's column mapping turns
//! each raw row into a `Record` (key, decimal amount, absolute time), or into
//! a `RowError` that names the line, the column and what is wrong.

use chrono::{DateTime, Utc};
use rayon::prelude::*;
use rust_decimal::Decimal;
use thiserror::Error;

use super::amount::{parse_money, parse_optional_amount, Money};
use super::field::{clean_field, excerpt, is_placeholder};
use super::plan::{AmountColumns, Cleaner, SidePlan, TimeColumns};
use super::table::{RawRow, Table};
use super::time::{parse_date_time, parse_time};
use crate::model::{Amount, Currency, Record, RecordText, Side, Stamp, MAX_LINE};

/// A mapped column that the header does not have, or has twice.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum MappingError {
    /// The rule file names a column the header lacks.
    #[error("column \"{name}\" (from the rule file) is not in the header on line {header_line}; the header has: {available}. Correct the name in the rule file's columns section, or check that this is the right file")]
    Missing {
        /// The missing name.
        name: String,
        /// Header line.
        header_line: u64,
        /// The header's names, comma-separated.
        available: String,
    },
    /// The header has the same name twice, so the mapping is ambiguous.
    #[error("column \"{name}\" appears twice in the header on line {header_line} (columns {first} and {second}); rename one in the file or map the other")]
    Duplicate {
        /// The repeated name.
        name: String,
        /// Header line.
        header_line: u64,
        /// 1-based first position.
        first: usize,
        /// 1-based second position.
        second: usize,
    },
}

impl MappingError {
    /// The 1-based header column the error is about: the second of two
    /// equal names, else the first column.
    pub fn column(&self) -> usize {
        match self {
            MappingError::Missing { .. } => 1,
            MappingError::Duplicate { second, .. } => *second,
        }
    }
}

/// A row that could not be typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// 1-based physical line of the row.
    pub line: u64,
    /// 1-based field number the problem is in.
    pub column: usize,
    /// What is wrong and what to do.
    pub message: String,
}

/// The records of one file, and the rows that failed.
#[derive(Debug, Default)]
pub struct Typed {
    /// Rows that became records, in file order.
    pub records: Vec<Record>,
    /// Rows that could not be typed, in file order, with their raw text.
    pub rejected: Vec<(RowError, RawRow)>,
}

/// The fields of one raw row, however they are stored.
pub trait Fields {
    /// Number of fields.
    fn count(&self) -> usize;
    /// Field `i` as written (unquoted), if the row has it.
    fn get(&self, i: usize) -> Option<&str>;
    /// Whether any field holds `byte`.
    fn holds(&self, byte: u8) -> bool {
        (0..self.count()).any(|i| self.get(i).is_some_and(|f| f.as_bytes().contains(&byte)))
    }
}

impl Fields for csv::StringRecord {
    fn count(&self) -> usize {
        csv::StringRecord::len(self)
    }

    fn get(&self, i: usize) -> Option<&str> {
        csv::StringRecord::get(self, i)
    }

    fn holds(&self, byte: u8) -> bool {
        memchr::memchr(byte, self.as_byte_record().as_slice()).is_some()
    }
}

impl Fields for csv::ByteRecord {
    fn count(&self) -> usize {
        csv::ByteRecord::len(self)
    }

    /// Fields split from UTF-8 text at ASCII delimiters are UTF-8; anything
    /// else reads as absent.
    fn get(&self, i: usize) -> Option<&str> {
        csv::ByteRecord::get(self, i).and_then(|f| std::str::from_utf8(f).ok())
    }

    fn holds(&self, byte: u8) -> bool {
        memchr::memchr(byte, self.as_slice()).is_some()
    }
}

/// Column positions (0-based) resolved against the header.
pub(crate) struct Layout<'p> {
    key: Option<usize>,
    amount: AmountAt,
    time: TimeAt,
    merchant: Option<usize>,
    kind: Option<usize>,
    currency: Option<usize>,
    /// Positions of the carried columns; `AMOUNT_NOTE_AT` for `amount_note`.
    carry: Vec<usize>,
    /// The fee column and its place among the carried values.
    fee: Option<(usize, usize)>,
    cleaners: Vec<Option<&'p Cleaner>>,
    width: usize,
}

/// The carried column `amount_note`, when the header has no column of that
/// name: the annotation written after an amount (`131.77(已退款89.84)`).
pub const AMOUNT_NOTE: &str = "amount_note";

/// Where `amount_note` stands in `Layout::carry`.
const AMOUNT_NOTE_AT: usize = usize::MAX;

enum AmountAt {
    Single { amount: usize, direction: Option<usize> },
    DebitCredit { debit: usize, credit: usize },
}

enum TimeAt {
    None,
    One(usize),
    DateAndTime(usize, usize),
}

/// Types every data row of `table` for `side` with `plan`, in parallel. The
/// rows are moved out of the table (it keeps header and skip facts).
pub fn type_rows(table: &mut Table, side: Side, plan: &SidePlan) -> Result<Typed, MappingError> {
    let layout = resolve(table, plan)?;
    let rows = std::mem::take(&mut table.rows);
    let results: Vec<Result<Record, RowError>> = rows
        .par_iter()
        .map(|row| type_row(row.line, &row.fields, side, plan, &layout))
        .collect();
    let mut typed = Typed {
        records: Vec::with_capacity(results.len()),
        rejected: Vec::new(),
    };
    for (result, row) in results.into_iter().zip(rows) {
        match result {
            Ok(record) => typed.records.push(record),
            Err(error) => typed.rejected.push((error, row)),
        }
    }
    Ok(typed)
}

/// Resolves the plan's column names against the table's header.
pub(crate) fn resolve<'p>(table: &Table, plan: &'p SidePlan) -> Result<Layout<'p>, MappingError> {
    let find = |name: &str| position(table, name);
    let opt = |name: &Option<String>| name.as_deref().map(find).transpose();
    let c = &plan.columns;
    let amount = match &c.amount {
        AmountColumns::Single { amount, direction } => AmountAt::Single {
            amount: find(amount)?,
            direction: opt(direction)?,
        },
        AmountColumns::DebitCredit { debit, credit } => AmountAt::DebitCredit {
            debit: find(debit)?,
            credit: find(credit)?,
        },
    };
    let time = match &c.time {
        TimeColumns::None => TimeAt::None,
        TimeColumns::One(t) => TimeAt::One(find(t)?),
        TimeColumns::DateAndTime { date, time } => TimeAt::DateAndTime(find(date)?, find(time)?),
    };
    let mut cleaners = vec![None; table.header.len()];
    for cleaner in &plan.cleaners {
        cleaners[find(&cleaner.column)?] = Some(cleaner);
    }
    Ok(Layout {
        key: opt(&c.key)?,
        amount,
        time,
        merchant: opt(&c.merchant)?,
        kind: opt(&c.kind)?,
        currency: opt(&c.currency)?,
        carry: c
            .carry
            .iter()
            .map(|n| match find(n) {
                Err(MappingError::Missing { .. }) if n == AMOUNT_NOTE => Ok(AMOUNT_NOTE_AT),
                other => other,
            })
            .collect::<Result<_, _>>()?,
        fee: match (&c.fee, c.fee_slot()) {
            (Some(name), Some(slot)) => Some((find(name)?, slot)),
            _ => None,
        },
        cleaners,
        width: table.header.len(),
    })
}

/// 0-based position of `name` in the header; missing or repeated names are errors.
pub fn position(table: &Table, name: &str) -> Result<usize, MappingError> {
    let mut hits = table
        .header
        .iter()
        .enumerate()
        .filter(|(_, h)| *h == name)
        .map(|(i, _)| i);
    let first = hits.next().ok_or_else(|| MappingError::Missing {
        name: name.to_string(),
        header_line: table.header_line,
        available: table
            .header
            .iter()
            .filter(|h| !h.is_empty())
            .map(|h| excerpt(h))
            .collect::<Vec<_>>()
            .join(", "),
    })?;
    if let Some(second) = hits.next() {
        return Err(MappingError::Duplicate {
            name: name.to_string(),
            header_line: table.header_line,
            first: first + 1,
            second: second + 1,
        });
    }
    Ok(first)
}

/// Types one row (starting on physical `line`) into a record, or says what is wrong.
pub(crate) fn type_row(
    line: u64,
    fields: &impl Fields,
    side: Side,
    plan: &SidePlan,
    layout: &Layout,
) -> Result<Record, RowError> {
    let values = read_row(line, fields, plan, layout)?;
    let key = layout.key.map_or("", |i| cell(fields, layout, i));
    let merchant = layout.merchant.map_or("", |i| cell(fields, layout, i));
    let carried = (0..layout.carry.len()).map(|k| values.carried(k, fields, layout));
    let text = RecordText::new(key, merchant, carried);
    Record::new(side, line, values.held.0, values.held.1, text, values.currency).ok_or_else(|| RowError {
        line,
        column: 1,
        message: format!(
            "the file has more than {MAX_LINE} lines, more than a record can count: reconcile it in smaller files"
        ),
    })
}

/// A row's typed values, read without packing its text into a record.
pub(crate) struct RowValues<'r> {
    /// Signed amount, as `Record::amount`.
    pub(crate) amount: Decimal,
    /// Currency, as `Record::currency`.
    pub(crate) currency: Currency,
    /// Time, as `Record::time`.
    pub(crate) time: Option<DateTime<Utc>>,
    /// The amount and the time as a record holds them.
    held: (Amount, Stamp),
    /// The annotation written after the amount.
    note: Option<&'r str>,
    /// The fee's slot among the carried values and its value there.
    fee: Option<(usize, String)>,
}

impl<'r> RowValues<'r> {
    /// Carried value `k` of the row, as `Record::carried` gives it.
    pub(crate) fn carried<'a>(&'a self, k: usize, fields: &'r impl Fields, layout: &Layout) -> &'a str
    where
        'r: 'a,
    {
        match (&self.fee, layout.carry[k]) {
            (Some((slot, fee)), _) if *slot == k => fee,
            (_, AMOUNT_NOTE_AT) => self.note.unwrap_or(""),
            (_, i) => cell(fields, layout, i),
        }
    }
}

/// Field `i` of a row, cleaned (and put through the column's cleaner).
fn cell<'r>(fields: &'r impl Fields, layout: &Layout, i: usize) -> &'r str {
    let text = clean_field(fields.get(i).unwrap_or(""));
    match layout.cleaners[i] {
        Some(c) => clean_field(c.apply(text)),
        None => text,
    }
}

/// Reads one row's amount, currency, time and fee, or says what is wrong
/// (the first problem in that order, after the row's width).
pub(crate) fn read_row<'r>(
    line: u64,
    fields: &'r impl Fields,
    plan: &SidePlan,
    layout: &Layout,
) -> Result<RowValues<'r>, RowError> {
    check_width(line, fields, layout)?;
    let cell = |i: usize| -> &'r str { cell(fields, layout, i) };
    let error = |i: usize, message: String| RowError {
        line,
        column: i + 1,
        message,
    };
    let (mut amount, written_currency, note) = read_amount(&cell, plan, layout, &error)?;
    let currency = match layout.currency.map(cell).filter(|c| !is_placeholder(c)) {
        Some(code) => {
            let i = layout.currency.unwrap_or_default();
            super::amount::currency_code(code)
                .and_then(Currency::new)
                .ok_or_else(|| {
                    error(
                        i,
                        format!(
                            "currency \"{}\" is not a currency code such as CNY or USD",
                            excerpt(code)
                        ),
                    )
                })?
        }
        None => written_currency.and_then(Currency::new).unwrap_or(plan.currency),
    };
    if let Some(i) = layout.kind {
        let kind = cell(i);
        if plan.values.is_refund(kind) {
            amount = -amount.abs();
        }
    }
    if plan.flip_sign {
        amount = -amount;
    }
    let held_amount = Amount::from_decimal(amount).ok_or_else(|| {
        error(
            layout.amount_column(),
            "the amount has too many digits to be held exactly (18, whole and decimal places together, always fit): write it with fewer decimal places".into(),
        )
    })?;
    let time = match layout.time {
        TimeAt::None => None,
        TimeAt::One(i) => Some(
            parse_time(cell(i), &plan.columns.time_layout, plan.zone).map_err(|e| error(i, e.to_string()))?,
        ),
        TimeAt::DateAndTime(d, t) => Some(
            parse_date_time(cell(d), cell(t), &plan.columns.time_layout, plan.zone)
                .map_err(|e| error(d, e.to_string()))?,
        ),
    };
    let held_time = Stamp::new(time).ok_or_else(|| {
        error(
            layout.time_column(),
            "the time is a leap second (:60), which cannot be held exactly: write the second before or after"
                .into(),
        )
    })?;
    let fee = match layout.fee {
        None => None,
        Some((column, slot)) => Some((slot, read_fee(cell(column)).map_err(|e| error(column, e))?)),
    };
    Ok(RowValues {
        amount,
        currency,
        time,
        held: (held_amount, held_time),
        note,
        fee,
    })
}

/// A fee cell as the plain decimal kept among the carried values: trailing
/// zeros beyond the cents dropped (`0.77000` → `0.77`, `-1.2` → `-1.20`);
/// empty is no fee. Fees may have more decimals than amounts.
fn read_fee(text: &str) -> Result<String, String> {
    let fee = parse_optional_amount(text, None).map_err(|e| format!("fee: {e}"))?;
    let mut fee = fee.unwrap_or_default().normalize();
    if fee.scale() < 2 {
        fee.rescale(2);
    }
    Ok(fee.to_string())
}

/// Rows shorter than the header must still hold every mapped column; rows
/// longer than it may only have empty extra fields (trailing delimiters).
fn check_width(line: u64, fields: &impl Fields, layout: &Layout) -> Result<(), RowError> {
    let len = fields.count();
    if len > layout.width {
        if let Some(extra) =
            (layout.width..len).find(|&i| !clean_field(fields.get(i).unwrap_or("")).is_empty())
        {
            return Err(RowError {
                line,
                column: extra + 1,
                message: format!(
                    "row has {len} fields but the header has {}: the extra fields hold data (an unquoted delimiter inside a value?)",
                    layout.width
                ),
            });
        }
    }
    if len < layout.width {
        if let Some(needed) = layout.mapped().filter(|&i| i >= len).min() {
            return Err(RowError {
                line,
                column: needed + 1,
                message: format!(
                    "row has {len} fields but the header has {}: mapped column {} is missing",
                    layout.width,
                    needed + 1
                ),
            });
        }
    }
    Ok(())
}

impl Layout<'_> {
    /// The (first) column the amount is read from.
    fn amount_column(&self) -> usize {
        match self.amount {
            AmountAt::Single { amount, .. } => amount,
            AmountAt::DebitCredit { debit, .. } => debit,
        }
    }

    /// The (first) column the time is read from; the first column when none is.
    fn time_column(&self) -> usize {
        match self.time {
            TimeAt::None => 0,
            TimeAt::One(t) | TimeAt::DateAndTime(t, _) => t,
        }
    }

    /// Every mapped column position.
    fn mapped(&self) -> impl Iterator<Item = usize> + '_ {
        let amount = match self.amount {
            AmountAt::Single { amount, direction } => [Some(amount), direction],
            AmountAt::DebitCredit { debit, credit } => [Some(debit), Some(credit)],
        };
        let time = match self.time {
            TimeAt::None => [None, None],
            TimeAt::One(t) => [Some(t), None],
            TimeAt::DateAndTime(d, t) => [Some(d), Some(t)],
        };
        [self.key, self.merchant, self.kind, self.currency]
            .into_iter()
            .chain(amount)
            .chain(time)
            .flatten()
            .chain(self.carry.iter().copied().filter(|&i| i != AMOUNT_NOTE_AT))
            .chain(self.fee.map(|(column, _)| column))
    }
}

/// The signed amount of a row, the currency its amount names (if any) and
/// the annotation after it (if any).
fn read_amount<'r>(
    cell: &impl Fn(usize) -> &'r str,
    plan: &SidePlan,
    layout: &Layout,
    error: &impl Fn(usize, String) -> RowError,
) -> Result<(Decimal, Option<&'static str>, Option<&'r str>), RowError> {
    let decimals = plan.amount_decimals;
    let money =
        |i: usize| parse_money(cell(i), decimals, plan.decimal_comma).map_err(|e| error(i, e.to_string()));
    let optional = |i: usize| -> Result<Option<Money<'r>>, RowError> {
        if is_placeholder(cell(i)) {
            Ok(None)
        } else {
            money(i).map(Some)
        }
    };
    match layout.amount {
        AmountAt::Single { amount, direction } => {
            let Money {
                amount: value,
                currency,
                note,
            } = money(amount)?;
            let Some(d) = direction else {
                return Ok((value, currency, note));
            };
            let word = cell(d);
            let signed = if plan.values.is_income(word) {
                value.abs()
            } else if plan.values.is_expense(word) {
                -value.abs()
            } else if plan.values.is_neutral(word) {
                value
            } else {
                return Err(error(
                    d,
                    format!(
                        "direction \"{}\" is not an income ({}), expense ({}) or neutral ({}) word; add it to values.income, values.expense or values.neutral in the rule file",
                        excerpt(word),
                        plan.values.income.join(" "),
                        plan.values.expense.join(" "),
                        plan.values.neutral.join(" ")
                    ),
                ));
            };
            Ok((signed, currency, note))
        }
        AmountAt::DebitCredit { debit, credit } => {
            let out = optional(debit)?;
            let into = optional(credit)?;
            if out.is_none() && into.is_none() {
                return Err(error(
                    debit,
                    "both the debit and the credit column are empty: one of them must hold the amount".into(),
                ));
            }
            let amount = |m: &Option<Money>| m.as_ref().map_or(Decimal::ZERO, |m| m.amount.abs());
            let currency = into
                .as_ref()
                .and_then(|m| m.currency)
                .or(out.as_ref().and_then(|m| m.currency));
            let note = into
                .as_ref()
                .and_then(|m| m.note)
                .or(out.as_ref().and_then(|m| m.note));
            Ok((amount(&into) - amount(&out), currency, note))
        }
    }
}
