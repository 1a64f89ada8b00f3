//! Checking a workbook's own numbers before calamine trusts them. calamine
//! sizes its buffers from what the file declares: an `.xls` sector chain that
//! loops back on itself makes it append the same sector forever, a sheet's
//! declared dimensions or two cells far apart make it allocate a grid of that
//! size, and an `.xlsx` string table's declared count is reserved up front.
//! A few kilobytes could so take the whole process down by running out of
//! memory (found by fuzzing, see CONTRIBUTING.md). This module walks the same
//! structures with every number checked against the file, and refuses a file
//! whose numbers cannot be real. It does not read cells: `excel` does.

use std::io::Read;

/// Most cells a sheet's grid may span: a statement is a few dozen columns
/// of at most 65,536 rows in an `.xls`.
pub const MAX_SHEET_CELLS: u64 = 4_000_000;

/// Why a workbook's structure cannot be real.
pub type Refusal = String;

// ------------------------------------------------------------------ .xls

/// Sector ids from this one up are markers, not sectors.
const RESERVED_SECTORS: u32 = 0xFFFF_FFFA;
/// Marks a DIFAT sector in the DIFAT (and ids from here up are no FAT sector).
const DIFSECT: u32 = 0xFFFF_FFFC;
/// Ends a sector chain.
const END_OF_CHAIN: u32 = 0xFFFF_FFFE;

/// An OLE compound file: 512-byte header, then sectors of one size.
struct Compound<'a> {
    bytes: &'a [u8],
    sector_size: usize,
    /// The highest sector id the file's length allows (as calamine computes it).
    max_id: u32,
}

impl Compound<'_> {
    /// Sector `id` as calamine first reads it: cut short when the file ends
    /// inside it; `None` when calamine would fail (the id is past the file's
    /// length, or the sector starts after its end).
    fn sector(&self, id: u32) -> Option<&[u8]> {
        if id > self.max_id {
            return None;
        }
        let start = (id as usize + 1) * self.sector_size;
        let end = (start + self.sector_size).min(self.bytes.len());
        self.bytes.get(start..end).filter(|s| !s.is_empty())
    }

    /// The sectors of the chain from `start`, concatenated, following `table`
    /// (FAT or mini FAT); `None` when the chain leaves the file.
    fn chain(&self, start: u32, table: &[u32], sector: impl Fn(u32) -> Option<Vec<u8>>) -> Option<Vec<u8>> {
        let mut out = Vec::new();
        let mut id = start;
        let mut steps = 0;
        while id != END_OF_CHAIN {
            steps += 1;
            // `table` has no cycle (checked first), so a chain is at most as long as it.
            if steps > table.len() + 1 {
                return None;
            }
            out.extend(sector(id)?);
            id = *table.get(id as usize)?;
        }
        Some(out)
    }
}

fn u16_at(bytes: &[u8], at: usize) -> u16 {
    bytes
        .get(at..at + 2)
        .map_or(0, |b| u16::from_le_bytes([b[0], b[1]]))
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    bytes
        .get(at..at + 4)
        .map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

fn words(bytes: &[u8]) -> impl Iterator<Item = u32> + '_ {
    bytes
        .chunks_exact(4)
        .map(|w| u32::from_le_bytes([w[0], w[1], w[2], w[3]]))
}

