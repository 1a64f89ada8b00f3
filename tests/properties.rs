//! Property tests: random days of ledger and statement rows (keys that
//! collide or are blank, split payments, refunds, double submissions, fees at
//! the tolerance edge, amounts at the thresholds, times across midnight and
//! in two time zones), written as real files in varied shapes (UTF-8 or GBK,
//! CRLF, preamble and trailer, thousands separators) and run through the real
//! binary. The properties:
//!
//! - conservation: every generated row is in exactly one output, with its
//!   key, amount and instant intact, and the summary proves it per side;
//! - soundness: every match meets its stage's conditions;
//! - determinism: byte-identical results for 1, 2 and 8 threads, and the same
//!   results (apart from line numbers) for the rows in another order;
//! - round trip: `recon convert` output reads back as the same records.
//!
//! Each property runs 32 cases (seconds on two cores); set
//! `PROPTEST_CASES=500` for a longer search. A failing case is shrunk and
//! kept in tests/properties.proptest-regressions, and its minimal form is
//! added below as a plain regression test.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::str::FromStr;

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, Utc};
use proptest::prelude::*;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;

use common::{data, recon};

/// Midnight starting the business day 2026-11-24 in Asia/Shanghai, in UTC.
fn day_start() -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2026, 11, 23)
        .unwrap()
        .and_hms_opt(16, 0, 0)
        .unwrap()
}

/// The rule file every property runs with (a pinned copy of rules/default.toml).
fn rules() -> PathBuf {
    data("properties/rules.toml")
}

// ------------------------------------------------------------ generation

/// How one business event shows up in the two files.
#[derive(Debug, Clone)]
enum Shape {
    /// One row each side, same amount.
    Exact,
    /// The bank is short by `bps` basis points (0.6% = 60 is the fee stage's edge).
    Fee(i64),
    /// One row on one side, `parts` rows summing to it on the other.
    Split { parts: usize, on_bank: bool },
    /// A refund on both sides.
    Refund,
    /// Only in the ledger.
    LedgerOnly,
    /// Only in the statement.
    BankOnly,
    /// The statement does not echo the key.
    BlankBankKey,
    /// Submitted twice in the ledger.
    DuplicateLedger,
    /// Reported twice by the bank.
    DuplicateBank,
    /// The bank amount differs by this many cents.
    Mismatch(i64),
}

/// One business event.
#[derive(Debug, Clone)]
struct Event {
    /// 0 is a blank key; small numbers collide across events.
    key: u8,
    merchant: u8,
    cents: i64,
    /// Seconds after the business day's start (may pass midnight).
    at: i64,
    /// Seconds from the ledger's time to the bank's.
    delay: i64,
    shape: Shape,
}

/// One row of either file, as generated.
#[derive(Debug, Clone, PartialEq)]
struct Row {
    key: String,
    merchant: String,
    /// Signed: refunds negative.
    cents: i64,
    /// Absolute instant (UTC).
    at: NaiveDateTime,
    memo: String,
}

/// How the files are written.
#[derive(Debug, Clone)]
struct Layout {
    bank_gbk: bool,
    crlf: bool,
    ledger_bom: bool,
    bank_preamble: bool,
    bank_trailer: bool,
    /// 0 plain `1234.50`, 1 `"1,234.50"`, 2 `￥1234.50`.
    money: u8,
    backtick_keys: bool,
}

#[derive(Debug, Clone)]
struct Day {
    ledger: Vec<Row>,
    bank: Vec<Row>,
    layout: Layout,
}

fn shape() -> impl Strategy<Value = Shape> {
    prop_oneof![
        4 => Just(Shape::Exact),
        2 => (55i64..=65).prop_map(Shape::Fee),
        2 => (2usize..=4, any::<bool>()).prop_map(|(parts, on_bank)| Shape::Split { parts, on_bank }),
        2 => Just(Shape::Refund),
        1 => Just(Shape::LedgerOnly),
        1 => Just(Shape::BankOnly),
        2 => Just(Shape::BlankBankKey),
        1 => Just(Shape::DuplicateLedger),
        1 => Just(Shape::DuplicateBank),
        1 => prop_oneof![Just(1i64), Just(-1), 2i64..5000].prop_map(Shape::Mismatch),
    ]
}

