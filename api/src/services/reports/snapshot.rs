//! The in-memory columnar snapshot reports are computed from, kept in step with the database.
//!
//! Loaded in full on first use, then refreshed incrementally (at most once per
//! the refresh interval) from the responses received since the last position read, re-reading a
//! short overlap so rows committed late by slow transactions are not missed. Erasure removes
//! firms from it at once.

use std::collections::{BTreeMap, HashMap};
use std::sync::RwLock;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use chrono::Duration as ChronoDuration;
use readiness_analytics::reports::Snapshot;
use sea_orm::DatabaseConnection;
use uuid::Uuid;

use crate::services::error::ServiceError;
use crate::store::Backend;
use crate::store::report_rows::{ReportRowQuery, Watermark, sqlite_scan};

/// How stale a report may be, by default, before the snapshot asks the database for new rows.
pub const DEFAULT_REFRESH_EVERY: Duration = Duration::from_secs(1);
/// How far back each refresh looks again, to catch transactions that committed late.
const OVERLAP: ChronoDuration = ChronoDuration::seconds(60);

#[derive(Debug)]
pub struct ReportSnapshot {
    snapshot: RwLock<Snapshot>,
    refresh: tokio::sync::Mutex<RefreshState>,
    refresh_every: Duration,
    loaded: AtomicBool,
    /// Grows whenever what reports, exports or survey definitions show may have changed: rows
    /// appended or erased here, the set of survey versions seen by a refresh, or a write this
    /// process made ([`ReportSnapshot::touch`]). Validators (`ETag`s) are derived from it.
    generation: AtomicU64,
    /// Random per process, so that a validator never outlives the process that issued it
    /// (generations start again at zero after a restart).
    epoch: u128,
    /// The survey versions the last refresh saw.
    versions_seen: std::sync::Mutex<HashMap<i32, i32>>,
    /// When the next refresh is due, in milliseconds after `started`: read without the
    /// refresh lock, so a revalidation (`304`) starts no task while none is due.
    next_due_ms: AtomicU64,
    started: Instant,
}

#[derive(Debug, Default)]
struct RefreshState {
    /// The last row read, in receipt order.
    watermark: Option<Watermark>,
    /// When the previous refresh began, on the wall clock (when the next is due is kept
    /// beside the lock, in [`ReportSnapshot::refresh_due`]).
    last_refresh: Option<chrono::DateTime<chrono::Utc>>,
}

impl ReportSnapshot {
    pub fn new(refresh_every: Duration) -> Self {
        Self {
            snapshot: RwLock::default(),
            refresh: tokio::sync::Mutex::default(),
            refresh_every,
            loaded: AtomicBool::new(false),
            generation: AtomicU64::new(0),
            epoch: Uuid::new_v4().as_u128(),
            versions_seen: std::sync::Mutex::default(),
            next_due_ms: AtomicU64::new(0),
            started: Instant::now(),
        }
    }

    /// Whether a refresh would read the database now (one atomic read and a clock read).
    pub fn refresh_due(&self) -> bool {
        let now = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        now >= self.next_due_ms.load(Ordering::Acquire)
    }

    /// Records that a refresh began at `started`.
    fn refreshed(
        &self,
        state: &mut RefreshState,
        started: (Instant, chrono::DateTime<chrono::Utc>),
    ) {
        state.last_refresh = Some(started.1);
        let due = started.0.saturating_duration_since(self.started) + self.refresh_every;
        let due = u64::try_from(due.as_millis()).unwrap_or(u64::MAX);
        self.next_due_ms.store(due, Ordering::Release);
    }

    /// The data version: one atomic read, no database and no computation. It is read before
    /// the data it labels, so a body is never labelled with a version newer than itself.
    pub fn data_version(&self) -> (u128, u64) {
        (self.epoch, self.generation.load(Ordering::Acquire))
    }

