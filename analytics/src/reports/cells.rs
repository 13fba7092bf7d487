//! The published figures of one cell of a report, from its aggregated row: every count goes
//! through the disclosure policy, every share and weighted figure is computed from what it
//! publishes.

use std::cmp::Ordering;

use polars::prelude::*;

use super::disclosure::{
    DisclosurePolicy, Published, Tally, clustered_estimate, estimate, scaled_total,
};
use super::model::*;
use super::pipeline::{CLUSTER_M2, CLUSTER_WM2, FIRMS, Table, cluster_column, weighted_of};
use super::snapshot::columns;
use super::stats::{ClusterSums, cluster_deff, kish_n_eff, wilson};
use crate::instrument::Instrument;

/// Weighted blockers are ranked on their shares rounded to this, then by gate id: shares
/// that are equal but for the last digits of floating-point sums taken in another order (as
/// two databases may deliver rows) rank the same.
pub const RANK_PRECISION: f64 = 1e-9;

/// How a report's cells are estimated.
#[derive(Debug, Clone, Copy)]
pub(super) struct Method {
    /// Raking weights were applied (the table has the weighted sums).
    pub weighted: bool,
    /// A firm's several responses count (basis `all`): intervals account for firm
    /// clustering (the table has the sums over firms).
    pub clustered: bool,
}

/// The design effect of firm clustering on the share of the indicator counted in `alias`
/// (unweighted), from the true figures of the cell at `row`.
pub(super) fn deff(
    table: &Table,
    row: usize,
    alias: &str,
    cell: Tally,
    part: u64,
) -> PolarsResult<f64> {
    if cell.count == 0 {
        return Ok(1.0);
    }
    let n = cell.count as f64;
    let sums = ClusterSums {
        clusters: table.float(FIRMS, row)?,
        y2: table.float(&cluster_column(alias, "y2"), row)?,
        ym: table.float(&cluster_column(alias, "ym"), row)?,
        m2: table.float(CLUSTER_M2, row)?,
    };
    Ok(cluster_deff(part as f64 / n, n, n, sums))
}

/// The design effect of firm clustering on the weighted share of the indicator whose
/// weighted total is in `weighted_total` and cluster sums under `alias`.
pub(super) fn weighted_deff(
    table: &Table,
    row: usize,
    alias: &str,
    weighted_total: &str,
) -> PolarsResult<f64> {
    let (w_sum, w2_sum) = (table.float("w_sum", row)?, table.float("w2_sum", row)?);
    if w_sum <= 0.0 {
        return Ok(1.0);
    }
    let sums = ClusterSums {
        clusters: table.float(FIRMS, row)?,
        y2: table.float(&cluster_column(alias, "wy2"), row)?,
        ym: table.float(&cluster_column(alias, "wym"), row)?,
        m2: table.float(CLUSTER_WM2, row)?,
    };
    let p = table.float(weighted_total, row)? / w_sum;
    Ok(cluster_deff(p, w_sum, kish_n_eff(w_sum, w2_sum), sums))
}

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
pub(super) fn scaled(
    table: &Table,
    row: usize,
    total: &str,
    count: (u64, Published),
) -> PolarsResult<f64> {
    Ok(scaled_total(table.float(total, row)?, count.0, count.1))
}

