//! The domain records every other module works on: one `Record` per data row
//! of a ledger or statement file, already typed (decimal amount, absolute time).

use std::fmt;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Serialize;

/// The reason written for every pending row (awaiting its counterpart on a
/// later day), in pending.csv and read back from it.
pub const AWAITING_COUNTERPART: &str = "awaiting_counterpart";

/// Which file a record comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    /// The platform's own ledger export.
    Ledger,
    /// The bank or channel statement.
    Bank,
}

impl Side {
    /// Both sides, ledger first (the order used in every output).
    pub const BOTH: [Side; 2] = [Side::Ledger, Side::Bank];

    /// The lowercase name used in outputs and rule files.
    pub fn name(self) -> &'static str {
        match self {
            Side::Ledger => "ledger",
            Side::Bank => "bank",
        }
    }

    /// The other side.
    pub fn other(self) -> Side {
        match self {
            Side::Ledger => Side::Bank,
            Side::Bank => Side::Ledger,
        }
    }
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Where a record was read: this run's input file, or a previous run's
/// `pending.csv` (`--carry-in`), whose rows keep their original side and line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Origin {
    /// A row of this run's ledger or statement file.
    #[default]
    Input,
    /// A row carried in from the previous run's pending.csv.
    CarriedIn,
}

/// A pointer back to one input row: `ledger:12`, or `carried:ledger:12` for
/// a row carried in from the previous run (line 12 of that run's ledger).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RowRef {
    /// The file.
    pub side: Side,
    /// The 1-based physical line where the row starts.
    pub line: u64,
    /// This run's file, or carried in.
    pub origin: Origin,
}

impl fmt::Display for RowRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.origin == Origin::CarriedIn {
            f.write_str("carried:")?;
        }
        write!(f, "{}:{}", self.side, self.line)
    }
}

/// A file that rows were read from: its path as given and the SHA-256 of its bytes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourceId {
    /// The path as given on the command line.
    pub path: String,
    /// Lowercase hex SHA-256 of the file's bytes.
    pub sha256: String,
}

/// An ISO 4217 currency code (`CNY`, `USD`, …), three ASCII capitals held inline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency([u8; 3]);

impl Currency {
    /// Renminbi, the currency of a row that names none (unless the rules say otherwise).
    pub const CNY: Currency = Currency(*b"CNY");

    /// The currency for a three-letter code, upper-cased; `None` for anything else.
    pub fn new(code: &str) -> Option<Currency> {
        let b = code.as_bytes();
        (b.len() == 3 && b.iter().all(u8::is_ascii_alphabetic)).then(|| {
            Currency([
                b[0].to_ascii_uppercase(),
                b[1].to_ascii_uppercase(),
                b[2].to_ascii_uppercase(),
            ])
        })
    }

    /// The code.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).expect("ASCII letters")
    }
}

