//! Guessing column roles from header names (Chinese and English) and sample
//! values, for `recon check` on a file that has no rule file yet, the
//! `generic-bank` profile and `recon rules init`.

use super::amount::parse_amount;
use super::field::{clean_field, is_placeholder};
use super::plan::{
    default_status_words, default_values, AmountColumns, ColumnPlan, StatusClass, TimeColumns,
};
use super::table::Table;
use super::time::{parse_time, TimeLayout};

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
    "发生金额",
    "金额",
    "发生额",
    "成交额",
    "amount",
    "billing amount",
    "transaction amount",
    "betrag",
    "umsatz",
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
    "buchungstag",
    "buchungsdatum",
    "datum",
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
    "auftraggeber",
    "begünstigter",
    "empfänger",
];
/// Header words of a column holding a refund row's amount apart from the
/// payment amount (merchant bills: a REFUND row has 应结订单金额 0.00 and
/// its amount in 退款金额).
const REFUND_AMOUNT_WORDS: &[&str] = &["退款金额", "refund amount", "refund_amount", "refunded amount"];
/// Header words of a status column (SUCCESS / REFUND / REVOKED, 交易成功, …).
const STATUS_WORDS: &[&str] = &[
    "交易状态",
    "当前状态",
    "订单状态",
    "状态",
    "transaction status",
    "status",
];
/// Header words of a channel fee column.
const FEE_WORDS: &[&str] = &["手续费", "服务费", "fee", "fees", "commission"];
/// Header words of a currency column (`Original currency` and the like name
/// another currency than the amount's, so `original` columns are left alone).
const CURRENCY_WORDS: &[&str] = &["币种", "货币", "currency", "curr", "währung", "ccy"];
/// Pairs of (money out, money in) column words, compared with the header
/// names as written and with a currency mark after them taken off
/// (`Debit CHF`, `支出(元)`).
const DEBIT_CREDIT_WORDS: &[(&str, &str)] = &[
    ("交易金额(支出)", "交易金额(收入)"),
    ("记账金额(支出)", "记账金额(收入)"),
    ("支出金额", "收入金额"),
    ("取出金额", "存入金额"),
    ("支取金额", "存入金额"),
    ("支出金额", "存入金额"),
    ("付款金额", "收款金额"),
    ("借方金额", "贷方金额"),
    ("借方发生额", "贷方发生额"),
    ("借方发生金额", "贷方发生金额"),
    ("支出", "收入"),
    ("支出", "存入"),
    ("取出", "存入"),
    ("借方", "贷方"),
    ("debit", "credit"),
    ("debits", "credits"),
    ("debit amount", "credit amount"),
    ("withdrawal", "deposit"),
    ("withdrawals", "deposits"),
    ("withdrawal amount", "deposit amount"),
    ("money out", "money in"),
    ("paid out", "paid in"),
    ("soll", "haben"),
    ("ausgang", "eingang"),
    ("belastung", "gutschrift"),
];

/// Guesses the column roles of `table`; `None` when no amount column is recognisable.
pub fn guess_columns(table: &Table) -> Option<ColumnPlan> {
    let header = &table.header;
    let amount = guess_amount(table)?;
    let key = find(header, KEY_WORDS);
    let merchant = find(header, MERCHANT_WORDS).filter(|m| Some(m) != key.as_ref());
    let (time, time_layout) = guess_time(table);
    let currency = guess_currency(table, &amount);
    let (status, refund_amount) = guess_refunds(table, &amount).unzip();
    Some(ColumnPlan {
        key,
        amount,
        time,
        time_layout,
        merchant,
        kind: None,
        status,
        refund_amount,
        fee: None,
        currency,
        carry: Vec::new(),
    })
}