fn cents() -> impl Strategy<Value = i64> {
    prop_oneof![
        3 => 1i64..2_000_000,
        // The thresholds (ignore_below 1.00, review_above 5000.00) and round numbers.
        1 => prop::sample::select(vec![1i64, 99, 100, 101, 10_000, 499_999, 500_000, 500_001]),
    ]
}

fn moment() -> impl Strategy<Value = i64> {
    prop_oneof![
        0i64..86_400,
        // Across midnight, and a few instants shared by many rows (ties).
        86_100i64..86_700,
        prop::sample::select(vec![36_000i64, 36_060, 86_390]),
    ]
}

fn event() -> impl Strategy<Value = Event> {
    (
        0u8..12,
        0u8..3,
        cents(),
        moment(),
        prop_oneof![0i64..=130, prop::sample::select(vec![0i64, 60, 120, 121])],
        shape(),
    )
        .prop_map(|(key, merchant, cents, at, delay, shape)| Event {
            key,
            merchant,
            cents,
            at,
            delay,
            shape,
        })
}

fn layout() -> impl Strategy<Value = Layout> {
    (any::<[bool; 6]>(), 0u8..3).prop_map(|(b, money)| Layout {
        bank_gbk: b[0],
        crlf: b[1],
        ledger_bom: b[2],
        bank_preamble: b[3],
        bank_trailer: b[4],
        money,
        backtick_keys: b[5],
    })
}

fn day() -> impl Strategy<Value = Day> {
    (prop::collection::vec(event(), 0..28), layout()).prop_map(|(events, layout)| {
        let mut day = Day {
            ledger: Vec::new(),
            bank: Vec::new(),
            layout,
        };
        for (n, e) in events.iter().enumerate() {
            add_event(&mut day, n, e);
        }
        day
    })
}

fn add_event(day: &mut Day, n: usize, e: &Event) {
    let key = if e.key == 0 {
        String::new()
    } else {
        format!("K{:02}", e.key)
    };
    let at = day_start() + Duration::seconds(e.at);
    let row = |key: &str, cents: i64, delay: i64, memo: &str| Row {
        key: key.to_string(),
        merchant: format!("M{}", e.merchant),
        cents,
        at: at + Duration::seconds(delay),
        memo: format!("{memo}{n}"),
    };
    let (ledger, bank) = (&mut day.ledger, &mut day.bank);
    match &e.shape {
        Shape::Exact => {
            ledger.push(row(&key, e.cents, 0, "pay"));
            bank.push(row(&key, e.cents, e.delay, "pay"));
        }
        Shape::Fee(bps) => {
            ledger.push(row(&key, e.cents, 0, "pay"));
            bank.push(row(&key, e.cents - e.cents * bps / 10_000, e.delay, "fee"));
        }
        Shape::Split { parts, on_bank } => {
            let parts = (*parts).min(e.cents as usize).max(1);
            let part = e.cents / parts as i64;
            let pieces: Vec<i64> = (0..parts)
                .map(|i| {
                    if i + 1 == parts {
                        e.cents - part * (parts as i64 - 1)
                    } else {
                        part
                    }
                })
                .collect();
            let (whole, split) = if *on_bank { (ledger, bank) } else { (bank, ledger) };
            whole.push(row(&key, e.cents, 0, "whole"));
            for (i, p) in pieces.iter().enumerate() {
                split.push(row(&key, *p, e.delay + i as i64, "part"));
            }
        }
        Shape::Refund => {
            ledger.push(row(&key, -e.cents, 0, "refund"));
            bank.push(row(&key, -e.cents, e.delay, "refund"));
        }
        Shape::LedgerOnly => ledger.push(row(&key, e.cents, 0, "alone")),
        Shape::BankOnly => bank.push(row(&key, e.cents, e.delay, "alone")),
        Shape::BlankBankKey => {
            ledger.push(row(&key, e.cents, 0, "pay"));
            bank.push(row("", e.cents, e.delay, "nokey"));
        }
        Shape::DuplicateLedger => {
            ledger.push(row(&key, e.cents, 0, "pay"));
            ledger.push(row(&key, e.cents, 30, "again"));
            bank.push(row(&key, e.cents, e.delay, "pay"));
        }
        Shape::DuplicateBank => {
            ledger.push(row(&key, e.cents, 0, "pay"));
            bank.push(row(&key, e.cents, e.delay, "pay"));
            bank.push(row(&key, e.cents, e.delay + 40, "again"));
        }
        Shape::Mismatch(d) => {
            ledger.push(row(&key, e.cents, 0, "pay"));
            bank.push(row(&key, (e.cents + d).max(1), e.delay, "off"));
        }
    }
}

