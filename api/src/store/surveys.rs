//! Survey (instrument version) queries.

use sea_orm::{ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder};

use super::entities::survey::{self, STATUS_PUBLISHED, STATUS_RETIRED};

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
