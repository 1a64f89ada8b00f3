//! `recon rules check` and `recon rules test`.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};

use super::Outcome;
use crate::rules;
use crate::rules::cases::{self, CaseResult};

/// Subcommands of `recon rules`.
#[derive(Debug, clap::Subcommand)]
#[command(after_help = "\
Examples:
  recon rules check rules/default.toml     validate one rule file
  recon rules check rules/                 validate every version in a directory
  recon rules test examples                run the shipped regression cases

Exit codes: 0 valid rules / all cases pass, 1 a case failed, 2 invalid rules or no cases.")]
pub enum Command {
    /// Validate a rule file, or every version in a directory
    #[command(after_long_help = "\
Checks TOML syntax (errors as FILE:LINE:COL), unknown keys, types, and impossible settings:
ignore_below at or above review_above, a window that starts after it ends, no stages, two
stages with one name, settings that do not apply to a stage's kind, and more. With a
directory, checks every version and lists them by effective date (no two may share one).

Examples:
  recon rules check rules/default.toml
  recon rules check rules/

Exit codes: 0 valid, 2 invalid (the message says where and why).")]
    Check {
        /// A rule file or a directory of rule files
        path: PathBuf,
    },
    /// Run rule regression cases (ledger.csv, bank.csv, rules.toml, expected/*.csv)
    #[command(after_long_help = "\
A case is a folder with ledger.csv, bank.csv, rules.toml and expected/ holding the result
CSVs (matched.csv, unmatched.csv, duplicates.csv, ignored.csv, pending.csv, out_of_period.csv)
the rules must produce, byte for byte; only the expected files present are compared. An
optional case.toml with `date = 2026-11-24` runs the case for that business day, as
`recon run --date` does. DIR is a case, or a folder of cases.

Examples:
  recon rules test examples                  every shipped case
  recon rules test examples/thresholds       one case

Exit codes: 0 all cases pass, 1 a case failed (its first differing line is shown),
            2 DIR holds no cases or cannot be read.")]
    Test {
        /// A case folder, or a folder of case folders
        dir: PathBuf,
    },
}

/// Runs a `recon rules` subcommand.
pub fn run(command: Command) -> anyhow::Result<Outcome> {
    match command {
        Command::Check { path } => check(&path),
        Command::Test { dir } => test(&dir),
    }
}

fn check(path: &Path) -> anyhow::Result<Outcome> {
    let plans = if path.is_dir() {
        rules::load_versions(path)?
    } else {
        vec![rules::load_file(path)?]
    };
    if plans.is_empty() {
        bail!("{}: no .toml rule files in this directory", path.display());
    }
    for plan in &plans {
        let id = &plan.identity;
        println!(
            "ok  {}  {} {}  effective from {}  {} stage(s)  sha256 {}",
            id.path,
            id.name,
            id.version,
            id.effective_from,
            plan.stages.len(),
            id.sha256
        );
    }
    Ok(Outcome::Clean)
}

fn test(dir: &Path) -> anyhow::Result<Outcome> {
    let results = cases::run_all(dir).with_context(|| format!("{}: cannot run the cases", dir.display()))?;
    let mut failed = 0;
    for CaseResult { name, failures } in &results {
        if failures.is_empty() {
            println!("pass  {name}");
        } else {
            failed += 1;
            println!("FAIL  {name}");
            for f in failures {
                println!("      {f}");
            }
        }
    }
    println!("{} passed, {} failed", results.len() - failed, failed);
    Ok(if failed == 0 {
        Outcome::Clean
    } else {
        Outcome::Exceptions
    })
}
