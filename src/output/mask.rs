//! What one role may see: the rule file's role resolved into a `View` that
//! masks result CSVs by column name, raw rows of rejected lines, and free text
//! (error messages, notes), where any run of 12 or more digits is treated as
//! an account number. Defining roles is `rules::roles`' job.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use hmac::{Hmac, Mac};
use sha2::Sha256;
use thiserror::Error;

use super::tables::{CurrencyTallies, SideTallies};
use crate::crypto::{self, Sm4Key};
use crate::input::field::safe;
use crate::model::{Currency, Side};
use crate::rules::filter::Filter;
use crate::rules::plan::{Plan, SidePlan};
use crate::rules::roles::MaskKind;

/// Environment variable holding the secret key of `hash` masks.
pub const SALT_VAR: &str = "RECON_MASK_SALT";

/// Shortest accepted salt, in bytes.
const MIN_SALT: usize = 16;

/// Digit runs at least this long are treated as account numbers in free text.
const ACCOUNT_DIGITS: usize = 12;

/// Why a role cannot be applied.
#[derive(Debug, Error)]
pub enum ViewError {
    /// `--role` was given but the rules define no roles.
    #[error(
        "--role {role}: {rules} defines no [roles]; add them (see rules/default.toml) or run without --role"
    )]
    NoRoles {
        /// The role asked for.
        role: String,
        /// The rule file.
        rules: String,
    },
    /// The role is not defined.
    #[error("--role {role}: not a role of {rules} (roles: {known})")]
    UnknownRole {
        /// The role asked for.
        role: String,
        /// The rule file.
        rules: String,
        /// The roles it defines.
        known: String,
    },
    /// `--carry-in` names results written for a role that masks.
    #[error("--carry-in {path}: these results were written for role {role}, which masks {columns}: carrying them in would match on masked values. Carry in the results of a run whose role masks nothing")]
    MaskedCarryIn {
        /// The previous results.
        path: PathBuf,
        /// Their role.
        role: String,
        /// What it masks.
        columns: String,
    },
    /// `--carry-in` names results cut to a role's rows.
    #[error("--carry-in {path}: these results were written for role {role}, which sees only rows where {rows}: carrying them in would lose the other rows' pending items. Carry in the results of a run whose role sees every row")]
    ScopedCarryIn {
        /// The previous results.
        path: PathBuf,
        /// Their role.
        role: String,
        /// Its row filter.
        rows: String,
    },
    /// A `hash` mask needs a secret key.
    #[error("role {role} masks \"{column}\" with \"hash\", which needs a secret key: set {SALT_VAR} to at least {MIN_SALT} random characters (e.g. `openssl rand -hex 16`) and keep it out of the rule file, so nobody can reverse the hashes")]
    NoSalt {
        /// The role.
        role: String,
        /// The hashed column.
        column: String,
    },
}

/// A resolved role: which result columns are masked, and how, and which
/// rows it sees.
#[derive(Debug, Clone, Default)]
pub struct View {
    role: Option<String>,
    masks: BTreeMap<String, MaskKind>,
    salt: Vec<u8>,
    rows: Option<(Filter, String)>,
}

/// A result CSV cut to a role's rows (`View::cut_csv`).
#[derive(Debug, Default)]
pub struct Cut {
    /// The CSV holding only the rows in scope.
    pub bytes: Vec<u8>,
    /// Their tallies per side.
    pub tallies: SideTallies,
    /// Their tallies per currency and side.
    pub currencies: CurrencyTallies,
}

/// A role as recorded in summary.json.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ViewFacts {
    /// The role's name.
    pub name: String,
    /// Masked column → mask kind.
    pub masks: BTreeMap<String, MaskKind>,
}

