//! The parameters of reports, typed and checked. The HTTP layer maps query strings onto
//! [`ReportParams`], the command line maps flags onto it; both then call
//! [`ReportParams::check`], and each names a [`ParamProblem`] in its own terms
//! (`/query/min_cell`, `--min-cell`).

use chrono::NaiveDate;
use readiness_analytics::reports::{
    Basis, DroppedCategories, FILTER_FIELDS, Interval, SegmentField, SegmentFilter,
};

pub const DEFAULT_SURVEY: &str = "ai-readiness";

/// One offending parameter, by its name (`min_cell`, `from`, …).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamProblem {
    pub name: &'static str,
    pub message: String,
}

impl ParamProblem {
    pub fn new(name: &'static str, message: impl Into<String>) -> Self {
        Self {
            name,
            message: message.into(),
        }
    }
}

/// Report parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportParams {
    pub survey: String,
    pub version: Option<i32>,
    /// First day included, on `submitted_at` (UTC).
    pub from: Option<NaiveDate>,
    /// Last day included.
    pub to: Option<NaiveDate>,
    pub basis: Basis,
    pub by: Vec<SegmentField>,
    /// The segments the report is narrowed to (values checked at the edge).
    pub segments: SegmentFilter,
    /// The smallest published cell (in firms) the request asks for. It may only raise the
    /// publisher's threshold; `None` = the publisher's.
    pub min_cell: Option<u64>,
    /// Name of stored population margins to rake the sample to.
    pub weights: Option<String>,
    /// What a weighted report does when a margin category has no firm in the sample.
    pub dropped_categories: DroppedCategories,
    /// Period length (trend).
    pub interval: Interval,
}

impl Default for ReportParams {
    fn default() -> Self {
        Self {
            survey: DEFAULT_SURVEY.to_owned(),
            version: None,
            from: None,
            to: None,
            basis: Basis::Latest,
            by: Vec::new(),
            segments: SegmentFilter::default(),
            min_cell: None,
            weights: None,
            dropped_categories: DroppedCategories::Report,
            interval: Interval::Month,
        }
    }
}

/// The message for a `min_cell` that is not a whole number of firms.
pub const MIN_CELL_MESSAGE: &str = "must be a positive integer";

/// The message for a version that is not positive.
pub const VERSION_MESSAGE: &str = "must be a positive integer";

/// Checks a date window: `to` must not lie before `from`.
pub fn check_window(from: Option<NaiveDate>, to: Option<NaiveDate>) -> Option<ParamProblem> {
    match (from, to) {
        (Some(from), Some(to)) if from > to => Some(ParamProblem::new("to", "lies before `from`")),
        _ => None,
    }
}

impl ReportParams {
    /// What the types alone do not rule out, every problem at once: a version that is not
    /// positive, a segment attribute listed twice, a `min_cell` below `threshold` (the
    /// publisher's: a request may raise it, never lower it), a window that ends before it
    /// starts.
    pub fn check(&self, threshold: u64) -> Vec<ParamProblem> {
        let mut problems = Vec::new();
        if self.version.is_some_and(|v| v <= 0) {
            problems.push(ParamProblem::new("version", VERSION_MESSAGE));
        }
        for (index, field) in self.by.iter().enumerate() {
            if self.by[..index].contains(field) {
                problems.push(ParamProblem::new(
                    "by",
                    format!("`{}` is listed twice", field.key()),
                ));
            }
        }
        if let Some(requested) = self.min_cell
            && requested < threshold.max(1)
        {
            problems.push(ParamProblem::new(
                "min_cell",
                format!(
                    "must be at least {}, the publisher's threshold: a request may raise it, \
                     not lower it",
                    threshold.max(1)
                ),
            ));
        }
        problems.extend(check_window(self.from, self.to));
        problems
    }

    /// The parameters as query pairs that parse back to `self`, defaults left out (`interval`
    /// only when `with_interval`). Share links sign exactly these.
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
        push_segments(&self.segments, &mut push);
        if let Some(min_cell) = self.min_cell {
            push("min_cell", min_cell.to_string());
        }
        if let Some(weights) = &self.weights {
            push("weights", weights.clone());
        }
        if self.dropped_categories == DroppedCategories::Refuse {
            push("dropped_categories", "refuse".to_owned());
        }
        if with_interval && self.interval == Interval::Quarter {
            push("interval", "quarter".to_owned());
        }
        pairs
    }
}

/// A segment filter as query pairs, one per value (`industry=C&industry=F`), attributes in a
/// fixed order and values sorted, so equal filters give equal pairs.
pub fn push_segments(segments: &SegmentFilter, push: &mut impl FnMut(&str, String)) {
    for field in FILTER_FIELDS {
        for value in segments.values(field) {
            push(field.key(), value.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_pass_and_every_problem_is_named() {
        assert!(ReportParams::default().check(3).is_empty());
        let params = ReportParams {
            version: Some(0),
            by: vec![SegmentField::Industry, SegmentField::Industry],
            min_cell: Some(2),
            from: NaiveDate::from_ymd_opt(2026, 2, 1),
            to: NaiveDate::from_ymd_opt(2026, 1, 1),
            ..ReportParams::default()
        };
        let named: Vec<&str> = params.check(3).iter().map(|p| p.name).collect();
        assert_eq!(named, ["version", "by", "min_cell", "to"]);
    }
}
