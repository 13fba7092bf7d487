//! A columnar, in-memory copy of the scored responses that reports are computed from.
//!
//! Segment attributes are dictionary-encoded as integer codes (grouping on integers is what
//! makes a million-row report fast); blockers become one boolean column per gate.

use std::collections::{HashMap, HashSet};
use std::hash::BuildHasherDefault;

use polars::prelude::*;
use polars_arrow::bitmap::Bitmap;

use super::batch::{IdHasher, IdMap, RowBatch};
use super::ids::ResponseIds;
use super::model::SegmentField;

/// One scored response, as the store hands it over.
#[derive(Debug, Clone, PartialEq)]
pub struct ResponseRow {
    pub id: u128,
    pub firm: u128,
    /// The firm's record key for disclosure control, drawn once at random and kept with it.
    pub record_key: u8,
    pub survey_id: i32,
    pub version: i32,
    pub industry: String,
    pub size_band: String,
    pub country: String,
    pub region: Option<String>,
    /// Microseconds since the Unix epoch, UTC.
    pub submitted_at: i64,
    pub tier_rank: u8,
    pub ready_to_customise: bool,
    /// Failed gates of the next tier.
    pub blockers: Vec<String>,
    /// maturity, clarity, vendor_gap, capability, governance.
    pub scores: [f64; 5],
}

/// Column names of the snapshot frame.
pub(crate) mod columns {
    pub const FIRM: &str = "firm";
    /// Each row's firm's record key (0–255).
    pub const RECORD_KEY: &str = "record_key";
    pub const SURVEY: &str = "survey";
    pub const VERSION: &str = "version";
    pub const INDUSTRY: &str = "industry";
    pub const SIZE_BAND: &str = "size_band";
    pub const COUNTRY: &str = "country";
    pub const REGION: &str = "region";
    pub const SUBMITTED_AT: &str = "submitted_at";
    pub const MONTH: &str = "month";
    pub const QUARTER: &str = "quarter";
    pub const TIER_RANK: &str = "tier_rank";
    pub const READY: &str = "ready";
    /// The five dimension scores, held as codes of [`super::ScoreValues`].
    pub const SCORES: [&str; 5] = [
        "score_maturity",
        "score_clarity",
        "score_vendor_gap",
        "score_capability",
        "score_governance",
    ];
}

/// String values ↔ dense integer codes.
#[derive(Debug, Clone, Default)]
pub struct Dictionary {
    pub(crate) values: Vec<String>,
    codes: HashMap<String, i32>,
}

impl Dictionary {
    pub fn code(&mut self, value: &str) -> i32 {
        if let Some(code) = self.codes.get(value) {
            return *code;
        }
        let code = i32::try_from(self.values.len()).unwrap_or(i32::MAX);
        self.values.push(value.to_owned());
        self.codes.insert(value.to_owned(), code);
        code
    }

    /// The code of `value`, if any row has it.
    pub fn find(&self, value: &str) -> Option<i32> {
        self.codes.get(value).copied()
    }

    pub fn value(&self, code: i32) -> Option<&str> {
        usize::try_from(code)
            .ok()
            .and_then(|c| self.values.get(c))
            .map(String::as_str)
    }

    fn memory_bytes(&self) -> usize {
        self.values.iter().map(|v| 2 * v.len() + 64).sum()
    }
}

/// The distinct values of one score dimension; each row holds the code of its value. A
/// dimension takes few distinct values (the mean of a section's few ordinal answers), so a
/// 4-byte code stands exactly for an 8-byte score.
#[derive(Debug, Clone, Default)]
pub(crate) struct ScoreValues {
    values: Vec<f64>,
    /// Each value's bits → its code.
    codes: HashMap<u64, u32, BuildHasherDefault<IdHasher>>,
}

impl ScoreValues {
    fn code(&mut self, value: f64) -> u32 {
        let next = u32::try_from(self.values.len()).unwrap_or(u32::MAX);
        let code = *self.codes.entry(value.to_bits()).or_insert(next);
        if code == next {
            self.values.push(value);
        }
        code
    }

    fn memory_bytes(&self) -> usize {
        self.values.len() * 8 + self.codes.capacity() * 16
    }
}

/// How reports read a stored column (see [`Snapshot::stored`]): the frame holds narrow codes
/// to save memory, and reports see the columns they were written for.
#[derive(Debug, Clone)]
pub(crate) enum Stored {
    /// As stored.
    Plain,
    /// 8- and 16-bit codes, read as `Int32`.
    Narrow,
    /// Score codes, read as the scores they stand for (`Float64`).
    Scores(Vec<f64>),
}

