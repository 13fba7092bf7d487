//! `GET /api/v1/reports/change`: the same firms in a baseline and a follow-up window.

use actix_web::{HttpRequest, HttpResponse, get, web};
use chrono::NaiveDate;
use readiness_analytics::reports::{Change, SegmentField};
use serde::Serialize;
use utoipa::ToSchema;

use super::params::{Admits, ChangeParamsDoc, ReportParams, ReportQuery, RequiredWindowParamsDoc};
use crate::http::conditional::{self, Precondition, Validator};
use crate::http::extract::caller::{Authorized, ReadAggregates};
use crate::http::openapi::{AggregateReaders, ReportQueryProblems};
use crate::http::problem::ApiError;
use crate::http::state::AppState;
use crate::services::reports::{self as report_service, change as change_service};

/// The parameters a change report was computed with.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChangeScope {
    #[schema(example = "ai-readiness")]
    pub survey: String,
    /// The single instrument version reported on, or `null` for every released version.
    pub version: Option<i32>,
    pub baseline_from: NaiveDate,
    pub baseline_to: NaiveDate,
    pub followup_from: NaiveDate,
    pub followup_to: NaiveDate,
    /// The threshold in force, in firms: the publisher's, or the higher one the request
    /// asked for.
    #[schema(example = 5)]
    pub min_cell: u64,
    pub by: Vec<SegmentField>,
    /// Population margins the panel's baseline responses were raked to, if any.
    pub weights: Option<String>,
}

/// Paired change of the same firms between two windows.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChangeReport {
    #[serde(flatten)]
    pub scope: ChangeScope,
    #[serde(flatten)]
    pub change: Change,
}

/// Paired change: the firms with a response in both windows (each firm's latest in each), how
/// they moved between tiers, and whether shares and dimension scores changed.
///
/// - `panel`: the firms in both windows, and those seen at baseline only (attrition) or at
///   follow-up only.
/// - `transitions`: the tier transition matrix (baseline tier × follow-up tier) with counts
///   and row shares; `followup_tiers` are its column totals.
/// - `shares`: ready to customise, and at least each tier above the lowest, at baseline and
///   at follow-up among the same firms, the difference (follow-up minus baseline) with
///   Newcombe's hybrid score interval for paired proportions (Newcombe 1998, method 10:
///   Wilson score intervals of the two shares combined with the table's correlation,
///   corrected by n/2), and the exact McNemar test (two-sided binomial test of the firms
///   that lost the attribute against those that gained it) with its mid-p version.
/// - `score_changes`: each dimension score's mean change with a 95 % paired t interval.
///
/// Segments (`by`) are the firms' attributes in their baseline response. With `weights`
/// the panel's baseline responses are raked to the margins, each firm keeps its weight at
/// follow-up, and the weighted intervals use the cell's Kish effective sample size
/// (`n_eff`); the McNemar tests stay those of the sample.
///
/// Every count is perturbed by the cell key method; shares, differences and intervals are
/// computed from the perturbed counts; mean changes carry noise of their own. A cell with
/// fewer panel firms than the threshold is suppressed whole (with a partner segment when
/// one alone would be). A transition or paired-table count below the threshold is
/// suppressed, and so is a partner wherever a single hidden count could be derived from a
/// published total (its row or column of the matrix, a paired table, or the segments' sum);
/// a measure with a suppressed cell in its paired table publishes no figures. Windows must
/// not overlap: `followup_from` must be after `baseline_to` (`422`).
#[utoipa::path(
    tag = "reports",
    security(("bearer" = [])),
    params(RequiredWindowParamsDoc, ChangeParamsDoc),
    responses(
        (status = 200, description = "The change report", body = ChangeReport),
        ReportQueryProblems,
        AggregateReaders,
    )
)]
#[get("/reports/change")]
pub async fn change_report(
    _caller: Authorized<ReadAggregates>,
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<Vec<(String, String)>>,
) -> Result<HttpResponse, ApiError> {
    let mut params = ReportQuery::parse(&query, Admits::Change, state.disclosure.min_cell())?;
    let validator = Validator::new(&state.services, "change", &params, conditional::PRIVATE);
    match validator.precondition(&req) {
        Precondition::Matches => return Ok(validator.not_modified(&state.services)),
        Precondition::Any => {
            report_service::resolve(&state.db, &state.catalog, &state.disclosure, &params).await?;
            return Ok(validator.not_modified(&state.services));
        }
        Precondition::Absent => {}
    }
    let (change, version) = change_service::change(&state.services, &params).await?;
    let validator = Validator::at(version, "change", &params, conditional::PRIVATE);
    params.min_cell = Some(report_service::disclosure_for(&state.disclosure, &params).min_cell());
    let body = ChangeReport {
        scope: scope(&params)?,
        change,
    };
    Ok(validator.respond(HttpResponse::Ok().json(body)))
}

fn scope(params: &ReportParams) -> Result<ChangeScope, ApiError> {
    let ((baseline_from, baseline_to), (followup_from, followup_to)) = params
        .windows
        .pair()
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("the change report lost its windows")))?;
    Ok(ChangeScope {
        survey: params.survey.clone(),
        version: params.version,
        baseline_from,
        baseline_to,
        followup_from,
        followup_to,
        min_cell: params.min_cell.unwrap_or_default(),
        by: params.by.clone(),
        weights: params.weights.clone(),
    })
}
