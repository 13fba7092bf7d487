//! Readiness: the HTTP server and the `readiness` command line.
//!
//! Layers, each using only those below it (checked by `tests/layers.rs`):
//!
//! ```text
//! cli          the verbs of the command line (clap)
//! http         the server (actix-web): middleware, extractors, routes, the OpenAPI contract
//! services     what the server and the command line do, without either of them
//! report_page  the HTML report page, drawn from report models
//! store        entities, queries, the SQLite fast paths and the group-commit writer
//! domain       parsed value types
//! ```
//!
//! `settings` and `telemetry` are the process's configuration and logging, used by `cli` and
//! `http` only.

pub mod assess_page;
pub mod cli;
pub mod domain;
pub mod http;
pub mod report_page;
pub mod services;
pub mod settings;
pub mod store;
pub mod telemetry;
