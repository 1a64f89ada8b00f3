//! `recon check` on every real statement sample (tests/data/samples, see
//! PROVENANCE.md): encoding, delimiter, header line, row count and total,
//! verified by hand against the files and pinned here.

mod common;

use common::{data, recon};

struct Expect {
    file: &'static str,
    encoding: &'static str,
    header_line: u64,
    rows: u64,
    amount_total: &'static str,
}

/// Samples that are not comma-separated text: (file, delimiter).
const NOT_COMMA: [(&str, &str); 5] = [
    ("cvigo_neon.csv", "semicolon"),
    ("cvigo_zkb.csv", "semicolon"),
    ("citic_credit_example-citic-records.xls", "none"),
    ("daoru_wechat-2019.xlsx", "none"),
    ("wechat_example-wechat-records.xlsx", "none"),
];

/// Every sample, read with no rules (totals added up by hand from the files:
/// income words positive, expense words negative, others as written).
const SAMPLES: [Expect; 21] = [
    Expect {
        file: "abc_debit_example-abc_debit-records.csv",
        encoding: "UTF-8",
        header_line: 1,
        rows: 5,
        amount_total: "-2355.88",
    },
    Expect {
        file: "alipay_example-alipay-records.csv",
        encoding: "GBK",
        header_line: 25,
        rows: 10,
        amount_total: "222264.23",
    },
    Expect {
        file: "bmo_debit_example-bmo-records.csv",
        encoding: "UTF-8",
        header_line: 4,
        rows: 4,
        amount_total: "-158.31",
    },
    Expect {
        file: "boc_debit_example-boc-records.csv",
        encoding: "UTF-8",
        header_line: 2,
        rows: 17,
        amount_total: "426.70",
    },
    Expect {
        file: "cmb_debit_example-cmb-records.csv",
        encoding: "UTF-8",
        header_line: 1,
        rows: 5,
        amount_total: "-779.14",
    },
    Expect {
        file: "hsbchk_debit_example-hsbchk-debit-records.csv",
        encoding: "UTF-8",
        header_line: 1,
        rows: 10,
        amount_total: "21978.95",
    },
    Expect {
        file: "huobi_example-huobi-records.csv",
        encoding: "UTF-8",
        header_line: 1,
        rows: 3,
        amount_total: "24.97401759",
    },
    Expect {
        file: "icbc_credit_example-icbc-credit-records.csv",
        encoding: "UTF-8",
        header_line: 7,
        rows: 9,
        amount_total: "4257.88",
    },
    Expect {
        file: "icbc_debit-v2_example-icbc-debit-v2-records.csv",
        encoding: "UTF-8",
        header_line: 7,
        rows: 11,
        amount_total: "-1399.34",
    },
    Expect {
        file: "wechat_example-wechat-records.csv",
        encoding: "UTF-8",
        header_line: 17,
        rows: 27,
        amount_total: "23224.85",
    },
    // The workbooks: CITIC's spending is positive (its profile flips it);
    // WeChat's xlsx is read with the wechat profile it is recognised as,
    // since its first row holds generic Column1… titles.
    Expect {
        file: "citic_credit_example-citic-records.xls",
        encoding: "xls",
        header_line: 2,
        rows: 13,
        amount_total: "1097.39",
    },
    Expect {
        file: "wechat_example-wechat-records.xlsx",
        encoding: "xlsx",
        header_line: 18,
        rows: 27,
        amount_total: "23224.85",
    },
    // Added in round 2 (see PROVENANCE.md).
    Expect {
        file: "cvigo_n26.csv",
        encoding: "UTF-8",
        header_line: 1,
        rows: 87,
        amount_total: "-12371.59",
    },
    Expect {
        file: "cvigo_neon.csv",
        encoding: "UTF-8",
        header_line: 1,
        rows: 47,
        amount_total: "28351.08",
    },
    Expect {
        file: "cvigo_revolut-chf.csv",
        encoding: "UTF-8",
        header_line: 1,
        rows: 7,
        amount_total: "194.35",
    },
    // Debit CHF / Credit CHF columns, dd.mm.yyyy dates.
    Expect {
        file: "cvigo_zkb.csv",
        encoding: "UTF-8",
        header_line: 1,
        rows: 7,
        amount_total: "4549.50",
    },
    Expect {
        file: "daoru_alipay-20201122.csv",
        encoding: "GBK",
        header_line: 25,
        rows: 24,
        amount_total: "-1706.28",
    },
    Expect {
        file: "daoru_alipay-20230210.csv",
        encoding: "GBK",
        header_line: 25,
        rows: 11,
        amount_total: "222330.80",
    },
    Expect {
        file: "daoru_meituan-202502.csv",
        encoding: "UTF-8",
        header_line: 20,
        rows: 29,
        amount_total: "-1016.09",
    },
    Expect {
        file: "daoru_wechat-2019.xlsx",
        encoding: "xlsx",
        header_line: 17,
        rows: 31,
        amount_total: "21174.26",
    },
    Expect {
        file: "trim21_wechat-20200830.csv",
        encoding: "UTF-8",
        header_line: 17,
        rows: 7,
        amount_total: "790.12",
    },
];

