//! The matches of a reconciliation, held compactly: a 10M-order day makes
//! about 9.4M of them and holds them until the end of the run. A match is 16
//! bytes: its rows as `u32` indices (one row held inline, several as the
//! number of a list in one shared arena), its stage as a `u16` and its review
//! reasons as the number of a list in a side table (most matches have none).
//! `Match` reads one as easily as a struct of slices.

use rayon::prelude::*;

use crate::model::Side;

/// Most records one side of a reconciliation may hold: row indices are
/// `u32` (`run::guard::rows_fit` refuses a run with more).
pub const MAX_ROWS: usize = u32::MAX as usize;

/// How one side of a packed match is read.
const ONE: u8 = 0;
const LIST: u8 = 1;
const NONE: u8 = 2;
/// Bits of `Packed::shape` per side: ledger in the low two, bank above.
const SHAPE_BITS: u8 = 2;

/// One match as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Packed {
    /// The ledger row (`ONE`) or the number of its list in `Matches::rows` (`LIST`).
    ledger: u32,
    /// As `ledger`, for the bank side.
    bank: u32,
    /// 0 for none, else 1 + the index of its list in `Matches::reasons`.
    reasons: u32,
    stage: u16,
    /// `ONE`, `LIST` or `NONE` for each side (`SHAPE_BITS` each).
    shape: u8,
}

impl Packed {
    /// A match of one ledger row with one bank row and no review reason.
    pub(crate) fn pair(stage: usize, ledger: usize, bank: usize) -> Packed {
        Packed {
            ledger: row(ledger),
            bank: row(bank),
            reasons: 0,
            stage: stage_index(stage),
            shape: ONE | ONE << SHAPE_BITS,
        }
    }

    fn shape(&self, side: Side) -> u8 {
        match side {
            Side::Ledger => self.shape & 0b11,
            Side::Bank => self.shape >> SHAPE_BITS,
        }
    }

    fn slot(&mut self, side: Side) -> &mut u32 {
        match side {
            Side::Ledger => &mut self.ledger,
            Side::Bank => &mut self.bank,
        }
    }
}

fn row(index: usize) -> u32 {
    u32::try_from(index).expect("a side holds at most MAX_ROWS records (run::guard::rows_fit)")
}

fn stage_index(stage: usize) -> u16 {
    u16::try_from(stage).expect("a plan holds at most rules::plan::MAX_STAGES stages")
}

/// The number of a row list or reason list, which fits: a row list holds
/// two rows or more of one side, and only automatic matches, each with a
/// ledger row of its own, have reasons, so either kind is fewer than `MAX_ROWS`.
fn list_number(n: usize) -> u32 {
    u32::try_from(n).expect("fewer lists than MAX_ROWS")
}

/// The matches of a reconciliation, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Matches {
    packed: Vec<Packed>,
    /// The row lists of sides with several rows, one after the other.
    rows: Vec<u32>,
    /// Where each list ends in `rows` (it starts where the one before ends).
    ends: Vec<usize>,
    /// Review reason lists, one per match that has any.
    reasons: Vec<Vec<String>>,
}

impl Matches {
    /// Matches of one ledger row with one bank row each, without review reasons.
    pub(crate) fn pairs(packed: Vec<Packed>) -> Matches {
        Matches {
            packed,
            ..Matches::default()
        }
    }

    /// Adds a match of `ledger` and `bank` (record indices, in the order to
    /// list them) made by `stage`, and returns its index.
    pub(crate) fn push(
        &mut self,
        stage: usize,
        ledger: &[usize],
        bank: &[usize],
        reasons: Vec<String>,
    ) -> usize {
        let mut packed = Packed {
            ledger: 0,
            bank: 0,
            reasons: 0,
            stage: stage_index(stage),
            shape: 0,
        };
        for (side, indices) in [(Side::Ledger, ledger), (Side::Bank, bank)] {
            let shape = match indices {
                [] => NONE,
                [one] => {
                    *packed.slot(side) = row(*one);
                    ONE
                }
                many => {
                    *packed.slot(side) = list_number(self.ends.len());
                    self.rows.extend(many.iter().map(|&i| row(i)));
                    self.ends.push(self.rows.len());
                    LIST
                }
            };
            let shift = if side == Side::Ledger { 0 } else { SHAPE_BITS };
            packed.shape |= shape << shift;
        }
        if !reasons.is_empty() {
            self.reasons.push(reasons);
            packed.reasons = list_number(self.reasons.len());
        }
        self.packed.push(packed);
        self.packed.len() - 1
    }

