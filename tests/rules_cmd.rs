//! `recon rules check`, `recon rules test` (the shipped examples are the
//! regression cases) and choosing a rule version from a directory by date.

mod common;

use common::{default_rules_error, recon, summary, EXAMPLE_BANK, EXAMPLE_LEDGER};

#[test]
fn shipped_examples_pass_as_regression_cases() {
    let out = recon().args(["rules", "test", "examples"]).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0), "{text}");
    for case in [
        "ambiguous-closest",
        "ambiguous-unmatched",
        "cutoff",
        "memo-key",
        "refund-not-netted",
        "report-columns",
        "split-n-to-1",
        "thresholds",
    ] {
        assert!(text.contains(&format!("pass  {case}")), "{case}: {text}");
    }
    assert!(text.contains("8 passed, 0 failed"), "{text}");
}

#[test]
fn a_changed_rule_fails_its_case_and_shows_the_difference() {
    let tmp = tempfile::tempdir().unwrap();
    let case = tmp.path().join("thresholds");
    std::fs::create_dir_all(case.join("expected")).unwrap();
    for f in [
        "ledger.csv",
        "bank.csv",
        "rules.toml",
        "expected/matched.csv",
        "expected/ignored.csv",
    ] {
        std::fs::copy(common::root().join("examples/thresholds").join(f), case.join(f)).unwrap();
    }
    let rules = std::fs::read_to_string(case.join("rules.toml")).unwrap();
    std::fs::write(
        case.join("rules.toml"),
        rules.replace("review_above = \"5000.00\"", "review_above = \"9000.00\""),
    )
    .unwrap();
    let out = recon().args(["rules", "test"]).arg(&case).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("FAIL  thresholds"), "{text}");
    assert!(text.contains("matched.csv: line 2 differs"), "{text}");
    assert!(text.contains("0 passed, 1 failed"), "{text}");
}

#[test]
fn rules_check_accepts_the_default_rules() {
    let out = recon()
        .args(["rules", "check", "rules/default.toml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.starts_with(
            "ok  rules/default.toml  city-payments 1.0.0  effective from 2026-01-01  4 stage(s)  sha256 "
        ),
        "{text}"
    );
}

#[test]
fn rules_check_explains_what_is_wrong() {
    let unknown = default_rules_error(|t| t.replace("review_above = ", "reveiw_above = "));
    assert!(
        unknown
            .contains("r.toml:30:1: unknown field `reveiw_above`, expected `ignore_below` or `review_above`"),
        "{unknown}"
    );
    let wrong_type = default_rules_error(|t| t.replace("ignore_below = \"1.00\"", "ignore_below = 1.0"));
    assert!(
        wrong_type.contains("r.toml:29:16: invalid type: floating point `1.0`, expected a string"),
        "{wrong_type}"
    );
    let contradiction =
        default_rules_error(|t| t.replace("ignore_below = \"1.00\"", "ignore_below = \"6000.00\""));
    assert!(
        contradiction.contains("ignore_below (6000.00) is not below review_above (5000.00)"),
        "{contradiction}"
    );
    let bad_stage = default_rules_error(|t| t.replace("match = \"split\"", "match = \"fuzzy\""));
    assert!(
        bad_stage.contains("match = \"fuzzy\" is not a stage kind"),
        "{bad_stage}"
    );
    let bad_window =
        default_rules_error(|t| t.replace("window = [\"0s\", \"120s\"]", "window = [\"120s\", \"0s\"]"));
    assert!(bad_window.contains("window starts after it ends"), "{bad_window}");
    let no_amount = default_rules_error(|t| t.replace("amount = \"金额\"", ""));
    assert!(
        no_amount.contains("[ledger.columns]: no amount column"),
        "{no_amount}"
    );
}

fn write_version(dir: &std::path::Path, file: &str, version: &str, from: &str, fee: &str) {
    let text = std::fs::read_to_string(common::root().join("rules/default.toml")).unwrap();
    let text = text
        .replace("version = \"1.0.0\"", &format!("version = \"{version}\""))
        .replace("effective_from = 2026-01-01", &format!("effective_from = {from}"))
        .replace("tolerance = \"0.6%\"", &format!("tolerance = \"{fee}\""));
    std::fs::write(dir.join(file), text).unwrap();
}

#[test]
fn a_rules_directory_uses_the_version_effective_on_the_date() {
    // The example day is 2026-11-24 (--date also scopes the rows to that day),
    // so the version boundary moves around it instead: version 2 starting the
    // next day is not used yet; starting that day, it is.
    let tmp = tempfile::tempdir().unwrap();
    let versions = |name: &str, second_from: &str| {
        let dir = tmp.path().join(name);
        std::fs::create_dir(&dir).unwrap();
        write_version(&dir, "2026-01.toml", "1.0.0", "2026-01-01", "0.6%");
        write_version(&dir, "2026-11.toml", "2.0.0", second_from, "0.1%");
        dir
    };
    let not_yet = versions("not-yet", "2026-11-25");
    let dir = versions("from-today", "2026-11-24");
    let run = |dir: &std::path::Path, out: &str| {
        let out = tmp.path().join(out);
        common::run(EXAMPLE_LEDGER, EXAMPLE_BANK, dir, &out)
            .args(["--date", "2026-11-24"])
            .assert()
            .code(1);
        summary(&out)
    };
    let old = run(&not_yet, "old");
    assert_eq!(old["rules"]["version"], "1.0.0");
    assert_eq!(old["business_date"], "2026-11-24");
    assert!(old["rules"]["path"].as_str().unwrap().ends_with("2026-01.toml"));
    let new = run(&dir, "new");
    assert_eq!(new["rules"]["version"], "2.0.0");
    assert_ne!(old["rules"]["sha256"], new["rules"]["sha256"]);
    // Version 2 allows only a 0.1% fee, so P005 (500.00 vs 497.00) is no longer matched.
    assert_eq!(old["stages"][2]["matches"], 1);
    assert_eq!(new["stages"][2]["matches"], 0);

    let early = common::run(EXAMPLE_LEDGER, EXAMPLE_BANK, &dir, tmp.path().join("early"))
        .args(["--date", "2025-12-31"])
        .output()
        .unwrap();
    assert_eq!(early.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&early.stderr).contains("no rule file is effective on 2025-12-31"));
    assert!(!tmp.path().join("early").exists());
    let listing = recon().args(["rules", "check"]).arg(&dir).output().unwrap();
    let text = String::from_utf8(listing.stdout).unwrap();
    assert_eq!(text.lines().filter(|l| l.starts_with("ok ")).count(), 2, "{text}");
}
