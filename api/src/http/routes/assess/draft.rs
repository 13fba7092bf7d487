//! `/assess/drafts/{token}`: the later steps of a draft, its "continue later" page and, once
//! submitted, its result.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::Utc;
use readiness_analytics::texts::Language;

use super::{
    Fields, FormSession, PageLang, Shown, StepForm, check_step, field, form_is_genuine, form_page,
    form_session, html, invalid_link, merge, page_language, query_value, read_step, see_other,
    segment_values,
};
use crate::assess_page::form::{StepPage, render};
use crate::assess_page::{notice, result, saved};
use crate::http::problem::{ApiError, Problem};
use crate::http::state::AppState;
use crate::services::assessments::{self, Draft, Submitted};
use crate::services::plans::plan_of;
use crate::store::responses::ResponseStore;

fn base(token: &str) -> String {
    format!("/assess/drafts/{token}")
}

/// The 0-based step a `step` value (1-based) names, within the draft's steps.
fn step_index(draft: &Draft, value: Option<&str>) -> usize {
    let count = draft.steps().len();
    value
        .and_then(|v| v.parse::<usize>().ok())
        .filter(|n| (1..=count).contains(n))
        .map_or_else(|| draft.first_open_step(), |n| n - 1)
}

fn step_page(
    draft: &Draft,
    token: &str,
    index: usize,
    language: Language,
    session: &FormSession,
    shown: Shown,
) -> HttpResponse {
    let steps = draft.steps();
    let here = format!("{}?step={}", base(token), index + 1);
    let page = StepPage {
        texts: draft.entry.localised(language),
        language,
        action: base(token),
        here,
        csrf: session.token.clone(),
        hidden: vec![("step", (index + 1).to_string())],
        index,
        steps: steps.len(),
        kind: steps[index],
        intro: false,
        segment: shown.segment,
        answers: &draft.answers,
        errors: shown.errors,
        draft: true,
    };
    form_page(language, session, shown.status, render(&page))
}

/// One step of a draft.
///
/// An HTML page: the step `step` (1-based; by default the first with an unanswered
/// question), with the answers given so far. A submitted draft sends the browser to its
/// result. An unknown or expired link gets the same `404` page.
#[utoipa::path(
    tag = "assessment pages",
    params(
        ("token" = String, Path, description = "The draft's link token"),
        ("step" = Option<String>, Query, description = "1-based step"),
        PageLang,
    ),
    responses(
        (status = 200, description = "The step", body = String, content_type = "text/html"),
        (status = 303, description = "The draft was submitted; `Location` is its result"),
        (status = 404, description = "No such draft, or it expired", body = String, content_type = "text/html"),
    )
)]
#[get("/assess/drafts/{token}")]
pub async fn show_step(
    state: web::Data<AppState>,
    req: HttpRequest,
    token: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let now = Utc::now();
    let Some(mut draft) = assessments::open(&state.services, &token, now).await? else {
        return Ok(invalid_link(page_language(&req, None, None), &base(&token)));
    };
    if draft.model.response_id.is_some() {
        return Ok(see_other(&format!("{}/result", base(&token))));
    }
    let language = page_language(&req, None, Some(draft.language()));
    if query_value(&req, "lang").is_some() && language != draft.language() {
        draft.model.language = language.tag().to_owned();
        assessments::save(&state.services, &mut draft, now).await?;
    }
    let index = step_index(&draft, query_value(&req, "step").as_deref());
    let session = form_session(&state, &req)?;
    let segment = segment_values(draft.segment.as_ref());
    Ok(step_page(
        &draft,
        &token,
        index,
        language,
        &session,
        Shown::fresh(segment),
    ))
}

