//! `recon run --memory-limit`: a day whose estimated footprint does not fit
//! is split into partitions in a spill directory, reconciled one partition
//! after the other, and merged into `--out`: the same bytes as a run in
//! memory (what names the run aside), with the peak of one partition. Each
//! partition's input is removed once its run is done (a lower disk peak); the
//! spill directory is removed afterwards, after a failure, and on a signal.

use std::path::{Path, PathBuf};

use anyhow::anyhow;

use super::manifest::Manifest;
use super::merge::{merge, MergeRequest};
use super::partition_key;
use super::split::{split, SplitRequest};
use crate::model::SourceId;
use crate::rules;
use crate::run::{self, OnStart, RunOutcome, RunRequest, Started};

/// Peak memory of a run: `HALVES_PER_INPUT_BYTE / 2` bytes per byte of
/// input plus `RUN_OVERHEAD`, an upper fit of generated days measured whole
/// (100k orders: 27 MB of input, 136 MB peak; 1M: 259 MB, 700 MB; 10M:
/// 2.7 GB, 6.1 GB; see BENCHMARKS.md).
const HALVES_PER_INPUT_BYTE: u64 = 5;
const RUN_OVERHEAD: u64 = 100 << 20;

/// The bytes of input of these files.
fn input_size(ledger: &Path, bank: &Path) -> u64 {
    let size = |p: &Path| std::fs::metadata(p).map_or(0, |m| m.len());
    size(ledger).saturating_add(size(bank))
}

/// The estimated peak memory of a run of `input` bytes.
fn estimate(input: u64) -> u64 {
    (input.saturating_mul(HALVES_PER_INPUT_BYTE) / 2).saturating_add(RUN_OVERHEAD)
}

/// The most partitions a run is cut into: split keeps every partition's
/// files open at once.
const MAX_PARTITIONS: usize = 128;

/// How many partitions keep each one's estimated peak within three quarters
/// of `limit` (the rest is left to the merge, which holds the exception rows
/// report.html is drawn from). Under the floor of a run (`RUN_OVERHEAD`) a
/// quarter of the limit is given to each partition's rows, and the limit
/// may be exceeded.
fn partitions(input: u64, limit: u64) -> usize {
    let room = (limit / 4 * 3).saturating_sub(RUN_OVERHEAD).max(limit / 4).max(1);
    let variable = estimate(input).saturating_sub(RUN_OVERHEAD);
    usize::try_from(variable.div_ceil(room))
        .unwrap_or(MAX_PARTITIONS)
        .clamp(2, MAX_PARTITIONS)
}

/// The default `--memory-limit`: half of this machine's memory.
pub fn default_limit() -> u64 {
    #[cfg(target_os = "linux")]
    {
        let info = rustix::system::sysinfo();
        (info.totalram as u64).saturating_mul(u64::from(info.mem_unit)) / 2
    }
    #[cfg(not(target_os = "linux"))]
    {
        u64::MAX
    }
}

/// Parses `4G`, `512M`, `800K` or a number of bytes (powers of 1024; a
/// trailing `B` or `iB` is allowed).
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let t = t.strip_suffix("iB").or_else(|| t.strip_suffix('B')).unwrap_or(t);
    let (digits, shift) = match t.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => {
            let shift = match c.to_ascii_uppercase() {
                'K' => 10,
                'M' => 20,
                'G' => 30,
                'T' => 40,
                _ => return Err(format!("{text:?}: give a size such as 4G, 512M or 800K")),
            };
            (&t[..i], shift)
        }
        _ => (t, 0),
    };
    let n: u64 = digits
        .trim()
        .parse()
        .map_err(|_| format!("{text:?}: give a size such as 4G, 512M or 800K"))?;
    n.checked_mul(1 << shift)
        .filter(|&n| n > 0)
        .ok_or_else(|| format!("{text:?}: out of range"))
}

/// How a run fits into memory.
#[derive(Debug, Clone)]
pub struct Budget {
    /// `--memory-limit` in bytes.
    pub limit: u64,
    /// `--spill-dir` (default: the directory holding `--out`).
    pub spill_dir: Option<PathBuf>,
}

/// Runs the day in memory when it fits (or cannot be partitioned: `note`
/// says why), else partitioned through a spill directory.
pub fn execute(
    request: &RunRequest,
    budget: &Budget,
    on_start: &mut OnStart<'_>,
    note: &dyn Fn(&str),
) -> anyhow::Result<RunOutcome> {
    let input = input_size(&request.ledger, &request.bank);
    let need = estimate(input);
    if need <= budget.limit || request.part.is_some() {
        return Ok(run::execute_with(request, on_start)?);
    }
    let date = request.date.unwrap_or_else(|| chrono::Local::now().date_naive());
    let why_not = match rules::load(&request.rules, date) {
        Err(_) => return Ok(run::execute_with(request, on_start)?),
        Ok(plan) => unsupported(request)
            .map(String::from)
            .or_else(|| partition_key(&plan).err()),
    };
    let gib = |n: u64| match n >> 20 {
        0 => format!("{} KiB", (n >> 10).max(1)),
        mib if mib < 1024 => format!("{mib} MiB"),
        mib => format!("{}.{} GiB", mib >> 10, (mib & 1023) * 10 / 1024),
    };
    if let Some(why) = why_not {
        note(&format!(
            "the day needs about {}, more than --memory-limit {}, but it is run in memory: {why}",
            gib(need),
            gib(budget.limit)
        ));
        return Ok(run::execute_with(request, on_start)?);
    }
    let parts = partitions(input, budget.limit);
    let parent = match (&budget.spill_dir, request.out.parent()) {
        (Some(dir), _) => dir.clone(),
        (None, Some(p)) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent)
        .map_err(|e| anyhow!("{}: cannot create the spill directory: {e}", parent.display()))?;
    let spill = tempfile::Builder::new()
        .prefix(".recon-spill-")
        .tempdir_in(&parent)
        .map_err(|e| anyhow!("{}: cannot write the spill directory: {e}", parent.display()))?;
    crate::interrupt::set_spill(Some(spill.path().to_path_buf()));
    let carried = request.carry_in.as_ref().map_or(String::new(), |c| {
        format!(", each carrying in its share of {}", c.display())
    });
    note(&format!(
        "the day needs about {}, more than --memory-limit {}: reconciling it in {parts} partitions under {}{carried}",
        gib(need),
        gib(budget.limit),
        spill.path().display()
    ));
    let result = partitioned(request, parts, spill.path(), on_start);
    if result.is_err() {
        crate::interrupt::set_spill(None);
    }
    result
}

