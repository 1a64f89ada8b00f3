//! Reading ledger and statement files: bytes → decoded text (`encoding`) →
//! table region (`table`) → typed records (`records`), with the field parsers
//! (`field`, `amount`, `time`) they use; and, for `--carry-in`, a previous
//! run's results read back (`carry`). Nothing here knows about matching.

pub mod amount;
pub mod carry;
pub mod chunked;
pub mod encoding;
pub mod excel;
pub mod field;
pub mod guess;
pub mod pieces;
pub mod plan;
pub mod records;
pub mod sniff;
pub mod status;
pub mod table;
pub mod tally;
pub mod time;
pub mod workbook_guard;

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use thiserror::Error;

use crate::model::Side;
use encoding::{Decoded, EncodingChoice, EncodingError};
use excel::{ExcelError, WorkbookSource};
use plan::SidePlan;
use records::{MappingError, Typed};
use status::SetAside;
use table::{Table, TableError, TableOptions};

/// Why a file could not be read at all.
#[derive(Debug, Error)]
pub enum ReadError {
    /// The path is a directory.
    #[error("{0}: is a directory, not a file; give the path of the exported statement file")]
    IsDirectory(PathBuf),
    /// The OS refused.
    #[error("{path}: cannot read: {source}; check the path and that this account may read the file")]
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
    #[error("{path}:{}: {error}", .error.position())]
    Table {
        /// The file.
        path: PathBuf,
        /// What was wrong.
        error: TableError,
    },
    /// A workbook that could not be read.
    #[error("{path}:{}: {error}", excel_position(.error))]
    Excel {
        /// The file.
        path: PathBuf,
        /// What was wrong.
        error: ExcelError,
    },
    /// Column roles could not be guessed from the header.
    #[error("{path}:{line}:1: {message}")]
    Guess {
        /// The file.
        path: PathBuf,
        /// Header line.
        line: u64,
        /// What was wrong.
        message: String,
    },
    /// The rule file's columns do not fit the header.
    #[error("{path}:{line}:{}: {error}", .error.column())]
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

fn excel_position(error: &ExcelError) -> String {
    match error {
        ExcelError::Table(e) => e.position(),
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
    /// The encoding used (UTF-8 for workbooks, whose cells are Unicode).
    pub encoding: &'static encoding_rs::Encoding,
    /// How the encoding was decided.
    pub detection: encoding::Detection,
    /// The workbook and sheet, when the file is `.xlsx` or `.xls`.
    pub workbook: Option<WorkbookSource>,
    /// The table found in the text.
    pub table: Table,
}

impl Located {
    /// The encoding name, or `xlsx`/`xls` for a workbook.
    pub fn encoding_label(&self) -> &'static str {
        match &self.workbook {
            Some(w) => w.kind.name(),
            None => self.encoding.name(),
        }
    }
}

/// A file read and typed for one side.
#[derive(Debug)]
pub struct SourceFile {
    /// The file's facts and table (rows moved into `typed`).
    pub located: Located,
    /// Records and rejected rows.
    pub typed: Typed,
    /// Rows set aside by their status (closed, failed), kept for ignored.csv.
    pub set_aside: Vec<SetAside>,
    /// The built-in profile the file was read with, if any.
    pub profile: Option<String>,
}

/// Reads `path`, decodes it and locates its table.
pub fn locate(path: &Path, encoding: EncodingChoice, options: &TableOptions) -> Result<Located, ReadError> {
    let content = read_content(path, encoding, options, |text, facts| {
        let table = chunked::read_rows(text, options).map_err(|error| ReadError::Table {
            path: path.into(),
            error,
        })?;
        Ok(facts.with_table(table))
    })?;
    Ok(match content {
        Content::Workbook(located) | Content::Text(located) => located,
    })
}

/// A file read: what was made of its decoded text, or a workbook already located.
pub enum Content<T> {
    /// What the text was made into.
    Text(T),
    /// A workbook, its table located.
    Workbook(Located),
}

/// A text file's facts before its table is located.
pub struct FileFacts {
    path: PathBuf,
    sha256: String,
    size: u64,
    encoding: &'static encoding_rs::Encoding,
    detection: encoding::Detection,
}

impl FileFacts {
    /// The file located: these facts and its table.
    pub fn with_table(self, table: Table) -> Located {
        Located {
            path: self.path,
            sha256: self.sha256,
            size: self.size,
            encoding: self.encoding,
            detection: self.detection,
            workbook: None,
            table,
        }
    }
}

/// Reads `path`: a workbook's table, or what `parse` makes of the decoded
/// text, which is hashed while it is decoded. UTF-8 text is parsed in the
/// file's own bytes; text in another encoding once the bytes are freed.
pub fn read_content<T>(
    path: &Path,
    encoding: EncodingChoice,
    options: &TableOptions,
    parse: impl FnOnce(&str, FileFacts) -> Result<T, ReadError>,
) -> Result<Content<T>, ReadError> {
    let bytes = file_bytes(path)?;
    let size = bytes.len() as u64;
    if let Some(kind) = excel::workbook_kind(&bytes) {
        let sha256 = crate::digest::sha256_hex(&bytes);
        let excel_error = |error| ReadError::Excel {
            path: path.into(),
            error,
        };
        let (table, source) = excel::read_workbook(bytes, kind, options).map_err(excel_error)?;
        return Ok(Content::Workbook(Located {
            path: path.into(),
            sha256,
            size,
            encoding: encoding_rs::UTF_8,
            detection: encoding::Detection::Workbook,
            workbook: Some(source),
            table,
        }));
    }
    if excel::is_html_disguised_as_workbook(path, &bytes) {
        return Err(ReadError::Excel {
            path: path.into(),
            error: ExcelError::HtmlPage,
        });
    }
    let (sha256, decoded) = rayon::join(
        || crate::digest::sha256_hex(&bytes),
        || encoding::decode(&bytes, encoding),
    );
    let Decoded {
        text,
        encoding,
        detection,
        ..
    } = decoded.map_err(|error| ReadError::Encoding {
        path: path.into(),
        error,
    })?;
    let facts = FileFacts {
        path: path.into(),
        sha256,
        size,
        encoding,
        detection,
    };
    match text {
        Cow::Borrowed(text) => parse(text, facts).map(Content::Text),
        Cow::Owned(text) => {
            drop(bytes);
            parse(&text, facts).map(Content::Text)
        }
    }
}

/// What a pass over a text file reads (see `read_for_pass`).
pub enum Source<'b> {
    /// The decoded text.
    Text(&'b str),
    /// The bytes (after any byte-order mark) in a legacy ASCII-compatible
    /// encoding, for the pass to decode piece by piece
    /// (`encoding::decode_piece_strictly`).
    Legacy {
        /// The bytes.
        bytes: &'b [u8],
        /// Their encoding.
        encoding: &'static encoding_rs::Encoding,
    },
}

/// Reads a text file for a `pass` over it, hashed meanwhile: the file's
/// facts and what the pass made. A file in a legacy encoding (GBK, Big5,
/// windows-1252, …) is handed over undecoded, any other decoded (UTF-8
/// without a copy). `None` for a workbook, or when the pass says it needs
/// what `read_content` does (the whole decoded text).
pub fn read_for_pass<T: Send>(
    path: &Path,
    encoding: EncodingChoice,
    pass: impl FnOnce(Source<'_>) -> Result<Option<T>, ReadError> + Send,
) -> Result<Option<(FileFacts, T)>, ReadError> {
    let bytes = file_bytes(path)?;
    if excel::workbook_kind(&bytes).is_some() || excel::is_html_disguised_as_workbook(path, &bytes) {
        return Ok(None);
    }
    let (sha256, made) = rayon::join(
        || crate::digest::sha256_hex(&bytes),
        || {
            let deferred =
                encoding::decode_or_defer(&bytes, encoding).map_err(|error| ReadError::Encoding {
                    path: path.into(),
                    error,
                })?;
            let (encoding, detection, made) = match deferred {
                encoding::Deferred::Decoded(decoded) => {
                    let made = pass(Source::Text(&decoded.text))?;
                    (decoded.encoding, decoded.detection, made)
                }
                encoding::Deferred::Legacy {
                    encoding,
                    bom_len,
                    detection,
                } => {
                    let made = pass(Source::Legacy {
                        bytes: &bytes[bom_len..],
                        encoding,
                    })?;
                    (encoding, detection, made)
                }
            };
            Ok::<_, ReadError>(made.map(|made| (encoding, detection, made)))
        },
    );
    Ok(made?.map(|(encoding, detection, made)| {
        let facts = FileFacts {
            path: path.into(),
            sha256,
            size: bytes.len() as u64,
            encoding,
            detection,
        };
        (facts, made)
    }))
}

/// Pieces a large file is read in, on every core.
#[cfg(unix)]
const READ_PIECE: usize = 8 << 20;

/// The bytes of the file at `path`; a directory or an unreadable file is a
/// `ReadError` naming it.
fn file_bytes(path: &Path) -> Result<Vec<u8>, ReadError> {
    if path.is_dir() {
        return Err(ReadError::IsDirectory(path.into()));
    }
    read_bytes(path).map_err(|source| ReadError::Io {
        path: path.into(),
        source,
    })
}

/// The whole file; a large regular file is read in pieces in parallel (the
/// copy out of the page cache is most of the cost), anything else at once.
#[cfg(unix)]
fn read_bytes(path: &Path) -> std::io::Result<Vec<u8>> {
    use rayon::prelude::*;
    use std::os::unix::fs::FileExt;
    let file = std::fs::File::open(path)?;
    let meta = file.metadata()?;
    let len = usize::try_from(meta.len()).unwrap_or(usize::MAX);
    if !meta.is_file() || len <= READ_PIECE {
        return std::fs::read(path);
    }
    let mut bytes = vec![0u8; len];
    bytes
        .par_chunks_mut(READ_PIECE)
        .enumerate()
        .try_for_each(|(n, piece)| file.read_exact_at(piece, (n * READ_PIECE) as u64))?;
    Ok(bytes)
}

/// The whole file.
#[cfg(not(unix))]
fn read_bytes(path: &Path) -> std::io::Result<Vec<u8>> {
    std::fs::read(path)
}

/// The plan for a located table: guessed column roles filled in (see
/// `plan::with_guessed_columns`), and decimal commas when the file
/// writes them: `;` between fields and every amount with a comma and two
/// decimals (`-15,37`, `1.234,56`).
pub fn settle(plan: &SidePlan, side: &str, table: &Table) -> Result<SidePlan, String> {
    let guessed = plan.guess_columns.is_some();
    let mut plan = plan::with_guessed_columns(plan, side, table)?;
    if guessed && plan.columns.currency.is_none() {
        if let Some(currency) = named_currency(&plan) {
            plan.currency = currency;
        }
    }
    plan.decimal_comma = table.delimiter == b';'
        && table.delimiter_source != table::DelimiterSource::Cells
        && amount_columns_use_decimal_commas(&plan, table);
    Ok(plan)
}

/// The currency a guessed amount column's name gives (`Amount (EUR)`, `Debit CHF`).
fn named_currency(plan: &SidePlan) -> Option<crate::model::Currency> {
    use plan::AmountColumns;
    let name = match &plan.columns.amount {
        AmountColumns::Single { amount, .. } => amount,
        AmountColumns::DebitCredit { debit, .. } => debit,
    };
    let mark = name
        .trim_end_matches([')', '）'])
        .rsplit([' ', '(', '（'])
        .next()?;
    (mark.len() == 3 && mark.bytes().all(|b| b.is_ascii_uppercase()))
        .then(|| amount::currency_code(mark))
        .flatten()
        .and_then(crate::model::Currency::new)
}

fn amount_columns_use_decimal_commas(plan: &SidePlan, table: &Table) -> bool {
    use plan::AmountColumns;
    let names = match &plan.columns.amount {
        AmountColumns::Single { amount, .. } => vec![amount.as_str()],
        AmountColumns::DebitCredit { debit, credit } => vec![debit.as_str(), credit.as_str()],
    };
    let at: Vec<usize> = names
        .iter()
        .filter_map(|n| table.header.iter().position(|h| h == n))
        .collect();
    !at.is_empty()
        && amount::is_decimal_comma(
            table
                .rows
                .iter()
                .flat_map(|r| at.iter().map(|&i| r.fields.get(i).unwrap_or(""))),
        )
}

/// How a side's table is located, from its rule-file settings.
pub fn table_options(plan: &SidePlan) -> TableOptions {
    TableOptions {
        delimiter: plan.delimiter,
        header_line: plan.header_line,
        expected_columns: if plan.guess_columns.is_some() {
            Vec::new()
        } else {
            plan.columns.names()
        },
        header: plan.header,
    }
}

/// Whether `read_source` types the file's rows chunk by chunk as it parses
/// them (columns known up front, no status column, a header row), as
/// `chunked::TypedStream` can.
pub fn typed_in_chunks(plan: &SidePlan) -> bool {
    plan.guess_columns.is_none() && plan.columns.status.is_none() && plan.header != Some(false)
}

/// Reads one side's file with its rule-file settings and types its rows.
/// A text file whose columns are known up front and that has no status
/// column is read in bounded pieces, each typed on any core (`pieces`), or,
/// when its first piece cannot decide how, whole in parallel chunks
/// (`chunked`); guessed columns, status sorting and workbooks take the whole
/// table first.
pub fn read_source(path: &Path, side: Side, plan: &SidePlan) -> Result<SourceFile, ReadError> {
    if let Some(source) = pieces::read_in_pieces(path, side, plan)? {
        return Ok(source);
    }
    let options = table_options(plan);
    let table_error = |error| ReadError::Table {
        path: path.into(),
        error,
    };
    let chunked = typed_in_chunks(plan);
    let content = read_content(path, plan.encoding, &options, |text, facts| {
        // A `;` file may write decimal commas, which only its whole amount
        // column can tell: it is read whole first.
        let semicolon = plan.delimiter.unwrap_or_else(|| sniff::sniff_delimiter(text)) == b';';
        if !chunked || semicolon {
            let table = chunked::read_rows(text, &options).map_err(table_error)?;
            return Ok((facts.with_table(table), None));
        }
        let (table, typed) = chunked::read_typed(text, &options, side, plan).map_err(table_error)?;
        let typed = typed.map_err(|error| ReadError::Mapping {
            path: path.into(),
            line: table.header_line,
            error,
        })?;
        Ok((facts.with_table(table), Some(typed)))
    })?;
    let mut located = match content {
        Content::Text((located, Some(typed))) => {
            return Ok(SourceFile {
                located,
                typed,
                set_aside: Vec::new(),
                profile: plan.profile.clone(),
            });
        }
        Content::Text((located, None)) | Content::Workbook(located) => located,
    };
    let plan = settle(plan, side.name(), &located.table).map_err(|message| ReadError::Guess {
        path: path.into(),
        line: located.table.header_line,
        message,
    })?;
    let sorted =
        status::type_by_status(&mut located.table, side, &plan).map_err(|error| ReadError::Mapping {
            path: path.into(),
            line: located.table.header_line,
            error,
        })?;
    Ok(SourceFile {
        located,
        typed: sorted.typed,
        set_aside: sorted.set_aside,
        profile: plan.profile.clone(),
    })
}
