//! Helpers shared by the integration tests: run the real binary, read its
//! output and CSV results, snapshot a results directory.
#![allow(dead_code)]

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;
use sha2::{Digest, Sha256};

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A path under tests/data.
pub fn data(path: &str) -> PathBuf {
    root().join("tests/data").join(path)
}

/// The built `recon` binary, run from the repository root. Audit logs that
/// default to the user's state directory (`rules test`) go under target/,
/// never into the developer's home.
pub fn recon() -> Command {
    let mut cmd = Command::cargo_bin("recon").expect("binary built");
    cmd.current_dir(root());
    cmd.env("XDG_STATE_HOME", state_home());
    // English unless a test asks otherwise: a Chinese locale would switch the wording.
    cmd.env("LANG", "C.UTF-8")
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES");
    cmd
}

/// Where tests keep the user state directory (`$XDG_STATE_HOME`).
pub fn state_home() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("state")
}

/// Rows of a result CSV as maps from column name to value.
pub fn rows(path: &Path) -> Vec<std::collections::BTreeMap<String, String>> {
    let mut reader = csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let header = reader.headers().unwrap().clone();
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            header
                .iter()
                .map(String::from)
                .zip(r.iter().map(String::from))
                .collect()
        })
        .collect()
}

/// `side:line` of every row in a result CSV, in file order.
pub fn refs(path: &Path) -> Vec<String> {
    rows(path)
        .iter()
        .map(|r| format!("{}:{}", r["side"], r["line"]))
        .collect()
}

/// Parsed summary.json.
pub fn summary(dir: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(dir.join("summary.json")).unwrap()).unwrap()
}

/// `recon run` on the given ledger, bank and rules into `out`, ready for more
/// flags. Relative paths are taken from the repository root.
pub fn run(
    ledger: impl AsRef<OsStr>,
    bank: impl AsRef<OsStr>,
    rules: impl AsRef<OsStr>,
    out: impl AsRef<OsStr>,
) -> Command {
    let mut cmd = recon();
    cmd.arg("run")
        .arg("--ledger")
        .arg(ledger)
        .arg("--bank")
        .arg(bank)
        .arg("--rules")
        .arg(rules)
        .arg("--out")
        .arg(out);
    cmd
}

/// `recon run` on the shipped example day (examples/basic) with the default rules.
pub fn run_example(out: &Path) -> Command {
    run_ledger(EXAMPLE_LEDGER, out)
}

/// `recon run` on `ledger` against the example bank statement with the default rules.
pub fn run_ledger(ledger: impl AsRef<OsStr>, out: &Path) -> Command {
    run(ledger, EXAMPLE_BANK, DEFAULT_RULES, out)
}

/// `recon run` on a case folder holding ledger.csv and bank.csv, with `rules`.
pub fn run_case(dir: &Path, rules: &Path, out: &Path) -> Command {
    run(dir.join("ledger.csv"), dir.join("bank.csv"), rules, out)
}

/// The example day's ledger, relative to the repository root.
pub const EXAMPLE_LEDGER: &str = "examples/basic/ledger.csv";
/// The example day's bank statement, relative to the repository root.
pub const EXAMPLE_BANK: &str = "examples/basic/bank.csv";
/// The shipped default rules, relative to the repository root.
pub const DEFAULT_RULES: &str = "rules/default.toml";

/// `recon check FILE --format json` plus `extra`: the exit code and the
/// parsed report (`Null` when stdout is not JSON).
pub fn check_json(path: &Path, extra: &[&str]) -> (i32, serde_json::Value) {
    let out = recon()
        .arg("check")
        .arg(path)
        .args(["--format", "json"])
        .args(extra)
        .output()
        .unwrap();
    let json = serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null);
    (out.status.code().unwrap(), json)
}

/// A command's stdout as text (invalid UTF-8 replaced).
pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// A command's stderr as text (invalid UTF-8 replaced).
pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// `(name, bytes)` of every entry directly in `dir`, sorted by name, to show
/// that a failed run changed nothing.
pub fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path();
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    files.sort();
    files
}

