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
use crate::input::field::{clean_field, is_placeholder};
use crate::input::guess::ROWS_READ;
use crate::input::records::MappingError;
use crate::input::table::{RawRow, Table};
use crate::input::tally::{RowTally, Tally, Typing};
use crate::input::{read_content, settle, Content, Located, ReadError};

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
    let table_options = super::inspect::table_options(&plan);
    let content = read_content(path, plan.encoding, &table_options, |text, facts| {
        let table_error = |error| ReadError::Table {
            path: path.into(),
            error,
        };
        let Some(head) = read_head(text, &table_options).map_err(table_error)? else {
            return Ok(None);
        };
        let decider = Decider {
            plan: &plan,
            by_rules,
            options,
        };
        let Some(pass) = decider.pass(&head).map_err(table_error)? else {
            return Ok(None);
        };
        Ok(Some((facts.with_table(pass.table), pass.rest)))
    })?;
    let (located, rest): (Located, Rest) = match content {
        Content::Text(Some(found)) => found,
        Content::Text(None) | Content::Workbook(_) => return Ok(None),
    };
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
    fn pass(&self, head: &Head) -> Result<Option<Pass>, crate::input::table::TableError> {
        let mut table = head.table();
        if table.delimiter == b';' {
            return Ok(None);
        }
        let Ok(sample) = head.sample(ROWS_READ) else {
            return Ok(None);
        };
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
        let (mut located, fold) =
            head.fold(|| RowTally::new(typing.as_ref().and_then(|t| t.as_ref().ok()), &watched))?;
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
