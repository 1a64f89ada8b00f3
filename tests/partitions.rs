//! Partitioned runs through the real binary: `recon split` → `recon run
//! --part` for every partition → `recon merge` writes the bytes one run of
//! the whole day writes (summary.json and report.html differ only in what
//! names the run), and every step refuses what would break that.

mod common;

use std::path::{Path, PathBuf};

use common::{recon, rows, stderr, summary};

const RULES: &str = "rules/default.toml";
const SETTLEMENT_RULES: &str = "tests/data/settlement/rules.toml";
const DATE: &str = "2026-11-24";

/// Runs the gen_day example binary with `args` into `out`.
fn gen_day(args: &[&str], out: &Path) {
    let status = std::process::Command::new(common::gen_day_exe())
        .args(args)
        .arg("--out")
        .arg(out)
        .stdout(std::process::Stdio::null())
        .status()
        .expect("gen_day runs (built by cargo test)");
    assert!(status.success());
}

/// One run of the whole day into `out`; returns its exit code.
fn whole(ledger: &Path, bank: &Path, rules: &str, out: &Path, extra: &[&str]) -> i32 {
    let output = recon()
        .args(["run", "--date", DATE, "--rules", rules, "-q", "--ledger"])
        .arg(ledger)
        .arg("--bank")
        .arg(bank)
        .arg("--out")
        .arg(out)
        .args(extra)
        .output()
        .unwrap();
    assert!(output.status.code() != Some(2), "{}", stderr(&output));
    output.status.code().unwrap()
}

/// split → run every partition → merge into `out`; returns merge's exit code.
fn partitioned(
    ledger: &Path,
    bank: &Path,
    rules: &str,
    parts: usize,
    dir: &Path,
    extra: &[&str],
) -> (PathBuf, i32) {
    let split = dir.join("parts");
    let n = parts.to_string();
    let output = recon()
        .args([
            "split", "--date", DATE, "--rules", rules, "--parts", &n, "--ledger",
        ])
        .arg(ledger)
        .arg("--bank")
        .arg(bank)
        .arg("--out")
        .arg(&split)
        .args(extra)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    for k in 1..=parts {
        run_part(&split, k, rules, extra);
    }
    let out = dir.join("merged");
    let output = merge(&split, &out);
    assert!(output.status.code() != Some(2), "{}", stderr(&output));
    (out, output.status.code().unwrap())
}

/// `recon run --part` of partition `k` under `split` into its results
/// directory (replaced), with `extra` arguments; it must not fail.
fn run_part(split: &Path, k: usize, rules: &str, extra: &[impl AsRef<std::ffi::OsStr>]) {
    let part = split.join(format!("part-{k:04}"));
    let _ = std::fs::remove_dir_all(part.join("results"));
    let output = recon()
        .args(["run", "--rules", rules, "-q", "--part"])
        .arg(&part)
        .arg("--out")
        .arg(part.join("results"))
        .args(extra)
        .output()
        .unwrap();
    assert!(output.status.code() != Some(2), "{}", stderr(&output));
}

/// `recon merge` of the partitions under `split` into `out`.
fn merge(split: &Path, out: &Path) -> std::process::Output {
    recon()
        .arg("merge")
        .arg(split)
        .arg("--out")
        .arg(out)
        .arg("-q")
        .output()
        .unwrap()
}

/// summary.json without what names the run.
fn without_run(dir: &Path) -> serde_json::Value {
    let mut s = summary(dir);
    for field in [
        "run_id",
        "started_at",
        "finished_at",
        "audit_log",
        "audit_started_line",
        "audit_started_sha256",
    ] {
        assert!(s.as_object_mut().unwrap().remove(field).is_some(), "{field}");
    }
    s
}

