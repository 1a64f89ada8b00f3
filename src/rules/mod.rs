//! Rule files: the TOML schema (`schema`), its checked form (`plan`), the
//! built-in reading profiles (`profiles`), drafting a first rule file from
//! two data files (`init`), the business calendar (`business`), and loading
//! one file or choosing the effective version from a directory.

pub mod business;
pub mod cases;
pub mod filter;
pub mod init;
pub mod plan;
pub mod profiles;
pub mod report;
pub mod roles;
pub mod schema;

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use sha2::{Digest, Sha256};
use thiserror::Error;

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
    /// A setting is impossible, at this position of the rule file.
    #[error("{path}:{line}:{column}: {message}")]
    At {
        /// The rule file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// The TOML is well formed but the settings are impossible.
    #[error("{path}: {message}")]
    Invalid {
        /// The rule file.
        path: PathBuf,
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
    let text = std::str::from_utf8(&bytes).map_err(|e| RulesError::Invalid {
        path: path.into(),
        message: format!(
            "rule files must be UTF-8 (invalid byte at offset {})",
            e.valid_up_to()
        ),
    })?;
    let file: schema::RuleFile = toml::from_str(text).map_err(|e| toml_error(path, text, &e))?;
    let sha = hex(&Sha256::digest(&bytes));
    let mut plan =
        plan::build(&file, &path.display().to_string(), &sha).map_err(|message| RulesError::Invalid {
            path: path.into(),
            message,
        })?;
    plan.roles = roles::build(file.roles.as_ref(), &roles::maskable_columns(&plan)).map_err(|e| {
        let (line, column) = line_column(text, e.span.start);
        RulesError::At {
            path: path.into(),
            line,
            column,
            message: e.message,
        }
    })?;
    let carried: Vec<String> = plan
        .ledger
        .columns
        .carry
        .iter()
        .chain(&plan.bank.columns.carry)
        .cloned()
        .collect();
    plan.report = report::build(&file.report, &carried, text).map_err(|e| {
        let (line, column) = line_column(text, e.span.start);
        RulesError::At {
            path: path.into(),
            line,
            column,
            message: e.message,
        }
    })?;
    Ok(plan)
}

fn toml_error(path: &Path, text: &str, error: &toml::de::Error) -> RulesError {
    let (line, column) = line_column(text, error.span().map_or(0, |s| s.start));
    RulesError::Toml {
        path: path.into(),
        line,
        column,
        message: error.message().trim().to_string(),
    }
}

/// 1-based line and character column of a byte offset.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
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

/// Lowercase hex of a digest.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}
