//! Nightly operation through the real binary, on tests/data/nightly (see its
//! README for every row): `--date` scopes a run to one business day with the
//! T+1 cutoff, times from a UTC channel and a local ledger meet across
//! midnight in both directions, rows of the day's last minutes wait in
//! pending.csv, and the next day's run carries them in with `--carry-in`.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::{data, recon, refs, rows, summary};

/// Runs `recon run` on fixture files for `date`; returns the exit code and stdout.
fn run_day(
    ledger: &str,
    bank: &str,
    rules: &str,
    date: Option<&str>,
    extra: &[&std::ffi::OsStr],
    out: &Path,
) -> (i32, String) {
    let mut cmd = common::run(data(ledger), data(bank), data(rules), out);
    if let Some(date) = date {
        cmd.args(["--date", date]);
    }
    let output = cmd.args(extra).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let stdout = String::from_utf8(output.stdout).unwrap();
    (output.status.code().unwrap(), format!("{stdout}{stderr}"))
}

fn day1(out: &Path) -> (i32, String) {
    run_day(
        "nightly/ledger-1124.csv",
        "nightly/bank-1124.csv",
        "nightly/rules.toml",
        Some("2026-11-24"),
        &[],
        out,
    )
}

fn day2(out: &Path, carry_in: &Path) -> (i32, String) {
    run_day(
        "nightly/ledger-1125.csv",
        "nightly/bank-1125.csv",
        "nightly/rules.toml",
        Some("2026-11-25"),
        &["--carry-in".as_ref(), carry_in.as_os_str()],
        out,
    )
}

/// `side:line reason business_date` of every row in an output with a reason.
fn reasons(path: &Path) -> Vec<String> {
    rows(path)
        .iter()
        .map(|r| {
            format!(
                "{}:{} {} {}",
                r["side"],
                r["line"],
                r["reason"],
                r.get("business_date").map_or("", |d| d)
            )
        })
        .map(|s| s.trim_end().to_string())
        .collect()
}

fn assert_conserved(out: &Path) {
    let s = summary(out);
    for side in ["ledger", "bank"] {
        let c = &s["conservation"][side];
        assert_eq!(c["holds"], true, "{side}: {c}");
        let listed: u64 = s["outputs"]
            .as_object()
            .unwrap()
            .values()
            .map(|t| t[side]["count"].as_u64().unwrap())
            .sum();
        assert_eq!(listed, c["input"]["count"].as_u64().unwrap(), "{side}");
    }
}

#[test]
fn a_business_day_takes_late_statement_rows_of_its_payments_and_leaves_the_rest() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("d1");
    let (code, text) = day1(&out);
    assert_eq!(
        code, 0,
        "pending and out-of-period rows are not exceptions:\n{text}"
    );

    assert_eq!(
        refs(&out.join("matched.csv")),
        ["ledger:3", "bank:3", "ledger:4", "bank:5"]
    );
    let across = rows(&out.join("matched.csv"));
    assert_eq!(across[2]["time"], "2026-11-24T23:59:50+08:00");
    assert_eq!(across[3]["time"], "2026-11-25T00:00:40+08:00");
    assert_eq!(across[2]["match_id"], across[3]["match_id"]);

    assert_eq!(
        reasons(&out.join("out_of_period.csv")),
        [
            "ledger:2 other_business_day 2026-11-23",
            "ledger:7 other_business_day 2026-11-25",
            "bank:2 other_business_day 2026-11-23",
            "bank:6 other_business_day 2026-11-25",
            "bank:7 other_business_day 2026-11-25",
        ]
    );
    assert_eq!(
        reasons(&out.join("pending.csv")),
        [
            "ledger:5 awaiting_counterpart 2026-11-24",
            "ledger:6 awaiting_counterpart 2026-11-24",
            "bank:4 awaiting_counterpart 2026-11-24",
        ]
    );
    assert!(rows(&out.join("unmatched.csv")).is_empty());

    let s = summary(&out);
    assert_eq!(s["status"], "reconciled");
    assert_eq!(s["period"]["cutoff"], "2026-11-25T10:00:00+08:00");
    assert_eq!(s["period"]["pending_from"], "2026-11-24T23:50:00+08:00");
    assert_eq!(s["outputs"]["pending.csv"]["ledger"]["amount"], "700.00");
    assert_eq!(s["outputs"]["out_of_period.csv"]["bank"]["count"], 3);
    assert_conserved(&out);
    assert!(text.contains("out_of_period"), "{text}");
    assert!(
        text.contains("pending  ledger 2, bank 1 awaiting_counterpart"),
        "{text}"
    );
}

