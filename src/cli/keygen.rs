//! `recon keygen -o KEY`: a new SM4 key file (mode 0600), never over an existing file.

use std::path::PathBuf;

use super::Outcome;
use crate::crypto::Sm4Key;

/// Arguments of `recon keygen`.
#[derive(Debug, clap::Args)]
#[command(after_long_help = "\
The key is 16 bytes from the operating system's random source, written as 32 hex digits and
a newline, in a new file only its owner can read or write (mode 0600). An existing file is
never replaced: it may still be needed to decrypt earlier results. Missing directories
above KEY_FILE are created, owner-only (0700). The key id printed (first 8 bytes of
SHA-256 of the key) is how encrypted files and summary.json name it.

Examples:
  recon keygen -o /etc/recon/results-2026.key
  RECON_KEY_FILE=/etc/recon/results-2026.key recon run ... --out out/day

Exit codes: 0 key written, 2 the file exists or cannot be written.")]
pub struct Args {
    /// Where to create the key file (must not exist)
    #[arg(short, long, value_name = "KEY_FILE")]
    output: PathBuf,
}

/// Runs `recon keygen`.
pub fn run(args: Args) -> anyhow::Result<Outcome> {
    let key = Sm4Key::generate(&args.output)?;
    outln!("{}  key id {}", args.output.display(), key.id_hex())?;
    eprintln!("keep a copy in a safe place: results encrypted with this key cannot be read without it");
    Ok(Outcome::Clean)
}
