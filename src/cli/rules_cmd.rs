//! `recon rules check`, `test` (which records every invocation in the audit
//! log), `init` and `profiles`.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context};
use chrono::Utc;

use super::Outcome;
use crate::audit::entry::{self, CaseDigest, Common, RulesTestEntry};
use crate::audit::{self, Log};
use crate::output::atomic::replace_file;
use crate::output::mask::redact_numbers;
use crate::rules::roles::Roles;
use crate::rules::{self, profiles};
use crate::run::cases::{self, CaseResult};

/// Subcommands of `recon rules`.
#[derive(Debug, clap::Subcommand)]
#[command(after_help = "\
Examples:
  recon rules check rules/default.toml     validate one rule file
  recon rules check rules/                 validate every version in a directory
  recon rules test examples                run the shipped regression cases
  recon rules init --ledger L.csv --bank B.xlsx -o rules/mine.toml   draft a rule file
  recon rules profiles                     list the built-in profiles

Exit codes: 0 done (valid rules, all cases pass, file written, profiles listed),
            1 a case failed, 2 invalid rules, no cases, or a file that cannot be read
            or written.")]
pub enum Command {
    /// Validate a rule file, or every version in a directory
    #[command(after_long_help = "\
Checks TOML syntax (errors as FILE:LINE:COL), unknown keys, types, and impossible settings:
ignore_below at or above review_above, a window that starts after it ends, no stages, two
stages with one name, settings that do not apply to a stage's kind, and more; in [report],
unknown columns in templates and named reports and filters that do not parse
(FILE:LINE:COL pointing into the filter text). With a directory, checks every version and
lists them by effective date (no two may share one). Column templates and named reports are
listed under each file.

Examples:
  recon rules check rules/default.toml
  recon rules check rules/

Exit codes: 0 valid, 2 invalid (the message says where and why).")]
    Check {
        /// A rule file or a directory of rule files
        path: PathBuf,
    },
    /// Run rule regression cases (ledger.csv, bank.csv, rules.toml, expected/*.csv)
    #[command(after_long_help = "\
A case is a folder with ledger.csv, bank.csv, rules.toml and expected/ holding the result
CSVs (matched.csv, unmatched.csv, duplicates.csv, ignored.csv, pending.csv, out_of_period.csv)
the rules must produce, byte for byte; only the expected files present are compared. An
optional case.toml with `date = 2026-11-24` runs the case for that business day, as
`recon run --date` does. DIR is a case, or a folder of cases.

Every invocation appends one line to an audit log (which rules, by SHA-256, passed or failed):
by default the user's $XDG_STATE_HOME/recon/audit.log (else ~/.local/state/recon/audit.log),
so testing rules in a repository leaves no file in it.

Examples:
  recon rules test examples                  every shipped case
  recon rules test examples/thresholds       one case
  recon rules test rules/cases --audit /data/recon/audit.log

Exit codes: 0 all cases pass, 1 a case failed (its first differing line is shown),
            2 DIR holds no cases, cannot be read, or the run cannot be recorded.")]
    Test {
        /// A case folder, or a folder of case folders
        dir: PathBuf,
        /// Audit log to append to (default: $XDG_STATE_HOME/recon/audit.log, else ~/.local/state/recon/audit.log)
        #[arg(long, value_name = "FILE")]
        audit: Option<PathBuf>,
    },
    /// Draft a starting rule file from a ledger and a bank file
    #[command(after_long_help = "\
Reads both files (any encoding, CSV or .xlsx/.xls) and writes a rule file that `recon run`
accepts for them, with a comment on every choice:
  - the detected encoding and delimiter, and the header line found;
  - a built-in profile when the whole header of one is there (recon rules profiles), else the
    column roles (key, amount or debit/credit, direction, time, merchant) guessed from header
    names in Chinese and English and from the values;
  - the key columns, ranked by how many values the two files share (the top 5 pairs are listed);
  - the time offset between rows sharing a key, and the bank time zone it suggests
    (a bank writing UTC next to a Beijing-time ledger gets timezone = \"UTC\");
  - match stages: key, split, and a fallback on amount and time (and merchant, when the
    merchant columns share values).
  - a batch stage instead, when the statement holds far fewer credits than the ledger has
    rows and most credits are the net of one merchant's rows on one business day paid T+N
    (group_by merchant, settle = \"T+N\", the fee column netted; see docs/formats.md).
An existing file is never overwritten unless --force is given.

Examples:
  recon rules init --ledger ledger.csv --bank alipay.csv -o rules/mine.toml
  recon rules init --ledger L.csv --bank statement.xlsx -o rules/bank.toml --force

Exit codes: 0 written, 2 a file could not be read, no amount column was found, or OUT exists.")]
    Init {
        /// The platform ledger export
        #[arg(long, value_name = "FILE")]
        ledger: PathBuf,
        /// The bank or channel statement
        #[arg(long, value_name = "FILE")]
        bank: PathBuf,
        /// Where to write the rule file
        #[arg(short, long, value_name = "OUT")]
        output: PathBuf,
        /// Replace OUT if it exists
        #[arg(long)]
        force: bool,
    },
    /// List the built-in profiles, or print one
    #[command(after_long_help = "\
Profiles read the files everyone has without a column mapping: Alipay and WeChat Pay bills
(personal and merchant), the big banks' statement exports, and a generic bank CSV whose
columns are guessed. Use one with `profile = \"NAME\"` in a rule file's [ledger] or [bank]
section (the section's own keys win), with `recon run --bank-profile NAME`, or with
`recon check FILE --profile NAME` (`--profile auto` picks the recognised one).

Examples:
  recon rules profiles
  recon rules profiles wechat-merchant

Exit codes: 0 listed or printed, 2 no profile has that name.")]
    Profiles {
        /// Print this profile's TOML
        name: Option<String>,
    },
}

/// Runs a `recon rules` subcommand.
pub fn run(command: Command) -> anyhow::Result<Outcome> {
    match command {
        Command::Check { path } => check(&path),
        Command::Test { dir, audit } => test(&dir, audit),
        Command::Init {
            ledger,
            bank,
            output,
            force,
        } => init(&ledger, &bank, &output, force),
        Command::Profiles { name } => list_profiles(name.as_deref()),
    }
}

fn init(ledger: &Path, bank: &Path, output: &Path, force: bool) -> anyhow::Result<Outcome> {
    if output.exists() && !force {
        bail!(
            "{}: already exists; recon rules init never overwrites a rule file unless --force is given",
            output.display()
        );
    }
    let name = output
        .file_stem()
        .map_or_else(|| "drafted".to_string(), |s| s.to_string_lossy().into_owned());
    let today = chrono::Local::now().date_naive();
    let draft = rules::init::draft(ledger, bank, &name, today)?;
    if let Some(parent) = output.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("{}: cannot create the directory", parent.display()))?;
    }
    replace_file(output, draft.text.as_bytes())?;
    for note in &draft.notes {
        outln!("{note}")?;
    }
    outln!("wrote {}", output.display())?;
    let path = output.display();
    outln!(
        "before the first `recon run --date D`, check in {path}:\n  \
         [business] timezone, cutoff = \"T+1 10:00\" and pending_grace = \"10m\": the zone your days\n  \
         are counted in, when a day's statement is final, how long the day's last rows may wait\n  \
         [thresholds] ignore_below = \"1.00\", review_above = \"5000.00\"; [duplicates] window = \"24h\"\n  \
         the key pair, the bank timezone and the stages (every choice has a comment)\n\
         then: recon rules check {path}"
    )?;
    Ok(Outcome::Clean)
}

fn list_profiles(name: Option<&str>) -> anyhow::Result<Outcome> {
    if let Some(name) = name {
        out!("{}", profiles::find(name).map_err(anyhow::Error::msg)?.source)?;
        return Ok(Outcome::Clean);
    }
    for p in profiles::all().map_err(anyhow::Error::msg)? {
        outln!("{:<24}{}", p.name, p.title)?;
        outln!("{:<24}evidence: {}", "", p.evidence)?;
    }
    Ok(Outcome::Clean)
}

/// Whether roles are enforced, and who holds each and what it may do.
fn roles_line(roles: &Roles) -> String {
    if !roles.enforced() {
        return "roles are not enforced: no role names users or groups, so any user may take any role (add users = [...] or groups = [...] to a role)".into();
    }
    let each: Vec<String> = roles
        .roles
        .iter()
        .map(|(name, role)| {
            let holders: Vec<String> = role
                .users
                .iter()
                .cloned()
                .chain(role.groups.iter().map(|g| format!("group {g}")))
                .collect();
            let holders = if holders.is_empty() {
                "nobody".to_string()
            } else {
                holders.join(", ")
            };
            let may: Vec<&str> = role.may.iter().map(|a| a.name()).collect();
            let may = if may.is_empty() { vec!["nothing"] } else { may };
            let rows = role
                .rows
                .as_ref()
                .map(|(_, text)| format!(", rows where {text}"))
                .unwrap_or_default();
            format!("{name}: {holders} may {}{rows}", may.join("/"))
        })
        .collect();
    format!("roles enforced: {}", each.join("; "))
}

fn check(path: &Path) -> anyhow::Result<Outcome> {
    let plans = if path.is_dir() {
        rules::load_versions(path)?
    } else {
        vec![rules::load_file(path)?]
    };
    if plans.is_empty() {
        bail!("{}: no .toml rule files in this directory", path.display());
    }
    for plan in &plans {
        let id = &plan.identity;
        let roles = match &plan.roles.default_role {
            Some(default) => format!(
                "  roles {} (default {default})",
                plan.roles.roles.keys().cloned().collect::<Vec<_>>().join(", ")
            ),
            None => String::new(),
        };
        outln!(
            "ok  {}  {} {}  effective from {}  {} stage(s)  sha256 {}{roles}",
            id.path,
            id.name,
            id.version,
            id.effective_from,
            plan.stages.len(),
            id.sha256
        )?;
        if !plan.roles.roles.is_empty() {
            outln!("    {}", roles_line(&plan.roles))?;
        }
        if !plan.resolution.reasons.is_empty() || plan.resolution.four_eyes {
            let codes: Vec<String> = plan
                .resolution
                .reasons
                .iter()
                .map(|(code, label)| format!("{code} ({label})"))
                .collect();
            let four_eyes = if plan.resolution.four_eyes {
                "; four eyes: who ran a day may not confirm or resolve it"
            } else {
                ""
            };
            outln!("    resolution reasons: {}{four_eyes}", codes.join(", "))?;
        }
        match crate::partition::partition_key(plan) {
            Ok(key) => outln!("    partitions: by {} (recon split)", key.name())?,
            Err(why) => outln!("    partitions: none: {why}")?,
        }
        for (kind, columns) in &plan.report.templates {
            outln!("    columns {}: {}", kind.file(), columns.join(", "))?;
        }
        for n in &plan.report.named {
            let from: Vec<&str> = n.from.iter().map(|k| k.name()).collect();
            let filter = if n.filter_text.is_empty() {
                String::new()
            } else {
                format!(" where {}", n.filter_text)
            };
            outln!(
                "    report {} (--report {}): rows of {}{filter}",
                n.name,
                n.name,
                from.join(", ")
            )?;
            if !n.description.is_empty() {
                outln!("        {}", n.description)?;
            }
        }
    }
    Ok(Outcome::Clean)
}

fn test(dir: &Path, audit: Option<PathBuf>) -> anyhow::Result<Outcome> {
    let started = Utc::now();
    let audit_path = audit
        .or_else(audit::user_state_log)
        .ok_or_else(|| anyhow!("no audit log: neither XDG_STATE_HOME nor HOME is set; give --audit FILE"))?;
    let log = Log::open(&audit_path).context("no case was run: every rules test must be recorded")?;
    let run_id = entry::new_run_id(started);
    let mut record = RulesTestEntry {
        common: Common::new("rules_test", run_id.clone(), started),
        cases_dir: dir.display().to_string(),
        cases: Vec::new(),
        status: "error",
        exit_code: super::TROUBLE,
        error: None,
    };
    let results = match cases::run_all(dir, &run_id) {
        Ok(results) => results,
        Err(e) => {
            let message = format!("{}: cannot run the cases: {e}", dir.display());
            record.error = Some(redact_numbers(&message).into_owned());
            log.append(&record)?;
            bail!(message);
        }
    };
    let outcome = report(&results)?;
    record.common = Common::new("rules_test", run_id, started);
    record.cases = results
        .iter()
        .map(|r| CaseDigest {
            name: r.name.clone(),
            passed: r.failures.is_empty(),
            failures: r.failures.len(),
            rules: r.rules.clone(),
        })
        .collect();
    record.status = if outcome == Outcome::Clean {
        "passed"
    } else {
        "failed"
    };
    record.exit_code = outcome.exit_code();
    log.append(&record)?;
    Ok(outcome)
}

/// Prints pass/FAIL per case and the totals.
fn report(results: &[CaseResult]) -> anyhow::Result<Outcome> {
    let mut failed = 0;
    for CaseResult { name, failures, .. } in results {
        if failures.is_empty() {
            outln!("pass  {name}")?;
        } else {
            failed += 1;
            outln!("FAIL  {name}")?;
            for f in failures {
                outln!("      {f}")?;
            }
        }
    }
    outln!("{} passed, {} failed", results.len() - failed, failed)?;
    Ok(if failed == 0 {
        Outcome::Clean
    } else {
        Outcome::Exceptions
    })
}
