//! The views written beside the result CSVs, in one step so the run can
//! publish them together: report.html (always), named reports chosen with
//! `--report`, the rule file's column templates applied to the CSVs, and
//! results.xlsx with `--xlsx`. The files come in already masked for the
//! run's role. report.html and named reports read the CSVs before templates
//! (every column present); the workbook reads the final CSVs, so its sheets
//! match the files beside it.

use rust_decimal::Decimal;

use super::html::{self, HtmlInput};
use super::named::{self, NamedOutput};
use super::summary::Summary;
use super::tables::OutputFile;
use super::{columns, xlsx};
use crate::rules::report::{Lang, ReportPlan};

/// The file name of the HTML report.
pub const HTML_FILE: &str = "report.html";

/// The file name of the workbook.
pub const XLSX_FILE: &str = "results.xlsx";

/// What to build.
pub struct ViewRequest<'a> {
    /// The run's summary.
    pub summary: &'a Summary,
    /// The rule file's `[report]` section.
    pub report: &'a ReportPlan,
    /// Highlight threshold of report.html.
    pub review_above: Option<Decimal>,
    /// The business zone's name, noted in the workbook.
    pub zone: &'a str,
    /// Language of report.html.
    pub lang: Lang,
    /// Named reports to write (names already checked against the rules).
    pub named: &'a [String],
    /// Whether to write results.xlsx.
    pub xlsx: bool,
    /// resolutions.csv: every exception and its handling, for report.html.
    pub handling: &'a [u8],
    /// Further published files (name, CSV bytes) the workbook also shows, e.g. review.csv.
    pub more_sheets: &'a [(&'a str, &'a [u8])],
}

/// The worklist files a workbook shows beside the result CSVs: review.csv,
/// resolutions.csv and, when fees are checked, fee_variances.csv.
pub fn worklist_sheets<'a>(
    review: &'a [u8],
    resolutions: &'a [u8],
    fees: Option<&'a [u8]>,
) -> Vec<(&'static str, &'a [u8])> {
    let mut sheets = vec![
        (super::review::FILE_NAME, review),
        (super::resolutions::FILE_NAME, resolutions),
    ];
    sheets.extend(fees.map(|csv| (super::fees::FILE_NAME, csv)));
    sheets
}

/// The views, ready to publish.
pub struct Views {
    /// The result CSVs after column templates.
    pub files: Vec<OutputFile>,
    /// Further files: report.html, report-NAME.csv, results.xlsx.
    pub extra: Vec<(String, Vec<u8>)>,
    /// Each named report written: (name, file name, rows).
    pub named: Vec<(String, String, usize)>,
}

/// Builds every view from the rendered result files.
pub fn build(mut files: Vec<OutputFile>, request: &ViewRequest) -> Result<Views, rust_xlsxwriter::XlsxError> {
    let page = html::render(&HtmlInput {
        summary: request.summary,
        files: &files,
        review_above: request.review_above,
        lang: request.lang,
        handling: request.handling,
    });
    let reports: Vec<(String, NamedOutput)> = request
        .named
        .iter()
        .filter_map(|name| request.report.named(name))
        .map(|r| (r.name.clone(), named::render(r, &files)))
        .collect();
    columns::apply(&mut files, &request.report.templates);
    let mut extra = vec![(HTML_FILE.to_string(), page)];
    let workbook = if request.xlsx {
        let tables: Vec<(&str, &[u8])> = files
            .iter()
            .map(|f| (f.name, f.bytes.as_slice()))
            .chain(request.more_sheets.iter().copied())
            .chain(
                reports
                    .iter()
                    .map(|(_, r)| (r.file_name.as_str(), r.bytes.as_slice())),
            )
            .collect();
        Some(xlsx::workbook(
            request.summary,
            request.zone,
            &tables,
            request.lang,
        )?)
    } else {
        None
    };
    let named = reports
        .iter()
        .map(|(name, r)| (name.clone(), r.file_name.clone(), r.rows))
        .collect();
    extra.extend(reports.into_iter().map(|(_, r)| (r.file_name, r.bytes)));
    if let Some(bytes) = workbook {
        extra.push((XLSX_FILE.to_string(), bytes));
    }
    Ok(Views { files, extra, named })
}
