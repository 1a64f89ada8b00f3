//! `recon check` on a text file in one parallel pass that keeps no row.
//! The column roles (and the profile recognition) are decided on the first
//! rows after the header; every data row is then typed into running totals
//! (`input::tally`), chunk by chunk. The guesses read no row past the first
//! `guess::ROWS_READ` except to find a column's first value, so the pass also
//! notes where each column still empty in the sample first holds one, and the
//! decision is made again on the sample's data rows with those rows added:
//! when it differs, or when the file needs the whole table to be decided (no
//! header row, `;` between fields, a status column, a workbook, a profile
//! recognised only by its header), the caller reads the whole table instead.

use std::path::Path;

use super::inspect::{
    finish, guessed_plan, side_plan, typing_plan, InspectError, InspectOptions, Inspection, Mapped,
    Recognition,
};
use super::plan::SidePlan;
use super::profiles;
use crate::input::chunked::{read_head, Head};
use crate::input::encoding::decode_piece_strictly;
use crate::input::field::{clean_field, is_placeholder};
use crate::input::guess::ROWS_READ;
use crate::input::records::MappingError;
use crate::input::sniff::sniff_delimiter_on_head;
use crate::input::table::TableError;
use crate::input::table::{RawRow, Table};
use crate::input::tally::{RowTally, Tally, Typing};
use crate::input::{read_for_pass, settle, ReadError, Source};

/// Inspects `path` in one pass; `None` when the whole table is needed.
pub(super) fn inspect(path: &Path, options: &InspectOptions) -> Result<Option<Inspection>, InspectError> {
    let (from_rules, rules_source) = side_plan(options)?;
    let by_rules = from_rules.is_some();
    let (plan, source) = match from_rules {
        Some(sp) => (sp, rules_source),
        None => (guessed_plan(options)?, "guessed from header names".to_string()),
    };
    if plan.columns.status.is_some() {
        return Ok(None);
    }
    let table_options = crate::input::table_options(&plan);
    let decider = Decider {
        plan: &plan,
        by_rules,
        options,
    };
    let read = read_for_pass(path, plan.encoding, |source| {
        let table_error = |error| ReadError::Table {
            path: path.into(),
            error,
        };
        match source {
            Source::Text(text) => {
                let Some(head) = read_head(text, &table_options).map_err(table_error)? else {
                    return Ok(None);
                };
                decider.pass(&head, Rows::Text).map_err(table_error)
            }
            Source::Legacy { bytes, encoding } => {
                let end = memchr::memchr(b'\n', bytes.get(HEAD_BYTES..).unwrap_or_default())
                    .map_or(bytes.len(), |i| HEAD_BYTES + i + 1);
                let Some(text) = decode_piece_strictly(&bytes[..end], encoding) else {
                    return Ok(None);
                };
                let whole = end == bytes.len();
                if !whole && table_options.delimiter.is_none() && sniff_delimiter_on_head(&text).is_none() {
                    return Ok(None);
                }
                let head = match read_head(&text, &table_options) {
                    Ok(Some(head)) => head,
                    Err(error) if whole => return Err(table_error(error)),
                    _ => return Ok(None),
                };
                let rows = Rows::Legacy {
                    bytes,
                    encoding,
                    whole,
                };
                decider.pass(&head, rows).map_err(table_error)
            }
        }
    })?;
    let Some((facts, pass)) = read else {
        return Ok(None);
    };
    let located = facts.with_table(pass.table);
    let rest = pass.rest;
    let report = Inspection::located(
        path,
        &located,
        rest.decision.recognition,
        rest.rows,
        rest.formula_cells,
    );
    let by = Mapped {
        by_rules,
        headerless: false,
        profiled: plan.profile.is_some(),
        source,
    };
    let typed = rest.typed;
    Ok(Some(finish(
        report,
        rest.decision.settled,
        by,
        options,
        |_, _| typed.unwrap_or_else(|| Ok((Tally::default(), 0))),
    )))
}

