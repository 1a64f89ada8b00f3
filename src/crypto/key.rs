//! SM4 key files: one line of 32 hex digits (a 128-bit key), optionally
//! followed by a newline, in a file only its owner may access. Reading
//! refuses a file that group or others can access, and never echoes key
//! material in an error. `generate` writes a fresh key from the operating
//! system's random source with mode 0600, never over an existing file.

use std::fmt;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use thiserror::Error;

use crate::digest::hex;

/// Bytes in an SM4 key.
pub const KEY_LEN: usize = 16;

/// Bytes of SHA-256(key) that make up the key id.
pub const KEY_ID_LEN: usize = 8;

/// The longest key file: 32 hex digits and a CRLF.
const MAX_FILE_LEN: u64 = 2 * KEY_LEN as u64 + 2;

/// A 128-bit SM4 key and its id. `Debug` shows only the id.
#[derive(Clone)]
pub struct Sm4Key {
    bytes: [u8; KEY_LEN],
    id: [u8; KEY_ID_LEN],
}

/// Why a key file could not be used or created.
#[derive(Debug, Error)]
pub enum KeyError {
    /// The key file could not be read, created or written.
    #[error("{path}: {action}: {source}")]
    Io {
        /// The key file.
        path: PathBuf,
        /// What was being done.
        action: &'static str,
        /// The OS error.
        source: std::io::Error,
    },
    /// Group or others have some access to the key file.
    #[error("{path}: the key file is accessible by group or others (mode {mode:04o}); it must be private to its owner: chmod 600 {path}")]
    Exposed {
        /// The key file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// The contents are not one 128-bit hex key.
    #[error("{path}: not an SM4 key file: {problem} (expected exactly 32 hex digits, a 128-bit key, optionally followed by a newline; create one with `recon keygen -o FILE`)")]
    Malformed {
        /// The key file.
        path: PathBuf,
        /// What is wrong, without quoting the contents.
        problem: String,
    },
    /// `generate` found something at the target path.
    #[error("{0}: already exists; keygen never overwrites a key file (it may still be needed to decrypt earlier results); choose a new name")]
    Exists(PathBuf),
    /// The operating system's random source failed.
    #[error("the operating system's random source failed: {0}")]
    Random(getrandom::Error),
}

impl Sm4Key {
    /// A key from its 16 raw bytes.
    pub fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
        let digest = Sha256::digest(bytes);
        let mut id = [0u8; KEY_ID_LEN];
        id.copy_from_slice(&digest[..KEY_ID_LEN]);
        Sm4Key { bytes, id }
    }

    /// Reads a key file, refusing one that group or others can access.
    pub fn load(path: &Path) -> Result<Self, KeyError> {
        let io = |action| {
            move |source| KeyError::Io {
                path: path.to_path_buf(),
                action,
                source,
            }
        };
        let meta = fs::metadata(path).map_err(io("cannot read the key file"))?;
        check_private(path, &meta)?;
        if meta.len() > MAX_FILE_LEN {
            return Err(KeyError::Malformed {
                path: path.to_path_buf(),
                problem: format!("the file is {} bytes long", meta.len()),
            });
        }
        let text = fs::read(path).map_err(io("cannot read the key file"))?;
        parse(&text)
            .map(Self::from_bytes)
            .map_err(|problem| KeyError::Malformed {
                path: path.to_path_buf(),
                problem,
            })
    }

    /// Creates a new key file at `path` (mode 0600) from the OS random source.
    pub fn generate(path: &Path) -> Result<Self, KeyError> {
        let mut bytes = [0u8; KEY_LEN];
        getrandom::fill(&mut bytes).map_err(KeyError::Random)?;
        let key = Self::from_bytes(bytes);
        let mut file = create_private(path)?;
        let written = file
            .write_all(format!("{}\n", hex(&key.bytes)).as_bytes())
            .and_then(|()| file.sync_all());
        if let Err(source) = written {
            drop(file);
            let _ = fs::remove_file(path);
            return Err(KeyError::Io {
                path: path.to_path_buf(),
                action: "cannot write the key file",
                source,
            });
        }
        Ok(key)
    }

    /// The raw key.
    pub fn bytes(&self) -> &[u8; KEY_LEN] {
        &self.bytes
    }

