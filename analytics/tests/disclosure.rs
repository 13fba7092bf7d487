//! Disclosure control of the reports: published figures against a re-computation from the
//! microdata that uses only `perturb` and `cell_key`, one number per cell across reports, and
//! measured protection against differencing counts and means.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{GATES_BY_RANK, Random, instrument};
use std::collections::BTreeMap;
use std::sync::Arc;

use readiness_analytics::reports::disclosure::{
    DisclosurePolicy, PerturbationTable, cell_key, perturb,
};
use readiness_analytics::reports::*;

const DAY: i64 = 86_400_000_000;
/// 2026-10-01T00:00:00Z
const OCT_1: i64 = 1_790_812_800_000_000;

fn table(name: &str) -> Arc<PerturbationTable> {
    Arc::new(PerturbationTable::shipped(name).unwrap())
}

fn query(basis: Basis, by: &[SegmentField], disclosure: DisclosurePolicy) -> ReportQuery {
    ReportQuery {
        survey_ids: vec![1],
        from: None,
        until: None,
        basis,
        by: by.to_vec(),
        segments: SegmentFilter::default(),
        disclosure,
        dropped_categories: DroppedCategories::Report,
    }
}

/// One response of `firm` at `at`, with random tier, blockers and scores.
fn response(random: &mut Random, id: u128, firm: u128, key: u8, at: i64) -> ResponseRow {
    let rank = u8::try_from(1 + random.below(4)).unwrap();
    let blockers = GATES_BY_RANK
        .get(usize::from(rank) - 1)
        .map(|gates| {
            gates
                .iter()
                .filter(|_| random.below(2) == 0)
                .map(|g| (*g).to_owned())
                .collect()
        })
        .unwrap_or_default();
    ResponseRow {
        id,
        firm,
        record_key: key,
        survey_id: 1,
        version: 1,
        industry: random.pick(&["C", "F", "G", "J"]).to_owned(),
        size_band: random.pick(&["micro", "small", "medium"]).to_owned(),
        country: "DE".into(),
        region: None,
        submitted_at: at,
        tier_rank: rank,
        ready_to_customise: rank >= 3,
        blockers,
        scores: std::array::from_fn(|_| random.below(101) as f64),
    }
}

/// `responses` responses of `firms` firms over October and November, in time order.
fn random_rows(seed: u64, responses: u128, firms: u64) -> Vec<ResponseRow> {
    let mut random = Random(seed);
    let keys: Vec<u8> = (0..firms)
        .map(|_| u8::try_from(random.below(256)).unwrap())
        .collect();
    let mut rows: Vec<ResponseRow> = (0..responses)
        .map(|id| {
            let firm = random.below(firms);
            let at = OCT_1 + i64::try_from(random.below(61 * 24)).unwrap() * DAY / 24;
            response(&mut random, id, u128::from(firm), keys[firm as usize], at)
        })
        .collect();
    rows.sort_by_key(|r| r.submitted_at);
    rows
}

/// The rows a report counts, computed again: every row, or each firm's last one.
fn counted_rows(rows: &[ResponseRow], basis: Basis) -> Vec<&ResponseRow> {
    if basis == Basis::All {
        return rows.iter().collect();
    }
    let mut latest: BTreeMap<u128, &ResponseRow> = BTreeMap::new();
    for r in rows {
        latest.insert(r.firm, r);
    }
    latest.into_values().collect()
}

/// A cell's true figures, computed directly: a count and the cell key of what it counts.
struct Truth {
    n: (u64, u8),
    firms: (u64, u8),
    sums: [f64; 5],
}

fn tally<'a>(rows: impl Iterator<Item = &'a &'a ResponseRow>) -> (u64, u8) {
    let keys: Vec<u8> = rows.map(|r| r.record_key).collect();
    (keys.len() as u64, cell_key(keys.into_iter()))
}

