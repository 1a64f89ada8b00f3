//! The audit log file as a hash chain of JSON lines: sealing and appending a
//! line under an exclusive file lock, reading under a shared lock, and
//! verifying the chain. What goes into a line is `entry`'s job.
//!
//! Every line is one JSON object that starts with `"seq"` (its 1-based line
//! number) and `"prev"` (the SHA-256 of the previous line's text, or
//! [`GENESIS`] on the first line), and ends with `"sha256"`: the SHA-256 of
//! the line with that last member removed (the text up to `,"sha256":"…"`,
//! plus the closing `}`).

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;
use thiserror::Error;

use crate::digest::sha256_hex;

/// `prev` of the first line: 64 zeros.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// `,"sha256":"` + 64 hex digits + `"}`.
const SEAL_LEN: usize = 11 + 64 + 2;

/// Why the audit log could not be used.
#[derive(Debug, Error)]
#[error("{path}: {action}: {error}")]
pub struct AuditError {
    /// The audit log.
    pub path: PathBuf,
    /// What was being done.
    pub action: &'static str,
    /// The OS error (shown in the message, so not a `source`).
    pub error: std::io::Error,
}

fn io<'a>(path: &'a Path, action: &'static str) -> impl FnOnce(std::io::Error) -> AuditError + 'a {
    move |error| AuditError {
        path: path.to_path_buf(),
        action,
        error,
    }
}

/// An audit log opened for appending (created with mode 0640 when missing).
#[derive(Debug)]
pub struct Log {
    path: PathBuf,
    file: File,
}

/// The first thing wrong with a chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The 1-based line it concerns.
    pub line: u64,
    /// What happened to it.
    pub message: String,
}

/// The result of checking a chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    /// Lines read.
    pub lines: u64,
    /// SHA-256 of the last line (the next line's `prev`).
    pub head: String,
    /// The first problem, if any.
    pub problem: Option<Problem>,
}

/// One line of a log that parses as a JSON object.
#[derive(Debug, Clone)]
pub struct Line {
    /// Its 1-based line number.
    pub number: u64,
    /// Its text, as stored.
    pub text: String,
    /// Its parsed content.
    pub entry: serde_json::Value,
}

/// The lines of a log that parse as JSON objects, and the chain check.
#[derive(Debug, Clone)]
pub struct Contents {
    /// Every line that parses.
    pub entries: Vec<Line>,
    /// The chain check.
    pub verification: Verification,
}

impl Log {
    /// Opens (creating it and its directory when missing) the audit log for appending.
    pub fn open(path: &Path) -> Result<Log, AuditError> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(io(parent, "cannot create the audit log's directory"))?;
        }
        let mut options = OpenOptions::new();
        options.read(true).append(true).create(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o640);
        let file = options
            .open(path)
            .map_err(io(path, "cannot open the audit log for appending"))?;
        Ok(Log {
            path: path.to_path_buf(),
            file,
        })
    }

    /// The log's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends `body` (a JSON object) as one sealed line. Holds an exclusive
    /// lock while it reads the last line and writes the new one in a single
    /// write, then syncs, so concurrent runs never interleave or fork the chain.
    /// Returns the new line's number.
    pub fn append<T: Serialize>(&self, body: &T) -> Result<u64, AuditError> {
        let path = &self.path;
        self.file.lock().map_err(io(path, "cannot lock the audit log"))?;
        let existing = read_all(&self.file).map_err(io(path, "cannot read the audit log"))?;
        let lines = split_lines(&existing);
        let prev = lines
            .last()
            .map_or_else(|| GENESIS.to_string(), |l| sha256_hex(l));
        let seq = lines.len() as u64 + 1;
        let sealed = seal(seq, &prev, body);
        let mut text = String::with_capacity(sealed.len() + 2);
        if !existing.is_empty() && !existing.ends_with(b"\n") {
            // An interrupted append left a partial line: keep it on its own line.
            text.push('\n');
        }
        text.push_str(&sealed);
        text.push('\n');
        let mut file = &self.file;
        file.write_all(text.as_bytes())
            .map_err(io(path, "cannot append to the audit log"))?;
        file.sync_data().map_err(io(path, "cannot sync the audit log"))?;
        self.file
            .unlock()
            .map_err(io(path, "cannot unlock the audit log"))?;
        Ok(seq)
    }

    /// Reads and checks the whole log under a shared lock.
    pub fn contents(&self) -> Result<Contents, AuditError> {
        contents_of(&self.file, &self.path)
    }
}

