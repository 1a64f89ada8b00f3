//! `recon run`: arguments, then `run::execute`, then the summary on stdout.

use std::path::PathBuf;

use anyhow::Context;
use chrono::NaiveDate;

use super::{Format, Outcome};
use crate::rules::report::Lang;
use crate::run::{execute, RunRequest};

/// Arguments of `recon run`.
#[derive(Debug, clap::Args)]
#[command(after_long_help = "\
Examples:
  recon run --ledger examples/basic/ledger.csv --bank examples/basic/bank.csv \\
            --rules rules/default.toml --out out/basic
  recon run --ledger L.csv --bank B.csv --rules rules/ --date 2026-11-24 --out out/2026-11-24 --format json

Outputs in --out (replaced as a whole only when the run succeeds):
  matched.csv     match_id, stage, side, line, key, amount, time, merchant, difference, review, review_reason
  unmatched.csv   ... reason (no_counterpart | amount_mismatch | ambiguous), counterpart (side:line)
  duplicates.csv  ... duplicate_of (side:line of the matched row it repeats)
  ignored.csv     ... rows below [thresholds] ignore_below
  rejected.csv    ... rows that could not be read (only with --skip-bad-rows)
  summary.json    counts and sums per output and side, conservation proof, rule and input SHA-256

Exit codes: 0 everything reconciled, 1 reconciled with exceptions, 2 bad input or usage (nothing written).")]
pub struct Args {
    /// The platform ledger export (CSV/TSV in any common encoding)
    #[arg(long, value_name = "FILE")]
    ledger: PathBuf,
    /// The bank or channel statement
    #[arg(long, value_name = "FILE")]
    bank: PathBuf,
    /// A rule file, or a directory of rule versions (the newest effective on --date is used)
    #[arg(long, value_name = "PATH")]
    rules: PathBuf,
    /// Results directory; created, or replaced whole when the run succeeds
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Business date YYYY-MM-DD (chooses the rule version; default today)
    #[arg(long, value_name = "YYYY-MM-DD")]
    date: Option<NaiveDate>,
    /// Set rows that cannot be read aside in rejected.csv instead of stopping
    #[arg(long)]
    skip_bad_rows: bool,
    /// Language of likely_cause and report.html: zh or en (default: the rules' [report] lang, else en)
    #[arg(long, value_name = "zh|en")]
    lang: Option<Lang>,
    /// Also write results.xlsx (sheets Summary, Matched, Unmatched, Duplicates, Ignored, …)
    #[arg(long)]
    xlsx: bool,
    /// Write the rules' [[report.named]] NAME as report-NAME.csv (repeatable)
    #[arg(long, value_name = "NAME")]
    report: Vec<String>,
    /// What to print on stdout: a short text summary, or summary.json
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
}

/// Runs `recon run`.
pub fn run(args: Args) -> anyhow::Result<Outcome> {
    let request = RunRequest {
        ledger: args.ledger,
        bank: args.bank,
        rules: args.rules,
        out: args.out.clone(),
        date: args.date,
        skip_bad_rows: args.skip_bad_rows,
        lang: args.lang,
        reports: args.report,
        xlsx: args.xlsx,
    };
    let outcome = execute(&request).context("reconciliation stopped")?;
    match args.format {
        Format::Text => {
            print!("{}", outcome.summary.to_text());
            for (name, file, rows) in &outcome.reports {
                println!("report   {name}: {rows} row(s) in {file}");
            }
            println!("results  {}", args.out.display());
        }
        Format::Json => print!("{}", String::from_utf8_lossy(&outcome.summary.to_json())),
    }
    Ok(if outcome.exceptions {
        Outcome::Exceptions
    } else {
        Outcome::Clean
    })
}
