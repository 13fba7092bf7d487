//! The analyst report page: one self-contained HTML document (inline CSS and SVG charts, no
//! scripts, fonts or outside requests) drawn from the three report models.
//!
//! The HTML route, the share link and `readiness report --html` all compute the models with
//! `services::reports::page` and draw them with [`page::render`], so all three give the same
//! page.
//!
//! **Architecture Invariant:** the page computes no statistic. Every figure on it is a field
//! of [`Readiness`], [`Period`] or [`TierBlockers`] as the JSON reports publish them, and
//! a suppressed cell, which carries no figures, is drawn as suppressed ([`Change`] too, when
//! the request has the change report's windows). It knows nothing of
//! the services, the store, HTTP or the command line.

mod change;
mod charts;
pub mod page;
mod sections;
mod unlock;
mod weighting;

use readiness_analytics::reports::{BlockerTiers, Change, Period, Readiness};

pub use page::{Access, PageInput, render};

/// The three reports a page shows, computed with the same parameters.
#[derive(Debug, Clone)]
pub struct ReportModels {
    pub readiness: Readiness,
    /// Per period of the requested interval (month unless given).
    pub trend: Vec<Period>,
    pub blockers: BlockerTiers,
    /// The change report, when the parameters have its two windows.
    pub change: Option<Change>,
}
