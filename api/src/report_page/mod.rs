//! The analyst report page: one self-contained HTML document (inline CSS and SVG charts, no
//! scripts, fonts or outside requests) drawn from the three report models.
//!
//! The HTML route, the share link and `readiness report --html` all go through
//! [`ReportModels::compute`] and [`page::render`], so all three give the same page.
//!
//! **Architecture Invariant:** the page computes no statistic. Every figure on it is a field
//! of [`Readiness`], [`Period`] or [`TierBlockers`] as the JSON reports publish them, and
//! a suppressed cell, which carries no figures, is drawn as suppressed.

mod charts;
pub mod page;
mod sections;

use std::time::Duration;

use actix_web::web;
use chrono::Utc;
use readiness_analytics::reports::{self, Period, Readiness, ReportError, Snapshot, TierBlockers};
use sea_orm::DatabaseConnection;

pub use page::Access;

use crate::catalog::Catalog;
use crate::problem::ApiError;
use crate::report_snapshot::ReportSnapshot;
use crate::routes::reports::compute::{Resolved, report_error, report_with, resolve};
use crate::routes::reports::params::ReportParams;
use crate::startup::AppState;

/// The three reports a page shows, computed with the same parameters.
#[derive(Debug, Clone)]
pub struct ReportModels {
    pub readiness: Readiness,
    /// Per period of the requested interval (month unless given).
    pub trend: Vec<Period>,
    pub blockers: Vec<TierBlockers>,
}

impl ReportModels {
    pub fn compute(snapshot: &Snapshot, resolved: &Resolved) -> Result<Self, ReportError> {
        let instrument = &resolved.entry.instrument;
        let query = &resolved.query;
        let margins = resolved.margins.as_ref();
        Ok(Self {
            readiness: reports::readiness(snapshot, instrument, query, margins)?,
            trend: reports::trend(snapshot, instrument, query, resolved.interval, margins)?,
            blockers: reports::blockers(snapshot, instrument, query, margins)?,
        })
    }
}

/// The page for `params` from the server's report snapshot.
pub async fn serve(
    state: &web::Data<AppState>,
    params: ReportParams,
    access: Access,
) -> Result<String, ApiError> {
    let for_page = params.clone();
    let rendered = report_with(
        state,
        &params,
        "readiness_html",
        move |snapshot, resolved| {
            let models = ReportModels::compute(snapshot, resolved)?;
            Ok(page::render(&page::PageInput {
                params: &for_page,
                instrument: &resolved.entry.instrument,
                models: &models,
                access,
                generated_at: Utc::now(),
            }))
        },
    )
    .await?;
    rendered.map_err(ApiError::Internal)
}

/// The page for `params` read straight from a database, without a server
/// (`readiness report --html`).
pub async fn offline(db: &DatabaseConnection, params: &ReportParams) -> Result<String, ApiError> {
    let catalog = Catalog::default();
    let snapshot = ReportSnapshot::new(Duration::ZERO);
    snapshot.refresh(db).await?;
    let resolved = resolve(db, &catalog, params).await?;
    let models = ReportModels::compute(&*snapshot.read()?, &resolved).map_err(report_error)?;
    page::render(&page::PageInput {
        params,
        instrument: &resolved.entry.instrument,
        models: &models,
        access: Access::Offline,
        generated_at: Utc::now(),
    })
    .map_err(ApiError::Internal)
}
