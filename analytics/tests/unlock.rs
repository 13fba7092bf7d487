//! The unlock analysis of the blockers report: hand-computed figures, a brute-force
//! re-scoring of random answer sets with the real evaluator, and the disclosure property.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Random, instrument};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::sync::Arc;

use readiness_analytics::reports::disclosure::{DisclosurePolicy, PerturbationTable};
use readiness_analytics::reports::*;
use readiness_analytics::{Instrument, Rule, assess, validate};

const OCT_1: i64 = 1_790_812_800_000_000;
const TD: &str = "vendor_rag.task_definition";
const KO: &str = "vendor_rag.knowledge_organisation";
const IS: &str = "vendor_rag.inhouse_skill";
const PA: &str = "vendor_rag.prior_attempts";

fn row(firm: u128, industry: &str, rank: u8, blockers: &[&str]) -> ResponseRow {
    ResponseRow {
        id: firm,
        firm,
        record_key: u8::try_from(Random(u64::try_from(firm).unwrap()).next() % 256).unwrap(),
        survey_id: 1,
        version: 1,
        industry: industry.into(),
        size_band: "small".into(),
        country: "DE".into(),
        region: None,
        submitted_at: OCT_1 + i64::try_from(firm).unwrap(),
        tier_rank: rank,
        ready_to_customise: rank >= 3,
        blockers: blockers.iter().map(|b| (*b).to_owned()).collect(),
        scores: [50.0; 5],
    }
}

fn query(by: &[SegmentField], policy: DisclosurePolicy) -> ReportQuery {
    ReportQuery {
        survey_ids: vec![1],
        from: None,
        until: None,
        basis: Basis::Latest,
        by: by.to_vec(),
        segments: SegmentFilter::default(),
        disclosure: policy,
        dropped_categories: DroppedCategories::Report,
    }
}

fn exact(min_cell: u64) -> DisclosurePolicy {
    DisclosurePolicy::new(Arc::new(PerturbationTable::unperturbed()), Some(min_cell))
}

/// Ten firms at the lowest tier: C has three blocked by the task alone, two by the knowledge
/// alone and one by the task and prior attempts; G one each by the task and the knowledge
/// alone, one with three blockers and one with all four.
fn fixture() -> Snapshot {
    let mut snapshot = Snapshot::new();
    snapshot
        .append(vec![
            row(1, "C", 1, &[TD]),
            row(2, "C", 1, &[TD]),
            row(3, "C", 1, &[TD]),
            row(4, "G", 1, &[TD]),
            row(5, "C", 1, &[KO]),
            row(6, "C", 1, &[KO]),
            row(7, "G", 1, &[KO]),
            row(8, "C", 1, &[TD, PA]),
            row(9, "G", 1, &[TD, KO, IS]),
            row(10, "G", 1, &[TD, KO, IS, PA]),
            // At vendor_rag, blocked from fine_tune: not part of the first tier's figures.
            row(11, "C", 2, &["fine_tune.business_age"]),
        ])
        .unwrap();
    snapshot
}

/// (gate or blocker count, published count) in the order published; `None` when suppressed.
fn sole(unlock: &Unlock) -> Vec<(&str, Option<u64>)> {
    unlock
        .sole_blockers
        .iter()
        .map(|g| (g.gate.as_str(), g.figure.estimate.as_ref().map(|e| e.count)))
        .collect()
}

fn bins(unlock: &Unlock) -> Vec<(&str, Option<u64>)> {
    unlock
        .blocker_counts
        .iter()
        .map(|b| {
            (
                b.blockers.as_str(),
                b.figure.estimate.as_ref().map(|e| e.count),
            )
        })
        .collect()
}

