//! How one file is read: the reading settings and column roles the reader
//! consumes (`SidePlan`, `ColumnPlan`), and the `[*.columns]` mapping as a
//! rule file or profile writes it (`ColumnSpec`). `rules::plan` builds these
//! from a rule file; `with_guessed_columns` fills in roles guessed from a
//! header at read time.

use chrono_tz::Tz;
use regex::Regex;
use serde::Deserialize;

use super::encoding::EncodingChoice;
use super::guess::guessed_columns;
use super::records::AMOUNT_NOTE;
use super::table::Table;
use super::time::TimeLayout;
use crate::model::Currency;

/// How one file is read and typed.
#[derive(Debug, Clone)]
pub struct SidePlan {
    /// Encoding to decode with.
    pub encoding: EncodingChoice,
    /// Fixed delimiter, or `None` to sniff.
    pub delimiter: Option<u8>,
    /// Fixed header line, or `None` to find it.
    pub header_line: Option<u64>,
    /// Zone the file's local times are in.
    pub zone: Tz,
    /// Most decimal places an amount may have (`None`: no limit).
    pub amount_decimals: Option<u32>,
    /// Negate every amount.
    pub flip_sign: bool,
    /// Column roles.
    pub columns: ColumnPlan,
    /// Direction and type words.
    pub values: ValueWords,
    /// Status words (used when `columns.status` is set).
    pub status: StatusWords,
    /// Per-column clean-ups.
    pub cleaners: Vec<Cleaner>,
    /// The built-in profile the settings come from, if any.
    pub profile: Option<String>,
    /// `Some(false)`: the file has no header row; columns are named `1`, `2`, …
    /// (`None`: detected).
    pub header: Option<bool>,
    /// Currency of rows that name none.
    pub currency: Currency,
    /// Amounts are written with decimal commas (`1.234,56`): decided from the
    /// file when it is read (`input::settle`), never set by a rule file.
    pub decimal_comma: bool,
    /// Set when the column roles are guessed from the header at read time
    /// (the `generic-bank` profile): the explicitly set columns, which win
    /// over the guess. `columns` is only a placeholder then.
    pub guess_columns: Option<ColumnSpec>,
}

/// Which columns carry the amount.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AmountColumns {
    /// One signed column, or unsigned with a direction column.
    Single {
        /// The amount column.
        amount: String,
        /// A column saying in or out.
        direction: Option<String>,
    },
    /// Money out and money in in separate columns.
    DebitCredit {
        /// Money out.
        debit: String,
        /// Money in.
        credit: String,
    },
}

/// Which columns carry the time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TimeColumns {
    /// The file has no time.
    None,
    /// Date and time in one column.
    One(String),
    /// Date and time in two columns.
    DateAndTime {
        /// The date column.
        date: String,
        /// The time-of-day column.
        time: String,
    },
}

/// Column roles of one file.
#[derive(Debug, Clone)]
pub struct ColumnPlan {
    /// Key column.
    pub key: Option<String>,
    /// Amount columns.
    pub amount: AmountColumns,
    /// Time columns.
    pub time: TimeColumns,
    /// Time layout.
    pub time_layout: TimeLayout,
    /// Merchant column.
    pub merchant: Option<String>,
    /// Type column (refund marker).
    pub kind: Option<String>,
    /// Status column (success, refund or set aside).
    pub status: Option<String>,
    /// Column holding a refund row's amount, when not `amount`.
    pub refund_amount: Option<String>,
    /// The channel's fee column; always one of `carry` too.
    pub fee: Option<String>,
    /// Column holding the row's currency code.
    pub currency: Option<String>,
    /// Columns copied to outputs.
    pub carry: Vec<String>,
}

