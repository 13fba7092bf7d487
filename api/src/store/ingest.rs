//! Group commit: concurrent submissions share one transaction.
//!
//! Handlers hand their validated, scored rows to a [`Writer`] and wait. A writer task takes
//! the first waiting request, adds whatever else is waiting (up to `max_items` rows, waiting
//! at most `max_wait` for more), stores them all in ONE transaction, commits, and only then
//! answers every request. A `201` therefore still means committed, but a burst of requests
//! costs one commit (on SQLite one `fsync`) instead of one each. Each request stays all or
//! nothing, and idempotency is decided by the database as before.
//!
//! On a SQLite file the writer is a thread of its own with one `rusqlite` connection
//! ([`SqliteWriter`]); on PostgreSQL, writer tasks share a pool of their own.

use crate::domain::tombstone::TombstoneKey;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use sea_orm::{DatabaseConnection, DbErr};
use tokio::sync::{Mutex, mpsc, oneshot};
use tokio::time::{Instant, timeout_at};

use crate::store::responses::sqlite_write::{Checkpointer, SqliteWriter};
use crate::store::responses::{NewResponse, Outcome, ResponseStore};

/// How a writer gathers requests into one transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GroupCommit {
    /// Rows per transaction at most (a larger batch request still goes in whole).
    pub max_items: usize,
    /// How long a writer waits for more requests once it has one; zero takes only what is
    /// already waiting, which needs no tuning: while one commit runs, the next group queues.
    pub max_wait: Duration,
    /// Transactions in flight at once. SQLite has one writer at a time, so more than one
    /// only queues on its lock; PostgreSQL commits several in parallel.
    pub writers: usize,
}

impl Default for GroupCommit {
    fn default() -> Self {
        Self {
            max_items: 512,
            max_wait: Duration::ZERO,
            writers: 1,
        }
    }
}

/// Why a request's rows were not stored.
#[derive(Debug, Clone, thiserror::Error)]
pub enum WriteError {
    #[error("storing the responses failed")]
    Database(#[source] Arc<DbErr>),
    #[error("the response writer has stopped")]
    Stopped,
}

type Reply = Result<Vec<Outcome>, WriteError>;

/// One request's rows and where to send their outcomes.
struct Job {
    items: Vec<NewResponse>,
    reply: oneshot::Sender<Reply>,
}

/// The handle handlers submit through; cheap to share.
#[derive(Debug, Clone)]
pub struct Writer {
    jobs: mpsc::Sender<Job>,
    turn: WriteTurn,
}

/// Turns at a SQLite file's one write lock, for the server's own writers: the group-commit
/// writer takes a turn for each transaction, and a background writer (the webhook worker)
/// takes one around its transactions. Without turns, whichever of them finds the lock taken
/// waits in SQLite's busy handler, which sleeps in steps of up to 100 ms and does not wake
/// when the lock is released: the writer then stands idle while submissions queue. Turns are
/// handed over in arrival order the moment the holder is done. On PostgreSQL there is no such
/// lock and a turn is nothing.
#[derive(Debug, Clone, Default)]
pub struct WriteTurn(Option<Arc<Mutex<()>>>);

impl WriteTurn {
    /// Waits for this server's turn at the write lock (at once on PostgreSQL); the turn lasts
    /// as long as the guard.
    pub async fn take(&self) -> Option<tokio::sync::MutexGuard<'_, ()>> {
        match &self.0 {
            Some(lock) => Some(lock.lock().await),
            None => None,
        }
    }
}

impl Writer {
    /// Starts `config.writers` writer tasks on the current Tokio runtime, each writing
    /// through `db`. They stop when the last handle is dropped, after the requests already
    /// handed over are stored.
    pub fn start(db: DatabaseConnection, config: GroupCommit, tombstones: TombstoneKey) -> Self {
        let (config, jobs, queue) = channel(config);
        for _ in 0..config.writers {
            tokio::spawn(run(db.clone(), queue.clone(), config, tombstones.clone()));
        }
        Self {
            jobs,
            turn: WriteTurn::default(),
        }
    }

    /// Turns at the write lock shared with this writer (see [`WriteTurn`]).
    pub fn turn(&self) -> WriteTurn {
        self.turn.clone()
    }

    /// Whether submissions are waiting for a writer at this moment: background work that can
    /// wait (webhook deliveries) gives way while they do.
    pub fn is_busy(&self) -> bool {
        self.jobs.capacity() < self.jobs.max_capacity()
    }

