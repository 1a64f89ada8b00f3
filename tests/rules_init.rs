//! `recon rules init`: drafts for a Chinese-header pair (the example day: GBK
//! bank file in UTC), a profile pair (a ledger against the real Alipay bill)
//! and an English-header pair; each draft must be accepted by `recon run` on
//! the same two files. Also: never overwriting without --force.

mod common;

use std::path::{Path, PathBuf};

use common::{data, recon, root, rows, summary};

/// `recon rules init` on two data files, drafting `target`.
fn init_cmd(ledger: &Path, bank: &Path, target: &Path) -> assert_cmd::Command {
    let mut cmd = recon();
    cmd.args(["rules", "init", "--ledger"])
        .arg(ledger)
        .arg("--bank")
        .arg(bank)
        .arg("-o")
        .arg(target);
    cmd
}

/// Runs `rules init` into a fresh directory and returns the draft's path and text.
fn init(ledger: &Path, bank: &Path, dir: &Path) -> (PathBuf, String, String) {
    let out_file = dir.join("mine.toml");
    let out = init_cmd(ledger, bank, &out_file).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&out_file).unwrap();
    (out_file, text, String::from_utf8(out.stdout).unwrap())
}

fn run(ledger: &Path, bank: &Path, rules: &Path, out: &Path) -> i32 {
    let status = common::run(ledger, bank, rules, out).output().unwrap().status;
    status.code().unwrap()
}

#[test]
fn chinese_headers_gbk_and_utc_times() {
    let tmp = tempfile::tempdir().unwrap();
    let (ledger, bank) = (
        root().join("examples/basic/ledger.csv"),
        root().join("examples/basic/bank.csv"),
    );
    let (rules, text, notes) = init(&ledger, &bank, tmp.path());
    for line in [
        "encoding = \"utf-8\"                    # detected: byte-order mark",
        "encoding = \"gbk\"                      # detected: guessed by chardetng (confident)",
        "# the header was found on line 5 (set header_line = 5 to pin it)",
        "key = \"订单号\"                        # shares 9 values with the bank's \"商户订单号\"",
        "key = \"商户订单号\"                    # shares 9 values with the ledger's \"订单号\"",
        "debit = \"借方金额\"                    # from the header name",
        "credit = \"贷方金额\"                   # from the header name",
        "time = \"交易时间(UTC)\"                # from the header name",
        "timezone = \"UTC\"                      # the bank's times are 8h00m00s behind the ledger's (Asia/Shanghai): UTC+0",
        "#   订单号 ↔ 商户订单号: 9",
        "on = [\"merchant\", \"amount\"]",
        "effective_from = 2026-11-24",
    ] {
        assert!(text.contains(line), "missing {line:?} in\n{text}");
    }
    assert!(
        notes.contains("key: 订单号 ↔ 商户订单号 (9 shared values)"),
        "{notes}"
    );
    assert!(notes.contains("bank timezone: UTC"), "{notes}");
    let out = tmp.path().join("out");
    assert_eq!(
        run(&ledger, &bank, &rules, &out),
        1,
        "the example day has exceptions"
    );
    let s = summary(&out);
    assert_eq!(s["conservation"]["ledger"]["holds"], true);
    // The UTC bank times are read as UTC: the late payment stays on its business day.
    let matched = rows(&out.join("matched.csv"));
    let late: Vec<&str> = matched
        .iter()
        .filter(|r| r["key"] == "P012")
        .map(|r| r["time"].as_str())
        .collect();
    assert_eq!(late, ["2026-11-24T23:59:50+08:00", "2026-11-25T00:00:40+08:00"]);
    assert!(s["stages"][0]["matches"].as_u64().unwrap() >= 6, "{s}");
}

#[test]
fn a_recognised_profile_is_used_and_the_shared_key_chosen() {
    let tmp = tempfile::tempdir().unwrap();
    let (ledger, bank) = (
        data("profiles/alipay_ledger.csv"),
        data("samples/alipay_example-alipay-records.csv"),
    );
    let (rules, text, _) = init(&ledger, &bank, tmp.path());
    for line in [
        "profile = \"alipay\"                    # recognised: every header name of this built-in profile is on line 25 (confidence 1.00)",
        "#   订单号 ↔ 交易订单号: 8",
        "type = \"类型\"                         # from the values: rows holding a refund word",
        "timezone = \"Asia/Shanghai\"            # rows sharing a key are 0h00m00s apart as written: same zone as the ledger",
    ] {
        assert!(text.contains(line), "missing {line:?} in\n{text}");
    }
    assert!(
        !text.contains("[bank.columns]"),
        "the profile's key is the shared one\n{text}"
    );
    let out = tmp.path().join("out");
    assert_eq!(run(&ledger, &bank, &rules, &out), 1);
    assert_eq!(summary(&out)["stages"][0]["matches"], 8);
    assert_eq!(rows(&out.join("ignored.csv")).len(), 2);
}

#[test]
fn english_headers_with_values_telling_the_time_column() {
    let tmp = tempfile::tempdir().unwrap();
    let (ledger, bank) = (data("init/en_ledger.csv"), data("init/en_bank.csv"));
    let (rules, text, _) = init(&ledger, &bank, tmp.path());
    for line in [
        "key = \"Order ID\"                      # shares 5 values with the bank's \"Reference\"",
        "time = \"Paid At\"                      # from the values",
        "key = \"Reference\"",
        "debit = \"Debit\"",
        "credit = \"Credit\"",
        "time = \"Transaction Date\"             # from the header name",
        "merchant = \"Description\"",
        "timezone = \"UTC\"",
        "# the header was found on line 4",
        "window = [\"0s\", \"120s\"]",
    ] {
        assert!(text.contains(line), "missing {line:?} in\n{text}");
    }
    let out = tmp.path().join("out");
    assert_eq!(run(&ledger, &bank, &rules, &out), 0, "everything reconciles");
    let s = summary(&out);
    assert_eq!(s["outputs"]["matched.csv"]["bank"]["count"], 5);
    assert_eq!(s["outputs"]["matched.csv"]["bank"]["amount"], "2220.25");
}

