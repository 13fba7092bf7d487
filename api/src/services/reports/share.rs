//! Share links: a report page's parameters and an expiry, signed, so the page opens without a
//! key until the link expires, is revoked, or the key that made it is revoked or expires.
//!
//! Each link has a row (`store::share_links`) keyed by an id the token carries; the token
//! itself is never stored. Opening a link checks the signature and the expiry first, so a
//! forged or expired token costs no query, then reads the link's row and its key's in one
//! query by primary key. Nothing is cached: a revocation on any replica holds at once.

use chrono::{DateTime, Duration, Utc};
use serde_json::json;
use uuid::Uuid;

use super::run::resolve;
use crate::domain::params::ReportParams;
use crate::domain::share_token::{ShareError, SharedReport};
use crate::services::Services;
use crate::services::error::ServiceError;
use crate::store::audit::AuditContext;
use crate::store::entities::{api_key, share_link};
use crate::store::share_links::ShareLinkStore;

/// A link just made: its id, its signed token and when it expires.
pub struct ShareLink {
    pub id: Uuid,
    pub token: String,
    pub expires_at: DateTime<Utc>,
}

/// Signs `params` for `expires_in` seconds as a link of the key `creator`, stores the link's
/// row and records `report.share`. A link must name a survey and margins that exist now.
pub async fn create(
    services: &Services,
    params: &ReportParams,
    expires_in: i64,
    creator: Uuid,
    context: &AuditContext,
) -> Result<ShareLink, ServiceError> {
    resolve(
        &services.db,
        &services.catalog,
        &services.disclosure,
        params,
    )
    .await?;
    let pairs = params.to_pairs(true);
    let now = Utc::now();
    // Links expire on a whole second, as the token records it.
    let expires_at = DateTime::from_timestamp((now + Duration::seconds(expires_in)).timestamp(), 0)
        .ok_or_else(|| anyhow::anyhow!("the expiry of a share link is out of range"))?;
    let id = Uuid::new_v4();
    ShareLinkStore::create(
        &services.db,
        share_link::Model {
            id,
            key_id: creator,
            query: json!(pairs.iter().map(|(k, v)| json!([k, v])).collect::<Vec<_>>()),
            created_at: crate::domain::submission::to_stored_precision(now),
            expires_at,
            revoked_at: None,
        },
        context,
    )
    .await?;
    let token = services.share.sign(id, &pairs, expires_at);
    Ok(ShareLink {
        id,
        token,
        expires_at,
    })
}

/// Why a link does not open.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Malformed, altered, signed with another secret, or without a row.
    NotFound,
    /// Genuine, but past its expiry.
    Expired(DateTime<Utc>),
    /// Revoked by an admin.
    Revoked,
    /// The key that made it is revoked or has expired.
    KeyRevoked,
}

/// The report a token opens at `now`, or why it opens none.
pub async fn open(
    services: &Services,
    token: &str,
    now: DateTime<Utc>,
) -> Result<Result<SharedReport, Refusal>, ServiceError> {
    let shared = match services.share.verify(token, now) {
        Ok(shared) => shared,
        Err(ShareError::Invalid) => return Ok(Err(Refusal::NotFound)),
        Err(ShareError::Expired(at)) => return Ok(Err(Refusal::Expired(at))),
    };
    let Some((link, key)) = ShareLinkStore::get(&services.db, shared.id).await? else {
        return Ok(Err(Refusal::NotFound));
    };
    if link.revoked_at.is_some() {
        return Ok(Err(Refusal::Revoked));
    }
    if !key.as_ref().is_some_and(|key| key_is_live(key, now)) {
        return Ok(Err(Refusal::KeyRevoked));
    }
    Ok(Ok(shared))
}

fn key_is_live(key: &api_key::Model, now: DateTime<Utc>) -> bool {
    key.revoked_at.is_none() && key.expires_at.is_none_or(|at| at > now)
}

/// A link as an admin sees it: never its token.
#[derive(Debug, Clone)]
pub struct LinkSummary {
    pub id: Uuid,
    pub key_id: Uuid,
    /// The name of the key that made it (`None` if the key's row is gone).
    pub key_name: Option<String>,
    pub query: Vec<(String, String)>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// Whether it opens now: neither it nor its key is revoked, and neither has expired.
    pub active: bool,
}

/// Every link that has not expired yet, revoked ones too, newest first.
pub async fn list(
    services: &Services,
    now: DateTime<Utc>,
) -> Result<Vec<LinkSummary>, ServiceError> {
    let mut summaries = Vec::new();
    for (link, key) in ShareLinkStore::unexpired(&services.db, now).await? {
        let query = serde_json::from_value(link.query).map_err(|error| {
            anyhow::anyhow!("share link {} has unreadable parameters: {error}", link.id)
        })?;
        summaries.push(LinkSummary {
            active: link.revoked_at.is_none()
                && key.as_ref().is_some_and(|key| key_is_live(key, now)),
            id: link.id,
            key_id: link.key_id,
            key_name: key.map(|key| key.name),
            query,
            created_at: link.created_at,
            expires_at: link.expires_at,
            revoked_at: link.revoked_at,
        });
    }
    Ok(summaries)
}

/// Revokes link `id` (recorded as `report.share_revoke`); `false` if there is no such link.
/// Revoking a revoked link again changes nothing.
pub async fn revoke(
    services: &Services,
    id: Uuid,
    context: &AuditContext,
) -> Result<bool, ServiceError> {
    Ok(ShareLinkStore::revoke(&services.db, id, context)
        .await?
        .is_some())
}
