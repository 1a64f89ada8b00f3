//! The reader's edge cases through `recon check` and `recon convert`, on the
//! fixtures in tests/data/edge and a GBK file generated to straddle buffer sizes.

mod common;

use common::{check_json, data, recon};

fn check(path: &std::path::Path) -> (i32, serde_json::Value) {
    check_json(path, &[])
}

fn shape(j: &serde_json::Value) -> (String, String, u64, u64) {
    (
        j["encoding"].as_str().unwrap().to_string(),
        j["delimiter"].as_str().unwrap().to_string(),
        j["header_line"].as_u64().unwrap(),
        j["rows"].as_u64().unwrap(),
    )
}

#[test]
fn bom_and_preamble() {
    let (code, j) = check(&data("edge/bom_preamble.csv"));
    assert_eq!(code, 0);
    assert_eq!(shape(&j), ("UTF-8".into(), "comma".into(), 4, 2));
    assert_eq!(j["encoding_detection"], "byte-order mark");
    assert_eq!(j["amount_total"], "1244.50");
}

#[test]
fn line_ends_crlf_lf_and_cr_give_the_same_lines() {
    for file in ["edge/crlf.csv", "edge/cr_only.csv"] {
        let (code, j) = check(&data(file));
        assert_eq!(code, 0, "{file}");
        assert_eq!(shape(&j), ("UTF-8".into(), "comma".into(), 1, 2), "{file}");
        assert_eq!(j["time_to"], "2026-11-24T11:00:00+08:00", "{file}");
    }
}

#[test]
fn quoted_delimiters_quotes_and_line_breaks() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("clean.csv");
    recon()
        .arg("convert")
        .arg(data("edge/quoted_delimiters.csv"))
        .arg("-o")
        .arg(&out)
        .assert()
        .success();
    let rows = common::rows(&out);
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0]["金额"], "1,000.00");
    assert_eq!(rows[0]["备注"], "a, b and \"c\"");
    assert_eq!(rows[1]["备注"], "multi\nline memo");
    let (_, j) = check(&data("edge/quoted_delimiters.csv"));
    assert_eq!(j["amount_total"], "1011.00");
}

#[test]
fn other_delimiters_are_sniffed() {
    assert_eq!(shape(&check(&data("edge/semicolon.csv")).1).1, "semicolon");
    assert_eq!(
        shape(&check(&data("edge/tab.tsv")).1),
        ("UTF-8".into(), "tab".into(), 1, 2)
    );
}

#[test]
fn gbk_trailer_with_totals_is_skipped() {
    let (code, j) = check(&data("edge/trailer_totals.csv"));
    assert_eq!(code, 0);
    assert_eq!(shape(&j), ("GBK".into(), "comma".into(), 1, 2));
    let trailer = &j["skipped"][0];
    assert_eq!(
        (
            trailer["reason"].as_str(),
            trailer["first"].as_u64(),
            trailer["last"].as_u64()
        ),
        (Some("trailer"), Some(4), Some(7))
    );
}

#[test]
fn empty_file_cannot_be_read() {
    let out = recon().arg("check").arg(data("edge/empty.csv")).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("empty.csv") && err.contains("the file is empty"),
        "{err}"
    );
}

#[test]
fn header_only_file_is_clean_with_no_rows() {
    let (code, j) = check(&data("edge/header_only.csv"));
    assert_eq!(code, 0);
    assert_eq!(shape(&j), ("UTF-8".into(), "comma".into(), 1, 0));
}

#[test]
fn bad_values_are_problems_with_line_and_column() {
    let (code, j) = check(&data("edge/bad_amount.csv"));
    assert_eq!(code, 1);
    let problems: Vec<&str> = j["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(problems[0].ends_with("bad_amount.csv:3:2: \"1e5\" is not an amount: exponents are not accepted in money (write 100000.00)"), "{}", problems[0]);
    assert!(
        problems[1].contains("bad_amount.csv:4:3: \"2026-02-30 10:00:00\" does not exist"),
        "{}",
        problems[1]
    );
}

