//! Parsing money: thousands separators, currency marks, full-width digits,
//! accounting negatives and trailing minus, always into an exact `Decimal`
//! (never through a float).

use rust_decimal::Decimal;
use thiserror::Error;

use super::field::{clean_field, excerpt, is_placeholder};

/// Why a text is not an amount.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum AmountError {
    /// Nothing to parse.
    #[error("the amount is empty: expected a number such as 12.50")]
    Empty,
    /// Written in scientific notation.
    #[error("\"{0}\" is not an amount: exponents are not accepted in money (write 100000.00)")]
    Exponent(String),
    /// `NaN`, `inf` and the like.
    #[error("\"{0}\" is not an amount: expected digits such as 12.50")]
    NotANumber(String),
    /// A comma in the wrong place.
    #[error("\"{0}\" is not an amount: thousands separator ',' is misplaced (expected groups of three digits such as 1,234.56)")]
    Separator(String),
    /// More decimal places than the rules allow.
    #[error(
        "\"{text}\" has {found} decimal places, at most {allowed} allowed: correct the amount, or raise amount_decimals in the rule file if the file rightly has more"
    )]
    TooManyDecimals {
        /// The text.
        text: String,
        /// Decimal places found.
        found: u32,
        /// Decimal places allowed.
        allowed: u32,
    },
    /// A character that has no place in an amount.
    #[error("\"{text}\" is not an amount: unexpected '{found}'")]
    Unexpected {
        /// The text.
        text: String,
        /// The first offending character.
        found: char,
    },
    /// Too large for exact decimal arithmetic.
    #[error("\"{0}\" is too large to be an amount: amounts must be below 10^15 (1,000,000,000,000,000) so that every sum stays exact")]
    Overflow(String),
}

/// Amounts are below this in absolute value (10^15). Decimal arithmetic is
/// exact up to about 7.9 × 10^28, so sums of any realistic number of rows
/// (up to 10^13 of them), their differences and percentages of them can
/// never overflow: a larger amount is a bad row, not a panic.
pub const AMOUNT_LIMIT: Decimal = Decimal::from_parts(2_764_472_320, 232_830, 0, false, 0);

/// Currency marks accepted before or after the number with no code of their own.
const CURRENCY: [&str; 4] = ["¥", "￥", "元", "$"];

/// Currency codes and symbols that name the row's currency, as ISO codes.
const CODES: &[(&str, &str)] = &[
    ("US$", "USD"),
    ("HK$", "HKD"),
    ("A$", "AUD"),
    ("C$", "CAD"),
    ("S$", "SGD"),
    ("NT$", "TWD"),
    ("€", "EUR"),
    ("£", "GBP"),
    ("RMB", "CNY"),
    ("人民币", "CNY"),
];

/// ISO 4217 codes recognised in amounts and currency columns.
const ISO: &[&str] = &[
    "CNY", "USD", "HKD", "EUR", "GBP", "JPY", "CHF", "AUD", "CAD", "SGD", "TWD", "MOP", "KRW", "NZD", "SEK",
    "NOK", "DKK", "THB", "MYR", "INR", "RUB", "PHP", "IDR", "VND", "AED", "CNH", "PLN", "CZK", "HUF", "TRY",
    "ZAR", "BRL", "MXN",
];

/// The ISO code a currency code or symbol stands for (`RMB` → `CNY`, `US$` → `USD`).
pub fn currency_code(text: &str) -> Option<&'static str> {
    let text = text.trim();
    if let Some(code) = ISO.iter().find(|c| c.eq_ignore_ascii_case(text)) {
        return Some(code);
    }
    CODES
        .iter()
        .find(|(mark, _)| *mark == text)
        .map(|&(_, code)| code)
}

/// An amount as written, taken apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Money<'t> {
    /// The amount.
    pub amount: Decimal,
    /// The currency the text names (`CNY 123.18`, `US$1.00`), if it names one.
    pub currency: Option<&'static str>,
    /// An annotation after the amount (`131.77(已退款89.84)` → `已退款89.84`).
    pub note: Option<&'t str>,
}