impl Default for Currency {
    fn default() -> Self {
        Currency::CNY
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Currency {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// One typed row of a ledger or statement.
#[derive(Debug, Clone)]
pub struct Record {
    /// The file it comes from.
    pub side: Side,
    /// The 1-based physical line where the row starts in its original file.
    pub line: u64,
    /// Signed amount: money in (payments) positive, money out (refunds, reversals) negative.
    pub amount: Decimal,
    /// The absolute instant of the transaction, when the source has a time.
    pub time: Option<DateTime<Utc>>,
    /// Key, merchant and carried values (read them with `key`, `merchant`, `carried`).
    pub text: RecordText,
    /// This run's file, or carried in from the previous run.
    pub origin: Origin,
    /// The currency of the amount (rows of different currencies never match).
    pub currency: Currency,
}

/// A record's content in a fixed order, its line last (see `Record::content_order`).
pub type ContentOrder<'a> = (Option<DateTime<Utc>>, Decimal, u32, &'a str, Origin, u64);

impl Record {
    /// The order stages take rows in and break ties by: time, amount, then
    /// key, merchant and carried values (as packed together), and only then
    /// the line. Which of two rows is chosen so never depends on where they
    /// stand in the file: rows that differ only in their line are
    /// interchangeable.
    pub fn content_order(&self) -> ContentOrder<'_> {
        (
            self.time,
            self.amount,
            self.amount.scale(),
            &self.text.text,
            self.origin,
            self.line,
        )
    }

    /// The pointer `side:line` for this record.
    pub fn row_ref(&self) -> RowRef {
        RowRef {
            side: self.side,
            line: self.line,
            origin: self.origin,
        }
    }

    /// True for money out (refunds, reversals).
    pub fn is_outflow(&self) -> bool {
        self.amount.is_sign_negative() && !self.amount.is_zero()
    }

    /// The matching key (order id); empty when the source has none for this row.
    pub fn key(&self) -> &str {
        split_value(&self.text.text).map_or("", |(key, _)| key)
    }

    /// `text_hash` of the key, computed when the record was made; `None`
    /// when the key is empty. Reading it does not touch the record's text,
    /// so a pass over every record can rule out keys that cannot match
    /// before reading any (equal hashes still need the keys compared).
    pub fn key_hash(&self) -> Option<u64> {
        (self.text.key_hash != NO_KEY).then_some(self.text.key_hash)
    }

    /// Merchant or counterparty, used by fallback matching; may be empty.
    pub fn merchant(&self) -> &str {
        split_value(&self.text.text)
            .and_then(|(_, rest)| split_value(rest))
            .map_or("", |(merchant, _)| merchant)
    }

    /// Values of the side's carried columns, in the rule file's order.
    pub fn carried(&self) -> impl Iterator<Item = &str> {
        self.text.values().skip(2)
    }

    /// The channel's fee, kept as carried value `slot` (`ColumnPlan::fee_slot`);
    /// zero when the value is empty.
    pub fn fee(&self, slot: usize) -> Decimal {
        self.carried()
            .nth(slot)
            .and_then(|f| Decimal::from_str_exact(f).ok())
            .unwrap_or_default()
    }
}

/// A record's text values (key, merchant, then the carried values) in one
/// allocation, so a record costs one small heap block instead of one per
/// value: millions of records must fit in memory. Each value is preceded by
/// its byte length, written as characters below U+4000 holding 14 bits each
/// (U+4000 set on all but the last), so the whole stays valid UTF-8 and a
/// length under 128 takes one byte. The key's hash is kept beside the block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordText {
    /// `text_hash` of the key, `NO_KEY` for an empty key.
    key_hash: u64,
    text: Box<str>,
}

impl Default for RecordText {
    fn default() -> Self {
        RecordText {
            key_hash: NO_KEY,
            text: Box::default(),
        }
    }
}

/// The hasher of `text_hash`: a fixed seed keeps runs repeatable.
const TEXT_HASHER: foldhash::fast::FixedState = foldhash::fast::FixedState::with_seed(0x5EC0_7A11);

/// The 64-bit hash the stages group texts (keys, merchants) by, never 0.
/// Grouping never depends on it alone: equal hashes are checked by text.
pub fn text_hash(text: &str) -> u64 {
    use std::hash::BuildHasher;
    TEXT_HASHER.hash_one(text).max(1)
}

/// `RecordText::key_hash` of an empty key.
const NO_KEY: u64 = 0;

/// Bits of a length held by one length character.
const LENGTH_BITS: u32 = 14;
/// Set on a length character that more follow.
const LENGTH_MORE: u32 = 1 << LENGTH_BITS;

impl RecordText {
    /// Packs `key`, `merchant` and the carried values.
    pub fn new<'v>(
        key: &'v str,
        merchant: &'v str,
        carried: impl IntoIterator<Item = &'v str> + Clone,
    ) -> RecordText {
        let values = || [key, merchant].into_iter().chain(carried.clone());
        let size: usize = values()
            .map(|v| length_chars(v.len()).map(char::len_utf8).sum::<usize>() + v.len())
            .sum();
        let mut text = String::with_capacity(size);
        for value in values() {
            text.extend(length_chars(value.len()));
            text.push_str(value);
        }
        RecordText {
            key_hash: if key.is_empty() { NO_KEY } else { text_hash(key) },
            text: text.into_boxed_str(),
        }
    }

    /// The values, in order.
    pub fn values(&self) -> impl Iterator<Item = &str> {
        let mut rest: &str = &self.text;
        std::iter::from_fn(move || {
            let (value, after) = split_value(rest)?;
            rest = after;
            Some(value)
        })
    }
}

