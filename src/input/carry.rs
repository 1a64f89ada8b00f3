//! Reading a previous run's results for `--carry-in`. The rows of its
//! pending.csv come back as records exactly as they were read (side, line,
//! key, amount, instant, merchant, carried columns), marked as carried in.
//! Every row it settled (matched.csv, unmatched.csv, duplicates.csv,
//! ignored.csv, pending.csv) becomes a fingerprint, so that a statement that
//! repeats a row the previous run already handled does not count it twice.
//!
//! Only files `recon run` wrote are read here; spreadsheet guards (a leading
//! `'`) are taken off again, and results encrypted with `--encrypt-key-file`
//! (`NAME.sm4`) are decrypted with the run's key.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use chrono_tz::Tz;
use rust_decimal::Decimal;
use thiserror::Error;

use super::field::safe;
use super::time::{parse_time, TimeLayout};
use crate::crypto::{self, Sm4Key};
use crate::model::{
    Amount, Currency, Origin, Record, RecordText, Side, SourceId, Stamp, AWAITING_COUNTERPART,
};

/// The carried column names of the ledger and of the bank, in that order.
pub type Carried<'a> = [&'a [String]; 2];

/// The pending file's name inside a results directory.
pub const PENDING_FILE: &str = "pending.csv";

/// Result files whose rows the previous run settled (or carried forward).
const SETTLED_FILES: [&str; 5] = [
    "matched.csv",
    "unmatched.csv",
    "duplicates.csv",
    "ignored.csv",
    PENDING_FILE,
];

/// The columns pending.csv must have, besides the carried ones.
const PENDING_COLUMNS: [&str; 10] = [
    "side",
    "line",
    "key",
    "amount",
    "time",
    "merchant",
    "reason",
    "business_date",
    "source_file",
    "source_sha256",
];

/// What `--carry-in` brings into a run.
#[derive(Debug)]
pub struct CarryIn {
    /// The pending.csv read.
    pub pending: SourceId,
    /// The business date its rows were pending on (unknown when it is empty).
    pub business_date: Option<NaiveDate>,
    /// The business date of the results carried in, from their summary.json
    /// (else their pending rows'); unknown for a run without `--date`.
    pub results_date: Option<NaiveDate>,
    /// The file the carried rows of each side (ledger, bank) were first read from.
    pub sources: [Option<SourceId>; 2],
    /// Carried-in ledger rows.
    pub ledger: Vec<Record>,
    /// Carried-in statement rows.
    pub bank: Vec<Record>,
    /// Rows the previous run settled.
    pub settled: Settled,
}

/// Why the previous results could not be carried in.
#[derive(Debug, Error)]
pub enum CarryError {
    /// A file could not be read.
    #[error("{path}: cannot read the previous run's results: {}", describe(.error))]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        error: std::io::Error,
    },
    /// A value in a results file is not what `recon run` writes.
    #[error("{path}:{line}:{column}: {message}")]
    Value {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: u64,
        /// 1-based column.
        column: usize,
        /// What is wrong.
        message: String,
    },
    /// The file as a whole does not fit (missing columns, mixed runs, wrong day).
    #[error("{path}: {message}")]
    Shape {
        /// The file.
        path: PathBuf,
        /// What is wrong and what to give instead.
        message: String,
    },
}

/// Which rows of the previous results a run takes, by their key and
/// merchant: a partition's run takes only the rows of its partition (the
/// pending rows are checked whole all the same).
pub type Keep<'a> = Option<&'a (dyn Fn(&str, &str) -> bool + Sync)>;

/// Reads the previous results: `path` is their directory or its pending.csv
/// (or pending.csv.sm4, decrypted with `key`). With `date`, the pending rows
/// must be of an earlier business day. Times are read in the business
/// `zone`; `carried` names the ledger's and the bank's carried columns;
/// with `keep`, only the pending and settled rows it keeps are taken.
pub fn read(
    path: &Path,
    zone: Tz,
    carried: Carried,
    date: Option<NaiveDate>,
    key: Option<&Sm4Key>,
    keep: Keep,
) -> Result<CarryIn, CarryError> {
    let (dir, pending_path) = if path.is_dir() {
        (path.to_path_buf(), path.join(PENDING_FILE))
    } else {
        let dir = path.parent().filter(|p| !p.as_os_str().is_empty());
        let plain = path.to_string_lossy();
        let plain = plain
            .strip_suffix(&format!(".{}", crypto::sealed::EXTENSION))
            .unwrap_or(&plain);
        (dir.unwrap_or(Path::new(".")).to_path_buf(), PathBuf::from(plain))
    };
    let (pending_file, table) = ResultTable::read(&pending_path, zone, key, None)?;
    let pending = read_pending(&table, carried, date, keep)?;
    let mut settled = Settled::default();
    for name in SETTLED_FILES {
        let other;
        let table = if name == PENDING_FILE {
            &table
        } else {
            other = ResultTable::read_settled(&dir.join(name), zone, key, keep)?;
            &other
        };
        for row in &table.rows {
            let record = table.common(row, None)?;
            settled.add(record);
        }
    }
    let results_date = summary_date(&dir, key).or(pending.business_date);
    Ok(CarryIn {
        pending: pending_file,
        business_date: pending.business_date,
        results_date,
        sources: pending.sources,
        ledger: pending.ledger,
        bank: pending.bank,
        settled,
    })
}

