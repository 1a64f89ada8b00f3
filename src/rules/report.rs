//! `[report]` in a rule file: the language of likely causes and report.html,
//! column templates per output file, and named filtered reports. This module
//! owns the TOML shape of that section, its validation (unknown columns and
//! bad filters are reported with their position in the rule file) and the
//! checked `ReportPlan`; applying it to result files is `output`'s job.

use std::fmt;
use std::ops::Range;
use std::str::FromStr;

use serde::Deserialize;
use toml::Spanned;

use super::filter::{Filter, FilterError};

/// The language of likely causes and report.html.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Lang {
    /// English (the default when neither `--lang` nor `[report] lang` is given).
    #[default]
    En,
    /// Simplified Chinese.
    Zh,
}

impl FromStr for Lang {
    type Err = String;

    fn from_str(s: &str) -> Result<Lang, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "en" => Ok(Lang::En),
            "zh" => Ok(Lang::Zh),
            other => Err(format!("\"{other}\" is not a language (use \"zh\" or \"en\")")),
        }
    }
}

impl Lang {
    /// The language of the user's locale: Chinese when the first of `LC_ALL`,
    /// `LC_MESSAGES` and `LANG` that is set starts with `zh`, else English.
    pub fn from_locale() -> Lang {
        let locale = ["LC_ALL", "LC_MESSAGES", "LANG"]
            .iter()
            .filter_map(|v| std::env::var(v).ok())
            .find(|v| !v.is_empty());
        match locale {
            Some(l) if l.starts_with("zh") => Lang::Zh,
            _ => Lang::En,
        }
    }
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Lang::En => "en",
            Lang::Zh => "zh",
        })
    }
}

/// `[report]` as written in TOML.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportSpec {
    /// `"zh"` or `"en"`: language of `likely_cause` and report.html.
    pub lang: Option<Spanned<String>>,
    /// `[report.columns]`: column templates per output.
    #[serde(default)]
    pub columns: ColumnTemplates,
    /// `[[report.named]]`: filtered reports chosen with `--report NAME`.
    #[serde(default)]
    pub named: Vec<NamedSpec>,
}

/// `[report.columns]`: for each output, the columns to write, in order.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColumnTemplates {
    /// Columns of matched.csv.
    pub matched: Option<Spanned<Vec<Spanned<String>>>>,
    /// Columns of unmatched.csv.
    pub unmatched: Option<Spanned<Vec<Spanned<String>>>>,
    /// Columns of duplicates.csv.
    pub duplicates: Option<Spanned<Vec<Spanned<String>>>>,
    /// Columns of ignored.csv.
    pub ignored: Option<Spanned<Vec<Spanned<String>>>>,
    /// Columns of pending.csv.
    pub pending: Option<Spanned<Vec<Spanned<String>>>>,
    /// Columns of out_of_period.csv.
    pub out_of_period: Option<Spanned<Vec<Spanned<String>>>>,
}

/// `[[report.named]]`: one named, filtered report.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NamedSpec {
    /// Its name (letters, digits, `-`, `_`), used in `--report NAME` and the file name.
    pub name: Spanned<String>,
    /// What it is for.
    #[serde(default)]
    pub description: String,
    /// Outputs whose rows it draws from (default `["unmatched", "duplicates"]`).
    pub from: Option<Spanned<Vec<Spanned<String>>>>,
    /// Which rows to keep, e.g. `abs(amount) >= 5000 and merchant = "M-TUITION"` (default: all).
    pub filter: Option<Spanned<String>>,
    /// Columns to write, in order (default: every column of the `from` outputs).
    pub columns: Option<Spanned<Vec<Spanned<String>>>>,
}

/// The result files a template or named report can refer to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum OutputKind {
    /// matched.csv
    Matched,
    /// unmatched.csv
    Unmatched,
    /// duplicates.csv
    Duplicates,
    /// ignored.csv
    Ignored,
    /// pending.csv
    Pending,
    /// out_of_period.csv
    OutOfPeriod,
}

impl OutputKind {
    /// Every kind, in the order outputs are written.
    pub const ALL: [OutputKind; 6] = [
        OutputKind::Matched,
        OutputKind::Unmatched,
        OutputKind::Duplicates,
        OutputKind::Ignored,
        OutputKind::Pending,
        OutputKind::OutOfPeriod,
    ];

