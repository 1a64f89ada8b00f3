//! Publishing a results directory all at once: files are written into a
//! temporary directory beside the target, synced, and swapped in by rename,
//! so a failed or killed run leaves the previous complete results (or none),
//! never a mix. When a key is given, every file is encrypted (SM4-GCM, see
//! `crypto::sealed`) in memory before it is written and stored as `NAME.sm4`,
//! so plain results never reach the disk, whatever files a run produces.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use thiserror::Error;

use crate::crypto::{self, SealError, Sm4Key};

/// Why results could not be published.
#[derive(Debug, Error)]
pub enum PublishError {
    /// The target holds something that is not a recon results directory.
    #[error("{0}: exists and is not a recon results directory (no summary.json or summary.json.sm4): refusing to replace it; choose a new or empty directory")]
    NotResults(PathBuf),
    /// A result file could not be encrypted.
    #[error("{name}: cannot encrypt: {source}")]
    Seal {
        /// The result file's name.
        name: String,
        /// What went wrong.
        source: SealError,
    },
    /// The target file exists and replacing it was not asked for.
    #[error("{0}: already exists; not replaced (use --force to replace it)")]
    Exists(PathBuf),
    /// A file system operation failed.
    #[error("{path}: {action}: {source}")]
    Io {
        /// The path involved.
        path: PathBuf,
        /// What was being done.
        action: &'static str,
        /// The OS error.
        source: std::io::Error,
    },
}

fn io<'a>(path: &'a Path, action: &'static str) -> impl FnOnce(std::io::Error) -> PublishError + 'a {
    move |source| PublishError::Io {
        path: path.to_path_buf(),
        action,
        source,
    }
}

/// Writes `files` (name, bytes) as the complete contents of `dir`; with a
/// key, each as `NAME.sm4` encrypted under it.
pub fn publish(dir: &Path, files: &[(&str, &[u8])], key: Option<&Sm4Key>) -> Result<(), PublishError> {
    check_replaceable(dir)?;
    let sealed = key.map(|key| seal_all(key, files)).transpose()?;
    let files: Vec<(&str, &[u8])> = match &sealed {
        Some(sealed) => sealed
            .iter()
            .map(|(name, bytes)| (name.as_str(), bytes.as_slice()))
            .collect(),
        None => files.to_vec(),
    };
    let parent = parent_of(dir);
    fs::create_dir_all(&parent).map_err(io(&parent, "cannot create the parent directory"))?;
    let staging = tempfile::Builder::new()
        .prefix(&format!(".{}.recon-new-", base_name(dir)))
        .tempdir_in(&parent)
        .map_err(io(&parent, "cannot create a temporary directory for the results"))?;
    for (name, bytes) in files {
        write_synced(&staging.path().join(name), bytes)?;
    }
    restrict(staging.path(), 0o750)?;
    swap_in(staging.keep(), dir)
}

/// Encrypts every file, in parallel, naming each `NAME.sm4`.
fn seal_all(key: &Sm4Key, files: &[(&str, &[u8])]) -> Result<Vec<(String, Vec<u8>)>, PublishError> {
    files
        .par_iter()
        .map(|(name, bytes)| {
            let sealed = crypto::seal(key, bytes).map_err(|source| PublishError::Seal {
                name: name.to_string(),
                source,
            })?;
            Ok((format!("{name}.{}", crypto::sealed::EXTENSION), sealed))
        })
        .collect()
}

/// Writes one file beside `path` and renames it over `path`.
pub fn replace_file(path: &Path, bytes: &[u8]) -> Result<(), PublishError> {
    write_file(path, bytes, true)
}

/// Writes one file beside `path` and renames it to `path`; with `replace`
/// false, fails with `Exists` rather than replace a file that is there.
/// Either way `path` never holds a partly written file.
pub fn write_file(path: &Path, bytes: &[u8], replace: bool) -> Result<(), PublishError> {
    let parent = parent_of(path);
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{}.recon-", base_name(path)))
        .tempfile_in(&parent)
        .map_err(io(&parent, "cannot create a temporary file"))?;
    tmp.write_all(bytes).map_err(io(path, "cannot write"))?;
    tmp.as_file().sync_all().map_err(io(path, "cannot sync"))?;
    let persisted = if replace {
        tmp.persist(path)
    } else {
        tmp.persist_noclobber(path)
    };
    persisted.map_err(|e| match e.error.kind() {
        std::io::ErrorKind::AlreadyExists if !replace => PublishError::Exists(path.into()),
        _ => PublishError::Io {
            path: path.into(),
            action: "cannot rename into place",
            source: e.error,
        },
    })?;
    Ok(())
}

fn parent_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

fn base_name(path: &Path) -> String {
    path.file_name()
        .map_or("out".into(), |n| n.to_string_lossy().into_owned())
}

/// An existing target must be empty or hold a previous summary (plain or encrypted).
fn check_replaceable(dir: &Path) -> Result<(), PublishError> {
    if !dir.exists() {
        return Ok(());
    }
    let mut entries = fs::read_dir(dir).map_err(io(dir, "cannot list"))?;
    let summary_names = ["summary.json", "summary.json.sm4"];
    if entries.next().is_none() || summary_names.iter().any(|n| dir.join(n).is_file()) {
        Ok(())
    } else {
        Err(PublishError::NotResults(dir.into()))
    }
}

fn write_synced(path: &Path, bytes: &[u8]) -> Result<(), PublishError> {
    let mut file = fs::File::create(path).map_err(io(path, "cannot create"))?;
    file.write_all(bytes).map_err(io(path, "cannot write"))?;
    file.sync_all().map_err(io(path, "cannot sync"))?;
    restrict(path, 0o640)
}

#[cfg(unix)]
fn restrict(path: &Path, mode: u32) -> Result<(), PublishError> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).map_err(io(path, "cannot set permissions"))
}

#[cfg(not(unix))]
fn restrict(_path: &Path, _mode: u32) -> Result<(), PublishError> {
    Ok(())
}

/// Moves the old directory aside, renames the new one into place, then
/// deletes the old one. Between the two renames the target is absent, never mixed.
fn swap_in(staging: PathBuf, dir: &Path) -> Result<(), PublishError> {
    let old = if dir.exists() {
        let aside = parent_of(dir).join(format!(".{}.recon-old-{}", base_name(dir), std::process::id()));
        fs::rename(dir, &aside).map_err(io(dir, "cannot move the previous results aside"))?;
        Some(aside)
    } else {
        None
    };
    if let Err(source) = fs::rename(&staging, dir) {
        if let Some(aside) = &old {
            let _ = fs::rename(aside, dir);
        }
        let _ = fs::remove_dir_all(&staging);
        return Err(PublishError::Io {
            path: dir.into(),
            action: "cannot move the new results into place",
            source,
        });
    }
    if let Some(aside) = old {
        fs::remove_dir_all(&aside).map_err(io(&aside, "cannot remove the previous results"))?;
    }
    Ok(())
}
