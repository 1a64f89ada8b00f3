//! results.xlsx through the binary, read back with calamine (cell values and
//! types) and as the workbook's XML (frozen header, autofilter, widths,
//! number formats): every sheet holds exactly what its CSV holds.

mod common;

use std::io::Read;
use std::path::Path;

use calamine::{open_workbook, Data, Reader, Xlsx};
use chrono::NaiveDateTime;
use common::{data, run_case, run_nightly, summary, DEFAULT_RULES};

fn run(dir: &Path, rules: &Path, out: &Path, extra: &[&str]) -> i32 {
    run_case(dir, rules, out)
        .args(extra)
        .output()
        .unwrap()
        .status
        .code()
        .unwrap()
}

fn csv_table(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut reader = csv::Reader::from_path(path).unwrap();
    let header = reader.headers().unwrap().iter().map(String::from).collect();
    let rows = reader
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect();
    (header, rows)
}

/// Excel's serial number of a local `YYYY-MM-DDTHH:MM:SS…` time.
fn serial(text: &str) -> f64 {
    let t = NaiveDateTime::parse_from_str(&text[..19], "%Y-%m-%dT%H:%M:%S").unwrap();
    let epoch = NaiveDateTime::parse_from_str("1899-12-30T00:00:00", "%Y-%m-%dT%H:%M:%S").unwrap();
    (t - epoch).num_seconds() as f64 / 86_400.0
}

/// Checks one sheet against its CSV, cell by cell, with the types the workbook promises.
fn assert_sheet_matches_csv(book: &mut Xlsx<std::io::BufReader<std::fs::File>>, sheet: &str, csv: &Path) {
    let (header, rows) = csv_table(csv);
    let range = book.worksheet_range(sheet).unwrap();
    let cells: Vec<Vec<Data>> = range.rows().map(|r| r.to_vec()).collect();
    let mut sheet_header: Vec<String> = cells[0].iter().map(|c| c.to_string()).collect();
    let exact_at = sheet_header.iter().position(|h| h == "amount_exact");
    if let Some(at) = exact_at {
        sheet_header.remove(at);
    }
    assert_eq!(sheet_header, header, "{sheet} header");
    assert_eq!(cells.len() - 1, rows.len(), "{sheet} rows");
    for (r, row) in rows.iter().enumerate() {
        let mut got = cells[r + 1].clone();
        got.resize(header.len() + usize::from(exact_at.is_some()), Data::Empty);
        if let Some(at) = exact_at {
            let exact = got.remove(at);
            let amount = &row[header.iter().position(|h| h == "amount").unwrap()];
            assert_eq!(
                exact,
                Data::String(amount.clone()),
                "{sheet} row {r} amount_exact"
            );
        }
        for (c, text) in row.iter().enumerate() {
            let cell = &got[c];
            let what = format!("{sheet} row {} column {}", r + 2, header[c]);
            if text.is_empty() {
                assert_eq!(*cell, Data::Empty, "{what}");
                continue;
            }
            match header[c].as_str() {
                "amount" | "difference" | "line" => {
                    assert_eq!(*cell, Data::Float(text.parse().unwrap()), "{what}")
                }
                "time" => match cell {
                    Data::DateTime(t) => assert!((t.as_f64() - serial(text)).abs() < 1e-9, "{what}"),
                    other => panic!("{what}: {other:?} is not a date-time"),
                },
                "review" => assert_eq!(*cell, Data::Bool(text == "true"), "{what}"),
                _ => assert_eq!(*cell, Data::String(text.clone()), "{what}"),
            }
        }
    }
}

fn zipped(path: &Path, member: &str) -> String {
    let mut archive = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    let mut text = String::new();
    archive
        .by_name(member)
        .unwrap()
        .read_to_string(&mut text)
        .unwrap();
    text
}