#[test]
fn two_days_in_a_row_carry_pending_rows_forward() {
    let tmp = tempfile::tempdir().unwrap();
    let first = tmp.path().join("2026-11-24");
    assert_eq!(day1(&first).0, 0);
    let second = tmp.path().join("2026-11-25");
    let (code, text) = day2(&second, &first.join("pending.csv"));
    assert_eq!(code, 1, "a row past its grace is an exception:\n{text}");

    let matched = rows(&second.join("matched.csv"));
    let line = |r: &BTreeMap<String, String>| {
        let origin = if r["carried_from"].is_empty() {
            ""
        } else {
            "carried "
        };
        format!(
            "{} {origin}{}:{} {}",
            r["match_id"], r["side"], r["line"], r["key"]
        )
    };
    assert_eq!(
        matched.iter().map(line).collect::<Vec<_>>(),
        [
            "M000001 ledger:3 A6",
            "M000001 carried bank:4 A6",
            "M000002 ledger:4 D1",
            "M000002 bank:4 D1",
            "M000003 carried ledger:5 A3",
            "M000003 bank:5 A3",
        ]
    );
    let unmatched = rows(&second.join("unmatched.csv"));
    assert_eq!(unmatched.len(), 1);
    assert_eq!(unmatched[0]["key"], "A4");
    assert_eq!(unmatched[0]["reason"], "no_counterpart_after_grace");
    assert_eq!(unmatched[0]["line"], "6");
    assert!(unmatched[0]["carried_from"].ends_with("nightly/ledger-1124.csv"));
    assert_eq!(
        reasons(&second.join("out_of_period.csv")),
        [
            "ledger:2 other_business_day 2026-11-24",
            "bank:2 other_business_day 2026-11-24",
            "bank:3 already_in_previous_run 2026-11-25",
        ]
    );
    assert_eq!(
        reasons(&second.join("pending.csv")),
        ["ledger:5 awaiting_counterpart 2026-11-25"]
    );

    // Carried rows come back exactly as day 1 wrote them: same values, same guard.
    let pending: Vec<_> = rows(&first.join("pending.csv"));
    let later: Vec<_> = matched
        .iter()
        .chain(&unmatched)
        .filter(|r| !r["carried_from"].is_empty())
        .collect();
    assert_eq!(later.len(), pending.len());
    for p in &pending {
        let again = later
            .iter()
            .find(|r| r["side"] == p["side"] && r["line"] == p["line"])
            .unwrap_or_else(|| panic!("{}:{} not carried", p["side"], p["line"]));
        for column in ["key", "amount", "time", "merchant", "account", "note", "memo"] {
            assert_eq!(
                again[column], p[column],
                "{column} of {}:{}",
                p["side"], p["line"]
            );
        }
        assert_eq!(again["carried_from"], p["source_file"]);
    }
    assert!(later.iter().any(|r| r["note"] == "'-late batch"));

    let s = summary(&second);
    assert_eq!(s["carried_in"]["business_date"], "2026-11-24");
    assert_eq!(s["carried_in"]["ledger"]["count"], 2);
    assert_eq!(s["carried_in"]["ledger"]["amount"], "700.00");
    assert_eq!(s["carried_in"]["bank"]["count"], 1);
    assert_eq!(s["conservation"]["ledger"]["input"]["count"], 6);
    assert_eq!(s["conservation"]["ledger"]["carried_in"]["count"], 2);
    assert_eq!(
        s["unmatched_by_reason"]["no_counterpart_after_grace"]["ledger"],
        1
    );
    assert_conserved(&second);
    assert!(text.contains("carried_in"), "{text}");
}

#[test]
fn carry_in_takes_the_results_directory_too() {
    let tmp = tempfile::tempdir().unwrap();
    let first = tmp.path().join("d1");
    assert_eq!(day1(&first).0, 0);
    let by_file = tmp.path().join("by-file");
    let by_dir = tmp.path().join("by-dir");
    day2(&by_file, &first.join("pending.csv"));
    day2(&by_dir, &first);
    for f in ["matched.csv", "unmatched.csv", "pending.csv", "out_of_period.csv"] {
        assert_eq!(
            std::fs::read(by_file.join(f)).unwrap(),
            std::fs::read(by_dir.join(f)).unwrap(),
            "{f}"
        );
    }
}

#[test]
fn a_utc_ledger_meets_a_local_statement_across_midnight_both_ways() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let (code, text) = run_day(
        "nightly/swapped/ledger.csv",
        "nightly/swapped/bank.csv",
        "nightly/swapped/rules.toml",
        Some("2026-11-24"),
        &[],
        &out,
    );
    assert_eq!(code, 0, "{text}");
    let matched = rows(&out.join("matched.csv"));
    let pairs: Vec<String> = matched
        .iter()
        .map(|r| format!("{} {} {}", r["side"], r["key"], r["time"]))
        .collect();
    assert_eq!(
        pairs,
        [
            "ledger S1 2026-11-24T23:59:50+08:00",
            "bank S1 2026-11-25T00:00:40+08:00",
            "ledger S3 2026-11-24T00:00:00+08:00",
            "bank S3 2026-11-24T00:00:30+08:00",
        ]
    );
    assert_eq!(
        reasons(&out.join("out_of_period.csv")),
        ["ledger:3 other_business_day 2026-11-25"]
    );
    assert_eq!(
        reasons(&out.join("pending.csv")),
        ["bank:3 awaiting_counterpart 2026-11-24"]
    );
    assert_conserved(&out);
}

