//! The row filter of named reports: conditions on result columns joined by
//! `and`, e.g. `abs(amount) >= 5000 and merchant = "M-TUITION"`.
//!
//! A condition is `COLUMN OP VALUE` or `abs(COLUMN) OP NUMBER`. Operators:
//! `=` and `!=` (numbers compare as numbers when both sides are numbers,
//! otherwise as text), `in (V1, V2, …)` (equal to any of them, as `=`), `<`, `<=`, `>`, `>=` (numbers only; a cell that is not
//! a number fails), `~` and `!~` (contains / does not contain, ignoring ASCII
//! case). Values are numbers, bare words, or text in `"…"` or `'…'`. Column
//! names are bare words (Chinese names work) or quoted. This module parses
//! and evaluates; checking column names against outputs is `report`'s job.

use std::fmt;

use rust_decimal::Decimal;

/// A parsed filter; the default keeps every row.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    conditions: Vec<Condition>,
}

/// One `COLUMN OP VALUE`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Condition {
    column: String,
    abs: bool,
    op: Op,
    value: String,
    number: Option<Decimal>,
    /// The values of `in (…)`, each with its number.
    list: Vec<(String, Option<Decimal>)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Contains,
    NotContains,
    In,
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Op::Eq => "=",
            Op::Ne => "!=",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Contains => "~",
            Op::NotContains => "!~",
            Op::In => "in",
        })
    }
}

/// A filter that does not parse, at a 1-based character column of the filter text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterError {
    /// 1-based character position in the filter text.
    pub column: usize,
    /// What was expected and what was found.
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Word(String),
    Quoted(String),
    Op(Op),
    Open,
    Close,
    Comma,
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Token::Word(w) => write!(f, "`{w}`"),
            Token::Quoted(q) => write!(f, "\"{q}\""),
            Token::Op(op) => write!(f, "`{op}`"),
            Token::Open => f.write_str("`(`"),
            Token::Close => f.write_str("`)`"),
            Token::Comma => f.write_str("`,`"),
        }
    }
}

const SPECIAL: &[char] = &['(', ')', ',', '=', '!', '<', '>', '~', '"', '\''];

/// Splits the text into (1-based column, token).
fn tokenize(text: &str) -> Result<Vec<(usize, Token)>, FilterError> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let column = i + 1;
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let next = chars.get(i + 1).copied();
        let (token, width) = match (c, next) {
            ('(', _) => (Token::Open, 1),
            (')', _) => (Token::Close, 1),
            (',', _) => (Token::Comma, 1),
            ('=', Some('=')) => (Token::Op(Op::Eq), 2),
            ('=', _) => (Token::Op(Op::Eq), 1),
            ('!', Some('=')) => (Token::Op(Op::Ne), 2),
            ('!', Some('~')) => (Token::Op(Op::NotContains), 2),
            ('<', Some('=')) => (Token::Op(Op::Le), 2),
            ('<', _) => (Token::Op(Op::Lt), 1),
            ('>', Some('=')) => (Token::Op(Op::Ge), 2),
            ('>', _) => (Token::Op(Op::Gt), 1),
            ('~', _) => (Token::Op(Op::Contains), 1),
            ('"' | '\'', _) => {
                let Some(len) = chars[i + 1..].iter().position(|&q| q == c) else {
                    return Err(FilterError {
                        column,
                        message: format!("text starting here has no closing {c}"),
                    });
                };
                (Token::Quoted(chars[i + 1..i + 1 + len].iter().collect()), len + 2)
            }
            ('!', _) => {
                return Err(FilterError {
                    column,
                    message: "`!` must be followed by `=` or `~`".into(),
                })
            }
            _ => {
                let len = chars[i..]
                    .iter()
                    .position(|&w| w.is_whitespace() || SPECIAL.contains(&w))
                    .unwrap_or(chars.len() - i);
                (Token::Word(chars[i..i + len].iter().collect()), len)
            }
        };
        tokens.push((column, token));
        i += width;
    }
    Ok(tokens)
}

struct Parser {
    tokens: Vec<(usize, Token)>,
    at: usize,
    end_column: usize,
}

impl Parser {
    fn next(&mut self, expected: &str) -> Result<(usize, Token), FilterError> {
        let found = self.tokens.get(self.at).cloned();
        self.at += 1;
        found.ok_or_else(|| FilterError {
            column: self.end_column,
            message: format!("expected {expected}, found the end of the filter"),
        })
    }

