//! The audit log through the binary: every run (failed ones too) and every
//! `rules test` appends hash-chained lines (a run that gets as far as writing
//! results: `started`, then `published`); `audit verify` names the first
//! line that was edited, rewritten or removed; `audit show` lists the log;
//! concurrent runs never break the chain.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::{data, recon, root, run_ledger, sha256_hex, summary};
use serde_json::Value;

fn file_sha(path: &Path) -> String {
    sha256_hex(&std::fs::read(path).unwrap())
}

fn run(ledger: &Path, out: &Path, extra: &[&str]) -> Output {
    run_ledger(ledger, out).args(extra).output().unwrap()
}

fn example_ledger() -> PathBuf {
    root().join("examples/basic/ledger.csv")
}

fn log_lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(String::from)
        .collect()
}

fn entry(line: &str) -> Value {
    serde_json::from_str(line).unwrap()
}

fn verify(log: &Path) -> (Option<i32>, String) {
    let out = recon().args(["audit", "verify"]).arg(log).output().unwrap();
    (out.status.code(), String::from_utf8(out.stdout).unwrap())
}

/// A log of three successful runs (two lines each), beside `tmp/out`.
fn three_runs(tmp: &Path) -> PathBuf {
    for _ in 0..3 {
        assert_eq!(
            run(&example_ledger(), &tmp.join("out"), &[]).status.code(),
            Some(1)
        );
    }
    let log = tmp.join("audit.log");
    assert_eq!(log_lines(&log).len(), 6);
    log
}

#[test]
fn runs_failed_runs_and_rule_tests_are_recorded_in_one_chain() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let log = tmp.path().join("audit.log");
    assert_eq!(
        run(&example_ledger(), &out, &["--date", "2026-11-24"])
            .status
            .code(),
        Some(1)
    );
    let failed = run(&data("run/ledger_bad_rows.csv"), &out, &[]);
    assert_eq!(failed.status.code(), Some(2));
    let tested = recon()
        .args(["rules", "test", "examples", "--audit"])
        .arg(&log)
        .output()
        .unwrap();
    assert_eq!(tested.status.code(), Some(0));

    let lines = log_lines(&log);
    assert_eq!(lines.len(), 4);
    let started = entry(&lines[0]);
    let (first, second, third) = (entry(&lines[1]), entry(&lines[2]), entry(&lines[3]));

    assert_eq!(started["seq"], 1);
    assert_eq!(started["prev"], "0".repeat(64));
    assert_eq!(
        (started["event"].as_str(), started["status"].as_str()),
        (Some("started"), Some("started"))
    );
    assert_eq!(started["run_id"], first["run_id"]);
    assert_eq!(started["inputs"], first["inputs"]);
    assert_eq!(started["outputs"], serde_json::json!({}));
    assert_eq!(first["seq"], 2);
    assert_eq!(first["prev"], sha256_hex(lines[0].as_bytes()));
    assert_eq!(
        (first["event"].as_str(), first["started_line"].as_u64()),
        (Some("published"), Some(1))
    );
    assert_eq!(first["kind"], "run");
    assert_eq!(first["business_date"], "2026-11-24");
    assert_eq!(first["exit_code"], 1);
    assert_eq!(first["status"], "exceptions");
    assert_eq!(first["results"], out.display().to_string());
    assert!(first["command"].as_array().unwrap().iter().any(|a| a == "--date"));
    assert_eq!(first["inputs"]["ledger"]["sha256"], file_sha(&example_ledger()));
    assert_eq!(
        first["rules"]["sha256"],
        file_sha(&root().join("rules/default.toml"))
    );
    assert_eq!(first["rules"]["version"], "1.0.0");
    let s = summary(&out);
    assert_eq!(first["run_id"], s["run_id"]);
    let published: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(published.len() >= 6, "{published:?}");
    assert_eq!(first["outputs"].as_object().unwrap().len(), published.len());
    for name in &published {
        assert_eq!(
            first["outputs"][name]["sha256"],
            file_sha(&out.join(name)),
            "{name}"
        );
    }
    assert_eq!(
        first["outputs"]["matched.csv"]["ledger"],
        s["outputs"]["matched.csv"]["ledger"]
    );
    assert_eq!(first["outputs"]["unmatched.csv"]["bank"]["amount"], "224.00");
    assert!(first["started_at"].as_str().unwrap() <= first["finished_at"].as_str().unwrap());
    assert!(!first["user"].as_str().unwrap().is_empty());
    assert!(!first["host"].as_str().unwrap().is_empty());

    assert_eq!(second["seq"], 3);
    assert_eq!(second["prev"], sha256_hex(lines[1].as_bytes()));
    assert_eq!(second["exit_code"], 2);
    // Bad rows stop the run before it writes anything: one line, no started line.
    assert_eq!(
        (second["event"].as_str(), second.get("started_line")),
        (Some("failed"), None)
    );
    assert_eq!(second["status"], "failed");
    assert!(
        second["error"].as_str().unwrap().contains("2 bad row(s)"),
        "{second}"
    );
    assert_eq!(
        second["inputs"]["ledger"]["sha256"],
        file_sha(&data("run/ledger_bad_rows.csv"))
    );
    assert_eq!(second["outputs"], serde_json::json!({}));

    assert_eq!(third["kind"], "rules_test");
    assert_eq!(third["prev"], sha256_hex(lines[2].as_bytes()));
    assert_eq!(third["exit_code"], 0);
    let cases = std::fs::read_dir(root().join("examples"))
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().join("rules.toml").is_file())
        .count();
    assert_eq!(third["cases"].as_array().unwrap().len(), cases);
    assert_eq!(
        third["cases"][0]["rules"]["sha256"],
        file_sha(&root().join("examples/ambiguous-closest/rules.toml"))
    );

    let (code, text) = verify(&log);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("4 line(s), chain intact"), "{text}");
    assert!(text.contains(&sha256_hex(lines[3].as_bytes())), "{text}");
}