impl ColumnPlan {
    /// Every header name this plan reads, for header detection and checks
    /// (a carried `amount_note` is not one: it comes from the amount).
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        let mut push = |n: &Option<String>| {
            if let Some(n) = n {
                if !names.contains(n) {
                    names.push(n.clone());
                }
            }
        };
        push(&self.key);
        match &self.amount {
            AmountColumns::Single { amount, direction } => {
                push(&Some(amount.clone()));
                push(direction);
            }
            AmountColumns::DebitCredit { debit, credit } => {
                push(&Some(debit.clone()));
                push(&Some(credit.clone()));
            }
        }
        match &self.time {
            TimeColumns::None => {}
            TimeColumns::One(t) => push(&Some(t.clone())),
            TimeColumns::DateAndTime { date, time } => {
                push(&Some(date.clone()));
                push(&Some(time.clone()));
            }
        }
        push(&self.merchant);
        push(&self.kind);
        push(&self.status);
        push(&self.refund_amount);
        push(&self.fee);
        push(&self.currency);
        for c in self.carry.iter().filter(|c| *c != AMOUNT_NOTE) {
            push(&Some(c.clone()));
        }
        names
    }
}

impl ColumnPlan {
    /// The mapping as a rule file's `[*.columns]` section would write it.
    pub fn to_spec(&self) -> ColumnSpec {
        let (amount, direction, debit, credit) = match &self.amount {
            AmountColumns::Single { amount, direction } => {
                (Some(amount.clone()), direction.clone(), None, None)
            }
            AmountColumns::DebitCredit { debit, credit } => {
                (None, None, Some(debit.clone()), Some(credit.clone()))
            }
        };
        let (date, time) = match &self.time {
            TimeColumns::None => (None, None),
            TimeColumns::One(t) => (None, Some(t.clone())),
            TimeColumns::DateAndTime { date, time } => (Some(date.clone()), Some(time.clone())),
        };
        ColumnSpec {
            key: self.key.clone(),
            amount,
            debit,
            credit,
            direction,
            time,
            date,
            time_format: match &self.time_layout {
                TimeLayout::Auto => None,
                TimeLayout::Format(f) => Some(f.clone()),
            },
            merchant: self.merchant.clone(),
            kind: self.kind.clone(),
            status: self.status.clone(),
            refund_amount: self.refund_amount.clone(),
            fee: self.fee.clone(),
            currency: self.currency.clone(),
            carry: self.carry.clone(),
        }
    }

    /// Where the fee is among a record's carried values, when a fee column is mapped.
    pub fn fee_slot(&self) -> Option<usize> {
        let fee = self.fee.as_ref()?;
        self.carry.iter().position(|c| c == fee)
    }
}

/// Words used in direction and type columns.
#[derive(Debug, Clone)]
pub struct ValueWords {
    /// Direction words for money in.
    pub income: Vec<String>,
    /// Direction words for money out.
    pub expense: Vec<String>,
    /// Direction words for neither (amount kept as written).
    pub neutral: Vec<String>,
    /// Type words for refunds and reversals.
    pub refund: Vec<String>,
}

impl ValueWords {
    /// Whether `word` is a money-in direction word.
    pub fn is_income(&self, word: &str) -> bool {
        holds(&self.income, word)
    }

    /// Whether `word` is a money-out direction word.
    pub fn is_expense(&self, word: &str) -> bool {
        holds(&self.expense, word)
    }

    /// Whether `word` is a direction word meaning neither.
    pub fn is_neutral(&self, word: &str) -> bool {
        holds(&self.neutral, word)
    }

    /// Whether `word` is a type word marking a refund or reversal.
    pub fn is_refund(&self, word: &str) -> bool {
        holds(&self.refund, word)
    }
}

/// Exact for Chinese words, case-insensitive for Latin ones (`Income`, `DR`).
/// A word written in several parts, bilingually or with a sign (`贷 Cr`,
/// `借 Dr`, `收入(+)`, `支出/Debit`), is held when every part is (a lone
/// `+` counts as money in, `-` as money out, so they are judged by `sign`).
fn holds(words: &[String], word: &str) -> bool {
    let one = |part: &str| words.iter().any(|w| w.eq_ignore_ascii_case(part));
    if one(word) {
        return true;
    }
    let parts: Vec<&str> = word
        .split([' ', '/', '(', ')', '（', '）', '|', '\u{3000}'])
        .filter(|p| !p.is_empty())
        .collect();
    if parts.len() < 2 && parts.first().is_none_or(|p| *p == word) {
        return false;
    }
    let sign = |p: &str| match p {
        "+" => Some(
            words
                .iter()
                .any(|w| w == "收入" || w.eq_ignore_ascii_case("income")),
        ),
        "-" => Some(
            words
                .iter()
                .any(|w| w == "支出" || w.eq_ignore_ascii_case("expense")),
        ),
        _ => None,
    };
    let words_only: Vec<&&str> = parts.iter().filter(|p| sign(p).is_none()).collect();
    !words_only.is_empty()
        && words_only.iter().all(|p| one(p))
        && parts.iter().all(|p| sign(p).unwrap_or(true))
}

