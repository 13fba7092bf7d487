//! The Polars building blocks: small functions returning `Expr`s and lazy frames, composed by
//! the reports and collected once per aggregation.

use std::borrow::Cow;

use polars::prelude::*;

use super::disclosure::Tally;
use super::model::{Basis, FILTER_FIELDS, ReportQuery, SegmentField, SegmentFilter};
use super::snapshot::{NO_NEXT, Snapshot, Stored, columns};

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

/// Rows of the segments `filter` keeps: OR within an attribute, AND across; `None` when it
/// keeps every row. A value no row has matches nothing.
pub fn in_segments(snapshot: &Snapshot, filter: &SegmentFilter) -> Option<Expr> {
    FILTER_FIELDS
        .iter()
        .filter(|field| !filter.values(**field).is_empty())
        .map(|field| {
            filter
                .values(*field)
                .iter()
                .filter_map(|value| snapshot.segment_code(*field, value))
                .map(|code| col(segment_column(*field)).eq(lit(code)))
                .reduce(|a, b| a.or(b))
                .unwrap_or(lit(false))
        })
        .reduce(|a, b| a.and(b))
}

/// `rows` narrowed to the segments `filter` keeps.
pub fn narrowed(snapshot: &Snapshot, filter: &SegmentFilter, rows: LazyFrame) -> LazyFrame {
    match in_segments(snapshot, filter) {
        Some(kept) => rows.filter(kept),
        None => rows,
    }
}

/// The rows a report counts: the chosen surveys and window, and with basis `latest` only each
/// firm's latest response per `partition` (e.g. per period), filtered into new arrays (see
/// [`selection`]).
///
/// Columns come as reports read them (see [`Snapshot::stored`]), or with [`ReadAs::Stored`]
/// as the snapshot holds them: narrow codes, and the scores' codes under [`score_code`] (for
/// [`super::sums::cell_sums`]).
pub fn counted_rows(
    snapshot: &Snapshot,
    query: &ReportQuery,
    partition: &[&str],
    read_as: ReadAs,
) -> PolarsResult<LazyFrame> {
    let (mut rows, positions) = selection(snapshot, query, partition)?;
    let mut kept = vec![false; rows.height()];
    for position in positions {
        kept[position as usize] = true;
    }
    // The kept rows, in frame order, each column filtered into one contiguous array as the
    // report reads it: a sum then adds the same rows in the same order whatever else the
    // query selected. The frame holds narrow codes; each column is read as reports expect.
    let columns: Vec<Expr> = rows
        .get_column_names()
        .into_iter()
        .map(|name| match (snapshot.stored(name), read_as) {
            (Stored::Scores(_), ReadAs::Stored) => col(name.clone()).alias(score_code(name)),
            (_, ReadAs::Stored) => col(name.clone()),
            (stored, ReadAs::Values) => stored.read_expr(col(name.clone())).alias(name.clone()),
        })
        .collect();
    rows.with_column(BooleanChunked::from_slice(KEPT.into(), &kept).into_column())?;
    Ok(rows.lazy().filter(col(KEPT)).select(columns))
}

/// The rows a report counts, not copied: the window's rows as the snapshot holds them (the
/// scores' codes under [`score_code`]) and the positions of those counted, in frame order,
/// after the segment filter of the query.
pub struct Kept {
    pub rows: DataFrame,
    pub positions: Vec<u32>,
}

/// [`counted_rows`] as positions in the window (see [`Kept`]), with the segment filter
/// applied: what the reports that sum their cells themselves read.
pub fn kept_rows(
    snapshot: &Snapshot,
    query: &ReportQuery,
    partition: &[&str],
) -> PolarsResult<Kept> {
    let (mut rows, mut positions) = selection(snapshot, query, partition)?;
    if let Some(filter) = in_segments(snapshot, &query.segments) {
        let held = rows.clone().lazy().select([filter.alias(KEPT)]).collect()?;
        let held: Vec<bool> = held
            .column(KEPT)?
            .bool()?
            .iter()
            .map(|held| held.unwrap_or(false))
            .collect();
        positions.retain(|&position| held.get(position as usize).copied().unwrap_or(false));
    }
    for name in columns::SCORES {
        if rows.column(name).is_ok() {
            rows.rename(name, score_code(name).into())?;
        }
    }
    Ok(Kept { rows, positions })
}