    /// Starts one writer thread on the SQLite file at `path` (SQLite has one writer at a
    /// time). It stops when the last handle is dropped, after the requests already handed
    /// over are stored.
    pub fn start_sqlite(
        path: &Path,
        config: GroupCommit,
        tombstones: TombstoneKey,
    ) -> anyhow::Result<Self> {
        let mut writer = SqliteWriter::open(path, tombstones)
            .with_context(|| format!("cannot open {} for writing", path.display()))?;
        let checkpointer = writer
            .checkpointer(path)
            .with_context(|| format!("cannot open {} for checkpoints", path.display()))?;
        let (commits, committed) = std::sync::mpsc::sync_channel::<()>(1);
        let (config, jobs, queue) = channel(GroupCommit {
            writers: 1,
            ..config
        });
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .context("cannot start the writer's runtime")?;
        let turn = Arc::new(Mutex::new(()));
        let writer_turn = turn.clone();
        std::thread::Builder::new()
            .name("sqlite-writer".to_owned())
            .spawn(move || {
                while let Some(group) = runtime.block_on(async {
                    let mut queue = queue.lock().await;
                    gather(&mut queue, config).await
                }) {
                    let (items, replies) = split(group);
                    let results = {
                        let _turn = writer_turn.blocking_lock();
                        writer.write_groups(items)
                    };
                    answer(replies, results);
                    writer.restart_wal_if_long();
                    // A checkpoint already due will see this commit too.
                    let _ = commits.try_send(());
                }
            })
            .context("cannot start the writer thread")?;
        std::thread::Builder::new()
            .name("sqlite-checkpoint".to_owned())
            .spawn(move || checkpoints(&checkpointer, &committed))
            .context("cannot start the checkpoint thread")?;
        Ok(Self {
            jobs,
            turn: WriteTurn(Some(turn)),
        })
    }

    /// Stores the items (all or nothing) together with whatever other requests are waiting;
    /// returns one outcome per item once the transaction has committed.
    pub async fn store(&self, items: Vec<NewResponse>) -> Reply {
        if items.is_empty() {
            return Ok(Vec::new());
        }
        let (reply, outcome) = oneshot::channel();
        self.jobs
            .send(Job { items, reply })
            .await
            .map_err(|_| WriteError::Stopped)?;
        outcome.await.map_err(|_| WriteError::Stopped)?
    }
}

/// Checkpoints after commits, at most once per [`CHECKPOINT_EVERY`], until the writer stops
/// (then once more).
fn checkpoints(checkpointer: &Checkpointer, committed: &std::sync::mpsc::Receiver<()>) {
    loop {
        let stopped = committed.recv().is_err();
        if let Err(error) = checkpointer.checkpoint() {
            tracing::warn!(%error, "a WAL checkpoint failed; the next one retries");
        }
        if stopped {
            return;
        }
        std::thread::sleep(CHECKPOINT_EVERY);
    }
}

/// How often the WAL is copied into the database file while submissions arrive.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(250);

type Queue = Arc<Mutex<mpsc::Receiver<Job>>>;

/// The queue between handlers and writers, bounded so that a flood waits in the handlers.
fn channel(config: GroupCommit) -> (GroupCommit, mpsc::Sender<Job>, Queue) {
    let config = GroupCommit {
        max_items: config.max_items.max(1),
        writers: config.writers.max(1),
        ..config
    };
    let (jobs, queue) = mpsc::channel(config.max_items * 2);
    (config, jobs, Arc::new(Mutex::new(queue)))
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Job")
            .field("items", &self.items.len())
            .finish()
    }
}

/// One writer: gather a group, store it, answer, repeat. Writers share the queue; the one
/// holding it gathers while the others commit.
async fn run(db: DatabaseConnection, queue: Queue, config: GroupCommit, tombstones: TombstoneKey) {
    loop {
        let group = {
            let mut queue = queue.lock().await;
            match gather(&mut queue, config).await {
                Some(group) => group,
                None => return,
            }
        };
        write(&db, group, &tombstones).await;
    }
}

/// Waits for a first job, then takes more while they are waiting or arrive within
/// `max_wait`, up to `max_items` rows. `None` once every handle is gone.
async fn gather(queue: &mut mpsc::Receiver<Job>, config: GroupCommit) -> Option<Vec<Job>> {
    let first = queue.recv().await?;
    let deadline = Instant::now() + config.max_wait;
    let mut items = first.items.len();
    let mut group = vec![first];
    while items < config.max_items {
        let next = match queue.try_recv() {
            Ok(job) => job,
            Err(_) if config.max_wait.is_zero() => break,
            Err(_) => match timeout_at(deadline, queue.recv()).await {
                Ok(Some(job)) => job,
                Ok(None) | Err(_) => break,
            },
        };
        items += next.items.len();
        group.push(next);
    }
    Some(group)
}

#[tracing::instrument(skip_all, fields(requests = group.len()))]
async fn write(db: &DatabaseConnection, group: Vec<Job>, tombstones: &TombstoneKey) {
    let (items, replies) = split(group);
    answer(
        replies,
        ResponseStore::insert_groups(db, items, tombstones).await,
    );
}

fn split(group: Vec<Job>) -> (Vec<Vec<NewResponse>>, Vec<oneshot::Sender<Reply>>) {
    group.into_iter().map(|job| (job.items, job.reply)).unzip()
}

/// Sends every request its outcome once the group's transaction has ended.
fn answer(
    replies: Vec<oneshot::Sender<Reply>>,
    results: Result<Vec<Result<Vec<Outcome>, DbErr>>, DbErr>,
) {
    match results {
        Ok(results) => {
            for (reply, result) in replies.into_iter().zip(results) {
                // A client that went away still had its rows stored; a retry replays them.
                let _ = reply.send(result.map_err(|e| WriteError::Database(Arc::new(e))));
            }
        }
        Err(error) => {
            tracing::error!(%error, "a group commit failed; nothing of it was stored");
            let error = Arc::new(error);
            for reply in replies {
                let _ = reply.send(Err(WriteError::Database(error.clone())));
            }
        }
    }
}
