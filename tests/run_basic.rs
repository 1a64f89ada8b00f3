//! `recon run` on the shipped example day: every feature of the default
//! rules shows up once, and the expected outcome of every row is written here.

mod common;

use common::{refs, root, rows, run_example, summary};

#[test]
fn example_day_reconciles_with_known_exceptions() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    run_example(&out).assert().code(1);

    let matched = rows(&out.join("matched.csv"));
    let by_stage = |stage: &str| -> Vec<String> {
        matched
            .iter()
            .filter(|r| r["stage"] == stage)
            .map(|r| format!("{}:{}", r["side"], r["line"]))
            .collect()
    };
    // Ledger data starts on line 2; bank data on line 6 (three preamble lines and a blank).
    assert_eq!(
        by_stage("order-id"),
        [
            "ledger:2",
            "bank:6",
            "ledger:3",
            "bank:7",
            "ledger:4",
            "bank:8",
            "ledger:8",
            "bank:13",
            "ledger:9",
            "bank:15",
            "ledger:13",
            "bank:18"
        ]
    );
    assert_eq!(by_stage("split"), ["ledger:5", "bank:9", "bank:10"]);
    assert_eq!(by_stage("order-id-fee"), ["ledger:6", "bank:11"]);
    assert_eq!(by_stage("merchant-amount-time"), ["ledger:7", "bank:12"]);

    let fee = matched.iter().find(|r| r["stage"] == "order-id-fee").unwrap();
    assert_eq!(fee["difference"], "3.00");
    let tuition = matched.iter().find(|r| r["key"] == "P003").unwrap();
    assert_eq!(tuition["review"], "true");
    assert!(tuition["review_reason"].contains("review_above"));
    let refund: Vec<_> = matched.iter().filter(|r| r["key"] == "R001").collect();
    assert_eq!(
        refund.iter().map(|r| r["amount"].as_str()).collect::<Vec<_>>(),
        ["-30.00", "-30.00"]
    );
    // Across midnight: ledger 23:59:50 local, bank 16:00:40 UTC = 00:00:40 local next day.
    let late: Vec<_> = matched.iter().filter(|r| r["key"] == "P012").collect();
    assert_eq!(late[0]["time"], "2026-11-24T23:59:50+08:00");
    assert_eq!(late[1]["time"], "2026-11-25T00:00:40+08:00");

    assert_eq!(refs(&out.join("duplicates.csv")), ["bank:14"]);
    let dup = &rows(&out.join("duplicates.csv"))[0];
    assert_eq!(dup["duplicate_of"], "bank:13");

    let unmatched = rows(&out.join("unmatched.csv"));
    let reasons: Vec<String> = unmatched
        .iter()
        .map(|r| format!("{}:{} {} {}", r["side"], r["line"], r["reason"], r["counterpart"]))
        .collect();
    assert_eq!(
        reasons,
        [
            "ledger:10 no_counterpart ",
            "ledger:11 amount_mismatch bank:16",
            "bank:16 amount_mismatch ledger:11",
            "bank:17 no_counterpart ",
        ]
        .map(String::from)
    );
    assert_eq!(refs(&out.join("ignored.csv")), ["ledger:12"]);

    let s = summary(&out);
    assert_eq!(s["conservation"]["ledger"]["holds"], true);
    assert_eq!(s["conservation"]["bank"]["holds"], true);
    assert_eq!(s["conservation"]["ledger"]["input"]["count"], 12);
    assert_eq!(s["conservation"]["bank"]["input"]["count"], 13);
    assert_eq!(s["conservation"]["bank"]["input"]["amount"], "9363.50");
    assert_eq!(s["rules"]["name"], "city-payments");
    assert_eq!(s["rules"]["sha256"].as_str().unwrap().len(), 64);
    assert_eq!(s["inputs"]["bank"]["encoding"], "GBK");
    assert_eq!(s["status"], "exceptions");
}

#[test]
fn same_inputs_give_identical_outputs_for_any_thread_count() {
    let tmp = tempfile::tempdir().unwrap();
    let mut previous: Option<Vec<Vec<u8>>> = None;
    for threads in ["1", "2", "8"] {
        let out = tmp.path().join(format!("t{threads}"));
        run_example(&out)
            .env("RAYON_NUM_THREADS", threads)
            .assert()
            .code(1);
        let files: Vec<Vec<u8>> = ["matched.csv", "unmatched.csv", "duplicates.csv", "ignored.csv"]
            .iter()
            .map(|f| std::fs::read(out.join(f)).unwrap())
            .collect();
        if let Some(p) = &previous {
            assert!(p == &files, "outputs differ with RAYON_NUM_THREADS={threads}");
        }
        previous = Some(files);
    }
    assert!(root().join("examples/basic/bank.csv").exists());
}
