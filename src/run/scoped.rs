//! A scoped role's view (`[roles.NAME] rows = '…'`): once conservation is
//! proved over every row, the result files are cut to the rows in scope and
//! every count of the summary is taken again over those rows only, so no
//! file of the view (CSVs, summary.json, report.html, results.xlsx, the
//! terminal summary) shows a number about rows outside it. The counts of the
//! scope must conserve too: what the scope read is what its files hold.

use std::collections::{BTreeMap, HashSet};

use crate::input::status::SetAside;
use crate::matching::{Disposition, Reconciliation, Sides};
use crate::model::{Origin, Record, RowRef, Side};
use crate::output::fees;
use crate::output::mask::View;
use crate::output::resolutions::{ResolutionStatus, Resolved};
use crate::output::review::{self, Confirmation, ItemKind, ReviewItem, ReviewStatus};
use crate::output::summary::{
    self, BatchCounts, Conservation, CurrencyConservation, FeeFacts, OpenFacts, ScopeFacts, SideCounts,
    StageCount, Summary,
};
use crate::output::tables::{match_id, OutputFile, RejectedRow, SideTallies};
use crate::rules::Plan;

/// Everything of the run the scope's counts are taken from.
pub struct Whole<'a> {
    /// Every record of the run.
    pub sides: Sides<'a>,
    /// The reconciliation, resolutions applied.
    pub result: &'a Reconciliation,
    /// Rows set aside by their status.
    pub set_aside: &'a [&'a SetAside],
    /// Rows that could not be typed.
    pub rejected: &'a [RejectedRow],
    /// The rules.
    pub plan: &'a Plan,
    /// The resolutions applied.
    pub resolved: &'a Resolved,
    /// review.csv's items over every row.
    pub review_items: &'a [ReviewItem],
    /// Reviewers' confirmations.
    pub confirmations: &'a [Confirmation],
    /// The stage names summary.json counts matches by.
    pub stage_names: &'a [String],
}

/// The scope's counts, for summary.json and the views built from it.
pub struct Scoped {
    /// Per side: this run's file rows in scope (typed, set aside by status, rejected).
    pub read: SideTallies,
    /// Per side: rejected rows in scope.
    pub rejected: [u64; 2],
    /// Per side: rows set aside by status in scope.
    pub ignored: [u64; 2],
    /// Per side: carried-in rows in scope.
    pub carried: SideTallies,
    /// Conservation within the scope.
    pub conservation: BTreeMap<&'static str, Conservation>,
    /// The same per currency.
    pub currencies: BTreeMap<String, CurrencyConservation>,
    /// Matches with a row in scope, per stage.
    pub stages: Vec<StageCount>,
    /// Unmatched rows in scope, per reason.
    pub unmatched_by_reason: BTreeMap<&'static str, SideCounts>,
    /// Batches with a row in scope.
    pub batches: Option<BatchCounts>,
    /// The fee check over the rows in scope.
    pub fees: Option<FeeFacts>,
    /// fee_variances.csv of the rows in scope.
    pub fee_csv: Option<Vec<u8>>,
    /// Flagged matches with a row in scope.
    pub review: u64,
    /// review.csv of the items in scope.
    pub review_csv: Vec<u8>,
    /// Their confirmations.
    pub confirmations: ReviewStatus,
    /// Exception rows in scope and their handling.
    pub resolutions: ResolutionStatus,
    /// What is open in scope.
    pub open: OpenFacts,
    /// The scope's own status, as the day's is decided.
    pub status: &'static str,
}

/// Cuts `files` to the rows `view` sees, and `resolutions_csv` to their
/// exception rows, and takes the scope's counts. `None` when the view sees every row.
pub fn cut(
    view: &View,
    files: &mut [OutputFile],
    resolutions_csv: &mut Vec<u8>,
    whole: &Whole,
) -> Option<Scoped> {
    view.scope()?;
    let mut rows = HashSet::new();
    for f in files.iter_mut() {
        let Some(cut) = view.cut_csv(&f.bytes) else {
            continue;
        };
        rows.extend(row_refs(&cut.bytes));
        f.bytes = cut.bytes;
        f.tallies = cut.tallies;
        f.currencies = cut.currencies;
    }
    let keep = |r: &Record| rows.contains(&r.row_ref());
    let names: HashSet<String> = rows.iter().map(ToString::to_string).collect();
    // A fee variance (`fee:ledger:8`) is in scope with its row.
    *resolutions_csv = keep_first_column(resolutions_csv, |item| {
        names.contains(item.strip_prefix(fees::ITEM_PREFIX).unwrap_or(item))
    });
    Some(take_counts(whole, files, &rows, &keep))
}

