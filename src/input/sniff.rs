//! Sniffing the field delimiter from the rows that look like the table.
//! A statement's table is a block of consecutive records with the same
//! number of fields; preamble lines ("账户: 123, 户名: 张三") may hold a
//! delimiter too, but not in a long consistent block. So each candidate is
//! scored by its longest run of consecutive records with one field count
//! (at least two), not by how often it appears in the file.

/// How many leading records are examined.
const SNIFF_RECORDS: usize = 400;

/// Delimiters tried, in order of preference on a tie.
const CANDIDATE_DELIMITERS: [u8; 4] = [b',', b'\t', b';', b'|'];

/// Picks the delimiter with the longest run of consecutive records sharing
/// one field count (≥ 2); ties go to the wider table, then to the earlier
/// candidate (comma first). Blank lines neither count nor break a run.
pub fn sniff_delimiter(text: &str) -> u8 {
    let mut best = (b',', (0, 0));
    for &delimiter in &CANDIDATE_DELIMITERS {
        let score = longest_run(&field_counts(text, delimiter));
        if score > best.1 {
            best = (delimiter, score);
        }
    }
    best.0
}

/// `sniff_delimiter` of a whole file, decided on its first text `head`:
/// `None` unless the head holds the `SNIFF_RECORDS` records examined for
/// every candidate.
pub fn sniff_delimiter_on_head(head: &str) -> Option<u8> {
    CANDIDATE_DELIMITERS
        .iter()
        .all(|&d| field_counts(head, d).len() == SNIFF_RECORDS)
        .then(|| sniff_delimiter(head))
}

/// (length, field count) of the longest run of equal field counts ≥ 2.
fn longest_run(counts: &[usize]) -> (usize, usize) {
    let mut best = (0, 0);
    let mut run = (0, 0);
    for &n in counts {
        run = if n >= 2 && n == run.1 {
            (run.0 + 1, n)
        } else {
            (1, n)
        };
        if run.1 >= 2 && run > best {
            best = run;
        }
    }
    best
}

/// Field counts of the first `SNIFF_RECORDS` non-blank records. A record
/// ends at a line break outside quotes, so a quoted memo spanning lines is
/// one record; a quote opens a quoted field only at the start of a field
/// (as in CSV), so a stray `"` in a preamble line is just a character.
fn field_counts(text: &str, delimiter: u8) -> Vec<usize> {
    let mut counts = Vec::new();
    let mut fields = 1;
    let mut blank = true;
    let mut in_quotes = false;
    let mut at_field_start = true;
    let mut bytes = text.bytes().peekable();
    while let Some(b) = bytes.next() {
        if in_quotes {
            if b == b'"' {
                if bytes.peek() == Some(&b'"') {
                    bytes.next();
                } else {
                    in_quotes = false;
                }
            }
            continue;
        }
        match b {
            b'\n' | b'\r' => {
                if !blank {
                    counts.push(fields);
                    if counts.len() == SNIFF_RECORDS {
                        return counts;
                    }
                }
                (fields, blank, at_field_start) = (1, true, true);
            }
            b'"' if at_field_start => {
                in_quotes = true;
                blank = false;
            }
            b if b == delimiter => {
                fields += 1;
                at_field_start = true;
            }
            b' ' | b'\t' => {}
            _ => {
                blank = false;
                at_field_start = false;
            }
        }
    }
    if !blank {
        counts.push(fields);
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_comma_semicolon_tab_and_pipe() {
        assert_eq!(sniff_delimiter("a,b,c\n1,2,3\n"), b',');
        assert_eq!(sniff_delimiter("a;b;c\n1;2,5;3\n"), b';');
        assert_eq!(sniff_delimiter("a\tb\tc\n1\t2\t3\n"), b'\t');
        assert_eq!(sniff_delimiter("a|b|c\n1|2|3\n"), b'|');
        assert_eq!(sniff_delimiter("name\nx\n"), b',');
        assert_eq!(sniff_delimiter(""), b',');
    }

    #[test]
    fn preamble_with_commas_does_not_decide() {
        let text = "账户: 123, 户名: 张三, 币种: CNY\n起止: 2026-11-01, 2026-11-30\n导出: x, y\n\
                    订单号;金额;时间\nA1;1,234.50;2026-11-24\nA2;3,00;2026-11-24\n";
        assert_eq!(sniff_delimiter(text), b';');
    }

    #[test]
    fn quoted_delimiters_and_line_breaks_do_not_count() {
        let text =
            "时间,金额,备注\n2026-01-01,\"1,234.00\",\"a;b\nc;d\"\n2026-01-02,\"2,000.00\",\"e;f\ng\"\n";
        assert_eq!(field_counts(text, b','), [3, 3, 3]);
        assert_eq!(sniff_delimiter(text), b',');
    }

    #[test]
    fn stray_quote_inside_a_field_is_a_character() {
        assert_eq!(field_counts("说明: 6\" 屏幕, 注意\na,b\n", b','), [2, 2]);
    }

    #[test]
    fn tab_padding_inside_fields_does_not_win_over_comma() {
        let text = "日期,金额\n2023-04-22 \t,\"0.01 \t\",\n2023-05-05 \t,\"18.00 \t\",\n";
        assert_eq!(sniff_delimiter(text), b',');
    }

    #[test]
    fn blank_lines_neither_count_nor_break_a_run() {
        assert_eq!(field_counts("a|b\n\n \n1|2\r\n3|4", b'|'), [2, 2, 2]);
        assert_eq!(longest_run(&[1, 2, 2, 3, 3, 3, 1]), (3, 3));
        assert_eq!(longest_run(&[1, 1, 1]), (0, 0));
    }
}
