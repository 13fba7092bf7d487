//! The Polars building blocks: small functions returning `Expr`s and lazy frames, composed by
//! the reports and collected once per aggregation.

use polars::prelude::*;

use super::model::{Basis, ReportQuery, SegmentField};
use super::snapshot::{MemoKey, Snapshot, columns};

/// Column holding each row's raking weight.
pub const WEIGHT: &str = "w";

pub fn segment_column(field: SegmentField) -> &'static str {
    match field {
        SegmentField::Industry => columns::INDUSTRY,
        SegmentField::SizeBand => columns::SIZE_BAND,
        SegmentField::Country => columns::COUNTRY,
        SegmentField::Region => columns::REGION,
        SegmentField::Version => columns::VERSION,
    }
}

/// Rows of the selected survey versions.
pub fn of_surveys(ids: &[i32]) -> Expr {
    ids.iter()
        .map(|id| col(columns::SURVEY).eq(lit(*id)))
        .reduce(|a, b| a.or(b))
        .unwrap_or(lit(false))
}

/// Rows submitted inside `[from, until)`.
pub fn in_window(from: Option<i64>, until: Option<i64>) -> Expr {
    let after = from.map(|f| col(columns::SUBMITTED_AT).gt_eq(lit(f)));
    let before = until.map(|u| col(columns::SUBMITTED_AT).lt(lit(u)));
    match (after, before) {
        (Some(a), Some(b)) => a.and(b),
        (Some(a), None) => a,
        (None, Some(b)) => b,
        (None, None) => lit(true),
    }
}

/// How many recent "latest response" selections a snapshot keeps.
const MEMO_ENTRIES: usize = 8;

/// The rows a report counts: the chosen surveys and window, and with basis `latest` only each
/// firm's latest response per `partition` (e.g. per period). The snapshot is kept sorted by
/// submission time (ties in arrival order), so the last row of a firm is its latest. The
/// latest-response selection is the costly step, so it is kept per query until the rows change.
pub fn counted_rows(
    snapshot: &Snapshot,
    query: &ReportQuery,
    partition: &[&str],
) -> PolarsResult<LazyFrame> {
    let rows = snapshot
        .frame()
        .clone()
        .lazy()
        .filter(of_surveys(&query.survey_ids).and(in_window(query.from, query.until)));
    if query.basis == Basis::All {
        return Ok(rows);
    }
    let key = MemoKey {
        survey_ids: query.survey_ids.clone(),
        from: query.from,
        until: query.until,
        latest: true,
        partition: partition.iter().map(|p| (*p).to_owned()).collect(),
    };
    if let Ok(memo) = snapshot.memo.lock()
        && let Some((_, rows)) = memo.iter().find(|(k, _)| *k == key)
    {
        return Ok(rows.clone().lazy());
    }
    let mut subset = vec![col(columns::FIRM)];
    subset.extend(partition.iter().map(|c| col(*c)));
    let latest = rows
        .unique_stable_generic(Some(subset), UniqueKeepStrategy::Last)
        .collect()?;
    if let Ok(mut memo) = snapshot.memo.lock() {
        if memo.len() >= MEMO_ENTRIES {
            memo.remove(0);
        }
        memo.push((key, latest.clone()));
    }
    Ok(latest.lazy())
}

pub fn count() -> Expr {
    len().cast(DataType::Int64).alias("n")
}

pub fn tier_count(rank: u8) -> Expr {
    col(columns::TIER_RANK)
        .eq(lit(i32::from(rank)))
        .sum()
        .cast(DataType::Int64)
        .alias(format!("tier_{rank}"))
}

pub fn ready_count() -> Expr {
    col(columns::READY)
        .sum()
        .cast(DataType::Int64)
        .alias("ready")
}

pub fn score_mean(column: &str) -> Expr {
    col(column).mean().cast(DataType::Float64).alias(column)
}

/// Rows failing a gate (0 when no row ever failed it).
pub fn gate_failures(snapshot: &Snapshot, gate: &str, alias: &str) -> Expr {
    snapshot
        .gate_column(gate)
        .filter(|name| snapshot.frame().column(name).is_ok())
        .map_or(lit(0i64), |name| {
            col(name.as_str()).sum().cast(DataType::Int64)
        })
        .alias(alias)
}

pub fn sum_of_weights() -> Expr {
    col(WEIGHT).sum().alias("w_sum")
}

pub fn sum_of_squared_weights() -> Expr {
    (col(WEIGHT) * col(WEIGHT)).sum().alias("w2_sum")
}

/// Σw over the rows where `condition` holds.
pub fn weighted_count(condition: Expr, alias: &str) -> Expr {
    (col(WEIGHT) * condition.cast(DataType::Float64))
        .sum()
        .alias(alias)
}

pub fn weighted_tier(rank: u8) -> Expr {
    weighted_count(
        col(columns::TIER_RANK).eq(lit(i32::from(rank))),
        &format!("w_tier_{rank}"),
    )
}

pub fn weighted_ready() -> Expr {
    weighted_count(col(columns::READY), "w_ready")
}

/// Reads aggregated values back.
pub struct Table<'a>(pub &'a DataFrame);

impl Table<'_> {
    pub fn height(&self) -> usize {
        self.0.height()
    }

    pub fn int(&self, column: &str, row: usize) -> PolarsResult<i64> {
        Ok(self
            .0
            .column(column)?
            .cast(&DataType::Int64)?
            .i64()?
            .get(row)
            .unwrap_or(0))
    }

    pub fn float(&self, column: &str, row: usize) -> PolarsResult<f64> {
        Ok(self
            .0
            .column(column)?
            .cast(&DataType::Float64)?
            .f64()?
            .get(row)
            .unwrap_or(0.0))
    }

    pub fn count(&self, column: &str, row: usize) -> PolarsResult<u64> {
        Ok(u64::try_from(self.int(column, row)?).unwrap_or(0))
    }
}
