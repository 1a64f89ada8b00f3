//! `recon confirm` through the binary: a reviewer confirms a flagged match
//! and an exception row, a later run shows both as confirmed (in
//! summary.json, review.csv and on stdout) even when match ids and lines have
//! moved, and items that need no confirmation are refused.

mod common;

use std::path::Path;
use std::process::Output;

use common::{data, recon, rows, run_case, run_example, run_nightly, stderr, summary, DEFAULT_RULES};

fn run_day(day: &str, out: &Path, audit: &Path) -> Output {
    let out_ = run_case(&data(&format!("confirm/{day}")), Path::new(DEFAULT_RULES), out)
        .arg("--audit")
        .arg(audit)
        .output()
        .unwrap();
    assert_eq!(out_.status.code(), Some(1), "{}", stderr(&out_));
    out_
}

fn confirm(dir: &Path, target: &[&str], by: &str, note: &str) -> Output {
    recon()
        .arg("confirm")
        .arg(dir)
        .args(target)
        .args(["--by", by, "--note", note])
        .output()
        .unwrap()
}

fn review_rows(dir: &Path) -> Vec<std::collections::BTreeMap<String, String>> {
    rows(&dir.join("review.csv"))
}

#[test]
fn confirmations_show_in_the_next_run_even_when_ids_and_lines_move() {
    let tmp = tempfile::tempdir().unwrap();
    let (day1, day2) = (tmp.path().join("day1"), tmp.path().join("day2"));
    let log = tmp.path().join("audit.log");
    run_day("day1", &day1, &log);
    let before = review_rows(&day1);
    let items: Vec<(&str, &str)> = before
        .iter()
        .map(|r| (r["item"].as_str(), r["kind"].as_str()))
        .collect();
    assert_eq!(items, [("M000002", "review"), ("ledger:4", "unmatched")]);
    assert!(before.iter().all(|r| r["confirmed_by"].is_empty()));

    let done = confirm(
        &day1,
        &["--match-id", "M000002"],
        "Li Wei",
        "called the bank: tuition paid",
    );
    assert_eq!(
        done.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );
    let said = String::from_utf8(done.stdout).unwrap();
    assert!(
        said.starts_with("confirmed M000002 (review) by Li Wei: recorded at line 3 of"),
        "{said}"
    );
    let done = confirm(&day1, &["--row", "ledger:4"], "Zhang San", "refunded on 11-25");
    assert_eq!(done.status.code(), Some(0));

    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    // Lines 1 and 2 are day 1's run (started, published).
    assert_eq!(lines[2]["kind"], "confirm");
    assert_eq!(lines[2]["item"], "M000002");
    assert_eq!(lines[2]["identity"], before[0]["identity"].as_str());
    assert_eq!(lines[2]["confirms_run"], summary(&day1)["run_id"]);
    assert_eq!(lines[2]["by"], "Li Wei");

    // Day 2 is the same day re-exported with one more matched pair on top:
    // the flagged match is now M000003 and the unmatched row ledger:5.
    let printed = run_day("day2", &day2, &log);
    let after = review_rows(&day2);
    let confirmed: Vec<(&str, &str)> = after
        .iter()
        .map(|r| (r["item"].as_str(), r["confirmed_by"].as_str()))
        .collect();
    assert_eq!(confirmed, [("M000003", "Li Wei"), ("ledger:5", "Zhang San")]);
    assert_eq!(after[0]["confirm_note"], "called the bank: tuition paid");
    let s = summary(&day2);
    assert_eq!(s["confirmations"]["items"], 2);
    assert_eq!(s["confirmations"]["confirmed"], 2);
    assert_eq!(s["confirmations"]["confirmed_items"][0]["item"], "M000003");
    assert_eq!(s["confirmations"]["confirmed_items"][0]["by"], "Li Wei");
    assert_eq!(s["confirmations"]["confirmed_items"][0]["audit_line"], 3);
    assert_eq!(s["confirmations"]["confirmed_items"][1]["item"], "ledger:5");
    let stdout = String::from_utf8(printed.stdout).unwrap();
    assert!(stdout.contains("confirmed 2 of 2 review item(s)"), "{stdout}");
    assert!(stdout.contains("  M000003 review by Li Wei at "), "{stdout}");
    assert!(
        stdout.contains("  ledger:5 unmatched by Zhang San at "),
        "{stdout}"
    );
    let run_line: serde_json::Value =
        serde_json::from_str(std::fs::read_to_string(&log).unwrap().lines().last().unwrap()).unwrap();
    assert_eq!(
        run_line["review"],
        serde_json::json!({"items": 2, "confirmed": 2})
    );
}

