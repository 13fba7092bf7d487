//! The three reports: readiness, trend and blockers, each with disclosure control and
//! optional raking weights.
//!
//! Every count, share, mean and weighted figure is made by the disclosure module from a
//! cell's true figures and cell keys (see [`super::disclosure`]); cells are suppressed on
//! their perturbed number of distinct firms, whatever the basis.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use polars::prelude::*;

use super::calendar::{month_label, quarter_label};
use super::cells::{blocker_cell, hidden_cell, readiness_cell};
use super::disclosure::DisclosurePolicy;
use super::model::*;
use super::pipeline::{self, Table, WEIGHT, segment_column};
use super::snapshot::{NO_REGION, Snapshot, columns};
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
    let policy = &query.disclosure;
    let by: Vec<&str> = query.by.iter().map(|f| segment_column(*f)).collect();
    let mut report = Vec::new();
    for (index, tier) in instrument.tiers().iter().enumerate().skip(1) {
        let below = i32::try_from(index).unwrap_or(i32::MAX);
        let mut aggregates = pipeline::count().to_vec();
        for (g, gate) in tier.gates.iter().enumerate() {
            aggregates.extend(pipeline::gate_failures(
                snapshot,
                &gate.id,
                &format!("g{g}"),
            ));
        }
        if weighted {
            aggregates.push(pipeline::sum_of_weights());
            aggregates.push(pipeline::sum_of_squared_weights());
            for (g, gate) in tier.gates.iter().enumerate() {
                let failed = pipeline::gate_failed(snapshot, &gate.id);
                aggregates.push(pipeline::weighted_count(failed, &format!("wg{g}")));
            }
        }
        let at_tier_below = rows
            .clone()
            .lazy()
            .filter(col(columns::TIER_RANK).eq(lit(below)));
        let overall = aggregate(at_tier_below.clone(), &[], aggregates.clone(), query.basis)?;
        let segments = if by.is_empty() {
            DataFrame::empty()
        } else {
            aggregate(at_tier_below, &by, aggregates, query.basis)?
        };
        let keys = segment_keys(snapshot, query, &Table(&segments))?;
        let overall_table = Table(&overall);
        let order = sorted_order(&keys);
        let (overall_hidden, hidden) = suppress_cells(
            policy,
            query.basis,
            (&overall_table, 0),
            &Table(&segments),
            &order,
        )?;
        let gates: Vec<(&str, &str)> = tier
            .gates
            .iter()
            .map(|g| (g.id.as_str(), g.reason.as_str()))
            .collect();
        report.push(TierBlockers {
            tier: tier.key.clone(),
            rank: u8::try_from(index + 1).unwrap_or(u8::MAX),
            label: tier.label.clone(),
            overall: blocker_cell(policy, &overall_table, 0, &gates, overall_hidden, weighted)?,
            segments: order
                .iter()
                .zip(hidden)
                .map(|(&row, hidden)| {
                    Ok(BlockerSegment {
                        key: keys[row].0.clone(),
                        cell: blocker_cell(
                            policy,
                            &Table(&segments),
                            row,
                            &gates,
                            hidden,
                            weighted,
                        )?,
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
        .agg([len().cast(DataType::Int64).alias("n")])
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
    let policy = &query.disclosure;
    let mut aggregates = pipeline::count().to_vec();
    aggregates.extend(ranks.iter().flat_map(|r| pipeline::tier_count(*r)));
    aggregates.extend(pipeline::ready_count());
    aggregates.extend(columns::SCORES.iter().map(|c| pipeline::score_sum(c)));
    if weighted {
        aggregates.push(pipeline::sum_of_weights());
        aggregates.push(pipeline::sum_of_squared_weights());
        aggregates.extend(ranks.iter().map(|r| pipeline::weighted_tier(*r)));
        aggregates.push(pipeline::weighted_ready());
    }
    let rows = rows.collect()?.lazy();
    let mut segment_columns = partition.to_vec();
    segment_columns.extend(query.by.iter().map(|f| segment_column(*f)));

    let overall = aggregate(rows.clone(), partition, aggregates.clone(), query.basis)?;
    let segments = if query.by.is_empty() {
        DataFrame::empty()
    } else {
        aggregate(rows, &segment_columns, aggregates, query.basis)?
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
        let mut members = Vec::new();
        for segment in 0..segment_table.height() {
            if period_of(&segment_table, segment)? == period {
                members.push(segment);
            }
        }
        members.sort_by(|a, b| compare_keys(&keys[*a].1, &keys[*b].1));
        let (overall_hidden, hidden) = suppress_cells(
            policy,
            query.basis,
            (&overall_table, row),
            &segment_table,
            &members,
        )?;
        let cell = |table: &Table, row: usize, hidden: bool| {
            readiness_cell(policy, table, row, instrument, hidden, weighted)
        };
        result.push((
            period,
            Readiness {
                overall: cell(&overall_table, row, overall_hidden)?,
                segments: members
                    .iter()
                    .zip(hidden)
                    .map(|(&s, hidden)| {
                        Ok(Segment {
                            key: keys[s].0.clone(),
                            cell: cell(&segment_table, s, hidden)?,
                        })
                    })
                    .collect::<PolarsResult<Vec<_>>>()?,
            },
        ));
    }
    result.sort_by_key(|(period, _)| *period);
    Ok(result)
}

/// Aggregates `rows` per group (one row in all when `group` is empty); with basis `all`, the
/// distinct firms of each group beside.
fn aggregate(
    rows: LazyFrame,
    group: &[&str],
    aggregates: Vec<Expr>,
    basis: Basis,
) -> PolarsResult<DataFrame> {
    let keys: Vec<Expr> = group.iter().map(|c| col(*c)).collect();
    let cells = if group.is_empty() {
        rows.clone().select(aggregates)
    } else {
        rows.clone().group_by(keys.clone()).agg(aggregates)
    };
    if basis == Basis::Latest {
        return cells.collect();
    }
    let firms = pipeline::distinct_firms(rows, group);
    if group.is_empty() {
        cells.collect()?.hstack(firms.collect()?.columns())
    } else {
        cells
            .join(firms, keys.clone(), keys, JoinArgs::new(JoinType::Left))
            .collect()
    }
}

/// The count of a cell's distinct firms: with basis `latest` its rows are its firms.
fn firms_column(basis: Basis) -> &'static str {
    match basis {
        Basis::Latest => "n",
        Basis::All => pipeline::FIRMS,
    }
}

/// Which cells of one table are hidden: the overall cell at `overall` and the segments at
/// `members` (rows of `segments`, in key order), by their published numbers of firms, so
/// that neither the threshold nor the choice of partner cells reveals a true size.
fn suppress_cells(
    policy: &DisclosurePolicy,
    basis: Basis,
    overall: (&Table, usize),
    segments: &Table,
    members: &[usize],
) -> PolarsResult<(bool, Vec<bool>)> {
    let firms = firms_column(basis);
    let overall_firms = policy.size(overall.0.tally(firms, overall.1)?);
    let segment_firms = members
        .iter()
        .map(|&row| Ok(policy.size(segments.tally(firms, row)?).get()))
        .collect::<PolarsResult<Vec<_>>>()?;
    Ok(suppress(
        overall_firms.get(),
        &segment_firms,
        policy.min_cell(),
    ))
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
