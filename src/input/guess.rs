//! Guessing column roles from header names (Chinese and English) and sample
//! values, for `recon check` on a file that has no rule file yet, the
//! `generic-bank` profile and `recon rules init`.

use super::amount::parse_amount;
use super::field::{clean_field, is_placeholder};
use super::table::Table;
use super::time::{parse_time, TimeLayout};
use crate::rules::plan::{AmountColumns, ColumnPlan, TimeColumns};

/// Header words for each role, most specific first.
const KEY_WORDS: &[&str] = &[
    "商户订单号",
    "交易订单号",
    "订单号",
    "交易单号",
    "交易流水号",
    "流水号",
    "凭证号",
    "日志号",
    "order id",
    "order_id",
    "order",
    "reference",
    "transaction id",
];
const AMOUNT_WORDS: &[&str] = &[
    "交易金额",
    "金额",
    "发生额",
    "成交额",
    "amount",
    "billing amount",
    "transaction amount",
];
const DIRECTION_WORDS: &[&str] = &[
    "收/支",
    "收支",
    "收支类型",
    "借贷标志",
    "借贷",
    "资金方向",
    "direction",
];
const TIME_WORDS: &[&str] = &[
    "交易时间",
    "支付时间",
    "交易创建时间",
    "付款时间",
    "记账时间",
    "时间",
    "time",
    "datetime",
];
const DATE_WORDS: &[&str] = &[
    "交易日期",
    "记账日期",
    "日期",
    "date posted",
    "transaction date",
    "date",
];
const MERCHANT_WORDS: &[&str] = &[
    "商户号",
    "商户编号",
    "交易对方",
    "对方户名",
    "对方账户名",
    "商户名称",
    "对手信息",
    "商户",
    "对方",
    "收款方",
    "merchant",
    "counterparty",
    "payee",
    "description",
];
/// Pairs of (money out, money in) column words.
const DEBIT_CREDIT_WORDS: &[(&str, &str)] = &[
    ("交易金额(支出)", "交易金额(收入)"),
    ("记账金额(支出)", "记账金额(收入)"),
    ("支出金额", "收入金额"),
    ("借方金额", "贷方金额"),
    ("借方发生额", "贷方发生额"),
    ("支出", "收入"),
    ("借方", "贷方"),
    ("debit", "credit"),
    ("withdrawal", "deposit"),
];

/// Guesses the column roles of `table`; `None` when no amount column is recognisable.
pub fn guess_columns(table: &Table) -> Option<ColumnPlan> {
    let header = &table.header;
    let amount = guess_amount(table)?;
    let key = find(header, KEY_WORDS);
    let merchant = find(header, MERCHANT_WORDS).filter(|m| Some(m) != key.as_ref());
    let (time, time_layout) = guess_time(table);
    Some(ColumnPlan {
        key,
        amount,
        time,
        time_layout,
        merchant,
        kind: None,
        status: None,
        refund_amount: None,
        fee: None,
        carry: Vec::new(),
    })
}

/// Like `guess_columns`, but where the header names show no amount or no
/// time column, the first column whose values are amounts (with a decimal
/// point) or times is taken, and a column holding refund words (退款, 冲正,
/// refund, …) becomes the type column. Also names the roles found from the values.
pub fn guess_columns_with_values(table: &Table) -> Option<(ColumnPlan, Vec<&'static str>)> {
    let mut from_values = Vec::new();
    let mut columns = match guess_columns(table) {
        Some(columns) => columns,
        None => {
            let amount = column_where(table, |v| v.contains('.') && parse_amount(v, None).is_ok())?;
            from_values.push("amount");
            ColumnPlan {
                key: find(&table.header, KEY_WORDS),
                amount: AmountColumns::Single {
                    amount,
                    direction: None,
                },
                time: TimeColumns::None,
                time_layout: TimeLayout::Auto,
                merchant: find(&table.header, MERCHANT_WORDS),
                kind: None,
                status: None,
                refund_amount: None,
                fee: None,
                carry: Vec::new(),
            }
        }
    };
    if columns.kind.is_none() {
        let refund_words = crate::rules::plan::default_values().refund;
        let taken = columns.names();
        columns.kind = (0..table.header.len())
            .filter(|&i| !taken.contains(&table.header[i]))
            .find(|&i| {
                table.rows.iter().take(SAMPLE_ROWS).any(|r| {
                    let v = clean_field(r.fields.get(i).unwrap_or(""));
                    refund_words.iter().any(|w| w == v)
                })
            })
            .map(|i| table.header[i].clone());
        if columns.kind.is_some() {
            from_values.push("type");
        }
    }
    if columns.time == TimeColumns::None {
        let utc = chrono_tz::UTC;
        if let Some(time) = column_where(table, |v| parse_time(v, &TimeLayout::Auto, utc).is_ok()) {
            columns.time = TimeColumns::One(time);
            from_values.push("time");
        }
    }
    Some((columns, from_values))
}

