//! Rendering a reconciliation into the result CSVs (matched, unmatched,
//! duplicates, ignored, pending, out_of_period, rejected), tallying every row
//! written per side so the summary can prove that nothing was lost or written
//! twice.
//!
//! Where files go is the caller's choice (`RenderTo`): into memory, whole,
//! for a run that transforms them before publishing (masking, column
//! templates, named reports, the workbook); or straight into the run's
//! `Staging` directory as they are rendered, keeping in memory only the rows
//! report.html reads back (every file but matched.csv, and of matched.csv
//! the rows flagged for review), so the large files never sit in memory.

use std::collections::BTreeMap;
use std::io::Write;
use std::ops::Range;

use chrono_tz::Tz;
use rust_decimal::Decimal;

use rayon::prelude::*;

use super::causes::LikelyCauses;
use super::resolutions::Resolved;
use crate::input::field::safe;
use crate::input::status::SetAside;
use crate::input::time::ZonedWriter;
use crate::matching::period::AWAITING_COUNTERPART;
use crate::matching::{net_of, Disposition, Reconciliation, Sides};
use crate::model::{Currency, Origin, Record, Side, SourceId, Tally};
use crate::output::atomic::{PublishError, ResultFile, Staging};
use crate::rules::business::BusinessDay;
use crate::rules::plan::{Plan, StagePlan};
use crate::rules::report::{GROUP_NET_COLUMN, RESOLUTION_COLUMN};

/// One result file rendered.
#[derive(Debug, Clone)]
pub struct OutputFile {
    /// File name inside the output directory.
    pub name: &'static str,
    /// CSV bytes: the whole file when rendered to memory; when streamed to
    /// staging, the rows report.html reads (see the module docs), under the header.
    pub bytes: Vec<u8>,
    /// SHA-256 (lowercase hex) of the file as written, when streamed to staging.
    pub sha256: Option<String>,
    /// Rows written, per side.
    pub tallies: SideTallies,
    /// Rows written, per currency and side (rejected rows, which have no
    /// currency, are not in it).
    pub currencies: CurrencyTallies,
}

/// Tallies per currency and side.
pub type CurrencyTallies = BTreeMap<Currency, SideTallies>;

/// Adds `more` into `into`, currency by currency.
pub fn add_currency_tallies(into: &mut CurrencyTallies, more: &CurrencyTallies) {
    for (currency, t) in more {
        let sum = into.entry(*currency).or_default();
        sum.ledger += t.ledger;
        sum.bank += t.bank;
    }
}

/// A tally per side.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
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
    /// The `resolution` of manual matches and accepted rows.
    pub resolved: &'a Resolved,
}

/// Where `render` puts the files.
#[derive(Clone, Copy)]
pub enum RenderTo<'a> {
    /// Whole files in memory, for the caller to transform and publish.
    Memory,
    /// Straight into the staging directory (see the module docs).
    Staging(&'a Staging<'a>),
}

/// Renders all result files (concurrently) and lists them in a fixed order.
pub fn render(input: &RenderInput, to: RenderTo) -> Result<Vec<OutputFile>, PublishError> {
    // Looked for on every core: the test reads every record.
    let set_aside = input.set_aside.par_iter().map(|a| &a.record);
    let all = input
        .sides
        .ledger
        .par_iter()
        .chain(input.sides.bank)
        .chain(set_aside);
    let currencies = all.any(|r| r.currency != Currency::CNY);
    let carry = CarriedColumns::new(input.plan, input.carried_from, currencies);
    let order = RowOrder::new(input.sides);
    let parts = Parts {
        input,
        carry: &carry,
        order: &order,
        to,
    };
    let sheets: [SheetFn; 6] = [matched, unmatched, duplicates, ignored, pending, out_of_period];
    let mut files: Vec<OutputFile> = sheets
        .par_iter()
        .map(|sheet| sheet(&parts))
        .collect::<Result<_, _>>()?;
    if !input.rejected.is_empty() {
        files.push(rejected(input.rejected, &parts)?);
    }
    Ok(files)
}

/// Renders one result file.
type SheetFn = fn(&Parts) -> Result<OutputFile, PublishError>;

