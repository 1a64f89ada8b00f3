//! report.html through the binary: self-contained (nothing fetched from
//! anywhere), every number agrees with summary.json, and data can never
//! become markup. The browser tests render the page in headless Chromium
//! (Debian's `chromium` package; set CHROMIUM=/path to use another binary):
//! a screenshot is taken and the rendered DOM, after the page's script ran,
//! is checked against summary.json. Without Chromium those tests print a
//! loud SKIPPED message and return; `.ci/run` installs it when it can.
//!
//! `RECON_UPDATE_SCREENSHOT=1 cargo test --release --test report_html`
//! refreshes docs/report.png from the screenshot.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::{data, root, rows, run_case, run_example, summary};

/// The example day for its business date 2026-11-24, which must find exceptions.
fn run_example_day(out: &Path, extra: &[&str]) {
    run_example(out)
        .args(["--date", "2026-11-24"])
        .args(extra)
        .assert()
        .code(1);
}

fn run_injection(out: &Path) {
    let dir = data("html-injection");
    run_case(&dir, &dir.join("rules.toml"), out).assert().code(1);
}

/// The text of the element with `id` in serialized HTML (ids we write hold only
/// text), entities decoded and thousands separators removed.
fn by_id(html: &str, id: &str) -> String {
    let marker = format!("id=\"{id}\"");
    let at = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no element with id {id}"));
    let start = at + html[at..].find('>').unwrap() + 1;
    let end = start + html[start..].find('<').unwrap();
    html[start..end]
        .replace(',', "")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// Every figure of summary.json that the page shows, checked against `html`.
fn assert_summary_matches(html: &str, s: &serde_json::Value) {
    for side in ["ledger", "bank"] {
        let c = &s["conservation"][side];
        for (row, tally) in [("input", &c["input"]), ("outputs", &c["outputs"])] {
            assert_eq!(
                by_id(html, &format!("{side}-count-{row}")),
                tally["count"].to_string()
            );
            assert_eq!(
                by_id(html, &format!("{side}-amount-{row}")),
                tally["amount"].as_str().unwrap()
            );
        }
        for (file, tallies) in s["outputs"].as_object().unwrap() {
            let t = &tallies[side];
            assert_eq!(
                by_id(html, &format!("{side}-count-{file}")),
                t["count"].to_string(),
                "{file}"
            );
            assert_eq!(
                by_id(html, &format!("{side}-amount-{file}")),
                t["amount"].as_str().unwrap(),
                "{file}"
            );
        }
        assert_eq!(
            by_id(html, &format!("{side}-sha256")),
            s["inputs"][side]["sha256"].as_str().unwrap()
        );
        let holds = c["holds"].as_bool().unwrap();
        assert!(html.contains(&format!(
            "class=\"proof {}\" id=\"proof-{side}\"",
            if holds { "holds" } else { "fails" }
        )));
    }
    assert_eq!(
        by_id(html, "rules-sha256"),
        s["rules"]["sha256"].as_str().unwrap()
    );
    assert_eq!(
        by_id(html, "rules-version"),
        s["rules"]["version"].as_str().unwrap()
    );
    assert_eq!(by_id(html, "review-count"), s["review"].to_string());
    let status = s["status"].as_str().unwrap();
    // The badge says the status in the page's language, once (not "Exceptions (exceptions)").
    assert!(html.contains(&format!("data-status=\"{status}\">")), "{status}");
    let badge = by_id(html, "status");
    assert!(!badge.is_empty() && !badge.contains('('), "{badge}");
}

/// Exception rows the page should list: unmatched, duplicates, matched rows under review.
fn exception_count(out: &Path) -> usize {
    rows(&out.join("unmatched.csv")).len()
        + rows(&out.join("duplicates.csv")).len()
        + rows(&out.join("matched.csv"))
            .iter()
            .filter(|r| r["review"] == "true")
            .count()
}

#[test]
fn the_page_is_self_contained_and_agrees_with_summary_json() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    run_example_day(&out, &[]);
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    // Nothing is loaded from anywhere: no src/href attributes, no url(), no @import;
    // the only URL is the SVG namespace name, which is never fetched.
    for banned in [" src=", " href=", "url(", "@import", "//cdn", "<link", "<iframe"] {
        assert!(!html.contains(banned), "{banned} in report.html");
    }
    assert_eq!(
        html.matches("http://").count() + html.matches("https://").count(),
        html.matches("xmlns=\"http://www.w3.org/2000/svg\"").count()
    );
    assert!(html.contains("Content-Security-Policy\" content=\"default-src 'none'; style-src 'sha256-"));
    assert_summary_matches(&html, &summary(&out));
    assert_eq!(by_id(&html, "business-date"), "2026-11-24");
    assert_eq!(html.matches("<svg ").count(), 3, "three charts");
    let listed = html.matches("<tr class=\"unmatched").count()
        + html.matches("<tr class=\"duplicate").count()
        + html.matches("<tr class=\"review").count();
    assert_eq!(listed, exception_count(&out));
    assert_eq!(by_id(&html, "total"), exception_count(&out).to_string());
    // P003 (6800.00) is at or above review_above 5000.00: both its rows are highlighted.
    assert_eq!(html.matches("<tr class=\"review big\">").count(), 2);
    assert!(!html.contains("<tr class=\"unmatched big\">"));
    assert!(html.contains("looks like a channel fee (0.67%, above the rules&#39; 0.6% tolerance)"));
}