    /// Appends `other`'s matches after these.
    pub(crate) fn append(&mut self, other: Matches) {
        if self.packed.is_empty() && self.rows.is_empty() && self.reasons.is_empty() {
            *self = other;
            return;
        }
        let (lists, reasons, rows) = (self.ends.len(), self.reasons.len(), self.rows.len());
        self.packed.extend(other.packed.into_iter().map(|mut p| {
            for side in Side::BOTH {
                if p.shape(side) == LIST {
                    *p.slot(side) += list_number(lists);
                }
            }
            if p.reasons != 0 {
                p.reasons += list_number(reasons);
            }
            p
        }));
        self.rows.extend(other.rows);
        self.ends.extend(other.ends.into_iter().map(|end| end + rows));
        self.reasons.extend(other.reasons);
    }

    /// How many matches there are.
    pub fn len(&self) -> usize {
        self.packed.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.packed.is_empty()
    }

    /// Match number `index`.
    pub fn get(&self, index: usize) -> Match<'_> {
        Match {
            packed: &self.packed[index],
            all: self,
        }
    }

    /// Every match, in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = Match<'_>> + '_ {
        self.packed.iter().map(|packed| Match { packed, all: self })
    }

    /// Every match, in order, in parallel.
    pub fn par_iter(&self) -> impl IndexedParallelIterator<Item = Match<'_>> + '_ {
        self.packed.par_iter().map(|packed| Match { packed, all: self })
    }

    /// Rearranges the matches so that position `k` holds what was at
    /// `order[k]` (`order` is a permutation). Only the 16-byte matches move:
    /// their lists stay where they are.
    pub(crate) fn permute(&mut self, order: &[usize]) {
        let packed = &self.packed;
        let sorted: Vec<Packed> = order.par_iter().map(|&i| packed[i]).collect();
        self.packed = sorted;
    }

    /// Renumbers every row: ledger row `i` becomes `ledger_at[i]`, bank row
    /// `i` becomes `bank_at[i]`.
    pub(crate) fn renumber(&mut self, ledger_at: &[usize], bank_at: &[usize]) {
        for p in &mut self.packed {
            for (side, at) in [(Side::Ledger, ledger_at), (Side::Bank, bank_at)] {
                match p.shape(side) {
                    ONE => {
                        let slot = p.slot(side);
                        *slot = row(at[*slot as usize]);
                    }
                    LIST => {
                        let list = *p.slot(side) as usize;
                        let start = list.checked_sub(1).map_or(0, |before| self.ends[before]);
                        for r in &mut self.rows[start..self.ends[list]] {
                            *r = row(at[*r as usize]);
                        }
                    }
                    _ => {}
                }
            }
        }
    }

    /// Puts `reason` first among match `index`'s review reasons.
    pub(crate) fn flag_first(&mut self, index: usize, reason: String) {
        let packed = &mut self.packed[index];
        match packed.reasons {
            0 => {
                self.reasons.push(vec![reason]);
                packed.reasons = list_number(self.reasons.len());
            }
            n => self.reasons[n as usize - 1].insert(0, reason),
        }
    }
}

/// A group of records, from both sides, that reconcile with each other (a
/// view of one of `Matches`).
#[derive(Clone, Copy)]
pub struct Match<'m> {
    packed: &'m Packed,
    all: &'m Matches,
}

impl<'m> Match<'m> {
    /// Index of the stage (in the plan) that made it; one past the plan's
    /// stages for a manual match.
    pub fn stage(self) -> usize {
        usize::from(self.packed.stage)
    }