/// The table samples in tests/data/samples.
fn sample_files() -> Vec<String> {
    let mut files: Vec<String> = std::fs::read_dir(data("samples"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".csv") || n.ends_with(".xls") || n.ends_with(".xlsx"))
        .collect();
    files.sort();
    files
}

/// `recon check PATH --format json`: the parsed report of a file that must read cleanly.
fn check_json(path: &std::path::Path) -> serde_json::Value {
    check_with(path, &[])
}

/// [`check_json`] with `--profile PROFILE`.
fn check_with_profile(path: &std::path::Path, profile: &str) -> serde_json::Value {
    check_with(path, &["--profile", profile])
}

fn check_with(path: &std::path::Path, extra: &[&str]) -> serde_json::Value {
    let out = recon()
        .arg("check")
        .arg(path)
        .args(extra)
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stdout)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn every_sample_is_read_with_the_right_shape() {
    let mut pinned: Vec<String> = SAMPLES.iter().map(|e| e.file.to_string()).collect();
    pinned.sort();
    assert_eq!(pinned, sample_files(), "every sample is read with no rules");
    for e in &SAMPLES {
        let j = check_json(&data(&format!("samples/{}", e.file)));
        let delimiter = NOT_COMMA
            .iter()
            .find(|(f, _)| *f == e.file)
            .map_or("comma", |(_, d)| d);
        let got = (
            j["encoding"].as_str(),
            j["delimiter"].as_str(),
            j["header_line"].as_u64(),
            j["rows"].as_u64(),
        );
        assert_eq!(
            got,
            (
                Some(e.encoding),
                Some(delimiter),
                Some(e.header_line),
                Some(e.rows)
            ),
            "{}",
            e.file
        );
        assert_eq!(j["records"].as_u64(), Some(e.rows), "{}: every row typed", e.file);
        assert_eq!(j["amount_total"], e.amount_total, "{}", e.file);
        assert_eq!(j["problems_total"], 0, "{}", e.file);
        assert!(j["mapping"].get("amount").is_some() || j["mapping"].get("debit").is_some());
        assert!(j["time_from"].is_string(), "{}: times mapped", e.file);
    }
}

#[test]
fn preambles_and_trailers_are_reported() {
    let alipay = check_json(&data("samples/alipay_example-alipay-records.csv"));
    assert_eq!(alipay["skipped"][0]["reason"], "preamble");
    assert_eq!(
        (
            alipay["skipped"][0]["first"].as_u64(),
            alipay["skipped"][0]["last"].as_u64()
        ),
        (Some(1), Some(24))
    );
    assert_eq!(alipay["encoding_detection"], "guessed by chardetng (confident)");
    let icbc = check_json(&data("samples/icbc_credit_example-icbc-credit-records.csv"));
    let trailer = icbc["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["reason"] == "trailer")
        .unwrap();
    assert_eq!(
        (trailer["first"].as_u64(), trailer["last"].as_u64()),
        (Some(17), Some(18))
    );
    assert!(trailer["sample"].as_str().unwrap().starts_with("合计金额"));
    let huobi = check_json(&data("samples/huobi_example-huobi-records.csv"));
    assert_eq!(huobi["encoding_detection"], "byte-order mark");
}

#[test]
fn guessed_mappings_use_the_columns_that_hold_money() {
    let icbc = check_json(&data("samples/icbc_debit-v2_example-icbc-debit-v2-records.csv"));
    assert_eq!(icbc["mapping"]["debit"], "记账金额(支出)");
    assert_eq!(icbc["mapping"]["credit"], "记账金额(收入)");
    let boc = check_json(&data("samples/boc_debit_example-boc-records.csv"));
    assert_eq!(
        (boc["mapping"]["date"].as_str(), boc["mapping"]["time"].as_str()),
        (Some("记账日期"), Some("记账时间"))
    );
    assert_eq!(boc["time_to"], "2025-08-22T17:57:17+08:00");
    let wechat = check_json(&data("samples/wechat_example-wechat-records.csv"));
    assert_eq!(wechat["mapping"]["direction"], "收/支");
    let hsbc = check_json(&data("samples/hsbchk_debit_example-hsbchk-debit-records.csv"));
    assert_eq!(hsbc["time_from"], "2025-03-01T00:00:00+08:00");
}

#[test]
fn text_report_names_encoding_delimiter_and_header() {
    let out = recon()
        .arg("check")
        .arg(data("samples/alipay_example-alipay-records.csv"))
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("encoding    GBK (guessed by chardetng (confident))"),
        "{text}"
    );
    assert!(text.contains("delimiter   comma (sniffed)"), "{text}");
    assert!(
        text.contains("header      line 25: 交易时间 | 交易分类"),
        "{text}"
    );
    assert!(text.contains("skipped     lines 1-24 (preamble)"), "{text}");
    assert!(text.contains("rows        10 (10 read cleanly)"), "{text}");
    assert!(text.contains("problems    none"), "{text}");
}

