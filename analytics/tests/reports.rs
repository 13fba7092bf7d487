//! Reports checked against numbers worked out by hand, and against a plain-Rust reference
//! implementation on random data that shares no code with the Polars pipelines.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{GATES_BY_RANK, Random, instrument};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use readiness_analytics::reports::disclosure::{DisclosurePolicy, PerturbationTable};
use readiness_analytics::reports::*;

const DAY: i64 = 86_400_000_000;
/// 2026-10-01T00:00:00Z
const OCT_1: i64 = 1_790_812_800_000_000;

fn row(
    id: u128,
    firm: u128,
    industry: &str,
    size: &str,
    at: i64,
    rank: u8,
    blockers: &[&str],
) -> ResponseRow {
    ResponseRow {
        id,
        firm,
        record_key: record_key(firm),
        survey_id: 1,
        version: 1,
        industry: industry.into(),
        size_band: size.into(),
        country: "DE".into(),
        region: None,
        submitted_at: at,
        tier_rank: rank,
        ready_to_customise: rank >= 3,
        blockers: blockers.iter().map(|b| (*b).to_owned()).collect(),
        scores: [f64::from(rank) * 10.0, 50.0, 0.0, 100.0, f64::from(rank)],
    }
}

/// A firm's record key: fixed per firm, spread over 0–255 like a random draw.
fn record_key(firm: u128) -> u8 {
    let mut random = Random(u64::try_from(firm).unwrap() ^ 0x5eed);
    u8::try_from(random.next() % 256).unwrap()
}

/// The policy of exact counts: the unperturbed table and a threshold of `min_cell` firms.
fn exact(min_cell: u64) -> DisclosurePolicy {
    DisclosurePolicy::new(Arc::new(PerturbationTable::unperturbed()), Some(min_cell))
}

fn query(basis: Basis, by: &[SegmentField], min_cell: u64) -> ReportQuery {
    ReportQuery {
        survey_ids: vec![1],
        from: None,
        until: None,
        basis,
        by: by.to_vec(),
        segments: SegmentFilter::default(),
        disclosure: exact(min_cell),
        dropped_categories: DroppedCategories::Report,
    }
}

/// Nine firms: six in C/small, three in G/micro; firm 1 also answered earlier at the top tier.
fn fixture() -> Snapshot {
    let td = "vendor_rag.task_definition";
    let pa = "vendor_rag.prior_attempts";
    let is = "vendor_rag.inhouse_skill";
    let mut snapshot = Snapshot::new();
    snapshot
        .append(vec![
            row(1, 1, "C", "small", OCT_1 + 5 * DAY, 1, &[td, pa]),
            row(2, 2, "C", "small", OCT_1 + DAY, 1, &[td]),
            row(3, 3, "C", "small", OCT_1 + DAY, 2, &[]),
            row(4, 4, "C", "small", OCT_1 + 2 * DAY, 3, &[]),
            row(5, 5, "C", "small", OCT_1 + 3 * DAY, 3, &[]),
            row(6, 6, "C", "small", OCT_1 + 4 * DAY, 4, &[]),
            row(7, 7, "G", "micro", OCT_1 + 40 * DAY, 1, &[is]),
            row(8, 8, "G", "micro", OCT_1 + 41 * DAY, 2, &[]),
            row(9, 9, "G", "micro", OCT_1 + 42 * DAY, 2, &[]),
        ])
        .unwrap();
    // An earlier answer of firm 1, arriving later.
    snapshot
        .append(vec![row(10, 1, "C", "small", OCT_1 - 20 * DAY, 4, &[])])
        .unwrap();
    snapshot
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-12
}

#[test]
fn the_hand_built_fixture_gives_the_hand_computed_shares() {
    let report = readiness(
        &fixture(),
        &instrument(),
        &query(Basis::Latest, &[], 5),
        None,
    )
    .unwrap();
    let overall = report.overall;
    assert_eq!(overall.n, Some(9));
    assert!(!overall.suppressed);
    let tiers = overall.tiers.unwrap();
    let counts: Vec<u64> = tiers.iter().map(|t| t.estimate.count).collect();
    assert_eq!(counts, [3, 3, 2, 1]);
    let keys: Vec<&str> = tiers.iter().map(|t| t.key.as_str()).collect();
    assert_eq!(
        keys,
        ["vendor_prompting", "vendor_rag", "fine_tune", "own_model"]
    );
    assert!(close(tiers[0].estimate.share, 1.0 / 3.0));
    let ready = overall.ready_to_customise.unwrap();
    assert_eq!(ready.count, 3);
    assert!(close(ready.share, 1.0 / 3.0));
    // Wilson 3/9, worked out independently.
    assert!(close(ready.ci_low, 0.1205838183869109), "{}", ready.ci_low);
    assert!(
        close(ready.ci_high, 0.6457978644196036),
        "{}",
        ready.ci_high
    );
    let means = overall.dimension_means.unwrap();
    assert!(close(means.maturity, 190.0 / 9.0));
    assert!(close(means.clarity, 50.0));
    assert!(close(means.governance, 19.0 / 9.0));
}

