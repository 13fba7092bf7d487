//! The query parameters every report shares, parsed strictly: an unknown parameter or value
//! is a 422 naming it.

use readiness_analytics::reports::{Basis, DroppedCategories, Interval, SegmentField};
use serde::Deserialize;
use utoipa::IntoParams;

use super::super::query::{Filters, Name, QueryPairs, filter_name};
use crate::domain::params::MIN_CELL_MESSAGE;
pub use crate::domain::params::ReportParams;
use crate::http::problem::ApiError;
pub use crate::http::problem::query_pointer;
pub use crate::http::routes::query::FilterParamsDoc;

/// Report parameters as documented in the contract, besides [`FilterParamsDoc`] (parsing is
/// done by [`ReportQuery::parse`]).
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct ReportParamsDoc {
    /// `latest`: each firm's latest response in the window; `all`: every response. With
    /// `all`, a firm's responses are not independent: every share's 95 % Wilson interval is
    /// taken on `n / deff` (weighted: `n_eff / deff`), `deff` being the design effect of firm
    /// clustering, the cluster-robust variance of the share (firms as clusters, with the
    /// factor G / (G − 1)) over that of independent responses, never below 1.
    #[param(inline)]
    basis: Option<BasisParam>,
    /// Segment attributes: repeated (`by=industry&by=size_band`) or comma-separated
    /// (`by=industry,size_band`); absent = overall only.
    #[param(inline)]
    by: Option<Vec<ByParam>>,
    /// Smallest published cell, in firms. The publisher's threshold applies when absent; a
    /// request may raise it, never lower it (a lower value is refused with `422`).
    #[param(minimum = 1)]
    min_cell: Option<u64>,
    /// Name of stored population margins to rake the sample to. Each cross-section (the
    /// window; each period of a trend) is raked on its own, and segments are estimated with
    /// its weights. The reply's `weighting` says how it went: rounds, the largest remaining
    /// margin discrepancy against a tolerance of 0.001 (`converged`), and the margin
    /// categories with no firm in the sample (`dropped`). A sample category the margins do
    /// not list, or list with a count of 0, is refused (`422`).
    #[param(example = "eu-2024")]
    weights: Option<String>,
    /// With `weights`: `report` (the default) weights to the margin categories the sample
    /// has and names the others in `weighting.dropped`; `refuse` refuses such a report with
    /// `422`, naming each dropped category under `/query/weights`.
    #[param(inline)]
    dropped_categories: Option<DroppedCategoriesParam>,
}

/// Trend parameters: the report parameters and the period length.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct TrendParamsDoc {
    /// Period length.
    #[param(inline)]
    interval: Option<IntervalParam>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BasisParam {
    Latest,
    All,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ByParam {
    Industry,
    SizeBand,
    Country,
    Region,
    Version,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DroppedCategoriesParam {
    Report,
    Refuse,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum IntervalParam {
    Month,
    Quarter,
}

/// Maps report query pairs onto [`ReportParams`]: every unknown, repeated or unreadable
/// parameter is named, and so is every problem [`ReportParams::check`] finds.
pub struct ReportQuery;

impl ReportQuery {
    /// Parses the raw query pairs; `with_interval` admits `interval` (trend).
    /// `threshold` is the publisher's, which `min_cell` may only raise.
    pub fn parse(
        pairs: &[(String, String)],
        with_interval: bool,
        threshold: u64,
    ) -> Result<ReportParams, ApiError> {
        let mut query = QueryPairs::new(pairs, |name| {
            filter_name(name).or(match name {
                "by" => Some(Name::Repeatable),
                "basis" | "min_cell" | "weights" | "dropped_categories" => Some(Name::Once),
                "interval" if with_interval => Some(Name::Once),
                _ => None,
            })
        });
        let Filters {
            survey,
            version,
            from,
            to,
            segments,
        } = query.filters();
        let basis = query.choice(
            "basis",
            &[("latest", Basis::Latest), ("all", Basis::All)],
            Basis::Latest,
        );
        let mut by = Vec::new();
        let values = query.all("by");
        let parts: Vec<&str> = values.iter().flat_map(|v| v.split(',')).collect();
        for part in parts.into_iter().filter(|p| !p.is_empty()) {
            match SegmentField::parse(part) {
                Some(field) => by.push(field),
                None => query.problem(
                    "by",
                    format!(
                        "unknown value `{part}`; expected a comma list of industry, size_band, country, region, version"
                    ),
                ),
            }
        }
        let min_cell = match query.get("min_cell") {
            None => None,
            // A value under the publisher's threshold is named by `check`.
            Some(raw) => raw
                .parse::<u64>()
                .map_err(|_| query.problem("min_cell", MIN_CELL_MESSAGE))
                .ok(),
        };
        let weights = query.get("weights").map(str::to_owned);
        let dropped_categories = query.choice(
            "dropped_categories",
            &[
                ("report", DroppedCategories::Report),
                ("refuse", DroppedCategories::Refuse),
            ],
            DroppedCategories::Report,
        );
        let interval = query.choice(
            "interval",
            &[("month", Interval::Month), ("quarter", Interval::Quarter)],
            Interval::Month,
        );
        let params = ReportParams {
            survey,
            version,
            from,
            to,
            basis,
            by,
            segments,
            min_cell,
            weights,
            dropped_categories,
            interval,
        };
        let checks = params.check(threshold);
        query.finish(params, checks)
    }
}
