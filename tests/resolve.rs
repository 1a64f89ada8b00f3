//! Closing a day through the binary: `recon resolve` pairs rows by hand and
//! accepts explained exceptions with reason codes of the rules, `recon
//! confirm` confirms the review flag, and the rerun of the example day is
//! `closed` (exit 0). A changed row voids its manual match; `--undo`
//! reopens; roles name who may do what (the test process's own user and
//! group against a name it does not hold); row scopes cut a role's view;
//! four eyes keep the user who ran a day from resolving it.

mod common;

use std::path::Path;
use std::process::Output;

use calamine::{open_workbook, Reader, Xlsx};

use common::{
    audit_entries, by_item, code, confirm, own, recon, resolve, root, rows, rules_with, run, stderr, stdout,
    summary, DEFAULT_RULES, EXAMPLE_BANK, EXAMPLE_LEDGER,
};

const DATE: &str = "2026-11-24";

/// The example day with `rules` into `out`, audit log `log`.
fn run_day(rules: &Path, bank: &Path, out: &Path, log: &Path, extra: &[&str]) -> Output {
    run(EXAMPLE_LEDGER, bank, rules, out)
        .args(["--date", DATE, "--audit"])
        .arg(log)
        .args(extra)
        .output()
        .unwrap()
}

#[test]
fn the_example_day_is_closed_by_pairing_accepting_and_confirming() {
    let tmp = tempfile::tempdir().unwrap();
    let (day, log) = (tmp.path().join("day"), tmp.path().join("audit.log"));
    let rules = root().join("rules/default.toml");
    let bank = root().join(EXAMPLE_BANK);
    let first = run_day(&rules, &bank, &day, &log, &[]);
    assert_eq!(code(&first), 1, "{}", stderr(&first));
    let open = by_item(&day.join("resolutions.csv"));
    assert_eq!(
        open.keys().collect::<Vec<_>>(),
        ["bank:14", "bank:16", "bank:17", "ledger:10", "ledger:11"]
    );
    assert!(open
        .values()
        .all(|r| r["status"] == "open" && r["fingerprint"].len() == 64));
    assert!(open["ledger:11"]["likely_cause"].contains("channel fee"));

    let paired = resolve(
        &day,
        &log,
        &[
            "--pair",
            "ledger:11",
            "bank:16",
            "--note",
            "order id mistyped, fee 1.00",
        ],
    );
    assert_eq!(code(&paired), 0, "{}", stderr(&paired));
    assert!(
        stdout(&paired).contains("paired ledger:11 bank:16 as R-"),
        "{}",
        stdout(&paired)
    );
    assert!(stdout(&paired).contains("(difference 1.00)"));
    for (item, reason) in [
        ("bank:17", "interest"),
        ("ledger:10", "write_off"),
        ("bank:14", "bank_fee"),
    ] {
        let done = resolve(
            &day,
            &log,
            &["--accept", item, "--reason", reason, "--note", "explained"],
        );
        assert_eq!(code(&done), 0, "{item}: {}", stderr(&done));
    }
    // Everything but the review flag is handled: still open, and the run says what is.
    let second = run_day(&rules, &bank, &day, &log, &[]);
    assert_eq!(code(&second), 1, "{}", stderr(&second));
    assert!(
        stdout(&second).contains("open     1 review flag(s) to confirm"),
        "{}",
        stdout(&second)
    );
    assert_eq!(summary(&day)["open"]["review_flags"], 1);

    let confirmed = confirm(
        &day,
        &log,
        &["--match-id", "M000003", "--note", "tuition paid in full"],
    );
    assert_eq!(code(&confirmed), 0, "{}", stderr(&confirmed));
    let closed = run_day(&rules, &bank, &day, &log, &["--xlsx"]);
    assert_eq!(code(&closed), 0, "{}", stderr(&closed));
    let text = stdout(&closed);
    assert!(text.contains("status   closed"), "{text}");
    assert!(
        text.contains("resolved 5 of 5 exception row(s): 2 paired, 3 accepted"),
        "{text}"
    );
    let me = own("-un");
    assert!(
        text.contains(&format!("accepted interest (利息) by {me} ({me} as finance)")),
        "{text}"
    );

    let s = summary(&day);
    assert_eq!(s["status"], "closed");
    assert_eq!(s["resolutions"]["paired"], 2);
    assert_eq!(s["resolutions"]["accepted"], 3);
    assert_eq!(s["resolutions"]["open"], 0);
    assert_eq!(
        s["open"],
        serde_json::json!({"rows": 0, "rejected": 0, "review_flags": 0})
    );
    let manual: Vec<_> = rows(&day.join("matched.csv"))
        .into_iter()
        .filter(|r| r["stage"] == "manual")
        .collect();
    assert_eq!(manual.len(), 2);
    assert_eq!(manual[0]["difference"], "1.00");
    assert!(manual[0]["resolution"].contains(&format!("by {me} (finance, {me})")));
    assert!(manual[0]["resolution"].contains("order id mistyped"));
    let unmatched = rows(&day.join("unmatched.csv"));
    assert_eq!(unmatched.len(), 2, "accepted rows stay in their output");
    assert!(unmatched
        .iter()
        .all(|r| r["resolution"].starts_with("accepted R-")));
    let handled = by_item(&day.join("resolutions.csv"));
    assert_eq!(handled["ledger:11"]["status"], "paired");
    assert_eq!(handled["bank:17"]["reason_label"], "利息");
    assert_eq!(handled["bank:14"]["os_user"], me);
    let html = std::fs::read_to_string(day.join("report.html")).unwrap();
    assert!(html.contains("class=\"status closed\""));
    assert!(html.contains("id=\"handling-table\"") && html.contains("银行手续费"));
    let book: Xlsx<_> = open_workbook(day.join("results.xlsx")).unwrap();
    assert!(
        book.sheet_names().contains(&"Resolutions".to_string()),
        "{:?}",
        book.sheet_names()
    );

    let entries = audit_entries(&log);
    let resolves: Vec<_> = entries.iter().filter(|e| e["kind"] == "resolve").collect();
    assert_eq!(resolves.len(), 4);
    assert_eq!(resolves[0]["action"], "pair");
    assert_eq!(resolves[0]["user"], me.as_str());
    assert_eq!(resolves[0]["role"], "finance");
    assert_eq!(resolves[0]["difference"], "1.00");
    assert_eq!(
        resolves[0]["rows"][0]["fingerprint"],
        open["ledger:11"]["fingerprint"].as_str()
    );
    assert_eq!(resolves[0]["business_date"], DATE);
    assert_eq!(entries.last().unwrap()["status"], "closed");
    assert_eq!(entries.last().unwrap()["exit_code"], 0);
}

