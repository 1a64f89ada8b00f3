//! Roles and masking in a rule file: the `[roles]` table as written
//! (`RolesSpec`, keeping each key's position so errors can say `LINE:COL`)
//! and its checked form (`Roles`). Applying a mask to data is
//! `output::mask`'s job, not this module's.
//!
//! ```toml
//! [roles]
//! default_role = "finance"            # used when `recon run` gets no --role
//!
//! [roles.finance]                     # no mask table: sees every column
//!
//! [roles.auditor]
//! mask = { "付款账号" = "keep_ends", "户号" = "hash", "摘要" = "drop" }
//! users = ["wang"]                    # who holds the role (operating-system
//! groups = ["audit"]                  # user and group names)
//! may = ["verify"]                    # run, confirm, resolve, verify
//! rows = 'merchant in ("M001")'       # the rows this role sees and may resolve
//! ```
//!
//! Roles are enforced (`Roles::enforced`) once any role names `users` or
//! `groups`; until then every user may take every role, as before.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;

use serde::de::{Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use toml::Spanned;

use super::filter::Filter;
use super::plan::Plan;

/// Columns of the result files that are always shown: they prove the reconciliation.
pub const UNMASKABLE: [&str; 4] = ["side", "line", "amount", "time"];

/// `[roles]` as written: `default_role` plus one `[roles.NAME]` table per role.
#[derive(Debug, Clone, Default)]
pub struct RolesSpec {
    /// `default_role = "…"`, with its position.
    pub default_role: Option<Spanned<String>>,
    /// Each role's name (with its position) and table, in file order.
    pub roles: Vec<(Spanned<String>, RoleSpec)>,
}

/// `[roles.NAME]`: what one role sees.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleSpec {
    /// Who the role is for.
    #[serde(default)]
    pub description: String,
    /// Column name → mask kind (`keep_ends`, `hash`, `drop`).
    #[serde(default)]
    pub mask: BTreeMap<Spanned<String>, Spanned<String>>,
    /// Operating-system users who hold the role.
    #[serde(default)]
    pub users: Vec<String>,
    /// Operating-system groups whose members hold the role.
    #[serde(default)]
    pub groups: Vec<String>,
    /// What the role may do (default: everything).
    pub may: Option<Vec<Spanned<String>>>,
    /// Which rows the role sees, in the filter language of named reports.
    pub rows: Option<Spanned<String>>,
}

impl<'de> Deserialize<'de> for RolesSpec {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct RolesVisitor;
        impl<'de> Visitor<'de> for RolesVisitor {
            type Value = RolesSpec;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a [roles] table: default_role = \"…\" and one [roles.NAME] table per role")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RolesSpec, A::Error> {
                let mut spec = RolesSpec::default();
                while let Some(key) = map.next_key::<Spanned<String>>()? {
                    if key.get_ref() == "default_role" {
                        spec.default_role = Some(map.next_value()?);
                    } else {
                        spec.roles.push((key, map.next_value()?));
                    }
                }
                Ok(spec)
            }
        }
        deserializer.deserialize_map(RolesVisitor)
    }
}

/// How a column is masked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MaskKind {
    /// Keep the first 4 and last 4 characters, star the rest: `6217********1294`
    /// (values of 8 characters or fewer are starred whole).
    KeepEnds,
    /// Replace by 16 hex digits of HMAC-SHA256 keyed with `RECON_MASK_SALT`:
    /// the same value gives the same hash within and across runs with the same salt.
    Hash,
    /// Remove the column from every result file.
    Drop,
}

impl MaskKind {
    /// The name used in rule files.
    pub fn name(self) -> &'static str {
        match self {
            MaskKind::KeepEnds => "keep_ends",
            MaskKind::Hash => "hash",
            MaskKind::Drop => "drop",
        }
    }
}

/// Something a role may be allowed to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Action {
    /// `recon run`.
    Run,
    /// `recon confirm`.
    Confirm,
    /// `recon resolve`.
    Resolve,
    /// `recon audit verify` / `show`.
    Verify,
}

impl Action {
    /// Every action, in the order `may` lists them.
    pub const ALL: [Action; 4] = [Action::Run, Action::Confirm, Action::Resolve, Action::Verify];

    /// The name used in rule files.
    pub fn name(self) -> &'static str {
        match self {
            Action::Run => "run",
            Action::Confirm => "confirm",
            Action::Resolve => "resolve",
            Action::Verify => "verify",
        }
    }
}

/// One role, checked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Role {
    /// Who the role is for.
    pub description: String,
    /// Output column name → mask kind; columns not listed are shown as they are.
    pub masks: BTreeMap<String, MaskKind>,
    /// Operating-system users who hold the role.
    pub users: Vec<String>,
    /// Operating-system groups whose members hold the role.
    pub groups: Vec<String>,
    /// What the role may do.
    pub may: Vec<Action>,
    /// The rows the role sees (`None`: all), with the filter as written.
    pub rows: Option<(Filter, String)>,
}

