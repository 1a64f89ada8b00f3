//! Cleaning one field's text: padding and the guard characters exports put
//! in front of values to stop spreadsheets from mangling them, and the guard
//! the outputs put in front of formula-like text (`safe`).

use std::borrow::Cow;

use rust_decimal::Decimal;

/// Trims whitespace (including tab, U+3000 and U+00A0) and strips leading
/// `\t`, `` ` `` and `'` guards (a `'…'` pair entirely) and the Excel text
/// formula wrapping `="…"` some exports put around cells, without allocating.
pub fn clean_field(raw: &str) -> &str {
    let mut text = trim(raw);
    loop {
        let stripped = if let Some(inner) = formula_text(text) {
            inner
        } else if let Some(rest) = text.strip_prefix('\'') {
            rest.strip_suffix('\'').unwrap_or(rest)
        } else if let Some(rest) = text.strip_prefix('`') {
            rest
        } else {
            break;
        };
        text = trim(stripped);
    }
    text
}

/// The text inside an Excel text formula `="…"` (written so a spreadsheet
/// keeps `20230212` or an account number as text), when `text` is one.
pub fn formula_text(text: &str) -> Option<&str> {
    text.strip_prefix("=\"")?.strip_suffix('"')
}

fn trim(text: &str) -> &str {
    text.trim_matches(|c: char| c.is_whitespace() || c == '\u{3000}' || c == '\u{a0}')
}

/// Most characters of a field's text quoted in a message.
const EXCERPT_CHARS: usize = 40;

/// The text of a field for quoting in an error message: whole when short,
/// else its start with `…` and its length, so a damaged file's huge field
/// does not flood the terminal.
pub fn excerpt(text: &str) -> String {
    match text.char_indices().nth(EXCERPT_CHARS) {
        None => text.to_string(),
        Some((end, _)) => format!("{}… ({} characters)", &text[..end], text.chars().count()),
    }
}

/// True for the values exports put in empty cells: "", "-", "--", "—", "/", "N/A".
pub fn is_placeholder(cleaned: &str) -> bool {
    matches!(cleaned, "" | "-" | "--" | "—" | "/" | "N/A" | "n/a")
}

/// Text that a spreadsheet would run as a formula gets a leading `'`
/// (numbers such as `-12.50` are left alone).
pub fn safe(text: &str) -> Cow<'_, str> {
    let risky = text.starts_with(['=', '+', '-', '@', '\t', '\r']);
    if risky && Decimal::from_str_exact(text).is_err() {
        Cow::Owned(format!("'{text}"))
    } else {
        Cow::Borrowed(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_padding_and_guards() {
        assert_eq!(clean_field("  2023-02-12 21:32:14 "), "2023-02-12 21:32:14");
        assert_eq!(
            clean_field("`4200000069201710299246843141"),
            "4200000069201710299246843141"
        );
        assert_eq!(clean_field("3985734\t"), "3985734");
        assert_eq!(clean_field("\t`123"), "123");
        assert_eq!(clean_field("'5678653123124124'"), "5678653123124124");
        assert_eq!(clean_field("'=SUM(A1)"), "=SUM(A1)");
        assert_eq!(clean_field("\u{3000}交易成功\u{3000}"), "交易成功");
        assert_eq!(clean_field("xx\t "), "xx");
        assert_eq!(clean_field("=\"20230212\""), "20230212");
        assert_eq!(clean_field(" =\"交收日期\"\t"), "交收日期");
        assert_eq!(clean_field("=\"\""), "");
        assert_eq!(clean_field("=SUM(A1)"), "=SUM(A1)");
        assert_eq!(clean_field(""), "");
    }

    #[test]
    fn excerpts_shorten_long_text_only() {
        assert_eq!(excerpt("12.50"), "12.50");
        let long = "9".repeat(1000);
        assert_eq!(excerpt(&long), format!("{}… (1000 characters)", "9".repeat(40)));
        let chinese = "金".repeat(41);
        assert_eq!(excerpt(&chinese), format!("{}… (41 characters)", "金".repeat(40)));
    }

    #[test]
    fn placeholders() {
        for p in ["", "-", "--", "/", "N/A"] {
            assert!(is_placeholder(p), "{p}");
        }
        assert!(!is_placeholder("0.00"));
    }
}