/// Values of a status column.
#[derive(Debug, Clone, Default)]
pub struct StatusWords {
    /// Completed payments.
    pub success: Vec<String>,
    /// Completed refunds.
    pub refund: Vec<String>,
    /// Closed, failed or cancelled: set aside.
    pub ignore: Vec<String>,
}

/// What a status value means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusClass {
    /// The row counts.
    Success,
    /// The row counts as a refund.
    Refund,
    /// The row is set aside.
    Ignore,
    /// The value is in no list.
    Unknown,
}

impl StatusWords {
    /// Classifies a cleaned status value.
    pub fn classify(&self, status: &str) -> StatusClass {
        let has = |list: &[String]| list.iter().any(|w| w == status);
        if has(&self.success) {
            StatusClass::Success
        } else if has(&self.refund) {
            StatusClass::Refund
        } else if has(&self.ignore) {
            StatusClass::Ignore
        } else {
            StatusClass::Unknown
        }
    }
}

/// A clean-up applied to one column's text.
#[derive(Debug, Clone)]
pub struct Cleaner {
    /// Header name of the column.
    pub column: String,
    /// Prefix to remove.
    pub strip_prefix: Option<String>,
    /// Suffix to remove.
    pub strip_suffix: Option<String>,
    /// Regex whose first group (or match) is kept.
    pub extract: Option<Regex>,
}

impl Cleaner {
    /// Applies the clean-up; a value the regex does not match becomes empty.
    pub fn apply<'a>(&self, text: &'a str) -> &'a str {
        let mut text = text;
        if let Some(p) = &self.strip_prefix {
            text = text.strip_prefix(p.as_str()).unwrap_or(text);
        }
        if let Some(s) = &self.strip_suffix {
            text = text.strip_suffix(s.as_str()).unwrap_or(text);
        }
        if let Some(re) = &self.extract {
            return match re.captures(text) {
                Some(c) => c.get(1).or_else(|| c.get(0)).map_or("", |m| m.as_str()),
                None => "",
            };
        }
        text
    }
}

/// `[*.columns]`: header names of the columns to use. An empty name (`key =
/// ""`) switches off a column a profile would map. In a file without a
/// header row (`header = false`) a column is named by its 1-based position,
/// `amount = 3` (or `"3"`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColumnSpec {
    /// Order id or other matching key.
    #[serde(default, deserialize_with = "name_or_position")]
    pub key: Option<String>,
    /// Signed amount, or unsigned with `direction`.
    #[serde(default, deserialize_with = "name_or_position")]
    pub amount: Option<String>,
    /// Money out, in its own column (instead of `amount`).
    #[serde(default, deserialize_with = "name_or_position")]
    pub debit: Option<String>,
    /// Money in, in its own column (instead of `amount`).
    #[serde(default, deserialize_with = "name_or_position")]
    pub credit: Option<String>,
    /// Column saying in or out (收入/支出, 借/贷, income/expense) for an unsigned `amount`.
    #[serde(default, deserialize_with = "name_or_position")]
    pub direction: Option<String>,
    /// Time, or date and time in one column.
    #[serde(default, deserialize_with = "name_or_position")]
    pub time: Option<String>,
    /// Date, when the time is in a separate `time` column.
    #[serde(default, deserialize_with = "name_or_position")]
    pub date: Option<String>,
    /// strftime layout of the time (or of `date + " " + time`); automatic when absent.
    pub time_format: Option<String>,
    /// Merchant or counterparty.
    #[serde(default, deserialize_with = "name_or_position")]
    pub merchant: Option<String>,
    /// Transaction type column; rows whose value is in `values.refund` are refunds.
    #[serde(rename = "type", default, deserialize_with = "name_or_position")]
    pub kind: Option<String>,
    /// Transaction status column, judged by `[*.status]`.
    #[serde(default, deserialize_with = "name_or_position")]
    pub status: Option<String>,
    /// Where a refund row's amount is, when not in `amount` (WeChat Pay merchant bills: 退款金额).
    #[serde(default, deserialize_with = "name_or_position")]
    pub refund_amount: Option<String>,
    /// The channel's fee on the row (WeChat Pay merchant bills: 手续费), signed
    /// as written; carried into every output.
    #[serde(default, deserialize_with = "name_or_position")]
    pub fee: Option<String>,
    /// The row's currency code (CNY, USD, …), when the file has such a column.
    #[serde(default, deserialize_with = "name_or_position")]
    pub currency: Option<String>,
    /// Further columns copied into every output.
    #[serde(default)]
    pub carry: Vec<String>,
}

