//! Official statistics a report can be read against, kept as data with their sources.

use std::sync::LazyLock;

use serde::{Deserialize, Serialize};

/// One published figure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ReferenceFigure {
    /// Publisher and dataset, e.g. `Eurostat isoc_eb_ai`.
    pub source: String,
    pub year: i32,
    /// Who was counted.
    pub population: String,
    /// What was measured.
    pub measure: String,
    /// Fraction, 0–1.
    pub share: f64,
    /// Where the figure is published.
    pub url: String,
}

const FIGURES: &str = include_str!("../../reference/figures.json");

static PARSED: LazyLock<Vec<ReferenceFigure>> =
    LazyLock::new(|| serde_json::from_str(FIGURES).unwrap_or_default());

/// Every reference figure, as shipped.
pub fn reference_figures() -> &'static [ReferenceFigure] {
    &PARSED
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_figures_file_parses_and_lists_the_eurostat_and_oecd_figures() {
        let parsed: Vec<super::ReferenceFigure> =
            serde_json::from_str(super::FIGURES).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(parsed.len(), super::reference_figures().len());
        assert!(parsed.iter().any(|f| f.source.contains("isoc_eb_ai")
            && f.year == 2024
            && (f.share - 0.1348).abs() < 1e-9));
        assert!(
            parsed
                .iter()
                .any(|f| f.source.contains("OECD") && (f.share - 0.05).abs() < 1e-9)
        );
    }
}
