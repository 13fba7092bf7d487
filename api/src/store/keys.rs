//! API keys: only the SHA-256 of a secret is stored, never the secret.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, DatabaseConnection, DbErr,
    EntityTrait, IntoActiveModel, QueryFilter, QueryOrder,
};
use serde_json::json;
use uuid::Uuid;

use super::audit::{AuditContext, AuditStore, action};
use super::entities::api_key;
use crate::domain::api_key::{GeneratedKey, Role};
use crate::domain::submission::to_stored_precision;

/// `last_used_at` is written at most this often per key.
pub const LAST_USED_RESOLUTION: Duration = Duration::seconds(60);

/// The highest rate limit a key may carry, a minute.
pub const MAX_KEY_RATE_LIMIT: u32 = 100_000_000;

/// A key to store.
#[derive(Debug, Clone)]
pub struct NewKey {
    pub name: String,
    pub role: Role,
    pub expires_at: Option<DateTime<Utc>>,
    /// Requests a minute in place of the server-wide limit; the server's when absent.
    pub rate_limit_per_minute: Option<u32>,
}

pub struct KeyStore;

impl KeyStore {
    /// Stores the key's hash and records `key.create`, in one transaction.
    pub async fn create(
        db: &DatabaseConnection,
        new: NewKey,
        generated: &GeneratedKey,
        context: &AuditContext,
    ) -> Result<api_key::Model, DbErr> {
        let model = api_key::Model {
            id: Uuid::now_v7(),
            name: new.name,
            role: new.role.as_str().to_owned(),
            prefix: generated.prefix.clone(),
            secret_hash: generated.secret_hash(),
            created_at: to_stored_precision(Utc::now()),
            expires_at: new.expires_at.map(to_stored_precision),
            revoked_at: None,
            last_used_at: None,
            rate_limit_per_minute: new
                .rate_limit_per_minute
                .map(|n| i32::try_from(n).unwrap_or(i32::MAX)),
        };
        let txn = crate::store::db::begin_write(db).await?;
        api_key::Entity::insert(model.clone().into_active_model())
            .exec_without_returning(&txn)
            .await?;
        AuditStore::record(
            &txn,
            context,
            action::KEY_CREATE,
            &format!("key:{}", model.id),
            json!({"name": model.name, "role": model.role, "prefix": model.prefix,
                   "expires_at": model.expires_at,
                   "rate_limit_per_minute": model.rate_limit_per_minute}),
        )
        .await?;
        txn.commit().await?;
        Ok(model)
    }

    /// Every key, oldest first.
    pub async fn list(db: &DatabaseConnection) -> Result<Vec<api_key::Model>, DbErr> {
        api_key::Entity::find()
            .order_by_asc(api_key::Column::CreatedAt)
            .order_by_asc(api_key::Column::Id)
            .all(db)
            .await
    }

    pub async fn by_prefix(
        db: &DatabaseConnection,
        prefix: &str,
    ) -> Result<Option<api_key::Model>, DbErr> {
        api_key::Entity::find()
            .filter(api_key::Column::Prefix.eq(prefix))
            .one(db)
            .await
    }

    /// Revokes a key and records `key.revoke`, in one transaction. `None` if there is no such
    /// key; revoking a revoked key changes nothing and records nothing.
    pub async fn revoke(
        db: &DatabaseConnection,
        id: Uuid,
        context: &AuditContext,
    ) -> Result<Option<api_key::Model>, DbErr> {
        let txn = crate::store::db::begin_write(db).await?;
        let Some(key) = api_key::Entity::find_by_id(id).one(&txn).await? else {
            return Ok(None);
        };
        if key.revoked_at.is_some() {
            return Ok(Some(key));
        }
        let mut active = key.into_active_model();
        active.revoked_at = Set(Some(to_stored_precision(Utc::now())));
        let key = active.update(&txn).await?;
        AuditStore::record(
            &txn,
            context,
            action::KEY_REVOKE,
            &format!("key:{id}"),
            json!({"name": key.name, "role": key.role, "prefix": key.prefix}),
        )
        .await?;
        txn.commit().await?;
        super::lookups::changed();
        Ok(Some(key))
    }

    /// Sets `last_used_at` to `now` unless it was set less than [`LAST_USED_RESOLUTION`] ago,
    /// so a busy key costs one write a minute, even across replicas.
    pub async fn touch(db: &DatabaseConnection, id: Uuid, now: DateTime<Utc>) -> Result<(), DbErr> {
        api_key::Entity::update_many()
            .col_expr(
                api_key::Column::LastUsedAt,
                sea_orm::sea_query::Expr::value(to_stored_precision(now)),
            )
            .filter(api_key::Column::Id.eq(id))
            .filter(
                Condition::any()
                    .add(api_key::Column::LastUsedAt.is_null())
                    .add(api_key::Column::LastUsedAt.lte(now - LAST_USED_RESOLUTION)),
            )
            .exec(db)
            .await?;
        super::lookups::changed();
        Ok(())
    }
}
