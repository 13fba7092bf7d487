//! Statistics of paired data: the same firms observed at a baseline and a follow-up. Plain
//! functions of counts and sums; the change report publishes their inputs through the
//! disclosure module first.

use super::stats::{Z95, wilson};

/// A paired 2×2 table of firms by whether an attribute held at baseline and at follow-up.
/// Counts may be fractional (weighted counts scaled to an effective sample size).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PairedTable {
    /// Held at both.
    pub both: f64,
    /// Held at baseline only (lost).
    pub baseline_only: f64,
    /// Held at follow-up only (gained).
    pub followup_only: f64,
    /// Held at neither.
    pub neither: f64,
}

impl PairedTable {
    pub fn n(&self) -> f64 {
        self.both + self.baseline_only + self.followup_only + self.neither
    }
}

/// Newcombe's hybrid score interval for the difference of paired proportions, follow-up
/// minus baseline (Newcombe 1998, *Statistics in Medicine* 17:2635, method 10): the 95 %
/// Wilson score intervals of the two marginal shares (without continuity correction) combined
/// with the correlation coefficient of the table, `φ* = C / √(efgh)` where `efgh` is the
/// product of the four margins and `C = ad − bc − n/2` when `ad − bc > n/2`, `0` when
/// `0 ≤ ad − bc ≤ n/2` and `ad − bc` when negative (`φ* = 0` when a margin is empty).
/// Returns (difference, low, high); `None` for an empty table.
pub fn newcombe_paired(table: PairedTable) -> Option<(f64, f64, f64)> {
    let n = table.n();
    if n <= 0.0 || !n.is_finite() {
        return None;
    }
    // p1: the follow-up share, p2: the baseline share, so that p1 − p2 is the change.
    let x1 = table.both + table.followup_only;
    let x2 = table.both + table.baseline_only;
    let (p1, p2) = (x1 / n, x2 / n);
    let (l1, u1) = wilson(x1, n)?;
    let (l2, u2) = wilson(x2, n)?;
    let margins = x1 * (n - x1) * x2 * (n - x2);
    let phi = if margins > 0.0 {
        let cross = table.both * table.neither - table.baseline_only * table.followup_only;
        let corrected = if cross > n / 2.0 {
            cross - n / 2.0
        } else if cross >= 0.0 {
            0.0
        } else {
            cross
        };
        corrected / margins.sqrt()
    } else {
        0.0
    };
    let difference = p1 - p2;
    let below = (p1 - l1).powi(2) - 2.0 * phi * (p1 - l1) * (u2 - p2) + (u2 - p2).powi(2);
    let above = (u1 - p1).powi(2) - 2.0 * phi * (u1 - p1) * (p2 - l2) + (p2 - l2).powi(2);
    let low = difference - below.max(0.0).sqrt();
    let high = difference + above.max(0.0).sqrt();
    Some((difference, low.max(-1.0), high.min(1.0)))
}

/// The exact McNemar test of `lost` against `gained` discordant pairs: two-sided, twice the
/// smaller tail of Binomial(lost + gained, ½), at most 1 (as statsmodels'
/// `mcnemar(exact=True)`), and its mid-p version, twice the smaller tail less half the
/// probability of the observed count, at most 1. Both are 1 without discordant pairs.
pub fn mcnemar_exact(lost: u64, gained: u64) -> (f64, f64) {
    let n = lost + gained;
    if n == 0 {
        return (1.0, 1.0);
    }
    let k = lost.min(gained);
    let (tail, at) = binomial_half_tail(n, k);
    ((2.0 * tail).min(1.0), (2.0 * (tail - at / 2.0)).min(1.0))
}

/// P(X ≤ k) and P(X = k) for X ~ Binomial(n, ½), summed in logarithms so that large `n`
/// neither underflows nor overflows.
fn binomial_half_tail(n: u64, k: u64) -> (f64, f64) {
    let log_half = -(n as f64) * std::f64::consts::LN_2;
    // ln C(n, i) for i = 0..=k.
    let mut logs = Vec::with_capacity(usize::try_from(k).unwrap_or(0) + 1);
    let mut log_choose = 0.0;
    for i in 0..=k {
        if i > 0 {
            log_choose += ((n - i + 1) as f64).ln() - (i as f64).ln();
        }
        logs.push(log_choose + log_half);
    }
    let top = logs.last().copied().unwrap_or(f64::NEG_INFINITY);
    let sum: f64 = logs.iter().map(|l| (l - top).exp()).sum();
    ((top + sum.ln()).exp().min(1.0), top.exp())
}