#[test]
fn basis_all_counts_every_response() {
    let report = readiness(&fixture(), &instrument(), &query(Basis::All, &[], 5), None).unwrap();
    let overall = report.overall;
    assert_eq!(overall.n, Some(10));
    let ready = overall.ready_to_customise.unwrap();
    assert_eq!(ready.count, 4);
    assert!(close(ready.ci_low, 0.16818032970623614));
    assert!(close(ready.ci_high, 0.6873262302663417));
}

#[test]
fn the_window_bounds_submission_time() {
    let mut q = query(Basis::Latest, &[], 3);
    q.from = Some(OCT_1);
    q.until = Some(OCT_1 + 31 * DAY);
    let overall = readiness(&fixture(), &instrument(), &q, None)
        .unwrap()
        .overall;
    assert_eq!(overall.n, Some(6), "October: the six C/small firms");
    // Before October only firm 1's early answer is in the window, and it is then its latest.
    q.from = None;
    q.until = Some(OCT_1);
    let overall = readiness(&fixture(), &instrument(), &q, None)
        .unwrap()
        .overall;
    assert_eq!(overall.n, None);
    assert!(overall.suppressed);
}

#[test]
fn segments_are_sorted_and_small_ones_suppressed_with_a_partner() {
    let report = readiness(
        &fixture(),
        &instrument(),
        &query(Basis::Latest, &[SegmentField::Industry], 3),
        None,
    )
    .unwrap();
    let industries: Vec<Option<String>> = report
        .segments
        .iter()
        .map(|s| s.key.industry.clone())
        .collect();
    assert_eq!(industries, [Some("C".to_owned()), Some("G".to_owned())]);
    assert_eq!(report.segments[0].cell.n, Some(6));
    let c_ready = report.segments[0].cell.ready_to_customise.clone().unwrap();
    assert!(close(c_ready.ci_low, 0.18761630648265054));
    assert!(close(c_ready.ci_high, 0.8123836935173494));
    assert_eq!(report.segments[1].cell.n, Some(3));

    // With min_cell 5, G (3) is hidden and so is C, the only other segment.
    let report = readiness(
        &fixture(),
        &instrument(),
        &query(Basis::Latest, &[SegmentField::Industry], 5),
        None,
    )
    .unwrap();
    assert_eq!(report.overall.n, Some(9));
    assert!(
        report
            .segments
            .iter()
            .all(|s| s.cell.suppressed && s.cell.n.is_none() && s.cell.tiers.is_none())
    );
    let json = serde_json::to_value(&report.segments[0]).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"key": {"industry": "C"}, "n": null, "suppressed": true, "tiers": null, "ready_to_customise": null, "dimension_means": null})
    );
}

#[test]
fn trend_counts_each_firms_latest_answer_per_month() {
    let periods = trend(
        &fixture(),
        &instrument(),
        &query(Basis::Latest, &[], 1),
        Interval::Month,
        None,
    )
    .unwrap();
    let labels: Vec<&str> = periods.iter().map(|p| p.period.as_str()).collect();
    assert_eq!(labels, ["2026-09", "2026-10", "2026-11"]);
    let ns: Vec<Option<u64>> = periods.iter().map(|p| p.readiness.overall.n).collect();
    // September: firm 1's early answer; October: the six C/small firms; November: G/micro.
    assert_eq!(ns, [Some(1), Some(6), Some(3)]);
    let quarters = trend(
        &fixture(),
        &instrument(),
        &query(Basis::Latest, &[], 1),
        Interval::Quarter,
        None,
    )
    .unwrap();
    let labels: Vec<&str> = quarters.iter().map(|p| p.period.as_str()).collect();
    assert_eq!(labels, ["2026-Q3", "2026-Q4"]);
    assert_eq!(quarters[1].readiness.overall.n, Some(9));
}

