use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Surveys {
    Table,
    Id,
    Slug,
    Version,
    Title,
    Status,
    Public,
    Definition,
    CreatedAt,
    PublishedAt,
}

#[derive(DeriveIden)]
enum Firms {
    Table,
    Id,
    ExternalRef,
    Industry,
    SizeBand,
    Country,
    Region,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Responses {
    Table,
    Id,
    SurveyId,
    FirmId,
    Answers,
    Industry,
    SizeBand,
    Country,
    Region,
    Tier,
    TierRank,
    ReadyToCustomise,
    Blockers,
    ScoreMaturity,
    ScoreClarity,
    ScoreVendorGap,
    ScoreCapability,
    ScoreGovernance,
    RubricVersion,
    SubmittedAt,
    ReceivedAt,
    Source,
    IdempotencyKey,
    PayloadHash,
}

#[derive(DeriveIden)]
enum ApiKeys {
    Table,
    Id,
    Name,
    Role,
    Prefix,
    SecretHash,
    CreatedAt,
    ExpiresAt,
    RevokedAt,
    LastUsedAt,
}

#[derive(DeriveIden)]
enum AuditEvents {
    Table,
    Id,
    At,
    Actor,
    Action,
    Target,
    RequestId,
    Details,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Surveys::Table)
                    .col(pk_auto(Surveys::Id))
                    .col(string_len(Surveys::Slug, 64))
                    .col(integer(Surveys::Version))
                    .col(string_len(Surveys::Title, 200))
                    .col(string_len(Surveys::Status, 16))
                    .col(boolean(Surveys::Public).default(false))
                    .col(json(Surveys::Definition))
                    .col(timestamp_with_time_zone(Surveys::CreatedAt))
                    .col(timestamp_with_time_zone_null(Surveys::PublishedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_surveys_slug_version")
                    .table(Surveys::Table)
                    .col(Surveys::Slug)
                    .col(Surveys::Version)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Firms::Table)
                    .col(pk_uuid(Firms::Id))
                    .col(string_len_uniq(Firms::ExternalRef, 128))
                    .col(string_len(Firms::Industry, 1))
                    .col(string_len(Firms::SizeBand, 16))
                    .col(string_len(Firms::Country, 2))
                    .col(string_len_null(Firms::Region, 64))
                    .col(timestamp_with_time_zone(Firms::CreatedAt))
                    .col(timestamp_with_time_zone(Firms::UpdatedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Responses::Table)
                    .col(pk_uuid(Responses::Id))
                    .col(integer(Responses::SurveyId))
                    .col(uuid(Responses::FirmId))
                    .col(json(Responses::Answers))
                    .col(string_len(Responses::Industry, 1))
                    .col(string_len(Responses::SizeBand, 16))
                    .col(string_len(Responses::Country, 2))
                    .col(string_len_null(Responses::Region, 64))
                    .col(string_len(Responses::Tier, 64))
                    .col(small_integer(Responses::TierRank))
                    .col(boolean(Responses::ReadyToCustomise))
                    .col(json(Responses::Blockers))
                    .col(double(Responses::ScoreMaturity))
                    .col(double(Responses::ScoreClarity))
                    .col(double(Responses::ScoreVendorGap))
                    .col(double(Responses::ScoreCapability))
                    .col(double(Responses::ScoreGovernance))
                    .col(string_len(Responses::RubricVersion, 80))
                    .col(timestamp_with_time_zone(Responses::SubmittedAt))
                    .col(timestamp_with_time_zone(Responses::ReceivedAt))
                    .col(string_len(Responses::Source, 16))
                    .col(string_len_null(Responses::IdempotencyKey, 255))
                    .col(string_len_null(Responses::PayloadHash, 64))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_responses_survey")
                            .from(Responses::Table, Responses::SurveyId)
                            .to(Surveys::Table, Surveys::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_responses_firm")
                            .from(Responses::Table, Responses::FirmId)
                            .to(Firms::Table, Firms::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // Idempotency is a database guarantee: one response per key, across replicas.
        manager
            .create_index(
                Index::create()
                    .name("ux_responses_idempotency_key")
                    .table(Responses::Table)
                    .col(Responses::IdempotencyKey)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_responses_survey_submitted")
                    .table(Responses::Table)
                    .col(Responses::SurveyId)
                    .col(Responses::SubmittedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_responses_firm_submitted")
                    .table(Responses::Table)
                    .col(Responses::FirmId)
                    .col(Responses::SubmittedAt)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ApiKeys::Table)
                    .col(pk_uuid(ApiKeys::Id))
                    .col(string_len(ApiKeys::Name, 100))
                    .col(string_len(ApiKeys::Role, 16))
                    .col(string_len_uniq(ApiKeys::Prefix, 32))
                    .col(string_len(ApiKeys::SecretHash, 64))
                    .col(timestamp_with_time_zone(ApiKeys::CreatedAt))
                    .col(timestamp_with_time_zone_null(ApiKeys::ExpiresAt))
                    .col(timestamp_with_time_zone_null(ApiKeys::RevokedAt))
                    .col(timestamp_with_time_zone_null(ApiKeys::LastUsedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(AuditEvents::Table)
                    .col(big_pk_auto(AuditEvents::Id))
                    .col(timestamp_with_time_zone(AuditEvents::At))
                    .col(uuid_null(AuditEvents::Actor))
                    .col(string_len(AuditEvents::Action, 64))
                    .col(string_len(AuditEvents::Target, 255))
                    .col(string_len_null(AuditEvents::RequestId, 64))
                    .col(json(AuditEvents::Details))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_audit_events_action_at")
                    .table(AuditEvents::Table)
                    .col(AuditEvents::Action)
                    .col(AuditEvents::At)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            AuditEvents::Table.into_iden(),
            ApiKeys::Table.into_iden(),
            Responses::Table.into_iden(),
            Firms::Table.into_iden(),
            Surveys::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
