//! The sums each cell of the readiness, trend and blockers reports is published from, made
//! in one pass over the counted rows: per cell its rows and their key sum, per indicator its
//! rows and key sum, the sum of each score, and with weights Σw, Σw², Σw per indicator and
//! Σw·score.
//!
//! Counts and key sums are integers, so they do not depend on the order rows are added in.
//! A score sum is defined so that it does not either: rows are counted per score value, and
//! the sum adds `count × value` over the values in ascending order. It is a function of the
//! multiset of the cell's scores alone, so a trend's period and the report of that month,
//! a breakdown and its filtered segments, and two replicas that loaded rows in different
//! orders publish the same sum, to the bit. Weighted sums add the rows in the order the
//! report keeps them (time order, see [`super::pipeline::counted_rows`]), which the same
//! rows of the same cell share whatever else a query selected, with compensation so that
//! their error does not grow with the rows.

use std::borrow::Cow;
use std::collections::HashMap;

use polars::prelude::*;

use super::pipeline::{WEIGHT, indicator_column, key_of, score_code, weighted_of};
use super::snapshot::columns;

/// What to sum per cell besides its rows and key sum.
pub struct Spec<'a> {
    /// Aliases of the indicators counted (columns added by
    /// [`super::pipeline::with_indicators`]), each with its key sum under [`key_of`].
    pub indicators: &'a [String],
    /// With weights: per indicator, in the order of `indicators`, the name of its Σw.
    /// Σw and Σw² are summed too (`w_sum`, `w2_sum`), and Σw·score per score.
    pub weighted: Option<&'a [String]>,
    /// Scores summed (their code columns, see [`score_code`]) and the value of each code.
    pub scores: &'a [(&'a str, &'a [f64])],
}

/// Dense per-cell arrays up to this many entries; past it cells are found by hashing and
/// score values counted by sorting (same figures, less memory).
const DENSE_LIMIT: usize = 1 << 22;

/// The sums of `spec` per group of `rows` by the `Int32` columns of each grouping of
/// `groupings`: per grouping one frame, with one row per group that has rows (one row in
/// all, with zeros when `rows` is empty, for a grouping without columns).
///
/// The rows are read once, and counted once by every column any grouping names (the finest
/// cells); each grouping's counts and score sums are added up from those cells, which
/// gives exactly what counting its own cells would, integers and the per-value counts of
/// the score sums being exact. Weighted sums, which depend on the order of addition, are
/// added per grouping over the rows.
pub fn cell_sums(
    rows: &DataFrame,
    groupings: &[&[&str]],
    spec: &Spec,
) -> PolarsResult<Vec<DataFrame>> {
    cell_sums_within(rows, groupings, spec, DENSE_LIMIT)
}

