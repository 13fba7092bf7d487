//! Interval estimates. Plain functions of counts: the Polars pipelines produce the counts.

/// The 97.5 % quantile of the standard normal distribution: 95 % two-sided intervals.
pub const Z95: f64 = 1.959963984540054;

/// The 95 % Wilson score interval of `successes` out of `n` (never the Wald interval). `n`
/// may be fractional (a Kish effective sample size). `None` when `n` is not positive.
pub fn wilson(successes: f64, n: f64) -> Option<(f64, f64)> {
    if n <= 0.0 || !n.is_finite() {
        return None;
    }
    let p = (successes / n).clamp(0.0, 1.0);
    let z2 = Z95 * Z95;
    let denominator = 1.0 + z2 / n;
    let centre = (p + z2 / (2.0 * n)) / denominator;
    let half = Z95 / denominator * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    Some(((centre - half).max(0.0), (centre + half).min(1.0)))
}

/// Kish's effective sample size of a weighted sample: (Σw)² / Σw².
pub fn kish_n_eff(sum_w: f64, sum_w2: f64) -> f64 {
    if sum_w2 > 0.0 {
        sum_w * sum_w / sum_w2
    } else {
        0.0
    }
}

/// Sums over the clusters (firms) of a cell, for a share `p = Σ y / Σ m`: per firm `g`,
/// `y_g` is its (weighted) count of responses with the attribute and `m_g` its (weighted)
/// count of responses (Σ w over them when weighted).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ClusterSums {
    /// The number of firms, G.
    pub clusters: f64,
    /// Σ_g y_g².
    pub y2: f64,
    /// Σ_g y_g · m_g.
    pub ym: f64,
    /// Σ_g m_g².
    pub m2: f64,
}

/// The cluster-robust (firm as cluster) variance of the share `p` of a cell whose (weighted)
/// number of responses is `total`: the sandwich estimator of a regression on a constant with
/// the usual small-sample factor, `G / (G − 1) · Σ_g (y_g − p · m_g)² / total²` (as
/// statsmodels' OLS and WLS with `cov_type="cluster"` compute it). `None` with fewer than two
/// firms.
pub fn cluster_variance(p: f64, total: f64, sums: ClusterSums) -> Option<f64> {
    let g = sums.clusters;
    if g < 2.0 || total <= 0.0 {
        return None;
    }
    let residual = (sums.y2 - 2.0 * p * sums.ym + p * p * sums.m2).max(0.0);
    Some(g / (g - 1.0) * residual / (total * total))
}

/// The design effect of firm clustering on the share `p`: the cluster-robust variance over
/// the variance of a share of `n_srs` independent responses, `p (1 − p) / n_srs` (`n_srs` is
/// the number of responses, or their Kish effective size when weighted). Never below 1, so a
/// clustered interval is never narrower than one that treats responses as independent; 1 when
/// `p` is 0 or 1 or the cell has fewer than two firms.
pub fn cluster_deff(p: f64, total: f64, n_srs: f64, sums: ClusterSums) -> f64 {
    let independent = p * (1.0 - p) / n_srs;
    match cluster_variance(p, total, sums) {
        Some(clustered) if independent > 0.0 && independent.is_finite() => {
            (clustered / independent).max(1.0)
        }
        _ => 1.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wilson_matches_hand_computation() {
        // 3 of 10: p = 0.3, z² = 3.841458820694124
        // centre = (0.3 + 0.1920729410) / 1.3841458821 = 0.3555369
        // half = 1.959963985 / 1.3841458821 * sqrt(0.021 + 0.0096036471) = 0.2477101
        let (low, high) = wilson(3.0, 10.0).unwrap_or_default();
        assert!((low - 0.10779126740630099).abs() < 1e-12, "{low}");
        assert!((high - 0.6032218525388546).abs() < 1e-12, "{high}");
    }

    #[test]
    fn wilson_stays_inside_zero_and_one() {
        let (low, high) = wilson(0.0, 5.0).unwrap_or_default();
        assert_eq!(low, 0.0);
        assert!(high > 0.0 && high < 1.0);
        let (low, high) = wilson(5.0, 5.0).unwrap_or_default();
        assert!(low > 0.0 && low < 1.0);
        assert_eq!(high, 1.0);
        assert_eq!(wilson(0.0, 0.0), None);
    }

    #[test]
    fn clustered_variance_matches_hand_computation() {
        // Firms: A answered 3 times (2 with the attribute), B once (0), C twice (2).
        // p = 4 / 6; residuals per firm: 2 − 3p = 0, 0 − p = −2/3, 2 − 2p = 2/3
        // V = 3/2 · (0 + 4/9 + 4/9) / 36 = 1/27
        let p = 4.0 / 6.0;
        let sums = ClusterSums {
            clusters: 3.0,
            y2: 4.0 + 0.0 + 4.0,
            ym: 6.0 + 0.0 + 4.0,
            m2: 9.0 + 1.0 + 4.0,
        };
        let v = cluster_variance(p, 6.0, sums).unwrap_or_default();
        assert!((v - 1.0 / 27.0).abs() < 1e-15, "{v}");
        // Independent: p (1 − p) / 6 = 1/27 too, so deff = 1.
        assert!((cluster_deff(p, 6.0, 6.0, sums) - 1.0).abs() < 1e-12);
        // One firm: no clustering to estimate.
        let one = ClusterSums {
            clusters: 1.0,
            ..sums
        };
        assert_eq!(cluster_deff(p, 6.0, 6.0, one), 1.0);
        // A: 3 responses all with it, B: 3 without; p = 1/2, residuals ±3/2:
        // V = 2 · 9/2 / 36 = 1/4 against 1/24 independent: deff 6.
        let split = ClusterSums {
            clusters: 2.0,
            y2: 9.0,
            ym: 9.0,
            m2: 18.0,
        };
        assert!((cluster_deff(0.5, 6.0, 6.0, split) - 6.0).abs() < 1e-12);
    }

    #[test]
    fn equal_weights_keep_the_sample_size() {
        assert!((kish_n_eff(10.0, 10.0) - 10.0).abs() < 1e-12);
        assert!((kish_n_eff(4.0, 10.0) - 1.6).abs() < 1e-12);
    }
}
