//! `POST /api/v1/keys`: create a key; its secret is shown once.

use actix_web::{HttpResponse, post, web};
use chrono::Utc;

use super::{CreateKey, CreatedKey, KeyView};
use crate::http::extract::body::{Json, SINGLE_LIMIT};
use crate::http::extract::caller::{Administer, Authorized};
use crate::http::middleware::request_id::RequestId;
use crate::http::openapi::{AdminOnly, JsonBodyProblems};
use crate::http::problem::{ApiError, Problem};
use crate::http::state::AppState;
use crate::services::keys::{issue_key, parse_new_key};

/// Create an API key.
///
/// The reply carries the whole key once; only a hash is stored. Recorded in the audit log.
#[utoipa::path(
    tag = "keys",
    security(("bearer" = [])),
    request_body(content = CreateKey, content_type = "application/json"),
    responses(
        (status = 201, description = "Created; `token` is shown only now", body = CreatedKey),
        JsonBodyProblems,
        AdminOnly,
        (status = 422, description = "Invalid fields (every one named)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/keys")]
#[tracing::instrument(skip_all)]
pub async fn create_key(
    admin: Authorized<Administer>,
    request_id: RequestId,
    state: web::Data<AppState>,
    body: Json<SINGLE_LIMIT>,
) -> Result<HttpResponse, ApiError> {
    let new = parse_new_key(&body.0, Utc::now()).map_err(ApiError::validation)?;
    let issued = issue_key(&state.db, new, &request_id.audit_context(&admin.principal)).await?;
    Ok(HttpResponse::Created().json(CreatedKey {
        key: KeyView::try_from(&issued.key)?,
        token: issued.token,
    }))
}
