use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "assessment_drafts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// SHA-256 (hex) of the token in the draft's link.
    #[sea_orm(unique)]
    pub token_hash: String,
    pub survey_id: i32,
    /// `en` or `zh-Hans`: the language the draft was last shown in.
    pub language: String,
    /// The firm reference the response will be stored under.
    pub firm_ref: String,
    /// The collector whose invitation started the draft.
    pub collector_key_id: Option<Uuid>,
    /// `{"industry", "size_band", "country", "region"}` as answered (or as the invitation set).
    pub firm: Json,
    /// Whether the invitation fixed the firm's segment (its step is then not shown).
    pub firm_fixed: bool,
    /// Question key → option key.
    pub answers: Json,
    /// The stored response, once submitted.
    pub response_id: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
