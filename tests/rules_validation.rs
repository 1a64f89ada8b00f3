//! `recon rules check` on broken variants of rules/default.toml: each error
//! must name the file (and for TOML errors the line and column) and say
//! what is wrong, and the command must exit 2.

mod common;

use common::recon;

/// Writes `edit(default.toml)` to a temporary rule file and checks it:
/// the exit code and stderr.
fn check_edited(edit: impl Fn(&str) -> String) -> (i32, String) {
    let (out, _) = common::check_edited_rules(&common::root().join(common::DEFAULT_RULES), |text| {
        let edited = edit(text);
        assert_ne!(edited, text, "the edit changed nothing");
        edited
    });
    (out.status.code().unwrap(), String::from_utf8(out.stderr).unwrap())
}

fn assert_rejected(edit: impl Fn(&str) -> String, message: &str) {
    let (code, err) = check_edited(edit);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains(message), "expected {message:?} in:\n{err}");
}

/// Like `assert_rejected`, for errors that must point at `RULES:LINE:COL`,
/// where LINE is the edited text's first line containing `at` (so the test
/// follows changes to default.toml) and COL is given.
fn assert_rejected_at(edit: impl Fn(&str) -> String, at: &str, column: usize, message: &str) {
    let text = std::fs::read_to_string(common::root().join("rules/default.toml")).unwrap();
    let line = edit(&text)
        .lines()
        .position(|l| l.contains(at))
        .expect("needle in the edited text")
        + 1;
    assert_rejected(edit, &format!("r.toml:{line}:{column}: {message}"));
}

#[test]
fn toml_syntax_errors_have_line_and_column() {
    assert_rejected_at(
        |t| t.replacen("name = \"order-id\"", "name = \"order-id", 1),
        "name = \"order-id",
        17,
        "invalid basic string",
    );
    assert_rejected_at(
        |t| t.replace("effective_from = 2026-01-01", "effective_from = \"2026-01-01\""),
        "effective_from =",
        18,
        "invalid type: string \"2026-01-01\", expected a TOML datetime",
    );
}

#[test]
fn unknown_keys_and_sections_are_rejected_where_they_are() {
    assert_rejected_at(
        |t| format!("{t}\n[extra]\nx = 1\n"),
        "[extra]",
        2,
        "unknown field `extra`, expected one of `rules`, `business`",
    );
    assert_rejected_at(
        |t| t.replace("[ledger.columns]", "[ledger.colums]"),
        "[ledger.colums]",
        9,
        "unknown field `colums`",
    );
    assert_rejected_at(
        |t| t.replacen("tolerance = \"0.00\"", "tolerence = \"0.00\"", 1),
        "tolerence",
        1,
        "unknown field `tolerence`",
    );
}

#[test]
fn thresholds_must_leave_room_between_ignore_and_review() {
    let message = "[thresholds] ignore_below (5000.00) is not below review_above (5000.00)";
    assert_rejected(
        |t| t.replace("ignore_below = \"1.00\"", "ignore_below = \"5000.00\""),
        message,
    );
    assert_rejected(
        |t| t.replace("ignore_below = \"1.00\"", "ignore_below = \"-1\""),
        "[thresholds] ignore_below: must not be negative",
    );
}

#[test]
fn stage_lists_and_names_are_checked() {
    assert_rejected(
        |t| t[..t.find("[[stage]]").unwrap()].to_string(),
        "r.toml:1:1: no [[stage]] defined",
    );
    assert_rejected(
        |t| t.replace("name = \"split\"", "name = \"order-id\""),
        "[[stage]] #2: name \"order-id\" is used twice",
    );
    assert_rejected(
        |t| t.replace("name = \"split\"", "name = \"\""),
        "[[stage]] #2: name is empty",
    );
    assert_rejected(
        |t| t.replace("name = \"city-payments\"", "name = \" \""),
        "[rules] name is empty",
    );
}

#[test]
fn impossible_stage_settings_are_explained() {
    assert_rejected(
        |t| t.replace("window = [\"0s\", \"120s\"]", "window = [\"120s\", \"0s\"]"),
        "[[stage]] #4 \"merchant-amount-time\": window starts after it ends (120s > 0s)",
    );
    assert_rejected(
        |t| t.replace("window = [\"0s\", \"120s\"]", "window = [\"0s\"]"),
        "window must be two durations",
    );
    assert_rejected(
        |t| {
            t.replacen(
                "tolerance = \"0.00\"",
                "tolerance = \"0.00\"\nwindow = [\"0s\", \"1s\"]",
                1,
            )
        },
        "[[stage]] #1 \"order-id\": `window` does not apply to match = \"key\"",
    );
    assert_rejected(
        |t| t.replace("max_parts = 10", "max_parts = 1"),
        "[[stage]] #2 \"split\": max_parts must be at least 2",
    );
    assert_rejected(
        |t| t.replace("on = [\"merchant\", \"amount\"]", "on = [\"merchant\"]"),
        "on must include \"amount\"",
    );
    assert_rejected(
        |t| t.replacen("tolerance = \"0.00\"", "tolerance = \"-0.01\"", 1),
        "tolerance: \"-0.01\" is not a tolerance",
    );
    assert_rejected(
        |t| t.replace("ambiguous = \"closest\"", "ambiguous = \"random\""),
        "ambiguous = \"random\" (use \"closest\" or \"unmatched\")",
    );
}

#[test]
fn side_settings_are_checked() {
    assert_rejected(
        |t| t.replace("timezone = \"UTC\"", "timezone = \"Mars/Olympus\""),
        "[bank] timezone: unknown time zone \"Mars/Olympus\"",
    );
    assert_rejected(
        |t| t.replacen("encoding = \"auto\"", "encoding = \"klingon\"", 1),
        "[ledger] encoding: unknown encoding \"klingon\"",
    );
    assert_rejected(
        |t| t.replace("credit = \"贷方金额\"", "credit = \"贷方金额\"\namount = \"x\""),
        "[bank.columns]: set either amount or debit + credit, not both",
    );
    assert_rejected(
        |t| format!("{t}\n[[bank.clean]]\ncolumn = \"摘要\"\nextract = \"(\"\n"),
        "[[bank.clean]] column \"摘要\": extract is not a valid regex",
    );
    assert_rejected(
        |t| t.replace("window = \"24h\"", "window = \"forever\""),
        "[duplicates] window: \"forever\" is not a duration",
    );
}

#[test]
fn two_versions_with_one_effective_date_are_rejected() {
    let tmp = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(common::root().join("rules/default.toml")).unwrap();
    std::fs::write(tmp.path().join("a.toml"), &text).unwrap();
    std::fs::write(tmp.path().join("b.toml"), text.replace("1.0.0", "1.0.1")).unwrap();
    let out = recon().args(["rules", "check"]).arg(tmp.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("are both effective from 2026-01-01"), "{err}");
}

#[test]
fn rules_test_on_a_folder_without_cases_exits_2() {
    let tmp = tempfile::tempdir().unwrap();
    let out = recon().args(["rules", "test"]).arg(tmp.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("no case folders"), "{err}");
}