impl Role {
    /// True when the role may take `action`.
    pub fn may(&self, action: Action) -> bool {
        self.may.contains(&action)
    }

    /// True when `user`, a member of `groups`, holds the role.
    pub fn held_by(&self, user: &str, groups: &[String]) -> bool {
        self.users.iter().any(|u| u == user) || self.groups.iter().any(|g| groups.contains(g))
    }
}

/// The roles of a rule file, checked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Roles {
    /// The role used when none is asked for; set whenever roles exist.
    pub default_role: Option<String>,
    /// Roles by name.
    pub roles: BTreeMap<String, Role>,
}

impl Roles {
    /// True when some role names its `users` or `groups`: only holders may
    /// then take a role. Otherwise anyone may take any role.
    pub fn enforced(&self) -> bool {
        self.roles
            .values()
            .any(|r| !r.users.is_empty() || !r.groups.is_empty())
    }
}

/// A roles error at a byte range of the rule file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RolesError {
    /// Where in the rule file.
    pub span: Range<usize>,
    /// What is wrong and how to fix it.
    pub message: String,
}

/// Columns of the result files a role may mask: `key`, `merchant` and every
/// carried column of either side (including those a profile carries).
pub fn maskable_columns(plan: &Plan) -> Vec<String> {
    let mut names = vec!["key".to_string(), "merchant".to_string()];
    for name in plan.ledger.columns.carry.iter().chain(&plan.bank.columns.carry) {
        if !names.contains(name) {
            names.push(name.clone());
        }
    }
    names
}

fn at<T>(spanned: &Spanned<T>, message: String) -> RolesError {
    RolesError {
        span: spanned.span(),
        message,
    }
}

/// Checks `[roles]` against the columns the result files will have;
/// `maskable` lists them (`key`, `merchant` and every carried column).
pub fn build(spec: Option<&RolesSpec>, maskable: &[String]) -> Result<Roles, RolesError> {
    let Some(spec) = spec else {
        return Ok(Roles::default());
    };
    let mut roles = BTreeMap::new();
    for (name, role) in &spec.roles {
        roles.insert(name.get_ref().clone(), role_of(name.get_ref(), role, maskable)?);
    }
    let default_role = match &spec.default_role {
        Some(d) if roles.contains_key(d.get_ref()) => Some(d.get_ref().clone()),
        Some(d) => {
            return Err(at(
                d,
                format!(
                    "default_role = \"{}\" is not a role defined here (roles: {})",
                    d.get_ref(),
                    list(roles.keys())
                ),
            ))
        }
        None => match spec.roles.first() {
            Some((first, _)) => {
                return Err(at(
                    first,
                    format!(
                        "[roles] defines {} but no default_role: add default_role = \"…\" under [roles] so runs without --role know what to show",
                        list(roles.keys())
                    ),
                ))
            }
            None => None,
        },
    };
    Ok(Roles { default_role, roles })
}

fn role_of(name: &str, spec: &RoleSpec, maskable: &[String]) -> Result<Role, RolesError> {
    let mut masks = BTreeMap::new();
    for (column, kind) in &spec.mask {
        let column_name = column.get_ref();
        if UNMASKABLE.contains(&column_name.as_str()) {
            return Err(at(
                column,
                format!(
                    "[roles.{}] mask: \"{column_name}\" cannot be masked: side, line, amount and time prove the reconciliation; maskable columns: {}",
                    name,
                    list(maskable)
                ),
            ));
        }
        if !maskable.contains(column_name) {
            return Err(at(
                column,
                format!(
                    "[roles.{}] mask: unknown column \"{column_name}\"; maskable columns (as named in the result files): {}",
                    name,
                    list(maskable)
                ),
            ));
        }
        let kind = match kind.get_ref().as_str() {
            "keep_ends" => MaskKind::KeepEnds,
            "hash" => MaskKind::Hash,
            "drop" => MaskKind::Drop,
            other => {
                return Err(at(
                    kind,
                    format!(
                        "[roles.{}] mask \"{column_name}\": \"{other}\" is not a mask kind (use \"keep_ends\" for 6217********1294, \"hash\", or \"drop\")",
                        name
                    ),
                ))
            }
        };
        masks.insert(column_name.clone(), kind);
    }
    let may = match &spec.may {
        None => Action::ALL.to_vec(),
        Some(list) => {
            let mut may = Vec::new();
            for word in list {
                let Some(action) = Action::ALL.into_iter().find(|a| a.name() == word.get_ref()) else {
                    return Err(at(
                        word,
                        format!(
                            "[roles.{name}] may: \"{}\" is not an action (use run, confirm, resolve, verify)",
                            word.get_ref()
                        ),
                    ));
                };
                may.push(action);
            }
            may.sort_unstable();
            may.dedup();
            may
        }
    };
    let rows = match &spec.rows {
        None => None,
        Some(text) => {
            let filter = Filter::parse(text.get_ref()).map_err(|e| {
                at(
                    text,
                    format!("[roles.{name}] rows: column {}: {}", e.column, e.message),
                )
            })?;
            let known: Vec<&str> = ["side", "line", "amount", "time"]
                .into_iter()
                .chain(maskable.iter().map(String::as_str))
                .collect();
            if let Some(unknown) = filter.columns().find(|c| !known.contains(c)) {
                return Err(at(
                    text,
                    format!(
                        "[roles.{name}] rows: unknown column \"{unknown}\"; rows can be chosen by {}",
                        known.join(", ")
                    ),
                ));
            }
            Some((filter, text.get_ref().clone()))
        }
    };
    Ok(Role {
        description: spec.description.clone(),
        masks,
        users: spec.users.clone(),
        groups: spec.groups.clone(),
        may,
        rows,
    })
}