/// Parses an amount; `max_decimals` limits the decimal places when set.
pub fn parse_amount(text: &str, max_decimals: Option<u32>) -> Result<Decimal, AmountError> {
    parse_money(text, max_decimals, false).map(|m| m.amount)
}

/// Parses an amount with the currency code or symbol and the annotation it
/// may carry. With `decimal_comma`, `1.234,56` and `1 234,56` are 1234.56
/// (the file writes decimal commas: see `is_decimal_comma`).
pub fn parse_money(
    text: &str,
    max_decimals: Option<u32>,
    decimal_comma: bool,
) -> Result<Money<'_>, AmountError> {
    let cleaned = clean_field(text);
    if cleaned.is_empty() {
        return Err(AmountError::Empty);
    }
    if !decimal_comma {
        if let Some(minor) = parse_minor(cleaned, max_decimals) {
            return Ok(Money {
                amount: minor.to_decimal(),
                currency: None,
                note: None,
            });
        }
    }
    parse_money_in_general(cleaned, max_decimals, decimal_comma)
}

/// `parse_money` for a cleaned, non-empty cell, in any layout (the
/// reference `parse_minor` is checked against).
fn parse_money_in_general(
    cleaned: &str,
    max_decimals: Option<u32>,
    decimal_comma: bool,
) -> Result<Money<'_>, AmountError> {
    let unsigned = cleaned.strip_prefix('-').unwrap_or(cleaned);
    // Digits, '.' and ',' only: normalizing would change nothing.
    if !decimal_comma
        && unsigned
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b'.' || b == b',')
    {
        return Ok(Money {
            amount: parse_plain(cleaned, cleaned, max_decimals)?,
            currency: None,
            note: None,
        });
    }
    let (body, note) = split_note(cleaned);
    let (body, currency) = take_code(body);
    let mut normalized = normalize(&body);
    if decimal_comma {
        normalized.retain(|c| c != '.' && c != '\'');
        normalized = normalized.replace(',', ".");
    }
    Ok(Money {
        amount: parse_plain(cleaned, &normalized, max_decimals)?,
        currency,
        note,
    })
}

/// An amount as a whole number of its smallest written unit: `units` ×
/// 10^-`scale` (`-1,234.50` is -123450 at scale 2), the scale being the
/// decimal places as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Minor {
    /// The amount in units of 10^-`scale`.
    pub units: i64,
    /// Decimal places as written.
    pub scale: u32,
    /// Written with a minus sign (which a zero keeps, as `Decimal` does: `-0.00`).
    pub negative: bool,
}

impl Minor {
    /// The same amount as a `Decimal`, with the same scale and sign.
    pub fn to_decimal(self) -> Decimal {
        let mut value = Decimal::new(self.units.abs(), self.scale);
        value.set_sign_negative(self.negative);
        value
    }
}

/// Most digits `parse_minor` reads: 18 fit an `i64` whatever they are.
const MINOR_DIGITS: u32 = 18;

/// Decimal places `AMOUNT_LIMIT`'s whole part has (10^15).
const LIMIT_WHOLE_DIGITS: u32 = 15;

