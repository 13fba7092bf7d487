//! The query parameters of an export, parsed as strictly as the reports' parameters: an
//! unknown parameter or value is a 422 naming it.

use serde::Deserialize;
use utoipa::IntoParams;

use super::super::query::{Filters, Name, QueryPairs, filter_name};
use crate::http::problem::ApiError;
use crate::http::routes::reports::params::BasisParam;
use crate::services::exports::{ExportFormat, ExportRequest};

/// Export parameters as documented in the contract, besides the shared filters (parsing is
/// done by [`ExportParams::parse`]).
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct ExportParamsDoc {
    /// File format (default `csv`).
    #[param(inline)]
    format: Option<FormatParam>,
    /// `all` (the default for exports): every response; `latest`: each firm's latest
    /// response in the window, as the reports count them.
    #[param(inline)]
    basis: Option<BasisParam>,
    /// Replace each firm reference by its keyed hash (HMAC-SHA256, 64 hex digits) and each
    /// response id by a keyed pseudonym (a version-8 UUID, under a key of its own), and cut
    /// `submitted_at` and `received_at` to the day (midnight UTC): the same firm and response
    /// get the same pseudonyms in every export, and they cannot be traced back without the
    /// key. `readiness import` refuses such a file.
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

impl ExportParams {
    pub fn parse(pairs: &[(String, String)]) -> Result<Self, ApiError> {
        let mut query = QueryPairs::new(pairs, |name| {
            filter_name(name).or(match name {
                "format" | "basis" | "pseudonymise" => Some(Name::Once),
                "by" | "min_cell" | "weights" | "interval" => Some(Name::Refused(
                    "is a report parameter; an export has one row per response",
                )),
                _ => None,
            })
        });
        let format = query.choice(
            "format",
            &[
                ("csv", ExportFormat::Csv),
                ("parquet", ExportFormat::Parquet),
                ("ndjson", ExportFormat::Ndjson),
            ],
            ExportFormat::Csv,
        );
        let Filters {
            survey,
            version,
            from,
            to,
            segments,
        } = query.filters();
        let latest_only = query.choice("basis", &[("all", false), ("latest", true)], false);
        let pseudonymise = query.choice("pseudonymise", &[("true", true), ("false", false)], false);
        let request = ExportRequest {
            survey,
            version,
            from,
            to,
            latest_only,
            segments,
        };
        let checks = request.check();
        query.finish(
            Self {
                format,
                request,
                pseudonymise,
            },
            checks,
        )
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::domain::params::DEFAULT_SURVEY;

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
