//! The unlock analysis of the blockers report: for the firms one tier below a tier, how many
//! have each gate as their only blocker (fixing it alone moves them up), and how many have
//! 1, 2, 3 or 4+ blockers.
//!
//! The figures of a tier form one table: a row per cell (overall, then the segments in key
//! order) and a column per blocker count and per gate. Each row's blocker counts add up to
//! its published size, its sole-blocker counts to its firms with one blocker, and each
//! column's segment figures to its overall figure. Every count is published by the
//! disclosure policy like a gate count; a figure whose published count (or, with basis
//! `all`, its published number of distinct firms) is below the threshold is suppressed, and
//! [`suppress_related`] hides partners until no relation has a single hidden member.

use std::cmp::Ordering;

use polars::prelude::*;

use super::cells::{Method, deff, scaled, weighted_deff, weighted_estimate};
use super::disclosure::{DisclosurePolicy, clustered_estimate, estimate};
use super::model::{BlockerCount, Estimate, SoleBlocker, Unlock, UnlockFigure, WeightedEstimate};
use super::pipeline::{self, Indicator, Table, firms_of};
use super::snapshot::Snapshot;
use super::stats::kish_n_eff;
use super::suppression::{Relation, suppress_related};
use crate::instrument::Gate;

/// The labels of the blocker-count columns: 1, 2, 3, and 4 or more.
pub const BLOCKER_COUNTS: [&str; 4] = ["1", "2", "3", "4+"];

/// The alias of a column of the table: the blocker counts first, then the gates.
fn alias(column: usize) -> String {
    match column.checked_sub(BLOCKER_COUNTS.len()) {
        None => format!("b{column}"),
        Some(gate) => format!("s{gate}"),
    }
}

fn weighted_alias(column: usize) -> String {
    format!("w{}", alias(column))
}

/// The column of each row's number of failed gates of the tier (see [`blocker_count`]).
const BLOCKERS: &str = "unlock_blockers";

/// Each row's number of failed gates among `gates`, computed once per row before the
/// aggregation rather than in every indicator.
pub(super) fn blocker_count(snapshot: &Snapshot, gates: &[Gate]) -> Expr {
    gates
        .iter()
        .map(|g| pipeline::gate_failed(snapshot, &g.id).cast(DataType::Int32))
        .reduce(|a, b| a + b)
        .unwrap_or(lit(0))
        .alias(BLOCKERS)
}

/// What the blockers report aggregates for the unlock analysis of a tier with `gates` (on
/// rows with the [`blocker_count`] column): the indicator of each column (counted with its
/// cell key, and used for the clustered variance and, with basis `all`, the distinct firms),
/// and the names of their weighted totals.
pub(super) fn indicators(snapshot: &Snapshot, gates: &[Gate]) -> (Vec<Indicator>, Vec<String>) {
    let failed: Vec<Expr> = gates
        .iter()
        .map(|g| pipeline::gate_failed(snapshot, &g.id))
        .collect();
    let blockers = col(BLOCKERS);
    let mut conditions: Vec<Expr> = (1..=3)
        .map(|k| blockers.clone().eq(lit(k)))
        .chain([blockers.clone().gt_eq(lit(4))])
        .collect();
    conditions.extend(
        failed
            .into_iter()
            .map(|f| f.and(blockers.clone().eq(lit(1)))),
    );
    let indicators: Vec<Indicator> = conditions
        .into_iter()
        .enumerate()
        .map(|(column, condition)| Indicator {
            alias: alias(column),
            condition,
        })
        .collect();
    let weighted = (0..indicators.len()).map(weighted_alias).collect();
    (indicators, weighted)
}

/// One row of the table: the aggregated cell and whether the whole cell is suppressed.
pub(super) struct CellRow<'a> {
    pub table: &'a Table<'a>,
    pub row: usize,
    pub hidden: bool,
}

