//! The query parameters of an export, parsed as strictly as the reports' parameters: an
//! unknown parameter or value is a 422 naming it.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use readiness_analytics::FieldProblem;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::export::{ExportFormat, ExportRequest};
use crate::problem::ApiError;
use crate::routes::reports::params::{BasisParam, Filters, query_pointer};

/// Export parameters as documented in the contract (parsing is done by
/// [`ExportParams::parse`]).
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct ExportParamsDoc {
    /// File format (default `csv`).
    #[param(inline)]
    format: Option<FormatParam>,
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
    /// `all` (the default for exports): every response; `latest`: each firm's latest
    /// response in the window, as the reports count them.
    #[param(inline)]
    basis: Option<BasisParam>,
    /// Replace each firm reference by its keyed hash (HMAC-SHA256, 64 hex digits): the same
    /// firm gets the same pseudonym in every export, and it cannot be traced back without
    /// the key.
    #[param(default = false)]
    pseudonymise: Option<bool>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FormatParam {
    Csv,
    Parquet,
    Ndjson,
}

/// Parsed, checked export parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportParams {
    pub format: ExportFormat,
    pub request: ExportRequest,
    pub pseudonymise: bool,
}

const KNOWN: [&str; 7] = [
    "format",
    "survey",
    "version",
    "from",
    "to",
    "basis",
    "pseudonymise",
];
/// Report parameters that do not apply to raw rows.
const REPORT_ONLY: [&str; 4] = ["by", "min_cell", "weights", "interval"];

impl ExportParams {
    pub fn parse(pairs: &[(String, String)]) -> Result<Self, ApiError> {
        let mut problems = Vec::new();
        let mut seen = BTreeSet::new();
        for (name, _) in pairs {
            if REPORT_ONLY.contains(&name.as_str()) {
                problems.push(FieldProblem::new(
                    query_pointer(name),
                    "is a report parameter; an export has one row per response",
                ));
            } else if !KNOWN.contains(&name.as_str()) {
                problems.push(FieldProblem::new(query_pointer(name), "unknown parameter"));
            } else if !seen.insert(name.as_str()) {
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
        let format = match get("format") {
            None => ExportFormat::Csv,
            Some(raw) => ExportFormat::parse(raw).unwrap_or_else(|| {
                problem(
                    "format",
                    format!("unknown value `{raw}`; expected csv, parquet or ndjson"),
                );
                ExportFormat::Csv
            }),
        };
        let Filters {
            survey,
            version,
            from,
            to,
        } = Filters::parse(&get, &mut problem);
        let latest_only = match get("basis") {
            None | Some("all") => false,
            Some("latest") => true,
            Some(other) => {
                problem(
                    "basis",
                    format!("unknown value `{other}`; expected all or latest"),
                );
                false
            }
        };
        let pseudonymise = match get("pseudonymise") {
            None | Some("false") => false,
            Some("true") => true,
            Some(other) => {
                problem(
                    "pseudonymise",
                    format!("unknown value `{other}`; expected true or false"),
                );
                false
            }
        };
        if let (Some(from), Some(to)) = (from, to)
            && from > to
        {
            problems.push(FieldProblem::new(query_pointer("to"), "lies before `from`"));
        }
        if problems.is_empty() {
            Ok(Self {
                format,
                request: ExportRequest {
                    survey,
                    version,
                    from,
                    to,
                    latest_only,
                },
                pseudonymise,
            })
        } else {
            Err(ApiError::validation(problems))
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::routes::reports::params::DEFAULT_SURVEY;

    fn pairs(query: &[(&str, &str)]) -> Vec<(String, String)> {
        query
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn defaults_are_csv_of_every_response_with_real_references() {
        let params = ExportParams::parse(&[]).unwrap();
        assert_eq!(params.format, ExportFormat::Csv);
        assert_eq!(params.request.survey, DEFAULT_SURVEY);
        assert!(!params.request.latest_only);
        assert!(!params.pseudonymise);
    }

    #[test]
    fn every_bad_parameter_is_named() {
        let error = ExportParams::parse(&pairs(&[
            ("format", "xlsx"),
            ("by", "industry"),
            ("colour", "red"),
            ("pseudonymise", "yes"),
            ("basis", "some"),
            ("from", "2026-13-01"),
        ]))
        .unwrap_err();
        let ApiError::Validation(errors) = error else {
            panic!("not a validation error")
        };
        let named: Vec<&str> = errors.iter().map(|e| e.pointer.as_str()).collect();
        assert_eq!(
            named,
            [
                "/query/by",
                "/query/colour",
                "/query/format",
                "/query/from",
                "/query/basis",
                "/query/pseudonymise"
            ]
        );
    }
}
