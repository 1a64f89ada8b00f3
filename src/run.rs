//! One reconciliation run, start to finish: load the effective rules, read
//! both files (one after the other, each in parallel) and any rows carried
//! in, scope them to the business day, match, render, prove conservation,
//! and publish the results directory atomically. A run that fails at any step publishes nothing, so
//! earlier results stay as they were. The requested role's masking is
//! applied to every file just before publishing.

use std::collections::BTreeMap;
use std::path::PathBuf;

use chrono::{NaiveDate, SecondsFormat, Utc};

use rayon::prelude::*;
use thiserror::Error;

use crate::crypto::Sm4Key;
use crate::input::carry::{self, CarryError, CarryIn};
use crate::input::records::RowError;
use crate::input::status::SetAside;
use crate::input::{self, ReadError, SourceFile};
use crate::matching;
use crate::matching::period::{Scope, SideRows};
use crate::model::{Record, Side, SourceId, Tally};
use crate::output::atomic::{PublishError, Staging};
use crate::output::mask::{self, View, ViewError};
use crate::output::reports::{self, ViewRequest};
use crate::output::resolutions::{self, Resolution};
use crate::output::review::{self, Confirmation, ItemKind};
use crate::output::summary::{
    self, AuditMark, BatchCounts, CarriedInFacts, Conservation, Encryption, InputFacts, OpenFacts,
    PeriodFacts, Summary,
};
use crate::output::tables::{self, OutputFile, RejectedRow, RenderInput, RenderTo, SideTallies};
use crate::output::{causes, fees};
use crate::progress::RunProgress;
use crate::rules::business::BusinessDay;
use crate::rules::plan::RuleIdentity;
use crate::rules::report::Lang;
use crate::rules::{self, profiles, Plan, RulesError};

pub mod cases;
pub(crate) mod guard;
mod part;
mod scoped;
mod worklists;

pub use part::{PartInput, PartSide};

/// What to reconcile and where to put the results.
#[derive(Debug, Clone)]
pub struct RunRequest {
    /// The platform ledger export.
    pub ledger: PathBuf,
    /// The bank or channel statement.
    pub bank: PathBuf,
    /// A rule file, or a directory of versions.
    pub rules: PathBuf,
    /// The results directory.
    pub out: PathBuf,
    /// The business date: selects the rule version and scopes the rows to that day.
    pub date: Option<NaiveDate>,
    /// The previous run's results directory or its pending.csv (`--carry-in`).
    pub carry_in: Option<PathBuf>,
    /// Set bad rows aside in `rejected.csv` instead of stopping.
    pub skip_bad_rows: bool,
    /// Language of likely causes and report.html (default: the rules' `[report] lang`).
    pub lang: Option<Lang>,
    /// Named reports (`[[report.named]]`) to write as `report-NAME.csv`.
    pub reports: Vec<String>,
    /// Also write results.xlsx.
    pub xlsx: bool,
    /// Read the ledger with this built-in profile instead of the rule file's `[ledger]`.
    pub ledger_profile: Option<String>,
    /// Read the bank file with this built-in profile instead of the rule file's `[bank]`.
    pub bank_profile: Option<String>,
    /// Encrypt every result file under this key (`NAME.sm4`); its id is in
    /// `summary.json`'s `encryption` and, for the audit log, `RunOutcome::key_id`.
    pub encryption: Option<Sm4Key>,
    /// The role whose view is written (`None`: the rules' `default_role`).
    pub role: Option<String>,
    /// Identifies this run in summary.json and the audit log.
    pub run_id: String,
    /// Reviewers' confirmations, from the audit log.
    pub confirmations: Vec<Confirmation>,
    /// Accept a `--carry-in` that is not the previous business day's.
    pub allow_gap: bool,
    /// Draw the progress bar (when stderr is a terminal).
    pub progress: bool,
    /// Wait for another run writing beside `out` to finish (else refuse).
    pub wait: bool,
    /// Resolutions of exceptions in force, from the audit log.
    pub resolutions: Vec<Resolution>,
    /// With `recon run --part`: `ledger` and `bank` are a partition of these originals.
    pub part: Option<PartInput>,
}