/// Lower-case hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// `recon run --date DATE` on one day of the two-day fixture in
/// tests/data/nightly (`ledger-MMDD.csv`, `bank-MMDD.csv`, `rules.toml`);
/// `date` is `2026-11-24` or `2026-11-25`.
pub fn run_nightly(date: &str, out: &Path) -> Command {
    let day = format!("{}{}", &date[5..7], &date[8..10]);
    let mut cmd = run(
        data(&format!("nightly/ledger-{day}.csv")),
        data(&format!("nightly/bank-{day}.csv")),
        data("nightly/rules.toml"),
        out,
    );
    cmd.args(["--date", date]);
    cmd
}

/// `recon rules check` on the rule file `rules` after `edit`, saved as
/// `r.toml` in a temporary directory: the command's output and that path.
pub fn check_edited_rules(rules: &Path, edit: impl FnOnce(&str) -> String) -> (Output, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("r.toml");
    let text = std::fs::read_to_string(rules).unwrap();
    std::fs::write(&path, edit(&text)).unwrap();
    let out = recon().args(["rules", "check"]).arg(&path).output().unwrap();
    (out, path)
}

/// What `recon rules check` says on stderr about the default rules after
/// `edit`, which must make them invalid (exit 2).
pub fn default_rules_error(edit: impl FnOnce(&str) -> String) -> String {
    let (out, _) = check_edited_rules(&root().join(DEFAULT_RULES), edit);
    assert_eq!(out.status.code(), Some(2));
    String::from_utf8(out.stderr).unwrap()
}

/// 1-based line and character column of the first `needle` in `text`.
pub fn position_of(text: &str, needle: &str) -> (usize, usize) {
    let at = text.find(needle).unwrap();
    let line = text[..at].matches('\n').count() + 1;
    let column = text[..at].rsplit('\n').next().unwrap().chars().count() + 1;
    (line, column)
}

/// A command's exit code (a panic if it was killed by a signal).
pub fn code(output: &Output) -> i32 {
    output.status.code().expect("exited, not killed")
}

/// Every entry of an audit log, parsed, in order.
pub fn audit_entries(log: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(log)
        .unwrap_or_else(|e| panic!("{}: {e}", log.display()))
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The `id` command's answer for the test process: its user (`-un`) or group (`-gn`).
pub fn own(flag: &str) -> String {
    let out = std::process::Command::new("id").arg(flag).output().unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// `recon resolve DIR --audit LOG` with `args`.
pub fn resolve(dir: &Path, log: &Path, args: &[&str]) -> Output {
    recon()
        .arg("resolve")
        .arg(dir)
        .arg("--audit")
        .arg(log)
        .args(args)
        .output()
        .unwrap()
}

/// `recon confirm DIR --audit LOG` with `args`.
pub fn confirm(dir: &Path, log: &Path, args: &[&str]) -> Output {
    recon()
        .arg("confirm")
        .arg(dir)
        .arg("--audit")
        .arg(log)
        .args(args)
        .output()
        .unwrap()
}

/// The rows of a CSV with an `item` column (resolutions.csv, review.csv), by item.
pub fn by_item(
    path: &Path,
) -> std::collections::BTreeMap<String, std::collections::BTreeMap<String, String>> {
    rows(path).into_iter().map(|r| (r["item"].clone(), r)).collect()
}

/// The rules at `base` (relative to the repository) with `extra` appended,
/// saved in `dir` under `base`'s file name.
pub fn rules_with(base: &str, dir: &Path, extra: &str) -> PathBuf {
    let base = root().join(base);
    let text = std::fs::read_to_string(&base).unwrap();
    let path = dir.join(base.file_name().unwrap());
    std::fs::write(&path, format!("{text}\n{extra}")).unwrap();
    path
}

/// The gen_day example binary, built by `cargo test` beside the test binaries.
pub fn gen_day_exe() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().unwrap().parent().unwrap();
    profile_dir
        .join("examples")
        .join(format!("gen_day{}", std::env::consts::EXE_SUFFIX))
}
