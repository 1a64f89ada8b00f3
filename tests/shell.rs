//! `recon completions SHELL` and `recon man`: generated from the argument
//! definitions, so they name every command and option the binary has.

mod common;

use common::recon;

fn stdout(args: &[&str]) -> String {
    let out = recon().args(args).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn completion_scripts_complete_commands_and_options() {
    let bash = stdout(&["completions", "bash"]);
    assert!(bash.contains("complete -F _recon"), "{bash}");
    for word in ["run", "check", "rules", "--carry-in", "--ledger", "completions"] {
        assert!(bash.contains(word), "bash script lacks {word}");
    }
    let zsh = stdout(&["completions", "zsh"]);
    assert!(zsh.starts_with("#compdef recon"), "{zsh}");
    assert!(zsh.contains("--encrypt-key-file"));
    let fish = stdout(&["completions", "fish"]);
    assert!(fish.contains("complete -c recon"), "{fish}");
    assert!(fish.contains("-l carry-in"), "{fish}");
    let ps = stdout(&["completions", "powershell"]);
    assert!(ps.contains("Register-ArgumentCompleter"), "{ps}");
    assert!(ps.contains("'recon;rules;init'"), "{ps}");
}

#[test]
fn an_unknown_shell_is_a_usage_error() {
    let out = recon().args(["completions", "tcsh"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bash, zsh, fish, powershell"), "{err}");
}

#[test]
fn the_man_page_is_roff_with_commands_and_exit_codes() {
    let page = stdout(&["man"]);
    assert!(page.starts_with(".ie \\n(.g .ds Aq"), "{}", &page[..80]);
    assert!(page.contains(".TH recon 1"), "{page}");
    for text in [
        "Exit codes",
        "recon\\-run",
        "completions",
        "Batch payment reconciliation",
    ] {
        assert!(page.contains(text), "man page lacks {text}");
    }
}

#[test]
fn man_dir_writes_one_page_per_command() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("man/man1");
    let out = stdout(&["man", "--dir", dir.to_str().unwrap()]);
    assert!(out.starts_with("wrote the man pages to "), "{out}");
    for page in [
        "recon.1",
        "recon-run.1",
        "recon-rules-init.1",
        "recon-audit-show.1",
    ] {
        let text = std::fs::read_to_string(dir.join(page)).unwrap_or_else(|e| panic!("{page}: {e}"));
        assert!(
            text.contains(".SH OPTIONS") || text.contains(".SH SUBCOMMANDS"),
            "{page}"
        );
    }
    let run = std::fs::read_to_string(dir.join("recon-run.1")).unwrap();
    assert!(run.contains("carry\\-in"), "{run}");
}
