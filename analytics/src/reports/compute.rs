//! The three reports: readiness, trend and blockers (with its unlock analysis), each with disclosure control and
//! optional raking weights.
//!
//! Every count, share, mean and weighted figure is made by the disclosure module from a
//! cell's true figures and cell keys (see [`super::disclosure`]); cells are suppressed on
//! their perturbed number of distinct firms, whatever the basis.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use polars::prelude::*;

use super::calendar::{month_label, quarter_label};
use super::cells::{Method, blocker_cell, hidden_cell, readiness_cell};
use super::disclosure::{DisclosurePolicy, discrepancy};
use super::model::*;
use super::pipeline::{self, Indicator, ReadAs, Table, WEIGHT, segment_column};
use super::snapshot::{NO_REGION, Snapshot, columns};
use super::sums::{Spec, cell_sums};
use super::suppression::suppress;
use super::unlock::{self, CellRow};
use super::weighting::{DISCREPANCY_TOLERANCE, REGION_NOT_STATED, Raked, WeightingError, rake};
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
    /// Margin categories without a firm in the sample, when the query refuses such reports.
    #[error("the sample has no firm in {} margin categories", .0.len())]
    Dropped(Vec<DroppedCategory>),
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
    let (rows, weighting) = weighted_rows(snapshot, query, &[], margins)?;
    readiness_of(snapshot, instrument, query, rows, &[], &weighting)
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
    let (rows, weighting) = weighted_rows(snapshot, query, &[period], margins)?;
    let periods = readiness_of(snapshot, instrument, query, rows, &[period], &weighting)?;
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

