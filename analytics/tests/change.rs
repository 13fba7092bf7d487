//! The change report: hand-computed figures on a small panel, and the disclosure property on
//! random panels.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;

use common::{Random, instrument};
use readiness_analytics::reports::disclosure::{DisclosurePolicy, PerturbationTable};
use readiness_analytics::reports::*;

/// 2026-01-01 and 2026-07-01, 00:00 UTC, in microseconds.
const JAN_1: i64 = 1_767_225_600_000_000;
const JUL_1: i64 = 1_782_864_000_000_000;
const APR_1: i64 = 1_775_001_600_000_000;
const DAY: i64 = 86_400_000_000;

struct Answer {
    firm: u128,
    size: &'static str,
    at: i64,
    rank: u8,
    maturity: f64,
}

fn rows(answers: &[Answer]) -> Vec<ResponseRow> {
    answers
        .iter()
        .enumerate()
        .map(|(index, a)| ResponseRow {
            id: 1_000 + index as u128,
            firm: a.firm,
            record_key: u8::try_from(Random(u64::try_from(a.firm).unwrap()).next() % 256).unwrap(),
            survey_id: 1,
            version: 1,
            industry: "C".into(),
            size_band: a.size.into(),
            country: "DE".into(),
            region: None,
            submitted_at: a.at,
            tier_rank: a.rank,
            ready_to_customise: a.rank >= 3,
            blockers: Vec::new(),
            scores: [a.maturity, 50.0, 50.0, 50.0, 50.0],
        })
        .collect()
}

fn window(from: i64, days: i64, by: &[SegmentField], policy: &DisclosurePolicy) -> ReportQuery {
    ReportQuery {
        survey_ids: vec![1],
        from: Some(from),
        until: Some(from + days * DAY),
        basis: Basis::Latest,
        by: by.to_vec(),
        segments: SegmentFilter::default(),
        disclosure: policy.clone(),
        dropped_categories: DroppedCategories::Report,
    }
}

fn exact(min_cell: u64) -> DisclosurePolicy {
    DisclosurePolicy::new(Arc::new(PerturbationTable::unperturbed()), Some(min_cell))
}

/// How many panel firms move from tier `from` to tier `to` (0-based): 3 to 5, so that no
/// count is below the threshold of 3.
fn moved(from: usize, to: usize) -> u128 {
    3 + ((from + 2 * to) % 3) as u128
}

/// The panel firms of cell `from` → `to`, numbered from 1 in row-major order.
fn panel() -> Vec<(u128, u8, u8)> {
    let mut firms = Vec::new();
    for from in 0..4 {
        for to in 0..4 {
            for _ in 0..moved(from, to) {
                let firm = firms.len() as u128 + 1;
                firms.push((firm, from as u8 + 1, to as u8 + 1));
            }
        }
    }
    firms
}

/// The maturity gain of panel firm `firm`: 0–4 points.
fn gain(firm: u128) -> f64 {
    (firm % 5) as f64
}

/// The panel of [`moved`] (small firms, but the first one, medium), with: firm 1 answering
/// twice in the baseline window and firm 2 twice in the follow-up window (only the later
/// answer counts), firm 3 once between the windows (outside both), and firms 1001–1004 only
/// at baseline and 2001–2003 only at follow-up.
fn answers() -> Vec<Answer> {
    let mut answers = Vec::new();
    for (firm, from, to) in panel() {
        let size = if firm == 1 { "medium" } else { "small" };
        let day = i64::try_from(firm % 28).unwrap();
        answers.push(Answer {
            firm,
            size,
            at: JAN_1 + 1 + day * DAY,
            rank: from,
            maturity: 40.0,
        });
        answers.push(Answer {
            firm,
            size,
            at: JUL_1 + 1 + day * DAY,
            rank: to,
            maturity: 40.0 + gain(firm),
        });
    }
    // Earlier answers that a later one in the same window replaces.
    for (firm, at) in [(1, JAN_1), (2, JUL_1)] {
        answers.push(Answer {
            firm,
            size: "small",
            at,
            rank: if firm == 1 { 4 } else { 1 },
            maturity: 90.0,
        });
    }
    // Between the windows: counts in neither.
    answers.push(Answer {
        firm: 3,
        size: "small",
        at: APR_1,
        rank: 4,
        maturity: 0.0,
    });
    for (firm, at) in (1001..=1004)
        .map(|f| (f, JAN_1 + 3 * DAY))
        .chain((2001..=2003).map(|f| (f, JUL_1 + 3 * DAY)))
    {
        answers.push(Answer {
            firm,
            size: "small",
            at,
            rank: 2,
            maturity: 50.0,
        });
    }
    answers
}