/// The window's rows (a slice of the snapshot's frame, columns as stored) and the positions
/// in it of the rows a report counts: the chosen surveys, and with basis `latest` only each
/// firm's latest response per `partition` (e.g. per period). The snapshot is kept sorted by
/// submission time (ties in arrival order), so the window is a slice found by binary search,
/// and a row is its firm's latest in the window when the firm's next row of the surveys
/// ([`Snapshot::next_rows`]) lies beyond the slice or, per partition, differs in a partition
/// column (periods follow time, so a later row never returns to an earlier period).
fn selection(
    snapshot: &Snapshot,
    query: &ReportQuery,
    partition: &[&str],
) -> PolarsResult<(DataFrame, Vec<u32>)> {
    let frame = snapshot.frame();
    let (lo, hi) = snapshot.window(query.from, query.until)?;
    let rows = frame.slice(i64::try_from(lo).unwrap_or(i64::MAX), hi - lo);
    let surveys = to_slice(rows.column(columns::SURVEY)?.i32()?);
    let position = |at: usize| u32::try_from(at).unwrap_or(u32::MAX);
    // Positions are written one after the other whether or not a row is kept, and the end
    // moves on only for kept rows: no branch on a condition that holds for some rows in no
    // particular pattern.
    let mut kept = vec![0_u32; hi - lo];
    let mut count = 0;
    let mut keep = |at: usize, holds: bool| {
        kept[count] = position(at);
        count += usize::from(holds);
    };
    // One survey (the usual case) is one comparison.
    let (first, more) = match query.survey_ids.as_slice() {
        [one] => (*one, false),
        ids => (ids.first().copied().unwrap_or(i32::MIN), true),
    };
    let of_surveys = |survey: i32| (survey == first) | (more && query.survey_ids.contains(&survey));
    if query.basis == Basis::All {
        for (at, survey) in surveys.iter().enumerate() {
            keep(at, of_surveys(*survey));
        }
    } else {
        let next = snapshot.next_rows(&query.survey_ids)?;
        let next = next.get(lo..hi).unwrap_or_default();
        let periods = partition
            .iter()
            .map(|name| Ok(to_slice(rows.column(name)?.i32()?)))
            .collect::<PolarsResult<Vec<_>>>()?;
        // Rows are in time order, so each period is a run of consecutive rows, and a row is
        // its firm's latest in its period (and in the window) exactly when the firm's next
        // row lies at or beyond the end of the run: one comparison per row, with no look at
        // the next row itself. Next positions are of the whole frame, hence `lo +`.
        let Some(runs) = runs(&periods, hi - lo) else {
            polars_bail!(ComputeError: "a report period column is not in time order");
        };
        for (start, end) in runs {
            let end_position = u32::try_from(lo + end).unwrap_or(NO_NEXT);
            let (next, surveys) = (&next[start..end], &surveys[start..end]);
            for (offset, (&next, &survey)) in next.iter().zip(surveys.iter()).enumerate() {
                keep(start + offset, (next >= end_position) & of_surveys(survey));
            }
        }
    }
    kept.truncate(count);
    Ok((rows, kept))
}

/// The runs of consecutive rows (start, end) of `0..len` with equal values in every column
/// of `periods` (one run without columns), or `None` when a run's values are not greater
/// than the run before (a period would come back after another one).
pub(super) fn runs(periods: &[Cow<'_, [i32]>], len: usize) -> Option<Vec<(usize, usize)>> {
    let mut runs = Vec::new();
    let mut start = 0;
    let order = |at: usize| match periods {
        [] => std::cmp::Ordering::Equal,
        [period] => period[at].cmp(&period[at - 1]),
        _ => periods
            .iter()
            .map(|period| period[at])
            .cmp(periods.iter().map(|period| period[at - 1])),
    };
    for at in 1..len {
        match order(at) {
            std::cmp::Ordering::Equal => {}
            std::cmp::Ordering::Greater => {
                runs.push((start, at));
                start = at;
            }
            std::cmp::Ordering::Less => return None,
        }
    }
    if len > 0 {
        runs.push((start, len));
    }
    Some(runs)
}

/// How [`counted_rows`] gives the columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadAs {
    /// As reports read them: codes as `Int32`, scores as `Float64` under their names.
    Values,
    /// As the snapshot holds them: 8- and 16-bit codes, and the scores' codes (`UInt32`)
    /// under [`score_code`].
    Stored,
}

