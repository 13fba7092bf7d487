//! `POST /api/v1/keys`: create a key; its secret is shown once.

use actix_web::{HttpResponse, post, web};
use chrono::{DateTime, Utc};
use readiness_analytics::FieldProblem;
use serde_json::Value;

use super::{CreateKey, CreatedKey, KeyView};
use crate::auth::{Administer, Authorized, issue_key};
use crate::domain::api_key::{Role, valid_name};
use crate::problem::{ApiError, Problem};
use crate::request_id::RequestId;
use crate::routes::body::{Json, SINGLE_LIMIT};
use crate::startup::AppState;
use crate::store::keys::{MAX_KEY_RATE_LIMIT, NewKey};

/// Create an API key.
///
/// The reply carries the whole key once; only a hash is stored. Recorded in the audit log.
#[utoipa::path(
    tag = "keys",
    security(("bearer" = [])),
    request_body(content = CreateKey, content_type = "application/json"),
    responses(
        (status = 201, description = "Created; `token` is shown only now", body = CreatedKey),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The key is not an admin key", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body over 64 KiB", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Body not sent as application/json", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields (every one named)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/keys")]
#[tracing::instrument(skip_all)]
pub async fn create_key(
    admin: Authorized<Administer>,
    request_id: RequestId,
    state: web::Data<AppState>,
    body: Json<SINGLE_LIMIT>,
) -> Result<HttpResponse, ApiError> {
    let new = parse_new_key(&body.0, Utc::now()).map_err(ApiError::validation)?;
    let issued = issue_key(&state.db, new, &admin.principal.audit_context(&request_id)).await?;
    Ok(HttpResponse::Created().json(CreatedKey {
        key: KeyView::try_from(&issued.key)?,
        token: issued.token,
    }))
}

/// Parses the body, naming every offending field.
fn parse_new_key(body: &Value, now: DateTime<Utc>) -> Result<NewKey, Vec<FieldProblem>> {
    let Some(object) = body.as_object() else {
        return Err(vec![FieldProblem::new("", "must be an object")]);
    };
    let mut problems: Vec<FieldProblem> = object
        .keys()
        .filter(|key| {
            !["name", "role", "expires_at", "rate_limit_per_minute"].contains(&key.as_str())
        })
        .map(|key| FieldProblem::new(format!("/{key}"), "unknown field"))
        .collect();
    let name = match object.get("name").and_then(Value::as_str) {
        Some(name) if valid_name(name) => Some(name.to_owned()),
        _ => {
            problems.push(FieldProblem::new(
                "/name",
                "is required: 1 to 100 characters, no control characters",
            ));
            None
        }
    };
    let role = object
        .get("role")
        .and_then(Value::as_str)
        .and_then(Role::parse);
    if role.is_none() {
        problems.push(FieldProblem::new(
            "/role",
            "is required: one of admin, analyst, collector",
        ));
    }
    let expires_at = match object.get("expires_at") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(raw)) => match DateTime::parse_from_rfc3339(raw) {
            Ok(at) if at.with_timezone(&Utc) > now => Ok(Some(at.with_timezone(&Utc))),
            Ok(_) => Err(FieldProblem::new("/expires_at", "must lie in the future")),
            Err(_) => Err(FieldProblem::new(
                "/expires_at",
                "must be an RFC 3339 timestamp",
            )),
        },
        Some(_) => Err(FieldProblem::new(
            "/expires_at",
            "must be an RFC 3339 timestamp",
        )),
    };
    let expires_at = expires_at
        .map_err(|problem| problems.push(problem))
        .ok()
        .flatten();
    let rate_limit_per_minute = match object.get("rate_limit_per_minute") {
        None | Some(Value::Null) => None,
        Some(value) => match value.as_u64().and_then(|n| u32::try_from(n).ok()) {
            Some(n) if (1..=MAX_KEY_RATE_LIMIT).contains(&n) => Some(n),
            _ => {
                problems.push(FieldProblem::new(
                    "/rate_limit_per_minute",
                    "must be a whole number from 1 to 100000000",
                ));
                None
            }
        },
    };
    match (name, role) {
        (Some(name), Some(role)) if problems.is_empty() => Ok(NewKey {
            name,
            role,
            expires_at,
            rate_limit_per_minute,
        }),
        _ => Err(problems),
    }
}
