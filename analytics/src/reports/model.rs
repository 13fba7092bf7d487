//! What reports return: plain, serialisable structs.

use serde::Serialize;

use super::disclosure::DisclosurePolicy;

/// Which responses count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    /// Each firm's latest response in the window (within each period for trends).
    Latest,
    /// Every response.
    All,
}

/// A segment attribute reports can be broken down by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SegmentField {
    Industry,
    SizeBand,
    Country,
    Region,
    Version,
}

impl SegmentField {
    pub const ALL: [SegmentField; 5] = [
        SegmentField::Industry,
        SegmentField::SizeBand,
        SegmentField::Country,
        SegmentField::Region,
        SegmentField::Version,
    ];

    pub fn key(self) -> &'static str {
        match self {
            SegmentField::Industry => "industry",
            SegmentField::SizeBand => "size_band",
            SegmentField::Country => "country",
            SegmentField::Region => "region",
            SegmentField::Version => "version",
        }
    }

    pub fn parse(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.key() == key)
    }
}

/// Trend period length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Interval {
    Month,
    Quarter,
}

/// What to compute over.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportQuery {
    /// Survey versions (ids) included.
    pub survey_ids: Vec<i32>,
    /// Inclusive lower bound on `submitted_at`, microseconds since the epoch.
    pub from: Option<i64>,
    /// Exclusive upper bound on `submitted_at`, microseconds since the epoch.
    pub until: Option<i64>,
    pub basis: Basis,
    pub by: Vec<SegmentField>,
    /// How every count, share and mean is published: the perturbation table and the
    /// threshold (the publisher's policy, after [`DisclosurePolicy::for_request`]).
    pub disclosure: DisclosurePolicy,
}

/// A count with its share of the cell and the share's 95 % Wilson interval.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Estimate {
    pub count: u64,
    /// Fraction of the cell, 0–1.
    pub share: f64,
    pub ci_low: f64,
    pub ci_high: f64,
}

/// A weighted share with its 95 % Wilson interval on the Kish effective sample size.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WeightedEstimate {
    pub share: f64,
    pub ci_low: f64,
    pub ci_high: f64,
}

/// How many firms of a cell are at one tier.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TierEstimate {
    pub key: String,
    pub rank: u8,
    #[serde(flatten)]
    pub estimate: Estimate,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WeightedTier {
    pub key: String,
    pub rank: u8,
    #[serde(flatten)]
    pub estimate: WeightedEstimate,
}

/// Mean dimension scores (0–100) of a cell.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DimensionMeans {
    pub maturity: f64,
    pub clarity: f64,
    pub vendor_gap: f64,
    pub capability: f64,
    pub governance: f64,
}

/// Weighted figures of a cell.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WeightedCell {
    /// Kish effective sample size, (Σw)² / Σw².
    pub n_eff: f64,
    pub tiers: Vec<WeightedTier>,
    pub ready_to_customise: WeightedEstimate,
}

/// The readiness figures of one cell (the whole population or a segment). A suppressed cell
/// carries no figures at all.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Cell {
    /// Firms (basis `latest`) or responses (basis `all`); `null` when suppressed.
    pub n: Option<u64>,
    pub suppressed: bool,
    /// Every tier in rank order, zero counts included.
    pub tiers: Option<Vec<TierEstimate>>,
    /// Firms at a tier that is ready to customise (fine-tuning and above).
    pub ready_to_customise: Option<Estimate>,
    pub dimension_means: Option<DimensionMeans>,
    /// Present when the report is weighted and the cell is not suppressed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weighted: Option<WeightedCell>,
}

/// A segment's key: the attributes listed in `by`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SegmentKey {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub industry: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size_band: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// `null` for firms that gave no region.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub region: Option<Option<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<i32>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Segment {
    pub key: SegmentKey,
    #[serde(flatten)]
    pub cell: Cell,
}

/// Readiness shares overall and by segment.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Readiness {
    pub overall: Cell,
    /// Key combinations that occur, sorted by key.
    pub segments: Vec<Segment>,
}

/// One period of a trend.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Period {
    /// `2026-10` (month) or `2026-Q4` (quarter).
    pub period: String,
    #[serde(flatten)]
    pub readiness: Readiness,
}

/// The share of firms just below a tier that fail one of its gates.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GateEstimate {
    pub gate: String,
    pub reason: String,
    #[serde(flatten)]
    pub estimate: Estimate,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WeightedGate {
    pub gate: String,
    #[serde(flatten)]
    pub estimate: WeightedEstimate,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WeightedBlockers {
    pub n_eff: f64,
    pub gates: Vec<WeightedGate>,
}

/// Blockers of one cell: firms exactly one tier below, and how many fail each gate.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BlockerCell {
    pub n: Option<u64>,
    pub suppressed: bool,
    /// Sorted by share, descending, then gate id.
    pub gates: Option<Vec<GateEstimate>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weighted: Option<WeightedBlockers>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BlockerSegment {
    pub key: SegmentKey,
    #[serde(flatten)]
    pub cell: BlockerCell,
}

/// What keeps firms from one tier.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TierBlockers {
    /// The tier the firms are blocked from.
    pub tier: String,
    pub rank: u8,
    pub label: String,
    pub overall: BlockerCell,
    pub segments: Vec<BlockerSegment>,
}
