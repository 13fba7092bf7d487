//! Raking (iterative proportional fitting) of the sample to population margins.
//!
//! Every respondent in the same cross-classification cell ends with the same weight, so the
//! fitting runs on the small table of cell counts, not on the rows. Each cross-section a
//! report publishes (the report's window, or each period of a trend) is raked on its own.
//!
//! What raking cannot do is said, never hidden:
//!
//! - a margin category the sample has no respondent in cannot be reached; it is left out, the
//!   other targets are renormalised among the categories present, and [`Raked::dropped`]
//!   names it with its share of the population;
//! - a category the sample has but the margins give a population of 0 would be weighted to
//!   nothing and its estimates published as zeros: refused ([`WeightingError::ZeroCount`]);
//! - margins that cannot all be met at once (raking stops after [`MAX_ROUNDS`]) leave
//!   [`Raked::max_discrepancy`] above [`DISCREPANCY_TOLERANCE`].

use std::collections::BTreeMap;

/// Stop when no cell weight changes by more than this (relative) in a full round.
pub const TOLERANCE: f64 = 1e-9;
/// Give up fitting after this many rounds (the weights reached are used).
pub const MAX_ROUNDS: usize = 100;
/// The largest difference between a margin category's weighted sample share and its target
/// share (0–1) that still counts as calibrated: 0.001, a tenth of a percentage point.
pub const DISCREPANCY_TOLERANCE: f64 = 0.001;

/// The category of the region margin that firms without a region fall in.
pub const REGION_NOT_STATED: &str = "not_stated";

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum WeightingError {
    #[error("the sample has {dimension} `{category}`, which the population margins do not list")]
    MissingCategory { dimension: String, category: String },
    #[error(
        "the sample has firms that gave no region, which the population margins do not list; \
         add them to the region margin as `not_stated`"
    )]
    RegionNotStated,
    #[error("the population margin for {0} has no positive total")]
    EmptyMargin(String),
    #[error("the population margin for {dimension} has an invalid count for `{category}`")]
    InvalidCount { dimension: String, category: String },
    #[error(
        "the population margin for {dimension} gives `{category}` a count of 0, but the sample \
         has firms there, whose estimates would be fake zeros; store the margins without it"
    )]
    ZeroCount { dimension: String, category: String },
}

/// A margin category the sample has no respondent in, left out of the raking.
#[derive(Debug, Clone, PartialEq)]
pub struct Dropped {
    pub dimension: String,
    pub category: String,
    /// The category's share of the margin's population total, 0–1.
    pub population_share: f64,
}

/// The outcome of raking.
#[derive(Debug, Clone, PartialEq)]
pub struct Raked {
    /// One weight per cell (per respondent in that cell), in the order given.
    pub weights: Vec<f64>,
    pub rounds: usize,
    /// The largest difference, over every margin category the sample has, between its
    /// weighted share of the sample and its target share (0–1).
    pub max_discrepancy: f64,
    /// Margin categories with no respondent, in margin order.
    pub dropped: Vec<Dropped>,
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
    let mut dropped = Vec::new();
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
            let Some(population) = margin.get(category) else {
                return Err(missing(dimension, category));
            };
            if *population <= 0.0 {
                return Err(WeightingError::ZeroCount {
                    dimension: (*dimension).clone(),
                    category: category.to_owned(),
                });
            }
            present.insert(category, *population);
        }
        let margin_total: f64 = margin.values().sum();
        if margin_total <= 0.0 && total > 0.0 {
            return Err(WeightingError::EmptyMargin((*dimension).clone()));
        }
        if total > 0.0 {
            dropped.extend(
                margin
                    .iter()
                    .filter(|(category, count)| {
                        **count > 0.0 && !present.contains_key(category.as_str())
                    })
                    .map(|(category, count)| Dropped {
                        dimension: (*dimension).clone(),
                        category: category.clone(),
                        population_share: count / margin_total,
                    }),
            );
        }
        let sum: f64 = present.values().sum();
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
            let current = weighted_margin(cells, &weights, d);
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
    let mut max_discrepancy: f64 = 0.0;
    if total > 0.0 {
        for (d, target) in targets.iter().enumerate() {
            let reached = weighted_margin(cells, &weights, d);
            for (category, want) in target {
                let have = reached.get(category).copied().unwrap_or_default();
                max_discrepancy = max_discrepancy.max((have - want).abs() / total);
            }
        }
    }
    Ok(Raked {
        weights,
        rounds,
        max_discrepancy,
        dropped,
    })
}

