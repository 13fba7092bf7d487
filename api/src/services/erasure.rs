//! Erasure of a firm on request: its row and every response, in one transaction, then every
//! in-memory copy, so no cached figure keeps it. What stays is a tombstone (keyed hashes of
//! the reference and of the idempotency keys, `domain::tombstone`) that refuses replays of the
//! firm's submissions for [`TOMBSTONE_DAYS`] days, and for as long the change feed's
//! `firm.erased` entry with the erased responses' ids, for mirrors to delete them.

use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;
use uuid::Uuid;

use super::Services;
use super::error::ServiceError;
use crate::domain::tombstone::{TOMBSTONE_DAYS, TombstoneKey};
use crate::store::audit::AuditContext;
use crate::store::changes::ChangeStore;
use crate::store::firms::FirmStore;
use crate::store::secrets::SecretStore;
use crate::store::tombstones::TombstoneStore;

/// The name of the tombstone key in `server_secrets`: generated once, shared by replicas.
const SECRET_NAME: &str = "tombstone_key";

/// Erases the firm with this reference; returns its id and how many responses went with it.
pub async fn erase_firm(
    services: &Services,
    external_ref: &str,
    context: &AuditContext,
) -> Result<(Uuid, u64), ServiceError> {
    let (firm, erased) =
        FirmStore::erase(&services.db, external_ref, &services.tombstones, context)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("no firm `{external_ref}`")))?;
    services.reports.erase_firm(firm)?;
    purge_tombstones(&services.db).await?;
    Ok((firm, erased))
}

/// The key tombstones are hashed with, generated on first use.
pub async fn tombstone_key(db: &DatabaseConnection) -> anyhow::Result<TombstoneKey> {
    let mut random = [0u8; 32];
    getrandom::fill(&mut random)
        .map_err(|e| anyhow::anyhow!("no randomness for the tombstone key: {e}"))?;
    let stored = SecretStore::get_or_create(db, SECRET_NAME, || hex::encode(random)).await?;
    TombstoneKey::new(stored.as_bytes()).map_err(anyhow::Error::msg)
}

/// Forgets tombstones older than [`TOMBSTONE_DAYS`] (at start and after each erasure).
pub async fn purge_tombstones(db: &DatabaseConnection) -> anyhow::Result<()> {
    let days = i64::try_from(TOMBSTONE_DAYS).unwrap_or(i64::MAX);
    purge_tombstones_before(db, Utc::now() - chrono::Duration::days(days)).await
}

/// Forgets the tombstones of erasures before `before`: the digests that refuse replays, and
/// the change feed's `firm.erased` entries, which name the erased responses' ids so that
/// mirrors delete them (a mirror that syncs less often than [`TOMBSTONE_DAYS`] may miss
/// one).
pub async fn purge_tombstones_before(
    db: &DatabaseConnection,
    before: DateTime<Utc>,
) -> anyhow::Result<()> {
    let purged = TombstoneStore::purge(db, before).await?;
    let feed = ChangeStore::purge_erasures(db, before).await?;
    if purged + feed > 0 {
        tracing::info!(
            purged,
            feed,
            "erasure tombstones past their time were forgotten"
        );
    }
    Ok(())
}
