//! `recon merge`: the results of a split day's partitions, merged into the
//! results of the whole day, with one audit record naming the partition runs.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{anyhow, Context};
use chrono::Utc;

use super::{Format, Outcome};
use crate::audit::entry::{self, Common, InputDigest, ReviewCounts, RunEntry};
use crate::audit::{self, Log};
use crate::output::summary::AuditMark;
use crate::partition::merge::{merge, MergeRequest, PartRun};
use crate::rules::report::Lang;

/// Arguments of `recon merge`.
#[derive(Debug, clap::Args)]
#[command(after_long_help = "\
Examples:
  Merge the partitions of a split day (each run with recon run --part):
    recon merge parts --out out/2026-11-24

Before anything is written, merge proves the partitions are one split of the inputs, each
run once: every part-NNNN present with the same manifest (input SHA-256, rules, date, N),
each run with the split's rules and date over exactly its partition's rows (and all with
the same --carry-in, or none), and all rows together adding up to the original files. The merged CSVs are byte-identical to a single
run's (matches renumbered in the single run's order); summary.json and report.html are
written for the whole day, and differ from a single run's only in what names the run
(run_id, started_at, finished_at and the audit line). See docs/partitions.md.

Exit codes: as recon run: 0 reconciled, 1 exceptions, 2 partitions missing, of different
splits or runs, or not writable; nothing written.")]
pub struct Args {
    /// The directory `recon split --out` wrote
    #[arg(value_name = "PARTS")]
    parts: PathBuf,
    /// The merged results directory; created, or replaced whole when the merge succeeds
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Each partition's results directory, inside the partition
    #[arg(long, value_name = "NAME", default_value = "results")]
    results: String,
    /// Language of report.html: zh or en (default: the rules' [report] lang, else en)
    #[arg(long, value_name = "zh|en")]
    lang: Option<Lang>,
    /// Audit log to append to (default: audit.log in the directory holding --out)
    #[arg(long, value_name = "FILE")]
    audit: Option<PathBuf>,
    /// Refuse instead of waiting when another run is writing results in the same directory
    #[arg(long)]
    no_wait: bool,
    /// What to print on stdout: a short text summary, or summary.json
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    /// Print nothing but errors
    #[arg(long, short)]
    quiet: bool,
}

/// The audit record of a merge: a run's line, plus the partition runs.
#[derive(serde::Serialize)]
struct MergeEntry {
    #[serde(flatten)]
    run: RunEntry,
    parts: Vec<PartRun>,
}

/// Runs `recon merge`.
pub fn run(args: Args) -> anyhow::Result<Outcome> {
    let started = Utc::now();
    let audit_path = args
        .audit
        .clone()
        .unwrap_or_else(|| audit::beside_results(&args.out));
    let log = Log::open(&audit_path).context("nothing was merged: every merge must be recorded")?;
    log.recover().context("nothing was merged")?;
    let run_id = entry::new_run_id(started);
    let base = RunEntry {
        common: Common::new("merge", run_id.clone(), started),
        business_date: None,
        role: None,
        results: args.out.display().to_string(),
        inputs: BTreeMap::new(),
        rules: None,
        outputs: BTreeMap::new(),
        review: None,
        encryption_key_id: None,
        status: "started",
        exit_code: None,
        error: None,
        event: "started",
        started_line: None,
    };
    let mut started_line = None;
    let request = MergeRequest {
        parts: args.parts.clone(),
        results: args.results.clone(),
        out: args.out.clone(),
        lang: args.lang,
        run_id,
        wait: !args.no_wait,
    };
    let result = merge(&request, &mut |manifest, carried| {
        let entry = RunEntry {
            business_date: manifest.business_date.clone(),
            inputs: [("ledger", &manifest.ledger), ("bank", &manifest.bank)]
                .into_iter()
                .map(|(side, m)| (side, m.path.clone(), m.sha256.clone()))
                .chain(carried.map(|c| ("carry_in", c.path.clone(), c.sha256.clone())))
                .map(|(side, path, sha256)| {
                    let digest = InputDigest {
                        path,
                        sha256: Some(sha256),
                    };
                    (side, digest)
                })
                .collect(),
            ..base.clone()
        };
        let (seq, sha256) = log
            .append_line(&entry)
            .map_err(|e| anyhow!("the merge's start could not be recorded in the audit log: {e}"))?;
        started_line = Some(seq);
        Ok(Some(AuditMark {
            audit_log: audit_path.display().to_string(),
            audit_started_line: seq,
            audit_started_sha256: sha256,
        }))
    });
    let outcome = match result {
        Ok(outcome) => outcome,
        Err(error) => {
            let message = format!("{}; nothing was merged", super::message(&error));
            let entry = RunEntry {
                status: "failed",
                event: "failed",
                exit_code: Some(super::TROUBLE),
                error: Some(message.clone()),
                started_line,
                ..base
            };
            log.append(&entry).map_err(|a| {
                anyhow!("{message}\n(and the failure could not be recorded in the audit log: {a})")
            })?;
            return Err(anyhow!(message));
        }
    };
    let code = if outcome.exceptions {
        Outcome::Exceptions
    } else {
        Outcome::Clean
    };
    let summary = &outcome.summary;
    let entry = MergeEntry {
        run: RunEntry {
            business_date: summary.business_date.clone(),
            role: summary.role.as_ref().map(|r| r.name.clone()),
            inputs: outcome
                .inputs
                .iter()
                .map(|(side, path, sha256)| {
                    let digest = InputDigest {
                        path: path.clone(),
                        sha256: Some(sha256.clone()),
                    };
                    (*side, digest)
                })
                .collect(),
            rules: Some(summary.rules.clone()),
            outputs: super::run_cmd::output_digests(&outcome.published, summary),
            review: Some(ReviewCounts {
                items: summary.confirmations.items,
                confirmed: 0,
            }),
            status: summary.status,
            exit_code: Some(code.exit_code()),
            event: "published",
            started_line,
            ..base
        },
        parts: outcome.parts.clone(),
    };
    let seq = log.append(&entry).with_context(|| {
        format!(
            "the results are in {}, but the merge could not be recorded in the audit log",
            args.out.display()
        )
    })?;
    if !args.quiet {
        match args.format {
            Format::Text => {
                out!("{}", summary.to_text(outcome.lang))?;
                outln!(
                    "merged   {} partition run(s) of {}",
                    outcome.parts.len(),
                    args.parts.display()
                )?;
                outln!("results  {}", args.out.display())?;
                outln!("audit    {} line {seq}", log.path().display())?;
            }
            Format::Json => out!("{}", String::from_utf8_lossy(&summary.to_json()))?,
        }
    }
    Ok(code)
}
