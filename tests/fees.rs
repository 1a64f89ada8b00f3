//! Fee variances through the binary: each is an item (`fee:SIDE:LINE`)
//! that `recon resolve --accept` closes, so a day whose only open items are
//! accepted fee variances is `closed` (exit 0); fee_variances.csv follows a
//! role's row scope and masks; batches and fees never mix currencies
//! (tests/data/settlement/mixed-currency).

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::{by_item, resolve, root, rows, rules_with, run, stderr, stdout, summary};

const BILL: &str = "examples/three-way/wechat_bill.csv";
const BANK: &str = "examples/three-way/bank.csv";
const SETTLEMENT: &str = "examples/three-way/settlement.toml";
const MIXED: &str = "tests/data/settlement/mixed-currency";

/// The three-way bank statement with the short credit paid in full and
/// without the utility debit: the fee variance is the day's only exception.
fn bank_without_other_exceptions(dir: &Path) -> PathBuf {
    let text = std::fs::read_to_string(root().join(BANK)).unwrap();
    let kept: Vec<String> = text
        .lines()
        .filter(|l| !l.contains("电费"))
        .map(|l| l.replace(",109.28,", ",119.28,"))
        .collect();
    let path = dir.join("bank.csv");
    std::fs::write(&path, kept.join("\n") + "\n").unwrap();
    path
}

#[test]
fn a_day_whose_only_open_items_are_accepted_fee_variances_closes() {
    let tmp = tempfile::tempdir().unwrap();
    let rules = rules_with(
        SETTLEMENT,
        tmp.path(),
        "[resolution]\nreasons = { fee_rate = \"费率调整\" }\n",
    );
    let bank = bank_without_other_exceptions(tmp.path());
    let (out, log) = (tmp.path().join("out"), tmp.path().join("audit.log"));
    let ran = |expected: i32| {
        run(BILL, &bank, &rules, &out)
            .arg("--audit")
            .arg(&log)
            .assert()
            .code(expected);
    };
    ran(1);
    let s = summary(&out);
    assert_eq!(s["batches"]["settled"], 3);
    assert_eq!(s["status"], "exceptions");
    assert_eq!(s["resolutions"]["open"], 1, "the fee variance is the open item");
    let fees = by_item(&out.join("fee_variances.csv"));
    assert_eq!(fees.keys().collect::<Vec<_>>(), ["fee:ledger:8"]);
    assert_eq!(fees["fee:ledger:8"]["status"], "open");
    let listed = by_item(&out.join("resolutions.csv"));
    let item = &listed["fee:ledger:8"];
    assert_eq!(item["exception"], "fee_variance");
    assert_eq!(item["detail"], "expected 1.90 actual 3.00 difference 1.10");
    assert_eq!(item["status"], "open");

    // A fee variance is accepted, never paired; the row itself is no exception.
    let paired = resolve(&out, &log, &["--pair", "fee:ledger:8", "bank:2", "--note", "x"]);
    assert_eq!(paired.status.code(), Some(2));
    assert!(
        stderr(&paired).contains("cannot be paired"),
        "{}",
        stderr(&paired)
    );
    let row = resolve(
        &out,
        &log,
        &["--accept", "ledger:8", "--reason", "fee_rate", "--note", "x"],
    );
    assert_eq!(row.status.code(), Some(2), "ledger:8 is matched");
    let accepted = resolve(
        &out,
        &log,
        &[
            "--accept",
            "FEE:ledger:8",
            "--reason",
            "fee_rate",
            "--note",
            "new rate not yet in the contract file",
        ],
    );
    assert_eq!(accepted.status.code(), Some(0), "{}", stderr(&accepted));
    let id = stdout(&accepted)
        .split_whitespace()
        .find(|w| w.starts_with("R-"))
        .unwrap()
        .trim_end_matches(':')
        .to_string();

    ran(0);
    let s = summary(&out);
    assert_eq!(s["status"], "closed");
    assert_eq!(s["resolutions"]["accepted"], 1);
    assert_eq!(s["resolutions"]["open"], 0);
    let fee = &by_item(&out.join("fee_variances.csv"))["fee:ledger:8"];
    assert_eq!(fee["status"], "accepted");
    assert!(fee["resolution"].contains(&id), "{fee:?}");
    assert!(fee["resolution"].contains("fee_rate (费率调整)"), "{fee:?}");
    let item = &by_item(&out.join("resolutions.csv"))["fee:ledger:8"];
    assert_eq!(
        [&item["status"], &item["resolution_id"], &item["reason"]],
        ["accepted", &id, "fee_rate"]
    );
    // The accepted row stays matched, its batch settled.
    let matched = rows(&out.join("matched.csv"));
    assert!(matched
        .iter()
        .any(|r| r["side"] == "ledger" && r["line"] == "8" && r["resolution"].is_empty()));
}

