//! The domain records every other module works on: one `Record` per data row
//! of a ledger or statement file, already typed (an amount as integer units
//! of its written scale, an absolute time as integer nanoseconds).

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

/// One typed row of a ledger or statement. Millions are held at once, so
/// the amount and the time are kept as integers (`Amount`, `Stamp`) and read
/// as `Decimal` and `DateTime` through `amount()` and `time()`.
#[derive(Debug, Clone)]
pub struct Record {
    /// Signed amount: money in (payments) positive, money out (refunds, reversals) negative.
    pub amount: Amount,
    /// The absolute instant of the transaction, when the source has a time.
    pub time: Stamp,
    /// Key, merchant and carried values (read them with `key`, `merchant`, `carried`).
    pub text: RecordText,
    /// The currency of the amount (rows of different currencies never match).
    pub currency: Currency,
    /// The line (`line()`), with the side and the origin in its top bits.
    row: u32,
}

/// Set in `Record::row` for a bank (statement) row.
const ROW_BANK: u32 = 1 << 31;
/// Set in `Record::row` for a row carried in from the previous run.
const ROW_CARRIED: u32 = 1 << 30;

/// The last line a record can come from (2^30 - 1): a file with more lines
/// is split before it is reconciled (`recon split`).
pub const MAX_LINE: u64 = (ROW_CARRIED - 1) as u64;

/// A record's content in a fixed order, its line last (see `Record::content_order`).
pub type ContentOrder<'a> = (Stamp, Amount, u32, &'a str, Origin, u64);

impl Record {
    /// A record from `side`'s file, starting on 1-based physical `line`;
    /// `None` when the line is beyond `MAX_LINE`.
    pub fn new(
        side: Side,
        line: u64,
        amount: Amount,
        time: Stamp,
        text: RecordText,
        currency: Currency,
    ) -> Option<Record> {
        let line = u32::try_from(line).ok().filter(|&l| u64::from(l) <= MAX_LINE)?;
        let side = match side {
            Side::Ledger => 0,
            Side::Bank => ROW_BANK,
        };
        Some(Record {
            amount,
            time,
            text,
            currency,
            row: line | side,
        })
    }

    /// The file it comes from.
    pub fn side(&self) -> Side {
        if self.row & ROW_BANK == 0 {
            Side::Ledger
        } else {
            Side::Bank
        }
    }

    /// The 1-based physical line where the row starts in its original file.
    pub fn line(&self) -> u64 {
        u64::from(self.row & (ROW_CARRIED - 1))
    }

    /// Moves the record to `line` (a partition's row to its line in the
    /// original file); false, leaving it where it was, beyond `MAX_LINE`.
    pub fn set_line(&mut self, line: u64) -> bool {
        let fits = line <= MAX_LINE;
        if fits {
            self.row = (self.row & !(ROW_CARRIED - 1)) | line as u32;
        }
        fits
    }

    /// This run's file, or carried in from the previous run.
    pub fn origin(&self) -> Origin {
        if self.row & ROW_CARRIED == 0 {
            Origin::Input
        } else {
            Origin::CarriedIn
        }
    }

    /// Marks the record as this run's or as carried in.
    pub fn set_origin(&mut self, origin: Origin) {
        match origin {
            Origin::Input => self.row &= !ROW_CARRIED,
            Origin::CarriedIn => self.row |= ROW_CARRIED,
        }
    }

    /// The signed amount as a `Decimal` (the scale as written, `-0.00` kept).
    pub fn amount(&self) -> Decimal {
        self.amount.decimal()
    }

