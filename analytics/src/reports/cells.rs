//! The published figures of one cell of a report, from its aggregated row: every count goes
//! through the disclosure policy, every share and weighted figure is computed from what it
//! publishes.

use std::cmp::Ordering;

use polars::prelude::*;

use super::disclosure::{DisclosurePolicy, Published, estimate, scaled_total};
use super::model::*;
use super::pipeline::Table;
use super::snapshot::columns;
use super::stats::{kish_n_eff, wilson};
use crate::instrument::Instrument;

/// A suppressed cell: no figures at all.
pub(super) fn hidden_cell() -> Cell {
    Cell {
        n: None,
        suppressed: true,
        tiers: None,
        ready_to_customise: None,
        dimension_means: None,
        weighted: None,
    }
}

/// A weighted total of a cell, scaled to the published count of the rows it sums over.
fn scaled(table: &Table, row: usize, total: &str, count: (u64, Published)) -> PolarsResult<f64> {
    Ok(scaled_total(table.float(total, row)?, count.0, count.1))
}

fn weighted_estimate(part: f64, total: f64, n_eff: f64) -> WeightedEstimate {
    let share = if total > 0.0 { part / total } else { 0.0 };
    let (ci_low, ci_high) = wilson(share * n_eff, n_eff).unwrap_or((0.0, 0.0));
    WeightedEstimate {
        share,
        ci_low,
        ci_high,
    }
}

pub(super) fn readiness_cell(
    policy: &DisclosurePolicy,
    table: &Table,
    row: usize,
    instrument: &Instrument,
    hidden: bool,
    weighted: bool,
) -> PolarsResult<Cell> {
    if hidden {
        return Ok(hidden_cell());
    }
    let cell = table.tally("n", row)?;
    let n = policy.size(cell);
    let part = |column: &str| -> PolarsResult<(u64, Published)> {
        let tally = table.tally(column, row)?;
        Ok((tally.count, policy.part(tally, n)))
    };
    let mut tiers = Vec::new();
    let mut tier_counts = Vec::new();
    for (index, tier) in instrument.tiers().iter().enumerate() {
        let rank = u8::try_from(index + 1).unwrap_or(u8::MAX);
        let count = part(&format!("tier_{rank}"))?;
        tier_counts.push(count);
        tiers.push(TierEstimate {
            key: tier.key.clone(),
            rank,
            estimate: estimate(count.1, n),
        });
    }
    let ready = part("ready")?;
    let mean = |i: usize| -> PolarsResult<f64> {
        Ok(policy.mean(table.float(columns::SCORES[i], row)?, cell, n, i))
    };
    let weighted = if weighted {
        let size = (cell.count, n);
        let total = scaled(table, row, "w_sum", size)?;
        let n_eff = kish_n_eff(total, scaled(table, row, "w2_sum", size)?);
        let mut weighted_tiers = Vec::new();
        for (tier, count) in tiers.iter().zip(&tier_counts) {
            let part = scaled(table, row, &format!("w_tier_{}", tier.rank), *count)?;
            weighted_tiers.push(WeightedTier {
                key: tier.key.clone(),
                rank: tier.rank,
                estimate: weighted_estimate(part, total, n_eff),
            });
        }
        Some(WeightedCell {
            n_eff,
            tiers: weighted_tiers,
            ready_to_customise: weighted_estimate(
                scaled(table, row, "w_ready", ready)?,
                total,
                n_eff,
            ),
        })
    } else {
        None
    };
    Ok(Cell {
        n: Some(n.get()),
        suppressed: false,
        tiers: Some(tiers),
        ready_to_customise: Some(estimate(ready.1, n)),
        dimension_means: Some(DimensionMeans {
            maturity: mean(0)?,
            clarity: mean(1)?,
            vendor_gap: mean(2)?,
            capability: mean(3)?,
            governance: mean(4)?,
        }),
        weighted,
    })
}

pub(super) fn blocker_cell(
    policy: &DisclosurePolicy,
    table: &Table,
    row: usize,
    gates: &[(&str, &str)],
    hidden: bool,
    weighted: bool,
) -> PolarsResult<BlockerCell> {
    if hidden {
        return Ok(BlockerCell {
            n: None,
            suppressed: true,
            gates: None,
            weighted: None,
        });
    }
    let cell = table.tally("n", row)?;
    let n = policy.size(cell);
    let mut estimates = Vec::new();
    let mut failures = Vec::new();
    for (g, (gate, reason)) in gates.iter().enumerate() {
        let tally = table.tally(&format!("g{g}"), row)?;
        let failing = policy.part(tally, n);
        failures.push((tally.count, failing));
        estimates.push(GateEstimate {
            gate: (*gate).to_owned(),
            reason: (*reason).to_owned(),
            estimate: estimate(failing, n),
        });
    }
    estimates.sort_by(|a, b| {
        b.estimate
            .share
            .partial_cmp(&a.estimate.share)
            .unwrap_or(Ordering::Equal)
            .then_with(|| a.gate.cmp(&b.gate))
    });
    let weighted = if weighted {
        let size = (cell.count, n);
        let total = scaled(table, row, "w_sum", size)?;
        let n_eff = kish_n_eff(total, scaled(table, row, "w2_sum", size)?);
        let mut weighted_gates = Vec::new();
        for (g, ((gate, _), failing)) in gates.iter().zip(&failures).enumerate() {
            let part = scaled(table, row, &format!("wg{g}"), *failing)?;
            weighted_gates.push(WeightedGate {
                gate: (*gate).to_owned(),
                estimate: weighted_estimate(part, total, n_eff),
            });
        }
        weighted_gates.sort_by(|a, b| {
            b.estimate
                .share
                .partial_cmp(&a.estimate.share)
                .unwrap_or(Ordering::Equal)
                .then_with(|| a.gate.cmp(&b.gate))
        });
        Some(WeightedBlockers {
            n_eff,
            gates: weighted_gates,
        })
    } else {
        None
    };
    Ok(BlockerCell {
        n: Some(n.get()),
        suppressed: false,
        gates: Some(estimates),
        weighted,
    })
}