    /// The name used in rule files: `unmatched`.
    pub fn name(self) -> &'static str {
        match self {
            OutputKind::Matched => "matched",
            OutputKind::Unmatched => "unmatched",
            OutputKind::Duplicates => "duplicates",
            OutputKind::Ignored => "ignored",
            OutputKind::Pending => "pending",
            OutputKind::OutOfPeriod => "out_of_period",
        }
    }

    /// The file name: `unmatched.csv`.
    pub fn file(self) -> &'static str {
        match self {
            OutputKind::Matched => "matched.csv",
            OutputKind::Unmatched => "unmatched.csv",
            OutputKind::Duplicates => "duplicates.csv",
            OutputKind::Ignored => "ignored.csv",
            OutputKind::Pending => "pending.csv",
            OutputKind::OutOfPeriod => "out_of_period.csv",
        }
    }

    /// The default columns of the file, before the carried columns.
    pub fn columns(self) -> &'static [&'static str] {
        const COMMON: [&str; 6] = ["side", "line", "key", "amount", "time", "merchant"];
        const MATCHED: [&str; 12] = [
            "match_id",
            "stage",
            COMMON[0],
            COMMON[1],
            COMMON[2],
            COMMON[3],
            COMMON[4],
            COMMON[5],
            "difference",
            "review",
            "review_reason",
            "likely_cause",
        ];
        const UNMATCHED: [&str; 9] = [
            COMMON[0],
            COMMON[1],
            COMMON[2],
            COMMON[3],
            COMMON[4],
            COMMON[5],
            "reason",
            "counterpart",
            "likely_cause",
        ];
        const DUPLICATES: [&str; 8] = [
            COMMON[0],
            COMMON[1],
            COMMON[2],
            COMMON[3],
            COMMON[4],
            COMMON[5],
            "duplicate_of",
            "likely_cause",
        ];
        const IGNORED: [&str; 7] = [
            COMMON[0], COMMON[1], COMMON[2], COMMON[3], COMMON[4], COMMON[5], "reason",
        ];
        const PENDING: [&str; 10] = [
            COMMON[0],
            COMMON[1],
            COMMON[2],
            COMMON[3],
            COMMON[4],
            COMMON[5],
            "reason",
            "business_date",
            "source_file",
            "source_sha256",
        ];
        const OUT_OF_PERIOD: [&str; 8] = [
            COMMON[0],
            COMMON[1],
            COMMON[2],
            COMMON[3],
            COMMON[4],
            COMMON[5],
            "reason",
            "business_date",
        ];
        match self {
            OutputKind::Matched => &MATCHED,
            OutputKind::Unmatched => &UNMATCHED,
            OutputKind::Duplicates => &DUPLICATES,
            OutputKind::Ignored => &IGNORED,
            OutputKind::Pending => &PENDING,
            OutputKind::OutOfPeriod => &OUT_OF_PERIOD,
        }
    }

    fn from_name(name: &str) -> Option<OutputKind> {
        OutputKind::ALL.into_iter().find(|k| k.name() == name)
    }
}

/// The column a named report adds first, naming the output each row comes from.
pub const OUTPUT_COLUMN: &str = "output";

/// The column matched.csv has when the rules have a batch stage: a batch's net.
pub const GROUP_NET_COLUMN: &str = "group_net";

/// The column every output has with `--carry-in` (empty in runs without it).
pub const CARRIED_FROM_COLUMN: &str = "carried_from";

/// The column matched.csv, unmatched.csv and duplicates.csv have once the
/// day has resolutions (`recon resolve`): how a row was handled.
pub const RESOLUTION_COLUMN: &str = "resolution";

/// The checked `[report]` section.
#[derive(Debug, Clone, Default)]
pub struct ReportPlan {
    /// Language from the rule file, when it sets one (`--lang` overrides it;
    /// without either, the locale decides: see `Lang::from_locale`). A run
    /// sets it to the language it writes in.
    pub lang: Option<Lang>,
    /// Column templates: the outputs that have one, with their columns in order.
    pub templates: Vec<(OutputKind, Vec<String>)>,
    /// Named reports, in the rule file's order.
    pub named: Vec<NamedReport>,
}

impl ReportPlan {
    /// The named report called `name`.
    pub fn named(&self, name: &str) -> Option<&NamedReport> {
        self.named.iter().find(|n| n.name == name)
    }
}

/// A checked `[[report.named]]`.
#[derive(Debug, Clone)]
pub struct NamedReport {
    /// Its name.
    pub name: String,
    /// What it is for.
    pub description: String,
    /// Outputs its rows come from, in order.
    pub from: Vec<OutputKind>,
    /// Which rows to keep.
    pub filter: Filter,
    /// The filter as written (for listings).
    pub filter_text: String,
    /// Columns to write after `output`; `None`: every column of the `from` outputs.
    pub columns: Option<Vec<String>>,
}

impl NamedReport {
    /// The file written for it: `report-NAME.csv`.
    pub fn file_name(&self) -> String {
        format!("report-{}.csv", self.name)
    }
}

/// A `[report]` problem at a byte range of the rule file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportError {
    /// Where in the rule file text.
    pub span: Range<usize>,
    /// What is wrong and how to fix it.
    pub message: String,
}

