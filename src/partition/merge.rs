//! `recon merge`: the partitions' results become the results of the whole
//! day. First the proof that the partitions are one split of these inputs,
//! each run once with the split's rules: every partition present, one
//! manifest for all (inputs' SHA-256, rules, date, N), every partition's run
//! reading exactly its rows, and the rows of all runs adding up to the
//! original files. Then every result file is merged in the order a single
//! run writes it, and one summary.json and report.html are written for the
//! whole; the results are published atomically like a run's.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context};
use chrono::NaiveDate;
use serde::Deserialize;

use super::files::{self, Keep, MatchIds, Order};
use super::manifest::Manifest;
use crate::digest::sha256_hex;
use crate::matching::Reason;
use crate::model::{SourceId, Tally};
use crate::output::atomic::Staging;
use crate::output::mask::View;
use crate::output::reports::{self, ViewRequest};
use crate::output::resolutions::ResolutionStatus;
use crate::output::review::ReviewStatus;
use crate::output::summary::{
    self, AuditMark, BatchCounts, CarriedInFacts, CurrencyConservation, FeeFacts, FeeSums, InputFacts,
    OpenFacts, PeriodFacts, SideCounts, StageCount, Summary,
};
use crate::output::tables::{OutputFile, SideTallies};
use crate::output::{fees, html, resolutions, review};
use crate::rules::report::Lang;
use crate::rules::{self, Plan};

/// What to merge and where.
#[derive(Debug, Clone)]
pub struct MergeRequest {
    /// The directory `recon split` wrote (`part-0001/` …).
    pub parts: PathBuf,
    /// Each partition's results directory, inside the partition (`results`).
    pub results: String,
    /// The merged results directory.
    pub out: PathBuf,
    /// Language of report.html (default: the rules' `[report] lang`, else the locale).
    pub lang: Option<Lang>,
    /// Identifies the merge in summary.json and the audit log.
    pub run_id: String,
    /// Wait for another run writing beside `out` to finish (else refuse).
    pub wait: bool,
}

/// One partition's run, as the audit line names it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PartRun {
    /// The partition number.
    pub part: usize,
    /// Its run's id (from its summary.json).
    pub run_id: String,
    /// Its results directory.
    pub results: String,
    /// SHA-256 of its summary.json.
    pub summary_sha256: String,
}

