//! A row for every report share link issued, so a link can be revoked on its own (by an
//! admin) or with the key that made it, on every replica at once. The token itself is not
//! stored, only its id (signed into the token), the key that made it, its parameters (to
//! list it) and its lifetime.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ShareLinks {
    Table,
    Id,
    KeyId,
    Query,
    CreatedAt,
    ExpiresAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum ApiKeys {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ShareLinks::Table)
                    .col(pk_uuid(ShareLinks::Id))
                    .col(uuid(ShareLinks::KeyId))
                    .col(json(ShareLinks::Query))
                    .col(timestamp_with_time_zone(ShareLinks::CreatedAt))
                    .col(timestamp_with_time_zone(ShareLinks::ExpiresAt))
                    .col(timestamp_with_time_zone_null(ShareLinks::RevokedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_share_links_key")
                            .from(ShareLinks::Table, ShareLinks::KeyId)
                            .to(ApiKeys::Table, ApiKeys::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // Listing and pruning read links by expiry.
        manager
            .create_index(
                Index::create()
                    .name("ix_share_links_expires_at")
                    .table(ShareLinks::Table)
                    .col(ShareLinks::ExpiresAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ShareLinks::Table).to_owned())
            .await
    }
}
