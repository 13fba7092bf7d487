//! The NUL character (U+0000) is refused in paths and query strings with `422`, naming where
//! it is (`/path`, `/query/<name>`): PostgreSQL cannot store it in text, and nothing any route
//! takes may contain it. Bodies are checked as they are read (`extract::checked_json`).

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::web;
use readiness_analytics::FieldProblem;

use super::rate_limit::EXEMPT;
use crate::http::problem::{ApiError, query_pointer};

const NUL: &str = "must not contain the NUL character (U+0000)";

/// Middleware: refuses a request with NUL in its path or a query parameter (not the probes,
/// which take neither).
pub async fn refuse(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let mut problems = Vec::new();
    if EXEMPT.contains(&req.path()) {
        return Ok(next.call(req).await?.map_into_left_body());
    }
    if req.uri().path().contains("%00") {
        problems.push(FieldProblem::new("/path", NUL));
    }
    if req.query_string().contains("%00") {
        let pairs = web::Query::<Vec<(String, String)>>::from_query(req.query_string())
            .map(web::Query::into_inner)
            .unwrap_or_default();
        problems.extend(
            pairs
                .iter()
                .filter(|(name, value)| name.contains('\0') || value.contains('\0'))
                .map(|(name, _)| FieldProblem::new(query_pointer(name), NUL)),
        );
    }
    if problems.is_empty() {
        return Ok(next.call(req).await?.map_into_left_body());
    }
    Ok(req
        .error_response(ApiError::validation(problems))
        .map_into_right_body())
}
