//! Submitting and reading responses.

mod dto;
pub mod get;
pub mod submit;
pub mod submit_batch;

pub use dto::*;

use chrono::{DateTime, Utc};
use readiness_analytics::assess;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use crate::auth::{Caller, Permission, Submit};
use crate::catalog::Entry;
use crate::domain::{IdempotencyKey, Submission};
use crate::problem::ApiError;
use crate::store::entities::response;
use crate::store::responses::{NewResponse, Stored};

pub fn configure(config: &mut ServiceConfig) {
    config
        .service(submit::submit_response)
        .service(submit_batch::submit_batch)
        .service(get::get_response);
}

/// Where a response came from.
#[derive(Debug, Clone, Copy)]
pub enum Source {
    Api,
    Batch,
    /// Bulk loads: imports and demo data.
    Import,
}

impl Source {
    fn as_str(self) -> &'static str {
        match self {
            Source::Api => "api",
            Source::Batch => "batch",
            Source::Import => "import",
        }
    }
}

/// Scores a valid submission and prepares the row to store.
pub fn new_response(
    entry: &Entry,
    submission: Submission,
    source: Source,
    idempotency: Option<(IdempotencyKey, String)>,
    now: DateTime<Utc>,
) -> NewResponse {
    let assessment = assess(&entry.instrument, &submission.answers);
    let scores = assessment.dimension_scores;
    let firm = &submission.firm;
    let (idempotency_key, payload_hash) = match idempotency {
        Some((key, hash)) => (Some(key.into_inner()), Some(hash)),
        None => (None, None),
    };
    NewResponse {
        firm_ref: firm.external_ref().to_owned(),
        row: response::Model {
            id: Uuid::now_v7(),
            survey_id: entry.survey_id,
            firm_id: Uuid::nil(),
            answers: submission.answers_json,
            industry: firm.industry().to_owned(),
            size_band: firm.size_band().to_owned(),
            country: firm.country().to_owned(),
            region: firm.region().map(str::to_owned),
            tier: assessment.tier.key,
            tier_rank: i16::from(assessment.tier.rank),
            ready_to_customise: assessment.ready_to_customise,
            blockers: serde_json::Value::from(
                assessment
                    .blockers
                    .into_iter()
                    .map(|b| b.gate)
                    .collect::<Vec<_>>(),
            ),
            score_maturity: scores.maturity,
            score_clarity: scores.clarity,
            score_vendor_gap: scores.vendor_gap,
            score_capability: scores.capability,
            score_governance: scores.governance,
            rubric_version: format!("{}@{}", entry.slug, entry.version),
            submitted_at: submission.submitted_at.unwrap_or(now),
            received_at: now,
            source: source.as_str().to_owned(),
            idempotency_key,
            payload_hash,
        },
    }
}

/// The assessment as the firm is told it, rebuilt from what was stored.
pub fn assessment_view(stored: &Stored, entry: &Entry) -> Result<AssessmentView, ApiError> {
    let row = &stored.row;
    let instrument = &entry.instrument;
    let (rank, tier) = instrument
        .tier(&row.tier)
        .ok_or_else(|| anyhow::anyhow!("response {} has unknown tier {}", row.id, row.tier))?;
    let next_tier = instrument
        .tiers()
        .get(usize::from(rank))
        .map(|next| NextTierView {
            key: next.key.clone(),
            rank: rank + 1,
            label: next.label.clone(),
        });
    let malformed = || anyhow::anyhow!("response {} has malformed blockers", row.id);
    let blockers = row
        .blockers
        .as_array()
        .ok_or_else(malformed)?
        .iter()
        .map(|gate| {
            let gate = gate.as_str().ok_or_else(malformed)?;
            let reason = instrument
                .gate(gate)
                .map(|g| g.reason.clone())
                .ok_or_else(|| anyhow::anyhow!("response {} has unknown gate {gate}", row.id))?;
            Ok(BlockerView {
                gate: gate.to_owned(),
                reason,
            })
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    Ok(AssessmentView {
        id: row.id,
        survey: SurveyRef {
            slug: entry.slug.clone(),
            version: entry.version,
        },
        firm_ref: stored.firm_ref.clone(),
        submitted_at: row.submitted_at,
        tier: TierView {
            key: tier.key.clone(),
            rank,
            label: tier.label.clone(),
            advice: tier.advice.clone(),
        },
        ready_to_customise: row.ready_to_customise,
        next_tier,
        blockers,
        dimension_scores: DimensionScoresView {
            maturity: row.score_maturity,
            clarity: row.score_clarity,
            vendor_gap: row.score_vendor_gap,
            capability: row.score_capability,
            governance: row.score_governance,
        },
    })
}

/// The survey version a caller may submit to, given the id and `public` flag of the latest
/// published version of `slug`: with a collector or admin key any published survey,
/// otherwise only a public one. Without the right key, an unknown survey and a survey that is
/// not public get the same `401` or `403`, so the reply does not tell which surveys exist.
pub fn submission_target(
    caller: &Caller,
    slug: &str,
    survey: Option<(i32, bool)>,
) -> Result<i32, ApiError> {
    let allowed = caller.has_any(Submit::ROLES) || survey.is_some_and(|(_, public)| public);
    if !allowed {
        return Err(caller.refusal());
    }
    survey
        .map(|(id, _)| id)
        .ok_or_else(|| ApiError::NotFound(format!("no published survey `{slug}`")))
}

/// The `Idempotency-Key` header, if sent.
pub fn idempotency_key_header(
    req: &actix_web::HttpRequest,
) -> Result<Option<IdempotencyKey>, ApiError> {
    let Some(value) = req.headers().get("Idempotency-Key") else {
        return Ok(None);
    };
    let raw = value
        .to_str()
        .map_err(|_| bad_key("must be visible ASCII"))?;
    IdempotencyKey::parse(raw)
        .map(Some)
        .map_err(|reason| bad_key(&reason))
}

fn bad_key(reason: &str) -> ApiError {
    ApiError::BadRequest {
        code: "invalid_idempotency_key",
        detail: format!("the Idempotency-Key header {reason}"),
    }
}
