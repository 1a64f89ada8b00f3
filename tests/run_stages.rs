//! Each match stage and threshold of `recon run` on small hand-made days,
//! with the correct outcome of every row written down here: tolerances
//! (absolute and percent) at their edges, fallback windows as instants
//! across time zones, split payments both ways, refunds, duplicates and
//! the ignore/review thresholds at their exact limits.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::{rows, run_case};

/// Ledger times are Asia/Shanghai, bank times UTC; `extra` holds the
/// thresholds, duplicates and stage sections.
fn rules(extra: &str) -> String {
    format!(
        r#"[rules]
name = "stages"
version = "1"
effective_from = 2026-01-01

[ledger]
timezone = "Asia/Shanghai"
[ledger.columns]
key = "id"
merchant = "merchant"
amount = "amount"
time = "time"

[bank]
timezone = "UTC"
[bank.columns]
key = "id"
merchant = "merchant"
amount = "amount"
time = "time"

{extra}
"#
    )
}

/// Runs one day and returns `side:line` → outcome, one per input row:
/// `matched STAGE [review]`, `unmatched REASON COUNTERPART`, `duplicate OF`, `ignored`.
fn reconcile(ledger: &str, bank: &str, extra: &str) -> (i32, BTreeMap<String, String>) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let header = "id,merchant,amount,time\n";
    std::fs::write(dir.join("ledger.csv"), format!("{header}{ledger}")).unwrap();
    std::fs::write(dir.join("bank.csv"), format!("{header}{bank}")).unwrap();
    std::fs::write(dir.join("rules.toml"), rules(extra)).unwrap();
    let out = dir.join("out");
    let done = run_case(dir, &dir.join("rules.toml"), &out).output().unwrap();
    let code = done.status.code().unwrap();
    assert!(code < 2, "{}", String::from_utf8_lossy(&done.stderr));
    (code, outcomes(&out))
}

fn outcomes(out: &Path) -> BTreeMap<String, String> {
    let mut seen = BTreeMap::new();
    let mut put = |file: &str, describe: &dyn Fn(&BTreeMap<String, String>) -> String| {
        for r in rows(&out.join(file)) {
            let key = format!("{}:{}", r["side"], r["line"]);
            assert!(seen.insert(key.clone(), describe(&r)).is_none(), "{key} twice");
        }
    };
    put("matched.csv", &|r| {
        let review = if r["review"] == "true" { " review" } else { "" };
        format!("matched {} {}{review}", r["stage"], r["match_id"])
    });
    put("unmatched.csv", &|r| {
        format!("unmatched {} {}", r["reason"], r["counterpart"])
            .trim_end()
            .to_string()
    });
    put("duplicates.csv", &|r| format!("duplicate {}", r["duplicate_of"]));
    put("ignored.csv", &|_| "ignored".to_string());
    seen
}