/// The amount in a cleaned cell written in the plain layouts (`1234.56`,
/// `-12.3`, `1,234.56`, `¥12.00`, `-¥12.00`, `¥-12.00`, `12.00元`), straight
/// to integer minor units; `None` for any other text, which `parse_money`
/// then reads the general way (and rejects, when it is no amount, too
/// large, or has more than `max_decimals` places). Where it answers, the
/// answer is `parse_money`'s: one walk over the bytes, no allocation.
pub fn parse_minor(cleaned: &str, max_decimals: Option<u32>) -> Option<Minor> {
    let mut rest = cleaned.as_bytes();
    let mut negative = false;
    if let [b'-', after @ ..] = rest {
        negative = true;
        rest = after;
    }
    for mark in ["¥", "￥"] {
        if let Some(after) = rest.strip_prefix(mark.as_bytes()) {
            rest = after;
            if let (false, [b'-', after @ ..]) = (negative, rest) {
                negative = true;
                rest = after;
            }
            break;
        }
    }
    let rest = rest.strip_suffix("元".as_bytes()).unwrap_or(rest);
    let (mut units, mut digits, mut scale) = (0i64, 0u32, None::<u32>);
    // Digits since the last comma (`None` before any comma) and before it.
    let (mut group, mut first_group) = (None::<u32>, 0u32);
    for &b in rest {
        match b {
            b'0'..=b'9' => {
                digits += 1;
                if digits > MINOR_DIGITS {
                    return None;
                }
                units = units * 10 + i64::from(b - b'0');
                match (&mut scale, &mut group) {
                    (Some(places), _) => *places += 1,
                    (None, Some(g)) => *g += 1,
                    (None, None) => first_group += 1,
                }
            }
            b',' if scale.is_none() => {
                let grouped = match group {
                    None => (1..=3).contains(&first_group),
                    Some(g) => g == 3,
                };
                if !grouped {
                    return None;
                }
                group = Some(0);
            }
            b'.' if scale.is_none() => scale = Some(0),
            _ => return None,
        }
    }
    let scale = scale.unwrap_or(0);
    let whole_digits = digits - scale;
    let grouped = group.is_none_or(|g| g == 3);
    let allowed = max_decimals.is_none_or(|allowed| scale <= allowed);
    // Below the limit for sure: fewer whole digits than 10^15 has.
    let in_range = whole_digits <= LIMIT_WHOLE_DIGITS;
    (digits > 0 && grouped && allowed && in_range).then_some(Minor {
        units: if negative { -units } else { units },
        scale,
        negative,
    })
}

/// `131.77(已退款89.84)` → (`131.77`, `已退款89.84`): a parenthesised note
/// after a leading amount (an amount wholly in parentheses is negative instead).
fn split_note(text: &str) -> (&str, Option<&str>) {
    for (open, close) in [('(', ')'), ('（', '）')] {
        if let Some(inner) = text.strip_suffix(close) {
            if let Some(at) = inner.find(open).filter(|&at| at > 0) {
                let (amount, note) = (&inner[..at], &inner[at + open.len_utf8()..]);
                let leads = amount
                    .trim()
                    .chars()
                    .last()
                    .is_some_and(|c| c.is_ascii_digit() || c == '０' || c == '.');
                if leads && !note.is_empty() {
                    return (amount.trim(), Some(note.trim()));
                }
            }
        }
    }
    (text, None)
}

/// `CNY 123.18`, `123.18 CNY`, `US$1.00` → the number and the ISO code:
/// the first run of letters and symbols that names a currency is taken out.
fn take_code(text: &str) -> (String, Option<&'static str>) {
    let is_mark = |c: char| {
        !(c.is_ascii_digit()
            || c.is_whitespace()
            || ('０'..='９').contains(&c)
            || "+-.,'()（）－．，＋−¥￥元".contains(c))
    };
    let mut out = String::with_capacity(text.len());
    let mut code = None;
    let mut rest = text;
    while let Some(start) = rest.find(is_mark) {
        out.push_str(&rest[..start]);
        let len = rest[start..].find(|c| !is_mark(c)).unwrap_or(rest.len() - start);
        let run = &rest[start..start + len];
        match currency_code(run) {
            Some(c) if code.is_none() => code = Some(c),
            _ => out.push_str(run),
        }
        rest = &rest[start + len..];
    }
    out.push_str(rest);
    (out, code)
}

