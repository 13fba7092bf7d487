//! The change feed (`changes`, migration `m20261206_000001_changes`): stored responses and
//! erasures in commit order, read in pages after a position.
//!
//! A position is `(txid, seq)`; see the migration for why. Every page is bounded by the
//! feed's [`Position`] horizon: on SQLite the last row committed, on PostgreSQL the last row
//! of a transaction older than every transaction still running. Nothing can later commit at
//! or before the horizon, so a reader that continues from it misses nothing and sees
//! nothing twice.

use chrono::{DateTime, Utc};
use readiness_analytics::reports::SegmentFilter;
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, Statement,
};

use super::export_rows::{ROW_COLUMNS, StoredRow, read};
use super::sql::{Params, segments};
use uuid::Uuid;

/// `response.created`: a response was stored.
pub const RESPONSE_CREATED: &str = "response.created";
/// `firm.erased`: a firm and its responses were erased on request.
pub const FIRM_ERASED: &str = "firm.erased";

/// A position in the feed: the writing transaction (0 on SQLite) and the row's sequence.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Position {
    pub txid: i64,
    pub seq: i64,
}

/// One row of the feed.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub position: Position,
    pub kind: String,
    pub at: DateTime<Utc>,
    /// The stored response (`response.created`).
    pub response_id: Option<Uuid>,
    /// The erased responses (`firm.erased`).
    pub response_ids: Vec<Uuid>,
}

/// A stored response as a sync page sends it: the columns of an export row, with the answers
/// (a JSON object) and blockers (a JSON array) as the JSON text the database holds (valid JSON,
/// checked when stored), so a page is written without taking them apart and putting them
/// together again; and its position.
#[derive(Debug, Clone, PartialEq)]
pub struct SyncRow {
    pub position: Position,
    pub row: StoredRow<String, String>,
}

impl SyncRow {
    /// [`ROW_COLUMNS`] with the JSON columns as text (PostgreSQL stores them as `jsonb`),
    /// then the position.
    fn columns(backend: DbBackend) -> String {
        let columns = if backend == DbBackend::Postgres {
            ROW_COLUMNS
                .replace("r.answers,", "r.answers::text,")
                .replace("r.blockers,", "r.blockers::text,")
        } else {
            ROW_COLUMNS.to_owned()
        };
        format!("{columns}, c.txid, c.seq")
    }

    fn decode(row: &sea_orm::QueryResult) -> Result<Self, DbErr> {
        Ok(Self {
            position: Position {
                txid: row.try_get_by_index(19)?,
                seq: row.try_get_by_index(20)?,
            },
            row: read(row, row.try_get_by_index(7)?, row.try_get_by_index(11)?)?,
        })
    }
}

/// Which responses a page of [`ChangeStore::responses_after`] holds.
#[derive(Debug, Clone, Default)]
pub struct SyncFilter {
    /// Survey versions (row ids of `surveys`); never empty.
    pub survey_ids: Vec<i32>,
    /// First instant included, on `submitted_at`.
    pub from: Option<DateTime<Utc>>,
    /// First instant no longer included, on `submitted_at`.
    pub until: Option<DateTime<Utc>>,
    pub segments: SegmentFilter,
}

pub struct ChangeStore;

impl ChangeStore {
    /// The last position no later commit can precede.
    pub async fn horizon(db: &DatabaseConnection) -> Result<Position, DbErr> {
        let backend = db.get_database_backend();
        let sql = match backend {
            DbBackend::Postgres => {
                "SELECT txid, seq FROM changes \
                 WHERE txid < pg_snapshot_xmin(pg_current_snapshot())::text::bigint \
                 ORDER BY txid DESC, seq DESC LIMIT 1"
            }
            _ => "SELECT txid, seq FROM changes ORDER BY seq DESC LIMIT 1",
        };
        let row = db
            .query_one_raw(Statement::from_string(backend, sql))
            .await?;
        row.map_or(Ok(Position::default()), |row| {
            Ok(Position {
                txid: row.try_get_by_index(0)?,
                seq: row.try_get_by_index(1)?,
            })
        })
    }

    /// Up to `limit` rows after `after` and at or before `horizon`, in feed order.
    pub async fn after<C: ConnectionTrait>(
        db: &C,
        after: Position,
        horizon: Position,
        limit: u64,
    ) -> Result<Vec<Change>, DbErr> {
        let backend = db.get_database_backend();
        let mut params = Params::new(backend);
        let (range, order) = range("c", after, horizon, &mut params);
        let limit = params.bind(i64::try_from(limit).unwrap_or(i64::MAX));
        let sql = format!(
            "SELECT c.txid, c.seq, c.kind, c.at, c.response_id, c.response_ids FROM changes c \
             WHERE {range} ORDER BY {order} LIMIT {limit}"
        );
        db.query_all_raw(Statement::from_sql_and_values(backend, sql, params.values))
            .await?
            .iter()
            .map(|row| {
                let ids: Option<serde_json::Value> = row.try_get_by_index(5)?;
                let response_ids = match ids {
                    Some(ids) => serde_json::from_value(ids).map_err(|e| {
                        DbErr::Custom(format!("a change has malformed response ids: {e}"))
                    })?,
                    None => Vec::new(),
                };
                Ok(Change {
                    position: Position {
                        txid: row.try_get_by_index(0)?,
                        seq: row.try_get_by_index(1)?,
                    },
                    kind: row.try_get_by_index(2)?,
                    at: row.try_get_by_index(3)?,
                    response_id: row.try_get_by_index(4)?,
                    response_ids,
                })
            })
            .collect()
    }

