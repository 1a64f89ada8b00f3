//! Workbooks: `.xlsx` and `.xls` read through the binary like CSV, with sheet
//! rows as lines, exact amounts from numeric cells, and clear refusals of
//! files that only look like workbooks. Fixtures: tests/data/excel (README).

mod common;

use common::{check_json, data, recon, rows, summary};

#[test]
fn numeric_and_date_cells_become_exact_text() {
    for file in ["excel/statement.xlsx", "excel/statement.xls"] {
        let (code, j) = check_json(&data(file), &[]);
        assert_eq!(code, 0, "{file}: {j}");
        let kind = file.rsplit('.').next().unwrap();
        assert_eq!(j["encoding"], kind, "{file}");
        assert_eq!(
            j["encoding_detection"], "workbook cells, sheet \"明细\"",
            "{file}"
        );
        assert_eq!(
            (j["delimiter"].as_str(), j["delimiter_source"].as_str()),
            (Some("none"), Some("cells"))
        );
        assert_eq!(j["header_line"], 4, "{file}");
        assert_eq!(j["rows"], 5, "{file}");
        // 128.5 + 1200 + (0.1 + 0.2 as a double) + 6800.01 in, 50 out: exact to the cent.
        assert_eq!(j["income_total"], "8128.81", "{file}");
        assert_eq!(j["expense_total"], "-50", "{file}");
        assert_eq!(j["time_from"], "2026-11-24T09:15:40+08:00", "{file}");
        assert_eq!(j["time_to"], "2026-11-24T23:59:59+08:00", "{file}");
        let skipped: Vec<(u64, u64, &str)> = j["skipped"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                (
                    s["first"].as_u64().unwrap(),
                    s["last"].as_u64().unwrap(),
                    s["reason"].as_str().unwrap(),
                )
            })
            .collect();
        assert_eq!(skipped, [(1, 3, "preamble"), (10, 10, "trailer")], "{file}");
    }
}

#[test]
fn convert_shows_cells_as_a_person_sees_them() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("statement.csv");
    recon()
        .arg("convert")
        .arg(data("excel/statement.xlsx"))
        .arg("-o")
        .arg(&out)
        .assert()
        .success();
    let text = std::fs::read_to_string(&out).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "交易时间,流水号,商户订单号,借方金额,贷方金额,余额,摘要");
    assert_eq!(lines[1], "2026-11-24 09:15:40,B0001,P001,,128.5,1128.5,水费代收");
    assert_eq!(lines[3], "2026-11-24 11:00:30,B0003,P003,,0.3,2328.8,测试入账");
    assert_eq!(lines.len(), 6);
}

#[test]
fn workbook_statements_reconcile_against_a_csv_ledger() {
    for file in ["excel/statement.xlsx", "excel/statement.xls"] {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("out");
        common::run(
            data("excel/ledger.csv"),
            data(file),
            data("excel/rules.toml"),
            &out,
        )
        .assert()
        .code(0);
        let matched = rows(&out.join("matched.csv"));
        let bank: Vec<(String, String)> = matched
            .iter()
            .filter(|r| r["side"] == "bank")
            .map(|r| (r["line"].clone(), r["amount"].clone()))
            .collect();
        let want = [
            ("5", "128.5"),
            ("6", "1200"),
            ("7", "0.3"),
            ("8", "-50"),
            ("9", "6800.01"),
        ];
        let want: Vec<(String, String)> = want.iter().map(|(l, a)| (l.to_string(), a.to_string())).collect();
        assert_eq!(bank, want, "{file}: bank lines are sheet rows");
        assert!(matched.iter().all(|r| r["difference"] == "0.00"), "{file}");
        let s = summary(&out);
        assert_eq!(s["inputs"]["bank"]["encoding"], file.rsplit('.').next().unwrap());
        assert_eq!(s["inputs"]["bank"]["profile"], "generic-bank");
        assert_eq!(s["conservation"]["bank"]["holds"], true);
    }
}

#[test]
fn a_bad_cell_is_reported_at_its_sheet_row_and_column() {
    let (code, j) = check_json(&data("excel/bad_amount.xlsx"), &[]);
    assert_eq!(code, 1);
    let problem = j["problems"][0].as_str().unwrap();
    assert!(
        problem.ends_with(
            "bad_amount.xlsx:6:4: \"12,34.5\" is not an amount: thousands separator ',' is misplaced (expected groups of three digits such as 1,234.56)"
        ),
        "{problem}"
    );
    let tmp = tempfile::tempdir().unwrap();
    common::run(
        data("excel/ledger.csv"),
        data("excel/bad_amount.xlsx"),
        data("excel/rules.toml"),
        tmp.path().join("out"),
    )
    .assert()
    .code(2)
    .stderr(predicates::str::contains("bad_amount.xlsx:6:4:"));
    assert!(!tmp.path().join("out").exists());
}

#[test]
fn files_that_only_look_like_workbooks_are_refused_with_advice() {
    let tmp = tempfile::tempdir().unwrap();
    let zip = tmp.path().join("statement.zip");
    std::fs::write(&zip, b"PK\x03\x04\x14\x00\x00\x00word/document.xml").unwrap();
    let html = tmp.path().join("statement.xls");
    std::fs::write(
        &html,
        "<html><body><table><tr><td>交易日期</td></tr></table></body></html>",
    )
    .unwrap();
    let broken = tmp.path().join("broken.xlsx");
    std::fs::write(
        &broken,
        b"PK\x03\x04\x14\x00\x00\x00xl/workbook.xml and nothing else",
    )
    .unwrap();
    let cases = [
        (zip, "ZIP archive (not an .xlsx workbook): unpack it first"),
        (html, "it is an HTML page"),
        (broken, "cannot read this .xlsx workbook"),
    ];
    for (path, message) in cases {
        recon()
            .arg("check")
            .arg(&path)
            .assert()
            .code(2)
            .stderr(predicates::str::contains(message));
    }
}
