//! Black-box tests: the real server on a random port, a fresh database per test, HTTP in and
//! out. Every scenario runs on SQLite and on PostgreSQL (`READINESS_TEST_POSTGRES_URL`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod assess;
mod audit;
mod auth;
mod batch;
mod change;
mod conditional;
mod contract;
mod cors;
mod csv_formulas;
mod demo;
mod disclosure;
mod erasure;
mod errors;
mod estimation;
mod exports;
mod health;
mod helpers;
mod html_report;
mod http_semantics;
mod idempotency;
mod ingest;
mod keys;
mod languages;
mod openapi;
mod operations;
mod plans;
mod populations;
mod reports;
mod rubric;
mod segment_filters;
mod share_links;
mod snapshot_load;
mod strict_input;
mod submit;
mod survey_versions;
mod surveys;
mod sync;
mod unlock;
mod webhooks;