/// A weighted share `part / total` with its Wilson interval on `n_eff / deff`. A shown cell
/// has a positive weighted total: every weight is positive, as raking refuses a zero
/// population for a category the sample has.
pub(super) fn weighted_estimate(part: f64, total: f64, n_eff: f64, deff: f64) -> WeightedEstimate {
    let share = if total > 0.0 { part / total } else { 0.0 };
    let n_eff = n_eff / deff.max(1.0);
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
    method: Method,
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
    let published = |alias: &str, count: (u64, Published)| -> PolarsResult<Estimate> {
        Ok(if method.clustered {
            clustered_estimate(count.1, n, deff(table, row, alias, cell, count.0)?)
        } else {
            estimate(count.1, n)
        })
    };
    let mut tiers = Vec::new();
    let mut tier_counts = Vec::new();
    for (index, tier) in instrument.tiers().iter().enumerate() {
        let rank = u8::try_from(index + 1).unwrap_or(u8::MAX);
        let alias = format!("tier_{rank}");
        let count = part(&alias)?;
        tier_counts.push(count);
        tiers.push(TierEstimate {
            key: tier.key.clone(),
            rank,
            estimate: published(&alias, count)?,
        });
    }
    let ready = part("ready")?;
    let mean = |i: usize| -> PolarsResult<f64> {
        Ok(policy.mean(table.float(columns::SCORES[i], row)?, cell, n, i))
    };
    let weighted = if method.weighted {
        let size = (cell.count, n);
        let total = scaled(table, row, "w_sum", size)?;
        let n_eff = kish_n_eff(total, scaled(table, row, "w2_sum", size)?);
        let design = |alias: &str, weighted_total: &str| -> PolarsResult<f64> {
            if method.clustered {
                weighted_deff(table, row, alias, weighted_total)
            } else {
                Ok(1.0)
            }
        };
        let mut weighted_tiers = Vec::new();
        for (tier, count) in tiers.iter().zip(&tier_counts) {
            let column = format!("w_tier_{}", tier.rank);
            let part = scaled(table, row, &column, *count)?;
            weighted_tiers.push(WeightedTier {
                key: tier.key.clone(),
                rank: tier.rank,
                estimate: weighted_estimate(
                    part,
                    total,
                    n_eff,
                    design(&format!("tier_{}", tier.rank), &column)?,
                ),
            });
        }
        let w_sum = table.float("w_sum", row)?;
        let weighted_mean = |i: usize| -> PolarsResult<f64> {
            let sum = table.float(&weighted_of(columns::SCORES[i]), row)?;
            Ok(policy.weighted_mean(sum, w_sum, cell, n, i).unwrap_or(0.0))
        };
        Some(WeightedCell {
            n_eff,
            tiers: weighted_tiers,
            ready_to_customise: weighted_estimate(
                scaled(table, row, "w_ready", ready)?,
                total,
                n_eff,
                design("ready", "w_ready")?,
            ),
            dimension_means: DimensionMeans {
                maturity: weighted_mean(0)?,
                clarity: weighted_mean(1)?,
                vendor_gap: weighted_mean(2)?,
                capability: weighted_mean(3)?,
                governance: weighted_mean(4)?,
            },
        })
    } else {
        None
    };
    Ok(Cell {
        n: Some(n.get()),
        suppressed: false,
        tiers: Some(tiers),
        ready_to_customise: Some(published("ready", ready)?),
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
    method: Method,
) -> PolarsResult<BlockerCell> {
    if hidden {
        return Ok(BlockerCell {
            n: None,
            suppressed: true,
            gates: None,
            weighted: None,
            unlock: None,
        });
    }
    let cell = table.tally("n", row)?;
    let n = policy.size(cell);
    let mut estimates = Vec::new();
    let mut failures = Vec::new();
    for (g, (gate, reason)) in gates.iter().enumerate() {
        let alias = format!("g{g}");
        let tally = table.tally(&alias, row)?;
        let failing = policy.part(tally, n);
        failures.push((tally.count, failing));
        estimates.push(GateEstimate {
            gate: (*gate).to_owned(),
            reason: (*reason).to_owned(),
            estimate: if method.clustered {
                clustered_estimate(failing, n, deff(table, row, &alias, cell, tally.count)?)
            } else {
                estimate(failing, n)
            },
        });
    }
    estimates.sort_by(|a, b| {
        b.estimate
            .share
            .partial_cmp(&a.estimate.share)
            .unwrap_or(Ordering::Equal)
            .then_with(|| a.gate.cmp(&b.gate))
    });
    let weighted = if method.weighted {
        let size = (cell.count, n);
        let total = scaled(table, row, "w_sum", size)?;
        let n_eff = kish_n_eff(total, scaled(table, row, "w2_sum", size)?);
        let mut weighted_gates = Vec::new();
        for (g, ((gate, _), failing)) in gates.iter().zip(&failures).enumerate() {
            let column = format!("wg{g}");
            let part = scaled(table, row, &column, *failing)?;
            let deff = if method.clustered {
                weighted_deff(table, row, &format!("g{g}"), &column)?
            } else {
                1.0
            };
            weighted_gates.push(WeightedGate {
                gate: (*gate).to_owned(),
                estimate: weighted_estimate(part, total, n_eff, deff),
            });
        }
        rank_weighted_gates(&mut weighted_gates);
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
        unlock: None,
    })
}

/// Sorts weighted gates by share rounded to [`RANK_PRECISION`], descending, then by gate id.
pub(super) fn rank_weighted_gates(gates: &mut [WeightedGate]) {
    let rounded = |share: f64| (share / RANK_PRECISION).round();
    gates.sort_by(|a, b| {
        rounded(b.estimate.share)
            .partial_cmp(&rounded(a.estimate.share))
            .unwrap_or(Ordering::Equal)
            .then_with(|| a.gate.cmp(&b.gate))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gate(id: &str, share: f64) -> WeightedGate {
        WeightedGate {
            gate: id.to_owned(),
            estimate: WeightedEstimate {
                share,
                ci_low: 0.0,
                ci_high: 1.0,
            },
        }
    }

    #[test]
    fn shares_one_ulp_apart_rank_by_gate_id() {
        let share = 0.1 + 0.2; // 0.30000000000000004
        let below = 0.3;
        assert_ne!(share, below);
        let mut gates = [gate("t.b", share), gate("t.a", below), gate("t.c", 0.5)];
        rank_weighted_gates(&mut gates);
        let order: Vec<&str> = gates.iter().map(|g| g.gate.as_str()).collect();
        assert_eq!(order, ["t.c", "t.a", "t.b"]);
        let mut gates = [gate("t.a", below), gate("t.b", share)];
        rank_weighted_gates(&mut gates);
        assert_eq!(gates[0].gate, "t.a");
        // A real difference above the precision still ranks by share.
        let mut gates = [gate("t.a", 0.3), gate("t.b", 0.300_000_01)];
        rank_weighted_gates(&mut gates);
        assert_eq!(gates[0].gate, "t.b");
    }
}
