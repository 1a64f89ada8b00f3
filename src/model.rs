//! The domain records every other module works on: one `Record` per data row
//! of a ledger or statement file, already typed (decimal amount, absolute time).

use std::fmt;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Serialize;

/// Which file a record comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    /// The platform's own ledger export.
    Ledger,
    /// The bank or channel statement.
    Bank,
}

impl Side {
    /// Both sides, ledger first (the order used in every output).
    pub const BOTH: [Side; 2] = [Side::Ledger, Side::Bank];

    /// The lowercase name used in outputs and rule files.
    pub fn name(self) -> &'static str {
        match self {
            Side::Ledger => "ledger",
            Side::Bank => "bank",
        }
    }

    /// The other side.
    pub fn other(self) -> Side {
        match self {
            Side::Ledger => Side::Bank,
            Side::Bank => Side::Ledger,
        }
    }
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Where a record was read: this run's input file, or a previous run's
/// `pending.csv` (`--carry-in`), whose rows keep their original side and line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Origin {
    /// A row of this run's ledger or statement file.
    #[default]
    Input,
    /// A row carried in from the previous run's pending.csv.
    CarriedIn,
}

/// A pointer back to one input row: `ledger:12`, or `carried:ledger:12` for
/// a row carried in from the previous run (line 12 of that run's ledger).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RowRef {
    /// The file.
    pub side: Side,
    /// The 1-based physical line where the row starts.
    pub line: u64,
    /// This run's file, or carried in.
    pub origin: Origin,
}

impl fmt::Display for RowRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.origin == Origin::CarriedIn {
            f.write_str("carried:")?;
        }
        write!(f, "{}:{}", self.side, self.line)
    }
}

/// A file that rows were read from: its path as given and the SHA-256 of its bytes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourceId {
    /// The path as given on the command line.
    pub path: String,
    /// Lowercase hex SHA-256 of the file's bytes.
    pub sha256: String,
}

/// One typed row of a ledger or statement.
#[derive(Debug, Clone)]
pub struct Record {
    /// The file it comes from.
    pub side: Side,
    /// The 1-based physical line where the row starts in its original file.
    pub line: u64,
    /// The matching key (order id); empty when the source has none for this row.
    pub key: Box<str>,
    /// Signed amount: money in (payments) positive, money out (refunds, reversals) negative.
    pub amount: Decimal,
    /// The absolute instant of the transaction, when the source has a time.
    pub time: Option<DateTime<Utc>>,
    /// Merchant or counterparty, used by fallback matching; may be empty.
    pub merchant: Box<str>,
    /// Values of the side's carried columns, in the rule file's order.
    pub carried: Vec<Box<str>>,
    /// This run's file, or carried in from the previous run.
    pub origin: Origin,
}

impl Record {
    /// The pointer `side:line` for this record.
    pub fn row_ref(&self) -> RowRef {
        RowRef {
            side: self.side,
            line: self.line,
            origin: self.origin,
        }
    }

    /// True for money out (refunds, reversals).
    pub fn is_outflow(&self) -> bool {
        self.amount.is_sign_negative() && !self.amount.is_zero()
    }
}

/// A record count and the sum of its amounts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    /// How many records.
    pub count: u64,
    /// Sum of their amounts.
    #[serde(with = "rust_decimal::serde::str")]
    pub amount: Decimal,
}

impl Tally {
    /// Adds one amount.
    pub fn add(&mut self, amount: Decimal) {
        self.count += 1;
        self.amount += amount;
    }

    /// The tally of a set of records.
    pub fn of<'a>(records: impl IntoIterator<Item = &'a Record>) -> Tally {
        let mut tally = Tally::default();
        for r in records {
            tally.add(r.amount);
        }
        tally
    }
}

impl std::ops::AddAssign for Tally {
    fn add_assign(&mut self, other: Tally) {
        self.count += other.count;
        self.amount += other.amount;
    }
}
