//! `manifest.json` of one partition: what it was cut from (the original
//! inputs' paths and SHA-256, the rules, the date), how (N, K, the partition
//! key), and where its rows are (a part file per side, with a line map giving
//! each of its lines' line in the original).

use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context};
use serde::{Deserialize, Serialize};

use crate::model::{SourceId, Tally, MAX_LINE};
use crate::rules::partition::PartitionKey;
use crate::run::{PartInput, PartSide};

/// The file name of a partition's manifest.
pub const FILE_NAME: &str = "manifest.json";

/// What this format is called; `merge` and `run --part` refuse any other.
pub const FORMAT: &str = "recon-partition-v1";

/// One partition's manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Always `FORMAT`.
    pub format: String,
    /// This partition's number, 1-based (K of `part-000K`).
    pub part: usize,
    /// How many partitions the day was cut into (N).
    pub parts: usize,
    /// `merchant` or `key`.
    pub partition_key: String,
    /// The rule file as given to `recon split`, and its SHA-256.
    pub rules: RulesRef,
    /// The business date (`--date`), if any.
    pub business_date: Option<String>,
    /// The ledger's part.
    pub ledger: SideManifest,
    /// The statement's part.
    pub bank: SideManifest,
}

/// The rule file a split was made under.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RulesRef {
    /// As given (a file or a directory of versions).
    pub path: String,
    /// The rule file in force on the date.
    pub file: String,
    /// Its SHA-256.
    pub sha256: String,
}

/// One side of a partition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SideManifest {
    /// The original file, as given to `recon split`.
    pub path: String,
    /// SHA-256 of the original file.
    pub sha256: String,
    /// The encoding the original was read with (a WHATWG label).
    pub encoding: String,
    /// The original's field delimiter.
    pub delimiter: char,
    /// The part file, in the partition directory.
    pub file: String,
    /// The line map, in the partition directory: one original line number per line of `file`.
    pub lines: String,
    /// Rows of the original in this partition (typed, set aside by status, or unreadable).
    pub rows: u64,
    /// Every row of the original and the sum of their amounts (the same in every partition).
    pub input: Tally,
}

impl Manifest {
    /// Reads `DIR/manifest.json`.
    pub fn read(dir: &Path) -> anyhow::Result<Manifest> {
        let path = dir.join(FILE_NAME);
        let bytes = std::fs::read(&path).with_context(|| {
            format!(
                "{}: cannot read: not a partition written by `recon split`?",
                path.display()
            )
        })?;
        let manifest: Manifest = serde_json::from_slice(&bytes)
            .with_context(|| format!("{}: not a partition manifest", path.display()))?;
        if manifest.format != FORMAT {
            return Err(anyhow!(
                "{}: format \"{}\", expected \"{FORMAT}\"",
                path.display(),
                manifest.format
            ));
        }
        Ok(manifest)
    }

    /// The manifest as written.
    pub fn to_json(&self) -> Vec<u8> {
        let mut bytes = serde_json::to_vec_pretty(self).expect("a manifest serializes");
        bytes.push(b'\n');
        bytes
    }

    /// The partition's files, for `recon run --part DIR`: (ledger path, bank path, what to restore).
    pub fn input(&self, dir: &Path) -> anyhow::Result<(PathBuf, PathBuf, PartInput)> {
        let side = |s: &SideManifest| -> anyhow::Result<PartSide> {
            let encoding = encoding_rs::Encoding::for_label(s.encoding.as_bytes())
                .ok_or_else(|| anyhow!("{}: unknown encoding {:?}", dir.display(), s.encoding))?;
            let delimiter = u8::try_from(s.delimiter)
                .map_err(|_| anyhow!("{}: delimiter {:?} is not one byte", dir.display(), s.delimiter))?;
            Ok(PartSide {
                original: SourceId {
                    path: s.path.clone(),
                    sha256: s.sha256.clone(),
                },
                encoding,
                delimiter,
                lines: read_lines(&dir.join(&s.lines))?,
            })
        };
        let key = match self.partition_key.as_str() {
            "merchant" => PartitionKey::Merchant,
            "key" => PartitionKey::Key,
            other => return Err(anyhow!("{}: unknown partition key {other:?}", dir.display())),
        };
        let input = PartInput {
            ledger: side(&self.ledger)?,
            bank: side(&self.bank)?,
            key,
            part: self.part,
            parts: self.parts,
        };
        Ok((dir.join(&self.ledger.file), dir.join(&self.bank.file), input))
    }
}

/// A line map: one line number per line.
fn read_lines(path: &Path) -> anyhow::Result<Vec<u64>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("{}: cannot read", path.display()))?;
    text.lines()
        .enumerate()
        .map(|(i, l)| {
            l.parse().ok().filter(|&line| line <= MAX_LINE).ok_or_else(|| {
                anyhow!(
                    "{}:{}: not a line number up to {MAX_LINE}: {l:?}",
                    path.display(),
                    i + 1
                )
            })
        })
        .collect()
}
