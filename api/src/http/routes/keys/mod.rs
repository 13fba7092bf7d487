//! API keys (admin): create, list, revoke.

pub mod create;
mod dto;
pub mod list;
pub mod revoke;

pub use dto::*;

use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(config: &mut ServiceConfig) {
    config
        .service(create::create_key)
        .service(list::list_keys)
        .service(revoke::revoke_key);
}