fn snapshot(answers: &[Answer]) -> Snapshot {
    let mut snapshot = Snapshot::new();
    snapshot.append(rows(answers)).unwrap();
    snapshot
}

fn fixture() -> Snapshot {
    snapshot(&answers())
}

/// The exact two-sided McNemar p-value and mid-p, from binomial coefficients in integers.
fn mcnemar(lost: u64, gained: u64) -> (f64, f64) {
    let n = lost + gained;
    let k = lost.min(gained);
    let choose = |n: u64, k: u64| -> u128 {
        (0..k).fold(1u128, |c, i| c * u128::from(n - i) / u128::from(i + 1))
    };
    let tail: u128 = (0..=k).map(|i| choose(n, i)).sum();
    let total = 2f64.powi(i32::try_from(n).unwrap());
    let p = (2.0 * tail as f64 / total).min(1.0);
    let mid = (2.0 * (tail as f64 - choose(n, k) as f64 / 2.0) / total).min(1.0);
    (p, mid)
}

/// Newcombe's method 10 written out again, follow-up minus baseline.
fn newcombe(a: f64, b: f64, c: f64, d: f64) -> (f64, f64, f64) {
    let z = 1.959_963_984_540_054_f64;
    let n = a + b + c + d;
    let wilson = |x: f64| {
        let p = x / n;
        let centre = (p + z * z / (2.0 * n)) / (1.0 + z * z / n);
        let half = z * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt() / (1.0 + z * z / n);
        ((centre - half).max(0.0), (centre + half).min(1.0))
    };
    let (p1, p2) = ((a + c) / n, (a + b) / n);
    let ((l1, u1), (l2, u2)) = (wilson(a + c), wilson(a + b));
    let product = (a + c) * (b + d) * (a + b) * (c + d);
    let cross = a * d - b * c;
    let corrected = if cross > n / 2.0 {
        cross - n / 2.0
    } else if cross >= 0.0 {
        0.0
    } else {
        cross
    };
    let phi = if product > 0.0 {
        corrected / product.sqrt()
    } else {
        0.0
    };
    let low = p1
        - p2
        - ((p1 - l1).powi(2) - 2.0 * phi * (p1 - l1) * (u2 - p2) + (u2 - p2).powi(2)).sqrt();
    let high = p1 - p2
        + ((u1 - p1).powi(2) - 2.0 * phi * (u1 - p1) * (p2 - l2) + (p2 - l2).powi(2)).sqrt();
    (p1 - p2, low, high)
}

fn close(a: Option<f64>, b: f64) {
    let a = a.expect("a figure");
    assert!((a - b).abs() < 1e-12, "{a} != {b}");
}

fn report(by: &[SegmentField], policy: &DisclosurePolicy) -> Change {
    change(
        &fixture(),
        &instrument(),
        &window(JAN_1, 31, by, policy),
        &window(JUL_1, 31, by, policy),
        None,
    )
    .unwrap()
}