/// What `check --profile auto` reads a sample as: the recognised profile,
/// header line, data rows, rows that count, rows set aside by status, and the
/// signed total (money in positive).
struct Profiled {
    file: &'static str,
    profile: &'static str,
    header_line: u64,
    rows: u64,
    records: u64,
    ignored_by_status: u64,
    amount_total: &'static str,
}

const PROFILED: [Profiled; 12] = [
    Profiled {
        file: "abc_debit_example-abc_debit-records.csv",
        profile: "abc-debit",
        header_line: 1,
        rows: 5,
        records: 5,
        ignored_by_status: 0,
        amount_total: "-2355.88",
    },
    // 交易关闭 ×2 set aside; 退款成功 rows count as money out; 不计收支 kept as written.
    Profiled {
        file: "alipay_example-alipay-records.csv",
        profile: "alipay",
        header_line: 25,
        rows: 10,
        records: 8,
        ignored_by_status: 2,
        amount_total: "222100.17",
    },
    Profiled {
        file: "bmo_debit_example-bmo-records.csv",
        profile: "bmo-debit",
        header_line: 4,
        rows: 4,
        records: 4,
        ignored_by_status: 0,
        amount_total: "-158.31",
    },
    Profiled {
        file: "boc_debit_example-boc-records.csv",
        profile: "boc-debit",
        header_line: 2,
        rows: 17,
        records: 17,
        ignored_by_status: 0,
        amount_total: "426.70",
    },
    // Spending positive in the file, flipped: money out negative.
    Profiled {
        file: "citic_credit_example-citic-records.xls",
        profile: "citic-credit",
        header_line: 2,
        rows: 13,
        records: 13,
        ignored_by_status: 0,
        amount_total: "-1097.39",
    },
    Profiled {
        file: "cmb_debit_example-cmb-records.csv",
        profile: "cmb-debit",
        header_line: 1,
        rows: 5,
        records: 5,
        ignored_by_status: 0,
        amount_total: "-779.14",
    },
    Profiled {
        file: "hsbchk_debit_example-hsbchk-debit-records.csv",
        profile: "hsbchk-debit",
        header_line: 1,
        rows: 10,
        records: 10,
        ignored_by_status: 0,
        amount_total: "21978.95",
    },
    // 方向: 卖出 in, 买入 out.
    Profiled {
        file: "huobi_example-huobi-records.csv",
        profile: "huobi",
        header_line: 1,
        rows: 3,
        records: 3,
        ignored_by_status: 0,
        amount_total: "-14.20641759",
    },
    Profiled {
        file: "icbc_credit_example-icbc-credit-records.csv",
        profile: "icbc-credit",
        header_line: 7,
        rows: 9,
        records: 9,
        ignored_by_status: 0,
        amount_total: "4257.88",
    },
    Profiled {
        file: "icbc_debit-v2_example-icbc-debit-v2-records.csv",
        profile: "icbc-debit",
        header_line: 7,
        rows: 11,
        records: 11,
        ignored_by_status: 0,
        amount_total: "-1399.34",
    },
    Profiled {
        file: "wechat_example-wechat-records.csv",
        profile: "wechat",
        header_line: 17,
        rows: 27,
        records: 27,
        ignored_by_status: 0,
        amount_total: "23224.85",
    },
    // The workbook's first row holds generic Column1… titles; the bill's header is row 18.
    Profiled {
        file: "wechat_example-wechat-records.xlsx",
        profile: "wechat",
        header_line: 18,
        rows: 27,
        records: 27,
        ignored_by_status: 0,
        amount_total: "23224.85",
    },
];

