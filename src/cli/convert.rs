//! `recon convert FILE -o OUT`: the table as clean UTF-8 CSV (comma, header,
//! no preamble or trailer, padding and spreadsheet prefixes stripped), with
//! normalized amount and time columns when a mapping is given.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use chrono::NaiveDate;

use super::check::SideArg;
use super::Outcome;
use crate::input::field::clean_field;
use crate::input::settle;
use crate::input::status::type_by_status;
use crate::input::time::format_in_zone;
use crate::model::Side;
use crate::output::atomic::replace_file;
use crate::rules::inspect::{guessed_plan, locate_with, side_plan, InspectOptions};
use crate::rules::plan::SidePlan;
use crate::rules::profiles;

/// Arguments of `recon convert`.
#[derive(Debug, clap::Args)]
#[command(after_long_help = "\
Writes comma-separated UTF-8 with the header row and the data rows only: no preamble,
trailer or blank lines, padding and spreadsheet guards (\\t, `, ', =\"…\") stripped.
With --rules and --side, or with --profile NAME|auto, two columns are appended:
recon_amount (signed plain decimal) and recon_time (ISO-8601 with offset); a row that
cannot be typed stops the conversion. OUT is replaced atomically, and is never the input
file under any name or link.

Examples:
  Turn a GBK export with a preamble into clean UTF-8 CSV:
    recon convert alipay.csv -o alipay.utf8.csv
  Add normalized amount and time columns using the rule file's bank mapping:
    recon convert bank.csv --rules rules/default.toml --side bank -o bank.clean.csv
  The same with the built-in profile the file is recognised as (see recon check):
    recon convert alipay.csv --profile auto -o alipay.clean.csv

Exit codes: 0 written, 2 unreadable file, untypable row or OUT = input (nothing written).")]
pub struct Args {
    /// The file to convert
    file: PathBuf,
    /// Where to write the clean CSV (never the input itself)
    #[arg(short, long, value_name = "OUT")]
    output: PathBuf,
    /// Rule file (or directory) with the column mapping
    #[arg(long, value_name = "PATH", requires = "side")]
    rules: Option<PathBuf>,
    /// Which side of the rule file the file is
    #[arg(long, value_enum, requires = "rules")]
    side: Option<SideArg>,
    /// Business date choosing the rule version in a rules directory
    #[arg(long, value_name = "YYYY-MM-DD")]
    date: Option<NaiveDate>,
    /// Force an encoding instead of detecting it
    #[arg(long)]
    encoding: Option<String>,
    /// Force a delimiter instead of sniffing it
    #[arg(long)]
    delimiter: Option<String>,
    /// Read the file with a built-in profile: a name (see `recon rules profiles`), or `auto` for the recognised one
    #[arg(long, value_name = "NAME|auto", conflicts_with = "rules")]
    profile: Option<String>,
}

/// Runs `recon convert`.
pub fn run(args: Args) -> anyhow::Result<Outcome> {
    refuse_overwriting_input(&args.file, &args.output)?;
    let options = InspectOptions {
        rules: args.rules,
        side: args.side.map(Side::from).unwrap_or(Side::Bank),
        date: args.date,
        encoding: args.encoding,
        delimiter: args.delimiter,
        timezone: None,
        profile: args.profile,
    };
    let (mapped, _) = side_plan(&options)?;
    let mapped = match (mapped, &options.profile) {
        (Some(sp), _) => Some(sp),
        (None, Some(_)) => Some(profile_plan(&args.file, &options)?),
        (None, None) => None,
    };
    let sp = match &mapped {
        Some(sp) => sp.clone(),
        None => guessed_plan(&options)?,
    };
    let mut located = locate_with(&args.file, &sp)?;
    let mapped =
        match mapped {
            Some(sp) => Some(settle(&sp, options.side.name(), &located.table).map_err(|e| {
                anyhow::anyhow!("{}:{}:1: {e}", args.file.display(), located.table.header_line)
            })?),
            None => None,
        };
    let width = located.table.header.len();
    let mut writer = csv::Writer::from_writer(Vec::new());
    let mut header = located.table.header.clone();
    let rows: Vec<(u64, Vec<String>)> = located
        .table
        .rows
        .iter()
        .map(|r| {
            let fields = (0..width)
                .map(|i| clean_field(r.fields.get(i).unwrap_or("")).to_string())
                .collect();
            (r.line, fields)
        })
        .collect();
    let mut extra: HashMap<u64, [String; 2]> = HashMap::new();
    if let Some(sp) = &mapped {
        let sorted = type_by_status(&mut located.table, options.side, sp)
            .with_context(|| format!("{}:{}:1", args.file.display(), located.table.header_line))?;
        let typed = &sorted.typed;
        if let Some((e, _)) = typed.rejected.first() {
            bail!(
                "{}:{}:{}: {} ({} bad row(s); nothing was written)",
                args.file.display(),
                e.line,
                e.column,
                e.message,
                typed.rejected.len()
            );
        }
        header.extend(["recon_amount".to_string(), "recon_time".to_string()]);
        // Rows set aside by their status (closed, failed) are converted too.
        let set_aside = sorted.set_aside.iter().map(|a| &a.record);
        extra = typed
            .records
            .iter()
            .chain(set_aside)
            .map(|r| {
                let time = r.time().map(|t| format_in_zone(t, sp.zone)).unwrap_or_default();
                (r.line(), [r.amount().to_string(), time])
            })
            .collect();
    }
    writer.write_record(&header)?;
    for (line, row) in &rows {
        let tail = extra.get(line).map_or(&[][..], |e| &e[..]);
        writer.write_record(row.iter().chain(tail))?;
    }
    let bytes = writer.into_inner().context("writing CSV")?;
    replace_file(&args.output, &bytes)?;
    eprintln!(
        "wrote {} rows from {} (header line {}) to {}",
        rows.len(),
        args.file.display(),
        located.table.header_line,
        args.output.display()
    );
    Ok(Outcome::Clean)
}

/// The plan of `--profile NAME`, or of the profile `--profile auto` recognises.
fn profile_plan(path: &Path, options: &InspectOptions) -> anyhow::Result<SidePlan> {
    let name = match options.profile.as_deref() {
        Some("auto") => {
            let located = locate_with(path, &guessed_plan(options)?)?;
            let considered = profiles::recognize(&located.table).map_err(anyhow::Error::msg)?;
            match profiles::pick(&considered) {
                Some(c) => c.name.clone(),
                None => bail!(
                    "{}: no built-in profile recognises this file; name one with --profile NAME (recon rules profiles lists them) or give --rules and --side",
                    path.display()
                ),
            }
        }
        Some(name) => name.to_string(),
        None => bail!("no profile named"),
    };
    let mut sp = profiles::plan_for(&name, None).map_err(|e| anyhow::anyhow!("--profile: {e}"))?;
    if let Some(label) = &options.encoding {
        sp.encoding = crate::input::encoding::EncodingChoice::Fixed(
            crate::input::encoding::encoding_from_label(label)
                .map_err(|e| anyhow::anyhow!("--encoding: {e}"))?,
        );
    }
    if let Some(d) = &options.delimiter {
        sp.delimiter =
            Some(crate::rules::plan::parse_delimiter(d).map_err(|e| anyhow::anyhow!("--delimiter: {e}"))?);
    }
    Ok(sp)
}

/// Stops when OUT is the input file itself, under any name: the same path
/// spelled differently (`./x`, `d/../x`), a symbolic link, or a hard link.
fn refuse_overwriting_input(input: &Path, output: &Path) -> anyhow::Result<()> {
    if same_file(input, output) {
        bail!(
            "{}: the output is the input file (under this name or another); convert never overwrites its input, choose another -o",
            output.display()
        );
    }
    Ok(())
}

/// Whether two paths name one existing file.
fn same_file(a: &Path, b: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if let (Ok(x), Ok(y)) = (std::fs::metadata(a), std::fs::metadata(b)) {
            return x.dev() == y.dev() && x.ino() == y.ino();
        }
    }
    matches!((a.canonicalize(), b.canonicalize()), (Ok(x), Ok(y)) if x == y)
}
