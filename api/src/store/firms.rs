//! Firms: erasure on request.

use sea_orm::{ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter};
use serde_json::json;
use uuid::Uuid;

use super::audit::{AuditContext, AuditStore, action};
use super::entities::{firm, response};

pub struct FirmStore;

impl FirmStore {
    /// Deletes the firm with this external reference and every response of it, and records
    /// `firm.erase`, in one transaction. Returns the number of responses removed, or `None`
    /// if no firm has this reference.
    pub async fn erase(
        db: &DatabaseConnection,
        external_ref: &str,
        context: &AuditContext,
    ) -> Result<Option<(Uuid, u64)>, DbErr> {
        let txn = crate::db::begin_write(db).await?;
        let Some(found) = firm::Entity::find()
            .filter(firm::Column::ExternalRef.eq(external_ref))
            .one(&txn)
            .await?
        else {
            return Ok(None);
        };
        let responses = response::Entity::delete_many()
            .filter(response::Column::FirmId.eq(found.id))
            .exec(&txn)
            .await?
            .rows_affected;
        firm::Entity::delete_by_id(found.id).exec(&txn).await?;
        AuditStore::record(
            &txn,
            context,
            action::FIRM_ERASE,
            &format!("firm:{}", found.id),
            json!({"ref": external_ref, "responses_erased": responses}),
        )
        .await?;
        txn.commit().await?;
        Ok(Some((found.id, responses)))
    }
}
