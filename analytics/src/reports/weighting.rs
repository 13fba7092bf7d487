//! Raking (iterative proportional fitting) of the sample to population margins.
//!
//! Every respondent in the same cross-classification cell ends with the same weight, so the
//! fitting runs on the small table of cell counts, not on the rows.

use std::collections::BTreeMap;

/// Stop when no cell weight changes by more than this (relative) in a full round.
pub const TOLERANCE: f64 = 1e-9;
/// Give up fitting after this many rounds (the weights reached are used).
pub const MAX_ROUNDS: usize = 100;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum WeightingError {
    #[error("the sample has {dimension} `{category}`, which the population margins do not list")]
    MissingCategory { dimension: String, category: String },
    #[error("the population margin for {0} has no positive total")]
    EmptyMargin(String),
    #[error("the population margin for {dimension} has an invalid count for `{category}`")]
    InvalidCount { dimension: String, category: String },
}

/// The outcome of raking.
#[derive(Debug, Clone, PartialEq)]
pub struct Raked {
    /// One weight per cell (per respondent in that cell), in the order given.
    pub weights: Vec<f64>,
    pub rounds: usize,
    pub converged: bool,
}

/// Rakes cells to margins. `cells[i]` holds the cell's category in each margin dimension (in
/// `margins` key order) and its respondent count. Targets are the margins' population shares
/// among the categories present in the sample, scaled to the sample size, so weights average 1.
pub fn rake(
    cells: &[(Vec<String>, f64)],
    margins: &BTreeMap<String, BTreeMap<String, f64>>,
) -> Result<Raked, WeightingError> {
    let dimensions: Vec<(&String, &BTreeMap<String, f64>)> = margins.iter().collect();
    let total: f64 = cells.iter().map(|(_, n)| n).sum();
    let mut targets: Vec<BTreeMap<&str, f64>> = Vec::new();
    for (d, (dimension, margin)) in dimensions.iter().enumerate() {
        for (category, count) in margin.iter() {
            if !count.is_finite() || *count < 0.0 {
                return Err(WeightingError::InvalidCount {
                    dimension: (*dimension).clone(),
                    category: category.clone(),
                });
            }
        }
        let mut present: BTreeMap<&str, f64> = BTreeMap::new();
        for (categories, _) in cells {
            let category = categories[d].as_str();
            let population =
                margin
                    .get(category)
                    .ok_or_else(|| WeightingError::MissingCategory {
                        dimension: (*dimension).clone(),
                        category: category.to_owned(),
                    })?;
            present.insert(category, *population);
        }
        let sum: f64 = present.values().sum();
        if sum <= 0.0 && total > 0.0 {
            return Err(WeightingError::EmptyMargin((*dimension).clone()));
        }
        targets.push(
            present
                .into_iter()
                .map(|(category, population)| (category, population / sum * total))
                .collect(),
        );
    }

    let mut weights = vec![1.0; cells.len()];
    let mut rounds = 0;
    let mut converged = dimensions.is_empty();
    while !converged && rounds < MAX_ROUNDS {
        rounds += 1;
        let mut largest_change: f64 = 0.0;
        for (d, target) in targets.iter().enumerate() {
            let mut current: BTreeMap<&str, f64> = BTreeMap::new();
            for ((categories, n), w) in cells.iter().zip(&weights) {
                *current.entry(categories[d].as_str()).or_default() += n * w;
            }
            for ((categories, _), w) in cells.iter().zip(weights.iter_mut()) {
                let category = categories[d].as_str();
                let have = current.get(category).copied().unwrap_or_default();
                let want = target.get(category).copied().unwrap_or_default();
                let factor = if have > 0.0 { want / have } else { 1.0 };
                largest_change = largest_change.max((factor - 1.0).abs());
                *w *= factor;
            }
        }
        converged = largest_change < TOLERANCE;
    }
    Ok(Raked {
        weights,
        rounds,
        converged,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn margins(pairs: &[(&str, &[(&str, f64)])]) -> BTreeMap<String, BTreeMap<String, f64>> {
        pairs
            .iter()
            .map(|(d, m)| {
                (
                    (*d).to_owned(),
                    m.iter().map(|(c, v)| ((*c).to_owned(), *v)).collect(),
                )
            })
            .collect()
    }

    fn cell(categories: &[&str], n: f64) -> (Vec<String>, f64) {
        (categories.iter().map(|c| (*c).to_owned()).collect(), n)
    }

    #[test]
    fn one_margin_is_matched_exactly() {
        // Sample 30 micro, 10 small; population 90 % micro: weights 1.2 and 0.4.
        let raked = rake(
            &[cell(&["micro"], 30.0), cell(&["small"], 10.0)],
            &margins(&[("size_band", &[("micro", 900.0), ("small", 100.0)])]),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(raked.converged);
        assert!((raked.weights[0] - 1.2).abs() < 1e-12);
        assert!((raked.weights[1] - 0.4).abs() < 1e-12);
    }

    #[test]
    fn two_margins_are_both_matched() {
        let cells = [
            cell(&["C", "micro"], 10.0),
            cell(&["C", "small"], 20.0),
            cell(&["G", "micro"], 30.0),
            cell(&["G", "small"], 40.0),
        ];
        let margins = margins(&[
            ("industry", &[("C", 50.0), ("G", 50.0)]),
            ("size_band", &[("micro", 80.0), ("small", 20.0)]),
        ]);
        let raked = rake(&cells, &margins).unwrap_or_else(|e| panic!("{e}"));
        assert!(raked.converged, "{raked:?}");
        let w = &raked.weights;
        let industry_c = 10.0 * w[0] + 20.0 * w[1];
        let micro = 10.0 * w[0] + 30.0 * w[2];
        assert!((industry_c - 50.0).abs() < 1e-6, "{industry_c}");
        assert!((micro - 80.0).abs() < 1e-6, "{micro}");
    }

    #[test]
    fn a_sample_category_missing_from_the_margins_is_an_error() {
        let error = rake(
            &[cell(&["large"], 3.0)],
            &margins(&[("size_band", &[("micro", 1.0)])]),
        );
        assert_eq!(
            error,
            Err(WeightingError::MissingCategory {
                dimension: "size_band".into(),
                category: "large".into()
            })
        );
    }
}