#[test]
fn the_workbook_holds_each_csv_with_typed_cells() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let basic = common::root().join("examples/basic");
    assert_eq!(
        run(
            &basic,
            &common::root().join("rules/default.toml"),
            &out,
            &["--xlsx"]
        ),
        1
    );
    let path = out.join("results.xlsx");
    let mut book: Xlsx<_> = open_workbook(&path).unwrap();
    assert_eq!(
        book.sheet_names(),
        [
            "Summary",
            "Matched",
            "Unmatched",
            "Duplicates",
            "Ignored",
            "Pending",
            "Out of period",
            "Review",
            "Resolutions"
        ]
    );
    for (sheet, file) in [
        ("Matched", "matched.csv"),
        ("Unmatched", "unmatched.csv"),
        ("Duplicates", "duplicates.csv"),
        ("Ignored", "ignored.csv"),
        ("Pending", "pending.csv"),
        ("Out of period", "out_of_period.csv"),
        ("Review", "review.csv"),
    ] {
        assert_sheet_matches_csv(&mut book, sheet, &out.join(file));
    }

    let s = summary(&out);
    let front = book.worksheet_range("Summary").unwrap();
    let row_of = |label: &str| -> Vec<Data> {
        front
            .rows()
            .find(|r| r[0] == Data::String(label.into()))
            .unwrap_or_else(|| panic!("no {label} row"))
            .to_vec()
    };
    for (label, key) in [("input", "input"), ("outputs total", "outputs")] {
        let row = row_of(label);
        for (side, col) in [("ledger", 1), ("bank", 3)] {
            let t = &s["conservation"][side][key];
            assert_eq!(row[col], Data::Float(t["count"].as_u64().unwrap() as f64));
            assert_eq!(
                row[col + 1],
                Data::Float(t["amount"].as_str().unwrap().parse().unwrap())
            );
        }
    }
    let unmatched = row_of("unmatched.csv");
    assert_eq!(
        unmatched[1],
        Data::Float(s["outputs"]["unmatched.csv"]["ledger"]["count"].as_u64().unwrap() as f64)
    );
    assert_eq!(
        row_of("Rules SHA-256")[1],
        Data::String(s["rules"]["sha256"].as_str().unwrap().into())
    );
    assert_eq!(row_of("Conservation (ledger)")[1], Data::String("holds".into()));

    // Frozen header, autofilter over the data, set widths, 2-decimal and date formats.
    let matched_xml = zipped(&path, "xl/worksheets/sheet2.xml");
    assert!(matched_xml
        .contains("<pane ySplit=\"1\" topLeftCell=\"A2\" activePane=\"bottomLeft\" state=\"frozen\"/>"));
    let rows = csv_table(&out.join("matched.csv")).1.len();
    assert!(
        matched_xml.contains(&format!("<autoFilter ref=\"A1:O{}\"/>", rows + 1)),
        "{matched_xml}"
    );
    assert!(matched_xml.contains("<cols><col min=\"1\" max=\"1\" width="));
    let styles = zipped(&path, "xl/styles.xml");
    assert!(styles.contains("formatCode=\"#,##0.00\""));
    assert!(styles.contains("formatCode=\"yyyy-mm-dd hh:mm:ss\""));
}

