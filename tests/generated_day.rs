//! A generated day (examples/gen_day.rs) reconciled by the real binary: every
//! row of the ground truth must land in the right output with the right
//! stage, reason or duplicate_of, and nothing else may appear.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::{rows, summary};

/// (side:line) → "outcome detail" as the outputs say.
fn observed(out: &Path) -> BTreeMap<String, String> {
    let mut seen = BTreeMap::new();
    let mut put = |file: &str, detail: &str, outcome: &str| {
        for r in rows(&out.join(file)) {
            let key = format!("{}:{}", r["side"], r["line"]);
            let value = format!("{outcome} {}", if detail.is_empty() { "" } else { &r[detail] });
            assert!(
                seen.insert(key.clone(), value).is_none(),
                "{key} appears in two outputs"
            );
        }
    };
    put("matched.csv", "stage", "matched");
    put("unmatched.csv", "reason", "unmatched");
    put("duplicates.csv", "duplicate_of", "duplicate");
    put("ignored.csv", "", "ignored");
    seen
}

#[test]
fn generated_day_agrees_with_the_ground_truth_for_every_row() {
    agrees_with_the_truth(None);
}

/// `--date` moves the whole day, across a year end here; reconciled as that
/// business day (`recon run --date`), every row still lands as the truth says.
#[test]
fn a_generated_day_on_another_date_reconciles_as_that_business_day() {
    agrees_with_the_truth(Some("2026-12-31"));
}

#[test]
fn gen_day_explains_itself() {
    let out = std::process::Command::new(common::gen_day_exe())
        .arg("--help")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let help = String::from_utf8(out.stdout).unwrap();
    for text in [
        "--orders <N>",
        "--out <DIR>",
        "--date <D>",
        "[default: 2026-11-24]",
        "Examples:",
    ] {
        assert!(help.contains(text), "{help}");
    }
    let out = std::process::Command::new(common::gen_day_exe())
        .args(["--orders", "x"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

fn agrees_with_the_truth(date: Option<&str>) {
    let tmp = tempfile::tempdir().unwrap();
    let day = tmp.path().join("day");
    let mut gen = std::process::Command::new(common::gen_day_exe());
    gen.args(["--orders", "3000", "--seed", "7", "--out"]).arg(&day);
    if let Some(date) = date {
        gen.args(["--date", date]);
    }
    let status = gen.status().expect("gen_day runs (built by cargo test)");
    assert!(status.success());
    let out = tmp.path().join("out");
    let mut run = common::run_case(&day, Path::new(common::DEFAULT_RULES), &out);
    if let Some(date) = date {
        run.args(["--date", date]);
    }
    run.assert().code(1);
    if let Some(date) = date {
        let s = summary(&out);
        assert_eq!(s["business_date"], date);
        assert_eq!(s["outputs"]["out_of_period.csv"]["ledger"]["count"], 0, "{s}");
        assert_eq!(s["outputs"]["out_of_period.csv"]["bank"]["count"], 0, "{s}");
        let first = &rows(&day.join("ledger.csv"))[0];
        assert!(first["支付时间"].starts_with(date), "{first:?}");
    }

    let truth: BTreeMap<String, String> = rows(&day.join("truth.csv"))
        .into_iter()
        .map(|r| {
            (
                format!("{}:{}", r["side"], r["line"]),
                format!("{} {}", r["outcome"], r["detail"]),
            )
        })
        .collect();
    assert!(truth.len() > 6000, "truth has {} rows", truth.len());
    let seen = observed(&out);
    let wrong: Vec<String> = truth
        .iter()
        .filter(|(k, v)| seen.get(*k) != Some(v))
        .take(10)
        .map(|(k, v)| format!("{k}: expected {v:?}, got {:?}", seen.get(k)))
        .collect();
    assert!(
        wrong.is_empty(),
        "rows disagreeing with the truth:\n{}",
        wrong.join("\n")
    );
    assert_eq!(
        seen.len(),
        truth.len(),
        "outputs hold rows the truth does not know"
    );

    let s = summary(&out);
    assert_eq!(s["conservation"]["ledger"]["holds"], true);
    assert_eq!(s["conservation"]["bank"]["holds"], true);
    for stage in 0..4 {
        assert!(
            s["stages"][stage]["matches"].as_u64().unwrap() > 0,
            "stage {stage} made no match"
        );
    }
}
