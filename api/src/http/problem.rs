//! Every HTTP error is an RFC 9457 `application/problem+json` document.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, ContentType};
use actix_web::{HttpResponse, ResponseError};
use readiness_analytics::FieldProblem;

use crate::services::error::ServiceError;
use crate::store::ingest::WriteError;
use serde::Serialize;
use utoipa::ToSchema;

pub const PROBLEM_CONTENT_TYPE: &str = "application/problem+json";

/// When a client should try again after the storage refused a write.
pub const STORAGE_RETRY_AFTER_SECONDS: u64 = 30;

/// An RFC 9457 problem document.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "type": "/problems/validation-failed",
    "title": "The request has invalid fields",
    "status": 422,
    "detail": "2 fields are invalid; see `errors`.",
    "code": "validation_failed",
    "errors": [
        {"pointer": "/firm/industry", "message": "must be a NACE Rev.2 section letter A-U"},
        {"pointer": "/answers/business_age", "message": "unknown option `ancient`; expected one of: lt_1y, 1_3y, 3_5y, gt_5y"}
    ]
}))]
pub struct Problem {
    /// A URI reference naming the kind of problem (relative to the API's origin).
    #[serde(rename = "type")]
    pub kind: String,
    /// Short summary of the kind of problem.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong in this occurrence.
    pub detail: String,
    /// Machine-readable snake_case code.
    pub code: String,
    /// Every offending field, for validation problems.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

/// One offending field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    /// RFC 6901 JSON pointer into the request body.
    #[schema(example = "/answers/business_age")]
    pub pointer: String,
    pub message: String,
}

impl From<FieldProblem> for FieldError {
    fn from(problem: FieldProblem) -> Self {
        Self {
            pointer: problem.pointer,
            message: problem.message,
        }
    }
}

/// Everything a handler can fail with.
#[derive(thiserror::Error)]
pub enum ApiError {
    #[error("{detail}")]
    BadRequest { code: &'static str, detail: String },
    #[error("{}", .0.detail())]
    Unauthorized(Unauthenticated),
    #[error("the role of this API key may not do this")]
    Forbidden,
    #[error("{0}")]
    NotFound(String),
    /// A parameter names something that does not exist; the problem names the parameter.
    #[error("{}", validation_detail(std::slice::from_ref(.0)))]
    NotFoundAt(FieldError),
    #[error("{detail}")]
    Conflict { code: &'static str, detail: String },
    #[error("{detail}")]
    Gone { code: &'static str, detail: String },
    #[error("the request body is larger than {limit} bytes")]
    PayloadTooLarge { limit: usize },
    #[error("{0}")]
    TooManyItems(String),
    #[error("the request body must be sent as `Content-Type: application/json`")]
    UnsupportedMediaType,
    #[error(
        "the request body is sent with `Content-Encoding: {0}`; this server decodes only gzip and deflate"
    )]
    UnsupportedContentEncoding(String),
    #[error("too many requests; retry in {retry_after} s")]
    TooManyRequests { retry_after: u64 },
    #[error("{}", validation_detail(.0))]
    Validation(Vec<FieldError>),
    #[error("{detail}")]
    Unprocessable { code: &'static str, detail: String },
    #[error("the database is not reachable")]
    Unavailable(#[source] anyhow::Error),
    #[error(
        "the database cannot store anything at the moment (its storage is full or read-only); retry later"
    )]
    StorageUnavailable(#[source] anyhow::Error),
    #[error("an internal error occurred")]
    Internal(#[from] anyhow::Error),
}

/// Why a request is not authenticated. The reasons a key is refused are not told apart, so a
/// reply reveals nothing about which keys exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unauthenticated {
    /// No `Authorization` header.
    Missing,
    /// A header that is not a well-formed, known, current key.
    Invalid,
}

impl Unauthenticated {
    fn detail(self) -> &'static str {
        match self {
            Unauthenticated::Missing => {
                "this request needs an API key: send `Authorization: Bearer <key>`"
            }
            Unauthenticated::Invalid => "the API key is malformed, unknown, revoked or expired",
        }
    }

    /// The `WWW-Authenticate` challenge (RFC 6750).
    fn challenge(self) -> &'static str {
        match self {
            Unauthenticated::Missing => r#"Bearer realm="readiness""#,
            Unauthenticated::Invalid => r#"Bearer realm="readiness", error="invalid_token""#,
        }
    }
}

fn validation_detail(errors: &[FieldError]) -> String {
    match errors {
        [one] => format!("`{}` {}", one.pointer, one.message),
        many => format!("{} fields are invalid; see `errors`.", many.len()),
    }
}

impl std::fmt::Debug for ApiError {
    /// Walks the whole `source()` chain, so a log line shows the root cause.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        crate::services::error::write_chain(self, f)
    }
}

impl ApiError {
    pub fn validation(problems: impl IntoIterator<Item = FieldProblem>) -> Self {
        Self::Validation(problems.into_iter().map(FieldError::from).collect())
    }