/// Reads and checks an existing audit log (never creates one).
pub fn read(path: &Path) -> Result<Contents, AuditError> {
    let file = File::open(path).map_err(io(path, "cannot open the audit log"))?;
    if file.metadata().is_ok_and(|m| m.is_dir()) {
        return Err(AuditError {
            path: path.into(),
            action: "cannot read the audit log",
            error: std::io::Error::new(std::io::ErrorKind::IsADirectory, "it is a directory"),
        });
    }
    contents_of(&file, path)
}

fn contents_of(file: &File, path: &Path) -> Result<Contents, AuditError> {
    file.lock_shared()
        .map_err(io(path, "cannot lock the audit log"))?;
    let bytes = read_all(file).map_err(io(path, "cannot read the audit log"));
    file.unlock().map_err(io(path, "cannot unlock the audit log"))?;
    let bytes = bytes?;
    let entries = split_lines(&bytes)
        .iter()
        .zip(1u64..)
        .filter_map(|(line, number)| {
            let text = std::str::from_utf8(line).ok()?;
            let entry: serde_json::Value = serde_json::from_str(text).ok()?;
            entry.is_object().then(|| Line {
                number,
                text: text.to_string(),
                entry,
            })
        })
        .collect();
    Ok(Contents {
        entries,
        verification: verify(&bytes),
    })
}

fn read_all(mut file: &File) -> std::io::Result<Vec<u8>> {
    file.seek(SeekFrom::Start(0))?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// Lines without their `\n`; a final piece without `\n` counts as a line.
fn split_lines(bytes: &[u8]) -> Vec<&[u8]> {
    if bytes.is_empty() {
        return Vec::new();
    }
    let body = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    body.split(|&b| b == b'\n').collect()
}

#[derive(Serialize)]
struct Unsealed<'a, T> {
    seq: u64,
    prev: &'a str,
    #[serde(flatten)]
    body: &'a T,
}

/// The line for `body`: `{"seq":…,"prev":…,<body>,"sha256":…}`.
fn seal<T: Serialize>(seq: u64, prev: &str, body: &T) -> String {
    let mut text = serde_json::to_string(&Unsealed { seq, prev, body }).expect("audit entries serialize");
    let digest = sha256_hex(text.as_bytes());
    text.pop();
    text.push_str(",\"sha256\":\"");
    text.push_str(&digest);
    text.push_str("\"}");
    text
}

/// The line's own seal, when it has the sealed shape and the seal holds.
fn seal_holds(line: &[u8]) -> bool {
    let Some(cut) = line.len().checked_sub(SEAL_LEN) else {
        return false;
    };
    let (body, seal) = line.split_at(cut);
    let Some(digest) = seal
        .strip_prefix(b",\"sha256\":\"")
        .and_then(|s| s.strip_suffix(b"\"}"))
    else {
        return false;
    };
    let mut unsealed = body.to_vec();
    unsealed.push(b'}');
    sha256_hex(&unsealed).as_bytes() == digest
}