/// How many rows value-based guesses look at.
const SAMPLE_ROWS: usize = 200;

/// The first column where at least 90% of the first 200 filled values pass `test`.
fn column_where(table: &Table, test: impl Fn(&str) -> bool) -> Option<String> {
    (0..table.header.len())
        .find(|&i| {
            let values: Vec<&str> = table
                .rows
                .iter()
                .map(|r| clean_field(r.fields.get(i).unwrap_or("")))
                .filter(|v| !is_placeholder(v))
                .take(SAMPLE_ROWS)
                .collect();
            let passed = values.iter().filter(|v| test(v)).count();
            !values.is_empty() && passed * 10 >= values.len() * 9
        })
        .map(|i| table.header[i].clone())
}

/// The first header that equals a word, or else the first that contains one (in word order).
fn find(header: &[String], words: &[&str]) -> Option<String> {
    let lower: Vec<String> = header.iter().map(|h| h.to_lowercase()).collect();
    let pick = |test: &dyn Fn(&str, &str) -> bool| {
        words.iter().find_map(|w| {
            lower
                .iter()
                .position(|h| test(h, w) && !h.contains("余额") && !h.contains("balance"))
                .map(|i| header[i].clone())
        })
    };
    pick(&|h, w| h == w).or_else(|| pick(&|h, w| h.contains(w)))
}

/// A debit/credit pair that holds values, else a single amount column.
fn guess_amount(table: &Table) -> Option<AmountColumns> {
    let header = &table.header;
    let exact = |w: &str| header.iter().find(|h| h.to_lowercase() == w).cloned();
    for (out, into) in DEBIT_CREDIT_WORDS {
        if let (Some(debit), Some(credit)) = (exact(out), exact(into)) {
            if has_values(table, &debit) || has_values(table, &credit) {
                return Some(AmountColumns::DebitCredit { debit, credit });
            }
        }
    }
    let amount = find(header, AMOUNT_WORDS)?;
    Some(AmountColumns::Single {
        amount,
        direction: find(header, DIRECTION_WORDS),
    })
}

/// Whether any row has a real value (not a placeholder) in `column`.
fn has_values(table: &Table, column: &str) -> bool {
    let Some(i) = table.header.iter().position(|h| h == column) else {
        return false;
    };
    table
        .rows
        .iter()
        .any(|r| !is_placeholder(clean_field(r.fields.get(i).unwrap_or(""))))
}

/// A date column and a time column, unless the time column already holds the date.
fn guess_time(table: &Table) -> (TimeColumns, TimeLayout) {
    let time = find(&table.header, TIME_WORDS);
    let date = find(&table.header, DATE_WORDS).filter(|d| Some(d) != time.as_ref());
    let columns = match (date, time) {
        (Some(d), Some(t)) if !holds_dates(table, &t) => TimeColumns::DateAndTime { date: d, time: t },
        (_, Some(t)) => TimeColumns::One(t),
        (Some(d), None) => TimeColumns::One(d),
        (None, None) => TimeColumns::None,
    };
    let first_column = match &columns {
        TimeColumns::One(c) | TimeColumns::DateAndTime { date: c, .. } => Some(c.clone()),
        TimeColumns::None => None,
    };
    let layout = first_column
        .and_then(|c| sample(table, &c))
        .map_or(TimeLayout::Auto, |s| day_first_layout(&s));
    (columns, layout)
}

fn holds_dates(table: &Table, column: &str) -> bool {
    sample(table, column).is_some_and(|s| s.chars().filter(|c| c.is_ascii_digit()).count() >= 8)
}

/// The first non-empty value of `column`.
fn sample(table: &Table, column: &str) -> Option<String> {
    let i = table.header.iter().position(|h| h == column)?;
    table
        .rows
        .iter()
        .map(|r| clean_field(r.fields.get(i).unwrap_or("")))
        .find(|v| !v.is_empty())
        .map(str::to_string)
}

/// `24/03/2025` (day first, as HSBC and many non-Chinese banks write) needs an explicit layout.
fn day_first_layout(sample: &str) -> TimeLayout {
    let b = sample.as_bytes();
    let day_first = b.len() >= 10
        && b[2] == b'/'
        && b[5] == b'/'
        && b[..2]
            .iter()
            .chain(&b[3..5])
            .chain(&b[6..10])
            .all(u8::is_ascii_digit);
    if day_first && b.len() == 10 {
        TimeLayout::Format("%d/%m/%Y".into())
    } else {
        TimeLayout::Auto
    }
}