/// Whether a file writes decimal commas: every amount (at least one) ends in
/// a comma and two digits, with only `.`, space or `'` before it as
/// thousands separators (`-15,37`, `1.234,56`, `1 234,56`).
pub fn is_decimal_comma<'v>(values: impl IntoIterator<Item = &'v str>) -> bool {
    let mut seen = false;
    for v in values {
        let v = clean_field(v);
        if is_placeholder(v) {
            continue;
        }
        let (body, _) = take_code(split_note(v).0);
        let body = body
            .trim()
            .trim_start_matches(['-', '+'])
            .trim_end_matches('-')
            .trim();
        let Some((int, frac)) = body.rsplit_once(',') else {
            return false;
        };
        let int_ok = !int.is_empty()
            && int
                .bytes()
                .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b' ' | b'\''));
        if !int_ok || frac.len() != 2 || !frac.bytes().all(|b| b.is_ascii_digit()) {
            return false;
        }
        seen = true;
    }
    seen
}

/// Like `parse_amount`, but a blank or placeholder cell (`-`, `/`) is `None`.
pub fn parse_optional_amount(text: &str, max_decimals: Option<u32>) -> Result<Option<Decimal>, AmountError> {
    let cleaned = clean_field(text);
    if is_placeholder(cleaned) {
        return Ok(None);
    }
    parse_amount(cleaned, max_decimals).map(Some)
}

/// Full-width to ASCII, currency marks and spaces removed, `(x)` and `x-` to `-x`.
/// (`CNY`, `RMB`, `USD`, `HKD` written into the number are taken off by `take_code` first.)
fn normalize(text: &str) -> String {
    let mut s: String = text
        .chars()
        .map(|c| match c {
            '０'..='９' => char::from(b'0' + (c as u32 - '０' as u32) as u8),
            '．' => '.',
            '，' => ',',
            '－' | '−' => '-',
            '＋' => '+',
            '（' => '(',
            '）' => ')',
            other => other,
        })
        .collect();
    for mark in CURRENCY {
        s = s.replace(mark, "");
    }
    s.retain(|c| c != ' ');
    if let Some(inner) = s.strip_prefix('(').and_then(|r| r.strip_suffix(')')) {
        return format!("-{inner}");
    }
    if let Some(body) = s.strip_suffix('-') {
        if !body.starts_with(['-', '+']) {
            return format!("-{body}");
        }
    }
    s
}

/// Parses `[+-]digits[,digits…][.digits]`.
fn parse_plain(original: &str, text: &str, max_decimals: Option<u32>) -> Result<Decimal, AmountError> {
    let (negative, body) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let (int_part, frac_part) = match body.split_once('.') {
        Some((i, f)) => (i, f),
        None => (body, ""),
    };
    check_chars(original, body, int_part, frac_part)?;
    let digits = check_grouping(original, int_part)?;
    if let Some(allowed) = max_decimals {
        let found = frac_part.len() as u32;
        if found > allowed {
            return Err(AmountError::TooManyDecimals {
                text: excerpt(original),
                found,
                allowed,
            });
        }
    }
    let mut mantissa: i128 = 0;
    for b in digits.bytes().chain(frac_part.bytes()).filter(u8::is_ascii_digit) {
        mantissa = mantissa
            .checked_mul(10)
            .and_then(|m| m.checked_add(i128::from(b - b'0')))
            .ok_or_else(|| AmountError::Overflow(excerpt(original)))?;
    }
    let scale = frac_part.len() as u32;
    let mut value = Decimal::try_from_i128_with_scale(mantissa, scale)
        .ok()
        .filter(|v| *v < AMOUNT_LIMIT)
        .ok_or_else(|| AmountError::Overflow(excerpt(original)))?;
    value.set_sign_negative(negative);
    Ok(value)
}

fn check_chars(original: &str, body: &str, int_part: &str, frac_part: &str) -> Result<(), AmountError> {
    if contains_ignoring_case(original, "nan") || contains_ignoring_case(original, "inf") {
        return Err(AmountError::NotANumber(excerpt(original)));
    }
    if let Some(bad) = body
        .chars()
        .find(|c| !c.is_ascii_digit() && *c != ',' && *c != '.')
    {
        if bad == 'e' || bad == 'E' {
            return Err(AmountError::Exponent(excerpt(original)));
        }
        return Err(AmountError::Unexpected {
            text: excerpt(original),
            found: bad,
        });
    }
    if frac_part.contains('.') {
        return Err(AmountError::Unexpected {
            text: excerpt(original),
            found: '.',
        });
    }
    if frac_part.contains(',') {
        return Err(AmountError::Separator(excerpt(original)));
    }
    if int_part.is_empty() && frac_part.is_empty() {
        return Err(AmountError::NotANumber(excerpt(original)));
    }
    Ok(())
}

