//! The exception rows report.html shows and charts: unmatched rows,
//! duplicates, and matched rows flagged for review. They are read back from
//! the rendered result CSVs (so masking applied to those applies here), by
//! column name, into one shape: side, line, key, amount, time, merchant,
//! reason, related rows, likely cause, plus the carried columns.

use rust_decimal::Decimal;

use super::tables::OutputFile;
use crate::rules::report::OutputKind;

/// What kind of exception a row is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ExceptionKind {
    /// From unmatched.csv.
    Unmatched = 0,
    /// From duplicates.csv.
    Duplicate = 1,
    /// From matched.csv, flagged for review.
    Review = 2,
}

impl ExceptionKind {
    /// Its name, also its CSS class.
    pub fn name(self) -> &'static str {
        match self {
            ExceptionKind::Unmatched => "unmatched",
            ExceptionKind::Duplicate => "duplicate",
            ExceptionKind::Review => "review",
        }
    }
}

/// One exception row: what the charts count, and for the first rows what the table shows.
#[derive(Debug, Clone)]
pub struct Exception {
    /// Its kind.
    pub kind: ExceptionKind,
    /// True for a bank row.
    pub is_bank: bool,
    /// The reason code it is charted under (`no_counterpart`, …, `duplicate`, `review`).
    pub reason_code: String,
    /// The amount, when it reads as one.
    pub amount: Option<Decimal>,
    /// Hour of day of its local time.
    pub hour: Option<u32>,
    /// The table cells, kept for the first rows only.
    pub detail: Option<Detail>,
}

/// The cells of one row of the exception table.
#[derive(Debug, Clone)]
pub struct Detail {
    /// side, line, key, amount, time, merchant, reason, related, likely_cause.
    pub cells: [String; 9],
    /// Values of `Exceptions::carried_names`, in that order.
    pub carried: Vec<String>,
}

/// Every exception row, and the carried column names their details hold.
#[derive(Debug, Clone, Default)]
pub struct Exceptions {
    /// The rows, unmatched first, then duplicates, then rows under review.
    pub rows: Vec<Exception>,
    /// Carried columns (every column an output has beyond its own), first seen first.
    pub carried_names: Vec<String>,
}

/// (file, kind, reason column, related column).
const SOURCES: [(&str, ExceptionKind, &str, &str); 3] = [
    ("unmatched.csv", ExceptionKind::Unmatched, "reason", "counterpart"),
    ("duplicates.csv", ExceptionKind::Duplicate, "", "duplicate_of"),
    ("matched.csv", ExceptionKind::Review, "review_reason", "match_id"),
];

/// The default columns of an output, for telling carried columns apart.
fn own_columns(file: &str) -> &'static [&'static str] {
    OutputKind::ALL
        .into_iter()
        .find(|k| k.file() == file)
        .map_or(&[], |k| k.columns())
}

fn text(record: &csv::ByteRecord, at: Option<usize>) -> String {
    at.and_then(|i| record.get(i))
        .map(|b| String::from_utf8_lossy(b).into_owned())
        .unwrap_or_default()
}

/// Every exception row of the rendered files, with details for the first
/// `detailed` rows; matched.csv is only read when `with_review` (there are
/// matches flagged for review), and then only its review rows are decoded.
pub fn collect(files: &[OutputFile], with_review: bool, detailed: usize) -> Exceptions {
    let mut all = Exceptions::default();
    for (name, kind, reason_column, related_column) in SOURCES {
        if kind == ExceptionKind::Review && !with_review {
            continue;
        }
        let Some(file) = files.iter().find(|f| f.name == name) else {
            continue;
        };
        let mut reader = csv::Reader::from_reader(file.bytes.as_slice());
        let header = reader.headers().expect("rendered CSV").clone();
        let at = |column: &str| header.iter().position(|h| h == column);
        let review = at("review");
        let columns = [
            at("side"),
            at("line"),
            at("key"),
            at("amount"),
            at("time"),
            at("merchant"),
            at(reason_column),
            at(related_column),
            at("likely_cause"),
        ];
        let own = own_columns(name);
        let mut carried: Vec<(usize, usize)> = Vec::new();
        for (i, h) in header.iter().enumerate().filter(|(_, h)| !own.contains(h)) {
            let slot = match all.carried_names.iter().position(|n| n == h) {
                Some(slot) => slot,
                None => {
                    all.carried_names.push(h.to_string());
                    all.carried_names.len() - 1
                }
            };
            carried.push((i, slot));
        }
        let mut record = csv::ByteRecord::new();
        while reader.read_byte_record(&mut record).expect("rendered CSV") {
            if kind == ExceptionKind::Review && review.and_then(|i| record.get(i)) != Some(b"true") {
                continue;
            }
            let reason_code = match kind {
                ExceptionKind::Unmatched => text(&record, columns[6]),
                other => other.name().to_string(),
            };
            let amount = text(&record, columns[3]);
            let time = text(&record, columns[4]);
            let detail = (all.rows.len() < detailed).then(|| {
                let mut values = vec![String::new(); all.carried_names.len()];
                for &(i, slot) in &carried {
                    values[slot] = text(&record, Some(i));
                }
                Detail {
                    cells: columns.map(|c| text(&record, c)),
                    carried: values,
                }
            });
            all.rows.push(Exception {
                kind,
                is_bank: columns[0].and_then(|i| record.get(i)) == Some(b"bank"),
                reason_code,
                amount: Decimal::from_str_exact(&amount).ok(),
                hour: time.get(11..13).and_then(|h| h.parse().ok()).filter(|h| *h < 24),
                detail,
            });
        }
    }
    all
}
