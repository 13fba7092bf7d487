//! The store: sea-orm entities and every query, in one place (no SQL in handlers), and the
//! group-commit writer submissions are stored through.
//!
//! **Architecture Invariant:** the store knows nothing of HTTP, the command line or the
//! services above it.

pub mod audit;
pub mod changes;
pub mod db;
pub mod drafts;
pub mod entities;
pub mod export_rows;
pub mod firms;
pub mod ingest;
pub mod keys;
pub mod lookups;
pub mod populations;
pub mod report_rows;
pub mod responses;
pub mod secrets;
pub mod share_links;
mod sql;
pub mod sqlite_values;
pub mod storage;
pub mod surveys;
pub mod tombstones;
pub mod webhooks;

use std::path::PathBuf;

use sea_orm::{DatabaseConnection, DbBackend};

/// Which database a connection is on, decided once: the SQLite paths that bypass the pool
/// (the submission writer, the per-thread lookups, the report scan) need a file on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Backend {
    /// A SQLite database in a file.
    SqliteFile(PathBuf),
    /// A SQLite database with no file (in memory).
    SqliteMemory,
    Postgres,
}

impl Backend {
    pub fn of(db: &DatabaseConnection) -> Self {
        match db.get_database_backend() {
            DbBackend::Sqlite => {
                let options = db.get_sqlite_connection_pool().connect_options();
                let path = options.get_filename();
                if path.is_file() {
                    Backend::SqliteFile(path.to_path_buf())
                } else {
                    Backend::SqliteMemory
                }
            }
            _ => Backend::Postgres,
        }
    }

    /// The database file, on SQLite on disk.
    pub fn sqlite_file(&self) -> Option<&std::path::Path> {
        match self {
            Backend::SqliteFile(path) => Some(path),
            _ => None,
        }
    }
}