/// The `business_date` of the results' summary.json, when it can be read.
fn summary_date(dir: &Path, key: Option<&Sm4Key>) -> Option<NaiveDate> {
    let (_, bytes) = stored_bytes(&dir.join("summary.json"), key).ok()?;
    let summary: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    NaiveDate::parse_from_str(summary.get("business_date")?.as_str()?, "%Y-%m-%d").ok()
}

/// The plain bytes of a result file, and the file as stored with its SHA-256:
/// `path` itself, or its encrypted form `path.sm4` opened with `key`.
fn stored_bytes(path: &Path, key: Option<&Sm4Key>) -> Result<(SourceId, Vec<u8>), CarryError> {
    let sealed = PathBuf::from(format!("{}.{}", path.display(), crypto::sealed::EXTENSION));
    let file = if !path.exists() && sealed.exists() {
        &sealed
    } else {
        path
    };
    let bytes = std::fs::read(file).map_err(|error| CarryError::Io {
        path: path.into(),
        error,
    })?;
    let stored = SourceId {
        path: file.display().to_string(),
        sha256: crate::digest::sha256_hex(&bytes),
    };
    if file == path {
        return Ok((stored, bytes));
    }
    let shape = |message: String| CarryError::Shape {
        path: sealed.clone(),
        message,
    };
    let key = key.ok_or_else(|| {
        shape("the previous results are encrypted: give this run the key they were written with (--encrypt-key-file or RECON_KEY_FILE)".into())
    })?;
    let plain = crypto::open(key, &bytes).map_err(|e| shape(e.to_string()))?;
    Ok((stored, plain))
}

/// An OS error, with what to give instead when the file is missing.
fn describe(error: &std::io::Error) -> String {
    if error.kind() == std::io::ErrorKind::NotFound {
        "no such file: --carry-in takes the previous run's results directory (or its pending.csv) with all its result files beside it".to_string()
    } else {
        error.to_string()
    }
}

/// The rows of pending.csv, typed.
struct Pending {
    business_date: Option<NaiveDate>,
    sources: [Option<SourceId>; 2],
    ledger: Vec<Record>,
    bank: Vec<Record>,
}

fn read_pending(
    table: &ResultTable,
    carried: Carried,
    date: Option<NaiveDate>,
    keep: Keep,
) -> Result<Pending, CarryError> {
    for name in PENDING_COLUMNS {
        table.column(name)?;
    }
    let mut pending = Pending {
        business_date: None,
        sources: [None, None],
        ledger: Vec::new(),
        bank: Vec::new(),
    };
    let mut seen = std::collections::HashSet::new();
    for row in &table.rows {
        let mut record = table.common(row, Some(carried))?;
        record.set_origin(Origin::CarriedIn);
        if table.text(row, table.column("reason")?) != AWAITING_COUNTERPART {
            return Err(table.value_error(row, "reason", "pending rows have reason awaiting_counterpart"));
        }
        if !seen.insert(record.row_ref()) {
            return Err(table.value_error(row, "line", "this side and line appear twice"));
        }
        let day = table.text(row, table.column("business_date")?);
        let day = NaiveDate::parse_from_str(day, "%Y-%m-%d")
            .map_err(|_| table.value_error(row, "business_date", "not a date (YYYY-MM-DD)"))?;
        table.agree(&mut pending.business_date, day, "rows of different business days")?;
        let source = SourceId {
            path: table.text(row, table.column("source_file")?).to_string(),
            sha256: table.text(row, table.column("source_sha256")?).to_string(),
        };
        let slot = &mut pending.sources[record.side() as usize];
        table.agree(slot, source, "rows of one side read from different files")?;
        if keep.is_some_and(|keep| !keep(record.key(), record.merchant())) {
            continue;
        }
        match record.side() {
            Side::Ledger => pending.ledger.push(record),
            Side::Bank => pending.bank.push(record),
        }
    }
    if let (Some(from), Some(date)) = (pending.business_date, date) {
        if from >= date {
            return Err(table.shape_error(format!(
                "holds rows pending on {from}, but this run reconciles {date}: carry in the results of an earlier day"
            )));
        }
    }
    Ok(pending)
}

