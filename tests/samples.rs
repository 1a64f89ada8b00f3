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

const SAMPLES: [Expect; 10] = [
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
];

fn check_json(path: &std::path::Path) -> serde_json::Value {
    let out = recon()
        .arg("check")
        .arg(path)
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
    for e in &SAMPLES {
        let j = check_json(&data(&format!("samples/{}", e.file)));
        let got = (
            j["encoding"].as_str(),
            j["delimiter"].as_str(),
            j["header_line"].as_u64(),
            j["rows"].as_u64(),
        );
        assert_eq!(
            got,
            (Some(e.encoding), Some("comma"), Some(e.header_line), Some(e.rows)),
            "{}",
            e.file
        );
        assert_eq!(j["records"].as_u64(), Some(e.rows), "{}: every row typed", e.file);
        assert_eq!(j["amount_total"], e.amount_total, "{}", e.file);
        assert_eq!(j["problems_total"], 0, "{}", e.file);
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
