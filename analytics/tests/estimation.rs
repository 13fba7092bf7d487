//! How weighted and clustered estimates are made, on hand-built samples with hand-computed
//! figures: each period raked on its own, dropped margin categories, zero populations,
//! raking that cannot converge, firms without a region, clustered intervals of basis `all`,
//! weighted means and the ranking of weighted blockers.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use common::instrument;
use readiness_analytics::reports::disclosure::{DisclosurePolicy, PerturbationTable};
use readiness_analytics::reports::*;

const DAY: i64 = 86_400_000_000;
/// 2026-10-01T00:00:00Z
const OCT_1: i64 = 1_790_812_800_000_000;
/// 2026-11-01T00:00:00Z
const NOV_1: i64 = OCT_1 + 31 * DAY;

struct Firm<'a> {
    id: u128,
    industry: &'a str,
    size: &'a str,
    region: Option<&'a str>,
}

fn firm<'a>(id: u128, industry: &'a str, size: &'a str) -> Firm<'a> {
    Firm {
        id,
        industry,
        size,
        region: None,
    }
}

fn response(id: u128, firm: &Firm, at: i64, rank: u8, blockers: &[&str]) -> ResponseRow {
    ResponseRow {
        id,
        firm: firm.id,
        record_key: u8::try_from(firm.id % 256).unwrap(),
        survey_id: 1,
        version: 1,
        industry: firm.industry.into(),
        size_band: firm.size.into(),
        country: "DE".into(),
        region: firm.region.map(str::to_owned),
        submitted_at: at,
        tier_rank: rank,
        ready_to_customise: rank >= 3,
        blockers: blockers.iter().map(|b| (*b).to_owned()).collect(),
        scores: [f64::from(rank) * 10.0, 50.0, 0.0, 100.0, 0.0],
    }
}

fn snapshot(rows: Vec<ResponseRow>) -> Snapshot {
    let mut snapshot = Snapshot::new();
    snapshot.append(rows).unwrap();
    snapshot
}

fn query(basis: Basis, from: Option<i64>, until: Option<i64>) -> ReportQuery {
    ReportQuery {
        survey_ids: vec![1],
        from,
        until,
        basis,
        by: Vec::new(),
        segments: SegmentFilter::default(),
        disclosure: DisclosurePolicy::new(Arc::new(PerturbationTable::unperturbed()), Some(1)),
        dropped_categories: DroppedCategories::Report,
    }
}

fn margins(pairs: &[(&str, &[(&str, f64)])]) -> Margins {
    pairs
        .iter()
        .map(|(d, m)| {
            (
                (*d).to_owned(),
                m.iter().map(|(c, v)| ((*c).to_owned(), *v)).collect(),
            )
        })
        .collect()
}

/// Wilson 1 of 3, worked out independently.
const LOW_1_OF_3: f64 = 0.06149194472039615;
const HIGH_1_OF_3: f64 = 0.7923403991979523;

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-12
}

/// October: micro firms 1–3 (tiers 1, 1, 3) in C, small firm 4 (tier 3) in G. November:
/// micro firm 5 (tier 3) in C, small firms 6–8 (tier 1) in G. Pooled, the sample is half
/// micro; each month on its own is not.
fn two_months() -> Snapshot {
    let f: Vec<Firm> = (1..=8)
        .map(|id| {
            if matches!(id, 1..=3 | 5) {
                firm(id, "C", "micro")
            } else {
                firm(id, "G", "small")
            }
        })
        .collect();
    snapshot(vec![
        response(1, &f[0], OCT_1 + DAY, 1, &[]),
        response(2, &f[1], OCT_1 + DAY, 1, &[]),
        response(3, &f[2], OCT_1 + DAY, 3, &[]),
        response(4, &f[3], OCT_1 + DAY, 3, &[]),
        response(5, &f[4], NOV_1 + DAY, 3, &[]),
        response(6, &f[5], NOV_1 + DAY, 1, &[]),
        response(7, &f[6], NOV_1 + DAY, 1, &[]),
        response(8, &f[7], NOV_1 + DAY, 1, &[]),
    ])
}

