//! report.html: one self-contained page for people who would rather look
//! than read CSV. It holds the summary with the conservation proof, the
//! rules and input hashes, charts of the exceptions (by reason, by hour of
//! day, by amount) and the exception table with sorting and a filter box.
//!
//! Everything is inline (CSS, SVG, a small script): no network, no fonts or
//! files from anywhere. Rows are read back from the rendered result CSVs, so
//! masking applied to those applies here too. Every piece of data is
//! escaped, and a Content-Security-Policy admits only this page's own style
//! and script (by SHA-256), so file contents can never run as code.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use rust_decimal::Decimal;
use sha2::{Digest, Sha256};

use super::charts::{self, Series};
use super::exceptions::{Exception, Exceptions};
use super::summary::Summary;
use super::tables::OutputFile;
use super::words::{Words, EN, ZH};
use crate::model::Tally;
use crate::rules::report::Lang;

/// Most exception rows listed in the table (the charts count them all).
pub const MAX_TABLE_ROWS: usize = 5000;

/// What the page is made from.
pub struct HtmlInput<'a> {
    /// The run's summary.
    pub summary: &'a Summary,
    /// The result files, masked for the run's role, before column templates.
    pub files: &'a [OutputFile],
    /// Rows at or above this absolute amount are highlighted.
    pub review_above: Option<Decimal>,
    /// Language of the page.
    pub lang: Lang,
    /// resolutions.csv as the role sees it: every exception and its handling.
    pub handling: &'a [u8],
}

/// Escapes text for HTML and SVG content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// `1234567.5` → `1,234,567.5` (the sign and decimals kept as written).
pub fn grouped(number: &str) -> String {
    let (sign, rest) = match number.strip_prefix('-') {
        Some(r) => ("-", r),
        None => ("", number),
    };
    let (int, frac) = rest.split_once('.').map_or((rest, None), |(i, f)| (i, Some(f)));
    if !int.bytes().all(|b| b.is_ascii_digit()) {
        return number.to_string();
    }
    let mut out = String::from(sign);
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if let Some(f) = frac {
        out.push('.');
        out.push_str(f);
    }
    out
}

const STYLE: &str = include_str!("report.css");
const SCRIPT: &str = include_str!("report.js");

/// `'sha256-…'` of an inline element's text, for the Content-Security-Policy.
fn csp_hash(text: &str) -> String {
    format!("'sha256-{}'", base64(&Sha256::digest(text.as_bytes())))
}

fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Renders the page.
pub fn render(input: &HtmlInput) -> Vec<u8> {
    let w = match input.lang {
        Lang::En => &EN,
        Lang::Zh => &ZH,
    };
    let s = input.summary;
    let exceptions = super::exceptions::collect(input.files, s.review > 0, MAX_TABLE_ROWS);
    let mut page = String::with_capacity(64 * 1024);
    let _ = write!(
        page,
        "<!DOCTYPE html>\n<html lang=\"{}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src {}; script-src {}; \
         img-src data:; base-uri 'none'; form-action 'none'\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{} · {} {}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        w.html_lang,
        csp_hash(STYLE),
        csp_hash(SCRIPT),
        escape(w.title),
        escape(&s.rules.name),
        escape(s.business_date.as_deref().unwrap_or(""))
    );
    header(&mut page, w, s);
    summary_section(&mut page, w, s, input.files);
    provenance(&mut page, w, s);
    chart_section(&mut page, w, &exceptions.rows);
    table_section(&mut page, w, &exceptions, input.review_above);
    handling_section(&mut page, w, input.handling);
    let _ = write!(page, "<script>{SCRIPT}</script>\n</body>\n</html>\n");
    page.into_bytes()
}

fn header(page: &mut String, w: &Words, s: &Summary) {
    let status = match s.status {
        "reconciled" => w.reconciled,
        "closed" => w.closed,
        _ => w.exceptions_status,
    };
    let _ = write!(
        page,
        "<header>\n<h1>{} · {}</h1>\n<p><span id=\"status\" class=\"status {}\" data-status=\"{}\">{}</span> \
         {}: <b id=\"business-date\">{}</b> · {}: {} → {} · {}</p>\n</header>\n",
        escape(w.title),
        escape(&s.rules.name),
        escape(s.status),
        escape(s.status),
        escape(status),
        escape(w.business_date),
        escape(s.business_date.as_deref().unwrap_or("—")),
        escape(w.run_time),
        escape(&s.started_at),
        escape(&s.finished_at),
        escape(&s.tool)
    );
}

