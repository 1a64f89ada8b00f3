//! `recon rules init` on settlement statements, through the binary: a bank
//! statement of one credit per merchant and day against a channel bill gets
//! a drafted `batch` stage (the examples/three-way bill and bank, the same
//! bill in its older layout that no profile fits, a generated settlement
//! day), and a run with the draft settles the batches; an ordinary
//! per-order statement gets none. Also: a guessed merchant bill reads its
//! refunds from 退款金额 (tests/data/init/wechat_merchant_legacy.csv).

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::{data, recon, root, rows, summary};

const BANK: &str = "examples/three-way/bank.csv";

/// Drafts rules for `ledger` against `bank` into `dir`; the draft and init's notes.
fn init(ledger: &Path, bank: &Path, dir: &Path) -> (PathBuf, String, String) {
    let target = dir.join("draft.toml");
    let out = recon()
        .args(["rules", "init", "--ledger"])
        .arg(ledger)
        .arg("--bank")
        .arg(bank)
        .arg("-o")
        .arg(&target)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", common::stderr(&out));
    let text = std::fs::read_to_string(&target).unwrap();
    (target, text, common::stdout(&out))
}

/// Runs the draft on the two files; the results directory.
fn run(ledger: &Path, bank: &Path, rules: &Path, dir: &Path) -> PathBuf {
    let out = dir.join("out");
    common::run(ledger, bank, rules, &out)
        .arg("--audit")
        .arg(dir.join("audit.log"))
        .assert()
        .code(1);
    out
}

fn assert_has(text: &str, lines: &[&str]) {
    for line in lines {
        assert!(text.contains(line), "missing {line:?} in\n{text}");
    }
}

/// The three-way bill's batches, as any reading of it must settle them.
fn assert_three_way_batches(out: &Path) {
    let s = summary(out);
    assert_eq!(s["batches"]["settled"], 2, "{}", s["batches"]);
    assert_eq!(s["batches"]["amount_mismatch"], 1);
    assert_eq!(
        s["outputs"]["ignored.csv"]["ledger"]["count"], 1,
        "REVOKED set aside"
    );
    // 128.50 + 1200.00 − 200.00 (the refund, from 退款金额) + 300.00, less 8.57 of fees.
    let nets: BTreeMap<String, String> = rows(&out.join("matched.csv"))
        .into_iter()
        .filter(|r| r["side"] == "ledger")
        .map(|r| (r["merchant"].clone(), r["group_net"].clone()))
        .collect();
    assert_eq!(nets["1900000109"], "1419.93");
    assert_eq!(nets["1900000110"], "584.67");
    let refund = rows(&out.join("matched.csv"))
        .into_iter()
        .find(|r| r["side"] == "ledger" && r["line"] == "7")
        .unwrap();
    assert_eq!(refund["amount"], "-200.00");
}

const BATCH_STAGE: &[&str] = &[
    "match = \"batch\"",
    "group_by = [\"merchant\"]",
    "settle = \"T+1\"",
    "net = [\"fee\"]",
    "tolerance = \"0.01\"",
    "fee = \"手续费\"",
    "[[bank.clean]]\ncolumn = \"摘要\"\nextract = '商户号(\\d+)'",
    "merchant = \"摘要\"",
];

#[test]
fn the_three_way_bill_and_bank_get_a_batch_stage_that_settles_them() {
    let tmp = tempfile::tempdir().unwrap();
    let (bill, bank) = (
        root().join("examples/three-way/wechat_bill.csv"),
        root().join(BANK),
    );
    let (rules, text, notes) = init(&bill, &bank, tmp.path());
    assert_has(&text, BATCH_STAGE);
    assert_has(&text, &["profile = \"wechat-merchant\""]);
    assert!(
        notes.contains("batches: 2 of the statement's 3 credits"),
        "{notes}"
    );
    assert!(!text.contains("match = \"fallback\""), "{text}");
    assert_three_way_batches(&run(&bill, &bank, &rules, tmp.path()));
}

