//! The exception rows report.html shows and charts: unmatched rows,
//! duplicates, and matched rows flagged for review. They are read back from
//! the rendered result CSVs (so masking applied to those applies here), by
//! column name, into one shape: side, line, key, amount, time, merchant,
//! reason, related rows, likely cause, plus the carried columns.

use rust_decimal::Decimal;

use super::html::own_columns;
use super::tables::OutputFile;

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

/// One exception row.
#[derive(Debug, Clone)]
pub struct Exception {
    /// Its kind.
    pub kind: ExceptionKind,
    /// True for a bank row.
    pub is_bank: bool,
    /// The reason code it is charted under (`no_counterpart`, …, `duplicate`, `review`).
    pub reason_code: String,
    /// side, line, key, amount, time, merchant, reason, related, likely_cause.
    pub cells: [String; 9],
    /// The amount, when it reads as one.
    pub amount: Option<Decimal>,
    /// Hour of day of its local time.
    pub hour: Option<u32>,
    carried: Vec<(String, String)>,
}

impl Exception {
    /// The value of a carried column ("" when absent).
    pub fn carried(&self, name: &str) -> &str {
        self.carried
            .iter()
            .find(|(n, _)| n == name)
            .map_or("", |(_, v)| v.as_str())
    }
}

/// (file, kind, reason column, related column).
const SOURCES: [(&str, ExceptionKind, &str, &str); 3] = [
    ("unmatched.csv", ExceptionKind::Unmatched, "reason", "counterpart"),
    ("duplicates.csv", ExceptionKind::Duplicate, "", "duplicate_of"),
    ("matched.csv", ExceptionKind::Review, "review_reason", "match_id"),
];

/// Every exception row of the rendered files; matched.csv is only read when
/// `with_review` (there are matches flagged for review).
pub fn collect(files: &[OutputFile], with_review: bool) -> Vec<Exception> {
    let mut rows = Vec::new();
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
        let carried: Vec<(usize, &str)> = header
            .iter()
            .enumerate()
            .filter(|(_, h)| !own.contains(h))
            .collect();
        for record in reader.records() {
            let record = record.expect("rendered CSV");
            if kind == ExceptionKind::Review && review.and_then(|i| record.get(i)) != Some("true") {
                continue;
            }
            let cells = columns.map(|c| c.and_then(|i| record.get(i)).unwrap_or("").to_string());
            let reason_code = match kind {
                ExceptionKind::Unmatched => cells[6].clone(),
                other => other.name().to_string(),
            };
            rows.push(Exception {
                kind,
                is_bank: cells[0] == "bank",
                reason_code,
                amount: Decimal::from_str_exact(&cells[3]).ok(),
                hour: cells[4]
                    .get(11..13)
                    .and_then(|h| h.parse().ok())
                    .filter(|h| *h < 24),
                carried: carried
                    .iter()
                    .map(|(i, n)| (n.to_string(), record.get(*i).unwrap_or("").to_string()))
                    .collect(),
                cells,
            });
        }
    }
    rows
}

/// The carried column names of the rows, in first-seen order.
pub fn carried_names(rows: &[Exception]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for r in rows {
        for (n, _) in &r.carried {
            if !names.contains(n) {
                names.push(n.clone());
            }
        }
    }
    names
}