/// [`cell_sums`] with dense arrays up to `dense_limit` entries.
fn cell_sums_within(
    rows: &DataFrame,
    groupings: &[&[&str]],
    spec: &Spec,
    dense_limit: usize,
) -> PolarsResult<Vec<DataFrame>> {
    let mut finest: Vec<&str> = Vec::new();
    for name in groupings.iter().flat_map(|group| group.iter()) {
        if !finest.contains(name) {
            finest.push(name);
        }
    }
    let cells = Cells::of(rows, &finest, dense_limit)?;
    let count = cells.keys.len();
    let record_keys = int64(rows.column(columns::RECORD_KEY)?)?;
    let flags = spec
        .indicators
        .iter()
        .map(|alias| {
            let column = rows.column(&indicator_column(alias))?;
            Ok(to_slice(column.as_materialized_series().u8()?))
        })
        .collect::<PolarsResult<Vec<_>>>()?;
    let codes = spec
        .scores
        .iter()
        .map(|(name, _)| {
            let column = rows.column(&score_code(name))?;
            Ok(to_slice(column.as_materialized_series().u32()?))
        })
        .collect::<PolarsResult<Vec<_>>>()?;
    let weights = match spec.weighted {
        Some(_) => Some(to_slice(
            rows.column(WEIGHT)?.as_materialized_series().f64()?,
        )),
        None => None,
    };
    let counts = Counts::of(&cells.ids, count, &record_keys, &flags);
    let scores: Vec<Histogram> = spec
        .scores
        .iter()
        .zip(&codes)
        .map(|((_, values), codes)| Histogram::of(&cells.ids, codes, values, count, dense_limit))
        .collect();
    let mut frames = Vec::with_capacity(groupings.len());
    for group in groupings {
        let positions: Vec<usize> = group
            .iter()
            .filter_map(|name| finest.iter().position(|f| f == name))
            .collect();
        let rollup = Rollup::of(&cells.keys, &positions);
        let coarse = rollup.keys.len();
        let mut out: Vec<Column> = group
            .iter()
            .enumerate()
            .map(|(c, name)| {
                let keys: Vec<i32> = rollup.keys.iter().map(|key| key[c]).collect();
                Column::new((*name).into(), keys)
            })
            .collect();
        let width = flags.len();
        let counts = counts.rolled_up(&rollup, width);
        out.push(Column::new("n".into(), counts.rows));
        out.push(Column::new(key_of("n").into(), counts.row_keys));
        for (j, alias) in spec.indicators.iter().enumerate() {
            let column = |sums: &[i64]| -> Vec<i64> {
                sums.iter().skip(j).step_by(width).copied().collect()
            };
            out.push(Column::new(alias.as_str().into(), column(&counts.holding)));
            out.push(Column::new(
                key_of(alias).into(),
                column(&counts.holding_keys),
            ));
        }
        // Each row's cell of this grouping, made only when a sum needs the rows again.
        let row_cells: Option<Vec<u32>> = (weights.is_some()
            || scores.iter().any(|histogram| histogram.0.is_none()))
        .then(|| {
            cells
                .ids
                .iter()
                .map(|&f| rollup.cells[f as usize])
                .collect()
        });
        let row_cells = row_cells.as_deref().unwrap_or_default();
        for (((name, values), codes), histogram) in spec.scores.iter().zip(&codes).zip(&scores) {
            let sums = match histogram.rolled_up(&rollup) {
                Some(histogram) => histogram.sums(values, coarse),
                None => sorted_sums(row_cells, codes, values, coarse),
            };
            out.push(Column::new((*name).into(), sums));
        }
        if let (Some(names), Some(weights)) = (spec.weighted, &weights) {
            let ids = row_cells;
            let mut w = Compensated::new(coarse);
            let mut w2 = Compensated::new(coarse);
            for (&cell, &weight) in ids.iter().zip(weights.iter()) {
                w.add(cell, weight);
                w2.add(cell, weight * weight);
            }
            out.push(Column::new("w_sum".into(), w.sums()));
            out.push(Column::new("w2_sum".into(), w2.sums()));
            for (name, holds) in names.iter().zip(&flags) {
                let mut sums = Compensated::new(coarse);
                for ((&cell, &weight), &holds) in ids.iter().zip(weights.iter()).zip(holds.iter()) {
                    sums.add(cell, if holds != 0 { weight } else { 0.0 });
                }
                out.push(Column::new(name.as_str().into(), sums.sums()));
            }
            for ((name, values), codes) in spec.scores.iter().zip(&codes) {
                let mut sums = Compensated::new(coarse);
                for ((&cell, &weight), &code) in ids.iter().zip(weights.iter()).zip(codes.iter()) {
                    sums.add(cell, weight * value_of(values, code));
                }
                out.push(Column::new(weighted_of(name).into(), sums.sums()));
            }
        }
        frames.push(DataFrame::new(coarse, out)?);
    }
    Ok(frames)
}

/// Which cell of a coarser grouping each finest cell falls in, and the coarser cells' keys
/// (in order of their first finest cell). Without columns, one cell holds every row.
struct Rollup {
    cells: Vec<u32>,
    keys: Vec<Vec<i32>>,
}

impl Rollup {
    fn of(finest: &[Vec<i32>], positions: &[usize]) -> Self {
        if positions.is_empty() {
            return Self {
                cells: vec![0; finest.len()],
                keys: vec![Vec::new()],
            };
        }
        let mut found: HashMap<Vec<i32>, u32> = HashMap::new();
        let mut keys = Vec::new();
        let cells = finest
            .iter()
            .map(|key| {
                let key: Vec<i32> = positions.iter().map(|&p| key[p]).collect();
                let next = u32::try_from(keys.len()).unwrap_or(u32::MAX);
                let cell = *found.entry(key.clone()).or_insert(next);
                if cell == next {
                    keys.push(key);
                }
                cell
            })
            .collect();
        Self { cells, keys }
    }
}