#[test]
fn an_edited_line_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    let log = three_runs(tmp.path());
    let mut lines = log_lines(&log);
    assert!(lines[1].contains("\"count\":9"));
    lines[1] = lines[1].replacen("\"count\":9", "\"count\":8", 1);
    std::fs::write(&log, lines.join("\n") + "\n").unwrap();
    let (code, text) = verify(&log);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("audit.log:2: line 2 was altered: its content no longer matches its sha256"),
        "{text}"
    );
}

#[test]
fn a_removed_line_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    let log = three_runs(tmp.path());
    let lines = log_lines(&log);
    std::fs::write(&log, format!("{}\n{}\n", lines[0], lines[2])).unwrap();
    let (code, text) = verify(&log);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("audit.log:2: line 2 was removed: the line now at 2 carries seq 3"),
        "{text}"
    );
}

#[test]
fn a_line_rewritten_with_a_fresh_seal_is_caught_by_the_next_link() {
    let tmp = tempfile::tempdir().unwrap();
    let log = three_runs(tmp.path());
    let mut lines = log_lines(&log);
    // Change line 2 and recompute its own sha256, as a careful forger would.
    let edited = lines[1].replacen("\"exit_code\":1", "\"exit_code\":0", 1);
    let body = format!("{}}}", &edited[..edited.len() - 77]);
    lines[1] = format!(
        "{},\"sha256\":\"{}\"}}",
        &body[..body.len() - 1],
        sha256_hex(body.as_bytes())
    );
    std::fs::write(&log, lines.join("\n") + "\n").unwrap();
    let (code, text) = verify(&log);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("line 2 was altered or replaced: line 3's prev does not match it"),
        "{text}"
    );
}

#[test]
fn verify_and_show_exit_2_on_an_unreadable_log() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("nope.log");
    let out = recon().args(["audit", "verify"]).arg(&missing).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nope.log: cannot open the audit log"));
    let out = recon().args(["audit", "show"]).arg(tmp.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn show_lists_every_entry_as_a_table_or_json() {
    let tmp = tempfile::tempdir().unwrap();
    let log = three_runs(tmp.path());
    let table = recon().args(["audit", "show"]).arg(&log).output().unwrap();
    assert_eq!(table.status.code(), Some(0));
    let text = String::from_utf8(table.stdout).unwrap();
    let rows: Vec<&str> = text.lines().collect();
    assert_eq!(rows.len(), 7, "{text}");
    assert!(rows[0].starts_with("line  kind"), "{text}");
    assert!(rows[5].starts_with("5     run"), "{text}");
    assert!(rows[5].contains("started"), "{text}");
    assert!(rows[6].starts_with("6     run"), "{text}");
    assert!(rows[6].contains("city-payments 1.0.0"), "{text}");
    assert!(rows[6].contains("exceptions"), "{text}");

    let json = recon()
        .args(["audit", "show", "--format", "json"])
        .arg(&log)
        .output()
        .unwrap();
    let entries: Vec<Value> = serde_json::from_slice(&json.stdout).unwrap();
    let stored: Vec<Value> = log_lines(&log).iter().map(|l| entry(l)).collect();
    assert_eq!(entries, stored);

    // A broken chain is still listed, with exit 1 and the reason on stderr.
    let lines = log_lines(&log);
    std::fs::write(&log, format!("{}\n{}\n", lines[1], lines[2])).unwrap();
    let broken = recon().args(["audit", "show"]).arg(&log).output().unwrap();
    assert_eq!(broken.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&broken.stderr).contains("line 1 was removed"));
}

