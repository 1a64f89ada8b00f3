//! `likely_cause` through the binary: every cause on a fixture built to show
//! each one (tests/data/causes/README.md), in English and Chinese.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::{data, rows, run_case, run_nightly};

/// `recon run` on the causes fixture with its rules.
fn causes_run(out: &Path) -> assert_cmd::Command {
    let dir = data("causes");
    run_case(&dir, &dir.join("rules.toml"), out)
}

fn run(out: &Path, extra: &[&str]) {
    causes_run(out).args(extra).assert().code(1);
}

/// `side:line` → likely_cause of every row of a result file.
fn causes(path: &Path) -> BTreeMap<String, String> {
    rows(path)
        .into_iter()
        .map(|r| (format!("{}:{}", r["side"], r["line"]), r["likely_cause"].clone()))
        .collect()
}

#[test]
fn every_exception_gets_its_likely_cause_in_english() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    run(&out, &[]);
    let unmatched = causes(&out.join("unmatched.csv"));
    let expect = [
        ("ledger:2", "same key, bank amount 0.60 lower: looks like a channel fee (0.6%)"),
        ("bank:2", "same key, bank amount 0.60 lower: looks like a channel fee (0.6%)"),
        ("ledger:3", "same key, amounts differ by 0.01: likely rounding"),
        ("ledger:4", "same key, bank amount 20.00 lower (ledger 200.00, bank 180.00): more than a fee or rounding; check both records"),
        ("ledger:6", "same merchant and amount 40 s after matched row ledger:5: likely double submission"),
        ("ledger:7", "paid 23:50, near the end of the business day: likely on the next day's statement (T+1)"),
        ("ledger:8", "bank row(s) of this merchant with no order id and equal amount within 2 min: bank:7 (not paired: compare them)"),
        ("ledger:9", "no bank row with this order id, and none of this merchant with equal amount nearby: not received, or not on this statement"),
        ("bank:7", "bank row with no order id; 1 candidate(s) of this merchant with equal amount within 2 min: ledger:8"),
        ("ledger:10", "2 equally good candidates (bank:9 bank:10): the rules leave the choice to a person"),
        ("bank:9", "one of several rows that fit ledger:10 equally well: the rules leave the choice to a person"),
        ("ledger:11", "refund with no refund on the other side: not processed yet, or recorded as a payment"),
        ("ledger:12", "no bank row with this order id, and none of this merchant with equal amount nearby: not received, or not on this statement"),
        ("bank:6", "recorded 00:10, just after midnight: the ledger entry is likely in the previous business day"),
        ("bank:8", "bank row with no order id; no open ledger row of this merchant with equal amount within 2 min"),
        ("bank:11", "no ledger row with this order id: money received without a platform order (manual top-up, or missing from the export)"),
        ("bank:15", "same key already matched on the other side (ledger:14): an extra row, e.g. a second payment"),
    ];
    for (row, cause) in expect {
        assert_eq!(unmatched.get(row).map(String::as_str), Some(cause), "{row}");
    }
    assert!(
        unmatched.values().all(|c| !c.is_empty()),
        "every unmatched row has a cause: {unmatched:?}"
    );

    let duplicates = causes(&out.join("duplicates.csv"));
    assert_eq!(
        duplicates["bank:13"],
        "same key and amount 40 s after matched row bank:12: likely double submission"
    );

    let matched = rows(&out.join("matched.csv"));
    for r in &matched {
        let expected = if r["review"] == "true" {
            "large amount 6000.00 (review_above 5000.00): needs a second confirmation"
        } else {
            ""
        };
        assert_eq!(r["likely_cause"], expected, "{}:{}", r["side"], r["line"]);
    }
    assert_eq!(matched.iter().filter(|r| r["review"] == "true").count(), 2);
}

