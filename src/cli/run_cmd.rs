//! `recon run`: arguments, then `run::execute`, then the summary on stdout.

use std::path::PathBuf;

use anyhow::Context;
use chrono::NaiveDate;

use super::{Format, Outcome};
use crate::run::{execute, RunRequest};

/// Arguments of `recon run`.
#[derive(Debug, clap::Args)]
#[command(after_long_help = "\
Examples:
  recon run --ledger examples/basic/ledger.csv --bank examples/basic/bank.csv \\
            --rules rules/default.toml --out out/basic
  recon run --ledger L.csv --bank B.csv --rules rules/ --date 2026-11-24 --out out/2026-11-24 --format json
  recon run --ledger L.csv --bank alipay.csv --bank-profile alipay --rules rules/mine.toml --out out/alipay

The bank file may be CSV/TSV in any common encoding, or an .xlsx/.xls workbook (first sheet with
data). A built-in profile (`recon rules profiles` lists them) reads Alipay and WeChat Pay bills and
the big banks' exports without a column mapping; rows whose status is closed or failed
(交易关闭, REVOKED, ...) go to ignored.csv with reason status_ignored (STATUS).

Outputs in --out (replaced as a whole only when the run succeeds):
  matched.csv     match_id, stage, side, line, key, amount, time, merchant, difference, review, review_reason
  unmatched.csv   ... reason (no_counterpart | amount_mismatch | ambiguous), counterpart (side:line)
  duplicates.csv  ... duplicate_of (side:line of the matched row it repeats)
  ignored.csv     ... reason: below_ignore_threshold (LIMIT) or status_ignored (STATUS)
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
    /// Read the ledger with a built-in profile instead of the rule file's [ledger] section
    #[arg(long, value_name = "NAME")]
    ledger_profile: Option<String>,
    /// Read the bank file with a built-in profile (alipay, wechat-merchant, icbc-debit, …) instead of the rule file's [bank] section
    #[arg(long, value_name = "NAME")]
    bank_profile: Option<String>,
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
        ledger_profile: args.ledger_profile,
        bank_profile: args.bank_profile,
    };
    let outcome = execute(&request).context("reconciliation stopped")?;
    match args.format {
        Format::Text => {
            print!("{}", outcome.summary.to_text());
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
