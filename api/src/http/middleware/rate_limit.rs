//! Rate limiting: a request with a key counts against its key, one without against its client
//! address, and so does a request whose key is refused (`401`): guessing keys costs the
//! guesser's address its budget, and once it is spent the answer is `429`, not `401`. A key may carry its own limit (a trusted collector syncing a CRM needs far more
//! than a web form); every other caller gets the server-wide one. The probes and `/metrics`
//! are exempt, so monitoring never gets `429`.

use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::{Arc, RwLock};

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, web};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use uuid::Uuid;

use crate::http::extract::caller::Caller;
use crate::http::problem::ApiError;
use crate::http::state::AppState;

/// Routes that are never limited: the probes and the metrics.
pub const EXEMPT: &[&str] = &["/healthz", "/readyz", "/metrics"];
/// Idle clients are forgotten once this many are tracked.
const PRUNE_ABOVE: usize = 10_000;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Client {
    Key(Uuid),
    Address(IpAddr),
}

type Limiter = DefaultKeyedRateLimiter<Client>;

/// Per-client limits: the server-wide limiter (`None` when limiting is off), and one limiter
/// per distinct per-key limit, made on first use; keys with the same limit share it.
#[derive(Debug)]
pub struct RateLimits {
    limiter: Option<Limiter>,
    per_key: RwLock<HashMap<NonZeroU32, Arc<Limiter>>>,
}

impl RateLimits {
    /// Each client may send `per_minute` requests a minute, all at once if it likes; `0`
    /// turns limiting off, for keys with their own limit too.
    pub fn new(per_minute: u32) -> Self {
        Self {
            limiter: NonZeroU32::new(per_minute)
                .map(|n| RateLimiter::dashmap(Quota::per_minute(n))),
            per_key: RwLock::default(),
        }
    }

    /// `Err(seconds to wait)` when the client is over its limit: its key's own limit if it
    /// has one, else the server-wide limit.
    fn check(&self, client: &Client, own_limit: Option<NonZeroU32>) -> Result<(), u64> {
        let Some(server_wide) = &self.limiter else {
            return Ok(());
        };
        let own = own_limit.map(|n| self.limiter_for(n));
        let limiter = own.as_deref().unwrap_or(server_wide);
        if limiter.len() > PRUNE_ABOVE {
            limiter.retain_recent();
        }
        limiter.check_key(client).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
        })
    }

    /// Counts a refused key against its client address; `Err(seconds to wait)` once the
    /// address is over the server-wide limit.
    pub fn charge_refused(&self, address: IpAddr) -> Result<(), u64> {
        self.check(&Client::Address(address), None)
    }

    fn limiter_for(&self, per_minute: NonZeroU32) -> Arc<Limiter> {
        if let Some(limiter) = self
            .per_key
            .read()
            .ok()
            .and_then(|map| map.get(&per_minute).cloned())
        {
            return limiter;
        }
        let made = Arc::new(RateLimiter::dashmap(Quota::per_minute(per_minute)));
        match self.per_key.write() {
            Ok(mut map) => map.entry(per_minute).or_insert(made).clone(),
            Err(_) => made,
        }
    }
}

/// Middleware: answers `429` with `Retry-After` when the caller is over its limit. Runs after
/// [`super::auth::authenticate`], so it knows the key.
pub async fn limit(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let (client, own_limit) = match req.extensions().get::<Caller>() {
        Some(Caller::Key(principal)) => (
            Some(Client::Key(principal.key_id)),
            principal.rate_limit_per_minute.and_then(NonZeroU32::new),
        ),
        _ => (
            req.peer_addr().map(|address| Client::Address(address.ip())),
            None,
        ),
    };
    let exempt = EXEMPT.contains(&req.path());
    if let (Some(client), Some(state), false) =
        (client, req.app_data::<web::Data<AppState>>(), exempt)
        && let Err(retry_after) = state.rate_limits.check(&client, own_limit)
    {
        let error = ApiError::TooManyRequests {
            retry_after: retry_after.max(1),
        };
        return Ok(req.error_response(error).map_into_right_body());
    }
    Ok(next.call(req).await?.map_into_left_body())
}
