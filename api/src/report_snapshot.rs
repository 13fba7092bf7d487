//! The in-memory columnar snapshot reports are computed from, kept in step with the database.
//!
//! Loaded in full on first use, then refreshed incrementally (at most once per
//! the refresh interval) from the responses received since the last position read, re-reading a
//! short overlap so rows committed late by slow transactions are not missed. Erasure removes
//! firms from it at once.

use std::sync::RwLock;
use std::time::{Duration, Instant};

use chrono::Duration as ChronoDuration;
use readiness_analytics::reports::Snapshot;
use sea_orm::DatabaseConnection;
use uuid::Uuid;

use crate::problem::ApiError;
use crate::store::report_rows::{ReportRowQuery, Watermark};

/// How stale a report may be, by default, before the snapshot asks the database for new rows.
pub const DEFAULT_REFRESH_EVERY: Duration = Duration::from_secs(1);
/// How far back each refresh looks again, to catch transactions that committed late.
const OVERLAP: ChronoDuration = ChronoDuration::seconds(60);

#[derive(Debug)]
pub struct ReportSnapshot {
    snapshot: RwLock<Snapshot>,
    refresh: tokio::sync::Mutex<RefreshState>,
    refresh_every: Duration,
}

#[derive(Debug, Default)]
struct RefreshState {
    /// The last row read, in receipt order.
    watermark: Option<Watermark>,
    last_refresh: Option<Instant>,
}

impl ReportSnapshot {
    pub fn new(refresh_every: Duration) -> Self {
        Self {
            snapshot: RwLock::default(),
            refresh: tokio::sync::Mutex::default(),
            refresh_every,
        }
    }

    /// Brings the snapshot up to date unless it was refreshed within `refresh_every`.
    pub async fn refresh(&self, db: &DatabaseConnection) -> Result<(), ApiError> {
        let mut state = self.refresh.lock().await;
        if state
            .last_refresh
            .is_some_and(|at| at.elapsed() < self.refresh_every)
        {
            return Ok(());
        }
        let versions = ReportRowQuery::versions(db).await?;
        let mut position = state.watermark.map(|(at, _)| (at - OVERLAP, Uuid::nil()));
        loop {
            let (rows, last) = ReportRowQuery::page_after(db, position, &versions).await?;
            let fresh: Vec<_> = {
                let snapshot = self.read()?;
                rows.into_iter()
                    .filter(|r| !snapshot.contains(r.id))
                    .collect()
            };
            if !fresh.is_empty() {
                let mut snapshot = self
                    .snapshot
                    .write()
                    .map_err(|_| anyhow::anyhow!("report snapshot lock poisoned"))?;
                snapshot
                    .append(fresh)
                    .map_err(|e| anyhow::anyhow!("appending to the report snapshot: {e}"))?;
            }
            match last {
                Some(last) => {
                    if state.watermark.is_none_or(|w| last > w) {
                        state.watermark = Some(last);
                    }
                    position = Some(last);
                }
                None => break,
            }
        }
        state.last_refresh = Some(Instant::now());
        Ok(())
    }

    /// Read access for computing a report.
    pub fn read(&self) -> Result<std::sync::RwLockReadGuard<'_, Snapshot>, ApiError> {
        self.snapshot
            .read()
            .map_err(|_| ApiError::Internal(anyhow::anyhow!("report snapshot lock poisoned")))
    }

    /// Drops an erased firm's responses.
    pub fn erase_firm(&self, firm: Uuid) -> Result<(), ApiError> {
        let mut snapshot = self
            .snapshot
            .write()
            .map_err(|_| anyhow::anyhow!("report snapshot lock poisoned"))?;
        snapshot
            .remove_firms(&[firm.as_u128()])
            .map_err(|e| anyhow::anyhow!("erasing from the report snapshot: {e}"))?;
        Ok(())
    }

    /// Rows held and approximate memory, for operators and benchmarks.
    pub fn size(&self) -> Result<(usize, usize), ApiError> {
        let snapshot = self.read()?;
        Ok((snapshot.len(), snapshot.memory_bytes()))
    }
}
