//! Extractors: the body with a limit per route, and the authorised caller.

pub mod body;
pub mod caller;
pub mod checked_json;
pub mod language;