#[test]
fn lang_zh_translates_the_page_but_not_the_data() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    run_example_day(&out, &["--lang", "zh"]);
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("<html lang=\"zh-CN\">"));
    assert!(html.contains("<h2>汇总</h2>") && html.contains("可能原因"));
    assert!(html.contains("疑似渠道手续费"));
    assert!(
        html.contains("<td class=\"reason\">amount_mismatch</td>"),
        "reason codes stay as in the CSV"
    );
    assert_summary_matches(&html, &summary(&out));
}

#[test]
fn markup_in_the_data_is_shown_as_text() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    run_injection(&out);
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert_eq!(html.matches("<script").count(), 1, "only the page's own script");
    for raw in [
        "<img src=x",
        "<h1 id=pwned",
        "</td></tr></table><h1",
        "<style>body",
        "<svg onload",
        "<b>injection",
        "\"><script>",
    ] {
        assert!(!html.contains(raw), "{raw} reached the page unescaped");
    }
    for escaped in [
        "&lt;script&gt;alert(1)&lt;/script&gt;",
        "&quot;&gt;&lt;img src=x onerror=alert(2)&gt;",
        "&lt;/td&gt;&lt;/tr&gt;&lt;/table&gt;&lt;h1 id=pwned&gt;pwned&lt;/h1&gt;",
        "M&#39;1",
        "&amp;lt;already escaped&amp;gt;",
        "&lt;b&gt;injection&lt;/b&gt;",
    ] {
        assert!(html.contains(escaped), "{escaped} missing");
    }
    assert_summary_matches(&html, &summary(&out));
}

#[test]
fn the_page_is_the_same_for_any_thread_count_but_for_its_run_times() {
    let tmp = tempfile::tempdir().unwrap();
    let mut pages = Vec::new();
    for threads in ["1", "8"] {
        let out = tmp.path().join(threads);
        run_example(&out)
            .env("RAYON_NUM_THREADS", threads)
            .assert()
            .code(1);
        let html = std::fs::read_to_string(out.join("report.html")).unwrap();
        let (start, end) = (html.find("<header>").unwrap(), html.find("</header>").unwrap());
        assert!(html[start..end].contains(summary(&out)["started_at"].as_str().unwrap()));
        pages.push(format!("{}{}", &html[..start], &html[end..]));
    }
    assert!(pages[0] == pages[1], "report.html differs with the thread count");
}

/// The Chromium binary to use, if any.
fn chromium() -> Option<PathBuf> {
    let candidates: Vec<PathBuf> = match std::env::var_os("CHROMIUM") {
        Some(path) => vec![PathBuf::from(path)],
        None => ["chromium", "chromium-browser", "google-chrome"]
            .iter()
            .map(PathBuf::from)
            .collect(),
    };
    candidates.into_iter().find(|c| {
        std::process::Command::new(c)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    })
}

fn skip(test: &str) {
    eprintln!(
        "\n*** SKIPPED {test}: Chromium not found (install Debian's `chromium` package, or set CHROMIUM=/path/to/chrome). \
         report.html was checked as text but NOT rendered in a browser. ***\n"
    );
}

