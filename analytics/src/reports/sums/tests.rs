//! The per-cell sums against sums made another way: Polars' own group sums for the counts,
//! a plain loop per cell for the weighted sums, and the float sum of the values for the
//! score sums (to rounding), which must also come out the same, to the bit, whatever the
//! order of the rows and whichever way the cells are found.

use std::collections::HashMap;

use polars::prelude::*;

use super::{Spec, cell_sums_within};
use crate::reports::pipeline::{Indicator, WEIGHT, key_of, score_code, weighted_of};
use crate::reports::snapshot::columns;

/// The sums of one grouping.
fn cell_sums(rows: &DataFrame, group: &[&str], spec: &Spec) -> PolarsResult<DataFrame> {
    one(super::cell_sums(rows, None, &[group], spec))
}

fn one(frames: PolarsResult<Vec<DataFrame>>) -> PolarsResult<DataFrame> {
    Ok(frames?.pop().expect("one frame"))
}

/// xorshift64*: a fixed sequence per seed, so a failure can be replayed.
struct Random(u64);

impl Random {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n.max(1)
    }
}

const SCORE: &str = "score_maturity";
/// Values like the rubric's: means of normalised answers, in no particular code order.
const VALUES: [f64; 7] = [
    100.0 / 3.0,
    0.0,
    100.0,
    50.0,
    100.0 / 6.0,
    200.0 / 3.0,
    250.0 / 3.0,
];

/// `height` random rows: two group columns (one with negative codes), a record key, two
/// state columns (`x` 8-bit, `y` boolean), a score code and a weight.
fn rows(random: &mut Random, height: usize) -> DataFrame {
    let mut pick = |n: u64| -> Vec<u64> { (0..height).map(|_| random.below(n)).collect() };
    let a: Vec<i32> = pick(4).iter().map(|v| *v as i32 + 24_300).collect();
    let b: Vec<i16> = pick(5).iter().map(|v| *v as i16 - 1).collect();
    let key: Vec<u8> = pick(256).iter().map(|v| *v as u8).collect();
    let x: Vec<u8> = pick(3).iter().map(|v| *v as u8).collect();
    let y: Vec<bool> = pick(3).iter().map(|v| *v == 0).collect();
    let code: Vec<u32> = pick(VALUES.len() as u64)
        .iter()
        .map(|v| *v as u32)
        .collect();
    let w: Vec<f64> = pick(1000).iter().map(|v| 0.25 + *v as f64 / 7.0).collect();
    DataFrame::new(
        height,
        vec![
            Column::new("a".into(), a),
            Column::new("b".into(), b),
            Column::new(columns::RECORD_KEY.into(), key),
            Column::new("x".into(), x),
            Column::new("y".into(), y),
            Column::new(score_code(SCORE).into(), code),
            Column::new(WEIGHT.into(), w),
        ],
    )
    .expect("frame")
}

/// The state columns of [`rows`].
const STATES: [&str; 2] = ["x", "y"];

/// Two indicators of the state columns: `x` is 1, and `y`.
fn indicators() -> Vec<Indicator> {
    vec![
        Indicator {
            alias: "x".to_owned(),
            condition: col("x").eq(lit(1)),
        },
        Indicator {
            alias: "y".to_owned(),
            condition: col("y"),
        },
    ]
}

fn spec<'a>(
    indicators: &'a [Indicator],
    weighted: &'a [String],
    scores: &'a [(&'a str, &'a [f64])],
) -> Spec<'a> {
    Spec {
        states: &STATES,
        derived: &[],
        indicators,
        weighted: Some(weighted),
        scores,
    }
}

/// The rows of `frame` sorted by its group columns, so two frames compare row by row.
fn by_key(frame: DataFrame, group: &[&str]) -> DataFrame {
    if group.is_empty() {
        return frame;
    }
    frame
        .sort(group.to_vec(), SortMultipleOptions::default())
        .expect("sort")
}

fn ints(frame: &DataFrame, name: &str) -> Vec<i64> {
    let column = frame.column(name).expect(name).cast(&DataType::Int64);
    column
        .expect("cast")
        .i64()
        .expect("i64")
        .into_no_null_iter()
        .collect()
}

fn floats(frame: &DataFrame, name: &str) -> Vec<f64> {
    let column = frame.column(name).expect(name);
    column.f64().expect("f64").into_no_null_iter().collect()
}