/// The currency column, when the header has one whose values are currency codes.
pub fn guess_currency(table: &Table, amount: &AmountColumns) -> Option<String> {
    let lower: Vec<String> = table.header.iter().map(|h| h.to_lowercase()).collect();
    let taken = match amount {
        AmountColumns::Single { amount, direction } => vec![Some(amount), direction.as_ref()],
        AmountColumns::DebitCredit { debit, credit } => vec![Some(debit), Some(credit)],
    };
    let fits = |i: usize| {
        let h = &lower[i];
        !h.contains("original")
            && !h.contains("原")
            && !h.contains("balance")
            && !h.contains("余额")
            && !taken.contains(&Some(&table.header[i]))
            && has_values(table, &table.header[i])
            && table
                .rows
                .iter()
                .take(SAMPLE_ROWS)
                .map(|r| clean_field(r.fields.get(i).unwrap_or("")))
                .filter(|v| !is_placeholder(v))
                .all(|v| super::amount::currency_code(v).is_some())
    };
    CURRENCY_WORDS
        .iter()
        .find_map(|w| (0..lower.len()).find(|&i| lower[i] == *w && fits(i)))
        .or_else(|| {
            CURRENCY_WORDS
                .iter()
                .find_map(|w| (0..lower.len()).find(|&i| lower[i].contains(w) && fits(i)))
        })
        .map(|i| table.header[i].clone())
}

/// A status column and the column holding refund amounts, when the header
/// has both and the status values (all of them in the default status lists)
/// include refunds: each refund row is then read from the refund amount
/// column, as the merchant-bill profiles do, instead of its payment amount
/// (0.00 on such a row).
fn guess_refunds(table: &Table, amount: &AmountColumns) -> Option<(String, String)> {
    let AmountColumns::Single { amount, .. } = amount else {
        return None;
    };
    let refund_amount = candidates(&table.header, REFUND_AMOUNT_WORDS)
        .into_iter()
        .find(|c| c != amount && has_values(table, c))?;
    let words = default_status_words();
    let status = candidates(&table.header, STATUS_WORDS).into_iter().find(|c| {
        let Some(i) = table.header.iter().position(|h| h == c) else {
            return false;
        };
        let classes: Vec<StatusClass> = table
            .rows
            .iter()
            .take(SAMPLE_ROWS)
            .map(|r| clean_field(r.fields.get(i).unwrap_or("")))
            .filter(|v| !is_placeholder(v))
            .map(|v| words.classify(v))
            .collect();
        classes.contains(&StatusClass::Refund) && !classes.contains(&StatusClass::Unknown)
    })?;
    Some((status, refund_amount))
}

/// The channel fee column: a header named like a fee (手续费, fee, …) that
/// no other role takes, whose values are amounts.
pub fn guess_fee(table: &Table, taken: &[String]) -> Option<String> {
    candidates(&table.header, FEE_WORDS)
        .into_iter()
        .filter(|c| !taken.contains(c) && !c.contains("率") && !c.to_lowercase().contains("rate"))
        .find(|c| {
            let Some(i) = table.header.iter().position(|h| h == c) else {
                return false;
            };
            let values: Vec<&str> = table
                .rows
                .iter()
                .take(SAMPLE_ROWS)
                .map(|r| clean_field(r.fields.get(i).unwrap_or("")))
                .filter(|v| !is_placeholder(v))
                .collect();
            !values.is_empty() && values.iter().all(|v| parse_amount(v, None).is_ok())
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
            let amount = match value_pair(table) {
                Some(pair) => {
                    from_values.push("debit");
                    from_values.push("credit");
                    pair
                }
                None => {
                    let amount =
                        column_where(table, |v| v.contains(['.', ',']) && parse_amount(v, None).is_ok())?;
                    from_values.push("amount");
                    AmountColumns::Single {
                        amount,
                        direction: None,
                    }
                }
            };
            ColumnPlan {
                key: find(&table.header, KEY_WORDS),
                amount,
                time: TimeColumns::None,
                time_layout: TimeLayout::Auto,
                merchant: find(&table.header, MERCHANT_WORDS),
                kind: None,
                status: None,
                refund_amount: None,
                fee: None,
                currency: None,
                carry: Vec::new(),
            }
        }
    };
    if columns.kind.is_none() {
        let refund_words = default_values().refund;
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
        let is_time = |v: &str| {
            matches!(
                parse_time(v, &TimeLayout::Auto, utc),
                Ok(_) | Err(super::time::TimeError::AmbiguousDayMonth(_))
            )
        };
        if let Some(time) = column_where(table, is_time) {
            columns.time_layout = slash_layout(table, &time);
            columns.time = TimeColumns::One(time);
            from_values.push("time");
        }
    }
    if columns.merchant.is_none() && table.headerless {
        let taken = columns.names();
        columns.merchant = column_where(table, |v| {
            v.chars().any(char::is_alphabetic) && parse_amount(v, None).is_err()
        })
        .filter(|m| !taken.contains(m));
        if columns.merchant.is_some() {
            from_values.push("merchant");
        }
    }
    Some((columns, from_values))
}

