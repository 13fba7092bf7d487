//! Liveness and readiness probes.

use actix_web::{HttpResponse, get, web};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::http::problem::{ApiError, Problem};
use crate::http::state::AppState;

pub fn configure(config: &mut ServiceConfig) {
    config
        .service(healthz)
        .service(readyz)
        .service(super::metrics::metrics);
}

/// Probe result.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    #[schema(example = "ok")]
    pub status: &'static str,
}

/// Liveness: the process is running.
#[utoipa::path(tag = "operations", responses((status = 200, description = "The process runs", body = Health)))]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Health { status: "ok" })
}

/// Readiness: the database answers and takes writes.
///
/// A write is proved by committing one (at most every 5 s); a write that failed for lack of
/// storage keeps the server unready for 30 s.
#[utoipa::path(tag = "operations", responses(
    (status = 200, description = "The database answers and takes writes", body = Health),
    (status = 503, description = "The database does not answer (`unavailable`), or refuses writes because its storage is full or read-only (`storage_unavailable`, with `Retry-After`)", body = Problem, content_type = "application/problem+json"),
))]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    state
        .db
        .ping()
        .await
        .map_err(|e| ApiError::Unavailable(e.into()))?;
    state
        .storage
        .check(&state.db)
        .await
        .map_err(|why| ApiError::StorageUnavailable(anyhow::Error::msg(why)))?;
    Ok(HttpResponse::Ok().json(Health { status: "ready" }))
}
