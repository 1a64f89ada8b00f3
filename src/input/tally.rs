//! What `recon check` reports about a file's rows, summed as they are read
//! (`Tally`): counts, totals, time range, bad rows and amount notes, with no
//! record kept. `RowTally` folds a table's data rows into one, chunk by chunk
//! (see `chunked::Head::fold`), and notes where the columns that a sample of
//! rows left empty first hold a value, so that a guess made on the sample can
//! be checked against the whole file.

use chrono::{DateTime, Utc};
use csv::StringRecord;
use rust_decimal::Decimal;

use super::chunked::RowFold;
use super::field::{clean_field, formula_text, is_placeholder};
use super::plan::SidePlan;
use super::records::{read_row, Fields, Layout, MappingError, RowError};
use super::table::RawRow;
use crate::model::{Currency, Record};

/// Counts and totals of a file's rows.
#[derive(Debug, Default)]
pub struct Tally {
    /// Rows that became records.
    pub records: u64,
    /// Sum of their amounts.
    pub amount_total: Decimal,
    /// Sum of the amounts of money in (sign positive).
    pub income_total: Decimal,
    /// Sum of the amounts of money out (sign negative).
    pub expense_total: Decimal,
    /// Earliest time.
    pub time_from: Option<DateTime<Utc>>,
    /// Latest time.
    pub time_to: Option<DateTime<Utc>>,
    /// Sum of amounts by currency, in the order first seen.
    pub currencies: Vec<(Currency, Decimal)>,
    /// Rows that could not be typed, in file order.
    pub rejected: Vec<RowError>,
    /// `line N: AMOUNT (NOTE)` for each amount written with a note after it.
    pub amount_notes: Vec<String>,
}

impl Tally {
    /// Adds a record, whose carried `amount_note` value is `note`.
    pub fn add(
        &mut self,
        line: u64,
        amount: Decimal,
        time: Option<DateTime<Utc>>,
        currency: Currency,
        note: &str,
    ) {
        self.records += 1;
        self.amount_total += amount;
        if amount.is_sign_positive() {
            self.income_total += amount;
        }
        if amount.is_sign_negative() {
            self.expense_total += amount;
        }
        if let Some(t) = time {
            self.time_from = Some(self.time_from.map_or(t, |f| f.min(t)));
            self.time_to = Some(self.time_to.map_or(t, |f| f.max(t)));
        }
        match self.currencies.iter_mut().find(|(c, _)| *c == currency) {
            Some((_, total)) => *total += amount,
            None => self.currencies.push((currency, amount)),
        }
        if !note.is_empty() {
            self.amount_notes.push(format!("line {line}: {amount} ({note})"));
        }
    }

    /// Adds a typed record, its `amount_note` being carried value `note_at`.
    pub fn add_record(&mut self, record: &Record, note_at: usize) {
        let note = record.carried().nth(note_at).unwrap_or("");
        self.add(
            record.line(),
            record.amount(),
            record.time(),
            record.currency,
            note,
        );
    }

    /// Adds the tally of the rows after this one's.
    pub fn merge(&mut self, later: Tally) {
        self.records += later.records;
        self.amount_total += later.amount_total;
        self.income_total += later.income_total;
        self.expense_total += later.expense_total;
        for t in [later.time_from, later.time_to].into_iter().flatten() {
            self.time_from = Some(self.time_from.map_or(t, |f| f.min(t)));
            self.time_to = Some(self.time_to.map_or(t, |f| f.max(t)));
        }
        for (currency, amount) in later.currencies {
            match self.currencies.iter_mut().find(|(c, _)| *c == currency) {
                Some((_, total)) => *total += amount,
                None => self.currencies.push((currency, amount)),
            }
        }
        self.rejected.extend(later.rejected);
        self.amount_notes.extend(later.amount_notes);
    }
}

/// How to type the rows of a `RowTally`.
pub struct Typing<'p> {
    /// The plan the rows are read with (no status column: see `status`).
    pub plan: &'p SidePlan,
    /// Its columns resolved against the header.
    pub(crate) layout: Layout<'p>,
    /// Where `amount_note` stands among the carried values.
    pub note_at: usize,
}

