//! Settlement batches, fee checks and three-way reconciliation through the
//! real binary: the examples/three-way walkthrough (ledger ↔ WeChat Pay bill
//! by order, bill ↔ bank by batch), a batch day with `--date` whose
//! settlement-day credits join the run, `fee_rate` instead of the fee
//! column, and generated settlement days (`gen_day --mode settlement`)
//! checked against their ground truth, for any thread count and row order.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use common::{rows, run, summary};

const LEDGER: &str = "examples/three-way/ledger.csv";
const BILL: &str = "examples/three-way/wechat_bill.csv";
const BANK: &str = "examples/three-way/bank.csv";
const ORDERS: &str = "examples/three-way/orders.toml";
const SETTLEMENT: &str = "examples/three-way/settlement.toml";

type Row = BTreeMap<String, String>;

/// Every row of a results directory with the file it is in, by `side:line`;
/// each row must be in exactly one file.
fn outcomes(out: &Path) -> BTreeMap<String, (String, Row)> {
    let mut seen = BTreeMap::new();
    for file in [
        "matched",
        "unmatched",
        "duplicates",
        "ignored",
        "pending",
        "out_of_period",
    ] {
        for r in rows(&out.join(format!("{file}.csv"))) {
            let at = format!("{}:{}", r["side"], r["line"]);
            let again = seen.insert(at.clone(), (file.to_string(), r));
            assert!(again.is_none(), "{at} is in two outputs of {}", out.display());
        }
    }
    seen
}

/// Data lines (2…) of a CSV file that has one header line and no trailer.
fn data_lines(path: &str) -> usize {
    std::fs::read_to_string(common::root().join(path))
        .unwrap()
        .lines()
        .count()
        - 1
}

