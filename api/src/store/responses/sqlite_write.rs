//! The write path of a group commit on a SQLite file: one `rusqlite` connection owned by the
//! writer thread, statements prepared once, one row per statement.
//!
//! SQLite has one writer at a time and `BEGIN IMMEDIATE` takes the write lock before anything
//! is read, so inside the transaction nothing else can take an idempotency key: each item is
//! decided by one lookup of its key (a replay, a reuse, or new), then its firm is upserted and
//! its row inserted. Every request runs in a savepoint of its own and stays all or nothing.
//! Values are stored in the forms the pool's driver writes (UUIDs as 16-byte blobs, RFC 3339
//! timestamps, JSON text), so both paths read each other's rows.

use std::cell::Cell;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OptionalExtension, Row, TransactionBehavior, params};
use sea_orm::DbErr;
use uuid::Uuid;

use super::{NewResponse, Outcome, Stored, compare};
use crate::domain::idempotency::legacy_form;
use crate::domain::tombstone::TombstoneKey;
use crate::store::entities::response;
use crate::store::sqlite_values::{column, datetime, integer, real, text, uuid};
use known_firms::{Firm, FirmsSeen, KnownFirms};

mod known_firms;

const STORED_BY_KEY: &str = "SELECT r.id, r.survey_id, r.firm_id, r.answers, r.industry, \
     r.size_band, r.country, r.region, r.tier, r.tier_rank, r.ready_to_customise, r.blockers, \
     r.score_maturity, r.score_clarity, r.score_vendor_gap, r.score_capability, \
     r.score_governance, r.rubric_version, r.submitted_at, r.received_at, r.source, \
     r.idempotency_key, r.payload_hash, f.external_ref \
     FROM responses r JOIN firms f ON f.id = r.firm_id WHERE r.idempotency_key = ?1";

const TOMBSTONE: &str = "SELECT 1 FROM erasure_tombstones WHERE digest = ?1";

/// A range of the unique index on `idempotency_key`: `legacy ` up to `legacy!`.
const LEGACY_KEYS: &str = "SELECT 1 FROM responses \
     WHERE idempotency_key >= 'legacy ' AND idempotency_key < 'legacy!' LIMIT 1";

const FIRM_BY_REF: &str =
    "SELECT id, industry, size_band, country, region FROM firms WHERE external_ref = ?1";

const INSERT_FIRM: &str = "INSERT INTO firms (id, external_ref, industry, size_band, country, \
     region, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)";

/// The same parameters as [`INSERT_FIRM`].
const UPDATE_FIRM: &str = "UPDATE firms SET industry = ?3, size_band = ?4, country = ?5, \
     region = ?6, updated_at = ?7 WHERE id = ?1 AND external_ref = ?2";

const INSERT_RESPONSE: &str = "INSERT INTO responses (id, survey_id, firm_id, answers, industry, \
     size_band, country, region, tier, tier_rank, ready_to_customise, blockers, score_maturity, \
     score_clarity, score_vendor_gap, score_capability, score_governance, rubric_version, \
     submitted_at, received_at, source, idempotency_key, payload_hash) VALUES (?1, ?2, ?3, ?4, \
     ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23) \
     ON CONFLICT (idempotency_key) DO NOTHING";

/// Bytes the WAL file is cut back to when it starts over after a checkpoint.
const WAL_SIZE_LIMIT: i64 = 64 << 20;

/// WAL pages (32 MiB) past which the writer checkpoints itself between two transactions, so
/// that the WAL can start over: under a load that never pauses, the [`Checkpointer`] never
/// catches up with the writer, and the WAL would grow without end.
const RESTART_AFTER: i64 = 8_192;

