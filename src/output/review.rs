//! The review worklist (`review.csv`): every match flagged `review = true`
//! and every unmatched or duplicate row, each with a stable identity, and
//! whether a reviewer has confirmed it (`recon confirm`, read back from the
//! audit log).
//!
//! Identities do not depend on line numbers or match ids, which change when
//! a file is re-exported or a row is added. A row's fingerprint is the
//! SHA-256 of its side, key, amount, time (UTC) and merchant, plus its
//! occurrence among identical rows of its file (1 for the first in line
//! order). An item's identity is the SHA-256 of its kind and its rows'
//! fingerprints, sorted. Identities hold no row data, so they are safe in the
//! audit log.

use std::collections::{BTreeMap, HashMap, HashSet};

use rayon::prelude::*;

use chrono::{DateTime, SecondsFormat, Utc};
use rust_decimal::Decimal;
use serde::Serialize;

use super::tables::match_id;
use crate::digest::sha256_hex;
use crate::input::field::safe;
use crate::matching::{Disposition, Reconciliation, Sides};
use crate::model::{text_hash, Record, RowRef, Side};

/// File name of the worklist.
pub const FILE_NAME: &str = "review.csv";

/// What kind of second look an item needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemKind {
    /// A match flagged `review = true`.
    Review,
    /// An unmatched row.
    Unmatched,
    /// A duplicate row.
    Duplicate,
}

impl ItemKind {
    /// The name written in review.csv and the audit log.
    pub fn name(self) -> &'static str {
        match self {
            ItemKind::Review => "review",
            ItemKind::Unmatched => "unmatched",
            ItemKind::Duplicate => "duplicate",
        }
    }
}

/// One entry of the worklist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewItem {
    /// `M000003` for a match, `ledger:10` for a row (`carried:ledger:10` for a
    /// row carried in from the previous run).
    pub item: String,
    /// Its kind.
    pub kind: ItemKind,
    /// Review reasons, unmatched reason and counterpart, or the row it duplicates.
    pub detail: String,
    /// Stable identity (64 hex digits).
    pub identity: String,
}

/// A reviewer's confirmation, as recorded in the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Confirmation {
    /// The item's identity.
    pub identity: String,
    /// Who confirmed.
    pub by: String,
    /// When (RFC 3339).
    pub at: String,
    /// Their note (account-like numbers already masked).
    pub note: String,
    /// The audit log line that records it.
    pub audit_line: u64,
}

/// Confirmation status of a run's worklist, for summary.json.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ReviewStatus {
    /// Items in review.csv.
    pub items: u64,
    /// How many of them a reviewer has confirmed.
    pub confirmed: u64,
    /// The confirmed ones.
    pub confirmed_items: Vec<ConfirmedItem>,
}

/// One confirmed item, for summary.json.
#[derive(Debug, Clone, Serialize)]
pub struct ConfirmedItem {
    /// `M000003` or `ledger:10`, as numbered in this run.
    pub item: String,
    /// Its kind.
    pub kind: ItemKind,
    /// Who confirmed.
    pub by: String,
    /// When.
    pub at: String,
    /// Their note.
    pub note: String,
    /// The audit log line that records it.
    pub audit_line: u64,
}

/// Fingerprints of rows, by side and index.
pub type Prints = HashMap<(Side, usize), String, FastState>;

/// The rows of a reconciliation that are exceptions: unmatched or duplicate
/// (ledger first, by index).
pub fn exception_rows(result: &Reconciliation) -> Vec<(Side, usize)> {
    let mut rows = Vec::new();
    for side in Side::BOTH {
        // Found on every core, in row order.
        rows.par_extend(
            dispositions(result, side)
                .par_iter()
                .enumerate()
                .filter(|(_, d)| matches!(d, Disposition::Unmatched { .. } | Disposition::Duplicate { .. }))
                .map(move |(i, _)| (side, i)),
        );
    }
    rows
}

/// Fingerprints of every row the worklist and resolutions.csv name: the rows
/// of matches flagged for review, the exception rows and the `more` rows (fee
/// variances), computed once, before resolutions (which only turn exceptions
/// into manual matches and never touch a match flagged for review).
pub fn worklist_prints(sides: Sides, result: &Reconciliation, more: &[(Side, usize)]) -> Prints {
    let mut wanted: Vec<(Side, usize)> = Vec::new();
    wanted.par_extend(
        result
            .matches
            .par_iter()
            .filter(|m| m.flagged())
            .flat_map_iter(|m| {
                let ledger = m.ledger().iter().map(|i| (Side::Ledger, i));
                ledger.chain(m.bank().iter().map(|i| (Side::Bank, i)))
            }),
    );
    wanted.extend(exception_rows(result));
    wanted.extend(more);
    fingerprints(sides, &wanted)
}

