use sea_orm::entity::prelude::*;

/// A keyed hash of an erased firm's reference or of one of its idempotency keys
/// (`domain::tombstone`), kept for a while after the erasure.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "erasure_tombstones")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub digest: String,
    pub erased_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