#[test]
fn the_hand_built_fixture_gives_the_hand_computed_unlock_figures() {
    let report = blockers(&fixture(), &instrument(), &query(&[], exact(0)), None).unwrap();
    let rag = &report.tiers[0];
    assert_eq!(rag.tier, "vendor_rag");
    let unlock = rag.overall.unlock.as_ref().unwrap();
    assert_eq!(
        sole(unlock),
        [(TD, Some(4)), (KO, Some(3)), (IS, Some(0)), (PA, Some(0))]
    );
    assert_eq!(
        bins(unlock),
        [
            ("1", Some(7)),
            ("2", Some(1)),
            ("3", Some(1)),
            ("4+", Some(1))
        ]
    );
    let td = unlock.sole_blockers[0].figure.estimate.clone().unwrap();
    assert_eq!(td.share, 0.4);
    // Wilson 95 % for 4 of 10, worked out by hand: (p + z²/2n ± z√(p(1−p)/n + z²/4n²)) / (1 + z²/n).
    let z = 1.959_963_984_540_054_f64;
    let (p, n) = (0.4, 10.0);
    let centre = (p + z * z / (2.0 * n)) / (1.0 + z * z / n);
    let half = z * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt() / (1.0 + z * z / n);
    assert!((td.ci_low - (centre - half)).abs() < 1e-12);
    assert!((td.ci_high - (centre + half)).abs() < 1e-12);
    assert!(!unlock.sole_blockers[0].reason.is_empty());
    // The firm at vendor_rag is the next tier's only firm: its one blocker is its sole one.
    let fine_tune = report.tiers[1].overall.unlock.as_ref().unwrap();
    assert_eq!(sole(fine_tune)[0], ("fine_tune.business_age", Some(1)));
    assert_eq!(bins(fine_tune)[0], ("1", Some(1)));

    // Threshold 3: counts of 0, 1 and 2 are hidden; each row keeps two or more hidden.
    let report = blockers(&fixture(), &instrument(), &query(&[], exact(3)), None).unwrap();
    let unlock = report.tiers[0].overall.unlock.as_ref().unwrap();
    assert_eq!(
        sole(unlock),
        [(TD, Some(4)), (KO, Some(3)), (IS, None), (PA, None)]
    );
    assert_eq!(
        bins(unlock),
        [("1", Some(7)), ("2", None), ("3", None), ("4+", None)]
    );
    assert!(unlock.sole_blockers[2].figure.suppressed);
    // Fewer than 3 firms below own_model and below fine_tune (one): the cell is hidden whole.
    assert!(report.tiers[1].overall.unlock.is_none());
}

#[test]
fn a_single_hidden_segment_figure_hides_a_partner() {
    let report = blockers(
        &fixture(),
        &instrument(),
        &query(&[SegmentField::Industry], exact(2)),
        None,
    )
    .unwrap();
    let rag = &report.tiers[0];
    // Overall: bins 7, 1, 1, 1 and sole 4, 3, 0, 0; C (6 firms): bins 5, 1, 0, 0 and sole
    // 3, 2, 0, 0; G (4 firms): bins 2, 0, 1, 1 and sole 1, 1, 0, 0. Below 2 is hidden, so G
    // hides its task and knowledge figures, and the overall ones (4 and 3) are published: C's
    // 3 and 2 are hidden as partners, or C = overall − G would show them.
    let overall = rag.overall.unlock.as_ref().unwrap();
    assert_eq!(
        sole(overall),
        [(TD, Some(4)), (KO, Some(3)), (IS, None), (PA, None)]
    );
    assert_eq!(
        bins(overall),
        [("1", Some(7)), ("2", None), ("3", None), ("4+", None)]
    );
    let segment = |industry: &str| {
        rag.segments
            .iter()
            .find(|s| s.key.industry.as_deref() == Some(industry))
            .and_then(|s| s.cell.unlock.as_ref())
            .unwrap()
    };
    for (industry, ones) in [("C", 5), ("G", 2)] {
        let unlock = segment(industry);
        assert_eq!(
            sole(unlock),
            [(IS, None), (KO, None), (PA, None), (TD, None)],
            "{industry}"
        );
        assert_eq!(
            bins(unlock),
            [("1", Some(ones)), ("2", None), ("3", None), ("4+", None)]
        );
    }
}

/// A random answer set: each question high with a probability that itself varies, so that
/// every tier and every number of blockers occurs.
fn random_answers(instrument: &Instrument, random: &mut Random) -> Map<String, Value> {
    let high = [50, 80, 95][usize::try_from(random.below(3)).unwrap()];
    instrument
        .questions()
        .iter()
        .map(|q| {
            let count = q.options.len() as u64;
            let position = if random.below(100) < high {
                count - 1 - random.below(2.min(count))
            } else {
                random.below(count)
            };
            let option = &q.options[usize::try_from(position).unwrap()].key;
            (q.key.clone(), Value::String(option.clone()))
        })
        .collect()
}

fn option_position(instrument: &Instrument, question: &str, option: &str) -> usize {
    let q = &instrument.questions()[instrument.question_position(question).unwrap()];
    q.options.iter().position(|o| o.key == option).unwrap()
}

/// The answer changes that make `rule` pass with the least passing option: one for an
/// `at_least` or `any_of` rule, one per alternative of an `any` rule.
fn least_passing(instrument: &Instrument, rule: &Rule) -> Vec<(String, String)> {
    match rule {
        Rule::AtLeast { question, option } => vec![(question.clone(), option.clone())],
        Rule::AnyOf { question, options } => {
            let least = options
                .iter()
                .min_by_key(|o| option_position(instrument, question, o))
                .unwrap();
            vec![(question.clone(), least.clone())]
        }
        Rule::Any(rules) => rules
            .iter()
            .flat_map(|r| least_passing(instrument, r))
            .collect(),
    }
}

