//! Aggregated reports for analysts: readiness, trend and blockers.

mod compute;
pub mod params;
pub mod views;

use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(config: &mut ServiceConfig) {
    config
        .service(views::readiness_report)
        .service(views::trend_report)
        .service(views::blockers_report);
}
