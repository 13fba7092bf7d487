//! The peer benchmark of one firm: where it stands among comparable firms.
//!
//! Peers are the latest response of each *other* firm to the survey (any released version).
//! The group is the narrowest of industry × size band × country, industry × size band, size
//! band, and everyone that holds at least `peer_min` other firms, both as counted and as
//! published. Every figure is a published count from the disclosure policy: the group's size,
//! the firms at each tier and, per dimension, the firms scoring below and level with the firm
//! (its percentile rank is computed from those), so the benchmark tells no more about any firm
//! than a readiness report of the same group.
//!
//! Anyone who may see a benchmark may also add firms (a public self-assessment, an
//! invitation used again), and every new set of firms draws new noise: averaging many such
//! draws would wash the noise out and show the exact counts of a group the attacker filled
//! with known firms around one real one. So peers count only up to a cut the caller gives
//! (the start of the current day): firms added today join the groups tomorrow, all at once,
//! and a day's benchmarks of one group show the same numbers however many are requested.

use polars::prelude::*;
use serde::Serialize;

use super::disclosure::{DisclosurePolicy, Published, estimate};
use super::model::{
    Basis, DroppedCategories, ReportQuery, SegmentField, SegmentFilter, TierEstimate,
};
use super::pipeline::{ReadAs, Table, count, count_where, counted_rows, tier_count};
use super::snapshot::{Snapshot, columns};

/// The default smallest number of other firms a peer group must hold.
pub const DEFAULT_PEER_MIN: u64 = 20;

/// Whom a firm is compared with.
#[derive(Debug, Clone)]
pub struct PeerQuery {
    /// Survey versions (ids) whose responses count.
    pub survey_ids: Vec<i32>,
    /// The firm, which is never its own peer.
    pub firm: u128,
    pub industry: String,
    pub size_band: String,
    pub country: String,
    /// The firm's dimension scores (maturity, clarity, vendor_gap, capability, governance).
    pub scores: [f64; 5],
    /// Tier keys by rank (index 0 is rank 1).
    pub tier_keys: Vec<String>,
    /// The smallest group shown; never below the policy's threshold.
    pub peer_min: u64,
    /// Only responses submitted before this (microseconds since the epoch, exclusive) count:
    /// the server passes the start of the current day, so the peers of every benchmark shown
    /// in a day are the same firms (see `published` figures below).
    pub until: Option<i64>,
    pub disclosure: DisclosurePolicy,
}

/// The peer groups, from the narrowest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PeerGroup {
    IndustrySizeBandCountry,
    IndustrySizeBand,
    SizeBand,
    Everyone,
}

impl PeerGroup {
    pub const WIDENING: [PeerGroup; 4] = [
        PeerGroup::IndustrySizeBandCountry,
        PeerGroup::IndustrySizeBand,
        PeerGroup::SizeBand,
        PeerGroup::Everyone,
    ];

    /// The group's name, as serialised.
    pub fn key(self) -> &'static str {
        match self {
            PeerGroup::IndustrySizeBandCountry => "industry_size_band_country",
            PeerGroup::IndustrySizeBand => "industry_size_band",
            PeerGroup::SizeBand => "size_band",
            PeerGroup::Everyone => "everyone",
        }
    }

    /// The attributes a peer shares with the firm in this group.
    pub fn fields(self) -> &'static [SegmentField] {
        match self {
            PeerGroup::IndustrySizeBandCountry => &[
                SegmentField::Industry,
                SegmentField::SizeBand,
                SegmentField::Country,
            ],
            PeerGroup::IndustrySizeBand => &[SegmentField::Industry, SegmentField::SizeBand],
            PeerGroup::SizeBand => &[SegmentField::SizeBand],
            PeerGroup::Everyone => &[],
        }
    }
}

/// Where the firm stands on one dimension.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DimensionStanding {
    /// `maturity`, `clarity`, `vendor_gap`, `capability` or `governance`.
    pub dimension: String,
    /// The firm's own score, 0–100.
    pub score: f64,
    /// Peers scoring below the firm (published count).
    pub below: u64,
    /// Peers scoring the same (published count).
    pub level: u64,
    /// The firm's percentile rank among its peers, 0–100: (below + level / 2) / peers.
    pub percentile: u8,
}

/// The firm's standing in its peer group.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Benchmark {
    pub group: PeerGroup,
    /// Other firms in the group (published count).
    pub peers: u64,
    /// Peers at each tier, lowest first, with shares of `peers` and 95 % Wilson intervals.
    pub tiers: Vec<TierEstimate>,
    pub dimensions: Vec<DimensionStanding>,
}