fn expect(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

const KEY_001: &str = "[[stage]]\nname = \"key\"\nmatch = \"key\"\ntolerance = \"0.01\"\n";

#[test]
fn absolute_tolerance_allows_its_limit_and_no_more() {
    let (code, got) = reconcile(
        "A,M,100.00,2026-11-24 10:00:00\nB,M,100.00,2026-11-24 10:00:00\nC,M,100.00,2026-11-24 10:00:00\n",
        "A,M,99.99,2026-11-24 02:00:00\nB,M,100.01,2026-11-24 02:00:00\nC,M,99.98,2026-11-24 02:00:00\n",
        KEY_001,
    );
    assert_eq!(code, 1);
    assert_eq!(
        got,
        expect(&[
            ("ledger:2", "matched key M000001"),
            ("bank:2", "matched key M000001"),
            ("ledger:3", "matched key M000002"),
            ("bank:3", "matched key M000002"),
            ("ledger:4", "unmatched amount_mismatch bank:4"),
            ("bank:4", "unmatched amount_mismatch ledger:4"),
        ])
    );
}

#[test]
fn percent_tolerance_is_a_share_of_the_ledger_amount() {
    // 0.6% of 500.00 is 3.00: 497.00 is in, 496.99 is out.
    let stage = "[[stage]]\nname = \"fee\"\nmatch = \"key\"\ntolerance = \"0.6%\"\n";
    let (_, got) = reconcile(
        "A,M,500.00,2026-11-24 10:00:00\nB,M,500.00,2026-11-24 10:00:00\n",
        "A,M,497.00,2026-11-24 02:00:00\nB,M,496.99,2026-11-24 02:00:00\n",
        stage,
    );
    assert_eq!(got["ledger:2"], "matched fee M000001");
    assert_eq!(got["bank:2"], "matched fee M000001");
    assert_eq!(got["ledger:3"], "unmatched amount_mismatch bank:3");
}

#[test]
fn fallback_window_is_inclusive_and_compares_instants_across_zones() {
    // Ledger 10:00:00 Shanghai = 02:00:00 UTC. Window 0s..120s after it.
    let stage = "[[stage]]\nname = \"fb\"\nmatch = \"fallback\"\non = [\"merchant\", \"amount\"]\nwindow = [\"0s\", \"120s\"]\n";
    let (_, got) = reconcile(
        ",M1,10.00,2026-11-24 10:00:00\n,M2,20.00,2026-11-24 10:00:00\n,M3,30.00,2026-11-24 10:00:00\n,M4,40.00,2026-11-24 10:00:00\n,M5,50.00,2026-11-24 10:00:00\n",
        ",M1,10.00,2026-11-24 02:00:00\n,M2,20.00,2026-11-24 02:02:00\n,M3,30.00,2026-11-24 02:02:01\n,M4,40.00,2026-11-24 01:59:59\n,M5,50.00,2026-11-24 10:00:30\n",
        stage,
    );
    assert_eq!(
        got,
        expect(&[
            ("ledger:2", "matched fb M000001"),
            ("bank:2", "matched fb M000001"),
            ("ledger:3", "matched fb M000002"),
            ("bank:3", "matched fb M000002"),
            ("ledger:4", "unmatched no_counterpart"),
            ("bank:4", "unmatched no_counterpart"),
            ("ledger:5", "unmatched no_counterpart"),
            ("bank:5", "unmatched no_counterpart"),
            // Same wall-clock time, but eight hours later as an instant.
            ("ledger:6", "unmatched no_counterpart"),
            ("bank:6", "unmatched no_counterpart"),
        ])
    );
}

#[test]
fn fallback_never_pairs_two_different_keys_and_needs_the_same_merchant() {
    let stage = "[[stage]]\nname = \"fb\"\nmatch = \"fallback\"\nwindow = [\"0s\", \"120s\"]\n";
    let (_, got) = reconcile(
        "A,M1,10.00,2026-11-24 10:00:00\nB,M1,20.00,2026-11-24 10:00:00\nC,M1,30.00,2026-11-24 10:00:00\n",
        "X,M1,10.00,2026-11-24 02:00:10\n,M1,20.00,2026-11-24 02:00:10\n,M2,30.00,2026-11-24 02:00:10\n",
        stage,
    );
    assert_eq!(got["ledger:2"], "unmatched no_counterpart");
    assert_eq!(got["bank:2"], "unmatched no_counterpart");
    assert_eq!(got["ledger:3"], "matched fb M000001");
    assert_eq!(got["bank:3"], "matched fb M000001");
    assert_eq!(got["ledger:4"], "unmatched no_counterpart");
}

#[test]
fn split_matches_one_to_many_and_many_to_one_but_not_beyond_max_parts() {
    let stages = "[[stage]]\nname = \"key\"\nmatch = \"key\"\n\n[[stage]]\nname = \"split\"\nmatch = \"split\"\ntolerance = \"0.01\"\nmax_parts = 3\n";
    let (_, got) = reconcile(
        // S1: one ledger row, two bank rows. S2: three ledger rows, one bank row (0.01 off).
        // S3: four bank rows is more than max_parts.
        "S1,M,300.00,2026-11-24 10:00:00\nS2,M,10.00,2026-11-24 10:00:00\nS2,M,20.00,2026-11-24 10:00:01\nS2,M,30.00,2026-11-24 10:00:02\nS3,M,4.00,2026-11-24 10:00:00\n",
        "S1,M,100.00,2026-11-24 02:00:00\nS1,M,200.00,2026-11-24 02:00:01\nS2,M,60.01,2026-11-24 02:00:00\nS3,M,1.00,2026-11-24 02:00:00\nS3,M,1.00,2026-11-24 02:00:01\nS3,M,1.00,2026-11-24 02:00:02\nS3,M,1.00,2026-11-24 02:00:03\n",
        stages,
    );
    for r in ["ledger:2", "bank:2", "bank:3"] {
        assert_eq!(got[r], "matched split M000001", "{r}");
    }
    for r in ["ledger:3", "ledger:4", "ledger:5", "bank:4"] {
        assert_eq!(got[r], "matched split M000002", "{r}");
    }
    assert_eq!(
        got["ledger:6"],
        "unmatched amount_mismatch bank:5 bank:6 bank:7 bank:8"
    );
    assert_eq!(got["bank:8"], "unmatched amount_mismatch ledger:6");
}

#[test]
fn refunds_match_refunds_and_are_never_netted() {
    let (_, got) = reconcile(
        "A,M,100.00,2026-11-24 10:00:00\nA,M,-30.00,2026-11-24 12:00:00\nB,M,50.00,2026-11-24 10:00:00\nB,M,-50.00,2026-11-24 11:00:00\n",
        // Bank nets A into one 70.00 row; B's refund is missing.
        "A,M,70.00,2026-11-24 04:00:00\nB,M,50.00,2026-11-24 02:00:00\n",
        "[[stage]]\nname = \"key\"\nmatch = \"key\"\n\n[[stage]]\nname = \"split\"\nmatch = \"split\"\n",
    );
    assert_eq!(got["ledger:2"], "unmatched amount_mismatch bank:2");
    assert_eq!(got["ledger:3"], "unmatched no_counterpart");
    assert_eq!(got["bank:2"], "unmatched amount_mismatch ledger:2");
    assert_eq!(got["ledger:4"], "matched key M000001");
    assert_eq!(got["bank:3"], "matched key M000001");
    assert_eq!(got["ledger:5"], "unmatched no_counterpart");
}

#[test]
fn duplicates_point_at_the_row_they_repeat_within_the_window() {
    let extra = format!("[duplicates]\nwindow = \"10m\"\n\n{KEY_001}");
    let (_, got) = reconcile(
        "A,M,45.00,2026-11-24 10:00:00\nA,M,45.00,2026-11-24 10:05:00\nA,M,45.00,2026-11-24 11:00:00\n",
        "A,M,45.00,2026-11-24 02:00:10\nA,M,45.00,2026-11-24 02:00:50\n",
        &extra,
    );
    // Two pairs match. The third ledger row is 55 min after ledger:3, outside the
    // 10 min window, so it is no duplicate: unmatched, and both bank rows with its
    // key (same amount) are taken by other rows.
    assert_eq!(got["ledger:2"], "matched key M000001");
    assert_eq!(got["ledger:3"], "matched key M000002");
    assert_eq!(got["ledger:4"], "unmatched counterpart_matched bank:2 bank:3");
    let (_, got) = reconcile(
        "A,M,45.00,2026-11-24 10:00:00\n",
        "A,M,45.00,2026-11-24 02:00:10\nA,M,45.00,2026-11-24 02:00:50\nA,M,45.00,2026-11-24 03:00:00\n",
        &extra,
    );
    assert_eq!(got["bank:2"], "matched key M000001");
    assert_eq!(got["bank:3"], "duplicate bank:2");
    assert_eq!(got["bank:4"], "unmatched counterpart_matched ledger:2");
}

#[test]
fn thresholds_at_their_exact_limits() {
    // ignore_below is strict (below 10.00 only); review_above includes its limit.
    let extra = format!("[thresholds]\nignore_below = \"10.00\"\nreview_above = \"5000.00\"\n\n{KEY_001}");
    let (_, got) = reconcile(
        "A,M,9.99,2026-11-24 10:00:00\nB,M,10.00,2026-11-24 10:00:00\nC,M,5000.00,2026-11-24 10:00:00\nD,M,4999.99,2026-11-24 10:00:00\nE,M,-9.99,2026-11-24 10:00:00\n",
        "C,M,5000.00,2026-11-24 02:00:00\nD,M,4999.99,2026-11-24 02:00:00\n",
        &extra,
    );
    assert_eq!(
        got,
        expect(&[
            ("ledger:2", "ignored"),
            ("ledger:3", "unmatched no_counterpart"),
            ("ledger:4", "matched key M000001 review"),
            ("bank:2", "matched key M000001 review"),
            ("ledger:5", "matched key M000002"),
            ("bank:3", "matched key M000002"),
            ("ledger:6", "ignored"),
        ])
    );
}

#[test]
fn a_day_with_only_matches_exits_zero() {
    let (code, got) = reconcile(
        "A,M,1.00,2026-11-24 10:00:00\n",
        "A,M,1.00,2026-11-24 02:00:00\n",
        KEY_001,
    );
    assert_eq!(code, 0);
    assert_eq!(got.len(), 2);
}

#[test]
fn line_numbers_count_the_physical_lines_of_multi_line_rows() {
    // Ledger row A's merchant spans lines 2-4, so B starts on line 5 and C on 7.
    let (_, got) = reconcile(
        "A,\"M\nwater\nbill\",1.00,2026-11-24 10:00:00\nB,M,2.00,2026-11-24 10:00:00\r\n\"C\",\"M\r\nX\",3.00,2026-11-24 10:00:00\n",
        "A,\"M\nwater\nbill\",1.00,2026-11-24 02:00:00\nC,X,3.00,2026-11-24 02:00:00\n",
        KEY_001,
    );
    assert_eq!(
        got,
        expect(&[
            ("ledger:2", "matched key M000001"),
            ("bank:2", "matched key M000001"),
            ("ledger:5", "unmatched no_counterpart"),
            ("ledger:6", "matched key M000002"),
            ("bank:5", "matched key M000002"),
        ])
    );
}

#[test]
fn clean_ups_strip_a_prefix_before_matching() {
    let extra = format!("[[bank.clean]]\ncolumn = \"id\"\nstrip_prefix = \"ORD-\"\n\n{KEY_001}");
    let (code, got) = reconcile(
        "A1,M,1.00,2026-11-24 10:00:00\n",
        "ORD-A1,M,1.00,2026-11-24 02:00:00\n",
        &extra,
    );
    assert_eq!(code, 0);
    assert_eq!(got["bank:2"], "matched key M000001");
}
