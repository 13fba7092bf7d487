//! Reports: the snapshot they are computed from, resolving their parameters, and running the
//! analytics on it.

pub mod change;
pub mod page;
pub mod run;
pub mod share;
pub mod snapshot;

pub use run::{DataVersion, Resolved, disclosure_for, report, report_error, resolve};
