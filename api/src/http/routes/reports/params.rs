//! The query parameters every report shares, parsed strictly: an unknown parameter or value
//! is a 422 naming it.

use chrono::NaiveDate;
use readiness_analytics::reports::{Basis, DroppedCategories, Interval, SegmentField};
use serde::Deserialize;
use utoipa::IntoParams;

use super::super::query::{Filters, Name, QueryPairs, filter_name};
pub use crate::domain::params::ReportParams;
use crate::domain::params::{MIN_CELL_MESSAGE, WINDOW_NAMES, Windows};
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
    by: Option<std::collections::BTreeSet<ByParam>>,
    /// Smallest published cell, in firms. The publisher's threshold applies when absent; a
    /// request may raise it, never lower it (a lower value is refused with `422`).
    #[param(minimum = 1)]
    min_cell: Option<u64>,
    /// Name of stored population margins to rake the sample to. Each cross-section (the
    /// window; each period of a trend) is raked on its own, and segments are estimated with
    /// its weights. The reply's `weighting` says how it went: rounds, the largest remaining
    /// margin discrepancy against a tolerance of 0.001 (`converged`), and the margin
    /// categories with no firm in the sample (`dropped`). A sample category the margins do
    /// not list, or list with a count of 0, is refused (`422`); an unknown name is `404`.
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

/// The change report's windows on the report page and share links: all four or none.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct WindowParamsDoc {
    /// First day of the baseline window, on `submitted_at` (UTC).
    #[param(example = "2026-01-01")]
    baseline_from: Option<NaiveDate>,
    /// Last day of the baseline window (included).
    #[param(example = "2026-03-31")]
    baseline_to: Option<NaiveDate>,
    /// First day of the follow-up window; it must be after `baseline_to` (windows that
    /// overlap are refused with `422`).
    #[param(example = "2026-07-01")]
    followup_from: Option<NaiveDate>,
    /// Last day of the follow-up window (included).
    #[param(example = "2026-09-30")]
    followup_to: Option<NaiveDate>,
}

/// The change report's windows, each required.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct RequiredWindowParamsDoc {
    /// First day of the baseline window, on `submitted_at` (UTC).
    #[param(example = "2026-01-01")]
    baseline_from: NaiveDate,
    /// Last day of the baseline window (included); not before `baseline_from`.
    #[param(example = "2026-03-31")]
    baseline_to: NaiveDate,
    /// First day of the follow-up window; it must be after `baseline_to` (windows that
    /// overlap are refused with `422`).
    #[param(example = "2026-07-01")]
    followup_from: NaiveDate,
    /// Last day of the follow-up window (included); not before `followup_from`.
    #[param(example = "2026-09-30")]
    followup_to: NaiveDate,
}

/// The change report's parameters besides the windows: the survey, the segments, the
/// threshold and the weights (no `from`, `to`, `basis` or `interval`: the windows say which
/// responses count, each firm's latest in each).
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct ChangeParamsDoc {
    /// Survey slug.
    #[param(default = "ai-readiness", example = "ai-readiness")]
    survey: Option<String>,
    /// Only this instrument version (default: every released version).
    #[param(minimum = 1)]
    version: Option<i32>,
    /// Segment attributes of the firms' baseline responses: repeated or comma-separated;
    /// absent = overall only.
    #[param(inline)]
    by: Option<std::collections::BTreeSet<ByParam>>,
    /// Smallest published cell, in firms. The publisher's threshold applies when absent; a
    /// request may raise it, never lower it (a lower value is refused with `422`).
    #[param(minimum = 1)]
    min_cell: Option<u64>,
    /// Name of stored population margins to rake the panel's baseline responses to; each
    /// firm keeps its weight at follow-up, and intervals use the Kish effective sample size;
    /// an unknown name is `404`.
    #[param(example = "eu-2024")]
    weights: Option<String>,
    /// With `weights`: `report` (the default) or `refuse` a margin category with no firm in
    /// the panel.
    #[param(inline)]
    dropped_categories: Option<DroppedCategoriesParam>,
}

/// Which report a query is for: which parameters it admits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admits {
    /// Readiness and blockers.
    Report,
    /// The trend: `interval` too.
    Trend,
    /// The page and share links: `interval` and, optionally, the windows.
    Page,
    /// The change report: the windows (required), no `from`, `to`, `basis` or `interval`.
    Change,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BasisParam {
    Latest,
    All,
}

#[derive(Debug, PartialEq, Eq, PartialOrd, Ord, Deserialize, utoipa::ToSchema)]
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
    /// Parses the raw query pairs for the report `admits` names. `threshold` is the
    /// publisher's, which `min_cell` may only raise.
    pub fn parse(
        pairs: &[(String, String)],
        admits: Admits,
        threshold: u64,
    ) -> Result<ReportParams, ApiError> {
        const CHANGE_WINDOW: &str = "not a parameter of the change report: \
                                     baseline_from, baseline_to, followup_from and followup_to \
                                     choose the responses, each firm's latest in each window";
        let mut query = QueryPairs::new(pairs, |name| match name {
            "by" => Some(Name::Repeatable),
            "from" | "to" | "basis" | "interval" if admits == Admits::Change => {
                Some(Name::Refused(CHANGE_WINDOW))
            }
            "basis" | "min_cell" | "weights" | "dropped_categories" => Some(Name::Once),
            "interval" if admits != Admits::Report => Some(Name::Once),
            "baseline_from" | "baseline_to" | "followup_from" | "followup_to"
                if matches!(admits, Admits::Page | Admits::Change) =>
            {
                Some(Name::Once)
            }
            _ => filter_name(name),
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
        let windowed = matches!(admits, Admits::Page | Admits::Change);
        let [baseline_from, baseline_to, followup_from, followup_to] =
            WINDOW_NAMES.map(|name| if windowed { query.date(name) } else { None });
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
            windows: Windows {
                baseline_from,
                baseline_to,
                followup_from,
                followup_to,
            },
        };
        let mut checks = params.check(threshold);
        if admits == Admits::Change && !params.windows.any() {
            checks.extend(params.windows.check(true));
        }
        query.finish(params, checks)
    }
}
