//! Encoding and delimiter detection through `recon check`, on the hand-made
//! fixtures in tests/data/edge: byte-order marks, UTF-16, mixed encodings,
//! short GBK files, explicit overrides, and a preamble that must not decide
//! the delimiter.

mod common;

use common::{data, recon};

/// Runs `recon check FILE --format json ARGS…`: exit code, report, stderr.
fn check(file: &str, args: &[&str]) -> (i32, serde_json::Value, String) {
    let out = recon()
        .arg("check")
        .arg(data(file))
        .args(["--format", "json"])
        .args(args)
        .output()
        .unwrap();
    let json = serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    (out.status.code().unwrap(), json, stderr)
}

/// default.toml with `KEY = "auto"` of its [bank] section set to `value`.
fn set_in_bank(text: &str, key: &str, value: &str) -> String {
    let bank = text.find("\n[bank]\n").expect("a [bank] section");
    let auto = format!("\n{key} = \"auto\"");
    let at = bank + text[bank..].find(&auto).expect("KEY = \"auto\" in [bank]");
    format!("{}\n{key} = \"{value}\"{}", &text[..at], &text[at + auto.len()..])
}

#[test]
fn utf16_with_and_without_bom_in_both_byte_orders() {
    for (file, encoding, how) in [
        ("edge/utf16le_bom.csv", "UTF-16LE", "byte-order mark"),
        ("edge/utf16be_bom.csv", "UTF-16BE", "byte-order mark"),
        (
            "edge/utf16le_no_bom.csv",
            "UTF-16LE",
            "UTF-16 byte pattern without BOM",
        ),
    ] {
        let (code, j, err) = check(file, &[]);
        assert_eq!(code, 0, "{file}: {err}");
        assert_eq!(
            (j["encoding"].as_str(), j["encoding_detection"].as_str()),
            (Some(encoding), Some(how))
        );
        assert_eq!(j["header"][0], "订单号", "{file}");
        assert_eq!(
            (j["rows"].as_u64(), j["amount_total"].as_str()),
            (Some(2), Some("15.50"))
        );
        assert_eq!(j["time_to"], "2026-11-24T11:00:00+08:00", "{file}");
    }
}

#[test]
fn a_gbk_trailer_on_a_utf8_body_is_reported_at_its_first_byte() {
    let (code, j, err) = check("edge/mixed_utf8_gbk_trailer.csv", &[]);
    assert_eq!(code, 2);
    assert_eq!(j, serde_json::Value::Null, "nothing on stdout");
    assert!(
        err.contains("mixed_utf8_gbk_trailer.csv:4:1: ") && err.contains("byte offset 81"),
        "{err}"
    );
    assert!(err.contains("the file mixes encodings"), "{err}");
    assert!(!err.contains('\u{FFFD}'), "{err}");
}

#[test]
fn a_short_gbk_file_is_gbk() {
    let (code, j, err) = check("edge/gbk_short.csv", &[]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(j["encoding"], "GBK");
    assert_eq!(j["header"], serde_json::json!(["订单号", "金额"]));
    assert_eq!(j["skipped"][0]["sample"], "合计 1.00");
}

#[test]
fn encoding_flag_overrides_detection() {
    let (code, j, _) = check("edge/trailer_totals.csv", &["--encoding", "gb18030"]);
    assert_eq!(code, 0);
    assert_eq!(
        (j["encoding"].as_str(), j["encoding_detection"].as_str()),
        (Some("gb18030"), Some("set explicitly"))
    );
    let (code, _, err) = check("edge/trailer_totals.csv", &["--encoding", "utf-8"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("trailer_totals.csv:1:1: ") && err.contains("not valid UTF-8"),
        "{err}"
    );
    let (code, _, err) = check("edge/trailer_totals.csv", &["--encoding", "klingon"]);
    assert_eq!(code, 2);
    assert!(err.contains("unknown encoding \"klingon\""), "{err}");
}

#[test]
fn rule_file_encoding_overrides_detection() {
    let tmp = tempfile::tempdir().unwrap();
    let rules = tmp.path().join("rules.toml");
    let text = std::fs::read_to_string(common::root().join("rules/default.toml")).unwrap();
    std::fs::write(&rules, set_in_bank(&text, "encoding", "utf-8")).unwrap();
    let out = recon()
        .args(["check", "examples/basic/bank.csv", "--side", "bank", "--rules"])
        .arg(&rules)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bank.csv:1:3: ") && err.contains("not valid UTF-8"),
        "{err}"
    );
    // The same rule file with gbk reads it, and says the encoding was set.
    std::fs::write(&rules, set_in_bank(&text, "encoding", "gbk")).unwrap();
    let out = recon()
        .args(["check", "examples/basic/bank.csv", "--side", "bank", "--rules"])
        .arg(&rules)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("encoding    GBK (set explicitly)"));
}