// -------------------------------------------------------------- writing

fn money(cents: i64, style: u8) -> String {
    let plain = format!("{}.{:02}", cents.abs() / 100, cents.abs() % 100);
    match style {
        1 => {
            let whole = (cents.abs() / 100).to_string();
            let mut grouped = String::new();
            for (i, c) in whole.chars().enumerate() {
                if i > 0 && (whole.len() - i).is_multiple_of(3) {
                    grouped.push(',');
                }
                grouped.push(c);
            }
            format!("\"{grouped}.{:02}\"", cents.abs() % 100)
        }
        2 => format!("￥{plain}"),
        _ => plain,
    }
}

/// The files of a day, and the physical line of each generated row.
struct Written {
    ledger: PathBuf,
    bank: PathBuf,
    ledger_lines: Vec<u64>,
    bank_lines: Vec<u64>,
}

fn write_day(dir: &Path, day: &Day) -> Written {
    let l = &day.layout;
    let eol = if l.crlf { "\r\n" } else { "\n" };
    let mut ledger = String::new();
    if l.ledger_bom {
        ledger.push('\u{feff}');
    }
    ledger.push_str("订单号,商户号,缴费类型,金额,支付时间,户号,付款账号");
    ledger.push_str(eol);
    let mut ledger_lines = Vec::new();
    for (i, r) in day.ledger.iter().enumerate() {
        let local = r.at + Duration::hours(8);
        let kind = if r.cents < 0 { "退款" } else { "水费" };
        ledger.push_str(&format!(
            "{},{},{kind},{},{},H-{},{}{eol}",
            r.key,
            r.merchant,
            money(r.cents, l.money),
            local.format("%Y-%m-%d %H:%M:%S"),
            r.memo,
            r.memo
        ));
        ledger_lines.push(i as u64 + 2);
    }
    let mut bank = String::new();
    let mut line = 1;
    if l.bank_preamble {
        bank.push_str(&format!(
            "XX银行对账单{eol}账号：6217000099990000,户名：收费平台{eol}{eol}"
        ));
        line += 3;
    }
    bank.push_str(&format!(
        "交易时间(UTC),商户订单号,商户号,借方金额,贷方金额,余额,摘要{eol}"
    ));
    let mut bank_lines = Vec::new();
    for r in &day.bank {
        line += 1;
        let key = if l.backtick_keys && !r.key.is_empty() {
            format!("`{}", r.key)
        } else {
            r.key.clone()
        };
        let (debit, credit) = if r.cents < 0 {
            (money(r.cents, l.money), String::new())
        } else {
            (String::new(), money(r.cents, l.money))
        };
        bank.push_str(&format!(
            "{},{key},{},{debit},{credit},,{}{eol}",
            r.at.format("%Y-%m-%d %H:%M:%S"),
            r.merchant,
            r.memo
        ));
        bank_lines.push(line);
    }
    if l.bank_trailer {
        bank.push_str(&format!("合计,,,,,,{eol}共{}笔,,,,,,{eol}", day.bank.len()));
    }
    let ledger_path = dir.join("ledger.csv");
    let bank_path = dir.join("bank.csv");
    std::fs::write(&ledger_path, ledger).unwrap();
    let bank_bytes = if l.bank_gbk {
        encoding_rs::GBK.encode(&bank).0.into_owned()
    } else {
        bank.into_bytes()
    };
    std::fs::write(&bank_path, bank_bytes).unwrap();
    Written {
        ledger: ledger_path,
        bank: bank_path,
        ledger_lines,
        bank_lines,
    }
}

// -------------------------------------------------------------- running

fn run(w: &Written, out: &Path, threads: &str) -> Output {
    run_with(w, out, threads, &[])
}

fn run_with(w: &Written, out: &Path, threads: &str, extra: &[&str]) -> Output {
    common::run(&w.ledger, &w.bank, rules(), out)
        .env("RAYON_NUM_THREADS", threads)
        .args(extra)
        .output()
        .unwrap()
}

/// The dated run's guard rail: a file none of whose rows falls in the day (exit 2).
fn refused_for_the_day(output: &Output) -> bool {
    output.status.code() == Some(2)
        && String::from_utf8_lossy(&output.stderr).contains("falls in business day 2026-11-24")
}