fn list<'a>(names: impl IntoIterator<Item = &'a String>) -> String {
    let names: Vec<&str> = names.into_iter().map(String::as_str).collect();
    if names.is_empty() {
        "none".into()
    } else {
        names.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct File {
        roles: Option<RolesSpec>,
    }

    fn check(text: &str) -> Result<Roles, (String, String)> {
        let file: File = toml::from_str(text).unwrap();
        let maskable = ["key".to_string(), "merchant".into(), "付款账号".into()];
        build(file.roles.as_ref(), &maskable).map_err(|e| (text[e.span].to_string(), e.message))
    }

    #[test]
    fn roles_with_masks_are_read() {
        let roles = check(
            "[roles]\ndefault_role = \"auditor\"\n[roles.finance]\n[roles.auditor]\nmask = { \"付款账号\" = \"keep_ends\", key = \"hash\" }\n",
        )
        .unwrap();
        assert_eq!(roles.default_role.as_deref(), Some("auditor"));
        assert!(roles.roles["finance"].masks.is_empty());
        assert_eq!(roles.roles["auditor"].masks["付款账号"], MaskKind::KeepEnds);
        assert_eq!(roles.roles["auditor"].masks["key"], MaskKind::Hash);
        assert_eq!(roles.roles["auditor"].may, Action::ALL);
        assert!(!roles.enforced());
    }

    #[test]
    fn holders_actions_and_row_scopes_are_read() {
        let roles = check(
            "[roles]\ndefault_role = \"a\"\n[roles.a]\nusers = [\"zhang\"]\ngroups = [\"cashiers\"]\nmay = [\"resolve\", \"run\"]\nrows = 'merchant in (\"M001\", \"M002\")'\n",
        )
        .unwrap();
        let a = &roles.roles["a"];
        assert!(roles.enforced());
        assert_eq!(a.may, [Action::Run, Action::Resolve]);
        assert!(a.held_by("zhang", &[]) && a.held_by("li", &["cashiers".into()]));
        assert!(!a.held_by("li", &["finance".into()]));
        let (filter, text) = a.rows.as_ref().unwrap();
        assert_eq!(text, "merchant in (\"M001\", \"M002\")");
        assert!(filter.keeps(|_| Some("M002")) && !filter.keeps(|_| Some("M003")));
        let (at, msg) =
            check("[roles]\ndefault_role = \"a\"\n[roles.a]\nmay = [\"run\", \"delete\"]\n").unwrap_err();
        assert_eq!((at.as_str(), msg.contains("resolve")), ("\"delete\"", true));
        let (_, msg) =
            check("[roles]\ndefault_role = \"a\"\n[roles.a]\nrows = 'dept = \"A\"'\n").unwrap_err();
        assert!(msg.contains("unknown column \"dept\""), "{msg}");
    }

    #[test]
    fn errors_point_at_the_offending_text() {
        let (at, msg) = check("[roles]\ndefault_role = \"boss\"\n[roles.finance]\n").unwrap_err();
        assert_eq!(at, "\"boss\"");
        assert!(msg.contains("roles: finance"), "{msg}");
        let (at, msg) =
            check("[roles]\ndefault_role = \"a\"\n[roles.a]\nmask = { \"卡号\" = \"drop\" }\n").unwrap_err();
        assert_eq!(at, "\"卡号\"");
        assert!(msg.contains("key, merchant, 付款账号"), "{msg}");
        let (at, _) =
            check("[roles]\ndefault_role = \"a\"\n[roles.a]\nmask = { amount = \"drop\" }\n").unwrap_err();
        assert_eq!(at, "amount");
        let (at, msg) =
            check("[roles]\ndefault_role = \"a\"\n[roles.a]\nmask = { key = \"stars\" }\n").unwrap_err();
        assert_eq!(at, "\"stars\"");
        assert!(msg.contains("keep_ends"), "{msg}");
        let (at, msg) = check("[roles.a]\n[roles.a.mask]\nkey = \"hash\"\n").unwrap_err();
        assert_eq!(at, "a");
        assert!(msg.contains("no default_role"), "{msg}");
        assert_eq!(check("").unwrap(), Roles::default());
    }
}
