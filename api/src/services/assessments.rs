//! The firm's own self-assessment: drafts kept server-side while a firm answers step by step,
//! and their submission as an ordinary response (the same validation, rubric and writer as
//! `POST /surveys/{slug}/responses`), exactly once per draft.

use std::collections::BTreeMap;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use readiness_analytics::texts::Language;
use readiness_analytics::{Dimension, FieldProblem};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::Services;
use super::catalog::Entry;
use super::error::ServiceError;
use super::submissions::{self, Source};
use crate::domain::firm::FirmProfile;
use crate::domain::idempotency::{IdempotencyKey, KeyScope};
use crate::domain::invitation::{Invitation, Segment};
use crate::domain::share_token::ShareSigner;
use crate::domain::submission::to_stored_precision;
use crate::store::drafts::DraftStore;
use crate::store::entities::assessment_draft;
use crate::store::responses::{Outcome, Stored};
use crate::store::secrets::SecretStore;

/// How long a draft lives after its last change.
pub const DRAFT_DAYS: i64 = 30;
/// The longest an invitation may be valid.
pub const MAX_INVITATION_DAYS: i64 = 365;
/// The name of the signing secret in `server_secrets`.
const SECRET_NAME: &str = "assessment_signing_key";
/// Separates CSRF tags from every other use of the signing secret.
const CSRF_CONTEXT: &[u8] = b"readiness assessment form v1\n";

/// The signer of invitations and form tokens, from the secret every replica shares.
pub async fn signing_key(db: &sea_orm::DatabaseConnection) -> anyhow::Result<ShareSigner> {
    let mut random = [0u8; 32];
    getrandom::fill(&mut random)
        .map_err(|e| anyhow::anyhow!("no randomness for the assessment key: {e}"))?;
    let stored = SecretStore::get_or_create(db, SECRET_NAME, || hex::encode(random)).await?;
    ShareSigner::new(stored.as_bytes()).map_err(|e| anyhow::anyhow!("assessment key: {e}"))
}

/// A fresh random value for a link or a cookie: 32 bytes, base64url.
pub fn random_token() -> Result<String, ServiceError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// The form token that goes with a browser's CSRF cookie value.
pub fn csrf_token(signer: &ShareSigner, cookie: &str) -> String {
    URL_SAFE_NO_PAD.encode(signer.tag(CSRF_CONTEXT, cookie.as_bytes()))
}

/// Whether a form's token goes with the cookie the browser sent.
pub fn csrf_matches(signer: &ShareSigner, cookie: &str, token: &str) -> bool {
    URL_SAFE_NO_PAD
        .decode(token)
        .is_ok_and(|tag| signer.check(CSRF_CONTEXT, cookie.as_bytes(), &tag))
}

fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// One page of the questionnaire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// The firm's industry, size band, country and region.
    Segment,
    Section(Dimension),
}

/// A draft with its instrument, answers and segment decoded.
#[derive(Debug, Clone)]
pub struct Draft {
    pub model: assessment_draft::Model,
    pub entry: Arc<Entry>,
    pub segment: Option<Segment>,
    pub answers: BTreeMap<String, String>,
}

impl Draft {
    /// The steps in order: the segment (unless an invitation fixed it), then each section.
    pub fn steps(&self) -> Vec<Step> {
        steps(&self.entry, self.model.firm_fixed)
    }

    pub fn language(&self) -> Language {
        Language::from_tag(&self.model.language).unwrap_or(Language::DEFAULT)
    }

    /// The first step with an unanswered required question (the last step when none).
    pub fn first_open_step(&self) -> usize {
        let steps = self.steps();
        steps
            .iter()
            .position(|step| !self.step_problems(*step).is_empty())
            .unwrap_or(steps.len().saturating_sub(1))
    }

    /// Required answers missing on `step`: question keys (or segment field names).
    pub fn step_problems(&self, step: Step) -> Vec<String> {
        match step {
            Step::Segment => {
                if self.segment.is_some() {
                    Vec::new()
                } else {
                    vec!["industry".to_owned()]
                }
            }
            Step::Section(dimension) => missing_answers(&self.entry, dimension, &self.answers),
        }
    }
}

/// The required questions of section `dimension` that `answers` leaves unanswered.
pub fn missing_answers(
    entry: &Entry,
    dimension: Dimension,
    answers: &BTreeMap<String, String>,
) -> Vec<String> {
    entry
        .instrument
        .questions()
        .iter()
        .filter(|q| q.section == dimension && q.required && !answers.contains_key(&q.key))
        .map(|q| q.key.clone())
        .collect()
}

/// The steps of an instrument.
pub fn steps(entry: &Entry, firm_fixed: bool) -> Vec<Step> {
    let mut steps = Vec::new();
    if !firm_fixed {
        steps.push(Step::Segment);
    }
    steps.extend(
        entry
            .instrument
            .definition()
            .sections
            .iter()
            .map(|s| Step::Section(s.key)),
    );
    steps
}

/// Checks a segment as the firm gave it; problems point at `/firm/<field>`.
pub fn check_segment(
    industry: &str,
    size_band: &str,
    country: &str,
    region: &str,
) -> Result<Segment, Vec<FieldProblem>> {
    let mut firm =
        json!({"ref": "segment", "industry": industry, "size_band": size_band, "country": country});
    if !region.trim().is_empty() {
        firm["region"] = json!(region.trim());
    }
    FirmProfile::parse(Some(&firm), "/firm").map(|profile| Segment {
        industry: profile.industry().to_owned(),
        size_band: profile.size_band().to_owned(),
        country: profile.country().to_owned(),
        region: profile.region().map(str::to_owned),
    })
}