fn assert_ran(output: &Output) {
    assert!(
        matches!(output.status.code(), Some(0 | 1)),
        "run failed ({:?}): {}",
        output.status.code(),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The result CSVs a run writes (rejected.csv only appears with bad rows).
const RESULTS: [&str; 6] = [
    "matched.csv",
    "unmatched.csv",
    "duplicates.csv",
    "ignored.csv",
    "pending.csv",
    "out_of_period.csv",
];

type CsvRow = BTreeMap<String, String>;

fn rows_of(dir: &Path, file: &str) -> Vec<CsvRow> {
    let path = dir.join(file);
    if !path.exists() {
        return Vec::new();
    }
    common::rows(&path)
}

fn decimal(text: &str) -> Decimal {
    Decimal::from_str(text).unwrap_or_else(|_| panic!("not a decimal: {text:?}"))
}

fn instant(text: &str) -> NaiveDateTime {
    DateTime::parse_from_rfc3339(text)
        .unwrap_or_else(|_| panic!("not a time: {text:?}"))
        .with_timezone(&Utc)
        .naive_utc()
}

fn cents_of(text: &str) -> i64 {
    let d = decimal(text) * Decimal::ONE_HUNDRED;
    assert!(d.fract().is_zero(), "more than two decimals: {text}");
    d.to_i64().unwrap()
}

// ---------------------------------------------------------- properties

/// Every generated row is in exactly one output, with its values; the
/// summary's conservation proof agrees.
fn check_conservation(day: &Day, w: &Written, out: &Path) {
    let mut seen: BTreeMap<(String, u64), (String, CsvRow)> = BTreeMap::new();
    for file in RESULTS.iter().chain(&["rejected.csv"]) {
        for row in rows_of(out, file) {
            let id = (row["side"].clone(), row["line"].parse::<u64>().unwrap());
            if let Some((first, _)) = seen.insert(id.clone(), (file.to_string(), row)) {
                panic!("{id:?} is in both {first} and {file}");
            }
        }
    }
    let mut expected = 0;
    for (side, rows, lines) in [
        ("ledger", &day.ledger, &w.ledger_lines),
        ("bank", &day.bank, &w.bank_lines),
    ] {
        let mut sum = 0;
        for (r, line) in rows.iter().zip(lines) {
            let (file, got) = seen
                .get(&(side.to_string(), *line))
                .unwrap_or_else(|| panic!("{side}:{line} ({r:?}) is in no output"));
            assert_eq!(got["key"], r.key, "{side}:{line} in {file}: key");
            assert_eq!(got["merchant"], r.merchant, "{side}:{line} in {file}: merchant");
            assert_eq!(
                cents_of(&got["amount"]),
                r.cents,
                "{side}:{line} in {file}: amount"
            );
            assert_eq!(instant(&got["time"]), r.at, "{side}:{line} in {file}: time");
            sum += r.cents;
        }
        expected += rows.len();
        let summary = common::summary(out);
        let proof = &summary["conservation"][side];
        assert_eq!(proof["holds"], true, "{side}: {proof}");
        assert_eq!(proof["input"]["count"], rows.len(), "{side}: {proof}");
        assert_eq!(
            decimal(proof["input"]["amount"].as_str().unwrap()),
            Decimal::new(sum, 2),
            "{side}: {proof}"
        );
    }
    assert_eq!(seen.len(), expected, "outputs hold rows that were never written");
}

/// Every match meets its stage's conditions (tests/data/properties/rules.toml).
fn check_soundness(out: &Path) {
    let mut matches: BTreeMap<String, Vec<CsvRow>> = BTreeMap::new();
    for row in rows_of(out, "matched.csv") {
        matches.entry(row["match_id"].clone()).or_default().push(row);
    }
    for (id, rows) in &matches {
        let side = |s: &'static str| rows.iter().filter(move |r| r["side"] == s);
        let sum = |s: &'static str| side(s).map(|r| decimal(&r["amount"])).sum::<Decimal>();
        let (ledger, bank) = (side("ledger").count(), side("bank").count());
        let stage = rows[0]["stage"].as_str();
        let context = format!("{id} ({stage}): {rows:?}");
        assert!(rows.iter().all(|r| r["stage"] == stage), "{context}");
        assert!(ledger >= 1 && bank >= 1, "{context}");
        let outflow = decimal(&rows[0]["amount"]).is_sign_negative();
        assert!(
            rows.iter()
                .all(|r| decimal(&r["amount"]).is_sign_negative() == outflow),
            "payments and refunds netted: {context}"
        );
        let (l, b) = (sum("ledger"), sum("bank"));
        for r in rows {
            assert_eq!(decimal(&r["difference"]), l - b, "difference: {context}");
        }
        let largest = rows.iter().map(|r| decimal(&r["amount"]).abs()).max().unwrap();
        let large = largest >= decimal("5000.00");
        let reason = &rows[0]["review_reason"];
        assert_eq!(
            large,
            reason.contains("at or above review_above 5000.00"),
            "review: {context}"
        );
        let review = (!reason.is_empty()).to_string();
        assert!(
            rows.iter()
                .all(|r| r["review"] == review && &r["review_reason"] == reason),
            "review: {context}"
        );
        let same_key = rows
            .iter()
            .all(|r| !r["key"].is_empty() && r["key"] == rows[0]["key"]);
        match stage {
            "order-id" => {
                assert!(ledger == 1 && bank == 1 && same_key && l == b, "{context}");
            }
            "order-id-fee" => {
                let limit = l.abs() * decimal("0.6") / Decimal::ONE_HUNDRED;
                assert!(
                    ledger == 1 && bank == 1 && same_key && (l - b).abs() <= limit,
                    "{context}"
                );
            }
            "split" => {
                assert!(ledger + bank >= 3 && ledger <= 10 && bank <= 10, "{context}");
                assert!(same_key && (l - b).abs() <= decimal("0.01"), "{context}");
            }
            "merchant-amount-time" => {
                let (lr, br) = (side("ledger").next().unwrap(), side("bank").next().unwrap());
                assert!(ledger == 1 && bank == 1 && l == b, "{context}");
                assert!(
                    !lr["merchant"].is_empty() && lr["merchant"] == br["merchant"],
                    "{context}"
                );
                let keys_agree = lr["key"].is_empty() || br["key"].is_empty() || lr["key"] == br["key"];
                assert!(keys_agree, "{context}");
                let gap = instant(&br["time"]) - instant(&lr["time"]);
                assert!(
                    gap >= Duration::zero() && gap <= Duration::seconds(120),
                    "{context}"
                );
            }
            other => panic!("unknown stage {other}: {context}"),
        }
    }
    for row in rows_of(out, "ignored.csv") {
        assert!(
            decimal(&row["amount"]).abs() < decimal("1.00"),
            "ignored: {row:?}"
        );
    }
}

/// Lines that name the run itself (its id and clock times), in summary.json
/// and report.html: the only bytes two runs of the same inputs may differ in.
const RUN_LINES: [&str; 7] = [
    "\"started_at\"",
    "\"finished_at\"",
    "\"run_id\"",
    " · Run: ",
    "\"audit_log\"",
    "\"audit_started_line\"",
    "\"audit_started_sha256\"",
];

/// Everything a run wrote, with the lines that name the run left out.
fn result_bytes(out: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(out)
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path();
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            let mut bytes = std::fs::read(&p).unwrap();
            if name == "summary.json" || name == "report.html" {
                let text = String::from_utf8(bytes).unwrap();
                bytes = text
                    .lines()
                    .filter(|l| !RUN_LINES.iter().any(|k| l.contains(k)))
                    .collect::<Vec<_>>()
                    .join("\n")
                    .into_bytes();
            }
            (name, bytes)
        })
        .collect();
    files.sort();
    files
}

