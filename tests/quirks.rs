//! `recon check` (and `run`, `convert`) on the export quirks of issue 15,
//! each on a small reproduction under tests/data/quirks (see its README) or
//! a real sample: every row typed, money and time as the file means them.

mod common;

use common::{data, recon, rows, run, summary};

/// `recon check FILE [EXTRA…] --format json`, with the exit code it must have.
fn check(file: &str, extra: &[&str], code: i32) -> serde_json::Value {
    let out = recon()
        .arg("check")
        .arg(data(file))
        .args(extra)
        .args(["--format", "json", "--max-problems", "0"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(code),
        "{file}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// `recon check FILE` as text.
fn check_text(file: &str) -> String {
    let out = recon().arg("check").arg(data(file)).output().unwrap();
    String::from_utf8(out.stdout).unwrap()
}

/// Rows, typed rows and total of a report that must have no problem.
fn clean(j: &serde_json::Value) -> (u64, u64, &str) {
    assert_eq!(j["problems_total"], 0, "{j}");
    (
        j["rows"].as_u64().unwrap(),
        j["records"].as_u64().unwrap(),
        j["amount_total"].as_str().unwrap(),
    )
}

#[test]
fn excel_text_formula_cells_are_unwrapped_and_reported() {
    let j = check("quirks/broker-formula-cells.xls", &[], 0);
    assert_eq!(
        (j["encoding"].as_str(), j["delimiter"].as_str()),
        (Some("GBK"), Some("tab"))
    );
    assert_eq!(j["header"][0], "交收日期");
    assert_eq!(j["mapping"]["amount"], "发生金额");
    assert_eq!(j["mapping"]["time"], "交收日期");
    // -3525.00 + 3604.60 - 4017.00 + 10000.00 - 2000.00
    assert_eq!(clean(&j), (5, 5, "4062.60"));
    assert_eq!(j["time_from"], "2023-02-12T00:00:00+08:00");
    let note = j["notes"][0].as_str().unwrap();
    assert!(
        note.contains("50 cell(s) written as Excel text formulas"),
        "{note}"
    );
}

#[test]
fn a_latin1_german_export_is_not_read_as_gbk_and_its_decimal_commas_count() {
    let j = check("quirks/german-latin1.csv", &[], 0);
    assert_eq!(j["encoding"], "windows-1252");
    assert_eq!(j["delimiter"], "semicolon");
    assert_eq!(j["header"][2], "Auftraggeber/Begünstigter");
    assert_eq!(j["mapping"]["amount"], "Betrag");
    assert_eq!(j["mapping"]["currency"], "Währung");
    // -1234.56 - 15.37 + 3500.00 - 89.90
    assert_eq!(clean(&j), (4, 4, "2160.17"));
    assert_eq!(j["currencies"]["EUR"], "2160.17");
    // dd.mm.yyyy
    assert_eq!(j["time_from"], "2025-01-02T00:00:00+08:00");
    assert_eq!(j["time_to"], "2025-01-20T00:00:00+08:00");
    assert!(j["notes"][0].as_str().unwrap().contains("decimal commas"));
}

#[test]
fn decimal_commas_only_when_every_amount_has_one() {
    // A `;` file with decimal points (cvigo_neon) keeps them.
    let neon = check("samples/cvigo_neon.csv", &[], 0);
    assert_eq!(neon["delimiter"], "semicolon");
    assert!(neon.get("notes").is_none(), "{neon}");
    assert_eq!(neon["amount_total"], "28351.08");
}

#[test]
fn bilingual_and_signed_direction_words() {
    let j = check("quirks/direction-bilingual.csv", &[], 0);
    assert_eq!(j["mapping"]["direction"], "借贷标志");
    // +8000.00 (贷 Cr) -35.50 (借 Dr) -500.00 (支出/Debit) +1.25 (收入(+)) +35.50 (Credit) -2.00 (Debit)
    assert_eq!(clean(&j), (6, 6, "7499.25"));
    assert_eq!(j["income_total"], "8036.75");
}

#[test]
fn an_unknown_direction_word_still_names_the_lists() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("bank.csv");
    std::fs::write(
        &file,
        "交易时间,交易金额,借贷标志\n2024-03-01 09:12:00,8000.00,贷 Xx\n",
    )
    .unwrap();
    let out = recon()
        .arg("check")
        .arg(&file)
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let problem = j["problems"][0].as_str().unwrap();
    assert!(
        problem.contains("direction \"贷 Xx\" is not an income (收入 收 贷"),
        "{problem}"
    );
    assert!(problem.contains("values.income"), "{problem}");
}

#[test]
fn a_closed_row_without_a_direction_is_set_aside() {
    // The real Alipay sample with the 交易关闭 row's 收/支 emptied.
    let j = check(
        "quirks/alipay-closed-empty-direction.csv",
        &["--profile", "alipay"],
        0,
    );
    assert_eq!((j["rows"].as_u64(), j["records"].as_u64()), (Some(11), Some(9)));
    assert_eq!(j["ignored_by_status"], 2);
    assert_eq!(j["problems_total"], 0);
}

#[test]
fn paired_money_columns_are_guessed_from_their_names() {
    let j = check("quirks/paired-deposit-withdrawal.csv", &[], 0);
    assert_eq!(
        (j["mapping"]["debit"].as_str(), j["mapping"]["credit"].as_str()),
        (Some("取出金额"), Some("存入金额"))
    );
    assert_eq!(clean(&j), (3, 3, "7371.70"));
    // 交易日期 + 交易时间 in two columns.
    assert_eq!(
        (j["mapping"]["date"].as_str(), j["mapping"]["time"].as_str()),
        (Some("交易日期"), Some("交易时间"))
    );
    assert_eq!(j["time_to"], "2024-05-03T20:15:00+08:00");
    let j = check("quirks/paired-in-out.csv", &[], 0);
    assert_eq!(
        (j["mapping"]["debit"].as_str(), j["mapping"]["credit"].as_str()),
        (Some("支出"), Some("存入"))
    );
    assert_eq!(clean(&j), (3, 3, "74.50"));
    // Debit CHF / Credit CHF (real layout), not the empty "Amount details".
    let zkb = check("samples/cvigo_zkb.csv", &[], 0);
    assert_eq!(
        (
            zkb["mapping"]["debit"].as_str(),
            zkb["mapping"]["credit"].as_str()
        ),
        (Some("Debit CHF"), Some("Credit CHF"))
    );
    assert_eq!(clean(&zkb), (7, 7, "4549.50"));
    assert_eq!(zkb["currencies"]["CHF"], "4549.50");
}

#[test]
fn time_layouts_exports_write() {
    let j = check("quirks/time-layouts.csv", &[], 0);
    assert_eq!(clean(&j), (6, 6, "210.00"));
    assert_eq!(j["time_from"], "2023-06-30T00:00:00+08:00");
    assert_eq!(j["time_to"], "2025-12-05T07:22:32+08:00");
    let j = check("quirks/date-and-time-columns.csv", &[], 0);
    assert_eq!(j["time_to"], "2025-01-11T23:59:59+08:00");
}

#[test]
fn slash_dates_are_resolved_by_the_whole_column_or_refused() {
    let j = check("quirks/slash-month-first.csv", &[], 0);
    assert_eq!(j["mapping"]["time_format"], "%m/%d/%Y");
    assert_eq!(j["time_from"], "2023-05-01T00:00:00+08:00");
    let hsbc = check("samples/hsbchk_debit_example-hsbchk-debit-records.csv", &[], 0);
    assert_eq!(hsbc["mapping"]["time_format"], "%d/%m/%Y");
    let j = check("quirks/slash-ambiguous.csv", &[], 1);
    assert_eq!(j["problems_total"], 2);
    let problem = j["problems"][0].as_str().unwrap();
    assert!(problem.contains("slash-ambiguous.csv:2:1: \"05/01/2023\" could be day/month/year or month/day/year: set time_format = \"%d/%m/%Y\""), "{problem}");
}

#[test]
fn a_headerless_file_is_read_by_position() {
    let j = check("quirks/headerless.csv", &[], 0);
    assert_eq!(j["headerless"], true);
    assert_eq!(j["header_line"], 0);
    assert_eq!(
        j["mapping_source"],
        "no header: columns by position, roles guessed from the values"
    );
    // Debit then credit, as the balance column's changes confirm.
    assert_eq!(
        (j["mapping"]["debit"].as_str(), j["mapping"]["credit"].as_str()),
        (Some("3"), Some("4"))
    );
    assert_eq!(clean(&j), (4, 4, "945.20"));
    let text = check_text("quirks/headerless.csv");
    assert!(
        text.contains("header      none: columns by position (1..5)"),
        "{text}"
    );
    // The rule file names columns by 1-based position, `header = false`.
    let rules = data("quirks/headerless-rules.toml");
    let r = check(
        "quirks/headerless.csv",
        &["--rules", rules.to_str().unwrap(), "--side", "bank"],
        0,
    );
    assert_eq!(r["mapping"]["debit"], "3");
    assert_eq!(clean(&r), (4, 4, "945.20"));
}

#[test]
fn currency_codes_in_amounts_become_the_rows_currency() {
    let j = check("quirks/currency-amounts.csv", &[], 0);
    assert_eq!(clean(&j), (4, 4, "1247.36"));
    assert_eq!(j["currencies"]["JPY"], "1000.00");
    assert_eq!(j["currencies"]["USD"], "1.00");
    assert_eq!(j["currencies"]["CNY"], "246.36");
    let text = check_text("quirks/currency-amounts.csv");
    assert!(
        text.contains("currencies  CNY 246.36, JPY 1000.00, USD 1.00"),
        "{text}"
    );
    // A CNY-only file reports no currencies, as before.
    let cny = check("samples/alipay_example-alipay-records.csv", &[], 0);
    assert!(cny.get("currencies").is_none());
}

#[test]
fn rows_of_different_currencies_never_match() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let case = data("quirks/currency-run");
    let assert = run(
        case.join("ledger.csv"),
        case.join("bank.csv"),
        case.join("rules.toml"),
        &out,
    )
    .assert()
    .code(1);
    let printed = String::from_utf8_lossy(&assert.get_output().stdout).to_string();
    assert!(printed.contains("USD input"), "{printed}");
    assert!(printed.contains("JPY outputs"), "{printed}");
    let matched: Vec<String> = rows(&out.join("matched.csv"))
        .iter()
        .map(|r| format!("{}:{}", r["side"], r["line"]))
        .collect();
    assert_eq!(
        matched,
        ["ledger:2", "bank:2", "ledger:3", "bank:3", "ledger:5", "bank:5"]
    );
    // A003: 1.00 CNY in the ledger, US$1.00 at the bank.
    let unmatched: Vec<String> = rows(&out.join("unmatched.csv"))
        .iter()
        .map(|r| format!("{}:{}", r["side"], r["line"]))
        .collect();
    assert_eq!(unmatched, ["ledger:4", "bank:4"]);
    // Outputs name each row's currency.
    let currencies: Vec<String> = rows(&out.join("unmatched.csv"))
        .iter()
        .map(|r| r["currency"].clone())
        .collect();
    assert_eq!(currencies, ["CNY", "USD"]);
    let s = summary(&out);
    let cny = &s["currencies"]["CNY"];
    assert_eq!(
        (
            cny["input"]["ledger"]["amount"].as_str(),
            cny["input"]["bank"]["amount"].as_str()
        ),
        (Some("247.36"), Some("246.36"))
    );
    assert_eq!(s["currencies"]["USD"]["input"]["bank"]["amount"], "1.00");
    assert_eq!(s["currencies"]["USD"]["input"]["ledger"]["count"], 0);
    for c in ["CNY", "JPY", "USD"] {
        assert_eq!(s["currencies"][c]["holds"], true, "{c}");
    }
}

#[test]
fn annotated_amounts_count_the_leading_amount_and_keep_the_note() {
    let j = check("quirks/annotated-amounts.csv", &[], 0);
    assert_eq!(clean(&j), (4, 4, "1643.37"));
    let note = j["notes"][0].as_str().unwrap();
    assert!(
        note.contains("line 2: 131.77 (已退款89.84); line 3: 468.32 (已全额退款)"),
        "{note}"
    );
}

#[test]
fn a_time_column_named_utc_is_read_as_utc() {
    let j = check("quirks/utc-times.csv", &[], 0);
    assert_eq!(j["mapping"]["timezone"], "UTC (the time column's name says so)");
    assert_eq!(j["time_to"], "2025-05-01T23:59:59+00:00");
    let shanghai = check("quirks/utc-times.csv", &["--timezone", "Asia/Shanghai"], 0);
    assert_eq!(shanghai["time_to"], "2025-05-01T23:59:59+08:00");
}

#[test]
fn a_recognised_workbook_is_read_with_its_profile() {
    let text = check_text("samples/wechat_example-wechat-records.xlsx");
    assert!(
        text.contains("header      line 18: 交易时间 | 交易类型"),
        "{text}"
    );
    assert!(text.contains("mapping     profile wechat (recognised"), "{text}");
    assert!(text.contains("rows        27 (27 read cleanly)"), "{text}");
    assert!(!text.contains("mapping     none"), "{text}");
}

#[test]
fn convert_reads_with_a_profile() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("alipay.csv");
    let status = recon()
        .arg("convert")
        .arg(data("samples/alipay_example-alipay-records.csv"))
        .args(["--profile", "auto", "-o"])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(
        status.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    let converted = rows(&out);
    assert_eq!(converted.len(), 10);
    assert!(converted.iter().all(|r| !r["recon_amount"].is_empty()));
    assert_eq!(converted[0]["recon_time"], "2023-02-12T21:32:14+08:00");
    let none = recon()
        .arg("convert")
        .arg(data("quirks/utc-times.csv"))
        .args(["--profile", "wechat", "-o"])
        .arg(tmp.path().join("x.csv"))
        .output()
        .unwrap();
    assert_eq!(none.status.code(), Some(2));
    assert!(!tmp.path().join("x.csv").exists());
}

#[test]
fn a_sides_currency_setting_is_the_default_currency() {
    let tmp = tempfile::tempdir().unwrap();
    let rules = tmp.path().join("rules.toml");
    let text = |currency: &str| {
        format!(
            "[rules]\nname = \"usd\"\nversion = \"1\"\neffective_from = 2025-01-01\n\
             [ledger.columns]\namount = \"amount\"\n\
             [bank]\ncurrency = \"{currency}\"\n[bank.columns]\nkey = \"交易单号\"\namount = \"金额\"\ntime = \"交易时间(UTC)\"\n\
             [[stage]]\nname = \"id\"\nmatch = \"key\"\n"
        )
    };
    std::fs::write(&rules, text("usd")).unwrap();
    let j = check(
        "quirks/utc-times.csv",
        &["--rules", rules.to_str().unwrap(), "--side", "bank"],
        0,
    );
    assert_eq!(j["currencies"]["USD"], "30.00");
    std::fs::write(&rules, text("dollars")).unwrap();
    let out = recon()
        .arg("check")
        .arg(data("quirks/utc-times.csv"))
        .args(["--rules", rules.to_str().unwrap(), "--side", "bank"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("currency: \"dollars\" is not a three-letter currency code"),
        "{stderr}"
    );
}