/// Per cell its rows and their key sum, and per cell and indicator (`[cell × indicators +
/// indicator]`) the rows where it holds and their key sum.
#[derive(Debug, PartialEq, Eq)]
struct Counts {
    rows: Vec<i64>,
    row_keys: Vec<i64>,
    holding: Vec<i64>,
    holding_keys: Vec<i64>,
}

/// Indicators counted together as one bit pattern (see [`Counts::by_patterns`]).
const PATTERN_BITS: usize = 16;

impl Counts {
    /// No rows in `count` cells, with `width` indicators.
    fn zeros(count: usize, width: usize) -> Self {
        Self {
            rows: vec![0; count],
            row_keys: vec![0; count],
            holding: vec![0; count * width],
            holding_keys: vec![0; count * width],
        }
    }

    /// The counts of the rows, each in the cell `ids` gives (`count` cells): plain sums for
    /// one cell, else [`Counts::by_patterns`].
    fn of(ids: &[u32], count: usize, keys: &[i64], flags: &[Cow<'_, [u8]>]) -> Self {
        let width = flags.len();
        let mut counts = Self::zeros(count, width);
        if count == 1 {
            // One cell: plain sums, which the compiler vectorises.
            counts.rows[0] = i64::try_from(ids.len()).unwrap_or(i64::MAX);
            counts.row_keys[0] = keys.iter().sum();
            for (j, flags) in flags.iter().enumerate() {
                counts.holding[j] = flags.iter().map(|&h| i64::from(h)).sum();
                counts.holding_keys[j] = keys
                    .iter()
                    .zip(flags.iter())
                    .map(|(&key, &h)| key * i64::from(h))
                    .sum();
            }
            return counts;
        }
        Self::by_patterns(ids, count, keys, flags)
    }

    /// [`Counts::of`] with the indicators taken [`PATTERN_BITS`] at a time, which each row
    /// holds together as one bit pattern: rows and key sums are counted per cell and pattern
    /// (two additions a row for up to 16 indicators, as indicators that go together, such
    /// as a sole blocker and its gate, make few patterns), and each indicator's count is the
    /// sum over the patterns with its bit.
    fn by_patterns(ids: &[u32], count: usize, keys: &[i64], flags: &[Cow<'_, [u8]>]) -> Self {
        let width = flags.len();
        let mut counts = Self::zeros(count, width);
        let groups: Vec<&[Cow<'_, [u8]>]> = if flags.is_empty() {
            vec![&[]]
        } else {
            flags.chunks(PATTERN_BITS).collect()
        };
        let mut number = vec![u16::MAX; 1 << PATTERN_BITS];
        for (group, flags) in groups.into_iter().enumerate() {
            let offset = group * PATTERN_BITS;
            let mut patterns = vec![0_u16; ids.len()];
            for (bit, flags) in flags.iter().enumerate() {
                for (pattern, &holds) in patterns.iter_mut().zip(flags.iter()) {
                    *pattern |= u16::from(holds != 0) << bit;
                }
            }
            // Each pattern seen, numbered in order of first sight.
            let mut seen: Vec<u16> = Vec::new();
            for pattern in &mut patterns {
                let slot = &mut number[usize::from(*pattern)];
                if *slot == u16::MAX {
                    *slot = u16::try_from(seen.len()).unwrap_or(u16::MAX);
                    seen.push(*pattern);
                }
                *pattern = *slot;
            }
            for pattern in &seen {
                number[usize::from(*pattern)] = u16::MAX;
            }
            let kinds = seen.len().max(1);
            let size = count * kinds;
            let mut rows = vec![0_i64; size];
            let mut row_keys = vec![0_i64; size];
            for ((&cell, &key), &kind) in ids.iter().zip(keys).zip(&patterns) {
                let at = cell as usize * kinds + usize::from(kind);
                rows[at] += 1;
                row_keys[at] += key;
            }
            for cell in 0..count {
                for (kind, &pattern) in seen.iter().enumerate() {
                    let (n, key) = (rows[cell * kinds + kind], row_keys[cell * kinds + kind]);
                    if group == 0 {
                        counts.rows[cell] += n;
                        counts.row_keys[cell] += key;
                    }
                    for bit in 0..flags.len() {
                        if pattern & (1 << bit) != 0 {
                            counts.holding[cell * width + offset + bit] += n;
                            counts.holding_keys[cell * width + offset + bit] += key;
                        }
                    }
                }
            }
        }
        counts
    }

    /// The counts of the coarser cells of `rollup`, of `width` indicators.
    fn rolled_up(&self, rollup: &Rollup, width: usize) -> Self {
        let count = rollup.keys.len();
        let mut sums = Self::zeros(count, width);
        for (fine, &cell) in rollup.cells.iter().enumerate() {
            let cell = cell as usize;
            sums.rows[cell] += self.rows[fine];
            sums.row_keys[cell] += self.row_keys[fine];
            for j in 0..width {
                sums.holding[cell * width + j] += self.holding[fine * width + j];
                sums.holding_keys[cell * width + j] += self.holding_keys[fine * width + j];
            }
        }
        sums
    }
}

/// Per cell, a sum of floats added in row order with Neumaier's compensation: its error
/// does not grow with the number of rows, as a plain running sum's does.
struct Compensated {
    sums: Vec<f64>,
    carried: Vec<f64>,
}

impl Compensated {
    fn new(cells: usize) -> Self {
        Self {
            sums: vec![0.0; cells],
            carried: vec![0.0; cells],
        }
    }

    fn add(&mut self, cell: u32, value: f64) {
        let (sum, carried) = (
            &mut self.sums[cell as usize],
            &mut self.carried[cell as usize],
        );
        let total = *sum + value;
        *carried += if sum.abs() >= value.abs() {
            (*sum - total) + value
        } else {
            (value - total) + *sum
        };
        *sum = total;
    }

    fn sums(self) -> Vec<f64> {
        self.sums
            .iter()
            .zip(&self.carried)
            .map(|(sum, carried)| sum + carried)
            .collect()
    }
}

/// The value of a score code (0 for a code the snapshot never gave out).
fn value_of(values: &[f64], code: u32) -> f64 {
    values.get(code as usize).copied().unwrap_or(0.0)
}

/// How many codes a score column spans: each code the snapshot gave out, and any other
/// found in `codes` (none should be; it counts with the value 0).
fn code_width(codes: &[u32], values: &[f64]) -> usize {
    codes
        .iter()
        .copied()
        .max()
        .map_or(0, |code| code as usize + 1)
        .max(values.len())
        .max(1)
}

/// The codes `0..width` in ascending order of their values: the order a score sum adds them in.
fn ascending(values: &[f64], width: usize) -> Vec<u32> {
    let mut codes: Vec<u32> = (0..u32::try_from(width).unwrap_or(u32::MAX)).collect();
    codes.sort_by(|a, b| value_of(values, *a).total_cmp(&value_of(values, *b)));
    codes
}

/// Per cell, its rows with each code of a score (`[cell × width + code]`); `None` when that
/// table would pass the dense limit.
struct Histogram(Option<(Vec<u32>, usize)>);

impl Histogram {
    fn of(cells: &[u32], codes: &[u32], values: &[f64], count: usize, dense_limit: usize) -> Self {
        let width = code_width(codes, values);
        if count.saturating_mul(width) > dense_limit {
            return Self(None);
        }
        let mut table = vec![0_u32; count * width];
        for (&cell, &code) in cells.iter().zip(codes) {
            table[cell as usize * width + code as usize] += 1;
        }
        Self(Some((table, width)))
    }

    /// The table of the coarser cells of `rollup`.
    fn rolled_up(&self, rollup: &Rollup) -> Option<Self> {
        let (table, width) = self.0.as_ref()?;
        let mut sums = vec![0_u32; rollup.keys.len() * width];
        for (fine, &cell) in rollup.cells.iter().enumerate() {
            let from = &table[fine * width..(fine + 1) * width];
            let into = &mut sums[cell as usize * width..(cell as usize + 1) * width];
            for (sum, rows) in into.iter_mut().zip(from) {
                *sum += rows;
            }
        }
        Some(Self(Some((sums, *width))))
    }

    /// Each cell's score sum: per value, the cell's rows with it, times the value, added
    /// over the values in ascending order.
    fn sums(&self, values: &[f64], count: usize) -> Vec<f64> {
        let mut sums = vec![0.0; count];
        let Some((table, width)) = &self.0 else {
            return sums;
        };
        let order = ascending(values, *width);
        for (sum, counts) in sums.iter_mut().zip(table.chunks_exact(*width)) {
            for &code in &order {
                let rows = counts[code as usize];
                if rows > 0 {
                    *sum += f64::from(rows) * value_of(values, code);
                }
            }
        }
        sums
    }
}

/// [`Histogram::sums`] without the table: the same counts, added in the same order, found
/// by sorting (cell, rank of the value) pairs.
fn sorted_sums(cells: &[u32], codes: &[u32], values: &[f64], count: usize) -> Vec<f64> {
    let width = code_width(codes, values);
    let order = ascending(values, width);
    let mut rank = vec![0_u32; width];
    for (position, code) in order.iter().enumerate() {
        rank[*code as usize] = u32::try_from(position).unwrap_or(u32::MAX);
    }
    let mut pairs: Vec<u64> = cells
        .iter()
        .zip(codes)
        .map(|(&cell, &code)| (u64::from(cell) << 32) | u64::from(rank[code as usize]))
        .collect();
    pairs.sort_unstable();
    let mut sums = vec![0.0; count];
    for run in pairs.chunk_by(|a, b| a == b) {
        let (cell, rank) = (run[0] >> 32, run[0] & u64::from(u32::MAX));
        let rows = u32::try_from(run.len()).unwrap_or(u32::MAX);
        sums[cell as usize] += f64::from(rows) * value_of(values, order[rank as usize]);
    }
    sums
}

/// The cells of a grouping: each row's cell and each cell's key, in order of first row.
struct Cells {
    ids: Vec<u32>,
    /// Each cell's value of each group column.
    keys: Vec<Vec<i32>>,
}

impl Cells {
    fn of(rows: &DataFrame, group: &[&str], dense_limit: usize) -> PolarsResult<Self> {
        let height = rows.height();
        if group.is_empty() {
            return Ok(Self {
                ids: vec![0; height],
                keys: vec![Vec::new()],
            });
        }
        let values = group
            .iter()
            .map(|name| Ok(to_slice(rows.column(name)?.as_materialized_series().i32()?)))
            .collect::<PolarsResult<Vec<_>>>()?;
        // Mixed radix over each column's range, when the product is small enough to index.
        let ranges: Vec<(i32, u64)> = values
            .iter()
            .map(|column| {
                let low = column.iter().copied().min().unwrap_or(0);
                let high = column.iter().copied().max().unwrap_or(0);
                (
                    low,
                    u64::try_from(i64::from(high) - i64::from(low) + 1).unwrap_or(1),
                )
            })
            .collect();
        let product = ranges
            .iter()
            .try_fold(1_u64, |product, (_, width)| product.checked_mul(*width));
        let mut ids = Vec::with_capacity(height);
        let mut keys = Vec::new();
        let key_of_row = |row: usize| values.iter().map(|c| c[row]).collect::<Vec<i32>>();
        match product.and_then(|p| usize::try_from(p).ok()) {
            Some(slots) if slots <= dense_limit => {
                let mut slot_cell = vec![u32::MAX; slots];
                for row in 0..height {
                    let mut slot = 0_u64;
                    for (column, (low, width)) in values.iter().zip(&ranges) {
                        let offset =
                            u64::try_from(i64::from(column[row]) - i64::from(*low)).unwrap_or(0);
                        slot = slot * width + offset;
                    }
                    let cell = &mut slot_cell[slot as usize];
                    if *cell == u32::MAX {
                        *cell = u32::try_from(keys.len()).unwrap_or(u32::MAX);
                        keys.push(key_of_row(row));
                    }
                    ids.push(*cell);
                }
            }
            _ => {
                let mut found: HashMap<Vec<i32>, u32> = HashMap::new();
                for row in 0..height {
                    let key = key_of_row(row);
                    let next = u32::try_from(keys.len()).unwrap_or(u32::MAX);
                    let cell = *found.entry(key).or_insert(next);
                    if cell == next {
                        keys.push(key_of_row(row));
                    }
                    ids.push(cell);
                }
            }
        }
        Ok(Self { ids, keys })
    }
}

/// The values of a numeric column, borrowed when it is one chunk without nulls, else
/// copied chunk by chunk (a null counts as zero).
fn to_slice<T: PolarsNumericType>(column: &ChunkedArray<T>) -> Cow<'_, [T::Native]> {
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

/// A column of integers as `i64` values (record keys are held in 8 bits).
fn int64(column: &Column) -> PolarsResult<Vec<i64>> {
    let series = column.as_materialized_series();
    if let Ok(keys) = series.u8() {
        return Ok(to_slice(keys).iter().map(|&key| i64::from(key)).collect());
    }
    let cast = series.cast(&DataType::Int64)?;
    Ok(to_slice(cast.i64()?).into_owned())
}

#[cfg(test)]
mod tests;
