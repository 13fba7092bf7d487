//! The change feed: one row per stored response (`response.created`) and per erasure
//! (`firm.erased`), in the order the database commits them, for incremental sync.
//!
//! A trigger on `responses` writes each `response.created` row in the transaction that
//! stores the response, whichever path stores it (the pool, the SQLite writer, imports), so
//! a row is in the feed exactly when its response is committed. The erasure writes its own
//! row and removes the erased responses' `response.created` rows in its transaction.
//!
//! The position of a row is `(txid, seq)`. On SQLite one writer commits at a time and `seq`
//! (`AUTOINCREMENT`, never reused) is in commit order; `txid` is 0. On PostgreSQL
//! transactions commit in parallel, so a smaller `seq` may commit later; `txid` is the
//! writing transaction's id, and readers take only rows of transactions older than every
//! transaction still running (`pg_snapshot_xmin`), whose order can no longer change.
//!
//! Existing responses enter the feed in receipt order.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

const SQLITE_UP: &[&str] = &[
    "CREATE TABLE changes (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        txid INTEGER NOT NULL DEFAULT 0,
        kind TEXT NOT NULL,
        response_id BLOB,
        firm_id BLOB,
        response_ids TEXT,
        at TEXT NOT NULL
    )",
    "CREATE INDEX ix_changes_firm ON changes (firm_id) WHERE kind = 'response.created'",
    "CREATE TRIGGER changes_response_created AFTER INSERT ON responses BEGIN
        INSERT INTO changes (kind, response_id, firm_id, at)
        VALUES ('response.created', NEW.id, NEW.firm_id, NEW.received_at);
    END",
    "INSERT INTO changes (kind, response_id, firm_id, at)
        SELECT 'response.created', id, firm_id, received_at FROM responses
        ORDER BY received_at, id",
];

const SQLITE_DOWN: &[&str] = &[
    "DROP TRIGGER IF EXISTS changes_response_created",
    "DROP TABLE IF EXISTS changes",
];

const POSTGRES_UP: &[&str] = &[
    "CREATE TABLE changes (
        seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        txid BIGINT NOT NULL DEFAULT (pg_current_xact_id()::text::bigint),
        kind TEXT NOT NULL,
        response_id UUID,
        firm_id UUID,
        response_ids JSONB,
        at TIMESTAMPTZ NOT NULL
    )",
    "CREATE INDEX ix_changes_position ON changes (txid, seq)",
    "CREATE INDEX ix_changes_firm ON changes (firm_id) WHERE kind = 'response.created'",
    // One statement per INSERT, whatever its number of rows.
    "CREATE FUNCTION changes_response_created() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO changes (kind, response_id, firm_id, at)
        SELECT 'response.created', id, firm_id, received_at FROM inserted
        ORDER BY received_at, id;
        RETURN NULL;
    END
    $$",
    "CREATE TRIGGER changes_response_created AFTER INSERT ON responses
        REFERENCING NEW TABLE AS inserted
        FOR EACH STATEMENT EXECUTE FUNCTION changes_response_created()",
    "INSERT INTO changes (kind, response_id, firm_id, at)
        SELECT 'response.created', id, firm_id, received_at FROM responses
        ORDER BY received_at, id",
];

const POSTGRES_DOWN: &[&str] = &[
    "DROP TRIGGER IF EXISTS changes_response_created ON responses",
    "DROP FUNCTION IF EXISTS changes_response_created()",
    "DROP TABLE IF EXISTS changes",
];

async fn run(manager: &SchemaManager<'_>, statements: &[&str]) -> Result<(), DbErr> {
    let db = manager.get_connection();
    for statement in statements {
        db.execute_unprepared(statement).await?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        match manager.get_database_backend() {
            DbBackend::Sqlite => run(manager, SQLITE_UP).await,
            _ => run(manager, POSTGRES_UP).await,
        }
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        match manager.get_database_backend() {
            DbBackend::Sqlite => run(manager, SQLITE_DOWN).await,
            _ => run(manager, POSTGRES_DOWN).await,
        }
    }
}
