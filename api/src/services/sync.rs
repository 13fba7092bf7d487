//! Incremental sync: the stored responses, and the change feed with its erasures, in the
//! order the database committed them, in pages after a position (`store::changes`).
//!
//! A page is bounded by the feed's horizon when it starts, and its `next` position is the
//! last row it read (or the horizon, when it read to the end). A client that always asks
//! for the page after the last `next` it was given gets every committed row once.

use std::sync::Arc;

use chrono::NaiveDate;
use readiness_analytics::reports::SegmentFilter;
use sea_orm::DatabaseConnection;

use super::catalog::{Catalog, Entry};
use super::error::ServiceError;
use crate::domain::params::{ParamProblem, check_window, window_instants};
use crate::store::changes::{Change, ChangeStore, Position, SyncFilter, SyncRow};

/// Rows per page when the client does not say.
pub const DEFAULT_LIMIT: u64 = 100;
/// Rows per page at most.
pub const MAX_LIMIT: u64 = 1000;

/// Which stored responses to list, and from where.
#[derive(Debug, Clone, PartialEq)]
pub struct SyncRequest {
    pub after: Position,
    pub limit: u64,
    pub survey: String,
    /// Only this version of `survey` (default: every released version).
    pub version: Option<i32>,
    /// First day included, on `submitted_at` (UTC).
    pub from: Option<NaiveDate>,
    /// Last day included.
    pub to: Option<NaiveDate>,
    pub segments: SegmentFilter,
}

impl SyncRequest {
    /// What the types alone do not rule out: a window that ends before it starts.
    pub fn check(&self) -> Vec<ParamProblem> {
        check_window(self.from, self.to).into_iter().collect()
    }
}

/// A page of stored responses.
pub struct ResponsesPage {
    /// Each response with its position and its survey version.
    pub responses: Vec<(SyncRow, Arc<Entry>)>,
    /// Where the next page starts.
    pub next: Position,
    /// Whether rows were left for the next page (at the time of this one).
    pub has_more: bool,
}

/// A page of the change feed.
pub struct ChangesPage {
    pub changes: Vec<Change>,
    pub next: Position,
    pub has_more: bool,
}

/// The stored responses of `request` committed after its position.
pub async fn responses(
    db: &DatabaseConnection,
    catalog: &Catalog,
    request: &SyncRequest,
) -> Result<ResponsesPage, ServiceError> {
    let problems = request.check();
    if !problems.is_empty() {
        return Err(ServiceError::InvalidParams(problems));
    }
    let entries = catalog
        .released(db, &request.survey, request.version)
        .await?;
    let (from, until) = window_instants(request.from, request.to);
    let filter = SyncFilter {
        survey_ids: entries.iter().map(|entry| entry.survey_id).collect(),
        from,
        until,
        segments: request.segments.clone(),
    };
    let horizon = ChangeStore::horizon(db).await?;
    // One row more than asked tells whether there are more.
    let mut found =
        ChangeStore::responses_after(db, &filter, request.after, horizon, request.limit + 1)
            .await?;
    let has_more = found.len() as u64 > request.limit;
    found.truncate(usize::try_from(request.limit).unwrap_or(usize::MAX));
    let next = if has_more {
        found.last().map_or(request.after, |row| row.position)
    } else {
        horizon.max(request.after)
    };
    let responses = found
        .into_iter()
        .map(|row| {
            let entry = entries
                .iter()
                .find(|entry| entry.survey_id == row.row.survey_id)
                .cloned()
                .ok_or_else(|| anyhow::anyhow!("response {} of an unknown version", row.row.id))?;
            Ok((row, entry))
        })
        .collect::<Result<Vec<_>, ServiceError>>()?;
    Ok(ResponsesPage {
        responses,
        next,
        has_more,
    })
}

/// The change feed after `after`: up to `limit` rows.
pub async fn changes(
    db: &DatabaseConnection,
    after: Position,
    limit: u64,
) -> Result<ChangesPage, ServiceError> {
    let horizon = ChangeStore::horizon(db).await?;
    let mut changes = ChangeStore::after(db, after, horizon, limit + 1).await?;
    let has_more = changes.len() as u64 > limit;
    changes.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let next = if has_more {
        changes.last().map_or(after, |change| change.position)
    } else {
        horizon.max(after)
    };
    Ok(ChangesPage {
        changes,
        next,
        has_more,
    })
}
