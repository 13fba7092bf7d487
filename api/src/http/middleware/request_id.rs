//! A request id on every response (`X-Request-Id`) and on every log line of the request.
//!
//! The server gives every request an id of its own, which the log lines and the audit log
//! carry as `request_id`. A client's sane `X-Request-Id` is kept beside it as
//! `client_request_id` and echoed in the response; it is the client's word, so nothing on the
//! server relies on it being unique.
//!
//! A log line names a request by its route pattern (`/api/v1/firms/{ref}`), never by its
//! path: paths carry firm references and share tokens, which must not reach the logs.

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
use crate::services::keys::Principal;
use crate::store::audit::AuditContext;

pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");
const MAX_LEN: usize = 64;

/// The route label of a request that matched no route: its path is not logged.
const UNMATCHED: &str = "unmatched";

/// The ids of the current request: the server's own (`server`, a new UUID) and the client's
/// `X-Request-Id` if it is sane (1–64 of `A–Z a–z 0–9 - _ . :`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId {
    pub server: String,
    pub client: Option<String>,
}

impl RequestId {
    fn new(client: Option<&HeaderValue>) -> Self {
        Self {
            server: Uuid::new_v4().to_string(),
            client: client_id(client),
        }
    }

    /// The audit context of a write `principal` makes in this request.
    pub fn audit_context(&self, principal: &Principal) -> AuditContext {
        principal.audit_context(&self.server, self.client.as_deref())
    }

    /// The id the response carries: the client's if it sent a sane one, else the server's.
    pub fn echoed(&self) -> &str {
        self.client.as_deref().unwrap_or(&self.server)
    }
}

fn client_id(value: Option<&HeaderValue>) -> Option<String> {
    let raw = value?.to_str().ok()?;
    let sane = !raw.is_empty()
        && raw.len() <= MAX_LEN
        && raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'));
    sane.then(|| raw.to_owned())
}

impl FromRequest for RequestId {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let id = req.extensions().get::<RequestId>().cloned();
        ready(Ok(id.unwrap_or_else(|| RequestId::new(None))))
    }
}

/// Middleware: assigns the ids, runs the request inside a `request` span that carries them
/// and the route pattern, sets the response header and logs one line per request (never the
/// path, the query string or the body).
pub async fn assign(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let id = RequestId::new(req.headers().get(&REQUEST_ID_HEADER));
    let route = req.match_pattern();
    let span = tracing::info_span!(
        "request",
        request_id = %id.server,
        client_request_id = id.client.as_deref(),
        method = %req.method(),
        route = route.as_deref().unwrap_or(UNMATCHED),
    );
    let header = HeaderValue::from_str(id.echoed()).ok();
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