/// What a partitioned run cannot do (yet), if the request asks for it.
fn unsupported(request: &RunRequest) -> Option<&'static str> {
    if request.encryption.is_some() {
        Some("encrypted results are not partitioned")
    } else if !request.reports.is_empty() || request.xlsx {
        Some("--report and --xlsx are not partitioned")
    } else if !request.confirmations.is_empty() || !request.resolutions.is_empty() {
        Some("the day has confirmations or resolutions")
    } else {
        None
    }
}

/// split → every partition run in turn → merge into `request.out`.
fn partitioned(
    request: &RunRequest,
    parts: usize,
    spill: &Path,
    on_start: &mut OnStart<'_>,
) -> anyhow::Result<RunOutcome> {
    let dir = spill.join("parts");
    let made = split(&SplitRequest {
        ledger: request.ledger.clone(),
        bank: request.bank.clone(),
        rules: request.rules.clone(),
        date: request.date,
        parts,
        out: dir.clone(),
        skip_bad_rows: request.skip_bad_rows,
    })?;
    for (k, part) in made.dirs.iter().enumerate() {
        let manifest = Manifest::read(part)?;
        let (ledger, bank, input) = manifest.input(part)?;
        let one = RunRequest {
            ledger,
            bank,
            out: part.join("results"),
            run_id: format!("{}-part-{:04}", request.run_id, k + 1),
            progress: false,
            part: Some(input),
            ..request.clone()
        };
        // Its critical section ends here: each partition is only a step.
        drop(run::execute(&one)?);
        // Its input is read for good (the merge reads manifests and results):
        // the disk goes back before the next partition runs. What cannot be
        // removed now goes with the spill directory at the end.
        for side in [&manifest.ledger, &manifest.bank] {
            for file in [&side.file, &side.lines] {
                let _ = std::fs::remove_file(part.join(file));
            }
        }
    }
    let plan = rules::load(
        &request.rules,
        request.date.unwrap_or_else(|| chrono::Local::now().date_naive()),
    )?;
    let merged = merge(
        &MergeRequest {
            parts: dir,
            results: "results".into(),
            out: request.out.clone(),
            lang: request.lang,
            run_id: request.run_id.clone(),
            wait: request.wait,
        },
        &mut |manifest, carried| {
            let id = |m: &super::manifest::SideManifest| SourceId {
                path: m.path.clone(),
                sha256: m.sha256.clone(),
            };
            let started = Started {
                rules: &plan.identity,
                inputs: [("ledger", id(&manifest.ledger)), ("bank", id(&manifest.bank))]
                    .into_iter()
                    .chain(carried.map(|c| ("carry_in", c.clone())))
                    .collect(),
            };
            on_start(&started).map_err(|e| anyhow!(e))
        },
    )?;
    // Published: from here a signal has nothing to remove but the spill, which is dropped next.
    crate::interrupt::set_spill(None);
    let mut critical = crate::interrupt::critical();
    critical.published();
    Ok(RunOutcome {
        exceptions: merged.exceptions,
        summary: merged.summary,
        reports: Vec::new(),
        published: merged.published,
        key_id: None,
        lang: merged.lang,
        critical,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(parse_size("4G"), Ok(4 << 30));
        assert_eq!(parse_size("512M"), Ok(512 << 20));
        assert_eq!(parse_size("8GiB"), Ok(8 << 30));
        assert_eq!(parse_size("800k"), Ok(800 << 10));
        assert_eq!(parse_size("1000"), Ok(1000));
        assert!(parse_size("4X").is_err());
        assert!(parse_size("0").is_err());
        assert!(parse_size("G").is_err());
    }

    #[test]
    fn each_partition_is_estimated_within_three_quarters_of_the_limit() {
        let ten_million_day = 2_716_000_000;
        for limit in [1u64 << 30, 3 << 30, 8 << 30] {
            let parts = partitions(ten_million_day, limit) as u64;
            assert!(
                estimate(ten_million_day.div_ceil(parts)) <= limit / 4 * 3,
                "{limit}: {parts}"
            );
            assert!(
                estimate(ten_million_day.div_ceil(parts - 1)) > limit / 4 * 3,
                "{limit}: {parts}"
            );
        }
        assert_eq!(partitions(1 << 20, 1 << 10), MAX_PARTITIONS);
        assert_eq!(partitions(400 << 10, 1 << 20), 4);
        assert_eq!(partitions(1 << 20, 1 << 40), 2);
    }
}