fn tally_cells(page: &mut String, row: &str, ledger: Tally, bank: Tally) {
    for (side, t) in [("ledger", ledger), ("bank", bank)] {
        let _ = write!(
            page,
            "<td class=\"num\" id=\"{side}-count-{r}\">{}</td><td class=\"num\" id=\"{side}-amount-{r}\">{}</td>",
            grouped(&t.count.to_string()),
            grouped(&t.amount.to_string()),
            r = escape(row)
        );
    }
}

fn summary_section(page: &mut String, w: &Words, s: &Summary, files: &[OutputFile]) {
    let _ = write!(
        page,
        "<section id=\"summary\">\n<h2>{}</h2>\n<table class=\"summary\">\n<thead><tr><th></th>\
         <th class=\"num\">{} · {}</th><th class=\"num\">{} · {}</th><th class=\"num\">{} · {}</th><th class=\"num\">{} · {}</th></tr></thead>\n<tbody>\n",
        escape(w.summary),
        escape(w.ledger),
        escape(w.rows),
        escape(w.ledger),
        escape(w.amount),
        escape(w.bank),
        escape(w.rows),
        escape(w.bank),
        escape(w.amount)
    );
    if let Some(scope) = &s.scope {
        let status = match scope.status {
            "reconciled" => w.reconciled,
            "closed" => w.closed,
            _ => w.exceptions_status,
        };
        let _ = writeln!(
            page,
            "<p class=\"scope\" id=\"scope\" data-status=\"{}\">{} <code>{}</code>{} {} {}</p>",
            escape(scope.status),
            escape(w.scope[0]),
            escape(&scope.rows),
            w.colon,
            escape(w.scope[1]),
            escape(&format!("{status} {}", w.scope[2]))
        );
    }
    let (li, bi) = (s.conservation["ledger"], s.conservation["bank"]);
    let _ = write!(page, "<tr class=\"input\"><th>{}</th>", escape(w.input));
    tally_cells(page, "input", li.input, bi.input);
    page.push_str("</tr>\n");
    for f in files {
        let Some(t) = s.outputs.get(f.name) else { continue };
        let _ = write!(page, "<tr><th>{}</th>", escape(f.name));
        tally_cells(page, f.name, t.ledger, t.bank);
        page.push_str("</tr>\n");
    }
    let _ = write!(page, "<tr class=\"total\"><th>{}</th>", escape(w.outputs_total));
    tally_cells(page, "outputs", li.outputs, bi.outputs);
    page.push_str("</tr>\n</tbody>\n</table>\n");
    for (side, name) in [("ledger", w.ledger), ("bank", w.bank)] {
        let c = s.conservation[side];
        let _ = writeln!(
            page,
            "<p class=\"proof {}\" id=\"proof-{side}\">{}{} {} {} {}{} {}{} {} {} {}{} {} → {}</p>",
            if c.holds { "holds" } else { "fails" },
            escape(name),
            w.colon,
            escape(w.read),
            grouped(&c.input.count.to_string()),
            escape(w.rows_word),
            w.comma,
            grouped(&c.input.amount.to_string()),
            w.semicolon,
            escape(w.in_outputs),
            grouped(&c.outputs.count.to_string()),
            escape(w.rows_word),
            w.comma,
            grouped(&c.outputs.amount.to_string()),
            escape(if c.holds { w.holds } else { w.fails })
        );
    }
    let _ = write!(
        page,
        "<table class=\"stages\"><thead><tr><th>{}</th><th class=\"num\">{}</th></tr></thead><tbody>",
        escape(w.stage),
        escape(w.matches)
    );
    for st in &s.stages {
        let _ = write!(
            page,
            "<tr><td>{}</td><td class=\"num\">{}</td></tr>",
            escape(&st.name),
            st.matches
        );
    }
    let _ = writeln!(
        page,
        "<tr><td>{}</td><td class=\"num\" id=\"review-count\">{}</td></tr></tbody></table>",
        escape(w.review_matches),
        s.review
    );
    batches_and_fees(page, w, s);
    page.push_str("</section>\n");
}

