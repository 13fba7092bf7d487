//! Population margins for weighting, and the index report snapshots are refreshed by.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Populations {
    Table,
    Id,
    Name,
    Margins,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Responses {
    Table,
    ReceivedAt,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Populations::Table)
                    .col(pk_auto(Populations::Id))
                    .col(string_len_uniq(Populations::Name, 64))
                    .col(json(Populations::Margins))
                    .col(timestamp_with_time_zone(Populations::CreatedAt))
                    .col(timestamp_with_time_zone(Populations::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_responses_received")
                    .table(Responses::Table)
                    .col(Responses::ReceivedAt)
                    .col(Responses::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("ix_responses_received")
                    .table(Responses::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(Populations::Table).to_owned())
            .await
    }
}