#[test]
fn a_workbook_bank_file_needs_no_encoding() {
    let tmp = tempfile::tempdir().unwrap();
    let (ledger, bank) = (data("excel/ledger.csv"), data("excel/statement.xls"));
    let (rules, text, _) = init(&ledger, &bank, tmp.path());
    assert!(
        text.contains("# a .xls workbook, sheet \"明细\": no encoding or delimiter to set"),
        "{text}"
    );
    assert!(
        text.contains("key = \"商户订单号\""),
        "the shared column, not 流水号\n{text}"
    );
    let out = tmp.path().join("out");
    assert_eq!(run(&ledger, &bank, &rules, &out), 0);
    assert_eq!(summary(&out)["outputs"]["matched.csv"]["bank"]["count"], 5);
}

#[test]
fn an_existing_file_is_kept_unless_forced() {
    let tmp = tempfile::tempdir().unwrap();
    let target = tmp.path().join("mine.toml");
    std::fs::write(&target, "# hand-written rules\n").unwrap();
    let args = |force: bool| {
        let mut cmd = init_cmd(&data("init/en_ledger.csv"), &data("init/en_bank.csv"), &target);
        if force {
            cmd.arg("--force");
        }
        cmd
    };
    args(false)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("already exists"));
    assert_eq!(
        std::fs::read_to_string(&target).unwrap(),
        "# hand-written rules\n"
    );
    args(true).assert().code(0);
    assert!(std::fs::read_to_string(&target)
        .unwrap()
        .starts_with("# Drafted by `recon rules init`"));
}

#[test]
fn a_file_without_an_amount_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let names = tmp.path().join("names.csv");
    std::fs::write(&names, "name,city\nAda,London\nGrace,Arlington\n").unwrap();
    init_cmd(&names, &data("init/en_bank.csv"), &tmp.path().join("mine.toml"))
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "names.csv:1:1: no amount column found (header: name, city)",
        ));
    assert!(!tmp.path().join("mine.toml").exists());
}

/// The first `--date` run: a draft written into a directory that does
/// not exist yet, then run for the example day. Its `[business]` cutoff keeps
/// the payment of 23:59:50 and its bank row of 00:00:40 next day together, so
/// the draft leaves exactly the no_counterpart rows rules/default.toml leaves
/// (the default's fee stage, which a draft only suggests in a comment, is the
/// one difference: P005 500.00 against 497.00 stays an amount_mismatch).
#[test]
fn a_draft_in_a_new_directory_reconciles_a_business_day_like_the_default_rules() {
    let tmp = tempfile::tempdir().unwrap();
    let (ledger, bank) = (
        root().join("examples/basic/ledger.csv"),
        root().join("examples/basic/bank.csv"),
    );
    let rules = tmp.path().join("rules/nested/mine.toml");
    let out = init_cmd(&ledger, &bank, &rules).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let notes = String::from_utf8(out.stdout).unwrap();
    assert!(
        notes.contains("before the first `recon run --date D`, check in"),
        "{notes}"
    );
    assert!(notes.contains("then: recon rules check"), "{notes}");
    let text = std::fs::read_to_string(&rules).unwrap();
    for line in [
        "[business]",
        "cutoff = \"T+1 10:00\"",
        "pending_grace = \"10m\"",
        "ignore_below = \"1.00\"",
        "review_above = \"5000.00\"",
        "[duplicates]\nwindow = \"24h\"",
        "# name = \"order-id-fee\"",
    ] {
        assert!(text.contains(line), "missing {line:?} in\n{text}");
    }

    let unmatched = |rules: &Path, name: &str| {
        let out = tmp.path().join(name);
        let mut cmd = common::run(&ledger, &bank, rules, &out);
        cmd.args(["--date", "2026-11-24"]).assert().code(1);
        let rows = rows(&out.join("unmatched.csv"));
        let by = |reason: &str| {
            let mut keys: Vec<String> = rows
                .iter()
                .filter(|r| r["reason"] == reason)
                .map(|r| format!("{}:{}", r["side"], r["key"]))
                .collect();
            keys.sort();
            keys
        };
        (by("no_counterpart"), by("amount_mismatch"), summary(&out))
    };
    let (drafted, drafted_mismatch, s) = unmatched(&rules, "drafted");
    let (default, default_mismatch, _) = unmatched(&root().join("rules/default.toml"), "default");
    assert_eq!(drafted, default);
    assert_eq!(drafted, ["bank:", "ledger:P009"]);
    assert_eq!(default_mismatch, ["bank:P010", "ledger:P010"]);
    assert_eq!(
        drafted_mismatch,
        ["bank:P005", "bank:P010", "ledger:P005", "ledger:P010"]
    );
    assert_eq!(s["outputs"]["ignored.csv"]["ledger"]["count"], 1, "{s}");
    let late = rows(&tmp.path().join("drafted/matched.csv"))
        .iter()
        .filter(|r| r["key"] == "P012")
        .count();
    assert_eq!(
        late, 2,
        "the cross-midnight payment and its bank row are one match"
    );
}