impl Stored {
    /// `column`, an expression of the stored column, as reports see it.
    pub(crate) fn read_expr(&self, column: Expr) -> Expr {
        match self {
            Stored::Plain => column,
            Stored::Narrow => column.cast(DataType::Int32),
            Stored::Scores(values) => {
                let values = Series::new(PlSmallStr::from_static("scores"), values.as_slice());
                lit(values).gather(column, false)
            }
        }
    }

    /// The stored `column` as reports see it.
    #[cfg(test)]
    pub(crate) fn read(&self, column: Column) -> PolarsResult<Column> {
        let name = column.name().clone();
        let frame = DataFrame::new(column.len(), vec![column])?;
        let read = frame
            .lazy()
            .select([self.read_expr(col(name.clone())).alias(name.clone())])
            .collect()?;
        Ok(read.column(&name)?.clone())
    }
}

/// The snapshot: one frame plus the dictionaries that decode it.
#[derive(Debug)]
pub struct Snapshot {
    frame: DataFrame,
    pub(crate) industries: Dictionary,
    pub(crate) size_bands: Dictionary,
    pub(crate) countries: Dictionary,
    pub(crate) regions: Dictionary,
    /// Gate id → its boolean column name.
    pub(crate) gates: Dictionary,
    /// The values behind the codes of [`columns::SCORES`], in that order.
    scores: [ScoreValues; 5],
    firms: IdMap<u32>,
    /// Erased firms: rows of theirs read before the erasure committed are not taken in.
    erased: HashSet<u128>,
    ids: ResponseIds,
    latest_submission: i64,
    /// Rows appended out of time order wait for [`Snapshot::settle`].
    unsorted: bool,
    /// The [`NextRows`] of recent survey sets; emptied whenever the rows change.
    next_rows: std::sync::Mutex<Vec<(Vec<i32>, NextRows)>>,
}

/// For each row, the position of the same firm's next row among the rows of one set of
/// surveys ([`NO_NEXT`] for its last, and for rows of other surveys). With rows in time
/// order, a row of the set is its firm's latest in a window of positions `[lo, hi)` exactly
/// when its next row lies at or beyond `hi`: selecting each firm's latest response is one
/// pass over a slice, without hashing.
pub(crate) type NextRows = std::sync::Arc<[u32]>;

/// The next position of a firm's last row.
pub(crate) const NO_NEXT: u32 = u32::MAX;

/// How many survey sets keep their [`NextRows`] (a report names one set; versions of one
/// survey make a few).
const NEXT_ROWS_SETS: usize = 4;

impl Default for Snapshot {
    fn default() -> Self {
        Self::new()
    }
}

/// The code of a response without a region, as reports read it.
pub const NO_REGION: i32 = -1;

/// [`NO_REGION`] as the frame holds it.
const NO_REGION_STORED: i16 = -1;

impl Snapshot {
    pub fn new() -> Self {
        Self {
            frame: empty_frame(),
            industries: Dictionary::default(),
            size_bands: Dictionary::default(),
            countries: Dictionary::default(),
            regions: Dictionary::default(),
            gates: Dictionary::default(),
            scores: Default::default(),
            firms: IdMap::default(),
            erased: HashSet::new(),
            ids: ResponseIds::default(),
            latest_submission: i64::MIN,
            unsorted: false,
            next_rows: std::sync::Mutex::default(),
        }
    }

    /// The code of a segment attribute's value, if any row has it (`version` has none).
    pub fn segment_code(&self, field: SegmentField, value: &str) -> Option<i32> {
        match field {
            SegmentField::Industry => self.industries.find(value),
            SegmentField::SizeBand => self.size_bands.find(value),
            SegmentField::Country => self.countries.find(value),
            SegmentField::Region => self.regions.find(value),
            SegmentField::Version => None,
        }
    }

    /// The code of a firm in the firm column, if the snapshot has seen it.
    pub(crate) fn firm_code(&self, firm: u128) -> Option<u32> {
        self.firms.get(&firm).copied()
    }