#[test]
fn sums_agree_with_other_ways_of_making_them() {
    let aliases = indicators();
    let weighted = vec!["wx".to_owned(), "w_y".to_owned()];
    let scores: [(&str, &[f64]); 1] = [(SCORE, &VALUES)];
    let mut random = Random(0x5EED);
    for case in 0..60 {
        let height = [0, 1, 2, 7, 50, 400][case % 6] + case;
        let frame = rows(&mut random, height);
        for group in [&[][..], &["a"][..], &["a", "b"][..], &["b", "a"][..]] {
            let got = cell_sums(&frame, group, &spec(&aliases, &weighted, &scores)).expect("sums");
            // The same figures when every cell is found by hashing and every score counted
            // by sorting.
            let sparse = one(cell_sums_within(
                &frame,
                None,
                &[group],
                &spec(&aliases, &weighted, &scores),
                1,
            ))
            .expect("sparse sums");
            assert_eq!(
                by_key(got.clone(), group),
                by_key(sparse, group),
                "case {case}"
            );
            if group.is_empty() {
                assert_eq!(got.height(), 1, "one cell without a group");
            }
            // The same figures when the columns come in two chunks.
            let half = i64::try_from(height / 2).unwrap_or(0);
            let chunked = frame
                .slice(0, height / 2)
                .vstack(&frame.slice(half, height))
                .expect("two chunks");
            assert_eq!(
                cell_sums(&chunked, group, &spec(&aliases, &weighted, &scores)).expect("chunked"),
                got,
                "case {case}"
            );
            let got = by_key(got, group);

            // Counts and key sums: Polars' group sums.
            let indicator = |alias: &Indicator| alias.condition.clone().cast(DataType::Int64);
            let key = col(columns::RECORD_KEY).cast(DataType::Int64);
            let mut aggregates = vec![
                len().cast(DataType::Int64).alias("n"),
                key.clone().sum().alias(key_of("n")),
                col(WEIGHT).sum().alias("w_sum"),
            ];
            for alias in &aliases {
                aggregates.push(indicator(alias).sum().alias(alias.alias.as_str()));
                aggregates.push(
                    (key.clone() * indicator(alias))
                        .sum()
                        .alias(key_of(&alias.alias)),
                );
            }
            let expected = if group.is_empty() {
                frame.clone().lazy().select(aggregates)
            } else {
                frame
                    .clone()
                    .lazy()
                    .group_by(group.iter().map(|c| col(*c)).collect::<Vec<_>>())
                    .agg(aggregates)
            };
            let expected = by_key(expected.collect().expect("expected"), group);
            assert_eq!(got.height(), expected.height(), "case {case}: cells");
            for name in group
                .iter()
                .copied()
                .chain(["n", "n_key", "x", "x_key", "y", "y_key"])
            {
                let name = name.to_owned();
                assert_eq!(
                    ints(&got, &name),
                    ints(&expected, &name),
                    "case {case}: {name}"
                );
            }

            // Weighted sums: a plain loop per cell (to rounding: the sums are compensated);
            // the score sum to rounding against adding the values.
            let key_of_row = |row: usize| -> Vec<i32> {
                group
                    .iter()
                    .map(|c| {
                        frame
                            .column(c)
                            .expect("group")
                            .cast(&DataType::Int32)
                            .expect("cast")
                            .i32()
                            .expect("i32")
                            .get(row)
                            .unwrap_or(0)
                    })
                    .collect()
            };
            let weights = floats(&frame, WEIGHT);
            let codes: Vec<u32> = frame
                .column(&score_code(SCORE))
                .expect("codes")
                .u32()
                .expect("u32")
                .into_no_null_iter()
                .collect();
            let x = ints(&frame, "x");
            let mut loops: HashMap<Vec<i32>, [f64; 5]> = HashMap::new();
            for row in 0..frame.height() {
                let sums = loops.entry(key_of_row(row)).or_default();
                let (w, value) = (weights[row], VALUES[codes[row] as usize]);
                sums[0] += w * w;
                if x[row] == 1 {
                    sums[1] += w;
                }
                sums[2] += w * value;
                sums[3] += value;
            }
            let got_keys: Vec<Vec<i32>> = (0..got.height())
                .map(|row| group.iter().map(|c| ints(&got, c)[row] as i32).collect())
                .collect();
            for (row, key) in got_keys.iter().enumerate() {
                let Some(sums) = loops.get(key) else {
                    assert_eq!(ints(&got, "n")[row], 0, "case {case}: a cell without rows");
                    continue;
                };
                let close = |got: f64, expected: f64| {
                    assert!(
                        (got - expected).abs() <= 1e-9 * expected.abs().max(1.0),
                        "case {case}: {got} against {expected}"
                    );
                };
                close(floats(&got, "w2_sum")[row], sums[0]);
                close(floats(&got, "wx")[row], sums[1]);
                close(floats(&got, &weighted_of(SCORE))[row], sums[2]);
                close(floats(&got, SCORE)[row], sums[3]);
            }
            for (got, expected) in floats(&got, "w_sum").iter().zip(floats(&expected, "w_sum")) {
                assert!(
                    (got - expected).abs() <= 1e-9 * expected.max(1.0),
                    "case {case}"
                );
            }

            // The score sums, to the bit, with the rows in reverse order.
            let reversed = cell_sums(&frame.reverse(), group, &spec(&aliases, &weighted, &scores))
                .expect("reversed");
            let reversed = by_key(reversed, group);
            assert_eq!(
                floats(&got, SCORE)
                    .iter()
                    .map(|v| v.to_bits())
                    .collect::<Vec<_>>(),
                floats(&reversed, SCORE)
                    .iter()
                    .map(|v| v.to_bits())
                    .collect::<Vec<_>>(),
                "case {case}: the order of the rows changed a score sum"
            );
        }
    }
}