fn error_at<T>(span: Range<usize>, message: String) -> Result<T, ReportError> {
    Err(ReportError { span, message })
}

/// Columns an output can have: its own, `resolution` (where it can have
/// one), `carried_from`, then the carried ones.
fn known_columns(kind: OutputKind, carried: &[String]) -> Vec<String> {
    let resolution = matches!(
        kind,
        OutputKind::Matched | OutputKind::Unmatched | OutputKind::Duplicates
    )
    .then_some(&RESOLUTION_COLUMN);
    kind.columns()
        .iter()
        .chain(resolution)
        .chain([&CARRIED_FROM_COLUMN])
        .map(|c| c.to_string())
        .chain(carried.iter().cloned())
        .collect()
}

/// Checks `[report]` against the carried columns (both sides, ledger first);
/// `text` is the rule file, to place filter errors inside their string.
pub fn build(spec: &ReportSpec, carried: &[String], text: &str) -> Result<ReportPlan, ReportError> {
    let lang = match &spec.lang {
        Some(l) => match l.get_ref().parse() {
            Ok(lang) => Some(lang),
            Err(message) => return error_at(l.span(), format!("[report] lang: {message}")),
        },
        None => None,
    };
    let mut templates = Vec::new();
    let t = &spec.columns;
    for (kind, list) in [
        (OutputKind::Matched, &t.matched),
        (OutputKind::Unmatched, &t.unmatched),
        (OutputKind::Duplicates, &t.duplicates),
        (OutputKind::Ignored, &t.ignored),
        (OutputKind::Pending, &t.pending),
        (OutputKind::OutOfPeriod, &t.out_of_period),
    ] {
        if let Some(list) = list {
            let what = format!("[report.columns] {}", kind.name());
            let columns = column_list(&what, list, &known_columns(kind, carried), "")?;
            templates.push((kind, columns));
        }
    }
    let mut named: Vec<NamedReport> = Vec::new();
    for spec in &spec.named {
        let report = named_report(spec, carried, text)?;
        if named.iter().any(|n| n.name == report.name) {
            return error_at(
                spec.name.span(),
                format!("[[report.named]] \"{}\" is defined twice", report.name),
            );
        }
        named.push(report);
    }
    Ok(ReportPlan {
        lang,
        templates,
        named,
    })
}

/// Checks a list of column names against `known`; none may repeat, and it must not be empty.
fn column_list(
    what: &str,
    list: &Spanned<Vec<Spanned<String>>>,
    known: &[String],
    extra: &str,
) -> Result<Vec<String>, ReportError> {
    let mut columns: Vec<String> = Vec::new();
    for c in list.get_ref() {
        let name = c.get_ref();
        if columns.contains(name) {
            return error_at(c.span(), format!("{what}: column \"{name}\" is listed twice"));
        }
        if name != extra && !known.contains(name) {
            return error_at(
                c.span(),
                format!(
                    "{what}: unknown column \"{name}\" (known: {}{}; a file column must be in its side's carry list)",
                    if extra.is_empty() { String::new() } else { format!("{extra}, ") },
                    known.join(", ")
                ),
            );
        }
        columns.push(name.clone());
    }
    if columns.is_empty() {
        return error_at(
            list.span(),
            format!("{what}: the column list is empty; list at least one column or remove it"),
        );
    }
    Ok(columns)
}

fn named_report(spec: &NamedSpec, carried: &[String], text: &str) -> Result<NamedReport, ReportError> {
    let name = spec.name.get_ref().clone();
    let what = format!("[[report.named]] \"{name}\"");
    let valid_name = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !valid_name {
        return error_at(
            spec.name.span(),
            format!(
                "{what}: a name may hold only ASCII letters, digits, '-' and '_' (it becomes a file name)"
            ),
        );
    }
    let from = match &spec.from {
        None => vec![OutputKind::Unmatched, OutputKind::Duplicates],
        Some(list) => {
            let mut kinds = Vec::new();
            for item in list.get_ref() {
                let Some(kind) = OutputKind::from_name(item.get_ref()) else {
                    return error_at(
                        item.span(),
                        format!(
                            "{what}: from = \"{}\" is not an output (use {})",
                            item.get_ref(),
                            OutputKind::ALL.map(OutputKind::name).join(", ")
                        ),
                    );
                };
                if !kinds.contains(&kind) {
                    kinds.push(kind);
                }
            }
            if kinds.is_empty() {
                return error_at(list.span(), format!("{what}: from is empty"));
            }
            kinds
        }
    };
    let mut known: Vec<String> = Vec::new();
    for kind in &from {
        for c in known_columns(*kind, carried) {
            if !known.contains(&c) {
                known.push(c);
            }
        }
    }
    let columns = match &spec.columns {
        Some(list) => Some(column_list(
            &format!("{what} columns"),
            list,
            &known,
            OUTPUT_COLUMN,
        )?),
        None => None,
    };
    let (filter, filter_text) = match &spec.filter {
        Some(f) => {
            let filter = Filter::parse(f.get_ref()).map_err(|e| filter_error(&what, f, text, e))?;
            let unknown = filter
                .columns()
                .find(|c| *c != OUTPUT_COLUMN && !known.iter().any(|k| k == c));
            if let Some(unknown) = unknown {
                return error_at(
                    f.span(),
                    format!(
                        "{what} filter: unknown column \"{unknown}\" (the rows of {} have: {})",
                        from.iter().map(|k| k.file()).collect::<Vec<_>>().join(", "),
                        known.join(", ")
                    ),
                );
            }
            (filter, f.get_ref().clone())
        }
        None => (Filter::default(), String::new()),
    };
    Ok(NamedReport {
        name,
        description: spec.description.clone(),
        from,
        filter,
        filter_text,
        columns,
    })
}

