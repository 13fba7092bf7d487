//! Effective server configuration.

use std::time::Duration;

use crate::report_snapshot::DEFAULT_REFRESH_EVERY;

/// Where the embedded default database lives.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://readiness.db?mode=rwc";
/// The default listen address.
pub const DEFAULT_BIND: &str = "127.0.0.1:8080";

#[derive(Debug, Clone)]
pub struct Settings {
    /// `host:port` to listen on; port 0 picks a free port.
    pub bind: String,
    /// `sqlite://…` or `postgres://…`.
    pub database_url: String,
    /// HTTP worker threads; `None` = one per core.
    pub workers: Option<usize>,
    /// How stale a report may be before the snapshot reads new responses.
    pub report_refresh: Duration,
}

impl Settings {
    pub fn new(bind: impl Into<String>, database_url: impl Into<String>) -> Self {
        Self {
            bind: bind.into(),
            database_url: database_url.into(),
            workers: None,
            report_refresh: DEFAULT_REFRESH_EVERY,
        }
    }
}

impl Default for Settings {
    fn default() -> Self {
        Self::new(DEFAULT_BIND, DEFAULT_DATABASE_URL)
    }
}
