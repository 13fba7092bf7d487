//! Aggregated reports over scored responses, as Polars lazy pipelines over an in-memory
//! columnar snapshot.

mod batch;
mod benchmark;
mod calendar;
mod cells;
mod change;
mod compute;
pub mod disclosure;
mod ids;
mod model;
pub mod paired;
mod pipeline;
mod reference;
mod snapshot;
pub mod stats;
mod sums;
mod suppression;
mod unlock;
mod weighting;

pub use batch::{BadBlockers, Blockers, IdMap, RowBatch, RowRef};
pub use benchmark::{
    Benchmark, DEFAULT_PEER_MIN, DimensionStanding, PeerGroup, PeerQuery, benchmark,
};
pub use cells::RANK_PRECISION;
pub use change::{DIMENSIONS, change};
pub use compute::{Margins, ReportError, blockers, readiness, trend};
pub use model::*;
pub use reference::{ReferenceFigure, reference_figures};
pub use snapshot::{ResponseRow, Snapshot};
pub use suppression::{Relation, suppress, suppress_related};
pub use unlock::BLOCKER_COUNTS;
pub use weighting::{
    DISCREPANCY_TOLERANCE, MAX_ROUNDS, REGION_NOT_STATED, TOLERANCE, WeightingError, rake,
};
