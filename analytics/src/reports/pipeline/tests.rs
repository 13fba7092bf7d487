//! The selection of counted rows against the way it was made before the snapshot kept each
//! row's next position: filter the surveys and the window, then keep each firm's last row
//! (per partition) with Polars' `unique`. Random snapshots with ties in time, several
//! responses per firm per period, several surveys, rows appended out of order and erasures.

use std::sync::Arc;

use polars::prelude::*;

use super::{ReadAs, counted_rows};
use crate::reports::calendar::{month_index, quarter_index};
use crate::reports::disclosure::{DisclosurePolicy, PerturbationTable};
use crate::reports::model::{Basis, DroppedCategories, ReportQuery, SegmentFilter};
use crate::reports::snapshot::{ResponseRow, Snapshot, columns};

/// xorshift64*: a fixed sequence per seed, so a failure can be replayed.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// 2026-01-01T00:00:00Z in microseconds.
const START: i64 = 1_767_225_600_000_000;
const DAY: i64 = 86_400_000_000;

/// One of few instants over about seven months: many ties, several rows per firm per month.
fn instant(random: &mut Random) -> i64 {
    START + i64::try_from(random.below(40)).unwrap_or(0) * 5 * DAY + DAY / 2
}

fn row(random: &mut Random, id: u128, firms: u64) -> ResponseRow {
    ResponseRow {
        id,
        firm: u128::from(random.below(firms)),
        record_key: u8::try_from(random.below(256)).unwrap_or(0),
        survey_id: i32::try_from(random.below(3)).unwrap_or(0) + 1,
        version: 1,
        industry: ["C", "J", "K"][usize::try_from(random.below(3)).unwrap_or(0)].to_owned(),
        size_band: ["micro", "small"][usize::try_from(random.below(2)).unwrap_or(0)].to_owned(),
        country: "DE".to_owned(),
        region: None,
        submitted_at: instant(random),
        tier_rank: u8::try_from(random.below(4)).unwrap_or(0) + 1,
        ready_to_customise: random.below(2) == 1,
        blockers: if random.below(2) == 1 {
            vec!["data".to_owned()]
        } else {
            Vec::new()
        },
        scores: [f64::from(u32::try_from(random.below(100)).unwrap_or(0)); 5],
    }
}

fn snapshot(random: &mut Random) -> Snapshot {
    let firms = 1 + random.below(25);
    let mut snapshot = Snapshot::new();
    let mut id = 0;
    for _ in 0..1 + random.below(4) {
        let rows: Vec<ResponseRow> = (0..random.below(120))
            .map(|_| {
                id += 1;
                row(random, id, firms)
            })
            .collect();
        // The same ids again now and then: appends take each response once.
        let again = rows
            .iter()
            .take(usize::try_from(random.below(3)).unwrap_or(0))
            .cloned();
        let rows: Vec<ResponseRow> = rows.iter().cloned().chain(again).collect();
        snapshot.append(rows).expect("append");
        if random.below(3) == 0 {
            snapshot
                .remove_firms(&[u128::from(random.below(firms))])
                .expect("erase");
        }
    }
    snapshot
}

fn query(random: &mut Random) -> ReportQuery {
    let survey_ids: Vec<i32> = (1..=3).filter(|_| random.below(2) == 1).collect();
    let bound = |random: &mut Random| (random.below(4) != 0).then(|| instant(random));
    ReportQuery {
        survey_ids: if survey_ids.is_empty() {
            vec![2]
        } else {
            survey_ids
        },
        from: bound(random),
        until: bound(random),
        basis: if random.below(4) == 0 {
            Basis::All
        } else {
            Basis::Latest
        },
        by: Vec::new(),
        segments: SegmentFilter::default(),
        disclosure: DisclosurePolicy::new(Arc::new(PerturbationTable::unperturbed()), None),
        dropped_categories: DroppedCategories::Report,
    }
}

