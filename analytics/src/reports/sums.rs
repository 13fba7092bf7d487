//! The sums each cell of the readiness, trend and blockers reports is published from, made
//! in one pass over the counted rows: per cell its rows and their key sum, per indicator its
//! rows and key sum, the sum of each score, and with weights Σw, Σw², Σw per indicator and
//! Σw·score.
//!
//! Rows are counted once per finest cell: their values of every grouping column and of the
//! columns the indicators read (a tier, a failed gate: the *states*). An indicator is a
//! function of those values, so it is evaluated once per finest cell, not once per row, and
//! its count in a cell is the rows of the finest cells where it holds.
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

use super::pipeline::{Indicator, WEIGHT, key_of, score_code, to_slice, weighted_of};
use super::snapshot::columns;

/// What to sum per cell besides its rows and key sum.
pub struct Spec<'a> {
    /// The columns the indicators read besides the grouping columns (integer or boolean):
    /// rows are counted per value of these too.
    pub states: &'a [&'a str],
    /// Columns made from the grouping and state columns before the indicators are
    /// evaluated (such as a count of failed gates).
    pub derived: &'a [Expr],
    /// The indicators counted, each with its key sum under [`key_of`]. A condition may read
    /// only the grouping, state and derived columns.
    pub indicators: &'a [Indicator],
    /// With weights: per indicator, in the order of `indicators`, the name of its Σw.
    /// Σw and Σw² are summed too (`w_sum`, `w2_sum`), and Σw·score per score.
    pub weighted: Option<&'a [String]>,
    /// Scores summed (their code columns, see [`score_code`]) and the value of each code.
    pub scores: &'a [(&'a str, &'a [f64])],
}

/// Dense per-cell arrays up to this many entries; past it cells are found by hashing and
/// score values counted by sorting (same figures, less memory).
const DENSE_LIMIT: usize = 1 << 22;

/// The sums of `spec` per group of the counted rows by the integer columns of each grouping
/// of `groupings`: per grouping one frame, with one row per group that has rows (one row in
/// all, with zeros when no row is counted, for a grouping without columns). The counted rows
/// are those of `rows` at the positions `kept` gives, in that order, or every row of `rows`
/// when `None`. The group columns keep the type they have in `rows`.
///
/// The rows are read once, and counted once by every column any grouping names and every
/// state column (the finest cells); each grouping's counts and score sums are added up from
/// those cells, which gives exactly what counting its own cells would, integers and the
/// per-value counts of the score sums being exact. Weighted sums, which depend on the order
/// of addition, are added per grouping over the rows.
pub fn cell_sums(
    rows: &DataFrame,
    kept: Option<&[u32]>,
    groupings: &[&[&str]],
    spec: &Spec,
) -> PolarsResult<Vec<DataFrame>> {
    cell_sums_within(rows, kept, groupings, spec, DENSE_LIMIT)
}