/// Places a filter error at its character inside the TOML string (exact for
/// strings without escapes before the error).
fn filter_error(what: &str, f: &Spanned<String>, text: &str, e: FilterError) -> ReportError {
    let span = f.span();
    let raw = text.get(span.clone()).unwrap_or("");
    let quote = if raw.starts_with("\"\"\"") || raw.starts_with("'''") {
        3
    } else {
        1
    };
    let body = text.get(span.start + quote..span.end).unwrap_or("");
    let offset: usize = body
        .chars()
        .take(e.column.saturating_sub(1))
        .map(char::len_utf8)
        .sum();
    let at = span.start + quote + offset;
    ReportError {
        span: at..at,
        message: format!("{what} filter: {}", e.message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(toml_text: &str) -> Result<ReportPlan, ReportError> {
        #[derive(Deserialize)]
        struct Wrapper {
            report: ReportSpec,
        }
        let w: Wrapper = toml::from_str(toml_text).unwrap();
        build(&w.report, &["户号".to_string(), "memo".to_string()], toml_text)
    }

    #[test]
    fn templates_and_named_reports_are_checked() {
        let plan = parse(
            "[report]\nlang = \"zh\"\n[report.columns]\nunmatched = [\"key\", \"amount\", \"户号\", \"likely_cause\"]\n\
             [[report.named]]\nname = \"big\"\nfilter = 'abs(amount) >= 5000 and merchant = \"M1\"'\n",
        )
        .unwrap();
        assert_eq!(plan.lang, Some(Lang::Zh));
        assert_eq!(plan.templates[0].0, OutputKind::Unmatched);
        assert_eq!(plan.templates[0].1, ["key", "amount", "户号", "likely_cause"]);
        let big = plan.named("big").unwrap();
        assert_eq!(big.from, [OutputKind::Unmatched, OutputKind::Duplicates]);
        assert_eq!(big.file_name(), "report-big.csv");
    }

    #[test]
    fn unknown_columns_are_placed() {
        let text = "[report.columns]\nmatched = [\"key\", \"nope\"]\n";
        let e = parse(&format!("[report]\n{text}")).unwrap_err();
        assert!(e.message.contains("unknown column \"nope\""), "{}", e.message);
        assert_eq!(&format!("[report]\n{text}")[e.span], "\"nope\"");
        let e = parse("[report.columns]\nignored = [\"likely_cause\"]\n").unwrap_err();
        assert!(
            e.message.contains("unknown column \"likely_cause\""),
            "{}",
            e.message
        );
    }

    #[test]
    fn filter_errors_point_into_the_string() {
        let text = "[[report.named]]\nname = \"x\"\nfilter = \"amount >> 5\"\n";
        let e = parse(text).unwrap_err();
        // `filter = ` is 9 characters, then the quote; the stray `>` is character 9 of the filter.
        let line_start = text.find("filter").unwrap();
        assert_eq!(e.span.start - line_start, 9 + 1 + 8, "{}", e.message);
        let e = parse("[[report.named]]\nname = \"x\"\nfilter = \"colour = red\"\n").unwrap_err();
        assert!(e.message.contains("unknown column \"colour\""), "{}", e.message);
    }

    #[test]
    fn names_and_sources_are_checked() {
        assert!(parse("[[report.named]]\nname = \"a b\"\n").is_err());
        assert!(parse("[[report.named]]\nname = \"a\"\nfrom = [\"pend\"]\n").is_err());
        assert!(parse("[[report.named]]\nname = \"a\"\nfrom = [\"pending\"]\n").is_ok());
        assert!(parse("[[report.named]]\nname = \"a\"\n[[report.named]]\nname = \"a\"\n").is_err());
        assert!(parse("[report]\nlang = \"fr\"\n").is_err());
    }
}