/// Posts a step of a draft: `next` checks the step and goes on, `back` goes back, `save`
/// keeps the answers and shows the link to continue later, `submit` (on the last step)
/// checks every step and stores the response once.
#[utoipa::path(
    tag = "assessment pages",
    params(("token" = String, Path, description = "The draft's link token")),
    request_body(content = StepForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 303, description = "Saved; `Location` is the next page (a step, the saved link, or the result)"),
        (status = 400, description = "The body is not a form", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The form is over 16 KiB", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The form's token does not match the browser's cookie; nothing was saved", body = String, content_type = "text/html"),
        (status = 404, description = "No such draft, or it expired", body = String, content_type = "text/html"),
        (status = 410, description = "The firm was erased on request; the answers cannot be submitted", body = String, content_type = "text/html"),
        (status = 422, description = "The step again, with every problem listed; or (a problem document) NUL in the path", content(
            (String = "text/html"),
            (Problem = "application/problem+json"),
        )),
    )
)]
#[post("/assess/drafts/{token}")]
pub async fn post_step(
    state: web::Data<AppState>,
    req: HttpRequest,
    token: web::Path<String>,
    form: web::Form<Fields>,
) -> Result<HttpResponse, ApiError> {
    let fields = form.into_inner();
    let now = Utc::now();
    let Some(mut draft) = assessments::open(&state.services, &token, now).await? else {
        return Ok(invalid_link(
            page_language(&req, field(&fields, "lang"), None),
            &base(&token),
        ));
    };
    let language = page_language(&req, field(&fields, "lang"), Some(draft.language()));
    let index = step_index(&draft, field(&fields, "step"));
    let here = format!("{}?step={}", base(&token), index + 1);
    if !form_is_genuine(&state, &req, field(&fields, "csrf").unwrap_or_default()) {
        return Ok(super::expired_form(language, &here));
    }
    if draft.model.response_id.is_some() {
        // A double click or a back-and-resubmit: the response is already stored.
        return Ok(see_other(&format!("{}/result", base(&token))));
    }
    draft.model.language = language.tag().to_owned();
    let steps = draft.steps();
    let step = steps[index];
    let mut segment = segment_values(draft.segment.as_ref());
    let mut answers = draft.answers.clone();
    let mut errors = read_step(&draft.entry, step, &fields, &mut segment, &mut answers);
    draft.answers = answers;
    let action = field(&fields, "action").unwrap_or("next");
    let (missing, checked) = check_step(&draft.entry, step, &segment, &draft.answers);
    if let Some(checked) = checked {
        draft.segment = Some(checked);
    }
    match action {
        "back" | "save" => {
            assessments::save(&state.services, &mut draft, now).await?;
            return Ok(if action == "back" {
                see_other(&format!("{}?step={}", base(&token), index.max(1)))
            } else {
                see_other(&format!("{}/saved", base(&token)))
            });
        }
        _ => {}
    }
    merge(&mut errors, missing);
    assessments::save(&state.services, &mut draft, now).await?;
    if !errors.is_empty() {
        let session = form_session(&state, &req)?;
        return Ok(step_page(
            &draft,
            &token,
            index,
            language,
            &session,
            Shown::refused(segment, errors),
        ));
    }
    if index + 1 < steps.len() {
        return Ok(see_other(&format!("{}?step={}", base(&token), index + 2)));
    }
    // The last step: every earlier step must be complete too.
    let kept = segment_values(draft.segment.as_ref());
    if let Some((open, errors)) = steps.iter().enumerate().find_map(|(index, step)| {
        let (errors, _) = check_step(&draft.entry, *step, &kept, &draft.answers);
        (!errors.is_empty()).then_some((index, errors))
    }) {
        let session = form_session(&state, &req)?;
        return Ok(step_page(
            &draft,
            &token,
            open,
            language,
            &session,
            Shown::refused(kept, errors),
        ));
    }
    match assessments::submit(&state.services, &mut draft, now).await? {
        Submitted::Stored(_) => Ok(see_other(&format!("{}/result", base(&token)))),
        Submitted::Erased => Ok(html(
            StatusCode::GONE,
            language,
            notice(language, &here, "erased-title", "erased-body", None),
        )),
        Submitted::Invalid(problems) => Err(ApiError::Internal(anyhow::anyhow!(
            "a complete draft was refused: {problems:?}"
        ))),
    }
}

/// The page with the link to continue later.
#[utoipa::path(
    tag = "assessment pages",
    params(
        ("token" = String, Path, description = "The draft's link token"),
        PageLang,
    ),
    responses(
        (status = 200, description = "The link to continue later", body = String, content_type = "text/html"),
        (status = 404, description = "No such draft, or it expired", body = String, content_type = "text/html"),
    )
)]
#[get("/assess/drafts/{token}/saved")]
pub async fn show_saved(
    state: web::Data<AppState>,
    req: HttpRequest,
    token: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let here = format!("{}/saved", base(&token));
    let Some(draft) = assessments::open(&state.services, &token, Utc::now()).await? else {
        return Ok(invalid_link(page_language(&req, None, None), &here));
    };
    let language = page_language(&req, None, Some(draft.language()));
    let info = req.connection_info();
    let link = format!("{}://{}{}", info.scheme(), info.host(), base(&token));
    Ok(html(
        StatusCode::OK,
        language,
        saved(language, &here, &link),
    ))
}

/// The result of a submitted draft: the tier, the action plan and the peer benchmark, the
/// same figures as `GET /api/v1/responses/{id}/plan`.
#[utoipa::path(
    tag = "assessment pages",
    params(
        ("token" = String, Path, description = "The draft's link token"),
        PageLang,
    ),
    responses(
        (status = 200, description = "The result page (printable)", body = String, content_type = "text/html"),
        (status = 303, description = "Not submitted yet; `Location` is the draft"),
        (status = 404, description = "No such draft, it expired, or its firm was erased", body = String, content_type = "text/html"),
    )
)]
#[get("/assess/drafts/{token}/result")]
pub async fn show_result(
    state: web::Data<AppState>,
    req: HttpRequest,
    token: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let here = format!("{}/result", base(&token));
    let Some(draft) = assessments::open(&state.services, &token, Utc::now()).await? else {
        return Ok(invalid_link(page_language(&req, None, None), &here));
    };
    let language = page_language(&req, None, Some(draft.language()));
    let Some(response_id) = draft.model.response_id else {
        return Ok(see_other(&base(&token)));
    };
    let Some(stored) = ResponseStore::by_id(&state.db, response_id).await? else {
        return Ok(invalid_link(language, &here));
    };
    let entry = state.catalog.by_id(&state.db, stored.row.survey_id).await?;
    let plan = plan_of(&state.services, &stored, &entry, language, None).await?;
    let page = result::render(language, &entry.localised(language), &here, &plan);
    Ok(html(StatusCode::OK, language, page))
}
