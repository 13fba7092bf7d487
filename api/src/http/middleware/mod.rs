//! The middlewares every request passes, in the order they run: [`request_id::assign`],
//! [`metrics::track`], [`auth::authenticate`], [`rate_limit::limit`].

pub mod auth;
pub mod metrics;
pub mod rate_limit;
pub mod request_id;
