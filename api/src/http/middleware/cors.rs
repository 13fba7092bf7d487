//! CORS for browser dashboards on other origins: only the origins of the `cors_origins`
//! setting, compared exactly; with none configured, no CORS header is ever sent.
//!
//! A preflight (`OPTIONS` with `Access-Control-Request-Method`) from an allowed origin is
//! answered here, before authentication (a browser sends no `Authorization` with it), with the
//! methods and request headers a dashboard needs: `Authorization` for its key,
//! `If-None-Match` to revalidate, `Content-Type`, `Idempotency-Key` and `X-Request-Id`. Every
//! other answer to an allowed origin, errors included, names it in
//! `Access-Control-Allow-Origin` and exposes `ETag`, `X-Request-Id`, `Retry-After`,
//! `Location` and `Link` to the page. Credentials (cookies) are not allowed: the API uses none. A request
//! from any other origin is served as if CORS did not exist, and the browser keeps the answer
//! from the page. Every answer says `Vary: Origin` while the list is not empty, so a cache
//! keeps one copy per origin.

use std::collections::HashSet;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderMap, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{HttpResponse, web};

use crate::http::state::AppState;

/// Methods a page may use.
const METHODS: &str = "GET, HEAD, POST, PATCH, DELETE";
/// Request headers a page may send.
const REQUEST_HEADERS: &str =
    "Authorization, Content-Type, If-None-Match, Idempotency-Key, X-Request-Id";
/// Response headers a page may read (besides the CORS-safelisted ones).
const EXPOSED: &str = "ETag, X-Request-Id, Retry-After, Location, Link";
/// How long a browser may keep a preflight's answer, in seconds.
const MAX_AGE: &str = "600";

/// The allowed origins.
#[derive(Debug, Clone, Default)]
pub struct CorsOrigins(HashSet<String>);

impl CorsOrigins {
    pub fn new(origins: &[String]) -> Self {
        Self(origins.iter().cloned().collect())
    }
}

/// Middleware: answers preflights from allowed origins and labels their other answers.
pub async fn allow(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let origins = req
        .app_data::<web::Data<AppState>>()
        .map(|state| &state.cors_origins.0)
        .filter(|origins| !origins.is_empty());
    let Some(origins) = origins else {
        return Ok(next.call(req).await?.map_into_left_body());
    };
    let origin = req
        .headers()
        .get(header::ORIGIN)
        .filter(|origin| origin.to_str().is_ok_and(|o| origins.contains(o)))
        .cloned();
    let preflight = req.method() == Method::OPTIONS
        && req
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    if let (Some(origin), true) = (&origin, preflight) {
        let mut response = HttpResponse::build(StatusCode::NO_CONTENT).finish();
        let headers = response.headers_mut();
        allow_origin(headers, origin);
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static(METHODS),
        );
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static(REQUEST_HEADERS),
        );
        headers.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static(MAX_AGE),
        );
        headers.insert(
            header::VARY,
            HeaderValue::from_static(
                "Origin, Access-Control-Request-Method, Access-Control-Request-Headers",
            ),
        );
        return Ok(req.into_response(response).map_into_right_body());
    }
    let mut response = next.call(req).await?;
    let headers = response.headers_mut();
    headers.append(header::VARY, HeaderValue::from_static("Origin"));
    if let Some(origin) = &origin {
        allow_origin(headers, origin);
        headers.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static(EXPOSED),
        );
    }
    Ok(response.map_into_left_body())
}

fn allow_origin(headers: &mut HeaderMap, origin: &HeaderValue) {
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
}