#[test]
fn every_sample_is_read_with_its_profile_by_auto() {
    for e in &PROFILED {
        let j = check_with_profile(&data(&format!("samples/{}", e.file)), "auto");
        assert_eq!(j["profile"], e.profile, "{}", e.file);
        assert_eq!(j["recognition"]["recognized"], e.profile, "{}", e.file);
        assert_eq!(j["recognition"]["confidence"], 1.0, "{}", e.file);
        assert_eq!(
            (
                j["header_line"].as_u64(),
                j["rows"].as_u64(),
                j["records"].as_u64()
            ),
            (Some(e.header_line), Some(e.rows), Some(e.records)),
            "{}",
            e.file
        );
        assert_eq!(j["ignored_by_status"], e.ignored_by_status, "{}", e.file);
        assert_eq!(j["amount_total"], e.amount_total, "{}", e.file);
        assert_eq!(j["problems_total"], 0, "{}", e.file);
        let considered = j["recognition"]["considered"].as_array().unwrap();
        assert_eq!(considered.len(), 16, "{}: every profile is considered", e.file);
        // No other specific profile fits the whole header.
        let full: Vec<&str> = considered
            .iter()
            .filter(|c| c["confidence"] == 1.0)
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        assert_eq!(full, [e.profile], "{}", e.file);
    }
}

#[test]
fn workbook_samples_are_read_like_csv() {
    let xls = check_json(&data("samples/citic_credit_example-citic-records.xls"));
    assert_eq!(
        (xls["encoding"].as_str(), xls["delimiter"].as_str()),
        (Some("xls"), Some("none"))
    );
    assert_eq!(
        xls["encoding_detection"],
        "workbook cells, sheet \"本期账单明细(人民币)\""
    );
    assert_eq!(xls["header_line"], 2);
    assert_eq!(xls["skipped"][0]["sample"], "本期账单明细(人民币)");
    assert_eq!(xls["rows"], 13);
    assert_eq!(xls["time_from"], "2024-10-20T00:00:00+08:00");
    // Without a profile the xlsx's generic Column1… row looks like the
    // header; it holds no amount column, so the recognised profile reads it.
    let out = recon()
        .arg("check")
        .arg(data("samples/wechat_example-wechat-records.xlsx"))
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("header      line 18: 交易时间 | 交易类型"),
        "{text}"
    );
    assert!(
        text.contains("profile     wechat (confidence 1.00, header line 18)"),
        "{text}"
    );
    assert!(
        text.contains("skipped     lines 1-17 (preamble): Column1 Column2"),
        "{text}"
    );
}

#[test]
fn check_names_the_profile_and_lists_the_others() {
    let out = recon()
        .arg("check")
        .arg(data("samples/icbc_credit_example-icbc-credit-records.csv"))
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("profile     icbc-credit (confidence 1.00, header line 7)"),
        "{text}"
    );
    assert!(
        text.contains("considered  icbc-debit              0.73 (missing 交易详情, 钞/汇, 对方账户)"),
        "{text}"
    );
    assert!(text.contains("considered  also "), "{text}");
    assert!(text.contains("mapping     guessed from header names\n"), "{text}");
    let auto = recon()
        .arg("check")
        .arg(data("samples/icbc_credit_example-icbc-credit-records.csv"))
        .args(["--profile", "auto"])
        .output()
        .unwrap();
    let text = String::from_utf8(auto.stdout).unwrap();
    assert!(
        text.contains("mapping     profile icbc-credit (recognised, confidence 1.00)"),
        "{text}"
    );
}

#[test]
fn a_forced_profile_that_does_not_fit_names_the_missing_column() {
    let out = recon()
        .arg("check")
        .arg(data("samples/alipay_example-alipay-records.csv"))
        .args(["--profile", "wechat", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(j["profile"], "wechat");
    let problem = j["problems"][0].as_str().unwrap();
    assert!(
        problem.contains("column \"交易单号\" (from the rule file) is not in the header"),
        "{problem}"
    );
}
