//! Likely causes: for every unmatched, duplicate or review row, a short
//! plain-language guess at why (in Chinese or English), built only from
//! evidence the reconciliation already holds or that is cheap to compute:
//! the counterparts of an amount mismatch (fee, rounding), a matched row of
//! the same merchant and amount moments earlier (double submission), the
//! local time of day (late payments, T+1), candidates of equal amount near a
//! bank row that carries no order id, the review thresholds. This module
//! finds causes; `cause_text` words them and `tables` writes them into the
//! `likely_cause` column.
//!
//! Related rows are looked for only among rows that share the row's
//! partition key value (`rules::partition`): the same merchant when the rules
//! pair rows within a merchant, the same key when they pair rows by key alone,
//! the whole day when no key partitions it. So a partitioned run finds, by
//! construction, the same causes as one run of the whole day.

use std::collections::{HashMap, HashSet};

use rayon::prelude::*;

use chrono::{DateTime, NaiveDate, NaiveTime, TimeDelta, Utc};
use rust_decimal::Decimal;

use crate::matching::{BatchOutcome, Disposition, Reason, Reconciliation, Sides};
use crate::model::{Record, RowRef, Side};
use crate::rules::business::Cutoff;
use crate::rules::partition::{stage_partition, PartitionKey};
use crate::rules::plan::{Plan, StagePlan, Tolerance};
use crate::rules::report::Lang;

/// How far apart a same-merchant, same-amount repeat of a matched row may be
/// to be called a double submission.
pub const DOUBLE_SUBMISSION_WINDOW: TimeDelta = TimeDelta::minutes(10);

/// Ledger rows this close to the end of the local business day are "late".
pub const LATE_MARGIN: TimeDelta = TimeDelta::minutes(30);

/// Bank amount lower than the ledger's by at most this percentage looks like a channel fee.
const FEE_LIMIT_PERCENT: Decimal = Decimal::ONE;

/// Differences of at most one cent are rounding.
const ROUNDING: Decimal = Decimal::from_parts(1, 0, 0, false, 2);

/// A partition key value, a merchant and a normalized amount.
type MerchantAmount<'a> = (&'a str, &'a str, Decimal);

/// A partition key value and a normalized amount.
type GroupAmount<'a> = (&'a str, Decimal);

/// Rows with their times, per grouping value.
type TimedRows<K> = HashMap<K, Vec<(DateTime<Utc>, RowRef)>, FastState>;

/// Hashes the lookups of this module (never iterated into output).
type FastState = foldhash::fast::RandomState;

