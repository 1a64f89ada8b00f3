//! The unattended nightly loop (issue 13) through the real binary: guard
//! rails that refuse a run which cannot be the day it claims, dated results
//! under --out-root with --carry-in auto, interrupts by real signals, the
//! write-ahead audit log and `recon verify DIR`, a torn audit line recovered,
//! one writer per results directory, and no panic on amounts too large.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use common::{audit_entries, data, recon, root, rows, snapshot, stderr, stdout, summary};

const HEADER: &str = "订单号,商户号,缴费类型,金额,支付时间,户号,付款账号\n";

/// `recon run` on the example day for 2026-11-24, as a process that can be spawned.
fn example(out: &Path) -> Command {
    let mut cmd = spawnable();
    cmd.args([
        "run",
        "--ledger",
        common::EXAMPLE_LEDGER,
        "--bank",
        common::EXAMPLE_BANK,
    ])
    .args(["--rules", common::DEFAULT_RULES, "--date", "2026-11-24", "--out"])
    .arg(out);
    cmd
}

/// The built binary as a `std::process::Command` (to spawn and signal it).
fn spawnable() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_recon"));
    cmd.current_dir(root())
        .env("XDG_STATE_HOME", common::state_home());
    cmd
}

fn dot_entries(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect()
}

/// A ledger of the example day with one extra row whose amount is `amount`.
fn ledger_with(dir: &Path, amounts: &[&str]) -> PathBuf {
    let mut text = std::fs::read_to_string(root().join(common::EXAMPLE_LEDGER)).unwrap();
    for (i, a) in amounts.iter().enumerate() {
        text.push_str(&format!(
            "X{i},M-WATER,水费,{a},2026-11-24 09:1{i}:00,W9,6217000000000000\n"
        ));
    }
    let path = dir.join("ledger.csv");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn amounts_too_large_for_the_arithmetic_are_bad_rows_not_panics() {
    let tmp = tempfile::tempdir().unwrap();
    for amounts in [
        &["40000000000000000000000000000"][..],
        &["9999999999999999999999999999", "9999999999999999999999999999"][..],
        &["\"1,000,000,000,000,000.00\""][..],
    ] {
        let ledger = ledger_with(tmp.path(), amounts);
        let out = tmp.path().join("out");
        let done = common::run_ledger(&ledger, &out).output().unwrap();
        let err = stderr(&done);
        assert_eq!(done.status.code(), Some(2), "{amounts:?}: {err}");
        assert!(err.contains("ledger.csv:14:4:"), "{err}");
        assert!(err.contains("too large to be an amount"), "{err}");
        let last = audit_entries(&tmp.path().join("audit.log")).pop().unwrap();
        assert_eq!(
            (last["status"].as_str(), last["event"].as_str()),
            (Some("failed"), Some("failed"))
        );

        let skipped = common::run_ledger(&ledger, &out)
            .arg("--skip-bad-rows")
            .output()
            .unwrap();
        assert_eq!(skipped.status.code(), Some(1), "{}", stderr(&skipped));
        let rejected = rows(&out.join("rejected.csv"));
        assert_eq!(rejected.len(), amounts.len());
        assert!(rejected.iter().all(|r| r["error"].contains("too large")));
    }
}

#[test]
fn a_date_typo_or_a_day_without_rows_is_refused_and_recorded() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let good = example(&out).output().unwrap();
    assert_eq!(good.status.code(), Some(1), "{}", stderr(&good));
    let before = snapshot(&out);

    let typo = common::run_example(&out)
        .args(["--date", "2026-1-24"])
        .output()
        .unwrap();
    assert_eq!(typo.status.code(), Some(2));
    assert!(
        stderr(&typo).contains("\"2026-1-24\" is not a date"),
        "{}",
        stderr(&typo)
    );

    let wrong = common::run_example(&out)
        .args(["--date", "20260124"])
        .output()
        .unwrap();
    let err = stderr(&wrong);
    assert_eq!(wrong.status.code(), Some(2), "{err}");
    for part in [
        "examples/basic/ledger.csv: none of its 12 row(s) falls in business day 2026-01-24",
        "its rows run from 2026-11-24 09:15:03 to 2026-11-24 23:59:50",
    ] {
        assert!(err.contains(part), "{part:?} in {err}");
    }
    assert_eq!(snapshot(&out), before);
    assert!(dot_entries(tmp.path()).is_empty());
    let last = audit_entries(&tmp.path().join("audit.log")).pop().unwrap();
    assert_eq!(last["status"], "failed");
    assert_eq!(last["business_date"], "2026-01-24");
    assert!(last["error"].as_str().unwrap().contains("none of its 12 row(s)"));
}

