//! `recon convert` never overwrites its input, under any name: the same
//! path, a different spelling of it, a symbolic link or a hard link; and a
//! refused conversion leaves the input byte for byte as it was.

mod common;

use std::path::{Path, PathBuf};

use common::{data, recon};

/// A copy of a GBK sample in a fresh directory, and the directory.
fn input_copy() -> (tempfile::TempDir, PathBuf, Vec<u8>) {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("bank.csv");
    std::fs::copy(data("edge/trailer_totals.csv"), &input).unwrap();
    let bytes = std::fs::read(&input).unwrap();
    (tmp, input, bytes)
}

/// Runs `recon convert INPUT -o OUTPUT` from `cwd`.
fn convert(cwd: &Path, input: &str, output: &str) -> std::process::Output {
    recon()
        .current_dir(cwd)
        .args(["convert", input, "-o", output])
        .output()
        .unwrap()
}

fn assert_refused(out: &std::process::Output) {
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("convert never overwrites its input"), "{err}");
}

#[test]
fn the_same_file_under_another_spelling_is_refused() {
    let (tmp, input, bytes) = input_copy();
    std::fs::create_dir(tmp.path().join("sub")).unwrap();
    for output in ["bank.csv", "./bank.csv", "sub/../bank.csv"] {
        assert_refused(&convert(tmp.path(), "bank.csv", output));
        assert_eq!(std::fs::read(&input).unwrap(), bytes, "-o {output}");
    }
    let absolute = input.to_str().unwrap();
    assert_refused(&convert(tmp.path(), "bank.csv", absolute));
    assert_eq!(std::fs::read(&input).unwrap(), bytes);
}

#[cfg(unix)]
#[test]
fn symbolic_and_hard_links_to_the_input_are_refused() {
    let (tmp, input, bytes) = input_copy();
    std::os::unix::fs::symlink(&input, tmp.path().join("link.csv")).unwrap();
    std::fs::hard_link(&input, tmp.path().join("hard.csv")).unwrap();
    assert_refused(&convert(tmp.path(), "bank.csv", "link.csv"));
    assert_refused(&convert(tmp.path(), "link.csv", "bank.csv"));
    assert_refused(&convert(tmp.path(), "bank.csv", "hard.csv"));
    assert_eq!(std::fs::read(&input).unwrap(), bytes);
    assert_eq!(std::fs::read(tmp.path().join("hard.csv")).unwrap(), bytes);
    assert!(std::fs::symlink_metadata(tmp.path().join("link.csv"))
        .unwrap()
        .file_type()
        .is_symlink());
}

#[test]
fn another_output_is_written_and_the_input_kept() {
    let (tmp, input, bytes) = input_copy();
    let out = convert(tmp.path(), "bank.csv", "clean.csv");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(std::fs::read(&input).unwrap(), bytes);
    let clean = std::fs::read_to_string(tmp.path().join("clean.csv")).unwrap();
    assert_eq!(
        clean,
        "订单号,金额,时间\nA1,10.00,2026-11-24 10:00:00\nA2,\"1,234.50\",2026-11-24 11:00:00\n"
    );
}
