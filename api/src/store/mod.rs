//! The store: sea-orm entities and every query, in one place (no SQL in handlers).

pub mod audit;
pub mod entities;
pub mod export_rows;
pub mod firms;
pub mod keys;
pub mod lookups;
pub mod populations;
pub mod report_rows;
pub mod responses;
pub mod secrets;
pub mod sqlite_values;
pub mod surveys;