/// One piece of evidence about a row, before it is put into words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cause {
    /// Same key; the bank amount is lower by a small percentage.
    ChannelFee {
        /// Ledger minus bank.
        short: Decimal,
        /// `short` as a percentage of the ledger amount.
        percent: Decimal,
        /// The largest percentage tolerance of the rules' key stages, when it is exceeded.
        above_tolerance: Option<Decimal>,
    },
    /// Same key; the amounts differ by at most a cent.
    Rounding {
        /// Bank minus ledger.
        difference: Decimal,
    },
    /// Same key; the amounts differ by more than a fee or rounding would explain.
    AmountsDiffer {
        /// The ledger amount.
        ledger: Decimal,
        /// The bank amount.
        bank: Decimal,
    },
    /// Same key, but every row on the other side with it is already matched.
    KeyAlreadyMatched {
        /// Those rows.
        matched: Vec<RowRef>,
    },
    /// Repeats a matched row on the same side moments apart.
    DoubleSubmission {
        /// The matched row it repeats.
        of: RowRef,
        /// Seconds after it (negative: before it); `None` when a time is missing.
        seconds: Option<i64>,
        /// True when the key is the same too (a duplicate), false for same merchant and amount.
        same_key: bool,
    },
    /// A ledger payment late in the business day with nothing on the statement.
    LateInDay {
        /// Local time of day.
        at: NaiveTime,
        /// The rules' `[business] cutoff`, when they set one.
        cutoff: Option<Cutoff>,
    },
    /// A row carried in from the previous run's pending rows that again found nothing.
    StillAloneAfterGrace,
    /// A bank row just after midnight with nothing in the ledger.
    EarlyInDay {
        /// Local time of day.
        at: NaiveTime,
    },
    /// A bank row without order id: the unmatched ledger rows of equal amount in the window.
    NoKeyCandidates {
        /// Those ledger rows (all of them are counted; a few are named).
        candidates: Vec<RowRef>,
        /// Where they were looked for: the merchant's rows, none (the rules
        /// pair by key alone), or the whole day (`None`).
        among: Option<PartitionKey>,
        /// The widest fallback window, or the default when the rules have no fallback stage.
        window: TimeDelta,
        /// Whether the rules have a fallback stage at all.
        has_fallback: bool,
    },
    /// A ledger row whose amount equals unmatched bank rows without order id nearby.
    KeylessBankNearby {
        /// Those bank rows.
        rows: Vec<RowRef>,
        /// The merchant's rows, or the whole day (`None`).
        among: Option<PartitionKey>,
        /// The window searched.
        window: TimeDelta,
    },
    /// A fallback stage found several equally good candidates and left them.
    Ambiguous {
        /// The candidates.
        candidates: Vec<RowRef>,
    },
    /// A refund with no refund on the other side.
    UnmatchedRefund,
    /// A ledger row with no trace on the statement.
    NotOnStatement {
        /// Where bank rows without order id were looked for (as `NoKeyCandidates`).
        among: Option<PartitionKey>,
    },
    /// A bank row whose order id is not in the ledger.
    NotInLedger,
    /// A match at or above `review_above`.
    LargeAmount {
        /// Its largest absolute amount.
        amount: Decimal,
        /// The threshold.
        limit: Decimal,
    },
    /// A fallback match chosen among several equally good candidates.
    ChosenAmongCandidates,
    /// A batch whose net differs from the credit it was compared with.
    BatchDiffers {
        /// The batch's net (amounts less fees).
        net: Decimal,
        /// The statement credit.
        credit: Decimal,
        /// How many ledger rows the batch has.
        rows: usize,
        /// The settlement day.
        settle_date: NaiveDate,
    },
    /// A batch with no credit on its settlement day.
    BatchNotPaid {
        /// The batch's net.
        net: Decimal,
        /// How many ledger rows the batch has.
        rows: usize,
        /// The settlement day.
        settle_date: NaiveDate,
    },
}

/// Likely causes, worded, for the rows and matches that need one.
#[derive(Debug, Clone, Default)]
pub struct LikelyCauses {
    rows: HashMap<RowRef, String, FastState>,
    matches: HashMap<usize, String, FastState>,
}

impl LikelyCauses {
    /// The likely cause of an unmatched or duplicate row ("" when it has none).
    pub fn of_row(&self, row: RowRef) -> &str {
        self.rows.get(&row).map_or("", String::as_str)
    }

    /// The likely cause of a match flagged for review ("" when it has none).
    pub fn of_match(&self, index: usize) -> &str {
        self.matches.get(&index).map_or("", String::as_str)
    }
}

/// Finds and words the likely causes of every exception in `result`.
pub fn find(sides: Sides, result: &Reconciliation, plan: &Plan, lang: Lang) -> LikelyCauses {
    let evidence = Evidence::new(sides, result, plan);
    let batches = open_batches(sides, result);
    let mut found = LikelyCauses::default();
    for side in Side::BOTH {
        let rows = sides.of(side).par_iter().zip(dispositions(result, side));
        found.rows.par_extend(rows.filter_map(|(record, d)| {
            let batch = (!batches.is_empty())
                .then(|| batches.get(&record.row_ref()))
                .flatten();
            let causes = match d {
                Disposition::Unmatched { .. } if batch.is_some() => {
                    vec![batch.expect("checked").clone()]
                }
                Disposition::Unmatched { reason, counterpart } => {
                    evidence.unmatched(record, *reason, counterpart)
                }
                Disposition::Duplicate { of } => evidence.duplicate(record, *of),
                Disposition::Matched(_)
                | Disposition::Ignored
                | Disposition::Pending
                | Disposition::OutOfPeriod(_) => return None,
            };
            Some((record.row_ref(), words(&causes, lang)))
        }));
    }
    let reviewed = result.matches.par_iter().enumerate().filter(|(_, m)| m.flagged());
    found.matches.par_extend(reviewed.filter_map(|(i, m)| {
        let causes = evidence.review(m);
        (!causes.is_empty()).then(|| (i, words(&causes, lang)))
    }));
    found
}

