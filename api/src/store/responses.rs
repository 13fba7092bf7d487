//! Storing responses: many requests in one transaction (group commit), multi-row statements,
//! idempotency enforced by the unique index on `idempotency_key` (so it holds across
//! concurrent requests and replicas).

use std::collections::{BTreeMap, HashMap};

use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    DbBackend, DbErr, EntityTrait, IntoActiveModel, QueryFilter, QuerySelect, TryInsertResult,
};
use uuid::Uuid;

use super::entities::{firm, response};
use crate::domain::idempotency::legacy_form;
use crate::domain::tombstone::TombstoneKey;

mod postgres_write;
pub mod sqlite_write;
mod write;

/// Whether an upsert changes a firm's attributes (`IS DISTINCT FROM`: SQLite and PostgreSQL
/// alike, and a region that stays absent is no change).
const FIRM_CHANGED: &str = "firms.industry IS DISTINCT FROM excluded.industry \
     OR firms.size_band IS DISTINCT FROM excluded.size_band \
     OR firms.country IS DISTINCT FROM excluded.country \
     OR firms.region IS DISTINCT FROM excluded.region";

/// Rows per multi-row INSERT (below SQLite's limit of bound parameters).
const BULK_ROWS: usize = 1000;

/// A response ready to be stored: validated, scored, with its firm's attributes.
#[derive(Debug, Clone)]
pub struct NewResponse {
    /// The row as it will be stored (`firm_id` is filled in by the store).
    pub row: response::Model,
    pub firm_ref: String,
}

/// A stored response with its firm's reference.
#[derive(Debug, Clone)]
pub struct Stored {
    pub row: response::Model,
    pub firm_ref: String,
}

/// What happened to one item.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// Stored now; committed when the call returns.
    Created(Stored),
    /// The idempotency key was used before with the same payload: the original response.
    Replayed(Stored),
    /// The idempotency key was used before with a different payload.
    KeyReused,
    /// The key is held by a request whose outcome is not known yet.
    InFlight,
    /// The firm, or the request's idempotency key, belongs to a firm erased on request.
    Erased,
}

pub struct ResponseStore;

impl ResponseStore {
    /// Stores every item in one transaction; returns one outcome per item, in order. Items whose
    /// idempotency key is already taken are not written again.
    #[tracing::instrument(skip_all, fields(items = items.len()))]
    pub async fn insert_all(
        db: &DatabaseConnection,
        items: Vec<NewResponse>,
        tombstones: &TombstoneKey,
    ) -> Result<Vec<Outcome>, DbErr> {
        Self::insert_groups(db, vec![items], tombstones)
            .await?
            .pop()
            .unwrap_or_else(|| Ok(Vec::new()))
    }

    /// Stores several groups of items (one group per request) in ONE transaction, so that one
    /// commit, and on SQLite one `fsync`, serves them all. Each group is all or nothing: a
    /// group whose rows the database refuses gets the error and nothing of it is stored,
    /// while the others are stored. The outer error means the transaction itself failed and
    /// nothing was stored.
    ///
    /// On PostgreSQL the usual group (new keys, no erased firm) goes in with one call of a
    /// server-side function, one round trip ([`postgres_write`]); a group it refuses, and
    /// every group elsewhere, takes the general path below.
    ///
    /// Every group's new rows go in with one multi-row firm upsert and one multi-row
    /// `INSERT … ON CONFLICT (idempotency_key) DO NOTHING RETURNING id`. Rows are written in
    /// a fixed order (firms by reference, responses by key), so concurrent transactions on
    /// PostgreSQL (other writers, other replicas) wait for each other instead of deadlocking.
    #[tracing::instrument(skip_all, fields(groups = groups.len()))]
    pub async fn insert_groups(
        db: &DatabaseConnection,
        groups: Vec<Vec<NewResponse>>,
        tombstones: &TombstoneKey,
    ) -> Result<Vec<Result<Vec<Outcome>, DbErr>>, DbErr> {
        if db.get_database_backend() == DbBackend::Postgres
            && let Some(results) = postgres_write::groups(db, &groups, tombstones).await
        {
            return Ok(results);
        }
        let txn = crate::store::db::begin_write(db).await?;
        let results = write::groups(&txn, &groups, tombstones).await?;
        txn.commit().await?;
        Ok(results)
    }

