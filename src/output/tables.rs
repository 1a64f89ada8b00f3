//! Rendering a reconciliation into the result CSVs (matched, unmatched,
//! duplicates, ignored, pending, out_of_period, rejected), tallying every row
//! written per side so the summary can prove that nothing was lost or written
//! twice.

use std::borrow::Cow;
use std::collections::BTreeMap;

use chrono_tz::Tz;
use rust_decimal::Decimal;

use rayon::prelude::*;

use crate::input::time::ZonedWriter;
use crate::matching::period::AWAITING_COUNTERPART;
use crate::matching::{Disposition, Reconciliation, Sides};
use crate::model::{Origin, Record, Side, SourceId, Tally};
use crate::rules::business::BusinessDay;
use crate::rules::plan::Plan;

/// One finished output file.
#[derive(Debug, Clone)]
pub struct OutputFile {
    /// File name inside the output directory.
    pub name: &'static str,
    /// CSV bytes.
    pub bytes: Vec<u8>,
    /// Rows written, per side.
    pub tallies: SideTallies,
}

/// A tally per side.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct SideTallies {
    /// Ledger rows.
    pub ledger: Tally,
    /// Bank rows.
    pub bank: Tally,
}

impl SideTallies {
    /// The tally of one side.
    pub fn side_mut(&mut self, side: Side) -> &mut Tally {
        match side {
            Side::Ledger => &mut self.ledger,
            Side::Bank => &mut self.bank,
        }
    }
}

/// A row that could not be typed, kept for `rejected.csv`.
#[derive(Debug, Clone)]
pub struct RejectedRow {
    /// Its file.
    pub side: Side,
    /// Its line.
    pub line: u64,
    /// 1-based field number of the problem.
    pub column: usize,
    /// The error.
    pub error: String,
    /// The raw row, fields joined by the delimiter.
    pub raw: String,
}

