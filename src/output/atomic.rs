//! Publishing a results directory all at once: files are written into a
//! temporary directory beside the target (files 0640, directory 0750),
//! synced, and swapped in with one atomic exchange (`renameat2` with
//! `RENAME_EXCHANGE` on Linux; two renames where that is unsupported), so a
//! failed or killed run leaves the previous complete results (or none), never
//! a mix. Publishing holds a lock on the parent directory; under it, debris
//! of killed runs (`.DIR.recon-new-*`, `.DIR.recon-old-*`) is cleared first,
//! putting the previous results back if a kill fell between the two renames.
//!
//! Test hook: with `RECON_TEST_PAUSE_AT` set to `write` (first file of the new
//! results written), `swap` (all written, before the swap) or `cleanup` (after
//! the swap, before the previous results are deleted), the process says so on
//! stderr and waits for its standard input to close, so a test can kill it
//! exactly there. It only ever waits; it changes nothing.
//!
//! Result files are written into the staging directory as they are rendered
//! (`Staging`, `ResultFile`), so a large result never has to fit in memory.
//! When a key is given, every file is encrypted (SM4-GCM, see
//! `crypto::sealed`) in memory before it is written and stored as `NAME.sm4`,
//! so plain results never reach the disk, whatever files a run produces.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use std::sync::atomic::{AtomicBool, Ordering};

use sha2::{Digest, Sha256};
use thiserror::Error;

use crate::crypto::{self, SealError, Sm4Key};

/// Why results could not be published.
#[derive(Debug, Error)]
pub enum PublishError {
    /// The target holds something that is not a recon results directory.
    #[error("{0}: exists and is not a recon results directory (no summary.json or summary.json.sm4): refusing to replace it; choose a new or empty directory")]
    NotResults(PathBuf),
    /// The target, or a directory above it, is a file.
    #[error(
        "{0}: is a file, not a directory, so no results directory can be created there; choose another --out"
    )]
    NotADirectory(PathBuf),
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
    /// Another run is writing results beside the target and `--no-wait` was given.
    #[error("{0}: another recon run is writing results here; not waiting (--no-wait): try again when it has finished")]
    Busy(PathBuf),
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

/// A results directory being written: result files go into a temporary
/// directory beside the target as they are produced, and `commit` swaps it
/// in. The parent directory stays locked from `begin` to the end. Dropped
/// without `commit` (a failed run), the staging directory is removed with
/// whatever was written, and the target is untouched.
pub struct Staging<'k> {
    target: PathBuf,
    dir: tempfile::TempDir,
    key: Option<&'k Sm4Key>,
    /// Held for its lock on the parent directory.
    _lock: fs::File,
    /// Whether a file has been written yet (for the `write` pause).
    first_written: AtomicBool,
}

impl<'k> Staging<'k> {
    /// Locks the parent of `target`, clears what killed runs left there,
    /// checks that `target` may be replaced and creates the staging
    /// directory beside it; with a key, every file will be encrypted.
    /// Without `wait`, a parent locked by another run is refused (`Busy`).
    pub fn begin(target: &Path, key: Option<&'k Sm4Key>, wait: bool) -> Result<Staging<'k>, PublishError> {
        if let Some(file) = target.ancestors().find(|a| a.is_file()) {
            return Err(PublishError::NotADirectory(file.into()));
        }
        let parent = parent_of(target);
        fs::create_dir_all(&parent).map_err(io(&parent, "cannot create the parent directory"))?;
        let lock = fs::File::open(&parent).map_err(io(&parent, "cannot open the parent directory"))?;
        if wait {
            lock.lock()
                .map_err(io(&parent, "cannot lock the parent directory"))?;
        } else {
            match lock.try_lock() {
                Ok(()) => {}
                Err(fs::TryLockError::WouldBlock) => return Err(PublishError::Busy(parent)),
                Err(fs::TryLockError::Error(e)) => {
                    return Err(io(&parent, "cannot lock the parent directory")(e))
                }
            }
        }
        clear_debris(target)?;
        check_replaceable(target)?;
        let dir = tempfile::Builder::new()
            .prefix(&debris_prefix(target, "new"))
            .tempdir_in(&parent)
            .map_err(io(&parent, "cannot create a temporary directory for the results"))?;
        crate::interrupt::set_staging(dir.path().to_path_buf());
        Ok(Staging {
            target: target.to_path_buf(),
            dir,
            key,
            _lock: lock,
            first_written: AtomicBool::new(false),
        })
    }

    /// Starts result file `name`: written to disk as it comes when plain;
    /// with a key, kept in memory and written encrypted as `NAME.sm4` by
    /// `ResultFile::finish`, so plain results never reach the disk.
    pub fn create(&self, name: &str) -> Result<ResultFile<'_>, PublishError> {
        let (path, sink) = match self.key {
            None => {
                let path = self.dir.path().join(name);
                let file = fs::File::create(&path).map_err(io(&path, "cannot create"))?;
                (path, Sink::Plain(file))
            }
            Some(key) => {
                let sealed_name = format!("{name}.{}", crypto::sealed::EXTENSION);
                // Room for the header: sealed in place at `finish`.
                let room = vec![0; crypto::sealed::HEADER_LEN];
                (self.dir.path().join(sealed_name), Sink::Sealed(room, key))
            }
        };
        Ok(ResultFile {
            staging: self,
            name: name.to_string(),
            path,
            sink,
            sha256: Sha256::new(),
            error: None,
        })
    }