#[test]
fn the_delimiter_comes_from_the_table_not_the_preamble() {
    let (code, j, err) = check("edge/semicolon_comma_preamble.csv", &[]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        (j["delimiter"].as_str(), j["delimiter_source"].as_str()),
        (Some("semicolon"), Some("sniffed"))
    );
    assert_eq!(j["header_line"], 4);
    assert_eq!(
        (
            j["skipped"][0]["first"].as_u64(),
            j["skipped"][0]["last"].as_u64()
        ),
        (Some(1), Some(3))
    );
    assert_eq!(j["amount_total"], "1237.50");
}

#[test]
fn delimiter_flag_overrides_sniffing() {
    let (_, j, _) = check("edge/semicolon_comma_preamble.csv", &["--delimiter", ","]);
    assert_eq!(
        (j["delimiter"].as_str(), j["delimiter_source"].as_str()),
        (Some("comma"), Some("explicit"))
    );
    assert_ne!(j["header_line"], 4);
    let (code, _, err) = check("edge/semicolon.csv", &["--delimiter", "::"]);
    assert_eq!(code, 2);
    assert!(err.contains("--delimiter: \"::\" is not a delimiter"), "{err}");
}

#[test]
fn a_file_valid_in_no_encoding_names_its_first_bad_byte() {
    // GBK with a character cut in half mid-file (a field-length limit), then more rows.
    let gbk = |s: &str| encoding_rs::GBK.encode(s).0.into_owned();
    let mut bytes = gbk("订单号,商户,金额\nA1,超市,1.00\nA2,超市购");
    bytes.push(gbk("物")[0]);
    bytes.extend(gbk(",2.00\nA3,水费,3.00\n"));
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("cut.csv");
    std::fs::write(&path, bytes).unwrap();
    let out = recon().arg("check").arg(&path).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    // Line 3 is "A2,超市购" + half of 物: the bad byte is the 10th of the line.
    assert!(
        err.contains("cut.csv:3:10: bytes that are not valid GBK"),
        "{err}"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn rule_file_delimiter_overrides_sniffing() {
    let tmp = tempfile::tempdir().unwrap();
    let rules = tmp.path().join("rules.toml");
    let text = std::fs::read_to_string(common::root().join("rules/default.toml")).unwrap();
    std::fs::write(&rules, set_in_bank(&text, "delimiter", ";")).unwrap();
    let out = recon()
        .args([
            "check",
            "examples/basic/bank.csv",
            "--side",
            "bank",
            "--format",
            "json",
            "--rules",
        ])
        .arg(&rules)
        .output()
        .unwrap();
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // With ';' no row holds the mapped columns: a problem naming the first missing one.
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        (j["delimiter"].as_str(), j["delimiter_source"].as_str()),
        (Some("semicolon"), Some("explicit"))
    );
    let problem = j["problems"][0].as_str().unwrap();
    assert!(
        problem.contains("column \"借方金额\" (from the rule file) is not in the header"),
        "{problem}"
    );
}

#[test]
fn side_without_rules_is_a_usage_error() {
    let out = recon()
        .args(["check", "examples/basic/bank.csv", "--side", "bank"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--rules <PATH>"));
}