/// Checks an `.xls` (OLE compound file) the way calamine will read it: the
/// sector tables must have no loops and fit the file, and no sheet may
/// declare or fill a grid larger than `MAX_SHEET_CELLS`. A structure damaged
/// in a way calamine refuses by itself is left for calamine to report.
pub fn check_xls(bytes: &[u8]) -> Result<(), Refusal> {
    let Some(header) = bytes.get(..512) else {
        return Ok(());
    };
    let sector_size = match u16_at(header, 30) {
        0x0009 => 512,
        0x000C => 4096,
        _ => return Ok(()),
    };
    let file = Compound {
        bytes,
        sector_size,
        max_id: u32::try_from(bytes.len() / sector_size).unwrap_or(u32::MAX),
    };
    // Without a FAT calamine stops reading by itself.
    let Some(fat) = fat(&file, header)? else {
        return Ok(());
    };
    if has_loop(&fat) {
        return Err("a chain of its sectors loops back on itself".into());
    }
    let big = |id: u32| file.sector(id).map(<[u8]>::to_vec);
    let Some(directory) = file.chain(u32_at(header, 48), &fat, big) else {
        return Ok(());
    };
    let entries: Vec<&[u8]> = directory.chunks_exact(128).collect();
    let Some(root) = entries.first() else {
        return Ok(());
    };
    let mini_fat_len = u32_at(header, 64) as usize;
    let mut mini_fat = Vec::new();
    let mut mini_stream = Vec::new();
    if mini_fat_len > 0 {
        let Some(table) = file.chain(u32_at(header, 60), &fat, big) else {
            return Ok(());
        };
        mini_fat = words(&table).take(mini_fat_len * sector_size / 4).collect();
        if has_loop(&mini_fat) {
            return Err("a chain of its small sectors loops back on itself".into());
        }
        mini_stream = file.chain(u32_at(root, 116), &fat, big).unwrap_or_default();
    }
    let Some(workbook) = entries.iter().find(|e| {
        let name = stream_name(e);
        name.eq_ignore_ascii_case("Workbook") || name.eq_ignore_ascii_case("Book")
    }) else {
        return Ok(());
    };
    let len = u32_at(workbook, 120) as usize;
    let start = u32_at(workbook, 116);
    let stream = if len < 4096 {
        let mini = |id: u32| {
            let at = id as usize * 64;
            mini_stream.get(at..at + 64).map(<[u8]>::to_vec)
        };
        file.chain(start, &mini_fat, mini)
    } else {
        file.chain(start, &fat, big)
    };
    match stream {
        Some(stream) => check_sheets(&stream[..len.min(stream.len())]),
        None => Ok(()),
    }
}

/// The FAT as calamine assembles it (header DIFAT, then the DIFAT chain);
/// `None` when calamine would fail while assembling it.
fn fat(file: &Compound, header: &[u8]) -> Result<Option<Vec<u32>>, Refusal> {
    let mut difat: Vec<u32> = words(&header[76..512]).collect();
    let mut id = u32_at(header, 68);
    let mut hops = 0u64;
    while id < RESERVED_SECTORS {
        hops += 1;
        if hops > u64::from(file.max_id) + 1 {
            return Err("its sector table chain is longer than the file".into());
        }
        let Some(sector) = file.sector(id) else {
            return Ok(None);
        };
        difat.extend(words(sector));
        id = difat.pop().unwrap_or(END_OF_CHAIN);
    }
    let fat_sectors: Vec<u32> = difat.into_iter().filter(|&id| id < DIFSECT).collect();
    if fat_sectors.len() as u64 > u64::from(file.max_id) + 1 {
        return Err("it names more sector-table sectors than the file has sectors".into());
    }
    let mut fat = Vec::new();
    for id in fat_sectors {
        match file.sector(id) {
            Some(sector) => fat.extend(words(sector)),
            None => return Ok(None),
        }
    }
    Ok(Some(fat))
}

/// Whether following `table` from some entry comes back to it.
fn has_loop(table: &[u32]) -> bool {
    // 0 unvisited, 1 on the current path, 2 done.
    let mut state = vec![0u8; table.len()];
    for first in 0..table.len() {
        let mut id = first;
        let mut path = Vec::new();
        while id < table.len() && state[id] == 0 {
            state[id] = 1;
            path.push(id);
            id = table[id] as usize;
        }
        if id < table.len() && state[id] == 1 {
            return true;
        }
        for p in path {
            state[p] = 2;
        }
    }
    false
}

/// A directory entry's name (UTF-16LE, up to the first NUL).
fn stream_name(entry: &[u8]) -> String {
    let units: Vec<u16> = entry[..64]
        .chunks_exact(2)
        .map(|u| u16::from_le_bytes([u[0], u[1]]))
        .take_while(|&u| u != 0)
        .collect();
    String::from_utf16_lossy(&units)
}

/// One BIFF record: its type and data (Continue records are not joined:
/// no record looked at here continues).
fn records(stream: &[u8]) -> impl Iterator<Item = (u16, &[u8])> {
    let mut rest = stream;
    std::iter::from_fn(move || {
        if rest.len() < 4 {
            return None;
        }
        let typ = u16_at(rest, 0);
        let len = usize::from(u16_at(rest, 2));
        let data = rest.get(4..4 + len)?;
        rest = &rest[4 + len..];
        Some((typ, data))
    })
}

