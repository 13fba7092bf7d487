//! Exports of stored responses: one row per response with the firm's segment attributes,
//! every answer in its own column, the tier, the blockers and the dimension scores, as CSV,
//! Parquet or NDJSON. The same stream serves `GET /api/v1/exports/responses` and
//! `readiness export`; `import` reads the CSV and NDJSON forms back.
//!
//! Rows are read in keyset pages and encoded page by page, and the bytes go through a bounded
//! channel, so memory stays flat however many rows there are, and a slow reader slows the
//! reading down instead of filling memory.

pub mod encode;
pub mod layout;
pub mod pseudonym;
pub mod spreadsheet;

use std::sync::Arc;

use bytes::Bytes;
use chrono::NaiveDate;
use readiness_analytics::reports::SegmentFilter;
use sea_orm::DatabaseConnection;
use tokio::sync::mpsc;

use crate::domain::params::{ParamProblem, check_window, window_instants};
use crate::services::Services;
use crate::services::catalog::Catalog;
use crate::services::error::ServiceError;
use crate::store::export_rows::{ExportFilter, ExportRowQuery};

pub use layout::Layout;
pub use pseudonym::Pseudonymiser;

/// Rows read per query.
pub const PAGE_ROWS: u64 = 2_000;
/// Encoded pages that may wait for a slow reader before reading pauses.
pub const CHANNEL_PAGES: usize = 4;

/// What an export is written as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Csv,
    Parquet,
    Ndjson,
}

impl ExportFormat {
    pub const ALL: [ExportFormat; 3] = [Self::Csv, Self::Parquet, Self::Ndjson];

    pub fn key(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::Parquet => "parquet",
            Self::Ndjson => "ndjson",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|format| format.key() == raw)
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Self::Csv => "text/csv; charset=utf-8",
            Self::Parquet => "application/vnd.apache.parquet",
            Self::Ndjson => "application/x-ndjson",
        }
    }

    /// The format a file name's extension names (`.jsonl` is NDJSON too).
    pub fn from_path(path: &std::path::Path) -> Option<Self> {
        match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "csv" => Some(Self::Csv),
            "parquet" => Some(Self::Parquet),
            "ndjson" | "jsonl" => Some(Self::Ndjson),
            _ => None,
        }
    }
}

/// Which responses to export, as an analyst asks for them.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportRequest {
    pub survey: String,
    pub version: Option<i32>,
    /// First day included, on `submitted_at` (UTC).
    pub from: Option<NaiveDate>,
    /// Last day included.
    pub to: Option<NaiveDate>,
    /// Only each firm's latest response (`basis=latest`); otherwise every response.
    pub latest_only: bool,
    /// The segments the rows are narrowed to; with `latest_only`, after each firm's latest
    /// response is chosen, as in the reports.
    pub segments: SegmentFilter,
}

impl ExportRequest {
    /// What the types alone do not rule out: a window that ends before it starts.
    pub fn check(&self) -> Vec<ParamProblem> {
        check_window(self.from, self.to).into_iter().collect()
    }
}

/// Rows and columns of an export.
#[derive(Debug, Clone)]
pub struct ExportPlan {
    pub filter: ExportFilter,
    pub layout: Arc<Layout>,
}

/// Resolves a request against the released versions of its survey.
pub async fn plan(
    db: &DatabaseConnection,
    catalog: &Catalog,
    request: &ExportRequest,
) -> Result<ExportPlan, ServiceError> {
    let problems = request.check();
    if !problems.is_empty() {
        return Err(ServiceError::InvalidParams(problems));
    }
    let entries = catalog
        .released(db, &request.survey, request.version)
        .await?;
    let (from, until) = window_instants(request.from, request.to);
    Ok(ExportPlan {
        filter: ExportFilter {
            survey_ids: entries.iter().map(|entry| entry.survey_id).collect(),
            from,
            until,
            latest_only: request.latest_only,
            segments: request.segments.clone(),
        },
        layout: Arc::new(Layout::new(&entries)),
    })
}

