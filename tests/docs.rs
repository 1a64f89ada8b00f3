//! The shell examples of README.md and docs/*.md run here, so the docs cannot
//! rot. Every ```console block is run by trycmd through the built binary:
//! `$ recon …` lines are commands, the lines below them the expected output
//! (stdout and stderr together; `...` stands for any lines, `[..]` for any
//! text within a line), and `? 1` the expected exit code (0 when absent).
//! The convention is documented in CONTRIBUTING.md ("Shell examples in the docs").
//!
//! Each page runs in its own copy of the repository's examples/, rules/ and
//! tests/data/ under target/, with the page's commands in order, from the copy's
//! root, so a page reads as if typed in a fresh clone and nothing is written
//! into the repository.

mod common;

use std::path::{Path, PathBuf};

use common::{root, state_home};

/// The pages whose shell examples are run: README.md and every docs/*.md.
fn pages() -> Vec<PathBuf> {
    let mut pages = vec![root().join("README.md")];
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root().join("docs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.sort();
    pages.extend(docs);
    pages
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let dest = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &dest);
        } else {
            std::fs::copy(entry.path(), &dest).unwrap();
        }
    }
}

#[test]
fn shell_examples_in_the_docs_run_as_written() {
    let tmp = tempfile::Builder::new()
        .prefix("docs-")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .unwrap();
    let cases = trycmd::TestCases::new();
    cases
        .register_bin("recon", Path::new(env!("CARGO_BIN_EXE_recon")))
        .env("LANG", "C.UTF-8")
        .env("XDG_STATE_HOME", state_home().display().to_string());
    for page in pages() {
        let rel = page.strip_prefix(root()).unwrap();
        // docs/rules.md -> docs-rules.md, run in docs-rules.in/ (trycmd's
        // working directory for a page NAME.md is NAME.in/ beside it).
        let name = rel.to_str().unwrap().replace('/', "-");
        let copy = tmp.path().join(&name);
        std::fs::copy(&page, &copy).unwrap();
        let work = copy.with_extension("in");
        for dir in ["examples", "rules", "tests/data"] {
            copy_tree(&root().join(dir), &work.join(dir));
        }
        cases.case(&copy);
    }
    cases.run();
}

/// The convention that makes the test above cover every shell example: a
/// fenced block always names its language, shell commands are `console`
/// blocks, and `sh` is left for cargo commands (README's first block, run
/// by tests/readme.rs, and the install line).
#[test]
fn every_shell_example_is_a_console_block() {
    for page in pages() {
        let text = std::fs::read_to_string(&page).unwrap();
        let mut open = false;
        let mut block: Vec<&str> = Vec::new();
        let mut lang = "";
        for (n, line) in text.lines().enumerate() {
            if !line.starts_with("```") {
                if open {
                    block.push(line);
                }
                continue;
            }
            if !open {
                lang = line.trim_start_matches('`').trim();
                assert!(
                    !lang.is_empty(),
                    "{}:{}: a fenced block without a language (trycmd would run it)",
                    page.display(),
                    n + 1
                );
                assert!(
                    !matches!(lang, "bash" | "shell" | "shell-session" | "zsh"),
                    "{}:{}: write shell examples as ```console blocks",
                    page.display(),
                    n + 1
                );
                block.clear();
            } else if lang == "sh" {
                for command in &block {
                    assert!(
                        command.starts_with("cargo "),
                        "{}: `{command}` in a ```sh block is not run by any test; \
                         write it as `$ {command}` in a ```console block",
                        page.display()
                    );
                }
            } else if lang == "console" {
                assert!(
                    block.first().is_some_and(|l| l.starts_with("$ ")),
                    "{}:{}: a console block starts with a `$ ` command line",
                    page.display(),
                    n + 1
                );
            }
            open = !open;
        }
        assert!(!open, "{}: a fenced block is not closed", page.display());
    }
}