/// The sheets of a workbook stream, found and read as calamine does: the
/// BoundSheet8 records of the globals give each sheet's offset; a sheet's
/// Dimensions record and its cells (outside embedded substreams) must fit a
/// grid of `MAX_SHEET_CELLS`.
fn check_sheets(stream: &[u8]) -> Result<(), Refusal> {
    let mut offsets = Vec::new();
    for (typ, data) in records(stream) {
        match typ {
            0x0085 => offsets.push(u32_at(data, 0) as usize),
            0x000A => break,
            _ => {}
        }
    }
    for offset in offsets {
        if let Some(sheet) = stream.get(offset..) {
            check_sheet(sheet)?;
        }
    }
    Ok(())
}

fn check_sheet(sheet: &[u8]) -> Result<(), Refusal> {
    let mut grid = Grid::default();
    let mut seen_bof = false;
    let mut depth = 0usize;
    for (typ, data) in records(sheet) {
        if depth > 0 {
            match typ {
                0x0809 => depth += 1,
                0x000A => depth -= 1,
                _ => {}
            }
            continue;
        }
        match typ {
            0x0809 if seen_bof => depth += 1,
            0x0809 => seen_bof = true,
            0x0200 => check_dimensions(data)?,
            // Number, Label, RString, BoolErr, Rk, LabelSst, Formula.
            0x0203 | 0x0204 | 0x00D6 | 0x0205 | 0x027E | 0x00FD | 0x0006 if data.len() >= 4 => {
                grid.add(u16_at(data, 0), u16_at(data, 2));
            }
            // MulRk: one row, columns first..last.
            0x00BD if data.len() >= 6 => {
                let row = u16_at(data, 0);
                grid.add(row, u16_at(data, 2));
                grid.add(row, u16_at(data, data.len() - 2));
            }
            0x000A => break,
            _ => {}
        }
        grid.check()?;
    }
    Ok(())
}

/// A Dimensions record, read as calamine reads it (it reserves that many cells).
fn check_dimensions(data: &[u8]) -> Result<(), Refusal> {
    let (first_row, last_row, mut first_col, last_col) = match data.len() {
        10 => (
            u32::from(u16_at(data, 0)),
            u32::from(u16_at(data, 2)),
            u32::from(u16_at(data, 4)),
            u32::from(u16_at(data, 6)),
        ),
        14 | 16 => (
            u32_at(data, 0),
            u32_at(data, 4),
            u32::from(u16_at(data, 8)),
            u32::from(u16_at(data, 10)),
        ),
        _ => return Ok(()),
    };
    if first_col > 0xFF || last_col < first_col {
        first_col = 0;
    }
    if last_row == 0 || last_col == 0 {
        return Ok(());
    }
    let rows = u64::from((last_row - 1).wrapping_sub(first_row).wrapping_add(1));
    let cols = u64::from((last_col - 1).wrapping_sub(first_col).wrapping_add(1));
    if rows.saturating_mul(cols) > MAX_SHEET_CELLS {
        return Err(format!(
            "a sheet declares {rows} rows × {cols} columns, more than the {MAX_SHEET_CELLS} cells a statement can fill"
        ));
    }
    Ok(())
}

/// The rows and columns a sheet's cells span.
#[derive(Default)]
struct Grid {
    rows: Option<(u16, u16)>,
    cols: Option<(u16, u16)>,
}

impl Grid {
    fn add(&mut self, row: u16, col: u16) {
        let widen =
            |span: Option<(u16, u16)>, v: u16| Some(span.map_or((v, v), |(a, b)| (a.min(v), b.max(v))));
        self.rows = widen(self.rows, row);
        self.cols = widen(self.cols, col);
    }

    fn check(&self) -> Result<(), Refusal> {
        let (Some((r0, r1)), Some((c0, c1))) = (self.rows, self.cols) else {
            return Ok(());
        };
        let (rows, cols) = (u64::from(r1 - r0) + 1, u64::from(c1 - c0) + 1);
        if rows * cols > MAX_SHEET_CELLS {
            return Err(format!(
                "a sheet's cells span {rows} rows × {cols} columns, more than the {MAX_SHEET_CELLS} cells a statement can fill"
            ));
        }
        Ok(())
    }
}