    /// The absolute instant, when the source has a time.
    pub fn time(&self) -> Option<DateTime<Utc>> {
        self.time.get()
    }

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
            self.origin(),
            self.line(),
        )
    }

    /// The pointer `side:line` for this record.
    pub fn row_ref(&self) -> RowRef {
        RowRef {
            side: self.side(),
            line: self.line(),
            origin: self.origin(),
        }
    }

    /// True for money out (refunds, reversals).
    pub fn is_outflow(&self) -> bool {
        self.amount.units() < 0
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

/// An amount as a whole number of its smallest written unit: `units` ×
/// 10^-scale (`-1,234.50` is -123450 at scale 2), the scale as written and
/// the sign of a negative zero (`-0.00`) kept, as `Decimal` keeps them.
/// Packed into 9 bytes, so a record pays no padding for it. Compares by
/// value, then (as `content_order` does) callers break ties by scale.
#[derive(Clone, Copy)]
#[repr(C, packed)]
pub struct Amount {
    /// Never `i64::MIN`, so `-units.abs()` cannot overflow.
    units: i64,
    /// The scale (at most 28) in the low bits, `NEGATIVE` set when the sign is.
    scale: u8,
}

/// Set in `Amount::scale` for a negative amount, zero included.
const NEGATIVE: u8 = 0x80;

impl Amount {
    /// `units` × 10^-`scale`, negative (a zero too) when `negative`; `None`
    /// when the scale is over `Decimal`'s 28 or `units` is `i64::MIN`.
    pub fn new(units: i64, scale: u32, negative: bool) -> Option<Amount> {
        let valid =
            scale <= Decimal::MAX_SCALE && units != i64::MIN && (units == 0 || (units < 0) == negative);
        valid.then_some(Amount {
            units,
            scale: scale as u8 | if negative { NEGATIVE } else { 0 },
        })
    }

    /// The same amount, scale and sign in integer units; `None` when its
    /// units do not fit an `i64` (19 digits or more as written; 18 always fit).
    pub fn from_decimal(d: Decimal) -> Option<Amount> {
        let units = i64::try_from(d.mantissa()).ok()?;
        Amount::new(units, d.scale(), d.is_sign_negative())
    }

    /// The amount as a `Decimal`, with the same scale and sign.
    pub fn decimal(self) -> Decimal {
        let mut d = Decimal::new(self.units(), self.scale());
        d.set_sign_negative(self.scale & NEGATIVE != 0);
        d
    }

    /// The amount in units of 10^-`scale()`.
    pub fn units(self) -> i64 {
        self.units
    }

    /// Decimal places as written.
    pub fn scale(self) -> u32 {
        u32::from(self.scale & !NEGATIVE)
    }

    /// `-|amount|`, as `-d.abs()` gives it for a `Decimal` (a zero becomes `-0`).
    pub fn outflow(self) -> Amount {
        Amount {
            units: -self.units().abs(),
            scale: self.scale | NEGATIVE,
        }
    }

    /// The sum, on integers at the larger scale; `None` when it does not fit
    /// (callers then add `decimal()`s). The sign of a zero sum is not kept.
    pub fn checked_add(self, other: Amount) -> Option<Amount> {
        let (a, b) = self.aligned(other)?;
        let sum = a.checked_add(b)?;
        Amount::new(sum, self.scale().max(other.scale()), sum < 0)
    }

    /// `self` and `other` in units of one scale (the larger), when both fit an `i64`.
    pub fn aligned(self, other: Amount) -> Option<(i64, i64)> {
        let (a, b) = (self.units(), other.units());
        let (sa, sb) = (self.scale(), other.scale());
        let up = |units: i64, by: u32| 10i64.checked_pow(by).and_then(|f| units.checked_mul(f));
        match sa.cmp(&sb) {
            std::cmp::Ordering::Equal => Some((a, b)),
            std::cmp::Ordering::Less => Some((up(a, sb - sa)?, b)),
            std::cmp::Ordering::Greater => Some((a, up(b, sa - sb)?)),
        }
    }
}

impl PartialEq for Amount {
    /// Equal values, whatever their scale or the sign of a zero (as `Decimal`).
    fn eq(&self, other: &Amount) -> bool {
        self.cmp(other).is_eq()
    }
}

impl Eq for Amount {}

impl PartialOrd for Amount {
    fn partial_cmp(&self, other: &Amount) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Amount {
    /// By value, as `Decimal` orders (on integers when the scales align).
    fn cmp(&self, other: &Amount) -> std::cmp::Ordering {
        match self.aligned(*other) {
            Some((a, b)) => a.cmp(&b),
            None => self.decimal().cmp(&other.decimal()),
        }
    }
}

impl fmt::Debug for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.decimal(), f)
    }
}

/// An optional instant as integer nanoseconds since 1970-01-01 UTC, in 8
/// bytes. Every time the reader accepts (years 1970–2199, no leap second)
/// has one; `Stamp::NONE` (below every instant, as `None` is below every
/// `Some`) stands for no time.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Stamp(i64);

impl Stamp {
    /// No time.
    pub const NONE: Stamp = Stamp(i64::MIN);

    /// The stamp of `time`; `None` for an instant it cannot hold exactly
    /// (outside 1677–2262, or a leap second).
    pub fn new(time: Option<DateTime<Utc>>) -> Option<Stamp> {
        let Some(t) = time else {
            return Some(Stamp::NONE);
        };
        use chrono::Timelike;
        let nanos = t.timestamp_nanos_opt().filter(|&n| n != i64::MIN)?;
        (t.nanosecond() < 1_000_000_000).then_some(Stamp(nanos))
    }

    /// The instant, if any.
    pub fn get(self) -> Option<DateTime<Utc>> {
        self.nanos().map(DateTime::from_timestamp_nanos)
    }

    /// Nanoseconds since 1970-01-01 UTC, if there is a time.
    pub fn nanos(self) -> Option<i64> {
        (self != Stamp::NONE).then_some(self.0)
    }

    /// Whether there is a time.
    pub fn is_some(self) -> bool {
        self != Stamp::NONE
    }

    /// Nanoseconds between two times (`|a - b|`), if both have one.
    pub fn apart(self, other: Stamp) -> Option<u64> {
        Some(self.nanos()?.abs_diff(other.nanos()?))
    }
}

