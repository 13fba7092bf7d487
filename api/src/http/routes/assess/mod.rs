//! The self-assessment pages (HTML): the questionnaire at `/assess/{slug}`, its drafts at
//! `/assess/drafts/{token}` and their results. Forms are plain `POST`s protected by a CSRF
//! token bound to a cookie; every page is sent with a strict Content-Security-Policy and is
//! never cached.

mod draft;
mod start;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder};
use readiness_analytics::texts::Language;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::assess_page::form::{FieldError, Problem, SegmentValues};
use crate::assess_page::frame::CONTENT_SECURITY_POLICY;
use crate::assess_page::notice;
use crate::domain::invitation::Segment;
use crate::http::state::AppState;
use crate::services::assessments::{
    Step, check_segment, csrf_matches, csrf_token, missing_answers, random_token,
};

pub fn configure(config: &mut ServiceConfig) {
    config
        .service(start::show_start)
        .service(start::post_start)
        .service(draft::show_step)
        .service(draft::post_step)
        .service(draft::show_saved)
        .service(draft::show_result);
}

/// The cookie a form's CSRF token is bound to.
const CSRF_COOKIE: &str = "readiness_form";

/// The form fields every step posts, for the OpenAPI document; each question's answer is a
/// field `q.<question key>` with the option key as its value.
#[derive(Debug, Deserialize, ToSchema)]
pub struct StepForm {
    /// The token of the page's form, bound to the `readiness_form` cookie.
    pub csrf: String,
    /// `en` or `zh-Hans`.
    pub lang: Option<String>,
    /// `next`, `back`, `save` or `submit`.
    pub action: Option<String>,
    /// The 1-based step the form shows (draft pages).
    pub step: Option<String>,
    /// The invitation token (start page).
    pub invitation: Option<String>,
    /// NACE section, A–U (segment step).
    pub industry: Option<String>,
    /// `micro`, `small`, `medium` or `large` (segment step).
    pub size_band: Option<String>,
    /// ISO 3166-1 alpha-2 (segment step).
    pub country: Option<String>,
    /// ISO 3166-2, optional (segment step).
    pub region: Option<String>,
}

/// A page's `lang` parameter, for the OpenAPI document (pages never refuse a language).
#[derive(Debug, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageLang {
    /// `en` or `zh-Hans`; another value is ignored
    pub lang: Option<String>,
}

/// The language of a page: a valid `lang` parameter, else `fallback` (a draft's), else the
/// best match of `Accept-Language`, else English. A page never refuses a language.
fn page_language(req: &HttpRequest, lang: Option<&str>, fallback: Option<Language>) -> Language {
    lang.and_then(Language::from_tag)
        .or_else(|| query_value(req, "lang").and_then(|tag| Language::from_tag(&tag)))
        .or(fallback)
        .or_else(|| {
            req.headers()
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .and_then(Language::negotiate)
        })
        .unwrap_or(Language::DEFAULT)
}

/// One query parameter, decoded.
fn query_value(req: &HttpRequest, name: &str) -> Option<String> {
    actix_web::web::Query::<Vec<(String, String)>>::from_query(req.query_string())
        .ok()?
        .into_inner()
        .into_iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value)
}

/// The browser's form cookie, if it sent a well-formed one.
fn form_cookie(req: &HttpRequest) -> Option<String> {
    req.headers()
        .get_all(header::COOKIE)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == CSRF_COOKIE)
        .map(|(_, value)| value.to_owned())
        .filter(|value| {
            value.len() == 43
                && value
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

/// The form token for this browser, and the cookie to set when it has none yet.
struct FormSession {
    token: String,
    set_cookie: Option<String>,
}

fn form_session(
    state: &AppState,
    req: &HttpRequest,
) -> Result<FormSession, crate::http::problem::ApiError> {
    if let Some(cookie) = form_cookie(req) {
        return Ok(FormSession {
            token: csrf_token(&state.assessments, &cookie),
            set_cookie: None,
        });
    }
    let cookie = random_token()?;
    let secure = if req.connection_info().scheme() == "https" {
        "; Secure"
    } else {
        ""
    };
    Ok(FormSession {
        token: csrf_token(&state.assessments, &cookie),
        set_cookie: Some(format!(
            "{CSRF_COOKIE}={cookie}; Path=/assess; HttpOnly; SameSite=Strict{secure}"
        )),
    })
}

/// Whether a posted form carries the token of the cookie its browser sent.
fn form_is_genuine(state: &AppState, req: &HttpRequest, token: &str) -> bool {
    form_cookie(req).is_some_and(|cookie| csrf_matches(&state.assessments, &cookie, token))
}

/// An HTML page with the pages' security headers.
fn html(status: StatusCode, language: Language, body: String) -> HttpResponse {
    let mut response = HttpResponseBuilder::new(status);
    security_headers(&mut response, language);
    response.body(body)
}

fn security_headers(response: &mut HttpResponseBuilder, language: Language) {
    response
        .insert_header((header::CONTENT_TYPE, "text/html; charset=utf-8"))
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            CONTENT_SECURITY_POLICY.as_str(),
        ))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::X_FRAME_OPTIONS, "DENY"))
        .insert_header((header::CONTENT_LANGUAGE, language.tag()))
        .insert_header((header::VARY, "Accept-Language, Cookie"));
}

