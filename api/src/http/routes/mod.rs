//! HTTP routes. Each resource module registers its handlers with `configure`, so the
//! OpenAPI description is collected from the same registration that serves requests.

pub mod assess;
pub mod audit;
pub mod codes;
pub mod exports;
pub mod firms;
pub mod health;
pub mod invitations;
pub mod keys;
pub mod metrics;
pub mod populations;
pub mod query;
pub mod reports;
pub mod responses;
pub mod surveys;
pub mod sync;
pub mod webhooks;

use utoipa_actix_web::service_config::ServiceConfig;

/// Registers every route. A request is matched against the routes in this order, so the
/// submission routes, the busiest, come first.
pub fn configure(config: &mut ServiceConfig) {
    config.configure(health::configure);
    config.service(
        utoipa_actix_web::scope("/api/v1")
            .configure(responses::configure)
            .configure(sync::configure)
            .configure(surveys::configure)
            .configure(reports::configure)
            .configure(exports::configure)
            .configure(populations::configure)
            .configure(keys::configure)
            .configure(firms::configure)
            .configure(webhooks::configure)
            .configure(invitations::configure)
            .configure(audit::configure),
    );
    config.configure(assess::configure);
}
