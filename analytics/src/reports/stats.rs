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
    fn equal_weights_keep_the_sample_size() {
        assert!((kish_n_eff(10.0, 10.0) - 10.0).abs() < 1e-12);
        assert!((kish_n_eff(4.0, 10.0) - 1.6).abs() < 1e-12);
    }
}
