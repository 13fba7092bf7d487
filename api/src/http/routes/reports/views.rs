//! The report endpoints and their bodies.

use actix_web::{HttpRequest, HttpResponse, get, web};
use chrono::NaiveDate;
use readiness_analytics::reports::{
    self, Basis, BlockerTiers, Interval, Period, Readiness, ReferenceFigure, SegmentField,
    SegmentFilter, reference_figures,
};
use readiness_analytics::reports::{ReportError, Snapshot};
use serde::Serialize;
use utoipa::ToSchema;

use super::params::{
    Admits, FilterParamsDoc, ReportParams, ReportParamsDoc, ReportQuery, TrendParamsDoc,
};
use crate::http::conditional::{self, Precondition, Validator};
use crate::http::extract::caller::{Authorized, ReadAggregates};
use crate::http::openapi::{AggregateReaders, ReportQueryProblems};
use crate::http::problem::ApiError;
use crate::http::routes::codes::{CountryCode, IndustryCode, RegionCode, SizeBand};
use crate::http::state::AppState;
use crate::services::reports::{self as report_service, Resolved};

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
    /// The threshold in force, in firms: the publisher's, or the higher one the request
    /// asked for. A cell whose perturbed number of firms is below it is suppressed.
    #[schema(example = 5)]
    pub min_cell: u64,
    pub by: Vec<SegmentField>,
    /// The segment filters the report was narrowed to (empty lists: no filter).
    pub filters: SegmentFilters,
    /// Population margins the sample was raked to, if any.
    pub weights: Option<String>,
}

/// The segment filters of a report: per attribute the values kept, sorted (OR within an
/// attribute, AND across); an empty list keeps every value.
#[derive(Debug, Serialize, ToSchema)]
pub struct SegmentFilters {
    #[schema(value_type = Vec<IndustryCode>)]
    pub industry: Vec<String>,
    #[schema(value_type = Vec<SizeBand>)]
    pub size_band: Vec<String>,
    #[schema(value_type = Vec<CountryCode>)]
    pub country: Vec<String>,
    #[schema(value_type = Vec<RegionCode>)]
    pub region: Vec<String>,
}

impl From<&SegmentFilter> for SegmentFilters {
    fn from(filter: &SegmentFilter) -> Self {
        Self {
            industry: filter.industry.clone(),
            size_band: filter.size_band.clone(),
            country: filter.country.clone(),
            region: filter.region.clone(),
        }
    }
}

impl From<&ReportParams> for ReportScope {
    fn from(params: &ReportParams) -> Self {
        Self {
            survey: params.survey.clone(),
            version: params.version,
            basis: params.basis,
            from: params.from,
            to: params.to,
            min_cell: params.min_cell.unwrap_or_default(),
            by: params.by.clone(),
            filters: SegmentFilters::from(&params.segments),
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
    #[serde(flatten)]
    pub blockers: BlockerTiers,
}

/// Parses the query (the parameters `admits` names), answers `304` when the client's copy is
/// current, and otherwise computes the report and builds its body.
pub(super) async fn report<T, F, B, S>(
    req: &HttpRequest,
    state: &web::Data<AppState>,
    query: &[(String, String)],
    admits: Admits,
    name: &'static str,
    compute: F,
    body: B,
) -> Result<HttpResponse, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&Snapshot, &Resolved) -> Result<T, ReportError> + Send + 'static,
    B: FnOnce(&ReportParams, T) -> S,
    S: Serialize,
{
    let mut params = ReportQuery::parse(query, admits, state.disclosure.min_cell())?;
    let validator = Validator::new(&state.services, name, &params, conditional::PRIVATE);
    match validator.precondition(req) {
        Precondition::Matches => return Ok(validator.not_modified(&state.services)),
        Precondition::Any => {
            report_service::resolve(&state.db, &state.catalog, &state.disclosure, &params).await?;
            return Ok(validator.not_modified(&state.services));
        }
        Precondition::Absent => {}
    }
    let (result, version) = report_service::report(&state.services, &params, name, compute).await?;
    // Labelled with the version the snapshot had when it was read, so that the next request
    // matches unless the data changed since.
    let validator = Validator::at(version, name, &params, conditional::PRIVATE);
    // The scope says which threshold was in force.
    params.min_cell = Some(report_service::disclosure_for(&state.disclosure, &params).min_cell());
    Ok(validator.respond(HttpResponse::Ok().json(body(&params, result))))
}

/// Readiness shares: how many firms are at each tier and ready to customise, with 95 % Wilson
/// intervals, overall and by segment.
///
/// Every count is perturbed by the cell key method (the same firms always get the same
/// noise), shares and intervals are computed from the perturbed counts, dimension means carry
/// noise of their own, and a cell with fewer firms than the threshold is suppressed. So tier
/// counts need not add up to `n`.
#[utoipa::path(
    tag = "reports",
    security(("bearer" = [])),
    params(FilterParamsDoc, ReportParamsDoc),
    responses(
        (status = 200, description = "The readiness report", body = ReadinessReport),
        ReportQueryProblems,
        AggregateReaders,
    )
)]
#[get("/reports/readiness")]
pub async fn readiness_report(
    _caller: Authorized<ReadAggregates>,
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<Vec<(String, String)>>,
) -> Result<HttpResponse, ApiError> {
    report(
        &req,
        &state,
        &query,
        Admits::Report,
        "readiness",
        |snapshot, r| {
            reports::readiness(snapshot, &r.entry.instrument, &r.query, r.margins.as_ref())
        },
        |params, readiness| ReadinessReport {
            scope: params.into(),
            readiness,
            reference: reference_figures().to_vec(),
        },
    )
    .await
}

