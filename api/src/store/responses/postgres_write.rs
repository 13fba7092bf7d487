//! The usual case of a group commit on PostgreSQL in one round trip: every request's firms and
//! responses go to the `store_response_group` function (migration
//! `m20261208_000001_store_group_function`) as JSON, in one statement that is its own
//! transaction.
//!
//! The function stores the whole group or nothing. It refuses a group that names an erased
//! firm or key, replays a key, or loses a key to another transaction; the writer then takes
//! the general path ([`super::write`]), which decides each request on its own. The rows go in
//! the order the general path writes them (firms by reference, responses by key), so writers
//! on either path wait for each other instead of deadlocking.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, Statement, Value};
use serde_json::{Value as Json, json};
use uuid::Uuid;

use super::{NewResponse, Outcome, Stored, latest_by_firm};
use crate::domain::idempotency::legacy_form;
use crate::domain::tombstone::TombstoneKey;
use crate::store::entities::response;

const CALL: &str = "SELECT firm_ref, firm_id FROM store_response_group($1, $2, $3, $4)";

/// Stores every group in one call; `None` when the function refused them (it returns no rows
/// and stores nothing), the call failed, or the group cannot take this path (a key used twice
/// in it).
pub(super) async fn groups(
    db: &DatabaseConnection,
    groups: &[Vec<NewResponse>],
    tombstones: &TombstoneKey,
) -> Option<Vec<Result<Vec<Outcome>, DbErr>>> {
    let items: Vec<&NewResponse> = groups.iter().flatten().collect();
    if items.is_empty() || !keys_distinct(&items) {
        return None;
    }
    let values = arguments(&items, tombstones)?;
    let rows = match db
        .query_all_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            CALL,
            values,
        ))
        .await
    {
        Ok(rows) if rows.is_empty() => {
            tracing::debug!("the one-call write refused the group; writing it step by step");
            return None;
        }
        Ok(rows) => rows,
        Err(error) => {
            tracing::debug!(%error, "the one-call write failed; writing the group step by step");
            return None;
        }
    };
    let mut firm_ids: HashMap<String, Uuid> = HashMap::with_capacity(rows.len());
    for row in rows {
        // The group is committed: a row that cannot be read fails only its requests below.
        if let (Ok(firm_ref), Ok(id)) = (
            row.try_get_by_index::<String>(0),
            row.try_get_by_index::<Uuid>(1),
        ) {
            firm_ids.insert(firm_ref, id);
        }
    }
    Some(
        groups
            .iter()
            .map(|group| {
                group
                    .iter()
                    .map(|new| {
                        let firm_id = *firm_ids.get(&new.firm_ref).ok_or_else(|| {
                            DbErr::RecordNotFound(format!("firm {}", new.firm_ref))
                        })?;
                        Ok(Outcome::Created(Stored {
                            row: response::Model {
                                firm_id,
                                ..new.row.clone()
                            },
                            firm_ref: new.firm_ref.clone(),
                        }))
                    })
                    .collect()
            })
            .collect(),
    )
}

fn keys_distinct(items: &[&NewResponse]) -> bool {
    let mut seen = HashSet::with_capacity(items.len());
    items
        .iter()
        .filter_map(|item| item.row.idempotency_key.as_deref())
        .all(|key| seen.insert(key))
}

/// The function's four arguments: the firms (one per reference, with its latest item's
/// attributes, by reference), the responses (by key), the tombstone digests to look for, and
/// the keys' forms from before keys were scoped.
fn arguments(items: &[&NewResponse], tombstones: &TombstoneKey) -> Option<Vec<Value>> {
    let firms = latest_by_firm(items.iter().copied())
        .into_iter()
        .map(|(firm_ref, item)| {
            let row = &item.row;
            Some(json!({
                "id": Uuid::now_v7(),
                "external_ref": firm_ref,
                "industry": row.industry,
                "size_band": row.size_band,
                "country": row.country,
                "region": row.region,
                "at": timestamp(row.received_at)?,
            }))
        })
        .collect::<Option<Vec<Json>>>()?;

    let mut sorted: Vec<&NewResponse> = items.to_vec();
    sorted.sort_by(|a, b| a.row.idempotency_key.cmp(&b.row.idempotency_key));
    let responses = sorted
        .iter()
        .map(|item| response_json(item))
        .collect::<Option<Vec<Json>>>()?;

    let marks: Vec<String> = items
        .iter()
        .flat_map(|item| tombstones.marks(&item.firm_ref, item.row.idempotency_key.as_deref()))
        .collect();
    let legacy: Vec<String> = items
        .iter()
        .filter_map(|item| legacy_form(item.row.idempotency_key.as_deref()?))
        .collect();
    Some(
        [
            Json::Array(firms),
            Json::Array(responses),
            json!(marks),
            json!(legacy),
        ]
        .into_iter()
        .map(|value| Value::Json(Some(Box::new(value))))
        .collect(),
    )
}

fn response_json(item: &NewResponse) -> Option<Json> {
    let row = &item.row;
    Some(json!({
        "id": row.id,
        "survey_id": row.survey_id,
        "firm_ref": item.firm_ref,
        "answers": row.answers,
        "industry": row.industry,
        "size_band": row.size_band,
        "country": row.country,
        "region": row.region,
        "tier": row.tier,
        "tier_rank": row.tier_rank,
        "ready_to_customise": row.ready_to_customise,
        "blockers": row.blockers,
        "score_maturity": row.score_maturity,
        "score_clarity": row.score_clarity,
        "score_vendor_gap": row.score_vendor_gap,
        "score_capability": row.score_capability,
        "score_governance": row.score_governance,
        "rubric_version": row.rubric_version,
        "submitted_at": timestamp(row.submitted_at)?,
        "received_at": timestamp(row.received_at)?,
        "source": row.source,
        "idempotency_key": row.idempotency_key,
        "payload_hash": row.payload_hash,
    }))
}

/// A timestamp as the driver binds one: whole microseconds since 2000-01-01, the fraction
/// cut off towards that epoch, written out in full so PostgreSQL reads back exactly that
/// instant (it would round a longer fraction). `None` beyond the microseconds an `i64` holds.
fn timestamp(at: DateTime<Utc>) -> Option<String> {
    let epoch = Utc.with_ymd_and_hms(2000, 1, 1, 0, 0, 0).single()?;
    let micros = (at - epoch).num_microseconds()?;
    let at = epoch + TimeDelta::microseconds(micros);
    Some(at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string())
}

#[cfg(test)]
mod tests {
    use super::timestamp;
    use chrono::{TimeZone, Utc};

    #[test]
    fn timestamps_keep_whole_microseconds_cut_towards_2000() {
        let after = Utc
            .with_ymd_and_hms(2026, 12, 5, 10, 0, 0)
            .single()
            .map(|t| t + chrono::TimeDelta::nanoseconds(123_456_789));
        assert_eq!(
            after.and_then(timestamp).as_deref(),
            Some("2026-12-05T10:00:00.123456Z")
        );
        let before = Utc
            .with_ymd_and_hms(1999, 12, 31, 23, 59, 59)
            .single()
            .map(|t| t + chrono::TimeDelta::nanoseconds(999_999_999));
        assert_eq!(
            before.and_then(timestamp).as_deref(),
            Some("2000-01-01T00:00:00.000000Z")
        );
    }
}