/// A finished merge.
#[derive(Debug)]
pub struct MergeOutcome {
    /// The merged summary.json.
    pub summary: Summary,
    /// True when the day has exceptions (as a run's exit code 1).
    pub exceptions: bool,
    /// SHA-256 of every published file, by name.
    pub published: BTreeMap<String, String>,
    /// The partitions' runs.
    pub parts: Vec<PartRun>,
    /// The language report.html was written in.
    pub lang: Lang,
    /// The original inputs: (side, path, SHA-256).
    pub inputs: Vec<(&'static str, String, String)>,
}

/// The per-row result files of every run, in the order a run lists them.
const ROW_FILES: [&str; 6] = [
    "matched.csv",
    "unmatched.csv",
    "duplicates.csv",
    "ignored.csv",
    "pending.csv",
    "out_of_period.csv",
];
const REJECTED: &str = "rejected.csv";

/// Records a merge's start: given the split's manifest and the pending.csv
/// the partitions carried in, if any; returns the audit mark for summary.json.
pub type OnMergeStart<'a> = dyn FnMut(&Manifest, Option<&SourceId>) -> anyhow::Result<Option<AuditMark>> + 'a;

/// Merges the partitions; calls `on_start` once they are checked, before
/// anything is written, with the pending.csv the partitions carried in, if
/// any (the mark it returns goes into summary.json).
pub fn merge(request: &MergeRequest, on_start: &mut OnMergeStart<'_>) -> anyhow::Result<MergeOutcome> {
    let started_at = now();
    let (manifest, dirs) = manifests(&request.parts)?;
    let date = manifest
        .business_date
        .as_deref()
        .map(|d| d.parse::<NaiveDate>())
        .transpose()
        .context("manifest business_date")?;
    let mut plan = rules::load(
        Path::new(&manifest.rules.path),
        date.unwrap_or_else(|| chrono::Local::now().date_naive()),
    )?;
    if plan.identity.sha256 != manifest.rules.sha256 {
        return Err(anyhow!(
            "{}: the rules changed since the split (sha256 {} then, {} now); split again",
            plan.identity.path,
            manifest.rules.sha256,
            plan.identity.sha256
        ));
    }
    let results: Vec<PathBuf> = dirs.iter().map(|d| d.join(&request.results)).collect();
    let summaries = read_summaries(&manifest, &dirs, &results)?;
    let merged = Totals::of(&summaries.iter().map(|(s, _)| s).collect::<Vec<_>>())?;
    for (side, m) in [("ledger", &manifest.ledger), ("bank", &manifest.bank)] {
        let read = merged.inputs[side].records;
        if read != m.input {
            return Err(anyhow!(
                "the partitions' runs read {} {side} rows summing to {}, but {} holds {} rows summing to {}: the partitions do not cover it exactly once",
                read.count,
                read.amount,
                m.path,
                m.input.count,
                m.input.amount
            ));
        }
    }
    let lang = request
        .lang
        .or(plan.report.lang)
        .unwrap_or_else(Lang::from_locale);
    plan.report.lang = Some(lang);
    let view = View::resolve(&plan, summaries[0].0.role.as_ref().map(|r| r.name.as_str()))?;
    let carried = merged.carried_in.as_ref().map(|c| SourceId {
        path: c.path.clone(),
        sha256: c.sha256.clone(),
    });
    let audit = on_start(&manifest, carried.as_ref())?;
    let staging = Staging::begin(&request.out, None, request.wait)?;
    let sheet = |name: &'static str, order: Order, keep: Keep, ids: &mut MatchIds| {
        let inputs: Vec<(usize, PathBuf)> = results
            .iter()
            .enumerate()
            .map(|(k, r)| (k + 1, r.join(name)))
            .filter(|(_, p)| p.exists())
            .collect();
        if inputs.is_empty() {
            return Ok(None);
        }
        let refs: Vec<(usize, &Path)> = inputs.iter().map(|(k, p)| (*k, p.as_path())).collect();
        let mut file = staging.create(name)?;
        let kept = files::merge(&refs, order, keep, ids, &mut file)?;
        anyhow::Ok(Some((name, kept, file.finish()?)))
    };
    // matched.csv, then review.csv (which follows its match numbers), on
    // one thread; every other file, one after the other, on another.
    let (matched, others) = rayon::join(
        || {
            let mut ids = MatchIds::new();
            let matched = sheet("matched.csv", Order::Matches, Keep::Review, &mut ids)?;
            let review = sheet(review::FILE_NAME, Order::Review, Keep::Head(0), &mut ids)?;
            anyhow::Ok([matched, review])
        },
        || {
            let mut none = MatchIds::new();
            let mut merged = Vec::new();
            for name in ROW_FILES[1..].iter().chain(&[REJECTED]) {
                merged.push(sheet(name, Order::Rows, Keep::All, &mut none)?);
            }
            merged.push(sheet(
                resolutions::FILE_NAME,
                Order::Rows,
                Keep::Head(html::MAX_TABLE_ROWS),
                &mut none,
            )?);
            merged.push(sheet(fees::FILE_NAME, Order::Rows, Keep::Head(0), &mut none)?);
            anyhow::Ok(merged)
        },
    );
    let mut kept = BTreeMap::new();
    let mut published = BTreeMap::new();
    for (name, bytes, sha256) in matched?.into_iter().chain(others?).flatten() {
        published.insert(name.to_string(), sha256);
        kept.insert(name, bytes);
    }
    let mut outputs = Vec::new();
    for name in ROW_FILES.into_iter().chain([REJECTED]) {
        let Some(bytes) = kept.remove(name) else {
            if name == REJECTED {
                continue;
            }
            return Err(anyhow!("no partition has {name}"));
        };
        outputs.push(OutputFile {
            name,
            bytes,
            sha256: Some(String::new()),
            tallies: merged.outputs.get(name).copied().unwrap_or_default(),
            currencies: Default::default(),
        });
    }
    // A merged run writes no workbook: of the worklists, report.html shows
    // only the head of resolutions.csv, so no more is held in memory.
    let handling = kept.remove(resolutions::FILE_NAME).unwrap_or_default();
    let day = date.map(|d| plan.business_day(d));
    let summary = merged.summary(
        &manifest,
        &plan,
        &view,
        &outputs,
        SummaryRun {
            run_id: request.run_id.clone(),
            business_date: manifest.business_date.clone(),
            period: day.as_ref().map(|d| PeriodFacts::new(d, &plan)),
            started_at,
            audit,
        },
    );
    let summary_json = summary.to_json();
    let views = reports::build(
        outputs,
        &ViewRequest {
            summary: &summary,
            report: &plan.report,
            review_above: plan.review_above,
            zone: plan.business_zone.name(),
            lang,
            named: &[],
            xlsx: false,
            handling: &handling,
            more_sheets: &[],
        },
    )?;
    for (name, bytes) in views
        .extra
        .iter()
        .map(|(n, b)| (n.as_str(), b.as_slice()))
        .chain([("summary.json", summary_json.as_slice())])
    {
        published.insert(name.to_string(), staging.write(name, bytes)?);
    }
    staging.commit()?;
    let parts = summaries
        .iter()
        .zip(&results)
        .enumerate()
        .map(|(k, ((s, sha256), dir))| PartRun {
            part: k + 1,
            run_id: s.run_id.clone(),
            results: dir.display().to_string(),
            summary_sha256: sha256.clone(),
        })
        .collect();
    Ok(MergeOutcome {
        exceptions: summary.status == "exceptions",
        summary,
        published,
        parts,
        lang,
        inputs: vec![
            (
                "ledger",
                manifest.ledger.path.clone(),
                manifest.ledger.sha256.clone(),
            ),
            ("bank", manifest.bank.path.clone(), manifest.bank.sha256.clone()),
        ],
    })
}

