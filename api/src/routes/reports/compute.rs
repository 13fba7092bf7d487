//! Resolving report parameters against the database and running the analytics off the
//! request thread.

use std::collections::BTreeMap;
use std::sync::Arc;

use actix_web::web;
use chrono::{Days, NaiveDate};
use readiness_analytics::FieldProblem;
use readiness_analytics::reports::{Interval, Margins, ReportError, ReportQuery, Snapshot};

use sea_orm::DatabaseConnection;

use super::params::{ReportParams, query_pointer};
use crate::catalog::{Catalog, Entry};
use crate::problem::ApiError;
use crate::startup::AppState;
use crate::store::populations::PopulationStore;
use crate::store::surveys::SurveyQuery;

/// A report request resolved: which rows, which rubric, which weights.
pub struct Resolved {
    pub query: ReportQuery,
    pub entry: Arc<Entry>,
    pub margins: Option<Margins>,
    /// Period length (trend only).
    pub interval: Interval,
}

/// Everything a report endpoint does before serialising: parse the parameters (`interval`
/// admitted for the trend only), resolve them, and run `compute` on the snapshot.
pub async fn report<T, F>(
    state: &web::Data<AppState>,
    query: &[(String, String)],
    with_interval: bool,
    name: &'static str,
    compute: F,
) -> Result<(ReportParams, T), ApiError>
where
    T: Send + 'static,
    F: FnOnce(&Snapshot, &Resolved) -> Result<T, ReportError> + Send + 'static,
{
    let params = ReportParams::parse(query, with_interval)?;
    let result = report_with(state, &params, name, compute).await?;
    Ok((params, result))
}

/// Resolves parsed parameters and runs `compute` on the snapshot.
pub async fn report_with<T, F>(
    state: &web::Data<AppState>,
    params: &ReportParams,
    name: &'static str,
    compute: F,
) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&Snapshot, &Resolved) -> Result<T, ReportError> + Send + 'static,
{
    let resolved = resolve(&state.db, &state.catalog, params).await?;
    run(state, name, move |snapshot| compute(snapshot, &resolved)).await
}

/// Looks up what the parameters name: the survey versions and the population margins.
pub async fn resolve(
    db: &DatabaseConnection,
    catalog: &Catalog,
    params: &ReportParams,
) -> Result<Resolved, ApiError> {
    let versions = SurveyQuery::released_versions(db, &params.survey).await?;
    if versions.is_empty() {
        return Err(ApiError::validation([FieldProblem::new(
            query_pointer("survey"),
            format!("unknown survey `{}`", params.survey),
        )]));
    }
    let selected: Vec<_> = match params.version {
        Some(version) => versions.iter().filter(|s| s.version == version).collect(),
        None => versions.iter().collect(),
    };
    let Some(newest) = selected.iter().max_by_key(|s| s.version) else {
        return Err(ApiError::validation([FieldProblem::new(
            query_pointer("version"),
            format!(
                "survey `{}` has no released version `{}`",
                params.survey,
                params.version.unwrap_or_default()
            ),
        )]));
    };
    let entry = catalog.entry(newest)?;
    let margins = match &params.weights {
        None => None,
        Some(name) => {
            let population = PopulationStore::by_name(db, name).await?.ok_or_else(|| {
                ApiError::validation([FieldProblem::new(
                    query_pointer("weights"),
                    format!("no population margins named `{name}`"),
                )])
            })?;
            Some(
                serde_json::from_value::<BTreeMap<String, BTreeMap<String, f64>>>(
                    population.margins,
                )
                .map_err(|e| anyhow::anyhow!("stored margins of `{name}` are malformed: {e}"))?,
            )
        }
    };
    Ok(Resolved {
        query: ReportQuery {
            survey_ids: selected.iter().map(|s| s.id).collect(),
            from: params.from.map(start_of_day),
            until: params
                .to
                .and_then(|to| to.checked_add_days(Days::new(1)))
                .map(start_of_day),
            basis: params.basis,
            by: params.by.clone(),
            min_cell: params.min_cell,
        },
        entry,
        margins,
        interval: params.interval,
    })
}

fn start_of_day(date: NaiveDate) -> i64 {
    date.and_hms_opt(0, 0, 0)
        .map(|t| t.and_utc().timestamp_micros())
        .unwrap_or_default()
}

/// Keeps the snapshot fresh: the first report waits for the full load; later ones are served
/// from the snapshot while a due refresh runs in the background (with a zero refresh interval,
/// every report waits for its refresh, so it sees every committed response).
async fn freshen(state: &web::Data<AppState>) -> Result<(), ApiError> {
    if state.reports.refresh_every().is_zero() || !state.reports.is_loaded() {
        return state.reports.refresh(&state.db).await;
    }
    let state = state.clone();
    actix_web::rt::spawn(async move {
        if let Err(error) = state.reports.refresh_if_idle(&state.db).await {
            tracing::warn!(?error, "refreshing the report snapshot failed");
        }
    });
    Ok(())
}

/// Refreshes the snapshot, then runs `report` on it on the blocking pool; the computation
/// time is recorded under `name` in the metrics.
async fn run<T, F>(
    state: &web::Data<AppState>,
    name: &'static str,
    report: F,
) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&Snapshot) -> Result<T, ReportError> + Send + 'static,
{
    freshen(state).await?;
    let worker = state.clone();
    let (result, seconds) = web::block(move || {
        let started = std::time::Instant::now();
        let result = worker
            .reports
            .read()
            .and_then(|snapshot| report(&snapshot).map_err(report_error));
        (result, started.elapsed().as_secs_f64())
    })
    .await
    .map_err(|e| ApiError::Internal(anyhow::anyhow!("report task failed: {e}")))?;
    state.metrics.report_computed(name, seconds);
    result
}

pub fn report_error(error: ReportError) -> ApiError {
    match error {
        ReportError::Weighting(e) => {
            ApiError::validation([FieldProblem::new(query_pointer("weights"), e.to_string())])
        }
        ReportError::MarginDimension(_) => ApiError::validation([FieldProblem::new(
            query_pointer("weights"),
            error.to_string(),
        )]),
        ReportError::Polars(e) => ApiError::Internal(anyhow::anyhow!("report computation: {e}")),
    }
}
