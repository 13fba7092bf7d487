//! Who is calling, and what they may do.
//!
//! The `authenticate` middleware leaves a [`Caller`] in the request's extensions. Handlers
//! demand a role with the [`Authorized`] extractor, which decides from the caller alone, so a
//! `401` or `403` is sent before anything is looked up and never tells whether a resource
//! exists.

use std::future::{Ready, ready};
use std::marker::PhantomData;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage, HttpRequest};

use crate::domain::KeyScope;
use crate::domain::api_key::Role;
use crate::http::problem::{ApiError, Unauthenticated};

pub use crate::services::keys::Principal;

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

    /// Whose idempotency keys this caller's keys are: its API key's, or the public's.
    pub fn key_scope(&self) -> KeyScope {
        match self {
            Caller::Anonymous => KeyScope::Public,
            Caller::Key(principal) => KeyScope::ApiKey(principal.key_id),
        }
    }

    /// Whether the caller holds one of `roles`; `admin` holds every role.
    pub fn has_any(&self, roles: &[Role]) -> bool {
        self.principal().is_some_and(|p| p.has_any(roles))
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

/// Reading aggregates (reports, the report page, share links, population margins):
/// `viewer`, `analyst` (and `admin`).
pub struct ReadAggregates;
impl Permission for ReadAggregates {
    const ROLES: &'static [Role] = &[Role::Viewer, Role::Analyst];
}

/// Reading microdata (single responses, exports): `analyst` (and `admin`).
pub struct ReadMicrodata;
impl Permission for ReadMicrodata {
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
            Caller::Key(principal) if principal.has_any(P::ROLES) => Ok(Self {
                principal,
                permission: PhantomData,
            }),
            other => Err(other.refusal()),
        })
    }
}