#[test]
fn a_score_sum_is_the_same_in_a_cell_and_in_a_finer_cell_with_the_same_rows() {
    // The same rows as one cell of a coarse grouping and as the only cell of a finer one
    // (a trend's period and the report of that month): the same sum, to the bit.
    let mut random = Random(7);
    let frame = rows(&mut random, 5_000);
    let scores: [(&str, &[f64]); 1] = [(SCORE, &VALUES)];
    let plain = Spec {
        states: &[],
        derived: &[],
        indicators: &[],
        weighted: None,
        scores: &scores,
    };
    let first = frame
        .clone()
        .lazy()
        .filter(col("a").eq(lit(24_300)))
        .collect()
        .expect("one value of a");
    let alone = cell_sums(&first, &[], &plain).expect("alone");
    let by_a = by_key(cell_sums(&frame, &["a"], &plain).expect("by a"), &["a"]);
    assert_eq!(ints(&by_a, "a")[0], 24_300);
    assert_eq!(
        floats(&alone, SCORE)[0].to_bits(),
        floats(&by_a, SCORE)[0].to_bits()
    );
    assert_eq!(ints(&alone, "n")[0], ints(&by_a, "n")[0]);
}

#[test]
fn no_rows_give_one_empty_cell_without_a_group_and_none_with_one() {
    let frame = rows(&mut Random(1), 0);
    let indicators = indicators();
    let plain = Spec {
        states: &STATES,
        derived: &[],
        indicators: &indicators,
        weighted: None,
        scores: &[],
    };
    let overall = cell_sums(&frame, &[], &plain).expect("overall");
    assert_eq!(overall.height(), 1);
    assert_eq!(ints(&overall, "n"), [0]);
    assert_eq!(ints(&overall, "x_key"), [0]);
    let cells = cell_sums(&frame, &["a"], &plain).expect("cells");
    assert_eq!(cells.height(), 0);
    assert_eq!(cells.column("a").expect("a").dtype(), &DataType::Int32);
    let cells = cell_sums(&frame, &["b"], &plain).expect("cells");
    assert_eq!(cells.column("b").expect("b").dtype(), &DataType::Int16);
}

#[test]
fn weighted_sums_keep_their_accuracy_over_many_rows() {
    // A million times 0.1: the exact sum of the float 0.1 rounds to 100,000, which a plain
    // running sum misses by over 1e-6.
    let mut sums = super::Compensated::new(1);
    let mut plain = 0.0;
    for _ in 0..1_000_000 {
        sums.add(0, 0.1);
        plain += 0.1;
    }
    assert!((plain - 100_000.0_f64).abs() > 1e-6);
    assert_eq!(sums.sums(), [100_000.0]);
}

