//! What `summary.json` records about a run, checked against the files
//! themselves: rule and input SHA-256, tool version, business date, start
//! and end time, and per side and output the counts and sums that add up to
//! the inputs.

mod common;

use chrono::DateTime;
use rust_decimal::Decimal;

use common::{root, run_example, sha256_hex, summary};

fn sha256_of(path: &str) -> String {
    sha256_hex(&std::fs::read(root().join(path)).unwrap())
}

fn run_basic(out: &std::path::Path, date: Option<&str>) {
    let mut cmd = run_example(out);
    if let Some(d) = date {
        cmd.args(["--date", d]);
    }
    cmd.assert().code(1);
}

#[test]
fn summary_traces_rules_inputs_tool_and_times() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    run_basic(&out, Some("2026-11-24"));
    let s = summary(&out);
    assert_eq!(s["rules"]["name"], "city-payments");
    assert_eq!(s["rules"]["version"], "1.0.0");
    assert_eq!(s["rules"]["effective_from"], "2026-01-01");
    assert_eq!(s["rules"]["sha256"], sha256_of("rules/default.toml"));
    assert_eq!(
        s["inputs"]["ledger"]["sha256"],
        sha256_of("examples/basic/ledger.csv")
    );
    assert_eq!(
        s["inputs"]["bank"]["sha256"],
        sha256_of("examples/basic/bank.csv")
    );
    assert_eq!(s["tool"], format!("recon {}", env!("CARGO_PKG_VERSION")));
    assert_eq!(s["business_date"], "2026-11-24");
    let time = |k: &str| DateTime::parse_from_rfc3339(s[k].as_str().unwrap()).unwrap();
    assert!(time("started_at") <= time("finished_at"));
}

#[test]
fn without_date_there_is_no_business_day_but_the_rules_are_still_traced() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    run_basic(&out, None);
    let s = summary(&out);
    assert_eq!(s["business_date"], serde_json::Value::Null);
    assert_eq!(s["rules"]["sha256"], sha256_of("rules/default.toml"));
}

#[test]
fn per_side_output_tallies_add_up_to_the_inputs() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    run_basic(&out, Some("2026-11-24"));
    let s = summary(&out);
    for side in ["ledger", "bank"] {
        let mut count = 0;
        let mut amount = Decimal::ZERO;
        for file in ["matched.csv", "unmatched.csv", "duplicates.csv", "ignored.csv"] {
            let t = &s["outputs"][file][side];
            count += t["count"].as_u64().unwrap();
            amount += t["amount"].as_str().unwrap().parse::<Decimal>().unwrap();
            // The summary's tallies are the files' own rows.
            let rows: Vec<_> = common::rows(&out.join(file))
                .into_iter()
                .filter(|r| r["side"] == side)
                .collect();
            assert_eq!(rows.len() as u64, t["count"].as_u64().unwrap(), "{file} {side}");
            let sum: Decimal = rows.iter().map(|r| r["amount"].parse::<Decimal>().unwrap()).sum();
            assert_eq!(sum.to_string(), t["amount"].as_str().unwrap(), "{file} {side}");
        }
        let input = &s["inputs"][side]["records"];
        assert_eq!(count, input["count"].as_u64().unwrap(), "{side}");
        assert_eq!(amount.to_string(), input["amount"].as_str().unwrap(), "{side}");
        assert_eq!(s["conservation"][side]["holds"], true);
    }
    // The ledger's 12 rows sum to 11248.00 (P011 0.50 included, R001 as -30.00).
    assert_eq!(s["inputs"]["ledger"]["records"]["count"], 12);
    assert_eq!(s["inputs"]["ledger"]["records"]["amount"], "11248.00");
}
