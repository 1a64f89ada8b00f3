//! `recon run`: arguments, then `run::execute`, then one audit log line
//! (for failed runs too), then the summary on stdout.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{anyhow, Context};
use chrono::{DateTime, NaiveDate, Utc};

use super::progress::Progress;
use super::{Format, Outcome};
use crate::audit::entry::{self, Common, InputDigest, OutputDigest, ReviewCounts, RunEntry};
use crate::audit::{self, Log};
use crate::output::mask::{redact_numbers, View};
use crate::rules::{self, Plan};
use crate::run::{execute, RunOutcome, RunRequest};

/// Arguments of `recon run`.
#[derive(Debug, clap::Args)]
#[command(after_long_help = "\
Examples:
  recon run --ledger examples/basic/ledger.csv --bank examples/basic/bank.csv \\
            --rules rules/default.toml --out out/basic
  recon run --ledger L.csv --bank B.csv --rules rules/ --date 2026-11-24 --out out/2026-11-24 --format json
  recon run ... --out /data/recon/2026-11-24 --role auditor --quiet     (cron: errors only)

Outputs in --out (replaced as a whole only when the run succeeds; files 0640, directory 0750):
  matched.csv     match_id, stage, side, line, key, amount, time, merchant, difference, review, review_reason
  unmatched.csv   ... reason (no_counterpart | amount_mismatch | ambiguous), counterpart (side:line)
  duplicates.csv  ... duplicate_of (side:line of the matched row it repeats)
  ignored.csv     ... rows below [thresholds] ignore_below
  rejected.csv    ... rows that could not be read (only with --skip-bad-rows)
  review.csv      flagged matches and exception rows, their stable identity, and who confirmed them
  summary.json    counts and sums per output and side, conservation proof, rule and input SHA-256,
                  run id, role, confirmations

Every run, failed ones included, appends one line to the audit log (default DIR/../audit.log):
check it with `recon audit verify`, list it with `recon audit show`.
With --role (or the rules' default_role) the role's masks apply to every file, the summary,
and error messages.

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
    /// What to print on stdout: a short text summary, or summary.json
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    /// Write and show the results as this role of the rules sees them (default: the rules' default_role)
    #[arg(long, value_name = "NAME")]
    role: Option<String>,
    /// Audit log to append to (default: audit.log in the directory holding --out)
    #[arg(long, value_name = "FILE")]
    audit: Option<PathBuf>,
    /// Print nothing but errors (for cron); the exit code tells the outcome
    #[arg(long, short)]
    quiet: bool,
}

/// Runs `recon run`.
pub fn run(args: Args) -> anyhow::Result<Outcome> {
    let started = Utc::now();
    let audit_path = args
        .audit
        .clone()
        .unwrap_or_else(|| audit::beside_results(&args.out));
    let log = Log::open(&audit_path).context("nothing was run: every run must be recorded")?;
    let contents = log.contents().context("nothing was run")?;
    let confirmations = match &contents.verification.problem {
        None => audit::confirmations(&contents),
        Some(p) => {
            eprintln!(
                "recon: warning: {}: the audit chain is broken ({}); its confirmations are not applied. Check it with `recon audit verify {}`",
                audit_path.display(),
                p.message,
                audit_path.display()
            );
            Vec::new()
        }
    };
    let request = RunRequest {
        ledger: args.ledger.clone(),
        bank: args.bank.clone(),
        rules: args.rules.clone(),
        out: args.out.clone(),
        date: args.date,
        skip_bad_rows: args.skip_bad_rows,
        role: args.role.clone(),
        run_id: entry::new_run_id(started),
        confirmations,
    };
    let progress = Progress::start(args.quiet, "reconciling");
    let result = execute(&request);
    progress.finish();
    match result {
        Ok(outcome) => {
            let code = if outcome.exceptions {
                Outcome::Exceptions
            } else {
                Outcome::Clean
            };
            let entry = finished(&request, &outcome, code, started);
            let appended = log.append(&entry).with_context(|| {
                format!(
                    "the results are in {}, but the run could not be recorded in the audit log",
                    args.out.display()
                )
            })?;
            if !args.quiet {
                print_summary(&args, &outcome, &log, appended.seq);
            }
            Ok(code)
        }
        Err(e) => {
            let error = anyhow::Error::new(e).context("reconciliation stopped");
            let plan = rules::load(&args.rules, request_date(&request)).ok();
            let message = shown_error(&format!("{error:#}"), plan.as_ref(), args.role.as_deref());
            let entry = failed(&request, plan.as_ref(), &message, started);
            log.append(&entry).map_err(|a| {
                anyhow!("{message}\n(and the failure could not be recorded in the audit log: {a})")
            })?;
            Err(anyhow!(message))
        }
    }
}

