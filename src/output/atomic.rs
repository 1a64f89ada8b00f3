//! Publishing a results directory all at once: files are written into a
//! temporary directory beside the target, synced, and swapped in by rename,
//! so a failed or killed run leaves the previous complete results (or none),
//! never a mix. Plain result files are written as they are rendered, so a
//! large result never has to fit in memory. When a key is given, every file
//! is encrypted (SM4-GCM, see `crypto::sealed`) in memory before it is
//! written and stored as `NAME.sm4`, so plain results never reach the disk,
//! whatever files a run produces.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

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

/// A results directory being written: result files go into a temporary
/// directory beside the target as they are produced, and `commit` swaps it
/// in. Dropped without `commit` (a failed run), it is removed with whatever
/// was written, and the target is untouched.
pub struct Staging<'k> {
    target: PathBuf,
    dir: tempfile::TempDir,
    key: Option<&'k Sm4Key>,
}

impl<'k> Staging<'k> {
    /// Checks that `target` may be replaced and creates the staging
    /// directory beside it; with a key, every file will be encrypted.
    pub fn begin(target: &Path, key: Option<&'k Sm4Key>) -> Result<Staging<'k>, PublishError> {
        check_replaceable(target)?;
        let parent = parent_of(target);
        fs::create_dir_all(&parent).map_err(io(&parent, "cannot create the parent directory"))?;
        let dir = tempfile::Builder::new()
            .prefix(&format!(".{}.recon-new-", base_name(target)))
            .tempdir_in(&parent)
            .map_err(io(&parent, "cannot create a temporary directory for the results"))?;
        Ok(Staging {
            target: target.to_path_buf(),
            dir,
            key,
        })
    }

    /// Starts result file `name`: written to disk as it comes when plain;
    /// with a key, kept in memory and written encrypted as `NAME.sm4` by
    /// `ResultFile::finish`, so plain results never reach the disk.
    pub fn create(&self, name: &str) -> Result<ResultFile<'k>, PublishError> {
        let (path, sink) = match self.key {
            None => {
                let path = self.dir.path().join(name);
                let file = fs::File::create(&path).map_err(io(&path, "cannot create"))?;
                (path, Sink::Plain(file))
            }
            Some(key) => {
                let sealed_name = format!("{name}.{}", crypto::sealed::EXTENSION);
                (self.dir.path().join(sealed_name), Sink::Sealed(Vec::new(), key))
            }
        };
        Ok(ResultFile {
            name: name.to_string(),
            path,
            sink,
            error: None,
        })
    }

    /// Writes a whole result file at once.
    pub fn write(&self, name: &str, bytes: &[u8]) -> Result<(), PublishError> {
        let mut file = self.create(name)?;
        file.write_all(bytes).map_err(io(&file.path, "cannot write"))?;
        file.finish()
    }

    /// Makes the written files the complete contents of the target directory.
    pub fn commit(self) -> Result<(), PublishError> {
        restrict(self.dir.path(), 0o750)?;
        swap_in(self.dir.keep(), &self.target)
    }
}

/// One result file being written into a `Staging` directory. Writes never
/// fail: the first error is kept and reported by `finish`, so renderers can
/// write rows without checking each one.
pub struct ResultFile<'k> {
    name: String,
    path: PathBuf,
    sink: Sink<'k>,
    error: Option<std::io::Error>,
}

enum Sink<'k> {
    /// Straight to the file.
    Plain(fs::File),
    /// Kept for encryption under the key at `finish`.
    Sealed(Vec<u8>, &'k Sm4Key),
}

impl Write for ResultFile<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.write_all(buf)?;
        Ok(buf.len())
    }

    fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        if self.error.is_none() {
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
    /// the first error met while writing it.
    pub fn finish(self) -> Result<(), PublishError> {
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
                restrict(&self.path, 0o640)
            }
            Sink::Sealed(plain, key) => {
                let sealed = crypto::seal(key, &plain).map_err(|source| PublishError::Seal {
                    name: self.name,
                    source,
                })?;
                drop(plain);
                write_synced(&self.path, &sealed)
            }
        }
    }
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