#[test]
fn a_run_after_a_tampered_log_applies_no_confirmation_and_says_so() {
    let tmp = tempfile::tempdir().unwrap();
    let day1 = tmp.path().join("day1");
    let log = tmp.path().join("audit.log");
    run_day("day1", &day1, &log);
    assert_eq!(
        confirm(&day1, &["--match-id", "M000002"], "Li Wei", "ok")
            .status
            .code(),
        Some(0)
    );
    let text = std::fs::read_to_string(&log).unwrap();
    std::fs::write(
        &log,
        text.replacen("\"by\":\"Li Wei\"", "\"by\":\"Somebody Else\"", 1),
    )
    .unwrap();
    let printed = run_day("day1", &day1, &log);
    let err = String::from_utf8(printed.stderr).unwrap();
    assert!(err.contains("the audit chain is broken"), "{err}");
    assert!(err.contains("line 3 was altered"), "{err}");
    assert_eq!(summary(&day1)["confirmations"]["confirmed"], 0);
}

#[test]
fn what_needs_no_confirmation_is_refused_and_nothing_is_recorded() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let log = tmp.path().join("audit.log");
    let ran = run_example(&out).output().unwrap();
    assert_eq!(ran.status.code(), Some(1));
    let before = std::fs::read(&log).unwrap();
    let cases: [(&[&str], &str); 7] = [
        (
            &["--match-id", "M000001"],
            "M000001 is a match in matched.csv that is not flagged for review",
        ),
        (&["--match-id", "M999999"], "no match M999999 in"),
        (
            &["--row", "ledger:2"],
            "ledger:2 is matched (M000001 in matched.csv), not an exception",
        ),
        (
            &["--row", "ledger:12"],
            "ledger:12 is in ignored.csv, not an exception",
        ),
        (&["--row", "bank:99"], "no row bank:99 in"),
        (&["--row", "ledger-10"], "--row ledger-10: write SIDE:LINE"),
        (&[], "--match-id"),
    ];
    for (target, expected) in cases {
        let refused = confirm(&out, target, "Li Wei", "checked");
        assert_eq!(refused.status.code(), Some(2), "{target:?}");
        let err = String::from_utf8(refused.stderr).unwrap();
        assert!(err.contains(expected), "{target:?}: {err}");
    }
    let empty_note = confirm(&out, &["--row", "ledger:10"], "Li Wei", " ");
    assert_eq!(empty_note.status.code(), Some(2));
    let not_results = confirm(tmp.path(), &["--row", "ledger:10"], "Li Wei", "checked");
    assert_eq!(not_results.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&not_results.stderr).contains("review.csv: cannot read"));
    assert_eq!(
        std::fs::read(&log).unwrap(),
        before,
        "a refused confirmation was recorded"
    );

    let accepted = confirm(
        &out,
        &["--row", "BANK:14"],
        "Li Wei",
        "double submission, refunded",
    );
    assert_eq!(accepted.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&accepted.stdout).starts_with("confirmed bank:14 (duplicate)"));
}

#[test]
fn a_carried_in_row_still_alone_after_its_grace_can_be_confirmed() {
    let tmp = tempfile::tempdir().unwrap();
    let (day1, day2) = (tmp.path().join("d1"), tmp.path().join("d2"));
    let nightly = |date: &str, out: &Path| {
        run_nightly(date, out)
            .args(if date.ends_with("25") {
                vec!["--carry-in".to_string(), day1.display().to_string()]
            } else {
                vec![]
            })
            .output()
            .unwrap()
    };
    assert_eq!(nightly("2026-11-24", &day1).status.code(), Some(0));
    assert_eq!(nightly("2026-11-25", &day2).status.code(), Some(1));
    let items = review_rows(&day2);
    let carried = items
        .iter()
        .find(|r| r["item"].starts_with("carried:ledger:"))
        .unwrap();
    assert_eq!(carried["detail"], "no_counterpart_after_grace");
    let done = confirm(
        &day2,
        &["--row", &carried["item"]],
        "Li Wei",
        "written off, ticket 17",
    );
    assert_eq!(
        done.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );
    let matched_carried = confirm(&day2, &["--row", "carried:ledger:5"], "Li Wei", "x");
    assert!(String::from_utf8_lossy(&matched_carried.stderr).contains("carried:ledger:5 is matched"));
}