/// The worklist of a reconciliation, flagged matches first, then rows (ledger
/// first, by line, this run's rows before carried-in ones). `prints` holds
/// every row's fingerprint it needs (`worklist_prints`).
pub fn items(sides: Sides, result: &Reconciliation, prints: &Prints) -> Vec<ReviewItem> {
    let mut items = Vec::new();
    each_block(sides, result, prints, |block| items.extend(block));
    items
}

/// Items made at once by `each_block`.
const BLOCK: usize = 1 << 14;

/// The worklist (`items`) made a block of items at a time, each block on
/// every core and handed to `take` in order, so that it need never be held
/// whole.
pub fn each_block(
    sides: Sides,
    result: &Reconciliation,
    prints: &Prints,
    mut take: impl FnMut(Vec<ReviewItem>),
) {
    let flagged: Vec<usize> = (result.matches.par_iter().enumerate())
        .filter(|(_, m)| m.flagged())
        .map(|(n, _)| n)
        .collect();
    for block in flagged.chunks(BLOCK) {
        take(
            block
                .par_iter()
                .map(|&n| review_item(n, result, prints))
                .collect(),
        );
    }
    for side in Side::BOTH {
        let records = sides.of(side);
        let dispositions = dispositions(result, side);
        let mut rows: Vec<usize> = (0..records.len())
            .into_par_iter()
            .filter(|&i| {
                matches!(
                    dispositions[i],
                    Disposition::Unmatched { .. } | Disposition::Duplicate { .. }
                )
            })
            .collect();
        // Stable: rows with the same reference stay in index order.
        rows.par_sort_by_key(|&i| records[i].row_ref());
        for block in rows.chunks(BLOCK) {
            take(
                block
                    .par_iter()
                    .filter_map(|&i| row_item(side, i, sides, result, prints))
                    .collect(),
            );
        }
    }
}

/// The item of match `n`, flagged for review.
fn review_item(n: usize, result: &Reconciliation, prints: &Prints) -> ReviewItem {
    let m = result.matches.get(n);
    let rows = m
        .ledger()
        .iter()
        .map(|i| (Side::Ledger, i))
        .chain(m.bank().iter().map(|i| (Side::Bank, i)));
    ReviewItem {
        item: match_id(n),
        kind: ItemKind::Review,
        detail: m.review_reasons().join("; "),
        identity: identity(ItemKind::Review, rows.map(|r| prints[&r].as_str())),
    }
}

/// The item of row `i` of `side`, if it is unmatched or a duplicate.
fn row_item(
    side: Side,
    i: usize,
    sides: Sides,
    result: &Reconciliation,
    prints: &Prints,
) -> Option<ReviewItem> {
    let (kind, detail) = match &dispositions(result, side)[i] {
        Disposition::Unmatched { reason, counterpart } => {
            let refs: Vec<String> = counterpart.iter().map(ToString::to_string).collect();
            (
                ItemKind::Unmatched,
                format!("{reason} {}", refs.join(" ")).trim().to_string(),
            )
        }
        Disposition::Duplicate { of } => (ItemKind::Duplicate, format!("duplicate_of {of}")),
        _ => return None,
    };
    Some(ReviewItem {
        item: sides.of(side)[i].row_ref().to_string(),
        kind,
        detail,
        identity: identity(kind, std::iter::once(prints[&(side, i)].as_str())),
    })
}

fn dispositions(result: &Reconciliation, side: Side) -> &[Disposition] {
    match side {
        Side::Ledger => &result.ledger,
        Side::Bank => &result.bank,
    }
}

/// What makes two rows "the same row": everything but the line number.
type RowContent<'a> = (&'a str, Decimal, Option<DateTime<Utc>>, &'a str);

fn content(r: &Record) -> RowContent<'_> {
    (r.key(), r.amount().normalize(), r.time(), r.merchant())
}

/// Fingerprints of the wanted rows; one pass over each side counts identical earlier rows.
fn fingerprints(sides: Sides, wanted: &[(Side, usize)]) -> Prints {
    // The sides are independent: one on each core (each indexes its rows on one).
    let (ledger, bank) = rayon::join(
        || side_fingerprints(sides, wanted, Side::Ledger),
        || side_fingerprints(sides, wanted, Side::Bank),
    );
    let mut prints = HashMap::default();
    prints.reserve(ledger.len() + bank.len());
    prints.extend(ledger);
    prints.extend(bank);
    prints
}