/// The column of the codes of score `name` (see [`ReadAs::Stored`]).
pub fn score_code(name: &str) -> String {
    format!("{name}__code")
}

/// The column marking the rows [`counted_rows`] keeps.
const KEPT: &str = "counted";

/// The values of a numeric column, borrowed when it is one chunk without nulls, else
/// copied chunk by chunk (a null counts as zero).
pub(super) fn to_slice<T: PolarsNumericType>(column: &ChunkedArray<T>) -> Cow<'_, [T::Native]> {
    if let Ok(values) = column.cont_slice() {
        return Cow::Borrowed(values);
    }
    if column.null_count() > 0 {
        return Cow::Owned(column.iter().map(Option::unwrap_or_default).collect());
    }
    let mut values = Vec::with_capacity(column.len());
    for chunk in column.downcast_iter() {
        values.extend_from_slice(chunk.values().as_slice());
    }
    Cow::Owned(values)
}

/// The column of the cell key summed beside the count column `count`.
pub fn key_of(count: &str) -> String {
    format!("{count}_key")
}

/// The rows of a cell, and beside it (as [`key_of`]) the sum of their record keys: the cell
/// key before it is taken modulo 256.
pub fn count() -> [Expr; 2] {
    [
        len().cast(DataType::Int64).alias("n"),
        col(columns::RECORD_KEY)
            .cast(DataType::Int64)
            .sum()
            .alias(key_of("n")),
    ]
}

/// The rows where `condition` holds, and the sum of their record keys.
pub fn count_where(condition: Expr, alias: &str) -> [Expr; 2] {
    let condition = condition.cast(DataType::Int64);
    [
        condition.clone().sum().alias(alias),
        (col(columns::RECORD_KEY).cast(DataType::Int64) * condition)
            .sum()
            .alias(key_of(alias)),
    ]
}

pub fn tier_count(rank: u8) -> [Expr; 2] {
    count_where(
        col(columns::TIER_RANK).eq(lit(i32::from(rank))),
        &format!("tier_{rank}"),
    )
}

/// Whether a row failed a gate (false when no row ever failed it).
pub fn gate_failed(snapshot: &Snapshot, gate: &str) -> Expr {
    gate_column_held(snapshot, gate).map_or(lit(false), |name| col(name.as_str()))
}

/// The column of a gate, when the snapshot holds one (a row failed it).
pub fn gate_column_held(snapshot: &Snapshot, gate: &str) -> Option<String> {
    snapshot
        .gate_column(gate)
        .filter(|name| snapshot.frame().column(name).is_ok())
}

/// Column of the distinct firms of a cell, with basis `all` (with basis `latest` a cell's
/// rows are its firms, and `n` counts them).
pub const FIRMS: &str = "firms";

/// The distinct firms of each group of `rows` and the sum of their record keys, each firm's
/// key once however many of its rows the group holds: what the threshold is applied to.
pub fn distinct_firms(rows: LazyFrame, group: &[&str]) -> LazyFrame {
    let mut subset: Vec<Expr> = group.iter().map(|c| col(*c)).collect();
    subset.push(col(columns::FIRM));
    let firms = rows.unique_stable_generic(Some(subset), UniqueKeepStrategy::First);
    let aggregates = [
        len().cast(DataType::Int64).alias(FIRMS),
        col(columns::RECORD_KEY)
            .cast(DataType::Int64)
            .sum()
            .alias(key_of(FIRMS)),
    ];
    if group.is_empty() {
        firms.select(aggregates)
    } else {
        firms
            .group_by(group.iter().map(|c| col(*c)).collect::<Vec<_>>())
            .agg(aggregates)
    }
}