/// The results as content: rows without their line numbers and the
/// references made of them, matches as sets of rows, in a fixed order.
fn canonical(out: &Path) -> BTreeMap<String, Vec<String>> {
    let hide_refs = |text: &str| {
        let mut s = String::new();
        let mut rest = text;
        while let Some(at) = rest.find(|c: char| c.is_ascii_digit()) {
            let (head, tail) = rest.split_at(at);
            s.push_str(head);
            let digits = tail.len() - tail.trim_start_matches(|c: char| c.is_ascii_digit()).len();
            if head.ends_with("ledger:") || head.ends_with("bank:") {
                s.push('#');
            } else {
                s.push_str(&tail[..digits]);
            }
            rest = &tail[digits..];
        }
        s.push_str(rest);
        s
    };
    let text_of = |row: &CsvRow| {
        row.iter()
            .filter(|(k, _)| !matches!(k.as_str(), "line" | "match_id" | "counterpart" | "duplicate_of"))
            .map(|(k, v)| format!("{k}={}", hide_refs(v)))
            .collect::<Vec<_>>()
            .join("|")
    };
    let mut content = BTreeMap::new();
    for file in RESULTS {
        let rows = rows_of(out, file);
        let mut items: Vec<String> = if file == "matched.csv" {
            let mut groups: BTreeMap<&str, Vec<String>> = BTreeMap::new();
            for row in &rows {
                groups.entry(&row["match_id"]).or_default().push(text_of(row));
            }
            groups
                .into_values()
                .map(|mut g| {
                    g.sort();
                    g.join(" + ")
                })
                .collect()
        } else {
            rows.iter().map(text_of).collect()
        };
        items.sort();
        content.insert(file.to_string(), items);
    }
    content
}

