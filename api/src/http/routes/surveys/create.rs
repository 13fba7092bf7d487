//! `POST /api/v1/surveys`: a new draft version of a survey, from an instrument definition.

use actix_web::{HttpResponse, post, web};
use readiness_analytics::{Definition, FieldProblem, Instrument, InstrumentError};
use sea_orm::SqlErr;
use serde_json::Value;

use super::{SurveyView, survey_view};
use crate::http::extract::body::{DEFINITION_LIMIT, Json};
use crate::http::extract::caller::{Administer, Authorized};
use crate::http::middleware::request_id::RequestId;
use crate::http::openapi::AdminOnly;
use crate::http::problem::{ApiError, Problem};
use crate::http::state::AppState;
use crate::store::surveys::SurveyStore;

/// Create a draft version of a survey.
///
/// The body is an instrument definition in the format of `GET /surveys/{slug}`'s
/// `definition`. Its `version` is assigned by the server: one more than the highest version
/// of the slug so far. The definition is checked like the built-in one and every problem is
/// reported. A draft is not visible to the public routes until it is published. Recorded in
/// the audit log.
#[utoipa::path(
    tag = "surveys",
    security(("bearer" = [])),
    request_body(content = Definition, content_type = "application/json"),
    responses(
        (status = 201, description = "The draft", body = SurveyView),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        AdminOnly,
        (status = 409, description = "Another version of this slug was created at the same moment; retry", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body over 1 MiB", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Body not sent as application/json", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The definition is invalid (every problem named)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/surveys")]
#[tracing::instrument(skip_all)]
pub async fn create_survey(
    admin: Authorized<Administer>,
    request_id: RequestId,
    state: web::Data<AppState>,
    body: Json<DEFINITION_LIMIT>,
) -> Result<HttpResponse, ApiError> {
    let mut definition = body.0;
    let slug = parse_slug(&definition).map_err(|problem| ApiError::validation([problem]))?;
    let version = SurveyStore::next_version(&state.db, &slug).await?;
    if let Some(object) = definition.as_object_mut() {
        object.insert("version".to_owned(), Value::from(version));
    }
    let definition: Definition = serde_json::from_value(definition)
        .map_err(|error| ApiError::validation([FieldProblem::new("", error.to_string())]))?;
    let instrument = Instrument::from_definition(definition).map_err(definition_problems)?;
    let checked = instrument.definition();
    let stored = SurveyStore::create_draft(
        &state.db,
        &slug,
        version,
        &checked.title,
        serde_json::to_value(checked).map_err(anyhow::Error::from)?,
        &request_id.audit_context(&admin.principal),
    )
    .await
    .map_err(|error| match error.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => ApiError::Conflict {
            code: "version_taken",
            detail: format!(
                "version {version} of `{slug}` was created by another request meanwhile; retry"
            ),
        },
        _ => error.into(),
    })?;
    Ok(HttpResponse::Created().json(survey_view(&state, &stored)?))
}

/// A slug is 1–64 of lower-case letters, digits and hyphens, starting with a letter or digit.
fn parse_slug(definition: &Value) -> Result<String, FieldProblem> {
    let Some(object) = definition.as_object() else {
        return Err(FieldProblem::new(
            "",
            "must be an instrument definition object",
        ));
    };
    match object.get("slug").and_then(Value::as_str) {
        Some(slug)
            if (1..=64).contains(&slug.len())
                && slug.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
                && slug
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') =>
        {
            Ok(slug.to_owned())
        }
        _ => Err(FieldProblem::new(
            "/slug",
            "is required: 1 to 64 lower-case letters, digits and hyphens",
        )),
    }
}

fn definition_problems(error: InstrumentError) -> ApiError {
    match error {
        InstrumentError::Format(error) => {
            ApiError::validation([FieldProblem::new("", error.to_string())])
        }
        InstrumentError::Inconsistent { problems, .. } => ApiError::validation(
            problems
                .into_iter()
                .map(|message| FieldProblem::new("", message)),
        ),
    }
}