/// The scope's counts, once the files are cut.
fn take_counts(
    whole: &Whole,
    files: &[OutputFile],
    rows: &HashSet<RowRef>,
    keep: &(dyn Fn(&Record) -> bool + Sync),
) -> Scoped {
    let (sides, result) = (whole.sides, whole.result);
    let mut read = SideTallies::default();
    let mut carried = SideTallies::default();
    let (mut rejected, mut ignored) = ([0; 2], [0; 2]);
    for side in Side::BOTH {
        for r in sides.of(side).iter().filter(|r| keep(r)) {
            match r.origin() {
                Origin::Input => read.side_mut(side).add(r.amount()),
                Origin::CarriedIn => carried.side_mut(side).add(r.amount()),
            }
        }
    }
    for a in whole.set_aside.iter().filter(|a| keep(&a.record)) {
        read.side_mut(a.record.side()).add(a.record.amount());
        ignored[slot(a.record.side())] += 1;
    }
    for r in whole.rejected {
        let at = RowRef {
            side: r.side,
            line: r.line,
            origin: Origin::Input,
        };
        if rows.contains(&at) {
            read.side_mut(r.side).count += 1;
            rejected[slot(r.side)] += 1;
        }
    }
    let conservation = summary::conservation(&read, &carried, files);
    let kept_records = Side::BOTH
        .into_iter()
        .flat_map(|side| sides.of(side).iter())
        .chain(whole.set_aside.iter().map(|a| &a.record))
        .filter(|r| keep(r));
    let currencies = summary::currency_conservation(kept_records, files);

    let in_match = |m: crate::matching::Match| {
        let of = |side: Side| m.rows(side).iter().any(|i| keep(&sides.of(side)[i]));
        of(Side::Ledger) || of(Side::Bank)
    };
    let mut stages: Vec<StageCount> = whole
        .stage_names
        .iter()
        .map(|name| StageCount {
            name: name.clone(),
            matches: 0,
        })
        .collect();
    let mut items: HashSet<String> = HashSet::new();
    let mut review_count = 0;
    for (n, m) in result.matches.iter().enumerate().filter(|&(_, m)| in_match(m)) {
        stages[m.stage()].matches += 1;
        items.insert(match_id(n));
        if m.flagged() {
            review_count += 1;
        }
    }
    let mut unmatched_by_reason: BTreeMap<&'static str, SideCounts> = BTreeMap::new();
    for (side, dispositions) in [(Side::Ledger, &result.ledger), (Side::Bank, &result.bank)] {
        for (r, d) in sides.of(side).iter().zip(dispositions) {
            if !keep(r) {
                continue;
            }
            items.insert(r.row_ref().to_string());
            if let Disposition::Unmatched { reason, .. } = d {
                let counts = unmatched_by_reason.entry(reason.name()).or_default();
                match side {
                    Side::Ledger => counts.ledger += 1,
                    Side::Bank => counts.bank += 1,
                }
            }
        }
    }
    let batches = BatchCounts::of(whole.plan, &result.batches).map(|_| {
        let in_scope: Vec<_> = result
            .batches
            .iter()
            .filter(|b| {
                b.ledger.iter().any(|&i| keep(&sides.ledger[i]))
                    || b.credit.is_some_and(|i| keep(&sides.bank[i]))
            })
            .cloned()
            .collect();
        BatchCounts::of(whole.plan, &in_scope).unwrap_or_default()
    });
    let fee_check = fees::check_where(sides, result, whole.plan, keep);
    let fee_csv = (fee_check.as_ref()).map(|f| f.render(sides, whole.plan, whole.resolved));
    let fees = fee_check.map(|f| f.facts);

    let review_items: Vec<ReviewItem> = whole
        .review_items
        .iter()
        .filter(|i| items.contains(&i.item))
        .cloned()
        .collect();
    let (review_csv, confirmations) = review::render(&review_items, whole.confirmations);
    let flags = review_items.iter().filter(|i| i.kind == ItemKind::Review).count() as u64;
    let confirmed_flags = (confirmations.confirmed_items.iter())
        .filter(|i| i.kind == ItemKind::Review)
        .count() as u64;
    let resolutions = whole.resolved.status_where(sides, keep);
    let open = OpenFacts {
        rows: resolutions.open,
        rejected: rejected.iter().sum(),
        review_flags: flags - confirmed_flags,
    };
    let status = super::status_of(open.rejected, resolutions.exceptions, &open);
    Scoped {
        read,
        rejected,
        ignored,
        carried,
        conservation,
        currencies,
        stages,
        unmatched_by_reason,
        batches,
        fees,
        fee_csv,
        review: review_count,
        review_csv,
        confirmations,
        resolutions,
        open,
        status,
    }
}