/// Checks every line's shape, number, seal and link to the line before.
pub fn verify(bytes: &[u8]) -> Verification {
    let lines = split_lines(bytes);
    let mut prev = GENESIS.to_string();
    let fail = |line: u64, message: String, head: String| Verification {
        lines: lines.len() as u64,
        head,
        problem: Some(Problem { line, message }),
    };
    for (line, n) in lines.iter().zip(1u64..) {
        if n == lines.len() as u64 && !bytes.ends_with(b"\n") {
            return fail(
                n,
                format!("line {n} is incomplete (no newline at the end): an append was interrupted or the end was cut"),
                prev,
            );
        }
        let parsed: Option<serde_json::Value> = serde_json::from_slice(line).ok();
        let field = |name: &str| parsed.as_ref().and_then(|v| v.get(name)).cloned();
        let (Some(seq), Some(link)) = (
            field("seq").and_then(|v| v.as_u64()),
            field("prev").and_then(|v| v.as_str().map(String::from)),
        ) else {
            return fail(
                n,
                format!("line {n} is not a recon audit entry: it was altered or damaged"),
                prev,
            );
        };
        if seq > n {
            let removed = if seq == n + 1 {
                format!("line {n} was removed")
            } else {
                format!("lines {n} to {} were removed", seq - 1)
            };
            return fail(
                n,
                format!("{removed}: the line now at {n} carries seq {seq}"),
                prev,
            );
        }
        if seq < n {
            return fail(
                n,
                format!("line {n} carries seq {seq}, which an earlier line already has: a line was copied or inserted"),
                prev,
            );
        }
        if !seal_holds(line) {
            return fail(
                n,
                format!("line {n} was altered: its content no longer matches its sha256"),
                prev,
            );
        }
        if link != prev {
            let message = if n == 1 {
                "line 1's prev is not the genesis value: lines before it were removed".to_string()
            } else {
                format!(
                    "line {} was altered or replaced: line {n}'s prev does not match it",
                    n - 1
                )
            };
            return fail(n.saturating_sub(1).max(1), message, prev);
        }
        prev = sha256_hex(line);
    }
    Verification {
        lines: lines.len() as u64,
        head: prev,
        problem: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log_of(n: u64) -> String {
        let mut text = String::new();
        let mut prev = GENESIS.to_string();
        for seq in 1..=n {
            let line = seal(seq, &prev, &serde_json::json!({"kind": "run", "n": seq}));
            prev = sha256_hex(line.as_bytes());
            text.push_str(&line);
            text.push('\n');
        }
        text
    }

    fn problem(text: &str) -> Option<Problem> {
        verify(text.as_bytes()).problem
    }

    #[test]
    fn an_intact_chain_verifies() {
        let v = verify(log_of(3).as_bytes());
        assert_eq!(v.lines, 3);
        assert_eq!(v.problem, None);
        assert_eq!(verify(b"").lines, 0);
        assert_eq!(verify(b"").head, GENESIS);
    }

    #[test]
    fn edits_removals_and_forgeries_are_named() {
        let text = log_of(3);
        let lines: Vec<&str> = text.lines().collect();

        let edited = text.replace("\"n\":2", "\"n\":9");
        assert_eq!(problem(&edited).unwrap().line, 2);

        let removed = format!("{}\n{}\n", lines[0], lines[2]);
        let p = problem(&removed).unwrap();
        assert_eq!((p.line, p.message.starts_with("line 2 was removed")), (2, true));

        let first_removed = format!("{}\n{}\n", lines[1], lines[2]);
        assert!(problem(&first_removed)
            .unwrap()
            .message
            .starts_with("line 1 was removed"));

        // Line 2 rewritten with a fresh, valid seal: caught by line 3's link.
        let prev1 = sha256_hex(lines[0].as_bytes());
        let forged = seal(2, &prev1, &serde_json::json!({"kind": "run", "n": 99}));
        let p = problem(&format!("{}\n{forged}\n{}\n", lines[0], lines[2])).unwrap();
        assert_eq!(p.line, 2);
        assert!(
            p.message.contains("line 2 was altered or replaced"),
            "{}",
            p.message
        );

        let cut = &text[..text.len() - 10];
        assert!(problem(cut).unwrap().message.contains("incomplete"));
        assert!(problem(&format!("{text}\n"))
            .unwrap()
            .message
            .contains("line 4 is not"));
    }

    #[test]
    fn an_append_after_a_torn_line_keeps_it_apart_and_earlier_lines_intact() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("audit.log");
        let whole = log_of(1);
        std::fs::write(&path, format!("{whole}{{\"seq\":2,\"pre")).unwrap();
        let log = Log::open(&path).unwrap();
        assert_eq!(log.append(&serde_json::json!({"kind": "run"})).unwrap(), 3);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with(&whole));
        assert_eq!(text.lines().count(), 3);
        let p = log.contents().unwrap().verification.problem.unwrap();
        assert_eq!(p.line, 2);
        assert!(
            p.message.contains("line 2 is not a recon audit entry"),
            "{}",
            p.message
        );
    }
}
