//! `recon completions SHELL` and `recon man`: the shell completion script and
//! the man page, generated from the same argument definitions as `--help`
//! (clap_complete, clap_mangen), so they never disagree with the binary.

use std::io::Write;

use std::path::PathBuf;

use anyhow::Context;
use clap::CommandFactory;

use super::{Cli, Outcome};

/// Arguments of `recon completions`.
#[derive(clap::Args)]
#[command(after_long_help = "Examples:
  Bash, for the current user (loaded by bash-completion on the next login):
    mkdir -p ~/.local/share/bash-completion/completions
    recon completions bash > ~/.local/share/bash-completion/completions/recon
  Zsh (a directory on your $fpath):
    recon completions zsh > ~/.zfunc/_recon
  Fish:
    recon completions fish > ~/.config/fish/completions/recon.fish
  PowerShell (add the line to $PROFILE):
    recon completions powershell | Out-String | Invoke-Expression")]
pub struct CompletionsArgs {
    /// The shell to complete for
    #[arg(value_enum)]
    shell: Shell,
}

/// Shells `recon completions` writes scripts for.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Shell {
    Bash,
    Zsh,
    Fish,
    Powershell,
}

/// Arguments of `recon man`.
#[derive(clap::Args)]
#[command(after_long_help = "Examples:
  Install the pages for the current user, then read them:
    recon man --dir ~/.local/share/man/man1
    man recon
    man recon-run
  Read the main page without installing it:
    recon man | man -l -")]
pub struct ManArgs {
    /// Write every page into DIR (recon.1, recon-run.1, recon-rules-init.1, …; the
    /// directory is created) instead of printing recon.1
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
}

/// Writes the completion script for the shell to standard output.
pub fn completions(args: CompletionsArgs) -> anyhow::Result<Outcome> {
    let shell = match args.shell {
        Shell::Bash => clap_complete::Shell::Bash,
        Shell::Zsh => clap_complete::Shell::Zsh,
        Shell::Fish => clap_complete::Shell::Fish,
        Shell::Powershell => clap_complete::Shell::PowerShell,
    };
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "recon", &mut script);
    write_stdout(&script)
}

/// Prints the man page recon.1 (roff), or with `--dir` writes one page per
/// command: options, help text, examples and exit codes, as `--help` has them.
pub fn man(args: ManArgs) -> anyhow::Result<Outcome> {
    let command = Cli::command();
    match args.dir {
        None => {
            let mut page = Vec::new();
            clap_mangen::Man::new(command)
                .render(&mut page)
                .context("cannot render the man page")?;
            write_stdout(&page)
        }
        Some(dir) => {
            std::fs::create_dir_all(&dir)
                .with_context(|| format!("{}: cannot create the directory", dir.display()))?;
            clap_mangen::generate_to(command, &dir)
                .with_context(|| format!("{}: cannot write the man pages", dir.display()))?;
            outln!("wrote the man pages to {}", dir.display())?;
            Ok(Outcome::Clean)
        }
    }
}

fn write_stdout(bytes: &[u8]) -> anyhow::Result<Outcome> {
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(anyhow::Error::new(e).context("cannot write to standard output"))
        }
        _ => Ok(Outcome::Clean),
    }
}