fn add_fees(into: &mut FeeSums, more: &FeeSums) {
    into.expected += more.expected;
    into.actual += more.actual;
    into.variance_total += more.variance_total;
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Every `part-NNNN` directory's manifest: one split, every partition present.
fn manifests(parts: &Path) -> anyhow::Result<(Manifest, Vec<PathBuf>)> {
    let entries = std::fs::read_dir(parts).with_context(|| format!("{}: cannot read", parts.display()))?;
    let mut dirs: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.is_dir()
                && p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("part-"))
        })
        .collect();
    dirs.sort();
    let Some(first) = dirs.first() else {
        return Err(anyhow!(
            "{}: no part-NNNN directories: give the directory `recon split --out` wrote",
            parts.display()
        ));
    };
    let manifest = Manifest::read(first)?;
    // Every manifest but its own number and row counts is the same.
    let same = |m: &Manifest| {
        let mut m = m.clone();
        m.part = manifest.part;
        m.ledger.rows = manifest.ledger.rows;
        m.bank.rows = manifest.bank.rows;
        m == manifest
    };
    for (k, dir) in dirs.iter().enumerate() {
        let m = Manifest::read(dir)?;
        if !same(&m) {
            return Err(anyhow!(
                "{}: its manifest names other inputs, rules, date or partitioning than {}'s: partitions of different splits cannot be merged",
                dir.display(),
                first.display()
            ));
        }
        let expected = super::split::part_dir_name(k);
        if m.part != k + 1 || dir.file_name().and_then(|n| n.to_str()) != Some(expected.as_str()) {
            return Err(anyhow!(
                "{}: partition {expected} is missing (the split made {} partitions)",
                parts.display(),
                manifest.parts
            ));
        }
    }
    if dirs.len() != manifest.parts {
        return Err(anyhow!(
            "{}: {} partition(s) found, the split made {}: partition {} is missing",
            parts.display(),
            dirs.len(),
            manifest.parts,
            super::split::part_dir_name(dirs.len())
        ));
    }
    Ok((manifest, dirs))
}

