//! `POST /api/v1/surveys/{slug}/versions/{version}/publish`: publish a draft.

use actix_web::{HttpResponse, post, web};

use super::{SurveyView, survey_view};
use crate::http::extract::caller::{Administer, Authorized};
use crate::http::middleware::request_id::RequestId;
use crate::http::openapi::AdminOnly;
use crate::http::problem::{ApiError, Problem};
use crate::http::state::AppState;
use crate::store::surveys::{Publish, SurveyStore};

/// Publish a draft version.
///
/// From now on it is the version that new submissions to the slug are scored with (the
/// highest published version), and it is immutable. Responses keep the version that scored
/// them. Recorded in the audit log.
#[utoipa::path(
    tag = "surveys",
    security(("bearer" = [])),
    params(
        ("slug" = String, Path, description = "Survey slug", example = "ai-readiness"),
        ("version" = i32, Path, description = "Instrument version", example = 2),
    ),
    responses(
        (status = 200, description = "Published", body = SurveyView),
        AdminOnly,
        (status = 404, description = "No such version", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The version is already published or retired, and so immutable", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/surveys/{slug}/versions/{version}/publish")]
#[tracing::instrument(skip_all)]
pub async fn publish_survey(
    admin: Authorized<Administer>,
    request_id: RequestId,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (slug, version) = path.into_inner();
    let not_found = || ApiError::NotFound(format!("survey `{slug}` has no version `{version}`"));
    let number: i32 = version.parse().map_err(|_| not_found())?;
    let context = request_id.audit_context(&admin.principal);
    match SurveyStore::publish(&state.db, &slug, number, &context).await? {
        Publish::Published(model) => {
            state.reports.touch();
            Ok(HttpResponse::Ok().json(survey_view(&state, &model)?))
        }
        Publish::NotDraft(model) => Err(ApiError::Conflict {
            code: "version_immutable",
            detail: format!(
                "version {number} of `{slug}` is {}; a released version cannot be changed",
                model.status
            ),
        }),
        Publish::NotFound => Err(not_found()),
    }
}
