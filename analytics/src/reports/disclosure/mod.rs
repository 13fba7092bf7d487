//! Disclosure control by the cell key method, as the UK ONS and the ABS use it for tables
//! users build themselves.
//!
//! Every firm has a record key, drawn once at random from 0–255 and stored with it (and erased
//! with it). A cell's key is the sum of the record keys of the firms it counts, modulo 256, so
//! the same firms give the same key in every table, request and window. A published count is
//! the true count plus the noise a [`PerturbationTable`] holds for that count and cell key:
//! the same cell always shows the same number, and differencing two tables yields noise, not
//! a firm. A [`DisclosurePolicy`] adds the threshold below which a cell is not shown at all.
//!
//! Reports publish nothing that does not pass through here: a count is a [`Published`],
//! which only a policy makes, from a [`Tally`] (a true count and its cell key); shares and
//! intervals are computed from published counts, means of scores carry noise of their own,
//! and weighted totals are scaled to the published counts (see the `publish` module for the
//! methods). The threshold is applied to the perturbed number of a cell's distinct firms,
//! whatever the basis: a firm's key is summed once however many of its responses a cell
//! holds.

mod ptable;
mod publish;
#[cfg(test)]
mod tests;

use std::sync::Arc;

pub use ptable::{KEY_RANGE, MAX_PCV, PerturbationTable, PtableError, pcv, perturb};
pub use publish::{
    DISCREPANCY_PRECISION, MEAN_NOISE, Published, SCORE_RANGE, Tally, clustered_estimate,
    discrepancy, estimate, scaled_total,
};

/// The cell key of the firms a cell counts: the sum of their record keys modulo 256. Give
/// each firm's key once, however many of its responses the cell holds.
pub fn cell_key(record_keys: impl Iterator<Item = u8>) -> u8 {
    record_keys.fold(0, u8::wrapping_add)
}

/// How counts are published: a perturbation table and the smallest cell shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisclosurePolicy {
    table: Arc<PerturbationTable>,
    min_cell: u64,
}

impl DisclosurePolicy {
    /// The publisher's policy. Without a threshold of its own it takes the one the table
    /// implies, its smallest publishable count.
    pub fn new(table: Arc<PerturbationTable>, min_cell: Option<u64>) -> Self {
        let min_cell = min_cell.unwrap_or_else(|| table.smallest_publishable());
        Self { table, min_cell }
    }

    /// The policy for one request: a request may raise the threshold, never lower it.
    pub fn for_request(&self, requested_min_cell: Option<u64>) -> Self {
        Self {
            table: Arc::clone(&self.table),
            min_cell: requested_min_cell.map_or(self.min_cell, |r| r.max(self.min_cell)),
        }
    }

    pub fn table(&self) -> &PerturbationTable {
        &self.table
    }

    /// Cells whose published size is below this are not shown.
    pub fn min_cell(&self) -> u64 {
        self.min_cell
    }

    /// A published count inside a shown cell (a tier, ready or blocker count): perturbed,
    /// never withheld.
    pub fn perturbed(&self, count: u64, cell_key: u8) -> u64 {
        perturb(&self.table, count, cell_key)
    }

    /// The published size of a cell: its perturbed count, or `None` when that is below the
    /// threshold and the cell is not shown. The threshold applies to the perturbed count, as
    /// in the ONS package, so that whether a cell shows does not reveal its true size.
    pub fn publish(&self, count: u64, cell_key: u8) -> Option<u64> {
        Some(self.perturbed(count, cell_key)).filter(|published| *published >= self.min_cell)
    }
}
