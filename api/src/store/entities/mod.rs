//! Entities mirror the tables created by the `migration` crate.

pub mod api_key;
pub mod assessment_draft;
pub mod audit_event;
pub mod erasure_tombstone;
pub mod firm;
pub mod population;
pub mod response;
pub mod server_secret;
pub mod share_link;
pub mod survey;
pub mod webhook_delivery;
pub mod webhook_endpoint;