/// The weighted count of each category of dimension `d`.
fn weighted_margin<'a>(
    cells: &'a [(Vec<String>, f64)],
    weights: &[f64],
    d: usize,
) -> BTreeMap<&'a str, f64> {
    let mut current: BTreeMap<&str, f64> = BTreeMap::new();
    for ((categories, n), w) in cells.iter().zip(weights) {
        *current.entry(categories[d].as_str()).or_default() += n * w;
    }
    current
}

fn missing(dimension: &str, category: &str) -> WeightingError {
    if dimension == "region" && category == REGION_NOT_STATED {
        WeightingError::RegionNotStated
    } else {
        WeightingError::MissingCategory {
            dimension: dimension.to_owned(),
            category: category.to_owned(),
        }
    }
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
        assert!(raked.max_discrepancy < 1e-12);
        assert!(raked.dropped.is_empty());
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
        assert!(raked.max_discrepancy < 1e-9, "{raked:?}");
        let w = &raked.weights;
        let industry_c = 10.0 * w[0] + 20.0 * w[1];
        let micro = 10.0 * w[0] + 30.0 * w[2];
        assert!((industry_c - 50.0).abs() < 1e-6, "{industry_c}");
        assert!((micro - 80.0).abs() < 1e-6, "{micro}");
    }

    #[test]
    fn infeasible_margins_leave_a_discrepancy() {
        // Every micro firm is in C, every small one in G: industry and size are one variable,
        // so 90 % micro and 50 % C cannot both hold. The last margin raked (size_band) is met;
        // industry stays at C = 0.9 against a target of 0.5.
        let cells = [cell(&["C", "micro"], 10.0), cell(&["G", "small"], 10.0)];
        let margins = margins(&[
            ("industry", &[("C", 50.0), ("G", 50.0)]),
            ("size_band", &[("micro", 90.0), ("small", 10.0)]),
        ]);
        let raked = rake(&cells, &margins).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(raked.rounds, MAX_ROUNDS);
        assert!((raked.max_discrepancy - 0.4).abs() < 1e-12, "{raked:?}");
    }

    #[test]
    fn a_category_without_respondents_is_dropped_and_named() {
        let raked = rake(
            &[cell(&["micro"], 30.0), cell(&["small"], 10.0)],
            &margins(&[(
                "size_band",
                &[("micro", 600.0), ("small", 200.0), ("medium", 200.0)],
            )]),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            raked.dropped,
            [Dropped {
                dimension: "size_band".into(),
                category: "medium".into(),
                population_share: 0.2,
            }]
        );
        // Renormalised: 75 % micro → weights 1.0 and 1.0.
        assert!((raked.weights[0] - 1.0).abs() < 1e-12);
    }

    #[test]
    fn a_zero_population_with_respondents_is_refused() {
        let error = rake(
            &[cell(&["micro"], 3.0), cell(&["small"], 1.0)],
            &margins(&[("size_band", &[("micro", 10.0), ("small", 0.0)])]),
        );
        assert_eq!(
            error,
            Err(WeightingError::ZeroCount {
                dimension: "size_band".into(),
                category: "small".into()
            })
        );
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
        let error = rake(
            &[cell(&[REGION_NOT_STATED], 3.0)],
            &margins(&[("region", &[("DE-BY", 1.0)])]),
        );
        assert_eq!(error, Err(WeightingError::RegionNotStated));
    }
}
