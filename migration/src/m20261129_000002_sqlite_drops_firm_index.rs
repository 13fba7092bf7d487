//! SQLite drops the index of responses by firm; PostgreSQL keeps it.
//!
//! Firms arrive in no order, so every response put one entry at a random place of
//! `ix_responses_firm_submitted`: one more b-tree page for each row of a commit, which the
//! single SQLite writer writes to the WAL, syncs and copies again at the checkpoint. That was
//! about a third of its time. Nothing on the ingest path reads the index: latest-only exports
//! find each firm's latest response in one pass when they start, and erasing a firm (a rare
//! administrative act) scans the responses instead. PostgreSQL's writers work side by side,
//! and there the index keeps erasure a lookup.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Responses {
    Table,
    FirmId,
    SubmittedAt,
}

const INDEX: &str = "ix_responses_firm_submitted";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Sqlite {
            return Ok(());
        }
        manager
            .drop_index(Index::drop().name(INDEX).table(Responses::Table).to_owned())
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Sqlite {
            return Ok(());
        }
        manager
            .create_index(
                Index::create()
                    .name(INDEX)
                    .table(Responses::Table)
                    .col(Responses::FirmId)
                    .col(Responses::SubmittedAt)
                    .to_owned(),
            )
            .await
    }
}
