//! The example day rendered in English and in Chinese (`--lang`, `[report]
//! lang`, and the locale when neither is given): the terminal summary, the
//! review reasons in matched.csv and review.csv, the likely causes,
//! report.html and results.xlsx's sheet names and headers. Codes that tools
//! read (`reason`, `status`, column names of the CSVs) stay as they are.

mod common;

use std::path::Path;

use calamine::{Reader, Xlsx};
use common::{recon, rows, EXAMPLE_BANK, EXAMPLE_LEDGER};

/// Runs the example day into `out` with `extra` flags and LANG set to `lang`;
/// returns stdout.
fn run(out: &Path, rules: &Path, locale: &str, extra: &[&str]) -> String {
    let output = recon()
        .env("LANG", locale)
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .args([
            "run",
            "--ledger",
            EXAMPLE_LEDGER,
            "--bank",
            EXAMPLE_BANK,
            "--rules",
        ])
        .arg(rules)
        .args(["--date", "2026-11-24", "--xlsx", "--out"])
        .arg(out)
        .args(extra)
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

struct Rendered {
    stdout: String,
    review_reason: String,
    review_detail: String,
    cause: String,
    html: String,
    sheets: Vec<String>,
    matched_header: Vec<String>,
}

fn render(out: &Path, rules: &Path, locale: &str, extra: &[&str]) -> Rendered {
    let stdout = run(out, rules, locale, extra);
    let matched = rows(&out.join("matched.csv"));
    let flagged = matched.iter().find(|r| r["review"] == "true").unwrap();
    let review = rows(&out.join("review.csv"));
    let unmatched = rows(&out.join("unmatched.csv"));
    let mut book: Xlsx<_> = calamine::open_workbook(out.join("results.xlsx")).unwrap();
    let sheets = book.sheet_names().to_vec();
    let range = book.worksheet_range(&sheets[1]).unwrap();
    let matched_header = range
        .rows()
        .next()
        .unwrap()
        .iter()
        .map(|c| c.to_string())
        .collect();
    Rendered {
        stdout,
        review_reason: flagged["review_reason"].clone(),
        review_detail: review[0]["detail"].clone(),
        cause: unmatched.iter().find(|r| r["key"] == "P009").unwrap()["likely_cause"].clone(),
        html: std::fs::read_to_string(out.join("report.html")).unwrap(),
        sheets,
        matched_header,
    }
}

#[test]
fn the_example_day_in_english_and_in_chinese() {
    let tmp = tempfile::tempdir().unwrap();
    let rules = common::root().join(common::DEFAULT_RULES);
    let en = render(&tmp.path().join("en"), &rules, "C.UTF-8", &[]);
    let zh = render(&tmp.path().join("zh"), &rules, "C.UTF-8", &["--lang", "zh"]);

    // Terminal summary.
    assert!(
        en.stdout
            .contains("review   1 match(es) flagged for a second confirmation"),
        "{}",
        en.stdout
    );
    assert!(en.stdout.contains("status   exceptions"), "{}", en.stdout);
    for line in [
        "规则     city-payments 1.0.0",
        "复核     1 笔匹配需要二次确认",
        "未匹配   amount_mismatch：账务 1，流水 1",
        "守恒     成立",
        "状态     有异常 (exceptions)",
        "审计     ",
    ] {
        assert!(zh.stdout.contains(line), "missing {line:?} in\n{}", zh.stdout);
    }
    assert!(!zh.stdout.contains("flagged"), "{}", zh.stdout);
    // The table's columns line up by display width: every count row ends at the same column.
    let ends: Vec<usize> = zh
        .stdout
        .lines()
        .filter(|l| l.contains(" input") || l.contains(" matched") || l.contains(" out_of_period"))
        .map(unicode_width::UnicodeWidthStr::width)
        .collect();
    assert_eq!(ends.len(), 3, "{}", zh.stdout);
    assert!(ends.windows(2).all(|w| w[0] == w[1]), "{ends:?}\n{}", zh.stdout);

    // Review reasons, in matched.csv and review.csv.
    assert_eq!(
        en.review_reason,
        "amount 6800.00 at or above review_above 5000.00"
    );
    assert_eq!(zh.review_reason, "金额 6800.00 达到复核阈值 review_above 5000.00");
    assert_eq!(zh.review_detail, zh.review_reason);

    // Likely causes.
    assert!(en.cause.starts_with("no bank row"), "{}", en.cause);
    assert!(!zh.cause.is_ascii(), "{}", zh.cause);

    // report.html: the badge says the status once, in the page's language.
    assert!(en.html.contains("data-status=\"exceptions\">Exceptions</span>"));
    assert!(zh.html.contains("<html lang=\"zh"));
    assert!(zh.html.contains("data-status=\"exceptions\">有异常</span>"));
    assert!(!zh.html.contains("(exceptions)"));

    // results.xlsx: sheet names and headers.
    assert_eq!(&en.sheets[..3], ["Summary", "Matched", "Unmatched"]);
    assert_eq!(&zh.sheets[..3], ["汇总", "已匹配", "未匹配"]);
    assert_eq!(&en.matched_header[..4], ["match_id", "stage", "side", "line"]);
    assert_eq!(&zh.matched_header[..4], ["匹配号", "阶段", "方", "行号"]);
    // Carried columns keep their own names.
    assert!(zh.matched_header.contains(&"户号".to_string()));
}

/// `[report] lang` in the rules, and the locale when neither it nor `--lang`
/// is given; `--lang` wins over both.
#[test]
fn the_language_comes_from_lang_then_the_rules_then_the_locale() {
    let tmp = tempfile::tempdir().unwrap();
    let default_rules = common::root().join(common::DEFAULT_RULES);
    let by_locale = run(&tmp.path().join("a"), &default_rules, "zh_CN.UTF-8", &[]);
    assert!(by_locale.contains("状态     有异常"), "{by_locale}");
    let overridden = run(
        &tmp.path().join("b"),
        &default_rules,
        "zh_CN.UTF-8",
        &["--lang", "en"],
    );
    assert!(overridden.contains("status   exceptions"), "{overridden}");
    let english_locale = run(&tmp.path().join("c"), &default_rules, "en_US.UTF-8", &[]);
    assert!(english_locale.contains("status   exceptions"), "{english_locale}");

    let text = std::fs::read_to_string(&default_rules).unwrap();
    let zh_rules = tmp.path().join("zh.toml");
    std::fs::write(&zh_rules, text.replace("[report]\n", "[report]\nlang = \"zh\"\n")).unwrap();
    let by_rules = run(&tmp.path().join("d"), &zh_rules, "C.UTF-8", &[]);
    assert!(by_rules.contains("状态     有异常"), "{by_rules}");
    let en_rules = tmp.path().join("en.toml");
    std::fs::write(&en_rules, text.replace("[report]\n", "[report]\nlang = \"en\"\n")).unwrap();
    let rules_over_locale = run(&tmp.path().join("e"), &en_rules, "zh_CN.UTF-8", &[]);
    assert!(
        rules_over_locale.contains("status   exceptions"),
        "{rules_over_locale}"
    );
}
