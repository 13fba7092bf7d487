//! Firms (admin): erasure on request.

pub mod erase;

use utoipa_actix_web::service_config::ServiceConfig;

use crate::startup::AppState;

pub fn configure(config: &mut ServiceConfig) {
    config.service(erase::erase_firm);
}

/// Called after a firm has been erased and the erasure committed. Report snapshots hook in
/// here, so no cached figure keeps an erased firm.
pub fn after_erasure(state: &AppState, firm: uuid::Uuid) -> Result<(), crate::problem::ApiError> {
    state.reports.erase_firm(firm)
}
