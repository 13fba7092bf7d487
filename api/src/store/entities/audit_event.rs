use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub at: DateTimeUtc,
    /// The key that acted.
    pub actor: Option<Uuid>,
    pub action: String,
    pub target: String,
    /// The server's id of the request.
    pub request_id: Option<String>,
    /// The client's `X-Request-Id`.
    pub client_request_id: Option<String>,
    pub details: Json,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
