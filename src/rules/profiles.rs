//! Built-in profiles: the reading settings and column mapping of the files
//! everyone has (Alipay and WeChat Pay bills, the big banks' statement
//! exports), as TOML files under `rules/profiles/` compiled into the binary.
//! A rule file's side uses one with `profile = "alipay"` (its own keys win),
//! the command line with `--bank-profile`/`--ledger-profile`, and `recon
//! check` recognises them from a file's header (`recognize`). Reading the
//! file itself is `input`'s job.

use std::sync::OnceLock;

use serde::Deserialize;

use super::plan::{self, SidePlan};
use super::schema::{SideSpec, StatusSpec, ValueSpec};
use crate::input::field::clean_field;
use crate::input::guess::guessed_columns;
use crate::input::plan::overlay_columns;
use crate::input::table::Table;

/// The profile files, by file name, in the order they are listed.
const SOURCES: &[(&str, &str)] = &[
    ("alipay.toml", include_str!("../../rules/profiles/alipay.toml")),
    (
        "alipay-legacy.toml",
        include_str!("../../rules/profiles/alipay-legacy.toml"),
    ),
    (
        "alipay-merchant.toml",
        include_str!("../../rules/profiles/alipay-merchant.toml"),
    ),
    (
        "alipay-merchant-account.toml",
        include_str!("../../rules/profiles/alipay-merchant-account.toml"),
    ),
    ("wechat.toml", include_str!("../../rules/profiles/wechat.toml")),
    (
        "wechat-merchant.toml",
        include_str!("../../rules/profiles/wechat-merchant.toml"),
    ),
    (
        "abc-debit.toml",
        include_str!("../../rules/profiles/abc-debit.toml"),
    ),
    (
        "boc-debit.toml",
        include_str!("../../rules/profiles/boc-debit.toml"),
    ),
    (
        "cmb-debit.toml",
        include_str!("../../rules/profiles/cmb-debit.toml"),
    ),
    (
        "icbc-debit.toml",
        include_str!("../../rules/profiles/icbc-debit.toml"),
    ),
    (
        "icbc-credit.toml",
        include_str!("../../rules/profiles/icbc-credit.toml"),
    ),
    (
        "citic-credit.toml",
        include_str!("../../rules/profiles/citic-credit.toml"),
    ),
    (
        "hsbchk-debit.toml",
        include_str!("../../rules/profiles/hsbchk-debit.toml"),
    ),
    (
        "bmo-debit.toml",
        include_str!("../../rules/profiles/bmo-debit.toml"),
    ),
    ("huobi.toml", include_str!("../../rules/profiles/huobi.toml")),
    (
        "generic-bank.toml",
        include_str!("../../rules/profiles/generic-bank.toml"),
    ),
];

/// How many data rows below the detected header are searched for a profile's header.
const HEADER_SEARCH_ROWS: usize = 60;

/// The confidence given to a guessing profile that finds an amount column.
const GUESS_CONFIDENCE: f64 = 0.5;

/// One built-in profile.
#[derive(Debug, Clone)]
pub struct Profile {
    /// Name used in rule files and on the command line, e.g. `alipay`.
    pub name: String,
    /// What the file is, in a line.
    pub title: String,
    /// Where the layout comes from (a real sample, published documentation).
    pub evidence: String,
    /// Header names, beyond the mapped columns, that identify the layout.
    pub signature: Vec<String>,
    /// Column roles are guessed from the header (the generic profile).
    pub guess_columns: bool,
    /// The settings, as a rule file's `[bank]` section would hold them.
    pub side: SideSpec,
    /// The profile's TOML text.
    pub source: &'static str,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProfileFile {
    profile: ProfileMeta,
    side: SideSpec,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProfileMeta {
    name: String,
    title: String,
    evidence: String,
    #[serde(default)]
    signature: Vec<String>,
    #[serde(default)]
    guess_columns: bool,
}

/// Every built-in profile, parsed once.
pub fn all() -> Result<&'static [Profile], String> {
    static PROFILES: OnceLock<Result<Vec<Profile>, String>> = OnceLock::new();
    PROFILES
        .get_or_init(|| SOURCES.iter().map(|(file, text)| parse(file, text)).collect())
        .as_deref()
        .map_err(Clone::clone)
}

fn parse(file: &str, text: &'static str) -> Result<Profile, String> {
    let parsed: ProfileFile =
        toml::from_str(text).map_err(|e| format!("built-in profile {file}: {}", e.message()))?;
    if parsed.side.profile.is_some() {
        return Err(format!(
            "built-in profile {file}: [side] must not name another profile"
        ));
    }
    Ok(Profile {
        name: parsed.profile.name,
        title: parsed.profile.title,
        evidence: parsed.profile.evidence,
        signature: parsed.profile.signature,
        guess_columns: parsed.profile.guess_columns,
        side: parsed.side,
        source: text,
    })
}