impl View {
    /// Resolves `requested` (or the rules' `default_role`) against the plan's roles.
    pub fn resolve(plan: &Plan, requested: Option<&str>) -> Result<View, ViewError> {
        let roles = &plan.roles;
        let name = match (requested, &roles.default_role) {
            (Some(r), _) if roles.roles.is_empty() => {
                return Err(ViewError::NoRoles {
                    role: r.into(),
                    rules: plan.identity.path.clone(),
                })
            }
            (Some(r), _) => r.to_string(),
            (None, Some(d)) => d.clone(),
            (None, None) => return Ok(View::default()),
        };
        let Some(role) = roles.roles.get(&name) else {
            return Err(ViewError::UnknownRole {
                role: name,
                rules: plan.identity.path.clone(),
                known: roles.roles.keys().cloned().collect::<Vec<_>>().join(", "),
            });
        };
        let mut salt = Vec::new();
        if let Some((column, _)) = role.masks.iter().find(|(_, k)| **k == MaskKind::Hash) {
            salt = std::env::var_os(SALT_VAR)
                .map(|s| s.into_encoded_bytes())
                .filter(|s| s.len() >= MIN_SALT)
                .ok_or_else(|| ViewError::NoSalt {
                    role: name.clone(),
                    column: column.clone(),
                })?;
        }
        Ok(View {
            role: Some(name),
            masks: role.masks.clone(),
            salt,
            rows: role.rows.clone(),
        })
    }

    /// The role, as recorded in summary.json; `None` without roles.
    pub fn facts(&self) -> Option<ViewFacts> {
        self.role.as_ref().map(|name| ViewFacts {
            name: name.clone(),
            masks: self.masks.clone(),
        })
    }

    /// True when the role masks at least one column.
    pub fn hides_anything(&self) -> bool {
        !self.masks.is_empty()
    }

    /// The role's row filter as written (`rows = '…'`), when it sees only some rows.
    pub fn scope(&self) -> Option<&str> {
        self.rows.as_ref().map(|(_, text)| text.as_str())
    }

    /// A result CSV cut to the rows in the role's scope, and their tallies
    /// per side and per currency (as `render` counts them: rows of a file
    /// without an `amount` column, rejected.csv, have none); `None` when the
    /// role sees every row.
    pub fn cut_csv(&self, bytes: &[u8]) -> Option<Cut> {
        let (filter, _) = self.rows.as_ref()?;
        let mut reader = csv::Reader::from_reader(bytes);
        let header = reader.headers().cloned().unwrap_or_default();
        let at = |name: &str| header.iter().position(|h| h == name);
        let (side, amount, currency) = (at("side"), at("amount"), at("currency"));
        let mut writer = csv::Writer::from_writer(Vec::new());
        writer.write_record(&header).expect("writing to memory");
        let mut cut = Cut::default();
        for record in reader.records().flatten() {
            if !filter.keeps(|c| at(c).and_then(|i| record.get(i))) {
                continue;
            }
            let value = amount
                .and_then(|i| record.get(i))
                .and_then(|a| a.parse::<rust_decimal::Decimal>().ok())
                .unwrap_or_default();
            let side = match side.and_then(|i| record.get(i)) {
                Some("ledger") => Some(Side::Ledger),
                Some("bank") => Some(Side::Bank),
                _ => None,
            };
            if let Some(side) = side {
                cut.tallies.side_mut(side).add(value);
                if amount.is_some() {
                    let code = currency.and_then(|i| record.get(i)).and_then(Currency::new);
                    cut.currencies
                        .entry(code.unwrap_or(Currency::CNY))
                        .or_default()
                        .side_mut(side)
                        .add(value);
                }
            }
            writer.write_record(&record).expect("writing to memory");
        }
        cut.bytes = writer.into_inner().expect("writing to memory");
        Some(cut)
    }

    /// Masks one value (`drop` gives an empty value; callers drop the column).
    pub fn mask_value(&self, kind: MaskKind, value: &str) -> String {
        if value.is_empty() {
            return String::new();
        }
        match kind {
            MaskKind::KeepEnds => keep_ends(value),
            MaskKind::Hash => {
                let mut mac = Hmac::<Sha256>::new_from_slice(&self.salt).expect("HMAC takes any key length");
                mac.update(value.as_bytes());
                crate::digest::hex(&mac.finalize().into_bytes()[..8])
            }
            MaskKind::Drop => String::new(),
        }
    }