/// The mean of paired differences with its 95 % paired t interval, `mean ± t(0.975, ν) ·
/// sd / √n_eff` with `ν = n_eff − 1` and `sd` the sample standard deviation of the
/// differences. `None` below two pairs.
pub fn paired_t_interval(mean: f64, sd: f64, n_eff: f64) -> Option<(f64, f64)> {
    if n_eff < 2.0 || !n_eff.is_finite() || !sd.is_finite() {
        return None;
    }
    let half = t_quantile_975(n_eff - 1.0) * sd / n_eff.sqrt();
    Some((mean - half, mean + half))
}

/// The 97.5 % quantile of Student's t distribution with `df` degrees of freedom (fractional
/// allowed), by bisection on the distribution function.
pub fn t_quantile_975(df: f64) -> f64 {
    if !df.is_finite() || df > 1e7 {
        return Z95;
    }
    let (mut low, mut high) = (0.0_f64, 1.0e4_f64);
    for _ in 0..200 {
        let mid = 0.5 * (low + high);
        if t_upper_tail(mid, df) > 0.025 {
            low = mid;
        } else {
            high = mid;
        }
        if high - low < 1e-13 * high.max(1.0) {
            break;
        }
    }
    0.5 * (low + high)
}

/// P(T > t) for t ≥ 0: `I_x(ν/2, ½) / 2` with `x = ν / (ν + t²)`.
fn t_upper_tail(t: f64, df: f64) -> f64 {
    0.5 * regularized_beta(df / (df + t * t), df / 2.0, 0.5)
}

/// The regularised incomplete beta function I_x(a, b), from its continued fraction
/// (modified Lentz), using the symmetry I_x(a, b) = 1 − I_{1−x}(b, a) where that converges
/// faster.
fn regularized_beta(x: f64, a: f64, b: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let log_front = ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln();
    if x < (a + 1.0) / (a + b + 2.0) {
        log_front.exp() * beta_fraction(x, a, b) / a
    } else {
        1.0 - log_front.exp() * beta_fraction(1.0 - x, b, a) / b
    }
}

fn beta_fraction(x: f64, a: f64, b: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let clamp = |v: f64| if v.abs() < TINY { TINY } else { v };
    let mut c = 1.0;
    let mut d = 1.0 / clamp(1.0 - (a + b) * x / (a + 1.0));
    let mut h = d;
    for m in 1..10_000 {
        let m = f64::from(m);
        let even = m * (b - m) * x / ((a + 2.0 * m - 1.0) * (a + 2.0 * m));
        d = 1.0 / clamp(1.0 + even * d);
        c = clamp(1.0 + even / c);
        h *= d * c;
        let odd = -(a + m) * (a + b + m) * x / ((a + 2.0 * m) * (a + 2.0 * m + 1.0));
        d = 1.0 / clamp(1.0 + odd * d);
        c = clamp(1.0 + odd / c);
        let step = d * c;
        h *= step;
        if (step - 1.0).abs() < 1e-16 {
            break;
        }
    }
    h
}

