//! Snapshots (insta) of the text people read: every command's `--help` and
//! `recon check` reports, so a change to what users see shows up in review
//! as a diff of tests/snapshots/*.snap. The binary runs from the repository
//! root with COLUMNS=100 and no RECON_KEY_FILE, so wrapping, paths and the
//! help's environment notes are the same everywhere.

mod common;

use common::recon;

/// Runs the binary and returns stdout; the exit code must be `code`.
fn stdout(args: &[&str], code: i32) -> String {
    let out = recon()
        .env("COLUMNS", "100")
        .env_remove("RECON_KEY_FILE")
        .args(args)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(code),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn help_of_every_command() {
    for (name, args) in [
        ("help_recon", &["--help"][..]),
        ("help_run", &["run", "--help"]),
        ("help_check", &["check", "--help"]),
        ("help_convert", &["convert", "--help"]),
        ("help_rules", &["rules", "--help"]),
        ("help_rules_check", &["rules", "check", "--help"]),
        ("help_rules_test", &["rules", "test", "--help"]),
        ("help_rules_init", &["rules", "init", "--help"]),
        ("help_rules_profiles", &["rules", "profiles", "--help"]),
        ("help_confirm", &["confirm", "--help"]),
        ("help_audit", &["audit", "--help"]),
        ("help_audit_verify", &["audit", "verify", "--help"]),
        ("help_audit_show", &["audit", "show", "--help"]),
        ("help_keygen", &["keygen", "--help"]),
        ("help_decrypt", &["decrypt", "--help"]),
        ("help_completions", &["completions", "--help"]),
        ("help_man", &["man", "--help"]),
    ] {
        insta::assert_snapshot!(name, stdout(args, 0));
    }
}

#[test]
fn check_report_of_a_gbk_statement_with_rules() {
    insta::assert_snapshot!(stdout(
        &[
            "check",
            "examples/basic/bank.csv",
            "--rules",
            "rules/default.toml",
            "--side",
            "bank",
        ],
        0
    ));
}

#[test]
fn check_report_of_a_real_sample_with_guessed_columns() {
    insta::assert_snapshot!(stdout(
        &[
            "check",
            "tests/data/samples/icbc_credit_example-icbc-credit-records.csv"
        ],
        0
    ));
}

#[test]
fn check_report_with_problems_cut_by_max_problems() {
    insta::assert_snapshot!(stdout(
        &["check", "tests/data/edge/bad_amount.csv", "--max-problems", "1"],
        1
    ));
}

#[test]
fn check_report_as_json() {
    insta::assert_snapshot!(stdout(
        &["check", "tests/data/edge/bom_preamble.csv", "--format", "json"],
        0
    ));
}

#[test]
fn check_report_without_a_recognisable_amount_column() {
    insta::assert_snapshot!(stdout(&["check", "tests/data/edge/no_amount_column.csv"], 0));
}

#[test]
fn check_report_when_the_mapping_does_not_fit_the_header() {
    insta::assert_snapshot!(stdout(&["check", "tests/data/edge/duplicate_header.csv"], 1));
}