fn print_summary(args: &Args, outcome: &RunOutcome, log: &Log, seq: u64) {
    match args.format {
        Format::Text => {
            print!("{}", outcome.summary.to_text());
            println!("results  {}", args.out.display());
            println!("audit    {} line {seq}", log.path().display());
        }
        Format::Json => print!("{}", String::from_utf8_lossy(&outcome.summary.to_json())),
    }
}

fn request_date(request: &RunRequest) -> NaiveDate {
    request.date.unwrap_or_else(|| chrono::Local::now().date_naive())
}

/// The error as this run's role may see it: account-like numbers masked when
/// the role masks anything, or when the role cannot be worked out.
fn shown_error(text: &str, plan: Option<&Plan>, role: Option<&str>) -> String {
    let hides = match plan {
        Some(plan) => View::resolve(plan, role).map_or(true, |v| v.hides_anything()),
        None => role.is_some(),
    };
    if hides {
        redact_numbers(text).into_owned()
    } else {
        text.to_string()
    }
}

fn base_entry(request: &RunRequest, started: DateTime<Utc>) -> RunEntry {
    RunEntry {
        common: Common::new("run", request.run_id.clone(), started),
        business_date: request.date.map(|d| d.to_string()),
        role: None,
        results: request.out.display().to_string(),
        inputs: BTreeMap::new(),
        rules: None,
        outputs: BTreeMap::new(),
        review: None,
        status: "failed",
        exit_code: super::TROUBLE,
        error: None,
    }
}

fn finished(request: &RunRequest, outcome: &RunOutcome, code: Outcome, started: DateTime<Utc>) -> RunEntry {
    let summary = &outcome.summary;
    let outputs = outcome
        .published
        .iter()
        .map(|(name, sha256)| {
            let tallies = summary.outputs.get(name.as_str());
            let digest = OutputDigest {
                sha256: sha256.clone(),
                ledger: tallies.map(|t| t.ledger),
                bank: tallies.map(|t| t.bank),
            };
            (name.clone(), digest)
        })
        .collect();
    RunEntry {
        role: summary.role.as_ref().map(|r| r.name.clone()),
        inputs: summary
            .inputs
            .iter()
            .map(|(side, facts)| {
                let digest = InputDigest {
                    path: facts.path.clone(),
                    sha256: Some(facts.sha256.clone()),
                };
                (*side, digest)
            })
            .collect(),
        rules: Some(summary.rules.clone()),
        outputs,
        review: Some(ReviewCounts {
            items: summary.confirmations.items,
            confirmed: summary.confirmations.confirmed,
        }),
        status: summary.status,
        exit_code: code.exit_code(),
        ..base_entry(request, started)
    }
}

fn failed(request: &RunRequest, plan: Option<&Plan>, message: &str, started: DateTime<Utc>) -> RunEntry {
    RunEntry {
        inputs: [
            ("ledger", InputDigest::of(&request.ledger)),
            ("bank", InputDigest::of(&request.bank)),
        ]
        .into_iter()
        .collect(),
        rules: plan.map(|p| p.identity.clone()),
        error: Some(redact_numbers(message).into_owned()),
        ..base_entry(request, started)
    }
}
