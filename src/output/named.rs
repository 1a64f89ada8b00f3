//! Named reports (`[[report.named]]`, chosen with `recon run --report NAME`):
//! the rows of some result files that pass the report's filter, with its
//! columns, written as `report-NAME.csv`. The first column, `output`, names
//! the file each row comes from. Rows are read from the rendered result
//! CSVs, so what they show (masking included) is what those files show.

use super::tables::OutputFile;
use crate::rules::report::{NamedReport, OUTPUT_COLUMN};

/// A rendered named report.
#[derive(Debug, Clone)]
pub struct NamedOutput {
    /// `report-NAME.csv`.
    pub file_name: String,
    /// CSV bytes.
    pub bytes: Vec<u8>,
    /// Data rows written.
    pub rows: usize,
}

/// Renders `report` from the default (untemplated) result files.
pub fn render(report: &NamedReport, files: &[OutputFile]) -> NamedOutput {
    let sources: Vec<(&str, csv::StringRecord, &[u8])> = report
        .from
        .iter()
        .filter_map(|kind| files.iter().find(|f| f.name == kind.file()))
        .map(|f| {
            let header = csv::Reader::from_reader(f.bytes.as_slice())
                .headers()
                .expect("rendered CSV")
                .clone();
            (f.name, header, f.bytes.as_slice())
        })
        .collect();
    let columns = match &report.columns {
        Some(c) => c.clone(),
        None => all_columns(report, &sources),
    };
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(&columns).expect("writing to memory");
    let mut rows = 0;
    for (name, header, bytes) in &sources {
        let output = name.trim_end_matches(".csv");
        let mut reader = csv::Reader::from_reader(*bytes);
        for record in reader.records() {
            let record = record.expect("rendered CSV");
            let cell = |column: &str| -> Option<&str> {
                if column == OUTPUT_COLUMN {
                    return Some(output);
                }
                header
                    .iter()
                    .position(|h| h == column)
                    .and_then(|i| record.get(i))
            };
            if !report.filter.keeps(cell) {
                continue;
            }
            writer
                .write_record(columns.iter().map(|c| cell(c).unwrap_or("")))
                .expect("writing to memory");
            rows += 1;
        }
    }
    NamedOutput {
        file_name: report.file_name(),
        bytes: writer.into_inner().expect("writing to memory"),
        rows,
    }
}

/// `output`, every output's own columns (first seen first), then the carried columns.
fn all_columns(report: &NamedReport, sources: &[(&str, csv::StringRecord, &[u8])]) -> Vec<String> {
    let own: Vec<&str> = report
        .from
        .iter()
        .flat_map(|k| k.columns().iter().copied())
        .collect();
    let mut all = vec![OUTPUT_COLUMN.to_string()];
    let mut carried: Vec<String> = Vec::new();
    for (_, header, _) in sources {
        for h in header {
            let list = if own.contains(&h) { &mut all } else { &mut carried };
            if !list.iter().any(|a| a == h) {
                list.push(h.to_string());
            }
        }
    }
    all.extend(carried);
    all
}