/// What merge reads of a partition's summary.json.
#[derive(Debug, Deserialize)]
struct PartSummary {
    run_id: String,
    role: Option<RoleName>,
    business_date: Option<String>,
    rules: RulesSha,
    inputs: BTreeMap<String, PartInputFacts>,
    carried_in: Option<PartCarried>,
    outputs: BTreeMap<String, SideTallies>,
    stages: Vec<StageCount>,
    batches: Option<BatchCounts>,
    fees: Option<FeeFacts>,
    review: u64,
    unmatched_by_reason: BTreeMap<String, SideCounts>,
    confirmations: Counts,
    resolutions: Handled,
    open: OpenFacts,
    #[serde(default)]
    currencies: BTreeMap<String, CurrencyConservation>,
    scope: Option<serde_json::Value>,
    encryption: Option<serde_json::Value>,
}

/// A partition's `carried_in`: its share of the rows of one pending.csv.
#[derive(Debug, Deserialize)]
struct PartCarried {
    path: String,
    sha256: String,
    business_date: Option<String>,
    ledger: Tally,
    bank: Tally,
}

#[derive(Debug, Deserialize)]
struct RoleName {
    name: String,
}

#[derive(Debug, Deserialize)]
struct RulesSha {
    sha256: String,
}

#[derive(Debug, Clone, Deserialize)]
struct PartInputFacts {
    path: String,
    sha256: String,
    encoding: String,
    header_line: u64,
    records: Tally,
    rejected: u64,
    ignored_by_status: u64,
    profile: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Counts {
    items: u64,
    confirmed: u64,
}

#[derive(Debug, Deserialize)]
struct Handled {
    exceptions: u64,
    paired: u64,
    accepted: u64,
    open: u64,
}

/// Each partition's summary.json (and its SHA-256), checked against the manifest.
fn read_summaries(
    manifest: &Manifest,
    dirs: &[PathBuf],
    results: &[PathBuf],
) -> anyhow::Result<Vec<(PartSummary, String)>> {
    let mut all = Vec::new();
    for ((dir, results), k) in dirs.iter().zip(results).zip(1..) {
        let path = results.join("summary.json");
        if results.join("summary.json.sm4").exists() {
            return Err(anyhow!(
                "{}: encrypted results cannot be merged; run the partitions without --encrypt-key-file",
                results.display()
            ));
        }
        let bytes = std::fs::read(&path).map_err(|_| {
            anyhow!(
                "{}: partition {k} has no results: run it first with `recon run --part {} --rules RULES --out {}`",
                path.display(),
                dir.display(),
                results.display()
            )
        })?;
        let s: PartSummary = serde_json::from_slice(&bytes)
            .with_context(|| format!("{}: not a summary.json", path.display()))?;
        let own = Manifest::read(dir)?;
        let problem = if s.rules.sha256 != manifest.rules.sha256 {
            Some("it was run with other rules than the split's".to_string())
        } else if s.business_date != manifest.business_date {
            Some("it was run for another --date than the split's".to_string())
        } else if let Some(problem) = carried_problem(all.first().map(|(first, _)| first), &s) {
            Some(problem)
        } else if s.scope.is_some() || s.encryption.is_some() {
            Some("it was run as a role limited to some rows, or encrypted".to_string())
        } else if s.confirmations.confirmed + s.resolutions.paired + s.resolutions.accepted > 0 {
            Some(
                "it has confirmations or resolutions; confirm and resolve the merged results instead"
                    .to_string(),
            )
        } else {
            [("ledger", &own.ledger), ("bank", &own.bank)]
                .into_iter()
                .find_map(|(side, m)| {
                    let facts = s.inputs.get(side)?;
                    let rows = facts.records.count;
                    if facts.sha256 != m.sha256 || facts.path != m.path {
                        Some(format!("its {side} is not {} of the split", m.path))
                    } else if rows != m.rows {
                        Some(format!(
                            "it read {rows} {side} row(s), the partition holds {}",
                            m.rows
                        ))
                    } else {
                        None
                    }
                })
        };
        if let Some(problem) = problem {
            return Err(anyhow!("{}: {problem}; nothing was written", path.display()));
        }
        all.push((s, sha256_hex(&bytes)));
    }
    Ok(all)
}

/// Every partition carries in the same previous results (the same bytes,
/// wherever each machine found them), or none does.
fn carried_problem(first: Option<&PartSummary>, s: &PartSummary) -> Option<String> {
    let first = first?;
    match (&first.carried_in, &s.carried_in) {
        (None, None) => None,
        (Some(a), Some(b)) if a.sha256 == b.sha256 => None,
        (Some(a), Some(b)) => Some(format!(
            "it carried in {} (sha256 {}), partition 1 carried in {} (sha256 {}): run every partition with the same --carry-in",
            b.path, b.sha256, a.path, a.sha256
        )),
        (Some(a), None) => Some(format!(
            "it was run without --carry-in, partition 1 carried in {}: run every partition with the same --carry-in",
            a.path
        )),
        (None, Some(b)) => Some(format!(
            "it carried in {}, partition 1 was run without --carry-in: run every partition with the same --carry-in",
            b.path
        )),
    }
}

/// The partitions' counts added up.
struct Totals {
    inputs: BTreeMap<&'static str, InputFacts>,
    carried_in: Option<CarriedInFacts>,
    outputs: BTreeMap<&'static str, SideTallies>,
    stages: Vec<StageCount>,
    batches: Option<BatchCounts>,
    fees: Option<FeeFacts>,
    review: u64,
    unmatched_by_reason: BTreeMap<&'static str, SideCounts>,
    review_items: u64,
    exceptions: u64,
    open_exceptions: u64,
    open: OpenFacts,
    currencies: BTreeMap<String, CurrencyConservation>,
}

/// What names the merge itself in its summary.
struct SummaryRun {
    run_id: String,
    business_date: Option<String>,
    period: Option<PeriodFacts>,
    started_at: String,
    audit: Option<AuditMark>,
}

const REASONS: [Reason; 5] = [
    Reason::NoCounterpart,
    Reason::AmountMismatch,
    Reason::Ambiguous,
    Reason::CounterpartMatched,
    Reason::NoCounterpartAfterGrace,
];

impl Totals {
    fn of(parts: &[&PartSummary]) -> anyhow::Result<Totals> {
        let mut t = Totals {
            inputs: BTreeMap::new(),
            carried_in: None,
            outputs: BTreeMap::new(),
            stages: Vec::new(),
            batches: None,
            fees: None,
            review: 0,
            unmatched_by_reason: BTreeMap::new(),
            review_items: 0,
            exceptions: 0,
            open_exceptions: 0,
            open: OpenFacts::default(),
            currencies: BTreeMap::new(),
        };
        for p in parts {
            for side in ["ledger", "bank"] {
                let f = p
                    .inputs
                    .get(side)
                    .ok_or_else(|| anyhow!("summary.json without {side}"))?;
                let into = t.inputs.entry(side).or_insert_with(|| InputFacts {
                    path: f.path.clone(),
                    sha256: f.sha256.clone(),
                    encoding: f.encoding.clone(),
                    header_line: f.header_line,
                    records: Tally::default(),
                    rejected: 0,
                    ignored_by_status: 0,
                    profile: f.profile.clone(),
                });
                into.records += f.records;
                into.rejected += f.rejected;
                into.ignored_by_status += f.ignored_by_status;
            }
            if let Some(c) = &p.carried_in {
                let into = t.carried_in.get_or_insert_with(|| CarriedInFacts {
                    path: c.path.clone(),
                    sha256: c.sha256.clone(),
                    business_date: None,
                    ledger: Tally::default(),
                    bank: Tally::default(),
                });
                into.business_date = into.business_date.take().or_else(|| c.business_date.clone());
                into.ledger += c.ledger;
                into.bank += c.bank;
            }
            for (name, tallies) in &p.outputs {
                let Some(name) = ROW_FILES.into_iter().chain([REJECTED]).find(|n| n == name) else {
                    return Err(anyhow!("summary.json names an unknown output {name}"));
                };
                let into = t.outputs.entry(name).or_default();
                into.ledger += tallies.ledger;
                into.bank += tallies.bank;
            }
            if t.stages.is_empty() {
                t.stages = p
                    .stages
                    .iter()
                    .map(|s| StageCount {
                        name: s.name.clone(),
                        matches: 0,
                    })
                    .collect();
            }
            for (into, s) in t.stages.iter_mut().zip(&p.stages) {
                into.matches += s.matches;
            }
            if let Some(b) = &p.batches {
                let into = t.batches.get_or_insert_with(BatchCounts::default);
                into.total += b.total;
                into.settled += b.settled;
                into.amount_mismatch += b.amount_mismatch;
                into.no_counterpart += b.no_counterpart;
                into.pending += b.pending;
            }
            if let Some(f) = &p.fees {
                let into = t.fees.get_or_insert_with(FeeFacts::default);
                into.checked += f.checked;
                into.variances += f.variances;
                // Fees of different currencies are never added up.
                let mut sums = into.by_currency();
                for (currency, part) in f.by_currency() {
                    add_fees(sums.entry(currency).or_default(), &part);
                }
                into.set_sums(sums);
            }
            t.review += p.review;
            for (reason, counts) in &p.unmatched_by_reason {
                let Some(name) = REASONS.iter().map(|r| r.name()).find(|n| n == reason) else {
                    return Err(anyhow!("summary.json names an unknown reason {reason}"));
                };
                let into = t.unmatched_by_reason.entry(name).or_default();
                into.ledger += counts.ledger;
                into.bank += counts.bank;
            }
            t.review_items += p.confirmations.items;
            t.exceptions += p.resolutions.exceptions;
            t.open_exceptions += p.resolutions.open;
            t.open.rows += p.open.rows;
            t.open.rejected += p.open.rejected;
            t.open.review_flags += p.open.review_flags;
            for (currency, c) in &p.currencies {
                let into = t
                    .currencies
                    .entry(currency.clone())
                    .or_insert(CurrencyConservation {
                        input: SideTallies::default(),
                        outputs: SideTallies::default(),
                        holds: true,
                    });
                into.input.ledger += c.input.ledger;
                into.input.bank += c.input.bank;
                into.outputs.ledger += c.outputs.ledger;
                into.outputs.bank += c.outputs.bank;
                into.holds = into.input == into.outputs;
            }
        }
        Ok(t)
    }

