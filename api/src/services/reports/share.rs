//! Share links: a report page's parameters and an expiry, signed, so the page opens without a
//! key until the link expires.

use chrono::{DateTime, Duration, Utc};
use serde_json::json;

use super::run::resolve;
use crate::domain::params::ReportParams;
use crate::services::Services;
use crate::services::error::ServiceError;
use crate::store::audit::{AuditContext, AuditStore, action};

/// A link just made: its signed token and when it expires.
pub struct ShareLink {
    pub token: String,
    pub expires_at: DateTime<Utc>,
}

/// Signs `params` for `expires_in` seconds and records `report.share`. A link must name a
/// survey and margins that exist now.
pub async fn create(
    services: &Services,
    params: &ReportParams,
    expires_in: i64,
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
    // Links expire on a whole second, as the token records it.
    let expires_at =
        DateTime::from_timestamp((Utc::now() + Duration::seconds(expires_in)).timestamp(), 0)
            .ok_or_else(|| anyhow::anyhow!("the expiry of a share link is out of range"))?;
    let token = services.share.sign(&pairs, expires_at);
    AuditStore::record(
        &services.db,
        context,
        action::REPORT_SHARE,
        "reports/readiness.html",
        json!({
            "query": pairs.iter().map(|(k, v)| json!([k, v])).collect::<Vec<_>>(),
            "expires_at": expires_at,
        }),
    )
    .await?;
    Ok(ShareLink { token, expires_at })
}