/// A page with the form cookie set when the browser needs one.
fn form_page(
    language: Language,
    session: &FormSession,
    status: StatusCode,
    body: String,
) -> HttpResponse {
    let mut response = html(status, language, body);
    if let Some(cookie) = &session.set_cookie
        && let Ok(value) = HeaderValue::from_str(cookie)
    {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

/// `303 See Other` to `location` (after a form post).
fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish()
}

/// The one page for a link that is unknown, expired or altered: the same for all three.
fn invalid_link(language: Language, here: &str) -> HttpResponse {
    html(
        StatusCode::NOT_FOUND,
        language,
        notice(
            language,
            here,
            "link-invalid-title",
            "link-invalid-body",
            None,
        ),
    )
}

/// A form whose CSRF token does not match: nothing was saved.
fn expired_form(language: Language, here: &str) -> HttpResponse {
    html(
        StatusCode::FORBIDDEN,
        language,
        notice(
            language,
            here,
            "expired-form-title",
            "expired-form-body",
            Some((here, "saved-continue")),
        ),
    )
}

/// A posted form's fields, in order.
type Fields = Vec<(String, String)>;

fn field<'f>(fields: &'f Fields, name: &str) -> Option<&'f str> {
    fields
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.as_str())
}

/// Reads one step's fields into the segment and answers; returns the values that are not
/// among the choices (which are not taken). An unanswered question keeps its answer.
fn read_step(
    entry: &crate::services::catalog::Entry,
    step: Step,
    fields: &Fields,
    segment: &mut SegmentValues,
    answers: &mut std::collections::BTreeMap<String, String>,
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    match step {
        Step::Segment => {
            for (name, slot) in [
                ("industry", &mut segment.industry),
                ("size_band", &mut segment.size_band),
                ("country", &mut segment.country),
                ("region", &mut segment.region),
            ] {
                if let Some(value) = field(fields, name) {
                    *slot = value.trim().to_owned();
                }
            }
        }
        Step::Section(dimension) => {
            for question in entry
                .instrument
                .questions()
                .iter()
                .filter(|q| q.section == dimension)
            {
                let Some(value) = field(fields, &format!("q.{}", question.key)) else {
                    continue;
                };
                if question.options.iter().any(|o| o.key == value) {
                    answers.insert(question.key.clone(), value.to_owned());
                } else {
                    errors.push(FieldError {
                        field: question.key.clone(),
                        problem: Problem::Invalid,
                    });
                }
            }
        }
    }
    errors
}

/// Every required answer missing on `step`, and a segment that does not check out.
fn check_step(
    entry: &crate::services::catalog::Entry,
    step: Step,
    segment: &SegmentValues,
    answers: &std::collections::BTreeMap<String, String>,
) -> (Vec<FieldError>, Option<Segment>) {
    match step {
        Step::Segment => match check_segment(
            &segment.industry,
            &segment.size_band,
            &segment.country,
            &segment.region,
        ) {
            Ok(checked) => (Vec::new(), Some(checked)),
            Err(problems) => {
                let errors = problems
                    .iter()
                    .filter_map(|p| p.pointer.strip_prefix("/firm/"))
                    .map(|name| {
                        let given = match name {
                            "industry" => &segment.industry,
                            "size_band" => &segment.size_band,
                            "country" => &segment.country,
                            _ => &segment.region,
                        };
                        FieldError {
                            field: name.to_owned(),
                            problem: if name == "region" {
                                Problem::Region
                            } else if given.is_empty() {
                                Problem::Required
                            } else {
                                Problem::Invalid
                            },
                        }
                    })
                    .collect();
                (errors, None)
            }
        },
        Step::Section(dimension) => (
            missing_answers(entry, dimension, answers)
                .into_iter()
                .map(|field| FieldError {
                    field,
                    problem: Problem::Required,
                })
                .collect(),
            None,
        ),
    }
}

fn segment_values(segment: Option<&Segment>) -> SegmentValues {
    segment.map_or_else(SegmentValues::default, |s| SegmentValues {
        industry: s.industry.clone(),
        size_band: s.size_band.clone(),
        country: s.country.clone(),
        region: s.region.clone().unwrap_or_default(),
    })
}

/// Adds the missing answers to the refused ones, one entry per field.
fn merge(errors: &mut Vec<FieldError>, missing: Vec<FieldError>) {
    for error in missing {
        if !errors.iter().any(|e| e.field == error.field) {
            errors.push(error);
        }
    }
}

/// What a step's page shows besides the draft: the segment as entered, the problems found,
/// and the status it is sent with.
struct Shown {
    segment: SegmentValues,
    errors: Vec<FieldError>,
    status: StatusCode,
}

impl Shown {
    fn fresh(segment: SegmentValues) -> Self {
        Self {
            segment,
            errors: Vec::new(),
            status: StatusCode::OK,
        }
    }

    fn refused(segment: SegmentValues, errors: Vec<FieldError>) -> Self {
        Self {
            segment,
            errors,
            status: StatusCode::UNPROCESSABLE_ENTITY,
        }
    }
}