fn half_micro() -> Margins {
    margins(&[("size_band", &[("micro", 500.0), ("small", 500.0)])])
}

#[test]
fn each_trend_period_is_raked_on_its_own() {
    let snapshot = two_months();
    let periods = trend(
        &snapshot,
        &instrument(),
        &query(Basis::Latest, None, None),
        Interval::Month,
        Some(&half_micro()),
    )
    .unwrap();
    assert_eq!(periods.len(), 2);
    // October: 3 micro, 1 small, targets 2 and 2: weights 2/3 and 2.
    // ready: firm 3 (micro) and firm 4 (small): (2/3 + 2) / 4 = 2/3 (pooled raking gave 1/2).
    let october = periods[0].readiness.overall.weighted.clone().unwrap();
    assert_eq!(periods[0].period, "2026-10");
    assert!(close(october.ready_to_customise.share, 2.0 / 3.0));
    // Σw = 4, Σw² = 3 · 4/9 + 4 = 16/3: n_eff = 3.
    assert!(close(october.n_eff, 3.0), "{}", october.n_eff);
    // November: 1 micro (weight 2, ready), 3 small (2/3): ready 2 / 4.
    let november = periods[1].readiness.overall.weighted.clone().unwrap();
    assert!(close(november.ready_to_customise.share, 0.5));
    for period in &periods {
        let weighting = period.readiness.weighting.clone().unwrap();
        assert_eq!(
            weighting.iterations, 2,
            "one round fits, the second changes nothing"
        );
        assert_eq!(weighting.max_discrepancy, 0.0);
        assert_eq!(weighting.tolerance, 0.001);
        assert!(weighting.converged);
        assert!(weighting.dropped.is_empty());
    }
    // A period shows what the readiness report of its month shows.
    let october_alone = readiness(
        &snapshot,
        &instrument(),
        &query(Basis::Latest, Some(OCT_1), Some(NOV_1)),
        Some(&half_micro()),
    )
    .unwrap();
    assert_eq!(october_alone, periods[0].readiness);
}

#[test]
fn weighted_means_use_the_weights_and_the_unweighted_stay_beside() {
    let october = readiness(
        &two_months(),
        &instrument(),
        &query(Basis::Latest, Some(OCT_1), Some(NOV_1)),
        Some(&half_micro()),
    )
    .unwrap()
    .overall;
    // maturity = 10 × tier: micro 10, 10, 30 (weight 2/3 each), small 30 (weight 2).
    // unweighted 80 / 4 = 20; weighted (2/3 · 50 + 2 · 30) / 4 = 70/3.
    assert!(close(october.dimension_means.unwrap().maturity, 20.0));
    let weighted = october.weighted.unwrap().dimension_means;
    assert!(
        close(weighted.maturity, 70.0 / 3.0),
        "{}",
        weighted.maturity
    );
    assert!(close(weighted.clarity, 50.0));
}

#[test]
fn a_margin_category_without_firms_is_named_or_refused() {
    let snapshot = two_months();
    let with_medium = margins(&[(
        "size_band",
        &[("micro", 500.0), ("small", 300.0), ("medium", 200.0)],
    )]);
    let report = readiness(
        &snapshot,
        &instrument(),
        &query(Basis::Latest, None, None),
        Some(&with_medium),
    )
    .unwrap();
    let weighting = report.weighting.unwrap();
    assert_eq!(
        weighting.dropped,
        [DroppedCategory {
            dimension: "size_band".into(),
            category: "medium".into(),
            population_share: 0.2,
        }]
    );
    // The rest renormalised: micro 5/8, small 3/8 of 8 firms: weights 5/4 and 3/4.
    // ready: micro firms 3 and 5, small firm 4: (2 · 5/4 + 3/4) / 8 = 13/32.
    let ready = report.overall.weighted.unwrap().ready_to_customise.share;
    assert!(close(ready, 13.0 / 32.0), "{ready}");

    let mut refusing = query(Basis::Latest, None, None);
    refusing.dropped_categories = DroppedCategories::Refuse;
    let error = readiness(&snapshot, &instrument(), &refusing, Some(&with_medium)).unwrap_err();
    match error {
        ReportError::Dropped(dropped) => assert_eq!(dropped, weighting.dropped),
        other => panic!("{other}"),
    }
    // The trend refuses when any period dropped a category.
    let error = trend(
        &snapshot,
        &instrument(),
        &refusing,
        Interval::Month,
        Some(&with_medium),
    )
    .unwrap_err();
    assert!(matches!(error, ReportError::Dropped(_)), "{error}");
}

