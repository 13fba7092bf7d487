//! The peer benchmark: hand-built fixtures for each widening step, for a group just below and
//! at the threshold, the firm never among its own peers, and published figures only.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use readiness_analytics::reports::disclosure::{DisclosurePolicy, PerturbationTable, Tally};
use readiness_analytics::reports::*;

const OCT_1: i64 = 1_790_812_800_000_000;
const ME: u128 = 1;
const TIERS: [&str; 4] = ["vendor_prompting", "vendor_rag", "fine_tune", "own_model"];

struct Peer {
    firm: u128,
    industry: &'static str,
    size_band: &'static str,
    country: &'static str,
    rank: u8,
    score: f64,
}

fn peer(
    firm: u128,
    segment: (&'static str, &'static str, &'static str),
    rank: u8,
    score: f64,
) -> Peer {
    Peer {
        firm,
        industry: segment.0,
        size_band: segment.1,
        country: segment.2,
        rank,
        score,
    }
}

fn rows(peers: &[Peer]) -> Vec<ResponseRow> {
    peers
        .iter()
        .enumerate()
        .map(|(i, p)| ResponseRow {
            id: 1_000 + i as u128,
            firm: p.firm,
            record_key: u8::try_from((p.firm * 37) % 256).unwrap(),
            survey_id: 1,
            version: 1,
            industry: p.industry.into(),
            size_band: p.size_band.into(),
            country: p.country.into(),
            region: None,
            submitted_at: OCT_1 + i64::try_from(i).unwrap() * 1_000_000,
            tier_rank: p.rank,
            ready_to_customise: p.rank >= 3,
            blockers: Vec::new(),
            scores: [p.score; 5],
        })
        .collect()
}

fn snapshot(peers: &[Peer]) -> Snapshot {
    let mut snapshot = Snapshot::new();
    snapshot.append(rows(peers)).unwrap();
    snapshot
}

fn exact() -> DisclosurePolicy {
    DisclosurePolicy::new(Arc::new(PerturbationTable::unperturbed()), Some(1))
}

fn query(peer_min: u64, disclosure: DisclosurePolicy) -> PeerQuery {
    PeerQuery {
        survey_ids: vec![1],
        firm: ME,
        industry: "C".into(),
        size_band: "small".into(),
        country: "DE".into(),
        scores: [50.0; 5],
        tier_keys: TIERS.iter().map(|t| (*t).to_owned()).collect(),
        peer_min,
        until: None,
        disclosure,
    }
}

const SAME: (&str, &str, &str) = ("C", "small", "DE");
const OTHER_COUNTRY: (&str, &str, &str) = ("C", "small", "FR");
const OTHER_INDUSTRY: (&str, &str, &str) = ("G", "small", "DE");
const OTHER_SIZE: (&str, &str, &str) = ("C", "micro", "DE");

/// The firm itself (twice, in its own segment), then `counts` other firms in each of the
/// four rings around it: same segment, same industry and size elsewhere, same size in
/// another industry, another size.
fn fixture(counts: [usize; 4]) -> Vec<Peer> {
    let mut peers = vec![peer(ME, SAME, 4, 100.0), peer(ME, SAME, 4, 100.0)];
    let mut next = 10;
    for (ring, segment) in [SAME, OTHER_COUNTRY, OTHER_INDUSTRY, OTHER_SIZE]
        .into_iter()
        .enumerate()
    {
        for _ in 0..counts[ring] {
            peers.push(peer(next, segment, 1, 0.0));
            next += 1;
        }
    }
    peers
}

fn group_and_peers(counts: [usize; 4], peer_min: u64) -> Option<(PeerGroup, u64)> {
    benchmark(&snapshot(&fixture(counts)), &query(peer_min, exact()))
        .unwrap()
        .map(|b| (b.group, b.peers))
}

#[test]
fn the_narrowest_group_with_enough_other_firms_is_used() {
    // At the threshold the narrowest group is used; one firm fewer widens it.
    assert_eq!(
        group_and_peers([5, 0, 0, 0], 5),
        Some((PeerGroup::IndustrySizeBandCountry, 5))
    );
    assert_eq!(
        group_and_peers([4, 1, 0, 0], 5),
        Some((PeerGroup::IndustrySizeBand, 5))
    );
    assert_eq!(
        group_and_peers([4, 0, 1, 0], 5),
        Some((PeerGroup::SizeBand, 5))
    );
    assert_eq!(
        group_and_peers([2, 1, 1, 1], 5),
        Some((PeerGroup::Everyone, 5))
    );
    assert_eq!(group_and_peers([2, 1, 1, 0], 5), None);
    assert_eq!(group_and_peers([2, 1, 1, 1], 6), None);
}

#[test]
fn the_firm_is_never_its_own_peer() {
    // The firm holds two responses in its own segment: with it, the group would reach 5.
    assert_eq!(group_and_peers([4, 0, 0, 0], 5), None);
    assert_eq!(
        group_and_peers([3, 0, 0, 0], 3),
        Some((PeerGroup::IndustrySizeBandCountry, 3))
    );
    let benchmark = benchmark(&snapshot(&fixture([3, 0, 0, 0])), &query(3, exact()))
        .unwrap()
        .unwrap();
    // The firm is at the top tier with 100 everywhere; its peers are all at tier 1 with 0.
    assert_eq!(benchmark.tiers[0].estimate.count, 3);
    assert_eq!(benchmark.tiers[3].estimate.count, 0);
}

#[test]
fn a_peer_counts_once_by_its_latest_response() {
    // Firm 50 answered first in the firm's segment, then from France: it is a French peer.
    let mut peers = fixture([2, 0, 0, 0]);
    peers.push(peer(50, SAME, 2, 10.0));
    peers.push(peer(50, OTHER_COUNTRY, 3, 90.0));
    let snapshot = snapshot(&peers);
    assert!(
        benchmark(&snapshot, &query(3, exact()))
            .unwrap()
            .unwrap()
            .group
            == PeerGroup::IndustrySizeBand
    );
    let wide = benchmark(&snapshot, &query(3, exact())).unwrap().unwrap();
    assert_eq!(wide.peers, 3);
    let counts: Vec<u64> = wide.tiers.iter().map(|t| t.estimate.count).collect();
    assert_eq!(counts, vec![2, 0, 1, 0]);
}

#[test]
fn tier_shares_and_percentiles_are_computed_from_the_peers() {
    let mut peers = vec![peer(ME, SAME, 2, 50.0)];
    // Ten peers: scores 0, 10, …, 90 and tiers 1,1,1,1,2,2,2,3,3,4.
    let ranks = [1, 1, 1, 1, 2, 2, 2, 3, 3, 4];
    for (i, rank) in ranks.into_iter().enumerate() {
        peers.push(peer(10 + i as u128, SAME, rank, 10.0 * i as f64));
    }
    let result = benchmark(&snapshot(&peers), &query(10, exact()))
        .unwrap()
        .unwrap();
    assert_eq!(result.group, PeerGroup::IndustrySizeBandCountry);
    assert_eq!(result.peers, 10);
    let tiers: Vec<(&str, u8, u64, f64)> = result
        .tiers
        .iter()
        .map(|t| (t.key.as_str(), t.rank, t.estimate.count, t.estimate.share))
        .collect();
    assert_eq!(
        tiers,
        vec![
            ("vendor_prompting", 1, 4, 0.4),
            ("vendor_rag", 2, 3, 0.3),
            ("fine_tune", 3, 2, 0.2),
            ("own_model", 4, 1, 0.1),
        ]
    );
    // Score 50: five peers below (0–40), one level (50): (5 + 0.5) / 10 = 55 %.
    for standing in &result.dimensions {
        assert_eq!(
            (standing.below, standing.level, standing.percentile),
            (5, 1, 55)
        );
        assert_eq!(standing.score, 50.0);
    }
    let names: Vec<&str> = result
        .dimensions
        .iter()
        .map(|d| d.dimension.as_str())
        .collect();
    assert_eq!(
        names,
        [
            "maturity",
            "clarity",
            "vendor_gap",
            "capability",
            "governance"
        ]
    );
    // Wilson interval of 4 in 10.
    assert!((result.tiers[0].estimate.ci_low - 0.168_180).abs() < 1e-5);
}

#[test]
fn published_figures_come_from_the_disclosure_policy() {
    // The ONS table with its threshold: every count is the perturbed count of its cell.
    let table = Arc::new(PerturbationTable::shipped("ptable_10_5_rule").unwrap());
    let policy = DisclosurePolicy::new(Arc::clone(&table), None);
    let peers = fixture([40, 0, 0, 0]);
    let result = benchmark(&snapshot(&peers), &query(20, policy.clone()))
        .unwrap()
        .unwrap();
    let keys = |firms: std::ops::Range<u128>| {
        firms.fold(0u8, |k, f| {
            k.wrapping_add(u8::try_from((f * 37) % 256).unwrap())
        })
    };
    let size = policy.size(Tally {
        count: 40,
        key: keys(10..50),
    });
    assert_eq!(result.peers, size.get());
    assert_eq!(
        result.tiers[0].estimate.count,
        policy
            .part(
                Tally {
                    count: 40,
                    key: keys(10..50)
                },
                size
            )
            .get()
    );
    assert_eq!(result.tiers[1].estimate.count, 0);
    // A request may not lower the publisher's threshold below the table's own.
    let strict = DisclosurePolicy::new(table, Some(100));
    assert!(
        benchmark(&snapshot(&peers), &query(20, strict))
            .unwrap()
            .is_none()
    );
}

#[test]
fn only_responses_before_the_cut_are_peers() {
    // Five peers on consecutive seconds from OCT_1 (rows 2..7 of the fixture): a cut after
    // the third leaves three.
    let peers = fixture([5, 0, 0, 0]);
    let snapshot = snapshot(&peers);
    let mut cut = query(3, exact());
    cut.until = Some(OCT_1 + 5 * 1_000_000);
    let result = benchmark(&snapshot, &cut).unwrap().unwrap();
    assert_eq!(result.peers, 3);
    cut.peer_min = 4;
    assert!(benchmark(&snapshot, &cut).unwrap().is_none());
}

#[test]
fn a_groups_key_is_its_serialised_name() {
    for group in PeerGroup::WIDENING {
        assert_eq!(serde_json::to_value(group).unwrap(), group.key());
    }
}
