//! The report page's models, computed from the server's snapshot or straight from a
//! database, and drawn by `report_page`.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use readiness_analytics::reports::disclosure::DisclosurePolicy;
use readiness_analytics::reports::{self, ReportError, Snapshot};
use sea_orm::DatabaseConnection;

use super::run::{Resolved, report, report_error, resolve};
use super::snapshot::ReportSnapshot;
use crate::domain::params::ReportParams;
use crate::report_page::{Access, PageInput, ReportModels, render};
use crate::services::Services;
use crate::services::catalog::Catalog;
use crate::services::error::ServiceError;

/// The readiness, trend and blockers reports with one set of parameters, and the change
/// report when they have its windows.
pub fn models(snapshot: &Snapshot, resolved: &Resolved) -> Result<ReportModels, ReportError> {
    let instrument = &resolved.entry.instrument;
    let query = &resolved.query;
    let margins = resolved.margins.as_ref();
    Ok(ReportModels {
        readiness: reports::readiness(snapshot, instrument, query, margins)?,
        trend: reports::trend(snapshot, instrument, query, resolved.interval, margins)?,
        blockers: reports::blockers(snapshot, instrument, query, margins)?,
        change: super::change::model(snapshot, resolved)?,
    })
}

/// The page for `params` from the server's report snapshot.
pub async fn serve(
    services: &Arc<Services>,
    params: ReportParams,
    access: Access,
) -> Result<(String, super::run::DataVersion), ServiceError> {
    let for_page = params.clone();
    let (rendered, version) = report(
        services,
        &params,
        "readiness_html",
        move |snapshot, resolved| {
            let models = models(snapshot, resolved)?;
            Ok(render(&PageInput {
                min_cell: resolved.query.disclosure.min_cell(),
                table: resolved.query.disclosure.table().name().to_owned(),
                params: &for_page,
                instrument: &resolved.entry.instrument,
                models: &models,
                access,
                generated_at: Utc::now(),
            }))
        },
    )
    .await?;
    Ok((rendered.map_err(ServiceError::Internal)?, version))
}

/// The page for `params` read straight from a database, without a server
/// (`readiness report --html`).
pub async fn offline(
    db: &DatabaseConnection,
    policy: &DisclosurePolicy,
    params: &ReportParams,
) -> Result<String, ServiceError> {
    let catalog = Catalog::default();
    let resolved = resolve(db, &catalog, policy, params).await?;
    let snapshot = ReportSnapshot::new(Duration::ZERO);
    snapshot.refresh(db).await?;
    let models = models(&*snapshot.read()?, &resolved).map_err(report_error)?;
    render(&PageInput {
        min_cell: resolved.query.disclosure.min_cell(),
        table: resolved.query.disclosure.table().name().to_owned(),
        params,
        instrument: &resolved.entry.instrument,
        models: &models,
        access: Access::Offline,
        generated_at: Utc::now(),
    })
    .map_err(ServiceError::Internal)
}