#[test]
fn gbk_multibyte_characters_across_buffer_boundaries() {
    // Rows of varying width so that two-byte characters straddle 4 KiB, 8 KiB and 64 KiB offsets.
    let mut text = String::from("订单号,商户,金额\n");
    let mut total = rust_decimal::Decimal::ZERO;
    for i in 0..6000i64 {
        let merchant = "水电燃气".repeat(1 + (i % 5) as usize);
        text.push_str(&format!(
            "K{i},{merchant}{},{}.{:02}\n",
            "缴".repeat((i % 3) as usize),
            i,
            i % 100
        ));
        total += rust_decimal::Decimal::new(i * 100 + (i % 100), 2);
    }
    let bytes = encoding_rs::GBK.encode(&text).0.into_owned();
    assert!(bytes.len() > 70_000);
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("big_gbk.csv");
    std::fs::write(&path, &bytes).unwrap();
    let (code, j) = check(&path);
    assert_eq!(code, 0);
    assert_eq!(shape(&j), ("GBK".into(), "comma".into(), 1, 6000));
    assert_eq!(j["amount_total"], total.to_string());
    let out = tmp.path().join("utf8.csv");
    recon()
        .arg("convert")
        .arg(&path)
        .arg("-o")
        .arg(&out)
        .assert()
        .success();
    assert_eq!(std::fs::read_to_string(&out).unwrap().replace("\r\n", "\n"), text);
}

#[test]
fn convert_writes_clean_utf8_and_never_overwrites_its_input() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("alipay.csv");
    let alipay = data("samples/alipay_example-alipay-records.csv");
    recon()
        .arg("convert")
        .arg(&alipay)
        .arg("-o")
        .arg(&out)
        .assert()
        .success();
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.starts_with("交易时间,交易分类,交易对方,"), "{text}");
    assert!(!text.contains('\t') && !text.contains("导出信息"));
    assert!(text.contains("2023-02-12 21:32:14,亲友代付,xxxxxxxxxxxx,/,亲情卡,支出,49.74,"));
    let (code, j) = check(&out);
    assert_eq!(code, 0);
    assert_eq!(shape(&j), ("UTF-8".into(), "comma".into(), 1, 10));

    let copy = tmp.path().join("input.csv");
    std::fs::copy(&alipay, &copy).unwrap();
    let before = std::fs::read(&copy).unwrap();
    let refused = recon()
        .arg("convert")
        .arg(&copy)
        .arg("-o")
        .arg(&copy)
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("never overwrites its input"));
    assert_eq!(std::fs::read(&copy).unwrap(), before);
}

#[test]
fn convert_with_a_mapping_adds_normalized_columns() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("bank.csv");
    recon()
        .args([
            "convert",
            "examples/basic/bank.csv",
            "--rules",
            "rules/default.toml",
            "--side",
            "bank",
            "-o",
        ])
        .arg(&out)
        .assert()
        .success();
    let rows = common::rows(&out);
    assert_eq!(rows.len(), 13);
    assert_eq!(rows[0]["商户订单号"], "P001");
    assert_eq!(rows[0]["recon_amount"], "128.50");
    assert_eq!(rows[0]["recon_time"], "2026-11-24T01:15:40+00:00");
    let refund = rows.iter().find(|r| r["商户订单号"] == "R001").unwrap();
    assert_eq!(refund["recon_amount"], "-30.00");
}

#[test]
fn check_against_a_rule_mapping() {
    let ok = recon()
        .args([
            "check",
            "examples/basic/bank.csv",
            "--rules",
            "rules/default.toml",
            "--side",
            "bank",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert_eq!(ok.status.code(), Some(0));
    let j: serde_json::Value = serde_json::from_slice(&ok.stdout).unwrap();
    assert_eq!(
        (j["header_line"].as_u64(), j["rows"].as_u64()),
        (Some(5), Some(13))
    );
    assert_eq!(j["amount_total"], "9363.50");
    assert!(j["mapping_source"]
        .as_str()
        .unwrap()
        .starts_with("rules city-payments 1.0.0"));
    // The ledger's mapping does not fit the bank file: a problem naming the missing column.
    let wrong = recon()
        .args([
            "check",
            "examples/basic/bank.csv",
            "--rules",
            "rules/default.toml",
            "--side",
            "ledger",
        ])
        .output()
        .unwrap();
    assert_eq!(wrong.status.code(), Some(1));
    let text = String::from_utf8(wrong.stdout).unwrap();
    assert!(
        text.contains("bank.csv:5:1: column \"金额\" (from the rule file) is not in the header on line 5"),
        "{text}"
    );
}
