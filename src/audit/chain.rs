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

/// `kind` of the entry that closes a torn line.
pub const RECOVERED: &str = "recovered";

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
        self.append_line(body).map(|(seq, _)| seq)
    }

    /// `append`, returning the new line's number and SHA-256. A torn last
    /// line (an append cut short by a crash or a full disk) is first closed
    /// and named by a `recovered` entry (see `recover`).
    pub fn append_line<T: Serialize>(&self, body: &T) -> Result<(u64, String), AuditError> {
        self.locked(Some(body)).map(|(_, appended, seq)| (seq, appended))
    }

    /// Closes a torn last line, if there is one, with a `recovered` entry
    /// that names the fragment's line, byte offset, length and SHA-256 and
    /// chains from the last complete line, so the chain verifies again and
    /// confirmations stay in force. Returns the entry's line number.
    pub fn recover(&self) -> Result<Option<u64>, AuditError> {
        self.locked(None::<&()>)
            .map(|(recovered, _, seq)| recovered.then_some(seq))
    }

    /// Under the exclusive lock: recovers a torn tail, then appends `body`
    /// (if any). Returns whether a torn line was recovered, and the last
    /// line's SHA-256 and number.
    fn locked<T: Serialize>(&self, body: Option<&T>) -> Result<(bool, String, u64), AuditError> {
        let path = &self.path;
        self.file.lock().map_err(io(path, "cannot lock the audit log"))?;
        let result = self.write_locked(body);
        self.file
            .unlock()
            .map_err(io(path, "cannot unlock the audit log"))?;
        result
    }

    fn write_locked<T: Serialize>(&self, body: Option<&T>) -> Result<(bool, String, u64), AuditError> {
        let path = &self.path;
        let existing = read_all(&self.file).map_err(io(path, "cannot read the audit log"))?;
        let lines = split_lines(&existing);
        let mut text = String::new();
        let mut seq = lines.len() as u64;
        let torn = !existing.is_empty() && !existing.ends_with(b"\n");
        let mut prev = match (torn, lines.len()) {
            (true, n) if n >= 2 => sha256_hex(lines[n - 2]),
            (true, _) => GENESIS.to_string(),
            (false, _) => lines
                .last()
                .map_or_else(|| GENESIS.to_string(), |l| sha256_hex(l)),
        };
        if torn {
            let fragment = lines.last().copied().unwrap_or_default();
            let recovered = serde_json::json!({
                "kind": RECOVERED,
                "fragment_line": seq,
                "fragment_offset": existing.len() - fragment.len(),
                "fragment_len": fragment.len(),
                "fragment_sha256": sha256_hex(fragment),
                "tool": super::entry::tool(),
                "recovered_at": super::entry::timestamp(chrono::Utc::now()),
            });
            seq += 1;
            let sealed = seal(seq, &prev, &recovered);
            prev = sha256_hex(sealed.as_bytes());
            text.push('\n');
            text.push_str(&sealed);
            text.push('\n');
        }
        if let Some(body) = body {
            seq += 1;
            let sealed = seal(seq, &prev, body);
            prev = sha256_hex(sealed.as_bytes());
            text.push_str(&sealed);
            text.push('\n');
        }
        if text.is_empty() {
            return Ok((false, prev, seq));
        }
        let mut file = &self.file;
        file.write_all(text.as_bytes())
            .map_err(io(path, "cannot append to the audit log"))?;
        file.sync_data().map_err(io(path, "cannot sync the audit log"))?;
        Ok((torn, prev, seq))
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

/// Whether `next` is a sealed `recovered` entry naming `fragment` (line
/// `n`, at byte `at`) and chaining from `prev`, the line before the fragment.
fn names_fragment(next: Option<&[u8]>, n: u64, at: usize, fragment: &[u8], prev: &str) -> bool {
    let Some(next) = next.filter(|l| seal_holds(l)) else {
        return false;
    };
    let Ok(entry) = serde_json::from_slice::<serde_json::Value>(next) else {
        return false;
    };
    let field = |name: &str| entry.get(name).cloned().unwrap_or_default();
    field("kind") == RECOVERED
        && field("seq") == n + 1
        && field("prev") == prev
        && field("fragment_line") == n
        && field("fragment_offset") == at as u64
        && field("fragment_sha256") == sha256_hex(fragment).as_str()
}

/// Checks every line's shape, number, seal and link to the line before. A
/// torn line is accepted only when a `recovered` entry right after it names it.
pub fn verify(bytes: &[u8]) -> Verification {
    let lines = split_lines(bytes);
    let mut prev = GENESIS.to_string();
    let fail = |line: u64, message: String, head: String| Verification {
        lines: lines.len() as u64,
        head,
        problem: Some(Problem { line, message }),
    };
    let mut offset = 0usize;
    let mut fragment_ok = false;
    for (line, n) in lines.iter().zip(1u64..) {
        let at = offset;
        offset += line.len() + 1;
        if fragment_ok {
            // This line is the `recovered` entry that named the fragment before it.
            fragment_ok = false;
        } else if names_fragment(lines.get(n as usize).copied(), n, at, line, &prev) {
            fragment_ok = true;
            continue;
        }
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
    fn an_append_after_a_torn_line_recovers_it_and_the_chain_verifies() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("audit.log");
        let whole = log_of(1);
        let fragment = "{\"seq\":2,\"pre";
        std::fs::write(&path, format!("{whole}{fragment}")).unwrap();
        let log = Log::open(&path).unwrap();
        assert!(log.contents().unwrap().verification.problem.is_some());
        assert_eq!(log.append(&serde_json::json!({"kind": "run"})).unwrap(), 4);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with(&format!("{whole}{fragment}\n")));
        let lines: Vec<&str> = text.lines().collect();
        let recovered: serde_json::Value = serde_json::from_str(lines[2]).unwrap();
        assert_eq!(recovered["kind"], RECOVERED);
        assert_eq!(recovered["fragment_line"], 2);
        assert_eq!(recovered["fragment_offset"], whole.len());
        assert_eq!(recovered["fragment_sha256"], sha256_hex(fragment.as_bytes()));
        assert_eq!(recovered["prev"], sha256_hex(lines[0].as_bytes()));
        let v = log.contents().unwrap().verification;
        assert_eq!((v.lines, v.problem), (4, None));
        // A fragment no recovered entry names is still caught.
        let edited = text.replace(fragment, "{\"seq\":2,\"prX");
        assert!(verify(edited.as_bytes()).problem.is_some());
        assert_eq!(log.recover().unwrap(), None);
    }
}
