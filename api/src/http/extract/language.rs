//! The language a response is written in: the `lang` query parameter when given, else the
//! best match of `Accept-Language`, else English.

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{FromRequest, HttpRequest, HttpResponse, web};
use readiness_analytics::FieldProblem;
use readiness_analytics::texts::Language;

use crate::http::problem::ApiError;

/// The negotiated language of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Negotiated(pub Language);

impl Negotiated {
    /// `lang` wins over `Accept-Language`; an unknown `lang` is refused rather than ignored,
    /// so a typo does not silently serve another language.
    pub fn of(req: &HttpRequest) -> Result<Self, ApiError> {
        if let Some(tag) = single_query_value(req, "lang")? {
            return Language::from_tag(&tag).map(Negotiated).ok_or_else(|| {
                ApiError::validation([FieldProblem::new(
                    "/query/lang",
                    "must be `en` or `zh-Hans`",
                )])
            });
        }
        let accepted = req
            .headers()
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|value| value.to_str().ok())
            .and_then(Language::negotiate);
        Ok(Negotiated(accepted.unwrap_or(Language::DEFAULT)))
    }
}

impl FromRequest for Negotiated {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Self::of(req))
    }
}

/// Says which language `response` is written in (`Content-Language`, when known) and that
/// it varies with `Accept-Language`.
pub fn label(response: &mut HttpResponse, served: Option<Language>) {
    let headers = response.headers_mut();
    if let Some(language) = served {
        headers.insert(
            header::CONTENT_LANGUAGE,
            HeaderValue::from_static(language.tag()),
        );
    }
    headers.append(header::VARY, HeaderValue::from_static("Accept-Language"));
}

/// The `lang` query parameter, for the OpenAPI document.
#[derive(Debug, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LangParam {
    /// The language of the texts (`en` or `zh-Hans`); wins over `Accept-Language`. Without
    /// either, English.
    #[param(value_type = Option<Language>)]
    pub lang: Option<Language>,
}

/// The `Accept-Language` header, for the OpenAPI document.
#[derive(Debug, utoipa::IntoParams)]
#[into_params(names("Accept-Language"), parameter_in = Header)]
pub struct AcceptLanguage(
    /// Preferred languages (RFC 9110); `zh`, `zh-CN` and `zh-Hans` select Simplified Chinese.
    #[param(example = "zh-CN,zh;q=0.9,en;q=0.8")]
    pub Option<String>,
);

/// The one value of query parameter `name`, if given; given twice (or unreadable) it is a
/// `422` naming it, rather than a silent choice between the values.
pub fn single_query_value(req: &HttpRequest, name: &str) -> Result<Option<String>, ApiError> {
    let problem = |message: &str| {
        ApiError::validation([FieldProblem::new(format!("/query/{name}"), message)])
    };
    let pairs = web::Query::<Vec<(String, String)>>::from_query(req.query_string())
        .map_err(|_| problem("cannot be read from the query string"))?
        .into_inner();
    let mut values = pairs
        .into_iter()
        .filter(|(key, _)| key == name)
        .map(|(_, v)| v);
    let first = values.next();
    if values.next().is_some() {
        return Err(problem("is given more than once"));
    }
    Ok(first)
}
