//! The partition key of a day: the field whose value keeps every candidate
//! pair of every stage among rows that share it. Partitioned runs cut a day
//! by it (`crate::partition`), and likely causes look for related rows only
//! among rows that share it, so both find the same in a partition as in the
//! whole day.

use super::plan::{Plan, StagePlan};
use crate::model::Record;

/// What cuts a day into partitions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartitionKey {
    /// The merchant: a fallback or batch stage pairs rows of one merchant
    /// across keys (rows of one key are assumed to share their merchant).
    Merchant,
    /// The key: every stage pairs rows of one key.
    Key,
}

impl PartitionKey {
    /// `merchant` or `key`, as manifests and `rules check` write it.
    pub fn name(self) -> &'static str {
        match self {
            PartitionKey::Merchant => "merchant",
            PartitionKey::Key => "key",
        }
    }

    /// The row's value of this key: its merchant or its key.
    pub fn value(self, record: &Record) -> &str {
        match self {
            PartitionKey::Merchant => record.merchant(),
            PartitionKey::Key => record.key(),
        }
    }

    /// The partition a row with this key field value belongs to, of `parts`
    /// (FNV-1a: fixed across machines and versions, so a split is repeatable).
    pub fn part_of(value: &str, parts: usize) -> usize {
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for b in value.as_bytes() {
            hash ^= u64::from(*b);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
        (hash % parts as u64) as usize
    }
}

/// The partition key the plan's stages allow, or why there is none: what
/// keeps every candidate pair of every stage inside one partition.
pub fn stage_partition(plan: &Plan) -> Result<PartitionKey, String> {
    let mut key = PartitionKey::Key;
    for stage in &plan.stages {
        match stage {
            StagePlan::Fallback { name, on, .. } if !on.merchant => {
                return Err(format!(
                    "stage \"{name}\" pairs rows of any key and any merchant (on = [..] without \"merchant\"), so no key keeps its candidate pairs in one partition"
                ));
            }
            StagePlan::Batch {
                name,
                by_merchant: false,
                ..
            } => {
                return Err(format!(
                    "stage \"{name}\" settles one batch of the whole day (no group_by = [\"merchant\"]), so it needs every row in one partition"
                ));
            }
            StagePlan::Fallback { .. } | StagePlan::Batch { .. } => key = PartitionKey::Merchant,
            StagePlan::Key { .. } | StagePlan::Split { .. } => {}
        }
    }
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_are_spread_and_repeatable() {
        let parts: Vec<usize> = (0..1000)
            .map(|i| PartitionKey::part_of(&format!("M{i:04}"), 4))
            .collect();
        for p in 0..4 {
            let n = parts.iter().filter(|&&x| x == p).count();
            assert!((150..350).contains(&n), "part {p}: {n}");
        }
        assert_eq!(PartitionKey::part_of("M0001", 4), parts[1]);
    }
}
