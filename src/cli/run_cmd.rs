//! `recon run`: arguments, then `run::execute`, then one audit log line
//! (for failed runs too), then the summary on stdout.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use anyhow::{anyhow, Context};
use chrono::{DateTime, NaiveDate, Utc};

use super::date_arg::{self, DateArg};
use super::{Format, Outcome};
use crate::access::{self, Person};
use crate::audit::entry::{self, Common, InputDigest, OutputDigest, ReviewCounts, RunEntry};
use crate::audit::{self, Log};
use crate::crypto::Sm4Key;
use crate::interrupt::{self, Stopped};
use crate::output::mask::{redact_numbers, View};
use crate::output::summary::{label, AuditMark, Summary};
use crate::partition::manifest::Manifest;
use crate::partition::spill::{self, Budget};
use crate::rules::report::Lang;
use crate::rules::roles::Action;
use crate::rules::{self, Plan};
use crate::run::{PartInput, RunOutcome, RunRequest, Started};

/// Arguments of `recon run`.
#[derive(Debug, clap::Args)]
#[command(after_long_help = "\
Examples:
  Reconcile the shipped example day (exits 1: it has exceptions on purpose):
    recon run --ledger examples/basic/ledger.csv --bank examples/basic/bank.csv \\
              --rules rules/default.toml --date 2026-11-24 --out out/basic
  Nightly at the T+1 cutoff, for yesterday, carrying in the day before's pending rows,
  printing summary.json:
    recon run --ledger L-1125.csv --bank B-1125.csv --rules rules/ --date 2026-11-25 \\
              --carry-in out/2026-11-24/pending.csv --out out/2026-11-25 --format json
  Set unreadable rows aside in rejected.csv instead of stopping:
    recon run --ledger L.csv --bank B.csv --rules rules/ --out out/day --skip-bad-rows
  Write every result encrypted with SM4-GCM (create the key with recon keygen):
    recon run --ledger L.csv --bank B.csv --rules rules/ --out out/day \\
              --encrypt-key-file results.key
  Reconcile against an Alipay bill read with its built-in profile:
    recon run --ledger L.csv --bank alipay.csv --bank-profile alipay \\
              --rules rules/mine.toml --out out/alipay
  Cron: write for the auditor role (masked fields), print only errors:
    recon run ... --out /data/recon/2026-11-24 --role auditor --quiet
  Chinese likely causes and report.html, plus results.xlsx:
    recon run --ledger L.csv --bank B.csv --rules rules/ --out out/day --lang zh --xlsx
  Also write the rules' named report big-exceptions as report-big-exceptions.csv:
    recon run --ledger L.csv --bank B.csv --rules R.toml --out out/day --report big-exceptions

The bank file may be CSV/TSV in any common encoding, or an .xlsx/.xls workbook (first sheet
with data). A built-in profile (`recon rules profiles` lists them) reads Alipay and WeChat Pay
bills and the big banks' exports without a column mapping; rows whose status is closed or
failed go to ignored.csv, refund statuses become refunds.

Business day (--date D; [business] timezone, cutoff and pending_grace in the rules):
  Ledger rows of D, and statement rows from D 00:00 up to the cutoff (e.g. T+1 10:00),
  are reconciled; statement rows after midnight stay with D only when they belong to
  D's payments. Every other row goes to out_of_period.csv. Rows of D's last
  pending_grace with no counterpart go to pending.csv (not an exception); the next
  day's run takes them with --carry-in and reports those still alone as
  no_counterpart_after_grace. Without --date every row is reconciled, none pending.

