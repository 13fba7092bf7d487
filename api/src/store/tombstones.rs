//! Erasure tombstones: digests (never values) that refuse an erased firm's replays for
//! [`crate::domain::tombstone::TOMBSTONE_DAYS`] days.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};

use super::entities::erasure_tombstone;

/// Digests per `IN (…)` list.
const CHUNK: usize = 500;

pub struct TombstoneStore;

impl TombstoneStore {
    /// Records the digests (a digest recorded again is dated anew).
    pub async fn record<C: ConnectionTrait>(
        conn: &C,
        digests: impl IntoIterator<Item = String>,
        at: DateTime<Utc>,
    ) -> Result<(), DbErr> {
        let rows: Vec<erasure_tombstone::ActiveModel> = digests
            .into_iter()
            .collect::<HashSet<_>>()
            .into_iter()
            .map(|digest| erasure_tombstone::ActiveModel {
                digest: Set(digest),
                erased_at: Set(at),
            })
            .collect();
        for chunk in rows.chunks(CHUNK) {
            erasure_tombstone::Entity::insert_many(chunk.to_vec())
                .on_conflict(
                    OnConflict::column(erasure_tombstone::Column::Digest)
                        .update_column(erasure_tombstone::Column::ErasedAt)
                        .to_owned(),
                )
                .exec_without_returning(conn)
                .await?;
        }
        Ok(())
    }

    /// Which of these digests have a tombstone.
    pub async fn found<C: ConnectionTrait>(
        conn: &C,
        digests: &[&str],
    ) -> Result<HashSet<String>, DbErr> {
        let mut found = HashSet::new();
        for chunk in digests.chunks(CHUNK) {
            let rows = erasure_tombstone::Entity::find()
                .filter(
                    erasure_tombstone::Column::Digest.is_in(chunk.iter().map(|d| (*d).to_owned())),
                )
                .all(conn)
                .await?;
            found.extend(rows.into_iter().map(|row| row.digest));
        }
        Ok(found)
    }

    /// Forgets tombstones older than `before`; returns how many.
    pub async fn purge<C: ConnectionTrait>(conn: &C, before: DateTime<Utc>) -> Result<u64, DbErr> {
        Ok(erasure_tombstone::Entity::delete_many()
            .filter(erasure_tombstone::Column::ErasedAt.lt(before))
            .exec(conn)
            .await?
            .rows_affected)
    }
}