fn rank_of(instrument: &Instrument, answers: &Map<String, Value>) -> u8 {
    let parsed = validate(instrument, &Value::Object(answers.clone())).unwrap();
    assess(instrument, &parsed).tier.rank
}

/// Whether fixing `gate` alone (its answer set to its least passing option) moves the firm
/// up, by the real evaluator.
fn fixing_unlocks(instrument: &Instrument, answers: &Map<String, Value>, gate: &str) -> bool {
    let rank = rank_of(instrument, answers);
    let rule = &instrument.gate(gate).unwrap().rule;
    least_passing(instrument, rule)
        .into_iter()
        .any(|(question, option)| {
            let mut fixed = answers.clone();
            fixed.insert(question, Value::String(option));
            rank_of(instrument, &fixed) > rank
        })
}

const INDUSTRIES: [&str; 3] = ["C", "G", "J"];

/// Random firms scored by the real evaluator.
fn scored_firms(seed: u64, count: u64) -> Vec<(Map<String, Value>, ResponseRow)> {
    let instrument = instrument();
    let mut random = Random(seed);
    (0..count)
        .map(|i| {
            let answers = random_answers(&instrument, &mut random);
            let parsed = validate(&instrument, &Value::Object(answers.clone())).unwrap();
            let assessment = assess(&instrument, &parsed);
            let blockers: Vec<&str> = assessment
                .blockers
                .iter()
                .map(|b| b.gate.as_str())
                .collect();
            let industry = random.pick(&INDUSTRIES);
            let mut row = row(u128::from(i) + 1, industry, assessment.tier.rank, &blockers);
            row.record_key = u8::try_from(random.below(256)).unwrap();
            row.size_band = random.pick(&["micro", "small", "medium"]).to_owned();
            (answers, row)
        })
        .collect()
}

/// Sole-blocker counts equal a brute-force re-scoring: for every firm and every gate it
/// fails, the gate's answer set to its least passing option and the firm assessed again.
#[test]
fn sole_blockers_equal_a_brute_force_rescoring_of_2000_answer_sets() {
    let instrument = instrument();
    let firms = scored_firms(0x5017_b10c, 2000);
    // (tier blocked from, industry or "" for overall, gate) → firms that fixing it unlocks.
    let mut expected: BTreeMap<(u8, &str, String), u64> = BTreeMap::new();
    let mut expected_bins: BTreeMap<(u8, &str, usize), u64> = BTreeMap::new();
    let mut unlocked_firms = 0;
    for (answers, row) in &firms {
        let next = row.tier_rank + 1;
        if usize::from(row.tier_rank) == instrument.tiers().len() {
            continue;
        }
        for industry in ["", row.industry.as_str()] {
            let bin = row.blockers.len().min(4);
            *expected_bins.entry((next, industry, bin)).or_default() += 1;
            for gate in &row.blockers {
                if fixing_unlocks(&instrument, answers, gate) {
                    *expected.entry((next, industry, gate.clone())).or_default() += 1;
                }
            }
        }
        unlocked_firms += u64::from(row.blockers.len() == 1);
    }
    assert!(
        unlocked_firms > 200,
        "the data has many sole blockers: {unlocked_firms}"
    );
    let mut snapshot = Snapshot::new();
    snapshot
        .append(firms.iter().map(|(_, r)| r.clone()).collect())
        .unwrap();
    let q = query(&[SegmentField::Industry], exact(0));
    let report = blockers(&snapshot, &instrument, &q, None).unwrap();
    let mut checked = 0;
    for tier in &report.tiers {
        let cells = std::iter::once(("", &tier.overall)).chain(
            tier.segments
                .iter()
                .map(|s| (s.key.industry.as_deref().unwrap(), &s.cell)),
        );
        for (industry, cell) in cells {
            let unlock = cell.unlock.as_ref().unwrap();
            for gate in &unlock.sole_blockers {
                let want = expected
                    .get(&(tier.rank, industry, gate.gate.clone()))
                    .copied()
                    .unwrap_or(0);
                assert_eq!(
                    gate.figure.estimate.as_ref().unwrap().count,
                    want,
                    "{} {industry:?} {}",
                    tier.tier,
                    gate.gate
                );
                checked += want;
            }
            for (bin, count) in unlock.blocker_counts.iter().enumerate() {
                let want = expected_bins
                    .get(&(tier.rank, industry, bin + 1))
                    .copied()
                    .unwrap_or(0);
                assert_eq!(count.figure.estimate.as_ref().unwrap().count, want);
            }
        }
    }
    assert_eq!(checked, 2 * unlocked_firms, "overall and segments");
}

