//! Cleaning one field's text: padding and the guard characters exports put
//! in front of values to stop spreadsheets from mangling them.

/// Trims whitespace (including tab, U+3000 and U+00A0) and strips leading
/// `\t`, `` ` `` and `'` guards (a `'…'` pair entirely), without allocating.
pub fn clean_field(raw: &str) -> &str {
    let mut text = trim(raw);
    loop {
        let stripped = if let Some(rest) = text.strip_prefix('\'') {
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

fn trim(text: &str) -> &str {
    text.trim_matches(|c: char| c.is_whitespace() || c == '\u{3000}' || c == '\u{a0}')
}

/// True for the values exports put in empty cells: "", "-", "--", "—", "/", "N/A".
pub fn is_placeholder(cleaned: &str) -> bool {
    matches!(cleaned, "" | "-" | "--" | "—" | "/" | "N/A" | "n/a")
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
        assert_eq!(clean_field(""), "");
    }

    #[test]
    fn placeholders() {
        for p in ["", "-", "--", "/", "N/A"] {
            assert!(is_placeholder(p), "{p}");
        }
        assert!(!is_placeholder("0.00"));
    }
}