/// The writer's page cache (KiB). Every row touches a few index pages at random places
/// (firms by reference, responses by firm); with SQLite's default 2 MiB they are read back
/// from the WAL or the file again and again (14 % of the writer's time in a profile). The
/// cache is not simply made large: as long as the file is under 1 GiB, each commit that
/// split a b-tree page scans the whole cache's hash table (SQLite swaps page numbers through
/// the lock-byte page's number, 262,145, which makes the cache look larger than the file),
/// which took 17 % of the writer's time with 64 MiB. 16 MiB measured best: 0.4 % reads, 5 %
/// scans.
const WRITER_CACHE_KIB: i64 = 16 * 1024;

/// The writer's connection.
#[derive(Debug)]
pub struct SqliteWriter {
    connection: Connection,
    /// Pages in the WAL at the checkpointer's last look.
    wal_pages: Arc<AtomicI64>,
    /// Firms this connection has stored or read, with their attributes.
    known_firms: KnownFirms,
    /// Whether any row has a key from before keys were scoped. No such row is ever written
    /// again, so when there is none at start, a new key needs one look-up, not two.
    legacy_keys: bool,
    /// Hashes a new firm's reference and key into the digests erasures leave behind.
    tombstones: TombstoneKey,
}

impl SqliteWriter {
    /// Opens the file for writing (see [`open`]). Its commits do not checkpoint: a
    /// [`Checkpointer`] on another thread does.
    pub fn open(path: &Path, tombstones: TombstoneKey) -> rusqlite::Result<Self> {
        let connection = open(path)?;
        connection.pragma_update(None, "wal_autocheckpoint", 0)?;
        connection.pragma_update(None, "journal_size_limit", WAL_SIZE_LIMIT)?;
        connection.pragma_update(None, "cache_size", -WRITER_CACHE_KIB)?;
        // A file without the table yet (a test's own file) has no such rows either.
        let legacy_keys = match connection
            .prepare(LEGACY_KEYS)
            .and_then(|mut s| s.exists([]))
        {
            Ok(found) => found,
            Err(error) if error.to_string().contains("no such table") => false,
            Err(error) => return Err(error),
        };
        Ok(Self {
            connection,
            wal_pages: Arc::default(),
            known_firms: KnownFirms::default(),
            legacy_keys,
            tombstones,
        })
    }

    /// A checkpointer for the same file, to run on another thread.
    pub fn checkpointer(&self, path: &Path) -> anyhow::Result<Checkpointer> {
        Ok(Checkpointer {
            connection: open(path)?,
            database: std::fs::File::open(path)?,
            synced_through: Cell::new(0),
            wal_pages: self.wal_pages.clone(),
        })
    }

    /// Once the WAL is long, copies what the checkpointer has not yet copied (little: it
    /// runs all the time), so the next transaction starts the WAL over. Never waits for a
    /// lock; call it between transactions, after the requests are answered.
    pub fn restart_wal_if_long(&self) {
        if self.wal_pages.load(Ordering::Relaxed) < RESTART_AFTER {
            return;
        }
        match passive_checkpoint(&self.connection) {
            Ok((pages, copied)) if pages == copied => self.wal_pages.store(0, Ordering::Relaxed),
            Ok(_) => {}
            Err(error) => tracing::debug!(%error, "the writer's checkpoint did not run"),
        }
    }

    /// Stores the groups in ONE transaction; one result per group (see
    /// [`super::ResponseStore::insert_groups`]). The outer error means nothing was stored.
    ///
    /// The groups are first written one after another with no savepoints, which is what a
    /// commit costs least with. Should the database refuse any row, that transaction is
    /// rolled back and the groups are written again, each in a savepoint of its own, so the
    /// refused request fails alone and the others are stored.
    pub fn write_groups(
        &mut self,
        groups: Vec<Vec<NewResponse>>,
    ) -> Result<Vec<Result<Vec<Outcome>, DbErr>>, DbErr> {
        let decided = match self.write_together(&groups) {
            Ok(decided) => decided,
            Err(error) => {
                tracing::warn!(%error, requests = groups.len(), "a shared write failed; writing each request on its own");
                self.write_apart(&groups).map_err(db_err)?
            }
        };
        Ok(groups
            .into_iter()
            .zip(decided)
            .map(|(group, decided)| decided.map(|decided| settle(group, decided)))
            .collect())
    }

