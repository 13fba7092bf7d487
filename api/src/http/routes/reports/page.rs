//! `GET /api/v1/reports/readiness.html`: the report page for an analyst.

use actix_web::http::header;
use actix_web::{HttpResponse, get, web};

use super::params::{FilterParamsDoc, ReportParamsDoc, ReportQuery, TrendParamsDoc};
use crate::http::extract::caller::{Authorized, ReadAggregates};
use crate::http::openapi::{AggregateReaders, ReportQueryProblems};
use crate::http::problem::ApiError;
use crate::http::state::AppState;
use crate::report_page::Access;
use crate::services::reports::page as report_page;

/// The page's content type.
pub const HTML: &str = "text/html; charset=utf-8";
/// Nothing may load from elsewhere and no script may run; the page needs neither.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// The report page as an HTTP response: not cached, not framed, no referrer sent on.
pub fn html_response(page: String) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, HTML))
        .insert_header((header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header(("X-Robots-Tag", "noindex"))
        .body(page)
}

/// The readiness report as a self-contained HTML page with charts: the headline shares with
/// their intervals, tiers by segment, the trend (`interval`, month by default), the top
/// blockers, dimension means, reference figures, and what is suppressed. It takes the report
/// parameters and `interval`, and shows exactly the figures the JSON reports publish for them.
#[utoipa::path(
    tag = "reports",
    security(("bearer" = [])),
    params(FilterParamsDoc, ReportParamsDoc, TrendParamsDoc),
    responses(
        (status = 200, description = "The report page (no scripts, no outside resources)", body = String, content_type = "text/html"),
        ReportQueryProblems,
        AggregateReaders,
    )
)]
#[get("/reports/readiness.html")]
pub async fn readiness_page(
    _caller: Authorized<ReadAggregates>,
    state: web::Data<AppState>,
    query: web::Query<Vec<(String, String)>>,
) -> Result<HttpResponse, ApiError> {
    let params = ReportQuery::parse(&query, true, state.disclosure.min_cell())?;
    let page = report_page::serve(&state.services, params, Access::Analyst).await?;
    Ok(html_response(page))
}