/// The batch counts and the fee check, when the rules have them.
fn batches_and_fees(page: &mut String, w: &Words, s: &Summary) {
    if let Some(b) = &s.batches {
        let _ = write!(page, "<table class=\"stages\" id=\"batches\"><thead><tr><th>{}</th><th class=\"num\">{}</th></tr></thead><tbody>", escape(w.batches), b.total);
        for (name, n) in [
            ("settled", b.settled),
            ("amount_mismatch", b.amount_mismatch),
            ("no_counterpart", b.no_counterpart),
            ("pending", b.pending),
        ] {
            let _ = write!(page, "<tr><td>{name}</td><td class=\"num\">{n}</td></tr>");
        }
        page.push_str("</tbody></table>\n");
    }
    if let Some(f) = &s.fees {
        let _ = writeln!(
            page,
            "<table class=\"stages\" id=\"fees\"><thead><tr><th>{} (fee_variances.csv)</th><th class=\"num\"></th></tr></thead><tbody>\
             <tr><td>{}</td><td class=\"num\">{}</td></tr><tr><td>{}</td><td class=\"num\">{}</td></tr>\
             <tr><td>{}</td><td class=\"num\">{}</td></tr></tbody></table>",
            escape(w.fee_check),
            escape(w.fee_words[0]),
            f.checked,
            escape(w.fee_words[1]),
            f.variances,
            escape(w.fee_words[2]),
            grouped(&f.variance_text())
        );
    }
}

fn provenance(page: &mut String, w: &Words, s: &Summary) {
    let r = &s.rules;
    let _ = write!(
        page,
        "<section id=\"provenance\">\n<h2>{}</h2>\n<table class=\"facts\"><tbody>\
         <tr><th>{}</th><td id=\"rules-name\">{}</td></tr><tr><th>{}</th><td id=\"rules-version\">{}</td></tr>\
         <tr><th>{}</th><td>{}</td></tr><tr><th>{}</th><td><code>{}</code></td></tr>\
         <tr><th>SHA-256</th><td><code id=\"rules-sha256\">{}</code></td></tr></tbody></table>\n",
        escape(w.provenance),
        escape(w.rules_name),
        escape(&r.name),
        escape(w.version),
        escape(&r.version),
        escape(w.effective_from),
        r.effective_from,
        escape(w.file),
        escape(&r.path),
        escape(&r.sha256)
    );
    let _ = write!(
        page,
        "<table class=\"facts\"><thead><tr><th></th><th>{}</th><th>{}</th><th>{}</th><th class=\"num\">{}</th><th>SHA-256</th></tr></thead><tbody>",
        escape(w.file),
        escape(w.encoding),
        escape(w.header_line),
        escape(w.rows)
    );
    for (side, facts) in &s.inputs {
        let name = if *side == "ledger" { w.ledger } else { w.bank };
        let _ = write!(
            page,
            "<tr><th>{}</th><td><code>{}</code></td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
             <td><code id=\"{}-sha256\">{}</code></td></tr>",
            escape(name),
            escape(&facts.path),
            escape(&facts.encoding),
            facts.header_line,
            grouped(&facts.records.count.to_string()),
            escape(side),
            escape(&facts.sha256)
        );
    }
    page.push_str("</tbody></table>\n</section>\n");
}

/// `[ledger, bank]` series with the given values.
fn sides(w: &Words, ledger: Vec<u64>, bank: Vec<u64>) -> [Series; 2] {
    [
        Series {
            name: w.ledger.to_string(),
            class: "ledger",
            values: ledger,
        },
        Series {
            name: w.bank.to_string(),
            class: "bank",
            values: bank,
        },
    ]
}

/// Upper bounds of the amount bands (absolute amounts), with their labels.
const BANDS: [(i64, &str); 6] = [
    (10, "<10"),
    (100, "10–100"),
    (1_000, "100–1k"),
    (10_000, "1k–10k"),
    (100_000, "10k–100k"),
    (i64::MAX, "≥100k"),
];