    fn write_together(
        &mut self,
        groups: &[Vec<NewResponse>],
    ) -> Result<Vec<Result<Vec<Decided>, DbErr>>, Failure> {
        let legacy = self.legacy_keys;
        let transaction = self
            .connection
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        self.known_firms.sync(&transaction)?;
        let mut firms = FirmsSeen::new(&self.known_firms);
        let decided = groups
            .iter()
            .map(|group| {
                decide_group(
                    &transaction,
                    Some(&mut firms),
                    legacy,
                    &self.tombstones,
                    group,
                )
                .map(Ok)
            })
            .collect::<Result<Vec<_>, Failure>>()?;
        let seen = firms.finish();
        transaction.commit()?;
        self.known_firms.learn(seen);
        Ok(decided)
    }

    /// Known firms are forgotten first, and neither used nor learned here: a request rolled
    /// back to its savepoint may have written one.
    fn write_apart(
        &mut self,
        groups: &[Vec<NewResponse>],
    ) -> Result<Vec<Result<Vec<Decided>, DbErr>>, Failure> {
        self.known_firms.forget();
        let legacy = self.legacy_keys;
        let mut transaction = self
            .connection
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut results = Vec::with_capacity(groups.len());
        for group in groups {
            // Dropping a savepoint without committing it rolls it back.
            let savepoint = transaction.savepoint()?;
            match decide_group(&savepoint, None, legacy, &self.tombstones, group) {
                Ok(decided) => {
                    savepoint.commit()?;
                    results.push(Ok(decided));
                }
                Err(error) => {
                    drop(savepoint);
                    results.push(Err(db_err(error)));
                }
            }
        }
        transaction.commit()?;
        Ok(results)
    }
}

/// What the transaction did with one item.
#[derive(Debug)]
enum Decided {
    /// Inserted, with this firm id.
    Created(Uuid),
    /// Not written: a replay or a reused key (boxed: a replay holds a whole row).
    Known(Box<Outcome>),
}

/// The outcomes of a committed group; the rows move into them.
fn settle(group: Vec<NewResponse>, decided: Vec<Decided>) -> Vec<Outcome> {
    group
        .into_iter()
        .zip(decided)
        .map(|(new, decided)| match decided {
            Decided::Created(firm_id) => Outcome::Created(Stored {
                row: response::Model { firm_id, ..new.row },
                firm_ref: new.firm_ref,
            }),
            Decided::Known(outcome) => *outcome,
        })
        .collect()
}

/// A read-write connection with the pool's settings: WAL, `synchronous = FULL` (a commit
/// survives a crash or power loss), foreign keys on, a 30 s wait for the lock.
fn open(path: &Path) -> rusqlite::Result<Connection> {
    let connection = Connection::open(path)?;
    connection.busy_timeout(Duration::from_secs(30))?;
    connection.pragma_update(None, "journal_mode", "wal")?;
    connection.pragma_update(None, "synchronous", "full")?;
    connection.pragma_update(None, "foreign_keys", "on")?;
    connection.pragma_update(None, "temp_store", "memory")?;
    connection.pragma_update(None, "secure_delete", "on")?;
    Ok(connection)
}

/// Why a request's rows were not written.
#[derive(Debug, thiserror::Error)]
enum Failure {
    #[error("SQLite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("decoding a stored response: {0}")]
    Decode(String),
    #[error("encoding a response: {0}")]
    Encode(String),
    #[error("idempotency key {0:?} was taken while the write lock was held")]
    KeyTaken(Option<String>),
}

fn db_err(error: impl Into<Failure>) -> DbErr {
    DbErr::Custom(error.into().to_string())
}