fn truth(rows: &[&ResponseRow]) -> Truth {
    let mut firms: BTreeMap<u128, u8> = BTreeMap::new();
    for r in rows {
        firms.insert(r.firm, r.record_key);
    }
    Truth {
        n: tally(rows.iter()),
        firms: (firms.len() as u64, cell_key(firms.into_values())),
        sums: std::array::from_fn(|d| rows.iter().map(|r| r.scores[d]).sum()),
    }
}

fn reference_wilson(x: f64, n: f64) -> (f64, f64) {
    let z = 1.959963984540054_f64;
    let p = x / n;
    let a = 1.0 + z * z / n;
    let centre = (p + z * z / (2.0 * n)) / a;
    let spread = (z / a) * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt();
    ((centre - spread).max(0.0), (centre + spread).min(1.0))
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-12
}

/// A published estimate is the perturbed count of `part` capped at `n`, with its share and
/// Wilson interval out of `n / deff`.
fn check_estimate(t: &PerturbationTable, estimate: &Estimate, part: (u64, u8), n: u64, deff: f64) {
    let count = perturb(t, part.0, part.1).min(n);
    assert_eq!(estimate.count, count, "{part:?} of {n}");
    let share = count as f64 / n as f64;
    assert!(close(estimate.share, share));
    let n_eff = n as f64 / deff;
    let (low, high) = reference_wilson(share * n_eff, n_eff);
    assert!(close(estimate.ci_low, low) && close(estimate.ci_high, high));
}

/// The design effect of firm clustering on the share of `rows` for which `has` holds, worked
/// out again: the cluster-robust variance G/(G−1) Σ_g (y_g − p m_g)² / N² over p (1 − p) / N,
/// at least 1 (1 when there is no variance to compare or fewer than two firms).
fn reference_deff(rows: &[&ResponseRow], has: impl Fn(&ResponseRow) -> bool) -> f64 {
    let mut firms: BTreeMap<u128, (f64, f64)> = BTreeMap::new();
    for r in rows {
        let entry = firms.entry(r.firm).or_default();
        entry.0 += 1.0;
        entry.1 += f64::from(u8::from(has(r)));
    }
    let n = rows.len() as f64;
    let p = firms.values().map(|f| f.1).sum::<f64>() / n;
    let g = firms.len() as f64;
    if g < 2.0 || p <= 0.0 || p >= 1.0 {
        return 1.0;
    }
    let residuals: f64 = firms.values().map(|(m, y)| (y - p * m).powi(2)).sum();
    let clustered = g / (g - 1.0) * residuals / (n * n);
    (clustered / (p * (1.0 - p) / n)).max(1.0)
}

/// Which cells are hidden, worked out again from the perturbed numbers of firms.
fn hidden(t: &PerturbationTable, min: u64, overall: &Truth, cells: &[Truth]) -> Vec<bool> {
    let firms = |c: &Truth| perturb(t, c.firms.0, c.firms.1);
    if firms(overall) < min {
        return vec![true; cells.len()];
    }
    let mut hidden: Vec<bool> = cells.iter().map(|c| firms(c) < min).collect();
    if hidden.iter().filter(|h| **h).count() == 1 {
        let partner = (0..cells.len())
            .filter(|i| !hidden[*i])
            .min_by_key(|i| (firms(&cells[*i]), *i));
        if let Some(partner) = partner {
            hidden[partner] = true;
        }
    }
    hidden
}