#[test]
fn the_panel_pairs_each_firms_latest_answer_in_each_window() {
    let policy = exact(3);
    let change = report(&[], &policy);
    let total: u128 = (0..4).flat_map(|i| (0..4).map(move |j| moved(i, j))).sum();
    let n = u64::try_from(total).unwrap();
    assert_eq!(
        change.panel,
        Panel {
            firms: Some(n),
            baseline_only: Some(4),
            followup_only: Some(3),
        }
    );
    let cell = &change.overall;
    assert_eq!(cell.n, Some(n));
    let transitions = cell.transitions.as_ref().unwrap();
    for (i, row) in transitions.iter().enumerate() {
        let row_n: u128 = (0..4).map(|j| moved(i, j)).sum();
        assert_eq!(row.n, Some(u64::try_from(row_n).unwrap()));
        assert_eq!(row.from_rank, u8::try_from(i + 1).unwrap());
        for (j, cell) in row.to.iter().enumerate() {
            assert_eq!(cell.count, Some(u64::try_from(moved(i, j)).unwrap()));
            close(cell.row_share, moved(i, j) as f64 / row_n as f64);
        }
    }
    let followup: Vec<Option<u64>> = cell
        .followup_tiers
        .as_ref()
        .unwrap()
        .iter()
        .map(|t| t.count)
        .collect();
    let expected: Vec<Option<u64>> = (0..4)
        .map(|j| Some(u64::try_from((0..4).map(|i| moved(i, j)).sum::<u128>()).unwrap()))
        .collect();
    assert_eq!(followup, expected);

    let shares = cell.shares.as_ref().unwrap();
    let names: Vec<(&str, Option<&str>)> = shares
        .iter()
        .map(|s| (s.measure.as_str(), s.tier.as_deref()))
        .collect();
    assert_eq!(
        names,
        [
            ("ready_to_customise", None),
            ("at_least", Some("vendor_rag")),
            ("at_least", Some("fine_tune")),
            ("at_least", Some("own_model")),
        ]
    );
    // Ready to customise is fine_tune or above: rank 3.
    for (share, threshold) in shares.iter().zip([2usize, 1, 2, 3]) {
        let sum = |before: bool, after: bool| -> f64 {
            let mut total = 0;
            for i in 0..4 {
                for j in 0..4 {
                    if (i >= threshold) == before && (j >= threshold) == after {
                        total += moved(i, j);
                    }
                }
            }
            total as f64
        };
        let (a, b, c, d) = (
            sum(true, true),
            sum(true, false),
            sum(false, true),
            sum(false, false),
        );
        assert!(!share.suppressed);
        close(share.baseline_share, (a + b) / (a + b + c + d));
        close(share.followup_share, (a + c) / (a + b + c + d));
        let (difference, low, high) = newcombe(a, b, c, d);
        close(share.difference, difference);
        close(share.ci_low, low);
        close(share.ci_high, high);
        assert_eq!((share.lost, share.gained), (Some(b as u64), Some(c as u64)));
        let (p, mid) = mcnemar(b as u64, c as u64);
        close(share.mcnemar_p, p);
        close(share.mcnemar_mid_p, mid);
    }

    // Maturity gains firm % 5 over the panel (not the replaced answers).
    let gains: Vec<f64> = panel().iter().map(|(firm, _, _)| gain(*firm)).collect();
    let count = gains.len() as f64;
    let mean = gains.iter().sum::<f64>() / count;
    let sd = (gains.iter().map(|g| (g - mean).powi(2)).sum::<f64>() / (count - 1.0)).sqrt();
    let scores = cell.score_changes.as_ref().unwrap();
    assert_eq!(scores[0].dimension, "maturity");
    assert!((scores[0].mean_change - mean).abs() < 1e-12);
    // The t quantile of the crate is checked against tables in its unit tests; here the
    // interval must be symmetric about the mean with half-width t · sd / √n, t > 1.96.
    let half = scores[0].ci_high.unwrap() - mean;
    assert!((mean - scores[0].ci_low.unwrap() - half).abs() < 1e-9);
    let t = half / (sd / count.sqrt());
    assert!(t > 1.96 && t < 2.0, "{t}");
    for score in &scores[1..] {
        assert_eq!(
            (score.mean_change, score.ci_low, score.ci_high),
            (0.0, Some(0.0), Some(0.0))
        );
    }
    assert_eq!(cell.n_eff, None);
    assert_eq!(change.weighting, None);
}

#[test]
fn a_small_segment_is_hidden_with_a_partner() {
    // One medium firm: its segment is hidden, and so is the other one, which would reveal it.
    let change = report(&[SegmentField::SizeBand], &exact(3));
    let keys: Vec<(&str, bool)> = change
        .segments
        .iter()
        .map(|s| (s.key.size_band.as_deref().unwrap(), s.cell.suppressed))
        .collect();
    assert_eq!(keys, [("medium", true), ("small", true)]);
    assert!(!change.overall.suppressed);
    assert_no_single_hidden_member(&change);
}

