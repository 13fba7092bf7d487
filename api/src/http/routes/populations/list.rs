//! `GET /api/v1/populations`.

use actix_web::{HttpResponse, get, web};
use serde::Serialize;
use utoipa::ToSchema;

use super::PopulationView;
use crate::http::extract::caller::{Authorized, ReadAggregates};
use crate::http::openapi::AggregateReaders;
use crate::http::problem::ApiError;
use crate::http::state::AppState;
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
        AggregateReaders,
    )
)]
#[get("/populations")]
pub async fn list_populations(
    _caller: Authorized<ReadAggregates>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let populations = PopulationStore::all(&state.db)
        .await?
        .into_iter()
        .map(PopulationView::try_from)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(HttpResponse::Ok().json(PopulationList { populations }))
}
