//! `recon split`: cut a day into partitions for `recon run --part` and `recon merge`.

use std::path::PathBuf;

use super::date_arg::{self, DateArg};
use super::Outcome;
use crate::partition::split::{split, SplitRequest};

/// Arguments of `recon split`.
#[derive(Debug, clap::Args)]
#[command(after_long_help = "\
Examples:
  Cut a day into 8 partitions, run each (anywhere, in any order), then merge:
    recon split --ledger L.csv --bank B.csv --rules rules/ --date 2026-11-24 --parts 8 --out parts
    recon run --part parts/part-0001 --rules rules/ --out parts/part-0001/results
    ...
    recon merge parts --out out/2026-11-24

Both files are read once and every row goes to the partition of its merchant (when a
fallback or batch stage pairs rows by merchant) or of its key; `recon rules check` says
which, or why the rules cannot be partitioned. A partition (part-0001/ …) holds the rows
as they are in the original files, a line map giving each line its original number, and
manifest.json naming the original inputs and their SHA-256, the rules, the date and N.
Workbooks and UTF-16 files are refused: write them as CSV first with `recon convert`.
A nightly day's pending rows are carried in by the partition runs, not by split: give
every `recon run --part` the same --carry-in (each takes its partition's share).
See docs/partitions.md.

Exit codes: 0 split written; 2 bad input, rules that cannot be partitioned, or a run
of the whole day would refuse the inputs (no row in --date's day, identical files,
bad rows without --skip-bad-rows); nothing written.")]
pub struct Args {
    /// The platform ledger export
    #[arg(long, value_name = "FILE")]
    ledger: PathBuf,
    /// The bank or channel statement
    #[arg(long, value_name = "FILE")]
    bank: PathBuf,
    /// A rule file, or a directory of rule versions (the newest effective on --date is used)
    #[arg(long, value_name = "PATH")]
    rules: PathBuf,
    /// How many partitions
    #[arg(long, value_name = "N")]
    parts: usize,
    /// Business day (as `recon run --date`); recorded in every partition's manifest
    #[arg(long, value_name = "DATE", value_parser = date_arg::parse)]
    date: Option<DateArg>,
    /// The directory to create for the partitions (part-0001/ …)
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Put unreadable rows into the first partition (run it with --skip-bad-rows) instead of stopping
    #[arg(long)]
    skip_bad_rows: bool,
    /// Print nothing but errors
    #[arg(long, short)]
    quiet: bool,
}

/// Runs `recon split`.
pub fn run(args: Args) -> anyhow::Result<Outcome> {
    let date = args.date.map(|d| d.resolve(&args.rules).date);
    let outcome = split(&SplitRequest {
        ledger: args.ledger,
        bank: args.bank,
        rules: args.rules,
        date,
        parts: args.parts,
        out: args.out,
        skip_bad_rows: args.skip_bad_rows,
    })
    .map_err(|e| e.context("nothing was split"))?;
    if !args.quiet {
        outln!("partitioned by {}", outcome.key.name())?;
        for (dir, [ledger, bank]) in outcome.dirs.iter().zip(&outcome.rows) {
            outln!("{}  ledger {ledger} row(s), bank {bank} row(s)", dir.display())?;
        }
    }
    Ok(Outcome::Clean)
}
