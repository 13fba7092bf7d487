//! Drafts of the self-assessment pages: read by the hash of their link's token, written
//! whole on every step, removed when they expire or their firm is erased.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    IntoActiveModel, QueryFilter,
};

use super::entities::assessment_draft;

pub struct DraftStore;

impl DraftStore {
    /// Stores a new draft; drafts past their expiry are deleted first.
    pub async fn create(
        db: &DatabaseConnection,
        draft: assessment_draft::Model,
    ) -> Result<(), DbErr> {
        let txn = crate::store::db::begin_write(db).await?;
        assessment_draft::Entity::delete_many()
            .filter(assessment_draft::Column::ExpiresAt.lte(draft.created_at))
            .exec(&txn)
            .await?;
        assessment_draft::Entity::insert(draft.into_active_model())
            .exec_without_returning(&txn)
            .await?;
        txn.commit().await
    }

    /// The unexpired draft whose token hashes to `token_hash`.
    pub async fn by_token_hash(
        db: &DatabaseConnection,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<assessment_draft::Model>, DbErr> {
        assessment_draft::Entity::find()
            .filter(assessment_draft::Column::TokenHash.eq(token_hash))
            .filter(assessment_draft::Column::ExpiresAt.gt(now))
            .one(db)
            .await
    }

    /// Writes the draft's answers, segment, language, expiry and response back.
    pub async fn save(
        db: &DatabaseConnection,
        draft: assessment_draft::Model,
    ) -> Result<(), DbErr> {
        let mut active = draft.into_active_model().reset_all();
        active.not_set(assessment_draft::Column::CreatedAt);
        active.not_set(assessment_draft::Column::TokenHash);
        active.update(db).await.map(|_| ())
    }

    /// Removes the drafts of firm `firm_ref`, in the erasure's transaction.
    pub async fn erase_firm(conn: &impl ConnectionTrait, firm_ref: &str) -> Result<u64, DbErr> {
        assessment_draft::Entity::delete_many()
            .filter(assessment_draft::Column::FirmRef.eq(firm_ref))
            .exec(conn)
            .await
            .map(|result| result.rows_affected)
    }
}
