//! `recon split`: both files read once, one after the other, each row sent
//! to the partition of its partition key's value, and written there byte
//! for byte (lines up to the header go to every partition), with a line map
//! and a manifest. The partitions appear whole or not at all: they are
//! written beside `--out` and renamed into place.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context};
use chrono::NaiveDate;

use super::manifest::{Manifest, RulesRef, SideManifest, FORMAT};
use super::stream::{stream_side, StreamSide, EVERY, HEAD_BYTES, PIECE_BYTES};
use super::{partition_key, PartitionKey};
use crate::digest::sha256_hex;
use crate::input::{self, SourceFile};
use crate::matching;
use crate::model::{Record, Side, Tally};
use crate::rules::business::BusinessDay;
use crate::rules::{self, Plan};
use crate::run::{guard, locate_error};

/// What to split and where.
#[derive(Debug, Clone)]
pub struct SplitRequest {
    /// The platform ledger export.
    pub ledger: PathBuf,
    /// The bank or channel statement.
    pub bank: PathBuf,
    /// A rule file, or a directory of versions.
    pub rules: PathBuf,
    /// The business date (chooses the rule version; checked to have rows).
    pub date: Option<NaiveDate>,
    /// How many partitions.
    pub parts: usize,
    /// The directory to create, holding `part-0001/` … .
    pub out: PathBuf,
    /// Put unreadable rows into the partitions (for `run --skip-bad-rows`) instead of stopping.
    pub skip_bad_rows: bool,
}

/// A finished split.
#[derive(Debug)]
pub struct SplitOutcome {
    /// What the day was cut by.
    pub key: PartitionKey,
    /// The partition directories, in order.
    pub dirs: Vec<PathBuf>,
    /// Rows per partition: [ledger, bank].
    pub rows: Vec<[u64; 2]>,
}

/// The name of partition `k` (0-based) inside `--out`.
pub fn part_dir_name(k: usize) -> String {
    format!("part-{:04}", k + 1)
}

/// Splits the day; nothing is left behind when it fails.
pub fn split(request: &SplitRequest) -> anyhow::Result<SplitOutcome> {
    if request.parts == 0 || request.parts > 9999 {
        return Err(anyhow!("--parts must be between 1 and 9999"));
    }
    let date = request.date.unwrap_or_else(|| chrono::Local::now().date_naive());
    let plan = rules::load(&request.rules, date)?;
    let key = partition_key(&plan).map_err(|why| {
        anyhow!(
            "{}: this day cannot be partitioned: {why}. Run it whole with `recon run`",
            plan.identity.path
        )
    })?;
    guard::distinct_files(&request.ledger, &request.bank)?;
    if request.out.read_dir().is_ok_and(|mut d| d.next().is_some()) {
        return Err(anyhow!(
            "{}: exists and is not empty; give a new directory for the partitions",
            request.out.display()
        ));
    }
    let parent = match request.out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent).with_context(|| format!("{}: cannot create", parent.display()))?;
    let staging = tempfile::Builder::new()
        .prefix(".recon-split-")
        .tempdir_in(&parent)
        .with_context(|| format!("{}: cannot write the partitions here", parent.display()))?;
    let dirs: Vec<PathBuf> = (0..request.parts)
        .map(|k| staging.path().join(part_dir_name(k)))
        .collect();
    for dir in &dirs {
        std::fs::create_dir(dir).with_context(|| format!("{}: cannot create", dir.display()))?;
    }
    let day = request.date.map(|d| plan.business_day(d));
    let until = day.as_ref().and_then(|d| matching::statement_until(&plan, d));
    let mut sides = Vec::new();
    for (side, path) in [(Side::Ledger, &request.ledger), (Side::Bank, &request.bank)] {
        let streamed = stream_side(
            &StreamSide {
                path,
                side,
                plan: side_plan(&plan, side),
                key,
                dirs: &dirs,
                period: day.as_ref().map(|d| (d, until)),
                skip_bad_rows: request.skip_bad_rows,
            },
            HEAD_BYTES,
            PIECE_BYTES,
        )?;
        let written = match streamed {
            Some(written) => written,
            None => {
                let source = read(path, side, &plan, request, day.as_ref())?;
                write_side(&source, path, side, key, &dirs)?
            }
        };
        sides.push(written);
    }
    let rules = RulesRef {
        path: request.rules.display().to_string(),
        file: plan.identity.path.clone(),
        sha256: plan.identity.sha256.clone(),
    };
    let mut rows = Vec::new();
    for (k, dir) in dirs.iter().enumerate() {
        let manifest = Manifest {
            format: FORMAT.to_string(),
            part: k + 1,
            parts: request.parts,
            partition_key: key.name().to_string(),
            rules: rules.clone(),
            business_date: request.date.map(|d| d.to_string()),
            ledger: sides[0].manifest(k),
            bank: sides[1].manifest(k),
        };
        rows.push([manifest.ledger.rows, manifest.bank.rows]);
        let path = dir.join(super::manifest::FILE_NAME);
        std::fs::write(&path, manifest.to_json())
            .with_context(|| format!("{}: cannot write", path.display()))?;
    }
    let kept = staging.keep();
    std::fs::rename(&kept, &request.out).map_err(|e| {
        let _ = std::fs::remove_dir_all(&kept);
        anyhow!("{}: cannot create: {e}", request.out.display())
    })?;
    Ok(SplitOutcome {
        key,
        dirs: (0..request.parts)
            .map(|k| request.out.join(part_dir_name(k)))
            .collect(),
        rows,
    })
}

