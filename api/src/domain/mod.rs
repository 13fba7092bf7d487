//! Domain types parsed at the edge: invalid data never travels inward.

pub mod api_key;
pub mod firm;
pub mod idempotency;
pub mod share_token;
pub mod submission;

pub use firm::FirmProfile;
pub use idempotency::{IdempotencyKey, payload_hash};
pub use submission::Submission;