/// For each tier above the lowest: the firms exactly one tier below, the share of them
/// failing each of the tier's gates, and the unlock analysis (see [`super::unlock`]).
pub fn blockers(
    snapshot: &Snapshot,
    instrument: &Instrument,
    query: &ReportQuery,
    margins: Option<&Margins>,
) -> Result<BlockerTiers, ReportError> {
    let (rows, mut weighting) = weighted_rows(snapshot, query, &[], margins)?;
    let weighted = margins.is_some();
    let method = Method {
        weighted,
        clustered: query.basis == Basis::All,
    };
    let policy = &query.disclosure;
    let by: Vec<&str> = query.by.iter().map(|f| segment_column(*f)).collect();
    // Collected once for every tier, with only the columns the tiers read.
    let mut gates: Vec<String> = instrument
        .tiers()
        .iter()
        .flat_map(|tier| &tier.gates)
        .filter_map(|gate| pipeline::gate_column_held(snapshot, &gate.id))
        .collect();
    gates.sort_unstable();
    gates.dedup();
    let mut read: Vec<String> = [columns::RECORD_KEY, columns::TIER_RANK]
        .into_iter()
        .chain(method.clustered.then_some(columns::FIRM))
        .chain(by.iter().copied())
        .chain(weighted.then_some(WEIGHT))
        .map(str::to_owned)
        .collect();
    read.extend(gates);
    let (rows, kept) = rows.read(&read)?;
    // Each tier counts the rows one tier below it: the counted rows' positions by tier
    // rank, found in one pass.
    let ranks = pipeline::to_slice(rows.column(columns::TIER_RANK)?.u8()?);
    let mut by_rank: Vec<Vec<u32>> = vec![Vec::new(); instrument.tiers().len() + 1];
    let mut add = |row: u32| {
        if let Some(rows) = by_rank.get_mut(usize::from(ranks[row as usize])) {
            rows.push(row);
        }
    };
    match &kept {
        Some(kept) => kept.iter().for_each(|&row| add(row)),
        None => (0..u32::try_from(rows.height()).unwrap_or(u32::MAX)).for_each(&mut add),
    }
    let mut report = Vec::new();
    for (index, tier) in instrument.tiers().iter().enumerate().skip(1) {
        let below = u8::try_from(index).unwrap_or(u8::MAX);
        let mut indicators = Vec::new();
        for (g, gate) in tier.gates.iter().enumerate() {
            indicators.push(Indicator {
                alias: format!("g{g}"),
                condition: pipeline::gate_failed(snapshot, &gate.id),
            });
        }
        let (unlock_indicators, weighted_unlock) = unlock::indicators(snapshot, &tier.gates);
        let firm_counts: Vec<String> = match query.basis {
            Basis::All => unlock_indicators.iter().map(|i| i.alias.clone()).collect(),
            Basis::Latest => Vec::new(),
        };
        let mut weighted_names: Vec<String> =
            (0..tier.gates.len()).map(|g| format!("wg{g}")).collect();
        weighted_names.extend(weighted_unlock);
        indicators.extend(unlock_indicators);
        // The tier's gates that some row failed: the states the indicators read.
        let held: Vec<String> = tier
            .gates
            .iter()
            .filter_map(|gate| pipeline::gate_column_held(snapshot, &gate.id))
            .collect();
        let states: Vec<&str> = held.iter().map(String::as_str).collect();
        let blocker_count = [unlock::blocker_count(snapshot, &tier.gates)];
        let spec = Spec {
            states: &states,
            derived: &blocker_count,
            indicators: &indicators,
            weighted: weighted.then_some(&weighted_names[..]),
            scores: &[],
        };
        let at_tier_below = by_rank
            .get(usize::from(below))
            .map_or(&[][..], Vec::as_slice);
        let groupings: Vec<&[&str]> = if by.is_empty() {
            vec![&[]]
        } else {
            vec![&[], &by]
        };
        let mut tables = aggregate(
            &rows,
            Some(at_tier_below),
            &groupings,
            &spec,
            query.basis,
            &firm_counts,
        )?
        .into_iter();
        let overall = tables.next().unwrap_or_default();
        let segments = tables.next().unwrap_or_else(DataFrame::empty);
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
        let segment_table = Table(&segments);
        let mut cells = vec![CellRow {
            table: &overall_table,
            row: 0,
            hidden: overall_hidden,
        }];
        cells.extend(order.iter().zip(&hidden).map(|(&row, &hidden)| CellRow {
            table: &segment_table,
            row,
            hidden,
        }));
        let mut unlocks = unlock::unlock_figures(policy, &cells, &gates, method)?.into_iter();
        let mut cell = |row: &CellRow| -> PolarsResult<BlockerCell> {
            let mut cell = blocker_cell(policy, row.table, row.row, &gates, row.hidden, method)?;
            cell.unlock = unlocks.next().flatten();
            Ok(cell)
        };
        let overall = cell(&cells[0])?;
        let segments = order
            .iter()
            .zip(&cells[1..])
            .map(|(&row, segment)| {
                Ok(BlockerSegment {
                    key: keys[row].0.clone(),
                    cell: cell(segment)?,
                })
            })
            .collect::<PolarsResult<Vec<_>>>()?;
        report.push(TierBlockers {
            tier: tier.key.clone(),
            rank: u8::try_from(index + 1).unwrap_or(u8::MAX),
            label: tier.label.clone(),
            overall,
            segments,
        });
    }
    Ok(BlockerTiers {
        tiers: report,
        weighting: weighting.remove(&0),
    })
}

fn empty() -> Readiness {
    Readiness {
        overall: hidden_cell(),
        segments: Vec::new(),
        weighting: None,
    }
}

/// The rows a report counts: for an unweighted report of basis `latest`, the window's rows
/// as stored and the positions of those counted (nothing copied); otherwise the counted rows
/// themselves, as stored, with a weight column when margins are given.
enum Counted {
    Kept(pipeline::Kept),
    Rows(Box<LazyFrame>),
}

impl Counted {
    /// The columns `read` of the rows, and the positions of the counted rows among them
    /// (`None`: every row is counted).
    fn read(self, read: &[String]) -> PolarsResult<(DataFrame, Option<Vec<u32>>)> {
        match self {
            Self::Kept(kept) => Ok((
                kept.rows.select(read.iter().cloned())?,
                Some(kept.positions),
            )),
            Self::Rows(rows) => Ok((
                rows.select(
                    read.iter()
                        .map(|name| col(name.as_str()))
                        .collect::<Vec<_>>(),
                )
                .collect()?,
                None,
            )),
        }
    }
}

