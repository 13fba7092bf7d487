//! Authentication: the `Authorization: Bearer` key of every request that sends one is checked
//! before any handler runs, and a [`Caller`] is left in the request's extensions. A key that
//! is sent must be valid, whatever the route: a malformed, unknown, revoked or expired key is
//! a `401`.

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
    match caller {
        Ok(caller) => {
            req.extensions_mut().insert(caller);
            Ok(next.call(req).await?.map_into_left_body())
        }
        Err(error) => Ok(req.error_response(error).map_into_right_body()),
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