/// What every sheet is rendered from, and where it goes.
struct Parts<'a> {
    input: &'a RenderInput<'a>,
    carry: &'a CarriedColumns<'a>,
    order: &'a RowOrder,
    to: RenderTo<'a>,
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
    /// The record's currency (`currency`, when a row is in another currency than CNY).
    Currency,
    /// Nothing: the side does not carry this column.
    Empty,
}

/// The union of both sides' carried column names, ledger's first; with
/// `--carry-in`, a `carried_from` column before them; when any row is in
/// another currency than CNY, a `currency` column (unless a side carries one).
struct CarriedColumns<'a> {
    names: Vec<String>,
    /// For each side, what fills each column of `names`.
    values: [Vec<CarriedValue>; 2],
    /// Per side, the source file path shown for carried-in rows.
    sources: [&'a str; 2],
}

impl<'a> CarriedColumns<'a> {
    fn new(
        plan: &Plan,
        carried_from: Option<[Option<&'a SourceId>; 2]>,
        currencies: bool,
    ) -> CarriedColumns<'a> {
        let mut names: Vec<String> = Vec::new();
        let mut values = [Vec::new(), Vec::new()];
        if carried_from.is_some() {
            names.push("carried_from".to_string());
            values = [vec![CarriedValue::Source], vec![CarriedValue::Source]];
        }
        let carries_currency = [&plan.ledger.columns.carry, &plan.bank.columns.carry]
            .iter()
            .any(|c| c.iter().any(|n| n == "currency"));
        if currencies && !carries_currency {
            names.push("currency".to_string());
            for v in &mut values {
                v.push(CarriedValue::Currency);
            }
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

    /// The record's carried values, one per column of `names`, given the
    /// record's own carried values (`Record::carried`, read once per row).
    fn values<'r>(&'r self, record: &'r Record, own: &'r [&'r str]) -> impl Iterator<Item = &'r str> {
        self.values[record.side() as usize].iter().map(move |v| match *v {
            CarriedValue::Own(i) => own.get(i).copied().unwrap_or_default(),
            CarriedValue::Source if record.origin() == Origin::CarriedIn => {
                self.sources[record.side() as usize]
            }
            CarriedValue::Currency => record.currency.as_str(),
            CarriedValue::Source | CarriedValue::Empty => "",
        })
    }
}

const COMMON: [&str; 6] = ["side", "line", "key", "amount", "time", "merchant"];

/// Rows of one result file (or of a block of one, rendered apart) going
/// into `W`. Writing never fails: memory does not, and a `ResultFile` keeps
/// its first error for `ResultFile::finish`.
struct Sheet<W: Write> {
    writer: CsvOut<W>,
    tallies: SideTallies,
    /// Per currency, in the order first met (a day has one or two): turned
    /// into `CurrencyTallies` at the end, so a row costs no map lookup.
    currencies: Vec<(Currency, SideTallies)>,
    times: ZonedWriter,
    /// Reused for times, so rows allocate nothing.
    scratch: String,
}

/// CSV rows as the csv crate's `Writer` writes them by default: `,`
/// between fields, `\n` after each row, a field quoted only when it holds
/// `,`, `"`, `\r` or `\n`, its quotes doubled. (The crate also writes `""`
/// for a row of one empty field; every row here has many fields.) Rows are
/// gathered in a buffer and passed on to `W` in large writes. Written here
/// because the crate's writer works field by field through a state machine,
/// which was most of the cost of rendering matched.csv; the header of every
/// sheet goes through the same code, and the tests compare both.
struct CsvOut<W: Write> {
    sink: W,
    buffer: Vec<u8>,
    /// Passed on once the buffer holds this many bytes.
    limit: usize,
    /// Nothing written yet on the current row.
    row_start: bool,
}

/// The bytes that make a field quoted.
const QUOTED: [bool; 256] = {
    let mut quoted = [false; 256];
    quoted[b',' as usize] = true;
    quoted[b'"' as usize] = true;
    quoted[b'\r' as usize] = true;
    quoted[b'\n' as usize] = true;
    quoted
};

impl<W: Write> CsvOut<W> {
    fn new(sink: W, limit: usize) -> CsvOut<W> {
        CsvOut {
            sink,
            buffer: Vec::with_capacity(limit + (limit >> 2)),
            limit,
            row_start: true,
        }
    }

    /// Appends one field to the current row.
    fn field(&mut self, field: &[u8]) {
        if !self.row_start {
            self.buffer.push(b',');
        }
        self.row_start = false;
        if !field.iter().any(|&b| QUOTED[usize::from(b)]) {
            self.buffer.extend_from_slice(field);
            return;
        }
        self.buffer.push(b'"');
        for part in field.split_inclusive(|&b| b == b'"') {
            self.buffer.extend_from_slice(part);
            if part.ends_with(b"\"") {
                self.buffer.push(b'"');
            }
        }
        self.buffer.push(b'"');
    }

    /// Ends the current row.
    fn end_row(&mut self) {
        self.buffer.push(b'\n');
        self.row_start = true;
        if self.buffer.len() >= self.limit {
            self.flush();
        }
    }

    fn flush(&mut self) {
        self.sink.write_all(&self.buffer).expect(DEFERRED);
        self.buffer.clear();
    }

    fn into_inner(mut self) -> W {
        self.flush();
        self.sink
    }
}

/// Bytes a sheet gathers before passing them on to a file.
const SHEET_BUFFER: usize = 1 << 18;

/// The same for a block of matched.csv, which goes to memory.
const BLOCK_BUFFER: usize = 1 << 15;

impl<'a> Sheet<Target<'a>> {
    /// Starts result file `name`, whose header is `before`, the common
    /// columns, `after`, then the carried names.
    fn create(
        parts: &Parts<'a>,
        name: &'static str,
        (before, after): (&[&str], &[&str]),
    ) -> Result<Self, PublishError> {
        let mut sheet = Sheet::on(
            Target::open(parts, name, true)?,
            parts.input.plan.business_zone,
            SHEET_BUFFER,
        );
        for name in header(before, after, parts.carry) {
            sheet.writer.field(name.as_bytes());
        }
        sheet.writer.end_row();
        Ok(sheet)
    }

    /// Completes the file.
    fn finish(self) -> Result<OutputFile, PublishError> {
        let (target, tallies, currencies) = self.into_parts();
        target.finish(tallies, currencies)
    }
}

/// Where a result file's rows go (see `RenderTo`).
enum Target<'a> {
    Memory(&'static str, Vec<u8>),
    /// The staging file, and a copy of what is kept in memory, if anything.
    Stream(&'static str, Box<ResultFile<'a>>, Option<Vec<u8>>),
}

impl<'a> Target<'a> {
    /// A target for file `name`; when streamed, a copy is kept with `keep`.
    fn open(parts: &Parts<'a>, name: &'static str, keep: bool) -> Result<Target<'a>, PublishError> {
        Ok(match parts.to {
            RenderTo::Memory => Target::Memory(name, Vec::new()),
            RenderTo::Staging(staging) => {
                Target::Stream(name, Box::new(staging.create(name)?), keep.then(Vec::new))
            }
        })
    }

    /// Completes the file, which holds rows tallying `tallies`.
    fn finish(self, tallies: SideTallies, currencies: CurrencyTallies) -> Result<OutputFile, PublishError> {
        let (name, bytes, sha256) = match self {
            Target::Memory(name, bytes) => (name, bytes, None),
            Target::Stream(name, file, kept) => (name, kept.unwrap_or_default(), Some(file.finish()?)),
        };
        Ok(OutputFile {
            name,
            bytes,
            sha256,
            tallies,
            currencies,
        })
    }
}

impl Write for Target<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Target::Memory(_, bytes) => bytes.extend_from_slice(buf),
            Target::Stream(_, file, kept) => {
                file.write_all(buf)?;
                if let Some(kept) = kept {
                    kept.extend_from_slice(buf);
                }
            }
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A header: `before`, the common columns, `after`, then the carried names.
fn header<'h>(before: &[&'h str], after: &[&'h str], carry: &'h CarriedColumns) -> Vec<&'h str> {
    before
        .iter()
        .copied()
        .chain(COMMON)
        .chain(after.iter().copied())
        .chain(carry.names.iter().map(String::as_str))
        .collect()
}

