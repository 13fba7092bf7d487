//! Webhook endpoints and their deliveries: the outbox side of webhooks.
//!
//! Events are the change feed's rows (`changes`), written in the transactions of the writes
//! themselves. [`WebhookStore::fan_out`] turns the rows after an endpoint's position into
//! delivery rows and moves the position, in one transaction: a crash before its commit
//! leaves both as they were, after it both are done, so every event gets exactly one
//! delivery row per endpoint. The worker then claims due deliveries with a lease, sends
//! them, and settles them in one transaction per batch.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ActiveValue::NotSet, ActiveValue::Set, ColumnTrait, ConnectionTrait,
    DatabaseConnection, DbBackend, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    Statement, TransactionTrait,
};
use serde_json::json;
use uuid::Uuid;

use super::audit::{AuditContext, AuditStore, action};
use super::changes::{Change, ChangeStore, Position};
use super::entities::{webhook_delivery, webhook_endpoint};
use super::ingest::WriteTurn;
use super::sql::Params;

/// A delivery still to be made (or being made, under a lease).
pub const PENDING: &str = "pending";
/// A 2xx answered it.
pub const DELIVERED: &str = "delivered";
/// Every attempt failed; given up (a manual redelivery tries again).
pub const FAILED: &str = "failed";

/// An endpoint to register.
#[derive(Debug, Clone)]
pub struct NewEndpoint {
    pub url: String,
    pub secret: String,
    pub events: Vec<String>,
    pub description: Option<String>,
}

/// A claimed delivery with where it goes.
#[derive(Debug, Clone)]
pub struct Due {
    pub delivery: webhook_delivery::Model,
    pub url: String,
    pub secret: String,
}

/// How an attempt ended.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub delivery_id: i64,
    pub at: DateTime<Utc>,
    /// The HTTP status, when there was a response.
    pub status: Option<u16>,
    /// Why it failed; `None` for a 2xx.
    pub error: Option<String>,
    /// When to try again after a failure; `None` gives up (or: delivered).
    pub retry_at: Option<DateTime<Utc>>,
}

pub struct WebhookStore;

impl WebhookStore {
    /// Registers an endpoint (audited); it receives the events committed from now on.
    pub async fn create(
        db: &DatabaseConnection,
        new: NewEndpoint,
        at: DateTime<Utc>,
        context: &AuditContext,
    ) -> Result<webhook_endpoint::Model, DbErr> {
        let from = ChangeStore::horizon(db).await?;
        let txn = crate::store::db::begin_write(db).await?;
        let endpoint = webhook_endpoint::ActiveModel {
            id: Set(Uuid::now_v7()),
            url: Set(new.url),
            secret: Set(new.secret),
            events: Set(json!(new.events)),
            description: Set(new.description),
            created_at: Set(at),
            created_by: Set(context.actor),
            after_txid: Set(from.txid),
            after_seq: Set(from.seq),
        }
        .insert(&txn)
        .await?;
        AuditStore::record(
            &txn,
            context,
            action::WEBHOOK_CREATE,
            &format!("webhook:{}", endpoint.id),
            json!({"url": endpoint.url, "events": endpoint.events}),
        )
        .await?;
        txn.commit().await?;
        Ok(endpoint)
    }

    /// Every endpoint, oldest first.
    pub async fn list(db: &DatabaseConnection) -> Result<Vec<webhook_endpoint::Model>, DbErr> {
        webhook_endpoint::Entity::find()
            .order_by_asc(webhook_endpoint::Column::CreatedAt)
            .order_by_asc(webhook_endpoint::Column::Id)
            .all(db)
            .await
    }

    pub async fn get(
        db: &DatabaseConnection,
        id: Uuid,
    ) -> Result<Option<webhook_endpoint::Model>, DbErr> {
        webhook_endpoint::Entity::find_by_id(id).one(db).await
    }

    /// Deletes an endpoint and its deliveries (audited); `false` if there is none.
    pub async fn delete(
        db: &DatabaseConnection,
        id: Uuid,
        context: &AuditContext,
    ) -> Result<bool, DbErr> {
        let txn = crate::store::db::begin_write(db).await?;
        let Some(endpoint) = webhook_endpoint::Entity::find_by_id(id).one(&txn).await? else {
            return Ok(false);
        };
        webhook_delivery::Entity::delete_many()
            .filter(webhook_delivery::Column::EndpointId.eq(id))
            .exec(&txn)
            .await?;
        webhook_endpoint::Entity::delete_by_id(id)
            .exec(&txn)
            .await?;
        AuditStore::record(
            &txn,
            context,
            action::WEBHOOK_DELETE,
            &format!("webhook:{id}"),
            json!({"url": endpoint.url}),
        )
        .await?;
        txn.commit().await?;
        Ok(true)
    }