/// The column of the distinct firms of a cell with a row where the indicator counted under
/// `alias` holds (basis `all`), and beside it (as [`key_of`]) the sum of their record keys.
pub fn firms_of(alias: &str) -> String {
    format!("{alias}_firms")
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

/// The column of the weighted score sum of `column`.
pub fn weighted_of(column: &str) -> String {
    format!("w_{column}")
}

/// An attribute whose share a cell publishes (a tier, ready, failing a gate), under the alias
/// of its count.
pub struct Indicator {
    pub alias: String,
    pub condition: Expr,
}

/// The columns of the per-firm sums of an indicator (see [`cluster_sums`]).
pub fn cluster_column(alias: &str, sum: &str) -> String {
    format!("{alias}_c{sum}")
}

/// Σ_g m_g² over the firms of a cell (`w` for the weighted sums).
pub const CLUSTER_M2: &str = "c_m2";
pub const CLUSTER_WM2: &str = "c_wm2";

/// The sums over the firms (clusters) of each group of `rows` that the cluster-robust
/// variance of a share needs: per firm `m_g` (its responses) and `y_g` (those with the
/// indicator), then `Σ m_g²`, and per indicator `Σ y_g²` and `Σ y_g m_g` (`{alias}_cy2`,
/// `{alias}_cym`); when `weighted`, the same with Σ w in place of counts (`{alias}_cwy2`,
/// `{alias}_cwym`, `c_wm2`). For the indicators named in `firm_counts`, also the distinct
/// firms with a row where it holds and the sum of their record keys (each firm's key once),
/// under [`firms_of`].
pub fn cluster_sums(
    rows: LazyFrame,
    group: &[&str],
    indicators: &[Indicator],
    weighted: bool,
    firm_counts: &[String],
) -> LazyFrame {
    let mut per_firm = vec![len().cast(DataType::Float64).alias("m")];
    if weighted {
        per_firm.push(col(WEIGHT).sum().alias("wm"));
    }
    if !firm_counts.is_empty() {
        per_firm.push(
            col(columns::RECORD_KEY)
                .first()
                .cast(DataType::Int64)
                .alias("k"),
        );
    }
    for (i, indicator) in indicators.iter().enumerate() {
        let condition = indicator.condition.clone().cast(DataType::Float64);
        per_firm.push(condition.clone().sum().alias(format!("y{i}")));
        if weighted {
            per_firm.push((col(WEIGHT) * condition).sum().alias(format!("wy{i}")));
        }
    }
    let mut by_firm: Vec<Expr> = group.iter().map(|c| col(*c)).collect();
    by_firm.push(col(columns::FIRM));
    let firms = rows.group_by(by_firm).agg(per_firm);
    let mut sums = vec![(col("m") * col("m")).sum().alias(CLUSTER_M2)];
    if weighted {
        sums.push((col("wm") * col("wm")).sum().alias(CLUSTER_WM2));
    }
    for (i, indicator) in indicators.iter().enumerate() {
        let (y, alias) = (col(format!("y{i}")), indicator.alias.as_str());
        sums.push(
            (y.clone() * y.clone())
                .sum()
                .alias(cluster_column(alias, "y2")),
        );
        sums.push((y * col("m")).sum().alias(cluster_column(alias, "ym")));
        if weighted {
            let wy = col(format!("wy{i}"));
            sums.push(
                (wy.clone() * wy.clone())
                    .sum()
                    .alias(cluster_column(alias, "wy2")),
            );
            sums.push((wy * col("wm")).sum().alias(cluster_column(alias, "wym")));
        }
        if firm_counts.iter().any(|a| a == alias) {
            let has = col(format!("y{i}")).gt(lit(0.0)).cast(DataType::Int64);
            let firms = firms_of(alias);
            sums.push(has.clone().sum().alias(firms.as_str()));
            sums.push((has * col("k")).sum().alias(key_of(&firms)));
        }
    }
    if group.is_empty() {
        firms.select(sums)
    } else {
        firms
            .group_by(group.iter().map(|c| col(*c)).collect::<Vec<_>>())
            .agg(sums)
    }
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

    /// The count in `column` and its cell key, from the key sum beside it.
    pub fn tally(&self, column: &str, row: usize) -> PolarsResult<Tally> {
        let key_sum = self.int(&key_of(column), row)?;
        Ok(Tally {
            count: self.count(column, row)?,
            key: u8::try_from(key_sum.rem_euclid(256)).unwrap_or(0),
        })
    }
}

#[cfg(test)]
mod tests;
