//! Built-in profiles through the binary: a real Alipay bill as the channel
//! side of a reconciliation, a WeChat Pay merchant bill with refunds, revoked
//! rows and its totals block, profiles on the command line, overrides in a
//! rule file, and status handling. Fixtures: tests/data/profiles (README).

mod common;

use common::{data, recon, refs, rows, summary};

const ALIPAY: &str = "samples/alipay_example-alipay-records.csv";

fn run(
    ledger: &str,
    bank: &str,
    rules: &str,
    extra: &[&str],
    out: &std::path::Path,
) -> assert_cmd::assert::Assert {
    common::run(data(ledger), data(bank), data(rules), out)
        .args(extra)
        .assert()
}

fn assert_alipay_outcome(out: &std::path::Path) {
    // Eight bill rows count (交易成功, 等待确认收货, 退款成功 ×2); each matches its ledger row.
    let matched = rows(&out.join("matched.csv"));
    let bank_lines: Vec<&str> = matched
        .iter()
        .filter(|r| r["side"] == "bank")
        .map(|r| r["line"].as_str())
        .collect();
    assert_eq!(bank_lines, ["26", "27", "28", "29", "30", "32", "34", "35"]);
    // 退款成功 rows are refunds: money out, matched only with the ledger's refunds.
    let refund: Vec<(&str, &str)> = matched
        .iter()
        .filter(|r| r["key"] == "2xxxxxxxxxxxxxxxx8")
        .map(|r| (r["side"].as_str(), r["amount"].as_str()))
        .collect();
    assert_eq!(refund, [("ledger", "-16.03"), ("bank", "-16.03")]);
    // 交易关闭 rows are set aside with their status, not matched and not lost.
    let ignored = rows(&out.join("ignored.csv"));
    let reasons: Vec<String> = ignored
        .iter()
        .map(|r| format!("{}:{} {} {}", r["side"], r["line"], r["amount"], r["reason"]))
        .collect();
    assert_eq!(
        reasons,
        [
            "bank:31 82.00 status_ignored (交易关闭)",
            "bank:33 -50.00 status_ignored (交易关闭)"
        ]
    );
    // The ledger's entry for the closed order has no counterpart: an exception to explain.
    assert_eq!(refs(&out.join("unmatched.csv")), ["ledger:8"]);
    let s = summary(out);
    assert_eq!(s["inputs"]["bank"]["profile"], "alipay");
    assert_eq!(s["inputs"]["bank"]["ignored_by_status"], 2);
    assert_eq!(s["inputs"]["bank"]["records"]["count"], 10);
    assert_eq!(s["outputs"]["ignored.csv"]["bank"]["amount"], "32.00");
    assert_eq!(s["conservation"]["bank"]["holds"], true);
    assert_eq!(s["conservation"]["ledger"]["holds"], true);
}

#[test]
fn alipay_bill_as_the_channel_side_via_the_rule_file() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    run(
        "profiles/alipay_ledger.csv",
        ALIPAY,
        "profiles/alipay_rules.toml",
        &[],
        &out,
    )
    .code(1);
    assert_alipay_outcome(&out);
}

#[test]
fn bank_profile_flag_replaces_the_rule_files_bank_section() {
    // The WeChat rule file's [bank] reads merchant bills; --bank-profile reads the Alipay bill instead.
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let rules = tmp.path().join("rules.toml");
    let text = std::fs::read_to_string(data("profiles/wechat_merchant_rules.toml"))
        .unwrap()
        .replace(
            "time = \"支付时间\"\nmerchant = \"商户号\"",
            "time = \"记账时间\"\nmerchant = \"对方\"",
        );
    std::fs::write(&rules, text).unwrap();
    let run_with = |extra: &[&str]| {
        common::run(data("profiles/alipay_ledger.csv"), data(ALIPAY), &rules, &out)
            .args(extra)
            .assert()
    };
    // Without the flag the Alipay bill does not fit the WeChat merchant profile.
    run_with(&[]).code(2).stderr(predicates::str::contains(
        "column \"商户订单号\" (from the rule file) is not in the header on line 25",
    ));
    run_with(&["--bank-profile", "alipay"]).code(1);
    assert_alipay_outcome(&out);
}

#[test]
fn unknown_profile_names_are_refused_with_the_list() {
    let tmp = tempfile::tempdir().unwrap();
    run(
        "profiles/alipay_ledger.csv",
        ALIPAY,
        "profiles/alipay_rules.toml",
        &["--bank-profile", "alipay2"],
        &tmp.path().join("out"),
    )
    .code(2)
    .stderr(predicates::str::contains(
        "--bank-profile: unknown profile \"alipay2\"",
    ))
    .stderr(predicates::str::contains("wechat-merchant"));
    let rules = tmp.path().join("rules.toml");
    let text = std::fs::read_to_string(data("profiles/alipay_rules.toml"))
        .unwrap()
        .replace("profile = \"alipay\"", "profile = \"paypal\"");
    std::fs::write(&rules, text).unwrap();
    recon()
        .args(["rules", "check"])
        .arg(&rules)
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "[bank] profile: unknown profile \"paypal\"",
        ));
}

