//! Population margins for weighting.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, DbErr, EntityTrait,
    QueryFilter, QueryOrder,
};

use super::entities::population;

pub struct PopulationStore;

impl PopulationStore {
    pub async fn all(db: &DatabaseConnection) -> Result<Vec<population::Model>, DbErr> {
        population::Entity::find()
            .order_by_asc(population::Column::Name)
            .all(db)
            .await
    }

    pub async fn by_name(
        db: &DatabaseConnection,
        name: &str,
    ) -> Result<Option<population::Model>, DbErr> {
        population::Entity::find()
            .filter(population::Column::Name.eq(name))
            .one(db)
            .await
    }

    /// Creates or replaces the margins named `name`; `true` when created.
    pub async fn upsert(
        db: &DatabaseConnection,
        name: &str,
        margins: serde_json::Value,
        now: DateTime<Utc>,
    ) -> Result<(population::Model, bool), DbErr> {
        match Self::by_name(db, name).await? {
            Some(existing) => {
                let mut active: population::ActiveModel = existing.into();
                active.margins = Set(margins);
                active.updated_at = Set(now);
                Ok((active.update(db).await?, false))
            }
            None => {
                let created = population::ActiveModel {
                    name: Set(name.to_owned()),
                    margins: Set(margins),
                    created_at: Set(now),
                    updated_at: Set(now),
                    ..Default::default()
                }
                .insert(db)
                .await?;
                Ok((created, true))
            }
        }
    }
}
