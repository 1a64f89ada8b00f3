//! The README opens with two commands: run the example, run the tests. The
//! first is run here through the built binary exactly as written (only the
//! results directory moves to a temporary one), so the README cannot drift
//! away from what works.

mod common;

use common::{recon, root, summary};

/// The lines of the README's first ```sh block.
fn first_commands() -> Vec<String> {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let block = readme.split("```sh\n").nth(1).expect("a ```sh block");
    let block = &block[..block.find("```").unwrap()];
    block.lines().map(String::from).collect()
}

#[test]
fn readme_starts_with_run_an_example_and_run_the_tests() {
    let commands = first_commands();
    assert_eq!(commands.len(), 2, "{commands:?}");
    assert_eq!(commands[1], "cargo test --release");
    let args: Vec<&str> = commands[0]
        .strip_prefix("cargo run --release -- ")
        .expect("the first command runs the binary")
        .split_whitespace()
        .collect();
    let out_at = args.iter().position(|a| *a == "--out").unwrap() + 1;
    assert_eq!(args[out_at], "out/basic");
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("basic");
    let mut cmd = recon();
    cmd.args(&args[..out_at]).arg(&out).args(&args[out_at + 1..]);
    // Exit 1, as the README says: the example has exceptions on purpose.
    cmd.assert().code(1);
    let s = summary(&out);
    assert_eq!(s["business_date"], "2026-11-24");
    assert_eq!(s["conservation"]["ledger"]["holds"], true);
    assert_eq!(s["conservation"]["bank"]["holds"], true);
}
