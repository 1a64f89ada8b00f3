//! Roles and masking through the binary: the auditor's results, stdout,
//! stderr and the audit log hold no full account number; hashes need a
//! secret salt; the default role applies without --role; and rule mistakes
//! about roles are reported with LINE:COL.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::{data, default_rules_error, position_of, recon, root, rows, run_example, run_ledger, summary};

const SALT: &str = "test-salt-not-for-production";

fn run(ledger: &Path, out: &Path, extra: &[&str]) -> Output {
    run_ledger(ledger, out)
        .env(recon::output::mask::SALT_VAR, SALT)
        .args(extra)
        .output()
        .unwrap()
}

fn example_ledger() -> PathBuf {
    root().join("examples/basic/ledger.csv")
}

/// Values of one column of the example ledger.
fn ledger_column(name: &str) -> Vec<String> {
    rows(&example_ledger())
        .into_iter()
        .map(|r| r[name].clone())
        .collect()
}

/// Every regular file under `dir`, recursively, with its text.
fn every_file(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(every_file(&path));
        } else {
            let text = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
            files.push((path, text));
        }
    }
    files
}

fn assert_holds_none(what: &str, text: &str, secrets: &[String]) {
    for secret in secrets {
        assert!(!text.contains(secret.as_str()), "{what} holds {secret}:\n{text}");
    }
}

#[test]
fn the_auditor_sees_no_account_number_in_any_file_stdout_stderr_or_the_audit_log() {
    let tmp = tempfile::tempdir().unwrap();
    let accounts = ledger_column("付款账号");
    let holders = ledger_column("户号");
    assert_eq!(accounts.len(), 12);
    let mut secrets: Vec<String> = accounts.iter().chain(&holders).cloned().collect();
    secrets.push("水费代收".into()); // a memo (摘要) the auditor's role drops

    let day = tmp.path().join("day");
    let done = run(&example_ledger(), &day, &["--role", "auditor"]);
    assert_eq!(
        done.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );
    let bad = tmp.path().join("bad");
    let skipped = run(
        &data("run/ledger_bad_rows.csv"),
        &bad,
        &["--role", "auditor", "--skip-bad-rows"],
    );
    assert_eq!(skipped.status.code(), Some(1));
    let shifted = run(
        &data("masking/ledger_shifted_column.csv"),
        &tmp.path().join("shifted"),
        &["--role", "auditor"],
    );
    assert_eq!(shifted.status.code(), Some(2));
    let json = run(
        &example_ledger(),
        &tmp.path().join("json"),
        &["--role", "auditor", "--format", "json"],
    );

    let files = every_file(tmp.path());
    assert!(files.iter().any(|(p, _)| p.ends_with("bad/rejected.csv")));
    assert!(files.iter().any(|(p, _)| p.ends_with("audit.log")));
    for (path, text) in &files {
        assert_holds_none(&path.display().to_string(), text, &secrets);
    }
    for (what, output) in [
        ("run", &done),
        ("skip", &skipped),
        ("shifted", &shifted),
        ("json", &json),
    ] {
        assert_holds_none(
            &format!("{what} stdout"),
            &String::from_utf8_lossy(&output.stdout),
            &secrets,
        );
        assert_holds_none(
            &format!("{what} stderr"),
            &String::from_utf8_lossy(&output.stderr),
            &secrets,
        );
    }

    // What the auditor does see.
    let matched = rows(&day.join("matched.csv"));
    assert_eq!(matched[0]["付款账号"], "6217********1294");
    assert_eq!(matched[0]["户号"].len(), 16);
    assert!(!matched[0].contains_key("摘要"));
    let r001: Vec<_> = matched
        .iter()
        .filter(|r| r["key"] == "R001" && r["side"] == "ledger")
        .collect();
    assert_eq!(
        r001[0]["户号"], matched[0]["户号"],
        "the same holder hashes alike"
    );
    let err = String::from_utf8_lossy(&shifted.stderr);
    assert!(err.contains("\"6222********1234\" is not a time"), "{err}");
    let rejected = rows(&bad.join("rejected.csv"));
    let raw: Vec<&str> = rejected[0]["raw"].split(',').collect();
    assert_eq!(
        raw[..5],
        ["P002", "M-POWER", "电费", "1e5", "2026-11-24 10:20:00"]
    );
    assert!(
        raw[5].len() == 16 && raw[5].chars().all(|c| c.is_ascii_hexdigit()),
        "{raw:?}"
    );
    assert_eq!(raw[6], "6222********1234");
    let s = summary(&day);
    assert_eq!(s["role"]["name"], "auditor");
    assert_eq!(s["role"]["masks"]["付款账号"], "keep_ends");
    assert_eq!(s["role"]["masks"]["户号"], "hash");
    assert_eq!(s["role"]["masks"]["摘要"], "drop");
    let printed = String::from_utf8_lossy(&done.stdout);
    assert!(
        printed.contains("role     auditor (masks 付款账号 keep_ends, 户号 hash, 摘要 drop)"),
        "{printed}"
    );
}