#[test]
fn groupings_added_up_from_the_finest_cells_equal_their_own_sums() {
    let aliases = indicators();
    let weighted = vec!["wx".to_owned(), "wy".to_owned()];
    let scores: [(&str, &[f64]); 1] = [(SCORE, &VALUES)];
    let spec = spec(&aliases, &weighted, &scores);
    let mut random = Random(99);
    for height in [0, 1, 3, 30, 3_000] {
        let frame = rows(&mut random, height);
        let groupings: [&[&str]; 4] = [&[], &["a"], &["b"], &["a", "b"]];
        for limit in [1, super::DENSE_LIMIT] {
            let together =
                cell_sums_within(&frame, None, &groupings, &spec, limit).expect("together");
            assert_eq!(together.len(), groupings.len());
            for (frame_of_group, group) in together.into_iter().zip(groupings) {
                let alone =
                    one(cell_sums_within(&frame, None, &[group], &spec, limit)).expect("alone");
                assert_eq!(
                    by_key(frame_of_group, group),
                    by_key(alone, group),
                    "{group:?} over {height} rows"
                );
            }
        }
    }
}

#[test]
fn indicators_of_derived_columns_and_literals_are_evaluated_per_cell() {
    // A count made from the states (as the blockers report counts failed gates), conditions
    // on it, and a condition that holds nowhere: against the same conditions per row.
    let mut random = Random(2024);
    let derived = [(col("x").cast(DataType::Int32) + col("y").cast(DataType::Int32)).alias("s")];
    let conditions = [
        col("s").eq(lit(1)),
        col("s").gt_eq(lit(2)),
        col("y").and(col("s").eq(lit(1))),
        lit(false),
    ];
    let indicators: Vec<Indicator> = conditions
        .iter()
        .enumerate()
        .map(|(j, condition)| Indicator {
            alias: format!("c{j}"),
            condition: condition.clone(),
        })
        .collect();
    for height in [0, 1, 5, 333, 2_000] {
        let frame = rows(&mut random, height);
        for limit in [1, super::DENSE_LIMIT] {
            for group in [&[][..], &["b"][..], &["a", "b"][..]] {
                let spec = Spec {
                    states: &STATES,
                    derived: &derived,
                    indicators: &indicators,
                    weighted: None,
                    scores: &[],
                };
                let got = by_key(
                    one(cell_sums_within(&frame, None, &[group], &spec, limit)).expect("sums"),
                    group,
                );
                let key = col(columns::RECORD_KEY).cast(DataType::Int64);
                let mut aggregates = vec![len().cast(DataType::Int64).alias("n")];
                for (indicator, condition) in indicators.iter().zip(&conditions) {
                    let holds = condition.clone().cast(DataType::Int64);
                    aggregates.push(holds.clone().sum().alias(indicator.alias.as_str()));
                    aggregates.push((key.clone() * holds).sum().alias(key_of(&indicator.alias)));
                }
                let with_s = frame.clone().lazy().with_columns(&derived);
                let expected = if group.is_empty() {
                    with_s.select(aggregates)
                } else {
                    with_s
                        .group_by(group.iter().map(|c| col(*c)).collect::<Vec<_>>())
                        .agg(aggregates)
                };
                let expected = by_key(expected.collect().expect("expected"), group);
                for indicator in &indicators {
                    for name in [indicator.alias.clone(), key_of(&indicator.alias)] {
                        assert_eq!(
                            ints(&got, &name),
                            ints(&expected, &name),
                            "{name} of {group:?} over {height} rows"
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn counted_positions_give_what_the_rows_at_them_give() {
    // Summing the rows at some positions of a frame equals summing a frame of those rows, in
    // that order: with dense and hashed cells, and weighted sums in the same order.
    let aliases = indicators();
    let weighted = vec!["wx".to_owned(), "wy".to_owned()];
    let scores: [(&str, &[f64]); 1] = [(SCORE, &VALUES)];
    let spec = spec(&aliases, &weighted, &scores);
    let mut random = Random(4242);
    for height in [0, 1, 9, 500, 4_000] {
        let frame = rows(&mut random, height);
        let kept: Vec<u32> = (0..height)
            .filter(|_| random.below(3) != 0)
            .map(|row| u32::try_from(row).expect("row"))
            .collect();
        let taken = frame
            .take(&IdxCa::from_vec("kept".into(), kept.clone()))
            .expect("take");
        let groupings: [&[&str]; 3] = [&[], &["b"], &["a", "b"]];
        for limit in [1, super::DENSE_LIMIT] {
            let by_position =
                cell_sums_within(&frame, Some(&kept), &groupings, &spec, limit).expect("kept");
            let by_frame = cell_sums_within(&taken, None, &groupings, &spec, limit).expect("taken");
            assert_eq!(by_position, by_frame, "{height} rows, limit {limit}");
        }
    }
}
