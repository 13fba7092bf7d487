//! `POST /api/v1/surveys/{slug}/responses/batch`: up to 1,000 submissions, a result per item.

use actix_web::{HttpRequest, HttpResponse, post, web};
use chrono::Utc;
use readiness_analytics::FieldProblem;
use serde_json::Value;

use super::{BatchItemResult, BatchResult, SubmitBatch, submission_target};
use crate::domain::IdempotencyKey;
use crate::domain::submission::to_stored_precision;
use crate::http::extract::body::{BATCH_LIMIT, read};
use crate::http::extract::caller::Caller;
use crate::http::openapi::SubmissionRefusals;
use crate::http::problem::{ApiError, FieldError, Problem};
use crate::http::state::AppState;
use crate::services::submissions::{self, Source};
use crate::store::responses::Outcome;

pub const MAX_BATCH_ITEMS: usize = 1000;

/// Submit up to 1,000 responses at once.
///
/// Valid items are stored even when others fail; each item gets its own result, in order.
/// Items carry their own optional `idempotency_key`, so a retried batch stores nothing twice.
///
/// Needs a collector or admin key, unless the survey is public; a key that is sent must be
/// valid either way.
#[utoipa::path(
    tag = "responses",
    security(("bearer" = []), ()),
    params(("slug" = String, Path, description = "Survey slug", example = "ai-readiness")),
    request_body(content = SubmitBatch, content_type = "application/json"),
    responses(
        (status = 200, description = "One result per item", body = BatchResult),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        SubmissionRefusals,
        (status = 413, description = "More than 1,000 items or a body over 4 MiB", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The body is not an object with a `responses` array", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/surveys/{slug}/responses/batch")]
#[tracing::instrument(level = "debug", skip_all, fields(slug = %slug))]
pub async fn submit_batch(
    caller: Caller,
    state: web::Data<AppState>,
    req: HttpRequest,
    slug: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let survey_id = submission_target(&caller, &state, &slug).await?;
    let body = read::<BATCH_LIMIT>(&req, payload).await?;
    let items = batch_items(body)?;
    let entry = state.catalog.by_id(&state.db, survey_id).await?;
    let now = to_stored_precision(Utc::now());
    let scope = caller.key_scope();

    let mut results: Vec<Option<BatchItemResult>> = Vec::with_capacity(items.len());
    let mut to_store = Vec::new();
    let mut stored_at = Vec::new();
    for (index, mut item) in items.into_iter().enumerate() {
        let base = format!("/responses/{index}");
        let key = item_key(&mut item, &base).map(|key| key.map(|key| key.scoped(scope)));
        // Fingerprinted without its key, so a batch item and a single submission of the same
        // payload under the same key are the same request.
        match submissions::prepare(&entry, &slug, item, key, Source::Batch, now, &base) {
            Ok(row) => {
                to_store.push(row);
                stored_at.push(index);
                results.push(None);
            }
            Err(problems) => results.push(Some(rejected(index, 422, problems))),
        }
    }

    let outcomes = submissions::store(&state, to_store).await?;
    for (index, outcome) in stored_at.into_iter().zip(outcomes) {
        let key_pointer = format!("/responses/{index}/idempotency_key");
        results[index] = Some(match outcome {
            Outcome::Created(stored) => accepted(index, 201, &stored.row),
            Outcome::Replayed(stored) => accepted(index, 200, &stored.row),
            Outcome::KeyReused => rejected(
                index,
                422,
                vec![FieldProblem::new(
                    key_pointer,
                    "was already used with a different payload",
                )],
            ),
            Outcome::Erased => rejected(
                index,
                410,
                vec![FieldProblem::new(
                    format!("/responses/{index}/firm/ref"),
                    super::submit::erased().to_string(),
                )],
            ),
            Outcome::InFlight => rejected(
                index,
                409,
                vec![FieldProblem::new(
                    key_pointer,
                    "is held by a request still in progress; retry shortly",
                )],
            ),
        });
    }
    let results: Vec<BatchItemResult> = results.into_iter().flatten().collect();
    let count = |status: u16| results.iter().filter(|r| r.status == status).count();
    let (created, replayed) = (count(201), count(200));
    let rejected = results.len() - created - replayed;
    state
        .metrics
        .submissions("batch", created + replayed, rejected);
    Ok(HttpResponse::Ok().json(BatchResult {
        created,
        replayed,
        rejected,
        results,
    }))
}

fn batch_items(body: Value) -> Result<Vec<Value>, ApiError> {
    let Value::Object(mut object) = body else {
        return Err(ApiError::validation([FieldProblem::new(
            "",
            "must be an object with a `responses` array",
        )]));
    };
    let mut problems: Vec<FieldProblem> = object
        .keys()
        .filter(|key| key.as_str() != "responses")
        .map(|key| FieldProblem::new(crate::domain::pointer::child("", key), "unknown field"))
        .collect();
    let items = match object.remove("responses") {
        Some(Value::Array(items)) => Some(items),
        _ => None,
    };
    if items.is_none() {
        problems.push(FieldProblem::new(
            "/responses",
            "is required and must be an array",
        ));
    }
    match items {
        Some(items) if problems.is_empty() => {
            if items.len() > MAX_BATCH_ITEMS {
                Err(ApiError::TooManyItems(format!(
                    "a batch holds at most {MAX_BATCH_ITEMS} responses; this one has {}",
                    items.len()
                )))
            } else {
                Ok(items)
            }
        }
        _ => Err(ApiError::validation(problems)),
    }
}

/// Takes the item's `idempotency_key` out of it and checks it.
fn item_key(item: &mut Value, base: &str) -> Result<Option<IdempotencyKey>, FieldProblem> {
    let pointer = format!("{base}/idempotency_key");
    match item
        .as_object_mut()
        .and_then(|object| object.remove("idempotency_key"))
        .as_ref()
    {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(raw)) => IdempotencyKey::parse(raw)
            .map(Some)
            .map_err(|reason| FieldProblem::new(pointer, reason)),
        Some(_) => Err(FieldProblem::new(pointer, "must be a string")),
    }
}

fn accepted(
    index: usize,
    status: u16,
    row: &crate::store::entities::response::Model,
) -> BatchItemResult {
    BatchItemResult {
        index,
        status,
        id: Some(row.id),
        tier: Some(row.tier.clone()),
        errors: None,
    }
}

fn rejected(index: usize, status: u16, problems: Vec<FieldProblem>) -> BatchItemResult {
    BatchItemResult {
        index,
        status,
        id: None,
        tier: None,
        errors: Some(problems.into_iter().map(FieldError::from).collect()),
    }
}