/// How many bytes of a file in a legacy encoding are decoded apart to find
/// the header and the sample rows (to the end of the line they end in).
const HEAD_BYTES: usize = 1 << 20;

/// Where the data rows after a head are read from.
#[derive(Clone, Copy)]
enum Rows<'b> {
    /// The head's own text.
    Text,
    /// `bytes` in a legacy `encoding`, the head decoded from their start
    /// (`whole`: from all of them).
    Legacy {
        bytes: &'b [u8],
        encoding: &'static encoding_rs::Encoding,
        whole: bool,
    },
}

/// What a reading decides before it types rows: which profiles fit (without
/// a rule file) and the plan settled for the file's header and rows.
#[derive(Debug)]
struct Decision {
    recognition: Option<Recognition>,
    settled: Result<SidePlan, String>,
}

/// Decides as the whole-table reading does.
struct Decider<'a> {
    plan: &'a SidePlan,
    by_rules: bool,
    options: &'a InspectOptions,
}

/// A pass over the rows: the table (with skipped lines, no rows) and the rest of what the report needs.
struct Pass {
    table: Table,
    rest: Rest,
}

struct Rest {
    decision: Decision,
    rows: u64,
    formula_cells: u64,
    /// The typed rows' totals (`None`: the plan did not settle).
    typed: Option<Result<(Tally, u64), MappingError>>,
}

impl Decider<'_> {
    /// The decision on `table` (header and some rows); `None` when it needs
    /// what only the whole-table reading does.
    fn decide(&self, table: &Table) -> Option<Decision> {
        let recognition = match self.by_rules {
            true => None,
            false => {
                let considered = profiles::recognize(table).ok()?;
                let best = profiles::pick(&considered);
                Some(Recognition {
                    recognized: best.map(|c| c.name.clone()),
                    confidence: best.map_or(0.0, |c| c.confidence),
                    line: best.and_then(|c| c.line),
                    considered,
                })
            }
        };
        let settled = settle(self.plan, self.options.side.name(), table);
        let full_match = recognition
            .as_ref()
            .is_some_and(|r| r.confidence >= 1.0 && r.recognized.is_some());
        if settled.is_err() && full_match {
            return None; // read with the recognised profile: another header
        }
        if settled
            .as_ref()
            .is_ok_and(|sp| sp.columns.status.is_some() || sp.decimal_comma)
        {
            return None;
        }
        Some(Decision { recognition, settled })
    }

    /// Samples, decides, folds every row, and checks the decision; `None`
    /// when the whole table is needed.
    fn pass(&self, head: &Head, rows: Rows) -> Result<Option<Pass>, TableError> {
        let mut table = head.table();
        if table.delimiter == b';' {
            return Ok(None);
        }
        let Ok(mut sample) = head.sample(ROWS_READ + 1) else {
            return Ok(None);
        };
        // A head cut from a longer text holds the sample when a row follows it.
        if matches!(rows, Rows::Legacy { whole: false, .. }) && sample.len() <= ROWS_READ {
            return Ok(None);
        }
        sample.truncate(ROWS_READ);
        table.rows = sample;
        let Some(decision) = self.decide(&table) else {
            return Ok(None);
        };
        let watched = unfilled_columns(&table);
        let typing_plan = decision
            .settled
            .as_ref()
            .ok()
            .map(|sp| typing_plan(sp.clone(), self.by_rules, self.options));
        let typing = typing_plan
            .as_ref()
            .map(|(sp, _, note_at)| Typing::new(&table, sp, *note_at));
        let make = || RowTally::new(typing.as_ref().and_then(|t| t.as_ref().ok()), &watched);
        let folded = match rows {
            Rows::Text => Some(head.fold(make)?),
            Rows::Legacy { bytes, encoding, .. } => head.fold_legacy(bytes, encoding, make)?,
        };
        let Some((mut located, fold)) = folded else {
            return Ok(None);
        };
        let sample = std::mem::take(&mut table.rows);
        located.rows = rows_decided_on(sample, &fold);
        let again = self.decide(&located);
        located.rows = Vec::new();
        if again.is_none_or(|again| format!("{again:?}") != format!("{decision:?}")) {
            return Ok(None);
        }
        let RowTally {
            rows,
            formula_cells,
            tally,
            ..
        } = fold;
        let typed = typing.map(|t| t.map(|_| (tally, 0)));
        Ok(Some(Pass {
            table: located,
            rest: Rest {
                decision,
                rows,
                formula_cells,
                typed,
            },
        }))
    }
}

