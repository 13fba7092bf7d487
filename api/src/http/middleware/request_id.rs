//! A request id on every response (`X-Request-Id`) and on every log line of the request.

use std::future::{Ready, ready};
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{FromRequest, HttpMessage, HttpRequest};
use tracing::Instrument;
use uuid::Uuid;

use crate::http::problem::ApiError;

pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");
const MAX_LEN: usize = 64;

/// The id of the current request: the client's `X-Request-Id` if it is sane (1–64 of
/// `A–Z a–z 0–9 - _ . :`), else a new UUID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(pub String);

impl RequestId {
    fn from_client(value: Option<&HeaderValue>) -> Option<Self> {
        let raw = value?.to_str().ok()?;
        let sane = !raw.is_empty()
            && raw.len() <= MAX_LEN
            && raw
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'));
        sane.then(|| Self(raw.to_owned()))
    }
}

impl FromRequest for RequestId {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let id = req.extensions().get::<RequestId>().cloned();
        ready(Ok(
            id.unwrap_or_else(|| RequestId(Uuid::new_v4().to_string()))
        ))
    }
}

/// Middleware: assigns the id, runs the request inside a `request` span that carries it, sets
/// the response header and logs one line per request (never the query string or the body).
pub async fn assign(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let id = RequestId::from_client(req.headers().get(&REQUEST_ID_HEADER))
        .unwrap_or_else(|| RequestId(Uuid::new_v4().to_string()));
    let span = tracing::info_span!(
        "request",
        request_id = %id.0,
        method = %req.method(),
        path = %req.path(),
    );
    let header = HeaderValue::from_str(&id.0).ok();
    req.extensions_mut().insert(id);
    let started = Instant::now();
    let mut response = next.call(req).instrument(span.clone()).await?;
    if let Some(header) = header {
        response.headers_mut().insert(REQUEST_ID_HEADER, header);
    }
    span.in_scope(|| {
        tracing::info!(
            status = response.status().as_u16(),
            elapsed_ms = started.elapsed().as_secs_f64() * 1000.0,
            "request finished"
        );
    });
    Ok(response)
}
