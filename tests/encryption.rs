//! Results encrypted at rest with SM4-GCM, through the binary: `keygen`,
//! `run --encrypt-key-file` / `RECON_KEY_FILE`, and `decrypt` of single
//! files and whole directories, including tampered files, wrong keys and
//! key files that others can read.
#![cfg(unix)]

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use common::{data, recon, run_ledger, stderr};
use sha2::{Digest, Sha256};

/// The GB/T 32907 example key, used where a fixed key makes failures reproducible.
const FIXED_KEY: &str = "0123456789abcdeffedcba9876543210";

/// `recon run` on a ledger with two bad rows and `--skip-bad-rows`, so every
/// output is produced, rejected.csv included.
fn run_all_outputs(out: &Path) -> Command {
    let mut cmd = run_ledger(data("run/ledger_bad_rows.csv"), out);
    cmd.arg("--skip-bad-rows");
    cmd
}

/// [`run_all_outputs`] with its results encrypted under the key file `key`.
fn run_sealed(out: &Path, key: &Path) -> Command {
    let mut cmd = run_all_outputs(out);
    cmd.arg("--encrypt-key-file").arg(key);
    cmd
}

/// [`run_sealed`], which finds the example day's exceptions (exit 1).
fn run_encrypted(out: &Path, key: &Path) {
    run_sealed(out, key).assert().code(1);
}

/// A temporary directory holding the key file `k` (the fixed key) and the
/// results `out` of an encrypted run with it: `(directory, key, out)`.
fn encrypted_results() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let key = write_key(&tmp.path().join("k"), FIXED_KEY, 0o600);
    let out = tmp.path().join("out");
    run_encrypted(&out, &key);
    (tmp, key, out)
}

fn write_key(path: &Path, text: &str, mode: u32) -> PathBuf {
    fs::write(path, text).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
    path.to_path_buf()
}

fn keygen(path: &Path) -> String {
    let out = recon().args(["keygen", "-o"]).arg(path).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    stdout.trim_end().rsplit(' ').next().unwrap().to_string()
}

