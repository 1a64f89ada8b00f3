//! `recon check FILE`: the format pre-check CI pipelines run before the
//! nightly job. Reports how the file was read and every problem found.

use std::path::PathBuf;

use chrono::NaiveDate;

use super::{Format, Outcome};
use crate::model::Side;
use crate::rules::inspect::{inspect, InspectOptions, Inspection};

/// Arguments of `recon check`.
#[derive(Debug, clap::Args)]
#[command(after_long_help = "\
Without --rules the report names the built-in profile the file fits (Alipay, WeChat Pay,
bank exports; confidence 1.00 when every column of the profile is in the header) and lists
every profile considered. The column roles are then guessed from header names (Chinese and
English), unless --profile auto reads the file with the recognised profile, or --profile NAME
with a given one. With a profile, rows whose status is closed or failed are counted as
ignored, refunds as money out.
.xlsx and .xls workbooks are read like CSV: LINE is the sheet row, COL the column number.
Problems are printed as FILE:LINE:COL: message, where COL is the field number
(for encoding errors: the byte within the line).

Examples:
  Pre-check a statement: encoding, delimiter, header, skipped lines, guessed columns:
    recon check bank.csv
  Read an Alipay or WeChat bill with the built-in profile it is recognised as:
    recon check alipay.csv --profile auto
  A workbook with a named profile, as JSON for a CI job:
    recon check statement.xlsx --profile citic-credit --format json
  Check a file against the rule file's bank columns:
    recon check bank.csv --rules rules/default.toml --side bank
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
    /// Time zone of the file's times when guessing or reading with a profile (default: the profile's, else Asia/Shanghai)
    #[arg(long, value_name = "ZONE")]
    timezone: Option<String>,
    /// Read the file with a built-in profile: a name (see `recon rules profiles`), or `auto` for the recognised one
    #[arg(long, value_name = "NAME|auto", conflicts_with = "rules")]
    profile: Option<String>,
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
        profile: args.profile,
    };
    let report: Inspection = inspect(&args.file, &options)?;
    match args.format {
        Format::Text => out!("{}", report.to_text(args.max_problems))?,
        Format::Json => outln!("{}", report.to_json(args.max_problems))?,
    }
    Ok(if report.problems.is_empty() {
        Outcome::Clean
    } else {
        Outcome::Exceptions
    })
}