#[test]
fn without_a_date_every_row_is_reconciled_and_nothing_waits() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let (code, _) = run_day(
        "nightly/ledger-1124.csv",
        "nightly/bank-1124.csv",
        "nightly/rules.toml",
        None,
        &[],
        &out,
    );
    assert_eq!(code, 1);
    assert!(rows(&out.join("pending.csv")).is_empty());
    assert!(rows(&out.join("out_of_period.csv")).is_empty());
    let matched: Vec<String> = rows(&out.join("matched.csv"))
        .iter()
        .map(|r| r["key"].clone())
        .collect();
    assert_eq!(matched, ["A1", "A1", "A2", "A2", "A6", "A6"]);
    assert_eq!(
        refs(&out.join("unmatched.csv")),
        ["ledger:2", "ledger:5", "ledger:6", "bank:2", "bank:6", "bank:7"]
    );
    assert!(summary(&out)["period"].is_null());
    assert_conserved(&out);
}

#[test]
fn carry_in_refuses_the_same_day_and_incomplete_results() {
    let tmp = tempfile::tempdir().unwrap();
    let first = tmp.path().join("d1");
    assert_eq!(day1(&first).0, 0);

    let again = tmp.path().join("again");
    let (code, text) = run_day(
        "nightly/ledger-1124.csv",
        "nightly/bank-1124.csv",
        "nightly/rules.toml",
        Some("2026-11-24"),
        &["--carry-in".as_ref(), first.as_os_str()],
        &again,
    );
    assert_eq!(code, 2);
    assert!(
        text.contains("holds rows pending on 2026-11-24, but this run reconciles 2026-11-24"),
        "{text}"
    );
    assert!(!again.exists());

    let lone = tmp.path().join("lone");
    std::fs::create_dir(&lone).unwrap();
    std::fs::copy(first.join("pending.csv"), lone.join("pending.csv")).unwrap();
    let out = tmp.path().join("d2");
    let (code, text) = day2(&out, &lone.join("pending.csv"));
    assert_eq!(code, 2);
    assert!(
        text.contains("matched.csv: cannot read the previous run's results: no such file"),
        "{text}"
    );
    assert!(!out.exists());

    let edited = tmp.path().join("edited");
    std::fs::create_dir(&edited).unwrap();
    for f in ["matched.csv", "unmatched.csv", "duplicates.csv", "ignored.csv"] {
        std::fs::copy(first.join(f), edited.join(f)).unwrap();
    }
    let pending = std::fs::read_to_string(first.join("pending.csv")).unwrap();
    std::fs::write(
        edited.join("pending.csv"),
        pending.replacen("300.00", "3OO.00", 1),
    )
    .unwrap();
    let (code, text) = day2(&out, &edited);
    assert_eq!(code, 2);
    assert!(text.contains("pending.csv:2:4: amount: not an amount"), "{text}");
}

#[test]
fn carried_runs_are_identical_for_any_thread_count() {
    let tmp = tempfile::tempdir().unwrap();
    let mut previous: Option<Vec<Vec<u8>>> = None;
    for threads in ["1", "2", "8"] {
        let dir: PathBuf = tmp.path().join(threads);
        let (first, second) = (dir.join("d1"), dir.join("d2"));
        for (out, carry) in [(&first, None), (&second, Some(&first))] {
            let date = if carry.is_some() {
                "2026-11-25"
            } else {
                "2026-11-24"
            };
            let mut cmd = common::run_nightly(date, out);
            cmd.env("RAYON_NUM_THREADS", threads);
            if let Some(c) = carry {
                cmd.arg("--carry-in").arg(c);
            }
            cmd.output().unwrap();
        }
        let files: Vec<Vec<u8>> = [&first, &second]
            .iter()
            .flat_map(|d| {
                [
                    "matched.csv",
                    "unmatched.csv",
                    "pending.csv",
                    "out_of_period.csv",
                    "duplicates.csv",
                    "ignored.csv",
                ]
                .map(|f| std::fs::read(d.join(f)).unwrap())
            })
            .collect();
        if let Some(p) = &previous {
            assert!(p == &files, "outputs differ with RAYON_NUM_THREADS={threads}");
        }
        previous = Some(files);
    }
}