/// Reads one side whole (a small file, or one the stream leaves to the
/// whole-file reader), refusing what a run of the whole day would refuse,
/// and what cannot be cut into text partitions.
fn read(
    path: &Path,
    side: Side,
    plan: &Plan,
    request: &SplitRequest,
    day: Option<&BusinessDay>,
) -> anyhow::Result<SourceFile> {
    let source = input::read_source(path, side, side_plan(plan, side))?;
    if source.located.workbook.is_some() {
        return Err(anyhow!(
            "{}: a workbook cannot be cut into text partitions; write it as CSV first with `recon convert`",
            path.display()
        ));
    }
    if !source.located.encoding.is_ascii_compatible() {
        return Err(anyhow!(
            "{}: {} text cannot be cut line by line; write it as UTF-8 first with `recon convert`",
            path.display(),
            source.located.encoding.name()
        ));
    }
    let rejected = &source.typed.rejected;
    if !rejected.is_empty() && !request.skip_bad_rows {
        let mut listing: Vec<String> = rejected
            .iter()
            .take(20)
            .map(|(e, _)| locate_error(path, e))
            .collect();
        if rejected.len() > listing.len() {
            listing.push(format!("… and {} more", rejected.len() - listing.len()));
        }
        return Err(anyhow!(
            "{} bad row(s); nothing was written. Fix them, or split with --skip-bad-rows (and run the partitions with --skip-bad-rows) to set them aside in rejected.csv:\n{}",
            rejected.len(),
            listing.join("\n")
        ));
    }
    if let (Some(day), Some(date)) = (day, request.date) {
        let until = matching::statement_until(plan, day);
        guard::some_rows_in_period(&source, day, until, date, plan.business_zone)?;
    }
    Ok(source)
}

/// The rules for reading one side's file.
fn side_plan(plan: &Plan, side: Side) -> &crate::input::plan::SidePlan {
    match side {
        Side::Ledger => &plan.ledger,
        Side::Bank => &plan.bank,
    }
}

/// One side written into every partition.
pub(super) struct WrittenSide {
    pub name: &'static str,
    pub path: String,
    pub sha256: String,
    pub encoding: String,
    pub delimiter: char,
    /// Rows per partition.
    pub rows: Vec<u64>,
    /// The whole file's rows and amounts.
    pub input: Tally,
}

