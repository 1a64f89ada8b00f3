//! Helpers shared by the integration tests: run the real binary, read CSV outputs.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use assert_cmd::Command;

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A path under tests/data.
pub fn data(path: &str) -> PathBuf {
    root().join("tests/data").join(path)
}

/// The built `recon` binary, run from the repository root. Audit logs that
/// default to the user's state directory (`rules test`) go under target/,
/// never into the developer's home.
pub fn recon() -> Command {
    let mut cmd = Command::cargo_bin("recon").expect("binary built");
    cmd.current_dir(root());
    cmd.env("XDG_STATE_HOME", state_home());
    cmd
}

/// Where tests keep the user state directory (`$XDG_STATE_HOME`).
pub fn state_home() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("state")
}

/// Rows of a result CSV as maps from column name to value.
pub fn rows(path: &Path) -> Vec<std::collections::BTreeMap<String, String>> {
    let mut reader = csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let header = reader.headers().unwrap().clone();
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            header
                .iter()
                .map(String::from)
                .zip(r.iter().map(String::from))
                .collect()
        })
        .collect()
}

/// `side:line` of every row in a result CSV, in file order.
pub fn refs(path: &Path) -> Vec<String> {
    rows(path)
        .iter()
        .map(|r| format!("{}:{}", r["side"], r["line"]))
        .collect()
}

/// Parsed summary.json.
pub fn summary(dir: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(dir.join("summary.json")).unwrap()).unwrap()
}