/// A shown readiness cell is what the perturbation table makes of the true figures; returns
/// whether its size was moved.
fn check_cell(t: &PerturbationTable, cell: &Cell, rows: &[&ResponseRow], basis: Basis) -> bool {
    let truth = truth(rows);
    let deff = |has: &dyn Fn(&ResponseRow) -> bool| match basis {
        Basis::Latest => 1.0,
        Basis::All => reference_deff(rows, has),
    };
    let n = perturb(t, truth.n.0, truth.n.1);
    assert_eq!(cell.n, Some(n));
    for tier in cell.tiers.as_ref().unwrap() {
        let at_tier: Vec<&ResponseRow> = rows
            .iter()
            .copied()
            .filter(|r| r.tier_rank == tier.rank)
            .collect();
        let rank = tier.rank;
        let deff = deff(&|r| r.tier_rank == rank);
        check_estimate(t, &tier.estimate, tally(at_tier.iter()), n, deff);
    }
    let ready: Vec<&ResponseRow> = rows
        .iter()
        .copied()
        .filter(|r| r.ready_to_customise)
        .collect();
    check_estimate(
        t,
        cell.ready_to_customise.as_ref().unwrap(),
        tally(ready.iter()),
        n,
        deff(&|r| r.ready_to_customise),
    );
    // Means: the true sum plus at most 86.61 (100 × the noise's half-width), over n, rounded.
    let means = cell.dimension_means.as_ref().unwrap();
    let published = [
        means.maturity,
        means.clarity,
        means.vendor_gap,
        means.capability,
        means.governance,
    ];
    for (mean, sum) in published.iter().zip(truth.sums) {
        let (low, high) = ((sum - 86.61) / n as f64, (sum + 86.61) / n as f64);
        assert!(
            *mean >= low.clamp(0.0, 100.0) - 0.05 && *mean <= high.clamp(0.0, 100.0) + 0.05,
            "{mean} outside [{low}, {high}]"
        );
        assert!(close(mean * 10.0, (mean * 10.0).round()));
    }
    n != truth.n.0
}

#[test]
fn perturbed_reports_equal_a_recomputation_from_the_microdata() {
    let by = [SegmentField::Industry, SegmentField::SizeBand];
    for (seed, name) in [(1, "ptable_3_2_unbiased"), (2, "ptable_10_5_rule")] {
        let t = table(name);
        let rows = random_rows(seed, 1500, 500);
        let mut snapshot = Snapshot::new();
        snapshot.append(rows.clone()).unwrap();
        for basis in [Basis::Latest, Basis::All] {
            let policy = DisclosurePolicy::new(Arc::clone(&t), Some(4));
            let q = query(basis, &by, policy.clone());
            let report = readiness(&snapshot, &instrument(), &q, None).unwrap();
            let counted = counted_rows(&rows, basis);
            let mut groups: BTreeMap<(String, String), Vec<&ResponseRow>> = BTreeMap::new();
            for r in &counted {
                let key = (r.industry.clone(), r.size_band.clone());
                groups.entry(key).or_default().push(r);
            }
            let _ = check_cell(&t, &report.overall, &counted, basis);
            let truths: Vec<Truth> = groups.values().map(|g| truth(g)).collect();
            let expected_hidden = hidden(&t, 4, &truth(&counted), &truths);
            assert_eq!(report.segments.len(), groups.len());
            let (mut shown, mut moved) = (0, 0);
            for ((segment, members), hidden) in report
                .segments
                .iter()
                .zip(groups.values())
                .zip(expected_hidden)
            {
                assert_eq!(segment.cell.suppressed, hidden, "{name} {basis:?}");
                if !hidden {
                    shown += 1;
                    moved += usize::from(check_cell(&t, &segment.cell, members, basis));
                }
            }
            assert!(shown >= groups.len() / 2, "{name} {basis:?}: {shown} shown");
            assert!(moved > 0, "{name} {basis:?}: no size was perturbed");

            // Trend: each month's cell, from the month's rows (with basis `latest`, each
            // firm's last answer in the month).
            let periods = trend(&snapshot, &instrument(), &q, Interval::Month, None).unwrap();
            let labels: Vec<&str> = periods.iter().map(|p| p.period.as_str()).collect();
            assert_eq!(labels, ["2026-10", "2026-11"]);
            for (period, month) in periods.iter().zip([OCT_1, OCT_1 + 31 * DAY]) {
                let in_month: Vec<ResponseRow> = rows
                    .iter()
                    .filter(|r| (month..month + 31 * DAY).contains(&r.submitted_at))
                    .cloned()
                    .collect();
                let overall = &period.readiness.overall;
                let _ = check_cell(&t, overall, &counted_rows(&in_month, basis), basis);
            }

            // Blockers of fine_tune: the firms at vendor_rag and each gate they fail.
            let tiers = blockers(&snapshot, &instrument(), &q, None).unwrap().tiers;
            let at_rag: Vec<&ResponseRow> = counted
                .iter()
                .copied()
                .filter(|r| r.tier_rank == 2)
                .collect();
            let n = perturb(&t, tally(at_rag.iter()).0, tally(at_rag.iter()).1);
            let cell = &tiers[1].overall;
            assert_eq!(cell.n, Some(n));
            for gate in cell.gates.as_ref().unwrap() {
                let failing: Vec<&ResponseRow> = at_rag
                    .iter()
                    .copied()
                    .filter(|r| r.blockers.contains(&gate.gate))
                    .collect();
                let deff = match basis {
                    Basis::Latest => 1.0,
                    Basis::All => reference_deff(&at_rag, |r| r.blockers.contains(&gate.gate)),
                };
                check_estimate(&t, &gate.estimate, tally(failing.iter()), n, deff);
            }
        }
    }
}