/// [`cell_sums`] with dense arrays up to `dense_limit` entries.
fn cell_sums_within(
    rows: &DataFrame,
    kept: Option<&[u32]>,
    groupings: &[&[&str]],
    spec: &Spec,
    dense_limit: usize,
) -> PolarsResult<Vec<DataFrame>> {
    let mut finest: Vec<&str> = Vec::new();
    for name in groupings
        .iter()
        .flat_map(|group| group.iter())
        .chain(spec.states)
    {
        if !finest.contains(name) {
            finest.push(name);
        }
    }
    let cells = Cells::of(rows, kept, &finest, dense_limit)?;
    let count = cells.keys.len();
    let flags = cells.evaluate(rows, &finest, spec)?;
    let record_keys = record_keys(rows.column(columns::RECORD_KEY)?, kept)?;
    let codes = spec
        .scores
        .iter()
        .map(|(name, _)| {
            let column = rows.column(&score_code(name))?;
            Ok(Gathered {
                values: to_slice(column.as_materialized_series().u32()?),
                kept,
            })
        })
        .collect::<PolarsResult<Vec<_>>>()?;
    let weights = match spec.weighted {
        Some(_) => Some(Gathered {
            values: to_slice(rows.column(WEIGHT)?.as_materialized_series().f64()?),
            kept,
        }),
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
            .map(|(c, name)| key_column(rows, name, &rollup.keys, c))
            .collect::<PolarsResult<_>>()?;
        let width = flags.len();
        let counts = counts.rolled_up(&rollup, width);
        out.push(Column::new("n".into(), counts.rows));
        out.push(Column::new(key_of("n").into(), counts.row_keys));
        for (j, indicator) in spec.indicators.iter().enumerate() {
            let column = |sums: &[i64]| -> Vec<i64> {
                sums.iter().skip(j).step_by(width).copied().collect()
            };
            let alias = indicator.alias.as_str();
            out.push(Column::new(alias.into(), column(&counts.holding)));
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
            for (&cell, weight) in ids.iter().zip(weights.iter()) {
                w.add(cell, weight);
                w2.add(cell, weight * weight);
            }
            out.push(Column::new("w_sum".into(), w.sums()));
            out.push(Column::new("w2_sum".into(), w2.sums()));
            for (name, holds) in names.iter().zip(&flags) {
                let mut sums = Compensated::new(coarse);
                for ((&cell, weight), &fine) in ids.iter().zip(weights.iter()).zip(&cells.ids) {
                    sums.add(cell, if holds[fine as usize] { weight } else { 0.0 });
                }
                out.push(Column::new(name.as_str().into(), sums.sums()));
            }
            for ((name, values), codes) in spec.scores.iter().zip(&codes) {
                let mut sums = Compensated::new(coarse);
                for ((&cell, weight), code) in ids.iter().zip(weights.iter()).zip(codes.iter()) {
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

    /// The counts of the rows, each in the finest cell `ids` gives (`count` cells), with
    /// `flags[j][cell]` whether indicator `j` holds in a cell: the rows and key sums of each
    /// cell, and each indicator's are those of the cells where it holds.
    fn of(ids: &[u32], count: usize, keys: &Gathered<'_, u8>, flags: &[Vec<bool>]) -> Self {
        let width = flags.len();
        let mut counts = Self::zeros(count, width);
        if count == 1 {
            counts.rows[0] = i64::try_from(ids.len()).unwrap_or(i64::MAX);
            let mut sum = 0_u64;
            keys.for_each(|_, key| sum += u64::from(key));
            counts.row_keys[0] = i64::try_from(sum).unwrap_or(i64::MAX);
        } else {
            keys.for_each(|row, key| {
                let cell = ids[row] as usize;
                counts.rows[cell] += 1;
                counts.row_keys[cell] += i64::from(key);
            });
        }
        for cell in 0..count {
            for (j, holds) in flags.iter().enumerate() {
                if holds[cell] {
                    counts.holding[cell * width + j] = counts.rows[cell];
                    counts.holding_keys[cell * width + j] = counts.row_keys[cell];
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
/// found among the counted rows' `codes` (none should be; it counts with the value 0).
fn code_width(codes: &Gathered<'_, u32>, values: &[f64]) -> usize {
    codes
        .extent()
        .map_or(0, |(_, highest)| highest as usize + 1)
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
    fn of(
        cells: &[u32],
        codes: &Gathered<'_, u32>,
        values: &[f64],
        count: usize,
        dense_limit: usize,
    ) -> Self {
        let width = code_width(codes, values);
        if count.saturating_mul(width) > dense_limit {
            return Self(None);
        }
        let mut table = vec![0_u32; count * width];
        codes.for_each(|row, code| {
            table[cells[row] as usize * width + code as usize] += 1;
        });
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
fn sorted_sums(cells: &[u32], codes: &Gathered<'_, u32>, values: &[f64], count: usize) -> Vec<f64> {
    let width = code_width(codes, values);
    let order = ascending(values, width);
    let mut rank = vec![0_u32; width];
    for (position, code) in order.iter().enumerate() {
        rank[*code as usize] = u32::try_from(position).unwrap_or(u32::MAX);
    }
    let mut pairs: Vec<u64> = cells
        .iter()
        .zip(codes.iter())
        .map(|(&cell, code)| (u64::from(cell) << 32) | u64::from(rank[code as usize]))
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
    fn of(
        rows: &DataFrame,
        kept: Option<&[u32]>,
        group: &[&str],
        dense_limit: usize,
    ) -> PolarsResult<Self> {
        let height = kept.map_or(rows.height(), <[u32]>::len);
        if group.is_empty() {
            return Ok(Self {
                ids: vec![0; height],
                keys: vec![Vec::new()],
            });
        }
        let values = group
            .iter()
            .map(|name| Codes::of(rows.column(name)?, kept))
            .collect::<PolarsResult<Vec<_>>>()?;
        // Mixed radix over each column's range (of every row, counted or not), when the
        // product is small enough to index.
        let ranges: Vec<(i32, u32)> = values
            .iter()
            .map(|column| {
                let (low, high) = column.range();
                let width = i64::from(high) - i64::from(low) + 1;
                (low, u32::try_from(width).unwrap_or(u32::MAX))
            })
            .collect();
        let product = ranges
            .iter()
            .try_fold(1_u32, |product, (_, width)| product.checked_mul(*width));
        let mut keys = Vec::new();
        match product.and_then(|p| usize::try_from(p).ok()) {
            Some(slots) if slots <= dense_limit => {
                // Each row's slot, one column at a time.
                let mut ids = vec![0_u32; height];
                for (column, &(low, width)) in values.iter().zip(&ranges) {
                    column.fold(&mut ids, low, width);
                }
                let mut slot_cell = vec![u32::MAX; slots];
                for id in &mut ids {
                    let cell = &mut slot_cell[*id as usize];
                    if *cell == u32::MAX {
                        *cell = u32::try_from(keys.len()).unwrap_or(u32::MAX);
                        keys.push(unfold(*id, &ranges));
                    }
                    *id = *cell;
                }
                Ok(Self { ids, keys })
            }
            _ => {
                let key_of_row =
                    |row: usize| values.iter().map(|c| c.get(row)).collect::<Vec<i32>>();
                let mut ids = Vec::with_capacity(height);
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
                Ok(Self { ids, keys })
            }
        }
    }

    /// Per indicator of `spec`, whether it holds in each cell: its condition evaluated on a
    /// frame of one row per cell, with the cell's values of the columns `names` (which
    /// [`Cells::of`] was given) in their types in `rows`.
    fn evaluate(
        &self,
        rows: &DataFrame,
        names: &[&str],
        spec: &Spec,
    ) -> PolarsResult<Vec<Vec<bool>>> {
        if spec.indicators.is_empty() {
            return Ok(Vec::new());
        }
        let count = self.keys.len();
        let columns = names
            .iter()
            .enumerate()
            .map(|(c, name)| key_column(rows, name, &self.keys, c))
            .collect::<PolarsResult<Vec<_>>>()?;
        let conditions: Vec<Expr> = spec
            .indicators
            .iter()
            .enumerate()
            .map(|(j, indicator)| {
                indicator
                    .condition
                    .clone()
                    .fill_null(lit(false))
                    .alias(format!("i{j}"))
            })
            .collect();
        let evaluated = DataFrame::new(count, columns)?
            .lazy()
            .with_columns(spec.derived)
            .select(conditions)
            .collect()?;
        evaluated
            .columns()
            .iter()
            .map(|column| {
                let holds = column.as_materialized_series().bool()?;
                // A condition that does not depend on the row (a literal) comes as one value.
                Ok(match holds.len() {
                    1 if count != 1 => vec![holds.get(0).unwrap_or(false); count],
                    _ => holds.iter().map(|h| h.unwrap_or(false)).collect(),
                })
            })
            .collect()
    }
}

/// Column `c` of each cell's key, as the column `name`, in the type it has in `rows`.
fn key_column(rows: &DataFrame, name: &str, keys: &[Vec<i32>], c: usize) -> PolarsResult<Column> {
    let values: Vec<i32> = keys.iter().map(|key| key[c]).collect();
    Column::new(name.into(), values).cast(rows.column(name)?.dtype())
}

/// The values of column `c` of each slot of `ranges` (see [`Cells::of`]).
fn unfold(mut slot: u32, ranges: &[(i32, u32)]) -> Vec<i32> {
    let mut key = vec![0; ranges.len()];
    for (value, &(low, width)) in key.iter_mut().zip(ranges).rev() {
        let offset = i64::from(slot % width);
        slot /= width;
        *value = i32::try_from(i64::from(low) + offset).unwrap_or(i32::MAX);
    }
    key
}

/// A column's values at the counted rows: the stored values, and when not every row is
/// counted, the positions of those that are.
struct Gathered<'a, T: Clone> {
    values: Cow<'a, [T]>,
    kept: Option<&'a [u32]>,
}

impl<T: Copy> Gathered<'_, T> {
    /// Calls `f` with each counted row's index among the counted rows, and its value.
    #[inline]
    fn for_each(&self, mut f: impl FnMut(usize, T)) {
        match self.kept {
            None => {
                for (row, &value) in self.values.iter().enumerate() {
                    f(row, value);
                }
            }
            Some(kept) => {
                for (row, &position) in kept.iter().enumerate() {
                    f(row, self.values[position as usize]);
                }
            }
        }
    }

    /// The value of the counted row `row`.
    #[inline]
    fn at(&self, row: usize) -> T {
        match self.kept {
            None => self.values[row],
            Some(kept) => self.values[kept[row] as usize],
        }
    }

    /// The lowest and highest value of a set holding every counted row's value: of the
    /// counted rows when they are few, else of every row (one pass, no gather); `None`
    /// without rows.
    fn extent(&self) -> Option<(T, T)>
    where
        T: Ord,
    {
        let mut extent: Option<(T, T)> = None;
        let mut widen = |value: T| {
            extent = Some(extent.map_or((value, value), |(low, high)| {
                (low.min(value), high.max(value))
            }));
        };
        match self.kept {
            Some(kept) if kept.len() < self.values.len() / 4 => {
                self.for_each(|_, value| widen(value))
            }
            _ => self.values.iter().for_each(|&value| widen(value)),
        }
        extent
    }

    /// The counted rows' values in order.
    fn iter(&self) -> impl Iterator<Item = T> + '_ {
        let count = self.kept.map_or(self.values.len(), <[u32]>::len);
        (0..count).map(|row| self.at(row))
    }
}

/// A grouping or state column's values as stored: 32-, 16- or 8-bit integers, or booleans
/// (read as 0 and 1 from their bits, at the counted rows).
enum Codes<'a> {
    I32(Gathered<'a, i32>),
    I16(Gathered<'a, i16>),
    U8(Gathered<'a, u8>),
    Bits(BooleanChunked, Option<&'a [u32]>),
}

impl<'a> Codes<'a> {
    fn of(column: &'a Column, kept: Option<&'a [u32]>) -> PolarsResult<Self> {
        let series = column.as_materialized_series();
        Ok(match series.dtype() {
            DataType::Int32 => Self::I32(Gathered {
                values: to_slice(series.i32()?),
                kept,
            }),
            DataType::Int16 => Self::I16(Gathered {
                values: to_slice(series.i16()?),
                kept,
            }),
            DataType::UInt8 => Self::U8(Gathered {
                values: to_slice(series.u8()?),
                kept,
            }),
            DataType::Boolean => Self::Bits(series.bool()?.rechunk().into_owned(), kept),
            _ => {
                let cast = series.cast(&DataType::Int32)?;
                Self::I32(Gathered {
                    values: Cow::Owned(to_slice(cast.i32()?).into_owned()),
                    kept,
                })
            }
        })
    }

    fn get(&self, row: usize) -> i32 {
        match self {
            Self::I32(values) => values.at(row),
            Self::I16(values) => i32::from(values.at(row)),
            Self::U8(values) => i32::from(values.at(row)),
            Self::Bits(bits, kept) => {
                let row = kept.map_or(row, |kept| kept[row] as usize);
                i32::from(bits.get(row).unwrap_or(false))
            }
        }
    }

    /// A range holding every counted row's value (see [`Gathered::extent`]); 0 to 1 for
    /// booleans; 0 and 0 without rows.
    fn range(&self) -> (i32, i32) {
        fn of<T: Copy + Ord + Into<i32>>(values: &Gathered<'_, T>) -> (i32, i32) {
            values
                .extent()
                .map_or((0, 0), |(low, high)| (low.into(), high.into()))
        }
        match self {
            Self::I32(values) => of(values),
            Self::I16(values) => of(values),
            Self::U8(values) => of(values),
            Self::Bits(..) => (0, 1),
        }
    }

    /// `slots[row] = slots[row] × width + (value − low)` for each counted row: the next
    /// digit of each row's slot.
    fn fold(&self, slots: &mut [u32], low: i32, width: u32) {
        fn of<T: Copy + Into<i32>>(
            values: &Gathered<'_, T>,
            slots: &mut [u32],
            low: i32,
            width: u32,
        ) {
            values.for_each(|row, value| {
                let offset = value.into().wrapping_sub(low) as u32;
                slots[row] = slots[row] * width + offset;
            });
        }
        match self {
            Self::I32(values) => of(values, slots, low, width),
            Self::I16(values) => of(values, slots, low, width),
            Self::U8(values) => of(values, slots, low, width),
            Self::Bits(bits, kept) => {
                let Some(array) = bits.downcast_iter().next() else {
                    return;
                };
                let bit = |row: usize| {
                    u32::from(
                        array.validity().is_none_or(|valid| valid.get_bit(row)) && array.value(row),
                    )
                };
                let offset = |row: usize| bit(row).wrapping_sub(low as u32);
                match kept {
                    Some(kept) => {
                        for (slot, &position) in slots.iter_mut().zip(kept.iter()) {
                            *slot = *slot * width + offset(position as usize);
                        }
                    }
                    None => {
                        for (row, slot) in slots.iter_mut().enumerate() {
                            *slot = *slot * width + offset(row);
                        }
                    }
                }
            }
        }
    }
}

/// The record keys of the counted rows (held in 8 bits; a wider column is narrowed, and
/// refused if a key does not fit).
fn record_keys<'a>(column: &'a Column, kept: Option<&'a [u32]>) -> PolarsResult<Gathered<'a, u8>> {
    let series = column.as_materialized_series();
    let values = match series.u8() {
        Ok(keys) => to_slice(keys),
        Err(_) => {
            let cast = series.strict_cast(&DataType::UInt8)?;
            Cow::Owned(to_slice(cast.u8()?).into_owned())
        }
    };
    Ok(Gathered { values, kept })
}

#[cfg(test)]
mod tests;
