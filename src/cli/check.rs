//! `recon check FILE`: the format pre-check CI pipelines run before the
//! nightly job. Reports how the file was read and every problem found.

use std::path::PathBuf;

use chrono::NaiveDate;

use super::{Format, Outcome};
use crate::input::inspect::{inspect, InspectOptions, Inspection};
use crate::model::Side;

/// Arguments of `recon check`.
#[derive(Debug, clap::Args)]
#[command(after_long_help = "\
Without --rules the column roles are guessed from header names (Chinese and English).
Problems are printed as FILE:LINE:COL: message, where COL is the field number
(for encoding errors: the byte within the line).

Examples:
  Pre-check a statement: encoding, delimiter, header, skipped lines, guessed columns:
    recon check bank.csv
  Check it against the rule file's bank columns, as JSON for a CI job:
    recon check bank.csv --rules rules/default.toml --side bank --format json
  Name the encoding and delimiter when detection cannot tell:
    recon check bank.csv --encoding gb18030 --delimiter ';'
  List every problem, not only the first 50:
    recon check bank.csv --max-problems 0

Exit codes: 0 clean, 1 problems found, 2 the file could not be read at all.")]
pub struct Args {
    /// The file to check
    file: PathBuf,
    /// Rule file (or directory) whose column mapping to check against
    #[arg(long, value_name = "PATH", requires = "side")]
    rules: Option<PathBuf>,
    /// Which side of the rule file the file is
    #[arg(long, value_enum, requires = "rules")]
    side: Option<SideArg>,
    /// Business date choosing the rule version in a rules directory (default today)
    #[arg(long, value_name = "YYYY-MM-DD")]
    date: Option<NaiveDate>,
    /// Force an encoding (gbk, gb18030, utf-8, utf-16le, big5, …) instead of detecting it
    #[arg(long)]
    encoding: Option<String>,
    /// Force a delimiter (",", "tab", ";", "|") instead of sniffing it
    #[arg(long)]
    delimiter: Option<String>,
    /// Time zone of the file's times when guessing (default Asia/Shanghai)
    #[arg(long, value_name = "ZONE")]
    timezone: Option<String>,
    /// How many problems to list (0: all)
    #[arg(long, default_value_t = 50, value_name = "N")]
    max_problems: usize,
    /// Report format
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
}

/// A side named on the command line.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum SideArg {
    /// The platform ledger
    Ledger,
    /// The bank or channel statement
    Bank,
}

impl From<SideArg> for Side {
    fn from(s: SideArg) -> Side {
        match s {
            SideArg::Ledger => Side::Ledger,
            SideArg::Bank => Side::Bank,
        }
    }
}

/// Runs `recon check`.
pub fn run(args: Args) -> anyhow::Result<Outcome> {
    let options = InspectOptions {
        rules: args.rules,
        side: args.side.map(Side::from).unwrap_or(Side::Bank),
        date: args.date,
        encoding: args.encoding,
        delimiter: args.delimiter,
        timezone: args.timezone,
    };
    let report: Inspection = inspect(&args.file, &options)?;
    match args.format {
        Format::Text => print!("{}", report.to_text(args.max_problems)),
        Format::Json => println!("{}", report.to_json(args.max_problems)),
    }
    Ok(if report.problems.is_empty() {
        Outcome::Clean
    } else {
        Outcome::Exceptions
    })
}