Outputs in --out (replaced as a whole, and only when the run succeeds; files 0640,
directory 0750). Every row has side, line, key, amount, time, merchant and the rule
file's carried columns, plus:
  matched.csv        match_id, stage, difference (ledger - bank), review, review_reason,
                     likely_cause (for rows under review)
  unmatched.csv      reason (no_counterpart, amount_mismatch, ambiguous,
                     counterpart_matched, no_counterpart_after_grace),
                     counterpart (side:line of the rows to look at), likely_cause (a
                     guess in words: channel fee, double submission, T+1, ...)
  duplicates.csv     duplicate_of (side:line of the matched row it repeats), likely_cause
  ignored.csv        reason: below_ignore_threshold (LIMIT) for unmatched rows below
                     ignore_below, or status_ignored (STATUS: 交易关闭, REVOKED, ... via a
                     profile)
  pending.csv        reason (awaiting_counterpart), business_date, source_file,
                     source_sha256
  out_of_period.csv  reason (other_business_day | already_in_previous_run), business_date
  rejected.csv       rows that could not be read (only with --skip-bad-rows)
  review.csv         flagged matches and exception rows, their stable identity, and
                     who confirmed them (`recon confirm`)
  summary.json       counts and sums per output and side, the conservation proof, rule
                     name, version and SHA-256, input SHA-256, tool version, business
                     date and period, start and end time, run id, role, confirmations
  report.html        one self-contained page: summary, proof, hashes, charts and a
                     sortable, filterable exception table
  results.xlsx       (with --xlsx) the summary and every CSV as typed Excel sheets
  report-NAME.csv    (with --report NAME) a [[report.named]] filtered report
A [report.columns] template in the rules chooses and orders each CSV's columns; with --role
every CSV, report.html and results.xlsx show the columns as that role may see them.
With --carry-in every CSV also has carried_from (the file a carried-in row was first
read from), and references to carried-in rows read carried:ledger:12.

With --encrypt-key-file K (or RECON_KEY_FILE=K), every one of these is written encrypted
with SM4-GCM as NAME.sm4 (matched.csv.sm4, ..., report.html.sm4, summary.json.sm4); plain
results never touch the disk. Create K with `recon keygen -o K`; read the results with
`recon decrypt --dir DIR`.
--carry-in reads encrypted previous results with the same key.

Every run, failed ones included, is recorded in the audit log (default DIR/../audit.log): a
`started` line before any result file is written, then `published`, `failed` or `interrupted`.
Check it with `recon audit verify`, list it with `recon audit show`, and check a results
directory against it with `recon verify DIR`. With --role (or the rules'
default_role) the role's masks apply to every file, the summary, and error messages.

Nightly, with dated results (ROOT/YYYY-MM-DD) and the previous day carried in:
    recon run --ledger L.csv --bank B.csv --rules rules/ --date yesterday \\
              --out-root /data/recon --carry-in auto --quiet

Exit codes: 0 everything reconciled (pending and out-of-period rows are no exceptions),
            1 reconciled with exceptions,
            2 bad input (amounts of 10^15 or more included), rules, usage or key file, results
              not writable, or refused: no row in --date's day, identical ledger and bank, a
              --carry-in not of the day before (see --allow-gap), another run writing the
              same results (--no-wait); nothing written,
            130, 143, 129 stopped by SIGINT, SIGTERM or SIGHUP: nothing published, the
              interruption recorded in the audit log.")]