    /// Up to `limit` stored responses of `filter` after `after` and at or before `horizon`,
    /// in feed order: each with its position, in one statement.
    pub async fn responses_after(
        db: &DatabaseConnection,
        filter: &SyncFilter,
        after: Position,
        horizon: Position,
        limit: u64,
    ) -> Result<Vec<SyncRow>, DbErr> {
        let backend = db.get_database_backend();
        let mut params = Params::new(backend);
        let (range, order) = range("c", after, horizon, &mut params);
        let mut sql = format!(
            "SELECT {} FROM changes c \
             JOIN responses r ON r.id = c.response_id JOIN firms f ON f.id = r.firm_id \
             WHERE c.kind = '{RESPONSE_CREATED}' AND {range}",
            SyncRow::columns(backend)
        );
        let surveys: Vec<String> = filter.survey_ids.iter().map(i32::to_string).collect();
        sql += &format!(" AND r.survey_id IN ({})", surveys.join(", "));
        if let Some(from) = filter.from {
            sql += &format!(" AND r.submitted_at >= {}", params.bind(from));
        }
        if let Some(until) = filter.until {
            sql += &format!(" AND r.submitted_at < {}", params.bind(until));
        }
        sql += &segments(&filter.segments, "r", &mut params);
        let limit = params.bind(i64::try_from(limit).unwrap_or(i64::MAX));
        sql += &format!(" ORDER BY {order} LIMIT {limit}");
        db.query_all_raw(Statement::from_sql_and_values(backend, sql, params.values))
            .await?
            .iter()
            .map(SyncRow::decode)
            .collect()
    }

    /// Removes the `firm.erased` rows recorded before `before`; returns how many.
    pub async fn purge_erasures<C: ConnectionTrait>(
        conn: &C,
        before: DateTime<Utc>,
    ) -> Result<u64, DbErr> {
        let backend = conn.get_database_backend();
        let mut params = Params::new(backend);
        let sql = format!(
            "DELETE FROM changes WHERE kind = '{FIRM_ERASED}' AND at < {}",
            params.bind(before)
        );
        Ok(conn
            .execute_raw(Statement::from_sql_and_values(backend, sql, params.values))
            .await?
            .rows_affected())
    }

    /// In an erasure's transaction, after the firm's rows are deleted: takes the firm's
    /// responses out of the feed and records one `firm.erased` row naming them. Returns
    /// their ids.
    pub async fn record_erasure(
        txn: &DatabaseTransaction,
        firm_id: Uuid,
        at: DateTime<Utc>,
    ) -> Result<Vec<Uuid>, DbErr> {
        let backend = txn.get_database_backend();
        let mut params = Params::new(backend);
        let sql = format!(
            "DELETE FROM changes WHERE firm_id = {} AND kind = '{RESPONSE_CREATED}' \
             RETURNING response_id",
            params.bind(firm_id)
        );
        let mut ids: Vec<Uuid> = txn
            .query_all_raw(Statement::from_sql_and_values(backend, sql, params.values))
            .await?
            .iter()
            .map(|row| row.try_get_by_index(0))
            .collect::<Result<_, _>>()?;
        ids.sort_unstable();
        let mut params = Params::new(backend);
        let sql = format!(
            "INSERT INTO changes (kind, response_ids, at) VALUES ('{FIRM_ERASED}', {}, {})",
            params.bind(serde_json::json!(ids)),
            params.bind(at)
        );
        txn.execute_raw(Statement::from_sql_and_values(backend, sql, params.values))
            .await?;
        Ok(ids)
    }
}

/// After `after` and at or before `horizon`, on the table named `alias`, and the order of
/// the feed. On SQLite `txid` is always 0 and `seq` alone orders the rows (and its primary
/// key index serves the range); PostgreSQL walks the `(txid, seq)` index.
fn range(alias: &str, after: Position, horizon: Position, params: &mut Params) -> (String, String) {
    if params.backend == DbBackend::Postgres {
        let (after_txid, after_seq) = (params.bind(after.txid), params.bind(after.seq));
        let (horizon_txid, horizon_seq) = (params.bind(horizon.txid), params.bind(horizon.seq));
        (
            format!(
                "({alias}.txid, {alias}.seq) > ({after_txid}, {after_seq}) \
                 AND ({alias}.txid, {alias}.seq) <= ({horizon_txid}, {horizon_seq})"
            ),
            format!("{alias}.txid, {alias}.seq"),
        )
    } else {
        let (after, horizon) = (params.bind(after.seq), params.bind(horizon.seq));
        (
            format!("{alias}.seq > {after} AND {alias}.seq <= {horizon}"),
            format!("{alias}.seq"),
        )
    }
}