/// The benchmark of `query.firm`, or `None` when not even everyone else reaches the threshold.
pub fn benchmark(snapshot: &Snapshot, query: &PeerQuery) -> PolarsResult<Option<Benchmark>> {
    let report = ReportQuery {
        survey_ids: query.survey_ids.clone(),
        from: None,
        until: query.until,
        basis: Basis::Latest,
        by: Vec::new(),
        segments: SegmentFilter::default(),
        disclosure: query.disclosure.clone(),
        dropped_categories: DroppedCategories::Report,
    };
    let mut others = counted_rows(snapshot, &report, &[], ReadAs::Values)?;
    if let Some(code) = snapshot.firm_code(query.firm) {
        others = others.filter(col(columns::FIRM).neq(lit(code)));
    }
    let threshold = query.peer_min.max(query.disclosure.min_cell());
    for group in PeerGroup::WIDENING {
        let Some(members) = same_segments(snapshot, query, group) else {
            continue;
        };
        let table = others
            .clone()
            .filter(members)
            .select(aggregates(query))
            .collect()?;
        let table = Table(&table);
        let size = table.tally("n", 0)?;
        let peers = query.disclosure.size(size);
        if size.count >= threshold && peers.get() >= threshold {
            return Ok(Some(published(query, &table, group, peers)?));
        }
    }
    Ok(None)
}

/// The condition a peer meets in `group`, or `None` when no row has one of the firm's values
/// (the group is empty).
fn same_segments(snapshot: &Snapshot, query: &PeerQuery, group: PeerGroup) -> Option<Expr> {
    let mut condition = lit(true);
    for field in group.fields() {
        let (column, value) = match field {
            SegmentField::Industry => (columns::INDUSTRY, &query.industry),
            SegmentField::SizeBand => (columns::SIZE_BAND, &query.size_band),
            SegmentField::Country => (columns::COUNTRY, &query.country),
            SegmentField::Region | SegmentField::Version => continue,
        };
        let code = snapshot.segment_code(*field, value)?;
        condition = condition.and(col(column).eq(lit(code)));
    }
    Some(condition)
}

fn aggregates(query: &PeerQuery) -> Vec<Expr> {
    let mut exprs: Vec<Expr> = count().into();
    for rank in 1..=query.tier_keys.len() {
        exprs.extend(tier_count(u8::try_from(rank).unwrap_or(u8::MAX)));
    }
    for (dimension, score) in columns::SCORES.iter().zip(query.scores) {
        exprs.extend(count_where(
            col(*dimension).lt(lit(score)),
            &below(dimension),
        ));
        exprs.extend(count_where(
            col(*dimension).eq(lit(score)),
            &level(dimension),
        ));
    }
    exprs
}

fn below(dimension: &str) -> String {
    format!("{dimension}_below")
}

fn level(dimension: &str) -> String {
    format!("{dimension}_level")
}

fn published(
    query: &PeerQuery,
    table: &Table<'_>,
    group: PeerGroup,
    peers: Published,
) -> PolarsResult<Benchmark> {
    let policy: &DisclosurePolicy = &query.disclosure;
    let mut tiers = Vec::with_capacity(query.tier_keys.len());
    for (index, key) in query.tier_keys.iter().enumerate() {
        let rank = u8::try_from(index + 1).unwrap_or(u8::MAX);
        let at = policy.part(table.tally(&format!("tier_{rank}"), 0)?, peers);
        tiers.push(TierEstimate {
            key: key.clone(),
            rank,
            estimate: estimate(at, peers),
        });
    }
    let mut dimensions = Vec::with_capacity(columns::SCORES.len());
    for ((column, score), name) in columns::SCORES.iter().zip(query.scores).zip(DIMENSION_KEYS) {
        let below = policy.part(table.tally(&below(column), 0)?, peers).get();
        let level = policy.part(table.tally(&level(column), 0)?, peers).get();
        let rank = (below as f64 + level as f64 / 2.0) / peers.get().max(1) as f64;
        dimensions.push(DimensionStanding {
            dimension: name.to_owned(),
            score,
            below,
            level,
            percentile: (100.0 * rank).round().clamp(0.0, 100.0) as u8,
        });
    }
    Ok(Benchmark {
        group,
        peers: peers.get(),
        tiers,
        dimensions,
    })
}

const DIMENSION_KEYS: [&str; 5] = [
    "maturity",
    "clarity",
    "vendor_gap",
    "capability",
    "governance",
];