/// Why the `expect`s on sheet writes hold.
const DEFERRED: &str = "sheet writes go to memory or to a ResultFile, which defers errors";

impl<W: Write> Sheet<W> {
    /// A sheet without a header, writing into `sink` through a buffer of `buffer` bytes.
    fn on(sink: W, zone: Tz, buffer: usize) -> Sheet<W> {
        Sheet {
            writer: CsvOut::new(sink, buffer),
            tallies: SideTallies::default(),
            currencies: Vec::new(),
            times: ZonedWriter::new(zone),
            scratch: String::new(),
        }
    }

    /// The rows written and their tallies.
    fn into_parts(self) -> (W, SideTallies, CurrencyTallies) {
        let sink = self.writer.into_inner();
        let mut currencies = CurrencyTallies::new();
        for (currency, t) in self.currencies {
            let sum = currencies.entry(currency).or_default();
            sum.ledger += t.ledger;
            sum.bank += t.bank;
        }
        (sink, self.tallies, currencies)
    }

    /// Writes one record row: `before` columns, the common ones, `after`, then carried values.
    fn row(&mut self, record: &Record, before: &[&str], after: &[&str], carry: &CarriedColumns) {
        self.tallies.side_mut(record.side()).add(record.amount());
        let at = match self.currencies.iter().position(|(c, _)| *c == record.currency) {
            Some(at) => at,
            None => {
                self.currencies.push((record.currency, SideTallies::default()));
                self.currencies.len() - 1
            }
        };
        self.currencies[at].1.side_mut(record.side()).add(record.amount());
        // Key, merchant and carried values, read from the packed text once.
        let mut values = record.text.values();
        let (key, merchant) = (values.next().unwrap_or(""), values.next().unwrap_or(""));
        let mut first = [""; OWN_VALUES];
        let mut count = 0;
        let mut more = Vec::new();
        for value in values {
            match first.get_mut(count) {
                Some(slot) => *slot = value,
                None => more.push(value),
            }
            count += 1;
        }
        let all: Vec<&str>;
        let own: &[&str] = if more.is_empty() {
            &first[..count]
        } else {
            all = first.iter().copied().chain(more).collect();
            &all
        };
        let out = &mut self.writer;
        for field in before {
            out.field(safe(field).as_bytes());
        }
        out.field(record.side().name().as_bytes());
        out.field(itoa::Buffer::new().format(record.line()).as_bytes());
        out.field(safe(key).as_bytes());
        let mut amount = [0u8; DECIMAL_TEXT];
        out.field(decimal_text(record.amount(), &mut amount));
        self.scratch.clear();
        if let Some(t) = record.time() {
            self.times.write(t, &mut self.scratch);
        }
        out.field(self.scratch.as_bytes());
        out.field(safe(merchant).as_bytes());
        for field in after {
            out.field(safe(field).as_bytes());
        }
        for value in carry.values(record, own) {
            out.field(safe(value).as_bytes());
        }
        out.end_row();
    }
}

