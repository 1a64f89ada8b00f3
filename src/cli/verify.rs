//! `recon verify DIR`: prove a results directory is what its run published.
//! Every file's SHA-256 is recomputed and compared with the audit log's
//! `published` line of the run summary.json names, and summary.json's mark
//! of the run's `started` line is compared with the log, which catches a log
//! cut short or replaced.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context};
use serde_json::Value;

use super::{acting, Outcome};
use crate::audit::{self, chain::Line};
use crate::digest::sha256_hex;

/// Arguments of `recon verify`.
#[derive(Debug, clap::Args)]
#[command(after_long_help = "\
Checks, for the run that wrote DIR (its summary.json run_id):
  - every file in DIR has the SHA-256 the audit log's `published` line of that run records,
    and no file is missing or added;
  - the audit log still holds the run's `started` line where summary.json says (line number
    and SHA-256): a log cut short or rebuilt from scratch is caught;
  - the audit log's hash chain is intact.

Examples:
  recon verify /data/recon/2026-11-24
  recon verify out/day --audit /var/log/recon/audit.log

When the rules enforce roles (a role names users or groups), only a user holding a role whose
may lists verify may verify; the rules are --rules, else the file summary.json names. A
refusal is recorded in the audit log.

Exit codes: 0 everything agrees, 1 something differs (each difference is named),
            2 DIR or the audit log cannot be read, or the user may not verify.")]
pub struct Args {
    /// A results directory written by `recon run`
    dir: PathBuf,
    /// The audit log [default: the one summary.json names, else DIR/../audit.log]
    #[arg(long, value_name = "FILE")]
    audit: Option<PathBuf>,
    #[command(flatten)]
    acting: acting::VerifyAs,
}

/// Runs `recon verify`.
pub fn run(args: Args) -> anyhow::Result<Outcome> {
    let dir = &args.dir;
    let summary_path = dir.join("summary.json");
    if !summary_path.exists() && dir.join("summary.json.sm4").exists() {
        return Err(anyhow!(
            "{}: the results are encrypted; decrypt a copy with `recon decrypt` and verify that",
            dir.display()
        ));
    }
    let bytes = std::fs::read(&summary_path).with_context(|| {
        format!(
            "{}: cannot read: not a recon results directory?",
            summary_path.display()
        )
    })?;
    let summary: Value = serde_json::from_slice(&bytes)
        .with_context(|| format!("{}: not a recon summary.json", summary_path.display()))?;
    let run_id = summary["run_id"]
        .as_str()
        .ok_or_else(|| anyhow!("{}: has no run_id", summary_path.display()))?;
    let log_path = args
        .audit
        .clone()
        .or_else(|| summary["audit_log"].as_str().map(PathBuf::from))
        .unwrap_or_else(|| audit::beside_results(dir));
    let recorded = summary["rules"]["path"].as_str().map(|p| {
        (
            PathBuf::from(p),
            summary["business_date"].as_str().map(String::from),
        )
    });
    args.acting.check(recorded, &log_path)?;
    let contents = audit::chain::read(&log_path).context("cannot read the audit log")?;
    let mut problems = Vec::new();
    if let Some(p) = &contents.verification.problem {
        problems.push(format!(
            "the audit log {} is broken at line {}: {}",
            log_path.display(),
            p.line,
            p.message
        ));
    }
    let started = started_line(&summary, &contents, &mut problems);
    if let Some(started) = started {
        for side in ["ledger", "bank"] {
            let logged = &started.entry["inputs"][side]["sha256"];
            if logged != &summary["inputs"][side]["sha256"] {
                problems.push(format!(
                    "summary.json's {side} sha256 differs from the started line's ({logged})"
                ));
            }
        }
    }
    let published = contents
        .entries
        .iter()
        .rev()
        .find(|l| l.entry["run_id"] == run_id && l.entry["event"] == "published");
    let mut checked = 0;
    match published {
        None => problems.push(format!(
            "run {run_id} has no published line in {}: its results were never recorded as published",
            log_path.display()
        )),
        Some(line) => checked = compare_files(dir, line, &mut problems)?,
    }
    if problems.is_empty() {
        outln!(
            "ok  {}: {checked} file(s) match run {run_id} as published at {}:{}",
            dir.display(),
            log_path.display(),
            published.map_or(0, |l| l.number)
        )?;
        return Ok(Outcome::Clean);
    }
    for p in &problems {
        outln!("DIFFERS  {}: {p}", dir.display())?;
    }
    Ok(Outcome::Exceptions)
}

/// The run's `started` line, when the log still holds it as summary.json names it.
fn started_line<'c>(
    summary: &Value,
    contents: &'c audit::Contents,
    problems: &mut Vec<String>,
) -> Option<&'c Line> {
    let (Some(number), Some(sha256)) = (
        summary["audit_started_line"].as_u64(),
        summary["audit_started_sha256"].as_str(),
    ) else {
        problems.push("summary.json names no audit log line (written by an older recon)".into());
        return None;
    };
    if contents.verification.lines < number {
        problems.push(format!(
            "the audit log was cut short: it has {} line(s), but this run's started line is line {number}",
            contents.verification.lines
        ));
        return None;
    }
    match contents.entries.iter().find(|l| l.number == number) {
        Some(line) if sha256_hex(line.text.as_bytes()) == sha256 => Some(line),
        _ => {
            problems.push(format!(
                "line {number} of the audit log is not this run's started line (its sha256 differs): the log was replaced or rebuilt"
            ));
            None
        }
    }
}

/// Compares the files in `dir` with the published line's outputs; returns
/// how many files were checked. Differences go to `problems`.
fn compare_files(dir: &Path, line: &Line, problems: &mut Vec<String>) -> anyhow::Result<usize> {
    let recorded: BTreeMap<String, String> = line.entry["outputs"]
        .as_object()
        .map(|o| {
            o.iter()
                .filter_map(|(name, d)| Some((name.clone(), d["sha256"].as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default();
    let mut present = BTreeMap::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("{}: cannot list", dir.display()))? {
        let entry = entry.with_context(|| format!("{}: cannot list", dir.display()))?;
        let path = entry.path();
        if path.is_file() {
            let bytes = std::fs::read(&path).with_context(|| format!("{}: cannot read", path.display()))?;
            present.insert(
                entry.file_name().to_string_lossy().into_owned(),
                sha256_hex(&bytes),
            );
        }
    }
    for (name, sha256) in &recorded {
        match present.get(name) {
            None => problems.push(format!("{name} is missing")),
            Some(found) if found != sha256 => problems.push(format!(
                "{name} changed since the run published it (sha256 {found}, recorded {sha256} at audit line {})",
                line.number
            )),
            Some(_) => {}
        }
    }
    for name in present.keys().filter(|n| !recorded.contains_key(*n)) {
        problems.push(format!("{name} is not one of the files the run published"));
    }
    Ok(present.len())
}