#[test]
fn show_defaults_to_audit_log_in_the_current_directory() {
    let tmp = tempfile::tempdir().unwrap();
    three_runs(tmp.path());
    let out = recon()
        .current_dir(tmp.path())
        .args(["audit", "show"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8(out.stdout).unwrap().lines().count(), 7);
}

/// `recon run --out DIR` writes DIR/../audit.log; `audit show` and `verify`
/// find that same log from the results directory, with `--results DIR` or
/// with DIR as the argument, and name the way when run where no log is.
#[test]
fn show_and_verify_find_the_log_beside_a_results_directory() {
    let tmp = tempfile::tempdir().unwrap();
    three_runs(tmp.path());
    let results = tmp.path().join("out");
    let listed = |args: &[&std::ffi::OsStr]| {
        let out = recon().args(args).output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let by_results = listed(&[
        "audit".as_ref(),
        "show".as_ref(),
        "--results".as_ref(),
        results.as_os_str(),
    ]);
    assert_eq!(by_results.lines().count(), 7, "{by_results}");
    let by_dir = listed(&["audit".as_ref(), "show".as_ref(), results.as_os_str()]);
    assert_eq!(by_dir, by_results);
    let by_parent = listed(&["audit".as_ref(), "show".as_ref(), tmp.path().as_os_str()]);
    assert_eq!(by_parent, by_results);
    let verified = listed(&[
        "audit".as_ref(),
        "verify".as_ref(),
        "--results".as_ref(),
        results.as_os_str(),
    ]);
    assert!(verified.starts_with("ok  "), "{verified}");
    assert!(verified.contains("6 line(s), chain intact"), "{verified}");

    let empty = tempfile::tempdir().unwrap();
    let out = recon()
        .current_dir(empty.path())
        .args(["audit", "show"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no audit log in the current directory"), "{err}");
    assert!(err.contains("--results DIR"), "{err}");
}

#[test]
fn concurrent_runs_append_whole_lines_to_one_chain() {
    let tmp = tempfile::tempdir().unwrap();
    let log = tmp.path().join("shared.log");
    let children: Vec<_> = (0..6)
        .map(|i| {
            std::process::Command::new(assert_cmd::cargo::cargo_bin("recon"))
                .current_dir(root())
                .args([
                    "run",
                    "--ledger",
                    "examples/basic/ledger.csv",
                    "--bank",
                    "examples/basic/bank.csv",
                ])
                .args(["--rules", "rules/default.toml", "--quiet", "--out"])
                .arg(tmp.path().join(format!("out{i}")))
                .arg("--audit")
                .arg(&log)
                .spawn()
                .unwrap()
        })
        .collect();
    for mut child in children {
        assert_eq!(child.wait().unwrap().code(), Some(1));
    }
    let lines = log_lines(&log);
    assert_eq!(lines.len(), 12);
    let mut ids: Vec<String> = lines.iter().map(|l| entry(l)["run_id"].to_string()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 6, "run ids repeat: {ids:?}");
    let (code, text) = verify(&log);
    assert_eq!(code, Some(0), "{text}");
}

#[test]
fn a_run_whose_audit_log_cannot_be_written_does_not_start() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    // The audit log path is a directory: it cannot be opened for appending.
    let failed = run(
        &example_ledger(),
        &out,
        &["--audit", tmp.path().to_str().unwrap()],
    );
    assert_eq!(failed.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&failed.stderr).contains("every run must be recorded"));
    assert!(!out.exists());
}

#[test]
fn carried_in_and_encrypted_runs_record_the_pending_file_and_the_key_id() {
    let tmp = tempfile::tempdir().unwrap();
    let key = tmp.path().join("results.key");
    let made = recon().args(["keygen", "-o"]).arg(&key).output().unwrap();
    assert_eq!(made.status.code(), Some(0));
    let id = String::from_utf8(made.stdout)
        .unwrap()
        .trim_end()
        .rsplit(' ')
        .next()
        .unwrap()
        .to_string();
    let (day1, day2) = (tmp.path().join("d1"), tmp.path().join("d2"));
    let key_arg = ["--encrypt-key-file", key.to_str().unwrap()];
    let night = |day: &str, out: &Path, extra: &[&str]| {
        common::run(
            data(&format!("nightly/ledger-{day}.csv")),
            data(&format!("nightly/bank-{day}.csv")),
            data("nightly/rules.toml"),
            out,
        )
        .args(extra)
        .output()
        .unwrap()
    };
    let first = night("1124", &day1, &[&["--date", "2026-11-24"][..], &key_arg].concat());
    assert_eq!(first.status.code(), Some(0), "{}", common::stderr(&first));
    let carry = ["--date", "2026-11-25", "--carry-in", day1.to_str().unwrap()];
    let second = night("1125", &day2, &[&carry[..], &key_arg].concat());
    assert_eq!(second.status.code(), Some(1), "{}", common::stderr(&second));

    let lines = log_lines(&tmp.path().join("audit.log"));
    let second = entry(&lines[3]);
    assert_eq!(second["event"], "published");
    assert_eq!(second["encryption_key_id"], id.as_str());
    let carried = &second["inputs"]["carry_in"];
    assert!(
        carried["path"]
            .as_str()
            .unwrap()
            .starts_with(day1.to_str().unwrap()),
        "{carried}"
    );
    assert_eq!(carried["sha256"].as_str().unwrap().len(), 64);
    // Output hashes are of the plain content, under the plain names.
    assert!(second["outputs"]["summary.json"]["sha256"].is_string());
    assert!(day2.join("summary.json.sm4").exists());
}