/// Carried values of a row held on the stack while it is written (more spill into a `Vec`).
const OWN_VALUES: usize = 16;

/// Room for any `Decimal` as text: 29 digits, a sign, a point and a leading zero.
const DECIMAL_TEXT: usize = 32;

/// `amount` as `Decimal`'s `Display` writes it (every digit of its scale,
/// `-` on any negative value, `-0.00` included), into `buf`, without going
/// through `fmt`.
fn decimal_text(amount: Decimal, buf: &mut [u8; DECIMAL_TEXT]) -> &[u8] {
    let mut digits = itoa::Buffer::new();
    let digits = digits.format(amount.mantissa().unsigned_abs()).as_bytes();
    let scale = amount.scale() as usize;
    let mut len = 0;
    let mut push = |bytes: &[u8]| {
        buf[len..len + bytes.len()].copy_from_slice(bytes);
        len += bytes.len();
    };
    if amount.is_sign_negative() {
        push(b"-");
    }
    if scale == 0 {
        push(digits);
    } else if digits.len() > scale {
        let (whole, fraction) = digits.split_at(digits.len() - scale);
        push(whole);
        push(b".");
        push(fraction);
    } else {
        push(b"0.");
        for _ in digits.len()..scale {
            push(b"0");
        }
        push(digits);
    }
    &buf[..len]
}

