//! `DELETE /api/v1/firms/{ref}`: erase a firm and every response of it.

use actix_web::{HttpResponse, delete, web};

use crate::http::extract::caller::{Administer, Authorized};
use crate::http::middleware::request_id::RequestId;
use crate::http::openapi::AdminOnly;
use crate::http::problem::{ApiError, Problem};
use crate::http::state::AppState;
use crate::services::erasure;

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
        AdminOnly,
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
    let (_, erased) = erasure::erase_firm(
        &state,
        &external_ref,
        &request_id.audit_context(&admin.principal),
    )
    .await?;
    tracing::info!(responses = erased, "firm erased");
    Ok(HttpResponse::NoContent().finish())
}