/// No published unlock figure is below the threshold, and no row or column of a tier's
/// table leaves exactly one hidden figure beside its published total.
#[test]
fn no_unlock_figure_is_small_or_derivable() {
    for seed in 1..=30_u64 {
        let firms = scored_firms(seed * 7919, 80 + seed * 5);
        // Every third firm answers a second time, the same, so that basis `all` counts
        // responses while the threshold counts firms.
        let again: Vec<ResponseRow> = firms
            .iter()
            .step_by(3)
            .map(|(_, r)| ResponseRow {
                id: r.id + 1_000_000,
                submitted_at: r.submitted_at + 1,
                ..r.clone()
            })
            .collect();
        let mut snapshot = Snapshot::new();
        snapshot
            .append(firms.into_iter().map(|(_, r)| r).collect())
            .unwrap();
        snapshot.append(again).unwrap();
        for table in ["ptable_10_5_rule", "ptable_3_2_unbiased", "unperturbed"] {
            let ptable = if table == "unperturbed" {
                PerturbationTable::unperturbed()
            } else {
                PerturbationTable::shipped(table).unwrap()
            };
            for min_cell in [3, 5, 10] {
                let policy = DisclosurePolicy::new(Arc::new(ptable.clone()), Some(min_cell));
                for by in [
                    vec![],
                    vec![SegmentField::Industry],
                    vec![SegmentField::Industry, SegmentField::SizeBand],
                ] {
                    for basis in [Basis::Latest, Basis::All] {
                        let mut q = query(&by, policy.clone());
                        q.basis = basis;
                        for tier in blockers(&snapshot, &instrument(), &q, None).unwrap().tiers {
                            check_tier(&tier, min_cell);
                        }
                    }
                }
            }
        }
    }
}

/// The figure of one column of a cell: its published count, `None` when hidden.
fn column(cell: &BlockerCell, name: &str) -> Option<u64> {
    let unlock = cell.unlock.as_ref()?;
    let figure = unlock
        .blocker_counts
        .iter()
        .find(|b| b.blockers == name)
        .map(|b| &b.figure)
        .or_else(|| {
            unlock
                .sole_blockers
                .iter()
                .find(|g| g.gate == name)
                .map(|g| &g.figure)
        })
        .unwrap();
    assert_eq!(figure.suppressed, figure.estimate.is_none());
    figure.estimate.as_ref().map(|e| e.count)
}

fn check_tier(tier: &TierBlockers, min_cell: u64) {
    let gates: Vec<String> = match &tier.overall.unlock {
        Some(u) => u.sole_blockers.iter().map(|g| g.gate.clone()).collect(),
        None => {
            assert!(tier.segments.iter().all(|s| s.cell.unlock.is_none()));
            return;
        }
    };
    let cells: Vec<&BlockerCell> = std::iter::once(&tier.overall)
        .chain(tier.segments.iter().map(|s| &s.cell))
        .collect();
    for cell in &cells {
        let Some(n) = cell.n else { continue };
        let counts: Vec<Option<u64>> = BLOCKER_COUNTS.iter().map(|b| column(cell, b)).collect();
        let sole: Vec<Option<u64>> = gates.iter().map(|g| column(cell, g)).collect();
        for count in counts.iter().chain(&sole).flatten() {
            assert!(*count >= min_cell, "published {count} < {min_cell}");
            assert!(*count <= n);
        }
        // Blocker counts beside the cell's published size.
        assert_ne!(
            counts.iter().filter(|c| c.is_none()).count(),
            1,
            "{counts:?}"
        );
        // Sole blockers beside the published count of firms with one blocker.
        if counts[0].is_some() {
            assert_ne!(sole.iter().filter(|c| c.is_none()).count(), 1, "{sole:?}");
        }
    }
    if tier.segments.is_empty() {
        return;
    }
    for name in BLOCKER_COUNTS
        .iter()
        .copied()
        .chain(gates.iter().map(String::as_str))
    {
        if column(&tier.overall, name).is_some() {
            let hidden = tier
                .segments
                .iter()
                .filter(|s| column(&s.cell, name).is_none());
            assert_ne!(hidden.count(), 1, "column {name} of {}", tier.tier);
        }
    }
}

