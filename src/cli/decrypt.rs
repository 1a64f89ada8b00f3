//! `recon decrypt`: restores plain result files from `NAME.sm4` files. Every
//! file is authenticated in full before any plain byte is written, and plain
//! files are written atomically, never over an existing file unless --force.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use rayon::prelude::*;

use super::Outcome;
use crate::crypto::{self, sealed::EXTENSION, Sm4Key};
use crate::output::atomic;

/// Arguments of `recon decrypt`.
#[derive(Debug, clap::Args)]
#[command(after_long_help = "\
Reads files written by `recon run --encrypt-key-file`. A wrong key, or any changed byte in a
file (header, body or tag), is an authentication failure (exit 2) and nothing is written.
With --dir, every *.sm4 file in DIR is authenticated before the first plain file is written.
Plain files are private to their owner (mode 0600); delete them when done.

Examples:
  recon decrypt out/2026-11-24/matched.csv.sm4 --key-file K        writes out/2026-11-24/matched.csv
  recon decrypt out/2026-11-24/summary.json.sm4 -o - --key-file K   prints it
  RECON_KEY_FILE=K recon decrypt --dir out/2026-11-24 -o /tmp/day   every file into /tmp/day

Exit codes: 0 every file decrypted, 2 refused key file, authentication failure, or an
existing plain file without --force (nothing written).")]
pub struct Args {
    /// An encrypted result file (NAME.sm4)
    #[arg(value_name = "FILE", required_unless_present = "dir", conflicts_with = "dir")]
    file: Option<PathBuf>,
    /// Decrypt every *.sm4 file in this directory
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
    /// Where to write: a file (`-` for stdout) with FILE, a directory with --dir; default beside the input, without .sm4
    #[arg(short, long, value_name = "OUT")]
    output: Option<PathBuf>,
    /// The key file the results were encrypted with
    #[arg(long, value_name = "KEY_FILE", env = "RECON_KEY_FILE")]
    key_file: PathBuf,
    /// Replace plain files that already exist
    #[arg(long)]
    force: bool,
}

/// Runs `recon decrypt`.
pub fn run(args: Args) -> anyhow::Result<Outcome> {
    let key = Sm4Key::load(&args.key_file)?;
    match (&args.file, &args.dir) {
        (Some(file), _) => decrypt_file(&key, file, args.output.as_deref(), args.force),
        (None, Some(dir)) => decrypt_dir(&key, dir, args.output.as_deref(), args.force),
        (None, None) => unreachable!("clap requires FILE or --dir"),
    }?;
    Ok(Outcome::Clean)
}

fn decrypt_file(key: &Sm4Key, file: &Path, output: Option<&Path>, force: bool) -> anyhow::Result<()> {
    let target = match output {
        Some(out) => out.to_path_buf(),
        None => match plain_name(file) {
            Some(name) => file.with_file_name(name),
            None => bail!(
                "{}: does not end in .{EXTENSION}; name the output with -o",
                file.display()
            ),
        },
    };
    let to_stdout = target.as_os_str() == "-";
    if !to_stdout {
        if same_file(file, &target) {
            bail!(
                "{}: the output is the encrypted input itself; choose another -o",
                target.display()
            );
        }
        refuse_existing(&[&target], force)?;
    }
    let plain = open_file(key, file)?;
    if to_stdout {
        let mut stdout = std::io::stdout().lock();
        stdout
            .write_all(&plain)
            .and_then(|()| stdout.flush())
            .context("writing to stdout")?;
    } else {
        atomic::write_file(&target, &plain, force)?;
        eprintln!("decrypted {} -> {}", file.display(), target.display());
    }
    Ok(())
}

fn decrypt_dir(key: &Sm4Key, dir: &Path, output: Option<&Path>, force: bool) -> anyhow::Result<()> {
    let sealed = sealed_files(dir)?;
    let out_dir = output.unwrap_or(dir);
    let targets: Vec<PathBuf> = sealed.iter().map(|(_, name)| out_dir.join(name)).collect();
    refuse_existing(&targets.iter().map(PathBuf::as_path).collect::<Vec<_>>(), force)?;
    let plains = sealed
        .par_iter()
        .map(|(path, _)| open_file(key, path))
        .collect::<anyhow::Result<Vec<_>>>()?;
    create_private_dir(out_dir)?;
    let mut created: Vec<&Path> = Vec::new();
    for (target, plain) in targets.iter().zip(&plains) {
        let is_new = target.symlink_metadata().is_err();
        if let Err(e) = atomic::write_file(target, plain, force) {
            return Err(anyhow::Error::new(e).context(remove_created(&created)));
        }
        if is_new {
            created.push(target);
        }
    }
    for ((path, _), target) in sealed.iter().zip(&targets) {
        eprintln!("decrypted {} -> {}", path.display(), target.display());
    }
    Ok(())
}

/// Creates `dir` (and parents) if missing; a new directory is owner-only (0700).
fn create_private_dir(dir: &Path) -> anyhow::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder
        .create(dir)
        .with_context(|| format!("{}: cannot create the directory", dir.display()))
}

fn same_file(a: &Path, b: &Path) -> bool {
    matches!((a.canonicalize(), b.canonicalize()), (Ok(a), Ok(b)) if a == b)
}

/// `*.sm4` regular files in `dir`, sorted, with their plain names.
fn sealed_files(dir: &Path) -> anyhow::Result<Vec<(PathBuf, String)>> {
    let mut found = Vec::new();
    for entry in fs::read_dir(dir).with_context(|| format!("{}: cannot list the directory", dir.display()))? {
        let path = entry
            .with_context(|| format!("{}: cannot list the directory", dir.display()))?
            .path();
        if let (true, Some(name)) = (path.is_file(), plain_name(&path)) {
            found.push((path, name));
        }
    }
    if found.is_empty() {
        bail!("{}: no .{EXTENSION} files to decrypt", dir.display());
    }
    found.sort();
    Ok(found)
}

/// `NAME` for a file called `NAME.sm4` (with a non-empty NAME).
fn plain_name(path: &Path) -> Option<String> {
    let name = path.file_name()?.to_str()?;
    let plain = name.strip_suffix(&format!(".{EXTENSION}"))?;
    (!plain.is_empty()).then(|| plain.to_string())
}

fn refuse_existing(targets: &[&Path], force: bool) -> anyhow::Result<()> {
    let existing: Vec<String> = targets
        .iter()
        .filter(|t| !force && t.symlink_metadata().is_ok())
        .map(|t| t.display().to_string())
        .collect();
    if !existing.is_empty() {
        bail!(
            "{}: already exist(s); nothing was written (use --force to replace, or -o to write elsewhere)",
            existing.join(", ")
        );
    }
    Ok(())
}

fn open_file(key: &Sm4Key, path: &Path) -> anyhow::Result<Vec<u8>> {
    let sealed = fs::read(path).with_context(|| format!("{}: cannot read", path.display()))?;
    crypto::open(key, &sealed).with_context(|| format!("{}: nothing was written", path.display()))
}

/// After a failed write, removes the files this command created (files it
/// replaced under --force cannot be restored); says what was done.
fn remove_created(created: &[&Path]) -> String {
    for path in created {
        let _ = fs::remove_file(path);
    }
    format!(
        "stopped; removed the {} plain file(s) already created",
        created.len()
    )
}
