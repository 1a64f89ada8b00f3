//! `recon run`: arguments, then `run::execute`, then the summary on stdout.

use std::path::PathBuf;

use anyhow::Context;
use chrono::NaiveDate;

use super::{Format, Outcome};
use crate::crypto::Sm4Key;
use crate::rules::report::Lang;
use crate::run::{execute, RunRequest};

/// Arguments of `recon run`.
#[derive(Debug, clap::Args)]
#[command(after_long_help = "\
Examples:
  recon run --ledger examples/basic/ledger.csv --bank examples/basic/bank.csv \\
            --rules rules/default.toml --out out/basic
  recon run --ledger L.csv --bank B.csv --rules rules/ --date 2026-11-24 \\
            --out out/2026-11-24 --format json
  recon run --ledger L.csv --bank B.csv --rules rules/ --out out/day \\
            --encrypt-key-file results.key
  recon run --ledger L.csv --bank B.csv --rules rules/ --out out/day --lang zh --xlsx
  recon run --ledger L.csv --bank B.csv --rules R.toml --out out/day --report big-exceptions

Nightly at the T+1 cutoff, for yesterday, carrying in the day before's pending rows:
  recon run --ledger L-1125.csv --bank B-1125.csv --rules rules/ --date 2026-11-25 \\
            --carry-in out/2026-11-24/pending.csv --out out/2026-11-25

Business day (--date D; [business] timezone, cutoff and pending_grace in the rules):
  Ledger rows of D, and statement rows from D 00:00 up to the cutoff (e.g. T+1 10:00),
  are reconciled; statement rows after midnight stay with D only when they belong to
  D's payments. Every other row goes to out_of_period.csv. Rows of D's last
  pending_grace with no counterpart go to pending.csv (not an exception); the next
  day's run takes them with --carry-in and reports those still alone as
  no_counterpart_after_grace. Without --date every row is reconciled, none pending.

Outputs in --out (replaced as a whole only when the run succeeds):
  matched.csv        match_id, stage, side, line, key, amount, time, merchant,
                     difference, review, review_reason, likely_cause (rows under review)
  unmatched.csv      ... reason (no_counterpart | amount_mismatch | ambiguous |
                     no_counterpart_after_grace), counterpart (side:line), likely_cause
                     (a guess in words: channel fee, double submission, T+1, ...)
  duplicates.csv     ... duplicate_of (side:line of the matched row it repeats),
                     likely_cause
  ignored.csv        ... rows below [thresholds] ignore_below
  pending.csv        ... reason (awaiting_counterpart), business_date, source_file,
                     source_sha256
  out_of_period.csv  ... reason (other_business_day | already_in_previous_run),
                     business_date
  rejected.csv       ... rows that could not be read (only with --skip-bad-rows)
  summary.json       counts and sums per output and side, conservation proof,
                     rule and input SHA-256
  report.html        one self-contained page: summary, proof, hashes, charts and a
                     sortable, filterable exception table
  results.xlsx       (with --xlsx) the summary and every CSV as typed Excel sheets
  report-NAME.csv    (with --report NAME) a [[report.named]] filtered report
A [report.columns] template in the rules chooses and orders each CSV's columns.
With --carry-in every CSV also has carried_from (the file a carried-in row was first
read from), and references to carried-in rows read carried:ledger:12.

With --encrypt-key-file K (or RECON_KEY_FILE=K), every one of these is written encrypted with
SM4-GCM as NAME.sm4 (matched.csv.sm4, ..., report.html.sm4, summary.json.sm4); plain results
never touch the disk.
Create K with `recon keygen -o K`; read the results with `recon decrypt --dir DIR`. --carry-in
reads encrypted previous results with the same key.

Exit codes: 0 everything reconciled (pending and out-of-period rows are no exceptions),
1 reconciled with exceptions, 2 bad input, usage or key file (nothing written).")]
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
    /// Business day YYYY-MM-DD to reconcile: only its rows (others go to out_of_period.csv);
    /// also chooses the rule version (default: today's, and no day filtering)
    #[arg(long, value_name = "YYYY-MM-DD")]
    date: Option<NaiveDate>,
    /// The previous day's results (DIR or DIR/pending.csv): carry its pending rows into this run
    #[arg(long, value_name = "PATH")]
    carry_in: Option<PathBuf>,
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
    /// Encrypt every result file with the SM4 key in this file (owner-only, from `recon keygen`)
    #[arg(long, value_name = "KEY_FILE", env = "RECON_KEY_FILE")]
    encrypt_key_file: Option<PathBuf>,
}

/// Runs `recon run`.
pub fn run(args: Args) -> anyhow::Result<Outcome> {
    let encryption = match &args.encrypt_key_file {
        Some(path) => Some(Sm4Key::load(path).context("cannot encrypt the results; nothing was written")?),
        None => None,
    };
    let request = RunRequest {
        ledger: args.ledger,
        bank: args.bank,
        rules: args.rules,
        out: args.out.clone(),
        date: args.date,
        carry_in: args.carry_in,
        skip_bad_rows: args.skip_bad_rows,
        lang: args.lang,
        reports: args.report,
        xlsx: args.xlsx,
        encryption,
    };
    let outcome = execute(&request).context("reconciliation stopped")?;
    match args.format {
        Format::Text => {
            print!("{}", outcome.summary.to_text());
            for (name, file, rows) in &outcome.reports {
                println!("report   {name}: {rows} row(s) in {file}");
            }
            match &outcome.key_id {
                Some(id) => println!(
                    "results  {} (encrypted: SM4-GCM, key id {id})",
                    args.out.display()
                ),
                None => println!("results  {}", args.out.display()),
            }
        }
        Format::Json => print!("{}", String::from_utf8_lossy(&outcome.summary.to_json())),
    }
    Ok(if outcome.exceptions {
        Outcome::Exceptions
    } else {
        Outcome::Clean
    })
}