#[test]
fn blockers_rank_the_gates_of_the_next_tier() {
    let tiers = blockers(
        &fixture(),
        &instrument(),
        &query(Basis::Latest, &[], 3),
        None,
    )
    .unwrap()
    .tiers;
    let names: Vec<&str> = tiers.iter().map(|t| t.tier.as_str()).collect();
    assert_eq!(names, ["vendor_rag", "fine_tune", "own_model"]);
    let rag = &tiers[0].overall;
    assert_eq!(rag.n, Some(3), "firms 1, 2 and 7 are at vendor_prompting");
    let gates = rag.gates.clone().unwrap();
    let order: Vec<(&str, u64)> = gates
        .iter()
        .map(|g| (g.gate.as_str(), g.estimate.count))
        .collect();
    assert_eq!(
        order,
        [
            ("vendor_rag.task_definition", 2),
            ("vendor_rag.inhouse_skill", 1),
            ("vendor_rag.prior_attempts", 1),
            ("vendor_rag.knowledge_organisation", 0)
        ]
    );
    assert!(close(gates[0].estimate.ci_low, 0.20765960080204765));
    assert!(close(gates[0].estimate.ci_high, 0.9385080552796037));
    assert!(!gates[0].reason.is_empty());
    // Three firms at vendor_rag (below fine_tune), one at fine_tune (below own_model): hidden.
    assert_eq!(tiers[1].overall.n, Some(3));
    assert!(tiers[2].overall.suppressed);
}

#[test]
fn one_margin_weights_are_exact() {
    // Latest: 6 small firms, 3 micro; population 50/50 → weights 0.75 (small), 1.5 (micro).
    let margins: Margins = BTreeMap::from([(
        "size_band".to_owned(),
        BTreeMap::from([("micro".to_owned(), 1000.0), ("small".to_owned(), 1000.0)]),
    )]);
    let report = readiness(
        &fixture(),
        &instrument(),
        &query(Basis::Latest, &[], 5),
        Some(&margins),
    )
    .unwrap();
    let weighted = report.overall.weighted.unwrap();
    // Σw = 9, Σw² = 6·0.5625 + 3·2.25 = 10.125 → n_eff = 8
    assert!(close(weighted.n_eff, 8.0), "{}", weighted.n_eff);
    // ready: firms 4, 5, 6 (small): 3·0.75 / 9 = 0.25
    assert!(close(weighted.ready_to_customise.share, 0.25));
    // vendor_prompting: firms 1, 2 (small) and 7 (micro): (1.5 + 1.5) / 9
    assert!(close(weighted.tiers[0].estimate.share, 3.0 / 9.0));
    let missing: Margins = BTreeMap::from([(
        "size_band".to_owned(),
        BTreeMap::from([("small".to_owned(), 1000.0)]),
    )]);
    let error = readiness(
        &fixture(),
        &instrument(),
        &query(Basis::Latest, &[], 5),
        Some(&missing),
    )
    .unwrap_err();
    assert!(error.to_string().contains("size_band `micro`"), "{error}");
}

#[test]
fn erased_firms_leave_the_snapshot() {
    let mut snapshot = fixture();
    assert_eq!(snapshot.remove_firms(&[1, 7]).unwrap(), 3);
    let report = readiness(&snapshot, &instrument(), &query(Basis::All, &[], 3), None).unwrap();
    assert_eq!(report.overall.n, Some(7));
}

// ---- random data against an independent reference implementation ----

fn random_rows(seed: u64, count: u128, firms: u64) -> Vec<ResponseRow> {
    let mut random = Random(seed);
    let industries = ["C", "F", "G", "J", "M"];
    let sizes = ["micro", "small", "medium"];
    (0..count)
        .map(|id| {
            let firm = u128::from(random.below(firms));
            let rank = u8::try_from(1 + random.below(4)).unwrap();
            let blockers: Vec<&str> = GATES_BY_RANK
                .get(usize::from(rank) - 1)
                .map(|gates| {
                    gates
                        .iter()
                        .copied()
                        .filter(|_| random.below(2) == 0)
                        .collect()
                })
                .unwrap_or_default();
            let mut r = row(
                id,
                firm,
                industries[usize::try_from(random.below(5)).unwrap()],
                sizes[usize::try_from(random.below(3)).unwrap()],
                OCT_1
                    + i64::try_from(random.below(90)).unwrap() * DAY
                    + i64::try_from(random.below(3)).unwrap(),
                rank,
                &blockers,
            );
            r.scores = [
                random.below(101) as f64,
                random.below(101) as f64,
                0.0,
                25.0,
                random.below(7) as f64,
            ];
            r
        })
        .collect()
}