#[test]
fn the_same_file_as_ledger_and_bank_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let copy = tmp.path().join("copy.csv");
    std::fs::copy(root().join(common::EXAMPLE_LEDGER), &copy).unwrap();
    let done = common::run(
        common::EXAMPLE_LEDGER,
        &copy,
        common::DEFAULT_RULES,
        tmp.path().join("out"),
    )
    .output()
    .unwrap();
    let err = stderr(&done);
    assert_eq!(done.status.code(), Some(2), "{err}");
    assert!(err.contains("have identical content (sha256 "), "{err}");
    assert!(!tmp.path().join("out").exists());
    assert_eq!(
        audit_entries(&tmp.path().join("audit.log")).pop().unwrap()["status"],
        "failed"
    );
}

fn nightly_day(day: &str, date: &str, root_dir: &Path, extra: &[&str]) -> Output {
    let mut cmd = recon();
    cmd.arg("run")
        .arg("--ledger")
        .arg(data(&format!("nightly/ledger-{day}.csv")))
        .arg("--bank")
        .arg(data(&format!("nightly/bank-{day}.csv")))
        .arg("--rules")
        .arg(data("nightly/rules.toml"))
        .arg("--out-root")
        .arg(root_dir)
        .args(["--date", date])
        .args(extra);
    cmd.output().unwrap()
}

