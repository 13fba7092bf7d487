//! The two reads every submission makes before it is written: the caller's API key and the
//! survey version it goes to.
//!
//! On a SQLite file they are answered on the calling thread by a read-only `rusqlite`
//! connection that the thread keeps open, with its statements prepared once. Through the pool
//! each read is handed to a connection's own thread and its row handed back, and under load
//! those hand-overs cost more than the submission itself. A read-only connection sees every
//! committed transaction (WAL), so the answers are the same; a read that fails there is
//! retried through the pool. PostgreSQL reads go through the pool.
//!
//! Whatever was found is then kept for [`FRESH_FOR`], so a busy collector costs no read at
//! all. A write made through this process (a key revoked or used, a survey version published
//! or made public) empties every such cache at once ([`changed`]); a write made by
//! another process on the same database (a second replica, the command line) is seen within
//! [`FRESH_FOR`].

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rusqlite::types::ValueRef;
use rusqlite::{Connection, OptionalExtension, Row};
use sea_orm::{DatabaseConnection, DbErr};
use uuid::Uuid;

use super::entities::api_key;
use super::entities::survey::STATUS_PUBLISHED;
use super::keys::KeyStore;
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

/// How long a key or survey version found stays in the cache. It bounds how long a change
/// made by another process (a key revoked through another replica or the command line) takes
/// to be seen here; changes made through this process are seen at once.
pub const FRESH_FOR: Duration = Duration::from_secs(1);

/// Names kept per cache at most; a full cache starts over (unknown names are never kept).
const CACHED_NAMES: usize = 1024;

/// Writes to keys or surveys made by this process so far (see [`changed`]).
static WRITES: AtomicU64 = AtomicU64::new(0);

/// Empties every lookup cache of this process. Call it once a change to a key or a survey
/// version is committed (not before: a read in between would keep the old row), and before
/// the change is acknowledged.
pub fn changed() {
    WRITES.fetch_add(1, Ordering::AcqRel);
}

/// Where the per-submission reads are answered.
#[derive(Debug, Clone)]
pub struct Lookups {
    /// The SQLite file, when the database is one on disk.
    sqlite_file: Option<Arc<Path>>,
    keys: Arc<Mutex<Recent<api_key::Model>>>,
    targets: Arc<Mutex<Recent<(i32, bool)>>>,
}

impl Lookups {
    pub fn new(db: &DatabaseConnection) -> Self {
        Self {
            sqlite_file: crate::store::Backend::of(db).sqlite_file().map(Into::into),
            keys: Arc::default(),
            targets: Arc::default(),
        }
    }

    /// The key with this prefix, if any.
    pub async fn key_by_prefix(
        &self,
        db: &DatabaseConnection,
        prefix: &str,
    ) -> Result<Option<api_key::Model>, DbErr> {
        self.cached(
            &self.keys,
            prefix,
            |c| {
                c.prepare_cached(KEY_BY_PREFIX)?
                    .query_row([prefix], |row| Ok(key_row(row)))
                    .optional()
            },
            KeyStore::by_prefix(db, prefix),
        )
        .await
    }

    /// The id and `public` flag of the latest published version of `slug`.
    pub async fn latest_published_target(
        &self,
        db: &DatabaseConnection,
        slug: &str,
    ) -> Result<Option<(i32, bool)>, DbErr> {
        self.cached(
            &self.targets,
            slug,
            |c| {
                c.prepare_cached(LATEST_PUBLISHED)?
                    .query_row([slug, STATUS_PUBLISHED], |row| Ok(target_row(row)))
                    .optional()
            },
            SurveyQuery::latest_published_target(db, slug),
        )
        .await
    }

