//! Resolving report parameters against the database and running the analytics off the
//! calling thread.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{Days, NaiveDate};
use readiness_analytics::reports::disclosure::DisclosurePolicy;
use readiness_analytics::reports::{Basis, Interval, Margins, ReportError, ReportQuery, Snapshot};
use sea_orm::DatabaseConnection;

use crate::domain::params::{ParamProblem, ReportParams};
use crate::services::Services;
use crate::services::catalog::{Catalog, Entry};
use crate::services::error::ServiceError;
use crate::store::populations::PopulationStore;

/// A report request resolved: which rows, which rubric, which weights.
pub struct Resolved {
    pub query: ReportQuery,
    pub entry: Arc<Entry>,
    pub margins: Option<Margins>,
    /// Period length (trend only).
    pub interval: Interval,
    /// The baseline and the follow-up query, when the parameters have both windows: `query`
    /// with each window in place of its own.
    pub windows: Option<(ReportQuery, ReportQuery)>,
}

/// The snapshot's data version ([`super::snapshot::ReportSnapshot::data_version`]).
pub type DataVersion = (u128, u64);

/// Checks and resolves the parameters, then runs `compute` on the snapshot; the computation
/// time is recorded under `name` in the metrics. Also returns the data version read after
/// the snapshot was brought up to date and before it was read, which labels the result.
pub async fn report<T, F>(
    services: &Arc<Services>,
    params: &ReportParams,
    name: &'static str,
    compute: F,
) -> Result<(T, DataVersion), ServiceError>
where
    T: Send + 'static,
    F: FnOnce(&Snapshot, &Resolved) -> Result<T, ReportError> + Send + 'static,
{
    let resolved = resolve(
        &services.db,
        &services.catalog,
        &services.disclosure,
        params,
    )
    .await?;
    on_snapshot(services, name, move |snapshot| compute(snapshot, &resolved)).await
}

/// The publisher's policy as a request asks for it: a request may raise the threshold, never
/// lower it ([`ReportParams::check`] refuses a lower one).
pub fn disclosure_for(policy: &DisclosurePolicy, params: &ReportParams) -> DisclosurePolicy {
    policy.for_request(params.min_cell)
}

/// Checks the parameters against each other and the publisher's policy, then looks up what
/// they name: the survey versions and the population margins.
pub async fn resolve(
    db: &DatabaseConnection,
    catalog: &Catalog,
    policy: &DisclosurePolicy,
    params: &ReportParams,
) -> Result<Resolved, ServiceError> {
    let problems = params.check(policy.min_cell());
    if !problems.is_empty() {
        return Err(ServiceError::InvalidParams(problems));
    }
    let disclosure = disclosure_for(policy, params);
    let selected = catalog.released(db, &params.survey, params.version).await?;
    // Newest first: the newest version's instrument reads them all.
    let entry = selected
        .first()
        .cloned()
        .ok_or_else(|| anyhow::anyhow!("no released version of `{}`", params.survey))?;
    let margins = match &params.weights {
        None => None,
        Some(name) => {
            let population = PopulationStore::by_name(db, name).await?.ok_or_else(|| {
                ServiceError::UnknownParam(ParamProblem::new(
                    "weights",
                    format!("no population margins named `{name}`"),
                ))
            })?;
            Some(
                serde_json::from_value::<BTreeMap<String, BTreeMap<String, f64>>>(
                    population.margins,
                )
                .map_err(|e| anyhow::anyhow!("stored margins of `{name}` are malformed: {e}"))?,
            )
        }
    };
    let query = ReportQuery {
        survey_ids: selected.iter().map(|s| s.survey_id).collect(),
        from: params.from.map(start_of_day),
        until: params.to.and_then(end_of_day),
        basis: params.basis,
        by: params.by.clone(),
        segments: params.segments.clone(),
        disclosure,
        dropped_categories: params.dropped_categories,
    };
    let window = |(from, to): (NaiveDate, NaiveDate)| ReportQuery {
        from: Some(start_of_day(from)),
        until: end_of_day(to),
        basis: Basis::Latest,
        ..query.clone()
    };
    let windows = params
        .windows
        .pair()
        .map(|(baseline, followup)| (window(baseline), window(followup)));
    Ok(Resolved {
        query,
        entry,
        margins,
        interval: params.interval,
        windows,
    })
}

/// The exclusive end of a window whose last day is `to`.
fn end_of_day(to: NaiveDate) -> Option<i64> {
    to.checked_add_days(Days::new(1)).map(start_of_day)
}

fn start_of_day(date: NaiveDate) -> i64 {
    date.and_hms_opt(0, 0, 0)
        .map(|t| t.and_utc().timestamp_micros())
        .unwrap_or_default()
}

/// Keeps the snapshot fresh: the first report waits for the full load; later ones are served
/// from the snapshot while a due refresh runs in the background (with a zero refresh interval,
/// every report waits for its refresh, so it sees every committed response).
async fn freshen(services: &Arc<Services>) -> Result<(), ServiceError> {
    if services.reports.refresh_every().is_zero() || !services.reports.is_loaded() {
        return services.reports.refresh(&services.db).await;
    }
    refresh_in_background(services);
    Ok(())
}

/// Starts a refresh off the request's path (it does nothing when one ran within the refresh
/// interval or is running), so that changes made elsewhere reach the data version soon.
pub fn refresh_in_background(services: &Arc<Services>) {
    if !services.reports.refresh_due() {
        return;
    }
    let services = services.clone();
    tokio::spawn(async move {
        if let Err(error) = services.reports.refresh_if_idle(&services.db).await {
            tracing::warn!(?error, "refreshing the report snapshot failed");
        }
    });
}

/// Refreshes the snapshot, then runs `report` on it on the blocking pool; the computation
/// time is recorded under `name` in the metrics.
pub async fn on_snapshot<T, F>(
    services: &Arc<Services>,
    name: &'static str,
    report: F,
) -> Result<(T, DataVersion), ServiceError>
where
    T: Send + 'static,
    F: FnOnce(&Snapshot) -> Result<T, ReportError> + Send + 'static,
{
    freshen(services).await?;
    let version = services.reports.data_version();
    let worker = services.clone();
    let (result, seconds) = tokio::task::spawn_blocking(move || {
        let started = std::time::Instant::now();
        let result = worker
            .reports
            .read()
            .and_then(|snapshot| report(&snapshot).map_err(report_error));
        (result, started.elapsed().as_secs_f64())
    })
    .await
    .map_err(|e| ServiceError::Internal(anyhow::anyhow!("report task failed: {e}")))?;
    services.metrics.report_computed(name, seconds);
    result.map(|result| (result, version))
}

/// A report's refusal, named by the parameter it concerns.
pub fn report_error(error: ReportError) -> ServiceError {
    match error {
        ReportError::Weighting(e) => ServiceError::param("weights", e.to_string()),
        ReportError::MarginDimension(_) => ServiceError::param("weights", error.to_string()),
        ReportError::Dropped(categories) => ServiceError::InvalidParams(
            categories
                .iter()
                .map(|d| {
                    ParamProblem::new(
                        "weights",
                        format!(
                            "the sample has no firm in {} `{}` ({:.1} % of the population), \
                             and dropped_categories=refuse refuses to weight to the other \
                             categories alone",
                            d.dimension,
                            d.category,
                            d.population_share * 100.0
                        ),
                    )
                })
                .collect(),
        ),
        ReportError::Polars(e) => {
            ServiceError::Internal(anyhow::anyhow!("report computation: {e}"))
        }
    }
}
