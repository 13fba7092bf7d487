//! The audit log (admin).

pub mod list;

use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(config: &mut ServiceConfig) {
    config.service(list::list_audit_events);
}