    fn condition(&mut self) -> Result<Condition, FilterError> {
        let (column_at, first) = self.next("a column name")?;
        let (column, abs) = match first {
            Token::Word(w) if w == "abs" && self.tokens.get(self.at).map(|t| &t.1) == Some(&Token::Open) => {
                self.at += 1;
                let name = self.name()?;
                match self.next("`)`")? {
                    (_, Token::Close) => (name, true),
                    (at, other) => return Err(unexpected(at, "`)`", &other)),
                }
            }
            Token::Word(w) | Token::Quoted(w) => (w, false),
            other => return Err(unexpected(column_at, "a column name", &other)),
        };
        const OPERATORS: &str = "an operator (= != < <= > >= ~ !~ in)";
        let op = match self.next(OPERATORS)? {
            (_, Token::Op(op)) => op,
            (_, Token::Word(w)) if w.eq_ignore_ascii_case("in") && !abs => {
                let list = self.list()?;
                return Ok(Condition {
                    column,
                    abs,
                    op: Op::In,
                    value: String::new(),
                    number: None,
                    list,
                });
            }
            (at, other) => return Err(unexpected(at, OPERATORS, &other)),
        };
        let (value_at, (value, number)) = self.value()?;
        let ordering = matches!(op, Op::Lt | Op::Le | Op::Gt | Op::Ge);
        if (ordering || abs) && number.is_none() {
            return Err(FilterError {
                column: value_at,
                message: format!(
                    "`{op}`{} needs a number, found \"{value}\"",
                    if abs { " on abs()" } else { "" }
                ),
            });
        }
        if abs && matches!(op, Op::Contains | Op::NotContains) {
            return Err(FilterError {
                column: value_at,
                message: format!("abs() compares numbers; `{op}` compares text"),
            });
        }
        Ok(Condition {
            column,
            abs,
            op,
            value,
            number,
            list: Vec::new(),
        })
    }

    /// A value and, unless it is quoted, its number.
    fn value(&mut self) -> Result<(usize, (String, Option<Decimal>)), FilterError> {
        let (value_at, value) = self.next("a value")?;
        let (value, quoted) = match value {
            Token::Word(w) => (w, false),
            Token::Quoted(q) => (q, true),
            other => return Err(unexpected(value_at, "a value", &other)),
        };
        let number = if quoted {
            None
        } else {
            Decimal::from_str_exact(&value).ok()
        };
        Ok((value_at, (value, number)))
    }

    /// `(V1, V2, …)` after `in`.
    fn list(&mut self) -> Result<Vec<(String, Option<Decimal>)>, FilterError> {
        match self.next("`(` after `in`")? {
            (_, Token::Open) => {}
            (at, other) => return Err(unexpected(at, "`(` after `in`", &other)),
        }
        let mut list = Vec::new();
        loop {
            list.push(self.value()?.1);
            match self.next("`,` or `)`")? {
                (_, Token::Comma) => {}
                (_, Token::Close) => break,
                (at, other) => return Err(unexpected(at, "`,` or `)`", &other)),
            }
        }
        Ok(list)
    }

    fn name(&mut self) -> Result<String, FilterError> {
        match self.next("a column name")? {
            (_, Token::Word(w) | Token::Quoted(w)) => Ok(w),
            (at, other) => Err(unexpected(at, "a column name", &other)),
        }
    }
}

fn unexpected(column: usize, expected: &str, found: &Token) -> FilterError {
    FilterError {
        column,
        message: format!("expected {expected}, found {found}"),
    }
}

impl Filter {
    /// Parses filter text; empty text keeps every row.
    pub fn parse(text: &str) -> Result<Filter, FilterError> {
        let tokens = tokenize(text)?;
        let mut parser = Parser {
            tokens,
            at: 0,
            end_column: text.chars().count() + 1,
        };
        let mut conditions = Vec::new();
        if parser.tokens.is_empty() {
            return Ok(Filter { conditions });
        }
        loop {
            conditions.push(parser.condition()?);
            match parser.tokens.get(parser.at).cloned() {
                None => break,
                Some((_, Token::Word(w))) if w.eq_ignore_ascii_case("and") => parser.at += 1,
                Some((at, other)) => {
                    return Err(unexpected(at, "`and` or the end of the filter", &other));
                }
            }
        }
        Ok(Filter { conditions })
    }