fn key_id(hex_key: &str) -> String {
    let raw: Vec<u8> = (0..32)
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex_key[i..i + 2], 16).unwrap())
        .collect();
    Sha256::digest(&raw)[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// File names in a directory, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}

/// summary.json without what differs between two runs of the same inputs.
fn comparable_summary(bytes: &[u8]) -> serde_json::Value {
    let mut v: serde_json::Value = serde_json::from_slice(bytes).unwrap();
    let map = v.as_object_mut().unwrap();
    for volatile in [
        "started_at",
        "finished_at",
        "encryption",
        "run_id",
        "audit_log",
        "audit_started_line",
        "audit_started_sha256",
    ] {
        map.remove(volatile);
    }
    v
}

/// report.html without its header, which shows the run's start and end times.
fn comparable_report(bytes: &[u8]) -> String {
    let text = String::from_utf8(bytes.to_vec()).unwrap();
    let (start, end) = (text.find("<header>").unwrap(), text.find("</header>").unwrap());
    format!("{}{}", &text[..start], &text[end..])
}

#[test]
fn every_output_round_trips_and_no_plain_result_reaches_the_disk() {
    let tmp = tempfile::tempdir().unwrap();
    let plain = tmp.path().join("plain");
    run_all_outputs(&plain).assert().code(1);
    let key = tmp.path().join("results.key");
    let id = keygen(&key);
    let enc = tmp.path().join("enc");
    let run = run_sealed(&enc, &key).output().unwrap();
    assert_eq!(run.status.code(), Some(1), "{}", stderr(&run));
    assert!(String::from_utf8_lossy(&run.stdout).contains(&format!("key id {id}")));

    let plain_names = names(&plain);
    assert!(
        plain_names.contains(&"rejected.csv".to_string()),
        "{plain_names:?}"
    );
    let sealed_names: Vec<String> = plain_names.iter().map(|n| format!("{n}.sm4")).collect();
    assert_eq!(
        names(&enc),
        sealed_names,
        "every output, and only outputs, encrypted"
    );
    for name in &sealed_names {
        let bytes = fs::read(enc.join(name)).unwrap();
        assert_eq!(&bytes[..9], b"RECONSM4\x01", "{name}");
        for clear in ["P001", "6217000012341294", "conservation"] {
            assert!(
                !bytes.windows(clear.len()).any(|w| w == clear.as_bytes()),
                "{name} holds {clear} in clear"
            );
        }
    }

    let dec = tmp.path().join("dec");
    recon()
        .args(["decrypt", "--dir"])
        .arg(&enc)
        .arg("-o")
        .arg(&dec)
        .arg("--key-file")
        .arg(&key)
        .assert()
        .code(0);
    assert_eq!(names(&dec), plain_names);
    for name in &plain_names {
        let (want, got) = (
            fs::read(plain.join(name)).unwrap(),
            fs::read(dec.join(name)).unwrap(),
        );
        if name == "summary.json" {
            assert_eq!(comparable_summary(&got), comparable_summary(&want));
            let summary: serde_json::Value = serde_json::from_slice(&got).unwrap();
            assert_eq!(summary["encryption"]["cipher"], "SM4-GCM");
            assert_eq!(summary["encryption"]["key_id"], id.as_str());
        } else if name == "report.html" {
            assert_eq!(comparable_report(&got), comparable_report(&want));
        } else {
            assert!(got == want, "{name} differs after the round trip");
        }
        let mode = fs::metadata(dec.join(name)).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{name}: decrypted files are private");
    }
}

#[test]
fn key_file_from_the_environment_and_encrypted_results_are_replaced_whole() {
    let tmp = tempfile::tempdir().unwrap();
    let key = write_key(&tmp.path().join("k"), &format!("{FIXED_KEY}\n"), 0o600);
    let out = tmp.path().join("out");
    run_all_outputs(&out).assert().code(1);
    for _ in 0..2 {
        // Plain results, then encrypted ones, are each replaced by an encrypted run.
        run_all_outputs(&out).env("RECON_KEY_FILE", &key).assert().code(1);
        assert!(
            names(&out).iter().all(|n| n.ends_with(".sm4")),
            "{:?}",
            names(&out)
        );
    }
    let empty = run_all_outputs(&out).env("RECON_KEY_FILE", "").output().unwrap();
    assert_eq!(
        empty.status.code(),
        Some(2),
        "an empty RECON_KEY_FILE is not a plain run"
    );
    let printed = recon()
        .args(["decrypt", "-o", "-"])
        .arg(out.join("summary.json.sm4"))
        .env("RECON_KEY_FILE", &key)
        .output()
        .unwrap();
    assert_eq!(printed.status.code(), Some(0), "{}", stderr(&printed));
    let summary: serde_json::Value = serde_json::from_slice(&printed.stdout).unwrap();
    assert_eq!(summary["encryption"]["key_id"], key_id(FIXED_KEY).as_str());
    // Main's nine files plus report.html and resolutions.csv, all sealed.
    assert_eq!(names(&out).len(), 9 + 2, "-o - wrote nothing to disk");
}

#[test]
fn a_changed_byte_anywhere_is_an_authentication_failure_and_writes_nothing() {
    let (tmp, key, out) = encrypted_results();
    let sealed = fs::read(out.join("matched.csv.sm4")).unwrap();
    let places = [
        ("magic", 0),
        ("version", 8),
        ("nonce", 9 + 5),
        ("key id", 21 + 3),
        ("body", 29 + 40),
        ("tag", sealed.len() - 1),
    ];
    let work = tmp.path().join("work");
    fs::create_dir(&work).unwrap();
    for (what, at) in places {
        let mut changed = sealed.clone();
        changed[at] ^= 0x20;
        let file = work.join("matched.csv.sm4");
        fs::write(&file, &changed).unwrap();
        let result = recon()
            .arg("decrypt")
            .arg(&file)
            .arg("--key-file")
            .arg(&key)
            .output()
            .unwrap();
        let err = stderr(&result);
        assert_eq!(result.status.code(), Some(2), "{what}: {err}");
        assert!(err.contains("authentication failed"), "{what}: {err}");
        assert!(err.contains("nothing was written"), "{what}: {err}");
        assert!(result.stdout.is_empty(), "{what}");
        assert_eq!(
            names(&work),
            ["matched.csv.sm4"],
            "{what}: something was left behind"
        );
    }
    let mut truncated = sealed.clone();
    truncated.truncate(sealed.len() - 1);
    fs::write(work.join("matched.csv.sm4"), &truncated).unwrap();
    let result = recon()
        .args(["decrypt", "-o", "-"])
        .arg(work.join("matched.csv.sm4"))
        .arg("--key-file")
        .arg(&key)
        .output()
        .unwrap();
    assert_eq!(result.status.code(), Some(2));
    assert!(
        stderr(&result).contains("changed or damaged"),
        "{}",
        stderr(&result)
    );
    assert!(result.stdout.is_empty(), "no plain bytes on stdout either");
}

#[test]
fn one_tampered_file_stops_a_directory_before_any_plain_file_is_written() {
    let (_tmp, key, out) = encrypted_results();
    let victim = out.join("unmatched.csv.sm4");
    let mut bytes = fs::read(&victim).unwrap();
    bytes[35] ^= 1;
    fs::write(&victim, bytes).unwrap();
    let before = names(&out);
    let result = recon()
        .args(["decrypt", "--dir"])
        .arg(&out)
        .arg("--key-file")
        .arg(&key)
        .output()
        .unwrap();
    assert_eq!(result.status.code(), Some(2));
    let err = stderr(&result);
    assert!(
        err.contains("unmatched.csv.sm4: nothing was written: authentication failed"),
        "{err}"
    );
    assert_eq!(
        names(&out),
        before,
        "no plain file written beside the encrypted ones"
    );
}

#[test]
fn the_wrong_key_is_named_and_nothing_is_written() {
    let (tmp, _, out) = encrypted_results();
    let other_hex = "00112233445566778899aabbccddeeff";
    let other = write_key(&tmp.path().join("other"), other_hex, 0o600);
    let before = names(&out);
    for args in [vec!["decrypt", "--dir"], vec!["decrypt"]] {
        let target = if args.len() == 2 {
            out.clone()
        } else {
            out.join("matched.csv.sm4")
        };
        let result = recon()
            .args(&args)
            .arg(&target)
            .arg("--key-file")
            .arg(&other)
            .output()
            .unwrap();
        let err = stderr(&result);
        assert_eq!(result.status.code(), Some(2), "{err}");
        assert!(err.contains("authentication failed"), "{err}");
        assert!(
            err.contains(&format!(
                "names key id {}, the key file holds key id {}",
                key_id(FIXED_KEY),
                key_id(other_hex)
            )),
            "{err}"
        );
        assert!(err.contains("wrong key"), "{err}");
        assert_eq!(names(&out), before);
    }
}

#[test]
fn a_key_file_others_can_access_or_that_is_malformed_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    for mode in [0o644, 0o640, 0o604, 0o620] {
        let key = write_key(&tmp.path().join("open.key"), FIXED_KEY, mode);
        let result = run_sealed(&out, &key).output().unwrap();
        let err = stderr(&result);
        assert_eq!(result.status.code(), Some(2), "{mode:o}: {err}");
        assert!(
            err.contains(&format!("accessible by group or others (mode {mode:04o})")),
            "{err}"
        );
        assert!(err.contains("chmod 600"), "{err}");
        assert!(!out.exists(), "{mode:o}: nothing may be written");
    }
    for (text, problem) in [
        ("0123456789abcdef", "found 16 bytes"),
        (
            "0123456789abcdeffedcba987654321z\n",
            "character 32 is not a hex digit",
        ),
        (
            "0123456789abcdeffedcba9876543210\n0123",
            "the file is 37 bytes long",
        ),
    ] {
        let key = write_key(&tmp.path().join("bad.key"), text, 0o600);
        let result = run_sealed(&out, &key).output().unwrap();
        let err = stderr(&result);
        assert_eq!(result.status.code(), Some(2), "{err}");
        assert!(
            err.contains("not an SM4 key file") && err.contains(problem),
            "{err}"
        );
        assert!(!err.contains("0123456789abcdef"), "key material echoed: {err}");
        assert!(!out.exists());
    }
    for (mode, text) in [
        (0o600, format!("{FIXED_KEY}\n")),
        (0o400, format!("{FIXED_KEY}\r\n")),
    ] {
        let key = write_key(&tmp.path().join(format!("ok{mode:o}.key")), &text, mode);
        run_sealed(&out, &key).assert().code(1);
        assert!(out.join("summary.json.sm4").is_file());
    }
}