/// Plain-Rust Wilson interval, written again on purpose.
fn reference_wilson(x: f64, n: f64) -> (f64, f64) {
    let z = 1.959963984540054_f64;
    let p = x / n;
    let a = 1.0 + z * z / n;
    let centre = (p + z * z / (2.0 * n)) / a;
    let spread = (z / a) * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt();
    ((centre - spread).max(0.0), (centre + spread).min(1.0))
}

/// The latest row of each firm: greatest submission time, then the later arrival.
fn reference_latest(rows: &[ResponseRow]) -> Vec<&ResponseRow> {
    let mut latest: HashMap<u128, &ResponseRow> = HashMap::new();
    for r in rows {
        let keep = latest
            .get(&r.firm)
            .is_none_or(|current| r.submitted_at >= current.submitted_at);
        if keep {
            latest.insert(r.firm, r);
        }
    }
    latest.into_values().collect()
}

#[test]
fn random_data_matches_the_reference_implementation() {
    for seed in 1..=5 {
        let rows = random_rows(seed, 3000, 700);
        let mut snapshot = Snapshot::new();
        // Arrive in three chunks, out of time order.
        for chunk in rows.chunks(1000) {
            snapshot.append(chunk.to_vec()).unwrap();
        }
        let q = query(
            Basis::Latest,
            &[SegmentField::Industry, SegmentField::SizeBand],
            5,
        );
        let report = readiness(&snapshot, &instrument(), &q, None).unwrap();

        let latest = reference_latest(&rows);
        assert_eq!(report.overall.n, Some(latest.len() as u64), "seed {seed}");
        let mut groups: BTreeMap<(String, String), Vec<&ResponseRow>> = BTreeMap::new();
        for r in &latest {
            groups
                .entry((r.industry.clone(), r.size_band.clone()))
                .or_default()
                .push(r);
        }
        assert_eq!(report.segments.len(), groups.len(), "seed {seed}");
        for (segment, ((industry, size), members)) in report.segments.iter().zip(&groups) {
            assert_eq!(segment.key.industry.as_deref(), Some(industry.as_str()));
            assert_eq!(segment.key.size_band.as_deref(), Some(size.as_str()));
            if segment.cell.suppressed {
                continue;
            }
            let n = members.len() as f64;
            assert_eq!(segment.cell.n, Some(members.len() as u64));
            for tier in segment.cell.tiers.as_ref().unwrap() {
                let count = members.iter().filter(|m| m.tier_rank == tier.rank).count() as f64;
                assert!(close(tier.estimate.share, count / n));
                let (low, high) = reference_wilson(count, n);
                assert!(close(tier.estimate.ci_low, low) && close(tier.estimate.ci_high, high));
            }
            let ready = members.iter().filter(|m| m.ready_to_customise).count() as f64;
            let estimate = segment.cell.ready_to_customise.as_ref().unwrap();
            assert!(close(estimate.share, ready / n));
            let mean = members.iter().map(|m| m.scores[0]).sum::<f64>() / n;
            assert!((segment.cell.dimension_means.as_ref().unwrap().maturity - mean).abs() < 1e-9);
        }

        // Blockers of fine_tune: firms at vendor_rag, share failing each gate.
        let tiers = blockers(
            &snapshot,
            &instrument(),
            &query(Basis::Latest, &[], 5),
            None,
        )
        .unwrap()
        .tiers;
        let at_rag: Vec<&&ResponseRow> = latest.iter().filter(|r| r.tier_rank == 2).collect();
        assert_eq!(tiers[1].overall.n, Some(at_rag.len() as u64));
        for gate in tiers[1].overall.gates.as_ref().unwrap() {
            let failing = at_rag
                .iter()
                .filter(|r| r.blockers.contains(&gate.gate))
                .count() as f64;
            assert!(
                close(gate.estimate.share, failing / at_rag.len() as f64),
                "{}",
                gate.gate
            );
        }
    }
}

