//! Streamed exports of raw responses for analysts.

pub mod params;
pub mod responses;

use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(config: &mut ServiceConfig) {
    config.service(responses::export_responses);
}