/// ln Γ(x) for x > 0 (Lanczos, g = 7, nine coefficients; relative error about 1e-15).
fn ln_gamma(x: f64) -> f64 {
    const G: f64 = 7.0;
    const COEFFICIENTS: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Reflection: Γ(x) Γ(1 − x) = π / sin(πx).
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut sum = COEFFICIENTS[0];
    for (i, c) in COEFFICIENTS.iter().enumerate().skip(1) {
        sum += c / (x + i as f64);
    }
    let t = x + G + 0.5;
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + sum.ln()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(both: f64, baseline_only: f64, followup_only: f64, neither: f64) -> PairedTable {
        PairedTable {
            both,
            baseline_only,
            followup_only,
            neither,
        }
    }

    #[test]
    fn newcombe_matches_the_hand_computation() {
        // a = 8 held at both, b = 5 lost, c = 4 gained, d = 9, n = 26.
        // Baseline 13/26 = 0.5, Wilson (0.320552, 0.679448); follow-up 12/26 = 0.461538,
        // Wilson (0.287495, 0.645325). ad − bc = 52 > n/2 = 13, so C = 39 and
        // φ* = 39 / √(12·14·13·13) = 39 / 168.499 = 0.231455.
        // Lower: −1/26 − √(0.174043² − 2φ*·0.174043·0.179448 + 0.179448²) = −0.257558
        // Upper: −1/26 + √(0.183787² − 2φ*·0.183787·0.179448 + 0.179448²) = 0.186760
        let (difference, low, high) = newcombe_paired(table(8.0, 5.0, 4.0, 9.0)).unwrap();
        assert!((difference + 1.0 / 26.0).abs() < 1e-15);
        assert!((low + 0.257_558_264_360_209).abs() < 1e-12, "{low}");
        assert!((high - 0.186_759_891_350_041_3).abs() < 1e-12, "{high}");
        // Baseline and follow-up swapped: the interval is mirrored.
        let (d, l, h) = newcombe_paired(table(8.0, 4.0, 5.0, 9.0)).unwrap();
        assert!((d - 1.0 / 26.0).abs() < 1e-15);
        assert!((l + high).abs() < 1e-12 && (h + low).abs() < 1e-12);
    }

    #[test]
    fn newcombe_handles_empty_margins_and_tables() {
        assert_eq!(newcombe_paired(table(0.0, 0.0, 0.0, 0.0)), None);
        // Every firm gained: the follow-up share is 1, the baseline share 0, φ* = 0.
        let (d, low, high) = newcombe_paired(table(0.0, 0.0, 10.0, 0.0)).unwrap();
        let (l0, u0) = wilson(0.0, 10.0).unwrap();
        assert_eq!(d, 1.0);
        assert!((low - (1.0 - (u0 * u0 + u0 * u0).sqrt())).abs() < 1e-12);
        assert_eq!(high, 1.0);
        assert_eq!(l0, 0.0);
    }

    #[test]
    fn mcnemar_matches_binomial_sums() {
        // 1 lost, 6 gained: P(X ≤ 1) = (1 + 7) / 128 = 0.0625, p = 0.125;
        // mid-p = 2 (0.0625 − 7/256) = 0.0703125.
        let (p, mid) = mcnemar_exact(1, 6);
        assert!((p - 0.125).abs() < 1e-15, "{p}");
        assert!((mid - 0.070_312_5).abs() < 1e-15, "{mid}");
        // Equal counts: p = 1; 2 vs 2: mid-p = 2 (11/16 − 3/16) = 1.
        assert_eq!(mcnemar_exact(3, 3).0, 1.0);
        assert!((mcnemar_exact(2, 2).1 - 1.0).abs() < 1e-15);
        assert_eq!(mcnemar_exact(0, 0), (1.0, 1.0));
        // 0 vs 10: p = 2 / 1024, mid-p = 1 / 1024.
        let (p, mid) = mcnemar_exact(0, 10);
        assert!((p - 2.0 / 1024.0).abs() < 1e-18 && (mid - 1.0 / 1024.0).abs() < 1e-18);
        // Large n does not underflow: 5,000 vs 5,000 is p = 1.
        assert!((mcnemar_exact(5_000, 5_000).0 - 1.0).abs() < 1e-12);
    }

    #[test]
    fn t_quantiles_match_tables() {
        // Student t 97.5 % points (as scipy.stats.t.ppf gives them).
        for (df, expected) in [
            (1.0, 12.706_204_736_174_694),
            (2.0, 4.302_652_729_749_462),
            (9.0, 2.262_157_162_798_205),
            (29.0, 2.045_229_642_132_703),
            (1000.0, 1.962_339_080_826_408_3),
        ] {
            let t = t_quantile_975(df);
            assert!((t - expected).abs() < 1e-9, "df {df}: {t}");
        }
        // Four differences 1, 2, 3, 6: mean 3, sd √(14/3); t(3) = 3.182446305284263.
        let (low, high) = paired_t_interval(3.0, (14.0_f64 / 3.0).sqrt(), 4.0).unwrap();
        let half = 3.182_446_305_284_263 * (14.0_f64 / 3.0).sqrt() / 2.0;
        assert!((low - (3.0 - half)).abs() < 1e-9 && (high - (3.0 + half)).abs() < 1e-9);
        assert_eq!(paired_t_interval(1.0, 0.0, 1.0), None);
    }
}