#[test]
fn three_way_accounts_for_every_order_across_the_two_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let (orders, settlement) = (tmp.path().join("orders"), tmp.path().join("settlement"));
    run(LEDGER, BILL, ORDERS, &orders).assert().code(1);
    run(BILL, BANK, SETTLEMENT, &settlement).assert().code(1);
    let first = outcomes(&orders);
    let second = outcomes(&settlement);

    // Run 1: which bill lines each ledger row was matched with.
    let mut bill_lines_of_match: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (at, (file, r)) in &first {
        if file == "matched" && r["side"] == "bank" {
            bill_lines_of_match
                .entry(r["match_id"].clone())
                .or_default()
                .push(at.replace("bank:", "ledger:"));
        }
    }
    // Every ledger row of the platform ends in one verdict across the runs.
    let mut verdicts: BTreeMap<String, String> = BTreeMap::new();
    for line in 2..data_lines(LEDGER) + 2 {
        let at = format!("ledger:{line}");
        let (file, r) = &first[&at];
        let verdict = if file == "matched" {
            // A bill row's place in run 2 (the bill is run 2's ledger side).
            let fates: BTreeSet<String> = bill_lines_of_match[&r["match_id"]]
                .iter()
                .map(|bill| match &second[bill] {
                    (f, b) if f == "matched" => format!("paid and reconciled ({})", b["stage"]),
                    (f, b) if f == "unmatched" => format!("on the bill, batch {}", b["reason"]),
                    (f, _) => format!("on the bill, {f}"),
                })
                .collect();
            assert_eq!(fates.len(), 1, "{at}: its bill rows fared differently: {fates:?}");
            fates.into_iter().next().unwrap()
        } else {
            format!(
                "not on the bill: {file} {}",
                r.get("reason").map_or("", String::as_str)
            )
        };
        verdicts.insert(format!("{} {}", r["key"], r["amount"]), verdict);
    }
    let paid = "paid and reconciled (settlement)";
    let expected: BTreeMap<String, String> = [
        ("P001 128.50", paid),
        ("P002 1200.00", paid),
        ("P002 -200.00", paid),
        ("P004 300.00", paid),
        ("P005 88.00", paid),
        ("P006 500.00", paid),
        ("P007 50.00", "on the bill, batch amount_mismatch"),
        ("P008 70.00", "on the bill, batch amount_mismatch"),
        ("P009 45.00", "not on the bill: unmatched no_counterpart"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    assert_eq!(verdicts, expected);

    // Run 2 reports batches, the short credit with its difference, and the fee off the rate.
    let s = summary(&settlement);
    assert_eq!(s["batches"]["total"], 3);
    assert_eq!(s["batches"]["settled"], 2);
    assert_eq!(s["batches"]["amount_mismatch"], 1);
    assert_eq!(s["conservation"]["ledger"]["holds"], true);
    assert_eq!(s["conservation"]["bank"]["holds"], true);
    let matched = rows(&settlement.join("matched.csv"));
    let m1: Vec<&Row> = matched.iter().filter(|r| r["match_id"] == "M000001").collect();
    assert_eq!(m1.len(), 5, "four bill rows (a refund netted in) and one credit");
    assert!(m1
        .iter()
        .all(|r| r["group_net"] == "1419.93" && r["difference"] == "0.00"));
    let short = &second["bank:4"].1;
    assert_eq!(short["reason"], "amount_mismatch");
    assert_eq!(short["counterpart"], "ledger:6 ledger:9");
    assert!(short["likely_cause"].contains("nets 119.28"), "{short:?}");
    assert!(short["likely_cause"].contains("10.00 less"), "{short:?}");

    let variances = rows(&settlement.join("fee_variances.csv"));
    assert_eq!(variances.len(), 1, "{variances:?}");
    let v = &variances[0];
    assert_eq!(
        [
            &v["side"],
            &v["key"],
            &v["merchant"],
            &v["expected"],
            &v["actual"],
            &v["difference"]
        ],
        ["ledger", "P006", "1900000110", "1.90", "3.00", "1.10"]
    );
    assert_eq!(
        first["ledger:7"].0, "matched",
        "a fee variance never unmatches a row"
    );
    assert_eq!(s["fees"]["variances"], 1);
    let report = std::fs::read_to_string(settlement.join("report.html")).unwrap();
    assert!(
        report.contains("fee_variances.csv"),
        "report.html names the fee variances"
    );
    // Run 1 has no batch stage and no [fees]: no extra column, no extra file.
    assert!(!orders.join("fee_variances.csv").exists());
    let header = std::fs::read_to_string(orders.join("matched.csv")).unwrap();
    assert!(!header.lines().next().unwrap().contains("group_net"));
}

#[test]
fn a_batch_day_takes_its_settlement_credits_and_leaves_missing_ones_pending() {
    let tmp = tempfile::tempdir().unwrap();
    // The bank statement without merchant 1900000110's credit.
    let bank = tmp.path().join("bank.csv");
    let text = std::fs::read_to_string(common::root().join(BANK)).unwrap();
    let kept: Vec<&str> = text.lines().filter(|l| !l.contains("商户号1900000110")).collect();
    std::fs::write(&bank, kept.join("\n") + "\n").unwrap();
    let out = tmp.path().join("out");
    run(BILL, &bank, SETTLEMENT, &out)
        .args(["--date", "2026-11-24"])
        .assert()
        .code(1);
    let seen = outcomes(&out);
    // Credits stamped on 2026-11-25, after the day's midnight cutoff, join the
    // day's run when a batch takes them; the debit that day is left to its own day.
    assert_eq!(seen["bank:2"].0, "matched");
    assert_eq!(
        seen["bank:3"].0, "unmatched",
        "the short credit stays with its batch"
    );
    assert_eq!(seen["bank:4"].0, "out_of_period");
    // The batch whose credit is missing waits: its settlement day ends after the cutoff.
    for line in [5, 8] {
        assert_eq!(seen[&format!("ledger:{line}")].0, "pending", "ledger:{line}");
    }
    let s = summary(&out);
    assert_eq!(s["batches"]["pending"], 1);
    assert_eq!(s["conservation"]["bank"]["holds"], true);

    // With a cutoff that covers the settlement day, the missing batch is an exception.
    let rules = tmp.path().join("rules.toml");
    let text = std::fs::read_to_string(common::root().join(SETTLEMENT)).unwrap();
    let text = text.replace("[business]\n", "[business]\ncutoff = \"T+2 00:00\"\n");
    std::fs::write(&rules, text).unwrap();
    let out = tmp.path().join("out2");
    run(BILL, &bank, &rules, &out)
        .args(["--date", "2026-11-24"])
        .assert()
        .code(1);
    let seen = outcomes(&out);
    for line in [5, 8] {
        let (file, r) = &seen[&format!("ledger:{line}")];
        assert_eq!(
            (file.as_str(), r["reason"].as_str()),
            ("unmatched", "no_counterpart")
        );
        assert!(r["likely_cause"].contains("no credit on its settlement day 2026-11-25"));
    }
}

#[test]
fn fee_rate_nets_each_row_at_the_rate_instead_of_the_fee_column() {
    let tmp = tempfile::tempdir().unwrap();
    let rules = tmp.path().join("rules.toml");
    let text = std::fs::read_to_string(common::root().join(SETTLEMENT)).unwrap();
    std::fs::write(&rules, text.replace("net = [\"fee\"]", "fee_rate = \"0.6%\"")).unwrap();
    let out = tmp.path().join("out");
    run(BILL, BANK, &rules, &out).assert().code(1);
    let seen = outcomes(&out);
    // 1900000109's fees are the rate's; 1900000110 was charged 0.38% on 88.00,
    // so at 0.6% its batch nets 584.47 against the 584.67 paid.
    assert_eq!(seen["bank:2"].0, "matched");
    let (file, credit) = &seen["bank:3"];
    assert_eq!(
        (file.as_str(), credit["reason"].as_str()),
        ("unmatched", "amount_mismatch")
    );
    assert!(credit["likely_cause"].contains("nets 584.47"), "{credit:?}");
}

#[test]
fn batch_settings_that_cannot_work_are_refused_with_their_place() {
    let tmp = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(common::root().join(SETTLEMENT)).unwrap();
    for (from, to, says) in [
        (
            "settle = \"T+1\"",
            "settle = \"next day\"",
            "is not a settlement day",
        ),
        (
            "group_by = [\"merchant\"]",
            "group_by = [\"city\"]",
            "is not a field",
        ),
        (
            "net = [\"fee\"]",
            "net = [\"fee\"]\nfee_rate = \"1%\"",
            "not both",
        ),
        ("fee = \"手续费\"", "", "maps"),
        ("rate = \"0.6%\"", "rate = \"0.006\"", "percent sign"),
    ] {
        let rules = tmp.path().join("rules.toml");
        std::fs::write(&rules, text.replacen(from, to, 1)).unwrap();
        let output = run(BILL, BANK, &rules, tmp.path().join("out")).output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{to}");
        let err = common::stderr(&output);
        assert!(err.contains(says), "{to}: {err}");
        assert!(err.contains("rules.toml:"), "names the file and line: {err}");
    }
}

fn generate(dir: &Path, orders: &str, seed: &str) {
    let status = std::process::Command::new(common::gen_day_exe())
        .args([
            "--mode",
            "settlement",
            "--orders",
            orders,
            "--seed",
            seed,
            "--out",
        ])
        .arg(dir)
        .status()
        .expect("gen_day runs (built by cargo test)");
    assert!(status.success());
}

fn run_generated(day: &Path, bill: &Path, out: &Path, threads: &str) {
    run(
        bill,
        day.join("bank.csv"),
        common::data("settlement/rules.toml"),
        out,
    )
    .env("RAYON_NUM_THREADS", threads)
    .assert()
    .code(1);
}

/// The result CSVs, fee variances and review list of a run, byte for byte.
fn result_files(out: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "csv"))
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    files.sort();
    files
}