/// One result CSV, held as text rows.
struct ResultTable {
    path: PathBuf,
    /// Zone for times written without an offset (outputs always write one).
    zone: chrono_tz::Tz,
    header: Vec<String>,
    rows: Vec<(u64, csv::StringRecord)>,
}

impl ResultTable {
    /// Reads a result file; also says which file was read (`path` or its
    /// encrypted form) and its SHA-256 as stored. With `keep`, holds only
    /// the rows it keeps (all rows when a column it needs is missing, which
    /// is reported).
    fn read(
        path: &Path,
        zone: chrono_tz::Tz,
        key: Option<&Sm4Key>,
        keep: Keep,
    ) -> Result<(SourceId, ResultTable), CarryError> {
        let (stored, bytes) = stored_bytes(path, key)?;
        Ok((stored, ResultTable::parse(path, zone, bytes.as_slice(), keep)?))
    }

    /// Reads a file of settled rows: a plain one streamed (a partition keeps
    /// only its share of it in memory), an encrypted one opened whole.
    fn read_settled(
        path: &Path,
        zone: chrono_tz::Tz,
        key: Option<&Sm4Key>,
        keep: Keep,
    ) -> Result<ResultTable, CarryError> {
        match std::fs::File::open(path) {
            Ok(file) => ResultTable::parse(path, zone, std::io::BufReader::new(file), keep),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let (_, bytes) = stored_bytes(path, key)?;
                ResultTable::parse(path, zone, bytes.as_slice(), keep)
            }
            Err(error) => Err(CarryError::Io {
                path: path.into(),
                error,
            }),
        }
    }

    /// Parses a result file read from `from`.
    fn parse(
        path: &Path,
        zone: chrono_tz::Tz,
        from: impl std::io::Read,
        keep: Keep,
    ) -> Result<ResultTable, CarryError> {
        let csv_error = |e: csv::Error| {
            let line = e.position().map_or(1, |p| p.line());
            CarryError::Value {
                path: path.into(),
                line,
                column: 1,
                message: format!("not a recon result file: {e}"),
            }
        };
        let mut reader = csv::Reader::from_reader(from);
        let header = reader
            .headers()
            .map_err(csv_error)?
            .iter()
            .map(String::from)
            .collect();
        let mut table = ResultTable {
            path: path.into(),
            zone,
            header,
            rows: Vec::new(),
        };
        let columns = (table.index("key"), table.index("merchant"));
        for record in reader.records() {
            let record = record.map_err(csv_error)?;
            let line = record.position().map_or(0, |p| p.line());
            let row = (line, record);
            let kept = match (keep, columns) {
                (Some(keep), (Some(key), Some(merchant))) => {
                    keep(table.text(&row, key), table.text(&row, merchant))
                }
                _ => true,
            };
            if kept {
                table.rows.push(row);
            }
        }
        Ok(table)
    }

    fn index(&self, name: &str) -> Option<usize> {
        self.header.iter().position(|h| h == name)
    }

    fn column(&self, name: &str) -> Result<usize, CarryError> {
        self.index(name).ok_or_else(|| {
            self.shape_error(format!(
                "has no \"{name}\" column: give a results directory (or its pending.csv) written by recon run"
            ))
        })
    }

    /// A field with its spreadsheet guard removed.
    fn text<'r>(&self, (_, row): &'r (u64, csv::StringRecord), index: usize) -> &'r str {
        unguard(row.get(index).unwrap_or(""))
    }

    /// The columns every result file shares, as a record (not yet carried
    /// in), with the values of the carried columns `carried` names for its side.
    fn common(&self, row: &(u64, csv::StringRecord), carried: Option<Carried>) -> Result<Record, CarryError> {
        let field = |name: &str| -> Result<&str, CarryError> { Ok(self.text(row, self.column(name)?)) };
        let side = match field("side")? {
            "ledger" => Side::Ledger,
            "bank" => Side::Bank,
            _ => return Err(self.value_error(row, "side", "side must be ledger or bank")),
        };
        let line = field("line")?
            .parse()
            .map_err(|_| self.value_error(row, "line", "not a line number"))?;
        let amount = Decimal::from_str_exact(field("amount")?)
            .ok()
            .filter(|a| a.abs() < crate::input::amount::AMOUNT_LIMIT)
            .and_then(Amount::from_decimal)
            .ok_or_else(|| {
                self.value_error(row, "amount", "not an amount below 10^15 that 64-bit units hold")
            })?;
        let time = match field("time")? {
            "" => None,
            text => Some(
                parse_time(text, &TimeLayout::Auto, self.zone)
                    .map_err(|e| self.value_error(row, "time", &e.to_string()))?,
            ),
        };
        let time = Stamp::new(time).ok_or_else(|| self.value_error(row, "time", "a leap second (:60)"))?;
        let carry: &[String] = match (carried, side) {
            (None, _) => &[],
            (Some([ledger, _]), Side::Ledger) => ledger,
            (Some([_, bank]), Side::Bank) => bank,
        };
        let carried = carry
            .iter()
            .map(|name| self.index(name).map_or("", |i| self.text(row, i)));
        let currency = match self.index("currency") {
            Some(i) => super::amount::currency_code(self.text(row, i))
                .and_then(Currency::new)
                .ok_or_else(|| self.value_error(row, "currency", "not a three-letter currency code"))?,
            None => Currency::CNY,
        };
        let text = RecordText::new(field("key")?, field("merchant")?, carried);
        Record::new(side, line, amount, time, text, currency)
            .ok_or_else(|| self.value_error(row, "line", "a line beyond the last a record can come from"))
    }

    /// Sets `slot` to `value`, or checks that it already holds it.
    fn agree<T: PartialEq>(&self, slot: &mut Option<T>, value: T, what: &str) -> Result<(), CarryError> {
        match slot {
            Some(held) if *held != value => {
                Err(self.shape_error(format!("holds {what}: give the pending.csv of one recon run")))
            }
            Some(_) => Ok(()),
            None => {
                *slot = Some(value);
                Ok(())
            }
        }
    }

    fn value_error(&self, (line, _): &(u64, csv::StringRecord), column: &str, message: &str) -> CarryError {
        CarryError::Value {
            path: self.path.clone(),
            line: *line,
            column: self.index(column).map_or(1, |i| i + 1),
            message: format!("{column}: {message}"),
        }
    }

    fn shape_error(&self, message: String) -> CarryError {
        CarryError::Shape {
            path: self.path.clone(),
            message,
        }
    }
}

