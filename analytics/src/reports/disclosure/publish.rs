//! The figures reports publish, each made here from the true figures of a cell and its cell
//! key. A [`Published`] count can only be made by a [`DisclosurePolicy`], so report code has
//! no count to put in a report that did not pass through it.
//!
//! # Counts
//!
//! A cell's size is its perturbed count; a count inside it (a tier, the ready firms, the
//! firms failing a gate) is perturbed with its own cell key and capped at the cell's
//! published size. Shares and Wilson intervals are computed from the published counts.
//!
//! # Means of magnitudes
//!
//! The mean of a dimension score (0–100) in a cell of `n` rows is published as
//! `clamp((Σ score + 100 · m) / n_published, 0, 100)`, rounded to 0.1. `m` comes from
//! [`MEAN_NOISE`], 256 values of mean 0 and standard deviation 0.5 spread uniformly over
//! ±0.866, stored in a fixed random order, at an index mixed from the cell key, the cell's
//! true row count and the dimension. The noise is thus worth half a firm's whole score range
//! on the sum: `mean × n` of two windows that differ by one firm differs by that firm's score
//! plus the difference of two draws of `100 · m` (standard deviation about 71 points), and the
//! five dimensions draw independently, so their differences do not show the firm's profile
//! either. The row count takes part in the index because a firm whose record key is 0 leaves
//! the cell key as it was: by the key alone its cell would keep its noise and the difference
//! would be the firm's score exactly. The same rows always get the same mean.
//!
//! The mean change of a dimension among paired firms (follow-up minus baseline, −100 to 100)
//! is published the same way with noise `200 · m` (a difference spans 200 points), drawn at
//! an index of its own, and clamped to ±100.
//!
//! # Weighted figures
//!
//! Raking weights are fitted on true counts, so each weighted total of a cell (Σw, Σw², and
//! Σw over the firms at a tier, ready, or failing a gate) is scaled by the published count of
//! the rows it sums over divided by their true count before shares and the Kish effective
//! sample size are computed. With equal weights the weighted share is then the published
//! share and `n_eff` the published size, and no weighted figure is a function of true counts
//! alone. Weighted figures are published only for cells that are shown.
//!
//! A weighted mean of a dimension score is `Σ w·score / Σ w` (the scaling cancels) plus
//! `100 · m / n_published`, with `m` drawn like the unweighted mean's noise but from a
//! different index, so that the difference of the weighted and the unweighted mean of a cell
//! carries noise too; rounded to 0.1 like the unweighted means.
//!
//! # Clustered intervals
//!
//! Where a firm's several responses count (basis `all`), a share's 95 % Wilson interval is
//! taken on the effective sample size `n_published / deff`, the design effect `deff` of
//! firm clustering coming from [`crate::reports::stats::cluster_deff`] on the true figures,
//! as the Kish effective size does for weights.
//!
//! # Weighting diagnostics
//!
//! The largest remaining margin discrepancy of a raking is published rounded to 0.0001
//! ([`discrepancy`]). A margin category the sample has no firm in is named with its share of
//! the population (a figure of the margins, not of the sample); that a category has no firm
//! tells no more than the list of segments of a breakdown by it, which lists every
//! combination that occurs, suppressed or not.

use super::DisclosurePolicy;
use crate::reports::model::Estimate;
use crate::reports::stats::wilson;

/// The largest score a firm contributes to a dimension's sum: the scale of the mean noise.
pub const SCORE_RANGE: f64 = 100.0;

/// A true count of a cell and the cell key of the rows it counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    pub count: u64,
    pub key: u8,
}

/// A count as it is published: made only by a [`DisclosurePolicy`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Published(u64);

impl Published {
    pub fn get(self) -> u64 {
        self.0
    }
}

impl DisclosurePolicy {
    /// The published size of a cell (also the figure the threshold is applied to when the
    /// tally counts the cell's distinct firms).
    pub fn size(&self, cell: Tally) -> Published {
        Published(self.perturbed(cell.count, cell.key))
    }

    /// A published count inside a cell whose published size is `of`: perturbed with its own
    /// cell key, and never more than the cell.
    pub fn part(&self, part: Tally, of: Published) -> Published {
        Published(self.perturbed(part.count, part.key).min(of.0))
    }

