//! `PATCH /api/v1/surveys/{slug}/versions/{version}`: whether submissions need a key.

use actix_web::{HttpResponse, patch, web};
use readiness_analytics::FieldProblem;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::{SurveyView, survey_view};
use crate::http::extract::body::{Json, SINGLE_LIMIT};
use crate::http::extract::caller::{Administer, Authorized};
use crate::http::middleware::request_id::RequestId;
use crate::http::openapi::{AdminOnly, JsonBodyProblems};
use crate::http::problem::{ApiError, Problem};
use crate::http::state::AppState;
use crate::store::surveys::SurveyStore;

/// The settings of a survey version that may change after publication.
#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateSurveyVersion {
    /// `true`: anyone may submit to this version without a key.
    pub public: bool,
}

/// Make a survey version public (or not).
///
/// A public survey takes submissions without an API key. This is an operational setting, not
/// part of the instrument, so a published version accepts it. Recorded in the audit log when
/// it changes.
#[utoipa::path(
    tag = "surveys",
    security(("bearer" = [])),
    params(
        ("slug" = String, Path, description = "Survey slug", example = "ai-readiness"),
        ("version" = i32, Path, description = "Instrument version", example = 1),
    ),
    request_body(content = UpdateSurveyVersion, content_type = "application/json"),
    responses(
        (status = 200, description = "The version as it is now", body = SurveyView),
        JsonBodyProblems,
        AdminOnly,
        (status = 404, description = "No such version", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields (every one named)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/surveys/{slug}/versions/{version}")]
#[tracing::instrument(skip_all)]
pub async fn set_survey_public(
    admin: Authorized<Administer>,
    request_id: RequestId,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    body: Json<SINGLE_LIMIT>,
) -> Result<HttpResponse, ApiError> {
    let (slug, version) = path.into_inner();
    let not_found = || ApiError::NotFound(format!("survey `{slug}` has no version `{version}`"));
    let number: i32 = version.parse().map_err(|_| not_found())?;
    let public = parse_public(&body.0).map_err(ApiError::validation)?;
    let context = request_id.audit_context(&admin.principal);
    let model = SurveyStore::set_public(&state.db, &slug, number, public, &context)
        .await?
        .ok_or_else(not_found)?;
    state.reports.touch();
    Ok(HttpResponse::Ok().json(survey_view(&state, &model)?))
}

fn parse_public(body: &Value) -> Result<bool, Vec<FieldProblem>> {
    let Some(object) = body.as_object() else {
        return Err(vec![FieldProblem::new("", "must be an object")]);
    };
    let mut problems: Vec<FieldProblem> = object
        .keys()
        .filter(|key| key.as_str() != "public")
        .map(|key| {
            FieldProblem::new(
                crate::domain::pointer::child("", key),
                "unknown field, or not changeable",
            )
        })
        .collect();
    let public = object.get("public").and_then(Value::as_bool);
    if public.is_none() {
        problems.push(FieldProblem::new(
            "/public",
            "is required and must be a boolean",
        ));
    }
    match public {
        Some(public) if problems.is_empty() => Ok(public),
        _ => Err(problems),
    }
}