/// `fingerprints` of the wanted rows of one side.
fn side_fingerprints(sides: Sides, wanted: &[(Side, usize)], side: Side) -> Vec<((Side, usize), String)> {
    let records = sides.of(side);
    let mut refs: HashMap<RowContent, Vec<RowRef>, FastState> = HashMap::default();
    for &(_, i) in wanted.iter().filter(|(s, _)| *s == side) {
        refs.entry(content(&records[i])).or_default();
    }
    if refs.is_empty() {
        return Vec::new();
    }
    // Most rows share no key with a wanted row: test the key's hash, kept
    // beside the record, before reading the record's text at all.
    let keys: HashSet<Option<u64>, FastState> = refs
        .keys()
        .map(|c| (!c.0.is_empty()).then(|| text_hash(c.0)))
        .collect();
    let same: Vec<(RowContent, RowRef)> = records
        .par_iter()
        .filter(|r| keys.contains(&r.key_hash()))
        .map(|r| (content(r), r.row_ref()))
        .filter(|(c, _)| refs.contains_key(c))
        .collect();
    for (c, row) in same {
        refs.get_mut(&c).expect("filtered on it").push(row);
    }
    for same in refs.values_mut() {
        same.sort_unstable();
    }
    let side_prints: Vec<((Side, usize), String)> = wanted
        .par_iter()
        .filter(|(s, _)| *s == side)
        .map(|&(_, i)| {
            let r = &records[i];
            let here = r.row_ref();
            let occurrence = refs[&content(r)].partition_point(|&other| other <= here);
            ((side, i), fingerprint(r, occurrence))
        })
        .collect();
    side_prints
}

/// Hashes the lookups above (never iterated into output).
pub type FastState = foldhash::fast::RandomState;

fn fingerprint(r: &Record, occurrence: usize) -> String {
    let time = r
        .time()
        .map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true))
        .unwrap_or_default();
    let text = format!(
        "recon-row-v1\n{}\n{}\n{}\n{}\n{}\n{}",
        r.side(),
        r.key(),
        r.amount().normalize(),
        time,
        r.merchant(),
        occurrence
    );
    sha256_hex(text.as_bytes())
}

fn identity<'a>(kind: ItemKind, rows: impl Iterator<Item = &'a str>) -> String {
    let mut prints: Vec<&str> = rows.collect();
    prints.sort_unstable();
    let text = format!("recon-item-v1\n{}\n{}", kind.name(), prints.join("\n"));
    sha256_hex(text.as_bytes())
}

/// Renders review.csv and the confirmation status; the latest confirmation of an identity wins.
pub fn render(items: &[ReviewItem], confirmations: &[Confirmation]) -> (Vec<u8>, ReviewStatus) {
    let mut rendering = Rendering::new(confirmations);
    let mut bytes = rendering.header();
    bytes.extend(rendering.block(items));
    (bytes, rendering.status)
}

/// review.csv rendered as the worklist is made (`each_block`), a block at a
/// time, each handed to `take` in order (the header line first), so that
/// neither its items nor its bytes need ever be held whole; returns the
/// confirmation status, as `render` of `items` would.
pub fn render_in_blocks(
    sides: Sides,
    result: &Reconciliation,
    prints: &Prints,
    confirmations: &[Confirmation],
    mut take: impl FnMut(Vec<u8>),
) -> ReviewStatus {
    let mut rendering = Rendering::new(confirmations);
    take(rendering.header());
    each_block(sides, result, prints, |items| take(rendering.block(&items)));
    rendering.status
}

/// review.csv rendered a block of items at a time, with its confirmation status.
struct Rendering<'c> {
    /// The latest confirmation of each identity.
    latest: BTreeMap<&'c str, &'c Confirmation>,
    status: ReviewStatus,
}

impl<'c> Rendering<'c> {
    fn new(confirmations: &'c [Confirmation]) -> Rendering<'c> {
        Rendering {
            latest: confirmations.iter().map(|c| (c.identity.as_str(), c)).collect(),
            status: ReviewStatus::default(),
        }
    }

    /// The header line.
    fn header(&self) -> Vec<u8> {
        let mut writer = csv::Writer::from_writer(Vec::new());
        writer
            .write_record([
                "item",
                "kind",
                "detail",
                "identity",
                "confirmed_by",
                "confirmed_at",
                "confirm_note",
            ])
            .expect("writing to memory");
        writer.into_inner().expect("writing to memory")
    }

    /// The lines of the next `items`, counted into the status.
    fn block(&mut self, items: &[ReviewItem]) -> Vec<u8> {
        let mut writer = csv::Writer::from_writer(Vec::new());
        let status = &mut self.status;
        status.items += items.len() as u64;
        for item in items {
            let confirmation = self.latest.get(item.identity.as_str());
            let (by, at, note) = confirmation.map_or(("", "", ""), |c| (&c.by, &c.at, &c.note));
            writer
                .write_record([
                    item.item.as_str(),
                    item.kind.name(),
                    &safe(&item.detail),
                    &item.identity,
                    &safe(by),
                    at,
                    &safe(note),
                ])
                .expect("writing to memory");
            if let Some(c) = confirmation {
                status.confirmed += 1;
                status.confirmed_items.push(ConfirmedItem {
                    item: item.item.clone(),
                    kind: item.kind,
                    by: c.by.clone(),
                    at: c.at.clone(),
                    note: c.note.clone(),
                    audit_line: c.audit_line,
                });
            }
        }
        writer.into_inner().expect("writing to memory")
    }
}