/// Every file of `single` is in `merged`, the CSVs byte for byte.
fn assert_same(single: &Path, merged: &Path) {
    let names = |d: &Path| {
        let mut n: Vec<String> = std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        n.sort();
        n
    };
    assert_eq!(names(single), names(merged));
    for name in names(single).iter().filter(|n| n.ends_with(".csv")) {
        let (a, b) = (
            std::fs::read(single.join(name)).unwrap(),
            std::fs::read(merged.join(name)).unwrap(),
        );
        assert!(a == b, "{name} differs from the single run's");
    }
    assert_eq!(without_run(single), without_run(merged));
    let times = regex::Regex::new(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ").unwrap();
    let html = |d: &Path| {
        times
            .replace_all(&std::fs::read_to_string(d.join("report.html")).unwrap(), "T")
            .into_owned()
    };
    assert!(
        html(single) == html(merged),
        "report.html differs beyond the run's times"
    );
}

#[test]
fn a_split_day_merges_into_the_bytes_of_one_run() {
    let tmp = tempfile::tempdir().unwrap();
    let day = tmp.path().join("day");
    gen_day(&["--orders", "3000", "--seed", "11"], &day);
    let (ledger, bank) = (day.join("ledger.csv"), day.join("bank.csv"));
    let single = tmp.path().join("single");
    let code = whole(&ledger, &bank, RULES, &single, &[]);
    let (merged, merge_code) = partitioned(&ledger, &bank, RULES, 4, tmp.path(), &[]);
    assert_eq!(merge_code, code);
    assert_same(&single, &merged);
    let s = summary(&merged);
    assert!(
        s["outputs"]["matched.csv"]["ledger"]["count"].as_u64().unwrap() > 2500,
        "{s}"
    );
    // Every partition holds some rows, and their runs name the original files and lines.
    let parts = tmp.path().join("parts");
    let mut run_ids = Vec::new();
    for k in 1..=4 {
        let results = parts.join(format!("part-{k:04}/results"));
        let part = summary(&results);
        assert!(
            part["inputs"]["ledger"]["records"]["count"].as_u64().unwrap() > 300,
            "{part}"
        );
        assert_eq!(part["inputs"]["ledger"]["path"], s["inputs"]["ledger"]["path"]);
        run_ids.push(part["run_id"].clone());
        for r in rows(&results.join("unmatched.csv")) {
            assert!(rows(&single.join("unmatched.csv")).contains(&r), "{r:?}");
        }
    }
    // One audit record of the merge, naming the partition runs.
    let audit = std::fs::read_to_string(tmp.path().join("audit.log")).unwrap();
    let last: serde_json::Value = serde_json::from_str(audit.lines().last().unwrap()).unwrap();
    let entry = last.get("entry").unwrap_or(&last);
    assert_eq!(entry["kind"], "merge", "{entry}");
    assert_eq!(entry["event"], "published", "{entry}");
    assert_eq!(entry["run_id"], s["run_id"]);
    let named: Vec<serde_json::Value> = entry["parts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["run_id"].clone())
        .collect();
    assert_eq!(named, run_ids);
    // The merged results are recorded as published: `recon verify` accepts them.
    recon().arg("verify").arg(&merged).assert().code(0);
}

#[test]
fn a_settlement_day_split_by_merchant_merges_into_the_bytes_of_one_run() {
    let tmp = tempfile::tempdir().unwrap();
    let day = tmp.path().join("day");
    gen_day(&["--orders", "2000", "--mode", "settlement", "--seed", "5"], &day);
    let (bill, bank) = (day.join("bill.csv"), day.join("bank.csv"));
    let single = tmp.path().join("single");
    let code = whole(&bill, &bank, SETTLEMENT_RULES, &single, &[]);
    let (merged, merge_code) = partitioned(&bill, &bank, SETTLEMENT_RULES, 3, tmp.path(), &[]);
    assert_eq!(merge_code, code);
    assert_same(&single, &merged);
    assert!(summary(&merged)["batches"]["settled"].as_u64().unwrap() > 0);
}

/// The ledger of examples/basic with line 5's amount unreadable.
fn bad_ledger(dir: &Path) -> PathBuf {
    let text = std::fs::read_to_string(common::root().join("examples/basic/ledger.csv")).unwrap();
    let text = text.replace("300.00,2026-11-24 12:00:00", "3x0.00,2026-11-24 12:00:00");
    let path = dir.join("ledger.csv");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn unreadable_rows_keep_their_original_lines_through_a_partition() {
    let tmp = tempfile::tempdir().unwrap();
    let ledger = bad_ledger(tmp.path());
    let bank = common::root().join("examples/basic/bank.csv");
    let located = format!("{}:5:", ledger.display());
    // Refused whole, as a run refuses it, naming the original file and line.
    let out = recon()
        .args(["split", "--rules", RULES, "--parts", "2", "--ledger"])
        .arg(&ledger)
        .arg("--bank")
        .arg(&bank)
        .arg("--out")
        .arg(tmp.path().join("refused"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains(&located), "{}", stderr(&out));
    assert!(!tmp.path().join("refused").exists());
    // Set aside: the partition's run names the original line, in its error and in rejected.csv.
    let parts = tmp.path().join("parts");
    recon()
        .args([
            "split",
            "--date",
            DATE,
            "--rules",
            RULES,
            "--parts",
            "2",
            "--skip-bad-rows",
            "--ledger",
        ])
        .arg(&ledger)
        .arg("--bank")
        .arg(&bank)
        .arg("--out")
        .arg(&parts)
        .assert()
        .code(0);
    let first = parts.join("part-0001");
    let out = recon()
        .args(["run", "--rules", RULES, "--part"])
        .arg(&first)
        .arg("--out")
        .arg(first.join("results"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains(&located), "{}", stderr(&out));
    let single = tmp.path().join("single");
    whole(&ledger, &bank, RULES, &single, &["--skip-bad-rows"]);
    std::fs::remove_dir_all(&parts).unwrap();
    let (merged, _) = partitioned(&ledger, &bank, RULES, 2, tmp.path(), &["--skip-bad-rows"]);
    assert_eq!(rows(&merged.join("rejected.csv"))[0]["line"], "5");
    assert_same(&single, &merged);
}

#[test]
fn merge_refuses_partitions_that_do_not_cover_the_day_once() {
    let tmp = tempfile::tempdir().unwrap();
    let (ledger, bank) = (
        common::root().join("examples/basic/ledger.csv"),
        common::root().join("examples/basic/bank.csv"),
    );
    let (merged, _) = partitioned(&ledger, &bank, RULES, 3, tmp.path(), &[]);
    let parts = tmp.path().join("parts");
    let merge = |out: &str| {
        recon()
            .arg("merge")
            .arg(&parts)
            .arg("--out")
            .arg(tmp.path().join(out))
            .output()
            .unwrap()
    };
    // A partition not run.
    std::fs::rename(parts.join("part-0002/results"), tmp.path().join("aside")).unwrap();
    let out = merge("again");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("partition 2 has no results"),
        "{}",
        stderr(&out)
    );
    // A partition run for another date.
    let other = recon()
        .args(["run", "--rules", RULES, "--date", "2026-11-25", "--part"])
        .arg(parts.join("part-0002"))
        .arg("--out")
        .arg(parts.join("part-0002/results"))
        .output()
        .unwrap();
    assert_eq!(other.status.code(), Some(2));
    assert!(
        stderr(&other).contains("split for 2026-11-24"),
        "{}",
        stderr(&other)
    );
    // A partition missing.
    std::fs::rename(tmp.path().join("aside"), parts.join("part-0002/results")).unwrap();
    std::fs::rename(parts.join("part-0003"), tmp.path().join("part-0003")).unwrap();
    let out = merge("again");
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("part-0003 is missing"), "{}", stderr(&out));
    assert!(!tmp.path().join("again").exists());
    // A partition of another split.
    std::fs::rename(tmp.path().join("part-0003"), parts.join("part-0003")).unwrap();
    let manifest = parts.join("part-0003/manifest.json");
    let text = std::fs::read_to_string(&manifest).unwrap();
    let sha = summary(&merged)["inputs"]["bank"]["sha256"]
        .as_str()
        .unwrap()
        .to_string();
    std::fs::write(&manifest, text.replace(&sha, &"0".repeat(64))).unwrap();
    let out = merge("again");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("partitions of different splits"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn rules_say_how_a_day_is_partitioned_or_why_it_cannot_be() {
    let out = recon().args(["rules", "check", RULES]).output().unwrap();
    assert!(
        common::stdout(&out).contains("partitions: by merchant"),
        "{}",
        common::stdout(&out)
    );
    let tmp = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(common::root().join(RULES)).unwrap();
    let rules = tmp.path().join("rules.toml");
    std::fs::write(
        &rules,
        text.replace("on = [\"merchant\", \"amount\"]", "on = [\"amount\"]"),
    )
    .unwrap();
    let out = recon().args(["rules", "check"]).arg(&rules).output().unwrap();
    assert!(
        common::stdout(&out).contains(
            "partitions: none: stage \"merchant-amount-time\" pairs rows of any key and any merchant"
        ),
        "{}",
        common::stdout(&out)
    );
    let out = recon()
        .args(["split", "--parts", "2", "--rules"])
        .arg(&rules)
        .args([
            "--ledger",
            "examples/basic/ledger.csv",
            "--bank",
            "examples/basic/bank.csv",
            "--out",
        ])
        .arg(tmp.path().join("parts"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("this day cannot be partitioned: stage"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_day_over_the_memory_limit_runs_in_partitions_with_the_same_results() {
    let tmp = tempfile::tempdir().unwrap();
    let day = tmp.path().join("day");
    gen_day(&["--orders", "2000", "--seed", "3"], &day);
    let (ledger, bank) = (day.join("ledger.csv"), day.join("bank.csv"));
    let single = tmp.path().join("single");
    let code = whole(&ledger, &bank, RULES, &single, &[]);
    let spill = tmp.path().join("spill");
    let out = recon()
        .args([
            "run",
            "--date",
            DATE,
            "--rules",
            RULES,
            "--memory-limit",
            "1M",
            "--ledger",
        ])
        .arg(&ledger)
        .arg("--bank")
        .arg(&bank)
        .arg("--out")
        .arg(tmp.path().join("limited"))
        .arg("--spill-dir")
        .arg(&spill)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(code), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("more than --memory-limit 1 MiB: reconciling it in"),
        "{}",
        stderr(&out)
    );
    assert_same(&single, &tmp.path().join("limited"));
    assert_eq!(
        std::fs::read_dir(&spill).unwrap().count(),
        0,
        "spill files left behind"
    );
    // A failed partitioned run leaves no spill files either, and earlier results untouched.
    let bad = bad_ledger(tmp.path());
    let out = recon()
        .args(["run", "--rules", RULES, "--memory-limit", "1K", "--ledger"])
        .arg(&bad)
        .args(["--bank", "examples/basic/bank.csv", "--out"])
        .arg(tmp.path().join("limited"))
        .arg("--spill-dir")
        .arg(&spill)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("more than --memory-limit 1 KiB"),
        "{}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains(&format!("{}:5:", bad.display())),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        std::fs::read_dir(&spill).unwrap().count(),
        0,
        "spill files left behind"
    );
    assert_same(&single, &tmp.path().join("limited"));
}

/// The partition (1-based) whose `side.lines` map holds the original `line`.
fn part_holding(parts: &Path, side: &str, line: u64) -> usize {
    let holds = |k: usize| {
        std::fs::read_to_string(parts.join(format!("part-{k:04}/{side}.lines")))
            .unwrap()
            .lines()
            .any(|l| l == line.to_string())
    };
    let found: Vec<usize> = (1..=9999)
        .take_while(|k| parts.join(format!("part-{k:04}")).exists())
        .filter(|&k| holds(k))
        .collect();
    assert_eq!(found.len(), 1, "{side}:{line} in partitions {found:?}");
    found[0]
}

#[test]
fn likely_causes_of_keyless_rows_are_the_same_in_one_run_a_split_and_under_a_memory_limit() {
    // tests/data/causes: bank 7 has no order id; ledger 9 has its amount and time
    // but another merchant (M6, bank 7 is M5), and lands in another partition.
    let tmp = tempfile::tempdir().unwrap();
    let dir = common::data("causes");
    let (ledger, bank) = (dir.join("ledger.csv"), dir.join("bank.csv"));
    let rules = dir.join("rules.toml");
    let rules = rules.to_str().unwrap();
    let single = tmp.path().join("single");
    let code = whole(&ledger, &bank, rules, &single, &[]);
    assert_eq!(code, 1);
    let (merged, merge_code) = partitioned(&ledger, &bank, rules, 3, tmp.path(), &[]);
    let parts = tmp.path().join("parts");
    assert_ne!(
        part_holding(&parts, "bank", 7),
        part_holding(&parts, "ledger", 9),
        "the case needs the other merchant's row in another partition"
    );
    assert_eq!(merge_code, code);
    assert_same(&single, &merged);

    let limited = tmp.path().join("limited");
    let out = recon()
        .args([
            "run",
            "--date",
            DATE,
            "--rules",
            rules,
            "--memory-limit",
            "1K",
            "--ledger",
        ])
        .arg(&ledger)
        .arg("--bank")
        .arg(&bank)
        .arg("--out")
        .arg(&limited)
        .arg("--spill-dir")
        .arg(tmp.path().join("spill"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(code), "{}", stderr(&out));
    assert!(stderr(&out).contains("reconciling it in"), "{}", stderr(&out));
    assert_same(&single, &limited);

    // What they all say: the merchant's own rows only.
    let cause = |side: &str, line: &str| {
        rows(&single.join("unmatched.csv"))
            .into_iter()
            .find(|r| r["side"] == side && r["line"] == line)
            .unwrap()["likely_cause"]
            .clone()
    };
    assert_eq!(
        cause("bank", "7"),
        "bank row with no order id; 1 candidate(s) of this merchant with equal amount within 2 min: ledger:8"
    );
    assert!(cause("ledger", "9").starts_with("no bank row with this order id, and none of this merchant"));
}

#[test]
fn a_day_larger_than_the_first_piece_is_split_in_pieces_into_the_bytes_of_one_run() {
    // 20000 orders: both files (the bank's in GBK with a preamble) are over
    // the 2 MiB `recon split` reads before it streams the rest.
    let tmp = tempfile::tempdir().unwrap();
    let day = tmp.path().join("day");
    gen_day(&["--orders", "20000", "--seed", "8"], &day);
    let (ledger, bank) = (day.join("ledger.csv"), day.join("bank.csv"));
    for f in [&ledger, &bank] {
        assert!(std::fs::metadata(f).unwrap().len() > 2 << 20, "{}", f.display());
    }
    let single = tmp.path().join("single");
    let code = whole(&ledger, &bank, RULES, &single, &[]);
    let (merged, merge_code) = partitioned(&ledger, &bank, RULES, 3, tmp.path(), &[]);
    assert_eq!(merge_code, code);
    assert_same(&single, &merged);
    let manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(tmp.path().join("parts/part-0002/manifest.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(manifest["bank"]["encoding"], "GBK", "{manifest}");
}

/// Every file under `dir` (relative path, bytes), in path order.
fn tree(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                todo.push(path);
            } else {
                let bytes = std::fs::read(&path).unwrap();
                files.push((path.strip_prefix(dir).unwrap().to_path_buf(), bytes));
            }
        }
    }
    files.sort();
    files
}

#[test]
fn a_split_in_pieces_writes_the_same_partitions_whatever_the_thread_count() {
    // 60000 orders: about 5 pieces of 1 MiB after the first 2 MiB in both files;
    // one thread types two pieces at a time, three threads six.
    let tmp = tempfile::tempdir().unwrap();
    let day = tmp.path().join("day");
    gen_day(&["--orders", "60000", "--seed", "9"], &day);
    let split = |threads: &str| {
        let out = tmp.path().join(format!("parts{threads}"));
        let output = recon()
            .env("RAYON_NUM_THREADS", threads)
            .args([
                "split", "--date", DATE, "--rules", RULES, "--parts", "4", "--ledger",
            ])
            .arg(day.join("ledger.csv"))
            .arg("--bank")
            .arg(day.join("bank.csv"))
            .arg("--out")
            .arg(&out)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        tree(&out)
    };
    let one = split("1");
    assert_eq!(
        one.len(),
        4 * 5,
        "4 partitions of 2 data files, 2 line maps and a manifest"
    );
    assert!(
        one == split("3"),
        "the partitions differ with RAYON_NUM_THREADS=1 and 3"
    );
}

/// Two consecutive generated days that leave rows pending across midnight:
/// day 1 (2026-11-24) without the statement rows of 23:50–23:55 and the
/// ledger rows of 23:55–24:00 (so their counterparts wait in pending.csv),
/// and day 2 (2026-11-25) with those rows arriving after midnight. The
/// statement rows of 23:45–23:50 come after midnight instead (still day 1's,
/// before the cutoff) and day 2's statement repeats them, as an export taken
/// at the cutoff does: day 1 settled them. Returns the two days' directories.
fn two_nights(tmp: &Path) -> (PathBuf, PathBuf) {
    let (one, two) = (tmp.join("night1"), tmp.join("night2"));
    gen_day(&["--orders", "2000", "--seed", "3", "--date", "2026-11-24"], &one);
    gen_day(&["--orders", "2000", "--seed", "4", "--date", "2026-11-25"], &two);
    let lines = |p: &Path| -> Vec<Vec<u8>> {
        std::fs::read(p)
            .unwrap()
            .split(|&b| b == b'\n')
            .map(<[u8]>::to_vec)
            .collect()
    };
    // `line` with the first `from` replaced by `to`.
    let retime = |line: &[u8], from: &str, to: &str| {
        let at = line
            .windows(from.len())
            .position(|w| w == from.as_bytes())
            .unwrap();
        [&line[..at], to.as_bytes(), &line[at + from.len()..]].concat()
    };
    // Statement rows start with their UTC time; ledger rows hold it in the fifth field.
    let time = |name: &str, l: &[u8]| -> Vec<u8> {
        match name {
            "bank.csv" => l.get(..16).unwrap_or_default().to_vec(),
            _ => l.split(|&b| b == b',').nth(4).unwrap_or_default().to_vec(),
        }
    };
    let within = |t: &[u8], from: &str, to: &str| (from.as_bytes()..to.as_bytes()).contains(&t);
    for (name, header, moved, overlap) in [
        (
            "bank.csv",
            5, // the header line, after a four-line preamble
            [
                "2026-11-24 15:50",
                "2026-11-24 15:55",
                "2026-11-24 15:",
                "2026-11-24 16:",
            ],
            Some([
                "2026-11-24 15:45",
                "2026-11-24 15:50",
                "2026-11-24 15:4",
                "2026-11-24 16:0",
            ]),
        ),
        (
            "ledger.csv",
            1,
            [
                "2026-11-24 23:55",
                "2026-11-25",
                "2026-11-24 23:",
                "2026-11-25 00:",
            ],
            None,
        ),
    ] {
        let (mut kept, mut arrived) = (Vec::new(), Vec::new());
        for line in lines(&one.join(name)) {
            let t = time(name, &line);
            if within(&t, moved[0], moved[1]) {
                arrived.push(retime(&line, moved[2], moved[3]));
            } else if let Some(o) = overlap.filter(|o| within(&t, o[0], o[1])) {
                let late = retime(&line, o[2], o[3]);
                arrived.push(late.clone());
                kept.push(late);
            } else {
                kept.push(line);
            }
        }
        assert!(arrived.len() >= 6, "{name}: too few late rows");
        std::fs::write(one.join(name), kept.join(&b'\n')).unwrap();
        let mut next = lines(&two.join(name));
        next.splice(header..header, arrived);
        std::fs::write(two.join(name), next.join(&b'\n')).unwrap();
    }
    (one, two)
}

/// `recon run` of one generated night into `out`, with `extra`; returns its output.
fn night(day: &Path, date: &str, out: &Path, extra: &[&std::ffi::OsStr]) -> std::process::Output {
    let output = recon()
        .args(["run", "--date", date, "--rules", RULES, "-q", "--ledger"])
        .arg(day.join("ledger.csv"))
        .arg("--bank")
        .arg(day.join("bank.csv"))
        .arg("--out")
        .arg(out)
        .args(extra)
        .output()
        .unwrap();
    assert!(output.status.code() != Some(2), "{}", stderr(&output));
    output
}

#[test]
fn carried_in_rows_go_through_a_memory_limit_and_a_split_into_the_bytes_of_one_run() {
    let tmp = tempfile::tempdir().unwrap();
    let (one, two) = two_nights(tmp.path());
    let yesterday = tmp.path().join("yesterday");
    night(&one, "2026-11-24", &yesterday, &[]);
    let pending = rows(&yesterday.join("pending.csv"));
    for side in ["ledger", "bank"] {
        assert!(pending.iter().any(|r| r["side"] == side), "no {side} row pending");
    }
    let carry: [&std::ffi::OsStr; 2] = ["--carry-in".as_ref(), yesterday.as_os_str()];
    let single = tmp.path().join("single");
    let code = night(&two, "2026-11-25", &single, &carry).status.code();
    // Carried rows are matched, and some stay alone as review items.
    assert!(rows(&single.join("matched.csv"))
        .iter()
        .any(|r| !r["carried_from"].is_empty()));
    assert!(rows(&single.join("review.csv"))
        .iter()
        .any(|r| r["item"].starts_with("carried:")));
    // Repeats of rows day 1 settled are not counted twice.
    assert!(rows(&single.join("out_of_period.csv"))
        .iter()
        .any(|r| r["reason"] == "already_in_previous_run"));

    // Under a memory limit: partitions, each with its share of the carried rows.
    let limited = tmp.path().join("limited");
    let spill = tmp.path().join("spill");
    let mut extra = carry.to_vec();
    extra.extend([
        "--memory-limit".as_ref(),
        "1M".as_ref(),
        "--spill-dir".as_ref(),
        spill.as_os_str(),
    ]);
    let out = recon()
        .args(["run", "--date", "2026-11-25", "--rules", RULES, "--ledger"])
        .arg(two.join("ledger.csv"))
        .arg("--bank")
        .arg(two.join("bank.csv"))
        .arg("--out")
        .arg(&limited)
        .args(&extra)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), code, "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!(
            ", each carrying in its share of {}",
            yesterday.display()
        )),
        "{}",
        stderr(&out)
    );
    assert_same(&single, &limited);
    // The audit log's started line names (and hashes) the carried-in file as one run's does.
    let started = |dir: &Path| {
        common::audit_entries(&tmp.path().join("audit.log"))
            .into_iter()
            .find(|e| e["event"] == "started" && e["results"] == dir.display().to_string())
            .unwrap()["inputs"]
            .clone()
    };
    assert!(started(&single)["carry_in"]["sha256"].is_string());
    assert_eq!(started(&single), started(&limited));

    // split → run --part --carry-in for every partition → merge.
    let parts = tmp.path().join("parts");
    let output = recon()
        .args([
            "split",
            "--date",
            "2026-11-25",
            "--rules",
            RULES,
            "--parts",
            "3",
            "--ledger",
        ])
        .arg(two.join("ledger.csv"))
        .arg("--bank")
        .arg(two.join("bank.csv"))
        .arg("--out")
        .arg(&parts)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    // A partition run without --carry-in cannot be merged with those that carried rows in.
    run_part(&parts, 1, RULES, &[] as &[&str]);
    for k in 2..=3 {
        run_part(&parts, k, RULES, &carry);
    }
    let refused = merge(&parts, &tmp.path().join("refused"));
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        stderr(&refused).contains("run every partition with the same --carry-in"),
        "{}",
        stderr(&refused)
    );
    assert!(!tmp.path().join("refused").exists());
    // The same previous results under another path (another machine's mount)
    // are the same carry-in; the merged summary names partition 1's.
    let mounted = tmp.path().join("mounted");
    std::fs::create_dir(&mounted).unwrap();
    for file in std::fs::read_dir(&yesterday).unwrap() {
        let file = file.unwrap().path();
        std::fs::copy(&file, mounted.join(file.file_name().unwrap())).unwrap();
    }
    run_part(&parts, 1, RULES, &carry);
    run_part(&parts, 3, RULES, &["--carry-in".as_ref(), mounted.as_os_str()]);
    let merged = tmp.path().join("merged");
    let output = merge(&parts, &merged);
    assert_eq!(output.status.code(), code, "{}", stderr(&output));
    assert_same(&single, &merged);
}
