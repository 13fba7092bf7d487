//! `DELETE /api/v1/firms/{ref}`: erase a firm and every response of it.

use actix_web::{HttpResponse, delete, web};

use crate::auth::{Administer, Authorized};
use crate::problem::{ApiError, Problem};
use crate::request_id::RequestId;
use crate::startup::AppState;
use crate::store::firms::FirmStore;

/// Erase a firm and all its responses, in one transaction.
///
/// Nothing of the firm is left in responses, reports or exports afterwards. The audit log
/// keeps that the erasure happened (the firm's id and reference, and how many responses were
/// removed), not its answers.
#[utoipa::path(
    tag = "firms",
    security(("bearer" = [])),
    params(("ref" = String, Path, description = "The collector's reference of the firm", example = "acme-001")),
    responses(
        (status = 204, description = "Erased"),
        (status = 401, description = "No valid API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The key is not an admin key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No firm with this reference", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/firms/{ref}")]
#[tracing::instrument(skip_all)]
pub async fn erase_firm(
    admin: Authorized<Administer>,
    request_id: RequestId,
    state: web::Data<AppState>,
    external_ref: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let (firm, erased) = FirmStore::erase(
        &state.db,
        &external_ref,
        &admin.principal.audit_context(&request_id),
    )
    .await?
    .ok_or_else(|| ApiError::NotFound(format!("no firm `{external_ref}`")))?;
    tracing::info!(responses = erased, "firm erased");
    super::after_erasure(&state, firm)?;
    Ok(HttpResponse::NoContent().finish())
}