#[test]
fn a_small_transition_is_hidden_with_partners() {
    // Firms moving from vendor_rag to own_model: 3 + (1 + 6) % 3 = 4. Three of them do not
    // answer at follow-up (they become attrition): 1 is left, below the threshold.
    let policy = exact(3);
    let leaving: Vec<u128> = panel()
        .into_iter()
        .filter(|(_, from, to)| (*from, *to) == (2, 4))
        .map(|(firm, _, _)| firm)
        .take(3)
        .collect();
    let kept: Vec<Answer> = answers()
        .into_iter()
        .filter(|a| !(leaving.contains(&a.firm) && a.at >= JUL_1))
        .collect();
    let fresh = snapshot(&kept);
    let change = change(
        &fresh,
        &instrument(),
        &window(JAN_1, 31, &[], &policy),
        &window(JUL_1, 31, &[], &policy),
        None,
    )
    .unwrap();
    let rows = change.overall.transitions.as_ref().unwrap();
    assert_eq!(rows[1].to[3].count, None, "the 1 is hidden");
    assert!(rows[1].to[3].suppressed);
    assert_no_single_hidden_member(&change);
    assert_eq!(change.panel.baseline_only, Some(7));
}

#[test]
fn empty_windows_publish_nothing() {
    let policy = exact(3);
    let change = change(
        &fixture(),
        &instrument(),
        &window(JAN_1 - 400 * DAY, 10, &[], &policy),
        &window(JAN_1 - 300 * DAY, 10, &[], &policy),
        None,
    )
    .unwrap();
    assert_eq!(
        change.panel,
        Panel {
            firms: None,
            baseline_only: None,
            followup_only: None,
        }
    );
    assert!(change.overall.suppressed);
    assert_eq!(change.overall.transitions, None);
    // A baseline with firms and an empty follow-up: everyone is attrition.
    let change = readiness_analytics::reports::change(
        &fixture(),
        &instrument(),
        &window(JAN_1, 31, &[], &policy),
        &window(JUL_1 + 100 * DAY, 10, &[], &policy),
        None,
    )
    .unwrap();
    assert_eq!(change.panel.firms, None);
    assert_eq!(
        change.panel.baseline_only,
        Some(u64::try_from(panel().len()).unwrap() + 4)
    );
    assert_eq!(change.panel.followup_only, None);
}

#[test]
fn equal_weights_give_the_unweighted_figures() {
    let policy = exact(3);
    let margins: Margins = BTreeMap::from([(
        "country".to_owned(),
        BTreeMap::from([("DE".to_owned(), 1_000.0)]),
    )]);
    let weighted = change(
        &fixture(),
        &instrument(),
        &window(JAN_1, 31, &[], &policy),
        &window(JUL_1, 31, &[], &policy),
        Some(&margins),
    )
    .unwrap();
    let cell = &weighted.overall;
    assert!((cell.n_eff.unwrap() - cell.n.unwrap() as f64).abs() < 1e-9);
    let rag = &cell.shares.as_ref().unwrap()[1];
    let w = rag.weighted.as_ref().unwrap();
    close(Some(w.difference), rag.difference.unwrap());
    close(Some(w.ci_low), rag.ci_low.unwrap());
    close(Some(w.ci_high), rag.ci_high.unwrap());
    let maturity = &cell.score_changes.as_ref().unwrap()[0];
    let wm = maturity.weighted.as_ref().unwrap();
    assert!((wm.mean_change - maturity.mean_change).abs() < 1e-9);
    assert!((wm.ci_low.unwrap() - maturity.ci_low.unwrap()).abs() < 1e-9);
    assert!(weighted.weighting.as_ref().unwrap().converged);
}

