//! The application: what the server and the command line do, without either of them.
//!
//! **Architecture Invariant:** services know nothing of HTTP or the command line (no
//! `actix_web`, no `clap`, nothing from `crate::http` or `crate::cli`). They take typed
//! values (`domain/`) and return plain values or a [`error::ServiceError`], which each front
//! end names in its own terms.

pub mod assessments;
pub mod catalog;
pub mod demo;
pub mod erasure;
pub mod error;
pub mod exports;
pub mod imports;
pub mod keys;
pub mod metrics;
pub mod plans;
pub mod reports;
pub mod submissions;
pub mod sync;
pub mod webhooks;

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use migration::{Migrator, MigratorTrait};
use readiness_analytics::reports::disclosure::DisclosurePolicy;
use sea_orm::DatabaseConnection;
use tokio::sync::OnceCell;

use self::catalog::Catalog;
use self::exports::Pseudonymiser;
use self::keys::LastUse;
use self::metrics::Metrics;
use self::reports::snapshot::ReportSnapshot;
use crate::domain::secret::Secret;
use crate::domain::share_token::ShareSigner;
use crate::domain::tombstone::TombstoneKey;
use crate::store::Backend;
use crate::store::ingest::{GroupCommit, Writer};
use crate::store::lookups::Lookups;
use crate::store::storage::StorageHealth;

/// Shared transactions in flight at once on PostgreSQL: while one waits for its commit to
/// reach the disk, the next is being written. SQLite has one writer at a time, so one
/// writer thread.
const POSTGRES_WRITERS: usize = 4;

/// What the services need to start.
#[derive(Debug, Clone)]
pub struct Config {
    /// `sqlite://…` or `postgres://…`.
    pub database_url: String,
    /// How stale a report may be before the snapshot reads new responses.
    pub report_refresh: Duration,
    /// The secret share links are signed with; `None` = a random one per process.
    pub share_secret: Option<Secret>,
    /// The key that pseudonymises firm references in exports; `None` = the key kept in the
    /// database.
    pub pseudonym_key: Option<Secret>,
    /// How submissions are gathered into shared transactions.
    pub group_commit: GroupCommit,
    /// How every published figure is protected: the perturbation table and the threshold.
    pub disclosure: DisclosurePolicy,
}

/// Everything the services share: the database, the caches and the writer. One per server.
#[derive(Debug)]
pub struct Services {
    pub db: DatabaseConnection,
    pub catalog: Catalog,
    pub reports: ReportSnapshot,
    pub metrics: Metrics,
    /// Signs and checks share links to report pages.
    pub share: ShareSigner,
    /// The configured pseudonym key; `None` = the key kept in the database.
    pub pseudonym_key: Option<Secret>,
    /// Built on the first pseudonymised export.
    pub pseudonymiser: OnceCell<Pseudonymiser>,
    /// The reads every submission makes (its key, its survey).
    pub lookups: Lookups,
    /// Where submissions are stored: the group-commit writer.
    pub writer: Writer,
    /// Keys whose last use is being recorded.
    pub last_use: LastUse,
    /// The publisher's disclosure policy; every report passes through it.
    pub disclosure: DisclosurePolicy,
    /// Hashes what an erasure leaves behind (`domain::tombstone`).
    pub tombstones: TombstoneKey,
    /// Whether the database takes writes (readiness).
    pub storage: StorageHealth,
    /// Signs invitations to the self-assessment and its forms' CSRF tokens, with a secret
    /// kept in the database so that every replica and restart accepts them.
    pub assessments: ShareSigner,
}

impl Services {
    /// Connects, applies pending migrations and starts the writer for the backend.
    pub async fn start(config: Config) -> anyhow::Result<Arc<Self>> {
        if let Some(key) = &config.pseudonym_key {
            exports::pseudonym::check_configured(key)?;
        }
        let db = crate::store::db::connect(&config.database_url)
            .await
            .map_err(|error| {
                crate::store::storage::explain_connect_error(&config.database_url, error)
            })?;
        Migrator::up(&db, None)
            .await
            .context("applying database migrations failed")?;
        let share = share_signer(config.share_secret.as_ref().map(Secret::expose))?;
        // A database that answers but cannot be written would fail every submission.
        crate::store::storage::probe(&db).await.map_err(|error| {
            anyhow::anyhow!(
                "the database is not writable ({}); check its disk space and permissions",
                error.to_string().trim()
            )
        })?;
        let tombstones = erasure::tombstone_key(&db).await?;
        let assessments = assessments::signing_key(&db).await?;
        erasure::purge_tombstones(&db).await?;
        let writer = match Backend::of(&db) {
            Backend::SqliteFile(path) => {
                Writer::start_sqlite(&path, config.group_commit, tombstones.clone())?
            }
            backend => {
                let writers = if backend == Backend::Postgres {
                    POSTGRES_WRITERS
                } else {
                    1
                };
                let writer_db = crate::store::db::connect_pool(
                    &config.database_url,
                    u32::try_from(writers).unwrap_or(1),
                )
                .await?;
                Writer::start(
                    writer_db,
                    GroupCommit {
                        writers,
                        ..config.group_commit
                    },
                    tombstones.clone(),
                )
            }
        };
        Ok(Arc::new(Self {
            lookups: Lookups::new(&db),
            db,
            catalog: Catalog::default(),
            reports: ReportSnapshot::new(config.report_refresh),
            metrics: Metrics::new().context("setting up the metrics registry")?,
            share,
            pseudonym_key: config.pseudonym_key,
            pseudonymiser: OnceCell::new(),
            writer,
            last_use: LastUse::default(),
            disclosure: config.disclosure,
            tombstones,
            storage: StorageHealth::default(),
            assessments,
        }))
    }
}

/// The configured share secret, or a random one with a warning.
fn share_signer(secret: Option<&str>) -> anyhow::Result<ShareSigner> {
    match secret {
        Some(secret) => ShareSigner::new(secret.as_bytes()).context("invalid share_secret"),
        None => {
            tracing::warn!(
                "share_secret is not set (READINESS_SHARE_SECRET); share links are signed with a \
                 random secret, stop working when this process stops, and do not open on other \
                 replicas"
            );
            ShareSigner::random().context("generating a share secret")
        }
    }
}