/// A column named by its header text, or by its 1-based position (an integer).
fn name_or_position<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Name {
        Text(String),
        Position(u32),
    }
    Ok(Some(match Name::deserialize(d)? {
        Name::Text(t) => t,
        Name::Position(0) => return Err(serde::de::Error::custom("column positions start at 1")),
        Name::Position(n) => n.to_string(),
    }))
}

/// Column mapping `over` laid over `base` (see `overlay`).
pub fn overlay_columns(base: &ColumnSpec, over: &ColumnSpec) -> ColumnSpec {
    let pick = |o: &Option<String>, b: &Option<String>| o.clone().or_else(|| b.clone());
    let amount_set = over.amount.is_some() || over.debit.is_some() || over.credit.is_some();
    let money = if amount_set { over } else { base };
    let time_set = over.time.is_some() || over.date.is_some();
    let time = if time_set { over } else { base };
    ColumnSpec {
        key: pick(&over.key, &base.key),
        amount: money.amount.clone(),
        debit: money.debit.clone(),
        credit: money.credit.clone(),
        direction: money.direction.clone(),
        refund_amount: if amount_set {
            over.refund_amount.clone()
        } else {
            pick(&over.refund_amount, &base.refund_amount)
        },
        time: time.time.clone(),
        date: time.date.clone(),
        time_format: pick(&over.time_format, &time.time_format),
        merchant: pick(&over.merchant, &base.merchant),
        kind: pick(&over.kind, &base.kind),
        status: pick(&over.status, &base.status),
        fee: pick(&over.fee, &base.fee),
        currency: pick(&over.currency, &base.currency),
        carry: if over.carry.is_empty() {
            base.carry.clone()
        } else {
            over.carry.clone()
        },
    }
}

/// For a plan whose column roles are guessed (`guess_columns`), the plan
/// with the roles guessed from `table`, the explicitly set columns winning.
/// Other plans are returned unchanged.
pub fn with_guessed_columns(plan: &SidePlan, side: &str, table: &Table) -> Result<SidePlan, String> {
    let Some(explicit) = &plan.guess_columns else {
        return Ok(plan.clone());
    };
    let guessed = guessed_columns(table).ok_or_else(|| {
        format!(
            "no amount column recognised in the header on line {} ({}): set the columns in the rule file's [{side}.columns]",
            table.header_line,
            table.header.join(", ")
        )
    })?;
    let spec = overlay_columns(&guessed.to_spec(), explicit);
    let mut resolved = plan.clone();
    resolved.columns = columns(side, &spec)?;
    resolved.guess_columns = None;
    Ok(resolved)
}

/// Default reading settings, times in `zone`, with every column role
/// guessed from the header when the file is read.
pub fn all_guessed(zone: Tz) -> SidePlan {
    SidePlan {
        encoding: EncodingChoice::Auto,
        delimiter: None,
        header_line: None,
        zone,
        amount_decimals: None,
        flip_sign: false,
        columns: placeholder_columns(),
        values: default_values(),
        status: default_status_words(),
        cleaners: Vec::new(),
        profile: None,
        header: None,
        currency: Currency::CNY,
        decimal_comma: false,
        guess_columns: Some(ColumnSpec::default()),
    }
}

