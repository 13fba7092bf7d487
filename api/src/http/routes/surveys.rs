//! Instrument definitions, for rendering forms; new versions, for admins.

pub mod create;
pub mod publish;
pub mod set_public;

use actix_web::{HttpRequest, HttpResponse, get, web};
use chrono::{DateTime, Utc};
use readiness_analytics::Definition;
use readiness_analytics::texts::Language;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::http::conditional::{self, Precondition, Validator};
use crate::http::extract::language::{AcceptLanguage, LangParam, Negotiated, label};
use crate::http::problem::{ApiError, Problem};
use crate::http::state::AppState;
use crate::store::entities::survey;
use crate::store::surveys::SurveyQuery;

pub fn configure(config: &mut ServiceConfig) {
    config
        .service(list_surveys)
        .service(get_survey)
        .service(get_survey_version)
        .service(create::create_survey)
        .service(publish::publish_survey)
        .service(set_public::set_survey_public);
}

/// One released version of a survey.
#[derive(Debug, Serialize, ToSchema)]
pub struct SurveySummary {
    #[schema(example = "ai-readiness")]
    pub slug: String,
    #[schema(example = 1)]
    pub version: i32,
    #[schema(example = "AI adoption readiness")]
    pub title: String,
    /// `published` or `retired`.
    #[schema(example = "published")]
    pub status: String,
    /// Whether submissions to this survey need no API key.
    pub public: bool,
    pub published_at: Option<DateTime<Utc>>,
}

/// Every released survey version, by slug then version.
#[derive(Debug, Serialize, ToSchema)]
pub struct SurveyList {
    pub surveys: Vec<SurveySummary>,
}

/// A survey version with the full instrument definition a form is rendered from.
#[derive(Debug, Serialize, ToSchema)]
pub struct SurveyView {
    #[serde(flatten)]
    pub summary: SurveySummary,
    pub definition: Definition,
}

impl From<&survey::Model> for SurveySummary {
    fn from(model: &survey::Model) -> Self {
        Self {
            slug: model.slug.clone(),
            version: model.version,
            title: model.title.clone(),
            status: model.status.clone(),
            public: model.public,
            published_at: model.published_at,
        }
    }
}

/// A survey version with its definition as stored (for the admin routes).
fn survey_view(state: &AppState, model: &survey::Model) -> Result<SurveyView, ApiError> {
    let entry = state.catalog.entry(model)?;
    Ok(SurveyView {
        summary: model.into(),
        definition: entry.instrument.definition().clone(),
    })
}

/// A `304` of a representation that varies with the language asked for.
fn varied(mut response: HttpResponse) -> HttpResponse {
    label(&mut response, None);
    response
}

/// A survey version with its texts in `language` (where written in it), labelled so.
fn localised_survey(
    state: &AppState,
    model: &survey::Model,
    language: Language,
    validator: &Validator,
) -> Result<HttpResponse, ApiError> {
    let entry = state.catalog.entry(model)?;
    let localised = entry.localised(language);
    let definition = localised.definition();
    let mut summary = SurveySummary::from(model);
    summary.title = definition.title.clone();
    let mut response = validator.respond(HttpResponse::Ok().json(SurveyView {
        summary,
        definition,
    }));
    label(&mut response, localised.served());
    Ok(response)
}

/// List released survey versions.
///
/// Titles are in the negotiated language where the instrument's texts are written in it.
#[utoipa::path(
    tag = "surveys",
    params(LangParam, AcceptLanguage),
    responses(
        (status = 200, description = "Every released survey version", body = SurveyList),
        (status = 422, description = "`lang` names no supported language", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/surveys")]
pub async fn list_surveys(
    state: web::Data<AppState>,
    req: HttpRequest,
    language: Negotiated,
) -> Result<HttpResponse, ApiError> {
    let validator = Validator::new(&state, "surveys", &language.0.tag(), conditional::PUBLIC);
    // The list always exists, so `*` matches as a tag does.
    if validator.precondition(&req) != Precondition::Absent {
        return Ok(varied(validator.not_modified(&state.services)));
    }
    let surveys = SurveyQuery::released(&state.db).await?;
    let mut summaries = Vec::with_capacity(surveys.len());
    // The language is claimed only when every title is written in it.
    let mut served = Some(language.0);
    for model in &surveys {
        let entry = state.catalog.entry(model)?;
        let localised = entry.localised(language.0);
        if localised.served() != served {
            served = None;
        }
        let mut summary = SurveySummary::from(model);
        summary.title = localised.title();
        summaries.push(summary);
    }
    let mut response =
        validator.respond(HttpResponse::Ok().json(SurveyList { surveys: summaries }));
    label(&mut response, served);
    Ok(response)
}

/// The latest published version of a survey.
#[utoipa::path(
    tag = "surveys",
    params(("slug" = String, Path, description = "Survey slug", example = "ai-readiness"), LangParam, AcceptLanguage),
    responses(
        (status = 200, description = "The latest published version with its definition, its texts in the negotiated language", body = SurveyView,
            headers(("Content-Language" = String, description = "The language of the texts, when the instrument's texts are written in the one asked for"))),
        (status = 422, description = "`lang` names no supported language", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No published survey with this slug", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/surveys/{slug}")]
pub async fn get_survey(
    state: web::Data<AppState>,
    req: HttpRequest,
    slug: web::Path<String>,
    language: Negotiated,
) -> Result<HttpResponse, ApiError> {
    let validator = Validator::new(
        &state,
        "survey",
        &(slug.as_str(), language.0.tag()),
        conditional::PUBLIC,
    );
    let precondition = validator.precondition(&req);
    if precondition == Precondition::Matches {
        return Ok(varied(validator.not_modified(&state.services)));
    }
    let model = SurveyQuery::latest_published(&state.db, &slug)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no published survey `{slug}`")))?;
    if precondition == Precondition::Any {
        return Ok(varied(validator.not_modified(&state.services)));
    }
    localised_survey(&state, &model, language.0, &validator)
}

/// One released version of a survey.
#[utoipa::path(
    tag = "surveys",
    params(
        ("slug" = String, Path, description = "Survey slug", example = "ai-readiness"),
        ("version" = i32, Path, description = "Instrument version", example = 1),
        LangParam,
        AcceptLanguage,
    ),
    responses(
        (status = 200, description = "The version with its definition, its texts in the negotiated language", body = SurveyView,
            headers(("Content-Language" = String, description = "The language of the texts, when the instrument's texts are written in the one asked for"))),
        (status = 422, description = "`lang` names no supported language", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No released version with this number", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/surveys/{slug}/versions/{version}")]
pub async fn get_survey_version(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    language: Negotiated,
) -> Result<HttpResponse, ApiError> {
    let (slug, version) = path.into_inner();
    let validator = Validator::new(
        &state,
        "survey version",
        &(&slug, &version, language.0.tag()),
        conditional::PUBLIC,
    );
    let precondition = validator.precondition(&req);
    if precondition == Precondition::Matches {
        return Ok(varied(validator.not_modified(&state.services)));
    }
    let not_found = || {
        ApiError::NotFound(format!(
            "survey `{slug}` has no released version `{version}`"
        ))
    };
    let number: i32 = version.parse().map_err(|_| not_found())?;
    let model = SurveyQuery::released_version(&state.db, &slug, number)
        .await?
        .ok_or_else(not_found)?;
    if precondition == Precondition::Any {
        return Ok(varied(validator.not_modified(&state.services)));
    }
    localised_survey(&state, &model, language.0, &validator)
}