impl fmt::Debug for Stamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.get(), f)
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
            tally.add(r.amount());
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
    fn a_record_takes_48_bytes() {
        // 72 with a `Decimal` amount, an `Option<DateTime<Utc>>` time and a `u64` line.
        assert_eq!(std::mem::size_of::<Record>(), 48);
        assert_eq!(std::mem::size_of::<Amount>(), 9);
        assert_eq!(std::mem::size_of::<Stamp>(), 8);
    }

    /// A `Decimal` of any scale and sign, negative zeros included.
    fn decimal() -> impl proptest::strategy::Strategy<Value = Decimal> {
        use proptest::prelude::*;
        (any::<i64>(), 0u32..=28, any::<bool>(), 0u8..4).prop_map(|(units, scale, negative_zero, size)| {
            let units = match size {
                0 => units % 1000,
                1 => units % 10_000_000,
                _ => units,
            };
            let mut d = Decimal::new(units, scale);
            if units == 0 {
                d.set_sign_negative(negative_zero);
            }
            d
        })
    }

    proptest::proptest! {
        #[test]
        fn amounts_give_back_the_decimal_with_its_scale_and_sign(d in decimal()) {
            let a = Amount::from_decimal(d);
            if d.mantissa() == i128::from(i64::MIN) {
                proptest::prop_assert!(a.is_none());
            } else {
                let a = a.expect("fits");
                let back = a.decimal();
                proptest::prop_assert_eq!(back, d);
                proptest::prop_assert_eq!(back.to_string(), d.to_string());
                proptest::prop_assert_eq!(back.scale(), d.scale());
                proptest::prop_assert_eq!(back.is_sign_negative(), d.is_sign_negative());
                proptest::prop_assert_eq!(a.outflow().decimal().to_string(), (-d.abs()).to_string());
            }
        }

        #[test]
        fn amounts_order_as_decimals_do(a in decimal(), b in decimal()) {
            let (Some(x), Some(y)) = (Amount::from_decimal(a), Amount::from_decimal(b)) else {
                return Ok(());
            };
            proptest::prop_assert_eq!(x.cmp(&y), a.cmp(&b));
            proptest::prop_assert_eq!(x == y, a == b);
        }

        #[test]
        fn stamps_give_back_the_instant_and_order_as_options_do(
            a in proptest::option::of((0i64..7_258_118_400, 0u32..1_000_000_000)),
            b in proptest::option::of((0i64..7_258_118_400, 0u32..1_000_000_000)),
        ) {
            let time = |t: Option<(i64, u32)>| t.map(|(s, n)| DateTime::from_timestamp(s, n).unwrap());
            let (ta, tb) = (time(a), time(b));
            let (sa, sb) = (Stamp::new(ta).unwrap(), Stamp::new(tb).unwrap());
            proptest::prop_assert_eq!(sa.get(), ta);
            proptest::prop_assert_eq!(sa.is_some(), ta.is_some());
            proptest::prop_assert_eq!(sa.cmp(&sb), ta.cmp(&tb));
        }
    }

    #[test]
    fn side_line_and_origin_share_one_word() {
        let text = || RecordText::new("P1", "M", []);
        let amount = Amount::new(-1250, 2, true).unwrap();
        for (side, line) in [(Side::Ledger, 2), (Side::Bank, MAX_LINE), (Side::Bank, 1)] {
            let mut r = Record::new(side, line, amount, Stamp::NONE, text(), Currency::CNY).unwrap();
            assert_eq!((r.side(), r.line(), r.origin()), (side, line, Origin::Input));
            r.set_origin(Origin::CarriedIn);
            assert_eq!((r.side(), r.line(), r.origin()), (side, line, Origin::CarriedIn));
            r.set_origin(Origin::Input);
            assert_eq!(r.origin(), Origin::Input);
            assert!(r.set_line(7) && !r.set_line(MAX_LINE + 1));
            assert_eq!((r.side(), r.line(), r.origin()), (side, 7, Origin::Input));
        }
        let over = Record::new(
            Side::Ledger,
            MAX_LINE + 1,
            amount,
            Stamp::NONE,
            text(),
            Currency::CNY,
        );
        assert!(over.is_none());
    }

    #[test]
    fn amounts_out_of_reach_and_leap_seconds_are_refused() {
        assert!(Amount::from_decimal(Decimal::from_i128_with_scale(10i128.pow(19), 2)).is_none());
        assert!(Amount::new(1, 29, false).is_none());
        assert!(Amount::new(i64::MIN, 0, true).is_none());
        assert!(Amount::new(-1, 0, false).is_none());
        let leap = chrono::NaiveDate::from_ymd_opt(2016, 12, 31)
            .and_then(|d| d.and_hms_milli_opt(23, 59, 59, 1500))
            .unwrap()
            .and_utc();
        assert!(Stamp::new(Some(leap)).is_none());
        assert_eq!(Stamp::new(None), Some(Stamp::NONE));
        assert_eq!(Stamp::NONE.get(), None);
    }

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