    /// Whether a cell whose distinct firms are published as `firms` is shown.
    pub fn shows(&self, firms: Published) -> bool {
        firms.0 >= self.min_cell()
    }

    /// The published mean of dimension `dimension` (0–4) of a cell: `sum` is the true sum of
    /// its scores over the rows `cell` counts, `n` the cell's published size.
    pub fn mean(&self, sum: f64, cell: Tally, n: Published, dimension: usize) -> f64 {
        self.noisy_mean(&SCORE, sum, cell, n, dimension)
    }

    /// The published weighted mean of dimension `dimension` (0–4) of a cell: `weighted_sum`
    /// is Σ w·score and `sum_of_weights` Σ w over the rows `cell` counts (true or scaled
    /// alike), `n` the cell's published size.
    pub fn weighted_mean(
        &self,
        weighted_sum: f64,
        sum_of_weights: f64,
        cell: Tally,
        n: Published,
        dimension: usize,
    ) -> Option<f64> {
        self.noisy_weighted_mean(&SCORE, weighted_sum, sum_of_weights, cell, n, dimension)
    }

    /// The published mean change of dimension `dimension` (0–4) of a cell of paired firms:
    /// `sum` is the true sum of the firms' differences (follow-up minus baseline score) over
    /// the firms `cell` counts, `n` the cell's published size. Noise as for a mean, on the
    /// scale of a difference's range (200 points), drawn at an index of its own.
    pub fn mean_change(&self, sum: f64, cell: Tally, n: Published, dimension: usize) -> f64 {
        self.noisy_mean(&CHANGE, sum, cell, n, dimension)
    }

    /// The published weighted mean change: `Σ w·d / Σ w` plus noise of its own, as
    /// [`DisclosurePolicy::weighted_mean`] does for a mean.
    pub fn weighted_mean_change(
        &self,
        weighted_sum: f64,
        sum_of_weights: f64,
        cell: Tally,
        n: Published,
        dimension: usize,
    ) -> Option<f64> {
        self.noisy_weighted_mean(&CHANGE, weighted_sum, sum_of_weights, cell, n, dimension)
    }

    /// `sum / n` with noise of `scale.range` times the cell's noise at `scale.salt` added to
    /// the sum, clamped to the scale and rounded to 0.1 (exact with the exact table).
    fn noisy_mean(
        &self,
        scale: &MeanScale,
        sum: f64,
        cell: Tally,
        n: Published,
        dimension: usize,
    ) -> f64 {
        if n.0 == 0 {
            return 0.0;
        }
        if self.table().is_exact() {
            return sum / n.0 as f64;
        }
        let noise = scale.range * noise_at(cell, dimension, scale.salt);
        scale.published((sum + noise) / n.0 as f64)
    }

    /// `Σ w·x / Σ w` with noise of its own (at `scale.weighted_salt`), as much as the
    /// unweighted mean of `n` rows would get.
    fn noisy_weighted_mean(
        &self,
        scale: &MeanScale,
        weighted_sum: f64,
        sum_of_weights: f64,
        cell: Tally,
        n: Published,
        dimension: usize,
    ) -> Option<f64> {
        if n.0 == 0 || sum_of_weights <= 0.0 {
            return None;
        }
        let mean = weighted_sum / sum_of_weights;
        if self.table().is_exact() {
            return Some(mean);
        }
        let noise = scale.range * noise_at(cell, dimension, scale.weighted_salt) / n.0 as f64;
        Some(scale.published(mean + noise))
    }
}

/// What a published mean is of: the range of its values (the scale of its noise), where it
/// is clamped, and the salts of its noise, unweighted and weighted.
struct MeanScale {
    range: f64,
    low: f64,
    salt: u64,
    weighted_salt: u64,
}

impl MeanScale {
    /// A noisy mean as published: clamped to `[low, SCORE_RANGE]` and rounded to 0.1.
    fn published(&self, value: f64) -> f64 {
        (value.clamp(self.low, SCORE_RANGE) * 10.0).round() / 10.0
    }
}

/// Dimension scores, 0 to 100.
const SCORE: MeanScale = MeanScale {
    range: SCORE_RANGE,
    low: 0.0,
    salt: MEAN_SALT,
    weighted_salt: WEIGHTED_MEAN_SALT,
};