    /// Stores many new responses at once (imports, demo data), with multi-row inserts in one
    /// transaction. Rows without idempotency keys only. A row whose id is already stored is
    /// skipped (a concurrent import of the same file); returns the number stored.
    pub async fn insert_bulk(
        db: &DatabaseConnection,
        items: Vec<NewResponse>,
    ) -> Result<u64, DbErr> {
        let txn = crate::store::db::begin_write(db).await?;
        let firm_ids = upsert_firms(&txn, &items).await?;
        let rows = items
            .into_iter()
            .map(|item| {
                let firm_id = *firm_ids
                    .get(&item.firm_ref)
                    .ok_or_else(|| DbErr::RecordNotFound(format!("firm {}", item.firm_ref)))?;
                Ok(response::Model {
                    firm_id,
                    ..item.row
                }
                .into_active_model()
                .reset_all())
            })
            .collect::<Result<Vec<_>, DbErr>>()?;
        let mut stored = 0;
        for chunk in rows.chunks(BULK_ROWS) {
            let inserted = response::Entity::insert_many(chunk.to_vec())
                .on_conflict_do_nothing_on([response::Column::Id])
                .exec_without_returning(&txn)
                .await?;
            if let TryInsertResult::Inserted(count) = inserted {
                stored += count;
            }
        }
        txn.commit().await?;
        Ok(stored)
    }

    /// The stored responses among `ids`, by id.
    pub async fn by_ids(
        db: &DatabaseConnection,
        ids: &[Uuid],
    ) -> Result<HashMap<Uuid, Stored>, DbErr> {
        let mut found = HashMap::new();
        for chunk in ids.chunks(500) {
            let rows = response::Entity::find()
                .filter(response::Column::Id.is_in(chunk.iter().copied()))
                .all(db)
                .await?;
            for stored in with_firm_refs(db, rows).await? {
                found.insert(stored.row.id, stored);
            }
        }
        Ok(found)
    }

    pub async fn by_id(db: &DatabaseConnection, id: Uuid) -> Result<Option<Stored>, DbErr> {
        let rows = response::Entity::find_by_id(id).all(db).await?;
        Ok(with_firm_refs(db, rows).await?.pop())
    }
}

/// The stored responses with these idempotency keys, by key. A key not stored in its scope
/// is also looked for in its form from before keys were scoped (`legacy_form`).
async fn by_keys<C: ConnectionTrait>(
    db: &C,
    keys: &[String],
) -> Result<HashMap<String, Stored>, DbErr> {
    // Both forms in one query: no second round trip for the keys that are new.
    let legacy: Vec<(String, String)> = keys
        .iter()
        .filter_map(|key| Some((key.clone(), legacy_form(key)?)))
        .collect();
    let forms: Vec<String> = keys
        .iter()
        .cloned()
        .chain(legacy.iter().map(|(_, form)| form.clone()))
        .collect();
    let mut found = stored_by_keys(db, &forms).await?;
    for (key, form) in legacy {
        if let Some(stored) = found.remove(&form) {
            found.entry(key).or_insert(stored);
        }
    }
    Ok(found)
}

async fn stored_by_keys<C: ConnectionTrait>(
    db: &C,
    keys: &[String],
) -> Result<HashMap<String, Stored>, DbErr> {
    let mut found = HashMap::new();
    for chunk in keys.chunks(500) {
        let rows = response::Entity::find()
            .filter(response::Column::IdempotencyKey.is_in(chunk.iter().cloned()))
            .all(db)
            .await?;
        for stored in with_firm_refs(db, rows).await? {
            if let Some(key) = stored.row.idempotency_key.clone() {
                found.insert(key, stored);
            }
        }
    }
    Ok(found)
}