    pub fn code(&self) -> &'static str {
        match self {
            ApiError::BadRequest { code, .. }
            | ApiError::Conflict { code, .. }
            | ApiError::Gone { code, .. }
            | ApiError::Unprocessable { code, .. } => code,
            ApiError::Unauthorized(_) => "unauthorized",
            ApiError::Forbidden => "forbidden",
            ApiError::NotFound(_) | ApiError::NotFoundAt(_) => "not_found",
            ApiError::PayloadTooLarge { .. } => "payload_too_large",
            ApiError::TooManyItems(_) => "too_many_items",
            ApiError::UnsupportedMediaType => "unsupported_media_type",
            ApiError::UnsupportedContentEncoding(_) => "unsupported_content_encoding",
            ApiError::Validation(_) => "validation_failed",
            ApiError::TooManyRequests { .. } => "rate_limited",
            ApiError::Unavailable(_) => "unavailable",
            ApiError::StorageUnavailable(_) => "storage_unavailable",
            ApiError::Internal(_) => "internal_error",
        }
    }

    fn title(&self) -> &'static str {
        match self {
            ApiError::BadRequest { .. } => "The request is malformed",
            ApiError::Unauthorized(_) => "Unauthorized",
            ApiError::Forbidden => "Forbidden",
            ApiError::NotFound(_) | ApiError::NotFoundAt(_) => "Not found",
            ApiError::Conflict { .. } => "Conflict",
            ApiError::Gone { .. } => "Gone",
            ApiError::PayloadTooLarge { .. } | ApiError::TooManyItems(_) => {
                "The request is too large"
            }
            ApiError::UnsupportedMediaType | ApiError::UnsupportedContentEncoding(_) => {
                "Unsupported media type"
            }
            ApiError::Validation(_) => "The request has invalid fields",
            ApiError::TooManyRequests { .. } => "Too many requests",
            ApiError::Unprocessable { .. } => "The request cannot be processed",
            ApiError::Unavailable(_) | ApiError::StorageUnavailable(_) => "Service unavailable",
            ApiError::Internal(_) => "Internal server error",
        }
    }

    /// The problem document sent to the client; 5xx details never leak internals.
    pub fn problem(&self) -> Problem {
        let code = self.code();
        Problem {
            kind: format!("/problems/{}", code.replace('_', "-")),
            title: self.title().to_owned(),
            status: self.status_code().as_u16(),
            detail: self.to_string(),
            code: code.to_owned(),
            errors: match self {
                ApiError::Validation(errors) => errors.clone(),
                ApiError::NotFoundAt(error) => vec![error.clone()],
                _ => Vec::new(),
            },
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) | ApiError::NotFoundAt(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict { .. } => StatusCode::CONFLICT,
            ApiError::Gone { .. } => StatusCode::GONE,
            ApiError::PayloadTooLarge { .. } | ApiError::TooManyItems(_) => {
                StatusCode::PAYLOAD_TOO_LARGE
            }
            ApiError::UnsupportedMediaType | ApiError::UnsupportedContentEncoding(_) => {
                StatusCode::UNSUPPORTED_MEDIA_TYPE
            }
            ApiError::Validation(_) | ApiError::Unprocessable { .. } => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable(_) | ApiError::StorageUnavailable(_) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if self.status_code().is_server_error() {
            tracing::error!(error = ?self, "request failed");
        }
        let mut response = problem_response(&self.problem());
        match self {
            ApiError::Unauthorized(reason) => {
                response.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    header::HeaderValue::from_static(reason.challenge()),
                );
            }
            ApiError::StorageUnavailable(_) => {
                response.headers_mut().insert(
                    header::RETRY_AFTER,
                    header::HeaderValue::from(STORAGE_RETRY_AFTER_SECONDS),
                );
            }
            ApiError::TooManyRequests { retry_after } => {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, header::HeaderValue::from(*retry_after));
            }
            // RFC 7694: the codings the server would have accepted.
            ApiError::UnsupportedContentEncoding(_) => {
                response.headers_mut().insert(
                    header::ACCEPT_ENCODING,
                    header::HeaderValue::from_static(crate::http::extract::body::DECODED_CODINGS),
                );
            }
            _ => {}
        }
        response
    }
}

/// Renders a problem document with its status and content type.
pub fn problem_response(problem: &Problem) -> HttpResponse {
    let status = StatusCode::from_u16(problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = serde_json::to_string(problem).unwrap_or_else(|_| "{}".to_owned());
    HttpResponse::build(status)
        .insert_header((header::CONTENT_TYPE, ContentType(mime_problem())))
        .body(body)
}

fn mime_problem() -> actix_web::mime::Mime {
    PROBLEM_CONTENT_TYPE
        .parse()
        .unwrap_or(actix_web::mime::APPLICATION_JSON)
}

impl From<sea_orm::DbErr> for ApiError {
    fn from(error: sea_orm::DbErr) -> Self {
        ServiceError::from(error).into()
    }
}

/// The HTTP name of a query parameter.
pub fn query_pointer(name: &str) -> String {
    crate::domain::pointer::child("/query", name)
}

impl From<ServiceError> for ApiError {
    fn from(error: ServiceError) -> Self {
        match error {
            ServiceError::InvalidFields(problems) => ApiError::validation(problems),
            ServiceError::InvalidParams(problems) => ApiError::Validation(
                problems
                    .into_iter()
                    .map(|p| FieldError {
                        pointer: query_pointer(p.name),
                        message: p.message,
                    })
                    .collect(),
            ),
            ServiceError::NotFound(detail) => ApiError::NotFound(detail),
            ServiceError::UnknownParam(problem) => ApiError::NotFoundAt(FieldError {
                pointer: query_pointer(problem.name),
                message: problem.message,
            }),
            ServiceError::Conflict { code, detail } => ApiError::Conflict { code, detail },
            ServiceError::Unprocessable { code, detail } => {
                ApiError::Unprocessable { code, detail }
            }
            ServiceError::Unavailable(cause) => ApiError::Unavailable(cause),
            ServiceError::StorageUnavailable(cause) => ApiError::StorageUnavailable(cause),
            ServiceError::Internal(cause) => ApiError::Internal(cause),
        }
    }
}

impl From<WriteError> for ApiError {
    fn from(error: WriteError) -> Self {
        ServiceError::from(error).into()
    }
}
