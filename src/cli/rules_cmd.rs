//! `recon rules check` and `recon rules test`.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};

use super::Outcome;
use crate::rules;
use crate::rules::cases::{self, CaseResult};

/// Subcommands of `recon rules`.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Validate a rule file, or every version in a directory
    #[command(after_long_help = "\
Checks TOML syntax (errors as FILE:LINE:COL), unknown keys, types, and impossible settings
(e.g. ignore_below above review_above), and the [report] section: unknown columns in
templates and named reports, and filters that do not parse (FILE:LINE:COL pointing into the
filter text). With a directory, lists every version by effective date. Column templates and
named reports are listed under each file.")]
    Check {
        /// A rule file or a directory of rule files
        path: PathBuf,
    },
    /// Run regression cases: each case folder holds ledger.csv, bank.csv, rules.toml and expected/*.csv
    #[command(after_long_help = "\
A case is a folder with ledger.csv, bank.csv, rules.toml and expected/ holding the result CSVs
(matched.csv, unmatched.csv, duplicates.csv, ignored.csv, pending.csv, out_of_period.csv) the rules
must produce, byte for byte. An optional case.toml with `date = 2026-11-24` runs the case for that
business day, as `recon run --date` does.
DIR is a case, or a folder of cases. Exit 0 when all pass, 1 when any fails.")]
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
        for (kind, columns) in &plan.report.templates {
            println!("    columns {}: {}", kind.file(), columns.join(", "));
        }
        for n in &plan.report.named {
            let from: Vec<&str> = n.from.iter().map(|k| k.name()).collect();
            let filter = if n.filter_text.is_empty() {
                String::new()
            } else {
                format!(" where {}", n.filter_text)
            };
            println!(
                "    report {} (--report {}): rows of {}{filter}",
                n.name,
                n.name,
                from.join(", ")
            );
        }
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
