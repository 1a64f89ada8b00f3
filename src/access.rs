//! Who may do what: the acting person as the operating system knows them
//! (the process's user id and groups, never `$USER`), and the check that
//! they hold the role they act under and that the role may take the action
//! (`[roles.NAME] users / groups / may` in the rules). Rules whose roles name
//! no users or groups are not enforced: anyone may take any role.

use thiserror::Error;

use crate::rules::roles::Action;
use crate::rules::Plan;

/// The acting person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    /// The operating-system account name (`uid N` when it has none).
    pub user: String,
    /// The account's group names: the primary group and supplementary ones.
    pub groups: Vec<String>,
}

impl Person {
    /// The person this process runs as.
    pub fn current() -> Person {
        os::current()
    }
}

#[cfg(unix)]
mod os {
    use super::Person;

    pub fn current() -> Person {
        let uid = rustix::process::getuid().as_raw();
        let user = uzers::get_user_by_uid(uid)
            .map(|u| u.name().to_string_lossy().into_owned())
            .unwrap_or_else(|| format!("uid {uid}"));
        let mut gids = vec![rustix::process::getgid(), rustix::process::getegid()];
        gids.extend(rustix::process::getgroups().unwrap_or_default());
        let mut groups: Vec<String> = gids
            .into_iter()
            .map(|g| {
                let gid = g.as_raw();
                uzers::get_group_by_gid(gid)
                    .map(|g| g.name().to_string_lossy().into_owned())
                    .unwrap_or_else(|| format!("gid {gid}"))
            })
            .collect();
        groups.sort();
        groups.dedup();
        Person { user, groups }
    }
}

#[cfg(not(unix))]
mod os {
    use super::Person;

    pub fn current() -> Person {
        let user = std::env::var("USERNAME").unwrap_or_else(|_| "unknown".into());
        Person {
            user,
            groups: Vec::new(),
        }
    }
}

/// Why a person may not act.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum Refused {
    /// The person does not hold the role.
    #[error("user {user} does not hold role {role} (held by {holders}); nothing was done")]
    NotHeld {
        /// The user.
        user: String,
        /// The role.
        role: String,
        /// Its users and groups.
        holders: String,
    },
    /// The role may not take the action.
    #[error("role {role} may not {action} (it may {may}); nothing was done")]
    NotAllowed {
        /// The role.
        role: String,
        /// The action.
        action: &'static str,
        /// What it may do.
        may: String,
    },
    /// No role the person holds may take the action.
    #[error("user {user} holds no role that may {action} (roles held: {held}); nothing was done")]
    NoRole {
        /// The user.
        user: String,
        /// The action.
        action: &'static str,
        /// The roles held.
        held: String,
    },
}

/// The role `person` acts under to take `action`: the one asked for, else the
/// rules' default role when they hold it and it may take the action, else the
/// first role (by name) they hold that may take the action. `Ok(None)`: the rules define no roles.
/// Without enforcement the role asked for (or the default) is returned unchecked.
pub fn authorize(
    plan: &Plan,
    requested: Option<&str>,
    action: Action,
    person: &Person,
) -> Result<Option<String>, Refused> {
    let roles = &plan.roles;
    if !roles.enforced() {
        return Ok(requested.map(String::from).or_else(|| roles.default_role.clone()));
    }
    let holds = |name: &str| {
        roles
            .roles
            .get(name)
            .is_some_and(|r| r.held_by(&person.user, &person.groups))
    };
    let name = match requested {
        Some(r) => r.to_string(),
        None => match (roles.default_role.as_deref())
            .filter(|d| holds(d) && roles.roles.get(*d).is_some_and(|r| r.may(action)))
        {
            Some(d) => d.to_string(),
            None => {
                let fits = roles
                    .roles
                    .iter()
                    .find(|(n, r)| holds(n) && r.may(action))
                    .map(|(n, _)| n.clone());
                match fits {
                    Some(n) => n,
                    None => {
                        let held: Vec<&str> = roles
                            .roles
                            .keys()
                            .filter(|n| holds(n))
                            .map(String::as_str)
                            .collect();
                        return Err(Refused::NoRole {
                            user: person.user.clone(),
                            action: action.name(),
                            held: if held.is_empty() {
                                "none".into()
                            } else {
                                held.join(", ")
                            },
                        });
                    }
                }
            }
        },
    };
    let Some(role) = roles.roles.get(&name) else {
        // An unknown role is the view's error to report.
        return Ok(Some(name));
    };
    if !holds(&name) {
        let holders: Vec<String> = role
            .users
            .iter()
            .cloned()
            .chain(role.groups.iter().map(|g| format!("group {g}")))
            .collect();
        return Err(Refused::NotHeld {
            user: person.user.clone(),
            role: name,
            holders: if holders.is_empty() {
                "nobody".into()
            } else {
                holders.join(", ")
            },
        });
    }
    if !role.may(action) {
        let may: Vec<&str> = role.may.iter().map(|a| a.name()).collect();
        return Err(Refused::NotAllowed {
            role: name,
            action: action.name(),
            may: if may.is_empty() {
                "nothing".into()
            } else {
                may.join(", ")
            },
        });
    }
    Ok(Some(name))
}