async fn with_firm_refs<C: ConnectionTrait>(
    db: &C,
    rows: Vec<response::Model>,
) -> Result<Vec<Stored>, DbErr> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let firm_ids: Vec<Uuid> = rows.iter().map(|row| row.firm_id).collect();
    let refs: HashMap<Uuid, String> = firm::Entity::find()
        .select_only()
        .column(firm::Column::Id)
        .column(firm::Column::ExternalRef)
        .filter(firm::Column::Id.is_in(firm_ids))
        .into_tuple::<(Uuid, String)>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    // A firm erased between the two statements took its responses with it: they are left
    // out, as if the first statement had run after the erasure.
    Ok(rows
        .into_iter()
        .filter_map(|row| {
            let firm_ref = refs.get(&row.firm_id).cloned()?;
            Some(Stored { row, firm_ref })
        })
        .collect())
}

fn compare(stored: &Stored, incoming: &response::Model) -> Outcome {
    if stored.row.payload_hash == incoming.payload_hash {
        Outcome::Replayed(stored.clone())
    } else {
        Outcome::KeyReused
    }
}

/// Upserts the firms of `items` (one row per firm, with the attributes of its latest item,
/// in reference order so concurrent transactions lock them in one order) and returns each
/// firm's id by reference.
async fn upsert_firms<'a, C: ConnectionTrait>(
    conn: &C,
    items: impl IntoIterator<Item = &'a NewResponse>,
) -> Result<HashMap<String, Uuid>, DbErr> {
    let firms = latest_by_firm(items);
    let refs: Vec<String> = firms.keys().map(|r| (*r).to_owned()).collect();
    let firm_rows: Vec<firm::ActiveModel> = firms.into_values().map(firm_model).collect();
    for chunk in firm_rows.chunks(BULK_ROWS) {
        firm::Entity::insert_many(chunk.to_vec())
            .on_conflict(firm_upsert())
            .exec_without_returning(conn)
            .await?;
    }
    let mut firm_ids: HashMap<String, Uuid> = HashMap::with_capacity(refs.len());
    for chunk in refs.chunks(BULK_ROWS) {
        let found: Vec<(Uuid, String)> = firm::Entity::find()
            .select_only()
            .column(firm::Column::Id)
            .column(firm::Column::ExternalRef)
            .filter(firm::Column::ExternalRef.is_in(chunk.iter().cloned()))
            .into_tuple()
            .all(conn)
            .await?;
        firm_ids.extend(found.into_iter().map(|(id, r)| (r, id)));
    }
    Ok(firm_ids)
}

/// Each firm of `items` once, in reference order (the order concurrent transactions lock
/// firms in), with its latest item: the one whose attributes the firm is stored with.
fn latest_by_firm<'a>(
    items: impl IntoIterator<Item = &'a NewResponse>,
) -> BTreeMap<&'a str, &'a NewResponse> {
    items
        .into_iter()
        .map(|item| (item.firm_ref.as_str(), item))
        .collect()
}

/// The firm row an item creates, or whose attributes it updates.
fn firm_model(item: &NewResponse) -> firm::ActiveModel {
    let row = &item.row;
    firm::ActiveModel {
        id: Set(Uuid::now_v7()),
        external_ref: Set(item.firm_ref.clone()),
        industry: Set(row.industry.clone()),
        size_band: Set(row.size_band.clone()),
        country: Set(row.country.clone()),
        region: Set(row.region.clone()),
        created_at: Set(row.received_at),
        updated_at: Set(row.received_at),
    }
}

/// A firm answering again keeps its id; its attributes become the latest submitted. A firm
/// whose attributes did not change is not written at all (`updated_at` tells when they last
/// changed), so a response from a known firm touches no firm row.
fn firm_upsert() -> OnConflict {
    OnConflict::column(firm::Column::ExternalRef)
        .update_columns([
            firm::Column::Industry,
            firm::Column::SizeBand,
            firm::Column::Country,
            firm::Column::Region,
            firm::Column::UpdatedAt,
        ])
        .action_and_where(Expr::cust(FIRM_CHANGED))
        .to_owned()
}