/// `M000001`: the 1-based match number, zero-padded.
pub fn match_id(index: usize) -> String {
    format!("M{:06}", index + 1)
}

/// Matches rendered per parallel task.
const MATCHES_PER_TASK: usize = 1 << 13;

/// matched.csv's optional columns after `likely_cause`: `resolution` once the
/// day has resolutions, `group_net` only with a batch stage.
#[derive(Clone, Copy)]
struct Extras {
    resolution: bool,
    group_net: bool,
}

impl Extras {
    fn of(input: &RenderInput) -> Extras {
        Extras {
            resolution: input.resolved.shown(),
            group_net: input
                .plan
                .stages
                .iter()
                .any(|s| matches!(s, StagePlan::Batch { .. })),
        }
    }

    /// The four common values of `all`, then the optional ones in force
    /// (`all` holds them in the order resolution, group_net).
    fn pick<'a>(self, all: &[&'a str; 6]) -> Vec<&'a str> {
        let mut picked = all[..4].to_vec();
        if self.resolution {
            picked.push(all[4]);
        }
        if self.group_net {
            picked.push(all[5]);
        }
        picked
    }
}

/// `matched.csv`: blocks of matches are rendered in parallel, a wave of them
/// at a time, and appended in order while the next wave renders, so only
/// two waves are ever in memory.
fn matched(parts: &Parts) -> Result<OutputFile, PublishError> {
    let name = "matched.csv";
    let after = [
        "difference",
        "review",
        "review_reason",
        "likely_cause",
        RESOLUTION_COLUMN,
        GROUP_NET_COLUMN,
    ];
    let extras = Extras::of(parts.input);
    let columns = (&["match_id", "stage"][..], &extras.pick(&after)[..]);
    let mut file = Target::open(parts, name, false)?;
    let mut header_line = csv::Writer::from_writer(Vec::new());
    header_line
        .write_record(header(columns.0, columns.1, parts.carry))
        .expect(DEFERRED);
    let header_line = header_line.into_inner().map_err(|_| ()).expect(DEFERRED);
    file.write_all(&header_line).expect(DEFERRED);
    // What report.html reads of matched.csv when it is streamed: the review rows.
    let mut review_rows = header_line;
    let mut tallies = SideTallies::default();
    let mut currencies = CurrencyTallies::new();
    // Returns the block's buffer, emptied, for a later wave.
    let mut append = |(block, review): (Sheet<Vec<u8>>, Vec<u8>)| -> Vec<u8> {
        let (mut bytes, block_tallies, block_currencies) = block.into_parts();
        tallies.ledger += block_tallies.ledger;
        tallies.bank += block_tallies.bank;
        add_currency_tallies(&mut currencies, &block_currencies);
        file.write_all(&bytes).expect(DEFERRED);
        review_rows.extend_from_slice(&review);
        bytes.clear();
        bytes
    };
    let matches = &parts.input.result.matches;
    let blocks: Vec<Range<usize>> = (0..matches.len())
        .step_by(MATCHES_PER_TASK)
        .map(|first| first..matches.len().min(first + MATCHES_PER_TASK))
        .collect();
    let wave = 2 * rayon::current_num_threads();
    // Blocks render into the buffers of blocks already written: the 230 MB
    // of a 1M-order day's matched.csv pass through a few reused buffers
    // instead of fresh memory (page faults, growing copies) for each block.
    let render_wave = |first: usize, mut buffers: Vec<Vec<u8>>| -> Vec<(Sheet<Vec<u8>>, Vec<u8>)> {
        let end = blocks.len().min(first + wave);
        let buffers: Vec<Vec<u8>> = (first..end).map(|_| buffers.pop().unwrap_or_default()).collect();
        (first..end)
            .into_par_iter()
            .zip(buffers)
            .map(|(b, buffer)| matched_block(parts, blocks[b].clone(), buffer))
            .collect()
    };
    let mut ready = render_wave(0, Vec::new());
    let mut next = wave;
    let mut spare = Vec::new();
    while !ready.is_empty() {
        let (written, rendered) = rayon::join(
            || ready.drain(..).map(&mut append).collect::<Vec<Vec<u8>>>(),
            || {
                if next < blocks.len() {
                    render_wave(next, std::mem::take(&mut spare))
                } else {
                    Vec::new()
                }
            },
        );
        spare = written;
        ready = rendered;
        next += wave;
    }
    let mut matched = file.finish(tallies, currencies)?;
    if matched.sha256.is_some() {
        matched.bytes = review_rows;
    }
    Ok(matched)
}

