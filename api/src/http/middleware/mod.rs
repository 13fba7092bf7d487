//! The middlewares every request passes, in the order they run: [`cors::allow`] (answers
//! preflights and labels answers to allowed origins), [`request_id::assign`],
//! [`metrics::track`], [`auth::authenticate`], [`rate_limit::limit`], [`nul::refuse`], [`body_timeout::limit`], [`head::as_get`].

pub mod auth;
pub mod body_timeout;
pub mod cors;
pub mod head;
pub mod metrics;
pub mod nul;
pub mod rate_limit;
pub mod request_id;
