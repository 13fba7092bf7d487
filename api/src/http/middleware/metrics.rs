//! Counts every request and its latency by route pattern and status.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::web;

use crate::http::state::AppState;

/// The route label of a request that matched no route, so unknown paths cannot blow up the
/// number of series.
const UNMATCHED: &str = "unmatched";

/// Middleware: counts every request and its latency by route pattern and status.
pub async fn track(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let response = next.call(req).await?;
    if let Some(state) = state {
        let request = response.request();
        let route = request.match_pattern();
        state.metrics.observe_request(
            request.method().as_str(),
            route.as_deref().unwrap_or(UNMATCHED),
            response.status().as_u16(),
            started.elapsed().as_secs_f64(),
        );
    }
    Ok(response)
}
