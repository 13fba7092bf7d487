//! Population margins for weighting.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr,
    EntityTrait, QueryFilter, QueryOrder,
};
use serde_json::json;

use super::audit::{AuditContext, AuditStore, action};
use super::entities::population;

pub struct PopulationStore;

impl PopulationStore {
    pub async fn all(db: &DatabaseConnection) -> Result<Vec<population::Model>, DbErr> {
        population::Entity::find()
            .order_by_asc(population::Column::Name)
            .all(db)
            .await
    }

    pub async fn by_name<C: ConnectionTrait>(
        db: &C,
        name: &str,
    ) -> Result<Option<population::Model>, DbErr> {
        population::Entity::find()
            .filter(population::Column::Name.eq(name))
            .one(db)
            .await
    }

    /// Creates or replaces the margins named `name`, audited in the same transaction;
    /// `true` when created.
    pub async fn upsert(
        db: &DatabaseConnection,
        name: &str,
        margins: serde_json::Value,
        now: DateTime<Utc>,
        context: &AuditContext,
    ) -> Result<(population::Model, bool), DbErr> {
        let txn = crate::store::db::begin_write(db).await?;
        let saved = match Self::by_name(&txn, name).await? {
            Some(existing) => {
                let mut active: population::ActiveModel = existing.into();
                active.margins = Set(margins);
                active.updated_at = Set(now);
                (active.update(&txn).await?, false)
            }
            None => {
                let created = population::ActiveModel {
                    name: Set(name.to_owned()),
                    margins: Set(margins),
                    created_at: Set(now),
                    updated_at: Set(now),
                    ..Default::default()
                }
                .insert(&txn)
                .await?;
                (created, true)
            }
        };
        AuditStore::record(
            &txn,
            context,
            action::POPULATION_SAVE,
            &format!("population:{name}"),
            json!({"created": saved.1, "dimensions": saved.0.margins.as_object().map(|m| m.keys().cloned().collect::<Vec<_>>())}),
        )
        .await?;
        txn.commit().await?;
        Ok(saved)
    }
}
