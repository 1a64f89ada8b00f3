//! `recon rules check`, `test`, `init` and `profiles`.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};

use super::Outcome;
use crate::output::atomic::replace_file;
use crate::rules::cases::{self, CaseResult};
use crate::rules::{self, profiles};

/// Subcommands of `recon rules`.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Validate a rule file, or every version in a directory
    #[command(after_long_help = "\
Checks TOML syntax (errors as FILE:LINE:COL), unknown keys, types, and impossible settings
(e.g. ignore_below above review_above). With a directory, lists every version by effective date.")]
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
    /// Draft a starting rule file from a ledger and a bank file
    #[command(after_long_help = "\
Reads both files (any encoding, CSV or .xlsx/.xls) and writes a rule file that `recon run`
accepts for them, with a comment on every choice:
  - the detected encoding and delimiter, and the header line found;
  - a built-in profile when the whole header of one is there (recon rules profiles), else the
    column roles (key, amount or debit/credit, direction, time, merchant) guessed from header
    names in Chinese and English and from the values;
  - the key columns, ranked by how many values the two files share (the top 5 pairs are listed);
  - the time offset between rows sharing a key, and the bank time zone it suggests
    (a bank writing UTC next to a Beijing-time ledger gets timezone = \"UTC\");
  - match stages: key, split, and a fallback on amount and time (and merchant, when the
    merchant columns share values).
An existing file is never overwritten unless --force is given.

Examples:
  recon rules init --ledger ledger.csv --bank alipay.csv -o rules/mine.toml
  recon rules init --ledger L.csv --bank statement.xlsx -o rules/bank.toml --force

Exit codes: 0 written, 2 a file could not be read, no amount column was found, or OUT exists.")]
    Init {
        /// The platform ledger export
        #[arg(long, value_name = "FILE")]
        ledger: PathBuf,
        /// The bank or channel statement
        #[arg(long, value_name = "FILE")]
        bank: PathBuf,
        /// Where to write the rule file
        #[arg(short, long, value_name = "OUT")]
        output: PathBuf,
        /// Replace OUT if it exists
        #[arg(long)]
        force: bool,
    },
    /// List the built-in profiles, or print one
    #[command(after_long_help = "\
Profiles read the files everyone has without a column mapping: Alipay and WeChat Pay bills
(personal and merchant), the big banks' statement exports, and a generic bank CSV whose
columns are guessed. Use one with `profile = \"NAME\"` in a rule file's [ledger] or [bank]
section (the section's own keys win), with `recon run --bank-profile NAME`, or with
`recon check FILE --profile NAME` (`--profile auto` picks the recognised one).

Examples:
  recon rules profiles
  recon rules profiles wechat-merchant")]
    Profiles {
        /// Print this profile's TOML
        name: Option<String>,
    },
}

/// Runs a `recon rules` subcommand.
pub fn run(command: Command) -> anyhow::Result<Outcome> {
    match command {
        Command::Check { path } => check(&path),
        Command::Test { dir } => test(&dir),
        Command::Init {
            ledger,
            bank,
            output,
            force,
        } => init(&ledger, &bank, &output, force),
        Command::Profiles { name } => list_profiles(name.as_deref()),
    }
}

fn init(ledger: &Path, bank: &Path, output: &Path, force: bool) -> anyhow::Result<Outcome> {
    if output.exists() && !force {
        bail!(
            "{}: already exists; recon rules init never overwrites a rule file unless --force is given",
            output.display()
        );
    }
    let name = output
        .file_stem()
        .map_or_else(|| "drafted".to_string(), |s| s.to_string_lossy().into_owned());
    let today = chrono::Local::now().date_naive();
    let draft = rules::init::draft(ledger, bank, &name, today)?;
    replace_file(output, draft.text.as_bytes())?;
    for note in &draft.notes {
        println!("{note}");
    }
    println!("wrote {}", output.display());
    Ok(Outcome::Clean)
}

fn list_profiles(name: Option<&str>) -> anyhow::Result<Outcome> {
    if let Some(name) = name {
        print!("{}", profiles::find(name).map_err(anyhow::Error::msg)?.source);
        return Ok(Outcome::Clean);
    }
    for p in profiles::all().map_err(anyhow::Error::msg)? {
        println!("{:<24}{}", p.name, p.title);
        println!("{:<24}evidence: {}", "", p.evidence);
    }
    Ok(Outcome::Clean)
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
