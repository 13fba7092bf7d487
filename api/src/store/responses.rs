//! Storing responses: one transaction, a savepoint per item, idempotency enforced by the
//! unique index on `idempotency_key` (so it holds across concurrent requests and replicas).

use std::collections::HashMap;

use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr,
    EntityTrait, IntoActiveModel, QueryFilter, QuerySelect, TransactionTrait, TryInsertResult,
};
use uuid::Uuid;

use super::entities::{firm, response};

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
}

pub struct ResponseStore;

impl ResponseStore {
    /// Stores every item in one transaction; returns one outcome per item, in order. Items whose
    /// idempotency key is already taken are not written again.
    #[tracing::instrument(skip_all, fields(items = items.len()))]
    pub async fn insert_all(
        db: &DatabaseConnection,
        items: Vec<NewResponse>,
    ) -> Result<Vec<Outcome>, DbErr> {
        let keys: Vec<String> = items
            .iter()
            .filter_map(|item| item.row.idempotency_key.clone())
            .collect();
        let existing = Self::by_keys(db, &keys).await?;
        let mut outcomes: Vec<Option<Outcome>> = items
            .iter()
            .map(|item| {
                let key = item.row.idempotency_key.as_ref()?;
                existing.get(key).map(|stored| compare(stored, &item.row))
            })
            .collect();

        let mut contested = Vec::new();
        if outcomes.iter().any(Option::is_none) {
            let txn = crate::db::begin_write(db).await?;
            for (index, item) in items.iter().enumerate() {
                if outcomes[index].is_some() {
                    continue;
                }
                let savepoint = txn.begin().await?;
                match insert_one(&savepoint, item).await? {
                    Some(row) => {
                        savepoint.commit().await?;
                        let firm_ref = item.firm_ref.clone();
                        outcomes[index] = Some(Outcome::Created(Stored { row, firm_ref }));
                    }
                    None => {
                        savepoint.rollback().await?;
                        contested.push(index);
                    }
                }
            }
            txn.commit().await?;
        }

        // Keys taken by another transaction while ours ran (or twice in this call).
        let contested_keys: Vec<String> = contested
            .iter()
            .filter_map(|&index| items[index].row.idempotency_key.clone())
            .collect();
        let winners = Self::by_keys(db, &contested_keys).await?;
        for index in contested {
            let row = &items[index].row;
            outcomes[index] = Some(
                row.idempotency_key
                    .as_ref()
                    .and_then(|key| winners.get(key))
                    .map_or(Outcome::InFlight, |stored| compare(stored, row)),
            );
        }
        Ok(outcomes
            .into_iter()
            .map(|outcome| outcome.unwrap_or(Outcome::InFlight))
            .collect())
    }

    /// Stores many new responses at once (imports, demo data), with multi-row inserts in one
    /// transaction. Rows without idempotency keys only. A row whose id is already stored is
    /// skipped (a concurrent import of the same file); returns the number stored.
    pub async fn insert_bulk(
        db: &DatabaseConnection,
        items: Vec<NewResponse>,
    ) -> Result<u64, DbErr> {
        let txn = crate::db::begin_write(db).await?;
        let mut firms: HashMap<&str, firm::ActiveModel> = HashMap::new();
        for item in &items {
            firms.insert(item.firm_ref.as_str(), firm_model(item));
        }
        let refs: Vec<String> = firms.keys().map(|r| (*r).to_owned()).collect();
        let firm_rows: Vec<firm::ActiveModel> = firms.into_values().collect();
        for chunk in firm_rows.chunks(BULK_ROWS) {
            firm::Entity::insert_many(chunk.to_vec())
                .on_conflict(firm_upsert())
                .exec_without_returning(&txn)
                .await?;
        }
        let mut firm_ids: HashMap<String, Uuid> = HashMap::new();
        for chunk in refs.chunks(BULK_ROWS) {
            let found: Vec<(Uuid, String)> = firm::Entity::find()
                .select_only()
                .column(firm::Column::Id)
                .column(firm::Column::ExternalRef)
                .filter(firm::Column::ExternalRef.is_in(chunk.iter().cloned()))
                .into_tuple()
                .all(&txn)
                .await?;
            firm_ids.extend(found.into_iter().map(|(id, r)| (r, id)));
        }
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

    async fn by_keys(
        db: &DatabaseConnection,
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
}

async fn with_firm_refs(
    db: &DatabaseConnection,
    rows: Vec<response::Model>,
) -> Result<Vec<Stored>, DbErr> {
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
    rows.into_iter()
        .map(|row| {
            let firm_ref = refs
                .get(&row.firm_id)
                .cloned()
                .ok_or_else(|| DbErr::RecordNotFound(format!("firm {}", row.firm_id)))?;
            Ok(Stored { row, firm_ref })
        })
        .collect()
}

fn compare(stored: &Stored, incoming: &response::Model) -> Outcome {
    if stored.row.payload_hash == incoming.payload_hash {
        Outcome::Replayed(stored.clone())
    } else {
        Outcome::KeyReused
    }
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

/// A firm answering again keeps its id; its attributes become the latest submitted.
fn firm_upsert() -> OnConflict {
    OnConflict::column(firm::Column::ExternalRef)
        .update_columns([
            firm::Column::Industry,
            firm::Column::SizeBand,
            firm::Column::Country,
            firm::Column::Region,
            firm::Column::UpdatedAt,
        ])
        .to_owned()
}

/// Upserts the firm and inserts the response; `None` when the idempotency key is taken.
async fn insert_one<C: ConnectionTrait>(
    conn: &C,
    item: &NewResponse,
) -> Result<Option<response::Model>, DbErr> {
    let row = &item.row;
    firm::Entity::insert(firm_model(item))
        .on_conflict(firm_upsert())
        .exec_without_returning(conn)
        .await?;
    let firm_id: Uuid = firm::Entity::find()
        .select_only()
        .column(firm::Column::Id)
        .filter(firm::Column::ExternalRef.eq(item.firm_ref.as_str()))
        .into_tuple()
        .one(conn)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound(format!("firm {}", item.firm_ref)))?;

    let stored = response::Model {
        firm_id,
        ..row.clone()
    };
    let insert = response::Entity::insert(stored.clone().into_active_model().reset_all());
    let inserted = if row.idempotency_key.is_some() {
        matches!(
            insert
                .on_conflict_do_nothing_on([response::Column::IdempotencyKey])
                .exec_without_returning(conn)
                .await?,
            TryInsertResult::Inserted(n) if n > 0
        )
    } else {
        insert.exec_without_returning(conn).await?;
        true
    };
    Ok(inserted.then_some(stored))
}