#[test]
fn generated_settlement_day_agrees_with_the_ground_truth() {
    let tmp = tempfile::tempdir().unwrap();
    let day = tmp.path().join("day");
    generate(&day, "4000", "11");
    let out = tmp.path().join("out");
    run_generated(&day, &day.join("bill.csv"), &out, "2");
    let seen = outcomes(&out);
    let truth = rows(&day.join("truth.csv"));
    assert_eq!(
        seen.len(),
        truth.len(),
        "every row in exactly one output, nothing else"
    );
    let mut wrong_fees = BTreeSet::new();
    for t in &truth {
        let at = format!("{}:{}", t["side"], t["line"]);
        let (file, r) = &seen[&at];
        let got = match file.as_str() {
            "matched" => r["stage"].clone(),
            _ => r.get("reason").cloned().unwrap_or_default(),
        };
        assert_eq!(
            (file.as_str(), got.as_str()),
            (t["outcome"].as_str(), t["detail"].as_str()),
            "{at}"
        );
        if t["fee_variance"] == "true" {
            wrong_fees.insert(at);
        }
    }
    let reported: BTreeSet<String> = rows(&out.join("fee_variances.csv"))
        .iter()
        .map(|r| format!("{}:{}", r["side"], r["line"]))
        .collect();
    assert!(!wrong_fees.is_empty());
    assert_eq!(reported, wrong_fees);
    let s = summary(&out);
    for side in ["ledger", "bank"] {
        assert_eq!(s["conservation"][side]["holds"], true);
    }
    let counts = &s["batches"];
    let missing = truth.iter().filter(|t| t["detail"] == "no_counterpart").count();
    assert!(missing > 0 && counts["amount_mismatch"].as_u64().unwrap() > 0);

    // Byte-identical for one thread, and the same matches for the bill's rows reversed.
    let one = tmp.path().join("one");
    run_generated(&day, &day.join("bill.csv"), &one, "1");
    assert_eq!(result_files(&out), result_files(&one));
    let text = std::fs::read_to_string(day.join("bill.csv")).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    lines[1..].reverse();
    let reversed = tmp.path().join("reversed.csv");
    std::fs::write(&reversed, lines.join("\n") + "\n").unwrap();
    let back = tmp.path().join("back");
    run_generated(&day, &reversed, &back, "2");
    let contents = |out: &Path| -> BTreeSet<String> {
        let mut batches: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for r in rows(&out.join("matched.csv")) {
            batches.entry(r["match_id"].clone()).or_default().insert(format!(
                "{} {} {} {}",
                r["side"], r["key"], r["amount"], r["group_net"]
            ));
        }
        let unmatched = rows(&out.join("unmatched.csv"))
            .into_iter()
            .map(|r| format!("{} {} {} {}", r["side"], r["key"], r["amount"], r["reason"]));
        batches
            .into_values()
            .map(|b| format!("{b:?}"))
            .chain(unmatched)
            .collect()
    };
    assert_eq!(contents(&out), contents(&back));
}
