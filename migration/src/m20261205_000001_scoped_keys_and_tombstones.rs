//! Idempotency keys become scoped to whoever sent them, and erasures leave tombstones.
//!
//! A stored idempotency key is `<scope> <key>`: the id of the API key that sent the request,
//! or `public` for a public survey answered without a key, then the client's key (visible
//! ASCII, so it has no space). Rows stored before this migration cannot be attributed to a
//! key and become `legacy <key>`; a retry of such a request still finds its response. The
//! column widens to hold the scope.
//!
//! `erasure_tombstones` holds, for a while after a firm is erased, keyed hashes (HMAC-SHA256,
//! hex) of its reference and of its responses' idempotency keys, never the values, so that a
//! replay of an erased firm's submission is refused instead of storing the firm again.
//!
//! `storage_probe` holds one row that readiness checks and the start rewrite, to prove that
//! the database takes writes.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// 36 characters of scope, a space and 255 of key, with room to spare.
const POSTGRES_WIDEN: &str = "ALTER TABLE responses ALTER COLUMN idempotency_key TYPE varchar(320)";
const POSTGRES_NARROW: &str =
    "ALTER TABLE responses ALTER COLUMN idempotency_key TYPE varchar(255)";

const TO_LEGACY: &str = "UPDATE responses SET idempotency_key = 'legacy ' || idempotency_key \
     WHERE idempotency_key IS NOT NULL";
const FROM_LEGACY: &str = "UPDATE responses SET idempotency_key = substr(idempotency_key, 8) \
     WHERE idempotency_key LIKE 'legacy %'";

#[derive(DeriveIden)]
enum ErasureTombstones {
    Table,
    Digest,
    ErasedAt,
}

#[derive(DeriveIden)]
enum StorageProbe {
    Table,
    Id,
    ProbedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        if manager.get_database_backend() == DbBackend::Postgres {
            db.execute_unprepared(POSTGRES_WIDEN).await?;
        }
        db.execute_unprepared(TO_LEGACY).await?;
        manager
            .create_table(
                Table::create()
                    .table(ErasureTombstones::Table)
                    .col(
                        ColumnDef::new(ErasureTombstones::Digest)
                            .string_len(64)
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(ErasureTombstones::ErasedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_erasure_tombstones_erased_at")
                    .table(ErasureTombstones::Table)
                    .col(ErasureTombstones::ErasedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(StorageProbe::Table)
                    .col(
                        ColumnDef::new(StorageProbe::Id)
                            .integer()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(StorageProbe::ProbedAt)
                            .string_len(64)
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        manager
            .drop_table(Table::drop().table(StorageProbe::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(ErasureTombstones::Table).to_owned())
            .await?;
        db.execute_unprepared(FROM_LEGACY).await?;
        if manager.get_database_backend() == DbBackend::Postgres {
            db.execute_unprepared(POSTGRES_NARROW).await?;
        }
        Ok(())
    }
}
