use sea_orm::entity::prelude::*;

/// One event for one endpoint, with what became of its attempts.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_deliveries")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub endpoint_id: Uuid,
    /// `webhook-id`: the same on every attempt.
    pub event_id: String,
    pub kind: String,
    /// The body sent, byte for byte the same on every attempt.
    pub payload: String,
    /// The event's position in the change feed.
    pub txid: i64,
    pub seq: i64,
    /// `pending`, `delivered` or `failed` (gave up).
    pub status: String,
    pub attempts: i32,
    /// When a pending delivery is next tried (or the lease of the attempt in progress ends).
    pub next_attempt_at: Option<DateTimeUtc>,
    pub last_attempt_at: Option<DateTimeUtc>,
    /// The HTTP status of the last attempt; `None` when it got no response.
    pub last_status: Option<i32>,
    pub last_error: Option<String>,
    pub created_at: DateTimeUtc,
    pub delivered_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
