//! `assessment_drafts`: a firm's answers to the self-assessment pages while it fills them in,
//! so it can stop and continue later from a link. The link's token is not stored, only its
//! SHA-256, so the table cannot be turned back into links. A draft expires 30 days after its
//! last change and is removed with the firm it names on erasure.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AssessmentDrafts {
    Table,
    Id,
    TokenHash,
    SurveyId,
    Language,
    FirmRef,
    CollectorKeyId,
    Firm,
    FirmFixed,
    Answers,
    ResponseId,
    CreatedAt,
    UpdatedAt,
    ExpiresAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AssessmentDrafts::Table)
                    .col(pk_uuid(AssessmentDrafts::Id))
                    .col(string_uniq(AssessmentDrafts::TokenHash))
                    .col(integer(AssessmentDrafts::SurveyId))
                    .col(string(AssessmentDrafts::Language))
                    .col(string(AssessmentDrafts::FirmRef))
                    .col(uuid_null(AssessmentDrafts::CollectorKeyId))
                    .col(json(AssessmentDrafts::Firm))
                    .col(boolean(AssessmentDrafts::FirmFixed))
                    .col(json(AssessmentDrafts::Answers))
                    .col(uuid_null(AssessmentDrafts::ResponseId))
                    .col(timestamp_with_time_zone(AssessmentDrafts::CreatedAt))
                    .col(timestamp_with_time_zone(AssessmentDrafts::UpdatedAt))
                    .col(timestamp_with_time_zone(AssessmentDrafts::ExpiresAt))
                    .to_owned(),
            )
            .await?;
        for (name, column) in [
            (
                "ix_assessment_drafts_expires_at",
                AssessmentDrafts::ExpiresAt,
            ),
            ("ix_assessment_drafts_firm_ref", AssessmentDrafts::FirmRef),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(AssessmentDrafts::Table)
                        .col(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AssessmentDrafts::Table).to_owned())
            .await
    }
}