#[test]
fn thresholds_count_firms_under_every_basis() {
    // Two firms with five responses each: ten responses, two firms.
    let mut random = Random(3);
    let rows: Vec<ResponseRow> = (0..10)
        .map(|id| {
            response(
                &mut random,
                id,
                id % 2,
                7,
                OCT_1 + i64::try_from(id).unwrap(),
            )
        })
        .collect();
    let mut snapshot = Snapshot::new();
    snapshot.append(rows).unwrap();
    let exact = DisclosurePolicy::new(Arc::new(PerturbationTable::unperturbed()), Some(3));
    for basis in [Basis::Latest, Basis::All] {
        let q = query(basis, &[], exact.clone());
        let report = readiness(&snapshot, &instrument(), &q, None).unwrap();
        assert!(report.overall.suppressed, "{basis:?}");
    }
    let q = query(Basis::All, &[], exact.for_request(Some(2)));
    let overall = readiness(&snapshot, &instrument(), &q, None)
        .unwrap()
        .overall;
    assert!(overall.suppressed, "a request cannot lower the threshold");
    let lower = DisclosurePolicy::new(Arc::new(PerturbationTable::unperturbed()), Some(2));
    let q = query(Basis::All, &[], lower);
    let overall = readiness(&snapshot, &instrument(), &q, None)
        .unwrap()
        .overall;
    assert_eq!(
        overall.n,
        Some(10),
        "responses are counted, firms are thresholded"
    );
}