/// The rows of the matches numbered `block`, and (when streamed) those of
/// the matches flagged for review again.
fn matched_block(parts: &Parts, block: Range<usize>, buffer: Vec<u8>) -> (Sheet<Vec<u8>>, Vec<u8>) {
    let (input, carry) = (parts.input, parts.carry);
    let sides = input.sides;
    let zone = input.plan.business_zone;
    let mut body = Sheet::on(buffer, zone, BLOCK_BUFFER);
    let mut review_rows = Sheet::on(Vec::new(), zone, BLOCK_BUFFER);
    let streamed = matches!(parts.to, RenderTo::Staging(_));
    let extras = Extras::of(input);
    for n in block {
        let m = input.result.matches.get(n);
        let sum = |side: Side| -> Decimal { m.rows(side).iter().map(|j| sides.of(side)[j].amount()).sum() };
        // A batch is paid its net: amounts less fees (manual matches have no stage plan).
        let net = input
            .plan
            .stages
            .get(m.stage())
            .filter(|stage| matches!(stage, StagePlan::Batch { .. }))
            .map(|stage| {
                m.ledger()
                    .iter()
                    .map(|l| net_of(input.plan, stage, &sides.ledger[l]))
                    .sum::<Decimal>()
            });
        let difference = net.unwrap_or_else(|| sum(Side::Ledger)) - sum(Side::Bank);
        let group_net = net.map(|n| n.to_string()).unwrap_or_default();
        let id = match_id(n);
        let before = [id.as_str(), input.plan.stage_name(m.stage())];
        let difference = difference.to_string();
        let reasons = m.review_reasons().join("; ");
        let review = if m.flagged() { "true" } else { "false" };
        let after = [
            difference.as_str(),
            review,
            reasons.as_str(),
            input.causes.of_match(n),
            input.resolved.of_match(n),
            group_net.as_str(),
        ];
        let after = &extras.pick(&after)[..];
        let sheets = if streamed && m.flagged() {
            [Some(&mut body), Some(&mut review_rows)]
        } else {
            [Some(&mut body), None]
        };
        for sheet in sheets.into_iter().flatten() {
            for l in m.ledger() {
                sheet.row(&sides.ledger[l], &before, after, carry);
            }
            for b in m.bank() {
                sheet.row(&sides.bank[b], &before, after, carry);
            }
        }
    }
    (body, review_rows.into_parts().0)
}

/// Every row whose disposition `keep` accepts, with it, ledger first, each
/// side in `RowRef` order.
fn each_with<'a, K, F>(parts: &Parts<'a>, keep: K, mut f: F)
where
    K: Fn(&Disposition) -> bool + Sync,
    F: FnMut(&'a Record, &'a Disposition),
{
    let (input, order) = (parts.input, parts.order);
    for side in Side::BOTH {
        let records = input.sides.of(side);
        let dispositions = match side {
            Side::Ledger => &input.result.ledger,
            Side::Bank => &input.result.bank,
        };
        // The sheet's few rows, found on every core, in row order.
        let rows: Vec<usize> = order.0[side as usize]
            .par_iter()
            .copied()
            .filter(|&i| keep(&dispositions[i]))
            .collect();
        for i in rows {
            f(&records[i], &dispositions[i]);
        }
    }
}

