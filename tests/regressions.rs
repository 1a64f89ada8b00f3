//! Inputs that crashed, hung or exhausted memory when fuzzed (fuzz/, see
//! CONTRIBUTING.md), kept in tests/data/regressions and run through the
//! binary (and the library function the fuzz target called). Each now gets a
//! clear answer: a refusal with exit code 2, or a correct reading.

mod common;

use std::path::Path;
use std::process::Output;

use common::{data, recon, stderr};

fn check(file: &Path) -> Output {
    recon().arg("check").arg(file).output().unwrap()
}

/// A damaged `.xls` on which the workbook reader indexes out of bounds: a
/// clear refusal, and no panic message.
#[test]
fn xls_whose_sector_lies_beyond_the_file() {
    let file = data("regressions/xls_sector_out_of_bounds.xls");
    let done = check(&file);
    assert_eq!(done.status.code(), Some(2));
    let message = stderr(&done);
    assert!(
        message.contains("xls_sector_out_of_bounds.xls:1:1: cannot read this .xls workbook: its internal structure is damaged"),
        "{message}"
    );
    assert!(
        message.contains("save it again, or export the sheet as CSV"),
        "{message}"
    );
    assert!(!message.contains("panicked"), "{message}");
}

/// `.xls` files of a few kB whose sector chain loops (the second through a
/// sector the file ends inside): the reader appended the same sector until
/// the machine ran out of memory (24 GB and counting).
#[test]
fn xls_whose_sector_chain_loops() {
    for (name, side) in [
        ("xls_sector_chain_loop.xls", "ledger"),
        ("xls_sector_chain_loop.xls", "bank"),
        ("xls_partial_sector_chain_loop.xls", "bank"),
    ] {
        let file = data(&format!("regressions/{name}"));
        let done = recon()
            .args(["check", "--rules", "rules/default.toml", "--side", side])
            .arg(&file)
            .output()
            .unwrap();
        assert_eq!(done.status.code(), Some(2));
        assert!(
            stderr(&done).contains(&format!(
                "{name}:1:1: cannot read this .xls workbook: a chain of its sectors loops back on itself, so it is damaged or not a real export"
            )),
            "{}",
            stderr(&done)
        );
    }
}

/// A 1.5 kB `.xlsx` with cells in A1 and XFD1048576: the reader allocated
/// the 17-billion-cell grid between them (550 GB) and the process aborted.
/// Read cell by cell, it is a sheet of two rows.
#[test]
fn xlsx_with_two_cells_far_apart() {
    let file = data("regressions/xlsx_cells_far_apart.xlsx");
    let done = recon()
        .args(["check", "--format", "json"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(done.status.code(), Some(0), "{}", stderr(&done));
    let report: serde_json::Value = serde_json::from_slice(&done.stdout).unwrap();
    assert_eq!(report["encoding"], "xlsx");
    assert_eq!(report["header_line"], 1);
    assert_eq!(report["header"].as_array().unwrap().len(), 16_384);
    assert_eq!(report["total_lines"], 1_048_576);
}

/// A time in the year 26: Shanghai's local mean time then was +08:05:43,
/// which was written back as +08:06, another instant. Such years are typos.
#[test]
fn time_in_the_year_26() {
    let text = std::fs::read_to_string(data("regressions/time_year_0026.txt")).unwrap();
    let parsed = recon::input::time::parse_time(
        &text,
        &recon::input::time::TimeLayout::Auto,
        chrono_tz::Asia::Shanghai,
    );
    assert!(
        matches!(
            parsed,
            Err(recon::input::time::TimeError::Implausible { year: 26, .. })
        ),
        "{parsed:?}"
    );
    let tmp = tempfile::tempdir().unwrap();
    let ledger = tmp.path().join("ledger.csv");
    std::fs::write(
        &ledger,
        format!("订单号,商户号,缴费类型,金额,支付时间,户号,付款账号\nP1,M,水费,1.00,{text},H,6\n"),
    )
    .unwrap();
    let done = recon()
        .args(["check", "--rules", "rules/default.toml", "--side", "ledger"])
        .arg(&ledger)
        .output()
        .unwrap();
    assert_eq!(done.status.code(), Some(1));
    let report = String::from_utf8_lossy(&done.stdout);
    assert!(
        report.contains("ledger.csv:2:5: \"0026-11-2 05:30:03 +0800\" is in the year 26: payment times lie between 1970 and 2199; correct the date"),
        "{report}"
    );
}