#[test]
fn a_changed_row_voids_its_manual_match_and_undo_reopens_an_acceptance() {
    let tmp = tempfile::tempdir().unwrap();
    let (day, log) = (tmp.path().join("day"), tmp.path().join("audit.log"));
    let rules = root().join("rules/default.toml");
    let bank = root().join(EXAMPLE_BANK);
    run_day(&rules, &bank, &day, &log, &[]);
    let paired = resolve(
        &day,
        &log,
        &["--pair", "ledger:11", "bank:16", "--note", "mistyped"],
    );
    assert_eq!(code(&paired), 0, "{}", stderr(&paired));
    let accepted = resolve(
        &day,
        &log,
        &[
            "--accept", "bank:17", "--reason", "interest", "--note", "interest",
        ],
    );
    let id = stdout(&accepted)
        .split_whitespace()
        .find(|w| w.starts_with("R-"))
        .unwrap()
        .trim_end_matches(':')
        .to_string();

    // The bank re-exports the day with bank:16's amount corrected.
    let mut bytes = std::fs::read(&bank).unwrap();
    let at = bytes.windows(6).position(|w| w == b"149.00").unwrap();
    bytes[at + 2] = b'8';
    let changed = tmp.path().join("bank.csv");
    std::fs::write(&changed, bytes).unwrap();
    let rerun = run_day(&rules, &changed, &day, &log, &[]);
    assert_eq!(code(&rerun), 1);
    assert!(
        stdout(&rerun).contains("no longer applies: bank:16 changed or no longer an exception"),
        "{}",
        stdout(&rerun)
    );
    assert!(rows(&day.join("matched.csv"))
        .iter()
        .all(|r| r["stage"] != "manual"));
    let s = summary(&day);
    assert_eq!(
        s["resolutions"]["stale"][0]["rows_changed"],
        serde_json::json!(["bank:16"])
    );
    assert_eq!(
        by_item(&day.join("resolutions.csv"))["bank:17"]["status"],
        "accepted"
    );

    let undone = resolve(
        &day,
        &log,
        &["--undo", &id, "--note", "it was a payment after all"],
    );
    assert_eq!(code(&undone), 0, "{}", stderr(&undone));
    run_day(&rules, &changed, &day, &log, &[]);
    assert_eq!(by_item(&day.join("resolutions.csv"))["bank:17"]["status"], "open");
    let last_resolve = audit_entries(&log)
        .into_iter()
        .rev()
        .find(|e| e["kind"] == "resolve")
        .unwrap();
    assert_eq!(last_resolve["action"], "undo");
    assert_eq!(last_resolve["resolution"], id.as_str());
}

