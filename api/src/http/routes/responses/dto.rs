//! Request and response bodies of the responses routes, as published in the OpenAPI contract.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::http::problem::FieldError;
use crate::http::routes::codes::{CountryCode, IndustryCode, RegionCode, SizeBand};
pub use crate::services::submissions::{
    AssessmentView, BlockerView, DimensionScoresView, NextTierView, SurveyRef, TierView,
};

/// The firm that answers: its stable reference and segment attributes.
#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FirmInput {
    /// The collector's stable id for the firm (1–128 characters).
    #[serde(rename = "ref")]
    #[schema(example = "acme-001", min_length = 1, max_length = 128)]
    pub external_ref: String,
    /// NACE Rev.2 section letter.
    #[schema(value_type = IndustryCode)]
    pub industry: String,
    pub size_band: SizeBand,
    /// ISO 3166-1 alpha-2 country code.
    #[schema(value_type = CountryCode)]
    pub country: String,
    /// ISO 3166-2 subdivision of `country`.
    #[schema(value_type = Option<RegionCode>)]
    pub region: Option<String>,
}

/// A firm's answers to a survey.
#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "firm": {"ref": "acme-001", "industry": "C", "size_band": "small", "country": "DE", "region": "DE-BY"},
    "answers": {
        "business_age": "gt_5y", "revenue_trend": "growing", "task_definition": "test_cases",
        "workflow_integration": "integrated_with_review", "prior_attempts": "prompts_and_knowledge_base",
        "vendor_result": "format_or_consistency", "monthly_ai_spend": "100_1k", "data_restrictions": "none",
        "training_examples": "100_499", "knowledge_organisation": "structured_owned",
        "inhouse_skill": "scripts_api", "customisation_budget": "10k_50k",
        "ai_ownership": "named_owner", "staff_ai_usage": "most"
    },
    "submitted_at": "2026-10-01T12:00:00Z"
}))]
pub struct SubmitResponse {
    pub firm: FirmInput,
    /// Question key → option key, one entry per question of the survey version.
    pub answers: BTreeMap<String, String>,
    /// When the firm answered (RFC 3339); defaults to the time of receipt; at most 5 minutes
    /// in the future.
    pub submitted_at: Option<DateTime<Utc>>,
}

/// A firm's attributes as stored with a response.
#[derive(Debug, Serialize, ToSchema)]
pub struct FirmView {
    #[serde(rename = "ref")]
    pub external_ref: String,
    pub industry: String,
    #[schema(value_type = SizeBand)]
    pub size_band: String,
    pub country: String,
    pub region: Option<String>,
}

/// A stored response: its assessment, the firm as submitted, and the answers.
#[derive(Debug, Serialize, ToSchema)]
pub struct StoredResponseView {
    #[serde(flatten)]
    pub assessment: AssessmentView,
    pub firm: FirmView,
    pub answers: BTreeMap<String, String>,
    pub received_at: DateTime<Utc>,
    /// `api`, `batch`, `import` or `web` (the self-assessment pages).
    #[schema(example = "api")]
    pub source: String,
}

/// One batch item: a submission (as `SubmitResponse`) with an optional idempotency key.
#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchItem {
    pub firm: FirmInput,
    /// Question key → option key, one entry per question of the survey version.
    pub answers: BTreeMap<String, String>,
    /// When the firm answered (RFC 3339); defaults to the time of receipt; at most 5 minutes
    /// in the future.
    pub submitted_at: Option<DateTime<Utc>>,
    /// Makes retrying the batch safe, like the `Idempotency-Key` header (1–255 visible ASCII).
    #[schema(min_length = 1, max_length = 255, pattern = "^[!-~]{1,255}$")]
    pub idempotency_key: Option<String>,
}

/// Up to 1,000 submissions at once.
#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubmitBatch {
    #[schema(max_items = 1000)]
    pub responses: Vec<BatchItem>,
}

/// The result of one batch item.
#[derive(Debug, Serialize, ToSchema)]
pub struct BatchItemResult {
    /// Position of the item in the request.
    pub index: usize,
    /// 201 stored, 200 replayed (idempotency key seen with the same payload), 409 the key is
    /// held by a request still in progress, 410 the firm was erased on request (or the key is
    /// one of an erased firm's), 422 invalid or the key was used with another payload.
    #[schema(example = 201)]
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tier: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<FieldError>>,
}

/// One result per item, in order.
#[derive(Debug, Serialize, ToSchema)]
pub struct BatchResult {
    pub created: usize,
    pub replayed: usize,
    pub rejected: usize,
    pub results: Vec<BatchItemResult>,
}