/// The cause of every row of a batch no credit settled, by row: its ledger
/// rows and the credit it was compared with.
fn open_batches(sides: Sides, result: &Reconciliation) -> HashMap<RowRef, Cause, FastState> {
    let mut causes = HashMap::default();
    for b in &result.batches {
        let cause = match (b.outcome, b.credit) {
            (BatchOutcome::AmountMismatch, Some(c)) => Cause::BatchDiffers {
                net: b.net,
                credit: sides.bank[c].amount(),
                rows: b.ledger.len(),
                settle_date: b.settle_date,
            },
            (BatchOutcome::Missing, _) => Cause::BatchNotPaid {
                net: b.net,
                rows: b.ledger.len(),
                settle_date: b.settle_date,
            },
            _ => continue,
        };
        if let Some(c) = b.credit {
            causes.insert(sides.bank[c].row_ref(), cause.clone());
        }
        for &l in &b.ledger {
            causes.insert(sides.ledger[l].row_ref(), cause.clone());
        }
    }
    causes
}

/// What the causes will ask about: the rows named as counterparts or
/// originals, and per side the (merchant, amount) of unmatched rows that may
/// repeat a matched one. Only those matched rows are indexed.
fn questions<'a>(
    sides: Sides<'a>,
    result: &Reconciliation,
    among: Option<PartitionKey>,
) -> (
    HashSet<RowRef, FastState>,
    [HashSet<MerchantAmount<'a>, FastState>; 2],
) {
    let mut wanted = HashSet::default();
    let mut twin_keys = [HashSet::default(), HashSet::default()];
    for (slot, side) in Side::BOTH.into_iter().enumerate() {
        // The few exception rows, found on every core, then read in row order.
        let exceptions: Vec<(&Record, &Disposition)> = sides
            .of(side)
            .par_iter()
            .zip(dispositions(result, side))
            .filter(|(_, d)| matches!(d, Disposition::Unmatched { .. } | Disposition::Duplicate { .. }))
            .collect();
        for (r, d) in exceptions {
            match d {
                Disposition::Unmatched { reason, counterpart } => {
                    wanted.extend(counterpart);
                    if *reason == Reason::NoCounterpart && !r.merchant().is_empty() {
                        twin_keys[slot].insert(twin_key(among, r));
                    }
                }
                Disposition::Duplicate { of } => {
                    wanted.insert(*of);
                }
                _ => {}
            }
        }
    }
    (wanted, twin_keys)
}

/// The value of the partition key that confines the search for `record`'s
/// related rows ("" when the whole day is searched).
fn group(among: Option<PartitionKey>, record: &Record) -> &str {
    among.map_or("", |key| key.value(record))
}

/// What a matched row must share with a row it may have been submitted twice as.
fn twin_key(among: Option<PartitionKey>, record: &Record) -> MerchantAmount<'_> {
    (
        group(among, record),
        record.merchant(),
        record.amount().normalize(),
    )
}

fn dispositions(result: &Reconciliation, side: Side) -> &[Disposition] {
    match side {
        Side::Ledger => &result.ledger,
        Side::Bank => &result.bank,
    }
}

/// Joins several causes into one cell.
fn words(causes: &[Cause], lang: Lang) -> String {
    let sep = match lang {
        Lang::En => "; ",
        Lang::Zh => "；",
    };
    causes.iter().map(|c| c.text(lang)).collect::<Vec<_>>().join(sep)
}

/// Which index of `Evidence` a row with a time goes into.
#[derive(Clone, Copy)]
enum Use {
    /// A matched row that an unmatched row of its side may repeat.
    MatchedTwin,
    /// An unmatched ledger row.
    OpenLedger,
    /// An unmatched bank row without key.
    OpenKeylessBank,
}

/// Indexes built once per run to answer the questions causes ask.
struct Evidence<'a> {
    sides: Sides<'a>,
    result: &'a Reconciliation,
    plan: &'a Plan,
    /// Index of each record referenced as a counterpart or original.
    referenced: HashMap<RowRef, usize, FastState>,
    /// Matched rows per side by (merchant, amount), with their times.
    matched_twins: [TimedRows<MerchantAmount<'a>>; 2],
    /// Unmatched ledger rows by group and amount, sorted by time (for keyless bank rows).
    open_ledger: TimedRows<GroupAmount<'a>>,
    /// Unmatched bank rows without key by group and amount, sorted by time.
    open_keyless_bank: TimedRows<GroupAmount<'a>>,
    /// Where related rows are looked for.
    among: Option<PartitionKey>,
    /// Widest fallback window (bank time minus ledger time).
    window: (TimeDelta, TimeDelta),
    has_fallback: bool,
    /// Largest percentage tolerance of the key stages.
    fee_tolerance: Option<Decimal>,
}

