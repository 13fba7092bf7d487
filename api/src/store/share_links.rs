//! The record of every report share link issued: the key that made it, its parameters and its
//! lifetime, never the token. Opening a link reads its row (and its key's) by primary key, so
//! a revocation made on any replica holds at once on every other.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, DbErr, EntityTrait,
    IntoActiveModel, QueryFilter, QueryOrder,
};
use serde_json::json;
use uuid::Uuid;

use super::audit::{AuditContext, AuditStore, action};
use super::entities::{api_key, share_link};
use crate::domain::submission::to_stored_precision;

/// A link and the key that made it (`None` only if that key's row is gone).
pub type LinkWithKey = (share_link::Model, Option<api_key::Model>);

pub struct ShareLinkStore;

impl ShareLinkStore {
    /// Stores `link` and records `report.share`, in one transaction. Links past their expiry
    /// are deleted first: a token checks its own expiry before its row is read, so their rows
    /// serve nothing any more (the audit log keeps their history).
    pub async fn create(
        db: &DatabaseConnection,
        link: share_link::Model,
        context: &AuditContext,
    ) -> Result<(), DbErr> {
        let txn = crate::store::db::begin_write(db).await?;
        share_link::Entity::delete_many()
            .filter(share_link::Column::ExpiresAt.lte(to_stored_precision(Utc::now())))
            .exec(&txn)
            .await?;
        share_link::Entity::insert(link.clone().into_active_model())
            .exec_without_returning(&txn)
            .await?;
        AuditStore::record(
            &txn,
            context,
            action::REPORT_SHARE,
            &target(link.id),
            json!({"query": link.query, "expires_at": link.expires_at}),
        )
        .await?;
        txn.commit().await
    }

    /// The link `id` and its key, in one query by primary key.
    pub async fn get(db: &DatabaseConnection, id: Uuid) -> Result<Option<LinkWithKey>, DbErr> {
        share_link::Entity::find_by_id(id)
            .find_also_related(api_key::Entity)
            .one(db)
            .await
    }

    /// Every link not yet past its expiry at `now` (revoked ones too), newest first.
    pub async fn unexpired(
        db: &DatabaseConnection,
        now: DateTime<Utc>,
    ) -> Result<Vec<LinkWithKey>, DbErr> {
        share_link::Entity::find()
            .filter(share_link::Column::ExpiresAt.gt(now))
            .find_also_related(api_key::Entity)
            .order_by_desc(share_link::Column::CreatedAt)
            .order_by_desc(share_link::Column::Id)
            .all(db)
            .await
    }

    /// Revokes a link and records `report.share_revoke`, in one transaction. `None` if there
    /// is no such link; revoking a revoked link changes nothing and records nothing.
    pub async fn revoke(
        db: &DatabaseConnection,
        id: Uuid,
        context: &AuditContext,
    ) -> Result<Option<share_link::Model>, DbErr> {
        let txn = crate::store::db::begin_write(db).await?;
        let Some(link) = share_link::Entity::find_by_id(id).one(&txn).await? else {
            return Ok(None);
        };
        if link.revoked_at.is_some() {
            return Ok(Some(link));
        }
        let mut active = link.into_active_model();
        active.revoked_at = Set(Some(to_stored_precision(Utc::now())));
        let link = active.update(&txn).await?;
        AuditStore::record(
            &txn,
            context,
            action::REPORT_SHARE_REVOKE,
            &target(id),
            json!({"key_id": link.key_id, "query": link.query, "expires_at": link.expires_at}),
        )
        .await?;
        txn.commit().await?;
        Ok(Some(link))
    }
}

/// The audit target of a link.
fn target(id: Uuid) -> String {
    format!("share:{id}")
}