/// The unlock analysis of each row (`None` for a suppressed cell). `rows` are the overall
/// cell, then the segments, which partition it; `gates` are the tier's gates (id, reason) in
/// the instrument's order.
pub(super) fn unlock_figures(
    policy: &DisclosurePolicy,
    rows: &[CellRow],
    gates: &[(&str, &str)],
    method: Method,
) -> PolarsResult<Vec<Option<Unlock>>> {
    let width = BLOCKER_COUNTS.len() + gates.len();
    let mut sizes = vec![0; rows.len() * width];
    let mut hidden = vec![true; rows.len() * width];
    for (r, cell) in rows.iter().enumerate() {
        if cell.hidden {
            continue;
        }
        let n = policy.size(cell.table.tally("n", cell.row)?);
        for column in 0..width {
            let alias = alias(column);
            let published = policy.part(cell.table.tally(&alias, cell.row)?, n);
            let firms = if method.clustered {
                policy.size(cell.table.tally(&firms_of(&alias), cell.row)?)
            } else {
                published
            };
            sizes[r * width + column] = firms.get();
            // With basis `all` the count of responses is shown only when neither it nor
            // its distinct firms fall below the threshold.
            hidden[r * width + column] = !(policy.shows(firms) && policy.shows(published));
        }
    }
    let mut relations = Vec::new();
    for r in (0..rows.len()).filter(|r| !rows[*r].hidden) {
        let at = |column: usize| r * width + column;
        relations.push(Relation {
            total: None,
            parts: (0..BLOCKER_COUNTS.len()).map(at).collect(),
        });
        relations.push(Relation {
            total: Some(at(0)),
            parts: (BLOCKER_COUNTS.len()..width).map(at).collect(),
        });
    }
    if rows.len() > 1 {
        for column in 0..width {
            relations.push(Relation {
                total: Some(column),
                parts: (1..rows.len()).map(|r| r * width + column).collect(),
            });
        }
    }
    suppress_related(&sizes, &mut hidden, &relations);
    rows.iter()
        .enumerate()
        .map(|(r, cell)| {
            if cell.hidden {
                return Ok(None);
            }
            let figures = (0..width)
                .map(|column| figure(policy, cell, column, hidden[r * width + column], method))
                .collect::<PolarsResult<Vec<_>>>()?;
            let blocker_counts = BLOCKER_COUNTS
                .iter()
                .zip(&figures)
                .map(|(label, figure)| BlockerCount {
                    blockers: (*label).to_owned(),
                    figure: figure.clone(),
                })
                .collect();
            let mut sole_blockers: Vec<SoleBlocker> = gates
                .iter()
                .zip(&figures[BLOCKER_COUNTS.len()..])
                .map(|((gate, reason), figure)| SoleBlocker {
                    gate: (*gate).to_owned(),
                    reason: (*reason).to_owned(),
                    figure: figure.clone(),
                })
                .collect();
            rank(&mut sole_blockers);
            Ok(Some(Unlock {
                sole_blockers,
                blocker_counts,
            }))
        })
        .collect()
}

/// Published figures by share, descending, then gate id; suppressed ones after, by gate id.
fn rank(gates: &mut [SoleBlocker]) {
    let share = |g: &SoleBlocker| g.figure.estimate.as_ref().map(|e| e.share);
    gates.sort_by(|a, b| match (share(a), share(b)) {
        (Some(x), Some(y)) => y
            .partial_cmp(&x)
            .unwrap_or(Ordering::Equal)
            .then_with(|| a.gate.cmp(&b.gate)),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => a.gate.cmp(&b.gate),
    });
}

/// One figure of a shown cell, estimated as the cell's gate shares are.
fn figure(
    policy: &DisclosurePolicy,
    cell: &CellRow,
    column: usize,
    hidden: bool,
    method: Method,
) -> PolarsResult<UnlockFigure> {
    if hidden {
        return Ok(UnlockFigure {
            suppressed: true,
            estimate: None,
            weighted: None,
        });
    }
    let (table, row) = (cell.table, cell.row);
    let size = table.tally("n", row)?;
    let n = policy.size(size);
    let alias = alias(column);
    let tally = table.tally(&alias, row)?;
    let published = policy.part(tally, n);
    let estimate: Estimate = if method.clustered {
        clustered_estimate(published, n, deff(table, row, &alias, size, tally.count)?)
    } else {
        estimate(published, n)
    };
    let weighted: Option<WeightedEstimate> = if method.weighted {
        let total = scaled(table, row, "w_sum", (size.count, n))?;
        let n_eff = kish_n_eff(total, scaled(table, row, "w2_sum", (size.count, n))?);
        let column_total = weighted_alias(column);
        let part = scaled(table, row, &column_total, (tally.count, published))?;
        let deff = if method.clustered {
            weighted_deff(table, row, &alias, &column_total)?
        } else {
            1.0
        };
        Some(weighted_estimate(part, total, n_eff, deff))
    } else {
        None
    };
    Ok(UnlockFigure {
        suppressed: false,
        estimate: Some(estimate),
        weighted,
    })
}
