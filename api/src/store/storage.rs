//! Whether the database can be written: storage faults (a full disk, a read-only file or
//! database) told apart from other errors, and a probe that commits a real write.
//!
//! A database that answers reads but refuses writes must not look ready: every submission
//! would fail. So readiness is a write that commits ([`probe`]), at most every
//! [`PROBE_EVERY`], and a storage fault seen by any write keeps the server unready for
//! [`FAULT_HOLDS`] (a small probe can fit where a real write did not).

use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::Utc;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, Statement};

/// How long a probe's success is trusted.
pub const PROBE_EVERY: Duration = Duration::from_secs(5);
/// How long a storage fault of a real write keeps the server unready.
pub const FAULT_HOLDS: Duration = Duration::from_secs(30);

/// What SQLite and PostgreSQL say when storage refuses a write (SQLite's `SQLITE_FULL` and
/// `SQLITE_READONLY` texts, the operating system's, PostgreSQL's `53100 disk_full` and
/// `25006 read_only_sql_transaction`). The drivers' error types do not survive every path
/// (the SQLite writer's errors become text), so the text decides.
const FAULT_TEXTS: [&str; 7] = [
    "database or disk is full",
    "readonly database",
    "read-only file system",
    "no space left on device",
    "could not extend file",
    "read-only transaction",
    "disk quota exceeded",
];

/// Whether an error says the storage refuses writes (rather than the query being wrong).
pub fn is_fault(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut source = Some(error);
    while let Some(error) = source {
        let text = error.to_string().to_ascii_lowercase();
        if FAULT_TEXTS.iter().any(|fault| text.contains(fault)) {
            return true;
        }
        source = error.source();
    }
    false
}

/// Explains a failed connection to a SQLite file whose directory cannot be written (SQLite
/// then cannot create its `-wal` and `-shm` files, and says only "unable to open database
/// file"). Other errors are returned as they are.
pub fn explain_connect_error(url: &str, error: anyhow::Error) -> anyhow::Error {
    let Some(path) = url
        .strip_prefix("sqlite://")
        .map(|rest| rest.split('?').next().unwrap_or(rest))
        .filter(|path| !path.is_empty() && *path != ":memory:")
    else {
        return error;
    };
    let dir = match std::path::Path::new(path).parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let probe = dir.join(format!(".readiness-write-probe-{}", std::process::id()));
    match std::fs::File::create(&probe) {
        Ok(_) => {
            let _ = std::fs::remove_file(&probe);
            error
        }
        Err(io) => anyhow::anyhow!(
            "the database is not writable ({}: {io}); check its disk space and permissions",
            dir.display()
        ),
    }
}

/// Commits one small write: the time of the probe in `storage_probe`.
pub async fn probe(db: &DatabaseConnection) -> Result<(), DbErr> {
    let backend = db.get_database_backend();
    let sql = "INSERT INTO storage_probe (id, probed_at) VALUES (1, $1) \
               ON CONFLICT (id) DO UPDATE SET probed_at = excluded.probed_at";
    let sql = match backend {
        sea_orm::DbBackend::Sqlite => sql.replace("$1", "?"),
        _ => sql.to_owned(),
    };
    let txn = crate::store::db::begin_write(db).await?;
    txn.execute_raw(Statement::from_sql_and_values(
        backend,
        sql,
        [Utc::now().to_rfc3339().into()],
    ))
    .await?;
    txn.commit().await
}

/// What the server knows about its storage.
#[derive(Debug, Default)]
pub struct StorageHealth {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// The last storage fault of a real write: when, and what it said.
    fault: Option<(Instant, String)>,
    /// When a probe last succeeded.
    probed: Option<Instant>,
}

impl StorageHealth {
    /// Records a storage fault of a write.
    pub fn fault(&self, error: &(dyn std::error::Error + 'static)) {
        if let Ok(mut state) = self.state.lock() {
            state.fault = Some((Instant::now(), error.to_string()));
            state.probed = None;
        }
    }

    /// Records a successful write.
    pub fn wrote(&self) {
        if let Ok(mut state) = self.state.lock() {
            if state.fault.is_some() {
                tracing::info!("the database takes writes again");
            }
            state.fault = None;
        }
    }

    /// `Ok` when the database takes writes: no recent fault, and a probe that committed
    /// within [`PROBE_EVERY`] (one is made when needed). `Err` says why not.
    pub async fn check(&self, db: &DatabaseConnection) -> Result<(), String> {
        let (fault, fresh) = {
            let state = self.state.lock().map_err(|_| "poisoned".to_owned())?;
            let fault = state
                .fault
                .as_ref()
                .filter(|(at, _)| at.elapsed() < FAULT_HOLDS)
                .map(|(_, text)| text.clone());
            let fresh = state.probed.is_some_and(|at| at.elapsed() < PROBE_EVERY);
            (fault, fresh)
        };
        if let Some(text) = fault {
            return Err(format!("a write failed: {text}"));
        }
        if fresh {
            return Ok(());
        }
        match probe(db).await {
            Ok(()) => {
                if let Ok(mut state) = self.state.lock() {
                    state.probed = Some(Instant::now());
                }
                Ok(())
            }
            Err(error) => Err(format!("a probe write failed: {error}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_are_told_from_other_errors() {
        for text in [
            "SQLite: database or disk is full",
            "error returned from database: (code: 8) attempt to write a readonly database",
            "could not extend file \"base/16384/2619\": No space left on device",
            "cannot execute INSERT in a read-only transaction",
        ] {
            assert!(is_fault(&DbErr::Custom(text.to_owned())), "{text}");
        }
        assert!(!is_fault(&DbErr::Custom(
            "UNIQUE constraint failed: responses.id".to_owned()
        )));
    }
}