/// Starts a draft of `entry` in `language`, from an invitation or for a public survey, with
/// the segment the firm gave (when the invitation does not fix one). Returns the link's
/// token: only its hash is stored.
pub async fn start(
    services: &Services,
    entry: Arc<Entry>,
    language: Language,
    invitation: Option<&Invitation>,
    segment: Option<Segment>,
    now: DateTime<Utc>,
) -> Result<(String, Draft), ServiceError> {
    let token = random_token()?;
    let now = to_stored_precision(now);
    let fixed = invitation.and_then(|i| i.segment.clone());
    let firm_fixed = fixed.is_some();
    let segment = fixed.or(segment);
    let firm_ref = match invitation.and_then(|i| i.firm_ref.clone()) {
        Some(reference) => reference,
        None => format!("self-{}", Uuid::new_v4().simple()),
    };
    let model = assessment_draft::Model {
        id: Uuid::new_v4(),
        token_hash: token_hash(&token),
        survey_id: entry.survey_id,
        language: language.tag().to_owned(),
        firm_ref,
        collector_key_id: invitation.map(|i| i.key),
        firm: serde_json::to_value(&segment).map_err(anyhow::Error::from)?,
        firm_fixed,
        answers: json!({}),
        response_id: None,
        created_at: now,
        updated_at: now,
        expires_at: now + Duration::days(DRAFT_DAYS),
    };
    DraftStore::create(&services.db, model.clone()).await?;
    Ok((
        token,
        Draft {
            model,
            entry,
            segment,
            answers: BTreeMap::new(),
        },
    ))
}

/// The unexpired draft of a link, if any.
pub async fn open(
    services: &Services,
    token: &str,
    now: DateTime<Utc>,
) -> Result<Option<Draft>, ServiceError> {
    if token.len() != 43 {
        return Ok(None);
    }
    let Some(model) = DraftStore::by_token_hash(&services.db, &token_hash(token), now).await?
    else {
        return Ok(None);
    };
    let entry = services
        .catalog
        .by_id(&services.db, model.survey_id)
        .await?;
    let segment = serde_json::from_value(model.firm.clone()).unwrap_or(None);
    let answers = serde_json::from_value(model.answers.clone()).unwrap_or_default();
    Ok(Some(Draft {
        model,
        entry,
        segment,
        answers,
    }))
}

/// Writes the draft back; its 30 days start again.
pub async fn save(
    services: &Services,
    draft: &mut Draft,
    now: DateTime<Utc>,
) -> Result<(), ServiceError> {
    let now = to_stored_precision(now);
    draft.model.firm = serde_json::to_value(&draft.segment).map_err(anyhow::Error::from)?;
    draft.model.answers = serde_json::to_value(&draft.answers).map_err(anyhow::Error::from)?;
    draft.model.updated_at = now;
    draft.model.expires_at = now + Duration::days(DRAFT_DAYS);
    DraftStore::save(&services.db, draft.model.clone()).await?;
    Ok(())
}

/// What submitting a draft came to.
#[derive(Debug)]
pub enum Submitted {
    /// Stored now or earlier (a double submit finds the first response).
    Stored(Box<Stored>),
    /// The answers do not pass validation (they were altered): the problems.
    Invalid(Vec<FieldProblem>),
    /// The firm was erased on request.
    Erased,
}

/// Submits the draft's answers once: its idempotency key is the draft's id, so a double
/// click or a back-and-resubmit stores one response.
pub async fn submit(
    services: &Services,
    draft: &mut Draft,
    now: DateTime<Utc>,
) -> Result<Submitted, ServiceError> {
    let Some(segment) = draft.segment.clone() else {
        return Ok(Submitted::Invalid(vec![FieldProblem::new(
            "/firm/industry",
            "is required",
        )]));
    };
    let mut firm = json!({
        "ref": draft.model.firm_ref,
        "industry": segment.industry,
        "size_band": segment.size_band,
        "country": segment.country,
    });
    if let Some(region) = &segment.region {
        firm["region"] = json!(region);
    }
    let answers: serde_json::Map<String, Value> = draft
        .answers
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    let body = json!({"firm": firm, "answers": answers});
    let key = IdempotencyKey::parse(&format!("draft-{}", draft.model.id.simple()))
        .map_err(|e| anyhow::anyhow!("a draft's key is refused: {e}"))?
        .scoped(KeyScope::Assessment);
    let item = match submissions::prepare(
        &draft.entry,
        &draft.entry.slug,
        body,
        Ok(Some(key)),
        Source::Web,
        to_stored_precision(now),
        "",
    ) {
        Ok(item) => item,
        Err(problems) => return Ok(Submitted::Invalid(problems)),
    };
    let outcome = submissions::store(services, vec![item])
        .await?
        .pop()
        .ok_or_else(|| anyhow::anyhow!("the store returned no outcome"))?;
    let stored = match outcome {
        Outcome::Created(stored) | Outcome::Replayed(stored) => stored,
        Outcome::Erased => return Ok(Submitted::Erased),
        Outcome::KeyReused | Outcome::InFlight => {
            // Another request of the same draft with other answers, or still in flight: the
            // first one decides; read what it stored.
            return Err(ServiceError::Internal(anyhow::anyhow!(
                "draft {} was submitted twice at once with different answers",
                draft.model.id
            )));
        }
    };
    draft.model.response_id = Some(stored.row.id);
    save(services, draft, now).await?;
    services.metrics.submissions(Source::Web.as_str(), 1, 0);
    Ok(Submitted::Stored(Box::new(stored)))
}
