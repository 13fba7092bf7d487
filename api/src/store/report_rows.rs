//! Reading scored responses in the shape report snapshots take them.
//!
//! Three paths: keyset pages in receipt order through the pool (incremental refreshes), and
//! for the first load a parallel scan of a SQLite file by rowid range on read-only connections
//! of its own (see [`sqlite_scan`]) or one binary `COPY` from PostgreSQL (see
//! [`postgres_copy`]).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use readiness_analytics::reports::{Blockers, RowBatch, RowRef};
use sea_orm::sqlx::{self, Row};
use sea_orm::{DatabaseConnection, DbBackend, DbErr, EntityTrait, QuerySelect};
use uuid::Uuid;

use super::entities::survey;

pub mod postgres_copy;
pub mod sqlite_scan;

/// Rows read per query while paging.
pub const PAGE: u64 = 50_000;

/// A position in receipt order.
pub type Watermark = (DateTime<Utc>, Uuid);

/// The response columns reports read, in the order the decoders read them (the SQLite scan
/// too, which reads the firms' record keys apart).
macro_rules! response_columns {
    () => {
        "id, firm_id, survey_id, industry, size_band, country, region, tier_rank, \
         ready_to_customise, blockers, score_maturity, score_clarity, score_vendor_gap, \
         score_capability, score_governance, submitted_at, received_at"
    };
}
pub(crate) use response_columns;

/// The response columns and, last, the firm's record key.
macro_rules! report_columns {
    () => {
        concat!(
            "SELECT ",
            response_columns!(),
            ", (SELECT record_key FROM firms WHERE firms.id = responses.firm_id) AS record_key \
             FROM responses "
        )
    };
}

const SQLITE_FIRST: &str = concat!(report_columns!(), "ORDER BY received_at, id LIMIT ?1");
const SQLITE_AFTER: &str = concat!(
    report_columns!(),
    "WHERE (received_at, id) > (?1, ?2) ORDER BY received_at, id LIMIT ?3"
);
const POSTGRES_FIRST: &str = concat!(report_columns!(), "ORDER BY received_at, id LIMIT $1");
const POSTGRES_AFTER: &str = concat!(
    report_columns!(),
    "WHERE (received_at, id) > ($1, $2) ORDER BY received_at, id LIMIT $3"
);
const LATEST: &str =
    "SELECT received_at, id FROM responses ORDER BY received_at DESC, id DESC LIMIT 1";

/// Runs a page query on a sqlx pool and decodes each row by position into a batch (one
/// body for both backends: the row types differ, the code does not). Strings are looked up
/// while borrowed; only the last row's receipt time is decoded, for the watermark.
macro_rules! fetch_page {
    ($pool:expr, $first:expr, $after_sql:expr, $after:expr, $limit:expr, $versions:expr) => {{
        let query = match $after {
            Some((at, id)) => sqlx::query($after_sql).bind(at).bind(id),
            None => sqlx::query($first),
        };
        let fetched = query
            .bind($limit)
            .fetch_all($pool)
            .await
            .map_err(|e| DbErr::Custom(format!("reading report rows: {e}")))?;
        let decode = |e: sqlx::Error| DbErr::Custom(format!("decoding a report row: {e}"));
        let mut batch = RowBatch::with_capacity(fetched.len());
        for row in &fetched {
            let id: Uuid = row.try_get(0).map_err(decode)?;
            let firm: Uuid = row.try_get(1).map_err(decode)?;
            let survey_id: i32 = row.try_get(2).map_err(decode)?;
            let tier_rank: i16 = row.try_get(7).map_err(decode)?;
            let blockers: sqlx::types::Json<Vec<String>> = row.try_get(9).map_err(decode)?;
            let submitted_at: DateTime<Utc> = row.try_get(15).map_err(decode)?;
            let record_key: Option<i16> = row.try_get(17).map_err(decode)?;
            batch
                .push(
                    RowRef {
                        id: id.as_u128(),
                        firm: firm.as_u128(),
                        survey_id,
                        version: $versions.get(&survey_id).copied().unwrap_or_default(),
                        industry: row.try_get(3).map_err(decode)?,
                        size_band: row.try_get(4).map_err(decode)?,
                        country: row.try_get(5).map_err(decode)?,
                        region: row.try_get(6).map_err(decode)?,
                        submitted_at: submitted_at.timestamp_micros(),
                        tier_rank: u8::try_from(tier_rank).unwrap_or_default(),
                        ready_to_customise: row.try_get(8).map_err(decode)?,
                        record_key: record_key_of(record_key.map(i64::from)),
                        scores: [
                            row.try_get(10).map_err(decode)?,
                            row.try_get(11).map_err(decode)?,
                            row.try_get(12).map_err(decode)?,
                            row.try_get(13).map_err(decode)?,
                            row.try_get(14).map_err(decode)?,
                        ],
                    },
                    Blockers::List(&blockers.0),
                )
                .map_err(|e| DbErr::Custom(e.to_string()))?;
        }
        let last = match fetched.last() {
            Some(row) => Some((
                row.try_get::<DateTime<Utc>, _>(16).map_err(decode)?,
                row.try_get::<Uuid, _>(0).map_err(decode)?,
            )),
            None => None,
        };
        (batch, last)
    }};
}