/// The counted rows (see [`Counted`]): with margins, each value of `partition` (each period
/// of a trend; the whole window when empty) is raked to the margins on its own, and its
/// diagnostics are returned under that value (0 without a partition).
fn weighted_rows(
    snapshot: &Snapshot,
    query: &ReportQuery,
    partition: &[&str],
    margins: Option<&Margins>,
) -> Result<(Counted, BTreeMap<i32, Weighting>), ReportError> {
    if margins.is_none() && query.basis == Basis::Latest {
        let kept = pipeline::kept_rows(snapshot, query, partition)?;
        return Ok((Counted::Kept(kept), BTreeMap::new()));
    }
    let rows = pipeline::counted_rows(snapshot, query, partition, ReadAs::Stored)?;
    let (rows, weighting) = match margins {
        None => (rows, BTreeMap::new()),
        Some(margins) => weigh(snapshot, query, rows.collect()?, partition, margins)?,
    };
    // The filter applies after each firm's latest response is chosen, so a filtered report
    // counts the firms an unfiltered breakdown puts in those segments; with weights, after
    // the whole cross-section is raked (domain estimation: a segment keeps the weights the
    // whole sample gives it).
    Ok((
        Counted::Rows(Box::new(pipeline::narrowed(
            snapshot,
            &query.segments,
            rows,
        ))),
        weighting,
    ))
}