#[test]
fn a_zero_population_for_a_sampled_category_is_refused() {
    let error = readiness(
        &two_months(),
        &instrument(),
        &query(Basis::Latest, None, None),
        Some(&margins(&[(
            "size_band",
            &[("micro", 500.0), ("small", 0.0)],
        )])),
    )
    .unwrap_err();
    assert_eq!(
        error.to_string(),
        "the population margin for size_band gives `small` a count of 0, but the sample has \
         firms there, whose estimates would be fake zeros; store the margins without it"
    );
}

#[test]
fn margins_that_contradict_the_sample_are_flagged() {
    // Every micro firm is in C and every small one in G, so 90 % micro and 50 % C cannot both
    // hold: after 100 rounds size_band (raked last) is met and industry is off by 0.4.
    let infeasible = margins(&[
        ("industry", &[("C", 500.0), ("G", 500.0)]),
        ("size_band", &[("micro", 900.0), ("small", 100.0)]),
    ]);
    let report = readiness(
        &two_months(),
        &instrument(),
        &query(Basis::Latest, None, None),
        Some(&infeasible),
    )
    .unwrap();
    let weighting = report.weighting.unwrap();
    assert_eq!(weighting.iterations, 100);
    assert!(close(weighting.max_discrepancy, 0.4), "{weighting:?}");
    assert!(!weighting.converged);
    let blockers = blockers(
        &two_months(),
        &instrument(),
        &query(Basis::Latest, None, None),
        Some(&infeasible),
    )
    .unwrap();
    assert_eq!(blockers.weighting, Some(weighting));
}

#[test]
fn firms_without_a_region_are_the_region_not_stated() {
    let firms = [
        Firm {
            region: Some("DE-BY"),
            ..firm(1, "C", "micro")
        },
        Firm {
            region: Some("DE-BY"),
            ..firm(2, "C", "micro")
        },
        firm(3, "C", "micro"),
        firm(4, "C", "micro"),
    ];
    let snapshot = snapshot(
        firms
            .iter()
            .zip(1..)
            .map(|(f, id)| response(id, f, OCT_1, if id == 3 { 3 } else { 1 }, &[]))
            .collect(),
    );
    let by_region = margins(&[("region", &[("DE-BY", 300.0), ("not_stated", 100.0)])]);
    let report = readiness(
        &snapshot,
        &instrument(),
        &query(Basis::Latest, None, None),
        Some(&by_region),
    )
    .unwrap();
    // Targets 3 and 1 of 4: weights 1.5 (DE-BY) and 0.5 (none); ready: firm 3 (none).
    let ready = report.overall.weighted.unwrap().ready_to_customise.share;
    assert!(close(ready, 0.5 / 4.0), "{ready}");
    let error = readiness(
        &snapshot,
        &instrument(),
        &query(Basis::Latest, None, None),
        Some(&margins(&[("region", &[("DE-BY", 300.0)])])),
    )
    .unwrap_err();
    assert_eq!(
        error.to_string(),
        "the sample has firms that gave no region, which the population margins do not list; \
         add them to the region margin as `not_stated`"
    );
}

