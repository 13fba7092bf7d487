//! Raking gives each row the same weight, to the bit, whatever order the rows come in.

use std::collections::BTreeMap;
use std::sync::Arc;

use polars::prelude::*;

use super::{Margins, weigh};
use crate::reports::disclosure::{DisclosurePolicy, PerturbationTable};
use crate::reports::model::{Basis, DroppedCategories, ReportQuery, SegmentFilter};
use crate::reports::pipeline::{ReadAs, WEIGHT, counted_rows};
use crate::reports::snapshot::{ResponseRow, Snapshot};

fn row(id: u128) -> ResponseRow {
    let pick = |values: &[&str], salt: u128| {
        let at = usize::try_from((id * 2_654_435_761 + salt) % 1_000).unwrap_or(0);
        values[at % values.len()].to_owned()
    };
    ResponseRow {
        id,
        firm: id,
        record_key: u8::try_from(id % 256).unwrap_or(0),
        survey_id: 1,
        version: 1,
        industry: pick(&["C", "F", "G", "J", "K", "M", "Q"], 7),
        size_band: pick(&["micro", "small", "medium", "large"], 13),
        country: "DE".to_owned(),
        region: None,
        submitted_at: 1_767_225_600_000_000 + i64::try_from(id).unwrap_or(0) * 1_000_000,
        tier_rank: u8::try_from(id % 4).unwrap_or(0) + 1,
        ready_to_customise: id.is_multiple_of(3),
        blockers: Vec::new(),
        scores: [50.0; 5],
    }
}

#[test]
fn raked_weights_do_not_depend_on_the_order_of_the_rows() {
    let mut snapshot = Snapshot::new();
    snapshot
        .append((1..=600).map(row).collect())
        .expect("append");
    let query = ReportQuery {
        survey_ids: vec![1],
        from: None,
        until: None,
        basis: Basis::Latest,
        by: Vec::new(),
        segments: SegmentFilter::default(),
        disclosure: DisclosurePolicy::new(Arc::new(PerturbationTable::unperturbed()), None),
        dropped_categories: DroppedCategories::Report,
    };
    let margin = |categories: &[(&str, f64)]| -> BTreeMap<String, f64> {
        categories
            .iter()
            .map(|(c, n)| ((*c).to_owned(), *n))
            .collect()
    };
    let margins: Margins = [
        (
            "size_band".to_owned(),
            margin(&[
                ("micro", 900.0),
                ("small", 70.0),
                ("medium", 25.0),
                ("large", 5.0),
            ]),
        ),
        (
            "industry".to_owned(),
            margin(&[
                ("C", 3.0),
                ("F", 1.0),
                ("G", 7.0),
                ("J", 2.0),
                ("K", 1.5),
                ("M", 4.0),
                ("Q", 2.5),
            ]),
        ),
    ]
    .into_iter()
    .collect();
    let rows = counted_rows(&snapshot, &query, &[], ReadAs::Values)
        .expect("rows")
        .collect()
        .expect("collect");
    let weights = |rows: DataFrame| -> Vec<u64> {
        let (weighted, _) = weigh(&snapshot, &query, rows, &[], &margins).expect("weigh");
        let weighted = weighted.collect().expect("weighted");
        let column = weighted.column(WEIGHT).expect("weights");
        column
            .f64()
            .expect("f64")
            .into_no_null_iter()
            .map(f64::to_bits)
            .collect()
    };
    let forward = weights(rows.clone());
    let mut backward = weights(rows.reverse());
    backward.reverse();
    assert_eq!(forward.len(), 600);
    assert_eq!(forward, backward);
    // Raking moved the weights away from one another: the check compares real weights.
    assert!(forward.iter().any(|w| *w != forward[0]));
}
