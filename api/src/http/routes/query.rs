//! Query strings read strictly, shared by the reports and the exports: every unknown,
//! repeated or unreadable parameter is a 422 naming it (`/query/<name>`), and so is every
//! problem the typed values' own checks find.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use readiness_analytics::FieldProblem;
use readiness_analytics::reports::{FILTER_FIELDS, SegmentFilter};
use serde::Deserialize;
use utoipa::IntoParams;

use super::codes::{CountryCode, IndustryCode, RegionCode, SizeBand};
use crate::domain::firm::check_segment_value;
use crate::domain::params::{DEFAULT_SURVEY, ParamProblem, VERSION_MESSAGE};
use crate::http::problem::{ApiError, query_pointer};

/// The filters reports and exports share, as documented in the contract.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct FilterParamsDoc {
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
    /// Only firms in these NACE Rev.2 sections: repeated (`industry=C&industry=F`) or a comma
    /// list. Segment filters are OR within an attribute and AND across attributes, and apply
    /// to each firm's latest response once it is chosen (basis `latest`), so a filtered
    /// report counts the firms an unfiltered breakdown puts in those segments. A filter
    /// narrows the firms counted, never the disclosure rule.
    industry: Option<Vec<IndustryCode>>,
    /// Only firms of these size bands (repeated or a comma list).
    size_band: Option<Vec<SizeBand>>,
    /// Only firms in these countries, ISO 3166-1 alpha-2 (repeated or a comma list).
    country: Option<Vec<CountryCode>>,
    /// Only firms in these ISO 3166-2 subdivisions (repeated or a comma list); a firm that
    /// gave no region is in none.
    region: Option<Vec<RegionCode>>,
}

/// How a route treats a parameter name.
pub enum Name {
    /// Given at most once.
    Once,
    /// May be repeated.
    Repeatable,
    /// Not a parameter of this route; the message says why.
    Refused(&'static str),
}

/// How the shared filters are named: the survey, version and window once each, the segment
/// attributes as often as wanted.
pub fn filter_name(name: &str) -> Option<Name> {
    match name {
        "survey" | "version" | "from" | "to" => Some(Name::Once),
        _ if FILTER_FIELDS.iter().any(|f| f.key() == name) => Some(Name::Repeatable),
        _ => None,
    }
}

/// The filters reports and exports share: the survey, one instrument version, the window
/// on `submitted_at` (dates, inclusive) and the segments.
pub struct Filters {
    pub survey: String,
    pub version: Option<i32>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub segments: SegmentFilter,
}

/// A query string's pairs and the problems found in them so far.
pub struct QueryPairs<'a> {
    pairs: &'a [(String, String)],
    problems: Vec<FieldProblem>,
}

impl<'a> QueryPairs<'a> {
    /// Names every parameter `name_of` does not know (`None`), refuses, or finds repeated.
    pub fn new(pairs: &'a [(String, String)], name_of: impl Fn(&str) -> Option<Name>) -> Self {
        let mut problems = Vec::new();
        let mut seen = BTreeSet::new();
        for (name, _) in pairs {
            match name_of(name) {
                None => problems.push(FieldProblem::new(query_pointer(name), "unknown parameter")),
                Some(Name::Refused(why)) => {
                    problems.push(FieldProblem::new(query_pointer(name), why))
                }
                Some(Name::Once) if !seen.insert(name.as_str()) => problems.push(
                    FieldProblem::new(query_pointer(name), "given more than once"),
                ),
                Some(_) => {}
            }
        }
        Self { pairs, problems }
    }

    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&'a str> {
        self.pairs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of `name`, in order.
    pub fn all(&self, name: &str) -> Vec<&'a str> {
        self.pairs
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    pub fn problem(&mut self, name: &str, message: impl Into<String>) {
        self.problems
            .push(FieldProblem::new(query_pointer(name), message));
    }

    /// The value of `name` among `choices` (`(text, value)`), `default` when absent; an
    /// unknown value is named with the choices.
    pub fn choice<T: Copy>(&mut self, name: &str, choices: &[(&str, T)], default: T) -> T {
        let Some(raw) = self.get(name) else {
            return default;
        };
        if let Some((_, value)) = choices.iter().find(|(text, _)| *text == raw) {
            return *value;
        }
        let texts: Vec<&str> = choices.iter().map(|(text, _)| *text).collect();
        let expected = match texts.split_last() {
            Some((last, [])) => (*last).to_owned(),
            Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
            None => String::new(),
        };
        self.problem(name, format!("unknown value `{raw}`; expected {expected}"));
        default
    }

    /// The survey, version and window.
    pub fn filters(&mut self) -> Filters {
        let survey = self.get("survey").unwrap_or(DEFAULT_SURVEY).to_owned();
        let version = match self.get("version") {
            None => None,
            Some(raw) => raw.parse::<i32>().ok().filter(|v| *v > 0).or_else(|| {
                self.problem("version", VERSION_MESSAGE);
                None
            }),
        };
        let from = self.date("from");
        let to = self.date("to");
        let segments = self.segments();
        Filters {
            survey,
            version,
            from,
            to,
            segments,
        }
    }

    /// The segment filters: each attribute repeated (`industry=C&industry=F`) or as a comma
    /// list (`industry=C,F`); every value is checked as a firm's attribute is.
    fn segments(&mut self) -> SegmentFilter {
        let mut segments = SegmentFilter::default();
        for field in FILTER_FIELDS {
            for raw in self.all(field.key()) {
                for value in raw.split(',') {
                    match check_segment_value(field, value) {
                        Ok(()) => segments.insert(field, value),
                        Err(expected) => self
                            .problem(field.key(), format!("unknown value `{value}`: {expected}")),
                    }
                }
            }
        }
        segments
    }

    /// The date `name` (`2026-10-01`), if given; an unreadable one is named.
    pub fn date(&mut self, name: &str) -> Option<NaiveDate> {
        let raw = self.get(name)?;
        NaiveDate::parse_from_str(raw, "%Y-%m-%d")
            .map_err(|_| self.problem(name, "must be a date such as 2026-10-01"))
            .ok()
    }

    /// `value` if neither the pairs nor `checks` (the typed value's own) found a problem. A
    /// check of a parameter that could not be read is left out: its reading was named.
    pub fn finish<T>(mut self, value: T, checks: Vec<ParamProblem>) -> Result<T, ApiError> {
        let unreadable: Vec<String> = self.problems.iter().map(|p| p.pointer.clone()).collect();
        for check in checks {
            if !unreadable.contains(&query_pointer(check.name)) {
                self.problem(check.name, check.message);
            }
        }
        if self.problems.is_empty() {
            Ok(value)
        } else {
            Err(ApiError::validation(self.problems))
        }
    }
}