    /// The first 8 bytes of SHA-256 of the raw key: names the key without revealing it.
    pub fn id(&self) -> [u8; KEY_ID_LEN] {
        self.id
    }

    /// The key id as 16 lowercase hex digits.
    pub fn id_hex(&self) -> String {
        hex(&self.id)
    }
}

impl fmt::Debug for Sm4Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sm4Key {{ id: {} }}", self.id_hex())
    }
}

/// 32 hex digits, then at most a line ending.
fn parse(text: &[u8]) -> Result<[u8; KEY_LEN], String> {
    let body = text
        .strip_suffix(b"\n")
        .map_or(text, |t| t.strip_suffix(b"\r").unwrap_or(t));
    if body.len() != 2 * KEY_LEN {
        return Err(format!("found {} bytes before the line end", body.len()));
    }
    let digit = |pos: usize| {
        char::from(body[pos])
            .to_digit(16)
            .ok_or_else(|| format!("character {} is not a hex digit", pos + 1))
    };
    let mut key = [0u8; KEY_LEN];
    for (i, byte) in key.iter_mut().enumerate() {
        *byte = (digit(2 * i)? << 4 | digit(2 * i + 1)?) as u8;
    }
    Ok(key)
}

#[cfg(unix)]
fn check_private(path: &Path, meta: &fs::Metadata) -> Result<(), KeyError> {
    use std::os::unix::fs::PermissionsExt;
    let mode = meta.permissions().mode() & 0o7777;
    if mode & 0o077 != 0 {
        return Err(KeyError::Exposed {
            path: path.to_path_buf(),
            mode,
        });
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private(_path: &Path, _meta: &fs::Metadata) -> Result<(), KeyError> {
    Ok(())
}

/// Opens a new file that only its owner can read and write.
fn create_private(path: &Path) -> Result<fs::File, KeyError> {
    create_parent(path)?;
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let file = options.open(path).map_err(|source| match source.kind() {
        std::io::ErrorKind::AlreadyExists => KeyError::Exists(path.to_path_buf()),
        _ => KeyError::Io {
            path: path.to_path_buf(),
            action: "cannot create the key file",
            source,
        },
    })?;
    #[cfg(unix)]
    {
        // The umask can only remove bits; make the mode exactly 0600.
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(fs::Permissions::from_mode(0o600))
            .map_err(|source| KeyError::Io {
                path: path.to_path_buf(),
                action: "cannot set the key file's permissions",
                source,
            })?;
    }
    Ok(file)
}

/// Creates the missing directories above a new key file, owner-only (0700) on
/// Unix, so `keygen -o /etc/recon/keys/2026.key` works on a fresh machine.
fn create_parent(path: &Path) -> Result<(), KeyError> {
    let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty() && !p.exists()) else {
        return Ok(());
    };
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(parent).map_err(|source| KeyError::Io {
        path: parent.to_path_buf(),
        action: "cannot create the key file's directory",
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_hex_with_optional_line_ending() {
        let want = [
            0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10,
        ];
        for text in [
            "0123456789abcdeffedcba9876543210",
            "0123456789ABCDEFFEDCBA9876543210\n",
            "0123456789abcdefFEDCBA9876543210\r\n",
        ] {
            assert_eq!(parse(text.as_bytes()), Ok(want), "{text:?}");
        }
    }

    #[test]
    fn rejects_anything_else_without_quoting_it() {
        for (text, problem) in [
            ("", "0 bytes"),
            ("0123456789abcdeffedcba987654321", "31 bytes"),
            ("0123456789abcdeffedcba98765432100", "33 bytes"),
            ("0123456789abcdeffedcba9876543210\n\n", "33 bytes"),
            (" 123456789abcdeffedcba9876543210", "character 1 is not"),
            ("0123456789abcdeffedcba987654321g", "character 32 is not"),
        ] {
            let err = parse(text.as_bytes()).unwrap_err();
            assert!(err.contains(problem), "{text:?}: {err}");
        }
    }

    #[test]
    fn key_id_is_the_start_of_sha256_of_the_raw_key() {
        let key = Sm4Key::from_bytes([0u8; KEY_LEN]);
        // SHA-256 of 16 zero bytes begins 374708fff7719dd5.
        assert_eq!(key.id_hex(), "374708fff7719dd5");
        assert_eq!(format!("{key:?}"), "Sm4Key { id: 374708fff7719dd5 }");
    }
}