/// Whether `text` holds `word` (ASCII), in any case, without allocating.
fn contains_ignoring_case(text: &str, word: &str) -> bool {
    text.as_bytes()
        .windows(word.len())
        .any(|w| w.eq_ignore_ascii_case(word.as_bytes()))
}

/// Checks `1,234,567`-style grouping and returns the integer part.
fn check_grouping<'a>(original: &str, int_part: &'a str) -> Result<&'a str, AmountError> {
    if !int_part.contains(',') {
        return Ok(int_part);
    }
    let mut groups = int_part.split(',');
    let first = groups.next().unwrap_or("");
    let first_ok = (1..=3).contains(&first.len());
    if !first_ok || !groups.all(|g| g.len() == 3) {
        return Err(AmountError::Separator(excerpt(original)));
    }
    Ok(int_part)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn ok(text: &str) -> String {
        parse_amount(text, None).unwrap().to_string()
    }

    /// `parse_minor`'s answer and the general reading's, side by side.
    fn fast_and_general(text: &str, max_decimals: Option<u32>) -> (Option<String>, Option<String>) {
        let cleaned = clean_field(text);
        // As a record holds it, and gives it back (`Record::amount`).
        let fast = parse_minor(cleaned, max_decimals).map(|m| {
            let held = crate::model::Amount::new(m.units, m.scale, m.negative).expect("18 digits fit");
            assert_eq!(held.decimal().to_string(), m.to_decimal().to_string());
            held.decimal()
        });
        let general = match cleaned {
            "" => None,
            _ => parse_money_in_general(cleaned, max_decimals, false).ok(),
        };
        let shown = |d: Decimal| format!("{d} scale {} negative {}", d.scale(), d.is_sign_negative());
        (
            fast.map(shown),
            general
                .filter(|m| m.currency.is_none() && m.note.is_none())
                .map(|m| shown(m.amount)),
        )
    }

    proptest::proptest! {
        #[test]
        fn minor_units_agree_with_the_general_reading(
            text in "[-]?[¥￥]?[-]?[0-9]{0,19}(,[0-9]{0,4}){0,3}([.][0-9]{0,5})?(元)?|[-+0-9,. ¥元(a]{0,10}",
            max_decimals in proptest::option::of(0u32..5),
        ) {
            let (fast, general) = fast_and_general(&text, max_decimals);
            if fast.is_some() {
                proptest::prop_assert_eq!(fast, general, "{:?}", text);
            }
        }

        #[test]
        fn plain_amounts_take_the_fast_path(
            whole in 0i64..1_000_000_000_000_000,
            fraction in 0i64..1000,
            scale in 0u32..4,
            negative in proptest::bool::ANY,
            style in 0u8..4,
        ) {
            let units = whole * 10i64.pow(scale) + fraction % 10i64.pow(scale);
            let plain = Decimal::new(units, scale).to_string();
            let (whole, fraction) = plain.split_once('.').map_or((plain.as_str(), None), |(w, f)| (w, Some(f)));
            let grouped = whole
                .as_bytes()
                .rchunks(3)
                .rev()
                .map(|g| std::str::from_utf8(g).unwrap())
                .collect::<Vec<_>>()
                .join(",");
            let body = match (style % 2, fraction) {
                (0, Some(f)) => format!("{whole}.{f}"),
                (_, Some(f)) => format!("{grouped}.{f}"),
                (0, None) => whole.to_string(),
                (_, None) => grouped,
            };
            let sign = if negative { "-" } else { "" };
            let text = if style < 2 { format!("{sign}{body}") } else { format!("{sign}¥{body}") };
            let (fast, general) = fast_and_general(&text, None);
            proptest::prop_assert!(fast.is_some(), "{} not taken fast", text);
            proptest::prop_assert_eq!(fast, general, "{:?}", text);
        }
    }

    #[test]
    fn minor_units_of_the_plain_layouts() {
        let minor = |t: &str| parse_minor(t, Some(2)).map(|m| (m.units, m.scale, m.negative));
        assert_eq!(minor("1234.56"), Some((123456, 2, false)));
        assert_eq!(minor("-12.3"), Some((-123, 1, true)));
        assert_eq!(minor("1,234.56"), Some((123456, 2, false)));
        assert_eq!(minor("¥12.00"), Some((1200, 2, false)));
        assert_eq!(minor("¥-12.00"), Some((-1200, 2, true)));
        assert_eq!(minor("12.00元"), Some((1200, 2, false)));
        assert_eq!(minor("-0.00"), Some((0, 2, true)));
        assert_eq!(minor(".5"), Some((5, 1, false)));
        assert_eq!(minor("999999999999999.99"), Some((99999999999999999, 2, false)));
        // Left to the general reading: errors, other layouts, too large, too many places.
        for text in [
            "",
            "-",
            ".",
            "1,23",
            "12,34.5",
            "1.2.3",
            "--5",
            "(12.50)",
            "12-",
            "+1",
            "CNY 1",
            "1000000000000000",
            "1.234",
        ] {
            assert_eq!(minor(text), None, "{text}");
        }
    }

    #[test]
    fn plain_and_signed() {
        assert_eq!(ok("12.50"), "12.50");
        assert_eq!(ok("-12.50"), "-12.50");
        assert_eq!(ok("+12.50"), "12.50");
        assert_eq!(ok(".5"), "0.5");
        assert_eq!(ok("5."), "5");
        assert_eq!(ok("0"), "0");
    }

    #[test]
    fn separators_currency_and_full_width() {
        assert_eq!(ok("1,234.56"), "1234.56");
        assert_eq!(ok("1,234,567"), "1234567");
        assert_eq!(ok("¥28.16"), "28.16");
        assert_eq!(ok("-¥12.00"), "-12.00");
        assert_eq!(ok("¥-12.00"), "-12.00");
        assert_eq!(ok("CNY 1,000"), "1000");
        assert_eq!(ok("1,000.00元"), "1000.00");
        assert_eq!(ok("１２．５０"), "12.50");
        assert_eq!(ok("－１，２３４．５０"), "-1234.50");
        assert_eq!(ok("\t`128.50\t"), "128.50");
    }

    #[test]
    fn currency_codes_and_notes_are_taken_apart() {
        let money = |t: &'static str| {
            let m = parse_money(t, Some(2), false).unwrap();
            (m.amount.to_string(), m.currency, m.note)
        };
        assert_eq!(money("CNY 123.18"), ("123.18".into(), Some("CNY"), None));
        assert_eq!(money("123.18 CNY"), ("123.18".into(), Some("CNY"), None));
        assert_eq!(money("JPY 1000.00"), ("1000.00".into(), Some("JPY"), None));
        assert_eq!(money("US$1.00"), ("1.00".into(), Some("USD"), None));
        assert_eq!(money("-€12.50"), ("-12.50".into(), Some("EUR"), None));
        assert_eq!(money("¥28.16"), ("28.16".into(), None, None));
        assert_eq!(
            money("131.77(已退款89.84)"),
            ("131.77".into(), None, Some("已退款89.84"))
        );
        assert_eq!(
            money("468.32(已全额退款)"),
            ("468.32".into(), None, Some("已全额退款"))
        );
        assert_eq!(money("(12.50)"), ("-12.50".into(), None, None));
        assert!(parse_money("ABC 12.00", None, false).is_err());
    }

    #[test]
    fn decimal_commas_when_the_file_says_so() {
        let comma = |t: &str| parse_money(t, Some(2), true).unwrap().amount.to_string();
        assert_eq!(comma("-15,37"), "-15.37");
        assert_eq!(comma("1.234,56"), "1234.56");
        assert_eq!(comma("1 234,56"), "1234.56");
        assert_eq!(comma("EUR 2,00"), "2.00");
        assert!(is_decimal_comma(["-15,37", "1.234,56", "", "2,00"]));
        assert!(!is_decimal_comma(["-15,37", "12.50"]));
        assert!(!is_decimal_comma(["1,234"]));
        assert!(!is_decimal_comma(["", "-"]));
    }

    #[test]
    fn accounting_negatives_and_trailing_minus() {
        assert_eq!(ok("(1,234.50)"), "-1234.50");
        assert_eq!(ok("（12.50）"), "-12.50");
        assert_eq!(ok("1,234.50-"), "-1234.50");
        assert_eq!(ok("12-"), "-12");
    }

    #[test]
    fn scale_is_kept_and_exact() {
        let d = parse_amount("0.10", None).unwrap();
        assert_eq!(d.scale(), 2);
        assert_eq!(
            d + parse_amount("0.20", None).unwrap(),
            Decimal::from_str("0.30").unwrap()
        );
    }

    #[test]
    fn rejects_bad_text_with_reasons() {
        assert_eq!(parse_amount("", None), Err(AmountError::Empty));
        assert_eq!(parse_amount("  ", None), Err(AmountError::Empty));
        assert!(matches!(
            parse_amount("1,2,3", None),
            Err(AmountError::Separator(_))
        ));
        assert!(matches!(
            parse_amount("12,34.5", None),
            Err(AmountError::Separator(_))
        ));
        assert!(matches!(parse_amount("1e5", None), Err(AmountError::Exponent(_))));
        assert!(matches!(parse_amount("1E5", None), Err(AmountError::Exponent(_))));
        assert!(matches!(
            parse_amount("NaN", None),
            Err(AmountError::NotANumber(_))
        ));
        assert!(matches!(
            parse_amount("inf", None),
            Err(AmountError::NotANumber(_))
        ));
        assert!(matches!(
            parse_amount("1.2.3", None),
            Err(AmountError::Unexpected { found: '.', .. })
        ));
        assert!(matches!(
            parse_amount("--5", None),
            Err(AmountError::Unexpected { found: '-', .. })
        ));
        assert!(matches!(
            parse_amount("12a", None),
            Err(AmountError::Unexpected { found: 'a', .. })
        ));
        assert!(matches!(parse_amount("-", None), Err(AmountError::NotANumber(_))));
        assert!(matches!(
            parse_amount("99999999999999999999999999999999999", None),
            Err(AmountError::Overflow(_))
        ));
    }

    #[test]
    fn the_amount_limit_is_ten_to_the_fifteenth() {
        assert_eq!(AMOUNT_LIMIT.to_string(), "1000000000000000");
        assert_eq!(ok("-999,999,999,999,999.99"), "-999999999999999.99");
        for text in [
            "1000000000000000",
            "-1000000000000000.00",
            "40000000000000000000000000000",
        ] {
            let err = parse_amount(text, None).unwrap_err();
            assert!(matches!(err, AmountError::Overflow(_)), "{text}: {err:?}");
            assert!(err.to_string().contains("below 10^15"), "{err}");
        }
    }

    #[test]
    fn decimal_limit() {
        assert_eq!(ok("12.345"), "12.345");
        let err = parse_amount("12.345", Some(2)).unwrap_err();
        assert_eq!(
            err,
            AmountError::TooManyDecimals {
                text: "12.345".into(),
                found: 3,
                allowed: 2
            }
        );
        assert!(err.to_string().contains("at most 2"));
    }

    #[test]
    fn optional_amounts() {
        assert_eq!(parse_optional_amount(" - \t", Some(2)), Ok(None));
        assert_eq!(parse_optional_amount("", Some(2)), Ok(None));
        assert_eq!(
            parse_optional_amount("5.00", Some(2))
                .unwrap()
                .unwrap()
                .to_string(),
            "5.00"
        );
    }
}