    /// Rows held.
    pub fn len(&self) -> usize {
        self.frame.height()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The frame reports are computed from.
    pub fn frame(&self) -> &DataFrame {
        &self.frame
    }

    /// How reports read the column `name` (see [`Stored`]).
    /// The value of each code of score column `name` ([`columns::SCORES`]); empty for any
    /// other column.
    pub(crate) fn score_values(&self, name: &str) -> &[f64] {
        columns::SCORES
            .iter()
            .position(|s| *s == name)
            .map_or(&[], |dimension| self.scores[dimension].values.as_slice())
    }

    pub(crate) fn stored(&self, name: &str) -> Stored {
        if let Some(dimension) = columns::SCORES.iter().position(|s| *s == name) {
            return Stored::Scores(self.scores[dimension].values.clone());
        }
        match name {
            columns::RECORD_KEY
            | columns::TIER_RANK
            | columns::INDUSTRY
            | columns::SIZE_BAND
            | columns::COUNTRY
            | columns::REGION => Stored::Narrow,
            _ => Stored::Plain,
        }
    }

    pub(crate) fn gate_column(&self, gate: &str) -> Option<String> {
        self.gates
            .codes
            .get(gate)
            .map(|code| gate_column_name(*code))
    }

    /// Approximate heap size of the frame, dictionaries and indexes.
    pub fn memory_bytes(&self) -> usize {
        let next_rows = self
            .next_rows
            .lock()
            .map_or(0, |sets| sets.iter().map(|(_, next)| 4 * next.len()).sum());
        self.frame.estimated_size()
            + next_rows
            + self.firms.capacity() * 24
            + self.ids.memory_bytes()
            + [
                &self.industries,
                &self.size_bands,
                &self.countries,
                &self.regions,
                &self.gates,
            ]
            .iter()
            .map(|d| d.memory_bytes())
            .sum::<usize>()
            + self
                .scores
                .iter()
                .map(ScoreValues::memory_bytes)
                .sum::<usize>()
    }

    /// Adds rows not seen before (by id) and restores time order; returns how many were added.
    pub fn append(&mut self, rows: Vec<ResponseRow>) -> PolarsResult<usize> {
        let added = self.append_batch(RowBatch::from_rows(&rows))?;
        self.settle()?;
        Ok(added)
    }

    /// Restores time order after [`Snapshot::append_batch`] (one sort for many appends).
    pub fn settle(&mut self) -> PolarsResult<()> {
        if self.unsorted {
            // A few columns at a time (one per core), so that only those are held twice.
            let by_time = SortOptions::default().with_maintain_order(true);
            let order = self.frame.column(columns::SUBMITTED_AT)?.arg_sort(by_time);
            let at_once = std::thread::available_parallelism().map_or(2, |n| n.get());
            let indexes: Vec<usize> = (0..self.frame.width()).collect();
            for group in indexes.chunks(at_once) {
                let sorted: Vec<PolarsResult<Column>> = std::thread::scope(|scope| {
                    let workers: Vec<_> = group
                        .iter()
                        .map(|index| {
                            let column = &self.frame.columns()[*index];
                            let order = &order;
                            scope.spawn(move || column.take(order))
                        })
                        .collect();
                    workers
                        .into_iter()
                        .map(|worker| {
                            worker.join().unwrap_or_else(|_| {
                                Err(polars_err!(ComputeError: "sorting a column panicked"))
                            })
                        })
                        .collect()
                });
                for (index, column) in group.iter().zip(sorted) {
                    self.frame.replace_column(*index, column?)?;
                }
            }
            self.unsorted = false;
            self.forget_next_rows();
        }
        Ok(())
    }

    /// Adds a batch's rows not seen before (by id) and not of an erased firm, without
    /// restoring time order: call [`Snapshot::settle`] before computing a report.
    pub fn append_batch(&mut self, batch: RowBatch) -> PolarsResult<usize> {
        let new = self.ids.insert_batch(&batch.ids);
        let keep: Vec<bool> = new
            .iter()
            .zip(&batch.firms)
            .map(|(new, firm)| *new && !self.erased.contains(firm))
            .collect();
        let height = keep.iter().filter(|k| **k).count();
        if height == 0 {
            return Ok(0);
        }
        let all = height == batch.len();
        // The batch's own codes → the snapshot's.
        let industries = translate(&batch.industries, &mut self.industries)?;
        let size_bands = translate(&batch.size_bands, &mut self.size_bands)?;
        let countries = translate(&batch.countries, &mut self.countries)?;
        let regions = translate(&batch.regions, &mut self.regions)?;
        let sets: Vec<Vec<i32>> = batch
            .blocker_sets
            .iter()
            .map(|gates| gates.iter().map(|g| self.gates.code(g)).collect())
            .collect();
        let kept = |column: &[i32], codes: &[i16]| -> Vec<i16> {
            column
                .iter()
                .zip(&keep)
                .filter(|(_, k)| all || **k)
                .map(|(c, _)| {
                    usize::try_from(*c)
                        .ok()
                        .and_then(|c| codes.get(c))
                        .copied()
                        .unwrap_or(NO_REGION_STORED)
                })
                .collect()
        };
        fn select<T: Copy>(column: &[T], keep: &[bool], all: bool) -> Vec<T> {
            if all {
                return column.to_vec();
            }
            column
                .iter()
                .zip(keep)
                .filter(|(_, k)| **k)
                .map(|(v, _)| *v)
                .collect()
        }
        self.firms.reserve(height);
        let mut firm = Vec::with_capacity(height);
        for (id, _) in batch.firms.iter().zip(&keep).filter(|(_, k)| all || **k) {
            let next_firm = u32::try_from(self.firms.len()).unwrap_or(u32::MAX);
            firm.push(*self.firms.entry(*id).or_insert(next_firm));
        }
        let submitted_at = select(&batch.submitted_at, &keep, all);
        let blocker_set = select(&batch.blocker_set, &keep, all);
        let earliest = submitted_at.iter().copied().min().unwrap_or(i64::MAX);
        let latest = submitted_at.iter().copied().max().unwrap_or(i64::MIN);
        let mut new_columns = vec![
            Column::new(columns::FIRM.into(), firm),
            Column::new(
                columns::RECORD_KEY.into(),
                select(&batch.record_keys, &keep, all),
            ),
            Column::new(columns::SURVEY.into(), select(&batch.survey, &keep, all)),
            Column::new(columns::VERSION.into(), select(&batch.version, &keep, all)),
            Column::new(columns::INDUSTRY.into(), kept(&batch.industry, &industries)),
            Column::new(
                columns::SIZE_BAND.into(),
                kept(&batch.size_band, &size_bands),
            ),
            Column::new(columns::COUNTRY.into(), kept(&batch.country, &countries)),
            Column::new(columns::REGION.into(), kept(&batch.region, &regions)),
            Column::new(columns::SUBMITTED_AT.into(), submitted_at),
            Column::new(columns::MONTH.into(), select(&batch.month, &keep, all)),
            Column::new(columns::QUARTER.into(), select(&batch.quarter, &keep, all)),
            Column::new(
                columns::TIER_RANK.into(),
                select(&batch.tier_rank, &keep, all),
            ),
            Column::new(columns::READY.into(), select(&batch.ready, &keep, all)),
        ];
        for ((name, values), scores) in columns::SCORES
            .iter()
            .zip(&batch.scores)
            .zip(&mut self.scores)
        {
            let codes: Vec<u32> = values
                .iter()
                .zip(&keep)
                .filter(|(_, k)| all || **k)
                .map(|(value, _)| scores.code(*value))
                .collect();
            new_columns.push(Column::new((*name).into(), codes));
        }
        let gate_count = self.gates.values.len();
        for (code, bits) in gate_bits(&sets, &blocker_set, gate_count)
            .into_iter()
            .enumerate()
        {
            let name = gate_column_name(i32::try_from(code).unwrap_or(i32::MAX));
            new_columns.push(BooleanChunked::from_bitmap(name.into(), bits).into_column());
        }
        let mut chunk = DataFrame::new(height, new_columns)?;
        let in_order = earliest >= self.latest_submission;
        let sorted = submitted_at_sorted(&chunk)?;
        self.latest_submission = self.latest_submission.max(latest);

        if self.frame.height() == 0 {
            if !sorted {
                // Rows stay sorted by submission time, ties in arrival order: a firm's last
                // row is its latest response.
                let by_time = SortMultipleOptions::default().with_maintain_order(true);
                chunk = chunk.sort([columns::SUBMITTED_AT], by_time)?;
            }
            self.frame = chunk;
        } else {
            // Gates first seen in this chunk: earlier rows did not fail them.
            let existing = self.frame.height();
            for code in 0..gate_count {
                let name = gate_column_name(i32::try_from(code).unwrap_or(i32::MAX));
                if self.frame.column(&name).is_err() {
                    let none = Bitmap::new_zeroed(existing);
                    self.frame.with_column(
                        BooleanChunked::from_bitmap(name.into(), none).into_column(),
                    )?;
                }
            }
            self.frame.vstack_mut_owned(chunk)?;
            self.unsorted |= !(in_order && sorted);
            // Rows out of order are gathered into one chunk by `settle` anyway.
            if !self.unsorted && self.frame.first_col_n_chunks() > 32 {
                self.frame.rechunk_mut_par();
            }
        }
        self.forget_next_rows();
        Ok(height)
    }

    fn forget_next_rows(&self) {
        if let Ok(mut sets) = self.next_rows.lock() {
            sets.clear();
        }
    }

    /// The positions `[lo, hi)` of the rows submitted inside `[from, until)`: a binary search,
    /// as the rows are in time order. Fails while rows wait for [`Snapshot::settle`].
    pub(crate) fn window(
        &self,
        from: Option<i64>,
        until: Option<i64>,
    ) -> PolarsResult<(usize, usize)> {
        if self.unsorted {
            polars_bail!(ComputeError: "the report snapshot is not in time order");
        }
        let times = self.frame.column(columns::SUBMITTED_AT)?.i64()?;
        let lo = from.map_or(0, |from| first_at_or_after(times, from));
        let hi = until.map_or(self.len(), |until| first_at_or_after(times, until));
        Ok((lo, hi.max(lo)))
    }

    /// The [`NextRows`] of a set of surveys: built by one pass over the rows the first time
    /// the set is asked for after the rows changed, then kept.
    pub(crate) fn next_rows(&self, surveys: &[i32]) -> PolarsResult<NextRows> {
        let mut set = surveys.to_vec();
        set.sort_unstable();
        set.dedup();
        if let Ok(sets) = self.next_rows.lock()
            && let Some((_, next)) = sets.iter().find(|(s, _)| *s == set)
        {
            return Ok(next.clone());
        }
        if u32::try_from(self.len()).is_err() {
            polars_bail!(ComputeError: "the report snapshot holds more rows than it can index");
        }
        let firms = self.frame.column(columns::FIRM)?.u32()?;
        let survey = self.frame.column(columns::SURVEY)?.i32()?;
        let mut next = vec![NO_NEXT; self.len()];
        // Each firm's row seen last so far.
        let mut last = vec![NO_NEXT; self.firms.len()];
        for (position, (firm, survey)) in firms
            .into_no_null_iter()
            .zip(survey.into_no_null_iter())
            .enumerate()
        {
            if !set.contains(&survey) {
                continue;
            }
            let position = u32::try_from(position).unwrap_or(NO_NEXT);
            if let Some(seen) = usize::try_from(firm).ok().and_then(|f| last.get_mut(f)) {
                if let Some(previous) = usize::try_from(*seen).ok().and_then(|p| next.get_mut(p)) {
                    *previous = position;
                }
                *seen = position;
            }
        }
        let next: NextRows = next.into();
        if let Ok(mut sets) = self.next_rows.lock() {
            if sets.len() >= NEXT_ROWS_SETS {
                sets.remove(0);
            }
            sets.push((set, next.clone()));
        }
        Ok(next)
    }

    /// Drops every response of these firms (erasure).
    pub fn remove_firms(&mut self, firms: &[u128]) -> PolarsResult<usize> {
        self.erased.extend(firms.iter().copied());
        let codes: HashSet<u32> = firms
            .iter()
            .filter_map(|f| self.firms.get(f))
            .copied()
            .collect();
        if codes.is_empty() {
            return Ok(0);
        }
        let keep: BooleanChunked = self
            .frame
            .column(columns::FIRM)?
            .u32()?
            .iter()
            .map(|code| Some(!code.is_some_and(|c| codes.contains(&c))))
            .collect();
        let before = self.frame.height();
        self.frame = self.frame.filter(&keep)?;
        self.forget_next_rows();
        Ok(before - self.frame.height())
    }
}

/// The frame of a snapshot without rows: every base column, typed.
fn empty_frame() -> DataFrame {
    let int = |name: &str| Column::new(name.into(), Vec::<i32>::new());
    let code = |name: &str| Column::new(name.into(), Vec::<i16>::new());
    let mut empty = vec![
        Column::new(columns::FIRM.into(), Vec::<u32>::new()),
        Column::new(columns::RECORD_KEY.into(), Vec::<u8>::new()),
        int(columns::SURVEY),
        int(columns::VERSION),
        code(columns::INDUSTRY),
        code(columns::SIZE_BAND),
        code(columns::COUNTRY),
        code(columns::REGION),
        Column::new(columns::SUBMITTED_AT.into(), Vec::<i64>::new()),
        int(columns::MONTH),
        int(columns::QUARTER),
        Column::new(columns::TIER_RANK.into(), Vec::<u8>::new()),
        Column::new(columns::READY.into(), Vec::<bool>::new()),
    ];
    for name in columns::SCORES {
        empty.push(Column::new(name.into(), Vec::<u32>::new()));
    }
    DataFrame::new(0, empty).unwrap_or_else(|_| DataFrame::empty())
}

/// Each code of a batch dictionary → the code of the same value in the snapshot's, as the
/// frame holds it (16 bits: the attributes are drawn from short code lists).
fn translate(batch: &Dictionary, snapshot: &mut Dictionary) -> PolarsResult<Vec<i16>> {
    batch
        .values
        .iter()
        .map(|v| {
            i16::try_from(snapshot.code(v)).map_err(
                |_| polars_err!(ComputeError: "more than {} distinct values of a segment attribute", i16::MAX),
            )
        })
        .collect()
}

/// The position of the first time at or after `at` in times that never decrease.
fn first_at_or_after(times: &Int64Chunked, at: i64) -> usize {
    let mut offset = 0;
    for chunk in times.downcast_iter() {
        let values = chunk.values().as_slice();
        if values.last().is_some_and(|last| *last >= at) {
            return offset + values.partition_point(|time| *time < at);
        }
        offset += values.len();
    }
    offset
}

/// Whether the chunk's submission times never decrease.
fn submitted_at_sorted(chunk: &DataFrame) -> PolarsResult<bool> {
    let times = chunk.column(columns::SUBMITTED_AT)?.i64()?;
    let mut previous = i64::MIN;
    for time in times.into_no_null_iter() {
        if time < previous {
            return Ok(false);
        }
        previous = time;
    }
    Ok(true)
}

/// Each gate's column for a batch's rows, packed straight into bits: a row holds gate `g`
/// when the distinct blocker list it points to (`blocker_set`) holds `g`. The lists' gates
/// become masks of 64 gates, one mask per row, and each gate's bits are taken from them eight
/// rows to a byte.
fn gate_bits(sets: &[Vec<i32>], blocker_set: &[u32], gate_count: usize) -> Vec<Bitmap> {
    let mut columns = Vec::with_capacity(gate_count);
    for first in (0..gate_count).step_by(64) {
        let masks: Vec<u64> = sets
            .iter()
            .map(|set| {
                set.iter()
                    .filter_map(|gate| usize::try_from(*gate).ok())
                    .filter(|gate| (first..first + 64).contains(gate))
                    .fold(0, |mask, gate| mask | 1 << (gate - first))
            })
            .collect();
        let rows: Vec<u64> = blocker_set
            .iter()
            .map(|set| masks.get(*set as usize).copied().unwrap_or(0))
            .collect();
        for bit in 0..(gate_count - first).min(64) {
            let bytes: Vec<u8> = rows
                .chunks(8)
                .map(|eight| {
                    eight
                        .iter()
                        .enumerate()
                        .fold(0, |byte, (i, mask)| byte | (((mask >> bit) & 1) as u8) << i)
                })
                .collect();
            columns.push(Bitmap::from_u8_vec(bytes, rows.len()));
        }
    }
    columns
}

fn gate_column_name(code: i32) -> String {
    format!("gate_{code}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packed_gate_bits_are_what_each_row_holds() {
        // 70 gates (two masks), lists with gates on either side of 64, an empty list, and
        // row counts that do not fill a byte or a mask.
        let sets: Vec<Vec<i32>> = vec![vec![], vec![0, 3], vec![63, 64, 69], vec![7, 8, 65]];
        for rows in [0_usize, 1, 7, 8, 9, 63, 64, 65, 1_000] {
            let blocker_set: Vec<u32> = (0..rows)
                .map(|row| ((row * 7 + row / 3) % sets.len()) as u32)
                .collect();
            let bits = gate_bits(&sets, &blocker_set, 70);
            assert_eq!(bits.len(), 70);
            for (gate, column) in bits.iter().enumerate() {
                assert_eq!(column.len(), rows);
                for (row, set) in blocker_set.iter().enumerate() {
                    let held = sets[*set as usize].contains(&(gate as i32));
                    assert_eq!(column.get_bit(row), held, "gate {gate}, row {row}");
                }
            }
        }
    }
}