fn chart_section(page: &mut String, w: &Words, rows: &[Exception]) {
    let mut by_reason: BTreeMap<(u8, String), [u64; 2]> = BTreeMap::new();
    let mut by_hour = [[0u64; 24]; 2];
    let mut by_band = [[0u64; BANDS.len()]; 2];
    for r in rows {
        let s = usize::from(r.is_bank);
        by_reason
            .entry((r.kind as u8, r.reason_code.clone()))
            .or_default()[s] += 1;
        if let Some(h) = r.hour {
            by_hour[s][h as usize] += 1;
        }
        if let Some(a) = r.amount {
            let band = BANDS
                .iter()
                .position(|(limit, _)| a.abs() < Decimal::from(*limit))
                .unwrap_or(BANDS.len() - 1);
            by_band[s][band] += 1;
        }
    }
    let labels: Vec<String> = by_reason.keys().map(|(_, code)| w.reason_label(code)).collect();
    let reason_chart = charts::bars(
        w.by_reason,
        &labels,
        &sides(
            w,
            by_reason.values().map(|v| v[0]).collect(),
            by_reason.values().map(|v| v[1]).collect(),
        ),
    );
    let hours: Vec<String> = (0..24).map(|h| h.to_string()).collect();
    let hour_chart = charts::columns(
        w.by_hour,
        &hours,
        &sides(w, by_hour[0].to_vec(), by_hour[1].to_vec()),
    );
    let bands: Vec<String> = BANDS.iter().map(|(_, l)| l.to_string()).collect();
    let band_chart = charts::columns(
        w.by_amount,
        &bands,
        &sides(w, by_band[0].to_vec(), by_band[1].to_vec()),
    );
    let _ = write!(
        page,
        "<section id=\"charts\">\n<h2>{}</h2>\n<div class=\"charts\">\n<figure><figcaption>{}</figcaption>{reason_chart}</figure>\n\
         <figure><figcaption>{}</figcaption>{hour_chart}</figure>\n<figure><figcaption>{}</figcaption>{band_chart}</figure>\n</div>\n</section>\n",
        escape(w.charts),
        escape(w.by_reason),
        escape(w.by_hour),
        escape(w.by_amount)
    );
}

/// Every exception row with its handling (who, when, reason, note) or `open`,
/// from resolutions.csv.
fn handling_section(page: &mut String, w: &Words, handling: &[u8]) {
    let mut reader = csv::Reader::from_reader(handling);
    let Ok(header) = reader.headers().cloned() else {
        return;
    };
    let rows: Vec<csv::StringRecord> = reader.records().flatten().take(MAX_TABLE_ROWS).collect();
    if rows.is_empty() {
        return;
    }
    let at = |name: &str| header.iter().position(|h| h == name);
    let columns = [
        "item",
        "detail",
        "amount",
        "likely_cause",
        "status",
        "resolved_by",
        "reason_label",
        "note",
        "resolved_at",
    ]
    .map(at);
    let _ = write!(
        page,
        "<section id=\"handling\">\n<h2>{}</h2>\n<div class=\"scroll\">\n<table id=\"handling-table\">\n<thead><tr>",
        escape(w.handling)
    );
    for label in w.handling_columns {
        let _ = write!(page, "<th>{}</th>", escape(label));
    }
    page.push_str("</tr></thead>\n<tbody>\n");
    for row in &rows {
        let status = columns[4].and_then(|i| row.get(i)).unwrap_or_default();
        let _ = write!(page, "<tr class=\"{}\">", escape(status));
        for (n, column) in columns.iter().enumerate() {
            let mut cell = column.and_then(|i| row.get(i)).unwrap_or_default().to_string();
            if n == 5 {
                let user = at("os_user").and_then(|i| row.get(i)).unwrap_or_default();
                let role = at("role").and_then(|i| row.get(i)).unwrap_or_default();
                if !cell.is_empty() {
                    cell = format!(
                        "{cell} ({})",
                        [role, user]
                            .iter()
                            .filter(|x| !x.is_empty())
                            .copied()
                            .collect::<Vec<_>>()
                            .join(", ")
                    );
                }
            }
            let class = if n == 2 { " class=\"num\"" } else { "" };
            let _ = write!(page, "<td{class}>{}</td>", escape(&cell));
        }
        page.push_str("</tr>\n");
    }
    page.push_str("</tbody>\n</table>\n</div>\n</section>\n");
}

