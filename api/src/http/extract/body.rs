//! JSON request bodies with a per-route size limit, and every extraction error as
//! problem+json.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::{JsonBody, Payload};
use actix_web::error::{JsonPayloadError, PayloadError};
use actix_web::{FromRequest, HttpRequest};
use serde_json::Value;

use super::checked_json::CheckedJson;
use crate::http::problem::ApiError;

/// A single submission body may be at most 64 KiB.
pub const SINGLE_LIMIT: usize = 64 * 1024;
/// An instrument definition may be at most 1 MiB.
pub const DEFINITION_LIMIT: usize = 1024 * 1024;
/// A batch body may be at most 4 MiB.
pub const BATCH_LIMIT: usize = 4 * 1024 * 1024;

/// A JSON document of at most `LIMIT` bytes, sent as `application/json` (or `+json`).
/// The shape is checked by the handler, so every offending field can be named at once.
pub struct Json<const LIMIT: usize>(pub Value);

impl<const LIMIT: usize> FromRequest for Json<LIMIT> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let is_json = |mime: actix_web::mime::Mime| {
            mime.subtype() == actix_web::mime::JSON || mime.suffix() == Some(actix_web::mime::JSON)
        };
        let body = JsonBody::<CheckedJson>::new(req, payload, Some(&is_json), true).limit(LIMIT);
        Box::pin(async move {
            let checked = body.await.map_err(json_error)?;
            if checked.problems.is_empty() {
                Ok(Json(checked.value))
            } else {
                Err(ApiError::validation(checked.problems))
            }
        })
    }
}

/// Reads a JSON body inside a handler, for routes that must decide who may call them (which
/// can need a database lookup) before a malformed body is reported.
pub async fn read<const LIMIT: usize>(
    req: &HttpRequest,
    payload: actix_web::web::Payload,
) -> Result<Value, ApiError> {
    Json::<LIMIT>::from_request(req, &mut payload.into_inner())
        .await
        .map(|json| json.0)
}

/// Maps actix's JSON extraction errors onto problem documents.
pub fn json_error(error: JsonPayloadError) -> ApiError {
    match error {
        JsonPayloadError::OverflowKnownLength { limit, .. }
        | JsonPayloadError::Overflow { limit } => ApiError::PayloadTooLarge { limit },
        JsonPayloadError::Payload(PayloadError::Overflow) => ApiError::PayloadTooLarge { limit: 0 },
        JsonPayloadError::ContentType => ApiError::UnsupportedMediaType,
        JsonPayloadError::Deserialize(error) => ApiError::BadRequest {
            code: "malformed_json",
            detail: format!("the request body is not valid JSON: {error}"),
        },
        other => ApiError::BadRequest {
            code: "unreadable_body",
            detail: format!("the request body could not be read: {other}"),
        },
    }
}
