//! Database connection: SQLite (embedded default) or PostgreSQL.

use std::time::Duration;

use anyhow::Context;
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, Database, DatabaseConnection, DatabaseTransaction, DbErr,
    SqliteTransactionMode, TransactionOptions, TransactionTrait,
};

/// Connects and configures the pool. SQLite runs in WAL mode with `synchronous = FULL`, so a
/// committed transaction survives a crash or power loss, and waits for the write lock instead
/// of failing at once.
pub async fn connect(url: &str) -> anyhow::Result<DatabaseConnection> {
    connect_pool(url, if is_sqlite(url) { 8 } else { 16 }).await
}

/// Whether the URL names an SQLite database.
pub fn is_sqlite(url: &str) -> bool {
    url.starts_with("sqlite:")
}

/// Connects a pool of at most `connections`, configured as [`connect`] does; the response
/// writers get their own, so they never queue behind readers for a connection.
pub async fn connect_pool(url: &str, connections: u32) -> anyhow::Result<DatabaseConnection> {
    if !is_sqlite(url) {
        probe(url).await?;
    }
    let mut options = ConnectOptions::new(url);
    options
        .sqlx_logging(false)
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(30))
        .max_connections(connections)
        .map_sqlx_sqlite_opts(|sqlite| {
            sqlite
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .busy_timeout(Duration::from_secs(30))
                .foreign_keys(true)
                // A statement that writes many rows inside a transaction keeps a statement
                // journal; in memory that is not a temporary file opened per statement.
                .pragma("temp_store", "memory")
                // Deleted rows are overwritten, not left in free pages: an erased firm's
                // reference and answers must not survive in the file.
                .pragma("secure_delete", "on")
        });
    Database::connect(options)
        .await
        .with_context(|| format!("cannot connect to the database at {}", redact(url)))
}

/// How long the first connection to a PostgreSQL server may take.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

/// Opens and closes one connection, so that a server that is down or refuses the
/// credentials is reported at once with its cause, not as a pool that timed out waiting.
async fn probe(url: &str) -> anyhow::Result<()> {
    use sea_orm::sqlx::{Connection, PgConnection};
    let cannot = || format!("cannot connect to the database at {}", redact(url));
    let connection = tokio::time::timeout(PROBE_TIMEOUT, PgConnection::connect(url))
        .await
        .map_err(|_| anyhow::anyhow!("no answer within {PROBE_TIMEOUT:?}"))
        .with_context(cannot)?
        .with_context(cannot)?;
    connection.close().await.with_context(cannot)
}

/// Starts a transaction that will write. On SQLite it takes the write lock at once
/// (`BEGIN IMMEDIATE`), so a concurrent writer waits up to the busy timeout; a transaction
/// begun as a reader and upgraded on its first write would fail at once with "database is
/// locked" instead. PostgreSQL ignores the mode.
pub async fn begin_write(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..TransactionOptions::default()
    })
    .await
}

/// The URL without its password, for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &url[scheme_end + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn passwords_are_hidden() {
        assert_eq!(
            redact("postgres://app:s3cret@db:5432/readiness"),
            "postgres://app:***@db:5432/readiness"
        );
        assert_eq!(redact("postgres://app@db/r"), "postgres://app@db/r");
        assert_eq!(
            redact("sqlite://readiness.db?mode=rwc"),
            "sqlite://readiness.db?mode=rwc"
        );
    }
}