/// What a run knows once its inputs are read and checked, just before it
/// writes anything: what the audit log's `started` line records.
#[derive(Debug)]
pub struct Started<'a> {
    /// The rules in force.
    pub rules: &'a RuleIdentity,
    /// `ledger`, `bank` and, with `--carry-in`, `carry_in`: path and SHA-256.
    pub inputs: Vec<(&'static str, SourceId)>,
}

/// Called by `execute_with` before anything is written; the mark it returns
/// is recorded in summary.json. An error stops the run (nothing written).
pub type OnStart<'h> = dyn FnMut(&Started<'_>) -> Result<Option<AuditMark>, String> + 'h;

/// A finished run.
#[derive(Debug)]
pub struct RunOutcome {
    /// What was written to `summary.json`.
    pub summary: Summary,
    /// True when anything unmatched, duplicated or rejected is still open,
    /// or a day with exceptions has review flags still unconfirmed.
    pub exceptions: bool,
    /// Named reports written: (name, file name, rows).
    pub reports: Vec<(String, String, usize)>,
    /// SHA-256 of every published file, by name.
    pub published: BTreeMap<String, String>,
    /// The id (16 hex digits) of the key the results were encrypted with, if
    /// any: what the audit log records instead of the key.
    pub key_id: Option<String>,
    /// The language the run wrote in (`--lang`, `[report] lang`, the locale).
    pub lang: Lang,
    /// Held until the run is recorded: a signal waits for it (`Critical::done`).
    pub critical: crate::interrupt::Critical,
}

