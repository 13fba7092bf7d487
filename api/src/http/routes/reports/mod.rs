//! Aggregated reports for analysts: readiness, trend, blockers and change.

pub mod change;
pub mod page;
pub mod params;
pub mod share;
pub mod shares;
pub mod views;

use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(config: &mut ServiceConfig) {
    config
        .service(views::readiness_report)
        .service(views::trend_report)
        .service(views::blockers_report)
        .service(change::change_report)
        .service(page::readiness_page)
        .service(share::create_share)
        .service(share::open_shared)
        .service(shares::list_shares)
        .service(shares::revoke_share);
}