    /// Notes that this process changed stored data (a submission, an erasure, a survey or
    /// population write): every validator changes at once, before the next refresh.
    pub fn touch(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    /// Whether the snapshot has been loaded at least once.
    pub fn is_loaded(&self) -> bool {
        self.loaded.load(Ordering::Acquire)
    }

    /// How stale a report may be; zero means every report refreshes first.
    pub fn refresh_every(&self) -> Duration {
        self.refresh_every
    }

    /// Brings the snapshot up to date unless it was refreshed within the refresh interval.
    pub async fn refresh(&self, db: &DatabaseConnection) -> Result<(), ServiceError> {
        let mut state = self.refresh.lock().await;
        self.refresh_locked(&mut state, db).await
    }

    /// Refreshes unless another refresh is running (for background use).
    pub async fn refresh_if_idle(&self, db: &DatabaseConnection) -> Result<(), ServiceError> {
        match self.refresh.try_lock() {
            Ok(mut state) => self.refresh_locked(&mut state, db).await,
            Err(_) => Ok(()),
        }
    }

    async fn refresh_locked(
        &self,
        state: &mut RefreshState,
        db: &DatabaseConnection,
    ) -> Result<(), ServiceError> {
        if !self.refresh_due() {
            return Ok(());
        }
        let started = (Instant::now(), chrono::Utc::now());
        let versions = ReportRowQuery::versions(db).await?;
        if let Ok(mut seen) = self.versions_seen.lock()
            && *seen != versions
        {
            seen.clone_from(&versions);
            self.touch();
        }
        if !self.is_loaded() {
            match self.load_in_bulk(db, versions.clone()).await {
                Ok(Some(watermark)) => {
                    state.watermark = watermark;
                    self.refreshed(state, started);
                    self.loaded.store(true, Ordering::Release);
                    return Ok(());
                }
                Ok(None) => {}
                // Paging through the pool reads the same rows, only more slowly.
                Err(e) => {
                    tracing::warn!(error = %e, "reading every response in bulk failed; paging instead")
                }
            }
        }
        // Start after the last row seen, or earlier when the previous refresh began less than
        // OVERLAP after it: rows received then may have committed after that refresh read.
        let mut position = state.watermark.map(|(at, id)| match state.last_refresh {
            Some(previous) if previous - OVERLAP < at => (previous - OVERLAP, Uuid::nil()),
            _ => (at, id),
        });
        let mut appended = 0;
        let cold = !self.is_loaded();
        let (mut reading, mut appending) = (Duration::ZERO, Duration::ZERO);
        loop {
            let read_started = Instant::now();
            let (batch, last) = ReportRowQuery::page_after(db, position, &versions).await?;
            reading += read_started.elapsed();
            let append_started = Instant::now();
            if !batch.is_empty() {
                let mut snapshot = self.write()?;
                appended += snapshot
                    .append_batch(batch)
                    .map_err(|e| anyhow::anyhow!("appending to the report snapshot: {e}"))?;
                // The first load sorts once at the end (nobody reads before it is done);
                // later refreshes keep the rows in order page by page, as reports run beside them.
                if !cold {
                    snapshot
                        .settle()
                        .map_err(|e| anyhow::anyhow!("sorting the report snapshot: {e}"))?;
                }
            }
            appending += append_started.elapsed();
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
        if appended > 0 {
            self.touch();
            self.settle_and_log(started.0, appended, reading, appending)?;
        }
        self.refreshed(state, started);
        self.loaded.store(true, Ordering::Release);
        Ok(())
    }

    /// The first load, by the backend's bulk path: a parallel scan of a SQLite file on
    /// connections of its own (see [`sqlite_scan`]), or one binary `COPY` from PostgreSQL (see
    /// [`ReportRowQuery::copy_until`]); `None` for a database without one (SQLite in memory).
    /// Returns the position to refresh from: the last receipt before the load began, so rows
    /// committed during it are read by the next refresh.
    async fn load_in_bulk(
        &self,
        db: &DatabaseConnection,
        versions: HashMap<i32, i32>,
    ) -> anyhow::Result<Option<Option<Watermark>>> {
        let started = Instant::now();
        let watermark = ReportRowQuery::latest(db).await?;
        // Each batch is appended as it arrives, so the rows are never held twice over.
        let mut appending = Duration::ZERO;
        let mut appended = 0;
        let mut append = |batch| -> anyhow::Result<()> {
            let append_started = Instant::now();
            appended += self.write()?.append_batch(batch)?;
            appending += append_started.elapsed();
            Ok(())
        };
        match Backend::of(db) {
            Backend::SqliteFile(path) => {
                // Reads wait on the disk when the file is not in the page cache: more
                // threads than cores keep more reads in flight.
                let threads =
                    std::thread::available_parallelism().map_or(4, |n| (2 * n.get()).clamp(4, 8));
                let (sender, mut receiver) = tokio::sync::mpsc::channel(threads);
                let scan = tokio::task::spawn_blocking(move || {
                    sqlite_scan::scan(&path, &versions, threads, &|index, batch| {
                        sender.blocking_send((index, batch)).is_ok()
                    })
                });
                // Batches in rowid order (ties in submission time keep it): a batch read
                // ahead of its turn waits.
                let mut waiting = BTreeMap::new();
                let mut turn = 0;
                while let Some((index, batch)) = receiver.recv().await {
                    waiting.insert(index, batch);
                    while let Some(batch) = waiting.remove(&turn) {
                        append(batch)?;
                        turn += 1;
                    }
                }
                scan.await??;
            }
            Backend::Postgres => {
                if let Some(until) = watermark {
                    // The copy is read and decoded on a task of its own, so it streams on
                    // while a batch is appended here.
                    let (sender, mut receiver) = tokio::sync::mpsc::channel(2);
                    let db = db.clone();
                    let copy = tokio::spawn(async move {
                        ReportRowQuery::copy_until(&db, until, &versions, &sender).await
                    });
                    while let Some(batch) = receiver.recv().await {
                        append(batch)?;
                    }
                    copy.await??;
                }
            }
            Backend::SqliteMemory => return Ok(None),
        }
        self.touch();
        // Reading goes on while a batch is appended: what is logged as reading is the time
        // spent waiting for rows.
        let reading = started.elapsed().saturating_sub(appending);
        self.settle_and_log(started, appended, reading, appending)?;
        Ok(Some(watermark))
    }

    /// Restores time order after appends and logs what the refresh took.
    fn settle_and_log(
        &self,
        started: Instant,
        appended: usize,
        reading: Duration,
        appending: Duration,
    ) -> Result<(), ServiceError> {
        let sort_started = Instant::now();
        self.write()?
            .settle()
            .map_err(|e| anyhow::anyhow!("sorting the report snapshot: {e}"))?;
        let sorting = sort_started.elapsed();
        let snapshot = self.read()?;
        tracing::info!(
            appended,
            rows = snapshot.len(),
            memory_bytes = snapshot.memory_bytes(),
            took_ms = started.elapsed().as_millis() as u64,
            reading_ms = reading.as_millis() as u64,
            appending_ms = appending.as_millis() as u64,
            sorting_ms = sorting.as_millis() as u64,
            "report snapshot refreshed"
        );
        Ok(())
    }

    fn write(&self) -> Result<std::sync::RwLockWriteGuard<'_, Snapshot>, ServiceError> {
        Ok(self
            .snapshot
            .write()
            .map_err(|_| anyhow::anyhow!("report snapshot lock poisoned"))?)
    }

    /// Read access for computing a report.
    pub fn read(&self) -> Result<std::sync::RwLockReadGuard<'_, Snapshot>, ServiceError> {
        self.snapshot
            .read()
            .map_err(|_| ServiceError::Internal(anyhow::anyhow!("report snapshot lock poisoned")))
    }

    /// Drops an erased firm's responses.
    pub fn erase_firm(&self, firm: Uuid) -> Result<(), ServiceError> {
        self.write()?
            .remove_firms(&[firm.as_u128()])
            .map_err(|e| anyhow::anyhow!("erasing from the report snapshot: {e}"))?;
        self.touch();
        Ok(())
    }

    /// Rows held and approximate memory, for operators and benchmarks.
    pub fn size(&self) -> Result<(usize, usize), ServiceError> {
        let snapshot = self.read()?;
        Ok((snapshot.len(), snapshot.memory_bytes()))
    }
}