/// Runs headless Chromium on `page` (a file URL with an optional #fragment) with `mode` args.
fn headless(browser: &Path, page: &str, mode: &[String]) -> Vec<u8> {
    let profile = tempfile::tempdir().unwrap();
    let output = assert_cmd::Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(mode)
        .arg(page)
        .timeout(Duration::from_secs(180))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

fn file_url(path: &Path) -> String {
    format!("file://{}", path.canonicalize().unwrap().display())
}

#[test]
fn chromium_renders_the_report_as_summary_json_says() {
    let Some(browser) = chromium() else {
        return skip("chromium_renders_the_report_as_summary_json_says");
    };
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    run_example_day(&out, &[]);
    let url = file_url(&out.join("report.html"));

    let shot = tmp.path().join("report.png");
    headless(
        &browser,
        &url,
        &[
            format!("--screenshot={}", shot.display()),
            "--window-size=1280,1750".into(),
        ],
    );
    let png = std::fs::read(&shot).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    assert_eq!(
        u32::from_be_bytes(png[16..20].try_into().unwrap()),
        1280,
        "PNG width"
    );
    if std::env::var_os("RECON_UPDATE_SCREENSHOT").is_some() {
        std::fs::copy(&shot, root().join("docs/report.png")).unwrap();
    }

    // A phone (390 px wide) and paper (a print stylesheet hides the controls and
    // lets tables wrap). Set RECON_SCREENSHOT_DIR=DIR to keep desktop.png,
    // phone.png and print.pdf for a look: the tables scroll inside their boxes
    // and the charts scale to the width.
    let phone = tmp.path().join("phone.png");
    headless(
        &browser,
        &url,
        &[
            format!("--screenshot={}", phone.display()),
            "--window-size=390,1600".into(),
        ],
    );
    let png = std::fs::read(&phone).unwrap();
    assert_eq!(
        u32::from_be_bytes(png[16..20].try_into().unwrap()),
        390,
        "PNG width"
    );
    let pdf = tmp.path().join("report.pdf");
    headless(
        &browser,
        &url,
        &[
            format!("--print-to-pdf={}", pdf.display()),
            "--no-pdf-header-footer".into(),
        ],
    );
    let pdf_bytes = std::fs::read(&pdf).unwrap();
    assert!(pdf_bytes.starts_with(b"%PDF-"), "a PDF");
    if let Some(dir) = std::env::var_os("RECON_SCREENSHOT_DIR") {
        let dir = PathBuf::from(dir);
        std::fs::copy(&shot, dir.join("desktop.png")).unwrap();
        std::fs::copy(&phone, dir.join("phone.png")).unwrap();
        std::fs::copy(&pdf, dir.join("print.pdf")).unwrap();
    }

    let dom = String::from_utf8(headless(&browser, &url, &["--dump-dom".into()])).unwrap();
    assert!(dom.contains("data-ready=\"yes\""), "the page's script ran");
    assert_summary_matches(&dom, &summary(&out));
    let total = exception_count(&out);
    assert_eq!(by_id(&dom, "shown"), total.to_string());
    assert_eq!(dom.matches(" hidden=\"\"").count(), 0);

    // A view preset in the address: filter on P010, sort by amount, largest first.
    let filtered = String::from_utf8(headless(
        &browser,
        &format!("{url}#filter=P010&sort=amount:desc"),
        &["--dump-dom".into()],
    ))
    .unwrap();
    assert_eq!(by_id(&filtered, "shown"), "2");
    assert_eq!(filtered.matches(" hidden=\"\"").count(), total - 2);
    assert!(filtered.contains("data-col=\"amount\" data-type=\"num\" class=\"num\" aria-sort=\"descending\""));
    let table = &filtered[filtered.find("<table id=\"exceptions\">").unwrap()..];
    let body = &table[table.find("<tbody>").unwrap()..];
    let first_row = &body[body.find("<tr").unwrap()..];
    assert!(
        first_row.starts_with("<tr class=\"review big\" hidden=\"\">"),
        "6800.00 sorts first"
    );
}

#[test]
fn chromium_shows_hostile_data_as_text() {
    let Some(browser) = chromium() else {
        return skip("chromium_shows_hostile_data_as_text");
    };
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    run_injection(&out);
    let dom = String::from_utf8(headless(
        &browser,
        &file_url(&out.join("report.html")),
        &["--dump-dom".into()],
    ))
    .unwrap();
    assert!(dom.contains("data-ready=\"yes\""));
    assert!(!dom.contains("<img") && !dom.contains("id=\"pwned\"") && !dom.contains("<h1 id=pwned"));
    assert_eq!(dom.matches("<script").count(), 1);
    assert!(dom.contains("&lt;/td&gt;&lt;/tr&gt;&lt;/table&gt;&lt;h1 id=pwned&gt;pwned&lt;/h1&gt;"));
    assert_eq!(by_id(&dom, "total"), "3");
    assert_summary_matches(&dom, &summary(&out));
}