    /// An endpoint's deliveries, newest first, strictly older than `before` (a delivery id).
    pub async fn deliveries(
        db: &DatabaseConnection,
        endpoint: Uuid,
        before: Option<i64>,
        limit: u64,
    ) -> Result<Vec<webhook_delivery::Model>, DbErr> {
        let mut query = webhook_delivery::Entity::find()
            .filter(webhook_delivery::Column::EndpointId.eq(endpoint));
        if let Some(before) = before {
            query = query.filter(webhook_delivery::Column::Id.lt(before));
        }
        query
            .order_by_desc(webhook_delivery::Column::Id)
            .limit(limit)
            .all(db)
            .await
    }

    /// Makes a delivery of `endpoint` pending again, due at `at`, with a fresh count of
    /// attempts (audited); `None` if there is no such delivery.
    pub async fn redeliver(
        db: &DatabaseConnection,
        endpoint: Uuid,
        delivery: i64,
        at: DateTime<Utc>,
        context: &AuditContext,
    ) -> Result<Option<webhook_delivery::Model>, DbErr> {
        let txn = crate::store::db::begin_write(db).await?;
        let Some(found) = webhook_delivery::Entity::find_by_id(delivery)
            .filter(webhook_delivery::Column::EndpointId.eq(endpoint))
            .one(&txn)
            .await?
        else {
            return Ok(None);
        };
        let mut row: webhook_delivery::ActiveModel = found.into();
        row.status = Set(PENDING.to_owned());
        row.attempts = Set(0);
        row.next_attempt_at = Set(Some(at));
        let row = row.update(&txn).await?;
        AuditStore::record(
            &txn,
            context,
            action::WEBHOOK_REDELIVER,
            &format!("webhook:{endpoint}"),
            json!({"delivery": delivery, "event_id": row.event_id}),
        )
        .await?;
        txn.commit().await?;
        Ok(Some(row))
    }

    /// Writes the delivery rows of up to `limit` change feed rows after `endpoint`'s position
    /// (those of the kinds it takes; `payload` gives each one's body) and moves the position
    /// past them, in one transaction. Returns the number of feed rows read.
    pub async fn fan_out(
        db: &DatabaseConnection,
        turn: &WriteTurn,
        endpoint: Uuid,
        limit: u64,
        now: DateTime<Utc>,
        payload: impl Fn(&Change) -> String,
    ) -> Result<usize, DbErr> {
        let horizon = ChangeStore::horizon(db).await?;
        // Nothing new (the usual case when idle): no transaction.
        let known = webhook_endpoint::Entity::find_by_id(endpoint)
            .one(db)
            .await?;
        if known.is_none_or(|row| (Position::from(&row)) >= horizon) {
            return Ok(0);
        }
        let _turn = turn.take().await;
        let txn = db.begin().await?;
        let mut find = webhook_endpoint::Entity::find_by_id(endpoint);
        if txn.get_database_backend() == DbBackend::Postgres {
            // Replicas fanning out the same endpoint take turns.
            find = find.lock_exclusive();
        }
        let Some(row) = find.one(&txn).await? else {
            return Ok(0);
        };
        let after = Position::from(&row);
        let changes = ChangeStore::after(&txn, after, horizon, limit).await?;
        let Some(last) = changes.last().map(|change| change.position) else {
            return Ok(0);
        };
        let kinds: Vec<String> = serde_json::from_value(row.events.clone()).unwrap_or_default();
        let rows: Vec<webhook_delivery::ActiveModel> = changes
            .iter()
            .filter(|change| kinds.contains(&change.kind))
            .map(|change| webhook_delivery::ActiveModel {
                id: NotSet,
                endpoint_id: Set(endpoint),
                event_id: Set(event_id(change.position)),
                kind: Set(change.kind.clone()),
                payload: Set(payload(change)),
                txid: Set(change.position.txid),
                seq: Set(change.position.seq),
                status: Set(PENDING.to_owned()),
                attempts: Set(0),
                next_attempt_at: Set(Some(now)),
                last_attempt_at: Set(None),
                last_status: Set(None),
                last_error: Set(None),
                created_at: Set(now),
                delivered_at: Set(None),
            })
            .collect();
        for chunk in rows.chunks(500) {
            webhook_delivery::Entity::insert_many(chunk.to_vec())
                .on_conflict(
                    OnConflict::columns([
                        webhook_delivery::Column::EndpointId,
                        webhook_delivery::Column::EventId,
                    ])
                    .do_nothing()
                    .to_owned(),
                )
                .exec_without_returning(&txn)
                .await?;
        }
        let mut moved: webhook_endpoint::ActiveModel = row.into();
        moved.after_txid = Set(last.txid);
        moved.after_seq = Set(last.seq);
        moved.update(&txn).await?;
        txn.commit().await?;
        Ok(changes.len())
    }

