//! Secrets the server generates once and keeps in the database, so every replica and every
//! restart uses the same one.

use chrono::Utc;
use sea_orm::{ActiveValue::Set, DatabaseConnection, DbErr, EntityTrait};

use super::entities::server_secret;

pub struct SecretStore;

impl SecretStore {
    /// The secret called `name`, stored from `generate` on first use. When replicas race, the
    /// first insert wins and every one reads the winner.
    pub async fn get_or_create(
        db: &DatabaseConnection,
        name: &str,
        generate: impl FnOnce() -> String,
    ) -> Result<String, DbErr> {
        if let Some(found) = server_secret::Entity::find_by_id(name).one(db).await? {
            return Ok(found.value);
        }
        server_secret::Entity::insert(server_secret::ActiveModel {
            name: Set(name.to_owned()),
            value: Set(generate()),
            created_at: Set(crate::domain::submission::to_stored_precision(Utc::now())),
        })
        .on_conflict_do_nothing_on([server_secret::Column::Name])
        .exec_without_returning(db)
        .await?;
        server_secret::Entity::find_by_id(name)
            .one(db)
            .await?
            .map(|found| found.value)
            .ok_or_else(|| DbErr::RecordNotFound(format!("server secret {name}")))
    }
}
