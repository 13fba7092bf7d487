//! `POST /api/v1/invitations`: a personal link to the self-assessment.

use actix_web::{HttpResponse, post, web};
use chrono::{DateTime, Duration, Utc};
use readiness_analytics::FieldProblem;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use serde_json::Value;

use crate::domain::firm::{FirmProfile, check_ref};
use crate::domain::invitation::{Invitation, Segment};
use crate::http::extract::body::{Json, SINGLE_LIMIT};
use crate::http::extract::caller::{Authorized, Submit};
use crate::http::openapi::JsonBodyProblems;
use crate::http::problem::{ApiError, Problem};
use crate::http::routes::codes::{CountryCode, IndustryCode, RegionCode, SizeBand};
use crate::http::state::AppState;
use crate::services::assessments::MAX_INVITATION_DAYS;

pub fn configure(config: &mut ServiceConfig) {
    config.service(create_invitation);
}

/// The firm's segment, fixed by the invitation (its step is then not asked).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InvitedSegment {
    /// NACE Rev.2 section letter.
    #[schema(value_type = IndustryCode)]
    pub industry: String,
    #[schema(value_type = SizeBand)]
    pub size_band: String,
    /// ISO 3166-1 alpha-2 country code.
    #[schema(value_type = CountryCode)]
    pub country: String,
    /// ISO 3166-2 subdivision of `country`.
    #[schema(value_type = Option<RegionCode>)]
    pub region: Option<String>,
}

/// A personal link to ask for.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateInvitation {
    /// The survey's slug (its latest published version is asked).
    #[schema(example = "ai-readiness")]
    pub survey: String,
    /// The firm's reference: its responses are stored under it, so repeated assessments of
    /// one firm line up over time. Without one, each assessment is a firm of its own.
    #[schema(example = "acme-001", min_length = 1, max_length = 128)]
    pub firm_ref: Option<String>,
    pub segment: Option<InvitedSegment>,
    /// Days the link stays valid, 1–365 (default 30).
    #[schema(minimum = 1, maximum = 365, example = 30)]
    pub valid_days: Option<i64>,
}

/// The link.
#[derive(Debug, Serialize, ToSchema)]
pub struct InvitationView {
    /// Path of the questionnaire with the signed token; anyone with it may answer.
    #[schema(example = "/assess/ai-readiness?invitation=eyJr….Qk9")]
    pub url: String,
    pub expires_at: DateTime<Utc>,
}

/// Create a personal link to the self-assessment.
///
/// The link opens the questionnaire (even of a survey that is not public) until it expires.
/// It is signed, so nothing in it can be changed; it names the key that made it. Needs a
/// collector or admin key.
#[utoipa::path(
    tag = "invitations",
    security(("bearer" = [])),
    request_body(content = CreateInvitation, content_type = "application/json"),
    responses(
        (status = 201, description = "The link", body = InvitationView),
        JsonBodyProblems,
        (status = 401, description = "No valid API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The key's role may not invite", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields (every one named), or no published survey with this slug", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/invitations")]
pub async fn create_invitation(
    caller: Authorized<Submit>,
    state: web::Data<AppState>,
    body: Json<SINGLE_LIMIT>,
) -> Result<HttpResponse, ApiError> {
    let (request, mut problems) = parse(&body.0);
    if let Some(survey) = &request.survey
        && state
            .lookups
            .latest_published_target(&state.db, survey)
            .await?
            .is_none()
    {
        problems.push(FieldProblem::new("/survey", "names no published survey"));
    }
    let (Some(survey), true) = (request.survey, problems.is_empty()) else {
        return Err(ApiError::validation(problems));
    };
    let expires_at = Utc::now() + Duration::days(request.valid_days);
    let invitation = Invitation {
        key: caller.principal.key_id,
        survey: survey.clone(),
        firm_ref: request.firm_ref,
        segment: request.segment,
        exp: expires_at.timestamp(),
    };
    let token = invitation.sign(&state.assessments);
    Ok(HttpResponse::Created().json(InvitationView {
        url: format!("/assess/{survey}?invitation={token}"),
        expires_at: DateTime::from_timestamp(invitation.exp, 0).unwrap_or(expires_at),
    }))
}

/// An invitation request as checked.
struct Parsed {
    survey: Option<String>,
    firm_ref: Option<String>,
    segment: Option<Segment>,
    valid_days: i64,
}

/// Reads the body, naming every problem by its pointer.
fn parse(body: &Value) -> (Parsed, Vec<FieldProblem>) {
    let mut parsed = Parsed {
        survey: None,
        firm_ref: None,
        segment: None,
        valid_days: 30,
    };
    let Some(object) = body.as_object() else {
        return (parsed, vec![FieldProblem::new("", "must be an object")]);
    };
    let mut problems: Vec<FieldProblem> = object
        .keys()
        .filter(|key| !["survey", "firm_ref", "segment", "valid_days"].contains(&key.as_str()))
        .map(|key| FieldProblem::new(crate::domain::pointer::child("", key), "unknown field"))
        .collect();
    match object.get("survey") {
        Some(Value::String(slug)) => parsed.survey = Some(slug.clone()),
        _ => problems.push(FieldProblem::new("/survey", "is required: a survey slug")),
    }
    match object.get("firm_ref") {
        None | Some(Value::Null) => {}
        Some(Value::String(reference)) => match check_ref(reference) {
            Ok(reference) => parsed.firm_ref = Some(reference),
            Err(message) => problems.push(FieldProblem::new("/firm_ref", message)),
        },
        Some(_) => problems.push(FieldProblem::new("/firm_ref", "must be a string")),
    }
    match object.get("segment") {
        None | Some(Value::Null) => {}
        Some(Value::Object(segment)) => {
            let mut firm = segment.clone();
            firm.insert("ref".to_owned(), Value::String("invited".to_owned()));
            match FirmProfile::parse(Some(&Value::Object(firm)), "/segment") {
                Ok(profile) => {
                    parsed.segment = Some(Segment {
                        industry: profile.industry().to_owned(),
                        size_band: profile.size_band().to_owned(),
                        country: profile.country().to_owned(),
                        region: profile.region().map(str::to_owned),
                    });
                }
                Err(found) => problems.extend(found),
            }
        }
        Some(_) => problems.push(FieldProblem::new(
            "/segment",
            "must be an object with industry, size_band, country and optional region",
        )),
    }
    match object.get("valid_days") {
        None | Some(Value::Null) => {}
        // JSON has one number type: 30.0 is the integer 30.
        Some(days) => match days
            .as_i64()
            .or_else(|| {
                days.as_f64()
                    .filter(|d| d.fract() == 0.0 && d.abs() < 1e6)
                    .map(|d| d as i64)
            })
            .filter(|d| (1..=MAX_INVITATION_DAYS).contains(d))
        {
            Some(days) => parsed.valid_days = days,
            None => problems.push(FieldProblem::new(
                "/valid_days",
                format!("must be a whole number from 1 to {MAX_INVITATION_DAYS}"),
            )),
        },
    }
    (parsed, problems)
}
