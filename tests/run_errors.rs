//! Failed runs change nothing: bad rows stop the run (or go to rejected.csv
//! with --skip-bad-rows), and a results directory is only ever replaced whole.

mod common;

use common::{data, rows, run_ledger, snapshot, summary};

fn run(ledger: &std::path::Path, out: &std::path::Path, extra: &[&str]) -> std::process::Output {
    run_ledger(ledger, out).args(extra).output().unwrap()
}

#[test]
fn bad_rows_stop_the_run_and_leave_previous_results_untouched() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let good = common::root().join("examples/basic/ledger.csv");
    assert_eq!(run(&good, &out, &[]).status.code(), Some(1));
    let before = snapshot(&out);

    let failed = run(&data("run/ledger_bad_rows.csv"), &out, &[]);
    assert_eq!(failed.status.code(), Some(2));
    let err = String::from_utf8(failed.stderr).unwrap();
    assert!(err.contains("2 bad row(s); nothing was written"), "{err}");
    assert!(
        err.contains("ledger_bad_rows.csv:3:4: \"1e5\" is not an amount"),
        "{err}"
    );
    assert!(
        err.contains("ledger_bad_rows.csv:4:5: \"2026-02-30 11:00:00\" does not exist"),
        "{err}"
    );
    assert!(err.contains("--skip-bad-rows"), "{err}");
    assert_eq!(snapshot(&out), before, "previous results changed");
    let mut leftovers: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    leftovers.sort();
    assert_eq!(leftovers, ["audit.log", "out"], "temporary files left behind");
}

#[test]
fn skip_bad_rows_sets_them_aside_and_counts_them() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let done = run(&data("run/ledger_bad_rows.csv"), &out, &["--skip-bad-rows"]);
    assert_eq!(done.status.code(), Some(1));
    let rejected = rows(&out.join("rejected.csv"));
    let refs: Vec<String> = rejected
        .iter()
        .map(|r| format!("{}:{}:{}", r["side"], r["line"], r["column"]))
        .collect();
    assert_eq!(refs, ["ledger:3:4", "ledger:4:5"]);
    assert!(rejected[0]["raw"].starts_with("P002,M-POWER,电费,1e5,"));
    let s = summary(&out);
    assert_eq!(s["inputs"]["ledger"]["rejected"], 2);
    assert_eq!(s["conservation"]["ledger"]["input"]["count"], 4);
    assert_eq!(s["conservation"]["ledger"]["holds"], true);
    assert_eq!(s["outputs"]["rejected.csv"]["ledger"]["count"], 2);
}

#[test]
fn a_directory_that_is_not_recon_results_is_never_replaced() {
    let tmp = tempfile::tempdir().unwrap();
    let precious = tmp.path().join("documents");
    std::fs::create_dir(&precious).unwrap();
    std::fs::write(precious.join("thesis.txt"), "do not delete").unwrap();
    let refused = run(&common::root().join("examples/basic/ledger.csv"), &precious, &[]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("is not a recon results directory"));
    assert_eq!(
        std::fs::read_to_string(precious.join("thesis.txt")).unwrap(),
        "do not delete"
    );
}

#[test]
fn missing_input_and_directory_as_input_are_clear_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = run(&tmp.path().join("nope.csv"), &tmp.path().join("out"), &[]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("nope.csv: cannot read"));
    let dir = run(tmp.path(), &tmp.path().join("out"), &[]);
    assert_eq!(dir.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&dir.stderr).contains("is a directory, not a file"));
    assert!(!tmp.path().join("out").exists());
}

#[test]
fn json_format_prints_the_summary() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let done = run(
        &common::root().join("examples/basic/ledger.csv"),
        &out,
        &["--format", "json"],
    );
    let printed: serde_json::Value = serde_json::from_slice(&done.stdout).unwrap();
    assert_eq!(printed, summary(&out));
}