/// With basis `all` a figure counts responses, its interval is taken on `n / deff` (firm
/// clustering) and its threshold on distinct firms; weighted figures are shares of Σw with
/// the Kish effective size, as the gate shares are.
#[test]
fn clustered_and_weighted_figures_are_estimated_like_gate_shares() {
    let mut snapshot = fixture();
    // Firms 1 and 2 answer again, with the same blocker.
    let mut again = vec![row(1, "C", 1, &[TD]), row(2, "C", 1, &[TD])];
    for (i, r) in again.iter_mut().enumerate() {
        r.id = 100 + i as u128;
        r.submitted_at += 1_000;
    }
    snapshot.append(again).unwrap();
    let mut q = query(&[], exact(3));
    q.basis = Basis::All;
    let report = blockers(&snapshot, &instrument(), &q, None).unwrap();
    let unlock = report.tiers[0].overall.unlock.as_ref().unwrap();
    assert_eq!(report.tiers[0].overall.n, Some(12));
    // 6 responses of 4 firms are blocked by the task alone, 3 of 3 by the knowledge alone.
    assert_eq!(
        sole(unlock),
        [(TD, Some(6)), (KO, Some(3)), (IS, None), (PA, None)]
    );
    assert_eq!(bins(unlock)[0], ("1", Some(9)));
    // deff = G/(G−1) · Σ_g (y_g − p·m_g)² / N² / (p(1−p)/N), 10 firms, N = 12, p = 1/2:
    // firms 1 and 2 contribute (2 − 1)² each, the other eight (1/2)² each.
    let v_cl = 10.0 / 9.0 * (1.0 + 1.0 + 8.0 * 0.25) / 144.0;
    let deff = v_cl / (0.25 / 12.0);
    let n_eff = 12.0 / deff;
    let (low, high) = stats::wilson(0.5 * n_eff, n_eff).unwrap();
    let td = unlock.sole_blockers[0].figure.estimate.clone().unwrap();
    assert_eq!(td.share, 0.5);
    assert!((td.ci_low - low).abs() < 1e-12 && (td.ci_high - high).abs() < 1e-12);

    // Weighted to an even split of industries: the 7 C firms weigh 1/7 each against the 4 G
    // firms' 1/4 (up to a common factor). Below vendor_rag: 6 C firms (3 sole task) and 4 G
    // firms (1 sole task).
    let margins: Margins = BTreeMap::from([(
        "industry".to_owned(),
        BTreeMap::from([("C".to_owned(), 50.0), ("G".to_owned(), 50.0)]),
    )]);
    let report = blockers(
        &fixture(),
        &instrument(),
        &query(&[], exact(3)),
        Some(&margins),
    )
    .unwrap();
    let unlock = report.tiers[0].overall.unlock.as_ref().unwrap();
    let (c, g): (f64, f64) = (1.0 / 7.0, 1.0 / 4.0);
    let share = (3.0 * c + g) / (6.0 * c + 4.0 * g);
    let n_eff = (6.0 * c + 4.0 * g).powi(2) / (6.0 * c * c + 4.0 * g * g);
    let (low, high) = stats::wilson(share * n_eff, n_eff).unwrap();
    let weighted = unlock.sole_blockers[0].figure.weighted.clone().unwrap();
    assert_eq!(unlock.sole_blockers[0].gate, TD);
    assert!((weighted.share - share).abs() < 1e-9, "{weighted:?}");
    assert!((weighted.ci_low - low).abs() < 1e-9 && (weighted.ci_high - high).abs() < 1e-9);
    // Suppressed figures carry no weighted figure either.
    assert!(unlock.sole_blockers[3].figure.weighted.is_none());
}

/// With basis `all` the threshold counts firms: three responses of one firm are not shown.
#[test]
fn with_basis_all_the_threshold_counts_firms() {
    let mut rows = vec![
        row(1, "C", 1, &[TD]),
        row(2, "C", 1, &[TD]),
        row(3, "C", 1, &[TD]),
    ];
    for id in 4..=6 {
        let mut again = row(4, "C", 1, &[KO]);
        again.id = id;
        again.submitted_at += i64::try_from(id).unwrap();
        rows.push(again);
    }
    let mut snapshot = Snapshot::new();
    snapshot.append(rows).unwrap();
    let mut q = query(&[], exact(3));
    q.basis = Basis::All;
    let report = blockers(&snapshot, &instrument(), &q, None).unwrap();
    let unlock = report.tiers[0].overall.unlock.as_ref().unwrap();
    assert_eq!(
        sole(unlock),
        [(TD, Some(3)), (IS, None), (KO, None), (PA, None)]
    );
    assert_eq!(bins(unlock)[0], ("1", Some(6)));
}
