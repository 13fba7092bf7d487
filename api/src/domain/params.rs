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
    /// The change report's windows (the page's transition chart too): baseline and
    /// follow-up, each day inclusive on `submitted_at` (UTC). All four or none.
    pub windows: Windows,
}

/// The baseline and follow-up windows of the change report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Windows {
    pub baseline_from: Option<NaiveDate>,
    pub baseline_to: Option<NaiveDate>,
    pub followup_from: Option<NaiveDate>,
    pub followup_to: Option<NaiveDate>,
}

/// The names of the window parameters, in order.
pub const WINDOW_NAMES: [&str; 4] = [
    "baseline_from",
    "baseline_to",
    "followup_from",
    "followup_to",
];

/// Two complete windows: (first day, last day) of the baseline and of the follow-up.
pub type WindowPair = ((NaiveDate, NaiveDate), (NaiveDate, NaiveDate));

impl Windows {
    fn values(&self) -> [Option<NaiveDate>; 4] {
        [
            self.baseline_from,
            self.baseline_to,
            self.followup_from,
            self.followup_to,
        ]
    }

    /// Whether any window parameter was given.
    pub fn any(&self) -> bool {
        self.values().iter().any(Option::is_some)
    }

    /// Both windows, when all four dates are given.
    pub fn pair(&self) -> Option<WindowPair> {
        Some((
            (self.baseline_from?, self.baseline_to?),
            (self.followup_from?, self.followup_to?),
        ))
    }

    /// Every problem of the windows: with `required` (the change report) or when any is
    /// given, all four dates are needed; a window must not end before it starts; the
    /// follow-up must start after the baseline ends (windows that overlap would pair a
    /// response with itself).
    pub fn check(&self, required: bool) -> Vec<ParamProblem> {
        let mut problems = Vec::new();
        if !required && !self.any() {
            return problems;
        }
        for (name, value) in WINDOW_NAMES.iter().zip(self.values()) {
            if value.is_none() {
                problems.push(ParamProblem::new(
                    name,
                    "is required: the change report needs a baseline and a follow-up window \
                     (baseline_from, baseline_to, followup_from, followup_to)",
                ));
            }
        }
        if let (Some(from), Some(to)) = (self.baseline_from, self.baseline_to)
            && from > to
        {
            problems.push(ParamProblem::new(
                "baseline_to",
                "lies before `baseline_from`",
            ));
        }
        if let (Some(from), Some(to)) = (self.followup_from, self.followup_to)
            && from > to
        {
            problems.push(ParamProblem::new(
                "followup_to",
                "lies before `followup_from`",
            ));
        }
        if let (Some(end), Some(start)) = (self.baseline_to, self.followup_from)
            && start <= end
        {
            problems.push(ParamProblem::new(
                "followup_from",
                format!(
                    "must be after `baseline_to` ({end}): the follow-up window must begin after \
                     the baseline window ends, so the windows do not overlap"
                ),
            ));
        }
        problems
    }
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
            windows: Windows::default(),
        }
    }
}

/// The largest `min_cell` a request may ask for: far above any number of firms, so every
/// cell is suppressed well before it.
pub const MAX_MIN_CELL: u64 = 1_000_000_000;

/// The message for a `min_cell` that is not a whole number of firms.
pub const MIN_CELL_MESSAGE: &str = "must be a positive integer";

/// The message for a version that is not positive.
pub const VERSION_MESSAGE: &str = "must be a positive integer";

/// Checks a date window: `to` must not lie before `from`.
/// A window of days (both included) as instants: its first instant, and the first instant
/// after it (midnight UTC).
pub fn window_instants(
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> (
    Option<chrono::DateTime<chrono::Utc>>,
    Option<chrono::DateTime<chrono::Utc>>,
) {
    let start = |date: NaiveDate| date.and_hms_opt(0, 0, 0).map(|t| t.and_utc());
    (
        from.and_then(start),
        to.and_then(|to| to.checked_add_days(chrono::Days::new(1)))
            .and_then(start),
    )
}

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
        if self
            .min_cell
            .is_some_and(|requested| requested > MAX_MIN_CELL)
        {
            problems.push(ParamProblem::new(
                "min_cell",
                format!("must be at most {MAX_MIN_CELL}"),
            ));
        }
        problems.extend(check_window(self.from, self.to));
        problems.extend(self.windows.check(false));
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
        for (name, value) in WINDOW_NAMES.iter().zip(self.windows.values()) {
            if let Some(date) = value {
                push(name, date.to_string());
            }
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

    #[test]
    fn windows_are_complete_ordered_and_apart() {
        let day = |d: u32| NaiveDate::from_ymd_opt(2026, 1, d);
        let named = |windows: Windows, required: bool| -> Vec<&str> {
            windows.check(required).iter().map(|p| p.name).collect()
        };
        assert!(named(Windows::default(), false).is_empty());
        assert_eq!(named(Windows::default(), true), WINDOW_NAMES);
        let partial = Windows {
            baseline_from: day(1),
            ..Windows::default()
        };
        assert_eq!(
            named(partial, false),
            ["baseline_to", "followup_from", "followup_to"]
        );
        let overlapping = Windows {
            baseline_from: day(1),
            baseline_to: day(10),
            followup_from: day(10),
            followup_to: day(20),
        };
        assert_eq!(named(overlapping, true), ["followup_from"]);
        let reversed = Windows {
            baseline_from: day(5),
            baseline_to: day(4),
            followup_from: day(20),
            followup_to: day(19),
        };
        assert_eq!(named(reversed, true), ["baseline_to", "followup_to"]);
        let apart = Windows {
            followup_from: day(11),
            ..overlapping
        };
        assert!(named(apart, true).is_empty());
        assert_eq!(
            apart.pair(),
            Some((
                (day(1).unwrap(), day(10).unwrap()),
                (day(11).unwrap(), day(20).unwrap())
            ))
        );
    }
}
