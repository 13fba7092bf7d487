//! Submissions: scoring a valid submission into the row to store, storing it through the
//! group-commit writer, and the assessment the firm is told, rebuilt from a stored row.

use chrono::{DateTime, Utc};
use readiness_analytics::texts::Language;
use readiness_analytics::{FieldProblem, assess};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use super::catalog::Entry;
use super::error::ServiceError;
use crate::domain::{ScopedKey, Submission, payload_hash};
use crate::store::entities::response;
use crate::store::responses::{NewResponse, Outcome, Stored};

use super::Services;

/// Where a response came from.
#[derive(Debug, Clone, Copy)]
pub enum Source {
    Api,
    Batch,
    /// Bulk loads: imports and demo data.
    Import,
    /// The self-assessment pages.
    Web,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Api => "api",
            Source::Batch => "batch",
            Source::Import => "import",
            Source::Web => "web",
        }
    }
}

/// Parses one submission body against its survey version and scores it into the row to
/// store. The fingerprint of an item with a key is taken before parsing takes the body apart;
/// every problem (the body's fields under `base`, and the key's) is named at once.
pub fn prepare(
    entry: &Entry,
    slug: &str,
    body: Value,
    key: Result<Option<ScopedKey>, FieldProblem>,
    source: Source,
    now: DateTime<Utc>,
    base: &str,
) -> Result<NewResponse, Vec<FieldProblem>> {
    let hash = matches!(key, Ok(Some(_))).then(|| payload_hash(slug, &body));
    match (Submission::parse(body, &entry.instrument, now, base), key) {
        (Ok(submission), Ok(key)) => {
            Ok(new_response(entry, submission, source, key.zip(hash), now))
        }
        (submission, key) => {
            let mut problems = submission.err().unwrap_or_default();
            problems.extend(key.err());
            Err(problems)
        }
    }
}

/// Stores prepared rows through the group-commit writer; one outcome per row, each sent only
/// after the transaction that holds it has committed. A row of an erased firm, or one
/// replaying an erased firm's idempotency key, is not stored ([`Outcome::Erased`]).
pub async fn store(
    services: &Services,
    items: Vec<NewResponse>,
) -> Result<Vec<Outcome>, ServiceError> {
    match services.writer.store(items).await {
        Ok(outcomes) => {
            services.storage.wrote();
            if outcomes.iter().any(|o| matches!(o, Outcome::Created(_))) {
                services.reports.touch();
            }
            Ok(outcomes)
        }
        Err(error) => {
            let error = ServiceError::from(error);
            if let ServiceError::StorageUnavailable(cause) = &error {
                services.storage.fault(cause.as_ref());
            }
            Err(error)
        }
    }
}

/// Scores a valid submission and prepares the row to store.
pub fn new_response(
    entry: &Entry,
    submission: Submission,
    source: Source,
    idempotency: Option<(ScopedKey, String)>,
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

/// The assessment as the firm is told it, rebuilt from what was stored, in `language` where
/// the instrument's texts are written in it.
pub fn assessment_view(
    stored: &Stored,
    entry: &Entry,
    language: Language,
) -> Result<AssessmentView, ServiceError> {
    let row = &stored.row;
    let instrument = &entry.instrument;
    let texts = entry.localised(language);
    let (rank, tier) = instrument
        .tier(&row.tier)
        .ok_or_else(|| anyhow::anyhow!("response {} has unknown tier {}", row.id, row.tier))?;
    let next_tier = instrument
        .tiers()
        .get(usize::from(rank))
        .map(|next| NextTierView {
            key: next.key.clone(),
            rank: rank + 1,
            label: texts.tier_label(&next.key),
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
                .map(|g| texts.gate_reason(&g.id))
                .ok_or_else(|| anyhow::anyhow!("response {} has unknown gate {gate}", row.id))?;
            Ok(BlockerView {
                gate: gate.to_owned(),
                reason,
            })
        })
        .collect::<Result<Vec<_>, ServiceError>>()?;
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
            label: texts.tier_label(&tier.key),
            advice: texts.tier_advice(&tier.key),
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

/// The survey version that scored a response.
#[derive(Debug, Serialize, ToSchema)]
pub struct SurveyRef {
    #[schema(example = "ai-readiness")]
    pub slug: String,
    #[schema(example = 1)]
    pub version: i32,
}

/// A readiness tier.
#[derive(Debug, Serialize, ToSchema)]
pub struct TierView {
    /// `vendor_prompting`, `vendor_rag`, `fine_tune` or `own_model` in `ai-readiness` v1.
    #[schema(example = "fine_tune")]
    pub key: String,
    /// 1 = lowest.
    #[schema(example = 3)]
    pub rank: u8,
    pub label: String,
    /// The next step the firm should take.
    pub advice: String,
}

/// The tier above the firm's.
#[derive(Debug, Serialize, ToSchema)]
pub struct NextTierView {
    #[schema(example = "own_model")]
    pub key: String,
    #[schema(example = 4)]
    pub rank: u8,
    pub label: String,
}

/// A failed gate of the next tier.
#[derive(Debug, Serialize, ToSchema)]
pub struct BlockerView {
    #[schema(example = "own_model.inhouse_skill")]
    pub gate: String,
    #[schema(example = "Nobody in house has trained a model before.")]
    pub reason: String,
}

/// Descriptive scores, 0–100: the mean of each section's normalised answers.
#[derive(Debug, Serialize, ToSchema)]
pub struct DimensionScoresView {
    pub maturity: f64,
    pub clarity: f64,
    pub vendor_gap: f64,
    pub capability: f64,
    pub governance: f64,
}

/// The verdict for one submission.
#[derive(Debug, Serialize, ToSchema)]
pub struct AssessmentView {
    pub id: Uuid,
    pub survey: SurveyRef,
    #[schema(example = "acme-001")]
    pub firm_ref: String,
    pub submitted_at: DateTime<Utc>,
    pub tier: TierView,
    /// True at the fine-tuning tier and above.
    pub ready_to_customise: bool,
    /// `null` at the top tier.
    pub next_tier: Option<NextTierView>,
    /// What keeps the firm from the next tier.
    pub blockers: Vec<BlockerView>,
    pub dimension_scores: DimensionScoresView,
}