    /// Claims up to `limit` pending deliveries due at `now` by moving their next attempt to
    /// `lease_until` (so another worker, or this one after a crash, takes them only once the
    /// lease is over), and returns them with their endpoints.
    pub async fn claim_due(
        db: &DatabaseConnection,
        turn: &WriteTurn,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u64,
    ) -> Result<Vec<Due>, DbErr> {
        let backend = db.get_database_backend();
        // A read first: when nothing is due (the usual case when idle), no write is started.
        let any_due = webhook_delivery::Entity::find()
            .filter(webhook_delivery::Column::Status.eq(PENDING))
            .filter(webhook_delivery::Column::NextAttemptAt.lte(now))
            .one(db)
            .await?
            .is_some();
        if !any_due {
            return Ok(Vec::new());
        }
        let mut params = Params::new(backend);
        let lease = params.bind(lease_until);
        let pending = params.bind(PENDING);
        let now = params.bind(now);
        let limit = params.bind(i64::try_from(limit).unwrap_or(i64::MAX));
        let skip_locked = if backend == DbBackend::Postgres {
            " FOR UPDATE SKIP LOCKED"
        } else {
            ""
        };
        let sql = format!(
            "UPDATE webhook_deliveries SET next_attempt_at = {lease} WHERE id IN (\
             SELECT id FROM webhook_deliveries WHERE status = {pending} \
             AND next_attempt_at <= {now} ORDER BY next_attempt_at, id LIMIT {limit}{skip_locked}) \
             RETURNING id"
        );
        let ids: Vec<i64> = {
            let _turn = turn.take().await;
            db.query_all_raw(Statement::from_sql_and_values(backend, sql, params.values))
                .await?
                .iter()
                .map(|row| row.try_get_by_index(0))
                .collect::<Result<_, _>>()?
        };
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let rows = webhook_delivery::Entity::find()
            .filter(webhook_delivery::Column::Id.is_in(ids))
            .order_by_asc(webhook_delivery::Column::Id)
            .all(db)
            .await?;
        let endpoints: Vec<Uuid> = rows.iter().map(|row| row.endpoint_id).collect();
        let endpoints: std::collections::HashMap<Uuid, webhook_endpoint::Model> =
            webhook_endpoint::Entity::find()
                .filter(webhook_endpoint::Column::Id.is_in(endpoints))
                .all(db)
                .await?
                .into_iter()
                .map(|endpoint| (endpoint.id, endpoint))
                .collect();
        Ok(rows
            .into_iter()
            .filter_map(|delivery| {
                let endpoint = endpoints.get(&delivery.endpoint_id)?;
                Some(Due {
                    url: endpoint.url.clone(),
                    secret: endpoint.secret.clone(),
                    delivery,
                })
            })
            .collect())
    }

    /// Records how each attempt ended, in one transaction.
    pub async fn settle(
        db: &DatabaseConnection,
        turn: &WriteTurn,
        attempts: &[Attempt],
    ) -> Result<(), DbErr> {
        if attempts.is_empty() {
            return Ok(());
        }
        let backend = db.get_database_backend();
        let _turn = turn.take().await;
        let txn = crate::store::db::begin_write(db).await?;
        for attempt in attempts {
            let delivered = attempt.error.is_none();
            let (status, next_attempt_at) = if delivered {
                (DELIVERED, None)
            } else if let Some(retry_at) = attempt.retry_at {
                (PENDING, Some(retry_at))
            } else {
                (FAILED, None)
            };
            // A delivery whose endpoint was deleted meanwhile is gone, and nothing is updated.
            let mut params = Params::new(backend);
            let at = params.bind(attempt.at);
            let last_status = params.bind(attempt.status.map(i32::from));
            let last_error = params.bind(attempt.error.clone());
            let status = params.bind(status);
            let next = params.bind(next_attempt_at);
            let delivered_at = params.bind(delivered.then_some(attempt.at));
            let id = params.bind(attempt.delivery_id);
            let sql = format!(
                "UPDATE webhook_deliveries SET attempts = attempts + 1, last_attempt_at = {at}, \
                 last_status = {last_status}, last_error = {last_error}, status = {status}, \
                 next_attempt_at = {next}, delivered_at = {delivered_at} WHERE id = {id}"
            );
            txn.execute_raw(Statement::from_sql_and_values(backend, sql, params.values))
                .await?;
        }
        txn.commit().await?;
        Ok(())
    }

    /// Forgets delivered and failed deliveries last tried before `before`; returns how many.
    pub async fn purge(db: &DatabaseConnection, before: DateTime<Utc>) -> Result<u64, DbErr> {
        Ok(webhook_delivery::Entity::delete_many()
            .filter(webhook_delivery::Column::Status.ne(PENDING))
            .filter(webhook_delivery::Column::LastAttemptAt.lt(before))
            .exec(db)
            .await?
            .rows_affected)
    }
}

impl From<&webhook_endpoint::Model> for Position {
    /// The feed position up to which the endpoint's deliveries exist.
    fn from(row: &webhook_endpoint::Model) -> Self {
        Position {
            txid: row.after_txid,
            seq: row.after_seq,
        }
    }
}

/// The `webhook-id` of the event at `position`: the same for every attempt and endpoint.
pub fn event_id(position: Position) -> String {
    format!("msg_{}_{}", position.txid, position.seq)
}
