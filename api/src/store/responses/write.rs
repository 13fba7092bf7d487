//! The write path of [`super::ResponseStore::insert_groups`]: many requests' rows in one
//! transaction, with a few multi-row statements instead of several statements per row.

use std::collections::{HashMap, HashSet};

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, DbErr, EntityTrait,
    IntoActiveModel, QueryFilter, QuerySelect, TransactionTrait, TryInsertResult,
};
use uuid::Uuid;

use super::{BULK_ROWS, NewResponse, Outcome, Stored, by_keys, compare, upsert_firms};
use crate::domain::tombstone::TombstoneKey;
use crate::store::entities::response;
use crate::store::tombstones::TombstoneStore;

/// Responses per multi-row INSERT: 24 columns a row stays below SQLite's 32,766 bound
/// parameters and PostgreSQL's 65,535.
const RESPONSE_ROWS: usize = 500;

/// One item of one group.
#[derive(Debug, Clone, Copy)]
struct At {
    group: usize,
    item: usize,
}

/// Writes every group inside `txn`; one result per group (see `insert_groups`).
pub(super) async fn groups(
    txn: &DatabaseTransaction,
    groups: &[Vec<NewResponse>],
    tombstones: &TombstoneKey,
) -> Result<Vec<Result<Vec<Outcome>, DbErr>>, DbErr> {
    let mut outcomes: Vec<Vec<Option<Outcome>>> =
        groups.iter().map(|group| vec![None; group.len()]).collect();
    let item = |at: At| &groups[at.group][at.item];

    // Keys stored before: replays (or reuse) without writing anything.
    let keys: Vec<String> = groups
        .iter()
        .flatten()
        .filter_map(|item| item.row.idempotency_key.clone())
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let existing = by_keys(txn, &keys).await?;

    // The first use of a new key in this transaction is written; a later use waits for the
    // first one's result and is compared with it.
    let mut claimed: HashSet<&str> = HashSet::new();
    let mut to_write: Vec<Vec<At>> = vec![Vec::new(); groups.len()];
    let mut unresolved: Vec<At> = Vec::new();
    for (group, items) in groups.iter().enumerate() {
        for (index, new) in items.iter().enumerate() {
            let at = At { group, item: index };
            match new.row.idempotency_key.as_deref() {
                Some(key) => {
                    if let Some(stored) = existing.get(key) {
                        outcomes[group][index] = Some(compare(stored, &new.row));
                    } else if claimed.insert(key) {
                        to_write[group].push(at);
                    } else {
                        unresolved.push(at);
                    }
                }
                None => to_write[group].push(at),
            }
        }
    }

    let mut failed: Vec<Option<DbErr>> = groups.iter().map(|_| None).collect();
    let everything: Vec<At> = to_write.iter().flatten().copied().collect();
    let written = match write_rows(txn, groups, tombstones, everything).await {
        Ok(written) => vec![written],
        Err(error) => {
            // Find the request whose rows the database refuses; the others still go in.
            tracing::warn!(%error, requests = groups.len(), "a shared write failed; writing each request on its own");
            let mut written = Vec::new();
            for (group, ats) in to_write.into_iter().enumerate() {
                match write_rows(txn, groups, tombstones, ats).await {
                    Ok(rows) => written.push(rows),
                    Err(error) => failed[group] = Some(error),
                }
            }
            written
        }
    };
    for Written {
        created,
        lost,
        erased,
    } in written
    {
        for (at, stored) in created {
            outcomes[at.group][at.item] = Some(Outcome::Created(stored));
        }
        for at in erased {
            outcomes[at.group][at.item] = Some(Outcome::Erased);
        }
        unresolved.extend(lost);
    }

    // Keys another transaction took first, or that an earlier item of this one holds.
    let contested: Vec<String> = unresolved
        .iter()
        .filter_map(|&at| item(at).row.idempotency_key.clone())
        .collect();
    let winners = by_keys(txn, &contested).await?;
    for at in unresolved {
        let row = &item(at).row;
        outcomes[at.group][at.item] = row
            .idempotency_key
            .as_ref()
            .and_then(|key| winners.get(key))
            .map(|stored| compare(stored, row));
    }

    Ok(outcomes
        .into_iter()
        .zip(failed)
        .map(|(outcomes, failed)| match failed {
            Some(error) => Err(error),
            None => Ok(outcomes
                .into_iter()
                .map(|outcome| outcome.unwrap_or(Outcome::InFlight))
                .collect()),
        })
        .collect())
}

/// What a write achieved: the rows stored, the items whose key was taken meanwhile, and the
/// items of erased firms.
struct Written {
    created: Vec<(At, Stored)>,
    lost: Vec<At>,
    erased: Vec<At>,
}

/// What [`insert_rows`] did.
enum Inserted {
    /// The id of each inserted response, with its firm's id.
    Rows(HashMap<Uuid, Uuid>),
    /// Nothing: these items belong to erased firms.
    Erased(Vec<At>),
}