/// Columns with no value (or only placeholders) in the table's rows.
fn unfilled_columns(table: &Table) -> Vec<usize> {
    (0..table.header.len())
        .filter(|&i| {
            !table
                .rows
                .iter()
                .any(|r| !is_placeholder(clean_field(r.fields.get(i).unwrap_or(""))))
        })
        .collect()
}

/// The rows the whole-table decision depends on: the sample's data rows
/// (without trailer rows), then the first rows where the watched columns
/// hold a value, in file order.
fn rows_decided_on(sample: Vec<RawRow>, fold: &RowTally) -> Vec<RawRow> {
    let last = fold.last_line.unwrap_or(0);
    let mut rows: Vec<RawRow> = sample.into_iter().filter(|r| r.line <= last).collect();
    let sampled_to = rows.last().map_or(0, |r| r.line);
    let mut later: Vec<RawRow> = fold
        .first
        .filled
        .iter()
        .chain(&fold.first.valued)
        .flatten()
        .filter(|r| r.line > sampled_to)
        .cloned()
        .collect();
    later.sort_by_key(|r| r.line);
    later.dedup_by_key(|r| r.line);
    rows.extend(later);
    rows
}

#[cfg(test)]
mod tests {
    use super::super::inspect::inspect_whole;
    use super::*;
    use crate::model::Side;

    fn options() -> InspectOptions {
        InspectOptions {
            rules: None,
            side: Side::Bank,
            date: None,
            encoding: None,
            delimiter: None,
            timezone: None,
            profile: None,
        }
    }

    /// The one-pass report, if the file can be read that way, checked
    /// against the whole-table reading.
    fn streamed_as_whole(path: &Path, options: &InspectOptions) -> Option<Inspection> {
        let streamed = inspect(path, options);
        let whole = inspect_whole(path, options);
        match (streamed, whole) {
            (Ok(Some(s)), Ok(w)) => {
                assert_eq!(format!("{s:?}"), format!("{w:?}"), "{}", path.display());
                Some(s)
            }
            (Ok(None), _) => None,
            (Err(s), Err(w)) => {
                assert_eq!(s.to_string(), w.to_string(), "{}", path.display());
                None
            }
            (s, w) => panic!("{}: streamed {s:?}, whole {w:?}", path.display()),
        }
    }