/// Firm A answered three times at fine_tune, firm B three times at vendor_prompting, firm C
/// once at each.
fn clustered() -> Snapshot {
    let (a, b, c) = (
        firm(1, "C", "micro"),
        firm(2, "C", "micro"),
        firm(3, "C", "micro"),
    );
    snapshot(vec![
        response(1, &a, OCT_1, 3, &[]),
        response(2, &a, OCT_1 + DAY, 3, &[]),
        response(3, &a, OCT_1 + 2 * DAY, 3, &[]),
        response(4, &b, OCT_1, 1, &[]),
        response(5, &b, OCT_1 + DAY, 1, &[]),
        response(6, &b, OCT_1 + 2 * DAY, 1, &[]),
        response(7, &c, OCT_1, 3, &[]),
        response(8, &c, OCT_1 + DAY, 1, &[]),
    ])
}

#[test]
fn basis_all_intervals_account_for_firm_clustering() {
    let report = readiness(
        &clustered(),
        &instrument(),
        &query(Basis::All, None, None),
        None,
    )
    .unwrap();
    // ready: p = 4/8; per firm y − p·m: 3 − 1.5, 0 − 1.5, 1 − 1 → Σ² = 4.5;
    // V = 3/2 · 4.5 / 64 = 0.10546875 against 0.25 / 8 = 0.03125 independent: deff 3.375,
    // n_eff = 8 / 3.375; Wilson(0.5 · n_eff, n_eff) worked out independently.
    let ready = report.overall.ready_to_customise.unwrap();
    assert_eq!((ready.count, ready.share), (4, 0.5));
    assert!(close(ready.ci_low, 0.10680467754290135), "{}", ready.ci_low);
    assert!(
        close(ready.ci_high, 0.8931953224570987),
        "{}",
        ready.ci_high
    );
    // vendor_prompting is the mirror image: the same interval.
    let prompting = &report.overall.tiers.unwrap()[0].estimate;
    assert!(close(prompting.ci_low, 0.10680467754290135));
    // With basis latest each firm counts once, by its latest answer: A ready, B and C not;
    // Wilson on n as before.
    let latest = readiness(
        &clustered(),
        &instrument(),
        &query(Basis::Latest, None, None),
        None,
    )
    .unwrap();
    let ready = latest.overall.ready_to_customise.unwrap();
    assert_eq!(ready.count, 1);
    assert!(close(ready.ci_low, LOW_1_OF_3), "{}", ready.ci_low);
    assert!(close(ready.ci_high, HIGH_1_OF_3), "{}", ready.ci_high);
}

#[test]
fn weighted_blockers_equal_but_for_rounding_rank_by_gate_id() {
    // Micro firms 1–3 fail task_definition, small firm 4 fails knowledge_organisation; all at
    // vendor_prompting. Half micro: weights 2/3 and 2, so both gates hold weight 2 of 4.
    let (micro, small) = ("micro", "small");
    let firms = [
        firm(1, "C", micro),
        firm(2, "C", micro),
        firm(3, "C", micro),
        firm(4, "G", small),
    ];
    let td = "vendor_rag.task_definition";
    let ko = "vendor_rag.knowledge_organisation";
    let snapshot = snapshot(
        firms
            .iter()
            .zip(1..)
            .map(|(f, id)| {
                let failed = if id == 4 { ko } else { td };
                response(id, f, OCT_1, 1, &[failed])
            })
            .collect(),
    );
    let report = blockers(
        &snapshot,
        &instrument(),
        &query(Basis::Latest, None, None),
        Some(&half_micro()),
    )
    .unwrap();
    let rag = &report.tiers[0].overall;
    let unweighted: Vec<&str> = rag
        .gates
        .as_ref()
        .unwrap()
        .iter()
        .map(|g| g.gate.as_str())
        .collect();
    assert_eq!(&unweighted[..2], [td, ko], "3 of 4 before 1 of 4");
    let weighted = &rag.weighted.as_ref().unwrap().gates;
    let order: Vec<&str> = weighted.iter().map(|g| g.gate.as_str()).collect();
    assert_eq!(
        order,
        [
            ko,
            td,
            "vendor_rag.inhouse_skill",
            "vendor_rag.prior_attempts"
        ]
    );
    assert!((weighted[0].estimate.share - 0.5).abs() < 1e-12);
    assert!((weighted[1].estimate.share - 0.5).abs() < 1e-12);
    assert_eq!(RANK_PRECISION, 1e-9);
}