#[test]
fn without_role_the_default_role_applies_and_finance_sees_everything() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    assert_eq!(run(&example_ledger(), &out, &[]).status.code(), Some(1));
    assert_eq!(summary(&out)["role"]["name"], "finance");
    let matched = rows(&out.join("matched.csv"));
    assert_eq!(matched[0]["付款账号"], "6217000012341294");
    assert_eq!(matched[0]["户号"], "W1001");

    let shifted = run(
        &data("masking/ledger_shifted_column.csv"),
        &tmp.path().join("s"),
        &[],
    );
    assert_eq!(shifted.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&shifted.stderr).contains("\"6222020200001234\" is not a time"));
    let log = std::fs::read_to_string(tmp.path().join("audit.log")).unwrap();
    assert!(
        !log.contains("6222020200001234"),
        "the audit log holds an account number: {log}"
    );
    assert!(log.contains("6222********1234"), "{log}");

    let cashier = tmp.path().join("cashier");
    assert_eq!(
        run(&example_ledger(), &cashier, &["--role", "cashier"])
            .status
            .code(),
        Some(1)
    );
    let matched = rows(&cashier.join("matched.csv"));
    assert_eq!(matched[0]["付款账号"], "6217********1294");
    assert_eq!(matched[0]["户号"], "W1001");
}

#[test]
fn hashing_needs_a_secret_salt_and_unknown_roles_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let no_salt = run_example(&out)
        .env_remove(recon::output::mask::SALT_VAR)
        .args(["--role", "auditor"])
        .output()
        .unwrap();
    assert_eq!(no_salt.status.code(), Some(2));
    let err = String::from_utf8_lossy(&no_salt.stderr);
    assert!(
        err.contains("role auditor masks \"户号\" with \"hash\"") && err.contains("RECON_MASK_SALT"),
        "{err}"
    );
    assert!(!out.exists());

    let unknown = run(&example_ledger(), &out, &["--role", "boss"]);
    assert_eq!(unknown.status.code(), Some(2));
    let err = String::from_utf8_lossy(&unknown.stderr);
    assert!(
        err.contains("--role boss: not a role of rules/default.toml (roles: auditor, cashier, finance)"),
        "{err}"
    );
    assert!(!out.exists());
}

#[test]
fn hashes_depend_on_the_salt() {
    let tmp = tempfile::tempdir().unwrap();
    let hash_with = |salt: &str, out: &str| -> String {
        let out = tmp.path().join(out);
        run_example(&out)
            .env(recon::output::mask::SALT_VAR, salt)
            .args(["--role", "auditor"])
            .assert()
            .code(1);
        rows(&out.join("matched.csv"))[0]["户号"].clone()
    };
    let a = hash_with(SALT, "a");
    assert_eq!(a, hash_with(SALT, "b"));
    assert_ne!(a, hash_with("another-salt-of-enough-length", "c"));
}