fn decide_group(
    connection: &Connection,
    mut firms: Option<&mut FirmsSeen<'_>>,
    legacy_keys: bool,
    tombstones: &TombstoneKey,
    group: &[NewResponse],
) -> Result<Vec<Decided>, Failure> {
    group
        .iter()
        .map(|new| {
            if let Some(key) = &new.row.idempotency_key
                && let Some(stored) = stored_by_key(connection, key, legacy_keys)?
            {
                return Ok(Decided::Known(Box::new(compare(&stored, &new.row))));
            }
            let Some(firm_id) = upsert_firm(connection, firms.as_deref_mut(), tombstones, new)?
            else {
                return Ok(Decided::Known(Box::new(Outcome::Erased)));
            };
            if insert_response(connection, &new.row, firm_id)? == 0 {
                // The write lock is held since the key was looked up; only a broken lock
                // could get here, and then the request must not be acknowledged.
                return Err(Failure::KeyTaken(new.row.idempotency_key.clone()));
            }
            Ok(Decided::Created(firm_id))
        })
        .collect()
}

/// The firm's id: a new firm is inserted, a known one keeps its id and takes the submitted
/// attributes; a known firm whose attributes did not change is not written (as
/// `firm_upsert` does on the pool), and is not even read when `firms` knows it.
///
/// `None` when the firm is new and a tombstone says it (or the request's key) was erased:
/// an erased firm has no row, so only new firms need the look-up, and the write lock is held
/// from the look-up to the commit.
fn upsert_firm(
    connection: &Connection,
    firms: Option<&mut FirmsSeen<'_>>,
    tombstones: &TombstoneKey,
    new: &NewResponse,
) -> Result<Option<Uuid>, Failure> {
    let row = &new.row;
    if let Some(id) = firms
        .as_ref()
        .and_then(|firms| firms.unchanged(&new.firm_ref, row))
    {
        return Ok(Some(id));
    }
    let stored = connection
        .prepare_cached(FIRM_BY_REF)?
        .query_row([&new.firm_ref], |found| {
            Ok((|| {
                let region = match column(found, 4)? {
                    ValueRef::Null => None,
                    other => Some(text(other)?),
                };
                Ok::<_, String>(Firm::stored(
                    Uuid::from_u128(uuid(column(found, 0)?)?),
                    text(column(found, 1)?)?,
                    text(column(found, 2)?)?,
                    text(column(found, 3)?)?,
                    region,
                ))
            })())
        })
        .optional()?
        .transpose()
        .map_err(Failure::Decode)?;
    let (firm, statement) = match stored {
        Some(firm) if firm.matches(row) => (firm, None),
        Some(firm) => (Firm::submitted(firm.id, row), Some(UPDATE_FIRM)),
        None if erased(
            connection,
            &tombstones.marks(&new.firm_ref, row.idempotency_key.as_deref()),
        )? =>
        {
            return Ok(None);
        }
        None => (Firm::submitted(Uuid::now_v7(), row), Some(INSERT_FIRM)),
    };
    let id = firm.id;
    if let Some(statement) = statement {
        write_firm(connection, statement, id, new)?;
    }
    if let Some(firms) = firms {
        firms.saw(&new.firm_ref, firm);
    }
    Ok(Some(id))
}