    /// Rewrites a result CSV: masked columns masked, dropped ones removed.
    /// Files with none of the masked columns come back unchanged.
    pub fn apply_csv<'a>(&self, bytes: &'a [u8]) -> Cow<'a, [u8]> {
        let mut reader = csv::ReaderBuilder::new().has_headers(false).from_reader(bytes);
        let mut record = csv::StringRecord::new();
        if !reader.read_record(&mut record).unwrap_or(false) {
            return Cow::Borrowed(bytes);
        }
        let actions: Vec<Option<MaskKind>> = record.iter().map(|h| self.masks.get(h).copied()).collect();
        if actions.iter().all(Option::is_none) {
            return Cow::Borrowed(bytes);
        }
        let mut writer = csv::Writer::from_writer(Vec::with_capacity(bytes.len()));
        let mut first = true;
        loop {
            let fields: Vec<Cow<str>> = record
                .iter()
                .zip(&actions)
                .filter(|(_, a)| **a != Some(MaskKind::Drop))
                .map(|(value, action)| match action {
                    Some(kind) if !first => Cow::Owned(safe(&self.mask_value(*kind, value)).into_owned()),
                    _ => Cow::Borrowed(value),
                })
                .collect();
            writer
                .write_record(fields.iter().map(|f| f.as_bytes()))
                .expect("writing to memory");
            first = false;
            if !reader
                .read_record(&mut record)
                .expect("result CSVs are written by recon and parse back")
            {
                break;
            }
        }
        Cow::Owned(writer.into_inner().expect("writing to memory"))
    }

    /// Masks the fields of a raw input row (for `rejected.csv`) whose header
    /// names the key, merchant or a carried column the role masks; account-like
    /// numbers elsewhere in the row (a shifted column) are masked too.
    pub fn raw_row(&self, side: &SidePlan, header: &[String], fields: &[&str], delimiter: char) -> String {
        let output_name = |h: &str| -> Option<String> {
            let columns = &side.columns;
            if columns.key.as_deref() == Some(h) {
                Some("key".into())
            } else if columns.merchant.as_deref() == Some(h) {
                Some("merchant".into())
            } else {
                columns.carry.iter().find(|c| *c == h).cloned()
            }
        };
        let masked: Vec<Cow<str>> = fields
            .iter()
            .enumerate()
            .map(|(i, value)| {
                let kind = header
                    .get(i)
                    .and_then(|h| output_name(h))
                    .and_then(|name| self.masks.get(&name).copied());
                match kind {
                    Some(kind) => Cow::Owned(self.mask_value(kind, value)),
                    None => Cow::Borrowed(*value),
                }
            })
            .collect();
        self.text(&masked.join(&delimiter.to_string())).into_owned()
    }

    /// Free text shown to this role: account-like numbers masked when the role masks anything.
    pub fn text<'a>(&self, text: &'a str) -> Cow<'a, str> {
        if self.hides_anything() {
            redact_numbers(text)
        } else {
            Cow::Borrowed(text)
        }
    }
}

/// Refuses previous results (a results directory or a file in one) whose
/// summary.json says they were written for a role that masks (their keys and
/// columns are not the real ones) or that sees only some rows (the others'
/// pending rows are not in them). Unreadable summaries are left to the reader
/// of the results to report.
pub fn refuse_masked_results(path: &Path, key: Option<&Sm4Key>) -> Result<(), ViewError> {
    let dir = if path.is_dir() {
        path
    } else {
        path.parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
    };
    let plain = std::fs::read(dir.join("summary.json")).ok();
    let sealed = || {
        let bytes = std::fs::read(dir.join(format!("summary.json.{}", crypto::sealed::EXTENSION))).ok()?;
        crypto::open(key?, &bytes).ok()
    };
    let Some(summary) = plain.or_else(sealed) else {
        return Ok(());
    };
    let summary: serde_json::Value = serde_json::from_slice(&summary).unwrap_or_default();
    let role = &summary["role"];
    if let Some(rows) = summary["scope"]["rows"].as_str() {
        return Err(ViewError::ScopedCarryIn {
            path: path.to_path_buf(),
            role: role["name"].as_str().unwrap_or_default().to_string(),
            rows: rows.to_string(),
        });
    }
    let masked: Vec<&str> = role["masks"]
        .as_object()
        .map(|m| m.keys().map(String::as_str).collect())
        .unwrap_or_default();
    if masked.is_empty() {
        return Ok(());
    }
    Err(ViewError::MaskedCarryIn {
        path: path.to_path_buf(),
        role: role["name"].as_str().unwrap_or_default().to_string(),
        columns: masked.join(", "),
    })
}

