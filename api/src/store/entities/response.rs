use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "responses")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub survey_id: i32,
    pub firm_id: Uuid,
    /// Question key → option key, as submitted.
    pub answers: Json,
    /// Segment attributes as submitted with this response.
    pub industry: String,
    pub size_band: String,
    pub country: String,
    pub region: Option<String>,
    pub tier: String,
    pub tier_rank: i16,
    pub ready_to_customise: bool,
    /// Ids of the failed gates of the next tier.
    pub blockers: Json,
    pub score_maturity: f64,
    pub score_clarity: f64,
    pub score_vendor_gap: f64,
    pub score_capability: f64,
    pub score_governance: f64,
    /// `<slug>@<version>` of the rubric that scored the response.
    pub rubric_version: String,
    pub submitted_at: DateTimeUtc,
    pub received_at: DateTimeUtc,
    /// `api` | `batch` | `import` | `web`
    pub source: String,
    pub idempotency_key: Option<String>,
    /// SHA-256 (hex) of the canonical request payload.
    pub payload_hash: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