/// Whether any of these digests has a tombstone.
fn erased(connection: &Connection, marks: &[String]) -> Result<bool, Failure> {
    let mut statement = connection.prepare_cached(TOMBSTONE)?;
    for mark in marks {
        if statement.exists([mark])? {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Runs [`INSERT_FIRM`] or [`UPDATE_FIRM`].
fn write_firm(
    connection: &Connection,
    statement: &str,
    id: Uuid,
    new: &NewResponse,
) -> Result<(), Failure> {
    let row = &new.row;
    connection.prepare_cached(statement)?.execute(params![
        id.as_bytes().as_slice(),
        new.firm_ref,
        row.industry,
        row.size_band,
        row.country,
        row.region,
        timestamp(row.received_at),
    ])?;
    Ok(())
}

fn insert_response(
    connection: &Connection,
    row: &response::Model,
    firm_id: Uuid,
) -> Result<usize, Failure> {
    // serde_json's writer is the same compact text as `Display`, without its `fmt` detour.
    let json = |value| serde_json::to_string(value).map_err(|e| Failure::Encode(e.to_string()));
    let (answers, blockers) = (json(&row.answers)?, json(&row.blockers)?);
    Ok(connection
        .prepare_cached(INSERT_RESPONSE)?
        .execute(params![
            row.id.as_bytes().as_slice(),
            row.survey_id,
            firm_id.as_bytes().as_slice(),
            answers,
            row.industry,
            row.size_band,
            row.country,
            row.region,
            row.tier,
            row.tier_rank,
            row.ready_to_customise,
            blockers,
            row.score_maturity,
            row.score_clarity,
            row.score_vendor_gap,
            row.score_capability,
            row.score_governance,
            row.rubric_version,
            timestamp(row.submitted_at),
            timestamp(row.received_at),
            row.source,
            row.idempotency_key,
            row.payload_hash,
        ])?)
}

/// The response stored under this key, or under its form from before keys were scoped (when
/// there are such rows).
fn stored_by_key(
    connection: &Connection,
    key: &str,
    legacy_keys: bool,
) -> Result<Option<Stored>, Failure> {
    let mut statement = connection.prepare_cached(STORED_BY_KEY)?;
    let mut find = |key: &str| {
        statement
            .query_row([key], |row| Ok(stored_row(row)))
            .optional()?
            .transpose()
            .map_err(Failure::Decode)
    };
    match find(key)? {
        Some(stored) => Ok(Some(stored)),
        None => match legacy_form(key).filter(|_| legacy_keys) {
            Some(legacy) => find(&legacy),
            None => Ok(None),
        },
    }
}

/// As the pool's driver writes a `DateTime<Utc>`.
fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::AutoSi, false)
}

fn stored_row(row: &Row<'_>) -> Result<Stored, String> {
    let value = |index: usize| column(row, index);
    let owned = |index: usize| value(index).and_then(|v| text(v).map(str::to_owned));
    let optional = |index: usize| match value(index)? {
        ValueRef::Null => Ok(None),
        other => text(other).map(|t| Some(t.to_owned())),
    };
    let json = |index: usize| {
        value(index).and_then(|v| {
            let raw = match v {
                ValueRef::Blob(bytes) => std::str::from_utf8(bytes).map_err(|e| e.to_string())?,
                other => text(other)?,
            };
            serde_json::from_str(raw).map_err(|e| format!("column {index}: {e}"))
        })
    };
    let stored = response::Model {
        id: Uuid::from_u128(uuid(value(0)?)?),
        survey_id: i32::try_from(integer(value(1)?)?).map_err(|e| format!("survey_id: {e}"))?,
        firm_id: Uuid::from_u128(uuid(value(2)?)?),
        answers: json(3)?,
        industry: owned(4)?,
        size_band: owned(5)?,
        country: owned(6)?,
        region: optional(7)?,
        tier: owned(8)?,
        tier_rank: i16::try_from(integer(value(9)?)?).map_err(|e| format!("tier_rank: {e}"))?,
        ready_to_customise: integer(value(10)?)? != 0,
        blockers: json(11)?,
        score_maturity: real(value(12)?)?,
        score_clarity: real(value(13)?)?,
        score_vendor_gap: real(value(14)?)?,
        score_capability: real(value(15)?)?,
        score_governance: real(value(16)?)?,
        rubric_version: owned(17)?,
        submitted_at: datetime(value(18)?)?,
        received_at: datetime(value(19)?)?,
        source: owned(20)?,
        idempotency_key: optional(21)?,
        payload_hash: optional(22)?,
    };
    Ok(Stored {
        row: stored,
        firm_ref: owned(23)?,
    })
}

/// Copies committed pages from the WAL into the database file on a thread of its own.
///
/// Left to the writer, every thousandth page would make one commit copy the WAL back and
/// `fsync` the database file while every request in the queue waits. A passive checkpoint
/// takes no lock that the writer or readers need, so here it costs them nothing; the writer
/// only copies the few pages left when the WAL is to start over ([`RESTART_AFTER`]).
///
/// Under a load that never pauses, a passive checkpoint seldom ends before the next commit,
/// and SQLite syncs the database file only at a checkpoint that does: then mostly the
/// writer's, before the WAL starts over. That one `fsync` would then write back every page copied since the last
/// restart while the writer waits. So the checkpointer syncs the file itself after each
/// checkpoint that copied pages, and the writer's sync finds little left to write.
#[derive(Debug)]
pub struct Checkpointer {
    connection: Connection,
    /// The database file, to sync what the checkpoints copied into it.
    database: std::fs::File,
    /// WAL frames copied into the database file and synced, as of the last checkpoint.
    synced_through: Cell<i64>,
    wal_pages: Arc<AtomicI64>,
}

impl Checkpointer {
    /// One passive checkpoint, then a sync of the database file if it copied anything;
    /// returns the pages in the WAL and how many of them are copied.
    pub fn checkpoint(&self) -> anyhow::Result<(i64, i64)> {
        let (pages, copied) = passive_checkpoint(&self.connection)?;
        // `copied` counts from the start of the WAL, which starts over after a restart.
        if copied > 0 && copied != self.synced_through.get() {
            self.database.sync_data()?;
            self.synced_through.set(copied);
        }
        // Only now may the writer restart the WAL: its own checkpoint then finds the pages
        // copied here already on disk, instead of waiting on this sync's write-back.
        self.wal_pages.store(pages, Ordering::Relaxed);
        Ok((pages, copied))
    }
}

/// `PRAGMA wal_checkpoint(PASSIVE)`: copies what no reader still needs, waits for nothing.
fn passive_checkpoint(connection: &Connection) -> rusqlite::Result<(i64, i64)> {
    connection.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| {
        Ok((row.get::<_, i64>(1)?, row.get::<_, i64>(2)?))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A new, empty directory for a test's database files.
    pub(super) fn scratch_dir(label: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("readiness-{label}-{}", Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn the_checkpointer_copies_the_wal_and_syncs_what_it_copied_once() {
        let dir = scratch_dir("checkpoint");
        let path = dir.join("r.db");
        let writer = SqliteWriter::open(&path, TombstoneKey::new(b"test").unwrap()).unwrap();
        let checkpointer = writer.checkpointer(&path).unwrap();
        writer
            .connection
            .execute_batch(
                "CREATE TABLE t (x TEXT); \
                 WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200) \
                 INSERT INTO t SELECT hex(randomblob(500)) FROM n;",
            )
            .unwrap();

        let (pages, copied) = checkpointer.checkpoint().unwrap();
        assert!(pages > 0, "the inserts wrote WAL frames");
        assert_eq!(copied, pages, "nothing else reads, so everything is copied");
        assert_eq!(checkpointer.synced_through.get(), copied);
        assert_eq!(writer.wal_pages.load(Ordering::Relaxed), pages);
        let count: i64 = Connection::open(&path)
            .unwrap()
            .query_row("SELECT count(*) FROM t", [], |row| row.get(0))
            .unwrap();
        assert_eq!(count, 200);

        // Nothing new: nothing more to copy or sync.
        assert_eq!(checkpointer.checkpoint().unwrap(), (pages, copied));
        assert_eq!(checkpointer.synced_through.get(), copied);

        // The writer starts the WAL over once it is long and fully copied.
        writer.wal_pages.store(RESTART_AFTER, Ordering::Relaxed);
        writer.restart_wal_if_long();
        assert_eq!(writer.wal_pages.load(Ordering::Relaxed), 0);
        drop((writer, checkpointer));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
