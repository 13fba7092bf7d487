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

/// The segment attributes a report or an export can be narrowed to.
pub const FILTER_FIELDS: [SegmentField; 4] = [
    SegmentField::Industry,
    SegmentField::SizeBand,
    SegmentField::Country,
    SegmentField::Region,
];

/// Segment filters: for each attribute the values kept, sorted and distinct. A firm's latest
/// response (or, with basis `all`, a response) counts when, for every attribute with values,
/// its value is one of them: OR within an attribute, AND across. No values = no filter on
/// that attribute. A filter narrows the rows counted, never the disclosure rule: every
/// filtered figure is a cell like any other.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct SegmentFilter {
    pub industry: Vec<String>,
    pub size_band: Vec<String>,
    pub country: Vec<String>,
    pub region: Vec<String>,
}

impl SegmentFilter {
    /// Whether the filter keeps every row.
    pub fn is_empty(&self) -> bool {
        FILTER_FIELDS.iter().all(|f| self.values(*f).is_empty())
    }

    /// The values kept for `field` (empty: every value; always empty for `version`).
    pub fn values(&self, field: SegmentField) -> &[String] {
        match field {
            SegmentField::Industry => &self.industry,
            SegmentField::SizeBand => &self.size_band,
            SegmentField::Country => &self.country,
            SegmentField::Region => &self.region,
            SegmentField::Version => &[],
        }
    }

    /// Adds `value` to `field`'s values, keeping them sorted and distinct (`version` is not a
    /// filter and is ignored).
    pub fn insert(&mut self, field: SegmentField, value: &str) {
        let values = match field {
            SegmentField::Industry => &mut self.industry,
            SegmentField::SizeBand => &mut self.size_band,
            SegmentField::Country => &mut self.country,
            SegmentField::Region => &mut self.region,
            SegmentField::Version => return,
        };
        if let Err(at) = values.binary_search_by(|v| v.as_str().cmp(value)) {
            values.insert(at, value.to_owned());
        }
    }

    /// Whether a row with these attributes is kept.
    pub fn keeps(
        &self,
        industry: &str,
        size_band: &str,
        country: &str,
        region: Option<&str>,
    ) -> bool {
        let kept = |values: &[String], value: Option<&str>| {
            values.is_empty() || value.is_some_and(|v| values.iter().any(|k| k == v))
        };
        kept(&self.industry, Some(industry))
            && kept(&self.size_band, Some(size_band))
            && kept(&self.country, Some(country))
            && kept(&self.region, region)
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
    /// The segments the counted firms are narrowed to.
    pub segments: SegmentFilter,
    /// How every count, share and mean is published: the perturbation table and the
    /// threshold (the publisher's policy, after [`DisclosurePolicy::for_request`]).
    pub disclosure: DisclosurePolicy,
    /// What a weighted report does when a margin category has no firm in the sample.
    pub dropped_categories: DroppedCategories,
}

/// What a weighted report does when a population margin category has no firm in the sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DroppedCategories {
    /// Weight to the other categories and name the dropped ones in `weighting.dropped`.
    #[default]
    Report,
    /// Refuse the report (`422`).
    Refuse,
}

/// A count with its share of the cell and the share's 95 % Wilson score interval: on the
/// cell's published size `n` with basis `latest`; with basis `all`, where a firm's several
/// responses are not independent, on the effective size `n / deff`, `deff` being the design
/// effect of firm clustering (the cluster-robust variance of the share, firm as cluster, over
/// the variance of `n` independent responses; never below 1).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Estimate {
    pub count: u64,
    /// Fraction of the cell, 0–1.
    pub share: f64,
    pub ci_low: f64,
    pub ci_high: f64,
}

/// A weighted share with its 95 % Wilson score interval on the cell's Kish effective sample
/// size `n_eff`; with basis `all`, on `n_eff / deff`, `deff` being the design effect of firm
/// clustering on the weighted share (the weighted cluster-robust variance over the variance
/// at `n_eff` independent responses; never below 1).
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

/// Mean dimension scores (0–100) of a cell, rounded to 0.1 (with noise of their own).
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
    /// Mean dimension scores weighted by the raking weights (Σ w·score / Σ w); the cell's
    /// `dimension_means` beside are those of the unweighted sample.
    pub dimension_means: DimensionMeans,
}

/// A population margin category the sample has no firm in. Raking cannot reach it, so it is
/// left out and the other categories of its margin are weighted to their shares among
/// themselves: the weighted figures then describe the population without it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DroppedCategory {
    /// `industry`, `size_band`, `country` or `region`.
    pub dimension: String,
    /// The margin's category (`not_stated` for firms without a region).
    pub category: String,
    /// The category's share of the margin's population total, 0–1.
    pub population_share: f64,
}

