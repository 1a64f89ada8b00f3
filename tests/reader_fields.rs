//! Field clean-ups, amounts and times through `recon convert --rules`, on
//! the fixtures in tests/data/fields. Every fixture row carries the answer
//! written by hand (`expected_amount`, `expected_time`), and the appended
//! `recon_amount` / `recon_time` columns must equal it.

mod common;

use common::{data, recon, rows};

/// Converts `file` with `rules` (ledger or bank side) and returns its rows.
fn convert(file: &str, rules: &str, side: &str) -> Vec<std::collections::BTreeMap<String, String>> {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out.csv");
    recon()
        .arg("convert")
        .arg(data(file))
        .arg("--rules")
        .arg(data(rules))
        .args(["--side", side, "-o"])
        .arg(&out)
        .assert()
        .success();
    rows(&out)
}

fn assert_as_expected(rows: &[std::collections::BTreeMap<String, String>], count: usize) {
    assert_eq!(rows.len(), count);
    for r in rows {
        let id = &r["id"];
        assert_eq!(r["recon_amount"], r["expected_amount"], "amount of {id}");
        assert_eq!(r["recon_time"], r["expected_time"], "time of {id}");
    }
}

#[test]
fn amounts_prefixes_and_time_layouts_in_the_source_zone() {
    let rows = convert("fields/amounts_times.csv", "fields/rules.toml", "ledger");
    assert_as_expected(&rows, 15);
    // Spreadsheet guards (\t, `, ' and a '…' pair) are gone from the key column.
    let ids: Vec<&str> = rows.iter().map(|r| r["id"].as_str()).collect();
    assert_eq!(&ids[1..4], ["backtick", "quoted", "apostrophe"]);
    assert!(rows.iter().all(|r| !r["amount"].starts_with(['\t', ' '])));
}

#[test]
fn debit_and_credit_columns_and_date_and_time_in_two_columns() {
    let rows = convert("fields/debit_credit_two_columns.csv", "fields/rules.toml", "bank");
    assert_as_expected(&rows, 4);
}

#[test]
fn amount_plus_direction_words_and_an_explicit_time_format() {
    let rows = convert(
        "fields/amount_direction.csv",
        "fields/rules_direction.toml",
        "ledger",
    );
    assert_as_expected(&rows, 10);
}

#[test]
fn unknown_direction_and_empty_debit_credit_are_problems_with_positions() {
    let tmp = tempfile::tempdir().unwrap();
    let bad = tmp.path().join("bad.csv");
    std::fs::write(
        &bad,
        "id,amount,direction,time\nx,1.00,收入,24.11.2026 10:15\ny,1.00,sideways,24.11.2026 10:15\n\
         z,1.00,收入,2026-11-24 10:15\n",
    )
    .unwrap();
    let out = recon()
        .arg("check")
        .arg(&bad)
        .arg("--rules")
        .arg(data("fields/rules_direction.toml"))
        .args(["--side", "ledger"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    let problems: Vec<&str> = text.lines().filter(|l| l.contains("bad.csv:")).collect();
    assert_eq!(problems.len(), 2, "{text}");
    assert!(problems[0].ends_with("bad.csv:3:3: direction \"sideways\" is not an income (收入 收 贷 贷方 入账 来账 income credit CR in), expense (支出 支 借 借方 出账 往账 expense debit DR out) or neutral (不计收支 中性交易 /) word; add it to values.income, values.expense or values.neutral in the rule file"), "{}", problems[0]);
    assert!(
        problems[1]
            .ends_with("bad.csv:4:4: \"2026-11-24 10:15\" does not match time_format \"%d.%m.%Y %H:%M\""),
        "{}",
        problems[1]
    );

    let both_empty = tmp.path().join("both_empty.csv");
    std::fs::write(
        &both_empty,
        "id,debit,credit,date,clock\na,,1.00,2026-11-24,10:00:00\nb,-,,2026-11-24,10:00:00\n",
    )
    .unwrap();
    let out = recon()
        .arg("check")
        .arg(&both_empty)
        .arg("--rules")
        .arg(data("fields/rules.toml"))
        .args(["--side", "bank", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(j["records"], 1);
    let problem = j["problems"][0].as_str().unwrap();
    assert!(
        problem.ends_with("both_empty.csv:3:2: both the debit and the credit column are empty: one of them must hold the amount"),
        "{problem}"
    );
}

#[test]
fn check_lists_the_first_50_problems_unless_told_otherwise() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("many.csv");
    let mut text = String::from("订单号,金额\n");
    for i in 0..60 {
        text.push_str(&format!("A{i},x{i}\n"));
    }
    std::fs::write(&path, text).unwrap();
    let problems = |args: &[&str]| -> (Vec<String>, String) {
        let out = recon().arg("check").arg(&path).args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(1));
        let text = String::from_utf8(out.stdout).unwrap();
        let listed = text
            .lines()
            .filter(|l| l.contains("many.csv:"))
            .map(String::from)
            .collect();
        (listed, text)
    };
    let (listed, text) = problems(&[]);
    assert_eq!(listed.len(), 50);
    assert!(
        listed[0].ends_with("many.csv:2:2: \"x0\" is not an amount: unexpected 'x'"),
        "{}",
        listed[0]
    );
    assert!(listed[49].contains("many.csv:51:2: "), "{}", listed[49]);
    assert!(text.contains("problems    60\n"), "{text}");
    assert!(
        text.contains("… 10 more (use --max-problems 0 to list all)"),
        "{text}"
    );
    assert_eq!(problems(&["--max-problems", "0"]).0.len(), 60);
    assert_eq!(problems(&["--max-problems", "7"]).0.len(), 7);
    let out = recon()
        .arg("check")
        .arg(&path)
        .args(["--format", "json", "--max-problems", "5"])
        .output()
        .unwrap();
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(j["problems"].as_array().unwrap().len(), 5);
    assert_eq!(
        (
            j["problems_total"].as_u64(),
            j["rows"].as_u64(),
            j["records"].as_u64()
        ),
        (Some(60), Some(60), Some(0))
    );
}
