//! Reading responses for an export: keyset pages in receipt order, with the firm's reference.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use readiness_analytics::reports::SegmentFilter;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, Statement};
use uuid::Uuid;

use super::sql::{Params, segments};

/// Which responses an export holds.
#[derive(Debug, Clone)]
pub struct ExportFilter {
    /// Survey versions (row ids of `surveys`); never empty.
    pub survey_ids: Vec<i32>,
    /// First instant included, on `submitted_at`.
    pub from: Option<DateTime<Utc>>,
    /// First instant no longer included, on `submitted_at`.
    pub until: Option<DateTime<Utc>>,
    /// Only each firm's latest response among the chosen versions and window, as they stood
    /// when the export started (see [`ExportRowQuery::latest_ids`]).
    pub latest_only: bool,
    /// Only rows of these segments (on the row's own attributes); with `latest_only`, each
    /// firm's latest response is chosen first and then kept if it is in them.
    pub segments: SegmentFilter,
}

/// A position in receipt order.
pub type Position = (DateTime<Utc>, Uuid);

/// One stored response with its firm's reference, as exports and sync pages read it. `A` and
/// `B` are how the answers and the blockers are held: parsed for an export
/// ([`ExportRow`]), or as the JSON text the database holds for a sync page.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredRow<A, B> {
    pub id: Uuid,
    pub survey_id: i32,
    pub firm_ref: String,
    pub industry: String,
    pub size_band: String,
    pub country: String,
    pub region: Option<String>,
    /// Question key → option key, as submitted.
    pub answers: A,
    pub tier: String,
    pub tier_rank: i16,
    pub ready_to_customise: bool,
    /// The gates of the next tier this response fails.
    pub blockers: B,
    /// maturity, clarity, vendor_gap, capability, governance.
    pub scores: [f64; 5],
    pub submitted_at: DateTime<Utc>,
    pub received_at: DateTime<Utc>,
}

/// One stored response as an export writes it.
pub type ExportRow = StoredRow<serde_json::Value, Vec<String>>;

impl ExportRow {
    pub fn position(&self) -> Position {
        (self.received_at, self.id)
    }
}

pub struct ExportRowQuery;

impl ExportRowQuery {
    /// The id of each firm's latest response among `filter`'s versions and window: latest by
    /// submission time, ties in receipt order, as in the reports. One pass over the window,
    /// sorted by the database; a latest-only export takes it once, when it starts, and keeps
    /// only these rows of its pages.
    pub async fn latest_ids(
        db: &DatabaseConnection,
        filter: &ExportFilter,
    ) -> Result<HashSet<Uuid>, DbErr> {
        let backend = db.get_database_backend();
        let mut params = Params::new(backend);
        let sql = format!(
            "SELECT id FROM (SELECT r.id, ROW_NUMBER() OVER (PARTITION BY r.firm_id \
             ORDER BY r.submitted_at DESC, r.received_at DESC, r.id DESC) AS n \
             FROM responses r WHERE {}) latest WHERE n = 1",
            window(filter, "r", &mut params)
        );
        db.query_all_raw(Statement::from_sql_and_values(backend, sql, params.values))
            .await?
            .iter()
            .map(|row| row.try_get_by_index::<Uuid>(0))
            .collect()
    }

    /// Up to `limit` responses of `filter` received after `after`, in receipt order. Each page
    /// is its own short query, so an export that a slow client reads for minutes holds no
    /// connection or transaction in between.
    pub async fn page_after(
        db: &DatabaseConnection,
        filter: &ExportFilter,
        after: Option<Position>,
        limit: u64,
    ) -> Result<Vec<ExportRow>, DbErr> {
        let backend = db.get_database_backend();
        let statement = page_statement(backend, filter, after, limit);
        db.query_all_raw(statement)
            .await?
            .iter()
            .map(decode)
            .collect()
    }
}

/// The versions and the submission window, on the table named `alias`.
fn window(filter: &ExportFilter, alias: &str, params: &mut Params) -> String {
    let surveys = filter
        .survey_ids
        .iter()
        .map(i32::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    let mut sql = format!("{alias}.survey_id IN ({surveys})");
    if let Some(from) = filter.from {
        sql += &format!(" AND {alias}.submitted_at >= {}", params.bind(from));
    }
    if let Some(until) = filter.until {
        sql += &format!(" AND {alias}.submitted_at < {}", params.bind(until));
    }
    sql
}

fn page_statement(
    backend: DbBackend,
    filter: &ExportFilter,
    after: Option<Position>,
    limit: u64,
) -> Statement {
    let mut params = Params::new(backend);
    let mut sql =
        format!("SELECT {ROW_COLUMNS} FROM responses r JOIN firms f ON f.id = r.firm_id WHERE ");
    // `+survey_id` keeps the planners off the (survey_id, submitted_at) index: with it,
    // SQLite sorts every matching row for each page instead of walking the (received_at, id)
    // index from the keyset position.
    sql.push('+');
    sql += &window(filter, "r", &mut params);
    sql += &segments(&filter.segments, "r", &mut params);
    if let Some((received_at, id)) = after {
        let at = params.bind(received_at);
        let id = params.bind(id);
        sql += &format!(" AND (r.received_at, r.id) > ({at}, {id})");
    }
    let limit = params.bind(i64::try_from(limit).unwrap_or(i64::MAX));
    sql += &format!(" ORDER BY r.received_at, r.id LIMIT {limit}");
    Statement::from_sql_and_values(backend, sql, params.values)
}

/// The columns [`decode`] reads, in its order, of `responses r` joined with `firms f`.
pub(crate) const ROW_COLUMNS: &str = "r.id, r.survey_id, f.external_ref, r.industry, \
     r.size_band, r.country, r.region, r.answers, r.tier, r.tier_rank, r.ready_to_customise, \
     r.blockers, r.score_maturity, r.score_clarity, r.score_vendor_gap, r.score_capability, \
     r.score_governance, r.submitted_at, r.received_at";

/// A row selected with [`ROW_COLUMNS`] first.
pub(crate) fn decode(row: &sea_orm::QueryResult) -> Result<ExportRow, DbErr> {
    let blockers: serde_json::Value = row.try_get_by_index(11)?;
    let blockers = serde_json::from_value(blockers)
        .map_err(|e| DbErr::Custom(format!("a response has malformed blockers: {e}")))?;
    read(row, row.try_get_by_index(7)?, blockers)
}

/// The columns of a row selected with [`ROW_COLUMNS`] first, with its answers and blockers
/// already read in the form the caller holds them.
pub(crate) fn read<A, B>(
    row: &sea_orm::QueryResult,
    answers: A,
    blockers: B,
) -> Result<StoredRow<A, B>, DbErr> {
    Ok(StoredRow {
        id: row.try_get_by_index(0)?,
        survey_id: row.try_get_by_index(1)?,
        firm_ref: row.try_get_by_index(2)?,
        industry: row.try_get_by_index(3)?,
        size_band: row.try_get_by_index(4)?,
        country: row.try_get_by_index(5)?,
        region: row.try_get_by_index(6)?,
        answers,
        tier: row.try_get_by_index(8)?,
        tier_rank: row.try_get_by_index(9)?,
        ready_to_customise: row.try_get_by_index(10)?,
        blockers,
        scores: [
            row.try_get_by_index(12)?,
            row.try_get_by_index(13)?,
            row.try_get_by_index(14)?,
            row.try_get_by_index(15)?,
            row.try_get_by_index(16)?,
        ],
        submitted_at: row.try_get_by_index(17)?,
        received_at: row.try_get_by_index(18)?,
    })
}
