//! `[report]` through the binary: column templates rewrite the CSVs (and the
//! workbook's sheets) without changing any row, named reports are written
//! with `--report NAME`, and `recon rules check` places every mistake.

mod common;

use std::path::{Path, PathBuf};

use calamine::{open_workbook, Reader, Xlsx};
use common::{check_edited_rules, position_of, recon, root, rows, run_case, stderr, stdout, summary};

fn example() -> PathBuf {
    root().join("examples/report-columns")
}

fn run(rules: &Path, out: &Path, extra: &[&str]) -> std::process::Output {
    let dir = example();
    run_case(&dir, rules, out).args(extra).output().unwrap()
}

/// The example's rules without its `[report]` section: the default columns.
fn rules_without_report(tmp: &Path) -> PathBuf {
    let text = std::fs::read_to_string(example().join("rules.toml")).unwrap();
    let cut = text.find("\n[report]\n").unwrap();
    let path = tmp.join("plain.toml");
    std::fs::write(&path, &text[..cut]).unwrap();
    path
}

#[test]
fn templates_choose_and_order_columns_without_changing_rows() {
    let tmp = tempfile::tempdir().unwrap();
    let (templated, plain) = (tmp.path().join("t"), tmp.path().join("p"));
    assert_eq!(
        run(&example().join("rules.toml"), &templated, &["--xlsx"])
            .status
            .code(),
        Some(1)
    );
    assert_eq!(
        run(&rules_without_report(tmp.path()), &plain, &[]).status.code(),
        Some(1)
    );

    for (file, columns) in [
        (
            "unmatched.csv",
            vec!["key", "side", "amount", "account", "likely_cause", "reason"],
        ),
        (
            "matched.csv",
            vec!["match_id", "key", "side", "amount", "review", "likely_cause"],
        ),
    ] {
        let text = std::fs::read_to_string(templated.join(file)).unwrap();
        assert_eq!(text.lines().next().unwrap(), columns.join(","), "{file}");
        let (got, full) = (rows(&templated.join(file)), rows(&plain.join(file)));
        assert_eq!(got.len(), full.len(), "{file}: same rows");
        for (g, f) in got.iter().zip(&full) {
            for c in &columns {
                assert_eq!(g[*c], f[*c], "{file} {c}");
            }
        }
    }
    // Outputs without a template keep every column.
    for file in ["duplicates.csv", "ignored.csv"] {
        assert_eq!(
            std::fs::read(templated.join(file)).unwrap(),
            std::fs::read(plain.join(file)).unwrap()
        );
    }
    // Counts and sums, and the page built from the full rows, are the same.
    let (st, sp) = (summary(&templated), summary(&plain));
    assert_eq!(st["outputs"], sp["outputs"]);
    assert_eq!(st["conservation"], sp["conservation"]);
    let html = std::fs::read_to_string(templated.join("report.html")).unwrap();
    assert!(
        html.contains("<td class=\"merchant\">M-TUITION</td>"),
        "report.html keeps every column"
    );
    // The workbook shows the files as written.
    let mut book: Xlsx<_> = open_workbook(templated.join("results.xlsx")).unwrap();
    let sheet = book.worksheet_range("Unmatched").unwrap();
    let header: Vec<String> = sheet
        .rows()
        .next()
        .unwrap()
        .iter()
        .map(|c| c.to_string())
        .collect();
    assert_eq!(
        header,
        ["key", "side", "amount", "account", "likely_cause", "reason"]
    );
}

#[test]
fn named_reports_are_written_when_asked_for() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let result = run(
        &example().join("rules.toml"),
        &out,
        &["--report", "tuition-exceptions", "--report", "power"],
    );
    assert_eq!(result.status.code(), Some(1));
    let stdout = String::from_utf8(result.stdout).unwrap();
    assert!(
        stdout.contains("report   tuition-exceptions: 1 row(s) in report-tuition-exceptions.csv"),
        "{stdout}"
    );
    assert!(
        stdout.contains("report   power: 2 row(s) in report-power.csv"),
        "{stdout}"
    );

    let tuition = rows(&out.join("report-tuition-exceptions.csv"));
    assert_eq!(tuition.len(), 1);
    assert_eq!(
        (
            tuition[0]["output"].as_str(),
            tuition[0]["key"].as_str(),
            tuition[0]["amount"].as_str()
        ),
        ("unmatched", "C3", "2000.00")
    );
    let header = std::fs::read_to_string(out.join("report-tuition-exceptions.csv")).unwrap();
    assert!(header.starts_with(
        "output,side,line,key,amount,time,merchant,reason,counterpart,likely_cause,duplicate_of,account,memo\n"
    ));

    let power = std::fs::read_to_string(out.join("report-power.csv")).unwrap();
    let expected_rows: Vec<String> = rows(&out.join("unmatched.csv"))
        .iter()
        .filter(|r| r["key"] == "C4")
        .map(|r| {
            format!(
                "unmatched,C4,{},{},\"{}\"",
                r["side"], r["amount"], r["likely_cause"]
            )
        })
        .collect();
    assert_eq!(expected_rows.len(), 2);
    assert_eq!(
        power,
        format!(
            "output,key,side,amount,likely_cause\n{}\n",
            expected_rows.join("\n")
        )
    );

    // Not asked for: not written.
    let plain = tmp.path().join("plain");
    run(&example().join("rules.toml"), &plain, &[]);
    assert!(!plain.join("report-power.csv").exists());
}