#[test]
fn the_same_cell_shows_the_same_number_in_every_report() {
    let t = table("ptable_3_2_unbiased");
    let rows = random_rows(4, 1200, 400);
    let mut snapshot = Snapshot::new();
    snapshot.append(rows.clone()).unwrap();
    let policy = DisclosurePolicy::new(t, None);
    let by_industry = query(Basis::Latest, &[SegmentField::Industry], policy.clone());

    // October as a readiness window and as a month of the trend: the same firms, the same
    // latest answers, the same figures throughout.
    let mut october = by_industry.clone();
    (october.from, october.until) = (Some(OCT_1), Some(OCT_1 + 31 * DAY));
    let window = readiness(&snapshot, &instrument(), &october, None).unwrap();
    let months = trend(
        &snapshot,
        &instrument(),
        &by_industry,
        Interval::Month,
        None,
    )
    .unwrap();
    let month = months.iter().find(|p| p.period == "2026-10").unwrap();
    assert_eq!(month.readiness, window);
    assert!(window.segments.iter().any(|s| !s.cell.suppressed));

    // The whole population under any breakdown.
    let overall = readiness(&snapshot, &instrument(), &by_industry, None)
        .unwrap()
        .overall;
    for by in [vec![], vec![SegmentField::SizeBand]] {
        let q = query(Basis::Latest, &by, policy.clone());
        let other = readiness(&snapshot, &instrument(), &q, None).unwrap();
        assert_eq!(other.overall, overall);
    }

    // The firms at the lowest tier: a tier count in readiness, the cell of the blockers of
    // the next tier. Readiness caps a tier count at its cell's size, so they agree wherever
    // the cap does not bite.
    let report = readiness(&snapshot, &instrument(), &by_industry, None).unwrap();
    let blocked = blockers(&snapshot, &instrument(), &by_industry, None)
        .unwrap()
        .tiers;
    let lowest = |cell: &Cell| cell.tiers.as_ref().map(|t| t[0].estimate.count);
    assert_eq!(blocked[0].overall.n, lowest(&report.overall));
    let mut compared = 0;
    for (segment, blocked) in report.segments.iter().zip(&blocked[0].segments) {
        assert_eq!(segment.key, blocked.key);
        if let (Some(count), Some(n)) = (lowest(&segment.cell), blocked.cell.n)
            && Some(count) < segment.cell.n
        {
            assert_eq!(n, count, "{:?}", segment.key);
            compared += 1;
        }
    }
    assert!(compared >= 3, "{compared}");
}

#[test]
fn erasing_a_firm_changes_only_the_cells_it_was_in() {
    let rows = random_rows(5, 900, 300);
    let mut snapshot = Snapshot::new();
    snapshot.append(rows.clone()).unwrap();
    let policy = DisclosurePolicy::new(table("ptable_3_2_unbiased"), None);
    let by = [SegmentField::Industry, SegmentField::SizeBand];
    let q = query(Basis::All, &by, policy);
    let before = readiness(&snapshot, &instrument(), &q, None).unwrap();
    let erased = rows[0].firm;
    snapshot.remove_firms(&[erased]).unwrap();
    let after = readiness(&snapshot, &instrument(), &q, None).unwrap();
    let cells_of_erased: Vec<(String, String)> = rows
        .iter()
        .filter(|r| r.firm == erased)
        .map(|r| (r.industry.clone(), r.size_band.clone()))
        .collect();
    let mut unchanged = 0;
    for (old, new) in before.segments.iter().zip(&after.segments) {
        assert_eq!(old.key, new.key);
        let key = (
            old.key.industry.clone().unwrap(),
            old.key.size_band.clone().unwrap(),
        );
        if !cells_of_erased.contains(&key) && !old.cell.suppressed && !new.cell.suppressed {
            assert_eq!(old.cell, new.cell, "{key:?}");
            unchanged += 1;
        }
    }
    assert!(unchanged >= 4, "{unchanged}");
}

/// Published counts of the overall cell and of the new firm's segment, before and after one
/// more firm answers: how often the difference is exactly the one firm.
fn exact_one_differences(policy: &DisclosurePolicy, trials: u64) -> f64 {
    let (mut exact, mut pairs) = (0u32, 0u32);
    for trial in 0..trials {
        let mut random = Random(1000 + trial);
        let firms = 20 + random.below(60);
        let mut rows: Vec<ResponseRow> = (0..firms)
            .map(|f| {
                let key = u8::try_from(random.below(256)).unwrap();
                response(&mut random, u128::from(f), u128::from(f), key, OCT_1)
            })
            .collect();
        let by = [SegmentField::Industry];
        let q = query(Basis::Latest, &by, policy.clone());
        let mut snapshot = Snapshot::new();
        snapshot.append(rows.clone()).unwrap();
        let before = readiness(&snapshot, &instrument(), &q, None).unwrap();
        let key = u8::try_from(random.below(256)).unwrap();
        let newcomer = response(&mut random, 10_000, 10_000, key, OCT_1 + DAY);
        rows.push(newcomer.clone());
        let mut snapshot = Snapshot::new();
        snapshot.append(rows).unwrap();
        let after = readiness(&snapshot, &instrument(), &q, None).unwrap();

        let segment = |r: &Readiness| {
            r.segments
                .iter()
                .find(|s| s.key.industry.as_deref() == Some(newcomer.industry.as_str()))
                .and_then(|s| s.cell.n)
        };
        for (old, new) in [
            (before.overall.n, after.overall.n),
            (segment(&before), segment(&after)),
        ] {
            if let (Some(old), Some(new)) = (old, new) {
                pairs += 1;
                exact += u32::from(new == old + 1);
            }
        }
    }
    assert!(pairs as u64 >= trials, "{pairs} pairs shown");
    f64::from(exact) / f64::from(pairs)
}

