//! Share links for admins: `GET /api/v1/reports/shares` lists the links that have not expired,
//! `DELETE /api/v1/reports/shares/{id}` revokes one.

use actix_web::{HttpResponse, delete, get, web};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::http::extract::caller::{Administer, Authorized};
use crate::http::middleware::request_id::RequestId;
use crate::http::openapi::AdminOnly;
use crate::http::problem::{ApiError, Problem};
use crate::http::state::AppState;
use crate::services::reports::share::{self, LinkSummary};

/// A share link as listed: never its token, which is not stored.
#[derive(Debug, Serialize, ToSchema)]
pub struct ShareLinkView {
    pub id: Uuid,
    /// The key that made the link; the link stops working when that key is revoked or expires.
    pub key_id: Uuid,
    /// The name of that key.
    #[schema(example = "dashboard")]
    pub key_name: Option<String>,
    /// The report's query parameters, as `[name, value]` pairs.
    #[schema(example = json!([["by", "size_band"], ["interval", "quarter"]]))]
    pub query: Vec<[String; 2]>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// When an admin revoked the link; `null` if not.
    pub revoked_at: Option<DateTime<Utc>>,
    /// Whether the link opens now: neither it nor its key is revoked, and neither has expired.
    pub active: bool,
}

/// The share links that have not expired, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct ShareLinkList {
    pub links: Vec<ShareLinkView>,
}

impl From<LinkSummary> for ShareLinkView {
    fn from(link: LinkSummary) -> Self {
        Self {
            id: link.id,
            key_id: link.key_id,
            key_name: link.key_name,
            query: link.query.into_iter().map(|(k, v)| [k, v]).collect(),
            created_at: link.created_at,
            expires_at: link.expires_at,
            revoked_at: link.revoked_at,
            active: link.active,
        }
    }
}

/// List share links.
///
/// Every link that has not expired, revoked ones too, newest first, with the key that made
/// it; never the link itself (its token is not stored).
#[utoipa::path(
    tag = "reports",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The links that have not expired, newest first", body = ShareLinkList),
        AdminOnly,
    )
)]
#[get("/reports/shares")]
pub async fn list_shares(
    _admin: Authorized<Administer>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let links = share::list(&state, Utc::now())
        .await?
        .into_iter()
        .map(ShareLinkView::from)
        .collect();
    Ok(HttpResponse::Ok().json(ShareLinkList { links }))
}

/// Revoke a share link.
///
/// The link stops opening at once, on every replica (`410` with the code
/// `share_link_revoked`); other links are untouched. Revoking a revoked link again changes
/// nothing. Recorded in the audit log as `report.share_revoke`.
#[utoipa::path(
    tag = "reports",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Share link id")),
    responses(
        (status = 204, description = "Revoked"),
        AdminOnly,
        (status = 404, description = "No share link with this id (or it expired and was removed)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/reports/shares/{id}")]
#[tracing::instrument(skip_all)]
pub async fn revoke_share(
    admin: Authorized<Administer>,
    request_id: RequestId,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let not_found = || ApiError::NotFound(format!("no share link `{id}`"));
    let uuid = Uuid::parse_str(&id).map_err(|_| not_found())?;
    if share::revoke(&state, uuid, &request_id.audit_context(&admin.principal)).await? {
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(not_found())
    }
}