/// The profile called `name`.
pub fn find(name: &str) -> Result<&'static Profile, String> {
    let profiles = all()?;
    profiles.iter().find(|p| p.name == name).ok_or_else(|| {
        format!(
            "unknown profile \"{name}\" (built-in: {}; `recon rules profiles` describes them)",
            profiles
                .iter()
                .map(|p| p.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )
    })
}

/// A rule file's side section laid over a profile's settings: every key the
/// section sets wins. The amount columns (`amount`, `debit`, `credit`,
/// `direction`, `refund_amount`) are replaced as a group when the section
/// sets any of `amount`, `debit` or `credit`, and the time columns (`time`,
/// `date`, `time_format`) when it sets `time` or `date`; `clean` steps add up.
pub fn overlay(base: &SideSpec, over: &SideSpec) -> SideSpec {
    SideSpec {
        profile: None,
        encoding: over.encoding.clone().or_else(|| base.encoding.clone()),
        delimiter: over.delimiter.clone().or_else(|| base.delimiter.clone()),
        header_line: over.header_line.or(base.header_line),
        header: over.header.or(base.header),
        currency: over.currency.clone().or_else(|| base.currency.clone()),
        timezone: over.timezone.clone().or_else(|| base.timezone.clone()),
        amount_decimals: over.amount_decimals.or(base.amount_decimals),
        flip_sign: over.flip_sign.or(base.flip_sign),
        columns: overlay_columns(&base.columns, &over.columns),
        values: ValueSpec {
            income: over.values.income.clone().or_else(|| base.values.income.clone()),
            expense: over
                .values
                .expense
                .clone()
                .or_else(|| base.values.expense.clone()),
            neutral: over
                .values
                .neutral
                .clone()
                .or_else(|| base.values.neutral.clone()),
            refund: over.values.refund.clone().or_else(|| base.values.refund.clone()),
        },
        status: StatusSpec {
            success: over
                .status
                .success
                .clone()
                .or_else(|| base.status.success.clone()),
            refund: over.status.refund.clone().or_else(|| base.status.refund.clone()),
            ignore: over.status.ignore.clone().or_else(|| base.status.ignore.clone()),
        },
        clean: base.clean.iter().chain(&over.clean).cloned().collect(),
    }
}

/// The reading plan of a profile used on its own (`--bank-profile`,
/// `recon check --profile`), its times in `timezone` when given.
pub fn plan_for(name: &str, timezone: Option<&str>) -> Result<SidePlan, String> {
    find(name)?;
    let spec = SideSpec {
        profile: Some(name.to_string()),
        timezone: timezone.map(str::to_string),
        ..SideSpec::default()
    };
    plan::side("bank", &spec, plan::DEFAULT_ZONE).map_err(|e| e.replace("[bank] ", ""))
}

impl Profile {
    /// Every header name the profile needs: its mapped columns, then its signature.
    pub fn header_names(&self) -> Vec<String> {
        let c = &self.side.columns;
        let mut names: Vec<String> = Vec::new();
        let mapped = [
            &c.key,
            &c.amount,
            &c.debit,
            &c.credit,
            &c.direction,
            &c.refund_amount,
            &c.date,
            &c.time,
            &c.merchant,
            &c.kind,
            &c.status,
            &c.currency,
        ];
        let all = mapped
            .into_iter()
            .flatten()
            .chain(&c.carry)
            .chain(&self.signature);
        for name in all {
            if !names.contains(name) {
                names.push(name.clone());
            }
        }
        names
    }
}

/// How well one profile fits a file.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Candidate {
    /// The profile.
    pub name: String,
    /// 1.0 when every header name of the profile is in one row of the file;
    /// otherwise the share found (a guessing profile scores 0.5 when it finds an amount column).
    pub confidence: f64,
    /// Header names found.
    pub found: usize,
    /// Header names the profile needs.
    pub wanted: usize,
    /// Names not found in the best row.
    pub missing: Vec<String>,
    /// Line of the best row, when any name was found.
    pub line: Option<u64>,
}