/// Everything the renderer needs.
pub struct RenderInput<'a> {
    /// Both sides' records.
    pub sides: Sides<'a>,
    /// The reconciliation.
    pub result: &'a Reconciliation,
    /// The plan (stage names, zone, carried columns).
    pub plan: &'a Plan,
    /// Rows set aside with `--skip-bad-rows`.
    pub rejected: &'a [RejectedRow],
    /// This run's ledger and statement files, named in pending.csv.
    pub inputs: [&'a SourceId; 2],
    /// With `--carry-in`: the file each side's carried rows were first read
    /// from; every output then has a `carried_from` column.
    pub carried_from: Option<[Option<&'a SourceId>; 2]>,
}

/// Renders all result files, in a fixed order (concurrently).
pub fn render(input: &RenderInput) -> Vec<OutputFile> {
    let carry = CarriedColumns::new(input.plan, input.carried_from);
    let order = RowOrder::new(input.sides);
    let sheets: [fn(&RenderInput, &CarriedColumns, &RowOrder) -> OutputFile; 6] =
        [matched, unmatched, duplicates, ignored, pending, out_of_period];
    let mut files: Vec<OutputFile> = sheets
        .par_iter()
        .map(|sheet| sheet(input, &carry, &order))
        .collect();
    if !input.rejected.is_empty() {
        files.push(rejected(input.rejected));
    }
    files
}

/// Each side's record indices in `RowRef` order (this run's rows by line,
/// then carried-in rows), worked out once for all sheets.
struct RowOrder([Vec<usize>; 2]);

impl RowOrder {
    fn new(sides: Sides) -> RowOrder {
        RowOrder(Side::BOTH.map(|side| {
            let records = sides.of(side);
            let mut order: Vec<usize> = (0..records.len()).collect();
            order.par_sort_by_key(|&i| records[i].row_ref());
            order
        }))
    }
}

/// What fills one carried column for a record of one side.
#[derive(Debug, Clone, Copy)]
enum CarriedValue {
    /// The record's `carried[i]`.
    Own(usize),
    /// The source file path of a carried-in row (`carried_from`).
    Source,
    /// Nothing: the side does not carry this column.
    Empty,
}

/// The union of both sides' carried column names, ledger's first; with
/// `--carry-in`, a `carried_from` column before them.
struct CarriedColumns<'a> {
    names: Vec<String>,
    /// For each side, what fills each column of `names`.
    values: [Vec<CarriedValue>; 2],
    /// Per side, the source file path shown for carried-in rows.
    sources: [&'a str; 2],
}

impl<'a> CarriedColumns<'a> {
    fn new(plan: &Plan, carried_from: Option<[Option<&'a SourceId>; 2]>) -> CarriedColumns<'a> {
        let mut names: Vec<String> = Vec::new();
        let mut values = [Vec::new(), Vec::new()];
        if carried_from.is_some() {
            names.push("carried_from".to_string());
            values = [vec![CarriedValue::Source], vec![CarriedValue::Source]];
        }
        let mut slots = [Vec::new(), Vec::new()];
        for (s, columns) in [&plan.ledger.columns.carry, &plan.bank.columns.carry]
            .into_iter()
            .enumerate()
        {
            for name in columns {
                let at = names.iter().position(|n| n == name).unwrap_or_else(|| {
                    names.push(name.clone());
                    names.len() - 1
                });
                slots[s].push(at);
            }
        }
        for (side, slots) in slots.iter().enumerate() {
            values[side].resize(names.len(), CarriedValue::Empty);
            for (i, &at) in slots.iter().enumerate() {
                values[side][at] = CarriedValue::Own(i);
            }
        }
        let sources = carried_from
            .unwrap_or_default()
            .map(|s| s.map_or("", |s| s.path.as_str()));
        CarriedColumns {
            names,
            values,
            sources,
        }
    }

    /// The record's carried values, one per column of `names`.
    fn values<'r>(&'r self, record: &'r Record) -> impl Iterator<Item = &'r str> {
        self.values[record.side as usize].iter().map(move |v| match *v {
            CarriedValue::Own(i) => record.carried.get(i).map_or("", |v| v),
            CarriedValue::Source if record.origin == Origin::CarriedIn => self.sources[record.side as usize],
            CarriedValue::Source | CarriedValue::Empty => "",
        })
    }
}

const COMMON: [&str; 6] = ["side", "line", "key", "amount", "time", "merchant"];

struct Sheet {
    name: &'static str,
    writer: csv::Writer<Vec<u8>>,
    tallies: SideTallies,
    times: ZonedWriter,
    /// Reused for numbers and times, so rows allocate nothing.
    scratch: String,
}

impl Sheet {
    /// A sheet whose header is `before`, the common columns, `after`, then the carried names.
    fn new(name: &'static str, before: &[&str], after: &[&str], carry: &CarriedColumns, zone: Tz) -> Sheet {
        let mut sheet = Sheet::body(name, zone);
        let header: Vec<&str> = before
            .iter()
            .copied()
            .chain(COMMON)
            .chain(after.iter().copied())
            .chain(carry.names.iter().map(String::as_str))
            .collect();
        sheet.writer.write_record(&header).expect("writing to memory");
        sheet
    }

    /// A sheet without a header, for rows rendered apart and appended with `append`.
    fn body(name: &'static str, zone: Tz) -> Sheet {
        Sheet {
            name,
            writer: csv::Writer::from_writer(Vec::new()),
            tallies: SideTallies::default(),
            times: ZonedWriter::new(zone),
            scratch: String::new(),
        }
    }

    /// The finished file: this sheet's rows, then those of `bodies`, in order.
    fn finish_with(self, bodies: Vec<Sheet>) -> OutputFile {
        let mut file = self.finish();
        let bodies: Vec<OutputFile> = bodies.into_iter().map(Sheet::finish).collect();
        // Reserved up front and filled while each body is freed: about one copy in memory at a time.
        file.bytes
            .reserve_exact(bodies.iter().map(|b| b.bytes.len()).sum());
        for body in bodies {
            file.bytes.extend_from_slice(&body.bytes);
            file.tallies.ledger += body.tallies.ledger;
            file.tallies.bank += body.tallies.bank;
        }
        file
    }

    /// Writes one record row: `before` columns, the common ones, `after`, then carried values.
    fn row(&mut self, record: &Record, before: &[&str], after: &[&str], carry: &CarriedColumns) {
        use std::fmt::Write as _;
        self.tallies.side_mut(record.side).add(record.amount);
        for field in before {
            self.field(field);
        }
        self.field(record.side.name());
        self.scratch.clear();
        let _ = write!(self.scratch, "{}", record.line);
        self.scratch_field();
        self.field(&record.key);
        self.scratch.clear();
        let _ = write!(self.scratch, "{}", record.amount);
        self.scratch_field();
        self.scratch.clear();
        if let Some(t) = record.time {
            self.times.write(t, &mut self.scratch);
        }
        self.scratch_field();
        self.field(&record.merchant);
        for field in after {
            self.field(field);
        }
        for value in carry.values(record) {
            self.field(value);
        }
        self.writer
            .write_record(None::<&[u8]>)
            .expect("writing to memory");
    }

    /// Writes one field, guarded by `safe`.
    fn field(&mut self, text: &str) {
        self.writer
            .write_field(safe(text).as_bytes())
            .expect("writing to memory");
    }

    /// Writes the scratch text (a number or a time: never a formula) as a field.
    fn scratch_field(&mut self) {
        self.writer
            .write_field(self.scratch.as_bytes())
            .expect("writing to memory");
    }

    fn finish(self) -> OutputFile {
        let bytes = self.writer.into_inner().expect("writing to memory");
        OutputFile {
            name: self.name,
            bytes,
            tallies: self.tallies,
        }
    }
}

/// Text that a spreadsheet would run as a formula gets a leading `'`
/// (numbers such as `-12.50` are left alone).
pub fn safe(text: &str) -> Cow<'_, str> {
    let risky = text.starts_with(['=', '+', '-', '@', '\t', '\r']);
    if risky && Decimal::from_str_exact(text).is_err() {
        Cow::Owned(format!("'{text}"))
    } else {
        Cow::Borrowed(text)
    }
}

/// `M000001`: the 1-based match number, zero-padded.
pub fn match_id(index: usize) -> String {
    format!("M{:06}", index + 1)
}

/// Matches rendered per parallel task.
const MATCHES_PER_TASK: usize = 1 << 15;

fn matched(input: &RenderInput, carry: &CarriedColumns, _: &RowOrder) -> OutputFile {
    let name = "matched.csv";
    let zone = input.plan.business_zone;
    let sheet = Sheet::new(
        name,
        &["match_id", "stage"],
        &["difference", "review", "review_reason"],
        carry,
        zone,
    );
    let sides = input.sides;
    let bodies: Vec<Sheet> = input
        .result
        .matches
        .par_chunks(MATCHES_PER_TASK)
        .enumerate()
        .map(|(task, matches)| {
            let mut body = Sheet::body(name, zone);
            for (k, m) in matches.iter().enumerate() {
                let sum = |side: Side, idx: &[usize]| -> Decimal {
                    idx.iter().map(|&j| sides.of(side)[j].amount).sum()
                };
                let difference = sum(Side::Ledger, &m.ledger) - sum(Side::Bank, &m.bank);
                let id = match_id(task * MATCHES_PER_TASK + k);
                let before = [id.as_str(), input.plan.stages[m.stage].name()];
                let difference = difference.to_string();
                let reasons = m.review_reasons.join("; ");
                let review = if m.review_reasons.is_empty() {
                    "false"
                } else {
                    "true"
                };
                let after = [difference.as_str(), review, reasons.as_str()];
                for &l in &m.ledger {
                    body.row(&sides.ledger[l], &before, &after, carry);
                }
                for &b in &m.bank {
                    body.row(&sides.bank[b], &before, &after, carry);
                }
            }
            body
        })
        .collect();
    sheet.finish_with(bodies)
}

/// Every row with its disposition, ledger first, each side in `RowRef` order.
fn each_with<'a, F>(input: &'a RenderInput, order: &RowOrder, mut f: F)
where
    F: FnMut(&'a Record, &'a Disposition),
{
    for side in Side::BOTH {
        let records = input.sides.of(side);
        let dispositions = match side {
            Side::Ledger => &input.result.ledger,
            Side::Bank => &input.result.bank,
        };
        for &i in &order.0[side as usize] {
            f(&records[i], &dispositions[i]);
        }
    }
}

fn unmatched(input: &RenderInput, carry: &CarriedColumns, order: &RowOrder) -> OutputFile {
    let mut sheet = Sheet::new(
        "unmatched.csv",
        &[],
        &["reason", "counterpart"],
        carry,
        input.plan.business_zone,
    );
    each_with(input, order, |record, d| {
        if let Disposition::Unmatched { reason, counterpart } = d {
            let refs = counterpart
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(" ");
            sheet.row(record, &[], &[reason.name(), &refs], carry);
        }
    });
    sheet.finish()
}

fn duplicates(input: &RenderInput, carry: &CarriedColumns, order: &RowOrder) -> OutputFile {
    let mut sheet = Sheet::new(
        "duplicates.csv",
        &[],
        &["duplicate_of"],
        carry,
        input.plan.business_zone,
    );
    each_with(input, order, |record, d| {
        if let Disposition::Duplicate { of } = d {
            sheet.row(record, &[], &[&of.to_string()], carry);
        }
    });
    sheet.finish()
}

fn ignored(input: &RenderInput, carry: &CarriedColumns, order: &RowOrder) -> OutputFile {
    let mut sheet = Sheet::new("ignored.csv", &[], &["reason"], carry, input.plan.business_zone);
    let reason = match input.plan.ignore_below {
        Some(limit) => format!("below_ignore_threshold ({limit})"),
        None => "below_ignore_threshold".to_string(),
    };
    each_with(input, order, |record, d| {
        if *d == Disposition::Ignored {
            sheet.row(record, &[], &[&reason], carry);
        }
    });
    sheet.finish()
}

/// The business date of a row's time, as text (empty without a time).
fn business_date(record: &Record, plan: &Plan) -> String {
    record
        .time
        .map(|t| BusinessDay::date_of(plan.business_zone, t).to_string())
        .unwrap_or_default()
}

fn pending(input: &RenderInput, carry: &CarriedColumns, order: &RowOrder) -> OutputFile {
    let mut sheet = Sheet::new(
        "pending.csv",
        &[],
        &["reason", "business_date", "source_file", "source_sha256"],
        carry,
        input.plan.business_zone,
    );
    each_with(input, order, |record, d| {
        if *d == Disposition::Pending {
            let source = input.inputs[record.side as usize];
            let date = business_date(record, input.plan);
            let after = [AWAITING_COUNTERPART, &date, &source.path, &source.sha256];
            sheet.row(record, &[], &after, carry);
        }
    });
    sheet.finish()
}

fn out_of_period(input: &RenderInput, carry: &CarriedColumns, order: &RowOrder) -> OutputFile {
    let mut sheet = Sheet::new(
        "out_of_period.csv",
        &[],
        &["reason", "business_date"],
        carry,
        input.plan.business_zone,
    );
    each_with(input, order, |record, d| {
        if let Disposition::OutOfPeriod(reason) = d {
            let date = business_date(record, input.plan);
            sheet.row(record, &[], &[reason.name(), &date], carry);
        }
    });
    sheet.finish()
}

fn rejected(rows: &[RejectedRow]) -> OutputFile {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer
        .write_record(["side", "line", "column", "error", "raw"])
        .expect("writing to memory");
    let mut counts: BTreeMap<Side, u64> = BTreeMap::new();
    for r in rows {
        *counts.entry(r.side).or_default() += 1;
        let line = r.line.to_string();
        let column = r.column.to_string();
        writer
            .write_record([r.side.name(), &line, &column, &safe(&r.error), &safe(&r.raw)])
            .expect("writing to memory");
    }
    let mut tallies = SideTallies::default();
    tallies.ledger.count = counts.get(&Side::Ledger).copied().unwrap_or(0);
    tallies.bank.count = counts.get(&Side::Bank).copied().unwrap_or(0);
    OutputFile {
        name: "rejected.csv",
        bytes: writer.into_inner().expect("writing to memory"),
        tallies,
    }
}
