//! Rule files: the TOML schema (`schema`), its checked form (`plan`), the
//! built-in reading profiles (`profiles`), inspecting a file for `recon
//! check` (`inspect`), drafting a first rule file from two data files
//! (`init`), the business calendar (`business`), and loading one file or
//! choosing the effective version from a directory. How one file is read
//! (`input::plan`) sits below: `rules` uses `input`, never the reverse.

pub mod business;
pub mod fees;
pub mod filter;
pub mod init;
pub mod inspect;
pub mod partition;
pub mod plan;
pub mod profiles;
pub mod report;
pub mod resolution;
pub mod roles;
pub mod schema;
mod streamed;

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use thiserror::Error;

use crate::digest::sha256_hex;

pub use plan::Plan;

/// Why rules could not be loaded.
#[derive(Debug, Error)]
pub enum RulesError {
    /// The file or directory could not be read.
    #[error("{path}: cannot read rules: {source}")]
    Io {
        /// What was read.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The TOML is malformed, has unknown keys or wrong types.
    #[error("{path}:{line}:{column}: {message}")]
    Toml {
        /// The rule file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What the TOML reader said.
        message: String,
    },
    /// The TOML is well formed but the settings are impossible.
    #[error("{path}:{line}:{column}: {message}")]
    Invalid {
        /// The rule file.
        path: PathBuf,
        /// 1-based line of the key the message is about (or of its table).
        line: usize,
        /// 1-based column, in characters.
        column: usize,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// No version in a directory is effective on the date.
    #[error("{dir}: no rule file is effective on {date} (the earliest effective_from is later, or the directory has no .toml files)")]
    NoneEffective {
        /// The rules directory.
        dir: PathBuf,
        /// The business date.
        date: NaiveDate,
    },
    /// Two versions in a directory start on the same date.
    #[error("{first} and {second} are both effective from {date}: give one a later effective_from or move it out of the directory")]
    SameDate {
        /// One file.
        first: PathBuf,
        /// The other.
        second: PathBuf,
        /// Their shared date.
        date: NaiveDate,
    },
}

/// Loads `path`: a rule file, or a directory whose newest version effective on `date` is used.
pub fn load(path: &Path, date: NaiveDate) -> Result<Plan, RulesError> {
    if path.is_dir() {
        load_effective(path, date)
    } else {
        load_file(path)
    }
}

/// Loads and checks one rule file.
pub fn load_file(path: &Path) -> Result<Plan, RulesError> {
    let bytes = std::fs::read(path).map_err(|source| RulesError::Io {
        path: path.into(),
        source,
    })?;
    let text = std::str::from_utf8(&bytes).map_err(|e| {
        let valid = String::from_utf8_lossy(&bytes[..e.valid_up_to()]);
        invalid_at(
            path,
            &valid,
            valid.len(),
            "this byte is not UTF-8: rule files must be saved as UTF-8 (re-save the file as UTF-8)"
                .to_string(),
        )
    })?;
    let file: schema::RuleFile = toml::from_str(text).map_err(|e| toml_error(path, text, &e))?;
    let sha = sha256_hex(&bytes);
    let mut plan = plan::build(&file, &path.display().to_string(), &sha)
        .map_err(|invalid| invalid_at(path, text, key_offset(text, &invalid.key), invalid.message))?;
    plan.roles = roles::build(file.roles.as_ref(), &roles::maskable_columns(&plan))
        .map_err(|e| invalid_at(path, text, e.span.start, e.message))?;
    let mut carried: Vec<String> = plan
        .ledger
        .columns
        .carry
        .iter()
        .chain(&plan.bank.columns.carry)
        .cloned()
        .collect();
    if plan
        .stages
        .iter()
        .any(|s| matches!(s, plan::StagePlan::Batch { .. }))
    {
        // matched.csv's batch column, for templates and named reports.
        carried.push(report::GROUP_NET_COLUMN.to_string());
    }
    plan.report = report::build(&file.report, &carried, text)
        .map_err(|e| invalid_at(path, text, e.span.start, e.message))?;
    Ok(plan)
}

/// A rule file mistake at byte `offset` of its text, placed by line and column.
fn invalid_at(path: &Path, text: &str, offset: usize, message: String) -> RulesError {
    let (line, column) = line_and_column(text, offset);
    RulesError::Invalid {
        path: path.into(),
        line,
        column,
        message,
    }
}

fn toml_error(path: &Path, text: &str, error: &toml::de::Error) -> RulesError {
    let (line, column) = line_and_column(text, error.span().map_or(0, |s| s.start));
    RulesError::Toml {
        path: path.into(),
        line,
        column,
        message: advise(error.message().trim()),
    }
}

/// The TOML reader's message in an accountant's words, with what to do.
fn advise(message: &str) -> String {
    let mut text = message.to_string();
    for (rust, plain) in [
        ("expected usize", "expected a whole number"),
        ("expected u32", "expected a whole number"),
        ("expected u64", "expected a whole number"),
        ("expected a sequence", "expected a list such as [\"a\", \"b\"]"),
    ] {
        text = text.replace(rust, plain);
    }
    if text.starts_with("unknown field") {
        text.push_str("; correct the key's spelling or remove it (rules/default.toml explains every key)");
    } else if text.starts_with("invalid type") || text.starts_with("missing field") {
        text.push_str("; fix this setting (rules/default.toml explains every key)");
    }
    text
}

/// 1-based line and character column of byte `offset` in `text`.
fn line_and_column(text: &str, offset: usize) -> (usize, usize) {
    let mut end = offset.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let before = &text[..end];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// Byte offset of the key at dotted `path` (`stage.3.window`: numbers index
/// arrays of tables) in the rule file's text; when the key is not written
/// down (a default, or a setting from a profile), the offset of the nearest
/// enclosing table that is, else 0.
fn key_offset(text: &str, path: &str) -> usize {
    use toml_edit::Item;
    let Ok(doc) = toml_edit::ImDocument::parse(text) else {
        return 0;
    };
    let mut table = doc.as_table();
    let mut offset = 0;
    let mut segments = path.split('.').peekable();
    while let Some(name) = segments.next() {
        let Some((key, item)) = table.get_key_value(name) else {
            break;
        };
        let span = match item {
            Item::Table(t) => t.span(),
            _ => None,
        };
        offset = span.or_else(|| key.span()).map_or(offset, |s| s.start);
        table = match item {
            Item::Table(t) => t,
            Item::ArrayOfTables(array) => {
                let Some(t) = segments
                    .next()
                    .and_then(|i| i.parse().ok())
                    .and_then(|i| array.get(i))
                else {
                    break;
                };
                offset = t.span().map_or(offset, |s| s.start);
                t
            }
            _ => break,
        };
    }
    offset
}

/// Every `.toml` file directly in `dir`, loaded, sorted by effective date.
pub fn load_versions(dir: &Path) -> Result<Vec<Plan>, RulesError> {
    let entries = std::fs::read_dir(dir).map_err(|source| RulesError::Io {
        path: dir.into(),
        source,
    })?;
    let mut paths = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|source| RulesError::Io {
            path: dir.into(),
            source,
        })?;
        let p = entry.path();
        if p.is_file() && p.extension().is_some_and(|e| e == "toml") {
            paths.push(p);
        }
    }
    paths.sort();
    let mut plans = paths
        .iter()
        .map(|p| load_file(p))
        .collect::<Result<Vec<_>, _>>()?;
    plans.sort_by_key(|p| p.identity.effective_from);
    for pair in plans.windows(2) {
        if pair[0].identity.effective_from == pair[1].identity.effective_from {
            return Err(RulesError::SameDate {
                first: pair[0].identity.path.clone().into(),
                second: pair[1].identity.path.clone().into(),
                date: pair[0].identity.effective_from,
            });
        }
    }
    Ok(plans)
}

fn load_effective(dir: &Path, date: NaiveDate) -> Result<Plan, RulesError> {
    load_versions(dir)?
        .into_iter()
        .rev()
        .find(|p| p.identity.effective_from <= date)
        .ok_or_else(|| RulesError::NoneEffective {
            dir: dir.into(),
            date,
        })
}
