//! `GET /api/v1/populations`.

use actix_web::{HttpResponse, get, web};
use serde::Serialize;
use utoipa::ToSchema;

use super::PopulationView;
use crate::problem::ApiError;
use crate::startup::AppState;
use crate::store::populations::PopulationStore;

#[derive(Debug, Serialize, ToSchema)]
pub struct PopulationList {
    pub populations: Vec<PopulationView>,
}

/// Every stored set of population margins, by name.
#[utoipa::path(tag = "populations", responses((status = 200, body = PopulationList)))]
#[get("/populations")]
pub async fn list_populations(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let populations = PopulationStore::all(&state.db)
        .await?
        .into_iter()
        .map(PopulationView::try_from)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(HttpResponse::Ok().json(PopulationList { populations }))
}