fn rule_error(from: &str, to: &str) -> String {
    common::default_rules_error(|text| {
        assert!(text.contains(from), "{from}");
        text.replace(from, to)
    })
}

#[test]
fn rules_check_explains_impossible_cutoffs_and_graces_with_their_position() {
    let today = rule_error("cutoff = \"T+1 10:00\"", "cutoff = \"T+0 18:00\"");
    assert!(
        today.contains("r.toml:18:10: cutoff \"T+0 18:00\" falls inside the business day itself"),
        "{today}"
    );
    let hour = rule_error("cutoff = \"T+1 10:00\"", "cutoff = \"T+1 25:00\"");
    assert!(
        hour.contains("r.toml:18:10: cutoff \"T+1 25:00\": \"25:00\" is not a time of day"),
        "{hour}"
    );
    let shape = rule_error("cutoff = \"T+1 10:00\"", "cutoff = \"10:00 next day\"");
    assert!(
        shape.contains("r.toml:18:10: cutoff \"10:00 next day\" is not a cutoff: write \"T+1 10:00\""),
        "{shape}"
    );
    let day = rule_error("pending_grace = \"10m\"", "pending_grace = \"1d\"");
    assert!(
        day.contains("r.toml:22:17: pending_grace \"1d\" covers the whole business day"),
        "{day}"
    );
    let negative = rule_error("pending_grace = \"10m\"", "pending_grace = \"-10m\"");
    assert!(
        negative.contains("r.toml:22:17: pending_grace \"-10m\" is negative"),
        "{negative}"
    );
}

#[test]
fn the_cutoff_example_is_a_case_for_its_business_date() {
    let tmp = tempfile::tempdir().unwrap();
    let case = tmp.path().join("cutoff");
    std::fs::create_dir_all(case.join("expected")).unwrap();
    let example = common::root().join("examples/cutoff");
    for f in [
        "ledger.csv",
        "bank.csv",
        "rules.toml",
        "case.toml",
        "expected/matched.csv",
        "expected/out_of_period.csv",
    ] {
        std::fs::copy(example.join(f), case.join(f)).unwrap();
    }
    let test = || recon().args(["rules", "test"]).arg(&case).output().unwrap();
    assert_eq!(test().status.code(), Some(0));
    // Without its date the case reconciles every row and no longer matches expected/.
    std::fs::remove_file(case.join("case.toml")).unwrap();
    let out = test();
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("FAIL  cutoff"), "{text}");
}

#[test]
fn encrypted_results_are_carried_in_with_the_same_key() {
    let tmp = tempfile::tempdir().unwrap();
    let key = tmp.path().join("results.key");
    assert!(recon()
        .args(["keygen", "-o"])
        .arg(&key)
        .output()
        .unwrap()
        .status
        .success());
    let with_key = ["--encrypt-key-file".as_ref(), key.as_os_str()];
    let first = tmp.path().join("d1");
    let (code, text) = run_day(
        "nightly/ledger-1124.csv",
        "nightly/bank-1124.csv",
        "nightly/rules.toml",
        Some("2026-11-24"),
        &with_key,
        &first,
    );
    assert_eq!(code, 0, "{text}");
    assert!(first.join("pending.csv.sm4").exists() && !first.join("pending.csv").exists());

    let plain = tmp.path().join("plain");
    let (code, text) = day2(&plain, &first);
    assert_eq!(code, 2);
    assert!(
        text.contains("pending.csv.sm4: the previous results are encrypted"),
        "{text}"
    );
    assert!(!plain.exists());

    let second = tmp.path().join("d2");
    let mut args = vec!["--carry-in".as_ref(), first.as_os_str()];
    args.extend(with_key);
    let (code, text) = run_day(
        "nightly/ledger-1125.csv",
        "nightly/bank-1125.csv",
        "nightly/rules.toml",
        Some("2026-11-25"),
        &args,
        &second,
    );
    assert_eq!(code, 1, "{text}");
    let opened = tmp.path().join("opened");
    let decrypt = recon()
        .args(["decrypt", "--dir"])
        .arg(&second)
        .arg("-o")
        .arg(&opened)
        .arg("--key-file")
        .arg(&key)
        .output()
        .unwrap();
    assert!(
        decrypt.status.success(),
        "{}",
        String::from_utf8_lossy(&decrypt.stderr)
    );
    assert_eq!(
        reasons(&opened.join("unmatched.csv")),
        ["ledger:6 no_counterpart_after_grace"]
    );
    assert_eq!(
        reasons(&opened.join("out_of_period.csv"))[2],
        "bank:3 already_in_previous_run 2026-11-25"
    );
    let s = summary(&opened);
    assert!(s["carried_in"]["path"]
        .as_str()
        .unwrap()
        .ends_with("pending.csv.sm4"));
}
