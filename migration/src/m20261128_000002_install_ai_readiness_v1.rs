//! Installs the `ai-readiness` v1 instrument, published, so a fresh server is useful at once.

use chrono::Timelike;
use sea_orm_migration::prelude::*;

/// The definition exactly as v1 shipped; published versions are immutable.
const DEFINITION: &str = include_str!("../../analytics/instruments/ai-readiness-v1.json");
const SLUG: &str = "ai-readiness";
const VERSION: i32 = 1;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Surveys {
    Table,
    Slug,
    Version,
    Title,
    Status,
    Public,
    Definition,
    CreatedAt,
    PublishedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let definition: serde_json::Value = serde_json::from_str(DEFINITION)
            .map_err(|e| DbErr::Migration(format!("ai-readiness v1 definition: {e}")))?;
        let title = definition
            .get("title")
            .and_then(|t| t.as_str())
            .unwrap_or(SLUG)
            .to_owned();
        let now = chrono::Utc::now()
            .with_nanosecond(0)
            .unwrap_or_else(chrono::Utc::now);
        let insert = Query::insert()
            .into_table(Surveys::Table)
            .columns([
                Surveys::Slug,
                Surveys::Version,
                Surveys::Title,
                Surveys::Status,
                Surveys::Public,
                Surveys::Definition,
                Surveys::CreatedAt,
                Surveys::PublishedAt,
            ])
            .values([
                SLUG.into(),
                VERSION.into(),
                title.into(),
                "published".into(),
                false.into(),
                definition.into(),
                now.into(),
                now.into(),
            ])
            .map_err(|e| DbErr::Migration(e.to_string()))?
            .to_owned();
        manager.execute(insert).await.map(|_| ())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let delete = Query::delete()
            .from_table(Surveys::Table)
            .and_where(Expr::col(Surveys::Slug).eq(SLUG))
            .and_where(Expr::col(Surveys::Version).eq(VERSION))
            .to_owned();
        manager.execute(delete).await.map(|_| ())
    }
}