#[test]
fn three_nights_under_out_root_carry_in_automatically() {
    let tmp = tempfile::tempdir().unwrap();
    let root_dir = tmp.path().join("recon");
    let auto = ["--carry-in", "auto", "--quiet"];
    let first = nightly_day("1124", "20261124", &root_dir, &["--carry-in", "auto"]);
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    assert!(stderr(&first).contains("first night under"), "{}", stderr(&first));
    let second = nightly_day("1125", "2026-11-25", &root_dir, &auto);
    assert_eq!(second.status.code(), Some(1), "{}", stderr(&second));
    assert_eq!(stdout(&second), "");
    let third = nightly_day("1126", "2026-11-26", &root_dir, &auto);
    assert_eq!(third.status.code(), Some(0), "{}", stderr(&third));
    for (date, carried) in [
        ("2026-11-24", None),
        ("2026-11-25", Some("2026-11-24")),
        ("2026-11-26", Some("2026-11-25")),
    ] {
        let s = summary(&root_dir.join(date));
        assert_eq!(s["business_date"], date);
        assert_eq!(s["carried_in"]["business_date"].as_str(), carried, "{date}");
    }
    let day3 = rows(&root_dir.join("2026-11-26/matched.csv"));
    assert!(
        day3.iter()
            .any(|r| r["key"] == "E1" && r["carried_from"].contains("ledger-1125.csv")),
        "{day3:?}"
    );
    let log = root_dir.join("audit.log");
    let events: Vec<String> = audit_entries(&log)
        .iter()
        .map(|l| l["event"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(events, ["started", "published"].repeat(3));

    // A gap: 11-28 with no 11-27 under the root is refused, unless --allow-gap.
    let ledger = tmp.path().join("l.csv");
    let bank = tmp.path().join("b.csv");
    std::fs::write(
        &ledger,
        "order_id,merchant,amount,paid_at,account,note\nG1,M1,10.00,2026-11-28 10:00:00,6217000000000014,\n",
    )
    .unwrap();
    std::fs::write(
        &bank,
        "ref,merchant,amount,time,memo\nG1,M1,10.00,2026-11-28 02:00:00,\n",
    )
    .unwrap();
    let gap = |extra: &[&str]| {
        recon()
            .arg("run")
            .arg("--ledger")
            .arg(&ledger)
            .arg("--bank")
            .arg(&bank)
            .arg("--rules")
            .arg(data("nightly/rules.toml"))
            .arg("--out-root")
            .arg(&root_dir)
            .args(["--date", "2026-11-28", "--carry-in", "auto"])
            .args(extra)
            .output()
            .unwrap()
    };
    let refused = gap(&[]);
    assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
    assert!(
        stderr(&refused).contains("no results for 2026-11-27"),
        "{}",
        stderr(&refused)
    );
    assert!(!root_dir.join("2026-11-28").exists());
    assert_eq!(audit_entries(&log).pop().unwrap()["status"], "failed");
    let allowed = gap(&["--allow-gap"]);
    assert_eq!(allowed.status.code(), Some(0), "{}", stderr(&allowed));
    let carried = summary(&root_dir.join("2026-11-28"))["carried_in"]["path"].to_string();
    assert!(
        carried.contains("2026-11-26"),
        "the latest earlier day: {carried}"
    );
}

#[test]
fn a_carry_in_that_is_not_the_previous_day_is_refused_unless_allow_gap() {
    let tmp = tempfile::tempdir().unwrap();
    let day1 = tmp.path().join("2026-11-24");
    let first = nightly_day("1124", "2026-11-24", tmp.path(), &[]);
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    let late = |extra: &[&str]| {
        recon()
            .arg("run")
            .arg("--ledger")
            .arg(data("nightly/ledger-1125.csv"))
            .arg("--bank")
            .arg(data("nightly/bank-1125.csv"))
            .arg("--rules")
            .arg(data("nightly/rules.toml"))
            .arg("--out")
            .arg(tmp.path().join("late"))
            .args(["--date", "2026-11-25", "--carry-in"])
            .arg(&day1)
            .args(extra)
            .output()
            .unwrap()
    };
    // Date 11-25 works with 11-24's results; pretend they are older by rewriting the date.
    let s = std::fs::read_to_string(day1.join("summary.json")).unwrap();
    std::fs::write(
        day1.join("summary.json"),
        s.replace(
            "\"business_date\": \"2026-11-24\"",
            "\"business_date\": \"2026-11-22\"",
        ),
    )
    .unwrap();
    let refused = late(&[]);
    let err = stderr(&refused);
    assert_eq!(refused.status.code(), Some(2), "{err}");
    assert!(err.contains("holds the results of 2026-11-22, but this run reconciles 2026-11-25, whose previous business day is 2026-11-24"), "{err}");
    assert!(!tmp.path().join("late").exists());
    let allowed = late(&["--allow-gap"]);
    assert_eq!(allowed.status.code(), Some(1), "{}", stderr(&allowed));
}

#[test]
fn relative_dates_resolve_in_the_business_zone_and_are_recorded() {
    let tmp = tempfile::tempdir().unwrap();
    let zone: chrono_tz::Tz = "Asia/Shanghai".parse().unwrap();
    let yesterday = (chrono::Utc::now().with_timezone(&zone).date_naive() - chrono::Days::new(1)).to_string();
    let done = common::run_example(&tmp.path().join("out"))
        .args(["--date", "yesterday"])
        .output()
        .unwrap();
    // The example day's rows are not yesterday's: refused, but the date is resolved and recorded.
    assert_eq!(done.status.code(), Some(2), "{}", stderr(&done));
    assert!(
        stderr(&done).contains(&format!("business date {yesterday} (yesterday in Asia/Shanghai)")),
        "{}",
        stderr(&done)
    );
    assert_eq!(
        audit_entries(&tmp.path().join("audit.log")).pop().unwrap()["business_date"],
        yesterday.as_str()
    );
}

#[test]
fn a_run_is_recorded_before_it_writes_and_verify_checks_its_files_against_the_log() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let log = tmp.path().join("audit.log");
    assert_eq!(example(&out).output().unwrap().status.code(), Some(1));
    let lines = audit_entries(&log);
    assert_eq!(lines.len(), 2);
    assert_eq!(
        (lines[0]["event"].as_str(), lines[1]["event"].as_str()),
        (Some("started"), Some("published"))
    );
    assert_eq!(lines[1]["started_line"], 1);
    assert!(lines[0]["inputs"]["ledger"]["sha256"].is_string());
    let s = summary(&out);
    assert_eq!(s["audit_started_line"], 1);
    assert_eq!(s["run_id"], lines[0]["run_id"]);
    let first = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .to_string();
    assert_eq!(s["audit_started_sha256"], common::sha256_hex(first.as_bytes()));

    let verify = |dir: &Path| recon().arg("verify").arg(dir).output().unwrap();
    let ok = verify(&out);
    assert_eq!(ok.status.code(), Some(0), "{}{}", stdout(&ok), stderr(&ok));
    assert!(stdout(&ok).starts_with("ok "));

    // A result file edited after the run.
    let matched = out.join("matched.csv");
    let original = std::fs::read(&matched).unwrap();
    std::fs::write(&matched, [original.as_slice(), b"x\n"].concat()).unwrap();
    let changed = verify(&out);
    assert_eq!(changed.status.code(), Some(1));
    assert!(
        stdout(&changed).contains("matched.csv changed since the run published it"),
        "{}",
        stdout(&changed)
    );
    std::fs::write(&matched, &original).unwrap();

    // The log cut short: its tail (the published line) removed.
    let text = std::fs::read_to_string(&log).unwrap();
    std::fs::write(&log, format!("{first}\n")).unwrap();
    let cut = verify(&out);
    assert_eq!(cut.status.code(), Some(1));
    assert!(stdout(&cut).contains("has no published line"), "{}", stdout(&cut));
    let unfinished = recon().args(["audit", "verify"]).arg(&log).output().unwrap();
    assert_eq!(unfinished.status.code(), Some(1));
    assert!(
        stdout(&unfinished).contains("UNFINISHED"),
        "{}",
        stdout(&unfinished)
    );
    std::fs::write(&log, "").unwrap();
    let emptied = verify(&out);
    assert_eq!(emptied.status.code(), Some(1));
    assert!(
        stdout(&emptied).contains("the audit log was cut short"),
        "{}",
        stdout(&emptied)
    );
    std::fs::write(&log, text).unwrap();
    assert_eq!(verify(&out).status.code(), Some(0));

    let unreadable = verify(&tmp.path().join("missing"));
    assert_eq!(unreadable.status.code(), Some(2));
}

/// Spawns a run paused (RECON_TEST_PAUSE_AT) once its first result file is
/// written, and waits until it says so; the staging directory exists then.
fn paused_run(out: &Path, extra: &[&str]) -> (Child, BufReader<std::process::ChildStderr>) {
    let mut child = example(out)
        .args(extra)
        .env("RECON_TEST_PAUSE_AT", "write")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    while !line.contains("paused at write") {
        line.clear();
        assert!(
            err.read_line(&mut line).unwrap() > 0,
            "the run ended before pausing"
        );
    }
    (child, err)
}

fn kill(child: &Child, signal: &str) {
    let sent = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(sent.success());
}

#[test]
fn an_interrupt_while_writing_removes_the_staging_and_is_recorded() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    assert_eq!(example(&out).output().unwrap().status.code(), Some(1));
    let before = snapshot(&out);
    let (mut child, mut err) = paused_run(&out, &[]);
    assert_eq!(
        dot_entries(tmp.path()).len(),
        1,
        "a staging directory while writing"
    );
    kill(&child, "INT");
    let status = child.wait().unwrap();
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut err, &mut rest).unwrap();
    assert_eq!(status.code(), Some(130), "{rest}");
    assert!(
        rest.contains("interrupted by SIGINT; nothing was published"),
        "{rest}"
    );
    assert!(
        dot_entries(tmp.path()).is_empty(),
        "debris: {:?}",
        dot_entries(tmp.path())
    );
    assert_eq!(snapshot(&out), before);
    let lines = audit_entries(&tmp.path().join("audit.log"));
    let [.., started, last] = lines.as_slice() else {
        panic!()
    };
    assert_eq!(
        (started["event"].as_str(), last["event"].as_str()),
        (Some("started"), Some("interrupted"))
    );
    assert_eq!(last["exit_code"], 130);
    assert_eq!(last["started_line"], started["seq"]);
    let verified = recon()
        .args(["audit", "verify"])
        .arg(tmp.path().join("audit.log"))
        .output()
        .unwrap();
    assert_eq!(verified.status.code(), Some(0), "{}", stdout(&verified));
}

