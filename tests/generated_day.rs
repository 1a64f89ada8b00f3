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

/// Both files read in small pieces (`RECON_TEST_PIECE_BYTES`: a first piece
/// of 96 KiB, then pieces of about 1 KB) give the results of the files read
/// whole, byte for byte. The statement's encoding is named (GBK): guessing it
/// takes a first piece of over a megabyte.
#[test]
fn a_day_read_in_small_pieces_gives_the_results_of_the_files_read_whole() {
    let tmp = tempfile::tempdir().unwrap();
    let day = tmp.path().join("day");
    let status = std::process::Command::new(common::gen_day_exe())
        .args(["--orders", "3000", "--seed", "11", "--out"])
        .arg(&day)
        .status()
        .expect("gen_day runs (built by cargo test)");
    assert!(status.success());
    assert!(std::fs::metadata(day.join("bank.csv")).unwrap().len() > 3 * 98304);
    let rules = std::fs::read_to_string(common::root().join(common::DEFAULT_RULES)).unwrap();
    let bank = rules.find("\n[bank]\n").unwrap();
    let rules = format!(
        "{}{}",
        &rules[..bank],
        rules[bank..].replacen("encoding = \"auto\"", "encoding = \"gbk\"", 1)
    );
    let rules_path = tmp.path().join("rules.toml");
    std::fs::write(&rules_path, rules).unwrap();
    let run = |name: &str, pieces: &str| {
        let out = tmp.path().join(name);
        let mut run = common::run_case(&day, &rules_path, &out);
        run.env("RECON_TEST_PIECE_BYTES", pieces).assert().code(1);
        let s = summary(&out);
        let files: Vec<(String, Vec<u8>)> = common::snapshot(&out)
            .into_iter()
            .filter(|(name, _)| name != "summary.json" && name != "report.html")
            .collect();
        (files, s["inputs"].clone(), s["outputs"].clone())
    };
    let whole = run("whole", "");
    let (files, inputs, outputs) = run("pieces", "98304 997");
    assert_eq!(
        files.len(),
        8,
        "{:?}",
        files.iter().map(|f| &f.0).collect::<Vec<_>>()
    );
    assert!(files == whole.0, "the result files differ");
    assert_eq!(inputs, whole.1);
    assert_eq!(outputs, whole.2);
    assert_eq!(inputs["bank"]["encoding"], "GBK", "{inputs}");
}
