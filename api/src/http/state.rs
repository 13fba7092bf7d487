//! What every handler can reach: the services, and what only HTTP needs.

use std::sync::Arc;
use std::time::Duration;

use super::middleware::cors::CorsOrigins;
use super::middleware::rate_limit::RateLimits;
use crate::services::Services;
use crate::services::webhooks::WebhookConfig;

#[derive(Debug)]
pub struct AppState {
    pub services: Arc<Services>,
    pub rate_limits: RateLimits,
    /// How long a request body may take to arrive.
    pub body_timeout: Duration,
    /// Origins whose pages may call the API; empty = no CORS headers.
    pub cors_origins: CorsOrigins,
    /// Which endpoints webhooks may be registered for, and how they are delivered.
    pub webhooks: WebhookConfig,
}

/// Handlers read the services' parts (`state.db`, `state.catalog`) directly.
impl std::ops::Deref for AppState {
    type Target = Services;

    fn deref(&self) -> &Services {
        &self.services
    }
}