impl<'a> Evidence<'a> {
    fn new(sides: Sides<'a>, result: &'a Reconciliation, plan: &'a Plan) -> Evidence<'a> {
        let among = stage_partition(plan).ok();
        // Rules that pair by key alone have no candidate without a key to look for.
        let keyless = among != Some(PartitionKey::Key);
        let (wanted, twin_keys) = questions(sides, result, among);
        let mut referenced = HashMap::default();
        let mut matched_twins: [TimedRows<_>; 2] = [HashMap::default(), HashMap::default()];
        let mut open_ledger: TimedRows<GroupAmount<'a>> = HashMap::default();
        let mut open_keyless_bank: TimedRows<GroupAmount<'a>> = HashMap::default();
        for (slot, side) in Side::BOTH.into_iter().enumerate() {
            let records = sides.of(side);
            // Find the few rows of interest on every core, then index them in line order.
            let found: Vec<(usize, bool, Option<Use>)> = records
                .par_iter()
                .zip(dispositions(result, side))
                .enumerate()
                .filter_map(|(i, (r, d))| {
                    let referenced = wanted.contains(&r.row_ref());
                    let use_ = r.time().and_then(|_| match (d, side) {
                        (Disposition::Matched(_), _) if twin_keys[slot].contains(&twin_key(among, r)) => {
                            Some(Use::MatchedTwin)
                        }
                        (Disposition::Unmatched { .. }, Side::Ledger) if keyless => Some(Use::OpenLedger),
                        (Disposition::Unmatched { .. }, Side::Bank) if keyless && r.key().is_empty() => {
                            Some(Use::OpenKeylessBank)
                        }
                        _ => None,
                    });
                    (referenced || use_.is_some()).then_some((i, referenced, use_))
                })
                .collect();
            for (i, is_referenced, use_) in found {
                let r = &records[i];
                if is_referenced {
                    referenced.insert(r.row_ref(), i);
                }
                let (Some(use_), Some(t)) = (use_, r.time()) else {
                    continue;
                };
                let amount = (group(among, r), r.amount().normalize());
                let list = match use_ {
                    Use::MatchedTwin => matched_twins[slot].entry(twin_key(among, r)).or_default(),
                    Use::OpenLedger => open_ledger.entry(amount).or_default(),
                    Use::OpenKeylessBank => open_keyless_bank.entry(amount).or_default(),
                };
                list.push((t, r.row_ref()));
            }
        }
        for list in open_ledger.values_mut().chain(open_keyless_bank.values_mut()) {
            list.sort();
        }
        let fallback_windows: Vec<(TimeDelta, TimeDelta)> = plan
            .stages
            .iter()
            .filter_map(|s| match s {
                StagePlan::Fallback {
                    window_from,
                    window_to,
                    ..
                } => Some((*window_from, *window_to)),
                _ => None,
            })
            .collect();
        let window = match fallback_windows.iter().map(|w| w.0).min() {
            Some(from) => (from, fallback_windows.iter().map(|w| w.1).max().unwrap_or(from)),
            None => (TimeDelta::zero(), TimeDelta::seconds(120)),
        };
        let fee_tolerance = plan
            .stages
            .iter()
            .filter_map(|s| match s {
                StagePlan::Key {
                    tolerance: Tolerance::Percent(p),
                    ..
                } => Some(*p),
                _ => None,
            })
            .max();
        Evidence {
            sides,
            result,
            plan,
            referenced,
            matched_twins,
            open_ledger,
            open_keyless_bank,
            among,
            window,
            has_fallback: !fallback_windows.is_empty(),
            fee_tolerance,
        }
    }

    fn record(&self, row: RowRef) -> Option<(&'a Record, &'a Disposition)> {
        let &i = self.referenced.get(&row)?;
        Some((
            &self.sides.of(row.side)[i],
            &dispositions(self.result, row.side)[i],
        ))
    }

    fn unmatched(&self, record: &Record, reason: Reason, counterpart: &[RowRef]) -> Vec<Cause> {
        match reason {
            Reason::Ambiguous => vec![Cause::Ambiguous {
                candidates: counterpart.to_vec(),
            }],
            Reason::AmountMismatch => vec![self.amount_mismatch(record, counterpart)],
            Reason::NoCounterpart => vec![self.no_counterpart(record)],
            Reason::CounterpartMatched => vec![Cause::KeyAlreadyMatched {
                matched: counterpart.to_vec(),
            }],
            Reason::NoCounterpartAfterGrace => vec![Cause::StillAloneAfterGrace],
        }
    }

    fn amount_mismatch(&self, record: &Record, counterpart: &[RowRef]) -> Cause {
        let others: Vec<(&Record, &Disposition)> =
            counterpart.iter().filter_map(|c| self.record(*c)).collect();
        let open: Vec<&Record> = others
            .iter()
            .filter(|(_, d)| !matches!(d, Disposition::Matched(_)))
            .map(|(r, _)| *r)
            .collect();
        let Some(closest) = open
            .iter()
            .min_by_key(|o| ((o.amount() - record.amount()).abs(), o.content_order()))
        else {
            return Cause::KeyAlreadyMatched {
                matched: counterpart.to_vec(),
            };
        };
        let (ledger, bank) = match record.side() {
            Side::Ledger => (record.amount(), closest.amount()),
            Side::Bank => (closest.amount(), record.amount()),
        };
        amount_cause(ledger, bank, self.fee_tolerance)
    }

    fn no_counterpart(&self, record: &Record) -> Cause {
        if let Some(twin) = self.double_submission(record) {
            return twin;
        }
        let local = record
            .time()
            .map(|t| t.with_timezone(&self.plan.business_zone).time());
        match (record.side(), local) {
            (Side::Ledger, Some(at)) if at >= NaiveTime::MIN - LATE_MARGIN => {
                let cutoff = Some(self.plan.cutoff).filter(|c| *c != Cutoff::END_OF_DAY);
                return Cause::LateInDay { at, cutoff };
            }
            (Side::Bank, Some(at)) if at < NaiveTime::MIN + LATE_MARGIN => {
                return Cause::EarlyInDay { at };
            }
            _ => {}
        }
        if record.side() == Side::Bank && record.key().is_empty() {
            return Cause::NoKeyCandidates {
                candidates: self.nearby(&self.open_ledger, record, -1),
                among: self.among,
                window: self.window_width(),
                has_fallback: self.has_fallback,
            };
        }
        if record.side() == Side::Ledger {
            let rows = self.nearby(&self.open_keyless_bank, record, 1);
            if !rows.is_empty() {
                return Cause::KeylessBankNearby {
                    rows,
                    among: self.among,
                    window: self.window_width(),
                };
            }
        }
        match (record.is_outflow(), record.side()) {
            (true, _) => Cause::UnmatchedRefund,
            (false, Side::Ledger) => Cause::NotOnStatement { among: self.among },
            (false, Side::Bank) => Cause::NotInLedger,
        }
    }

    /// Rows of `index` with the record's amount whose time lies in the fallback
    /// window; `direction` is +1 when they are bank rows (bank − ledger time),
    /// −1 when they are ledger rows seen from a bank row.
    fn nearby(&self, index: &TimedRows<GroupAmount>, record: &Record, direction: i32) -> Vec<RowRef> {
        let amount = (group(self.among, record), record.amount().normalize());
        let (Some(t), Some(list)) = (record.time(), index.get(&amount)) else {
            return Vec::new();
        };
        let (from, to) = if direction > 0 {
            (t + self.window.0, t + self.window.1)
        } else {
            (t - self.window.1, t - self.window.0)
        };
        let start = list.partition_point(|(x, _)| *x < from);
        let end = list.partition_point(|(x, _)| *x <= to);
        list[start..end].iter().map(|(_, r)| *r).collect()
    }

    fn window_width(&self) -> TimeDelta {
        self.window.0.abs().max(self.window.1.abs())
    }

    /// A matched row on the same side with the same merchant and amount, moments apart.
    fn double_submission(&self, record: &Record) -> Option<Cause> {
        let t = record.time()?;
        let twins = self.matched_twins[record.side() as usize].get(&twin_key(self.among, record))?;
        let (gap, row) = twins
            .iter()
            .map(|(time, row)| (t - *time, *row))
            .filter(|(gap, _)| gap.abs() <= DOUBLE_SUBMISSION_WINDOW)
            .min_by_key(|(gap, row)| (gap.abs(), row.line))?;
        Some(Cause::DoubleSubmission {
            of: row,
            seconds: Some(gap.num_seconds()),
            same_key: false,
        })
    }

    fn duplicate(&self, record: &Record, of: RowRef) -> Vec<Cause> {
        let seconds = self
            .record(of)
            .and_then(|(o, _)| Some((record.time()? - o.time()?).num_seconds()));
        vec![Cause::DoubleSubmission {
            of,
            seconds,
            same_key: true,
        }]
    }

    fn review(&self, m: crate::matching::Match) -> Vec<Cause> {
        let mut causes = Vec::new();
        let largest = m
            .ledger()
            .iter()
            .map(|i| &self.sides.ledger[i])
            .chain(m.bank().iter().map(|i| &self.sides.bank[i]))
            .map(|r| r.amount().abs())
            .max()
            .unwrap_or_default();
        let large = self.plan.review_above.filter(|limit| largest >= *limit);
        if let Some(limit) = large {
            causes.push(Cause::LargeAmount {
                amount: largest,
                limit,
            });
        }
        let other_reasons = m.review_reasons().len() > usize::from(large.is_some());
        if other_reasons && matches!(self.plan.stages[m.stage()], StagePlan::Fallback { .. }) {
            causes.push(Cause::ChosenAmongCandidates);
        }
        causes
    }
}

/// The cause of a same-key amount difference, from the ledger and bank amounts.
pub fn amount_cause(ledger: Decimal, bank: Decimal, fee_tolerance: Option<Decimal>) -> Cause {
    // Checked throughout: amounts too large for the arithmetic simply differ.
    let Some(difference) = bank.checked_sub(ledger) else {
        return Cause::AmountsDiffer { ledger, bank };
    };
    if difference.abs() <= ROUNDING {
        return Cause::Rounding { difference };
    }
    let short = -difference;
    let hundredfold = short.checked_mul(Decimal::ONE_HUNDRED);
    let fee_like = !ledger.is_zero()
        && short.is_sign_positive()
        && ledger.is_sign_positive()
        && hundredfold
            .zip(ledger.checked_mul(FEE_LIMIT_PERCENT))
            .is_some_and(|(short, limit)| short <= limit);
    let percent = hundredfold
        .filter(|_| fee_like)
        .and_then(|h| h.checked_div(ledger));
    if let Some(percent) = percent {
        let percent = percent.round_dp(2).normalize();
        return Cause::ChannelFee {
            short,
            percent,
            above_tolerance: fee_tolerance.filter(|t| percent > *t),
        };
    }
    Cause::AmountsDiffer { ledger, bank }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> Decimal {
        Decimal::from_str_exact(text).unwrap()
    }

    #[test]
    fn a_small_shortfall_is_a_fee() {
        let cause = amount_cause(d("100.00"), d("99.40"), None);
        assert_eq!(
            cause.text(Lang::En),
            "same key, bank amount 0.60 lower: looks like a channel fee (0.6%)"
        );
        assert_eq!(
            cause.text(Lang::Zh),
            "订单号相同，银行金额少 0.60：疑似渠道手续费（0.6%）"
        );
        let above = amount_cause(d("150.00"), d("149.00"), Some(d("0.6")));
        assert!(above
            .text(Lang::En)
            .contains("(0.67%, above the rules' 0.6% tolerance)"));
    }

    #[test]
    fn a_cent_is_rounding_and_more_is_a_difference() {
        assert_eq!(
            amount_cause(d("10.00"), d("10.01"), None).text(Lang::En),
            "same key, amounts differ by 0.01: likely rounding"
        );
        let higher = amount_cause(d("100.00"), d("101.00"), None).text(Lang::En);
        assert!(higher.starts_with("same key, bank amount 1.00 higher (ledger 100.00, bank 101.00)"));
        let far = amount_cause(d("100.00"), d("90.00"), None).text(Lang::Zh);
        assert!(far.starts_with("订单号相同，银行金额少 10.00"), "{far}");
    }

    /// A plan with review_above 5000, a key stage and `extra` stages.
    fn plan(extra: &str) -> Plan {
        let text = format!(
            "[rules]\nname = \"t\"\nversion = \"1\"\neffective_from = 2026-01-01\n\
             [thresholds]\nreview_above = \"5000\"\n[ledger.columns]\namount = \"a\"\n\
             [bank.columns]\namount = \"a\"\n[[stage]]\nname = \"id\"\nmatch = \"key\"\n{extra}"
        );
        let file: crate::rules::schema::RuleFile = toml::from_str(&text).unwrap();
        crate::rules::plan::build(&file, "t.toml", "0").unwrap()
    }

    /// A record at `hms` local (Asia/Shanghai) time on 2026-11-24.
    fn rec(side: Side, line: u64, key: &str, amount: &str, hms: &str, merchant: &str) -> Record {
        let local =
            chrono::NaiveDateTime::parse_from_str(&format!("2026-11-24 {hms}"), "%Y-%m-%d %H:%M:%S").unwrap();
        Record::new(
            side,
            line,
            crate::model::Amount::from_decimal(d(amount)).unwrap(),
            crate::model::Stamp::new(Some((local - TimeDelta::hours(8)).and_utc())).unwrap(),
            crate::model::RecordText::new(key, merchant, []),
            crate::model::Currency::CNY,
        )
        .unwrap()
    }

    /// The likely cause of every exception row, as `side:line cause`.
    fn causes_of(plan: &Plan, ledger: &[Record], bank: &[Record]) -> Vec<String> {
        let sides = Sides { ledger, bank };
        let result = crate::matching::reconcile(sides, plan, None);
        let found = find(sides, &result, plan, Lang::En);
        let mut out: Vec<String> = ledger
            .iter()
            .chain(bank)
            .filter(|r| !found.of_row(r.row_ref()).is_empty())
            .map(|r| format!("{} {}", r.row_ref(), found.of_row(r.row_ref())))
            .collect();
        out.extend(
            (0..result.matches.len())
                .filter(|&i| !found.of_match(i).is_empty())
                .map(|i| format!("M{i} {}", found.of_match(i))),
        );
        out
    }

    use Side::{Bank as B, Ledger as L};

    #[test]
    fn same_key_differences_are_fee_rounding_or_extra_rows() {
        let ledger = [
            rec(L, 2, "K1", "100.00", "10:00:00", "M"),
            rec(L, 3, "K2", "10.00", "10:00:00", "M"),
        ];
        let bank = [
            rec(B, 2, "K1", "99.40", "10:00:05", "M"),
            rec(B, 3, "K2", "10.00", "10:00:05", "M"),
            rec(B, 4, "K2", "12.00", "10:01:00", "M"),
        ];
        let got = causes_of(&plan(""), &ledger, &bank);
        assert!(
            got[0].starts_with("ledger:2 same key, bank amount 0.60 lower: looks like a channel fee (0.6%)"),
            "{got:?}"
        );
        assert!(
            got[1].starts_with("bank:2 same key, bank amount 0.60 lower"),
            "{got:?}"
        );
        assert_eq!(got[2], "bank:4 same key already matched on the other side (ledger:3): an extra row, e.g. a second payment");
    }

    /// A fallback stage within a merchant: likely causes look among the merchant's rows.
    const BY_MERCHANT: &str =
        "[[stage]]\nname = \"fb\"\nmatch = \"fallback\"\non = [\"merchant\", \"amount\"]\n";

    #[test]
    fn a_matched_twin_moments_earlier_is_a_double_submission() {
        let ledger = [
            rec(L, 2, "K1", "30.00", "11:00:00", "M2"),
            rec(L, 3, "K2", "30.00", "11:00:40", "M2"),
            rec(L, 4, "K3", "30.00", "11:30:00", "M2"),
        ];
        let bank = [
            rec(B, 2, "K1", "30.00", "11:00:10", "M2"),
            rec(B, 3, "K1", "30.00", "11:01:10", "M2"),
        ];
        let got = causes_of(&plan(BY_MERCHANT), &ledger, &bank);
        assert_eq!(
            got[0],
            "ledger:3 same merchant and amount 40 s after matched row ledger:2: likely double submission"
        );
        assert!(
            !got[1].contains("double submission"),
            "30 minutes later is not a double submission: {got:?}"
        );
        assert_eq!(
            got[2],
            "bank:3 same key and amount 60 s after matched row bank:2: likely double submission"
        );
        // Rules that pair by key alone partition by key: no look across order ids.
        let by_key = causes_of(&plan(""), &ledger, &bank);
        assert_eq!(
            by_key[0],
            "ledger:3 no bank row with this order id: not received, or not on this statement"
        );
        assert_eq!(by_key[2], got[2], "a duplicate shares its key");
    }

    #[test]
    fn the_time_of_day_explains_rows_near_midnight() {
        let ledger = [
            rec(L, 2, "K1", "80.00", "23:40:00", "M"),
            rec(L, 3, "K2", "80.00", "23:20:00", "M"),
        ];
        let bank = [
            rec(B, 2, "K9", "90.00", "00:05:00", "M"),
            rec(B, 3, "K8", "90.00", "00:45:00", "M"),
        ];
        let got = causes_of(&plan(""), &ledger, &bank);
        assert!(
            got[0].starts_with("ledger:2 paid 23:40, near the end of the business day"),
            "{got:?}"
        );
        assert!(
            got[1].starts_with("ledger:3 no bank row with this order id"),
            "{got:?}"
        );
        assert!(
            got[2].starts_with("bank:2 recorded 00:05, just after midnight"),
            "{got:?}"
        );
        assert!(
            got[3].starts_with("bank:3 no ledger row with this order id"),
            "{got:?}"
        );
    }

    #[test]
    fn keyless_bank_rows_name_their_candidates_of_the_merchant_and_ambiguity_is_explained() {
        // Two fallback stages: 0-10 s and 100-120 s; 30 s apart fits neither, but the 2 min searched.
        let fallback = "[[stage]]\nname = \"fb\"\nmatch = \"fallback\"\nwindow = [\"0s\", \"10s\"]\nambiguous = \"unmatched\"\n\
                        [[stage]]\nname = \"late\"\nmatch = \"fallback\"\nwindow = [\"100s\", \"120s\"]\n";
        let ledger = [
            rec(L, 2, "K1", "60.00", "14:00:00", "M5"),
            rec(L, 3, "K2", "25.00", "16:00:00", "M8"),
            rec(L, 4, "K3", "-20.00", "17:00:00", "M9"),
        ];
        let bank = [
            rec(B, 2, "", "60.00", "14:00:30", "M5"),
            rec(B, 3, "", "25.00", "16:00:05", "M8"),
            rec(B, 4, "", "25.00", "16:00:08", "M8"),
            rec(B, 5, "", "70.00", "15:00:00", "M7"),
            rec(B, 6, "", "60.00", "14:00:30", "M4"),
        ];
        let got = causes_of(&plan(fallback), &ledger, &bank);
        let of = |row: &str| {
            got.iter()
                .find_map(|c| c.strip_prefix(&format!("{row} ")))
                .unwrap_or_else(|| panic!("{row}: {got:?}"))
        };
        assert_eq!(
            of("ledger:2"),
            "bank row(s) of this merchant with no order id and equal amount within 2 min: bank:2 (not paired: compare them)"
        );
        assert_eq!(
            of("ledger:3"),
            "2 equally good candidates (bank:3 bank:4): the rules leave the choice to a person"
        );
        assert!(of("ledger:4").starts_with("refund with no refund on the other side"));
        assert_eq!(
            of("bank:2"),
            "bank row with no order id; 1 candidate(s) of this merchant with equal amount within 2 min: ledger:2"
        );
        assert!(of("bank:3").starts_with("one of several rows that fit ledger:3 equally well"));
        assert_eq!(
            of("bank:5"),
            "bank row with no order id; no open ledger row of this merchant with equal amount within 2 min"
        );
        // ledger:2 is of another merchant: not a candidate of bank:6.
        assert_eq!(of("bank:6"), of("bank:5"));
        let without = causes_of(&plan(""), &ledger[..1], &bank[..1]);
        assert_eq!(
            without[1],
            "bank:2 bank row with no order id, and the rules pair rows by order id only (no fallback stage)"
        );
    }

    #[test]
    fn review_matches_say_why() {
        let closest = "[[stage]]\nname = \"fb\"\nmatch = \"fallback\"\n";
        let ledger = [
            rec(L, 2, "K1", "6000.00", "08:00:00", "M"),
            rec(L, 3, "", "25.00", "16:00:00", "M8"),
        ];
        let bank = [
            rec(B, 2, "K1", "6000.00", "08:00:10", "M"),
            rec(B, 3, "", "25.00", "16:00:30", "M8"),
            rec(B, 4, "", "25.00", "16:00:40", "M8"),
        ];
        let got = causes_of(&plan(closest), &ledger, &bank);
        assert_eq!(
            got[1],
            "M0 large amount 6000.00 (review_above 5000): needs a second confirmation"
        );
        assert_eq!(
            got[2],
            "M1 paired without order id, chosen among equally good candidates: confirm the pair"
        );
    }
}