fn table_section(page: &mut String, w: &Words, exceptions: &Exceptions, review_above: Option<Decimal>) {
    let (rows, carried) = (&exceptions.rows, &exceptions.carried_names);
    let _ = write!(
        page,
        "<section id=\"exception-list\">\n<h2>{}</h2>\n<p><input id=\"filter\" type=\"search\" placeholder=\"{}\" aria-label=\"{}\"> \
         <span class=\"note\"><span id=\"shown\">{}</span> / <span id=\"total\">{}</span> {}</span></p>\n",
        escape(w.exception_rows),
        escape(w.filter_hint),
        escape(w.filter_hint),
        rows.len().min(MAX_TABLE_ROWS),
        rows.len(),
        escape(w.rows_shown)
    );
    if let Some(limit) = review_above {
        let _ = writeln!(
            page,
            "<p class=\"note\"><span class=\"swatch\"></span> {} {}</p>",
            escape(w.highlight),
            grouped(&limit.to_string())
        );
    }
    if rows.len() > MAX_TABLE_ROWS {
        let _ = writeln!(
            page,
            "<p class=\"note\" id=\"truncated\">{} {} {}</p>",
            escape(w.truncated_before),
            grouped(&MAX_TABLE_ROWS.to_string()),
            escape(w.truncated_after)
        );
    }
    page.push_str("<div class=\"scroll\">\n<table id=\"exceptions\">\n<thead><tr>");
    for (col, label, numeric) in w.table_columns() {
        let _ = write!(
            page,
            "<th scope=\"col\" data-col=\"{col}\"{}>{}</th>",
            if numeric {
                " data-type=\"num\" class=\"num\""
            } else {
                ""
            },
            escape(label)
        );
    }
    for name in carried {
        let _ = write!(page, "<th scope=\"col\" data-col=\"{0}\">{0}</th>", escape(name));
    }
    page.push_str("</tr></thead>\n<tbody>\n");
    for r in rows.iter().take(MAX_TABLE_ROWS) {
        let Some(detail) = &r.detail else { break };
        let big = match (review_above, r.amount) {
            (Some(limit), Some(a)) => a.abs() >= limit,
            _ => false,
        };
        let _ = write!(
            page,
            "<tr class=\"{}{}\"><td>{}</td>",
            r.kind.name(),
            if big { " big" } else { "" },
            escape(w.kind_label(r.kind))
        );
        for (i, (col, _, numeric)) in w.table_columns().iter().enumerate().skip(1) {
            let text = &detail.cells[i - 1];
            if *numeric {
                let shown = if *col == "amount" {
                    grouped(text)
                } else {
                    text.clone()
                };
                let _ = write!(
                    page,
                    "<td class=\"num {col}\" data-sort=\"{}\">{}</td>",
                    escape(text),
                    escape(&shown)
                );
            } else {
                let _ = write!(page, "<td class=\"{col}\">{}</td>", escape(text));
            }
        }
        for i in 0..carried.len() {
            let value = detail.carried.get(i).map_or("", String::as_str);
            let _ = write!(page, "<td>{}</td>", escape(value));
        }
        page.push_str("</tr>\n");
    }
    page.push_str("</tbody>\n</table>\n</div>\n</section>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_everything_that_could_open_markup() {
        assert_eq!(
            escape("<img src=x onerror='a()'>&\""),
            "&lt;img src=x onerror=&#39;a()&#39;&gt;&amp;&quot;"
        );
    }

    #[test]
    fn groups_thousands() {
        assert_eq!(grouped("1234567.50"), "1,234,567.50");
        assert_eq!(grouped("-1000"), "-1,000");
        assert_eq!(grouped("999.9"), "999.9");
        assert_eq!(grouped("n/a"), "n/a");
    }

    #[test]
    fn base64_matches_known_values() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    }
}