/// Why a run stopped without publishing results.
#[derive(Debug, Error)]
pub enum RunError {
    /// The rules could not be loaded.
    #[error(transparent)]
    Rules(#[from] RulesError),
    /// The role cannot be applied.
    #[error(transparent)]
    View(#[from] ViewError),
    /// An input could not be read.
    #[error(transparent)]
    Read(#[from] ReadError),
    /// The previous run's results could not be carried in.
    #[error(transparent)]
    Carry(#[from] CarryError),
    /// Rows could not be typed and `--skip-bad-rows` was not given.
    #[error("{} bad row(s); nothing was written. Fix them, or rerun with --skip-bad-rows to set them aside in rejected.csv:\n{}", .count, .listing)]
    BadRows {
        /// How many.
        count: usize,
        /// `FILE:LINE:COL: message` lines (the first 20).
        listing: String,
    },
    /// A profile named on the command line does not exist.
    #[error("{0}")]
    Profile(String),
    /// The outputs do not account for the inputs: a bug, never published.
    #[error("conservation check failed, nothing was written: {0}")]
    Conservation(String),
    /// The results could not be written.
    #[error("{error}{advice}", error = .0, advice = publish_advice(.0))]
    Publish(#[from] PublishError),
    /// `--report NAME` names no `[[report.named]]` of the rules.
    #[error("{rules}: no [[report.named]] called \"{name}\" (defined: {known})")]
    UnknownReport {
        /// The name asked for.
        name: String,
        /// The rule file.
        rules: String,
        /// The names defined, or "none".
        known: String,
    },
    /// results.xlsx could not be built.
    #[error("cannot build results.xlsx, nothing was written: {0}")]
    Workbook(#[from] rust_xlsxwriter::XlsxError),
    /// The inputs cannot be this business day's (see `guard`).
    #[error("{0}; nothing was written")]
    Guard(String),
    /// The run's start could not be recorded in the audit log.
    #[error("{0}")]
    NotRecorded(String),
}

/// What to do when the results could not be written (the refusals say it themselves).
fn publish_advice(error: &PublishError) -> &'static str {
    match error {
        PublishError::Io { .. } => {
            ". Nothing was changed: give --out a path in a directory you can write to, with room for the results"
        }
        _ => "",
    }
}

/// Runs a reconciliation and publishes its results.
pub fn execute(request: &RunRequest) -> Result<RunOutcome, RunError> {
    execute_with(request, &mut |_| Ok(None))
}

/// `execute`, calling `on_start` once the inputs are read and checked,
/// before anything is written.
pub fn execute_with(request: &RunRequest, on_start: &mut OnStart<'_>) -> Result<RunOutcome, RunError> {
    let started_at = now();
    let date = request.date.unwrap_or_else(|| chrono::Local::now().date_naive());
    let mut plan = rules::load(&request.rules, date)?;
    use_profiles(&mut plan, request)?;
    if let Some(part) = &request.part {
        part.ledger.pin(&mut plan.ledger);
        part.bank.pin(&mut plan.bank);
    }
    let view = View::resolve(&plan, request.role.as_deref())?;
    check_report_names(&plan, &request.reports)?;
    let lang = request
        .lang
        .or(plan.report.lang)
        .unwrap_or_else(Lang::from_locale);
    // Matching words its review reasons in the run's language.
    plan.report.lang = Some(lang);
    if request.part.is_none() {
        guard::distinct_files(&request.ledger, &request.bank)?;
    }
    let progress = RunProgress::start(request.progress);
    // One file after the other: each is decoded and parsed on every core
    // already, in bounded pieces when it can be (`input::pieces`); a file
    // read whole then never sits in memory beside the other's raw and
    // decoded text (3 GB at 10M orders). The statement first: it is the one
    // usually decoded (GBK), so when read whole its raw and decoded text are
    // held beside no records. A broken ledger is still the error reported first.
    let bank = input::read_source(&request.bank, Side::Bank, &plan.bank);
    let mut ledger = input::read_source(&request.ledger, Side::Ledger, &plan.ledger)?;
    let mut bank = bank?;
    if let Some(part) = &request.part {
        part.ledger.restore(&mut ledger);
        part.bank.restore(&mut bank);
    }
    let rejected = collect_rejected(&ledger, &bank, request.skip_bad_rows, &plan, &view)?;
    if let Some(path) = &request.carry_in {
        mask::refuse_masked_results(path, request.encryption.as_ref())?;
    }
    // A partition carries in only the previous results' rows of its partition.
    let holds = request
        .part
        .as_ref()
        .map(|p| |key: &str, merchant: &str| p.holds(key, merchant));
    let mut carry = request
        .carry_in
        .as_deref()
        .map(|path| {
            carry::read(
                path,
                plan.business_zone,
                [&plan.ledger.columns.carry, &plan.bank.columns.carry],
                request.date,
                request.encryption.as_ref(),
                holds.as_ref().map(|f| f as &(dyn Fn(&str, &str) -> bool + Sync)),
            )
        })
        .transpose()?;
    if let (Some(carry), Some(date), false) = (&carry, request.date, request.allow_gap) {
        guard::previous_day(carry, date)?;
    }
    let carried_in = carry.as_ref().map(CarriedInFacts::new);
    let day = request.date.map(|d| plan.business_day(d));
    let statement_until = day.as_ref().and_then(|d| matching::statement_until(&plan, d));
    // A partition may hold no row of the day: `recon split` checked the whole files.
    if let (Some(day), Some(date), None) = (&day, request.date, &request.part) {
        for side in [&ledger, &bank] {
            guard::some_rows_in_period(side, day, statement_until, date, plan.business_zone)?;
        }
    }
    let input_tallies = SideTallies {
        ledger: input_tally(&ledger.typed.records, &ledger),
        bank: input_tally(&bank.typed.records, &bank),
    };
    let scope = scope(&mut ledger, &mut bank, carry.as_mut(), day, statement_until);
    guard::rows_fit(scope.all(), &request.ledger, &request.bank)?;
    progress.next();
    let mut result = scope.settle(matching::reconcile(scope.to_match(), &plan, day.as_ref()));
    progress.next();
    // Likely causes and the worklist's fingerprints read the same result: side by side.
    let (causes, (fee_check, prints)) = rayon::join(
        || causes::find(scope.all(), &result, &plan, lang),
        || {
            // Resolutions never move a row out of its period, which is all the fee check reads.
            let fee_check = fees::check(scope.all(), &result, &plan);
            let fee_rows: Vec<(Side, usize)> = fee_check
                .as_ref()
                .map_or(&[][..], |f| &f.variances)
                .iter()
                .map(|f| (f.side, f.index))
                .collect();
            let prints = review::worklist_prints(scope.all(), &result, &fee_rows);
            (fee_check, prints)
        },
    );
    let date_text = request.date.map(|d| d.to_string());
    let resolved = resolutions::apply(
        scope.all(),
        &mut result,
        &prints,
        &request.resolutions,
        date_text.as_deref(),
        plan.stages.len(),
        fee_check.as_ref().map_or(&[], |f| &f.variances),
    );
    let inputs = [source_id(&ledger), source_id(&bank)];
    let set_aside: Vec<&SetAside> = ledger.set_aside.iter().chain(&bank.set_aside).collect();
    let started = Started {
        rules: &plan.identity,
        inputs: [("ledger", inputs[0].clone()), ("bank", inputs[1].clone())]
            .into_iter()
            .chain(carry.as_ref().map(|c| ("carry_in", c.pending.clone())))
            .collect(),
    };
    let audit = on_start(&started).map_err(RunError::NotRecorded)?;
    let staging = Staging::begin(&request.out, request.encryption.as_ref(), request.wait)?;
    // Result files go straight to disk, unless the run rewrites them before publishing.
    let rewrites = view.hides_anything()
        || view.scope().is_some()
        || !plan.report.templates.is_empty()
        || !request.reports.is_empty()
        || request.xlsx;
    let to = if rewrites {
        RenderTo::Memory
    } else {
        RenderTo::Staging(&staging)
    };
    let fee_facts = fee_check.as_ref().map(|f| f.facts.clone());
    // The result CSVs, the worklist, resolutions.csv and fee_variances.csv
    // are independent: rendered side by side.
    let (files, (worklists, fee_csv)) = rayon::join(
        || {
            tables::render(
                &RenderInput {
                    sides: scope.all(),
                    result: &result,
                    plan: &plan,
                    rejected: &rejected,
                    inputs: [&inputs[0], &inputs[1]],
                    carried_from: carry.as_ref().map(|c| c.sources.each_ref().map(Option::as_ref)),
                    causes: &causes,
                    set_aside: &set_aside,
                    resolved: &resolved,
                },
                to,
            )
        },
        || {
            rayon::join(
                || {
                    let sources = worklists::Sources {
                        sides: scope.all(),
                        result: &result,
                        prints: &prints,
                        resolved: &resolved,
                        plan: &plan,
                        causes: &causes,
                        confirmations: &request.confirmations,
                    };
                    worklists::render(&sources, to)
                },
                || fee_check.map(|f| f.render(scope.all(), &plan, &resolved)),
            )
        },
    );
    let files = files?;
    let worklists::Worklists {
        items: review_items,
        status: review_status,
        review_csv,
        resolutions_csv,
        written: worklists_written,
    } = worklists?;
    progress.next();
    let carried_tallies = carried_in
        .as_ref()
        .map(CarriedInFacts::tallies)
        .unwrap_or_default();
    let conservation = summary::conservation(&input_tallies, &carried_tallies, &files);
    require_conservation(&conservation)?;
    let all = scope.all();
    let read = all
        .ledger
        .iter()
        .chain(all.bank)
        .chain(set_aside.iter().map(|a| &a.record));
    let currencies = summary::currency_conservation(read, &files);
    if let Some((currency, c)) = currencies.iter().find(|(_, c)| !c.holds) {
        return Err(RunError::Conservation(format!(
            "{currency}: read ledger {} rows summing to {}, bank {} summing to {}; outputs hold ledger {} summing to {}, bank {} summing to {}",
            c.input.ledger.count,
            c.input.ledger.amount,
            c.input.bank.count,
            c.input.bank.amount,
            c.outputs.ledger.count,
            c.outputs.ledger.amount,
            c.outputs.bank.count,
            c.outputs.bank.amount
        )));
    }
    let mut names = stage_names(&plan);
    if resolved.status.paired > 0 {
        names.push(rules::plan::MANUAL_STAGE.to_string());
    }
    let (stages, unmatched_by_reason) = summary::stage_and_reason_counts(&result, &names);
    // The worklist's review items are the matches flagged for review.
    let flags = result.matches.iter().filter(|m| m.flagged()).count() as u64;
    let confirmed_flags = review_status
        .confirmed_items
        .iter()
        .filter(|i| i.kind == ItemKind::Review)
        .count() as u64;
    let open = OpenFacts {
        rows: resolved.open(),
        rejected: rejected.len() as u64,
        review_flags: flags - confirmed_flags,
    };
    // Fee variances are exception items too: the day closes when each is accepted.
    let status = status_of(open.rejected, resolved.status.exceptions, &open);
    let exceptions = status == "exceptions";
    let mut resolutions_csv = resolutions_csv;
    let mut fee_csv = fee_csv;
    // Conservation is proved over every row above; a scoped role's view is cut now.
    let mut files = files;
    let cut = scoped::cut(
        &view,
        &mut files,
        &mut resolutions_csv,
        &scoped::Whole {
            sides: scope.all(),
            result: &result,
            set_aside: &set_aside,
            rejected: &rejected,
            plan: &plan,
            resolved: &resolved,
            review_items: &review_items,
            confirmations: &request.confirmations,
            stage_names: &names,
        },
    );
    if let Some(cut) = &cut {
        require_conservation(&cut.conservation)?;
    }
    let resolutions_csv = owned(view.apply_csv(&resolutions_csv)).unwrap_or(resolutions_csv);
    let mut summary = Summary {
        tool: format!("recon {}", env!("CARGO_PKG_VERSION")),
        run_id: request.run_id.clone(),
        role: view.facts(),
        business_date: request.date.map(|d| d.to_string()),
        period: day.as_ref().map(|d| PeriodFacts::new(d, &plan)),
        started_at,
        finished_at: now(),
        rules: plan.identity.clone(),
        inputs: [
            ("ledger", facts(&ledger, input_tallies.ledger)),
            ("bank", facts(&bank, input_tallies.bank)),
        ]
        .into_iter()
        .collect(),
        carried_in,
        outputs: files.iter().map(|f| (f.name, f.tallies)).collect(),
        stages,
        batches: BatchCounts::of(&plan, &result.batches),
        fees: fee_facts,
        review: result.matches.iter().filter(|m| m.flagged()).count() as u64,
        unmatched_by_reason,
        confirmations: review_status,
        resolutions: resolved.status.clone(),
        open,
        conservation,
        currencies,
        status,
        scope: None,
        encryption: request.encryption.as_ref().map(Encryption::of),
        audit,
    };
    let mut review_csv = review_csv;
    if let Some(cut) = cut {
        (review_csv, fee_csv) = cut.into_summary(&mut summary, &view);
    }
    // Nothing below reads the records or the matching again: they are freed
    // while report.html is built, so that the files written last are never
    // held beside them. That step held the run's peak memory.
    drop(set_aside);
    let done_with = (
        scope,
        (result, causes, prints, resolved, review_items, rejected),
        (ledger, bank, carry),
    );
    progress.next();
    let summary_json = summary.to_json();
    // Masking first: every view below is built from the CSVs as the role sees them.
    let masked: Vec<OutputFile> = files
        .into_iter()
        .map(|mut f| {
            if let Some(bytes) = owned(view.apply_csv(&f.bytes)) {
                f.bytes = bytes;
            }
            f
        })
        .collect();
    let fee_csv = fee_csv.map(|csv| owned(view.apply_csv(&csv)).unwrap_or(csv));
    let mut more_sheets = reports::worklist_sheets(&review_csv, &resolutions_csv, fee_csv.as_deref());
    // The worklists written to staging already are neither a sheet nor written again.
    more_sheets.retain(|(name, _)| worklists_written.iter().all(|(written, _)| written != name));
    let (views, ()) = rayon::join(
        || {
            reports::build(
                masked,
                &ViewRequest {
                    summary: &summary,
                    report: &plan.report,
                    review_above: plan.review_above,
                    zone: plan.business_zone.name(),
                    lang,
                    named: &request.reports,
                    xlsx: request.xlsx,
                    handling: &resolutions_csv,
                    more_sheets: &more_sheets,
                },
            )
        },
        move || {
            let (scope, rest, inputs) = done_with;
            rayon::join(|| scope.free(), move || drop((rest, inputs)));
        },
    );
    let views = views?;
    let mut published: BTreeMap<String, String> = views
        .files
        .iter()
        .filter_map(|f| Some((f.name.to_string(), f.sha256.clone()?)))
        .collect();
    // What is still in memory is written (hashed, synced) by several threads at once.
    let unwritten: Vec<(&str, &[u8])> = views
        .files
        .iter()
        .filter(|f| f.sha256.is_none())
        .map(|f| (f.name, f.bytes.as_slice()))
        .chain(more_sheets.iter().copied())
        .chain(views.extra.iter().map(|(n, b)| (n.as_str(), b.as_slice())))
        .chain([("summary.json", summary_json.as_slice())])
        .collect();
    let written = unwritten
        .par_iter()
        .map(|&(name, bytes)| Ok((name.to_string(), staging.write(name, bytes)?)))
        .collect::<Result<Vec<_>, PublishError>>()?;
    published.extend(written);
    published.extend(
        worklists_written
            .into_iter()
            .map(|(name, sha256)| (name.to_string(), sha256)),
    );
    let mut critical = crate::interrupt::critical();
    staging.commit()?;
    critical.published();
    Ok(RunOutcome {
        summary,
        exceptions,
        reports: views.named,
        published,
        key_id: request.encryption.as_ref().map(Sm4Key::id_hex),
        lang,
        critical,
    })
}

/// A run's status: `reconciled` (no exceptions), `closed` (every exception
/// paired or accepted, every fee variance accepted and every review flag
/// confirmed) or `exceptions`.
fn status_of(rejected: u64, exceptions: u64, open: &OpenFacts) -> &'static str {
    if rejected == 0 && exceptions == 0 {
        "reconciled"
    } else if open.rows + open.rejected + open.review_flags == 0 {
        "closed"
    } else {
        "exceptions"
    }
}

/// Every `--report NAME` must be defined in the rules.
fn check_report_names(plan: &Plan, names: &[String]) -> Result<(), RunError> {
    let Some(name) = names.iter().find(|n| plan.report.named(n).is_none()) else {
        return Ok(());
    };
    let known: Vec<&str> = plan.report.named.iter().map(|n| n.name.as_str()).collect();
    Err(RunError::UnknownReport {
        name: name.clone(),
        rules: plan.identity.path.clone(),
        known: if known.is_empty() {
            "none".into()
        } else {
            known.join(", ")
        },
    })
}

/// The bytes of a rewritten file; `None` when it came back unchanged.
fn owned(bytes: std::borrow::Cow<[u8]>) -> Option<Vec<u8>> {
    match bytes {
        std::borrow::Cow::Owned(b) => Some(b),
        std::borrow::Cow::Borrowed(_) => None,
    }
}

/// Stops the run, before anything is written, when a side's outputs do not
/// add up to its input (a bug: it must never produce a published result).
fn require_conservation(conservation: &BTreeMap<&'static str, Conservation>) -> Result<(), RunError> {
    match conservation.iter().find(|(_, c)| !c.holds) {
        Some((side, c)) => Err(RunError::Conservation(format!(
            "{side}: read {} rows summing to {}, outputs hold {} rows summing to {}",
            c.input.count, c.input.amount, c.outputs.count, c.outputs.amount
        ))),
        None => Ok(()),
    }
}

fn now() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Sets aside the rows that are not this run's business (`--date`, rows the
/// previous run settled) and adds the rows carried in; moves the records.
fn scope(
    ledger: &mut SourceFile,
    bank: &mut SourceFile,
    carry: Option<&mut CarryIn>,
    day: Option<BusinessDay>,
    statement_until: Option<chrono::DateTime<Utc>>,
) -> Scope {
    let take = std::mem::take::<Vec<Record>>;
    let (carried, mut settled) = match carry {
        Some(c) => ([take(&mut c.ledger), take(&mut c.bank)], Some(&mut c.settled)),
        None => Default::default(),
    };
    let [carried_ledger, carried_bank] = carried;
    Scope::new(
        SideRows {
            file: take(&mut ledger.typed.records),
            carried: carried_ledger,
        },
        SideRows {
            file: take(&mut bank.typed.records),
            carried: carried_bank,
        },
        day,
        statement_until,
        |r| settled.as_mut().is_some_and(|s| s.claim(r)),
    )
}

fn source_id(source: &SourceFile) -> SourceId {
    SourceId {
        path: source.located.path.display().to_string(),
        sha256: source.located.sha256.clone(),
    }
}

/// Typed records, rows set aside by status, plus rejected rows (which carry no amount).
fn input_tally(records: &[Record], source: &SourceFile) -> Tally {
    let mut tally = Tally::of(records);
    tally += Tally::of(source.set_aside.iter().map(|s| &s.record));
    tally.count += source.typed.rejected.len() as u64;
    tally
}

/// Replaces a side's reading settings with a built-in profile given on the command line.
fn use_profiles(plan: &mut Plan, request: &RunRequest) -> Result<(), RunError> {
    for (flag, name, side) in [
        ("--ledger-profile", &request.ledger_profile, &mut plan.ledger),
        ("--bank-profile", &request.bank_profile, &mut plan.bank),
    ] {
        if let Some(name) = name {
            *side = profiles::plan_for(name, None).map_err(|e| RunError::Profile(format!("{flag}: {e}")))?;
        }
    }
    Ok(())
}

fn facts(source: &SourceFile, records: Tally) -> InputFacts {
    InputFacts {
        path: source.located.path.display().to_string(),
        sha256: source.located.sha256.clone(),
        encoding: source.located.encoding_label().to_string(),
        header_line: source.located.table.header_line,
        records,
        rejected: source.typed.rejected.len() as u64,
        ignored_by_status: source.set_aside.len() as u64,
        profile: source.profile.clone(),
    }
}

/// Formats a row error as `FILE:LINE:COL: message`.
pub fn locate_error(path: &std::path::Path, e: &RowError) -> String {
    format!("{}:{}:{}: {}", path.display(), e.line, e.column, e.message)
}

/// Rows that could not be typed, with the role's masks applied to their raw text.
fn collect_rejected(
    ledger: &SourceFile,
    bank: &SourceFile,
    skip: bool,
    plan: &Plan,
    view: &View,
) -> Result<Vec<RejectedRow>, RunError> {
    let mut rows = Vec::new();
    let mut listing = Vec::new();
    for (side, source, side_plan) in [
        (Side::Ledger, ledger, &plan.ledger),
        (Side::Bank, bank, &plan.bank),
    ] {
        let table = &source.located.table;
        for (error, raw) in &source.typed.rejected {
            listing.push(locate_error(&source.located.path, error));
            let fields: Vec<&str> = raw.fields.iter().collect();
            rows.push(RejectedRow {
                side,
                line: error.line,
                column: error.column,
                error: view.text(&error.message).into_owned(),
                raw: view.raw_row(side_plan, &table.header, &fields, char::from(table.delimiter)),
            });
        }
    }
    if !skip && !rows.is_empty() {
        let count = rows.len();
        let mut shown: Vec<String> = listing.into_iter().take(20).collect();
        if count > shown.len() {
            shown.push(format!("… and {} more", count - shown.len()));
        }
        return Err(RunError::BadRows {
            count,
            listing: shown.join("\n"),
        });
    }
    Ok(rows)
}

/// The plan's stage names, in order.
pub fn stage_names(plan: &Plan) -> Vec<String> {
    plan.stages.iter().map(|s| s.name().to_string()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::Decimal;

    fn side(input: (u64, i64), outputs: (u64, i64)) -> Conservation {
        let tally = |(count, cents): (u64, i64)| Tally {
            count,
            amount: Decimal::new(cents, 2),
        };
        Conservation {
            input: tally(input),
            carried_in: Tally::default(),
            outputs: tally(outputs),
            holds: input == outputs,
        }
    }

    #[test]
    fn a_broken_conservation_stops_the_run_naming_the_side() {
        let ok = BTreeMap::from([
            ("ledger", side((2, 300), (2, 300))),
            ("bank", side((1, 300), (1, 300))),
        ]);
        assert!(require_conservation(&ok).is_ok());
        let broken = BTreeMap::from([
            ("ledger", side((2, 300), (2, 300))),
            ("bank", side((2, 300), (1, 100))),
        ]);
        let error = require_conservation(&broken).unwrap_err();
        assert!(matches!(error, RunError::Conservation(_)));
        assert_eq!(
            error.to_string(),
            "conservation check failed, nothing was written: bank: read 2 rows summing to 3.00, outputs hold 1 rows summing to 1.00"
        );
    }
}
