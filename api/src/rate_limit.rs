//! Rate limiting: a request with a key counts against its key, one without against its client
//! address. The probes and `/metrics` are exempt, so monitoring never gets `429`.

use std::net::IpAddr;
use std::num::NonZeroU32;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, web};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use uuid::Uuid;

use crate::auth::Caller;
use crate::problem::ApiError;
use crate::startup::AppState;

/// Routes that are never limited: the probes and the metrics.
pub const EXEMPT: &[&str] = &["/healthz", "/readyz", "/metrics"];
/// Idle clients are forgotten once this many are tracked.
const PRUNE_ABOVE: usize = 10_000;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Client {
    Key(Uuid),
    Address(IpAddr),
}

/// Per-client limits; `None` when rate limiting is off.
#[derive(Debug)]
pub struct RateLimits {
    limiter: Option<DefaultKeyedRateLimiter<Client>>,
}

impl RateLimits {
    /// Each client may send `per_minute` requests a minute, all at once if it likes; `0`
    /// turns limiting off.
    pub fn new(per_minute: u32) -> Self {
        Self {
            limiter: NonZeroU32::new(per_minute)
                .map(|n| RateLimiter::dashmap(Quota::per_minute(n))),
        }
    }

    /// `Err(seconds to wait)` when the client is over its limit.
    fn check(&self, client: &Client) -> Result<(), u64> {
        let Some(limiter) = &self.limiter else {
            return Ok(());
        };
        if limiter.len() > PRUNE_ABOVE {
            limiter.retain_recent();
        }
        limiter.check_key(client).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
        })
    }
}

/// Middleware: answers `429` with `Retry-After` when the caller is over its limit. Runs after
/// [`crate::auth::authenticate`], so it knows the key.
pub async fn limit(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let client = match req.extensions().get::<Caller>() {
        Some(Caller::Key(principal)) => Some(Client::Key(principal.key_id)),
        _ => req.peer_addr().map(|address| Client::Address(address.ip())),
    };
    let exempt = EXEMPT.contains(&req.path());
    if let (Some(client), Some(state), false) =
        (client, req.app_data::<web::Data<AppState>>(), exempt)
        && let Err(retry_after) = state.rate_limits.check(&client)
    {
        let error = ApiError::TooManyRequests {
            retry_after: retry_after.max(1),
        };
        return Ok(req.error_response(error).map_into_right_body());
    }
    Ok(next.call(req).await?.map_into_left_body())
}
