use sea_orm::entity::prelude::*;

/// An endpoint events are delivered to.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_endpoints")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub url: String,
    /// `whsec_` and the base64 of the signing key (Standard Webhooks).
    pub secret: String,
    /// The event types delivered, `["response.created", "firm.erased"]`.
    pub events: Json,
    pub description: Option<String>,
    pub created_at: DateTimeUtc,
    /// The admin key that registered it; `None` for the command line.
    pub created_by: Option<Uuid>,
    /// The change feed position up to which its deliveries exist.
    pub after_txid: i64,
    pub after_seq: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