/// The day with both files' rows in another order (`seed` picks it).
fn shuffled(day: &Day, seed: u64) -> Day {
    let mut state = seed | 1;
    let mut next = move |n: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % n as u64) as usize
    };
    let mut shuffle = |rows: &[Row]| {
        let mut rows = rows.to_vec();
        for i in (1..rows.len()).rev() {
            rows.swap(i, next(i + 1));
        }
        rows
    };
    Day {
        ledger: shuffle(&day.ledger),
        bank: shuffle(&day.bank),
        layout: day.layout.clone(),
    }
}

fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(32);
    ProptestConfig {
        cases,
        max_shrink_time: 120_000,
        ..ProptestConfig::default()
    }
}

/// Conservation and soundness for the whole files, and for business day
/// 2026-11-24 (rows after midnight, out of period or pending included).
fn conserved_and_sound(day: &Day) {
    let tmp = tempfile::tempdir().unwrap();
    let written = write_day(tmp.path(), day);
    for (name, extra) in [("all", &[][..]), ("day", &["--date", "2026-11-24"][..])] {
        let out = tmp.path().join(name);
        let ran = run_with(&written, &out, "2", extra);
        if refused_for_the_day(&ran) {
            // A side none of whose rows is the day's: refused, nothing written.
            assert!(!out.exists());
            continue;
        }
        assert_ran(&ran);
        check_conservation(day, &written, &out);
        check_soundness(&out);
    }
}

fn same_for_any_thread_count(day: &Day) {
    let tmp = tempfile::tempdir().unwrap();
    let written = write_day(tmp.path(), day);
    let results: Vec<_> = ["1", "2", "8"]
        .iter()
        .map(|threads| {
            let out = tmp.path().join(format!("out{threads}"));
            assert_ran(&run(&written, &out, threads));
            result_bytes(&out)
        })
        .collect();
    for (other, threads) in [(1, 2), (2, 8)] {
        for ((name, one), (_, many)) in results[0].iter().zip(&results[other]) {
            assert!(one == many, "{name} differs between 1 and {threads} threads");
        }
        assert_eq!(results[0].len(), results[other].len());
    }
}

fn same_for_any_row_order(day: &Day, seed: u64) {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    std::fs::create_dir_all(&a).unwrap();
    std::fs::create_dir_all(&b).unwrap();
    let original = write_day(&a, day);
    let reordered = write_day(&b, &shuffled(day, seed));
    assert_ran(&run(&original, &a.join("out"), "2"));
    assert_ran(&run(&reordered, &b.join("out"), "2"));
    let (before, after) = (canonical(&a.join("out")), canonical(&b.join("out")));
    for (file, rows) in &before {
        let only_before: Vec<_> = rows.iter().filter(|r| !after[file].contains(r)).collect();
        let only_after: Vec<_> = after[file].iter().filter(|r| !rows.contains(r)).collect();
        assert!(
            only_before.is_empty() && only_after.is_empty(),
            "{file} differs in another row order:\n  before: {only_before:#?}\n  after: {only_after:#?}"
        );
    }
}

fn convert(file: &Path, side: &str, to: &Path) -> Vec<CsvRow> {
    let done = recon()
        .arg("convert")
        .arg(file)
        .args(["--rules"])
        .arg(rules())
        .args(["--side", side, "-o"])
        .arg(to)
        .output()
        .unwrap();
    assert_eq!(
        done.status.code(),
        Some(0),
        "convert {}: {}",
        file.display(),
        String::from_utf8_lossy(&done.stderr)
    );
    let mut reader = csv::Reader::from_path(to).unwrap();
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            // A converted file converted again has recon_amount twice: keep the last.
            header.iter().cloned().zip(r.iter().map(String::from)).collect()
        })
        .collect()
}