impl<'p> Typing<'p> {
    /// Resolves `plan` against `table`'s header.
    pub fn new(
        table: &super::table::Table,
        plan: &'p SidePlan,
        note_at: usize,
    ) -> Result<Typing<'p>, MappingError> {
        let layout = super::records::resolve(table, plan)?;
        Ok(Typing {
            plan,
            layout,
            note_at,
        })
    }
}

/// The first row in which a column holds a value.
#[derive(Default)]
pub struct FirstValues {
    /// Per watched column: the first row where it is not empty.
    pub filled: Vec<Option<RawRow>>,
    /// Per watched column: the first row where it is not a placeholder (`-`, `N/A`, …).
    pub valued: Vec<Option<RawRow>>,
}

/// A fold of data rows into a `Tally` (when there is a typing), a row count,
/// the number of Excel text formula cells, the last data line, and the first
/// values of watched columns.
pub struct RowTally<'a> {
    typing: Option<&'a Typing<'a>>,
    /// Columns (0-based) whose first values are looked for.
    watched: &'a [usize],
    /// Data rows.
    pub rows: u64,
    /// Cells written as `="…"`.
    pub formula_cells: u64,
    /// Line of the last data row.
    pub last_line: Option<u64>,
    /// The typed rows' tally.
    pub tally: Tally,
    /// First values of the watched columns, in the order given.
    pub first: FirstValues,
}

impl<'a> RowTally<'a> {
    /// An empty fold.
    pub fn new(typing: Option<&'a Typing<'a>>, watched: &'a [usize]) -> RowTally<'a> {
        RowTally {
            typing,
            watched,
            rows: 0,
            formula_cells: 0,
            last_line: None,
            tally: Tally::default(),
            first: FirstValues {
                filled: vec![None; watched.len()],
                valued: vec![None; watched.len()],
            },
        }
    }

    fn watch(&mut self, line: u64, fields: &impl Fields) {
        for (k, &column) in self.watched.iter().enumerate() {
            if self.first.filled[k].is_some() && self.first.valued[k].is_some() {
                continue;
            }
            let value = clean_field(fields.get(column).unwrap_or(""));
            if !value.is_empty() && self.first.filled[k].is_none() {
                self.first.filled[k] = Some(raw_row(line, fields));
            }
            if !is_placeholder(value) && self.first.valued[k].is_none() {
                self.first.valued[k] = Some(raw_row(line, fields));
            }
        }
    }
}

fn raw_row(line: u64, fields: &impl Fields) -> RawRow {
    let fields: StringRecord = (0..fields.count()).map(|i| fields.get(i).unwrap_or("")).collect();
    RawRow { line, fields }
}

impl RowFold for RowTally<'_> {
    fn row(&mut self, line: u64, fields: &impl Fields) {
        self.rows += 1;
        self.last_line = Some(line);
        if fields.holds(b'=') {
            self.formula_cells += (0..fields.count())
                .filter(|&i| formula_text(fields.get(i).unwrap_or("").trim()).is_some())
                .count() as u64;
        }
        if !self.watched.is_empty() {
            self.watch(line, fields);
        }
        let Some(typing) = self.typing else {
            return;
        };
        match read_row(line, fields, typing.plan, &typing.layout) {
            Ok(values) => {
                let note = values.carried(typing.note_at, fields, &typing.layout);
                self.tally
                    .add(line, values.amount, values.time, values.currency, note);
            }
            Err(error) => self.tally.rejected.push(error),
        }
    }

    fn merge(&mut self, later: Self) {
        self.rows += later.rows;
        self.last_line = later.last_line.or(self.last_line);
        self.formula_cells += later.formula_cells;
        self.tally.merge(later.tally);
        let pairs = self.first.filled.iter_mut().zip(later.first.filled);
        for (mine, theirs) in pairs.chain(self.first.valued.iter_mut().zip(later.first.valued)) {
            if mine.is_none() {
                *mine = theirs;
            }
        }
    }
}