/// A firm's record key as stored (0–255); a response whose firm row is gone (erased while
/// the page was read) counts with key 0 until the next refresh drops it.
pub(crate) fn record_key_of(stored: Option<i64>) -> u8 {
    stored.and_then(|key| u8::try_from(key).ok()).unwrap_or(0)
}

/// Every firm's record key by firm id, read once for a bulk load (SQLite's scan and
/// PostgreSQL's copy).
pub(crate) type RecordKeys = readiness_analytics::reports::IdMap<u8>;

/// The record key of a response's firm; a firm erased since the keys were read counts with
/// key 0 until the erasure drops its rows (as when paging).
pub(crate) fn record_key_in(keys: &RecordKeys, firm: u128) -> u8 {
    keys.get(&firm).copied().unwrap_or(0)
}

pub struct ReportRowQuery;

impl ReportRowQuery {
    /// Survey id → instrument version.
    pub async fn versions(db: &DatabaseConnection) -> Result<HashMap<i32, i32>, DbErr> {
        Ok(survey::Entity::find()
            .select_only()
            .column(survey::Column::Id)
            .column(survey::Column::Version)
            .into_tuple::<(i32, i32)>()
            .all(db)
            .await?
            .into_iter()
            .collect())
    }

    /// The position of the last response received, if any.
    pub async fn latest(db: &DatabaseConnection) -> Result<Option<Watermark>, DbErr> {
        let read = |e: sqlx::Error| DbErr::Custom(format!("reading the latest receipt: {e}"));
        match db.get_database_backend() {
            DbBackend::Sqlite => sqlx::query_as(LATEST)
                .fetch_optional(db.get_sqlite_connection_pool())
                .await
                .map_err(read),
            DbBackend::Postgres => sqlx::query_as(LATEST)
                .fetch_optional(db.get_postgres_connection_pool())
                .await
                .map_err(read),
            other => Err(unsupported(other)),
        }
    }

    /// Every response received up to `until` (inclusive), by one binary `COPY` (PostgreSQL
    /// only; see [`postgres_copy`]), sent to `sink` batch by batch as it streams in.
    pub async fn copy_until(
        db: &DatabaseConnection,
        until: Watermark,
        versions: &HashMap<i32, i32>,
        sink: &tokio::sync::mpsc::Sender<RowBatch>,
    ) -> Result<(), DbErr> {
        match db.get_database_backend() {
            DbBackend::Postgres => {
                postgres_copy::copy(db.get_postgres_connection_pool(), until, versions, sink)
                    .await
                    .map_err(|e| DbErr::Custom(format!("copying report rows: {e}")))
            }
            other => Err(unsupported(other)),
        }
    }

    /// Up to [`PAGE`] responses received after `after`, in receipt order (a row-value
    /// comparison, so the `(received_at, id)` index serves the keyset), and the position of the
    /// last one.
    pub async fn page_after(
        db: &DatabaseConnection,
        after: Option<Watermark>,
        versions: &HashMap<i32, i32>,
    ) -> Result<(RowBatch, Option<Watermark>), DbErr> {
        let limit = i64::try_from(PAGE).unwrap_or(i64::MAX);
        Ok(match db.get_database_backend() {
            DbBackend::Sqlite => fetch_page!(
                db.get_sqlite_connection_pool(),
                SQLITE_FIRST,
                SQLITE_AFTER,
                after,
                limit,
                versions
            ),
            DbBackend::Postgres => fetch_page!(
                db.get_postgres_connection_pool(),
                POSTGRES_FIRST,
                POSTGRES_AFTER,
                after,
                limit,
                versions
            ),
            other => return Err(unsupported(other)),
        })
    }
}

fn unsupported(backend: DbBackend) -> DbErr {
    DbErr::Custom(format!("reports do not support the {backend:?} backend"))
}