#[test]
fn unknown_reasons_resolved_rows_and_rows_that_are_no_exception_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let (day, log) = (tmp.path().join("day"), tmp.path().join("audit.log"));
    run_day(
        &root().join("rules/default.toml"),
        &root().join(EXAMPLE_BANK),
        &day,
        &log,
        &[],
    );
    let unknown = resolve(
        &day,
        &log,
        &["--accept", "bank:17", "--reason", "gift", "--note", "x"],
    );
    assert_eq!(code(&unknown), 2);
    assert!(
        stderr(&unknown).contains("--reason gift: not a reason code"),
        "{}",
        stderr(&unknown)
    );
    assert!(stderr(&unknown).contains("interest (利息)"));
    let matched = resolve(&day, &log, &["--pair", "ledger:2", "bank:2", "--note", "x"]);
    assert_eq!(code(&matched), 2);
    assert!(stderr(&matched).contains("ledger:2 is not an unmatched or duplicate row"));
    assert_eq!(
        code(&resolve(
            &day,
            &log,
            &["--accept", "bank:17", "--reason", "interest", "--note", "x"]
        )),
        0
    );
    let again = resolve(&day, &log, &["--pair", "bank:17", "ledger:10", "--note", "x"]);
    assert_eq!(code(&again), 2);
    assert!(
        stderr(&again).contains("bank:17 is already resolved by R-"),
        "{}",
        stderr(&again)
    );
    let no_note = resolve(
        &day,
        &log,
        &["--accept", "bank:14", "--reason", "interest", "--note", " "],
    );
    assert_eq!(code(&no_note), 2);
    assert_eq!(
        audit_entries(&log)
            .iter()
            .filter(|e| e["kind"] == "resolve")
            .count(),
        1
    );
}

#[test]
fn roles_name_who_may_do_what_and_refusals_are_audited() {
    let tmp = tempfile::tempdir().unwrap();
    let (day, log) = (tmp.path().join("day"), tmp.path().join("audit.log"));
    let (me, group) = (own("-un"), own("-gn"));
    let text = std::fs::read_to_string(root().join("rules/default.toml"))
        .unwrap()
        .replace(
            "[roles.finance]\n",
            &format!("[roles.finance]\nusers = [\"{me}\"]\nmay = [\"run\", \"confirm\", \"resolve\"]\n"),
        )
        .replace(
            "[roles.cashier]\n",
            "[roles.cashier]\nusers = [\"recon-test-nobody\"]\ngroups = [\"recon-test-cashiers\"]\nmay = [\"run\"]\n",
        )
        .replace("[roles.auditor]\n", &format!("[roles.auditor]\ngroups = [\"{group}\"]\nmay = [\"verify\"]\n"));
    let rules = tmp.path().join("rules.toml");
    std::fs::write(&rules, text).unwrap();
    let bank = root().join(EXAMPLE_BANK);

    let checked = recon().args(["rules", "check"]).arg(&rules).output().unwrap();
    assert!(
        stdout(&checked).contains(&format!("roles enforced: auditor: group {group} may verify")),
        "{}",
        stdout(&checked)
    );
    let default = recon()
        .args(["rules", "check", "rules/default.toml"])
        .output()
        .unwrap();
    assert!(
        stdout(&default).contains("roles are not enforced"),
        "{}",
        stdout(&default)
    );

    let cashier = run_day(&rules, &bank, &day, &log, &["--role", "cashier"]);
    assert_eq!(code(&cashier), 2);
    assert!(
        stderr(&cashier).contains(&format!("user {me} does not hold role cashier")),
        "{}",
        stderr(&cashier)
    );
    assert!(!day.exists(), "nothing was run");
    let refused = audit_entries(&log).pop().unwrap();
    assert_eq!(refused["kind"], "refused");
    assert_eq!(
        (refused["action"].as_str(), refused["user"].as_str()),
        (Some("run"), Some(me.as_str()))
    );

    let ran = run_day(&rules, &bank, &day, &log, &[]);
    assert_eq!(code(&ran), 1, "{}", stderr(&ran));
    assert_eq!(summary(&day)["role"]["name"], "finance");
    let auditor = resolve(
        &day,
        &log,
        &[
            "--role", "auditor", "--accept", "bank:17", "--reason", "interest", "--note", "x",
        ],
    );
    assert_eq!(code(&auditor), 2);
    assert!(
        stderr(&auditor).contains("role auditor may not resolve (it may verify)"),
        "{}",
        stderr(&auditor)
    );
    assert_eq!(audit_entries(&log).pop().unwrap()["action"], "resolve");
    let finance = resolve(
        &day,
        &log,
        &["--accept", "bank:17", "--reason", "interest", "--note", "x"],
    );
    assert_eq!(code(&finance), 0, "{}", stderr(&finance));
    assert_eq!(
        audit_entries(&log).pop().unwrap()["by"],
        me.as_str(),
        "--by defaults to the OS user"
    );
    let confirmed = confirm(
        &day,
        &log,
        &["--role", "cashier", "--match-id", "M000003", "--note", "x"],
    );
    assert_eq!(code(&confirmed), 2);
    assert_eq!(audit_entries(&log).pop().unwrap()["kind"], "refused");
}