// ----------------------------------------------------------------- .xlsx

/// Most strings an `.xlsx` string table may declare (calamine reserves room
/// for them all before reading one).
pub const MAX_SHARED_STRINGS: u64 = 20_000_000;

/// Most bytes an `.xlsx` may unpack to (the archive reader holds every part
/// to its declared size, so this bounds what deflate can blow up).
pub const MAX_XLSX_UNPACKED: u64 = 1 << 30;

/// Checks an `.xlsx`: its parts may not unpack to more than
/// `MAX_XLSX_UNPACKED`, and the shared string table may not declare more
/// than `MAX_SHARED_STRINGS`. Cells are read one by one (see `excel`), so
/// their positions need no check here.
pub fn check_xlsx(bytes: &[u8]) -> Result<(), Refusal> {
    let Ok(mut archive) = zip::ZipArchive::new(std::io::Cursor::new(bytes)) else {
        return Ok(());
    };
    let mut unpacked = 0u64;
    for i in 0..archive.len() {
        if let Ok(part) = archive.by_index_raw(i) {
            unpacked = unpacked.saturating_add(part.size());
        }
    }
    if unpacked > MAX_XLSX_UNPACKED {
        return Err(format!(
            "it unpacks to {unpacked} bytes, more than the {MAX_XLSX_UNPACKED} a statement needs"
        ));
    }
    let Some(index) = (0..archive.len()).find(|&i| {
        archive
            .name_for_index(i)
            .and_then(Result::ok)
            .is_some_and(|n| n.eq_ignore_ascii_case("xl/sharedStrings.xml"))
    }) else {
        return Ok(());
    };
    let Ok(part) = archive.by_index(index) else {
        return Ok(());
    };
    let mut head = Vec::new();
    if part.take(4096).read_to_end(&mut head).is_err() {
        return Ok(());
    }
    match declared_count(&String::from_utf8_lossy(&head)) {
        Some(count) if count > MAX_SHARED_STRINGS => Err(format!(
            "its shared string table declares {count} strings, more than the {MAX_SHARED_STRINGS} a statement can hold"
        )),
        _ => Ok(()),
    }
}

/// The `uniqueCount` attribute of the `<sst>` element.
fn declared_count(head: &str) -> Option<u64> {
    let sst = head.find("<sst")?;
    let element = &head[sst..head[sst..].find('>').map_or(head.len(), |e| sst + e)];
    let at = element.find("uniqueCount")?;
    let digits: String = element[at..]
        .chars()
        .skip_while(|c| !c.is_ascii_digit())
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loops_are_found() {
        assert!(!has_loop(&[1, 2, END_OF_CHAIN]));
        assert!(has_loop(&[1, 2, 0]));
        assert!(has_loop(&[END_OF_CHAIN, 1]));
        assert!(!has_loop(&[5, 9, END_OF_CHAIN]));
    }

    #[test]
    fn dimensions_and_cells_are_bounded() {
        let mut biff8 = Vec::new();
        biff8.extend(0u32.to_le_bytes());
        biff8.extend(65_536u32.to_le_bytes());
        biff8.extend(0u16.to_le_bytes());
        biff8.extend(256u16.to_le_bytes());
        biff8.extend(0u16.to_le_bytes());
        assert!(check_dimensions(&biff8).is_err(), "65536 × 256");
        biff8[4..8].copy_from_slice(&1_000u32.to_le_bytes());
        assert!(check_dimensions(&biff8).is_ok(), "1000 × 256");
        let mut grid = Grid::default();
        grid.add(0, 0);
        grid.add(60_000, 30);
        assert!(grid.check().is_ok());
        grid.add(0, 1_000);
        assert!(grid.check().is_err());
    }

    #[test]
    fn declared_string_counts_are_read() {
        let head = r#"<?xml version="1.0"?><sst xmlns="x" count="3" uniqueCount="2"><si>"#;
        assert_eq!(declared_count(head), Some(2));
        assert_eq!(declared_count("<sst>"), None);
    }
}
