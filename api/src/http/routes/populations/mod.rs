//! Population margins that reports rake the sample to.

pub mod list;
pub mod save;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::store::entities::population;

pub fn configure(config: &mut ServiceConfig) {
    config
        .service(save::save_population)
        .service(list::list_populations);
}

/// Stored population margins.
#[derive(Debug, Serialize, ToSchema)]
pub struct PopulationView {
    #[schema(example = "eu-2024")]
    pub name: String,
    /// Dimension (`industry`, `size_band`, `country`, `region`) → category → population count.
    #[schema(example = json!({"size_band": {"micro": 21_500_000, "small": 1_400_000, "medium": 200_000}}))]
    pub margins: BTreeMap<String, BTreeMap<String, f64>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl TryFrom<population::Model> for PopulationView {
    type Error = anyhow::Error;

    fn try_from(model: population::Model) -> Result<Self, Self::Error> {
        Ok(Self {
            margins: serde_json::from_value(model.margins)?,
            name: model.name,
            created_at: model.created_at,
            updated_at: model.updated_at,
        })
    }
}