#[test]
fn differencing_two_tables_does_not_single_out_a_firm() {
    let exact = DisclosurePolicy::new(Arc::new(PerturbationTable::unperturbed()), Some(3));
    assert_eq!(exact_one_differences(&exact, 50), 1.0, "the attack works");
    for name in PerturbationTable::shipped_names() {
        let share = exact_one_differences(&DisclosurePolicy::new(table(name), Some(3)), 400);
        eprintln!(
            "{name}: a difference of exactly 1 in {:.1} % of pairs",
            100.0 * share
        );
        assert!(share < 0.4, "{name}: {share}");
    }
}

/// One firm answers a day after `firms` others, all in one cell: the means of the window
/// before and after it, multiplied by their published sizes and subtracted, estimate its
/// five scores. Returns how often one score is recovered within a point, and how often all
/// five are.
fn recovered_scores(policy: &DisclosurePolicy, trials: u64) -> (f64, f64) {
    let (mut one, mut all) = (0u32, 0u32);
    for trial in 0..trials {
        let mut random = Random(50_000 + trial);
        let firms = 10 + random.below(31);
        let mut rows: Vec<ResponseRow> = (0..=firms)
            .map(|f| {
                let key = u8::try_from(random.below(256)).unwrap();
                let at = OCT_1 + if f == firms { DAY } else { 0 };
                let mut row = response(&mut random, u128::from(f), u128::from(f), key, at);
                row.industry = "C".into();
                row
            })
            .collect();
        rows.sort_by_key(|r| r.submitted_at);
        let target = rows[rows.len() - 1].scores;
        let mut snapshot = Snapshot::new();
        snapshot.append(rows).unwrap();
        let mut q = query(Basis::Latest, &[], policy.clone());
        let mut sums = Vec::new();
        for until in [OCT_1 + DAY, OCT_1 + 2 * DAY] {
            q.until = Some(until);
            let cell = readiness(&snapshot, &instrument(), &q, None)
                .unwrap()
                .overall;
            let n = cell.n.unwrap() as f64;
            let m = cell.dimension_means.unwrap();
            sums.push(
                [
                    m.maturity,
                    m.clarity,
                    m.vendor_gap,
                    m.capability,
                    m.governance,
                ]
                .map(|mean| mean * n),
            );
        }
        let hits: Vec<bool> = (0..5)
            .map(|d| (sums[1][d] - sums[0][d] - target[d]).abs() <= 1.0)
            .collect();
        one += hits.iter().map(|h| u32::from(*h)).sum::<u32>();
        all += u32::from(hits.iter().all(|h| *h));
    }
    let trials = trials as f64;
    (f64::from(one) / (5.0 * trials), f64::from(all) / trials)
}

#[test]
fn differencing_means_does_not_recover_a_firms_scores() {
    let exact = DisclosurePolicy::new(Arc::new(PerturbationTable::unperturbed()), Some(3));
    assert_eq!(recovered_scores(&exact, 50), (1.0, 1.0), "the attack works");
    for name in PerturbationTable::shipped_names() {
        let (one, all) = recovered_scores(&DisclosurePolicy::new(table(name), Some(3)), 500);
        eprintln!(
            "{name}: a score within a point in {:.2} % of tries, all five in {:.2} %",
            100.0 * one,
            100.0 * all
        );
        assert!(one < 0.05, "{name}: {one}");
        assert!(all < 0.001, "{name}: {all}");
    }
}

