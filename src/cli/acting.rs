//! What `recon confirm` and `recon resolve` share: the results directory's
//! day (its run id, business date and rules, from summary.json), and the
//! checks that the acting user may act on it (their role, its `may`, four
//! eyes). A refusal is appended to the audit log and ends the command with
//! exit 2.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context};
use chrono::{NaiveDate, Utc};

use crate::access::{self, Person};
use crate::audit::entry::{self, Common, RefusedEntry};
use crate::audit::Log;
use crate::rules::roles::{Action, Role};
use crate::rules::{self, Plan};

/// A results directory written by `recon run`, as its summary.json describes it.
pub struct Day {
    /// The run that wrote it.
    pub run_id: Option<String>,
    /// Its business date.
    pub business_date: Option<String>,
    /// The rule file it was reconciled with.
    pub rules: Option<PathBuf>,
}

impl Day {
    /// Reads DIR/summary.json (missing facts are `None`).
    pub fn read(dir: &Path) -> Day {
        let summary: serde_json::Value = std::fs::read(dir.join("summary.json"))
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default();
        let text = |v: &serde_json::Value| v.as_str().map(String::from);
        Day {
            run_id: text(&summary["run_id"]),
            business_date: text(&summary["business_date"]),
            rules: text(&summary["rules"]["path"]).map(PathBuf::from),
        }
    }

    /// The rules of the day: `--rules` when given, else the file summary.json names.
    pub fn plan(&self, dir: &Path, given: Option<&Path>) -> anyhow::Result<Plan> {
        let path = given
            .map(Path::to_path_buf)
            .or_else(|| self.rules.clone())
            .ok_or_else(|| {
                anyhow!(
                    "{}: no summary.json naming the rules (is it a results directory written by recon run?); pass --rules",
                    dir.display()
                )
            })?;
        let date = self
            .business_date
            .as_deref()
            .and_then(|d| d.parse::<NaiveDate>().ok())
            .unwrap_or_else(|| chrono::Local::now().date_naive());
        rules::load(&path, date)
            .with_context(|| "cannot check who may act on these results; pass --rules to name the rule file")
    }
}

/// The person acting and the role they act under, once allowed.
pub struct Acting {
    /// The operating-system user and groups.
    pub person: Person,
    /// The role, when the rules define roles.
    pub role: Option<String>,
}

impl Acting {
    /// The role's definition, if any.
    pub fn role<'p>(&self, plan: &'p Plan) -> Option<&'p Role> {
        self.role.as_ref().and_then(|r| plan.roles.roles.get(r))
    }
}

/// What `confirm` and `resolve` start from: the results directory's day, its
/// rules, the audit log, who acts, and the name recorded as `by`.
pub struct Session {
    /// The day as its summary.json describes it.
    pub day: Day,
    /// The day's rules.
    pub plan: Plan,
    /// The audit log beside the results (or `--audit`).
    pub log: Log,
    /// The person and role, once allowed.
    pub acting: Acting,
    /// `--by`, or the operating-system user when it is absent or blank.
    pub by: String,
}

/// Reads the day in `dir`, loads its rules (`--rules` wins), opens the audit
/// log (`--audit`, else beside the results) and checks that the current user
/// may take `action` under `role`.
pub fn open(
    dir: &Path,
    rules: Option<&Path>,
    audit: Option<&Path>,
    role: Option<&str>,
    by: Option<&str>,
    action: Action,
) -> anyhow::Result<Session> {
    let day = Day::read(dir);
    let plan = day.plan(dir, rules)?;
    let audit_path = audit.map_or_else(|| crate::audit::beside_results(dir), Path::to_path_buf);
    let log = Log::open(&audit_path)?;
    let acting = authorize(&plan, role, action, &day, &log)?;
    let by = by
        .map(str::trim)
        .filter(|b| !b.is_empty())
        .unwrap_or(&acting.person.user)
        .to_string();
    Ok(Session {
        day,
        plan,
        log,
        acting,
        by,
    })
}

/// Checks that the current user may take `action` on `day` under `role`
/// (the role's holders and `may`; with `[resolution] four_eyes`, that they
/// did not run the day). A refusal is recorded in `log` and returned as the error.
pub fn authorize(
    plan: &Plan,
    role: Option<&str>,
    action: Action,
    day: &Day,
    log: &Log,
) -> anyhow::Result<Acting> {
    let person = Person::current();
    let chosen = match access::authorize(plan, role, action, &person) {
        Ok(chosen) => chosen,
        Err(refused) => {
            return Err(refuse(
                log,
                action,
                role.map(String::from),
                &person,
                refused.to_string(),
            ))
        }
    };
    if let Some(name) = &chosen {
        if !plan.roles.roles.contains_key(name) {
            let known: Vec<&str> = plan.roles.roles.keys().map(String::as_str).collect();
            return Err(anyhow!(
                "--role {name}: not a role of {} (roles: {})",
                plan.identity.path,
                if known.is_empty() {
                    "none".into()
                } else {
                    known.join(", ")
                }
            ));
        }
    }
    if plan.resolution.four_eyes && action != Action::Run {
        if let Some(runner) = runner_of(log, day) {
            if runner == person.user {
                let why = format!(
                    "four eyes ([resolution] four_eyes = true): user {runner} ran this day (run {}), so another user must {}",
                    day.run_id.as_deref().unwrap_or("?"),
                    action.name()
                );
                return Err(refuse(log, action, chosen, &person, why));
            }
        }
    }
    Ok(Acting { person, role: chosen })
}

