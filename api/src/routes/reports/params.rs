//! The query parameters every report shares, parsed strictly: an unknown parameter or value
//! is a 422 naming it.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use readiness_analytics::FieldProblem;
use readiness_analytics::reports::{Basis, Interval, SegmentField};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::problem::ApiError;

pub const DEFAULT_SURVEY: &str = "ai-readiness";
pub const DEFAULT_MIN_CELL: u64 = 5;
pub const LOWEST_MIN_CELL: u64 = 3;

/// Report parameters as documented in the contract (parsing is done by [`ReportParams::parse`]).
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct ReportParamsDoc {
    /// Survey slug.
    #[param(default = "ai-readiness", example = "ai-readiness")]
    survey: Option<String>,
    /// Only this instrument version (default: every released version).
    #[param(minimum = 1)]
    version: Option<i32>,
    /// First day included, on `submitted_at` (UTC).
    #[param(example = "2026-01-01")]
    from: Option<NaiveDate>,
    /// Last day included, on `submitted_at` (UTC).
    #[param(example = "2026-12-31")]
    to: Option<NaiveDate>,
    /// `latest`: each firm's latest response in the window; `all`: every response.
    #[param(inline)]
    basis: Option<BasisParam>,
    /// Segment attributes: repeated (`by=industry&by=size_band`) or comma-separated
    /// (`by=industry,size_band`); absent = overall only.
    #[param(inline)]
    by: Option<Vec<ByParam>>,
    /// Smallest published cell; at least 3.
    #[param(default = 5, minimum = 3)]
    min_cell: Option<u64>,
    /// Name of stored population margins to rake the sample to.
    #[param(example = "eu-2024")]
    weights: Option<String>,
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
pub enum IntervalParam {
    Month,
    Quarter,
}

/// Parsed, checked report parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportParams {
    pub survey: String,
    pub version: Option<i32>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub basis: Basis,
    pub by: Vec<SegmentField>,
    pub min_cell: u64,
    pub weights: Option<String>,
    pub interval: Interval,
}

const COMMON: [&str; 8] = [
    "survey", "version", "from", "to", "basis", "by", "min_cell", "weights",
];

/// The filters reports and exports share: the survey, one instrument version, and the window
/// on `submitted_at` (dates, inclusive). Each problem is named by its query parameter.
pub struct Filters {
    pub survey: String,
    pub version: Option<i32>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

impl Filters {
    pub fn parse<'a>(
        get: &impl Fn(&str) -> Option<&'a str>,
        problem: &mut impl FnMut(&str, String),
    ) -> Self {
        let survey = get("survey").unwrap_or(DEFAULT_SURVEY).to_owned();
        let version = match get("version") {
            None => None,
            Some(raw) => raw.parse::<i32>().ok().filter(|v| *v > 0).or_else(|| {
                problem("version", "must be a positive integer".into());
                None
            }),
        };
        let mut date = |name: &str| {
            get(name).and_then(|raw| {
                NaiveDate::parse_from_str(raw, "%Y-%m-%d")
                    .map_err(|_| problem(name, "must be a date such as 2026-10-01".into()))
                    .ok()
            })
        };
        let from = date("from");
        let to = date("to");
        Self {
            survey,
            version,
            from,
            to,
        }
    }
}

pub fn query_pointer(name: &str) -> String {
    format!("/query/{name}")
}

impl ReportParams {
    /// The parameters as query pairs that parse back to `self`, defaults left out (`interval`
    /// only when `with_interval`).
    pub fn to_pairs(&self, with_interval: bool) -> Vec<(String, String)> {
        let mut pairs = Vec::new();
        let mut push = |name: &str, value: String| pairs.push((name.to_owned(), value));
        if self.survey != DEFAULT_SURVEY {
            push("survey", self.survey.clone());
        }
        if let Some(version) = self.version {
            push("version", version.to_string());
        }
        if let Some(from) = self.from {
            push("from", from.to_string());
        }
        if let Some(to) = self.to {
            push("to", to.to_string());
        }
        if self.basis == Basis::All {
            push("basis", "all".to_owned());
        }
        if !self.by.is_empty() {
            let by: Vec<&str> = self.by.iter().map(|f| f.key()).collect();
            push("by", by.join(","));
        }
        if self.min_cell != DEFAULT_MIN_CELL {
            push("min_cell", self.min_cell.to_string());
        }
        if let Some(weights) = &self.weights {
            push("weights", weights.clone());
        }
        if with_interval && self.interval == Interval::Quarter {
            push("interval", "quarter".to_owned());
        }
        pairs
    }

    /// Parses the raw query pairs; `with_interval` admits `interval` (trend).
    pub fn parse(pairs: &[(String, String)], with_interval: bool) -> Result<Self, ApiError> {
        let mut problems = Vec::new();
        let mut seen = BTreeSet::new();
        for (name, _) in pairs {
            let known = COMMON.contains(&name.as_str()) || (with_interval && name == "interval");
            if !known {
                problems.push(FieldProblem::new(query_pointer(name), "unknown parameter"));
            } else if name != "by" && !seen.insert(name.as_str()) {
                problems.push(FieldProblem::new(
                    query_pointer(name),
                    "given more than once",
                ));
            }
        }
        let get = |name: &str| {
            pairs
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.as_str())
        };
        let mut problem = |name: &str, message: String| {
            problems.push(FieldProblem::new(query_pointer(name), message));
        };

        let Filters {
            survey,
            version,
            from,
            to,
        } = Filters::parse(&get, &mut problem);
        let basis = match get("basis") {
            None | Some("latest") => Basis::Latest,
            Some("all") => Basis::All,
            Some(other) => {
                problem(
                    "basis",
                    format!("unknown value `{other}`; expected latest or all"),
                );
                Basis::Latest
            }
        };
        let mut by = Vec::new();
        let by_values = pairs.iter().filter(|(n, _)| n == "by").map(|(_, v)| v);
        for part in by_values
            .flat_map(|v| v.split(','))
            .filter(|p| !p.is_empty())
        {
            match SegmentField::parse(part) {
                Some(field) if by.contains(&field) => {
                    problem("by", format!("`{part}` is listed twice"))
                }
                Some(field) => by.push(field),
                None => problem(
                    "by",
                    format!(
                        "unknown value `{part}`; expected a comma list of industry, size_band, country, region, version"
                    ),
                ),
            }
        }
        let min_cell = match get("min_cell") {
            None => DEFAULT_MIN_CELL,
            Some(raw) => match raw.parse::<u64>() {
                Ok(value) if value >= LOWEST_MIN_CELL => value,
                _ => {
                    problem(
                        "min_cell",
                        format!("must be an integer of at least {LOWEST_MIN_CELL}"),
                    );
                    DEFAULT_MIN_CELL
                }
            },
        };
        let weights = get("weights").map(str::to_owned);
        let interval = match get("interval") {
            None | Some("month") => Interval::Month,
            Some("quarter") => Interval::Quarter,
            Some(other) => {
                problem(
                    "interval",
                    format!("unknown value `{other}`; expected month or quarter"),
                );
                Interval::Month
            }
        };
        if let (Some(from), Some(to)) = (from, to)
            && from > to
        {
            problems.push(FieldProblem::new(query_pointer("to"), "lies before `from`"));
        }
        if problems.is_empty() {
            Ok(Self {
                survey,
                version,
                from,
                to,
                basis,
                by,
                min_cell,
                weights,
                interval,
            })
        } else {
            Err(ApiError::validation(problems))
        }
    }
}