pub struct Args {
    /// The platform ledger export (CSV/TSV in any common encoding)
    #[arg(long, value_name = "FILE", required_unless_present = "part")]
    ledger: Option<PathBuf>,
    /// The bank or channel statement
    #[arg(long, value_name = "FILE", required_unless_present = "part")]
    bank: Option<PathBuf>,
    /// Reconcile one partition written by `recon split` (instead of --ledger and --bank);
    /// every output names the original files and lines. With --carry-in it takes the
    /// previous results' rows of its partition
    #[arg(long, value_name = "DIR", conflicts_with_all = ["ledger", "bank"])]
    part: Option<PathBuf>,
    /// A rule file, or a directory of rule versions (the newest effective on --date is used)
    #[arg(long, value_name = "PATH")]
    rules: PathBuf,
    /// Results directory; created, or replaced whole when the run succeeds
    #[arg(
        long,
        value_name = "DIR",
        required_unless_present = "out_root",
        conflicts_with = "out_root"
    )]
    out: Option<PathBuf>,
    /// Dated results: write to ROOT/YYYY-MM-DD of --date (instead of --out)
    #[arg(long, value_name = "ROOT", requires = "date")]
    out_root: Option<PathBuf>,
    /// Business day to reconcile: YYYY-MM-DD, YYYYMMDD, today or yesterday (in the rules'
    /// business time zone). Only its rows are reconciled (others go to out_of_period.csv);
    /// also chooses the rule version (default: today's, and no day filtering)
    #[arg(long, value_name = "DATE", value_parser = date_arg::parse)]
    date: Option<DateArg>,
    /// The previous day's results (DIR or DIR/pending.csv), or `auto` with --out-root
    /// (ROOT/<the day before>): carry its pending rows into this run
    #[arg(long, value_name = "PATH|auto")]
    carry_in: Option<PathBuf>,
    /// Accept a --carry-in that is not the previous day's, or a missing previous day under --out-root
    #[arg(long)]
    allow_gap: bool,
    /// Refuse (exit 2) instead of waiting when another run is writing results in the same directory
    #[arg(long)]
    no_wait: bool,
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
    /// Read the ledger with a built-in profile instead of the rule file's [ledger] section
    #[arg(long, value_name = "NAME")]
    ledger_profile: Option<String>,
    /// Read the bank file with a built-in profile (alipay, wechat-merchant, icbc-debit, …) instead of the rule file's [bank] section
    #[arg(long, value_name = "NAME")]
    bank_profile: Option<String>,
    /// What to print on stdout: a short text summary, or summary.json
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    /// Encrypt every result file with the SM4 key in this file (owner-only, from `recon keygen`)
    #[arg(long, value_name = "KEY_FILE", env = "RECON_KEY_FILE")]
    encrypt_key_file: Option<PathBuf>,
    /// Write and show the results as this role of the rules sees them (default: the rules' default_role)
    #[arg(long, value_name = "NAME")]
    role: Option<String>,
    /// Audit log to append to (default: audit.log in the directory holding --out)
    #[arg(long, value_name = "FILE")]
    audit: Option<PathBuf>,
    /// Memory the run may use (4G, 512M, ...; default: half of this machine's memory). A day
    /// estimated larger (2.5 times its files' size + 100 MiB) is reconciled in partitions, one after the
    /// other, and merged: the same results
    #[arg(long, value_name = "SIZE", value_parser = spill::parse_size)]
    memory_limit: Option<u64>,
    /// Where a partitioned run keeps its partitions while it runs (default: beside --out);
    /// removed afterwards
    #[arg(long, value_name = "DIR")]
    spill_dir: Option<PathBuf>,
    /// Print nothing but errors (for cron); the exit code tells the outcome
    #[arg(long, short)]
    quiet: bool,
}

