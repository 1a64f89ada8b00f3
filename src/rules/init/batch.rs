//! Whether the statement pays the ledger in batches: its credits are far
//! fewer than the ledger's rows, and their amounts are the nets (amounts
//! less fees, refunds netted) of the ledger's merchant-day groups, paid N
//! days later. Then `init` drafts a `batch` stage: grouped by the merchant,
//! `settle = "T+N"` with the N most credits fit, `net = ["fee"]` when the
//! ledger has a fee column, and where the statement names the merchant (a
//! column, or inside a memo, which a `[[bank.clean]]` extraction takes out).

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use chrono_tz::Tz;
use rust_decimal::Decimal;

use super::SideDraft;
use crate::input::field::clean_field;
use crate::input::guess::guess_fee;
use crate::input::status::type_by_status;
use crate::model::{Record, Side};
use crate::rules::business::BusinessDay;
use crate::rules::plan::SidePlan;

/// The tolerance a drafted batch stage gets, and a credit must fit within.
pub(super) const TOLERANCE: &str = "0.01";
/// The latest settlement day looked for (T+0 … T+7, as the batch stage allows).
const MAX_SETTLE_DAYS: i64 = 7;

/// Where the statement names a credit's merchant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum StatementMerchant {
    /// A column holding the merchant as the ledger writes it.
    Column(String),
    /// A memo column holding it among other words, taken out by `pattern`.
    Memo { column: String, pattern: String },
}

/// The batch stage to draft, and the evidence for it.
#[derive(Debug, Clone)]
pub(super) struct BatchAdvice {
    /// Days from a batch's business day to its credit.
    pub settle_days: i64,
    /// The ledger's fee column, when it has one.
    pub fee: Option<String>,
    /// Where the statement names the merchant.
    pub merchant: StatementMerchant,
    /// Credits whose amount is the net of a merchant-day group `settle_days` earlier.
    pub fits: usize,
    /// The statement's credits.
    pub credits: usize,
    /// The ledger's rows that count (set-aside rows are not).
    pub rows: usize,
}

/// Looks for batches; `None` when the statement does not look like one
/// credit per merchant and day.
pub(super) fn advise(l: &SideDraft, b: &SideDraft, zone: Tz) -> Option<BatchAdvice> {
    l.plan.columns.merchant.as_ref()?;
    let fee = l
        .plan
        .columns
        .fee
        .clone()
        .or_else(|| guess_fee(&l.located.table, &l.plan.columns.names()));
    let mut ledger_plan = l.plan.clone();
    if let Some(f) = &fee {
        ledger_plan.columns.fee = Some(f.clone());
        if !ledger_plan.columns.carry.contains(f) {
            ledger_plan.columns.carry.push(f.clone());
        }
    }
    let ledger = records(l, Side::Ledger, &ledger_plan);
    let statement = records(b, Side::Bank, &b.plan);
    // Far fewer statement rows than ledger rows: at least two ledger rows a statement row.
    if ledger.len() < 2 * statement.len() {
        return None;
    }
    let credits: Vec<Record> = statement
        .into_iter()
        .filter(|r| r.amount() > Decimal::ZERO && r.time().is_some())
        .collect();
    if credits.is_empty() {
        return None;
    }
    let slot = ledger_plan.columns.fee_slot();
    let mut groups: BTreeMap<NaiveDate, Vec<(&str, Decimal)>> = BTreeMap::new();
    let mut nets: BTreeMap<(&str, NaiveDate), (Decimal, usize)> = BTreeMap::new();
    for r in ledger.iter().filter(|r| !r.merchant().is_empty()) {
        let Some(t) = r.time() else { continue };
        let net = r.amount() - slot.map_or(Decimal::ZERO, |s| r.fee(s));
        let group = nets
            .entry((r.merchant(), BusinessDay::date_of(zone, t)))
            .or_default();
        group.0 += net;
        group.1 += 1;
    }
    // A credit paying a single row is a payment, not a batch: only groups of several rows count.
    for ((m, day), (net, _)) in nets.into_iter().filter(|(_, (_, n))| *n >= 2) {
        groups.entry(day).or_default().push((m, net));
    }
    let tolerance: Decimal = TOLERANCE.parse().expect("a decimal");
    // For each settlement lag, the merchants each credit fits.
    let fitting = |lag: i64| -> Vec<(&Record, Vec<&str>)> {
        credits
            .iter()
            .filter_map(|c| {
                let day = BusinessDay::date_of(zone, c.time()?) - chrono::Days::new(lag as u64);
                let merchants: Vec<&str> = groups
                    .get(&day)?
                    .iter()
                    .filter(|(_, net)| (net - c.amount()).abs() <= tolerance)
                    .map(|(m, _)| *m)
                    .collect();
                (!merchants.is_empty()).then_some((c, merchants))
            })
            .collect()
    };
    let (lag, fits) = (0..=MAX_SETTLE_DAYS)
        .map(|lag| (lag, fitting(lag)))
        .max_by_key(|(lag, fits)| (fits.len(), -lag))?;
    // Most credits must fit: a statement of other money is not a batch statement.
    if fits.is_empty() || fits.len() * 2 < credits.len() {
        return None;
    }
    Some(BatchAdvice {
        settle_days: lag,
        fee,
        merchant: statement_merchant(b, &fits)?,
        fits: fits.len(),
        credits: credits.len(),
        rows: ledger.len(),
    })
}

/// A side's records read as `run` reads them (status sorting included, so
/// a merchant bill's refunds come from its refund amount column).
fn records(d: &SideDraft, side: Side, plan: &SidePlan) -> Vec<Record> {
    let mut table = d.located.table.clone();
    type_by_status(&mut table, side, plan).map_or_else(|_| Vec::new(), |s| s.typed.records)
}

/// The statement column naming every fitting credit's merchant: one that
/// holds it as it is, else one that holds it after the same word in each
/// (`商户号1900000109` in a memo).
fn statement_merchant(b: &SideDraft, fits: &[(&Record, Vec<&str>)]) -> Option<StatementMerchant> {
    let table = &b.located.table;
    let by_line: HashMap<u64, &crate::input::table::RawRow> =
        table.rows.iter().map(|r| (r.line, r)).collect();
    let cell = |line: u64, i: usize| -> &str {
        by_line
            .get(&line)
            .map_or("", |r| clean_field(r.fields.get(i).unwrap_or("")))
    };
    for (i, name) in table.header.iter().enumerate() {
        if fits.iter().all(|(c, ms)| ms.contains(&cell(c.line(), i))) {
            return Some(StatementMerchant::Column(name.clone()));
        }
    }
    for (i, name) in table.header.iter().enumerate() {
        // The word right before the merchant in each fitting credit's cell.
        let found: Option<Vec<(&str, &str)>> = fits
            .iter()
            .map(|(c, ms)| {
                let text = cell(c.line(), i);
                ms.iter().find_map(|m| {
                    let before = &text[..text.find(m)?];
                    Some((before.rsplit(char::is_whitespace).next().unwrap_or(""), *m))
                })
            })
            .collect();
        let Some(all) = found else { continue };
        let word = all[0].0;
        if word.is_empty() || all.iter().any(|(w, _)| *w != word) {
            continue;
        }
        let digits = all.iter().all(|(_, m)| m.bytes().all(|b| b.is_ascii_digit()));
        let class = if digits { r"\d+" } else { r"[0-9A-Za-z_-]+" };
        return Some(StatementMerchant::Memo {
            column: name.clone(),
            pattern: format!("{}({class})", regex::escape(word)),
        });
    }
    None
}