#[test]
fn an_unknown_report_name_stops_before_anything_is_written() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let result = run(&example().join("rules.toml"), &out, &["--report", "nope"]);
    assert_eq!(result.status.code(), Some(2));
    let err = String::from_utf8(result.stderr).unwrap();
    assert!(
        err.contains("no [[report.named]] called \"nope\" (defined: tuition-exceptions, power)"),
        "{err}"
    );
    assert!(!out.exists());
}

#[test]
fn shipped_example_passes_as_a_regression_case() {
    let out = recon()
        .args(["rules", "test", "examples/report-columns"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("pass  report-columns"), "{text}");
}

/// `recon rules check` on the example's rules with one edit: (exit code, stdout + stderr).
fn check_edited(edit: impl Fn(String) -> String) -> (i32, String) {
    let (out, path) = check_edited_rules(&example().join("rules.toml"), |text| edit(text.to_string()));
    let text = stdout(&out) + &stderr(&out);
    (
        out.status.code().unwrap(),
        text.replace(&path.display().to_string(), "RULES"),
    )
}

/// 1-based line and column of `needle` in the example's rules after `edit`.
fn position(edit: impl Fn(String) -> String, needle: &str) -> (usize, usize) {
    let text = edit(std::fs::read_to_string(example().join("rules.toml")).unwrap());
    position_of(&text, needle)
}

#[test]
fn rules_check_lists_templates_and_places_report_mistakes() {
    let (code, text) = check_edited(|t| t);
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains("    columns unmatched.csv: key, side, amount, account, likely_cause, reason"),
        "{text}"
    );
    assert!(text.contains(
        "    report tuition-exceptions (--report tuition-exceptions): rows of unmatched, duplicates where abs(amount) >= 1000 and merchant = \"M-TUITION\"\n        Exceptions of 1000 or more for the tuition merchant\n"
    ), "{text}");

    let unknown = |t: String| t.replace("\"account\", \"likely_cause\"", "\"acount\", \"likely_cause\"");
    let (code, text) = check_edited(unknown);
    let (line, col) = position(unknown, "\"acount\"");
    assert_eq!(code, 2);
    assert!(
        text.contains(&format!(
            "RULES:{line}:{col}: [report.columns] unmatched: unknown column \"acount\" (known: side, line, key, amount, time, merchant, reason, counterpart, likely_cause, resolution, carried_from, account, memo;"
        )),
        "{text}"
    );

    let bad_filter = |t: String| t.replace("abs(amount) >= 1000", "abs(amount) => 1000");
    let (code, text) = check_edited(bad_filter);
    let (line, col) = position(bad_filter, "> 1000");
    assert_eq!(code, 2);
    assert!(
        text.contains(&format!(
            "RULES:{line}:{col}: [[report.named]] \"tuition-exceptions\" filter: expected a value, found `>`"
        )),
        "{text}"
    );

    let unknown_in_filter = |t: String| t.replace("merchant = M-POWER", "shop = M-POWER");
    let (code, text) = check_edited(unknown_in_filter);
    let (line, col) = position(unknown_in_filter, "\"shop = M-POWER\"");
    assert_eq!(code, 2);
    assert!(
        text.contains(&format!(
            "RULES:{line}:{col}: [[report.named]] \"power\" filter: unknown column \"shop\""
        )),
        "{text}"
    );

    let bad_output = |t: String| {
        t.replace(
            "from = [\"matched\", \"unmatched\"]",
            "from = [\"matched\", \"pendng\"]",
        )
    };
    let (code, text) = check_edited(bad_output);
    let (line, col) = position(bad_output, "\"pendng\"");
    assert_eq!(code, 2);
    assert!(
        text.contains(&format!(
            "RULES:{line}:{col}: [[report.named]] \"power\": from = \"pendng\" is not an output"
        )),
        "{text}"
    );

    let unknown_output = |t: String| t.replace("matched = [\"match_id\"", "matchd = [\"match_id\"");
    let (code, text) = check_edited(unknown_output);
    assert_eq!(code, 2);
    assert!(text.contains("unknown field `matchd`"), "{text}");
}
