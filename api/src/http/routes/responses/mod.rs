//! Submitting and reading responses.

mod dto;
pub mod get;
pub mod plan;
pub mod submit;
pub mod submit_batch;

pub use dto::*;

use utoipa_actix_web::service_config::ServiceConfig;

use readiness_analytics::FieldProblem;

use crate::domain::IdempotencyKey;
use crate::http::extract::caller::{Caller, Permission, Submit};
use crate::http::problem::ApiError;
use crate::http::state::AppState;

pub fn configure(config: &mut ServiceConfig) {
    config
        .service(submit::submit_response)
        .service(submit_batch::submit_batch)
        .service(get::get_response)
        .service(plan::get_plan);
}

/// The survey version a caller may submit to: the latest published version of `slug`. With a
/// collector or admin key any published survey, otherwise only a public one. Without the
/// right key, an unknown survey and a survey that is not public get the same `401` or `403`,
/// so the reply does not tell which surveys exist.
pub async fn submission_target(
    caller: &Caller,
    state: &AppState,
    slug: &str,
) -> Result<i32, ApiError> {
    let survey = state
        .lookups
        .latest_published_target(&state.db, slug)
        .await?;
    let allowed = caller.has_any(Submit::ROLES) || survey.is_some_and(|(_, public)| public);
    if !allowed {
        return Err(caller.refusal());
    }
    survey
        .map(|(id, _)| id)
        .ok_or_else(|| ApiError::NotFound(format!("no published survey `{slug}`")))
}

/// The `Idempotency-Key` header, if sent; sent twice it is a `422` naming the header.
pub fn idempotency_key_header(
    req: &actix_web::HttpRequest,
) -> Result<Option<IdempotencyKey>, ApiError> {
    let mut values = req.headers().get_all("Idempotency-Key");
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(ApiError::validation([FieldProblem::new(
            "Idempotency-Key",
            "is sent more than once; send one key per request",
        )]));
    }
    let raw = value
        .to_str()
        .map_err(|_| bad_key("must be visible ASCII"))?;
    IdempotencyKey::parse(raw)
        .map(Some)
        .map_err(|reason| bad_key(&reason))
}

fn bad_key(reason: &str) -> ApiError {
    ApiError::BadRequest {
        code: "invalid_idempotency_key",
        detail: format!("the Idempotency-Key header {reason}"),
    }
}