/// Starts a per-row sheet: the common columns, then `after`.
fn row_sheet<'a>(
    parts: &Parts<'a>,
    name: &'static str,
    after: &[&str],
) -> Result<Sheet<Target<'a>>, PublishError> {
    Sheet::create(parts, name, (&[], after))
}

fn unmatched(parts: &Parts) -> Result<OutputFile, PublishError> {
    let name = "unmatched.csv";
    let shown = parts.input.resolved.shown();
    let columns = ["reason", "counterpart", "likely_cause", RESOLUTION_COLUMN];
    let mut sheet = row_sheet(parts, name, &columns[..columns.len() - usize::from(!shown)])?;
    let keep = |d: &Disposition| matches!(d, Disposition::Unmatched { .. });
    each_with(parts, keep, |record, d| {
        if let Disposition::Unmatched { reason, counterpart } = d {
            let refs = counterpart
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(" ");
            let cause = parts.input.causes.of_row(record.row_ref());
            let resolution = parts.input.resolved.of_row(record.row_ref());
            let after = [reason.name(), &refs, cause, resolution];
            sheet.row(
                record,
                &[],
                &after[..after.len() - usize::from(!shown)],
                parts.carry,
            );
        }
    });
    sheet.finish()
}

fn duplicates(parts: &Parts) -> Result<OutputFile, PublishError> {
    let name = "duplicates.csv";
    let shown = parts.input.resolved.shown();
    let columns = ["duplicate_of", "likely_cause", RESOLUTION_COLUMN];
    let mut sheet = row_sheet(parts, name, &columns[..columns.len() - usize::from(!shown)])?;
    let keep = |d: &Disposition| matches!(d, Disposition::Duplicate { .. });
    each_with(parts, keep, |record, d| {
        if let Disposition::Duplicate { of } = d {
            let cause = parts.input.causes.of_row(record.row_ref());
            let resolution = parts.input.resolved.of_row(record.row_ref());
            let of = of.to_string();
            let after = [of.as_str(), cause, resolution];
            sheet.row(
                record,
                &[],
                &after[..after.len() - usize::from(!shown)],
                parts.carry,
            );
        }
    });
    sheet.finish()
}

/// Rows below the ignore threshold and rows set aside by status, per side in line order.
fn ignored(parts: &Parts) -> Result<OutputFile, PublishError> {
    let name = "ignored.csv";
    let mut sheet = row_sheet(parts, name, &["reason"])?;
    let below = match parts.input.plan.ignore_below {
        Some(limit) => format!("below_ignore_threshold ({limit})"),
        None => "below_ignore_threshold".to_string(),
    };
    let mut rows: Vec<(&Record, &str)> = parts
        .input
        .set_aside
        .iter()
        .map(|s| (&s.record, s.reason.as_str()))
        .collect();
    each_with(
        parts,
        |d| *d == Disposition::Ignored,
        |record, _| rows.push((record, below.as_str())),
    );
    rows.sort_by_key(|(r, _)| r.row_ref());
    for (record, reason) in rows {
        sheet.row(record, &[], &[reason], parts.carry);
    }
    sheet.finish()
}

/// The business date of a row's time, as text (empty without a time).
fn business_date(record: &Record, plan: &Plan) -> String {
    record
        .time()
        .map(|t| BusinessDay::date_of(plan.business_zone, t).to_string())
        .unwrap_or_default()
}

fn pending(parts: &Parts) -> Result<OutputFile, PublishError> {
    let name = "pending.csv";
    let after = ["reason", "business_date", "source_file", "source_sha256"];
    let mut sheet = row_sheet(parts, name, &after)?;
    let input = parts.input;
    each_with(
        parts,
        |d| *d == Disposition::Pending,
        |record, _| {
            let source = input.inputs[record.side() as usize];
            let date = business_date(record, input.plan);
            let after = [AWAITING_COUNTERPART, &date, &source.path, &source.sha256];
            sheet.row(record, &[], &after, parts.carry);
        },
    );
    sheet.finish()
}