/// Two neighbouring columns of amounts where every row fills exactly one:
/// money out and money in. Which is which is read from a balance column
/// right after them (its change from row to row is in minus out); without
/// one, the first is money out, as most banks lay them out.
fn value_pair(table: &Table) -> Option<AmountColumns> {
    let cell = |r: &super::table::RawRow, i: usize| clean_field(r.fields.get(i).unwrap_or("")).to_string();
    let amount = |v: &str| -> Option<rust_decimal::Decimal> {
        (!is_placeholder(v)).then(|| parse_amount(v, None).ok()).flatten()
    };
    let rows: Vec<_> = table.rows.iter().take(SAMPLE_ROWS).collect();
    let width = table.header.len();
    let (first, second) = (0..width.saturating_sub(1)).find_map(|i| {
        let exclusive = rows.iter().all(|r| {
            let (a, b) = (cell(r, i), cell(r, i + 1));
            let (fa, fb) = (!is_placeholder(&a), !is_placeholder(&b));
            fa != fb && (!fa || amount(&a).is_some()) && (!fb || amount(&b).is_some())
        });
        let both_used = rows.iter().any(|r| !is_placeholder(&cell(r, i)))
            && rows.iter().any(|r| !is_placeholder(&cell(r, i + 1)));
        (rows.len() >= 2 && exclusive && both_used).then_some((i, i + 1))
    })?;
    let balance: Option<Vec<rust_decimal::Decimal>> =
        rows.iter().map(|r| amount(&cell(r, second + 1))).collect();
    let delta = |r: &super::table::RawRow| {
        amount(&cell(r, second)).unwrap_or_default().abs() - amount(&cell(r, first)).unwrap_or_default().abs()
    };
    let swapped = balance.is_some_and(|b| {
        b.len() >= 2
            && (1..b.len()).all(|k| b[k] - b[k - 1] == -delta(rows[k]))
            && (1..b.len()).any(|k| delta(rows[k]) != rust_decimal::Decimal::ZERO)
    });
    let name = |i: usize| table.header[i].clone();
    Some(if swapped {
        AmountColumns::DebitCredit {
            debit: name(second),
            credit: name(first),
        }
    } else {
        AmountColumns::DebitCredit {
            debit: name(first),
            credit: name(second),
        }
    })
}

/// How many rows value-based guesses look at.
const SAMPLE_ROWS: usize = 200;

/// How many rows after the header the guesses here read, at most, apart
/// from finding the first value of a column (`has_values`, `sample`): a
/// guess on these rows, plus each column's first filled row, is the guess
/// on the whole table.
pub const ROWS_READ: usize = SAMPLE_ROWS * 5;

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
    candidates(header, words).into_iter().next()
}

/// Headers equal to a word (in word order), then headers containing one;
/// balance columns never.
fn candidates(header: &[String], words: &[&str]) -> Vec<String> {
    let lower: Vec<String> = header.iter().map(|h| h.to_lowercase()).collect();
    let mut found: Vec<String> = Vec::new();
    for exact in [true, false] {
        for w in words {
            for (i, h) in lower.iter().enumerate() {
                let hit = if exact { h == w } else { h.contains(w) };
                if hit && !h.contains("余额") && !h.contains("balance") && !found.contains(&header[i]) {
                    found.push(header[i].clone());
                }
            }
        }
    }
    found
}

