//! Who is calling, and what they may do.
//!
//! The [`authenticate`] middleware checks the `Authorization: Bearer` key of every request
//! that sends one, before any handler runs, and leaves a [`Caller`] in the request's
//! extensions. A key that is sent must be valid, whatever the route: a malformed, unknown,
//! revoked or expired key is a `401`. Handlers then demand a role with the [`Authorized`]
//! extractor, which decides from the caller alone, so a `401` or `403` is sent before
//! anything is looked up and never tells whether a resource exists.

use std::future::{Ready, ready};
use std::marker::PhantomData;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{FromRequest, HttpMessage, HttpRequest, http::header, web};
use anyhow::Context;
use chrono::Utc;
use sea_orm::DatabaseConnection;
use uuid::Uuid;

use crate::domain::api_key::{GeneratedKey, PresentedKey, Role};
use crate::problem::{ApiError, Unauthenticated};
use crate::startup::AppState;
use crate::store::audit::AuditContext;
use crate::store::entities::api_key;
use crate::store::keys::{KeyStore, LAST_USED_RESOLUTION, NewKey};

/// An authenticated key.
#[derive(Debug, Clone)]
pub struct Principal {
    pub key_id: Uuid,
    pub name: String,
    pub role: Role,
    /// The key's own rate limit a minute, in place of the server-wide one.
    pub rate_limit_per_minute: Option<u32>,
}

/// The caller of a request: nobody, or a valid key.
#[derive(Debug, Clone, Default)]
pub enum Caller {
    #[default]
    Anonymous,
    Key(Principal),
}

impl Caller {
    pub fn principal(&self) -> Option<&Principal> {
        match self {
            Caller::Anonymous => None,
            Caller::Key(principal) => Some(principal),
        }
    }

    /// Whether the caller holds one of `roles`; `admin` holds every role.
    pub fn has_any(&self, roles: &[Role]) -> bool {
        self.principal()
            .is_some_and(|p| p.role == Role::Admin || roles.contains(&p.role))
    }

    /// The reply for a caller who may not do something: `401` without a key, `403` with one.
    pub fn refusal(&self) -> ApiError {
        match self {
            Caller::Anonymous => ApiError::Unauthorized(Unauthenticated::Missing),
            Caller::Key(_) => ApiError::Forbidden,
        }
    }
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(req
            .extensions()
            .get::<Caller>()
            .cloned()
            .unwrap_or_default()))
    }
}

/// A permission a route demands: the roles that hold it besides `admin`.
pub trait Permission {
    const ROLES: &'static [Role];
}

/// Keys, survey versions, erasure and the audit log: `admin` only.
pub struct Administer;
impl Permission for Administer {
    const ROLES: &'static [Role] = &[];
}

/// Reading responses, reports and exports: `analyst` (and `admin`).
pub struct ReadData;
impl Permission for ReadData {
    const ROLES: &'static [Role] = &[Role::Analyst];
}

/// Submitting responses: `collector` (and `admin`).
pub struct Submit;
impl Permission for Submit {
    const ROLES: &'static [Role] = &[Role::Collector];
}

/// Extracts the caller if it holds permission `P`, else fails with `401` or `403`. It is
/// ready at once, so as the first argument of a handler it is decided before any other
/// extractor (a body, a path) can fail.
pub struct Authorized<P: Permission> {
    pub principal: Principal,
    permission: PhantomData<P>,
}

impl<P: Permission> FromRequest for Authorized<P> {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let caller = req
            .extensions()
            .get::<Caller>()
            .cloned()
            .unwrap_or_default();
        ready(match caller {
            Caller::Key(principal) if caller_has(&principal, P::ROLES) => Ok(Self {
                principal,
                permission: PhantomData,
            }),
            other => Err(other.refusal()),
        })
    }
}

fn caller_has(principal: &Principal, roles: &[Role]) -> bool {
    principal.role == Role::Admin || roles.contains(&principal.role)
}

/// Middleware: turns the `Authorization` header into a [`Caller`], or answers `401`.
pub async fn authenticate(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let caller = match (
        req.headers().get(header::AUTHORIZATION),
        req.app_data::<web::Data<AppState>>(),
    ) {
        (None, _) | (_, None) => Ok(Caller::Anonymous),
        (Some(value), Some(state)) => {
            let token = value.to_str().ok().and_then(bearer_token);
            match token {
                Some(token) => verify(state, token).await,
                None => Err(ApiError::Unauthorized(Unauthenticated::Invalid)),
            }
        }
    };
    match caller {
        Ok(caller) => {
            req.extensions_mut().insert(caller);
            Ok(next.call(req).await?.map_into_left_body())
        }
        Err(error) => Ok(req.error_response(error).map_into_right_body()),
    }
}

/// The token of a `Bearer` credential (the scheme is case-insensitive).
fn bearer_token(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|token| !token.is_empty())
}

async fn verify(state: &AppState, token: &str) -> Result<Caller, ApiError> {
    let db = &state.db;
    let refused = |prefix: &str, reason: &str| {
        tracing::info!(key_prefix = prefix, reason, "API key refused");
        ApiError::Unauthorized(Unauthenticated::Invalid)
    };
    let Some(presented) = PresentedKey::parse(token) else {
        return Err(refused("", "malformed"));
    };
    let Some(key) = state.lookups.key_by_prefix(db, &presented.prefix).await? else {
        return Err(refused(&presented.prefix, "unknown"));
    };
    let now = Utc::now();
    if !presented.matches(&key.secret_hash) {
        return Err(refused(&key.prefix, "wrong secret"));
    }
    if key.revoked_at.is_some() {
        return Err(refused(&key.prefix, "revoked"));
    }
    if key.expires_at.is_some_and(|at| at <= now) {
        return Err(refused(&key.prefix, "expired"));
    }
    let Some(role) = Role::parse(&key.role) else {
        return Err(refused(&key.prefix, "unknown role"));
    };
    if key
        .last_used_at
        .is_none_or(|at| at <= now - LAST_USED_RESOLUTION)
    {
        record_last_use(db.clone(), key.id, key.prefix.clone(), now);
    }
    Ok(Caller::Key(Principal {
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
fn record_last_use(db: DatabaseConnection, id: Uuid, prefix: String, now: chrono::DateTime<Utc>) {
    static RECORDING: std::sync::Mutex<Vec<Uuid>> = std::sync::Mutex::new(Vec::new());
    let recording = || {
        RECORDING
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    };
    {
        let mut ids = recording();
        if ids.contains(&id) {
            return;
        }
        ids.push(id);
    }
    actix_web::rt::spawn(async move {
        if let Err(error) = KeyStore::touch(&db, id, now).await {
            tracing::warn!(key_prefix = %prefix, %error, "cannot record the key's last use");
        }
        recording().retain(|recorded| *recorded != id);
    });
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

impl Principal {
    /// The audit context of a write this key makes in request `request_id`.
    pub fn audit_context(&self, request_id: &crate::request_id::RequestId) -> AuditContext {
        AuditContext {
            actor: Some(self.key_id),
            request_id: Some(request_id.0.clone()),
        }
    }
}