#[test]
fn term_and_hup_while_reading_exit_143_and_129_and_are_recorded() {
    for (signal, code) in [("TERM", 143), ("HUP", 129)] {
        let tmp = tempfile::tempdir().unwrap();
        let fifo = tmp.path().join("ledger.csv");
        assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
        let child = spawnable()
            .args([
                "run",
                "--bank",
                common::EXAMPLE_BANK,
                "--rules",
                common::DEFAULT_RULES,
            ])
            .arg("--ledger")
            .arg(&fifo)
            .arg("--out")
            .arg(tmp.path().join("out"))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Opening the FIFO returns once the run has opened it to read: it is reading now.
        let mut writer = std::fs::OpenOptions::new().write(true).open(&fifo).unwrap();
        writer.write_all(HEADER.as_bytes()).unwrap();
        kill(&child, signal);
        let done = child.wait_with_output().unwrap();
        drop(writer);
        assert_eq!(done.status.code(), Some(code), "{}", stderr(&done));
        assert_eq!(stdout(&done), "");
        let last = audit_entries(&tmp.path().join("audit.log")).pop().unwrap();
        assert_eq!(last["event"], "interrupted");
        assert_eq!(last["exit_code"], code);
        assert!(!tmp.path().join("out").exists());
        assert!(dot_entries(tmp.path()).is_empty());
    }
}