/// The selection as it was made before.
fn reference(snapshot: &Snapshot, query: &ReportQuery, partition: &[&str]) -> DataFrame {
    let time = col(columns::SUBMITTED_AT);
    let mut keep = query
        .survey_ids
        .iter()
        .map(|id| col(columns::SURVEY).eq(lit(*id)))
        .reduce(|a, b| a.or(b))
        .unwrap_or(lit(false));
    if let Some(from) = query.from {
        keep = keep.and(time.clone().gt_eq(lit(from)));
    }
    if let Some(until) = query.until {
        keep = keep.and(time.lt(lit(until)));
    }
    let rows = read(snapshot, snapshot.frame()).lazy().filter(keep);
    let rows = match query.basis {
        Basis::All => rows,
        Basis::Latest => {
            let mut subset = vec![col(columns::FIRM)];
            subset.extend(partition.iter().map(|c| col(*c)));
            rows.unique_stable_generic(Some(subset), UniqueKeepStrategy::Last)
        }
    };
    sorted(rows)
}

/// Every column of `frame` as reports read it.
fn read(snapshot: &Snapshot, frame: &DataFrame) -> DataFrame {
    let columns = frame
        .columns()
        .iter()
        .map(|column| snapshot.stored(column.name()).read(column.clone()))
        .collect::<PolarsResult<Vec<Column>>>()
        .expect("read");
    DataFrame::new(frame.height(), columns).expect("frame")
}

/// The rows in an order of their values alone: the two selections are compared as sets.
fn sorted(rows: LazyFrame) -> DataFrame {
    let rows = rows.collect().expect("collect");
    let names: Vec<PlSmallStr> = rows.get_column_names().into_iter().cloned().collect();
    rows.sort(names, SortMultipleOptions::default())
        .expect("sort")
}

#[test]
fn the_next_position_selects_what_unique_selected() {
    let mut random = Random(0x5EED_2026_1205);
    let mut compared = 0;
    let mut kept = 0;
    for _ in 0..300 {
        let snapshot = snapshot(&mut random);
        for _ in 0..20 {
            let query = query(&mut random);
            for partition in [&[][..], &[columns::MONTH], &[columns::QUARTER]] {
                let expected = reference(&snapshot, &query, partition);
                let got = sorted(
                    counted_rows(&snapshot, &query, partition, ReadAs::Values).expect("select"),
                );
                assert!(
                    got.equals(&expected),
                    "{query:?} {partition:?}\nexpected {expected}\ngot {got}"
                );
                compared += 1;
                kept += got.height();
            }
        }
    }
    assert_eq!(compared, 300 * 20 * 3);
    // The cases select something: not a comparison of empty frames.
    assert!(
        kept > compared * 3,
        "only {kept} rows kept in {compared} selections"
    );
}

#[test]
fn periods_follow_time() {
    // The selection relies on a later row never having an earlier period.
    let mut previous = (i32::MIN, i32::MIN);
    for day in 0..2_000 {
        let at = START + day * DAY / 3;
        let periods = (month_index(at), quarter_index(at));
        assert!(periods >= previous);
        previous = periods;
    }
}

