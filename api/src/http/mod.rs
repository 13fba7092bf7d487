//! The HTTP server: actix-web, the OpenAPI contract, and the mapping of service results and
//! errors onto HTTP. Handlers are thin: parse → domain → services / store → DTO.
//!
//! **Architecture Invariant:** this is the only module that knows actix-web, and nothing
//! below it (`services`, `store`, `domain`, `report_page`) imports from it.

pub mod conditional;
pub mod extract;
pub mod middleware;
pub mod openapi;
pub mod problem;
pub mod routes;
pub mod server;
pub mod state;