fn out_of_period(parts: &Parts) -> Result<OutputFile, PublishError> {
    let name = "out_of_period.csv";
    let mut sheet = row_sheet(parts, name, &["reason", "business_date"])?;
    let keep = |d: &Disposition| matches!(d, Disposition::OutOfPeriod(_));
    each_with(parts, keep, |record, d| {
        if let Disposition::OutOfPeriod(reason) = d {
            let date = business_date(record, parts.input.plan);
            sheet.row(record, &[], &[reason.name(), &date], parts.carry);
        }
    });
    sheet.finish()
}

fn rejected(rows: &[RejectedRow], parts: &Parts) -> Result<OutputFile, PublishError> {
    let mut writer = csv::Writer::from_writer(Target::open(parts, "rejected.csv", true)?);
    writer
        .write_record(["side", "line", "column", "error", "raw"])
        .expect(DEFERRED);
    let mut counts: BTreeMap<Side, u64> = BTreeMap::new();
    for r in rows {
        *counts.entry(r.side).or_default() += 1;
        let line = r.line.to_string();
        let column = r.column.to_string();
        writer
            .write_record([r.side.name(), &line, &column, &safe(&r.error), &safe(&r.raw)])
            .expect(DEFERRED);
    }
    let mut tallies = SideTallies::default();
    tallies.ledger.count = counts.get(&Side::Ledger).copied().unwrap_or(0);
    tallies.bank.count = counts.get(&Side::Bank).copied().unwrap_or(0);
    writer
        .into_inner()
        .map_err(|_| ())
        .expect(DEFERRED)
        .finish(tallies, CurrencyTallies::new())
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

    #[test]
    fn csv_out_writes_what_the_csv_crate_writes() {
        let rows: [&[&str]; 4] = [
            &[
                "plain",
                "",
                "a,b",
                "say \"hi\"",
                "\"",
                "two\nlines",
                "cr\r",
                "城市水务",
                "",
            ],
            &["", ""],
            &["'=1+1", " spaced ", "\"\"", "x\r\ny", "end,"],
            &["only"],
        ];
        let mut ours = CsvOut::new(Vec::new(), 8);
        let mut theirs = csv::WriterBuilder::new().flexible(true).from_writer(Vec::new());
        for row in rows {
            for field in row {
                ours.field(field.as_bytes());
            }
            ours.end_row();
            theirs.write_record(row).unwrap();
        }
        assert_eq!(
            String::from_utf8(ours.into_inner()).unwrap(),
            String::from_utf8(theirs.into_inner().unwrap()).unwrap()
        );
    }

    #[test]
    fn decimal_text_writes_what_display_writes() {
        let mut values: Vec<Decimal> = [
            "0",
            "0.00",
            "1129.51",
            "-15.3",
            "0.001",
            "-0.5",
            "100",
            "12345678901234567890",
            "79228162514264337593543950335",
            "-7.9228162514264337593543950335",
            "0.0000000000000000000000000001",
        ]
        .iter()
        .map(|t| Decimal::from_str_exact(t).unwrap())
        .collect();
        let mut negative_zero = Decimal::new(0, 2);
        negative_zero.set_sign_negative(true);
        values.push(negative_zero);
        for value in values {
            let mut buf = [0u8; DECIMAL_TEXT];
            let text = std::str::from_utf8(decimal_text(value, &mut buf)).unwrap();
            assert_eq!(text, value.to_string(), "{value:?}");
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
            matches: crate::matching::Matches::default(),
            ledger: Vec::new(),
            bank: Vec::new(),
            batches: Vec::new(),
        };
        let causes = LikelyCauses::default();
        let files = render(
            &RenderInput {
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
                resolved: &Resolved::default(),
            },
            RenderTo::Memory,
        )
        .unwrap();
        for kind in OutputKind::ALL {
            let file = files.iter().find(|f| f.name == kind.file()).unwrap();
            let header = String::from_utf8(file.bytes.clone()).unwrap();
            let expected = kind.columns().join(",") + ",x\n";
            assert_eq!(header, expected, "{}", kind.file());
        }
        assert_eq!(files.len(), OutputKind::ALL.len(), "every output file has a kind");
    }
}