/// A firm's score change, −100 to 100.
const CHANGE: MeanScale = MeanScale {
    range: CHANGE_RANGE,
    low: -SCORE_RANGE,
    salt: CHANGE_SALT,
    weighted_salt: WEIGHTED_CHANGE_SALT,
};

/// The range of a firm's score difference: the scale of the noise of a mean change.
const CHANGE_RANGE: f64 = 2.0 * SCORE_RANGE;
const CHANGE_SALT: u64 = 0x6368_616e_6765_5f6d; // "change_m"
const WEIGHTED_CHANGE_SALT: u64 = 0x7763_6861_6e67_655f; // "wchange_"

/// The precision weighting diagnostics are published to: 1 / 10,000.
pub const DISCREPANCY_PRECISION: f64 = 10_000.0;

/// A raking's largest remaining margin discrepancy as published: rounded to 0.0001.
pub fn discrepancy(value: f64) -> f64 {
    (value * DISCREPANCY_PRECISION).round() / DISCREPANCY_PRECISION
}

/// A published count with its share of the published cell size and the 95 % Wilson interval
/// on the effective sample size `of / deff` (`deff` ≥ 1: the design effect of clustering).
pub fn clustered_estimate(part: Published, of: Published, deff: f64) -> Estimate {
    let (count, n) = (part.0 as f64, of.0 as f64);
    let share = if of.0 > 0 { count / n } else { 0.0 };
    let n_eff = n / deff.max(1.0);
    let (ci_low, ci_high) = wilson(share * n_eff, n_eff).unwrap_or((0.0, 0.0));
    Estimate {
        count: part.0,
        share,
        ci_low,
        ci_high,
    }
}

/// A weighted total of rows whose true count is `count`, scaled to their published count.
pub fn scaled_total(total: f64, count: u64, published: Published) -> f64 {
    if count == 0 {
        0.0
    } else {
        total * published.0 as f64 / count as f64
    }
}

/// A published count with its share of the published cell size and its 95 % Wilson interval.
pub fn estimate(part: Published, of: Published) -> Estimate {
    let (count, n) = (part.0 as f64, of.0 as f64);
    let (ci_low, ci_high) = wilson(count, n).unwrap_or((0.0, 0.0));
    Estimate {
        count: part.0,
        share: if of.0 > 0 { count / n } else { 0.0 },
        ci_low,
        ci_high,
    }
}

/// Half the width of the uniform spread of [`MEAN_NOISE`]: √3 · 0.5, for a standard
/// deviation of 0.5.
const HALF_WIDTH: f64 = 0.866_025_403_784_438_6;

/// The noise of means, in units of [`SCORE_RANGE`]: 256 evenly spaced values over
/// ±0.866 = ±√3/2 (mean 0, standard deviation 0.49999), shuffled once by a seeded
/// Fisher–Yates.
pub const MEAN_NOISE: [f64; 256] = mean_noise_table();

const fn mean_noise_table() -> [f64; 256] {
    let mut table = [0.0; 256];
    let mut i = 0;
    while i < 256 {
        table[i] = HALF_WIDTH * ((2 * i + 1) as f64 / 256.0 - 1.0);
        i += 1;
    }
    let mut state: u64 = 0x6d65_616e_5f6e_6f69; // "mean_noi"
    let mut i = 255;
    while i > 0 {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let j = (mix(state) % (i as u64 + 1)) as usize;
        let swapped = table[i];
        table[i] = table[j];
        table[j] = swapped;
        i -= 1;
    }
    table
}

/// The SplitMix64 finaliser.
const fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The mean noise of one dimension of a cell, from its key, its true row count and the
/// dimension.
/// What unweighted means add to the index.
const MEAN_SALT: u64 = 0x9e37_79b9_7f4a_7c15;

/// What weighted means add to the index, instead of the unweighted means' constant.
const WEIGHTED_MEAN_SALT: u64 = 0x7765_6967_6874_6564; // "weighted"

fn noise_at(cell: Tally, dimension: usize, salt: u64) -> f64 {
    let dimension = u64::try_from(dimension).unwrap_or(u64::MAX) & 0x7;
    let input = (cell.count << 11) ^ (dimension << 8) ^ u64::from(cell.key);
    MEAN_NOISE[(mix(input.wrapping_add(salt)) % 256) as usize]
}