#[test]
fn fee_variances_follow_a_role_row_scope_and_its_masks() {
    let tmp = tempfile::tempdir().unwrap();
    let rules = rules_with(
        SETTLEMENT,
        tmp.path(),
        "[roles]\ndefault_role = \"water\"\n[roles.water]\nrows = 'merchant in (\"1900000109\")'\n\
         [roles.gas]\nrows = 'merchant in (\"1900000110\")'\nmask = { key = \"drop\" }\n",
    );
    for (role, kept) in [("water", 0), ("gas", 1)] {
        let out = tmp.path().join(role);
        run(BILL, BANK, &rules, &out)
            .args(["--role", role, "--audit"])
            .arg(tmp.path().join("audit.log"))
            .assert()
            .code(1);
        let variances = rows(&out.join("fee_variances.csv"));
        assert_eq!(variances.len(), kept, "{role}: {variances:?}");
        let header = std::fs::read_to_string(out.join("fee_variances.csv")).unwrap();
        let header = header.lines().next().unwrap().to_string();
        assert!(header.starts_with("item,side,line,"), "{header}");
        if role == "gas" {
            assert_eq!(variances[0]["item"], "fee:ledger:8");
            assert!(!header.split(',').any(|c| c == "key"), "key is dropped: {header}");
        }
        // resolutions.csv, cut the same way, lists the variance only where it is in scope.
        let listed = by_item(&out.join("resolutions.csv"));
        assert_eq!(listed.contains_key("fee:ledger:8"), kept == 1, "{role}");
    }
}

#[test]
fn batches_and_fees_stay_within_their_currency() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let dir = root().join(MIXED);
    run(
        dir.join("ledger.csv"),
        dir.join("bank.csv"),
        dir.join("rules.toml"),
        &out,
    )
    .arg("--audit")
    .arg(tmp.path().join("audit.log"))
    .assert()
    .code(1);
    let s = summary(&out);
    // M1 is paid one credit per currency: nets of CNY and USD rows are never added.
    assert_eq!(s["batches"]["total"], 4);
    assert_eq!(s["batches"]["settled"], 4);
    let matched = rows(&out.join("matched.csv"));
    let nets: BTreeMap<(String, String, String), String> = matched
        .iter()
        .filter(|r| r["side"] == "ledger")
        .map(|r| {
            (
                (
                    r["merchant"].clone(),
                    r["currency"].clone(),
                    r["match_id"].clone(),
                ),
                r["group_net"].clone(),
            )
        })
        .collect();
    let m1: Vec<(&str, &str)> = nets
        .iter()
        .filter(|((m, _, _), _)| m == "M1")
        .map(|((_, c, _), net)| (c.as_str(), net.as_str()))
        .collect();
    assert_eq!(m1, [("CNY", "298.20"), ("USD", "67.97")]);
    // USD fees are expected at the USD rate (2.9%), not the CNY one: only O5's is off.
    let variances = rows(&out.join("fee_variances.csv"));
    assert_eq!(variances.len(), 1, "{variances:?}");
    let v = &variances[0];
    assert_eq!(
        [
            &v["key"],
            &v["currency"],
            &v["expected"],
            &v["actual"],
            &v["difference"]
        ],
        ["O5", "USD", "0.29", "0.50", "0.21"]
    );
    // Fee sums are kept per currency, never added across them.
    let fees = &s["fees"];
    assert!(fees.get("expected").is_none(), "{fees}");
    assert_eq!(fees["currencies"]["CNY"]["expected"], "3.60");
    assert_eq!(fees["currencies"]["USD"]["expected"], "2.32");
    assert_eq!(fees["currencies"]["USD"]["variance_total"], "0.21");

    // Without the USD rate every USD fee is a variance against 0.6%.
    let text = std::fs::read_to_string(dir.join("rules.toml")).unwrap();
    let rules = tmp.path().join("rules.toml");
    std::fs::write(&rules, text.replace("USD = \"2.9%\"", "")).unwrap();
    let out = tmp.path().join("out2");
    run(dir.join("ledger.csv"), dir.join("bank.csv"), &rules, &out)
        .arg("--audit")
        .arg(tmp.path().join("audit.log"))
        .assert()
        .code(1);
    let keys: Vec<String> = rows(&out.join("fee_variances.csv"))
        .into_iter()
        .map(|r| r["key"].clone())
        .collect();
    assert_eq!(keys, ["O2", "O4", "O5"]);
}

#[test]
fn a_fee_rate_for_an_unknown_currency_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = root().join(MIXED);
    let text = std::fs::read_to_string(dir.join("rules.toml")).unwrap();
    let rules = tmp.path().join("rules.toml");
    std::fs::write(&rules, text.replace("USD = ", "DOLLARS = ")).unwrap();
    let output = run(
        dir.join("ledger.csv"),
        dir.join("bank.csv"),
        &rules,
        tmp.path().join("out"),
    )
    .output()
    .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let err = stderr(&output);
    assert!(err.contains("is not a currency code"), "{err}");
    assert!(err.contains("rules.toml:"), "{err}");
}
