//! Rendering a reconciliation into the result CSVs (matched, unmatched,
//! duplicates, ignored, pending, out_of_period, rejected), tallying every row
//! written per side so the summary can prove that nothing was lost or written
//! twice.

use std::borrow::Cow;
use std::collections::BTreeMap;

use chrono_tz::Tz;
use rust_decimal::Decimal;

use super::causes::LikelyCauses;
use crate::input::status::SetAside;
use crate::input::time::format_in_zone;
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
    /// Rows set aside by their status, both sides.
    pub set_aside: &'a [&'a SetAside],
    /// This run's ledger and statement files, named in pending.csv.
    pub inputs: [&'a SourceId; 2],
    /// With `--carry-in`: the file each side's carried rows were first read
    /// from; every output then has a `carried_from` column.
    pub carried_from: Option<[Option<&'a SourceId>; 2]>,
    /// The `likely_cause` of each exception.
    pub causes: &'a LikelyCauses,
}

/// Renders all result files, in a fixed order.
pub fn render(input: &RenderInput) -> Vec<OutputFile> {
    let carry = CarriedColumns::new(input.plan, input.carried_from);
    let mut files = vec![
        matched(input, &carry),
        unmatched(input, &carry),
        duplicates(input, &carry),
        ignored(input, &carry),
        pending(input, &carry),
        out_of_period(input, &carry),
    ];
    if !input.rejected.is_empty() {
        files.push(rejected(input.rejected));
    }
    files
}

/// The union of both sides' carried column names, ledger's first; with
/// `--carry-in`, a `carried_from` column before them.
struct CarriedColumns<'a> {
    names: Vec<String>,
    /// For each side, the position in `names` of each carried value.
    slots: [Vec<usize>; 2],
    /// Per side, the source file path shown for carried-in rows.
    carried_from: Option<[&'a str; 2]>,
}

impl<'a> CarriedColumns<'a> {
    fn new(plan: &Plan, carried_from: Option<[Option<&'a SourceId>; 2]>) -> CarriedColumns<'a> {
        let mut names: Vec<String> = Vec::new();
        let carried_from = carried_from.map(|sources| {
            names.push("carried_from".to_string());
            sources.map(|s| s.map_or("", |s| s.path.as_str()))
        });
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
        CarriedColumns {
            names,
            slots,
            carried_from,
        }
    }

    fn values<'r>(&self, record: &'r Record) -> Vec<&'r str>
    where
        'a: 'r,
    {
        let mut values = vec![""; self.names.len()];
        if let Some(sources) = self.carried_from {
            if record.origin == Origin::CarriedIn {
                values[0] = sources[record.side as usize];
            }
        }
        let slots = &self.slots[record.side as usize];
        for (value, &slot) in record.carried.iter().zip(slots) {
            values[slot] = value;
        }
        values
    }
}

const COMMON: [&str; 6] = ["side", "line", "key", "amount", "time", "merchant"];

struct Sheet {
    name: &'static str,
    writer: csv::Writer<Vec<u8>>,
    tallies: SideTallies,
    zone: Tz,
}

impl Sheet {
    /// A sheet whose header is `before`, the common columns, `after`, then the carried names.
    fn new(name: &'static str, before: &[&str], after: &[&str], carry: &CarriedColumns, zone: Tz) -> Sheet {
        let mut writer = csv::Writer::from_writer(Vec::new());
        let header: Vec<&str> = before
            .iter()
            .copied()
            .chain(COMMON)
            .chain(after.iter().copied())
            .chain(carry.names.iter().map(String::as_str))
            .collect();
        writer.write_record(&header).expect("writing to memory");
        Sheet {
            name,
            writer,
            tallies: SideTallies::default(),
            zone,
        }
    }

    /// Writes one record row: `before` columns, the common ones, `after`, then carried values.
    fn row(&mut self, record: &Record, before: &[String], after: &[String], carry: &CarriedColumns) {
        self.tallies.side_mut(record.side).add(record.amount);
        let time = record
            .time
            .map(|t| format_in_zone(t, self.zone))
            .unwrap_or_default();
        let line = record.line.to_string();
        let amount = record.amount.to_string();
        let mut fields: Vec<Cow<str>> = before.iter().map(|s| safe(s)).collect();
        fields.extend([
            Cow::Borrowed(record.side.name()),
            Cow::Borrowed(line.as_str()),
            safe(&record.key),
            Cow::Borrowed(amount.as_str()),
            Cow::Borrowed(time.as_str()),
            safe(&record.merchant),
        ]);
        fields.extend(after.iter().map(|s| safe(s)));
        fields.extend(carry.values(record).into_iter().map(safe));
        self.writer
            .write_record(fields.iter().map(|f| f.as_bytes()))
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

fn matched(input: &RenderInput, carry: &CarriedColumns) -> OutputFile {
    let mut sheet = Sheet::new(
        "matched.csv",
        &["match_id", "stage"],
        &["difference", "review", "review_reason", "likely_cause"],
        carry,
        input.plan.business_zone,
    );
    let sides = input.sides;
    for (i, m) in input.result.matches.iter().enumerate() {
        let sum =
            |side: Side, idx: &[usize]| -> Decimal { idx.iter().map(|&j| sides.of(side)[j].amount).sum() };
        let difference = sum(Side::Ledger, &m.ledger) - sum(Side::Bank, &m.bank);
        let before = [match_id(i), input.plan.stages[m.stage].name().to_string()];
        let after = [
            difference.to_string(),
            (!m.review_reasons.is_empty()).to_string(),
            m.review_reasons.join("; "),
            input.causes.of_match(i).to_string(),
        ];
        for &l in &m.ledger {
            sheet.row(&sides.ledger[l], &before, &after, carry);
        }
        for &b in &m.bank {
            sheet.row(&sides.bank[b], &before, &after, carry);
        }
    }
    sheet.finish()
}

/// Rows of one disposition kind, ledger first, in line order.
fn each_with<'a, F>(input: &'a RenderInput, mut f: F)
where
    F: FnMut(&'a Record, &'a Disposition),
{
    for side in Side::BOTH {
        let records = input.sides.of(side);
        let dispositions = match side {
            Side::Ledger => &input.result.ledger,
            Side::Bank => &input.result.bank,
        };
        let mut order: Vec<usize> = (0..records.len()).collect();
        order.sort_by_key(|&i| records[i].row_ref());
        for i in order {
            f(&records[i], &dispositions[i]);
        }
    }
}

fn unmatched(input: &RenderInput, carry: &CarriedColumns) -> OutputFile {
    let mut sheet = Sheet::new(
        "unmatched.csv",
        &[],
        &["reason", "counterpart", "likely_cause"],
        carry,
        input.plan.business_zone,
    );
    each_with(input, |record, d| {
        if let Disposition::Unmatched { reason, counterpart } = d {
            let refs = counterpart
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(" ");
            let cause = input.causes.of_row(record.row_ref()).to_string();
            sheet.row(record, &[], &[reason.name().to_string(), refs, cause], carry);
        }
    });
    sheet.finish()
}

fn duplicates(input: &RenderInput, carry: &CarriedColumns) -> OutputFile {
    let mut sheet = Sheet::new(
        "duplicates.csv",
        &[],
        &["duplicate_of", "likely_cause"],
        carry,
        input.plan.business_zone,
    );
    each_with(input, |record, d| {
        if let Disposition::Duplicate { of } = d {
            let cause = input.causes.of_row(record.row_ref()).to_string();
            sheet.row(record, &[], &[of.to_string(), cause], carry);
        }
    });
    sheet.finish()
}

/// Rows below the ignore threshold and rows set aside by status, per side in line order.
fn ignored(input: &RenderInput, carry: &CarriedColumns) -> OutputFile {
    let mut sheet = Sheet::new("ignored.csv", &[], &["reason"], carry, input.plan.business_zone);
    let below = match input.plan.ignore_below {
        Some(limit) => format!("below_ignore_threshold ({limit})"),
        None => "below_ignore_threshold".to_string(),
    };
    let mut rows: Vec<(&Record, &str)> = input
        .set_aside
        .iter()
        .map(|s| (&s.record, s.reason.as_str()))
        .collect();
    each_with(input, |record, d| {
        if *d == Disposition::Ignored {
            rows.push((record, below.as_str()));
        }
    });
    rows.sort_by_key(|(r, _)| r.row_ref());
    for (record, reason) in rows {
        sheet.row(record, &[], &[reason.to_string()], carry);
    }
    sheet.finish()
}

/// The business date of a row's time, as text (empty without a time).
fn business_date(record: &Record, plan: &Plan) -> String {
    record
        .time
        .map(|t| BusinessDay::date_of(plan.business_zone, t).to_string())
        .unwrap_or_default()
}

fn pending(input: &RenderInput, carry: &CarriedColumns) -> OutputFile {
    let mut sheet = Sheet::new(
        "pending.csv",
        &[],
        &["reason", "business_date", "source_file", "source_sha256"],
        carry,
        input.plan.business_zone,
    );
    each_with(input, |record, d| {
        if *d == Disposition::Pending {
            let source = input.inputs[record.side as usize];
            let after = [
                AWAITING_COUNTERPART.to_string(),
                business_date(record, input.plan),
                source.path.clone(),
                source.sha256.clone(),
            ];
            sheet.row(record, &[], &after, carry);
        }
    });
    sheet.finish()
}

fn out_of_period(input: &RenderInput, carry: &CarriedColumns) -> OutputFile {
    let mut sheet = Sheet::new(
        "out_of_period.csv",
        &[],
        &["reason", "business_date"],
        carry,
        input.plan.business_zone,
    );
    each_with(input, |record, d| {
        if let Disposition::OutOfPeriod(reason) = d {
            let after = [reason.name().to_string(), business_date(record, input.plan)];
            sheet.row(record, &[], &after, carry);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::report::OutputKind;

    #[test]
    fn formula_starts_get_a_quote_and_numbers_do_not() {
        for risky in ["=1+1", "+cmd", "-2+3", "@SUM(A1)", "\t=1", "\r=1", "-", "+"] {
            assert_eq!(safe(risky), format!("'{risky}"), "{risky:?}");
        }
        for plain in ["-12.50", "+5", "-0", "P001", "", "a=b", " =1"] {
            assert_eq!(safe(plain), plain, "{plain:?}");
        }
    }

    /// `[report]` templates are checked against `OutputKind::columns`: it must
    /// list exactly the columns each file is rendered with.
    #[test]
    fn rule_file_column_names_match_the_rendered_headers() {
        let text = "[rules]\nname = \"t\"\nversion = \"1\"\neffective_from = 2026-01-01\n\
                    [ledger.columns]\namount = \"a\"\ncarry = [\"x\"]\n[bank.columns]\namount = \"a\"\n\
                    [[stage]]\nname = \"id\"\nmatch = \"key\"\n";
        let file: crate::rules::schema::RuleFile = toml::from_str(text).unwrap();
        let plan = crate::rules::plan::build(&file, "t.toml", "0").unwrap();
        let id = SourceId {
            path: "f".into(),
            sha256: "0".into(),
        };
        let result = Reconciliation {
            matches: Vec::new(),
            ledger: Vec::new(),
            bank: Vec::new(),
        };
        let causes = LikelyCauses::default();
        let files = render(&RenderInput {
            sides: Sides {
                ledger: &[],
                bank: &[],
            },
            result: &result,
            plan: &plan,
            rejected: &[],
            inputs: [&id, &id],
            carried_from: None,
            set_aside: &[],
            causes: &causes,
        });
        for kind in OutputKind::ALL {
            let file = files.iter().find(|f| f.name == kind.file()).unwrap();
            let header = String::from_utf8(file.bytes.clone()).unwrap();
            let expected = kind.columns().join(",") + ",x\n";
            assert_eq!(header, expected, "{}", kind.file());
        }
        assert_eq!(files.len(), OutputKind::ALL.len(), "every output file has a kind");
    }
}