    fn files(dir: &Path, found: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                files(&path, found);
            } else if path
                .extension()
                .is_some_and(|e| ["csv", "txt", "tsv", "xlsx", "xls"].contains(&e.to_str().unwrap_or("")))
            {
                found.push(path);
            }
        }
    }

    #[test]
    fn every_test_file_reads_as_the_whole_table_does() {
        let mut found = Vec::new();
        files(Path::new("tests/data"), &mut found);
        found.sort();
        let read = found
            .iter()
            .filter(|p| streamed_as_whole(p, &options()).is_some())
            .count();
        // Most files are read in one pass (the rest: status columns, ';', no header, workbooks).
        assert!(read * 2 > found.len(), "{read} of {}", found.len());
    }

    /// A statement of `rows` rows whose currency and memo columns are empty
    /// until row `filled_from`.
    fn statement(rows: usize, filled_from: usize) -> String {
        let mut text = String::from("交易时间,交易金额,币种,备注\n");
        for i in 0..rows {
            let (currency, memo) = if i >= filled_from {
                ("USD", "late")
            } else {
                ("", "")
            };
            text.push_str(&format!(
                "2026-11-24 10:{:02}:{:02},{i}.50,{currency},{memo}\n",
                i / 60 % 60,
                i % 60
            ));
        }
        text
    }

    #[test]
    fn a_column_filled_only_after_the_sample_is_decided_on_its_first_value() {
        let dir = tempfile::tempdir().unwrap();
        let late = dir.path().join("late.csv");
        let rows = ROWS_READ + 500;
        // The currency column's first value changes the guess: the whole table is read.
        std::fs::write(&late, statement(rows, ROWS_READ + 100)).unwrap();
        assert!(streamed_as_whole(&late, &options()).is_none());
        let whole = inspect_whole(&late, &options()).unwrap();
        assert_eq!(
            whole.mapping.unwrap().get("currency").map(String::as_str),
            Some("币种")
        );
        // Within the sample, it is decided there and the file read in one pass.
        let early = dir.path().join("early.csv");
        std::fs::write(&early, statement(rows, 10)).unwrap();
        let report = streamed_as_whole(&early, &options()).expect("read in one pass");
        assert_eq!(report.rows, rows as u64);
        assert_eq!(report.currencies.len(), 2);
    }

    #[test]
    fn a_large_gbk_file_is_decoded_chunk_by_chunk_as_read_whole() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("gbk.csv");
        let mut text =
            String::from("XX银行对公账户交易明细\n\n交易时间,商户订单号,借方金额,贷方金额,摘要,备注\n");
        let mut i = 0;
        while text.len() < 3 * HEAD_BYTES {
            let (debit, credit) = match i {
                6 => ("x1", ""),
                i if i % 7 == 0 => ("\"1,234.50\"", ""),
                _ => ("", "9.99"),
            };
            let memo = if i % 1000 == 999 {
                "\"两行\n备注\""
            } else {
                "代收"
            };
            let note = if i == 20_000 { "=\"x\"" } else { "" };
            text.push_str(&format!(
                "2026-11-24 10:00:00,P{i},{debit},{credit},{memo},{note}\n"
            ));
            i += 1;
        }
        text.push_str("合计,,,,,\n");
        std::fs::write(&file, encoding_rs::GBK.encode(&text).0).unwrap();
        let report = streamed_as_whole(&file, &options()).expect("read in one pass");
        assert_eq!(report.rows, i);
        assert_eq!(report.notes.len(), 1, "{:?}", report.notes);
        assert_eq!(report.problems.len(), 1);
        assert!(report.problems[0].contains(":10:3:"), "{:?}", report.problems);
    }

    /// A statement in the rule file's bank columns, with a bad amount on
    /// line 4 and, unless `memo`, without the carried 摘要 column.
    fn bank_statement(memo: bool) -> String {
        let memo_name = if memo { ",摘要" } else { "" };
        let mut text = format!("XX银行\n交易时间(UTC),商户订单号,商户号,借方金额,贷方金额{memo_name}\n");
        for i in 0..ROWS_READ + 10 {
            let credit = if i == 1 {
                "12x".to_string()
            } else {
                format!("{i}.00")
            };
            let memo = if memo { ",代收" } else { "" };
            text.push_str(&format!("2026-11-24 10:00:00,P{i},M1,,{credit}{memo}\n"));
        }
        text.push_str("合计,,,,\n");
        text
    }

    #[test]
    fn a_rule_file_mapping_is_read_in_one_pass_with_its_problems() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("bank.csv");
        let options = InspectOptions {
            rules: Some("rules/default.toml".into()),
            date: chrono::NaiveDate::from_ymd_opt(2026, 11, 24),
            ..options()
        };
        std::fs::write(&file, bank_statement(true)).unwrap();
        let report = streamed_as_whole(&file, &options).expect("read in one pass");
        assert_eq!(report.problems.len(), 1, "{:?}", report.problems);
        assert!(report.problems[0].contains(":4:5:"), "{:?}", report.problems);
        assert_eq!(report.records, Some(ROWS_READ as u64 + 9));
        std::fs::write(&file, bank_statement(false)).unwrap();
        let report = streamed_as_whole(&file, &options).expect("read in one pass");
        assert!(report.problems[0].contains("摘要"), "{:?}", report.problems);
        assert_eq!(report.records, None);
    }
}