#[test]
fn weighted_figures_follow_the_published_counts() {
    let rows = random_rows(6, 1200, 400);
    let mut snapshot = Snapshot::new();
    snapshot.append(rows.clone()).unwrap();
    // Margins in the sample's own proportions: every weight is 1.
    let mut sizes: BTreeMap<String, f64> = BTreeMap::new();
    for r in counted_rows(&rows, Basis::Latest) {
        *sizes.entry(r.size_band.clone()).or_default() += 10.0;
    }
    let margins: Margins = BTreeMap::from([("size_band".to_owned(), sizes)]);
    let policy = DisclosurePolicy::new(table("ptable_3_2_unbiased"), Some(30));
    let by = [SegmentField::Industry, SegmentField::SizeBand];
    let q = query(Basis::Latest, &by, policy);
    let report = readiness(&snapshot, &instrument(), &q, Some(&margins)).unwrap();
    let near = |a: f64, b: f64| (a - b).abs() < 1e-9;
    let mut shown = 0;
    for cell in std::iter::once(&report.overall).chain(report.segments.iter().map(|s| &s.cell)) {
        let Some(weighted) = &cell.weighted else {
            assert!(cell.suppressed);
            continue;
        };
        shown += 1;
        assert!(near(weighted.n_eff, cell.n.unwrap() as f64), "{weighted:?}");
        for (w, tier) in weighted.tiers.iter().zip(cell.tiers.as_ref().unwrap()) {
            assert!(near(w.estimate.share, tier.estimate.share));
            assert!(near(w.estimate.ci_low, tier.estimate.ci_low));
        }
        let ready = cell.ready_to_customise.as_ref().unwrap();
        assert!(near(weighted.ready_to_customise.share, ready.share));
    }
    assert!(shown >= 3, "{shown}");
    assert!(
        report
            .segments
            .iter()
            .any(|s| s.cell.suppressed && s.cell.weighted.is_none())
    );
}

/// With noise as without, no table leaves one hidden segment beside a shown total, and with
/// basis `latest` (where a cell's size counts its firms) no shown size is under the threshold.
#[test]
fn perturbed_tables_never_leave_a_single_hidden_cell() {
    for seed in 1..=30 {
        let rows = random_rows(seed * 7919, 80 + u128::from(seed) * 4, 60);
        let mut snapshot = Snapshot::new();
        snapshot.append(rows).unwrap();
        let policy = DisclosurePolicy::new(table("ptable_3_2_unbiased"), Some(5));
        for basis in [Basis::Latest, Basis::All] {
            for by in [
                vec![SegmentField::Industry],
                vec![SegmentField::Industry, SegmentField::SizeBand],
            ] {
                let q = query(basis, &by, policy.clone());
                let check = |overall: Option<u64>, segments: Vec<Option<u64>>| {
                    let hidden = segments.iter().filter(|n| n.is_none()).count();
                    match overall {
                        None => assert_eq!(hidden, segments.len()),
                        Some(_) => assert_ne!(hidden, 1, "{segments:?}"),
                    }
                    if basis == Basis::Latest {
                        assert!(segments.iter().flatten().all(|n| *n >= 5), "{segments:?}");
                    }
                };
                let r = readiness(&snapshot, &instrument(), &q, None).unwrap();
                check(r.overall.n, r.segments.iter().map(|s| s.cell.n).collect());
                for p in trend(&snapshot, &instrument(), &q, Interval::Month, None).unwrap() {
                    let r = p.readiness;
                    check(r.overall.n, r.segments.iter().map(|s| s.cell.n).collect());
                }
                for t in blockers(&snapshot, &instrument(), &q, None).unwrap().tiers {
                    check(t.overall.n, t.segments.iter().map(|s| s.cell.n).collect());
                }
            }
        }
    }
}