    /// The column names the filter reads.
    pub fn columns(&self) -> impl Iterator<Item = &str> {
        self.conditions.iter().map(|c| c.column.as_str())
    }

    /// True when every condition holds; `cell` gives a column's text (`None`: no such column).
    pub fn keeps<'a>(&self, cell: impl Fn(&str) -> Option<&'a str>) -> bool {
        self.conditions.iter().all(|c| c.holds(cell(&c.column)))
    }
}

impl Condition {
    fn holds(&self, cell: Option<&str>) -> bool {
        let Some(text) = cell else { return false };
        let number = Decimal::from_str_exact(text.trim())
            .ok()
            .map(|n| if self.abs { n.abs() } else { n });
        let lower = || text.to_lowercase();
        if self.op == Op::In {
            return self.list.iter().any(|(value, v)| match (number, v) {
                (Some(n), Some(v)) => n == *v,
                _ => text == value,
            });
        }
        match (self.op, number, self.number) {
            (Op::Contains, _, _) => lower().contains(&self.value.to_lowercase()),
            (Op::NotContains, _, _) => !lower().contains(&self.value.to_lowercase()),
            (Op::Eq, Some(n), Some(v)) => n == v,
            (Op::Ne, Some(n), Some(v)) => n != v,
            (Op::Eq, _, _) if !self.abs => text == self.value,
            (Op::Ne, _, _) if !self.abs => text != self.value,
            (Op::Lt, Some(n), Some(v)) => n < v,
            (Op::Le, Some(n), Some(v)) => n <= v,
            (Op::Gt, Some(n), Some(v)) => n > v,
            (Op::Ge, Some(n), Some(v)) => n >= v,
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keeps(filter: &str, row: &[(&str, &str)]) -> bool {
        let f = Filter::parse(filter).unwrap();
        f.keeps(|c| row.iter().find(|(k, _)| *k == c).map(|(_, v)| *v))
    }

    #[test]
    fn conditions_combine_with_and() {
        let row = [
            ("amount", "-6000.00"),
            ("merchant", "M-TUITION"),
            ("户号", "T3003"),
        ];
        assert!(keeps("abs(amount) >= 5000 and merchant = \"M-TUITION\"", &row));
        assert!(!keeps("amount >= 5000", &row));
        assert!(keeps("amount < 0 AND 户号 ~ t30", &row));
        assert!(keeps("merchant != M-WATER", &row));
        assert!(keeps("amount = -6000", &row));
        assert!(keeps("merchant !~ water", &row));
        assert!(!keeps("missing = x", &row));
        assert!(keeps("", &row));
        assert!(keeps("merchant in (\"M-WATER\", 'M-TUITION')", &row));
        assert!(keeps("amount IN (1, -6000) and merchant in (M-TUITION)", &row));
        assert!(!keeps("merchant in (\"M-WATER\")", &row));
    }

    #[test]
    fn numbers_compare_as_numbers_only_when_both_are_numbers() {
        assert!(keeps("key = 007", &[("key", "7")]));
        assert!(!keeps("key = '007'", &[("key", "7")]));
        assert!(!keeps("amount > 5", &[("amount", "n/a")]));
    }

    #[test]
    fn errors_name_the_column() {
        let e = Filter::parse("amount >> 5").unwrap_err();
        assert_eq!(e.column, 9, "{}", e.message);
        let e = Filter::parse("amount > big").unwrap_err();
        assert_eq!((e.column, e.message.contains("needs a number")), (10, true));
        let e = Filter::parse("amount > 5 or key = 1").unwrap_err();
        assert_eq!(e.column, 12, "{}", e.message);
        let e = Filter::parse("merchant = \"M1").unwrap_err();
        assert_eq!(e.column, 12);
        let e = Filter::parse("amount >").unwrap_err();
        assert_eq!(e.column, 9);
        assert!(e.message.contains("end of the filter"));
        let e = Filter::parse("abs(amount ~ 5").unwrap_err();
        assert_eq!(e.column, 12, "{}", e.message);
        let e = Filter::parse("merchant in (\"M1\" \"M2\")").unwrap_err();
        assert_eq!(e.column, 19, "{}", e.message);
        let e = Filter::parse("merchant in M1").unwrap_err();
        assert_eq!(e.column, 13, "{}", e.message);
    }
}