    /// Ledger record indices, in content order.
    pub fn ledger(self) -> Rows<'m> {
        self.rows(Side::Ledger)
    }

    /// Bank record indices, in content order.
    pub fn bank(self) -> Rows<'m> {
        self.rows(Side::Bank)
    }

    /// The record indices of one side.
    pub fn rows(self, side: Side) -> Rows<'m> {
        let packed = self.packed;
        let slot = match side {
            Side::Ledger => &packed.ledger,
            Side::Bank => &packed.bank,
        };
        match packed.shape(side) {
            ONE => Rows(std::slice::from_ref(slot)),
            LIST => {
                let (list, ends) = (*slot as usize, &self.all.ends);
                let start = list.checked_sub(1).map_or(0, |before| ends[before]);
                Rows(&self.all.rows[start..ends[list]])
            }
            _ => Rows(&[]),
        }
    }

    /// Why the match needs a second look, if it does.
    pub fn review_reasons(self) -> &'m [String] {
        match self.packed.reasons {
            0 => &[],
            n => &self.all.reasons[n as usize - 1],
        }
    }

    /// Whether the match needs a second look.
    pub fn flagged(self) -> bool {
        self.packed.reasons != 0
    }
}

/// The record indices of one side of a match.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rows<'m>(&'m [u32]);

impl<'m> Rows<'m> {
    /// The indices, in order.
    pub fn iter(self) -> impl ExactSizeIterator<Item = usize> + Clone + 'm {
        self.0.iter().map(|&i| i as usize)
    }

    /// How many rows.
    pub fn len(self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    pub fn is_empty(self) -> bool {
        self.0.is_empty()
    }
}

impl<'m> IntoIterator for Rows<'m> {
    type Item = usize;
    type IntoIter = std::iter::Map<std::slice::Iter<'m, u32>, fn(&u32) -> usize>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter().map(|&i| i as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(m: Match) -> (usize, Vec<usize>, Vec<usize>, Vec<String>) {
        (
            m.stage(),
            m.ledger().iter().collect(),
            m.bank().iter().collect(),
            m.review_reasons().to_vec(),
        )
    }

    fn strings(texts: &[&str]) -> Vec<String> {
        texts.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn a_match_is_sixteen_bytes() {
        assert_eq!(std::mem::size_of::<Packed>(), 16);
    }

    #[test]
    fn rows_and_reasons_read_back_as_pushed_after_append_permute_and_flag() {
        let mut first = Matches::default();
        first.push(0, &[4], &[9], Vec::new());
        first.push(1, &[1, 2, 3], &[7], strings(&["a"]));
        let mut second = Matches::pairs(vec![Packed::pair(2, 5, 6)]);
        second.push(3, &[8], &[10, 11], strings(&["b", "c"]));
        second.push(4, &[], &[12, 13], Vec::new());
        second.push(5, &[14, 15], &[], Vec::new());
        first.append(second);
        first.flag_first(0, "large".into());
        first.flag_first(1, "larger".into());
        let want = [
            (0, vec![4], vec![9], strings(&["large"])),
            (1, vec![1, 2, 3], vec![7], strings(&["larger", "a"])),
            (2, vec![5], vec![6], Vec::new()),
            (3, vec![8], vec![10, 11], strings(&["b", "c"])),
            (4, vec![], vec![12, 13], Vec::new()),
            (5, vec![14, 15], vec![], Vec::new()),
        ];
        let got: Vec<_> = first.iter().map(read).collect();
        assert_eq!(got, want);
        assert!(first.get(0).flagged() && !first.get(2).flagged());

        let order = [3, 5, 0, 2, 4, 1];
        first.permute(&order);
        let got: Vec<_> = first.par_iter().map(read).collect();
        let permuted: Vec<_> = order.iter().map(|&i| want[i].clone()).collect();
        assert_eq!(got, permuted);
    }

    #[test]
    fn renumber_maps_single_rows_and_lists_of_each_side() {
        let mut matches = Matches::default();
        matches.push(0, &[0], &[1], Vec::new());
        matches.push(0, &[1, 2], &[0], Vec::new());
        matches.push(0, &[3], &[2, 3], Vec::new());
        matches.renumber(&[10, 11, 12, 13], &[20, 21, 22, 23]);
        let got: Vec<_> = matches
            .iter()
            .map(|m| {
                (
                    m.ledger().iter().collect::<Vec<_>>(),
                    m.bank().iter().collect::<Vec<_>>(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                (vec![10], vec![21]),
                (vec![11, 12], vec![20]),
                (vec![13], vec![22, 23])
            ]
        );
    }
}