#[test]
fn a_merchant_bill_no_profile_fits_reads_refunds_from_the_refund_amount_column() {
    let tmp = tempfile::tempdir().unwrap();
    let bill = data("init/wechat_merchant_legacy.csv");
    // `recon check` guesses the roles: the REFUND row is -200.00, not 0.00.
    let check = recon().arg("check").arg(&bill).output().unwrap();
    let said = common::stdout(&check);
    assert_has(
        &said,
        &[
            "profile     wechat-merchant (confidence 0.79",
            "mapping     guessed from header names",
            // Roles in one column, as wide as the longest.
            "  refund_amount 退款金额\n  status        交易状态\n",
            "9 read cleanly: 8 counted, 1 ignored by status",
            "amount      2136.50 (in 2336.50, out -200.00)",
        ],
    );
    let bank = root().join(BANK);
    let (rules, text, notes) = init(&bill, &bank, tmp.path());
    assert!(
        notes.contains("ledger: columns guessed from header names and values"),
        "{notes}"
    );
    assert_has(&text, BATCH_STAGE);
    assert_has(
        &text,
        &[
            "amount = \"总金额\"",
            "status = \"交易状态\"",
            "refund_amount = \"退款金额\"",
        ],
    );
    assert_three_way_batches(&run(&bill, &bank, &rules, tmp.path()));
}

#[test]
fn per_order_statements_get_no_batch_stage() {
    let tmp = tempfile::tempdir().unwrap();
    for (ledger, bank) in [
        ("examples/basic/ledger.csv", "examples/basic/bank.csv"),
        (
            "examples/three-way/ledger.csv",
            "examples/three-way/wechat_bill.csv",
        ),
        // Two credits, each one ledger row's amount: payments, not batches.
        (
            "tests/data/profiles/alipay_ledger.csv",
            "tests/data/samples/alipay_example-alipay-records.csv",
        ),
    ] {
        let dir = tmp.path().join(ledger.replace('/', "_"));
        std::fs::create_dir_all(&dir).unwrap();
        let (_, text, notes) = init(&root().join(ledger), &root().join(bank), &dir);
        assert!(!text.contains("match = \"batch\""), "{ledger}: {text}");
        assert!(!notes.contains("batches:"), "{ledger}: {notes}");
        assert!(text.contains("match = \"key\""), "{ledger}: {text}");
    }
}

#[test]
fn a_generated_settlement_day_gets_a_batch_stage_that_agrees_with_the_ground_truth() {
    let tmp = tempfile::tempdir().unwrap();
    let day = tmp.path().join("day");
    let status = std::process::Command::new(common::gen_day_exe())
        .args(["--mode", "settlement", "--orders", "2000", "--seed", "5", "--out"])
        .arg(&day)
        .status()
        .expect("gen_day runs (built by cargo test)");
    assert!(status.success());
    let (bill, bank) = (day.join("bill.csv"), day.join("bank.csv"));
    let (rules, text, _) = init(&bill, &bank, tmp.path());
    assert_has(
        &text,
        &[
            "match = \"batch\"",
            "settle = \"T+1\"",
            "fee = \"fee\"",
            "merchant = \"merchant\"",
            "extract = '商户号(\\d+)'",
            "merchant = \"memo\"",
        ],
    );
    let out = run(&bill, &bank, &rules, tmp.path());
    let mut seen: BTreeMap<String, (String, String)> = BTreeMap::new();
    for file in ["matched", "unmatched"] {
        for r in rows(&out.join(format!("{file}.csv"))) {
            let got = if file == "matched" {
                "settlement".to_string()
            } else {
                r["reason"].clone()
            };
            seen.insert(format!("{}:{}", r["side"], r["line"]), (file.to_string(), got));
        }
    }
    let truth = rows(&day.join("truth.csv"));
    assert_eq!(seen.len(), truth.len());
    for t in &truth {
        let at = format!("{}:{}", t["side"], t["line"]);
        assert_eq!(seen[&at], (t["outcome"].clone(), t["detail"].clone()), "{at}");
    }
    let s = summary(&out);
    assert!(s["batches"]["settled"].as_u64().unwrap() > 0);
    assert!(
        s["batches"]["no_counterpart"].as_u64().unwrap() + s["batches"]["amount_mismatch"].as_u64().unwrap()
            > 0,
        "the generated day has missing and short credits: {}",
        s["batches"]
    );
}
