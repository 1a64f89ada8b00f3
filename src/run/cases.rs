//! Rule regression cases for `recon rules test`: a folder with ledger.csv,
//! bank.csv, rules.toml and expected/*.csv, and optionally case.toml holding
//! `date = YYYY-MM-DD` (the run's `--date`); the rules must reproduce the
//! expected result files byte for byte.

use std::fs;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;

use super::{execute, RunRequest};
use crate::rules::{self, plan::RuleIdentity};

/// The outcome of one case.
#[derive(Debug)]
pub struct CaseResult {
    /// The case folder's name.
    pub name: String,
    /// What differed; empty when the case passed.
    pub failures: Vec<String>,
    /// The case's rules, when they could be loaded.
    pub rules: Option<RuleIdentity>,
}

/// Runs `dir` as one case when it holds rules.toml, else every case folder
/// inside it; `run_id` names the runs in their summaries.
pub fn run_all(dir: &Path, run_id: &str) -> std::io::Result<Vec<CaseResult>> {
    if dir.join("rules.toml").is_file() {
        return Ok(vec![run_case(dir, run_id)?]);
    }
    let mut folders: Vec<PathBuf> = fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("rules.toml").is_file())
        .collect();
    folders.sort();
    if folders.is_empty() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            "no case folders (folders holding rules.toml, ledger.csv, bank.csv, expected/)",
        ));
    }
    folders.iter().map(|f| run_case(f, run_id)).collect()
}

fn run_case(dir: &Path, run_id: &str) -> std::io::Result<CaseResult> {
    let name = dir
        .file_name()
        .map_or_else(|| dir.display().to_string(), |n| n.to_string_lossy().into_owned());
    let date = match case_date(dir) {
        Ok(date) => date,
        Err(message) => {
            return Ok(CaseResult {
                name,
                failures: vec![message],
                rules: None,
            })
        }
    };
    let scratch = tempfile::tempdir()?;
    let out = scratch.path().join("out");
    let request = RunRequest {
        ledger: dir.join("ledger.csv"),
        bank: dir.join("bank.csv"),
        rules: dir.join("rules.toml"),
        out: out.clone(),
        date,
        carry_in: None,
        skip_bad_rows: false,
        lang: None,
        reports: Vec::new(),
        xlsx: false,
        ledger_profile: None,
        bank_profile: None,
        encryption: None,
        role: None,
        run_id: run_id.to_string(),
        confirmations: Vec::new(),
        allow_gap: false,
        progress: false,
        wait: true,
        resolutions: Vec::new(),
        part: None,
    };
    let rules = match execute(&request) {
        Ok(outcome) => Some(outcome.summary.rules),
        Err(e) => {
            return Ok(CaseResult {
                name,
                failures: vec![format!("the run failed: {e}")],
                rules: rules::load_file(&request.rules).ok().map(|p| p.identity),
            })
        }
    };
    let expected_dir = dir.join("expected");
    let mut expected: Vec<PathBuf> = fs::read_dir(&expected_dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "csv"))
        .collect();
    expected.sort();
    if expected.is_empty() {
        return Ok(CaseResult {
            name,
            failures: vec![format!("{}: no expected .csv files", expected_dir.display())],
            rules,
        });
    }
    let failures = expected.iter().filter_map(|e| compare(e, &out)).collect();
    Ok(CaseResult {
        name,
        failures,
        rules,
    })
}

/// A case's settings beside its inputs.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseSettings {
    /// The business date to reconcile, as with `recon run --date`.
    date: Option<toml::value::Datetime>,
}

/// The `date` of the case's case.toml, if it has one.
fn case_date(dir: &Path) -> Result<Option<NaiveDate>, String> {
    let path = dir.join("case.toml");
    if !path.is_file() {
        return Ok(None);
    }
    let text = fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let settings: CaseSettings =
        toml::from_str(&text).map_err(|e| format!("{}: {}", path.display(), e.message()))?;
    settings
        .date
        .map(|d| {
            d.to_string()
                .parse()
                .map_err(|_| format!("{}: date must be a date such as 2026-11-24", path.display()))
        })
        .transpose()
}

/// Compares one expected file with the produced one; `None` when equal.
fn compare(expected: &Path, out: &Path) -> Option<String> {
    let file = expected.file_name()?.to_string_lossy().into_owned();
    let want = fs::read_to_string(expected).ok()?;
    let Ok(got) = fs::read_to_string(out.join(&file)) else {
        return Some(format!("{file}: not produced"));
    };
    if want == got {
        return None;
    }
    let (w, g): (Vec<&str>, Vec<&str>) = (want.lines().collect(), got.lines().collect());
    let at = (0..w.len().max(g.len()))
        .find(|&i| w.get(i) != g.get(i))
        .unwrap_or(0);
    Some(format!(
        "{file}: line {} differs\n        expected: {}\n        got:      {}",
        at + 1,
        w.get(at).unwrap_or(&"<end of file>"),
        g.get(at).unwrap_or(&"<end of file>")
    ))
}
