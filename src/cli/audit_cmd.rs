//! `recon audit verify FILE` and `recon audit show [FILE]`: check the audit
//! log's hash chain, and list what it records.

use std::path::{Path, PathBuf};

use anyhow::Context;
use serde_json::Value;

use super::{acting, Format, Outcome};
use crate::audit::{self, Contents};

/// Subcommands of `recon audit`.
#[derive(Debug, clap::Subcommand)]
#[command(after_help = "\
Examples:
  recon audit verify out/audit.log         check that no line was altered or removed
  recon audit show out/audit.log           list the runs, rule tests and confirmations
  recon audit show --results out/2026-11-24   the log that run --out out/2026-11-24 wrote

The log: FILE, or with --results DIR the log `recon run --out DIR` and `recon confirm DIR`
write (DIR/../audit.log); a directory as FILE means its audit.log (a results directory:
the log beside it). Without either, ./audit.log.

When the rules enforce roles (a role names users or groups), only a user holding a role whose
may lists verify may read the log: the rules are --rules, else those of the latest run the log
records. A refusal is recorded in the log.

Exit codes: 0 the chain is intact, 1 it is broken (the line is named), 2 the log cannot be read
or the user may not verify.")]
pub enum Command {
    /// Check the hash chain and name the first line that was altered or removed
    #[command(after_long_help = "\
Each line carries its number (seq), the SHA-256 of the line before it (prev) and its own
SHA-256. An edited line, a removed or inserted line, and a cut last line are all caught,
and the first one is named. Keep the printed head hash somewhere else (e.g. the nightly
mail): comparing it later also catches lines cut from the end.

Examples:
  recon audit verify /data/recon/audit.log
  recon audit verify --results out/2026-11-24     the log beside these results (out/audit.log)

A run writes a `started` line before any result file, and a `published`, `failed` or
`interrupted` line when it ends; runs that started and never ended (killed, power lost, or
still running) are listed as UNFINISHED. A torn last line (a crash or a full disk during an
append) is closed by the next append with a `recovered` entry naming it, and is accepted only
so. To catch a log cut short or rebuilt, run `recon verify DIR` on a results directory: its
summary.json names its started line.

Exit codes: 0 the chain is intact and every run ended, 1 it is broken (the line is named) or
a run never ended, 2 the file cannot be read.")]
    Verify {
        #[command(flatten)]
        log: LogArg,
        #[command(flatten)]
        acting: acting::VerifyAs,
    },
    /// List the runs, rule tests and confirmations recorded in an audit log
    #[command(after_long_help = "\
Examples:
  recon audit show --results out/2026-11-24    out/audit.log, where that run wrote
  recon audit show out                         out/audit.log
  recon audit show /data/recon/audit.log --format json
  recon audit show                             ./audit.log

Exit codes: 0 listed and the chain is intact, 1 listed but the chain is broken
(see `recon audit verify`), 2 the file cannot be read.")]
    Show {
        #[command(flatten)]
        log: LogArg,
        /// A table for people, or the entries as a JSON array
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
        #[command(flatten)]
        acting: acting::VerifyAs,
    },
}

/// Runs a `recon audit` subcommand.
pub fn run(command: Command) -> anyhow::Result<Outcome> {
    match command {
        Command::Verify { log, acting } => verify(&log.locate()?, &acting),
        Command::Show { log, format, acting } => show(&log.locate()?, format, &acting),
    }
}

/// Which audit log `verify` and `show` read.
#[derive(Debug, clap::Args)]
pub struct LogArg {
    /// The audit log, or a directory: a results directory's log is the one beside it
    /// (DIR/../audit.log, as `recon run` writes it), any other directory's is DIR/audit.log
    /// [default: ./audit.log]
    #[arg(value_name = "FILE")]
    file: Option<PathBuf>,
    /// The log `recon run --out DIR` and `recon confirm DIR` write: DIR/../audit.log
    #[arg(long, value_name = "DIR", conflicts_with = "file")]
    results: Option<PathBuf>,
}

impl LogArg {
    fn locate(self) -> anyhow::Result<PathBuf> {
        if let Some(dir) = self.results {
            return Ok(audit::beside_results(&dir));
        }
        match self.file {
            Some(dir) if dir.is_dir() => {
                let results = ["summary.json", "summary.json.sm4"]
                    .iter()
                    .any(|f| dir.join(f).is_file());
                Ok(if results {
                    audit::beside_results(&dir)
                } else {
                    dir.join(audit::FILE_NAME)
                })
            }
            Some(file) => Ok(file),
            None => {
                let here = PathBuf::from(audit::FILE_NAME);
                if !here.exists() {
                    anyhow::bail!(
                        "{}: no audit log in the current directory; `recon run --out DIR` writes \
                         DIR/../audit.log: name the results with `--results DIR`, or give the log's path",
                        here.display()
                    );
                }
                Ok(here)
            }
        }
    }
}