/// Runs `recon run`.
pub fn run(args: Args) -> anyhow::Result<Outcome> {
    let started = Utc::now();
    let part = args.part.as_deref().map(part_input).transpose()?;
    let date = args.date.map(|d| d.resolve(&args.rules));
    if let (Some(date), Some(relative)) = (&date, args.date.and_then(DateArg::word)) {
        if !args.quiet {
            eprintln!("recon: business date {} ({relative} in {})", date.date, date.zone);
        }
    }
    let mut date = date.map(|d| d.date);
    if let Some((manifest, ..)) = &part {
        date = part_date(manifest, date)?;
    }
    let out = match (&args.out, &args.out_root, date) {
        (Some(out), _, _) => out.clone(),
        (None, Some(root), Some(date)) => root.join(date.to_string()),
        _ => return Err(anyhow!("give --out DIR, or --out-root ROOT with --date")),
    };
    let audit_path = args.audit.clone().unwrap_or_else(|| audit::beside_results(&out));
    let log = Log::open(&audit_path).context("nothing was run: every run must be recorded")?;
    log.recover().context("nothing was run")?;
    let contents = log.contents().context("nothing was run")?;
    let (confirmations, resolutions) = match &contents.verification.problem {
        None => (audit::confirmations(&contents), audit::resolutions(&contents)),
        Some(p) => {
            eprintln!(
                "recon: warning: {}: the audit chain is broken ({}); its confirmations and resolutions are not applied. Check it with `recon audit verify {}`",
                audit_path.display(),
                p.message,
                audit_path.display()
            );
            (Vec::new(), Vec::new())
        }
    };
    let role = match rules::load(
        &args.rules,
        date.unwrap_or_else(|| chrono::Local::now().date_naive()),
    ) {
        Ok(plan) => {
            let person = Person::current();
            match access::authorize(&plan, args.role.as_deref(), Action::Run, &person) {
                Ok(role) => role,
                Err(refused) => {
                    let why = refused.to_string();
                    return Err(super::acting::refuse(
                        &log,
                        Action::Run,
                        args.role.clone(),
                        &person,
                        why,
                    ));
                }
            }
        }
        // The run reports rules that cannot be loaded.
        Err(_) => args.role.clone(),
    };
    let (encryption, key_error) = match args.encrypt_key_file.as_deref().map(Sm4Key::load) {
        Some(Err(e)) => (None, Some(e)),
        key => (key.and_then(Result::ok), None),
    };
    let carry_in = carry_in(&args, date, args.quiet);
    let (ledger, bank, part) = match part {
        Some((_, ledger, bank, input)) => (ledger, bank, Some(input)),
        None => (
            args.ledger.clone().unwrap_or_default(),
            args.bank.clone().unwrap_or_default(),
            None,
        ),
    };
    let mut request = RunRequest {
        ledger,
        bank,
        rules: args.rules.clone(),
        out: out.clone(),
        date,
        carry_in: carry_in.as_ref().ok().cloned().flatten(),
        skip_bad_rows: args.skip_bad_rows,
        lang: args.lang,
        reports: args.report.clone(),
        xlsx: args.xlsx,
        ledger_profile: args.ledger_profile.clone(),
        bank_profile: args.bank_profile.clone(),
        encryption,
        role,
        run_id: entry::new_run_id(started),
        confirmations,
        allow_gap: args.allow_gap,
        progress: !args.quiet,
        wait: !args.no_wait,
        resolutions,
        part,
    };
    if carry_in.is_err() && args.carry_in.is_some() {
        // Recorded as given: the failed line names what was asked for.
        request.carry_in = args.carry_in.clone();
    }
    let started_line = Arc::new(Mutex::new(None::<u64>));
    watch_signals(&request, &audit_path, started, Arc::clone(&started_line));
    let result = match (key_error, carry_in) {
        (Some(e), _) => Err(anyhow::Error::new(e).context("cannot encrypt the results; nothing was written")),
        (None, Err(e)) => Err(e),
        (None, Ok(_)) => {
            let mut on_start = |facts: &Started| {
                let entry = started_entry(&request, facts, started);
                let (seq, sha256) = log.append_line(&entry).map_err(|e| {
                    format!(
                        "the run's start could not be recorded in the audit log, so nothing was written: {e}"
                    )
                })?;
                *lock(&started_line) = Some(seq);
                Ok(Some(AuditMark {
                    audit_log: audit_path.display().to_string(),
                    audit_started_line: seq,
                    audit_started_sha256: sha256,
                }))
            };
            let budget = Budget {
                limit: args.memory_limit.unwrap_or_else(spill::default_limit),
                spill_dir: args.spill_dir.clone(),
            };
            let quiet = args.quiet;
            let note = |text: &str| {
                if !quiet {
                    eprintln!("recon: {text}");
                }
            };
            spill::execute(&request, &budget, &mut on_start, &note)
                .map_err(|e| e.context("reconciliation stopped"))
        }
    };
    let started_line = *lock(&started_line);
    match result {
        Ok(outcome) => {
            let code = if outcome.exceptions {
                Outcome::Exceptions
            } else {
                Outcome::Clean
            };
            let entry = RunEntry {
                started_line,
                ..finished(&request, &outcome, code, started)
            };
            let appended = log.append(&entry).with_context(|| {
                format!(
                    "the results are in {}, but the run could not be recorded in the audit log",
                    out.display()
                )
            })?;
            if !args.quiet {
                print_summary(&args, &out, &outcome, &log, appended)?;
            }
            outcome.critical.done();
            Ok(code)
        }
        Err(error) => {
            interrupt::yield_to_interrupt();
            let plan = rules::load(&args.rules, request_date(&request)).ok();
            let message = shown_error(&super::message(&error), plan.as_ref(), args.role.as_deref());
            let entry = RunEntry {
                started_line,
                ..failed(&request, plan.as_ref(), &message, started)
            };
            log.append(&entry).map_err(|a| {
                anyhow!("{message}\n(and the failure could not be recorded in the audit log: {a})")
            })?;
            Err(anyhow!(message))
        }
    }
}