#[test]
fn counted_rows_read_back_what_was_appended() {
    // The frame holds codes (8 and 16 bits, and score codes); reports see the values.
    let mut random = Random(0xC0DE_2026_1205);
    let regions = [None, Some("DE-BY"), Some("DE-BE")];
    let rows: Vec<ResponseRow> = (0..2_000u32)
        .map(|i| {
            let mut row = row(&mut random, u128::from(i) + 1, 400);
            row.submitted_at = START + i64::from(i) * DAY / 10;
            row.survey_id = 1;
            row.region = regions[usize::try_from(random.below(3)).unwrap_or(0)].map(str::to_owned);
            for score in &mut row.scores {
                *score = f64::from(u32::try_from(random.below(400)).unwrap_or(0)) / 7.0;
            }
            row
        })
        .collect();
    let mut snapshot = Snapshot::new();
    // In two appends, the second out of order: codes stay valid through the sort.
    let (early, late) = rows.split_at(1_200);
    snapshot.append(late.to_vec()).expect("append");
    snapshot.append(early.to_vec()).expect("append");
    let mut query = query(&mut random);
    (query.survey_ids, query.from, query.until, query.basis) = (vec![1], None, None, Basis::All);
    let got = counted_rows(&snapshot, &query, &[], ReadAs::Values)
        .expect("select")
        .collect()
        .expect("collect");
    assert_eq!(got.height(), rows.len());
    let int = |name: &str, at: usize| got.column(name).unwrap().i32().unwrap().get(at).unwrap();
    let label = |dictionary: &crate::reports::snapshot::Dictionary, code: i32| {
        dictionary.value(code).map(str::to_owned)
    };
    for (at, row) in rows.iter().enumerate() {
        assert_eq!(int(columns::RECORD_KEY, at), i32::from(row.record_key));
        assert_eq!(int(columns::TIER_RANK, at), i32::from(row.tier_rank));
        assert_eq!(
            label(&snapshot.industries, int(columns::INDUSTRY, at)),
            Some(row.industry.clone())
        );
        assert_eq!(
            label(&snapshot.size_bands, int(columns::SIZE_BAND, at)),
            Some(row.size_band.clone())
        );
        let region = int(columns::REGION, at);
        assert_eq!(
            (region != crate::reports::snapshot::NO_REGION)
                .then(|| label(&snapshot.regions, region))
                .flatten(),
            row.region
        );
        for (name, score) in columns::SCORES.iter().zip(row.scores) {
            let read = got.column(name).unwrap().f64().unwrap().get(at).unwrap();
            assert_eq!(read.to_bits(), score.to_bits(), "{name} of row {at}");
        }
    }
}

#[test]
fn a_dimension_with_one_value_reads_back_on_every_row() {
    // One distinct score: the values are a one-element literal, gathered by a code per row.
    let mut random = Random(0x0DD_2026_1205);
    let rows: Vec<ResponseRow> = (0..5u32)
        .map(|i| {
            let mut row = row(&mut random, u128::from(i) + 1, 5);
            (row.survey_id, row.submitted_at, row.scores) = (1, START + i64::from(i), [12.5; 5]);
            row
        })
        .collect();
    let mut snapshot = Snapshot::new();
    snapshot.append(rows).expect("append");
    let mut query = query(&mut random);
    (query.survey_ids, query.from, query.until, query.basis) = (vec![1], None, None, Basis::All);
    let got = counted_rows(&snapshot, &query, &[], ReadAs::Values)
        .expect("select")
        .collect()
        .expect("collect");
    for name in columns::SCORES {
        let scores: Vec<Option<f64>> = got.column(name).unwrap().f64().unwrap().iter().collect();
        assert_eq!(scores, vec![Some(12.5); 5], "{name}");
    }
}

#[test]
fn periods_in_time_order_are_runs_and_out_of_order_ones_are_refused() {
    use std::borrow::Cow;
    let month: Cow<[i32]> = Cow::Owned(vec![5, 5, 6, 6, 6, 9]);
    assert_eq!(
        super::runs(std::slice::from_ref(&month), 6),
        Some(vec![(0, 2), (2, 5), (5, 6)])
    );
    assert_eq!(super::runs(&[], 4), Some(vec![(0, 4)]));
    assert_eq!(super::runs(&[], 0), Some(vec![]));
    let back: Cow<[i32]> = Cow::Owned(vec![5, 6, 5]);
    assert_eq!(super::runs(&[back], 3), None);
    // Two columns: ordered as tuples.
    let year: Cow<[i32]> = Cow::Owned(vec![1, 1, 2, 2]);
    let quarter: Cow<[i32]> = Cow::Owned(vec![3, 4, 1, 1]);
    assert_eq!(
        super::runs(&[year.clone(), quarter], 4),
        Some(vec![(0, 1), (1, 2), (2, 4)])
    );
    let quarter: Cow<[i32]> = Cow::Owned(vec![3, 2, 1, 1]);
    assert_eq!(super::runs(&[year, quarter], 4), None);
}
