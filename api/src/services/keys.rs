//! API keys: who is calling (authentication), issuing keys, and recording their use.

use std::sync::{Arc, Mutex, PoisonError};

use anyhow::Context;
use chrono::{DateTime, Utc};
use readiness_analytics::FieldProblem;
use sea_orm::DatabaseConnection;
use serde_json::Value;
use uuid::Uuid;

use super::Services;
use super::error::ServiceError;
use crate::domain::api_key::{GeneratedKey, PresentedKey, Role, valid_name};
use crate::store::audit::AuditContext;
use crate::store::entities::api_key;
use crate::store::keys::{KeyStore, LAST_USED_RESOLUTION, MAX_KEY_RATE_LIMIT, NewKey};

/// An authenticated key.
#[derive(Debug, Clone)]
pub struct Principal {
    pub key_id: Uuid,
    pub name: String,
    pub role: Role,
    /// The key's own rate limit a minute, in place of the server-wide one.
    pub rate_limit_per_minute: Option<u32>,
}

impl Principal {
    /// Whether the key holds one of `roles`; `admin` holds every role.
    pub fn has_any(&self, roles: &[Role]) -> bool {
        self.role == Role::Admin || roles.contains(&self.role)
    }

    /// The audit context of a write this key makes in request `request_id` (the server's
    /// id), which the client called `client_request_id`.
    pub fn audit_context(&self, request_id: &str, client_request_id: Option<&str>) -> AuditContext {
        AuditContext {
            actor: Some(self.key_id),
            request_id: Some(request_id.to_owned()),
            client_request_id: client_request_id.map(str::to_owned),
        }
    }
}

/// A presented key that is not a well-formed, known, current key. Why is logged, never told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refused;

/// Checks a presented token: well-formed, known, the right secret, not revoked, not expired,
/// a known role. Records the key's use at most once a [`LAST_USED_RESOLUTION`].
pub async fn authenticate(
    services: &Services,
    token: &str,
) -> Result<Result<Principal, Refused>, ServiceError> {
    let db = &services.db;
    let refused = |prefix: &str, reason: &str| {
        tracing::info!(key_prefix = prefix, reason, "API key refused");
        Err(Refused)
    };
    let Some(presented) = PresentedKey::parse(token) else {
        return Ok(refused("", "malformed"));
    };
    let Some(key) = services
        .lookups
        .key_by_prefix(db, &presented.prefix)
        .await?
    else {
        return Ok(refused(&presented.prefix, "unknown"));
    };
    let now = Utc::now();
    if !presented.matches(&key.secret_hash) {
        return Ok(refused(&key.prefix, "wrong secret"));
    }
    if key.revoked_at.is_some() {
        return Ok(refused(&key.prefix, "revoked"));
    }
    if key.expires_at.is_some_and(|at| at <= now) {
        return Ok(refused(&key.prefix, "expired"));
    }
    let Some(role) = Role::parse(&key.role) else {
        return Ok(refused(&key.prefix, "unknown role"));
    };
    if key
        .last_used_at
        .is_none_or(|at| at <= now - LAST_USED_RESOLUTION)
    {
        services
            .last_use
            .record(db.clone(), key.id, key.prefix.clone(), now);
    }
    Ok(Ok(Principal {
        key_id: key.id,
        name: key.name,
        role,
        rate_limit_per_minute: key
            .rate_limit_per_minute
            .and_then(|n| u32::try_from(n).ok()),
    }))
}

/// Records a key's use (`last_used_at`) beside the request rather than in its way: on a
/// SQLite file the update waits for the write lock, which the ingest writer holds almost
/// without pause under load, so a request that waited for it took seconds. One update per
/// key at a time; requests that arrive meanwhile leave it to that one. A process that stops
/// first may not record that last use.
#[derive(Debug, Clone, Default)]
pub struct LastUse {
    /// The keys whose update is under way.
    recording: Arc<Mutex<Vec<Uuid>>>,
}

impl LastUse {
    fn record(&self, db: DatabaseConnection, id: Uuid, prefix: String, now: DateTime<Utc>) {
        {
            let mut ids = self.recording();
            if ids.contains(&id) {
                return;
            }
            ids.push(id);
        }
        let this = self.clone();
        tokio::spawn(async move {
            if let Err(error) = KeyStore::touch(&db, id, now).await {
                tracing::warn!(key_prefix = %prefix, %error, "cannot record the key's last use");
            }
            this.recording().retain(|recorded| *recorded != id);
        });
    }

    fn recording(&self) -> std::sync::MutexGuard<'_, Vec<Uuid>> {
        self.recording
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// A key just created: its row and the token, which is shown once and never stored.
pub struct IssuedKey {
    pub key: api_key::Model,
    pub token: String,
}

/// Generates a key, stores its hash and records `key.create`.
pub async fn issue_key(
    db: &DatabaseConnection,
    new: NewKey,
    context: &AuditContext,
) -> anyhow::Result<IssuedKey> {
    let generated =
        GeneratedKey::generate().context("the operating system's random source failed")?;
    let key = KeyStore::create(db, new, &generated, context)
        .await
        .context("storing the API key failed")?;
    Ok(IssuedKey {
        key,
        token: generated.token(),
    })
}

/// The message for a key name that is not allowed.
pub const NAME_RULE: &str = "1 to 100 characters, no control characters";

/// Checks the parts of a new key the command line gives as flags (role and limits are
/// typed there); the problems are named by field.
pub fn check_name(name: &str) -> Result<(), ServiceError> {
    if valid_name(name) {
        Ok(())
    } else {
        Err(ServiceError::param("name", NAME_RULE))
    }
}

/// Parses a key request body (`POST /keys`), naming every offending field.
pub fn parse_new_key(body: &Value, now: DateTime<Utc>) -> Result<NewKey, Vec<FieldProblem>> {
    let Some(object) = body.as_object() else {
        return Err(vec![FieldProblem::new("", "must be an object")]);
    };
    let mut problems: Vec<FieldProblem> = object
        .keys()
        .filter(|key| {
            !["name", "role", "expires_at", "rate_limit_per_minute"].contains(&key.as_str())
        })
        .map(|key| FieldProblem::new(crate::domain::pointer::child("", key), "unknown field"))
        .collect();
    let name = match object.get("name").and_then(Value::as_str) {
        Some(name) if valid_name(name) => Some(name.to_owned()),
        _ => {
            problems.push(FieldProblem::new(
                "/name",
                format!("is required: {NAME_RULE}"),
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
            "is required: one of admin, analyst, collector, viewer",
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
