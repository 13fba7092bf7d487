//! Firms (admin): erasure on request.

pub mod erase;

use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(config: &mut ServiceConfig) {
    config.service(erase::erase_firm);
}