    /// Writes a whole result file at once; returns its SHA-256 (lowercase hex).
    pub fn write(&self, name: &str, bytes: &[u8]) -> Result<String, PublishError> {
        let mut file = self.create(name)?;
        file.write_all(bytes).map_err(io(&file.path, "cannot write"))?;
        file.finish()
    }

    /// Makes the written files the complete contents of the target directory.
    pub fn commit(self) -> Result<(), PublishError> {
        restrict(self.dir.path(), 0o750)?;
        sync_dir(self.dir.path())?;
        pause_at("swap");
        swap_in(self.dir.keep(), &self.target)
    }
}

/// One result file being written into a `Staging` directory. Writes never
/// fail: the first error is kept and reported by `finish`, so renderers can
/// write rows without checking each one.
pub struct ResultFile<'s> {
    staging: &'s Staging<'s>,
    name: String,
    path: PathBuf,
    sink: Sink<'s>,
    /// Of the plain bytes, as the audit log records them.
    sha256: Sha256,
    error: Option<std::io::Error>,
}

enum Sink<'k> {
    /// Straight to the file.
    Plain(fs::File),
    /// Kept for encryption under the key at `finish`, after room for the header.
    Sealed(Vec<u8>, &'k Sm4Key),
}

impl Write for ResultFile<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.write_all(buf)?;
        Ok(buf.len())
    }

    fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        if self.error.is_none() {
            self.sha256.update(buf);
            match &mut self.sink {
                Sink::Plain(file) => self.error = file.write_all(buf).err(),
                Sink::Sealed(bytes, _) => bytes.extend_from_slice(buf),
            }
        }
        Ok(())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl ResultFile<'_> {
    /// Completes the file: synced to disk (encrypted first, with a key), or
    /// the first error met while writing it. Returns the SHA-256 (lowercase
    /// hex) of its plain bytes.
    pub fn finish(self) -> Result<String, PublishError> {
        if let Some(source) = self.error {
            return Err(PublishError::Io {
                path: self.path,
                action: "cannot write",
                source,
            });
        }
        match self.sink {
            Sink::Plain(file) => {
                file.sync_all().map_err(io(&self.path, "cannot sync"))?;
                restrict(&self.path, 0o640)?;
            }
            Sink::Sealed(mut bytes, key) => {
                crypto::sealed::seal_in_place(key, &mut bytes).map_err(|source| PublishError::Seal {
                    name: self.name,
                    source,
                })?;
                write_synced(&self.path, &bytes)?;
            }
        }
        if !self.staging.first_written.swap(true, Ordering::SeqCst) {
            pause_at("write");
        }
        Ok(crate::digest::hex(&self.sha256.finalize()))
    }
}

/// Waits at `point` when `RECON_TEST_PAUSE_AT` names it (see the module docs).
fn pause_at(point: &str) {
    if std::env::var_os("RECON_TEST_PAUSE_AT").is_some_and(|p| p == point) {
        eprintln!("recon: paused at {point} (RECON_TEST_PAUSE_AT); close stdin to continue");
        let _ = std::io::copy(&mut std::io::stdin(), &mut std::io::sink());
    }
}

/// `.DIR.recon-new-` / `.DIR.recon-old-`: names of temporary directories beside `dir`.
fn debris_prefix(dir: &Path, kind: &str) -> String {
    format!(".{}.recon-{kind}-", base_name(dir))
}