/// Rows decoded into batches (blockers as stored JSON, strings borrowed, batches filled
/// independently with their own codes, overlapping ids, an erased firm) give the same
/// reports as the same rows appended whole.
#[test]
fn batches_decoded_from_storage_give_the_same_reports() {
    let rows = random_rows(7, 3000, 700);
    let mut whole = Snapshot::new();
    whole.append(rows.clone()).unwrap();
    whole.remove_firms(&[rows[0].firm]).unwrap();

    let mut batched = Snapshot::new();
    batched.remove_firms(&[rows[0].firm]).unwrap();
    // Three readers, the middle one re-reading 100 rows of the first.
    let ranges = [(0, 1000), (900, 2000), (2000, 3000)];
    let batches: Vec<RowBatch> = ranges
        .iter()
        .map(|&(from, to)| {
            let mut batch = RowBatch::with_capacity(to - from);
            for r in &rows[from..to] {
                let stored = serde_json::to_string(&r.blockers).unwrap();
                batch
                    .push(
                        RowRef {
                            id: r.id,
                            firm: r.firm,
                            record_key: r.record_key,
                            survey_id: r.survey_id,
                            version: r.version,
                            industry: &r.industry,
                            size_band: &r.size_band,
                            country: &r.country,
                            region: r.region.as_deref(),
                            submitted_at: r.submitted_at,
                            tier_rank: r.tier_rank,
                            ready_to_customise: r.ready_to_customise,
                            scores: r.scores,
                        },
                        Blockers::Json(&stored),
                    )
                    .unwrap();
            }
            batch
        })
        .collect();
    let mut added = 0;
    for batch in batches {
        added += batched.append_batch(batch).unwrap();
    }
    batched.settle().unwrap();
    let erased = rows.iter().filter(|r| r.firm == rows[0].firm).count();
    assert_eq!(added, 3000 - erased);
    assert_eq!(batched.len(), whole.len());

    let by = [SegmentField::Industry, SegmentField::SizeBand];
    for basis in [Basis::Latest, Basis::All] {
        let q = query(basis, &by, 5);
        assert_eq!(
            serde_json::to_value(readiness(&batched, &instrument(), &q, None).unwrap()).unwrap(),
            serde_json::to_value(readiness(&whole, &instrument(), &q, None).unwrap()).unwrap()
        );
        assert_eq!(
            serde_json::to_value(blockers(&batched, &instrument(), &q, None).unwrap()).unwrap(),
            serde_json::to_value(blockers(&whole, &instrument(), &q, None).unwrap()).unwrap()
        );
    }
    let bad = RowBatch::default().push(
        RowRef {
            id: 1,
            firm: 1,
            record_key: 1,
            survey_id: 1,
            version: 1,
            industry: "C",
            size_band: "small",
            country: "DE",
            region: None,
            submitted_at: OCT_1,
            tier_rank: 1,
            ready_to_customise: false,
            scores: [0.0; 5],
        },
        Blockers::Json("{not a list"),
    );
    assert!(bad.is_err());
}

/// No published number lets a reader recover a suppressed cell's n by subtraction: whenever
/// the total is published, either no segment or at least two are hidden.
#[test]
fn suppression_never_leaves_a_single_hidden_cell() {
    for seed in 1..=40 {
        let rows = random_rows(seed * 7919, 60 + u128::from(seed) * 3, 50);
        let mut snapshot = Snapshot::new();
        snapshot.append(rows).unwrap();
        for by in [
            vec![SegmentField::Industry],
            vec![SegmentField::SizeBand],
            vec![SegmentField::Industry, SegmentField::SizeBand],
        ] {
            let q = query(Basis::Latest, &by, 5);
            let report = readiness(&snapshot, &instrument(), &q, None).unwrap();
            check_cells(report.overall.n, report.segments.iter().map(|s| s.cell.n));
            for period in trend(&snapshot, &instrument(), &q, Interval::Month, None).unwrap() {
                let r = period.readiness;
                check_cells(r.overall.n, r.segments.iter().map(|s| s.cell.n));
            }
            for tier in blockers(&snapshot, &instrument(), &q, None).unwrap().tiers {
                check_cells(tier.overall.n, tier.segments.iter().map(|s| s.cell.n));
            }
        }
    }
}

fn check_cells(overall: Option<u64>, segments: impl Iterator<Item = Option<u64>>) {
    let segments: Vec<Option<u64>> = segments.collect();
    let hidden = segments.iter().filter(|n| n.is_none()).count();
    match overall {
        None => assert_eq!(hidden, segments.len(), "a hidden total hides every segment"),
        Some(total) => {
            assert_ne!(
                hidden, 1,
                "a single hidden segment = total − the others: {segments:?}"
            );
            let published: u64 = segments.iter().flatten().sum();
            assert!(published <= total);
            assert!(
                segments.iter().flatten().all(|n| *n >= 5),
                "published cells are not small"
            );
        }
    }
}
