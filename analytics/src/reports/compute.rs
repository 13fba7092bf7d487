//! The three reports: readiness, trend and blockers, each with disclosure control and
//! optional raking weights.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use polars::prelude::*;

use super::calendar::{month_label, quarter_label};
use super::model::*;
use super::pipeline::{self, Table, WEIGHT, segment_column};
use super::snapshot::{NO_REGION, Snapshot, columns};
use super::stats::{kish_n_eff, wilson};
use super::suppression::suppress;
use super::weighting::{WeightingError, rake};
use crate::instrument::Instrument;

/// Population margins: dimension (`size_band`, `industry`, `country`, `region`) → category →
/// population count.
pub type Margins = BTreeMap<String, BTreeMap<String, f64>>;

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error(transparent)]
    Weighting(#[from] WeightingError),
    #[error("population margins cannot use `{0}`; use industry, size_band, country or region")]
    MarginDimension(String),
    #[error("report computation failed: {0}")]
    Polars(#[from] PolarsError),
}

/// Readiness shares overall and per segment.
pub fn readiness(
    snapshot: &Snapshot,
    instrument: &Instrument,
    query: &ReportQuery,
    margins: Option<&Margins>,
) -> Result<Readiness, ReportError> {
    let rows = weighted_rows(snapshot, query, &[], margins)?;
    readiness_of(snapshot, instrument, query, rows, &[], margins.is_some())
        .map(|mut periods| periods.pop().map(|(_, r)| r).unwrap_or_else(empty))
}

/// Readiness per month or quarter; with basis `latest`, a firm's latest response in each period.
pub fn trend(
    snapshot: &Snapshot,
    instrument: &Instrument,
    query: &ReportQuery,
    interval: Interval,
    margins: Option<&Margins>,
) -> Result<Vec<Period>, ReportError> {
    let period = match interval {
        Interval::Month => columns::MONTH,
        Interval::Quarter => columns::QUARTER,
    };
    let rows = weighted_rows(snapshot, query, &[period], margins)?;
    let periods = readiness_of(
        snapshot,
        instrument,
        query,
        rows,
        &[period],
        margins.is_some(),
    )?;
    Ok(periods
        .into_iter()
        .map(|(index, readiness)| Period {
            period: match interval {
                Interval::Month => month_label(index),
                Interval::Quarter => quarter_label(index),
            },
            readiness,
        })
        .collect())
}

/// For each tier above the lowest: the firms exactly one tier below, and the share of them
/// failing each of the tier's gates.
pub fn blockers(
    snapshot: &Snapshot,
    instrument: &Instrument,
    query: &ReportQuery,
    margins: Option<&Margins>,
) -> Result<Vec<TierBlockers>, ReportError> {
    let rows = weighted_rows(snapshot, query, &[], margins)?.collect()?;
    let weighted = margins.is_some();
    let by: Vec<Expr> = query.by.iter().map(|f| col(segment_column(*f))).collect();
    let mut report = Vec::new();
    for (index, tier) in instrument.tiers().iter().enumerate().skip(1) {
        let below = i32::try_from(index).unwrap_or(i32::MAX);
        let mut aggregates = vec![pipeline::count()];
        for (g, gate) in tier.gates.iter().enumerate() {
            aggregates.push(pipeline::gate_failures(
                snapshot,
                &gate.id,
                &format!("g{g}"),
            ));
        }
        if weighted {
            aggregates.push(pipeline::sum_of_weights());
            aggregates.push(pipeline::sum_of_squared_weights());
            for (g, gate) in tier.gates.iter().enumerate() {
                let failed = snapshot
                    .gate_column(&gate.id)
                    .filter(|name| snapshot.frame().column(name).is_ok())
                    .map_or(lit(false), |name| col(name.as_str()));
                aggregates.push(pipeline::weighted_count(failed, &format!("wg{g}")));
            }
        }
        let at_tier_below = rows
            .clone()
            .lazy()
            .filter(col(columns::TIER_RANK).eq(lit(below)));
        let overall = at_tier_below.clone().select(aggregates.clone()).collect()?;
        let segments = if by.is_empty() {
            DataFrame::empty()
        } else {
            at_tier_below
                .group_by(by.clone())
                .agg(aggregates)
                .collect()?
        };
        let keys = segment_keys(snapshot, query, &Table(&segments))?;
        let overall_table = Table(&overall);
        let overall_n = overall_table.count("n", 0)?;
        let segment_ns = (0..segments.height())
            .map(|row| Table(&segments).count("n", row))
            .collect::<PolarsResult<Vec<_>>>()?;
        let order = sorted_order(&keys);
        let ordered_ns: Vec<u64> = order.iter().map(|&row| segment_ns[row]).collect();
        let (overall_hidden, hidden) = suppress(overall_n, &ordered_ns, query.min_cell);
        let gates: Vec<(&str, &str)> = tier
            .gates
            .iter()
            .map(|g| (g.id.as_str(), g.reason.as_str()))
            .collect();
        report.push(TierBlockers {
            tier: tier.key.clone(),
            rank: u8::try_from(index + 1).unwrap_or(u8::MAX),
            label: tier.label.clone(),
            overall: blocker_cell(&overall_table, 0, &gates, overall_hidden, weighted)?,
            segments: order
                .iter()
                .zip(hidden)
                .map(|(&row, hidden)| {
                    Ok(BlockerSegment {
                        key: keys[row].0.clone(),
                        cell: blocker_cell(&Table(&segments), row, &gates, hidden, weighted)?,
                    })
                })
                .collect::<PolarsResult<Vec<_>>>()?,
        });
    }
    Ok(report)
}

fn empty() -> Readiness {
    Readiness {
        overall: hidden_cell(),
        segments: Vec::new(),
    }
}

/// The counted rows, with a weight column when margins are given.
fn weighted_rows(
    snapshot: &Snapshot,
    query: &ReportQuery,
    partition: &[&str],
    margins: Option<&Margins>,
) -> Result<LazyFrame, ReportError> {
    let rows = pipeline::counted_rows(snapshot, query, partition)?;
    let Some(margins) = margins else {
        return Ok(rows);
    };
    let fields = margins
        .keys()
        .map(|key| {
            SegmentField::parse(key)
                .filter(|f| *f != SegmentField::Version)
                .ok_or_else(|| ReportError::MarginDimension(key.clone()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let rows = rows.collect()?;
    let cell_columns: Vec<Expr> = fields.iter().map(|f| col(segment_column(*f))).collect();
    let cells = rows
        .clone()
        .lazy()
        .group_by(cell_columns.clone())
        .agg([pipeline::count()])
        .collect()?;
    let table = Table(&cells);
    let mut labelled = Vec::with_capacity(cells.height());
    for row in 0..cells.height() {
        let categories = fields
            .iter()
            .map(|f| {
                let code = i32::try_from(table.int(segment_column(*f), row)?).unwrap_or(-1);
                Ok(category_label(snapshot, *f, code))
            })
            .collect::<PolarsResult<Vec<String>>>()?;
        labelled.push((categories, table.float("n", row)?));
    }
    let raked = rake(&labelled, margins)?;
    let mut weight_columns: Vec<Column> = fields
        .iter()
        .map(|f| {
            Ok(cells
                .column(segment_column(*f))?
                .cast(&DataType::Int32)?
                .clone())
        })
        .collect::<PolarsResult<_>>()?;
    weight_columns.push(Column::new(WEIGHT.into(), raked.weights));
    let weights = DataFrame::new(cells.height(), weight_columns)?;
    Ok(rows.lazy().join(
        weights.lazy(),
        cell_columns.clone(),
        cell_columns,
        JoinArgs::new(JoinType::Left),
    ))
}

/// Aggregates readiness per value of `partition` (one unnamed group when empty).
fn readiness_of(
    snapshot: &Snapshot,
    instrument: &Instrument,
    query: &ReportQuery,
    rows: LazyFrame,
    partition: &[&str],
    weighted: bool,
) -> Result<Vec<(i32, Readiness)>, ReportError> {
    let ranks: Vec<u8> = (1..=instrument.tiers().len())
        .map(|r| u8::try_from(r).unwrap_or(u8::MAX))
        .collect();
    let mut aggregates = vec![pipeline::count()];
    aggregates.extend(ranks.iter().map(|r| pipeline::tier_count(*r)));
    aggregates.push(pipeline::ready_count());
    aggregates.extend(columns::SCORES.iter().map(|c| pipeline::score_mean(c)));
    if weighted {
        aggregates.push(pipeline::sum_of_weights());
        aggregates.push(pipeline::sum_of_squared_weights());
        aggregates.extend(ranks.iter().map(|r| pipeline::weighted_tier(*r)));
        aggregates.push(pipeline::weighted_ready());
    }
    let rows = rows.collect()?;
    let partition_columns: Vec<Expr> = partition.iter().map(|c| col(*c)).collect();
    let mut segment_columns = partition_columns.clone();
    segment_columns.extend(query.by.iter().map(|f| col(segment_column(*f))));

    let overall = if partition.is_empty() {
        rows.clone().lazy().select(aggregates.clone()).collect()?
    } else {
        rows.clone()
            .lazy()
            .group_by(partition_columns)
            .agg(aggregates.clone())
            .collect()?
    };
    let segments = if query.by.is_empty() {
        DataFrame::empty()
    } else {
        rows.lazy()
            .group_by(segment_columns)
            .agg(aggregates)
            .collect()?
    };

    let overall_table = Table(&overall);
    let segment_table = Table(&segments);
    let period_of = |table: &Table, row: usize| -> PolarsResult<i32> {
        match partition.first() {
            Some(column) => Ok(i32::try_from(table.int(column, row)?).unwrap_or(0)),
            None => Ok(0),
        }
    };
    let keys = segment_keys(snapshot, query, &segment_table)?;
    let mut result = Vec::new();
    for row in 0..overall_table.height() {
        let period = period_of(&overall_table, row)?;
        let overall_n = overall_table.count("n", row)?;
        let mut members = Vec::new();
        for segment in 0..segment_table.height() {
            if period_of(&segment_table, segment)? == period {
                members.push(segment);
            }
        }
        members.sort_by(|a, b| compare_keys(&keys[*a].1, &keys[*b].1));
        let ns = members
            .iter()
            .map(|&s| segment_table.count("n", s))
            .collect::<PolarsResult<Vec<_>>>()?;
        let (overall_hidden, hidden) = suppress(overall_n, &ns, query.min_cell);
        result.push((
            period,
            Readiness {
                overall: readiness_cell(&overall_table, row, instrument, overall_hidden, weighted)?,
                segments: members
                    .iter()
                    .zip(hidden)
                    .map(|(&s, hidden)| {
                        Ok(Segment {
                            key: keys[s].0.clone(),
                            cell: readiness_cell(&segment_table, s, instrument, hidden, weighted)?,
                        })
                    })
                    .collect::<PolarsResult<Vec<_>>>()?,
            },
        ));
    }
    result.sort_by_key(|(period, _)| *period);
    Ok(result)
}

fn hidden_cell() -> Cell {
    Cell {
        n: None,
        suppressed: true,
        tiers: None,
        ready_to_customise: None,
        dimension_means: None,
        weighted: None,
    }
}

fn estimate(count: u64, n: u64) -> Estimate {
    let (ci_low, ci_high) = wilson(count as f64, n as f64).unwrap_or((0.0, 0.0));
    Estimate {
        count,
        share: if n > 0 { count as f64 / n as f64 } else { 0.0 },
        ci_low,
        ci_high,
    }
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

fn readiness_cell(
    table: &Table,
    row: usize,
    instrument: &Instrument,
    hidden: bool,
    weighted: bool,
) -> PolarsResult<Cell> {
    if hidden {
        return Ok(hidden_cell());
    }
    let n = table.count("n", row)?;
    let mut tiers = Vec::new();
    for (index, tier) in instrument.tiers().iter().enumerate() {
        let rank = u8::try_from(index + 1).unwrap_or(u8::MAX);
        tiers.push(TierEstimate {
            key: tier.key.clone(),
            rank,
            estimate: estimate(table.count(&format!("tier_{rank}"), row)?, n),
        });
    }
    let mean = |i: usize| table.float(columns::SCORES[i], row);
    let weighted = if weighted {
        let total = table.float("w_sum", row)?;
        let n_eff = kish_n_eff(total, table.float("w2_sum", row)?);
        let mut weighted_tiers = Vec::new();
        for tier in &tiers {
            weighted_tiers.push(WeightedTier {
                key: tier.key.clone(),
                rank: tier.rank,
                estimate: weighted_estimate(
                    table.float(&format!("w_tier_{}", tier.rank), row)?,
                    total,
                    n_eff,
                ),
            });
        }
        Some(WeightedCell {
            n_eff,
            tiers: weighted_tiers,
            ready_to_customise: weighted_estimate(table.float("w_ready", row)?, total, n_eff),
        })
    } else {
        None
    };
    Ok(Cell {
        n: Some(n),
        suppressed: false,
        tiers: Some(tiers),
        ready_to_customise: Some(estimate(table.count("ready", row)?, n)),
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

fn blocker_cell(
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
    let n = table.count("n", row)?;
    let mut estimates = Vec::new();
    for (g, (gate, reason)) in gates.iter().enumerate() {
        estimates.push(GateEstimate {
            gate: (*gate).to_owned(),
            reason: (*reason).to_owned(),
            estimate: estimate(table.count(&format!("g{g}"), row)?, n),
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
        let total = table.float("w_sum", row)?;
        let n_eff = kish_n_eff(total, table.float("w2_sum", row)?);
        let mut weighted_gates = Vec::new();
        for (g, (gate, _)) in gates.iter().enumerate() {
            weighted_gates.push(WeightedGate {
                gate: (*gate).to_owned(),
                estimate: weighted_estimate(table.float(&format!("wg{g}"), row)?, total, n_eff),
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
        n: Some(n),
        suppressed: false,
        gates: Some(estimates),
        weighted,
    })
}

/// A key part that sorts as a reader expects: text alphabetically (no region first),
/// versions numerically.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum KeyPart {
    Text(Option<String>),
    Number(i32),
}

fn compare_keys(a: &[KeyPart], b: &[KeyPart]) -> Ordering {
    a.cmp(b)
}

fn sorted_order(keys: &[(SegmentKey, Vec<KeyPart>)]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..keys.len()).collect();
    order.sort_by(|a, b| compare_keys(&keys[*a].1, &keys[*b].1));
    order
}

fn category_label(snapshot: &Snapshot, field: SegmentField, code: i32) -> String {
    let dictionary = match field {
        SegmentField::Industry => &snapshot.industries,
        SegmentField::SizeBand => &snapshot.size_bands,
        SegmentField::Country => &snapshot.countries,
        SegmentField::Region => &snapshot.regions,
        SegmentField::Version => return code.to_string(),
    };
    dictionary.value(code).unwrap_or("").to_owned()
}

/// Decodes each aggregated row's segment columns into its key.
fn segment_keys(
    snapshot: &Snapshot,
    query: &ReportQuery,
    table: &Table,
) -> PolarsResult<Vec<(SegmentKey, Vec<KeyPart>)>> {
    let mut keys = Vec::with_capacity(table.height());
    for row in 0..table.height() {
        let mut key = SegmentKey::default();
        let mut parts = Vec::new();
        for field in &query.by {
            let code = i32::try_from(table.int(segment_column(*field), row)?).unwrap_or(-1);
            match field {
                SegmentField::Version => {
                    key.version = Some(code);
                    parts.push(KeyPart::Number(code));
                }
                SegmentField::Region => {
                    let region =
                        (code != NO_REGION).then(|| category_label(snapshot, *field, code));
                    parts.push(KeyPart::Text(region.clone()));
                    key.region = Some(region);
                }
                other => {
                    let label = category_label(snapshot, *other, code);
                    parts.push(KeyPart::Text(Some(label.clone())));
                    match other {
                        SegmentField::Industry => key.industry = Some(label),
                        SegmentField::SizeBand => key.size_band = Some(label),
                        _ => key.country = Some(label),
                    }
                }
            }
        }
        keys.push((key, parts));
    }
    Ok(keys)
}
