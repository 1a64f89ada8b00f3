//! The fallback stage, for rows whose key is blank or found no partner:
//! rows agree on the chosen fields (merchant, amount within tolerance) and
//! the bank time lies within the window after the ledger time, compared as
//! absolute instants. Rows whose keys are both present and differ never pair.

use chrono::TimeDelta;
use rayon::prelude::*;

use super::groups::{Group, Groups};
use super::key::closeness;
use super::{Free, Sides, StageResult};
use crate::model::{text_hash, Record, RowRef};
use crate::rules::plan::{Ambiguity, StagePlan};
use crate::rules::report::Lang;

/// Runs a fallback stage; `stage` must be a `StagePlan::Fallback`.
pub(crate) fn run(sides: Sides, free: &Free, index: usize, stage: &StagePlan, lang: Lang) -> StageResult {
    let StagePlan::Fallback { on, .. } = stage else {
        return StageResult::default();
    };
    let by_merchant = on.merchant;
    let buckets = Groups::build(
        sides,
        free,
        |r| {
            let usable = r.time.is_some() && !(by_merchant && r.merchant().is_empty());
            usable.then(|| text_hash(bucket_text(r, by_merchant)))
        },
        |r| bucket_text(r, by_merchant),
    );
    let results: Vec<StageResult> = buckets
        .par_both_sides()
        .map(|bucket| match_bucket(sides, bucket, index, stage, lang))
        .collect();
    let mut merged = StageResult::default();
    for r in results {
        merged.matches.append(r.matches);
        merged.ambiguous.extend(r.ambiguous);
    }
    merged
}

/// What a row's bucket is named by: its merchant, or nothing (one bucket).
fn bucket_text(r: &Record, by_merchant: bool) -> &str {
    if by_merchant {
        r.merchant()
    } else {
        ""
    }
}

/// Matches one (merchant, direction) bucket; both sides come in content order.
fn match_bucket(
    sides: Sides,
    (ledger, bank): Group,
    index: usize,
    stage: &StagePlan,
    lang: Lang,
) -> StageResult {
    let StagePlan::Fallback {
        window_from,
        window_to,
        tolerance,
        ambiguity,
        ..
    } = stage
    else {
        return StageResult::default();
    };
    let times: Vec<i64> = bank.iter().map(|&b| instant(&sides.bank[b])).collect();
    let (from, to) = (nanos(*window_from), nanos(*window_to));
    let mut used = vec![false; bank.len()];
    let mut result = StageResult::default();
    for &l in ledger {
        let lr = &sides.ledger[l];
        let t = instant(lr);
        let start = times.partition_point(|&x| x < t.saturating_add(from));
        let end = times.partition_point(|&x| x <= t.saturating_add(to));
        let mut candidates: Vec<usize> = (start..end)
            .filter(|&j| {
                let br = &sides.bank[bank[j]];
                !used[j] && tolerance.allows_amounts(lr.amount, br.amount) && keys_compatible(lr, br)
            })
            .collect();
        let Some(best) = candidates
            .iter()
            .map(|&j| closeness(lr, &sides.bank[bank[j]]).0)
            .min()
        else {
            continue;
        };
        candidates.retain(|&j| closeness(lr, &sides.bank[bank[j]]).0 == best);
        candidates.sort_by_key(|&j| closeness(lr, &sides.bank[bank[j]]));
        let refs: Vec<RowRef> = candidates
            .iter()
            .map(|&j| sides.bank[bank[j]].row_ref())
            .collect();
        if candidates.len() > 1 && *ambiguity == Ambiguity::LeaveUnmatched {
            result.ambiguous.push((lr.row_ref(), refs));
            continue;
        }
        let chosen = candidates[0];
        used[chosen] = true;
        let mut review_reasons = Vec::new();
        if refs.len() > 1 {
            let all = refs.iter().map(ToString::to_string).collect::<Vec<_>>().join(" ");
            review_reasons.push(match lang {
                Lang::En => format!(
                    "chose {} (closest in time, then by content, then earliest line) among {} equally good candidates: {all}",
                    refs[0],
                    refs.len(),
                ),
                Lang::Zh => format!(
                    "在 {} 个同样合适的候选中选了 {}（时间最近，其次按内容，再次按最早行）：{all}",
                    refs.len(),
                    refs[0],
                ),
            });
        }
        result.matches.push(index, &[l], &[bank[chosen]], review_reasons);
    }
    result
}

/// The record's instant in nanoseconds since 1970 (rows without a time do
/// not reach a fallback bucket; they would count as 1970-01-01).
fn instant(r: &Record) -> i64 {
    r.time.nanos().unwrap_or(0)
}

/// A window bound in nanoseconds (windows beyond ±292 years reach every time).
fn nanos(window: TimeDelta) -> i64 {
    window.num_nanoseconds().unwrap_or(if window < TimeDelta::zero() {
        i64::MIN
    } else {
        i64::MAX
    })
}

fn keys_compatible(a: &Record, b: &Record) -> bool {
    a.key().is_empty() || b.key().is_empty() || a.key() == b.key()
}
