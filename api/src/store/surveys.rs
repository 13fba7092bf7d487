//! Survey (instrument version) queries and writes.

use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::{NotSet, Set},
    ColumnTrait, DatabaseConnection, DbErr, EntityTrait, IntoActiveModel, JsonValue as Json,
    QueryFilter, QueryOrder, QuerySelect,
};
use serde_json::json;

use super::audit::{AuditContext, AuditStore, action};
use super::entities::survey::{self, STATUS_DRAFT, STATUS_PUBLISHED, STATUS_RETIRED};
use crate::domain::submission::to_stored_precision;

pub struct SurveyQuery;

impl SurveyQuery {
    /// The latest published version of `slug`.
    pub async fn latest_published(
        db: &DatabaseConnection,
        slug: &str,
    ) -> Result<Option<survey::Model>, DbErr> {
        survey::Entity::find()
            .filter(survey::Column::Slug.eq(slug))
            .filter(survey::Column::Status.eq(STATUS_PUBLISHED))
            .order_by_desc(survey::Column::Version)
            .one(db)
            .await
    }

    /// The id and `public` flag of the latest published version of `slug`: what a submission
    /// needs, without reading and parsing the definition (the catalog has it).
    pub async fn latest_published_target(
        db: &DatabaseConnection,
        slug: &str,
    ) -> Result<Option<(i32, bool)>, DbErr> {
        survey::Entity::find()
            .select_only()
            .column(survey::Column::Id)
            .column(survey::Column::Public)
            .filter(survey::Column::Slug.eq(slug))
            .filter(survey::Column::Status.eq(STATUS_PUBLISHED))
            .order_by_desc(survey::Column::Version)
            .into_tuple()
            .one(db)
            .await
    }

    /// One published or retired version (drafts are not visible here).
    pub async fn released_version(
        db: &DatabaseConnection,
        slug: &str,
        version: i32,
    ) -> Result<Option<survey::Model>, DbErr> {
        survey::Entity::find()
            .filter(survey::Column::Slug.eq(slug))
            .filter(survey::Column::Version.eq(version))
            .filter(survey::Column::Status.is_in([STATUS_PUBLISHED, STATUS_RETIRED]))
            .one(db)
            .await
    }

    /// Every published or retired version, by slug then version.
    pub async fn released(db: &DatabaseConnection) -> Result<Vec<survey::Model>, DbErr> {
        survey::Entity::find()
            .filter(survey::Column::Status.is_in([STATUS_PUBLISHED, STATUS_RETIRED]))
            .order_by_asc(survey::Column::Slug)
            .order_by_asc(survey::Column::Version)
            .all(db)
            .await
    }

    /// Every released version of `slug`, oldest first.
    pub async fn released_versions(
        db: &DatabaseConnection,
        slug: &str,
    ) -> Result<Vec<survey::Model>, DbErr> {
        survey::Entity::find()
            .filter(survey::Column::Slug.eq(slug))
            .filter(survey::Column::Status.is_in([STATUS_PUBLISHED, STATUS_RETIRED]))
            .order_by_asc(survey::Column::Version)
            .all(db)
            .await
    }

    pub async fn by_id(db: &DatabaseConnection, id: i32) -> Result<Option<survey::Model>, DbErr> {
        survey::Entity::find_by_id(id).one(db).await
    }
}

/// Writes to survey versions; each is recorded in the audit log in the same transaction.
pub struct SurveyStore;

/// What publishing a version did.
#[derive(Debug)]
pub enum Publish {
    Published(survey::Model),
    /// The version was already published or retired; it was left as it was.
    NotDraft(survey::Model),
    NotFound,
}

impl SurveyStore {
    /// The number the next version of `slug` gets: one more than the highest so far.
    pub async fn next_version(db: &DatabaseConnection, slug: &str) -> Result<i32, DbErr> {
        let highest: Option<Option<i32>> = survey::Entity::find()
            .select_only()
            .column_as(survey::Column::Version.max(), "highest")
            .filter(survey::Column::Slug.eq(slug))
            .into_tuple()
            .one(db)
            .await?;
        Ok(highest.flatten().unwrap_or(0) + 1)
    }