impl Scoped {
    /// Puts the scope's counts into `summary` (the day's status stays) and
    /// marks it scoped; returns review.csv and fee_variances.csv of the scope.
    pub fn into_summary(self, summary: &mut Summary, view: &View) -> (Vec<u8>, Option<Vec<u8>>) {
        for (side, facts) in summary.inputs.iter_mut() {
            let side = if *side == "ledger" {
                Side::Ledger
            } else {
                Side::Bank
            };
            let read = self.read;
            facts.records = match side {
                Side::Ledger => read.ledger,
                Side::Bank => read.bank,
            };
            facts.rejected = self.rejected[slot(side)];
            facts.ignored_by_status = self.ignored[slot(side)];
        }
        if let Some(c) = &mut summary.carried_in {
            c.ledger = self.carried.ledger;
            c.bank = self.carried.bank;
        }
        summary.stages = self.stages;
        summary.batches = self.batches;
        summary.fees = self.fees;
        summary.review = self.review;
        summary.unmatched_by_reason = self.unmatched_by_reason;
        summary.confirmations = self.confirmations;
        summary.resolutions = self.resolutions;
        summary.open = self.open;
        summary.conservation = self.conservation;
        summary.currencies = self.currencies;
        summary.scope = Some(ScopeFacts {
            role: view.facts().map(|f| f.name).unwrap_or_default(),
            rows: view.scope().unwrap_or_default().to_string(),
            status: self.status,
            all_rows_conservation: "holds",
            note: "every count here is of the rows in this role's scope; status is the whole day's (as the exit code), scope.status the scope's; conservation was proved over every row before the view was cut, and again within the scope",
        });
        (self.review_csv, self.fee_csv)
    }
}

/// 0 for the ledger, 1 for the bank.
fn slot(side: Side) -> usize {
    match side {
        Side::Ledger => 0,
        Side::Bank => 1,
    }
}

/// The rows of a cut result CSV: `side`, `line` and, when `carried_from` is
/// set, carried in.
fn row_refs(bytes: &[u8]) -> Vec<RowRef> {
    let mut reader = csv::Reader::from_reader(bytes);
    let header = reader.headers().cloned().unwrap_or_default();
    let at = |name: &str| header.iter().position(|h| h == name);
    let (side, line, from) = (at("side"), at("line"), at("carried_from"));
    let mut refs = Vec::new();
    for r in reader.records().flatten() {
        let get = |i: Option<usize>| i.and_then(|i| r.get(i)).unwrap_or_default();
        let side = match get(side) {
            "ledger" => Side::Ledger,
            "bank" => Side::Bank,
            _ => continue,
        };
        let Ok(line) = get(line).parse() else { continue };
        let origin = if get(from).is_empty() {
            Origin::Input
        } else {
            Origin::CarriedIn
        };
        refs.push(RowRef { side, line, origin });
    }
    refs
}

/// A CSV cut to the rows whose first column `keep` holds.
fn keep_first_column(bytes: &[u8], keep: impl Fn(&str) -> bool) -> Vec<u8> {
    let mut reader = csv::Reader::from_reader(bytes);
    let mut writer = csv::Writer::from_writer(Vec::new());
    let header = reader.headers().cloned().unwrap_or_default();
    writer.write_record(&header).expect("writing to memory");
    for r in reader.records().flatten() {
        if r.get(0).is_some_and(&keep) {
            writer.write_record(&r).expect("writing to memory");
        }
    }
    writer.into_inner().expect("writing to memory")
}