/// `rows` with a weight column raked to `margins` on the rows' own attributes, each value of
/// `partition` on its own, and the diagnostics of each raking (see [`weighted_rows`]).
pub(super) fn weigh(
    snapshot: &Snapshot,
    query: &ReportQuery,
    rows: DataFrame,
    partition: &[&str],
    margins: &Margins,
) -> Result<(LazyFrame, BTreeMap<i32, Weighting>), ReportError> {
    let fields = margins
        .keys()
        .map(|key| {
            SegmentField::parse(key)
                .filter(|f| *f != SegmentField::Version)
                .ok_or_else(|| ReportError::MarginDimension(key.clone()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut cell_names: Vec<&str> = partition.to_vec();
    cell_names.extend(fields.iter().map(|f| segment_column(*f)));
    let cell_columns: Vec<Expr> = cell_names.iter().map(|c| col(*c)).collect();
    let cells = rows
        .clone()
        .lazy()
        .group_by(cell_columns.clone())
        .agg([len().cast(DataType::Int64).alias("n")])
        .collect()?;
    let table = Table(&cells);
    let mut cross_sections: BTreeMap<i32, Vec<(usize, Vec<String>, f64)>> = BTreeMap::new();
    for row in 0..cells.height() {
        let section = match partition.first() {
            Some(column) => i32::try_from(table.int(column, row)?).unwrap_or(0),
            None => 0,
        };
        let categories = fields
            .iter()
            .map(|f| {
                let code = i32::try_from(table.int(segment_column(*f), row)?).unwrap_or(-1);
                Ok(category_label(snapshot, *f, code))
            })
            .collect::<PolarsResult<Vec<String>>>()?;
        cross_sections
            .entry(section)
            .or_default()
            .push((row, categories, table.float("n", row)?));
    }
    let mut weights = vec![0.0; cells.height()];
    let mut diagnostics = BTreeMap::new();
    let mut refused: Vec<DroppedCategory> = Vec::new();
    for (section, mut members) in cross_sections {
        // Raked in the order of their categories, not the order grouping found them in, so
        // that the same rows get the same weights to the last bit on every request and
        // replica.
        members.sort_by(|a, b| a.1.cmp(&b.1));
        let labelled: Vec<(Vec<String>, f64)> = members
            .iter()
            .map(|(_, categories, n)| (categories.clone(), *n))
            .collect();
        let raked = rake(&labelled, margins)?;
        for ((row, _, _), weight) in members.iter().zip(&raked.weights) {
            weights[*row] = *weight;
        }
        let weighting = diagnostics_of(&raked);
        if query.dropped_categories == DroppedCategories::Refuse {
            for dropped in &weighting.dropped {
                if !refused.contains(dropped) {
                    refused.push(dropped.clone());
                }
            }
        }
        diagnostics.insert(section, weighting);
    }
    if !refused.is_empty() {
        return Err(ReportError::Dropped(refused));
    }
    // The cells come from grouping the rows, so their key columns have the rows' types.
    let mut weight_columns: Vec<Column> = cell_names
        .iter()
        .map(|c| Ok(cells.column(c)?.clone()))
        .collect::<PolarsResult<_>>()?;
    weight_columns.push(Column::new(WEIGHT.into(), weights));
    let weight_table = DataFrame::new(cells.height(), weight_columns)?;
    // The rows keep their order, so that a weighted sum adds them in the same order whatever
    // else the query selected (a trend's period equals the report of its month, exactly).
    let rows = rows.lazy().join(
        weight_table.lazy(),
        cell_columns.clone(),
        cell_columns,
        JoinArgs {
            maintain_order: MaintainOrderJoin::Left,
            ..JoinArgs::new(JoinType::Left)
        },
    );
    Ok((rows, diagnostics))
}

/// What a report says about one raking.
fn diagnostics_of(raked: &Raked) -> Weighting {
    let max_discrepancy = discrepancy(raked.max_discrepancy);
    Weighting {
        iterations: u32::try_from(raked.rounds).unwrap_or(u32::MAX),
        max_discrepancy,
        tolerance: DISCREPANCY_TOLERANCE,
        converged: max_discrepancy <= DISCREPANCY_TOLERANCE,
        dropped: raked
            .dropped
            .iter()
            .map(|d| DroppedCategory {
                dimension: d.dimension.clone(),
                category: d.category.clone(),
                population_share: d.population_share,
            })
            .collect(),
    }
}

/// Aggregates readiness per value of `partition` (one unnamed group when empty).
fn readiness_of(
    snapshot: &Snapshot,
    instrument: &Instrument,
    query: &ReportQuery,
    rows: Counted,
    partition: &[&str],
    weighting: &BTreeMap<i32, Weighting>,
) -> Result<Vec<(i32, Readiness)>, ReportError> {
    let weighted = !weighting.is_empty();
    let method = Method {
        weighted,
        clustered: query.basis == Basis::All,
    };
    let ranks: Vec<u8> = (1..=instrument.tiers().len())
        .map(|r| u8::try_from(r).unwrap_or(u8::MAX))
        .collect();
    let policy = &query.disclosure;
    let mut indicators: Vec<Indicator> = ranks
        .iter()
        .map(|r| Indicator {
            alias: format!("tier_{r}"),
            condition: col(columns::TIER_RANK).eq(lit(i32::from(*r))),
        })
        .collect();
    indicators.push(Indicator {
        alias: "ready".to_owned(),
        condition: col(columns::READY),
    });
    let weighted_names: Vec<String> = indicators
        .iter()
        .map(|i| format!("w_{}", i.alias))
        .collect();
    let scores: Vec<(&str, &[f64])> = columns::SCORES
        .iter()
        .map(|name| (*name, snapshot.score_values(name)))
        .collect();
    let spec = Spec {
        states: &[columns::TIER_RANK, columns::READY],
        derived: &[],
        indicators: &indicators,
        weighted: weighted.then_some(&weighted_names[..]),
        scores: &scores,
    };
    let mut segment_columns = partition.to_vec();
    segment_columns.extend(query.by.iter().map(|f| segment_column(*f)));
    // Collected once for both aggregations, with only the columns they read.
    // Firms only for the sums over firms of basis `all`.
    let mut read: Vec<String> = [columns::RECORD_KEY, columns::TIER_RANK, columns::READY]
        .into_iter()
        .chain(method.clustered.then_some(columns::FIRM))
        .chain(segment_columns.iter().copied())
        .map(str::to_owned)
        .collect();
    read.extend(
        columns::SCORES
            .iter()
            .map(|name| pipeline::score_code(name)),
    );
    if weighted {
        read.push(pipeline::WEIGHT.to_owned());
    }
    let (rows, kept) = rows.read(&read)?;

    let groupings: Vec<&[&str]> = if query.by.is_empty() {
        vec![partition]
    } else {
        vec![partition, &segment_columns]
    };
    let mut tables =
        aggregate(&rows, kept.as_deref(), &groupings, &spec, query.basis, &[])?.into_iter();
    let overall = tables.next().unwrap_or_default();
    let segments = tables.next().unwrap_or_else(DataFrame::empty);

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
            readiness_cell(policy, table, row, instrument, hidden, method)
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
                weighting: weighting.get(&period).cloned(),
            },
        ));
    }
    result.sort_by_key(|(period, _)| *period);
    Ok(result)
}

