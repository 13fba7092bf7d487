//! The report endpoints and their bodies.

use actix_web::{HttpResponse, get, web};
use chrono::NaiveDate;
use readiness_analytics::reports::{
    self, Basis, Interval, Period, Readiness, ReferenceFigure, SegmentField, TierBlockers,
    reference_figures,
};
use serde::Serialize;
use utoipa::ToSchema;

use super::compute::report;
use super::params::{ReportParams, ReportParamsDoc, TrendParamsDoc};
use crate::auth::{Authorized, ReadData};
use crate::problem::{ApiError, Problem};
use crate::startup::AppState;

/// The parameters a report was computed with.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReportScope {
    #[schema(example = "ai-readiness")]
    pub survey: String,
    /// The single instrument version reported on, or `null` for every released version.
    pub version: Option<i32>,
    pub basis: Basis,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    #[schema(example = 5)]
    pub min_cell: u64,
    pub by: Vec<SegmentField>,
    /// Population margins the sample was raked to, if any.
    pub weights: Option<String>,
}

impl From<&ReportParams> for ReportScope {
    fn from(params: &ReportParams) -> Self {
        Self {
            survey: params.survey.clone(),
            version: params.version,
            basis: params.basis,
            from: params.from,
            to: params.to,
            min_cell: params.min_cell,
            by: params.by.clone(),
            weights: params.weights.clone(),
        }
    }
}

/// How often firms are ready to customise a model, overall and by segment.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReadinessReport {
    #[serde(flatten)]
    pub scope: ReportScope,
    #[serde(flatten)]
    pub readiness: Readiness,
    /// Official statistics to read the sample against.
    pub reference: Vec<ReferenceFigure>,
}

/// Readiness per period.
#[derive(Debug, Serialize, ToSchema)]
pub struct TrendReport {
    #[serde(flatten)]
    pub scope: ReportScope,
    pub interval: Interval,
    pub periods: Vec<Period>,
}

/// What keeps firms from each tier.
#[derive(Debug, Serialize, ToSchema)]
pub struct BlockersReport {
    #[serde(flatten)]
    pub scope: ReportScope,
    pub tiers: Vec<TierBlockers>,
}

type Query = web::Query<Vec<(String, String)>>;

/// Readiness shares: how many firms are at each tier and ready to customise, with 95 % Wilson
/// intervals, overall and by segment. Small cells are suppressed.
#[utoipa::path(
    tag = "reports",
    security(("bearer" = [])),
    params(ReportParamsDoc),
    responses(
        (status = 200, description = "The readiness report", body = ReadinessReport),
        (status = 400, description = "Malformed query string", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The key is neither an analyst nor an admin key", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unknown parameter or value, every one named", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/reports/readiness")]
pub async fn readiness_report(
    _caller: Authorized<ReadData>,
    state: web::Data<AppState>,
    query: Query,
) -> Result<HttpResponse, ApiError> {
    let (params, readiness) = report(&state, &query, false, "readiness", |snapshot, r| {
        reports::readiness(snapshot, &r.entry.instrument, &r.query, r.margins.as_ref())
    })
    .await?;
    Ok(HttpResponse::Ok().json(ReadinessReport {
        scope: (&params).into(),
        readiness,
        reference: reference_figures().to_vec(),
    }))
}

/// Readiness per month or quarter; with basis `latest`, each firm's latest response within
/// each period counts.
#[utoipa::path(
    tag = "reports",
    security(("bearer" = [])),
    params(ReportParamsDoc, TrendParamsDoc),
    responses(
        (status = 200, description = "The trend report", body = TrendReport),
        (status = 400, description = "Malformed query string", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The key is neither an analyst nor an admin key", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unknown parameter or value, every one named", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/reports/trend")]
pub async fn trend_report(
    _caller: Authorized<ReadData>,
    state: web::Data<AppState>,
    query: Query,
) -> Result<HttpResponse, ApiError> {
    let (params, periods) = report(&state, &query, true, "trend", |snapshot, r| {
        let interval = r.interval;
        reports::trend(
            snapshot,
            &r.entry.instrument,
            &r.query,
            interval,
            r.margins.as_ref(),
        )
    })
    .await?;
    Ok(HttpResponse::Ok().json(TrendReport {
        scope: (&params).into(),
        interval: params.interval,
        periods,
    }))
}

/// Blockers: for each tier above the lowest, the firms exactly one tier below it and the share
/// failing each of its gates, sorted by share.
#[utoipa::path(
    tag = "reports",
    security(("bearer" = [])),
    params(ReportParamsDoc),
    responses(
        (status = 200, description = "The blockers report", body = BlockersReport),
        (status = 400, description = "Malformed query string", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The key is neither an analyst nor an admin key", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unknown parameter or value, every one named", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/reports/blockers")]
pub async fn blockers_report(
    _caller: Authorized<ReadData>,
    state: web::Data<AppState>,
    query: Query,
) -> Result<HttpResponse, ApiError> {
    let (params, tiers) = report(&state, &query, false, "blockers", |snapshot, r| {
        reports::blockers(snapshot, &r.entry.instrument, &r.query, r.margins.as_ref())
    })
    .await?;
    Ok(HttpResponse::Ok().json(BlockersReport {
        scope: (&params).into(),
        tiers,
    }))
}
