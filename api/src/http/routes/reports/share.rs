//! Share links to the report page: `POST /api/v1/reports/share` signs the parameters and an
//! expiry; `GET /api/v1/reports/shared/{token}` opens the page without a key until then,
//! unless the link or the key that made it was revoked (`shares.rs` lists and revokes links).

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use readiness_analytics::FieldProblem;
use serde::Serialize;
use utoipa::{IntoParams, ToSchema};

use super::page::{html_response, unchanged_page};
use super::params::{
    Admits, FilterParamsDoc, ReportParamsDoc, ReportQuery, TrendParamsDoc, WindowParamsDoc,
    query_pointer,
};
use crate::http::conditional::{self, Validator};
use crate::http::extract::caller::{Authorized, ReadAggregates};
use crate::http::middleware::request_id::RequestId;
use crate::http::openapi::{AggregateReaders, ReportQueryProblems};
use crate::http::problem::{ApiError, Problem};
use crate::http::state::AppState;
use crate::report_page::Access;
use crate::services::error::ServiceError;
use crate::services::reports::share::Refusal;
use crate::services::reports::{page as report_page, share};

/// A link lives this long unless `expires_in` says otherwise.
pub const DEFAULT_EXPIRES_IN: i64 = 24 * 60 * 60;
/// The longest a link may live.
pub const MAX_EXPIRES_IN: i64 = 30 * 24 * 60 * 60;

/// The share parameter besides the report's.
#[derive(Debug, serde::Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct ShareParamsDoc {
    /// Seconds until the link stops working (1 to 2,592,000, i.e. 30 days).
    #[param(default = 86400, minimum = 1, maximum = 2592000)]
    expires_in: Option<i64>,
}

/// A link that opens the report page read-only, without a key, until it expires.
#[derive(Debug, Serialize, ToSchema)]
pub struct SharedLink {
    /// The link's id, by which an admin can revoke it.
    pub id: uuid::Uuid,
    /// Path of the page, relative to the server; it carries its own signature.
    #[schema(example = "/api/v1/reports/shared/eyJleHAiOjE3OTg3NjE2MDAsInEiOltdfQ.c2lnbmF0dXJl")]
    pub url: String,
    pub expires_at: DateTime<Utc>,
}

/// Create a share link to the report page.
///
/// The report parameters (and `interval`) go in the query string, exactly as for
/// `GET /reports/readiness.html`, and are checked the same way; the link opens that page
/// read-only, without a key, until `expires_at`. The link carries the parameters and the
/// expiry signed with the server's share secret (`share_secret`), never a key. Without a
/// configured secret, links stop working when the server restarts and do not open on other
/// replicas. The link stops working before then if an admin revokes it
/// (`DELETE /reports/shares/{id}`) or the key that made it is revoked or expires. Recorded in
/// the audit log as `report.share`.
#[utoipa::path(
    tag = "reports",
    security(("bearer" = [])),
    params(FilterParamsDoc, ReportParamsDoc, TrendParamsDoc, WindowParamsDoc, ShareParamsDoc),
    responses(
        (status = 201, description = "The link; `Location` names it too", body = SharedLink,
            headers(("Location" = String, description = "The link's path"))),
        ReportQueryProblems,
        AggregateReaders,
    )
)]
#[post("/reports/share")]
#[tracing::instrument(skip_all)]
pub async fn create_share(
    analyst: Authorized<ReadAggregates>,
    request_id: RequestId,
    state: web::Data<AppState>,
    query: web::Query<Vec<(String, String)>>,
) -> Result<HttpResponse, ApiError> {
    let (report_pairs, expires_in): (Vec<_>, Vec<_>) = query
        .iter()
        .cloned()
        .partition(|(name, _)| name != "expires_in");
    let parsed = ReportQuery::parse(&report_pairs, Admits::Page, state.disclosure.min_cell());
    let expires_in = parse_expires_in(&expires_in);
    let (params, expires_in) = match (parsed, expires_in) {
        (Ok(params), Ok(expires_in)) => (params, expires_in),
        (Err(ApiError::Validation(mut errors)), Err(problem)) => {
            errors.push(problem.into());
            return Err(ApiError::Validation(errors));
        }
        (Err(error), _) => return Err(error),
        (_, Err(problem)) => return Err(ApiError::validation([problem])),
    };
    let link = share::create(
        &state,
        &params,
        expires_in,
        analyst.principal.key_id,
        &request_id.audit_context(&analyst.principal),
    )
    .await?;
    let url = format!("/api/v1/reports/shared/{}", link.token);
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, url.clone()))
        .json(SharedLink {
            id: link.id,
            url,
            expires_at: link.expires_at,
        }))
}