    /// The whole day's summary, as one run of it writes it.
    fn summary(
        self,
        manifest: &Manifest,
        plan: &Plan,
        view: &View,
        outputs: &[OutputFile],
        run: SummaryRun,
    ) -> Summary {
        let read = SideTallies {
            ledger: self.inputs["ledger"].records,
            bank: self.inputs["bank"].records,
        };
        let mut inputs = self.inputs;
        for (side, m) in [("ledger", &manifest.ledger), ("bank", &manifest.bank)] {
            if let Some(f) = inputs.get_mut(side) {
                f.path.clone_from(&m.path);
            }
        }
        let carried = self
            .carried_in
            .as_ref()
            .map(CarriedInFacts::tallies)
            .unwrap_or_default();
        let conservation = summary::conservation(&read, &carried, outputs);
        let rejected = self.open.rejected;
        // Fee variances are counted among the parts' exceptions and open items.
        let open = self.open;
        let status = if rejected == 0 && self.exceptions == 0 {
            "reconciled"
        } else if open.rows + open.rejected + open.review_flags == 0 {
            "closed"
        } else {
            "exceptions"
        };
        Summary {
            tool: format!("recon {}", env!("CARGO_PKG_VERSION")),
            run_id: run.run_id,
            role: view.facts(),
            business_date: run.business_date,
            period: run.period,
            started_at: run.started_at,
            finished_at: now(),
            rules: plan.identity.clone(),
            inputs,
            carried_in: self.carried_in,
            outputs: outputs.iter().map(|f| (f.name, f.tallies)).collect(),
            stages: self.stages,
            batches: self.batches,
            fees: self.fees,
            review: self.review,
            unmatched_by_reason: self.unmatched_by_reason,
            confirmations: ReviewStatus {
                items: self.review_items,
                ..ReviewStatus::default()
            },
            resolutions: ResolutionStatus {
                exceptions: self.exceptions,
                open: self.open_exceptions,
                ..ResolutionStatus::default()
            },
            open,
            conservation,
            currencies: self.currencies,
            status,
            scope: None,
            encryption: None,
            audit: run.audit,
        }
    }
}