/// The published counts of a cell's matrix: each row beside its margin, each column beside
/// its margin, the margins beside the size. No relation may have exactly one hidden member,
/// and no published count may be below the threshold.
fn assert_cell(cell: &ChangeCell, min_cell: u64) {
    let Some(rows) = &cell.transitions else {
        return;
    };
    let published = |c: Option<u64>| {
        if let Some(c) = c {
            assert!(
                c >= min_cell,
                "a count of {c} below {min_cell} is published"
            );
        }
        c.is_none()
    };
    let columns = cell.followup_tiers.as_ref().unwrap();
    let mut margin_hidden = 0;
    for (i, row) in rows.iter().enumerate() {
        let hidden: usize = row.to.iter().filter(|t| published(t.count)).count();
        let row_hidden = usize::from(published(row.n));
        assert_ne!(
            hidden + row_hidden,
            1,
            "row {i} has one hidden member: {row:?}"
        );
        margin_hidden += row_hidden;
    }
    assert_ne!(margin_hidden, 1, "one baseline margin hidden");
    let mut column_margins_hidden = 0;
    for (j, column) in columns.iter().enumerate() {
        let hidden: usize = rows.iter().filter(|r| r.to[j].count.is_none()).count();
        let margin = usize::from(published(column.count));
        assert_ne!(hidden + margin, 1, "column {j} has one hidden member");
        column_margins_hidden += margin;
    }
    assert_ne!(column_margins_hidden, 1, "one follow-up margin hidden");
    for share in cell.shares.as_ref().unwrap() {
        if !share.suppressed {
            assert!(share.lost.unwrap() >= min_cell && share.gained.unwrap() >= min_cell);
        }
    }
}

fn assert_no_single_hidden_member(change: &Change) {
    let min_cell = 3;
    assert_cell(&change.overall, min_cell);
    for segment in &change.segments {
        assert_cell(&segment.cell, min_cell);
    }
    // Across the segments: each transition of the overall cell beside the segments'.
    if change.segments.is_empty() || change.overall.suppressed {
        return;
    }
    let overall = change.overall.transitions.as_ref().unwrap();
    for (i, row) in overall.iter().enumerate() {
        for (j, total) in row.to.iter().enumerate() {
            let hidden = change
                .segments
                .iter()
                .filter(|s| {
                    s.cell
                        .transitions
                        .as_ref()
                        .is_none_or(|rows| rows[i].to[j].count.is_none())
                })
                .count()
                + usize::from(total.count.is_none());
            assert_ne!(
                hidden, 1,
                "transition {i}→{j} has one hidden member across segments"
            );
        }
    }
}

/// Random panels, perturbed with every shipped table: nothing below the threshold is
/// published, and no row, column or segment sum leaves exactly one hidden member.
#[test]
fn no_change_report_leaves_a_single_hidden_cell() {
    let instrument = instrument();
    for (seed, table) in [
        (1, "ptable_10_5_rule"),
        (2, "ptable_3_2_unbiased"),
        (3, "unperturbed"),
    ] {
        let table = Arc::new(if table == "unperturbed" {
            PerturbationTable::unperturbed()
        } else {
            PerturbationTable::shipped(table).unwrap()
        });
        let mut random = Random(seed);
        for _ in 0..60 {
            let min_cell = 3 + random.below(5);
            let policy = DisclosurePolicy::new(Arc::clone(&table), Some(min_cell));
            let firms = 10 + random.below(150);
            let mut answers = Vec::new();
            for firm in 1..=u128::from(firms) {
                let size = random.pick(&["micro", "small", "medium"]);
                let from = u8::try_from(1 + random.below(4)).unwrap();
                let step = i64::try_from(random.below(4)).unwrap() - 1;
                let to = u8::try_from((i64::from(from) + step).clamp(1, 4)).unwrap();
                let day = i64::try_from(random.below(28)).unwrap();
                if random.below(10) < 8 {
                    answers.push(Answer {
                        firm,
                        size,
                        at: JAN_1 + day * DAY,
                        rank: from,
                        maturity: 30.0,
                    });
                }
                if random.below(10) < 8 {
                    answers.push(Answer {
                        firm,
                        size,
                        at: JUL_1 + day * DAY,
                        rank: to,
                        maturity: 35.0,
                    });
                }
            }
            let mut snapshot = Snapshot::new();
            snapshot.append(rows(&answers)).unwrap();
            let by = [SegmentField::SizeBand];
            let change = change(
                &snapshot,
                &instrument,
                &window(JAN_1, 31, &by, &policy),
                &window(JUL_1, 31, &by, &policy),
                None,
            )
            .unwrap();
            assert_no_single_hidden_member_at(&change, min_cell);
        }
    }
}

fn assert_no_single_hidden_member_at(change: &Change, min_cell: u64) {
    assert_cell(&change.overall, min_cell);
    for segment in &change.segments {
        assert_cell(&segment.cell, min_cell);
    }
    if let Some(n) = change.panel.firms {
        assert!(n >= min_cell);
    }
}