/// Records a refusal in the audit log; the error to end the command with.
pub fn refuse(
    log: &Log,
    action: Action,
    role: Option<String>,
    person: &Person,
    why: String,
) -> anyhow::Error {
    let started = Utc::now();
    let record = RefusedEntry {
        common: Common::new("refused", entry::new_run_id(started), started),
        action: action.name(),
        role,
        groups: person.groups.clone(),
        reason: why.clone(),
        exit_code: super::TROUBLE,
    };
    match log.append(&record) {
        Ok(line) => anyhow!(
            "{why} (refusal recorded at line {line} of {})",
            log.path().display()
        ),
        Err(e) => anyhow!("{why} (and the refusal could not be recorded in the audit log: {e})"),
    }
}

/// The operating-system user who ran `day`, from its run entry in the log.
fn runner_of(log: &Log, day: &Day) -> Option<String> {
    let run_id = day.run_id.as_deref()?;
    let contents = log.contents().ok()?;
    contents
        .entries
        .iter()
        .find(|l| {
            l.entry.get("kind").and_then(|k| k.as_str()) == Some("run")
                && l.entry.get("run_id").and_then(|k| k.as_str()) == Some(run_id)
        })
        .and_then(|l| l.entry.get("user")?.as_str().map(String::from))
}

/// One row of a result CSV, by column name.
pub type Row = std::collections::BTreeMap<String, String>;

/// Refuses (recorded in `log`) when the acting role is limited to some rows
/// (`rows = '…'`) and any of `rows`, the rows of `item`, is outside them
/// (or the rows could not be found to tell).
pub fn require_in_scope(
    plan: &Plan,
    acting: &Acting,
    log: &Log,
    action: Action,
    item: &str,
    rows: &[&Row],
) -> anyhow::Result<()> {
    let Some((filter, text)) = acting.role(plan).and_then(|r| r.rows.as_ref()) else {
        return Ok(());
    };
    if !rows.is_empty()
        && rows
            .iter()
            .all(|row| filter.keeps(|c| row.get(c).map(String::as_str)))
    {
        return Ok(());
    }
    let why = format!(
        "{item} is outside role {}'s rows ({text}): it may {} only rows in scope",
        acting.role.as_deref().unwrap_or_default(),
        action.name()
    );
    Err(refuse(log, action, acting.role.clone(), &acting.person, why))
}

/// Whose rules govern `recon verify` and `recon audit`: `--rules` and
/// `--role` as given, and the rule file the results or the log record.
#[derive(Debug, Default, clap::Args)]
pub struct VerifyAs {
    /// The rule file whose roles say who may verify [default: the one the results' summary.json
    /// names, or for `recon audit` the one the log's latest run used]
    #[arg(long, value_name = "FILE")]
    pub rules: Option<PathBuf>,
    /// Act under this role of the rules (it must hold `verify` in its may)
    #[arg(long, value_name = "NAME")]
    pub role: Option<String>,
}

impl VerifyAs {
    /// For commands that only read (`verify`, `audit verify`, `audit show`):
    /// when the rules (`--rules`, else `recorded`, with the business date to
    /// pick their version) enforce roles, checks that the current user holds
    /// a role that may `verify`; a refusal is appended to the audit log at
    /// `log_path` and ends the command with exit 2. Rules that do not enforce
    /// roles, or no rules at all, leave everyone free to verify; recorded
    /// rules that can no longer be read are said on stderr and not checked.
    pub fn check(&self, recorded: Option<(PathBuf, Option<String>)>, log_path: &Path) -> anyhow::Result<()> {
        let (path, date) = match (&self.rules, recorded) {
            (Some(given), recorded) => (given.clone(), recorded.and_then(|(_, d)| d)),
            (None, Some((path, date))) => (path, date),
            (None, None) => {
                if let Some(role) = &self.role {
                    anyhow::bail!("--role {role}: no rules to find it in; pass --rules");
                }
                return Ok(());
            }
        };
        let date = date
            .and_then(|d| d.parse::<NaiveDate>().ok())
            .unwrap_or_else(|| chrono::Local::now().date_naive());
        let plan = match rules::load(&path, date) {
            Ok(plan) => plan,
            Err(e) if self.rules.is_some() => {
                return Err(anyhow::Error::new(e).context("cannot check who may verify"))
            }
            Err(e) => {
                eprintln!(
                    "note: who may verify is not checked: the rules the results name cannot be read ({e}); pass --rules"
                );
                return Ok(());
            }
        };
        if let Some(role) = &self.role {
            if !plan.roles.roles.contains_key(role) {
                anyhow::bail!("--role {role}: not a role of {}", plan.identity.path);
            }
        }
        if !plan.roles.enforced() {
            return Ok(());
        }
        let person = Person::current();
        match access::authorize(&plan, self.role.as_deref(), Action::Verify, &person) {
            Ok(_) => Ok(()),
            Err(refused) => {
                let log = Log::open(log_path)?;
                Err(refuse(
                    &log,
                    Action::Verify,
                    self.role.clone(),
                    &person,
                    refused.to_string(),
                ))
            }
        }
    }
}

/// The rule file and business date of the latest run an audit log records.
pub fn rules_in_log(contents: &crate::audit::Contents) -> Option<(PathBuf, Option<String>)> {
    contents.entries.iter().rev().find_map(|l| {
        let path = l.entry["rules"]["path"].as_str()?;
        let date = l.entry["business_date"].as_str().map(String::from);
        Some((PathBuf::from(path), date))
    })
}

/// Opens DIR/NAME, a CSV a run wrote, with an error that says what DIR should be.
pub fn results_csv(dir: &Path, name: &str) -> anyhow::Result<csv::Reader<std::fs::File>> {
    let path = dir.join(name);
    csv::Reader::from_path(&path).with_context(|| {
        format!(
            "{}: cannot read (is {} a results directory written by recon run?)",
            path.display(),
            dir.display()
        )
    })
}