/// `--part DIR`: its manifest, part files and line maps.
fn part_input(dir: &std::path::Path) -> anyhow::Result<(Manifest, PathBuf, PathBuf, PartInput)> {
    let manifest = Manifest::read(dir)?;
    let (ledger, bank, input) = manifest.input(dir)?;
    Ok((manifest, ledger, bank, input))
}

/// A partition is run for its split's date: `--date` may repeat it, not change it.
fn part_date(manifest: &Manifest, given: Option<NaiveDate>) -> anyhow::Result<Option<NaiveDate>> {
    let split = manifest
        .business_date
        .as_deref()
        .map(str::parse::<NaiveDate>)
        .transpose()
        .context("manifest business_date")?;
    match (split, given) {
        (split, None) => Ok(split),
        (Some(split), Some(given)) if split == given => Ok(Some(split)),
        (split, Some(given)) => Err(anyhow!(
            "--date {given}, but the partition was split for {}: run it for the split's date; nothing was written",
            split.map_or_else(|| "no date".to_string(), |d| d.to_string())
        )),
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// `--carry-in`: the path given, or with `auto` the previous day's results
/// under `--out-root`. The first night (no earlier day there) carries nothing
/// in and says so; a missing previous day with older days present is refused
/// unless `--allow-gap` (which carries in the latest earlier day).
fn carry_in(args: &Args, date: Option<NaiveDate>, quiet: bool) -> anyhow::Result<Option<PathBuf>> {
    let Some(given) = &args.carry_in else {
        return Ok(None);
    };
    if given.as_os_str() != "auto" {
        return Ok(Some(given.clone()));
    }
    let (Some(root), Some(date)) = (&args.out_root, date) else {
        return Err(anyhow!(
            "--carry-in auto takes the previous day under --out-root: give --out-root ROOT and --date"
        ));
    };
    let previous = date.pred_opt().map(|d| root.join(d.to_string()));
    if let Some(previous) = previous.filter(|p| p.is_dir()) {
        return Ok(Some(previous));
    }
    let earlier = super::date_arg::earlier_days(root, date);
    match earlier.last() {
        None => {
            if !quiet {
                eprintln!(
                    "recon: first night under {}: no earlier day there, so nothing is carried in",
                    root.display()
                );
            }
            Ok(None)
        }
        Some(latest) if args.allow_gap => Ok(Some(root.join(latest.to_string()))),
        Some(latest) => Err(anyhow!(
            "--carry-in auto: {} has no results for {}, the day before {date} (the latest earlier day is {latest}): run the missing day first, or give --allow-gap to carry in {latest}; nothing was written",
            root.display(),
            date.pred_opt().map_or_else(String::new, |d| d.to_string()),
        )),
    }
}

/// Records an interrupted run (after `interrupt` removed its staging
/// directory) and exits with 128 + the signal number.
fn watch_signals(
    request: &RunRequest,
    audit_path: &std::path::Path,
    started: DateTime<Utc>,
    line: Arc<Mutex<Option<u64>>>,
) {
    let entry = base_entry(request, started);
    let path = audit_path.to_path_buf();
    let watching = interrupt::watch(move |stopped: Stopped| {
        let entry = RunEntry {
            status: "interrupted",
            event: "interrupted",
            exit_code: Some(stopped.exit_code),
            error: Some(format!(
                "interrupted by {}; no results were published",
                stopped.name
            )),
            started_line: *lock(&line),
            ..entry
        };
        let recorded = Log::open(&path).and_then(|log| log.append(&entry));
        match recorded {
            Ok(_) => eprintln!("recon: interrupted by {}; nothing was published", stopped.name),
            Err(e) => eprintln!(
                "recon: interrupted by {}; nothing was published, and the interruption could not be recorded in the audit log: {e}",
                stopped.name
            ),
        }
    });
    if let Err(e) = watching {
        eprintln!(
            "recon: warning: cannot watch for interrupts ({e}); an interrupted run will not be recorded"
        );
    }
}

fn print_summary(
    args: &Args,
    out: &std::path::Path,
    outcome: &RunOutcome,
    log: &Log,
    seq: u64,
) -> anyhow::Result<()> {
    match args.format {
        Format::Text => {
            let zh = outcome.lang == Lang::Zh;
            out!("{}", outcome.summary.to_text(outcome.lang))?;
            for (name, file, rows) in &outcome.reports {
                if zh {
                    outln!("{}{name}：{file} 共 {rows} 行", label("报表"))?;
                } else {
                    outln!("report   {name}: {rows} row(s) in {file}")?;
                }
            }
            let results = label(if zh { "结果" } else { "results" });
            match (&outcome.key_id, zh) {
                (Some(id), false) => outln!("{results}{} (encrypted: SM4-GCM, key id {id})", out.display())?,
                (Some(id), true) => outln!("{results}{}（已加密：SM4-GCM，密钥 id {id}）", out.display())?,
                (None, _) => outln!("{results}{}", out.display())?,
            }
            if zh {
                outln!("{}{} 第 {seq} 行", label("审计"), log.path().display())?;
            } else {
                outln!("audit    {} line {seq}", log.path().display())?;
            }
        }
        Format::Json => out!("{}", String::from_utf8_lossy(&outcome.summary.to_json()))?,
    }
    Ok(())
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
        encryption_key_id: request.encryption.as_ref().map(Sm4Key::id_hex),
        status: "failed",
        exit_code: Some(super::TROUBLE),
        error: None,
        event: "failed",
        started_line: None,
    }
}

/// The `started` line: inputs' hashes and the rules, before anything is written.
fn started_entry(request: &RunRequest, facts: &Started, started: DateTime<Utc>) -> RunEntry {
    RunEntry {
        inputs: facts
            .inputs
            .iter()
            .map(|(name, id)| {
                let digest = InputDigest {
                    path: id.path.clone(),
                    sha256: Some(id.sha256.clone()),
                };
                (*name, digest)
            })
            .collect(),
        rules: Some(facts.rules.clone()),
        status: "started",
        event: "started",
        exit_code: None,
        ..base_entry(request, started)
    }
}

/// The audit line's record of each published file: its SHA-256 and, for the
/// result CSVs, the rows of each side it holds (from the summary).
pub(super) fn output_digests(
    published: &BTreeMap<String, String>,
    summary: &Summary,
) -> BTreeMap<String, OutputDigest> {
    published
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
        .collect()
}

fn finished(request: &RunRequest, outcome: &RunOutcome, code: Outcome, started: DateTime<Utc>) -> RunEntry {
    let summary = &outcome.summary;
    let outputs = output_digests(&outcome.published, summary);
    RunEntry {
        role: summary.role.as_ref().map(|r| r.name.clone()),
        inputs: summary
            .inputs
            .iter()
            .map(|(side, facts)| (*side, facts.path.clone(), facts.sha256.clone()))
            .chain(
                summary
                    .carried_in
                    .iter()
                    .map(|c| ("carry_in", c.path.clone(), c.sha256.clone())),
            )
            .map(|(name, path, sha256)| {
                let digest = InputDigest {
                    path,
                    sha256: Some(sha256),
                };
                (name, digest)
            })
            .collect(),
        rules: Some(summary.rules.clone()),
        outputs,
        review: Some(ReviewCounts {
            items: summary.confirmations.items,
            confirmed: summary.confirmations.confirmed,
        }),
        status: summary.status,
        exit_code: Some(code.exit_code()),
        event: "published",
        ..base_entry(request, started)
    }
}

fn failed(request: &RunRequest, plan: Option<&Plan>, message: &str, started: DateTime<Utc>) -> RunEntry {
    RunEntry {
        inputs: [
            ("ledger", Some(&request.ledger)),
            ("bank", Some(&request.bank)),
            ("carry_in", request.carry_in.as_ref()),
        ]
        .into_iter()
        .filter_map(|(name, path)| Some((name, InputDigest::of(path?))))
        .collect(),
        rules: plan.map(|p| p.identity.clone()),
        error: Some(redact_numbers(message).into_owned()),
        ..base_entry(request, started)
    }
}