/// Readiness per month or quarter; with basis `latest`, each firm's latest response within
/// each period counts.
///
/// Every count is perturbed and small cells are suppressed, as in the readiness report; a
/// period's cell shows the same figures as the readiness report of that period.
#[utoipa::path(
    tag = "reports",
    security(("bearer" = [])),
    params(FilterParamsDoc, ReportParamsDoc, TrendParamsDoc),
    responses(
        (status = 200, description = "The trend report", body = TrendReport),
        ReportQueryProblems,
        AggregateReaders,
    )
)]
#[get("/reports/trend")]
pub async fn trend_report(
    _caller: Authorized<ReadAggregates>,
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<Vec<(String, String)>>,
) -> Result<HttpResponse, ApiError> {
    report(
        &req,
        &state,
        &query,
        Admits::Trend,
        "trend",
        |snapshot, r| {
            let interval = r.interval;
            reports::trend(
                snapshot,
                &r.entry.instrument,
                &r.query,
                interval,
                r.margins.as_ref(),
            )
        },
        |params, periods| TrendReport {
            scope: params.into(),
            interval: params.interval,
            periods,
        },
    )
    .await
}

/// Blockers: for each tier above the lowest, the firms exactly one tier below it and the share
/// failing each of its gates, sorted by share.
///
/// Each cell's `unlock` section ranks the gates by the firms for which the gate is the sole
/// blocker (fixing it alone moves them up one tier) and counts firms by their number of
/// blockers (1, 2, 3, 4+), with the same intervals as the gate shares. A figure below the
/// threshold is suppressed, and so is a partner wherever a single hidden figure could be
/// derived from a published total of its row (the cell, or its firms with one blocker) or
/// column (the overall figure across the segments).
///
/// Every count is perturbed and small cells are suppressed, as in the readiness report;
/// shares are computed from the perturbed counts.
#[utoipa::path(
    tag = "reports",
    security(("bearer" = [])),
    params(FilterParamsDoc, ReportParamsDoc),
    responses(
        (status = 200, description = "The blockers report", body = BlockersReport),
        ReportQueryProblems,
        AggregateReaders,
    )
)]
#[get("/reports/blockers")]
pub async fn blockers_report(
    _caller: Authorized<ReadAggregates>,
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<Vec<(String, String)>>,
) -> Result<HttpResponse, ApiError> {
    report(
        &req,
        &state,
        &query,
        Admits::Report,
        "blockers",
        |snapshot, r| {
            reports::blockers(snapshot, &r.entry.instrument, &r.query, r.margins.as_ref())
        },
        |params, blockers| BlockersReport {
            scope: params.into(),
            blockers,
        },
    )
    .await
}
