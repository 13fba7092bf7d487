//! `GET /api/v1/populations`.

use actix_web::{HttpResponse, get, web};
use serde::Serialize;
use utoipa::ToSchema;

use super::PopulationView;
use crate::auth::{Authorized, ReadData};
use crate::problem::{ApiError, Problem};
use crate::startup::AppState;
use crate::store::populations::PopulationStore;

#[derive(Debug, Serialize, ToSchema)]
pub struct PopulationList {
    pub populations: Vec<PopulationView>,
}

/// Every stored set of population margins, by name.
#[utoipa::path(
    tag = "populations",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Every stored set of margins, by name", body = PopulationList),
        (status = 401, description = "No valid API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The key is neither an analyst nor an admin key", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/populations")]
pub async fn list_populations(
    _caller: Authorized<ReadData>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let populations = PopulationStore::all(&state.db)
        .await?
        .into_iter()
        .map(PopulationView::try_from)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(HttpResponse::Ok().json(PopulationList { populations }))
}