/// Column roles to be filled in later (guessed from a header).
pub fn placeholder_columns() -> ColumnPlan {
    ColumnPlan {
        key: None,
        amount: AmountColumns::Single {
            amount: String::new(),
            direction: None,
        },
        time: TimeColumns::None,
        time_layout: TimeLayout::Auto,
        merchant: None,
        kind: None,
        status: None,
        refund_amount: None,
        fee: None,
        currency: None,
        carry: Vec::new(),
    }
}

/// Checks a `[*.columns]` mapping and resolves it into column roles.
pub fn columns(side: &str, c: &ColumnSpec) -> Result<ColumnPlan, String> {
    let what = format!("[{side}.columns]");
    let amount = match (&c.amount, &c.debit, &c.credit) {
        (Some(amount), None, None) => AmountColumns::Single {
            amount: amount.clone(),
            direction: c.direction.clone(),
        },
        (None, Some(debit), Some(credit)) => {
            if c.direction.is_some() {
                return Err(format!(
                    "{what}: direction does not apply with debit and credit columns"
                ));
            }
            AmountColumns::DebitCredit {
                debit: debit.clone(),
                credit: credit.clone(),
            }
        }
        (Some(_), _, _) => return Err(format!("{what}: set either amount or debit + credit, not both")),
        _ => {
            return Err(format!(
                "{what}: no amount column: set amount = \"…\" or both debit = \"…\" and credit = \"…\""
            ))
        }
    };
    let time = match (&c.date, &c.time) {
        (None, None) => TimeColumns::None,
        (None, Some(t)) | (Some(t), None) => TimeColumns::One(t.clone()),
        (Some(d), Some(t)) => TimeColumns::DateAndTime {
            date: d.clone(),
            time: t.clone(),
        },
    };
    let time_layout = match &c.time_format {
        Some(f) => TimeLayout::Format(f.clone()),
        None => TimeLayout::Auto,
    };
    // An empty name switches a profile's column off.
    let named = |n: &Option<String>| n.clone().filter(|n| !n.is_empty());
    let fee = named(&c.fee);
    let mut carry = c.carry.clone();
    if let Some(fee) = fee.as_ref().filter(|f| !carry.contains(f)) {
        carry.push(fee.clone());
    }
    Ok(ColumnPlan {
        key: named(&c.key),
        amount,
        time,
        time_layout,
        merchant: named(&c.merchant),
        kind: named(&c.kind),
        status: named(&c.status),
        refund_amount: c.refund_amount.clone(),
        fee,
        currency: named(&c.currency),
        carry,
    })
}

fn words(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// The direction and type words used when a rule file names none.
pub fn default_values() -> ValueWords {
    ValueWords {
        income: words(&[
            "收入", "收", "贷", "贷方", "入账", "来账", "income", "credit", "CR", "in",
        ]),
        expense: words(&[
            "支出", "支", "借", "借方", "出账", "往账", "expense", "debit", "DR", "out",
        ]),
        neutral: words(&["不计收支", "中性交易", "/"]),
        refund: words(&["退款", "冲正", "撤销", "退货", "refund", "reversal"]),
    }
}

/// The status words used when a rule file or profile names none.
pub fn default_status_words() -> StatusWords {
    StatusWords {
        success: words(&[
            "交易成功",
            "支付成功",
            "已收钱",
            "已收款",
            "已到账",
            "已存入零钱",
            "已转账",
            "朋友已收钱",
            "提现已到账",
            "充值完成",
            "充值成功",
            "还款成功",
            "SUCCESS",
        ]),
        refund: words(&["退款成功", "已全额退款", "REFUND"]),
        ignore: words(&[
            "交易关闭",
            "已关闭",
            "支付失败",
            "还款失败",
            "等待付款",
            "对方已退还",
            "已退还",
            "REVOKED",
        ]),
    }
}
