//! Firms: erasure on request.

use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr,
    EntityTrait, QueryFilter, Statement,
};
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
        let txn = crate::store::db::begin_write(db).await?;
        let Some(found) = firm::Entity::find()
            .filter(firm::Column::ExternalRef.eq(external_ref))
            .one(&txn)
            .await?
        else {
            return Ok(None);
        };
        let responses = match txn.get_database_backend() {
            // SQLite has no index of responses by firm (migration m20261129_000002), so each
            // statement that finds a firm's responses scans the table while the write lock is
            // held. Deleting the firm finds them once, through the foreign key's `ON DELETE
            // CASCADE`; `total_changes()` counts the rows that it deleted.
            DbBackend::Sqlite => {
                let before = total_changes(&txn).await?;
                firm::Entity::delete_by_id(found.id).exec(&txn).await?;
                (total_changes(&txn).await? - before - 1)
                    .max(0)
                    .cast_unsigned()
            }
            _ => {
                let responses = response::Entity::delete_many()
                    .filter(response::Column::FirmId.eq(found.id))
                    .exec(&txn)
                    .await?
                    .rows_affected;
                firm::Entity::delete_by_id(found.id).exec(&txn).await?;
                responses
            }
        };
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

/// Rows inserted, changed or deleted on this SQLite connection since it opened, counting those
/// that foreign key actions changed.
async fn total_changes(txn: &DatabaseTransaction) -> Result<i64, DbErr> {
    let statement = Statement::from_string(DbBackend::Sqlite, "SELECT total_changes()");
    txn.query_one_raw(statement)
        .await?
        .ok_or_else(|| DbErr::Custom("total_changes() returned no row".to_owned()))?
        .try_get_by_index(0)
}
