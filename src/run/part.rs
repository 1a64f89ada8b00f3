//! A run of one partition written by `recon split`: its files hold a subset
//! of the original rows, byte for byte, with a line map beside each. The run
//! reads them with the original's encoding and delimiter pinned (detection
//! on a small subset could guess otherwise), then gives every row, rejected
//! row and error its original line, and the sides their original path and
//! SHA-256, so every output reads as a run of the whole files would write it.

use std::path::PathBuf;

use crate::input::encoding::EncodingChoice;
use crate::input::SourceFile;
use crate::model::SourceId;
use crate::rules::partition::PartitionKey;
use crate::rules::plan::SidePlan;

/// One side of a partition.
#[derive(Debug, Clone)]
pub struct PartSide {
    /// The original file's path (as given to `recon split`) and SHA-256.
    pub original: SourceId,
    /// The encoding the original was read with.
    pub encoding: &'static encoding_rs::Encoding,
    /// The original's field delimiter.
    pub delimiter: u8,
    /// For each line of the part file (index 0 = line 1), its line in the original.
    pub lines: Vec<u64>,
}

/// Both sides of a partition.
#[derive(Debug, Clone)]
pub struct PartInput {
    /// The ledger's part.
    pub ledger: PartSide,
    /// The statement's part.
    pub bank: PartSide,
    /// What the day was cut by.
    pub key: PartitionKey,
    /// This partition's number, 1-based.
    pub part: usize,
    /// How many partitions the day was cut into.
    pub parts: usize,
}

impl PartInput {
    /// True for a row of this partition, by its key and merchant: `--carry-in`
    /// takes only those of the previous results.
    pub fn holds(&self, key: &str, merchant: &str) -> bool {
        let value = match self.key {
            PartitionKey::Merchant => merchant,
            PartitionKey::Key => key,
        };
        PartitionKey::part_of(value, self.parts) + 1 == self.part
    }
}

impl PartSide {
    /// Reads the part file exactly as the original was read.
    pub(super) fn pin(&self, plan: &mut SidePlan) {
        plan.encoding = EncodingChoice::Fixed(self.encoding);
        plan.delimiter = Some(self.delimiter);
    }

    /// Gives every row its original line and the file its original identity.
    pub(super) fn restore(&self, source: &mut SourceFile) {
        let original = |line: u64| {
            usize::try_from(line)
                .ok()
                .and_then(|l| l.checked_sub(1))
                .and_then(|i| self.lines.get(i))
                .copied()
                .unwrap_or(line)
        };
        // The line map holds no line beyond `MAX_LINE` (checked when read).
        for r in &mut source.typed.records {
            let moved = r.set_line(original(r.line()));
            debug_assert!(moved);
        }
        for (error, _) in &mut source.typed.rejected {
            error.line = original(error.line);
        }
        for s in &mut source.set_aside {
            let moved = s.record.set_line(original(s.record.line()));
            debug_assert!(moved);
        }
        source.located.path = PathBuf::from(&self.original.path);
        source.located.sha256.clone_from(&self.original.sha256);
    }
}
