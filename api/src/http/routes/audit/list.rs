//! `GET /api/v1/audit`: audit events, newest first, cursor-paginated.

use actix_web::{HttpResponse, get, web};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::http::extract::caller::{Administer, Authorized};
use crate::http::openapi::AdminOnly;
use crate::http::problem::{ApiError, Problem};
use crate::http::state::AppState;
use crate::store::audit::{AuditFilter, AuditStore};
use crate::store::entities::audit_event;

pub const DEFAULT_LIMIT: u64 = 50;
pub const MAX_LIMIT: u64 = 500;

/// Filters and paging.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Events per page, 1–500 (default 50).
    #[param(minimum = 1, maximum = 500, default = 50)]
    pub limit: Option<u64>,
    /// `next_cursor` of the previous page: a position in the log (the events older than it
    /// follow).
    #[param(pattern = "^[1-9][0-9]{0,17}$")]
    pub cursor: Option<String>,
    /// Only this action, e.g. `key.create`.
    pub action: Option<String>,
    /// Only events at or after this time (RFC 3339).
    pub from: Option<DateTime<Utc>>,
    /// Only events before this time (RFC 3339).
    pub to: Option<DateTime<Utc>>,
}

/// One audited write.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEventView {
    pub id: i64,
    pub at: DateTime<Utc>,
    /// The id of the key that acted; `null` for the command line.
    pub actor: Option<Uuid>,
    #[schema(example = "key.create")]
    pub action: String,
    /// What was acted on, e.g. `key:<id>`, `firm:<id>`, `survey:<slug>@<version>`.
    #[schema(example = "key:0192f0c1-0000-7000-8000-000000000000")]
    pub target: String,
    /// The server's id of the request that made the write; `null` for the command line.
    pub request_id: Option<String>,
    /// The `X-Request-Id` the client sent with that request, if it sent a usable one (the
    /// client's word: it need not be unique).
    pub client_request_id: Option<String>,
    pub details: serde_json::Value,
}

/// A page of events, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditPage {
    pub events: Vec<AuditEventView>,
    /// Pass as `cursor` to get the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// Audit events, newest first.
#[utoipa::path(
    tag = "operations",
    security(("bearer" = [])),
    params(AuditQuery),
    responses(
        (status = 200, description = "A page of events, newest first", body = AuditPage),
        (status = 400, description = "A bad `limit`, `cursor`, `from` or `to`", body = Problem, content_type = "application/problem+json"),
        AdminOnly,
    )
)]
#[get("/audit")]
pub async fn list_audit_events(
    _admin: Authorized<Administer>,
    state: web::Data<AppState>,
    query: web::Query<AuditQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(bad_query(format!(
            "`limit` must be between 1 and {MAX_LIMIT}"
        )));
    }
    let before_id = query.cursor.as_deref().map(decode_cursor).transpose()?;
    let filter = AuditFilter {
        action: query.action,
        from: query.from,
        to: query.to,
        before_id,
        limit: limit + 1,
    };
    let mut events = AuditStore::page(&state.db, &filter).await?;
    let next_cursor = if events.len() as u64 > limit {
        events.truncate(limit as usize);
        events.last().map(|last| encode_cursor(last.id))
    } else {
        None
    };
    Ok(HttpResponse::Ok().json(AuditPage {
        events: events.into_iter().map(AuditEventView::from).collect(),
        next_cursor,
    }))
}

impl From<audit_event::Model> for AuditEventView {
    fn from(model: audit_event::Model) -> Self {
        Self {
            id: model.id,
            at: model.at,
            actor: model.actor,
            action: model.action,
            target: model.target,
            request_id: model.request_id,
            client_request_id: model.client_request_id,
            details: model.details,
        }
    }
}

/// A cursor is a position in the log, written as a number, so that every value the contract
/// allows is one the server reads.
fn encode_cursor(id: i64) -> String {
    id.to_string()
}

/// Reads a cursor, also in the encoded form earlier versions handed out.
fn decode_cursor(cursor: &str) -> Result<i64, ApiError> {
    let plain = (cursor.len() <= 18 && !cursor.starts_with('0'))
        .then(|| cursor.parse::<i64>().ok())
        .flatten()
        .filter(|id| *id > 0);
    plain
        .or_else(|| {
            URL_SAFE_NO_PAD
                .decode(cursor)
                .ok()
                .and_then(|bytes| String::from_utf8(bytes).ok())
                .and_then(|text| text.strip_prefix("audit:")?.parse().ok())
        })
        .ok_or_else(|| ApiError::BadRequest {
            code: "invalid_cursor",
            detail: "`cursor` is not a cursor this server handed out".to_owned(),
        })
}

fn bad_query(detail: String) -> ApiError {
    ApiError::BadRequest {
        code: "invalid_query",
        detail,
    }
}