/// How the sample of one cross-section (the report's window, or one period of a trend) was
/// raked to the population margins. Segments of `by` are estimated with the weights of their
/// cross-section.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Weighting {
    /// Rounds of raking (each adjusts every margin once), at most 100.
    pub iterations: u32,
    /// The largest difference, over every margin category the sample has, between its
    /// weighted share of the sample and its share of the population (among the categories
    /// kept), 0–1, rounded to 0.0001.
    pub max_discrepancy: f64,
    /// The largest `max_discrepancy` of a calibrated sample: 0.001 (a tenth of a percentage
    /// point).
    pub tolerance: f64,
    /// `false` when `max_discrepancy` exceeds `tolerance`: the margins could not all be met
    /// (they contradict each other on this sample), and the weighted figures are not
    /// calibrated to them.
    pub converged: bool,
    /// Margin categories with no firm in the sample, left out of the weighting; empty when
    /// every category was reached. `dropped_categories=refuse` refuses such a report instead.
    pub dropped: Vec<DroppedCategory>,
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
    /// Means of the sample as it is, unweighted even in a weighted report (whose weighted
    /// means are under `weighted`).
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
    /// Present when the report is weighted and the sample not empty: how the sample was
    /// raked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weighting: Option<Weighting>,
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
    /// Sorted by share rounded to 1e-9, descending, then gate id, so
    /// that shares equal but for rounding in the last digits rank the same on every backend.
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
    /// Which single gate would move firms up; `null` when the cell is suppressed.
    pub unlock: Option<Unlock>,
}

/// A figure of the unlock analysis: a count of firms of the cell (of responses with basis
/// `all`, the threshold still counting distinct firms) with its share, or nothing when the
/// count is suppressed (published below the threshold, or hidden beside it so that it cannot
/// be derived from a published total).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UnlockFigure {
    pub suppressed: bool,
    /// As the gate shares of the cell are estimated; `null` when suppressed.
    pub estimate: Option<Estimate>,
    /// Present when the report is weighted and the figure is not suppressed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weighted: Option<WeightedEstimate>,
}

/// The firms of the cell for which one gate is the sole blocker: fixing that gate alone
/// moves them up one tier.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SoleBlocker {
    pub gate: String,
    pub reason: String,
    #[serde(flatten)]
    pub figure: UnlockFigure,
}

/// The firms of the cell with a number of blockers.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BlockerCount {
    /// `1`, `2`, `3` or `4+`.
    pub blockers: String,
    #[serde(flatten)]
    pub figure: UnlockFigure,
}

/// The unlock analysis of a cell: which gate alone holds firms back, and how many gates
/// hold them back. The sole-blocker counts partition the firms with one blocker, and the
/// blocker counts the cell; a segment's figures add up to the overall cell's. A figure
/// published below the threshold is suppressed, and so is a partner wherever one hidden
/// figure could be derived from a published total of its row or column.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Unlock {
    /// Every gate of the tier, ranked: published figures by share, descending, then gate id;
    /// suppressed ones after them, by gate id.
    pub sole_blockers: Vec<SoleBlocker>,
    /// Firms with 1, 2, 3 and 4 or more blockers, in that order.
    pub blocker_counts: Vec<BlockerCount>,
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

/// The blockers of every tier, and how the sample was raked when it was.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BlockerTiers {
    pub tiers: Vec<TierBlockers>,
    /// Present when the report is weighted and the sample not empty: how the sample was
    /// raked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weighting: Option<Weighting>,
}

/// The firms of a change report's panel, and those seen in one window only.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Panel {
    /// Firms with a response in both windows (published count; `null` when below the
    /// threshold).
    pub firms: Option<u64>,
    /// Firms with a response in the baseline window only (attrition); `null` when below the
    /// threshold.
    pub baseline_only: Option<u64>,
    /// Firms with a response in the follow-up window only; `null` when below the threshold.
    pub followup_only: Option<u64>,
}

/// One cell of the transition matrix: the panel firms at tier `from` at baseline and at
/// tier `to` at follow-up.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Transition {
    /// The follow-up tier.
    pub to: String,
    pub to_rank: u8,
    /// Suppressed: below the threshold, or hidden so that it cannot be derived from a
    /// published total (its row, its column, a paired table, or the segments' sum).
    pub suppressed: bool,
    /// Firms (perturbed); `null` when suppressed.
    pub count: Option<u64>,
    /// `count` over the row's published `n`: the share of the baseline tier's firms that
    /// moved to `to`; `null` when the count or the row's `n` is suppressed.
    pub row_share: Option<f64>,
}

/// One row of the transition matrix: the panel firms at a baseline tier.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TransitionRow {
    /// The baseline tier.
    pub from: String,
    pub from_rank: u8,
    /// Suppressed: the baseline tier's count is below the threshold, or hidden beside a
    /// published total.
    pub suppressed: bool,
    /// Panel firms at this tier at baseline (perturbed); `null` when suppressed.
    pub n: Option<u64>,
    /// Every follow-up tier in rank order.
    pub to: Vec<Transition>,
}