#[test]
fn keygen_writes_an_owner_only_key_and_never_overwrites() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("results.key");
    let id = keygen(&path);
    let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o7777;
    assert_eq!(mode, 0o600);
    let text = fs::read_to_string(&path).unwrap();
    assert_eq!(text.len(), 33);
    assert!(text.ends_with('\n') && text[..32].bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(id, key_id(&text[..32]));

    let again = recon().args(["keygen", "-o"]).arg(&path).output().unwrap();
    assert_eq!(again.status.code(), Some(2));
    assert!(stderr(&again).contains("already exists"), "{}", stderr(&again));
    assert_eq!(fs::read_to_string(&path).unwrap(), text, "the key was changed");

    let second = tmp.path().join("second.key");
    keygen(&second);
    assert_ne!(
        fs::read_to_string(&second).unwrap(),
        text,
        "two keys are the same"
    );
}

#[test]
fn keygen_creates_missing_directories_owner_only() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("keys/2026/results.key");
    keygen(&path);
    assert!(path.is_file());
    let dir_mode = fs::metadata(path.parent().unwrap()).unwrap().permissions().mode() & 0o777;
    assert_eq!(dir_mode, 0o700, "a new key directory must be owner-only");
}

#[test]
fn decrypt_never_replaces_a_plain_file_without_force() {
    let (_tmp, key, out) = encrypted_results();
    let sealed = out.join("ignored.csv.sm4");
    let plain = out.join("ignored.csv");
    fs::write(&plain, "keep me\n").unwrap();
    let refused = recon()
        .arg("decrypt")
        .arg(&sealed)
        .arg("--key-file")
        .arg(&key)
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2));
    assert!(stderr(&refused).contains("already exist"), "{}", stderr(&refused));
    assert_eq!(fs::read_to_string(&plain).unwrap(), "keep me\n");

    let refused_dir = recon()
        .args(["decrypt", "--dir"])
        .arg(&out)
        .arg("--key-file")
        .arg(&key)
        .output()
        .unwrap();
    assert_eq!(refused_dir.status.code(), Some(2));
    assert_eq!(
        names(&out).len(),
        11 + 1,
        "nothing written beside the existing plain file"
    );

    recon()
        .arg("decrypt")
        .arg(&sealed)
        .args(["--force", "--key-file"])
        .arg(&key)
        .assert()
        .code(0);
    assert!(
        fs::read_to_string(&plain).unwrap().starts_with("side,"),
        "replaced by the decrypted file"
    );

    let to_itself = recon()
        .arg("decrypt")
        .arg(&sealed)
        .arg("-o")
        .arg(&sealed)
        .arg("--force")
        .arg("--key-file")
        .arg(&key)
        .output()
        .unwrap();
    assert_eq!(to_itself.status.code(), Some(2));
    assert!(
        fs::read(&sealed).unwrap().starts_with(b"RECONSM4"),
        "the encrypted input survives"
    );
}

#[test]
fn a_failed_write_in_a_directory_removes_the_plain_files_it_created() {
    let (tmp, key, out) = encrypted_results();
    let dec = tmp.path().join("dec");
    // A directory where summary.json should go: even --force cannot rename a file over it.
    fs::create_dir_all(dec.join("summary.json")).unwrap();
    let result = recon()
        .args(["decrypt", "--force", "--dir"])
        .arg(&out)
        .arg("-o")
        .arg(&dec)
        .arg("--key-file")
        .arg(&key)
        .output()
        .unwrap();
    let err = stderr(&result);
    assert_eq!(result.status.code(), Some(2), "{err}");
    assert!(
        err.contains("removed the 9 plain file(s) already created"),
        "{err}"
    );
    assert_eq!(
        names(&dec),
        ["summary.json"],
        "created files removed, nothing else written"
    );
}