/// Plans an export for a server and starts it in the background: the chunks arrive on the
/// returned channel. Everything that can be refused (parameters, survey, version, the
/// pseudonym key) is checked before this returns.
pub async fn start(
    services: &Services,
    request: &ExportRequest,
    format: ExportFormat,
    pseudonymise: bool,
) -> Result<mpsc::Receiver<Chunk>, ServiceError> {
    let plan = plan(&services.db, &services.catalog, request).await?;
    let pseudonymiser = if pseudonymise {
        Some(
            services
                .pseudonymiser
                .get_or_try_init(|| {
                    Pseudonymiser::resolve(&services.db, services.pseudonym_key.as_ref())
                })
                .await
                .cloned()?,
        )
    } else {
        None
    };
    let (sender, receiver) = mpsc::channel(CHANNEL_PAGES);
    let db = services.db.clone();
    tokio::spawn(async move {
        match stream(db, plan, format, pseudonymiser, sender).await {
            Ok(rows) => tracing::info!(rows, format = format.key(), "export sent"),
            Err(error) => tracing::warn!(error = format!("{error:#}"), "export cut short"),
        }
    });
    Ok(receiver)
}

/// A piece of the encoded export, or the error that ends it early.
pub type Chunk = Result<Bytes, std::io::Error>;

/// Reads, encodes and sends the whole export; returns the number of rows. On failure the
/// channel gets an error last, so a reader can tell a cut-off export from a complete one.
pub async fn stream(
    db: DatabaseConnection,
    plan: ExportPlan,
    format: ExportFormat,
    pseudonymiser: Option<Pseudonymiser>,
    sender: mpsc::Sender<Chunk>,
) -> anyhow::Result<u64> {
    let result = produce(&db, plan, format, pseudonymiser, &sender).await;
    if let Err(error) = &result {
        let _ = sender
            .send(Err(std::io::Error::other(format!(
                "the export failed: {error:#}"
            ))))
            .await;
    }
    result
}

async fn produce(
    db: &DatabaseConnection,
    plan: ExportPlan,
    format: ExportFormat,
    pseudonymiser: Option<Pseudonymiser>,
    sender: &mpsc::Sender<Chunk>,
) -> anyhow::Result<u64> {
    let mut encoder = encode::encoder(format, plan.layout.clone())?;
    send(sender, encoder.start()?).await?;
    // A latest-only export keeps the responses that were their firm's latest when it
    // started; one received later is left out, and the one it supersedes stays in.
    let latest = if plan.filter.latest_only {
        Some(ExportRowQuery::latest_ids(db, &plan.filter).await?)
    } else {
        None
    };
    let mut after = None;
    let mut rows_written = 0;
    loop {
        let mut rows = ExportRowQuery::page_after(db, &plan.filter, after, PAGE_ROWS).await?;
        let Some(last) = rows.last() else { break };
        after = Some(last.position());
        if let Some(latest) = &latest {
            rows.retain(|row| latest.contains(&row.id));
            if rows.is_empty() {
                continue;
            }
        }
        rows_written += rows.len() as u64;
        if let Some(pseudonymiser) = &pseudonymiser {
            rows.iter_mut().for_each(|row| pseudonymiser.apply(row));
        }
        // Encoding is CPU work: it runs off the async threads.
        let (returned, bytes) = tokio::task::spawn_blocking(move || {
            let bytes = encoder.page(&rows);
            (encoder, bytes)
        })
        .await?;
        encoder = returned;
        send(sender, bytes?).await?;
    }
    let tail = tokio::task::spawn_blocking(move || encoder.finish()).await??;
    send(sender, tail).await?;
    Ok(rows_written)
}

async fn send(sender: &mpsc::Sender<Chunk>, bytes: Vec<u8>) -> anyhow::Result<()> {
    if bytes.is_empty() {
        return Ok(());
    }
    sender
        .send(Ok(Bytes::from(bytes)))
        .await
        .map_err(|_| anyhow::anyhow!("the reader of the export went away"))
}