/// Takes off the `'` that outputs put before text a spreadsheet would run.
fn unguard(text: &str) -> &str {
    match text.strip_prefix('\'') {
        Some(rest) if safe(rest) != rest => rest,
        _ => text,
    }
}

/// Rows the previous run settled, counted by fingerprint (side, key, amount,
/// instant, merchant); each is claimed by at most as many rows as it counts.
#[derive(Debug, Default)]
pub struct Settled {
    by_key: HashMap<Box<str>, Vec<SettledRow>>,
}

#[derive(Debug)]
struct SettledRow {
    side: Side,
    /// Compared by value, as the previous run's normalized amount was.
    amount: Amount,
    time: Stamp,
    merchant: Box<str>,
    remaining: u32,
}

impl Settled {
    fn add(&mut self, r: Record) {
        let rows = self.by_key.entry(r.key().into()).or_default();
        match rows.iter_mut().find(|s| {
            s.side == r.side() && s.amount == r.amount && s.time == r.time && *s.merchant == *r.merchant()
        }) {
            Some(s) => s.remaining += 1,
            None => rows.push(SettledRow {
                side: r.side(),
                amount: r.amount,
                time: r.time,
                merchant: r.merchant().into(),
                remaining: 1,
            }),
        }
    }

    /// True (once per settled row) when the previous run settled a row like `r`.
    pub fn claim(&mut self, r: &Record) -> bool {
        let Some(rows) = self.by_key.get_mut(r.key()) else {
            return false;
        };
        let found = rows.iter_mut().find(|s| {
            s.remaining > 0
                && s.side == r.side()
                && s.amount == r.amount
                && s.time == r.time
                && *s.merchant == *r.merchant()
        });
        match found {
            Some(s) => {
                s.remaining -= 1;
                true
            }
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guards_come_off_only_where_outputs_put_them() {
        assert_eq!(unguard("'=SUM(A1)"), "=SUM(A1)");
        assert_eq!(unguard("'@x"), "@x");
        assert_eq!(unguard("-12.50"), "-12.50");
        assert_eq!(unguard("'-12.50"), "'-12.50");
        assert_eq!(unguard("'quoted"), "'quoted");
        assert_eq!(unguard("P001"), "P001");
    }
}