/// Scores every profile against the table's header and the rows below it
/// (a profile's header may sit below the row taken for the header, as in
/// workbooks with generic column titles). Best first; ties keep list order.
pub fn recognize(table: &Table) -> Result<Vec<Candidate>, String> {
    let rows: Vec<(u64, Vec<&str>)> = std::iter::once((
        table.header_line,
        table.header.iter().map(String::as_str).collect(),
    ))
    .chain(
        table
            .rows
            .iter()
            .take(HEADER_SEARCH_ROWS)
            .map(|r| (r.line, r.fields.iter().map(clean_field).collect())),
    )
    .collect();
    let mut candidates: Vec<Candidate> = all()?
        .iter()
        .map(|p| {
            if p.guess_columns {
                guessed(p, table)
            } else {
                scored(p, &rows)
            }
        })
        .collect();
    candidates.sort_by(|a, b| {
        b.confidence
            .total_cmp(&a.confidence)
            .then(b.wanted.cmp(&a.wanted))
    });
    Ok(candidates)
}

/// The candidate to read the file with: the best one when it is a full
/// match or a guess that found an amount column.
pub fn pick(candidates: &[Candidate]) -> Option<&Candidate> {
    candidates.first().filter(|c| c.confidence >= GUESS_CONFIDENCE)
}

fn scored(profile: &Profile, rows: &[(u64, Vec<&str>)]) -> Candidate {
    let names = profile.header_names();
    let hits = |cells: &[&str]| names.iter().filter(|n| cells.contains(&n.as_str())).count();
    let best = rows
        .iter()
        .max_by_key(|(line, cells)| (hits(cells), std::cmp::Reverse(*line)));
    let (line, found, missing) = match best {
        Some((line, cells)) => (
            Some(*line).filter(|_| hits(cells) > 0),
            hits(cells),
            names
                .iter()
                .filter(|n| !cells.contains(&n.as_str()))
                .cloned()
                .collect(),
        ),
        None => (None, 0, names.clone()),
    };
    let confidence = if names.is_empty() {
        0.0
    } else {
        (found as f64 / names.len() as f64 * 100.0).round() / 100.0
    };
    Candidate {
        name: profile.name.clone(),
        confidence,
        found,
        wanted: names.len(),
        missing,
        line,
    }
}

fn guessed(profile: &Profile, table: &Table) -> Candidate {
    let found = guessed_columns(table).is_some();
    Candidate {
        name: profile.name.clone(),
        confidence: if found { GUESS_CONFIDENCE } else { 0.0 },
        found: usize::from(found),
        wanted: 1,
        missing: if found {
            Vec::new()
        } else {
            vec!["an amount column".to_string()]
        },
        line: found.then_some(table.header_line),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::plan::ColumnSpec;

    #[test]
    fn every_profile_parses_and_builds_a_plan() {
        let profiles = all().unwrap();
        assert_eq!(profiles.len(), SOURCES.len());
        for p in profiles {
            let file = SOURCES.iter().find(|(_, t)| *t == p.source).unwrap().0;
            assert_eq!(format!("{}.toml", p.name), file, "file name matches profile name");
            let spec = SideSpec {
                profile: Some(p.name.clone()),
                ..SideSpec::default()
            };
            let plan = super::super::plan::side("bank", &spec, chrono_tz::Asia::Shanghai)
                .unwrap_or_else(|e| panic!("{}: {e}", p.name));
            assert_eq!(plan.profile.as_deref(), Some(p.name.as_str()));
            assert_eq!(plan.guess_columns.is_some(), p.guess_columns, "{}", p.name);
            assert!(p.guess_columns || !p.header_names().is_empty(), "{}", p.name);
        }
    }

    #[test]
    fn unknown_profiles_are_named() {
        let error = find("alipay2").unwrap_err();
        assert!(error.contains("unknown profile \"alipay2\""), "{error}");
        assert!(error.contains("wechat-merchant"), "{error}");
    }

    #[test]
    fn overlay_replaces_column_groups() {
        let base = ColumnSpec {
            key: Some("交易订单号".into()),
            amount: Some("金额".into()),
            direction: Some("收/支".into()),
            time: Some("交易时间".into()),
            time_format: Some("%Y".into()),
            ..ColumnSpec::default()
        };
        let over = ColumnSpec {
            debit: Some("支出".into()),
            credit: Some("收入".into()),
            ..ColumnSpec::default()
        };
        let merged = overlay_columns(&base, &over);
        assert_eq!(merged.amount, None);
        assert_eq!(merged.direction, None);
        assert_eq!(merged.debit.as_deref(), Some("支出"));
        assert_eq!(merged.key.as_deref(), Some("交易订单号"));
        assert_eq!(merged.time.as_deref(), Some("交易时间"));
        assert_eq!(merged.time_format.as_deref(), Some("%Y"));
        let over_time = ColumnSpec {
            date: Some("日期".into()),
            ..ColumnSpec::default()
        };
        let merged = overlay_columns(&base, &over_time);
        assert_eq!(
            (merged.date.as_deref(), merged.time.as_deref()),
            (Some("日期"), None)
        );
        assert_eq!(merged.time_format, None);
    }
}