fn read(file: &Path) -> anyhow::Result<Contents> {
    audit::chain::read(file).context("cannot check the audit log")
}

fn verify(file: &Path, acting: &acting::VerifyAs) -> anyhow::Result<Outcome> {
    let contents = read(file)?;
    acting.check(acting::rules_in_log(&contents), file)?;
    let v = &contents.verification;
    if let Some(p) = &v.problem {
        outln!("BROKEN  {}:{}: {}", file.display(), p.line, p.message)?;
        return Ok(Outcome::Exceptions);
    }
    let unended = unended_runs(&contents);
    for line in &unended {
        outln!(
            "UNFINISHED  {}:{}: run {} started ({} -> {}) and never recorded how it ended: killed, or still running",
            file.display(),
            line.number,
            text(&line.entry, "run_id"),
            text(&line.entry, "business_date"),
            text(&line.entry, "results"),
        )?;
    }
    outln!(
        "{}  {}: {} line(s), chain intact; head sha256 {}",
        if unended.is_empty() { "ok" } else { "unfinished" },
        file.display(),
        v.lines,
        v.head
    )?;
    Ok(if unended.is_empty() {
        Outcome::Clean
    } else {
        Outcome::Exceptions
    })
}

/// `started` lines of runs with no later line saying how they ended.
fn unended_runs(contents: &Contents) -> Vec<&audit::chain::Line> {
    let ended: std::collections::HashSet<&str> = contents
        .entries
        .iter()
        .filter(|l| matches!(l.entry.get("event").and_then(Value::as_str), Some(e) if e != "started"))
        .filter_map(|l| l.entry.get("run_id").and_then(Value::as_str))
        .collect();
    contents
        .entries
        .iter()
        .filter(|l| l.entry.get("event").and_then(Value::as_str) == Some("started"))
        .filter(|l| {
            !l.entry
                .get("run_id")
                .and_then(Value::as_str)
                .is_some_and(|id| ended.contains(id))
        })
        .collect()
}

fn show(file: &Path, format: Format, acting: &acting::VerifyAs) -> anyhow::Result<Outcome> {
    let contents = read(file)?;
    acting.check(acting::rules_in_log(&contents), file)?;
    match format {
        Format::Json => {
            let lines: Vec<&str> = contents.entries.iter().map(|l| l.text.as_str()).collect();
            outln!("[\n{}\n]", lines.join(",\n"))?;
        }
        Format::Text => {
            outln!(
                "{:<5} {:<10} {:<24} {:<20} {:>4}  what",
                "line",
                "kind",
                "finished (UTC)",
                "user@host",
                "exit"
            )?;
            for line in &contents.entries {
                outln!("{}", table_row(line.number, &line.entry))?;
            }
        }
    }
    match &contents.verification.problem {
        None => Ok(Outcome::Clean),
        Some(p) => {
            eprintln!(
                "recon: the audit chain is broken at line {}: {} (see `recon audit verify`)",
                p.line, p.message
            );
            Ok(Outcome::Exceptions)
        }
    }
}

fn text<'a>(entry: &'a Value, key: &str) -> &'a str {
    entry.get(key).and_then(Value::as_str).unwrap_or("-")
}

fn table_row(line: u64, e: &Value) -> String {
    let exit = e
        .get("exit_code")
        .and_then(Value::as_u64)
        .map_or("-".to_string(), |c| c.to_string());
    format!(
        "{:<5} {:<10} {:<24} {:<20} {:>4}  {}",
        line,
        text(e, "kind"),
        text(e, "finished_at"),
        format!("{}@{}", text(e, "user"), text(e, "host")),
        exit,
        what(e)
    )
}

/// One line saying what an entry did.
fn what(e: &Value) -> String {
    match text(e, "kind") {
        "run" => {
            let rules = e
                .get("rules")
                .filter(|r| !r.is_null())
                .map_or("-".to_string(), |r| {
                    format!("{} {}", text(r, "name"), text(r, "version"))
                });
            let outcome = match e.get("error").and_then(Value::as_str) {
                Some(error) => format!("failed: {}", error.lines().next().unwrap_or("")),
                None => text(e, "status").to_string(),
            };
            format!(
                "{} {} -> {}: {}",
                text(e, "business_date"),
                rules,
                text(e, "results"),
                outcome
            )
        }
        "rules_test" => {
            let cases = e.get("cases").and_then(Value::as_array);
            let passed = cases.map_or(0, |c| c.iter().filter(|c| c["passed"] == true).count());
            let total = cases.map_or(0, Vec::len);
            format!("{}: {passed} of {total} case(s) passed", text(e, "cases_dir"))
        }
        "confirm" => format!(
            "{} ({}) in {} by {}: {}",
            text(e, "item"),
            text(e, "item_kind"),
            text(e, "results"),
            text(e, "by"),
            text(e, "note")
        ),
        _ => String::new(),
    }
}