    /// Any version, drafts included.
    pub async fn version(
        db: &DatabaseConnection,
        slug: &str,
        version: i32,
    ) -> Result<Option<survey::Model>, DbErr> {
        survey::Entity::find()
            .filter(survey::Column::Slug.eq(slug))
            .filter(survey::Column::Version.eq(version))
            .one(db)
            .await
    }

    /// Stores a draft and records `survey.create`. A concurrent draft of the same slug and
    /// version fails on the unique index (`SqlErr::UniqueConstraintViolation`).
    pub async fn create_draft(
        db: &DatabaseConnection,
        slug: &str,
        version: i32,
        title: &str,
        definition: Json,
        context: &AuditContext,
    ) -> Result<survey::Model, DbErr> {
        let txn = crate::store::db::begin_write(db).await?;
        let draft = survey::ActiveModel {
            id: NotSet,
            slug: Set(slug.to_owned()),
            version: Set(version),
            title: Set(title.to_owned()),
            status: Set(STATUS_DRAFT.to_owned()),
            public: Set(false),
            definition: Set(definition),
            created_at: Set(to_stored_precision(Utc::now())),
            published_at: Set(None),
        }
        .insert(&txn)
        .await?;
        AuditStore::record(
            &txn,
            context,
            action::SURVEY_CREATE,
            &target(&draft),
            json!({"title": draft.title}),
        )
        .await?;
        txn.commit().await?;
        Ok(draft)
    }

    /// Publishes a draft and records `survey.publish`. A published version is immutable, so
    /// anything but a draft is left alone.
    pub async fn publish(
        db: &DatabaseConnection,
        slug: &str,
        version: i32,
        context: &AuditContext,
    ) -> Result<Publish, DbErr> {
        let txn = crate::store::db::begin_write(db).await?;
        let Some(found) = survey::Entity::find()
            .filter(survey::Column::Slug.eq(slug))
            .filter(survey::Column::Version.eq(version))
            .one(&txn)
            .await?
        else {
            return Ok(Publish::NotFound);
        };
        if found.status != STATUS_DRAFT {
            return Ok(Publish::NotDraft(found));
        }
        let now = to_stored_precision(Utc::now());
        // The status condition makes a concurrent second publish a no-op.
        let updated = survey::Entity::update_many()
            .col_expr(survey::Column::Status, Expr::value(STATUS_PUBLISHED))
            .col_expr(survey::Column::PublishedAt, Expr::value(now))
            .filter(survey::Column::Id.eq(found.id))
            .filter(survey::Column::Status.eq(STATUS_DRAFT))
            .exec(&txn)
            .await?
            .rows_affected;
        if updated == 0 {
            return Ok(Publish::NotDraft(found));
        }
        let published = survey::Model {
            status: STATUS_PUBLISHED.to_owned(),
            published_at: Some(now),
            ..found
        };
        AuditStore::record(
            &txn,
            context,
            action::SURVEY_PUBLISH,
            &target(&published),
            json!({}),
        )
        .await?;
        txn.commit().await?;
        super::lookups::changed();
        Ok(Publish::Published(published))
    }

    /// Sets whether submissions need no key, and records `survey.set_public` when it changes.
    /// This is an operational setting, not part of the instrument, so published versions
    /// accept it too.
    pub async fn set_public(
        db: &DatabaseConnection,
        slug: &str,
        version: i32,
        public: bool,
        context: &AuditContext,
    ) -> Result<Option<survey::Model>, DbErr> {
        let txn = crate::store::db::begin_write(db).await?;
        let Some(found) = survey::Entity::find()
            .filter(survey::Column::Slug.eq(slug))
            .filter(survey::Column::Version.eq(version))
            .one(&txn)
            .await?
        else {
            return Ok(None);
        };
        if found.public == public {
            return Ok(Some(found));
        }
        let mut active = found.into_active_model();
        active.public = Set(public);
        let changed = active.update(&txn).await?;
        AuditStore::record(
            &txn,
            context,
            action::SURVEY_SET_PUBLIC,
            &target(&changed),
            json!({"public": public}),
        )
        .await?;
        txn.commit().await?;
        super::lookups::changed();
        Ok(Some(changed))
    }
}

fn target(survey: &survey::Model) -> String {
    format!("survey:{}@{}", survey.slug, survey.version)
}