    /// `name`'s value from `cache` while fresh; else read on this thread's SQLite connection
    /// (`local`), or through the pool (`pool`, only awaited when there is no file or the local
    /// read failed), and kept.
    async fn cached<T: Clone>(
        &self,
        cache: &Mutex<Recent<T>>,
        name: &str,
        local: impl FnOnce(&Connection) -> rusqlite::Result<Option<Result<T, String>>>,
        pool: impl Future<Output = Result<Option<T>, DbErr>>,
    ) -> Result<Option<T>, DbErr> {
        let read = match recall(cache, name, &WRITES) {
            Ok(found) => return Ok(Some(found)),
            Err(read) => read,
        };
        let found = match self.local(local) {
            Some(found) => found,
            None => pool.await?,
        };
        keep(cache, name, &found, read, &WRITES);
        Ok(found)
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

/// Values found, by name, each with when its read began; all of them read after the
/// `writes`-th change.
#[derive(Debug)]
struct Recent<T> {
    writes: u64,
    found: HashMap<String, (Instant, T)>,
}

impl<T> Default for Recent<T> {
    fn default() -> Self {
        Self {
            writes: 0,
            found: HashMap::new(),
        }
    }
}

/// When a read began: the instant and the changes made before it.
#[derive(Debug, Clone, Copy)]
struct Read {
    at: Instant,
    writes: u64,
}

/// The fresh cached value of `name`, or when the read that replaces it begins; `writes`
/// counts the changes ([`WRITES`]).
fn recall<T: Clone>(cache: &Mutex<Recent<T>>, name: &str, writes: &AtomicU64) -> Result<T, Read> {
    // Loaded before the instant: a change made after this load makes the read's result
    // unfit to keep, whatever the read saw.
    let writes = writes.load(Ordering::Acquire);
    let read = Read {
        at: Instant::now(),
        writes,
    };
    let Ok(mut recent) = cache.lock() else {
        return Err(read);
    };
    if recent.writes != writes {
        recent.found.clear();
        recent.writes = writes;
        return Err(read);
    }
    match recent.found.get(name) {
        Some((at, value)) if read.at.duration_since(*at) < FRESH_FOR => Ok(value.clone()),
        _ => Err(read),
    }
}

/// Keeps what a read that began at `read` found, unless something changed since it began.
fn keep<T: Clone>(
    cache: &Mutex<Recent<T>>,
    name: &str,
    found: &Option<T>,
    read: Read,
    writes: &AtomicU64,
) {
    let Some(value) = found else { return };
    let Ok(mut recent) = cache.lock() else { return };
    if writes.load(Ordering::Acquire) != read.writes || recent.writes != read.writes {
        return;
    }
    if recent.found.len() >= CACHED_NAMES && !recent.found.contains_key(name) {
        recent.found.clear();
    }
    recent
        .found
        .insert(name.to_owned(), (read.at, value.clone()));
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A cache and its own change counter, so that tests running at once do not disturb it.
    fn cache() -> (Mutex<Recent<u32>>, AtomicU64) {
        (Mutex::default(), AtomicU64::new(0))
    }

    #[test]
    fn a_value_found_is_recalled_while_fresh() {
        let (cache, writes) = cache();
        let read = recall(&cache, "a", &writes).unwrap_err();
        keep(&cache, "a", &Some(7), read, &writes);
        assert_eq!(recall(&cache, "a", &writes).ok(), Some(7));
        assert!(recall(&cache, "b", &writes).is_err());
    }

    #[test]
    fn nothing_found_is_not_kept() {
        let (cache, writes) = cache();
        let read = recall(&cache, "a", &writes).unwrap_err();
        keep(&cache, "a", &None, read, &writes);
        assert!(recall(&cache, "a", &writes).is_err());
        assert!(cache.lock().unwrap().found.is_empty());
    }

    #[test]
    fn a_change_forgets_every_value() {
        let (cache, writes) = cache();
        for name in ["a", "b"] {
            let read = recall(&cache, name, &writes).unwrap_err();
            keep(&cache, name, &Some(1), read, &writes);
        }
        writes.fetch_add(1, Ordering::AcqRel);
        assert!(recall(&cache, "a", &writes).is_err());
        assert!(recall(&cache, "b", &writes).is_err());
        assert!(cache.lock().unwrap().found.is_empty());
    }

    #[test]
    fn a_read_overtaken_by_a_change_is_not_kept() {
        let (cache, writes) = cache();
        let read = recall(&cache, "a", &writes).unwrap_err();
        // The change commits while the read runs: what the read saw may be the old row.
        writes.fetch_add(1, Ordering::AcqRel);
        keep(&cache, "a", &Some(1), read, &writes);
        assert!(recall(&cache, "a", &writes).is_err());
        // A read begun after the change is kept.
        let read = recall(&cache, "a", &writes).unwrap_err();
        keep(&cache, "a", &Some(2), read, &writes);
        assert_eq!(recall(&cache, "a", &writes).ok(), Some(2));
    }

    #[test]
    fn a_value_older_than_fresh_for_is_read_again() {
        let (cache, writes) = cache();
        let mut read = recall(&cache, "a", &writes).unwrap_err();
        read.at = Instant::now()
            .checked_sub(FRESH_FOR + Duration::from_millis(1))
            .unwrap();
        keep(&cache, "a", &Some(1), read, &writes);
        assert!(recall(&cache, "a", &writes).is_err());
    }

    #[test]
    fn a_full_cache_starts_over() {
        let (cache, writes) = cache();
        for n in 0..=CACHED_NAMES {
            let name = n.to_string();
            let read = recall(&cache, &name, &writes).unwrap_err();
            keep(&cache, &name, &Some(1), read, &writes);
        }
        let recent = cache.lock().unwrap();
        assert_eq!(recent.found.len(), 1);
        assert!(recent.found.contains_key(&CACHED_NAMES.to_string()));
    }
}