#[test]
fn a_second_run_on_the_same_results_waits_or_refuses_with_no_wait() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let (mut first, _err) = paused_run(&out, &[]);
    let refused = example(&out).arg("--no-wait").output().unwrap();
    assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
    assert!(
        stderr(&refused).contains("another recon run is writing results here"),
        "{}",
        stderr(&refused)
    );
    let second = example(&out)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(first.stdin.take());
    assert_eq!(first.wait().unwrap().code(), Some(1));
    let second = second.wait_with_output().unwrap();
    assert_eq!(second.status.code(), Some(1), "{}", stderr(&second));
    let published: Vec<serde_json::Value> = audit_entries(&tmp.path().join("audit.log"))
        .into_iter()
        .filter(|l| l["event"] == "published")
        .collect();
    assert_eq!(published.len(), 2);
    assert_eq!(summary(&out)["run_id"], published[1]["run_id"]);
    assert_eq!(
        recon().arg("verify").arg(&out).output().unwrap().status.code(),
        Some(0)
    );
}

#[test]
fn a_torn_last_audit_line_is_recovered_and_confirmations_stay_in_force() {
    let tmp = tempfile::tempdir().unwrap();
    let (day1, log) = (tmp.path().join("day1"), tmp.path().join("audit.log"));
    let run = || {
        common::run_case(&data("confirm/day1"), Path::new(common::DEFAULT_RULES), &day1)
            .output()
            .unwrap()
    };
    assert_eq!(run().status.code(), Some(1));
    let confirmed = recon()
        .arg("confirm")
        .arg(&day1)
        .args(["--match-id", "M000002", "--by", "Li Wei", "--note", "checked"])
        .output()
        .unwrap();
    assert_eq!(confirmed.status.code(), Some(0), "{}", stderr(&confirmed));
    // Fault injection: an append cut short by a crash or a full disk.
    let whole = std::fs::read(&log).unwrap();
    let fragment = b"{\"seq\":4,\"prev\":\"9f86d081884c7d659a2feaa0c55ad015";
    std::fs::write(&log, [whole.as_slice(), fragment].concat()).unwrap();
    let broken = recon().args(["audit", "verify"]).arg(&log).output().unwrap();
    assert_eq!(broken.status.code(), Some(1));

    assert_eq!(run().status.code(), Some(1));
    let review = rows(&day1.join("review.csv"));
    assert!(
        review
            .iter()
            .any(|r| r["item"] == "M000002" && r["confirmed_by"] == "Li Wei"),
        "{review:?}"
    );
    let text = std::fs::read(&log).unwrap();
    assert!(text.starts_with(&[whole.as_slice(), fragment, b"\n"].concat()));
    let recovered: serde_json::Value = serde_json::from_slice(
        text[whole.len() + fragment.len() + 1..]
            .split(|&b| b == b'\n')
            .next()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(recovered["kind"], "recovered");
    assert_eq!(recovered["fragment_line"], 4);
    assert_eq!(recovered["fragment_offset"], whole.len());
    assert_eq!(recovered["fragment_sha256"], common::sha256_hex(fragment));
    let verified = recon().args(["audit", "verify"]).arg(&log).output().unwrap();
    assert_eq!(verified.status.code(), Some(0), "{}", stdout(&verified));
    assert_eq!(
        recon().arg("verify").arg(&day1).output().unwrap().status.code(),
        Some(0)
    );
}

#[test]
fn no_command_exits_outside_the_documented_codes_on_bad_input() {
    let tmp = tempfile::tempdir().unwrap();
    let mut files: Vec<PathBuf> = std::fs::read_dir(data("bad"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files.push(ledger_with(
        tmp.path(),
        &["40000000000000000000000000000", "9999999999999999999999999999"],
    ));
    let out = tmp.path().join("out");
    let good_ledger = root().join(common::EXAMPLE_LEDGER);
    let good_bank = root().join(common::EXAMPLE_BANK);
    for file in &files {
        let runs: Vec<Vec<std::ffi::OsString>> = vec![
            vec!["check".into(), file.into()],
            vec![
                "convert".into(),
                file.into(),
                "-o".into(),
                tmp.path().join("c.csv").into(),
            ],
            vec![
                "run".into(),
                "--ledger".into(),
                file.into(),
                "--bank".into(),
                good_bank.clone().into(),
                "--rules".into(),
                root().join(common::DEFAULT_RULES).into(),
                "--out".into(),
                out.clone().into(),
                "--date".into(),
                "2026-11-24".into(),
            ],
            vec![
                "run".into(),
                "--ledger".into(),
                good_ledger.clone().into(),
                "--bank".into(),
                file.into(),
                "--rules".into(),
                root().join(common::DEFAULT_RULES).into(),
                "--out".into(),
                out.clone().into(),
                "--skip-bad-rows".into(),
            ],
            vec!["rules".into(), "check".into(), file.into()],
            vec!["audit".into(), "verify".into(), file.into()],
            vec!["audit".into(), "show".into(), file.into()],
            vec!["verify".into(), file.into()],
            vec!["verify".into(), data("bad").into()],
            vec![
                "decrypt".into(),
                "--dir".into(),
                tmp.path().into(),
                "--key-file".into(),
                file.into(),
            ],
            vec![
                "confirm".into(),
                file.into(),
                "--row".into(),
                "ledger:2".into(),
                "--by".into(),
                "x".into(),
                "--note".into(),
                "y".into(),
            ],
        ];
        for args in runs {
            let done = recon().args(&args).output().unwrap();
            let code = done.status.code();
            assert!(
                matches!(code, Some(0..=2)),
                "{args:?}: exit {code:?}\n{}",
                stderr(&done)
            );
        }
    }
}