#[test]
fn wechat_merchant_bill_refunds_revoked_rows_and_totals() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    run(
        "profiles/wechat_merchant_ledger.csv",
        "profiles/wechat_merchant_bill.csv",
        "profiles/wechat_merchant_rules.toml",
        &[],
        &out,
    )
    .code(1);
    let matched = rows(&out.join("matched.csv"));
    let pairs: Vec<String> = matched
        .iter()
        .map(|r| format!("{}:{} {} {}", r["side"], r["line"], r["key"], r["amount"]))
        .collect();
    assert_eq!(
        pairs,
        [
            "ledger:2 P001 128.50",
            "bank:2 P001 128.50",
            "ledger:3 P002 1200.00",
            "bank:3 P002 1200.00",
            // The REFUND row's amount comes from 退款金额, as money out.
            "ledger:4 P002 -200.00",
            "bank:5 P002 -200.00",
            "ledger:6 P004 300.00",
            "bank:6 P004 300.00",
        ]
    );
    assert_eq!(matched[5]["商户退款单号"], "R002");
    let ignored = rows(&out.join("ignored.csv"));
    assert_eq!(ignored.len(), 1);
    assert_eq!(
        (ignored[0]["line"].as_str(), ignored[0]["reason"].as_str()),
        ("4", "status_ignored (REVOKED)")
    );
    // The ledger thinks P003 was paid; the channel revoked it.
    assert_eq!(refs(&out.join("unmatched.csv")), ["ledger:5"]);
    let s = summary(&out);
    // Five bill rows; the totals block (lines 7-8) is not data.
    assert_eq!(s["inputs"]["bank"]["records"]["count"], 5);
    assert_eq!(s["conservation"]["bank"]["holds"], true);
}

#[test]
fn rule_file_keys_override_the_profile() {
    let tmp = tempfile::tempdir().unwrap();
    let rules = tmp.path().join("rules.toml");
    let text = std::fs::read_to_string(data("profiles/alipay_rules.toml")).unwrap()
        + "\n[bank.columns]\nkey = \"商家订单号\"\n\n[bank.status]\nsuccess = [\"交易成功\"]\nignore = [\"交易关闭\", \"等待确认收货\"]\n";
    std::fs::write(&rules, text).unwrap();
    let out = recon()
        .arg("check")
        .arg(data(ALIPAY))
        .arg("--rules")
        .arg(&rules)
        .args(["--side", "bank", "--format", "json"])
        .output()
        .unwrap();
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(j["mapping"]["key"], "商家订单号");
    assert_eq!(j["mapping"]["amount"], "金额", "the rest comes from the profile");
    assert_eq!(j["ignored_by_status"], 3, "等待确认收货 is now set aside too");
    assert_eq!(j["records"], 7);
}

#[test]
fn unknown_status_values_are_bad_rows_naming_the_lists() {
    let tmp = tempfile::tempdir().unwrap();
    let bill = tmp.path().join("wechat.csv");
    let text = std::fs::read_to_string(data("samples/wechat_example-wechat-records.csv"))
        .unwrap()
        .replacen("\"支付成功\"", "\"处理中\"", 1);
    std::fs::write(&bill, text).unwrap();
    let out = recon()
        .arg("check")
        .arg(&bill)
        .args(["--profile", "wechat", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let problem = j["problems"][0].as_str().unwrap();
    assert!(
        problem.ends_with(":18:8: status \"处理中\" is not a success (支付成功 已支付 已存入零钱 已转账 朋友已收钱 已收钱 已收款 提现已到账 充值完成 充值成功 已到账), refund (已全额退款) or ignore (对方已退还 已退还 支付失败) status; add it to [status] success, refund or ignore in the rule file's side section"),
        "{problem}"
    );
}

/// `recon rules check` on the Alipay rules with `status` appended as a
/// `[bank.status]` section: refused with exit 2 and `message` on stderr.
fn assert_bank_status_refused(status: &str, message: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let rules = tmp.path().join("rules.toml");
    let text =
        std::fs::read_to_string(data("profiles/alipay_rules.toml")).unwrap() + "\n[bank.status]\n" + status;
    std::fs::write(&rules, text).unwrap();
    recon()
        .args(["rules", "check"])
        .arg(&rules)
        .assert()
        .code(2)
        .stderr(predicates::str::contains(message));
}

#[test]
fn a_status_in_two_lists_is_refused() {
    assert_bank_status_refused(
        "ignore = [\"交易关闭\", \"等待确认收货\"]\n",
        "[bank.status]: \"等待确认收货\" is in both success and ignore",
    );
}

#[test]
fn status_lists_reject_unknown_keys_with_a_position() {
    assert_bank_status_refused(
        "sucess = [\"交易成功\"]\n",
        "rules.toml:27:1: unknown field `sucess`",
    );
}

#[test]
fn profiles_are_listed_and_printed() {
    let out = recon().args(["rules", "profiles"]).output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let names: Vec<&str> = text
        .lines()
        .filter(|l| !l.starts_with(' '))
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(
        names,
        [
            "alipay",
            "alipay-legacy",
            "alipay-merchant",
            "alipay-merchant-account",
            "wechat",
            "wechat-merchant",
            "abc-debit",
            "boc-debit",
            "cmb-debit",
            "icbc-debit",
            "icbc-credit",
            "citic-credit",
            "hsbchk-debit",
            "bmo-debit",
            "huobi",
            "generic-bank"
        ]
    );
    let shown = recon()
        .args(["rules", "profiles", "wechat-merchant"])
        .output()
        .unwrap();
    let toml = String::from_utf8(shown.stdout).unwrap();
    assert_eq!(
        toml,
        std::fs::read_to_string(common::root().join("rules/profiles/wechat-merchant.toml")).unwrap()
    );
}
