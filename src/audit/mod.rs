//! The audit trail: an append-only log of JSON lines, one per `recon run`,
//! `recon rules test` and `recon confirm`, linked by SHA-256 into a chain
//! that `recon audit verify` checks. `chain` owns the file format, locking
//! and verification; `entry` owns what a line says. Nothing here holds row
//! data: identities are hashes and free text has account numbers masked.

pub mod chain;
pub mod entry;

use std::path::{Path, PathBuf};

pub use chain::{Contents, Log};

use crate::output::resolutions::{Resolution, ResolutionKind};
use crate::output::review::Confirmation;
use entry::{ConfirmRecord, ResolveRecord};

/// File name of the default audit log.
pub const FILE_NAME: &str = "audit.log";

/// The default log of `recon run` and `recon confirm`: `audit.log` in the
/// directory that holds the results directory `dir` (`DIR/../audit.log`).
pub fn beside_results(dir: &Path) -> PathBuf {
    match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.join(FILE_NAME),
        _ => PathBuf::from(FILE_NAME),
    }
}

/// The default log of `recon rules test`: `$XDG_STATE_HOME/recon/audit.log`,
/// else `$HOME/.local/state/recon/audit.log`; `None` when neither is set.
pub fn user_state_log() -> Option<PathBuf> {
    let nonempty = |v: &str| std::env::var_os(v).filter(|s| !s.is_empty()).map(PathBuf::from);
    nonempty("XDG_STATE_HOME")
        .or_else(|| nonempty("HOME").map(|h| h.join(".local/state")))
        .map(|state| state.join("recon").join(FILE_NAME))
}

/// The confirmations recorded in a log, in log order.
pub fn confirmations(contents: &Contents) -> Vec<Confirmation> {
    contents
        .entries
        .iter()
        .filter(|l| l.entry.get("kind").and_then(|k| k.as_str()) == Some("confirm"))
        .filter_map(|l| {
            let record: ConfirmRecord = serde_json::from_value(l.entry.clone()).ok()?;
            Some(Confirmation {
                identity: record.identity,
                by: record.by,
                at: record.finished_at,
                note: record.note,
                audit_line: l.number,
            })
        })
        .collect()
}

/// The resolutions in force in a log (`pair` and `accept` entries not
/// undone by a later `undo`), in log order.
pub fn resolutions(contents: &Contents) -> Vec<Resolution> {
    let mut active: Vec<Resolution> = Vec::new();
    for l in &contents.entries {
        if l.entry.get("kind").and_then(|k| k.as_str()) != Some("resolve") {
            continue;
        }
        let Ok(record) = serde_json::from_value::<ResolveRecord>(l.entry.clone()) else {
            continue;
        };
        let kind = match record.action.as_str() {
            "pair" => ResolutionKind::Pair,
            "accept" => ResolutionKind::Accept,
            "undo" => {
                active.retain(|r| r.id != record.resolution);
                continue;
            }
            _ => continue,
        };
        active.push(Resolution {
            id: record.resolution,
            kind,
            business_date: record.business_date,
            rows: record.rows,
            reason: record.reason.zip(record.reason_label),
            by: record.by,
            user: record.user,
            role: record.role,
            at: record.finished_at,
            note: record.note,
            audit_line: l.number,
        });
    }
    active
}