fn parse_expires_in(pairs: &[(String, String)]) -> Result<i64, FieldProblem> {
    let pointer = query_pointer("expires_in");
    match pairs {
        [] => Ok(DEFAULT_EXPIRES_IN),
        [(_, raw)] => raw
            .parse::<i64>()
            .ok()
            .filter(|s| (1..=MAX_EXPIRES_IN).contains(s))
            .ok_or_else(|| {
                FieldProblem::new(
                    pointer,
                    format!(
                        "must be a whole number of seconds from 1 to {MAX_EXPIRES_IN} (30 days)"
                    ),
                )
            }),
        _ => Err(FieldProblem::new(pointer, "given more than once")),
    }
}

/// Open a shared report page.
///
/// Needs no key: the link itself grants read-only access to one report until it expires.
/// Every link that is not genuine (malformed, altered, or signed with another secret) gets
/// the same `404`; a genuine link past its expiry gets `410` with the code
/// `share_link_expired`, and one that an admin revoked, or whose key was revoked or has
/// expired, `410` with the code `share_link_revoked`.
#[utoipa::path(
    tag = "reports",
    params(("token" = String, Path, description = "The signed token of a share link")),
    responses(
        (status = 200, description = "The report page (no scripts, no outside resources)", body = String, content_type = "text/html"),
        (status = 404, description = "No such link: malformed, altered or signed elsewhere", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "The link has expired (`share_link_expired`), or it or the key that made it was revoked (`share_link_revoked`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The linked parameters no longer resolve (e.g. the population margins were removed)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/reports/shared/{token}")]
pub async fn open_shared(
    state: web::Data<AppState>,
    req: HttpRequest,
    token: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let shared =
        share::open(&state, &token, Utc::now())
            .await?
            .map_err(|refusal| match refusal {
                Refusal::NotFound => ApiError::NotFound("no such shared report".to_owned()),
                Refusal::Expired(at) => ApiError::Gone {
                    code: "share_link_expired",
                    detail: format!(
                        "this share link expired at {}; ask for a new one",
                        at.to_rfc3339()
                    ),
                },
                Refusal::Revoked => ApiError::Gone {
                    code: "share_link_revoked",
                    detail: "this share link was revoked; ask for a new one".to_owned(),
                },
                Refusal::KeyRevoked => ApiError::Gone {
                    code: "share_link_revoked",
                    detail: "the key that made this share link was revoked or has expired; ask \
                         for a new one"
                        .to_owned(),
                },
            })?;
    let params = ReportQuery::parse(&shared.query, Admits::Page, state.disclosure.min_cell())?;
    // The link's expiry is on the page, so the link is part of what the validator labels.
    let labelled = (params.clone(), shared.expires_at);
    let validator = Validator::new(&state, "shared", &labelled, conditional::PRIVATE).weak();
    if let Some(unchanged) = unchanged_page(&req, &state, &params, &validator).await? {
        return Ok(unchanged);
    }
    let (page, version) = report_page::serve(
        &state.services,
        params,
        Access::Shared {
            expires_at: shared.expires_at,
        },
    )
    .await
    .map_err(|error| match error {
        // What the link names is gone: a `404` would say the link is not genuine.
        ServiceError::UnknownParam(problem) => ServiceError::InvalidParams(vec![problem]),
        other => other,
    })?;
    let validator = Validator::at(version, "shared", &labelled, conditional::PRIVATE).weak();
    Ok(html_response(page, &validator))
}