fn converts_round_trip(day: &Day) {
    let tmp = tempfile::tempdir().unwrap();
    let written = write_day(tmp.path(), day);
    for (side, file, rows, key_column, time_column) in [
        ("ledger", &written.ledger, &day.ledger, "订单号", "支付时间"),
        ("bank", &written.bank, &day.bank, "商户订单号", "交易时间(UTC)"),
    ] {
        let once = convert(file, side, &tmp.path().join(format!("{side}.1.csv")));
        assert_eq!(once.len(), rows.len(), "{side}: rows");
        for (got, r) in once.iter().zip(rows) {
            assert_eq!(got[key_column], r.key, "{side}: key");
            assert_eq!(cents_of(&got["recon_amount"]), r.cents, "{side}: {got:?}");
            assert_eq!(instant(&got["recon_time"]), r.at, "{side}: {got:?}");
            assert!(!got[time_column].is_empty());
        }
        let twice = convert(
            &tmp.path().join(format!("{side}.1.csv")),
            side,
            &tmp.path().join(format!("{side}.2.csv")),
        );
        assert_eq!(
            once, twice,
            "{side}: converting the converted file changed its records"
        );
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn every_row_lands_once_and_every_match_is_sound(day in day()) {
        conserved_and_sound(&day);
    }

    #[test]
    fn results_do_not_depend_on_thread_count(day in day()) {
        same_for_any_thread_count(&day);
    }

    #[test]
    fn results_do_not_depend_on_row_order(day in day(), seed in any::<u64>()) {
        same_for_any_row_order(&day, seed);
    }

    #[test]
    fn convert_output_reads_back_as_the_same_records(day in day()) {
        converts_round_trip(&day);
    }
}

// ------------------------------------------------- minimized regressions

fn plain_layout() -> Layout {
    Layout {
        bank_gbk: false,
        crlf: false,
        ledger_bom: false,
        bank_preamble: false,
        bank_trailer: false,
        money: 0,
        backtick_keys: false,
    }
}

/// Found by `results_do_not_depend_on_row_order`: rows equal in everything
/// the stages compare but their carried columns were paired by line, so
/// reordering the file paired other rows.
#[test]
fn rows_that_tie_pair_by_content_not_by_line() {
    let row = |memo: &str| Row {
        key: String::new(),
        merchant: "M0".into(),
        cents: 1,
        at: day_start(),
        memo: memo.into(),
    };
    let memos = ["pay0", "pay1", "pay2", "pay3", "pay4", "pay5"];
    let day = Day {
        ledger: memos.map(row).to_vec(),
        bank: memos.map(row).to_vec(),
        layout: plain_layout(),
    };
    same_for_any_row_order(&day, 9_694_803_467_016_958_516);
}

/// Found by `results_do_not_depend_on_row_order` after the likely-cause
/// column arrived: of more than five rows with the key, the first five by
/// line were named as counterparts, so the row order decided which amount a
/// mismatch was explained against. The closest ones are named now.
#[test]
fn a_mismatch_names_its_closest_counterparts() {
    let row = |cents: i64, minute: i64| Row {
        key: "K05".into(),
        merchant: "M1".into(),
        cents,
        at: day_start() + Duration::minutes(minute),
        memo: format!("pay{cents}"),
    };
    let day = Day {
        ledger: [10_000, 20_000, 30_000, 40_000, 50_000, 100_000]
            .iter()
            .enumerate()
            .map(|(i, &c)| row(c, i as i64))
            .collect(),
        bank: vec![row(99_000, 5)],
        layout: plain_layout(),
    };
    let tmp = tempfile::tempdir().unwrap();
    let written = write_day(tmp.path(), &day);
    let out = tmp.path().join("out");
    assert_ran(&run(&written, &out, "2"));
    let bank: Vec<CsvRow> = rows_of(&out, "unmatched.csv")
        .into_iter()
        .filter(|r| r["side"] == "bank")
        .collect();
    assert_eq!(bank.len(), 1);
    assert_eq!(
        bank[0]["counterpart"],
        "ledger:3 ledger:4 ledger:5 ledger:6 ledger:7"
    );
    assert!(
        bank[0]["likely_cause"].contains("10.00 lower: looks like a channel fee"),
        "{:?}",
        bank[0]
    );
    same_for_any_row_order(&day, 7);
}
