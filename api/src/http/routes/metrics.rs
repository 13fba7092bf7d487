//! `GET /metrics`: Prometheus text exposition.

use actix_web::{HttpResponse, get, web};
use anyhow::Context;

use crate::http::problem::{ApiError, Problem};
use crate::http::state::AppState;

/// The Prometheus text format's content type.
const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Metrics in the Prometheus text format: requests and latency by route pattern and status,
/// submissions accepted and rejected, report computation time and the database pool.
#[utoipa::path(tag = "operations", responses(
    (status = 200, description = "Prometheus text format", content_type = "text/plain", body = String),
    (status = 500, description = "The metrics cannot be encoded", body = Problem, content_type = "application/problem+json"),
))]
#[get("/metrics")]
pub async fn metrics(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let text = state
        .metrics
        .render(&state.db)
        .context("encoding the metrics")?;
    Ok(HttpResponse::Ok().content_type(CONTENT_TYPE).body(text))
}