/// Removes what killed runs left beside `dir`, first putting previous results
/// back when a kill left `dir` missing. Callers hold the parent's lock.
fn clear_debris(dir: &Path) -> Result<(), PublishError> {
    let parent = parent_of(dir);
    let (new, old) = (debris_prefix(dir, "new"), debris_prefix(dir, "old"));
    let mut debris: Vec<(bool, PathBuf)> = Vec::new();
    for entry in fs::read_dir(&parent).map_err(io(&parent, "cannot list"))? {
        let entry = entry.map_err(io(&parent, "cannot list"))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with(&new) || name.starts_with(&old) {
            debris.push((name.starts_with(&old), entry.path()));
        }
    }
    for (is_old, path) in debris {
        if is_old && !dir.exists() {
            fs::rename(&path, dir).map_err(io(&path, "cannot restore the previous results"))?;
        } else {
            fs::remove_dir_all(&path).map_err(io(&path, "cannot remove what an interrupted run left"))?;
        }
    }
    Ok(())
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

fn sync_dir(path: &Path) -> Result<(), PublishError> {
    fs::File::open(path)
        .and_then(|d| d.sync_all())
        .map_err(io(path, "cannot sync the directory"))
}

/// Exchanges the new directory with the previous one in one step, syncs the
/// parent, then deletes the previous results (now at the staging path).
fn swap_in(staging: PathBuf, dir: &Path) -> Result<(), PublishError> {
    let parent = parent_of(dir);
    if dir.exists() {
        match exchange(&staging, dir) {
            Ok(true) => {
                sync_dir(&parent)?;
                pause_at("cleanup");
                return fs::remove_dir_all(&staging)
                    .map_err(io(&staging, "cannot remove the previous results"));
            }
            Ok(false) => {}
            Err(source) => {
                let _ = fs::remove_dir_all(&staging);
                return Err(PublishError::Io {
                    path: dir.into(),
                    action: "cannot swap the new results into place",
                    source,
                });
            }
        }
    }
    rename_in(staging, dir)
}

/// Atomically exchanges two paths; `Ok(false)` when the kernel or file system cannot.
#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> std::io::Result<bool> {
    use rustix::fs::{renameat_with, RenameFlags, CWD};
    use rustix::io::Errno;
    match renameat_with(CWD, a, CWD, b, RenameFlags::EXCHANGE) {
        Ok(()) => Ok(true),
        Err(Errno::INVAL | Errno::NOSYS | Errno::OPNOTSUPP) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Atomically exchanges two paths; `Ok(false)` when the kernel or file system cannot.
#[cfg(not(target_os = "linux"))]
fn exchange(_a: &Path, _b: &Path) -> std::io::Result<bool> {
    Ok(false)
}

/// Without an atomic exchange: moves the old directory aside, renames the new
/// one into place, then deletes the old one. Between the two renames the
/// target is absent, never mixed; `clear_debris` puts it back after a kill there.
fn rename_in(staging: PathBuf, dir: &Path) -> Result<(), PublishError> {
    let old = if dir.exists() {
        let aside = parent_of(dir).join(format!("{}{}", debris_prefix(dir, "old"), std::process::id()));
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
    sync_dir(&parent_of(dir))?;
    if let Some(aside) = old {
        pause_at("cleanup");
        fs::remove_dir_all(&aside).map_err(io(&aside, "cannot remove the previous results"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) {
        fs::create_dir_all(dir).unwrap();
        fs::write(dir.join(name), text).unwrap();
    }

    #[test]
    fn a_kill_between_the_two_renames_is_repaired_by_the_next_publish() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("out");
        // What a kill between "move aside" and "move in" leaves: no `out`, the
        // previous results aside, and the complete new ones in staging.
        write(
            &tmp.path().join(".out.recon-old-4242"),
            "summary.json",
            "previous",
        );
        write(
            &tmp.path().join(".out.recon-new-x1"),
            "summary.json",
            "interrupted",
        );
        clear_debris(&dir).unwrap();
        assert_eq!(fs::read_to_string(dir.join("summary.json")).unwrap(), "previous");
        let left: Vec<_> = fs::read_dir(tmp.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left, ["out"]);
    }

    #[test]
    fn renaming_in_replaces_the_previous_results_whole() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("out");
        write(&dir, "summary.json", "previous");
        write(&dir, "stale.csv", "previous");
        let staging = tmp.path().join(".out.recon-new-y");
        write(&staging, "summary.json", "new");
        rename_in(staging, &dir).unwrap();
        assert_eq!(fs::read_to_string(dir.join("summary.json")).unwrap(), "new");
        assert!(!dir.join("stale.csv").exists());
        assert_eq!(fs::read_dir(tmp.path()).unwrap().count(), 1);
    }
}
