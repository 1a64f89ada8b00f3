//! Reading ledger and statement files: bytes → decoded text (`encoding`) →
//! table region (`table`) → typed records (`records`), with the field parsers
//! (`field`, `amount`, `time`) they use; and, for `--carry-in`, a previous
//! run's results read back (`carry`). Nothing here knows about matching.

pub mod amount;
pub mod carry;
pub mod encoding;
pub mod field;
pub mod guess;
pub mod inspect;
pub mod records;
pub mod table;
pub mod time;

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use thiserror::Error;

use crate::model::Side;
use crate::rules::plan::SidePlan;
use encoding::{Decoded, EncodingChoice, EncodingError};
use records::{MappingError, Typed};
use table::{Table, TableError, TableOptions};

/// Why a file could not be read at all.
#[derive(Debug, Error)]
pub enum ReadError {
    /// The path is a directory.
    #[error("{0}: is a directory, not a file; give the path of the exported statement file")]
    IsDirectory(PathBuf),
    /// The OS refused.
    #[error("{path}: cannot read: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// Bytes that are not text in any supported encoding.
    #[error("{path}:{}: {error}", position(.error))]
    Encoding {
        /// The file.
        path: PathBuf,
        /// What was wrong.
        error: EncodingError,
    },
    /// No table could be located.
    #[error("{path}:{}: {error}", .error.line().map_or("1:1".to_string(), |l| format!("{l}:1")))]
    Table {
        /// The file.
        path: PathBuf,
        /// What was wrong.
        error: TableError,
    },
    /// The rule file's columns do not fit the header.
    #[error("{path}:{line}:1: {error}")]
    Mapping {
        /// The file.
        path: PathBuf,
        /// Header line.
        line: u64,
        /// What was wrong.
        error: MappingError,
    },
}

fn position(error: &EncodingError) -> String {
    match error {
        EncodingError::NulByte { line, column, .. } | EncodingError::Malformed { line, column, .. } => {
            format!("{line}:{column}")
        }
        _ => "1:1".to_string(),
    }
}

/// What a file is, before typing: its hash, encoding and located table.
#[derive(Debug)]
pub struct Located {
    /// The path as given.
    pub path: PathBuf,
    /// SHA-256 of the file's bytes.
    pub sha256: String,
    /// Size in bytes.
    pub size: u64,
    /// The encoding used.
    pub encoding: &'static encoding_rs::Encoding,
    /// How the encoding was decided.
    pub detection: encoding::Detection,
    /// The table found in the text.
    pub table: Table,
}

/// A file read and typed for one side.
#[derive(Debug)]
pub struct SourceFile {
    /// The file's facts and table (rows moved into `typed`).
    pub located: Located,
    /// Records and rejected rows.
    pub typed: Typed,
}

/// Reads `path`, decodes it and locates its table.
pub fn locate(path: &Path, encoding: EncodingChoice, options: &TableOptions) -> Result<Located, ReadError> {
    if path.is_dir() {
        return Err(ReadError::IsDirectory(path.into()));
    }
    let bytes = std::fs::read(path).map_err(|source| ReadError::Io {
        path: path.into(),
        source,
    })?;
    let sha256 = crate::rules::hex(&Sha256::digest(&bytes));
    let Decoded {
        text,
        encoding,
        detection,
        ..
    } = encoding::decode(&bytes, encoding).map_err(|error| ReadError::Encoding {
        path: path.into(),
        error,
    })?;
    drop(bytes);
    let table = table::read_table(&text, options).map_err(|error| ReadError::Table {
        path: path.into(),
        error,
    })?;
    Ok(Located {
        path: path.into(),
        sha256,
        size: std::fs::metadata(path).map_or(0, |m| m.len()),
        encoding,
        detection,
        table,
    })
}

/// Reads one side's file with its rule-file settings and types its rows.
pub fn read_source(path: &Path, side: Side, plan: &SidePlan) -> Result<SourceFile, ReadError> {
    let options = TableOptions {
        delimiter: plan.delimiter,
        header_line: plan.header_line,
        expected_columns: plan.columns.names(),
    };
    let mut located = locate(path, plan.encoding, &options)?;
    let typed = records::type_rows(&mut located.table, side, plan).map_err(|error| ReadError::Mapping {
        path: path.into(),
        line: located.table.header_line,
        error,
    })?;
    Ok(SourceFile { located, typed })
}
