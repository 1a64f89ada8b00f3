//! Partitioned runs: a day cut into independent smaller days. `split`
//! streams both files into N partitions by a partition key that keeps every
//! candidate pair of every stage inside one partition; each partition is an
//! ordinary run (`recon run --part`); `merge` checks the partitions cover the
//! inputs exactly once and merges their results into what one run of the
//! whole day writes. Partitions are text: the original rows, byte for byte,
//! with a line map (`manifest`).

pub mod manifest;
pub mod merge;
pub mod spill;
pub mod split;

mod files;
mod stream;

use crate::rules::partition::stage_partition;
pub use crate::rules::partition::PartitionKey;
use crate::rules::plan::Plan;

/// The partition key the plan allows, or why there is none: the stages'
/// ([`stage_partition`]), and no `[report.columns]` templates.
pub fn partition_key(plan: &Plan) -> Result<PartitionKey, String> {
    if !plan.report.templates.is_empty() {
        return Err(
            "[report.columns] templates reshape the result files, and merging partitions needs their side and line columns"
                .into(),
        );
    }
    stage_partition(plan)
}