/// Weighted figures of a paired share, from the weighted paired table scaled to the
/// published counts and to the cell's Kish effective sample size.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WeightedPairedShare {
    pub baseline_share: f64,
    pub followup_share: f64,
    /// Follow-up minus baseline.
    pub difference: f64,
    /// Newcombe's hybrid score interval (method 10) on the weighted table scaled to the
    /// effective sample size `n_eff` of the cell.
    pub ci_low: f64,
    pub ci_high: f64,
}

/// A share at baseline and at follow-up among the same firms, and its change.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PairedShare {
    /// `ready_to_customise`, or `at_least` a tier.
    pub measure: String,
    /// The tier of an `at_least` measure (at that tier or above); `null` for
    /// `ready_to_customise`.
    pub tier: Option<String>,
    /// Suppressed when a cell of its paired table (held at both, lost, gained, neither) is
    /// below the threshold or hidden beside a published total; then every figure is `null`.
    pub suppressed: bool,
    /// The share at baseline, from the published paired table.
    pub baseline_share: Option<f64>,
    /// The share at follow-up, from the published paired table.
    pub followup_share: Option<f64>,
    /// Follow-up minus baseline share: (gained − lost) / n of the published table.
    pub difference: Option<f64>,
    /// Newcombe's hybrid score interval for a difference of paired proportions (Newcombe
    /// 1998, method 10: Wilson score intervals of both shares, combined with the table's
    /// correlation φ corrected by n/2), 95 %.
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
    /// Firms that held it at baseline and not at follow-up (published).
    pub lost: Option<u64>,
    /// Firms that held it at follow-up and not at baseline (published).
    pub gained: Option<u64>,
    /// Exact McNemar test: two-sided, twice the smaller binomial tail of `lost` among
    /// `lost + gained` at ½, at most 1.
    pub mcnemar_p: Option<f64>,
    /// The mid-p version of the exact McNemar test: the same less the probability of the
    /// observed split.
    pub mcnemar_mid_p: Option<f64>,
    /// Present when the report is weighted and the measure is not suppressed (no test: the
    /// exact test is of the sample's firms).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weighted: Option<WeightedPairedShare>,
}

/// The mean change of a dimension score (follow-up minus baseline, −100 to 100) with its
/// 95 % paired t interval.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ScoreChange {
    /// `maturity`, `clarity`, `vendor_gap`, `capability` or `governance`.
    pub dimension: String,
    /// The mean of the firms' differences, with noise of its own, rounded to 0.1.
    pub mean_change: f64,
    /// `mean_change ± t(0.975, n − 1) · sd / √n`, `sd` being the standard deviation of the
    /// differences and `n` the cell's published size; rounded to 0.1; `null` below two
    /// firms.
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
    /// Present when the report is weighted: the weighted mean change with the interval on
    /// the Kish effective sample size (`t(0.975, n_eff − 1) · sd_w / √n_eff`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weighted: Option<WeightedScoreChange>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WeightedScoreChange {
    pub mean_change: f64,
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
}

/// The change figures of one cell (the whole panel or a segment of it by baseline
/// attributes). A suppressed cell carries no figures at all.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChangeCell {
    /// Panel firms (perturbed); `null` when suppressed.
    pub n: Option<u64>,
    pub suppressed: bool,
    /// The tier transition matrix: one row per baseline tier, rank order.
    pub transitions: Option<Vec<TransitionRow>>,
    /// Panel firms at each tier at follow-up, rank order: the matrix's column totals.
    pub followup_tiers: Option<Vec<TierCount>>,
    /// Ready to customise, then at least each tier above the lowest.
    pub shares: Option<Vec<PairedShare>>,
    /// Each dimension score's mean change.
    pub score_changes: Option<Vec<ScoreChange>>,
    /// Kish effective sample size of the cell's weights; present when weighted and shown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub n_eff: Option<f64>,
}

/// A tier with a published count of firms.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TierCount {
    pub tier: String,
    pub rank: u8,
    /// Below the threshold, or hidden beside a published total.
    pub suppressed: bool,
    /// Firms (perturbed); `null` when suppressed.
    pub count: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChangeSegment {
    pub key: SegmentKey,
    #[serde(flatten)]
    pub cell: ChangeCell,
}

/// Paired change between a baseline and a follow-up window.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Change {
    pub panel: Panel,
    pub overall: ChangeCell,
    /// Segments by the firms' attributes in their baseline response, sorted by key.
    pub segments: Vec<ChangeSegment>,
    /// Present when the report is weighted and the panel not empty: how the panel's baseline
    /// responses were raked (each firm keeps its weight at follow-up).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weighting: Option<Weighting>,
}
