//! Readiness HTTP server: submission, survey definitions and (later) reports over REST.
//!
//! **Architecture Invariant:** this is the only crate that knows actix-web. Handlers are
//! thin: parse → domain → store / analytics → DTO.

pub mod auth;
pub mod catalog;
pub mod cli;
pub mod db;
pub mod demo;
pub mod domain;
pub mod export;
pub mod ingest;
pub mod metrics;
pub mod openapi;
pub mod problem;
pub mod rate_limit;
pub mod report_page;
pub mod report_snapshot;
pub mod request_id;
pub mod routes;
pub mod settings;
pub mod startup;
pub mod store;
pub mod telemetry;
