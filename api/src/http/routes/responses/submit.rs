//! `POST /api/v1/surveys/{slug}/responses`: submit one response, get the assessment back.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, post, web};
use chrono::Utc;

use super::{AssessmentView, SubmitResponse, idempotency_key_header, submission_target};
use crate::domain::submission::to_stored_precision;
use crate::http::extract::body::{SINGLE_LIMIT, read};
use crate::http::extract::caller::Caller;
use crate::http::extract::language::{AcceptLanguage, LangParam, Negotiated, label};
use crate::http::openapi::SubmissionRefusals;
use crate::http::problem::{ApiError, Problem};
use crate::http::state::AppState;
use crate::services::submissions::{self, Source, assessment_view};
use crate::store::responses::Outcome;

/// The `source` label of single submissions in the metrics.
const SOURCE: &str = "api";

/// Submit one response to the latest published version of a survey.
///
/// The firm gets its tier, the reasons (blockers) and its next step back at once. A `201` is
/// sent only after the response is committed. Retrying with the same `Idempotency-Key` and
/// the same body returns the original result with `200`.
///
/// Needs a collector or admin key, unless the survey is public; a key that is sent must be
/// valid either way.
#[utoipa::path(
    tag = "responses",
    security(("bearer" = []), ()),
    params(
        ("slug" = String, Path, description = "Survey slug", example = "ai-readiness"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe: 1–255 visible ASCII characters, unique per submission", min_length = 1, max_length = 255, pattern = "^[!-~]{1,255}$"),
        LangParam,
        AcceptLanguage,
    ),
    request_body(content = SubmitResponse, content_type = "application/json"),
    responses(
        (status = 201, description = "Stored and scored", body = AssessmentView,
            headers(("Location" = String, description = "URL of the stored response"))),
        (status = 200, description = "Replay of an earlier submission with the same Idempotency-Key and body", body = AssessmentView,
            headers(("Idempotent-Replayed" = String, description = "`true`"))),
        (status = 400, description = "Malformed JSON or Idempotency-Key", body = Problem, content_type = "application/problem+json"),
        SubmissionRefusals,
        (status = 409, description = "A request with the same Idempotency-Key is still in progress", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body over 64 KiB", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields (every one named), or the Idempotency-Key was used with another body", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/surveys/{slug}/responses")]
#[tracing::instrument(level = "debug", skip_all, fields(slug = %slug))]
pub async fn submit_response(
    caller: Caller,
    language: Negotiated,
    state: web::Data<AppState>,
    req: HttpRequest,
    slug: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let survey_id = submission_target(&caller, &state, &slug).await?;
    let key = idempotency_key_header(&req)?.map(|key| key.scoped(caller.key_scope()));
    let body = read::<SINGLE_LIMIT>(&req, payload).await?;
    let entry = state.catalog.by_id(&state.db, survey_id).await?;
    let now = to_stored_precision(Utc::now());
    let item = submissions::prepare(&entry, &slug, body, Ok(key), Source::Api, now, "").map_err(
        |problems| {
            state.metrics.submissions(SOURCE, 0, 1);
            ApiError::validation(problems)
        },
    )?;
    let outcome = submissions::store(&state, vec![item])
        .await?
        .pop()
        .ok_or_else(|| anyhow::anyhow!("the store returned no outcome"))?;
    let accepted = matches!(outcome, Outcome::Created(_) | Outcome::Replayed(_));
    state
        .metrics
        .submissions(SOURCE, usize::from(accepted), usize::from(!accepted));
    match outcome {
        Outcome::Created(stored) => {
            let view = assessment_view(&stored, &entry, language.0)?;
            let mut response = HttpResponse::Created()
                .insert_header((header::LOCATION, format!("/api/v1/responses/{}", view.id)))
                .json(view);
            label(&mut response, entry.localised(language.0).served());
            Ok(response)
        }
        Outcome::Replayed(stored) => {
            let entry = state.catalog.by_id(&state.db, stored.row.survey_id).await?;
            let mut response = HttpResponse::Ok()
                .insert_header(("Idempotent-Replayed", "true"))
                .json(assessment_view(&stored, &entry, language.0)?);
            label(&mut response, entry.localised(language.0).served());
            Ok(response)
        }
        Outcome::KeyReused => Err(ApiError::Unprocessable {
            code: "idempotency_key_reused",
            detail: "this Idempotency-Key was already used with a different request body"
                .to_owned(),
        }),
        Outcome::Erased => Err(erased()),
        Outcome::InFlight => Err(ApiError::Conflict {
            code: "idempotency_key_in_flight",
            detail: "a request with this Idempotency-Key is still being processed; retry shortly"
                .to_owned(),
        }),
    }
}

/// The refusal of a submission for a firm erased on request.
pub fn erased() -> ApiError {
    ApiError::Gone {
        code: "firm_erased",
        detail: format!(
            "this firm was erased on request; its submissions, and replays of its idempotency \
             keys, are refused for {} days after the erasure",
            crate::domain::tombstone::TOMBSTONE_DAYS
        ),
    }
}