/// Writes `pending` inside a savepoint. When a key turns out to be taken (by a concurrent
/// transaction on PostgreSQL), the savepoint is rolled back and the rest written again, so a
/// request that lost its key leaves no trace, not even a firm update.
async fn write_rows(
    txn: &DatabaseTransaction,
    groups: &[Vec<NewResponse>],
    tombstones: &TombstoneKey,
    mut pending: Vec<At>,
) -> Result<Written, DbErr> {
    let (mut lost, mut erased) = (Vec::new(), Vec::new());
    while !pending.is_empty() {
        let savepoint = txn.begin().await?;
        let inserted = match insert_rows(&savepoint, groups, tombstones, &pending).await {
            Ok(Inserted::Rows(inserted)) => inserted,
            Ok(Inserted::Erased(refused)) => {
                savepoint.rollback().await?;
                pending.retain(|at| {
                    !refused
                        .iter()
                        .any(|r| r.group == at.group && r.item == at.item)
                });
                erased.extend(refused);
                continue;
            }
            Err(error) => {
                savepoint.rollback().await?;
                return Err(error);
            }
        };
        let (won, missed): (Vec<At>, Vec<At>) = pending
            .iter()
            .partition(|at| inserted.contains_key(&groups[at.group][at.item].row.id));
        if missed.is_empty() {
            savepoint.commit().await?;
            let created = won
                .into_iter()
                .map(|at| {
                    let new = &groups[at.group][at.item];
                    let firm_id = inserted.get(&new.row.id).copied().unwrap_or_default();
                    let row = response::Model {
                        firm_id,
                        ..new.row.clone()
                    };
                    let firm_ref = new.firm_ref.clone();
                    (at, Stored { row, firm_ref })
                })
                .collect();
            return Ok(Written {
                created,
                lost,
                erased,
            });
        }
        savepoint.rollback().await?;
        lost.extend(missed);
        pending = won;
    }
    Ok(Written {
        created: Vec::new(),
        lost,
        erased,
    })
}

/// Upserts the firms, then inserts the responses whose key is free; returns the id of each
/// inserted response with its firm's id. When every row went in (the usual case, told by the
/// affected-row count) that needs no further query.
///
/// Tombstones are read after the firms are upserted: an erasure of one of these firms that
/// runs at the same time either finished before the upsert (which waited for its lock), so
/// its tombstones are seen, or waits for this transaction and then erases what it wrote.
async fn insert_rows<C: ConnectionTrait>(
    conn: &C,
    groups: &[Vec<NewResponse>],
    tombstones: &TombstoneKey,
    pending: &[At],
) -> Result<Inserted, DbErr> {
    let firm_ids = upsert_firms(conn, pending.iter().map(|at| &groups[at.group][at.item])).await?;
    let marks: Vec<Vec<String>> = pending
        .iter()
        .map(|at| {
            let new = &groups[at.group][at.item];
            tombstones.marks(&new.firm_ref, new.row.idempotency_key.as_deref())
        })
        .collect();
    let all: Vec<&str> = marks.iter().flatten().map(String::as_str).collect();
    let found = TombstoneStore::found(conn, &all).await?;
    if !found.is_empty() {
        return Ok(Inserted::Erased(
            pending
                .iter()
                .zip(&marks)
                .filter(|(_, marks)| marks.iter().any(|mark| found.contains(mark)))
                .map(|(at, _)| *at)
                .collect(),
        ));
    }

    // Responses in key order, so concurrent transactions take key locks in one order.
    let mut rows = pending
        .iter()
        .map(|at| {
            let new = &groups[at.group][at.item];
            let firm_id = *firm_ids
                .get(&new.firm_ref)
                .ok_or_else(|| DbErr::RecordNotFound(format!("firm {}", new.firm_ref)))?;
            Ok(response::Model {
                firm_id,
                ..new.row.clone()
            })
        })
        .collect::<Result<Vec<_>, DbErr>>()?;
    rows.sort_by(|a, b| a.idempotency_key.cmp(&b.idempotency_key));
    let firm_of: HashMap<Uuid, Uuid> = rows.iter().map(|row| (row.id, row.firm_id)).collect();

    let mut count = 0;
    for chunk in rows.chunks(RESPONSE_ROWS) {
        let insert = response::Entity::insert_many(
            chunk
                .iter()
                .map(|row| row.clone().into_active_model().reset_all()),
        )
        .on_conflict_do_nothing_on([response::Column::IdempotencyKey]);
        if let TryInsertResult::Inserted(n) = insert.exec_without_returning(conn).await? {
            count += n;
        }
    }
    if count == rows.len() as u64 {
        return Ok(Inserted::Rows(firm_of));
    }
    // Some keys were taken: find out which rows went in.
    let mut inserted = HashMap::with_capacity(rows.len());
    for chunk in rows.chunks(BULK_ROWS) {
        let found: Vec<Uuid> = response::Entity::find()
            .select_only()
            .column(response::Column::Id)
            .filter(response::Column::Id.is_in(chunk.iter().map(|row| row.id)))
            .into_tuple()
            .all(conn)
            .await?;
        for id in found {
            if let Some(firm_id) = firm_of.get(&id) {
                inserted.insert(id, *firm_id);
            }
        }
    }
    Ok(Inserted::Rows(inserted))
}