/// `6217000012341294` → `6217********1294`; 8 characters or fewer are starred whole.
pub fn keep_ends(value: &str) -> String {
    let chars: Vec<char> = value.chars().collect();
    if chars.len() <= 8 {
        return "*".repeat(chars.len());
    }
    let mut out: String = chars[..4].iter().collect();
    out.push_str(&"*".repeat(chars.len() - 8));
    out.extend(&chars[chars.len() - 4..]);
    out
}

/// Masks every run of 12 or more ASCII digits (account and card numbers) with
/// `keep_ends`, except compact timestamps (`20261124101503`).
pub fn redact_numbers(text: &str) -> Cow<'_, str> {
    let bytes = text.as_bytes();
    let mut out = String::new();
    let mut copied = 0;
    let mut i = 0;
    while i < bytes.len() {
        if !bytes[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        if i - start >= ACCOUNT_DIGITS && !is_compact_time(&text[start..i]) {
            out.push_str(&text[copied..start]);
            out.push_str(&keep_ends(&text[start..i]));
            copied = i;
        }
    }
    if copied == 0 {
        return Cow::Borrowed(text);
    }
    out.push_str(&text[copied..]);
    Cow::Owned(out)
}

fn is_compact_time(digits: &str) -> bool {
    digits.len() == 14 && chrono::NaiveDateTime::parse_from_str(digits, "%Y%m%d%H%M%S").is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(masks: &[(&str, MaskKind)]) -> View {
        View {
            role: Some("auditor".into()),
            masks: masks.iter().map(|(c, k)| (c.to_string(), *k)).collect(),
            salt: b"0123456789abcdef".to_vec(),
            rows: None,
        }
    }

    #[test]
    fn keep_ends_keeps_four_and_four() {
        assert_eq!(keep_ends("6217000012341294"), "6217********1294");
        assert_eq!(keep_ends("W1001"), "*****");
        assert_eq!(keep_ends("123456789"), "1234*6789");
    }

    #[test]
    fn long_digit_runs_are_redacted_in_text() {
        assert_eq!(
            redact_numbers("ledger.csv:3:4: \"6217000012341294\" is not an amount"),
            "ledger.csv:3:4: \"6217********1294\" is not an amount"
        );
        assert_eq!(redact_numbers("line 12345678901 ok"), "line 12345678901 ok");
        assert_eq!(redact_numbers("123456789012"), "1234****9012");
        assert_eq!(redact_numbers("at 20261124101503"), "at 20261124101503");
    }

    #[test]
    fn csv_columns_are_masked_dropped_or_kept() {
        let v = view(&[
            ("acct", MaskKind::KeepEnds),
            ("memo", MaskKind::Drop),
            ("key", MaskKind::Hash),
        ]);
        let csv = b"side,key,acct,memo\nledger,P1,6217000012341294,secret\nbank,,,\n";
        let out = String::from_utf8(v.apply_csv(csv).into_owned()).unwrap();
        let hash = v.mask_value(MaskKind::Hash, "P1");
        assert_eq!(hash.len(), 16);
        assert_eq!(
            out,
            format!("side,key,acct\nledger,{hash},6217********1294\nbank,,\n")
        );
        assert!(matches!(v.apply_csv(b"side,line\nledger,2\n"), Cow::Borrowed(_)));
    }
}