/// The first value of packed text and the text after it.
fn split_value(text: &str) -> Option<(&str, &str)> {
    let first = *text.as_bytes().first()?;
    // Almost every value is shorter than 128 bytes: one length byte.
    if first < 0x80 {
        return Some(text[1..].split_at(usize::from(first)));
    }
    let mut rest = text;
    let mut len = 0usize;
    loop {
        let c = rest.chars().next()?;
        rest = &rest[c.len_utf8()..];
        let c = u32::from(c);
        len = (len << LENGTH_BITS) | (c & (LENGTH_MORE - 1)) as usize;
        if c & LENGTH_MORE == 0 {
            return Some(rest.split_at(len));
        }
    }
}

/// `len` as length characters, most significant first.
fn length_chars(len: usize) -> impl Iterator<Item = char> + Clone {
    let len = len as u64;
    let mut digits = 1;
    while digits < 5 && len >> (LENGTH_BITS * digits) != 0 {
        digits += 1;
    }
    (0..digits).rev().map(move |i| {
        let digit = (len >> (LENGTH_BITS * i)) as u32 & (LENGTH_MORE - 1);
        let more = if i > 0 { LENGTH_MORE } else { 0 };
        char::from_u32(digit | more).expect("below U+8000, never a surrogate")
    })
}

/// A record count and the sum of its amounts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Tally {
    /// How many records.
    pub count: u64,
    /// Sum of their amounts.
    #[serde(with = "rust_decimal::serde::str")]
    pub amount: Decimal,
}

impl Tally {
    /// Adds one amount.
    pub fn add(&mut self, amount: Decimal) {
        self.count += 1;
        self.amount += amount;
    }

    /// The tally of a set of records.
    pub fn of<'a>(records: impl IntoIterator<Item = &'a Record>) -> Tally {
        let mut tally = Tally::default();
        for r in records {
            tally.add(r.amount);
        }
        tally
    }
}

impl std::ops::AddAssign for Tally {
    fn add_assign(&mut self, other: Tally) {
        self.count += other.count;
        self.amount += other.amount;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_text_gives_back_every_value_whatever_its_length() {
        let long: Vec<String> = [0, 1, 127, 128, 2047, 2048, 16383, 16384, 70_000, 300_000]
            .iter()
            .map(|&n| "é".repeat(n / 2) + &"x".repeat(n % 2))
            .collect();
        let carried: Vec<&str> = long.iter().map(String::as_str).collect();
        let text = RecordText::new("P2026112400000000", "城市水务", carried.iter().copied());
        let values: Vec<&str> = text.values().collect();
        assert_eq!(values[..2], ["P2026112400000000", "城市水务"]);
        assert_eq!(values[2..], carried[..]);
    }

    #[test]
    fn key_hash_is_the_keys_text_hash_and_none_for_an_empty_key() {
        let text = RecordText::new("P1", "M", ["x"]);
        assert_eq!(text.key_hash, text_hash("P1"));
        assert_ne!(text_hash("P1"), text_hash("P2"));
        assert_eq!(RecordText::new("", "M", []).key_hash, NO_KEY);
        assert_eq!(RecordText::default().key_hash, NO_KEY);
        assert_ne!(text_hash(""), NO_KEY);
    }

    #[test]
    fn empty_values_cost_one_byte_each() {
        let text = RecordText::new("", "", ["", ""]);
        assert_eq!(text.text.len(), 4);
        assert_eq!(text.values().collect::<Vec<_>>(), ["", "", "", ""]);
        assert_eq!(RecordText::default().values().count(), 0);
    }
}
