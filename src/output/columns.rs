//! Column templates (`[report.columns]`): rewriting a rendered result CSV
//! so it holds only the listed columns, in the listed order. Rows and their
//! tallies are unchanged; only the columns are chosen. The rule file's
//! templates were checked against the outputs' columns when it was loaded.

use super::tables::OutputFile;
use crate::rules::report::OutputKind;

/// Applies each template to the file it names; files without one stay as rendered.
pub fn apply(files: &mut [OutputFile], templates: &[(OutputKind, Vec<String>)]) {
    for (kind, columns) in templates {
        if let Some(file) = files.iter_mut().find(|f| f.name == kind.file()) {
            file.bytes = select(&file.bytes, columns);
        }
    }
}

/// The CSV `bytes` with only `columns`, in that order (a missing column stays empty).
pub fn select(bytes: &[u8], columns: &[String]) -> Vec<u8> {
    let mut reader = csv::Reader::from_reader(bytes);
    let header = reader.byte_headers().expect("rendered CSV").clone();
    let picks: Vec<Option<usize>> = columns
        .iter()
        .map(|c| header.iter().position(|h| h == c.as_bytes()))
        .collect();
    let mut writer = csv::Writer::from_writer(Vec::with_capacity(bytes.len()));
    writer.write_record(columns).expect("writing to memory");
    let mut row = csv::ByteRecord::new();
    while reader.read_byte_record(&mut row).expect("rendered CSV") {
        writer
            .write_record(picks.iter().map(|p| p.and_then(|i| row.get(i)).unwrap_or(b"")))
            .expect("writing to memory");
    }
    writer.into_inner().expect("writing to memory")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_and_orders_columns() {
        let csv = b"side,line,key,amount\nledger,2,\"A,1\",10.00\nbank,3,B,-1.00\n";
        let out = select(csv, &["amount".into(), "key".into()]);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "amount,key\n10.00,\"A,1\"\n-1.00,B\n"
        );
    }
}
