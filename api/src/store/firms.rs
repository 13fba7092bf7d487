//! Firms: erasure on request.

use chrono::Utc;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr,
    EntityTrait, QueryFilter, QuerySelect, Statement,
};
use serde_json::json;
use uuid::Uuid;

use super::audit::{AuditContext, AuditStore, action};
use super::changes::ChangeStore;
use super::drafts::DraftStore;
use super::entities::{firm, response};
use super::tombstones::TombstoneStore;
use crate::domain::submission::to_stored_precision;
use crate::domain::tombstone::TombstoneKey;

pub struct FirmStore;

impl FirmStore {
    /// Deletes the firm with this external reference and every response of it, records
    /// tombstones for its reference and its responses' idempotency keys, replaces the
    /// responses' rows in the change feed by one `firm.erased` row, and records `firm.erase`
    /// (with the reference's digest, not the reference), in one transaction.
    /// Returns the number of responses removed, or `None` if no firm has this reference.
    ///
    /// On SQLite the connection overwrites what it deletes (`secure_delete`), and the WAL,
    /// which still holds the pages as they were, is checkpointed and truncated afterwards
    /// ([`truncate_wal`]).
    pub async fn erase(
        db: &DatabaseConnection,
        external_ref: &str,
        tombstones: &TombstoneKey,
        context: &AuditContext,
    ) -> Result<Option<(Uuid, u64)>, DbErr> {
        let txn = crate::store::db::begin_write(db).await?;
        // Self-assessment drafts under the reference go too, submitted or not.
        let drafts = DraftStore::erase_firm(&txn, external_ref).await?;
        let Some(found) = firm::Entity::find()
            .filter(firm::Column::ExternalRef.eq(external_ref))
            .one(&txn)
            .await?
        else {
            if drafts > 0 {
                txn.commit().await?;
            }
            return Ok(None);
        };
        let keys: Vec<Option<String>> = response::Entity::find()
            .select_only()
            .column(response::Column::IdempotencyKey)
            .filter(response::Column::FirmId.eq(found.id))
            .filter(response::Column::IdempotencyKey.is_not_null())
            .into_tuple()
            .all(&txn)
            .await?;
        let firm_digest = tombstones.firm(external_ref);
        let digests = std::iter::once(firm_digest.clone()).chain(
            keys.iter()
                .flatten()
                .map(|key| tombstones.idempotency_key(key)),
        );
        TombstoneStore::record(&txn, digests, to_stored_precision(Utc::now())).await?;
        let txn_backend = txn.get_database_backend();
        let responses = match txn_backend {
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
        // The same transaction takes the responses out of the change feed and says so in it.
        ChangeStore::record_erasure(&txn, found.id, to_stored_precision(Utc::now())).await?;
        AuditStore::record(
            &txn,
            context,
            action::FIRM_ERASE,
            &format!("firm:{}", found.id),
            json!({"ref_digest": firm_digest, "responses_erased": responses}),
        )
        .await?;
        txn.commit().await?;
        if txn_backend == DbBackend::Sqlite {
            truncate_wal(db).await;
        }
        Ok(Some((found.id, responses)))
    }
}

/// Copies the WAL into the database file and truncates it to nothing, so no earlier image of
/// an erased row stays in it. Readers still using older pages make SQLite report the
/// checkpoint busy; it is tried again for a while, then left to the next erasure or the
/// regular checkpoints (which reuse the WAL from its start), with a warning.
pub async fn truncate_wal(db: &DatabaseConnection) {
    let statement = Statement::from_string(DbBackend::Sqlite, "PRAGMA wal_checkpoint(TRUNCATE)");
    for attempt in 0..50 {
        match db.query_one_raw(statement.clone()).await {
            Ok(Some(row)) if row.try_get_by_index::<i64>(0).is_ok_and(|busy| busy == 0) => return,
            Ok(_) => {}
            Err(error) => {
                tracing::warn!(%error, "the WAL could not be truncated after an erasure");
                return;
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(20 * (attempt + 1))).await;
    }
    tracing::warn!("the WAL stayed busy and was not truncated after an erasure");
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