/// `LINE:COL` of the first occurrence of `needle` in the default rules after `edit`.
fn position(edit: impl Fn(&str) -> String, needle: &str) -> String {
    let text = edit(&std::fs::read_to_string(root().join("rules/default.toml")).unwrap());
    let (line, column) = position_of(&text, needle);
    format!("r.toml:{line}:{column}:")
}

#[test]
fn rules_check_lists_the_roles() {
    let out = recon()
        .args(["rules", "check", "rules/default.toml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.trim_end()
            .ends_with("roles auditor, cashier, finance (default finance)"),
        "{text}"
    );
}

#[test]
fn rules_check_explains_role_mistakes_with_line_and_column() {
    let boss = |t: &str| t.replace("default_role = \"finance\"", "default_role = \"boss\"");
    let err = default_rules_error(boss);
    assert!(err.contains(&position(boss, "\"boss\"")), "{err}");
    assert!(
        err.contains("default_role = \"boss\" is not a role defined here (roles: auditor, cashier, finance)"),
        "{err}"
    );

    let column = |t: &str| t.replace("\"户号\" = \"hash\"", "\"卡号\" = \"hash\"");
    let err = default_rules_error(column);
    assert!(err.contains(&position(column, "\"卡号\"")), "{err}");
    assert!(err.contains("unknown column \"卡号\""), "{err}");
    assert!(err.contains("key, merchant, 户号, 付款账号, 摘要"), "{err}");

    let kind = |t: &str| t.replace("\"户号\" = \"hash\"", "\"户号\" = \"stars\"");
    let err = default_rules_error(kind);
    assert!(err.contains(&position(kind, "\"stars\"")), "{err}");
    assert!(err.contains("\"stars\" is not a mask kind"), "{err}");

    let amount = |t: &str| t.replace("\"户号\" = \"hash\"", "amount = \"drop\"");
    let err = default_rules_error(amount);
    assert!(err.contains("\"amount\" cannot be masked"), "{err}");

    let no_default = |t: &str| t.replace("default_role = \"finance\"\n", "");
    let err = default_rules_error(no_default);
    assert!(err.contains("no default_role"), "{err}");

    let typo = |t: &str| t.replace("[roles.auditor]\n", "[roles.auditor]\nmasks = {}\n");
    let err = default_rules_error(typo);
    assert!(err.contains(&position(typo, "masks = {}")), "{err}");
    assert!(err.contains("unknown field `masks`"), "{err}");
}

#[test]
fn results_written_for_a_masking_role_are_never_carried_in() {
    let tmp = tempfile::tempdir().unwrap();
    let (masked, plain) = (tmp.path().join("masked"), tmp.path().join("plain"));
    let day = ["--date", "2026-11-24"];
    assert_eq!(
        run(
            &example_ledger(),
            &masked,
            &[&day[..], &["--role", "cashier"]].concat()
        )
        .status
        .code(),
        Some(1)
    );
    assert_eq!(run(&example_ledger(), &plain, &day).status.code(), Some(1));
    // The next day's ledger: the example rows a day later (a run for 11-25
    // refuses a ledger none of whose rows is of 11-25).
    let next_ledger = tmp.path().join("ledger-1125.csv");
    let text = std::fs::read_to_string(example_ledger()).unwrap();
    std::fs::write(&next_ledger, text.replace("2026-11-24", "2026-11-25")).unwrap();
    let next = |previous: &Path, out: &str| {
        run(
            &next_ledger,
            &tmp.path().join(out),
            &["--date", "2026-11-25", "--carry-in", previous.to_str().unwrap()],
        )
    };
    let refused = next(&masked.join("pending.csv"), "next1");
    assert_eq!(refused.status.code(), Some(2));
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(
        err.contains("were written for role cashier, which masks 付款账号"),
        "{err}"
    );
    assert!(!tmp.path().join("next1").exists());
    let accepted = next(&plain, "next2");
    // Accepted: 11-25's shifted rows have no statement rows, so exit 1.
    assert_eq!(
        accepted.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&accepted.stderr)
    );
    assert_eq!(
        summary(&tmp.path().join("next2"))["carried_in"]["path"],
        plain.display().to_string() + "/pending.csv"
    );
}
