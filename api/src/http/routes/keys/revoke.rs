//! `DELETE /api/v1/keys/{id}`: revoke a key.

use actix_web::{HttpResponse, delete, web};
use uuid::Uuid;

use crate::http::extract::caller::{Administer, Authorized};
use crate::http::middleware::request_id::RequestId;
use crate::http::openapi::AdminOnly;
use crate::http::problem::{ApiError, Problem};
use crate::http::state::AppState;
use crate::store::keys::KeyStore;

/// Revoke an API key. It stops working at once; the row stays for the record. Revoking a
/// revoked key again changes nothing. Recorded in the audit log.
#[utoipa::path(
    tag = "keys",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Key id")),
    responses(
        (status = 204, description = "Revoked"),
        AdminOnly,
        (status = 404, description = "No key with this id", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/keys/{id}")]
#[tracing::instrument(skip_all)]
pub async fn revoke_key(
    admin: Authorized<Administer>,
    request_id: RequestId,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let not_found = || ApiError::NotFound(format!("no key `{id}`"));
    let uuid = Uuid::parse_str(&id).map_err(|_| not_found())?;
    KeyStore::revoke(&state.db, uuid, &request_id.audit_context(&admin.principal))
        .await?
        .ok_or_else(not_found)?;
    Ok(HttpResponse::NoContent().finish())
}