#[test]
fn verify_and_the_audit_commands_need_a_role_that_may_verify_once_roles_are_enforced() {
    let tmp = tempfile::tempdir().unwrap();
    let (day, log) = (tmp.path().join("day"), tmp.path().join("audit.log"));
    let me = own("-un");
    let base = std::fs::read_to_string(root().join("rules/default.toml")).unwrap();
    let enforced = |auditor_group: &str| {
        base.replace(
            "[roles.finance]\n",
            &format!("[roles.finance]\nusers = [\"{me}\"]\nmay = [\"run\", \"confirm\", \"resolve\"]\n"),
        )
        .replace(
            "[roles.auditor]\n",
            &format!("[roles.auditor]\ngroups = [\"{auditor_group}\"]\nmay = [\"verify\"]\n"),
        )
    };
    let rules = tmp.path().join("rules.toml");
    std::fs::write(&rules, enforced(&own("-gn"))).unwrap();
    let ran = run_day(&rules, &root().join(EXAMPLE_BANK), &day, &log, &[]);
    assert_eq!(code(&ran), 1, "{}", stderr(&ran));
    let verify = |args: &[&str]| recon().args(args).output().unwrap();
    let (dir, log_arg) = (day.to_str().unwrap(), log.to_str().unwrap());

    // The user holds auditor through their group: verify finds it by itself.
    for args in [
        vec!["verify", dir, "--audit", log_arg],
        vec!["verify", dir, "--audit", log_arg, "--role", "auditor"],
        vec!["audit", "verify", log_arg],
        vec!["audit", "show", log_arg, "--role", "auditor"],
    ] {
        let out = verify(&args);
        assert_eq!(code(&out), 0, "{args:?}: {}", stderr(&out));
    }
    // finance may not verify; the refusal is audited, and verify still finds the log intact.
    for args in [
        vec!["verify", dir, "--audit", log_arg, "--role", "finance"],
        vec!["audit", "verify", log_arg, "--role", "finance"],
        vec!["audit", "show", log_arg, "--role", "finance"],
    ] {
        let before = audit_entries(&log).len();
        let out = verify(&args);
        assert_eq!(code(&out), 2, "{args:?}");
        assert!(
            stderr(&out).contains("role finance may not verify (it may run, confirm, resolve)"),
            "{args:?}: {}",
            stderr(&out)
        );
        let lines = audit_entries(&log);
        assert_eq!(lines.len(), before + 1);
        assert_eq!(lines.last().unwrap()["kind"], "refused");
        assert_eq!(lines.last().unwrap()["action"], "verify");
    }
    // Rules in which the user holds no role that may verify: refused, whichever rules name it.
    let other = tmp.path().join("other.toml");
    std::fs::write(&other, enforced("recon-test-auditors")).unwrap();
    std::fs::write(&rules, enforced("recon-test-auditors")).unwrap();
    for args in [
        vec!["verify", dir, "--audit", log_arg],
        vec!["audit", "verify", log_arg, "--rules", other.to_str().unwrap()],
    ] {
        let out = verify(&args);
        assert_eq!(code(&out), 2, "{args:?}");
        assert!(
            stderr(&out).contains(&format!(
                "user {me} holds no role that may verify (roles held: finance)"
            )),
            "{args:?}: {}",
            stderr(&out)
        );
    }
    // Rules that enforce nothing: anyone verifies, as before.
    std::fs::write(&rules, &base).unwrap();
    let out = verify(&["verify", dir, "--audit", log_arg]);
    assert_eq!(code(&out), 0, "{}{}", stdout(&out), stderr(&out));
    let out = verify(&["audit", "verify", log_arg]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
}

#[test]
fn a_scoped_role_sees_and_resolves_only_its_rows() {
    let tmp = tempfile::tempdir().unwrap();
    let (day, log) = (tmp.path().join("day"), tmp.path().join("audit.log"));
    let rules = rules_with(DEFAULT_RULES, tmp.path(), "");
    let text = std::fs::read_to_string(&rules).unwrap().replace(
        "[roles.finance]\n",
        "[roles.finance]\n[roles.power]\nrows = 'merchant in (\"M-POWER\")'\n",
    );
    std::fs::write(&rules, text).unwrap();
    let ran = run_day(
        &rules,
        &root().join(EXAMPLE_BANK),
        &day,
        &log,
        &["--role", "power", "--xlsx"],
    );
    assert_eq!(code(&ran), 1, "{}", stderr(&ran));
    assert!(
        stdout(&ran).contains("scope    rows where merchant in (\"M-POWER\")"),
        "{}",
        stdout(&ran)
    );
    for file in [
        "matched.csv",
        "unmatched.csv",
        "duplicates.csv",
        "resolutions.csv",
    ] {
        let kept = rows(&day.join(file));
        assert!(!kept.is_empty(), "{file}");
        assert!(kept.iter().all(|r| r["merchant"] == "M-POWER"), "{file}");
    }
    let s = summary(&day);
    assert_eq!(s["scope"]["rows"], "merchant in (\"M-POWER\")");
    assert_eq!(s["outputs"]["unmatched.csv"]["ledger"]["count"], 1);
    assert_eq!(s["conservation"]["ledger"]["holds"], true);
    assert_eq!(
        s["conservation"]["ledger"]["input"]["count"], 4,
        "the scope's rows (tests/scopes.rs checks every count)"
    );
    assert_eq!(s["scope"]["all_rows_conservation"], "holds");
    let review = rows(&day.join("review.csv"));
    assert!(review
        .iter()
        .all(|r| r["item"] != "bank:17" && r["item"] != "M000003"));

    let outside = resolve(
        &day,
        &log,
        &[
            "--role", "power", "--accept", "bank:17", "--reason", "interest", "--note", "x",
        ],
    );
    assert_eq!(code(&outside), 2);
    let full = tmp.path().join("full");
    run_day(&rules, &root().join(EXAMPLE_BANK), &full, &log, &[]);
    let outside = resolve(
        &full,
        &log,
        &[
            "--role", "power", "--accept", "bank:17", "--reason", "interest", "--note", "x",
        ],
    );
    assert_eq!(code(&outside), 2);
    assert!(
        stderr(&outside).contains("bank:17 is outside role power's rows"),
        "{}",
        stderr(&outside)
    );
    let inside = resolve(
        &full,
        &log,
        &[
            "--role", "power", "--accept", "bank:14", "--reason", "bank_fee", "--note", "x",
        ],
    );
    assert_eq!(code(&inside), 0, "{}", stderr(&inside));
}

#[test]
fn a_scoped_role_confirms_only_items_whose_rows_are_in_scope() {
    let tmp = tempfile::tempdir().unwrap();
    let (day, log) = (tmp.path().join("day"), tmp.path().join("audit.log"));
    let rules = rules_with(DEFAULT_RULES, tmp.path(), "");
    let text = std::fs::read_to_string(&rules).unwrap().replace(
        "[roles.finance]\n",
        "[roles.finance]\n[roles.power]\nrows = 'merchant in (\"M-POWER\")'\n",
    );
    std::fs::write(&rules, text).unwrap();
    run_day(&rules, &root().join(EXAMPLE_BANK), &day, &log, &[]);
    for args in [["--match-id", "M000003"], ["--row", "ledger:10"]] {
        let before = audit_entries(&log).len();
        let outside = confirm(
            &day,
            &log,
            &[&["--role", "power", "--note", "x"][..], &args].concat(),
        );
        assert_eq!(code(&outside), 2, "{args:?}");
        assert!(
            stderr(&outside).contains(
                "is outside role power's rows (merchant in (\"M-POWER\")): it may confirm only rows in scope"
            ),
            "{}",
            stderr(&outside)
        );
        let lines = audit_entries(&log);
        assert_eq!(lines.len(), before + 1, "the refusal is audited");
        assert_eq!(lines.last().unwrap()["kind"], "refused");
        assert_eq!(lines.last().unwrap()["action"], "confirm");
    }
    let inside = confirm(
        &day,
        &log,
        &[
            "--role",
            "power",
            "--row",
            "bank:14",
            "--note",
            "a repeated submission",
        ],
    );
    assert_eq!(code(&inside), 0, "{}", stderr(&inside));
    assert_eq!(audit_entries(&log).last().unwrap()["kind"], "confirm");
    let unscoped = confirm(&day, &log, &["--match-id", "M000003", "--note", "x"]);
    assert_eq!(code(&unscoped), 0, "{}", stderr(&unscoped));
}

#[test]
fn the_resolution_lines_speak_chinese_under_lang_zh() {
    let tmp = tempfile::tempdir().unwrap();
    let (day, log) = (tmp.path().join("day"), tmp.path().join("audit.log"));
    let rules = root().join("rules/default.toml");
    let bank = root().join(EXAMPLE_BANK);
    run_day(&rules, &bank, &day, &log, &[]);
    let paired = resolve(
        &day,
        &log,
        &["--pair", "ledger:11", "bank:16", "--note", "单号录错"],
    );
    assert_eq!(code(&paired), 0, "{}", stderr(&paired));
    let accepted = resolve(
        &day,
        &log,
        &["--accept", "bank:17", "--reason", "interest", "--note", "结息"],
    );
    assert_eq!(code(&accepted), 0, "{}", stderr(&accepted));
    let rerun = run_day(&rules, &bank, &day, &log, &["--lang", "zh"]);
    assert_eq!(code(&rerun), 1, "{}", stderr(&rerun));
    let text = stdout(&rerun);
    let me = own("-un");
    for line in [
        "已处理   5 行异常中已处理 3 行：配对 2 行，接受 1 行（resolutions.csv）".to_string(),
        format!(
            "ledger:11 bank:16 配对为 M000010，差额 1.00，处理人 {me}（系统用户 {me}，角色 finance），时间 "
        ),
        format!("bank:17 接受为 interest（利息），处理人 {me}（系统用户 {me}，角色 finance），时间 "),
        "未结     2 行异常待配对或接受（recon resolve）；1 个复核标记待确认（recon confirm）".to_string(),
    ] {
        assert!(text.contains(&line), "{line}\n{text}");
    }
    for english in [
        "resolved ",
        "exception row(s)",
        " paired as ",
        " accepted ",
        "open ",
    ] {
        assert!(!text.contains(english), "{english}\n{text}");
    }
}

#[test]
fn four_eyes_keep_the_user_who_ran_a_day_from_resolving_it() {
    let tmp = tempfile::tempdir().unwrap();
    let (day, log) = (tmp.path().join("day"), tmp.path().join("audit.log"));
    let rules_text = std::fs::read_to_string(root().join("rules/default.toml"))
        .unwrap()
        .replace("four_eyes = false", "four_eyes = true");
    let rules = tmp.path().join("rules.toml");
    std::fs::write(&rules, rules_text).unwrap();
    run_day(&rules, &root().join(EXAMPLE_BANK), &day, &log, &[]);
    let mine = resolve(
        &day,
        &log,
        &["--accept", "bank:17", "--reason", "interest", "--note", "x"],
    );
    assert_eq!(code(&mine), 2);
    assert!(stderr(&mine).contains("four eyes"), "{}", stderr(&mine));
    let confirmed = confirm(&day, &log, &["--match-id", "M000003", "--note", "x"]);
    assert_eq!(code(&confirmed), 2);
    let refusals: Vec<_> = audit_entries(&log)
        .into_iter()
        .filter(|e| e["kind"] == "refused")
        .collect();
    assert_eq!(refusals.len(), 2);
}
