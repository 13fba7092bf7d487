//! Authentication: the `Authorization: Bearer` key of every request that sends one is checked
//! before any handler runs, and a [`Caller`] is left in the request's extensions. A key that
//! is sent must be valid, whatever the route: a malformed, unknown, revoked or expired key is
//! a `401`, counted against the client address ([`crate::http::middleware::rate_limit::RateLimits::charge_refused`]): past the
//! address's limit it is a `429`.
//!
//! Every response to a request that carries a key is `Cache-Control: no-store` unless the
//! route says otherwise: what a key reads is not for shared caches, nor for the browser's.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, http::header, web};

use crate::http::extract::caller::Caller;
use crate::http::problem::{ApiError, Unauthenticated};
use crate::http::state::AppState;
use crate::services::keys;

/// Middleware: turns the `Authorization` header into a [`Caller`], or answers `401`.
pub async fn authenticate(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let caller = match (
        req.headers().get(header::AUTHORIZATION),
        req.app_data::<web::Data<AppState>>(),
    ) {
        (None, _) | (_, None) => Ok(Caller::Anonymous),
        (Some(value), Some(state)) => {
            let token = value.to_str().ok().and_then(bearer_token);
            match token {
                Some(token) => match keys::authenticate(state, token).await {
                    Ok(Ok(principal)) => Ok(Caller::Key(principal)),
                    Ok(Err(keys::Refused)) => Err(ApiError::Unauthorized(Unauthenticated::Invalid)),
                    Err(error) => Err(error.into()),
                },
                None => Err(ApiError::Unauthorized(Unauthenticated::Invalid)),
            }
        }
    };
    let keyed = req.headers().contains_key(header::AUTHORIZATION);
    let error = match caller {
        Ok(caller) => {
            req.extensions_mut().insert(caller);
            let mut response = next.call(req).await?;
            if keyed {
                no_store(response.headers_mut());
            }
            return Ok(response.map_into_left_body());
        }
        Err(ApiError::Unauthorized(reason)) => charge_refused(&req).map_or_else(
            |retry_after| ApiError::TooManyRequests { retry_after },
            |()| ApiError::Unauthorized(reason),
        ),
        Err(error) => error,
    };
    let mut response = req.error_response(error);
    no_store(response.headers_mut());
    Ok(response.map_into_right_body())
}

/// Counts a refused key against the client's address: `Err(seconds to wait)` past its limit.
fn charge_refused(req: &ServiceRequest) -> Result<(), u64> {
    match (req.peer_addr(), req.app_data::<web::Data<AppState>>()) {
        (Some(address), Some(state)) => state
            .rate_limits
            .charge_refused(address.ip())
            .map_err(|wait| wait.max(1)),
        _ => Ok(()),
    }
}

fn no_store(headers: &mut header::HeaderMap) {
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(
            header::CACHE_CONTROL,
            header::HeaderValue::from_static("no-store"),
        );
    }
}

/// The token of a `Bearer` credential (the scheme is case-insensitive).
fn bearer_token(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|token| !token.is_empty())
}
