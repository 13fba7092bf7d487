//! The two reads every submission makes before it is written: the caller's API key and the
//! survey version it goes to.
//!
//! On a SQLite file they are answered on the calling thread by a read-only `rusqlite`
//! connection that the thread keeps open, with its statements prepared once. Through the pool
//! each read is handed to a connection's own thread and its row handed back, and under load
//! those hand-overs cost more than the submission itself. A read-only connection sees every
//! committed transaction (WAL), so the answers are the same; a read that fails there is
//! retried through the pool. PostgreSQL reads go through the pool.

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rusqlite::types::ValueRef;
use rusqlite::{Connection, OptionalExtension, Row};
use sea_orm::{DatabaseConnection, DbErr};
use uuid::Uuid;

use super::entities::api_key;
use super::entities::survey::STATUS_PUBLISHED;
use super::keys::KeyStore;
use super::report_rows::ReportRowQuery;
use super::sqlite_values::{
    column, datetime, integer, open_read_only, optional_datetime, text, uuid,
};
use super::surveys::SurveyQuery;

const KEY_BY_PREFIX: &str = "SELECT id, name, role, prefix, secret_hash, created_at, expires_at, \
     revoked_at, last_used_at, rate_limit_per_minute FROM api_keys WHERE prefix = ?1";

const LATEST_PUBLISHED: &str = "SELECT id, public FROM surveys WHERE slug = ?1 AND status = ?2 \
     ORDER BY version DESC LIMIT 1";

/// How long a local read waits for SQLite.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Open read-only connections per thread, at most this many files (tests run several
/// servers in one process; a server has one file).
const FILES_PER_THREAD: usize = 8;

thread_local! {
    static CONNECTIONS: RefCell<Vec<(Arc<Path>, Connection)>> = const { RefCell::new(Vec::new()) };
}

/// Where the per-submission reads are answered.
#[derive(Debug, Clone)]
pub struct Lookups {
    /// The SQLite file, when the database is one on disk.
    sqlite_file: Option<Arc<Path>>,
}

impl Lookups {
    pub fn new(db: &DatabaseConnection) -> Self {
        Self {
            sqlite_file: ReportRowQuery::sqlite_file(db).map(PathBuf::into),
        }
    }

    /// The key with this prefix, if any.
    pub async fn key_by_prefix(
        &self,
        db: &DatabaseConnection,
        prefix: &str,
    ) -> Result<Option<api_key::Model>, DbErr> {
        if let Some(found) = self.local(|c| {
            c.prepare_cached(KEY_BY_PREFIX)?
                .query_row([prefix], |row| Ok(key_row(row)))
                .optional()
        }) {
            return Ok(found);
        }
        KeyStore::by_prefix(db, prefix).await
    }

    /// The id and `public` flag of the latest published version of `slug`.
    pub async fn latest_published_target(
        &self,
        db: &DatabaseConnection,
        slug: &str,
    ) -> Result<Option<(i32, bool)>, DbErr> {
        if let Some(found) = self.local(|c| {
            c.prepare_cached(LATEST_PUBLISHED)?
                .query_row([slug, STATUS_PUBLISHED], |row| Ok(target_row(row)))
                .optional()
        }) {
            return Ok(found);
        }
        SurveyQuery::latest_published_target(db, slug).await
    }

    /// Runs `read` on this thread's connection to the SQLite file; `None` when there is no
    /// file or the read failed (logged; the connection is dropped and the caller asks the
    /// pool instead).
    fn local<T>(
        &self,
        read: impl FnOnce(&Connection) -> rusqlite::Result<Option<Result<T, String>>>,
    ) -> Option<Option<T>> {
        let path = self.sqlite_file.as_ref()?;
        let result = CONNECTIONS.with(|cell| {
            let mut connections = cell.try_borrow_mut().map_err(|e| e.to_string())?;
            let index = match connections.iter().position(|(p, _)| p == path) {
                Some(index) => index,
                None => {
                    if connections.len() >= FILES_PER_THREAD {
                        connections.remove(0);
                    }
                    connections.push((
                        path.clone(),
                        open_read_only(path, BUSY_TIMEOUT).map_err(|e| e.to_string())?,
                    ));
                    connections.len() - 1
                }
            };
            let outcome = match read(&connections[index].1) {
                Ok(Some(Ok(value))) => Ok(Some(value)),
                Ok(None) => Ok(None),
                Ok(Some(Err(reason))) => Err(reason),
                Err(error) => Err(error.to_string()),
            };
            if outcome.is_err() {
                connections.remove(index);
            }
            outcome
        });
        match result {
            Ok(found) => Some(found),
            Err(error) => {
                tracing::warn!(path = %path.display(), %error, "a local read failed; asking the pool");
                None
            }
        }
    }
}

fn key_row(row: &Row<'_>) -> Result<api_key::Model, String> {
    let value = |index: usize| column(row, index);
    let owned = |index: usize| value(index).and_then(|v| text(v).map(str::to_owned));
    Ok(api_key::Model {
        id: Uuid::from_u128(uuid(value(0)?)?),
        name: owned(1)?,
        role: owned(2)?,
        prefix: owned(3)?,
        secret_hash: owned(4)?,
        created_at: datetime(value(5)?)?,
        expires_at: optional_datetime(value(6)?)?,
        revoked_at: optional_datetime(value(7)?)?,
        last_used_at: optional_datetime(value(8)?)?,
        rate_limit_per_minute: match value(9)? {
            ValueRef::Null => None,
            other => Some(i32::try_from(integer(other)?).map_err(|e| format!("rate limit: {e}"))?),
        },
    })
}

fn target_row(row: &Row<'_>) -> Result<(i32, bool), String> {
    let value = |index: usize| column(row, index);
    let id = i32::try_from(integer(value(0)?)?).map_err(|e| format!("survey id: {e}"))?;
    Ok((id, integer(value(1)?)? != 0))
}
