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

/// The README stays a short guide: the reference lives in docs/, and every
/// page there is reachable from the README.
#[test]
fn readme_is_short_and_links_every_docs_page() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let lines = readme.lines().count();
    assert!(
        lines <= 250,
        "README.md has {lines} lines; move reference material to docs/"
    );
    for section in [
        "## Install",
        "## Adapt it to your files",
        "## Every night",
        "## Exit codes",
    ] {
        assert!(readme.contains(section), "README lacks {section}");
    }
    assert!(readme.contains("cargo install --locked --path ."));
    let mut pages = 0;
    for entry in std::fs::read_dir(root().join("docs")).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if name.ends_with(".md") {
            pages += 1;
            assert!(
                readme.contains(&format!("](docs/{name})")),
                "README does not link docs/{name}"
            );
        }
    }
    assert!(pages >= 4, "docs/ holds {pages} pages");
}

/// Every relative link in the README, CONTRIBUTING.md and docs/ names a file
/// that exists and, with `#anchor`, a heading of that file (GitHub's slugs).
#[test]
fn doc_links_resolve() {
    let mut files = vec![root().join("README.md"), root().join("CONTRIBUTING.md")];
    for entry in std::fs::read_dir(root().join("docs")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "md") {
            files.push(path);
        }
    }
    let link = regex::Regex::new(r"\]\(([^)\s]+)\)").unwrap();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        for cap in link.captures_iter(&text) {
            let target = &cap[1];
            if target.starts_with("http") {
                continue;
            }
            let (path, anchor) = target.split_once('#').unwrap_or((target, ""));
            let dest = if path.is_empty() {
                file.clone()
            } else {
                file.parent().unwrap().join(path)
            };
            assert!(dest.exists(), "{}: link {target} names no file", file.display());
            if !anchor.is_empty() {
                let page = std::fs::read_to_string(&dest).unwrap();
                assert!(
                    slugs(&page).iter().any(|s| s == anchor),
                    "{}: link {target}: no such heading in {}",
                    file.display(),
                    dest.display()
                );
            }
        }
    }
}

/// GitHub's heading anchors: lower case, punctuation other than `-` and `_`
/// dropped, spaces as `-`.
fn slugs(page: &str) -> Vec<String> {
    page.lines()
        .filter(|l| l.starts_with('#'))
        .map(|l| {
            l.trim_start_matches('#')
                .trim()
                .to_lowercase()
                .chars()
                .filter_map(|c| match c {
                    ' ' => Some('-'),
                    c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
                    _ => None,
                })
                .collect()
        })
        .collect()
}