#[test]
fn lang_zh_words_causes_in_chinese_and_the_rules_can_make_it_the_default() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("flag");
    run(&out, &["--lang", "zh"]);
    let by_flag = causes(&out.join("unmatched.csv"));
    assert_eq!(
        by_flag["ledger:2"],
        "订单号相同，银行金额少 0.60：疑似渠道手续费（0.6%）"
    );
    assert_eq!(
        by_flag["ledger:6"],
        "与已匹配的 ledger:5 同商户同金额，晚 40 秒：疑似重复提交"
    );
    assert_eq!(
        by_flag["ledger:7"],
        "支付于 23:50，接近日终：可能出现在次日对账单（T+1）"
    );
    assert_eq!(
        by_flag["bank:7"],
        "银行流水无订单号；2 分钟内该商户有 1 笔同金额候选：ledger:8"
    );
    assert_eq!(
        causes(&out.join("duplicates.csv"))["bank:13"],
        "与已匹配的 bank:12 订单号、金额相同，晚 40 秒：疑似重复提交"
    );

    // The same through `[report] lang = "zh"` in the rules, and --lang en overriding it.
    let dir = data("causes");
    let rules = std::fs::read_to_string(dir.join("rules.toml")).unwrap() + "\n[report]\nlang = \"zh\"\n";
    let case = tmp.path().join("case");
    std::fs::create_dir_all(&case).unwrap();
    for f in ["ledger.csv", "bank.csv"] {
        std::fs::copy(dir.join(f), case.join(f)).unwrap();
    }
    std::fs::write(case.join("rules.toml"), rules).unwrap();
    for (lang, out_name, expected) in [
        (None, "rules", by_flag["ledger:2"].as_str()),
        (
            Some("en"),
            "override",
            "same key, bank amount 0.60 lower: looks like a channel fee (0.6%)",
        ),
    ] {
        let out = tmp.path().join(out_name);
        let mut cmd = run_case(&case, &case.join("rules.toml"), &out);
        if let Some(l) = lang {
            cmd.args(["--lang", l]);
        }
        cmd.assert().code(1);
        assert_eq!(causes(&out.join("unmatched.csv"))["ledger:2"], expected);
    }
}

#[test]
fn an_unknown_language_is_a_usage_error() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let result = causes_run(&out).args(["--lang", "fr"]).output().unwrap();
    assert_eq!(result.status.code(), Some(2));
    let err = String::from_utf8(result.stderr).unwrap();
    assert!(
        err.contains("\"fr\" is not a language (use \"zh\" or \"en\")"),
        "{err}"
    );
    assert!(!out.exists());
}

#[test]
fn the_rules_cutoff_and_carried_rows_are_named_in_the_cause() {
    let tmp = tempfile::tempdir().unwrap();
    // The causes fixture with a T+1 cutoff: the 23:50 payment's cause names it.
    let dir = data("causes");
    let case = tmp.path().join("cutoff");
    std::fs::create_dir_all(&case).unwrap();
    let rules = std::fs::read_to_string(dir.join("rules.toml"))
        .unwrap()
        .replace("[business]\n", "[business]\ncutoff = \"T+1 10:00\"\n");
    std::fs::write(case.join("rules.toml"), rules).unwrap();
    let out = tmp.path().join("out");
    run_case(&dir, &case.join("rules.toml"), &out).assert().code(1);
    assert_eq!(
        causes(&out.join("unmatched.csv"))["ledger:7"],
        "paid 23:50, cutoff tomorrow 10:00: likely arrives T+1"
    );

    // Two nightly runs: the row carried in as pending that again finds nothing,
    // and a repeat of a carried-in row, are explained with their carried references.
    let (first, second) = (tmp.path().join("d1"), tmp.path().join("d2"));
    run_nightly("2026-11-24", &first).output().unwrap();
    run_nightly("2026-11-25", &second)
        .arg("--carry-in")
        .arg(&first)
        .output()
        .unwrap();
    let unmatched = rows(&second.join("unmatched.csv"));
    let a4 = unmatched.iter().find(|r| r["key"] == "A4").unwrap();
    assert_eq!(a4["reason"], "no_counterpart_after_grace");
    assert_eq!(
        a4["likely_cause"],
        "carried in as pending from the previous business day and still without a counterpart: not received by the cutoff; check with the other side"
    );
    let duplicates = rows(&second.join("duplicates.csv"));
    assert_eq!(duplicates.len(), 1);
    assert!(
        duplicates[0]["likely_cause"].ends_with("after matched row carried:bank:4: likely double submission"),
        "{}",
        duplicates[0]["likely_cause"]
    );
}
