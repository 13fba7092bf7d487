//! `/assess/{slug}`: the first step of the questionnaire (with its introduction), for a
//! public survey or through an invitation; posting it starts a draft.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::Utc;

use super::{
    Fields, FormSession, PageLang, Shown, StepForm, check_step, field, form_is_genuine, form_page,
    form_session, html, invalid_link, merge, page_language, query_value, read_step, see_other,
};
use crate::assess_page::form::{SegmentValues, StepPage, render};
use crate::assess_page::notice;
use crate::domain::invitation::Invitation;
use crate::http::problem::{ApiError, Problem};
use crate::http::state::AppState;
use crate::services::assessments::{self, steps};
use crate::services::catalog::Entry;

/// What the start page of a survey needs: the survey and, through an invitation, who sent it.
struct Target {
    entry: std::sync::Arc<Entry>,
    invitation: Option<(String, Invitation)>,
}

/// Resolves the survey and the invitation; `Err` is the page to send instead.
async fn target(
    state: &AppState,
    slug: &str,
    invitation: Option<String>,
    language: readiness_analytics::texts::Language,
) -> Result<Result<Target, HttpResponse>, ApiError> {
    let here = format!("/assess/{slug}");
    let Some((survey_id, public)) = state
        .lookups
        .latest_published_target(&state.db, slug)
        .await?
    else {
        return Ok(Err(invalid_link(language, &here)));
    };
    let invitation = match invitation {
        Some(token) => match Invitation::verify(&token, &state.assessments, Utc::now()) {
            Ok(found) if found.survey == slug => Some((token, found)),
            _ => return Ok(Err(invalid_link(language, &here))),
        },
        None => None,
    };
    if invitation.is_none() && !public {
        return Ok(Err(html(
            StatusCode::FORBIDDEN,
            language,
            notice(language, &here, "not-public-title", "not-public-body", None),
        )));
    }
    let entry = state.catalog.by_id(&state.db, survey_id).await?;
    Ok(Ok(Target { entry, invitation }))
}

fn start_page(
    target: &Target,
    slug: &str,
    language: readiness_analytics::texts::Language,
    session: &FormSession,
    answers: &BTreeMap<String, String>,
    shown: Shown,
) -> HttpResponse {
    let fixed = target
        .invitation
        .as_ref()
        .is_some_and(|(_, i)| i.segment.is_some());
    let all = steps(&target.entry, fixed);
    let mut hidden = Vec::new();
    let mut here = format!("/assess/{slug}");
    if let Some((token, _)) = &target.invitation {
        hidden.push(("invitation", token.clone()));
        here = format!("/assess/{slug}?invitation={token}");
    }
    let page = StepPage {
        texts: target.entry.localised(language),
        language,
        action: format!("/assess/{slug}"),
        here,
        csrf: session.token.clone(),
        hidden,
        index: 0,
        steps: all.len(),
        kind: all[0],
        intro: true,
        segment: shown.segment,
        answers,
        errors: shown.errors,
        draft: false,
    };
    form_page(language, session, shown.status, render(&page))
}

/// The questionnaire's first page.
///
/// An HTML page (`text/html`) for people, not an API: the firm's segment (unless an
/// invitation fixes it) or the first section, below an introduction, in English or
/// Simplified Chinese (`lang`, else `Accept-Language`). A public survey opens to anyone; any
/// other only through an invitation (`POST /api/v1/invitations`). An unknown survey and an
/// expired or altered invitation get the same `404` page.
#[utoipa::path(
    tag = "assessment pages",
    params(
        ("slug" = String, Path, description = "Survey slug", example = "ai-readiness"),
        PageLang,
        ("invitation" = Option<String>, Query, description = "A personal link's token"),
    ),
    responses(
        (status = 200, description = "The first step of the questionnaire", body = String, content_type = "text/html"),
        (status = 403, description = "The survey is not public and no invitation was given", body = String, content_type = "text/html"),
        (status = 404, description = "No such survey, or the invitation is expired or not genuine", body = String, content_type = "text/html"),
    )
)]
#[get("/assess/{slug}")]
pub async fn show_start(
    state: web::Data<AppState>,
    req: HttpRequest,
    slug: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let language = page_language(&req, None, None);
    let target = match target(&state, &slug, query_value(&req, "invitation"), language).await? {
        Ok(target) => target,
        Err(page) => return Ok(page),
    };
    let session = form_session(&state, &req)?;
    Ok(start_page(
        &target,
        &slug,
        language,
        &session,
        &BTreeMap::new(),
        Shown::fresh(SegmentValues::default()),
    ))
}

/// Posts the first step: a draft is started and the browser sent on to the next step.
///
/// An HTML form post. Answers that are missing or not among the choices show the page again
/// (`422`) with every problem listed; a form without a valid token gets `403` and saves
/// nothing.
#[utoipa::path(
    tag = "assessment pages",
    params(("slug" = String, Path, description = "Survey slug", example = "ai-readiness")),
    request_body(content = StepForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 303, description = "The draft is started; `Location` is its next step"),
        (status = 400, description = "The body is not a form", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The form is over 16 KiB", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The form's token does not match the browser's cookie, or the survey is not public", body = String, content_type = "text/html"),
        (status = 404, description = "No such survey, or the invitation is expired or not genuine", body = String, content_type = "text/html"),
        (status = 422, description = "The page again, with every problem listed; or (a problem document) NUL in the path", content(
            (String = "text/html"),
            (Problem = "application/problem+json"),
        )),
    )
)]
#[post("/assess/{slug}")]
pub async fn post_start(
    state: web::Data<AppState>,
    req: HttpRequest,
    slug: web::Path<String>,
    form: web::Form<Fields>,
) -> Result<HttpResponse, ApiError> {
    let fields = form.into_inner();
    let language = page_language(&req, field(&fields, "lang"), None);
    if !form_is_genuine(&state, &req, field(&fields, "csrf").unwrap_or_default()) {
        return Ok(super::expired_form(language, &format!("/assess/{slug}")));
    }
    let invitation = field(&fields, "invitation").map(str::to_owned);
    let target = match target(&state, &slug, invitation, language).await? {
        Ok(target) => target,
        Err(page) => return Ok(page),
    };
    let fixed = target
        .invitation
        .as_ref()
        .is_some_and(|(_, i)| i.segment.is_some());
    let first = steps(&target.entry, fixed)[0];
    let mut segment = SegmentValues::default();
    let mut answers = BTreeMap::new();
    let mut errors = read_step(&target.entry, first, &fields, &mut segment, &mut answers);
    let (missing, checked) = check_step(&target.entry, first, &segment, &answers);
    merge(&mut errors, missing);
    if !errors.is_empty() {
        let session = form_session(&state, &req)?;
        return Ok(start_page(
            &target,
            &slug,
            language,
            &session,
            &answers,
            Shown::refused(segment, errors),
        ));
    }
    let now = Utc::now();
    let (token, mut draft) = assessments::start(
        &state.services,
        target.entry.clone(),
        language,
        target.invitation.as_ref().map(|(_, i)| i),
        checked,
        now,
    )
    .await?;
    if !answers.is_empty() {
        draft.answers = answers;
        assessments::save(&state.services, &mut draft, now).await?;
    }
    Ok(see_other(&format!("/assess/drafts/{token}?step=2")))
}