impl WrittenSide {
    fn manifest(&self, k: usize) -> SideManifest {
        SideManifest {
            path: self.path.clone(),
            sha256: self.sha256.clone(),
            encoding: self.encoding.clone(),
            delimiter: self.delimiter,
            file: format!("{}.csv", self.name),
            lines: format!("{}.lines", self.name),
            rows: self.rows[k],
            input: self.input,
        }
    }
}

/// A line that is not the first of a row: it goes where the line before it went.
const FOLLOWS: u32 = u32::MAX - 1;

/// Writes each of the side's lines to its partition's file, with the line map.
pub(super) fn write_side(
    source: &SourceFile,
    path: &Path,
    side: Side,
    key: PartitionKey,
    dirs: &[PathBuf],
) -> anyhow::Result<WrittenSide> {
    let raw = std::fs::read(path).with_context(|| format!("{}: cannot read", path.display()))?;
    if sha256_hex(&raw) != source.located.sha256 {
        return Err(anyhow!("{}: changed while it was being read", path.display()));
    }
    let mut starts: Vec<usize> = std::iter::once(0)
        .chain(memchr::memchr_iter(b'\n', &raw).map(|i| i + 1))
        .collect();
    if starts.last() == Some(&raw.len()) && !raw.is_empty() {
        starts.pop();
    }
    let lines = starts.len();
    let mut owner = vec![FOLLOWS; lines + 1];
    let header = usize::try_from(source.located.table.header_line)
        .unwrap_or(0)
        .min(lines);
    owner[1..=header].fill(EVERY);
    let parts = dirs.len();
    let mut rows = vec![0u64; parts];
    let field = |r: &Record| PartitionKey::part_of(key.value(r), parts);
    let mut place = |line: u64, part: usize| {
        if let Some(slot) = usize::try_from(line).ok().and_then(|l| owner.get_mut(l)) {
            *slot = part as u32;
            rows[part] += 1;
        }
    };
    for r in &source.typed.records {
        place(r.line(), field(r));
    }
    for s in &source.set_aside {
        place(s.record.line(), field(&s.record));
    }
    // Unreadable rows have no key: the first partition reports them.
    for (e, _) in &source.typed.rejected {
        place(e.line, 0);
    }
    let name = side.name();
    let create = |dir: &PathBuf, file: String| -> anyhow::Result<BufWriter<File>> {
        let path = dir.join(file);
        let file = File::create(&path).with_context(|| format!("{}: cannot create", path.display()))?;
        Ok(BufWriter::with_capacity(1 << 16, file))
    };
    let mut data: Vec<BufWriter<File>> = dirs
        .iter()
        .map(|d| create(d, format!("{name}.csv")))
        .collect::<anyhow::Result<_>>()?;
    let mut maps: Vec<BufWriter<File>> = dirs
        .iter()
        .map(|d| create(d, format!("{name}.lines")))
        .collect::<anyhow::Result<_>>()?;
    let mut current = EVERY;
    let io = |e: std::io::Error| anyhow!("cannot write the partitions: {e}");
    for (i, &start) in starts.iter().enumerate() {
        let line = i + 1;
        if owner[line] != FOLLOWS {
            current = owner[line];
        }
        let end = starts.get(i + 1).copied().unwrap_or(raw.len());
        let bytes = &raw[start..end];
        let targets = if current == EVERY {
            0..parts
        } else {
            current as usize..current as usize + 1
        };
        for k in targets {
            data[k].write_all(bytes).map_err(io)?;
            writeln!(maps[k], "{line}").map_err(io)?;
        }
    }
    for w in data.iter_mut().chain(maps.iter_mut()) {
        w.flush().map_err(io)?;
    }
    let mut input = Tally::of(&source.typed.records);
    input += Tally::of(source.set_aside.iter().map(|s| &s.record));
    input.count += source.typed.rejected.len() as u64;
    Ok(WrittenSide {
        name,
        path: path.display().to_string(),
        sha256: source.located.sha256.clone(),
        encoding: source.located.encoding.name().to_string(),
        delimiter: char::from(source.located.table.delimiter),
        rows,
        input,
    })
}