/// Aggregates the counted rows (those of `rows` at the positions `kept`, or all of them) per
/// group of each grouping (one row in all for a grouping without columns): the sums of
/// `spec` (see [`cell_sums`]), and with basis `all` the distinct firms of each group beside,
/// and the sums over firms that the clustered variance of each indicator of `spec` needs
/// (weighted too with weights).
fn aggregate(
    rows: &DataFrame,
    kept: Option<&[u32]>,
    groupings: &[&[&str]],
    spec: &Spec,
    basis: Basis,
    firm_counts: &[String],
) -> PolarsResult<Vec<DataFrame>> {
    let tables = cell_sums(rows, kept, groupings, spec)?;
    if basis == Basis::Latest {
        return Ok(tables);
    }
    // The sums over firms evaluate the indicators on the counted rows themselves.
    let rows = match kept {
        Some(kept) => rows.take(&IdxCa::from_vec("kept".into(), kept.to_vec()))?,
        None => rows.clone(),
    };
    let rows = rows.lazy().with_columns(spec.derived).collect()?;
    let weighted = spec.weighted.is_some();
    tables
        .into_iter()
        .zip(groupings)
        .map(|(cells, group)| {
            let firms = pipeline::distinct_firms(rows.clone().lazy(), group);
            let clusters = pipeline::cluster_sums(
                rows.clone().lazy(),
                group,
                spec.indicators,
                weighted,
                firm_counts,
            );
            if group.is_empty() {
                cells
                    .hstack(firms.collect()?.columns())?
                    .hstack(clusters.collect()?.columns())
            } else {
                let keys: Vec<Expr> = group.iter().map(|c| col(*c)).collect();
                cells
                    .lazy()
                    .join(
                        firms,
                        keys.clone(),
                        keys.clone(),
                        JoinArgs::new(JoinType::Left),
                    )
                    .join(clusters, keys.clone(), keys, JoinArgs::new(JoinType::Left))
                    .collect()
            }
        })
        .collect()
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
pub(super) enum KeyPart {
    Text(Option<String>),
    Number(i32),
}

fn compare_keys(a: &[KeyPart], b: &[KeyPart]) -> Ordering {
    a.cmp(b)
}

pub(super) fn sorted_order(keys: &[(SegmentKey, Vec<KeyPart>)]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..keys.len()).collect();
    order.sort_by(|a, b| compare_keys(&keys[*a].1, &keys[*b].1));
    order
}

fn category_label(snapshot: &Snapshot, field: SegmentField, code: i32) -> String {
    let dictionary = match field {
        SegmentField::Industry => &snapshot.industries,
        SegmentField::SizeBand => &snapshot.size_bands,
        SegmentField::Country => &snapshot.countries,
        SegmentField::Region if code == NO_REGION => return REGION_NOT_STATED.to_owned(),
        SegmentField::Region => &snapshot.regions,
        SegmentField::Version => return code.to_string(),
    };
    dictionary.value(code).unwrap_or("").to_owned()
}

/// Decodes each aggregated row's segment columns into its key.
pub(super) fn segment_keys(
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

#[cfg(test)]
mod tests;
