//! Erasure of a firm on request: its row and every response, in one transaction, then every
//! in-memory copy, so no cached figure keeps it.

use uuid::Uuid;

use super::Services;
use super::error::ServiceError;
use crate::store::audit::AuditContext;
use crate::store::firms::FirmStore;

/// Erases the firm with this reference; returns its id and how many responses went with it.
pub async fn erase_firm(
    services: &Services,
    external_ref: &str,
    context: &AuditContext,
) -> Result<(Uuid, u64), ServiceError> {
    let (firm, erased) = FirmStore::erase(&services.db, external_ref, context)
        .await?
        .ok_or_else(|| ServiceError::NotFound(format!("no firm `{external_ref}`")))?;
    services.reports.erase_firm(firm)?;
    Ok((firm, erased))
}
