//! `GET /api/v1/reports/readiness.html`: the report page for an analyst.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, web};

use super::params::{
    Admits, FilterParamsDoc, ReportParamsDoc, ReportQuery, TrendParamsDoc, WindowParamsDoc,
};
use crate::http::conditional::{self, Precondition, Validator};
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

/// The report page as an HTTP response: kept by no shared cache, revalidated by the browser
/// (`validator`), not framed, no referrer sent on.
pub fn html_response(page: String, validator: &Validator) -> HttpResponse {
    validator.respond(
        HttpResponse::Ok()
            .insert_header((header::CONTENT_TYPE, HTML))
            .insert_header((header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY))
            .insert_header((header::REFERRER_POLICY, "no-referrer"))
            .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
            .insert_header(("X-Robots-Tag", "noindex"))
            .body(page),
    )
}

/// `Some(304)` when the client's copy of the page `validator` labels is current (`*`: when
/// the parameters resolve), without computing the page.
pub async fn unchanged_page(
    req: &HttpRequest,
    state: &AppState,
    params: &crate::domain::params::ReportParams,
    validator: &Validator,
) -> Result<Option<HttpResponse>, ApiError> {
    match validator.precondition(req) {
        Precondition::Absent => Ok(None),
        Precondition::Matches => Ok(Some(validator.not_modified(&state.services))),
        Precondition::Any => {
            crate::services::reports::resolve(&state.db, &state.catalog, &state.disclosure, params)
                .await?;
            Ok(Some(validator.not_modified(&state.services)))
        }
    }
}

/// The readiness report as a self-contained HTML page with charts: the headline shares with
/// their intervals, tiers by segment, the trend (`interval`, month by default), the top
/// blockers, dimension means, reference figures, and what is suppressed. It takes the report
/// parameters and `interval`, and shows exactly the figures the JSON reports publish for them.
#[utoipa::path(
    tag = "reports",
    security(("bearer" = [])),
    params(FilterParamsDoc, ReportParamsDoc, TrendParamsDoc, WindowParamsDoc),
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
    req: HttpRequest,
    query: web::Query<Vec<(String, String)>>,
) -> Result<HttpResponse, ApiError> {
    let params = ReportQuery::parse(&query, Admits::Page, state.disclosure.min_cell())?;
    // Weak: the page states when it was drawn.
    let validator = Validator::new(&state, "readiness.html", &params, conditional::PRIVATE).weak();
    if let Some(unchanged) = unchanged_page(&req, &state, &params, &validator).await? {
        return Ok(unchanged);
    }
    let labelled = params.clone();
    let (page, version) = report_page::serve(&state.services, params, Access::Analyst).await?;
    let validator =
        Validator::at(version, "readiness.html", &labelled, conditional::PRIVATE).weak();
    Ok(html_response(page, &validator))
}
