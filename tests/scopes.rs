//! Row scopes through the binary: a role with `rows = '…'` writes only the
//! rows in scope to every file (the CSVs, summary.json, report.html,
//! results.xlsx, the terminal summary), and every count is the scope's,
//! derived here from the view's own rows and from an unscoped run of the
//! same day; conservation holds over every row and within the scope.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use calamine::{open_workbook, Data, Reader, Xlsx};
use rust_decimal::Decimal;

use common::{root, rows, stderr, stdout, summary, EXAMPLE_BANK, EXAMPLE_LEDGER};

type Row = BTreeMap<String, String>;

/// `base` with `roles` appended (a `[roles]` table of its own when `base` has none), saved in `dir`.
fn rules_with_roles(base: &Path, dir: &Path, roles: &str) -> PathBuf {
    let text = std::fs::read_to_string(base).unwrap();
    let text = if text.contains("[roles.finance]\n") {
        text.replacen("[roles.finance]\n", &format!("{roles}\n[roles.finance]\n"), 1)
    } else {
        format!("{text}\n[roles]\ndefault_role = \"everyone\"\n[roles.everyone]\n{roles}\n")
    };
    let path = dir.join("rules.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// `recon run --xlsx`, the audit log beside `out` as `out.log`.
fn run(ledger: &Path, bank: &Path, rules: &Path, out: &Path, extra: &[&str]) -> std::process::Output {
    common::run(ledger, bank, rules, out)
        .arg("--audit")
        .arg(out.with_extension("log"))
        .arg("--xlsx")
        .args(extra)
        .output()
        .unwrap()
}

/// Count and sum of the rows of `side`.
fn tally(rows: &[Row], side: &str) -> (u64, Decimal) {
    let mine: Vec<&Row> = rows.iter().filter(|r| r["side"] == side).collect();
    let sum = mine
        .iter()
        .map(|r| r.get("amount").map_or(Decimal::ZERO, |a| a.parse().unwrap()))
        .sum();
    (mine.len() as u64, sum)
}

fn json_tally(v: &serde_json::Value) -> (u64, Decimal) {
    (
        v["count"].as_u64().unwrap(),
        v["amount"].as_str().unwrap().parse().unwrap(),
    )
}

/// Every text cell of every sheet of a workbook.
fn workbook_text(path: &Path) -> Vec<String> {
    let mut book: Xlsx<_> = open_workbook(path).unwrap();
    let mut cells = Vec::new();
    for name in book.sheet_names() {
        let range = book.worksheet_range(&name).unwrap();
        cells.extend(range.used_cells().map(|(_, _, c)| match c {
            Data::String(s) => s.clone(),
            other => other.to_string(),
        }));
    }
    cells
}

#[test]
fn a_scoped_view_holds_and_counts_only_its_rows_in_every_file() {
    let tmp = tempfile::tempdir().unwrap();
    let rules = rules_with_roles(
        &root().join("rules/default.toml"),
        tmp.path(),
        "[roles.power]\nrows = 'merchant in (\"M-POWER\")'",
    );
    let (ledger, bank) = (root().join(EXAMPLE_LEDGER), root().join(EXAMPLE_BANK));
    let (full, view) = (tmp.path().join("full"), tmp.path().join("view"));
    let date = ["--date", "2026-11-24"];
    let all = run(&ledger, &bank, &rules, &full, &date);
    assert_eq!(all.status.code(), Some(1), "{}", stderr(&all));
    let ran = run(
        &ledger,
        &bank,
        &rules,
        &view,
        &[&date[..], &["--role", "power"]].concat(),
    );
    assert_eq!(ran.status.code(), Some(1), "{}", stderr(&ran));
    let s = summary(&view);
    let in_scope = |r: &Row| r["merchant"] == "M-POWER";

    // Every result CSV holds exactly the full run's rows in scope, and its tally is theirs.
    let outputs = s["outputs"].as_object().unwrap();
    let mut scoped_rows: Vec<Row> = Vec::new();
    for (file, counts) in outputs {
        let kept = rows(&view.join(file));
        let expected: Vec<Row> = rows(&full.join(file)).into_iter().filter(in_scope).collect();
        assert_eq!(kept, expected, "{file}");
        for side in ["ledger", "bank"] {
            assert_eq!(json_tally(&counts[side]), tally(&kept, side), "{file} {side}");
        }
        scoped_rows.extend(kept);
    }
    assert!(tally(&scoped_rows, "ledger").0 > 0 && tally(&scoped_rows, "bank").0 > 0);

    // What the scope read is what its files hold, and the proof says so.
    for side in ["ledger", "bank"] {
        let c = &s["conservation"][side];
        assert_eq!(c["holds"], true, "{side}");
        assert_eq!(json_tally(&c["input"]), tally(&scoped_rows, side), "{side}");
        assert_eq!(json_tally(&c["outputs"]), tally(&scoped_rows, side), "{side}");
        assert_eq!(
            json_tally(&s["inputs"][side]["records"]),
            tally(&scoped_rows, side),
            "{side}"
        );
    }
    let full_summary = summary(&full);
    assert!(
        full_summary["inputs"]["ledger"]["records"]["count"].as_u64()
            > s["inputs"]["ledger"]["records"]["count"].as_u64(),
        "the example day has rows outside the scope"
    );

    // Stages, reasons and review flags are counted over the rows in scope.
    let matched = rows(&view.join("matched.csv"));
    let mut stages: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for r in &matched {
        stages
            .entry(r["stage"].clone())
            .or_default()
            .insert(r["match_id"].clone());
    }
    for st in s["stages"].as_array().unwrap() {
        let name = st["name"].as_str().unwrap();
        assert_eq!(
            st["matches"].as_u64().unwrap(),
            stages.get(name).map_or(0, |m| m.len() as u64),
            "{name}"
        );
    }
    let flagged: BTreeSet<&String> = matched
        .iter()
        .filter(|r| r["review"] == "true")
        .map(|r| &r["match_id"])
        .collect();
    assert_eq!(s["review"].as_u64().unwrap(), flagged.len() as u64);
    let mut reasons: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    for r in rows(&view.join("unmatched.csv")) {
        *reasons
            .entry(r["reason"].clone())
            .or_default()
            .entry(r["side"].clone())
            .or_default() += 1;
    }
    let by_reason = s["unmatched_by_reason"].as_object().unwrap();
    assert_eq!(
        by_reason.keys().collect::<Vec<_>>(),
        reasons.keys().collect::<Vec<_>>()
    );
    for (reason, sides) in &reasons {
        for (side, n) in sides {
            assert_eq!(by_reason[reason][side].as_u64().unwrap(), *n, "{reason} {side}");
        }
    }

    // review.csv, resolutions.csv and their counts: the full run's items in scope.
    let scoped_items: BTreeSet<String> = scoped_rows
        .iter()
        .flat_map(|r| {
            let row = format!("{}:{}", r["side"], r["line"]);
            [Some(row), r.get("match_id").cloned()]
        })
        .flatten()
        .collect();
    let review = rows(&view.join("review.csv"));
    let expected: Vec<Row> = rows(&full.join("review.csv"))
        .into_iter()
        .filter(|r| scoped_items.contains(&r["item"]))
        .collect();
    assert_eq!(review, expected);
    assert_eq!(s["confirmations"]["items"].as_u64().unwrap(), review.len() as u64);
    let handling = rows(&view.join("resolutions.csv"));
    let expected: Vec<Row> = rows(&full.join("resolutions.csv"))
        .into_iter()
        .filter(in_scope)
        .collect();
    assert_eq!(handling, expected);
    assert!(!handling.is_empty());
    assert_eq!(
        s["resolutions"]["exceptions"].as_u64().unwrap(),
        handling.len() as u64
    );
    let open = handling.iter().filter(|r| r["status"] == "open").count() as u64;
    assert_eq!(s["resolutions"]["open"].as_u64().unwrap(), open);
    assert_eq!(s["open"]["rows"].as_u64().unwrap(), open);
    let review_flags = review.iter().filter(|r| r["kind"] == "review").count() as u64;
    assert_eq!(s["open"]["review_flags"].as_u64().unwrap(), review_flags);

    // Marked as the scope's; the day's status stays the whole day's, as the exit code.
    assert_eq!(s["scope"]["role"], "power");
    assert_eq!(s["scope"]["rows"], "merchant in (\"M-POWER\")");
    assert_eq!(s["scope"]["all_rows_conservation"], "holds");
    assert_eq!(s["scope"]["status"], "exceptions");
    assert_eq!(s["status"], full_summary["status"]);

    // The page, the workbook and the terminal show the scope's numbers and nothing outside it.
    let (ledger_rows, bank_rows) = (tally(&scoped_rows, "ledger").0, tally(&scoped_rows, "bank").0);
    let html = std::fs::read_to_string(view.join("report.html")).unwrap();
    assert!(
        html.contains(&format!("id=\"ledger-count-input\">{ledger_rows}<")),
        "{html}"
    );
    assert!(html.contains(&format!("id=\"bank-count-input\">{bank_rows}<")));
    assert!(html.contains("id=\"scope\""));
    let cells = workbook_text(&view.join("results.xlsx"));
    assert!(cells.iter().any(|c| c.contains("merchant in (\"M-POWER\")")));
    for outside in ["M-WATER", "M-TUITION", "M-GAS"] {
        assert!(!html.contains(outside), "report.html shows {outside}");
        assert!(
            !cells.iter().any(|c| c.contains(outside)),
            "results.xlsx shows {outside}"
        );
        for file in std::fs::read_dir(&view).unwrap() {
            let path = file.unwrap().path();
            if path.extension().is_some_and(|x| x == "csv" || x == "json") {
                let text = std::fs::read_to_string(&path).unwrap();
                assert!(!text.contains(outside), "{} shows {outside}", path.display());
            }
        }
    }
    let input_line = stdout(&ran)
        .lines()
        .find(|l| l.starts_with("input "))
        .unwrap()
        .split_whitespace()
        .map(String::from)
        .collect::<Vec<_>>();
    assert_eq!(input_line[1], ledger_rows.to_string());
    assert_eq!(input_line[3], bank_rows.to_string());
    assert!(
        stdout(&ran).contains("status   exceptions (the whole day; this scope: exceptions)"),
        "{}",
        stdout(&ran)
    );

    // A scoped view's pending.csv lacks the other rows: it cannot be carried in.
    let next = tmp.path().join("next");
    let carry = run(
        &ledger,
        &bank,
        &rules,
        &next,
        &["--carry-in", view.to_str().unwrap()],
    );
    assert_eq!(carry.status.code(), Some(2));
    assert!(
        stderr(&carry).contains("which sees only rows where merchant in (\"M-POWER\")"),
        "{}",
        stderr(&carry)
    );
    assert!(!next.exists());
}

#[test]
fn a_scoped_view_counts_its_own_batches_and_fees() {
    let tmp = tempfile::tempdir().unwrap();
    let rules = rules_with_roles(
        &root().join("examples/three-way/settlement.toml"),
        tmp.path(),
        "[roles.m109]\nrows = 'merchant = \"1900000109\"'",
    );
    let (ledger, bank) = (
        root().join("examples/three-way/wechat_bill.csv"),
        root().join("examples/three-way/bank.csv"),
    );
    let (full, view) = (tmp.path().join("full"), tmp.path().join("view"));
    let all = run(&ledger, &bank, &rules, &full, &[]);
    assert_eq!(all.status.code(), Some(1), "{}", stderr(&all));
    let ran = run(&ledger, &bank, &rules, &view, &["--role", "m109"]);
    assert_eq!(
        ran.status.code(),
        Some(1),
        "the whole day has exceptions: {}",
        stderr(&ran)
    );
    let (whole, s) = (summary(&full), summary(&view));

    let variances = rows(&view.join("fee_variances.csv"));
    let expected: Vec<Row> = rows(&full.join("fee_variances.csv"))
        .into_iter()
        .filter(|r| r["merchant"] == "1900000109")
        .collect();
    assert_eq!(variances, expected);
    assert!(whole["fees"]["variances"].as_u64().unwrap() > variances.len() as u64);
    assert_eq!(s["fees"]["variances"].as_u64().unwrap(), variances.len() as u64);
    let checked = rows(&view.join("matched.csv"))
        .into_iter()
        .chain(rows(&view.join("unmatched.csv")))
        .filter(|r| r["side"] == "ledger")
        .count() as u64;
    assert_eq!(s["fees"]["checked"].as_u64().unwrap(), checked);
    assert!(whole["fees"]["checked"].as_u64().unwrap() > checked);

    let batches: BTreeSet<String> = rows(&view.join("matched.csv"))
        .into_iter()
        .map(|r| r["match_id"].clone())
        .collect();
    assert_eq!(s["batches"]["total"].as_u64().unwrap(), batches.len() as u64);
    assert_eq!(s["batches"]["settled"], s["batches"]["total"]);
    assert!(whole["batches"]["total"].as_u64().unwrap() > batches.len() as u64);
    assert_eq!(s["scope"]["status"], "reconciled");
    assert_eq!(
        s["open"],
        serde_json::json!({"rows": 0, "rejected": 0, "review_flags": 0})
    );
    let html = std::fs::read_to_string(view.join("report.html")).unwrap();
    assert!(!html.contains("1900000110") && !html.contains("1900000111"));
}