#[test]
fn values_beyond_double_precision_keep_an_exact_copy() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let dir = data("xlsx");
    assert_eq!(run(&dir, &dir.join("rules.toml"), &out, &["--xlsx"]), 0);
    let path = out.join("results.xlsx");
    let mut book: Xlsx<_> = open_workbook(&path).unwrap();
    assert_sheet_matches_csv(&mut book, "Matched", &out.join("matched.csv"));
    assert_sheet_matches_csv(&mut book, "Ignored", &out.join("ignored.csv"));
    let matched = book.worksheet_range("Matched").unwrap();
    let header: Vec<String> = matched
        .rows()
        .next()
        .unwrap()
        .iter()
        .map(|c| c.to_string())
        .collect();
    let amount = header.iter().position(|h| h == "amount").unwrap();
    assert_eq!(header[amount + 1], "amount_exact");
    let big = matched.rows().nth(1).unwrap();
    assert_eq!(big[amount], Data::Float(12345678901234.56));
    assert_eq!(big[amount + 1], Data::String("12345678901234.56".into()));
    // 23:59:50 local stays 23:59:50, and the bank row after midnight is on the next day.
    let time = header.iter().position(|h| h == "time").unwrap();
    let serials: Vec<f64> = matched
        .rows()
        .skip(1)
        .take(2)
        .map(|r| match &r[time] {
            Data::DateTime(t) => t.as_f64(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert!((serials[0] - serial("2026-11-24T23:59:50")).abs() < 1e-9);
    assert!((serials[1] - serial("2026-11-25T00:00:20")).abs() < 1e-9);
    // Formula-like text stays text, exactly as the CSV writes it.
    let account = header.iter().position(|h| h == "account").unwrap();
    assert_eq!(
        matched.rows().nth(3).unwrap()[account],
        Data::String("'=HYPERLINK(\"http://x\")".into())
    );
    assert!(
        !zipped(&path, "xl/worksheets/sheet2.xml").contains("<f>"),
        "no formulas"
    );
}

#[test]
fn no_workbook_without_the_flag() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let dir = data("xlsx");
    assert_eq!(run(&dir, &dir.join("rules.toml"), &out, &[]), 0);
    assert!(out.join("report.html").is_file());
    assert!(!out.join("results.xlsx").exists());
}

#[test]
fn pending_and_out_of_period_rows_get_their_sheets() {
    let tmp = tempfile::tempdir().unwrap();
    let day = |date: &str, out: &Path, carry: Option<&Path>| {
        let mut cmd = run_nightly(date, out);
        cmd.arg("--xlsx");
        if let Some(c) = carry {
            cmd.arg("--carry-in").arg(c);
        }
        cmd.output().unwrap().status.code().unwrap()
    };
    let (first, second) = (tmp.path().join("d1"), tmp.path().join("d2"));
    assert_eq!(day("2026-11-24", &first, None), 0);
    assert_eq!(day("2026-11-25", &second, Some(&first)), 1);
    for out in [&first, &second] {
        let mut book: Xlsx<_> = open_workbook(out.join("results.xlsx")).unwrap();
        for (sheet, file) in [
            ("Matched", "matched.csv"),
            ("Unmatched", "unmatched.csv"),
            ("Duplicates", "duplicates.csv"),
            ("Pending", "pending.csv"),
            ("Out of period", "out_of_period.csv"),
        ] {
            assert!(!csv_table(&out.join(file)).1.is_empty() || file != "pending.csv");
            assert_sheet_matches_csv(&mut book, sheet, &out.join(file));
        }
    }
}

#[test]
fn a_role_sees_the_same_masked_values_in_every_view() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let basic = common::root().join("examples/basic");
    let code = run_case(&basic, Path::new(DEFAULT_RULES), &out)
        .args(["--role", "auditor", "--xlsx"])
        .env("RECON_MASK_SALT", "0123456789abcdef0123")
        .output()
        .unwrap()
        .status
        .code();
    assert_eq!(code, Some(1));
    // The ledger's account holders and card numbers, and the statement's memos, in clear.
    let ledger = csv_table(&basic.join("ledger.csv"));
    let column = |name: &str| {
        ledger
            .0
            .iter()
            .position(|h| h.trim_start_matches('\u{feff}') == name)
            .unwrap()
    };
    let (holder, card) = (column("户号"), column("付款账号"));
    let mut secrets: Vec<String> = ledger
        .1
        .iter()
        .flat_map(|r| [r[holder].clone(), r[card].clone()])
        .collect();
    secrets.extend(["电费代收".to_string(), "未知来账".to_string()]);

    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    let mut workbook_xml = String::new();
    let mut archive = zip::ZipArchive::new(std::fs::File::open(out.join("results.xlsx")).unwrap()).unwrap();
    for i in 0..archive.len() {
        archive
            .by_index(i)
            .unwrap()
            .read_to_string(&mut workbook_xml)
            .unwrap();
    }
    for secret in &secrets {
        assert!(!html.contains(secret.as_str()), "{secret} in report.html");
        assert!(
            !workbook_xml.contains(secret.as_str()),
            "{secret} in results.xlsx"
        );
    }
    // What they show instead is exactly what the CSVs show.
    let unmatched = common::rows(&out.join("unmatched.csv"));
    let p009 = unmatched.iter().find(|r| r["key"] == "P009").unwrap();
    assert_eq!(p009["付款账号"], "6228********9999");
    assert!(html.contains("<td>6228********9999</td>"));
    assert!(html.contains(&format!("<td>{}</td>", p009["户号"])));
    assert!(!html.contains("摘要"), "the dropped column is not shown");
    let mut book: Xlsx<_> = open_workbook(out.join("results.xlsx")).unwrap();
    for (sheet, file) in [("Matched", "matched.csv"), ("Unmatched", "unmatched.csv")] {
        assert_sheet_matches_csv(&mut book, sheet, &out.join(file));
    }
}