/// A header name without a currency mark after it: `debit chf` → `debit`,
/// `支出(元)` → `支出` (lowercase in, lowercase out).
fn without_currency(name: &str) -> &str {
    let name = name.trim();
    for (open, close) in [('(', ')'), ('（', '）')] {
        if let Some(inner) = name.strip_suffix(close).and_then(|n| n.rsplit_once(open)) {
            let (base, mark) = inner;
            let is_mark = matches!(mark, "元" | "人民币" | "rmb")
                || mark.len() == 3 && mark.bytes().all(|b| b.is_ascii_lowercase());
            if is_mark && !base.trim().is_empty() {
                return base.trim();
            }
        }
    }
    if let Some((base, mark)) = name.rsplit_once(' ') {
        if mark.len() == 3
            && mark.bytes().all(|b| b.is_ascii_lowercase())
            && super::amount::currency_code(&mark.to_ascii_uppercase()).is_some()
        {
            return base.trim();
        }
    }
    name
}

/// A debit/credit pair that holds values, else a single amount column.
fn guess_amount(table: &Table) -> Option<AmountColumns> {
    let header = &table.header;
    let exact = |w: &str| header.iter().find(|h| h.to_lowercase() == w).cloned();
    let loose = |w: &str| {
        header
            .iter()
            .find(|h| without_currency(&h.to_lowercase()) == w)
            .cloned()
    };
    for named in [&exact as &dyn Fn(&str) -> Option<String>, &loose] {
        for (out, into) in DEBIT_CREDIT_WORDS {
            if let (Some(debit), Some(credit)) = (named(out), named(into)) {
                if has_values(table, &debit) || has_values(table, &credit) {
                    return Some(AmountColumns::DebitCredit { debit, credit });
                }
            }
        }
    }
    let refund_amount = candidates(header, REFUND_AMOUNT_WORDS);
    let found: Vec<String> = candidates(header, AMOUNT_WORDS)
        .into_iter()
        .filter(|c| !refund_amount.contains(c))
        .collect();
    let amount = found
        .iter()
        .find(|c| has_values(table, c))
        .or(found.first())?
        .clone();
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
    let layout = first_column.map_or(TimeLayout::Auto, |c| slash_layout(table, &c));
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

/// `24/03/2025` (day first, as HSBC and many non-Chinese banks write) or
/// `03/24/2025` (month first): decided by the whole column, where a first
/// part above 12 means day first and a second part above 12 month first.
/// When no value decides, or the values disagree, the layout stays
/// automatic and each ambiguous value is refused with how to set `time_format`.
fn slash_layout(table: &Table, column: &str) -> TimeLayout {
    let Some(i) = table.header.iter().position(|h| h == column) else {
        return TimeLayout::Auto;
    };
    let (mut day_first, mut month_first, mut clock) = (false, false, None);
    for row in table.rows.iter().take(SAMPLE_ROWS * 5) {
        let v = clean_field(row.fields.get(i).unwrap_or(""));
        if is_placeholder(v) {
            continue;
        }
        let b = v.as_bytes();
        let slashed = b.len() >= 10
            && b[2] == b'/'
            && b[5] == b'/'
            && b[..2]
                .iter()
                .chain(&b[3..5])
                .chain(&b[6..10])
                .all(u8::is_ascii_digit);
        if !slashed {
            return TimeLayout::Auto;
        }
        let suffix = match v[10..].trim().len() {
            0 => "",
            5 => " %H:%M",
            8 => " %H:%M:%S",
            _ => return TimeLayout::Auto,
        };
        if clock.is_some_and(|c| c != suffix) {
            return TimeLayout::Auto;
        }
        clock = Some(suffix);
        day_first |= v[..2] > *"12";
        month_first |= v[3..5] > *"12";
    }
    let clock = clock.unwrap_or("");
    match (day_first, month_first) {
        (true, false) => TimeLayout::Format(format!("%d/%m/%Y{clock}")),
        (false, true) => TimeLayout::Format(format!("%m/%d/%Y{clock}")),
        _ => TimeLayout::Auto,
    }
}

/// The roles guessed from the header names, or, in a file without a
/// header row, from the values.
pub fn guessed_columns(table: &Table) -> Option<ColumnPlan> {
    if table.headerless {
        guess_columns_with_values(table).map(|(columns, _)| columns)
    } else {
        guess_columns(table)
    }
}
