//! Group commit: concurrent submissions share transactions, yet each request gets its own
//! result, committed before it is acknowledged, and idempotency holds across requests that
//! share a transaction.

use std::collections::HashSet;
use std::time::Duration;

use futures::future::join_all;
use serde_json::{Value, json};

use crate::helpers::{Backend, FINE_TUNE, LOWEST, TestApp, answers, spawn_app_with, submission};

fn firm_of(n: usize) -> String {
    format!("firm-{}", n % 7)
}

async fn concurrent_submissions_are_each_stored_once_with_their_own_result(app: TestApp) {
    let bodies: Vec<Value> = (0..60)
        .map(|n| {
            let set: &[(&str, &str)] = if n % 2 == 0 { FINE_TUNE } else { LOWEST };
            submission(&firm_of(n), answers(&[set]))
        })
        .collect();
    let keys: Vec<String> = (0..60).map(|n| format!("together-{n}")).collect();
    let replies = join_all(
        bodies
            .iter()
            .zip(&keys)
            .map(|(body, key)| app.submit(body, Some(key))),
    )
    .await;

    let mut ids = HashSet::new();
    for (n, reply) in replies.into_iter().enumerate() {
        assert_eq!(reply.status().as_u16(), 201, "submission {n}");
        let body: Value = reply.json().await.unwrap();
        assert_eq!(body["firm_ref"], firm_of(n));
        let tier = if n % 2 == 0 {
            "fine_tune"
        } else {
            "vendor_prompting"
        };
        assert_eq!(body["tier"]["key"], tier, "submission {n}");
        // Acknowledged means committed: the row is there as soon as the reply is.
        let id = body["id"].as_str().unwrap().to_owned();
        let stored = app
            .get_as(&app.analyst_key, &format!("/api/v1/responses/{id}"))
            .await;
        assert_eq!(stored.status().as_u16(), 200);
        ids.insert(id);
    }
    assert_eq!(ids.len(), 60, "every submission has its own response");
    assert_eq!(app.response_rows().await, 60);
    assert_eq!(
        app.firm_rows().await,
        7,
        "a firm answering again is one firm"
    );

    // Each retry replays its own original.
    let replays = join_all(
        bodies
            .iter()
            .zip(&keys)
            .map(|(body, key)| app.submit(body, Some(key))),
    )
    .await;
    for reply in replays {
        assert_eq!(reply.status().as_u16(), 200);
        let body: Value = reply.json().await.unwrap();
        assert!(ids.contains(body["id"].as_str().unwrap()));
    }
    assert_eq!(app.response_rows().await, 60);
}

async fn one_key_sent_at_once_as_single_and_batch_items_is_stored_once(app: TestApp) {
    let body = submission("shared", answers(&[FINE_TUNE]));
    let mut item = body.clone();
    item["idempotency_key"] = json!("shared-key");
    let batch = json!({"responses": [item.clone(), submission("other", answers(&[]))]});
    let mut other = body.clone();
    other["answers"]["staff_ai_usage"] = json!("few");

    let singles = join_all((0..8).map(|_| app.submit(&body, Some("shared-key"))));
    let batches = join_all((0..3).map(|_| app.submit_batch(&batch)));
    let (singles, batches) = tokio::join!(singles, batches);

    let mut statuses: Vec<u16> = singles.iter().map(|r| r.status().as_u16()).collect();
    for reply in batches {
        assert_eq!(reply.status().as_u16(), 200);
        let body: Value = reply.json().await.unwrap();
        statuses.push(u16::try_from(body["results"][0]["status"].as_u64().unwrap()).unwrap());
        assert_eq!(
            body["results"][1]["status"], 201,
            "the unkeyed item is stored"
        );
    }
    assert_eq!(
        statuses.iter().filter(|&&s| s == 201).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| [200, 201, 409].contains(s)),
        "{statuses:?}"
    );
    let reused = app.submit(&other, Some("shared-key")).await;
    assert_eq!(
        reused.status().as_u16(),
        422,
        "another payload under the key"
    );
    assert_eq!(
        app.response_rows().await,
        1 + 3,
        "one keyed row, three unkeyed"
    );
}

crate::on_both_databases!(
    concurrent_submissions_are_each_stored_once_with_their_own_result,
    one_key_sent_at_once_as_single_and_batch_items_is_stored_once,
);

/// Group commit off (one request per transaction) and a writer that waits for company
/// behave the same as the default.
mod settings {
    use super::*;

    async fn with(backend: Backend, max_items: usize, max_wait: Duration) -> Option<TestApp> {
        spawn_app_with(backend, |settings| {
            settings.group_commit.max_items = max_items;
            settings.group_commit.max_wait = max_wait;
        })
        .await
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite_one_request_per_transaction() {
        let app = with(Backend::Sqlite, 1, Duration::ZERO).await.unwrap();
        concurrent_submissions_are_each_stored_once_with_their_own_result(app).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite_a_writer_that_waits_for_more() {
        let app = with(Backend::Sqlite, 16, Duration::from_millis(5))
            .await
            .unwrap();
        one_key_sent_at_once_as_single_and_batch_items_is_stored_once(app).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres_a_writer_that_waits_for_more() {
        if let Some(app) = with(Backend::Postgres, 16, Duration::from_millis(5)).await {
            concurrent_submissions_are_each_stored_once_with_their_own_result(app).await;
        }
    }
}

/// The SQLite writer called directly: what the database refuses fails only its own request,
/// and a row it writes reads back through the pool exactly as it was written.
mod sqlite_writer {
    use std::path::PathBuf;

    use chrono::{TimeZone, Utc};
    use readiness_api::store::audit::AuditContext;
    use readiness_api::store::entities::{firm, response};
    use readiness_api::store::firms::FirmStore;
    use readiness_api::store::responses::sqlite_write::SqliteWriter;
    use readiness_api::store::responses::{NewResponse, Outcome, ResponseStore};
    use sea_orm::sea_query::Expr;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    use uuid::Uuid;

    use super::*;
    use crate::helpers::spawn_app;

    fn file_of(app: &TestApp) -> PathBuf {
        let path = app
            .database_url
            .strip_prefix("sqlite://")
            .and_then(|rest| rest.split('?').next())
            .unwrap();
        PathBuf::from(path)
    }

    /// The writer's tombstone key: another than the erasure's in these tests, whose rows are
    /// written straight through the writer.
    fn writer_tombstones() -> readiness_api::domain::tombstone::TombstoneKey {
        readiness_api::domain::tombstone::TombstoneKey::new(b"writer").unwrap()
    }

    pub(super) fn new_response(firm_ref: &str, survey_id: i32, key: &str) -> NewResponse {
        let at = Utc.with_ymd_and_hms(2026, 10, 1, 12, 30, 15).unwrap()
            + chrono::Duration::microseconds(123_456);
        NewResponse {
            firm_ref: firm_ref.to_owned(),
            row: response::Model {
                id: Uuid::now_v7(),
                survey_id,
                firm_id: Uuid::nil(),
                answers: json!({"business_age": "gt_5y", "note": "quote \" and é"}),
                industry: "C".to_owned(),
                size_band: "small".to_owned(),
                country: "DE".to_owned(),
                region: Some("DE1".to_owned()),
                tier: "vendor_prompting".to_owned(),
                tier_rank: 1,
                ready_to_customise: false,
                blockers: json!(["vendor_rag.prior_attempts"]),
                score_maturity: 0.25,
                score_clarity: 1.0,
                score_vendor_gap: 0.0,
                score_capability: 0.5,
                score_governance: 0.75,
                rubric_version: "ai-readiness@1".to_owned(),
                submitted_at: at,
                received_at: at + chrono::Duration::seconds(1),
                source: "api".to_owned(),
                idempotency_key: Some(key.to_owned()),
                payload_hash: Some(format!("hash-of-{key}")),
            },
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_refused_request_fails_alone_and_rows_read_back_as_written() {
        let app = spawn_app(Backend::Sqlite).await.unwrap();
        let mut writer = SqliteWriter::open(&file_of(&app), writer_tombstones()).unwrap();
        let good = new_response("writer-good", 1, "writer-1");
        // No such survey: the foreign key refuses the row after its firm was written.
        let refused = new_response("writer-refused", 999_999, "writer-2");
        let again = new_response("writer-good", 1, "writer-1");
        let results = writer
            .write_groups(vec![vec![good.clone()], vec![refused], vec![again.clone()]])
            .unwrap();
        assert_eq!(results.len(), 3);
        let created = match &results[0].as_ref().unwrap()[..] {
            [Outcome::Created(stored)] => stored.clone(),
            other => panic!("expected one created row, got {other:?}"),
        };
        assert!(results[1].is_err(), "the refused request fails");
        assert!(
            matches!(&results[2].as_ref().unwrap()[..], [Outcome::Replayed(stored)] if stored.row.id == good.row.id),
            "a later request with the same key in the same transaction replays the first"
        );
        assert_eq!(app.response_rows().await, 1);
        assert_eq!(
            app.firm_rows().await,
            1,
            "the refused request left no firm behind"
        );

        let read = ResponseStore::by_id(&app.db, good.row.id)
            .await
            .unwrap()
            .expect("the row is stored");
        assert_eq!(read.row, created.row);
        assert_eq!(read.firm_ref, "writer-good");
        assert_eq!(
            read.row,
            response::Model {
                firm_id: read.row.firm_id,
                ..good.row
            }
        );

        // A different payload under the same key is a reuse, and writes nothing.
        let mut reused = new_response("writer-good", 1, "writer-1");
        reused.row.payload_hash = Some("another".to_owned());
        let results = writer.write_groups(vec![vec![reused]]).unwrap();
        assert!(matches!(
            &results[0].as_ref().unwrap()[..],
            [Outcome::KeyReused]
        ));
        assert_eq!(app.response_rows().await, 1);
    }

    /// The attributes and id of the firm `firm_ref`, read through the pool.
    async fn firm_of(app: &TestApp, firm_ref: &str) -> Option<(Uuid, String, Option<String>)> {
        firm::Entity::find()
            .filter(firm::Column::ExternalRef.eq(firm_ref))
            .one(&app.db)
            .await
            .unwrap()
            .map(|firm| (firm.id, firm.size_band, firm.region))
    }

    fn created_firm(results: &[Result<Vec<Outcome>, sea_orm::DbErr>]) -> Uuid {
        match &results[0].as_ref().unwrap()[..] {
            [Outcome::Created(stored)] => stored.row.firm_id,
            other => panic!("expected one created row, got {other:?}"),
        }
    }

    /// The writer remembers the firms it stored; what other connections do to them in the
    /// meantime (an erasure, a change of attributes, a refused request's rollback) is what
    /// its next write goes by.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn firms_changed_elsewhere_or_rolled_back_are_written_again() {
        let app = spawn_app(Backend::Sqlite).await.unwrap();
        let mut writer = SqliteWriter::open(&file_of(&app), writer_tombstones()).unwrap();
        let results = writer
            .write_groups(vec![vec![new_response("known", 1, "firms-1")]])
            .unwrap();
        let first_id = created_firm(&results);
        // Known and unchanged: the same firm, still one row.
        let results = writer
            .write_groups(vec![vec![new_response("known", 1, "firms-2")]])
            .unwrap();
        assert_eq!(created_firm(&results), first_id);
        assert_eq!(app.firm_rows().await, 1);

        // Another connection changes the firm's attributes: the next response's are stored.
        firm::Entity::update_many()
            .col_expr(firm::Column::SizeBand, Expr::value("large"))
            .col_expr(firm::Column::Region, Expr::value(Option::<String>::None))
            .filter(firm::Column::Id.eq(first_id))
            .exec(&app.db)
            .await
            .unwrap();
        let results = writer
            .write_groups(vec![vec![new_response("known", 1, "firms-3")]])
            .unwrap();
        assert_eq!(created_firm(&results), first_id);
        assert_eq!(
            firm_of(&app, "known").await,
            Some((first_id, "small".to_owned(), Some("DE1".to_owned())))
        );

        // Another connection erases the firm: the next response creates it again (the
        // writer hashes with another tombstone key here, so no tombstone matches).
        let tombstones = readiness_api::domain::tombstone::TombstoneKey::new(b"test").unwrap();
        FirmStore::erase(&app.db, "known", &tombstones, &AuditContext::default())
            .await
            .unwrap()
            .expect("the firm existed");
        let results = writer
            .write_groups(vec![vec![new_response("known", 1, "firms-4")]])
            .unwrap();
        let second_id = created_firm(&results);
        assert_ne!(second_id, first_id);
        assert_eq!(firm_of(&app, "known").await.map(|f| f.0), Some(second_id));

        // A request refused after its firm was written leaves nothing remembered: the same
        // firm in a later, valid request is created.
        let results = writer
            .write_groups(vec![
                vec![new_response("refused-first", 999_999, "firms-5")],
                vec![new_response("known", 1, "firms-6")],
            ])
            .unwrap();
        assert!(results[0].is_err());
        assert_eq!(firm_of(&app, "refused-first").await, None);
        let results = writer
            .write_groups(vec![vec![new_response("refused-first", 1, "firms-7")]])
            .unwrap();
        let created = created_firm(&results);
        assert_eq!(
            firm_of(&app, "refused-first").await.map(|f| f.0),
            Some(created)
        );
        // The erasure took the first three responses with it.
        assert_eq!(app.response_rows().await, 3);
    }
}

/// On PostgreSQL the usual group goes in with one call of `store_response_group`; a group the
/// function refuses is stored step by step, with the outcomes the general path gives and
/// nothing stored twice.
mod postgres_one_call {
    use readiness_api::domain::tombstone::TombstoneKey;
    use readiness_api::store::entities::response;
    use readiness_api::store::responses::{Outcome, ResponseStore};
    use sea_orm::{ConnectOptions, ConnectionTrait, Database, DbBackend, Statement};

    use super::sqlite_writer::new_response;
    use super::*;
    use crate::helpers::spawn_app;

    /// The calls of the function counted so far, once they reach `at_least` (statistics
    /// reach other sessions shortly after a transaction ends) or after 20 s.
    async fn calls(app: &TestApp, at_least: i64) -> i64 {
        let mut calls = 0;
        for _ in 0..200 {
            let row = app
                .db
                .query_one_raw(Statement::from_string(
                    DbBackend::Postgres,
                    "SELECT coalesce(sum(calls), 0)::bigint FROM pg_stat_user_functions \
                     WHERE funcname = 'store_response_group'",
                ))
                .await
                .unwrap()
                .unwrap();
            calls = row.try_get_by_index(0).unwrap();
            if calls >= at_least {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        calls
    }

    fn created(result: &Result<Vec<Outcome>, sea_orm::DbErr>) -> response::Model {
        match &result.as_ref().unwrap()[..] {
            [Outcome::Created(stored)] => stored.row.clone(),
            other => panic!("expected one created row, got {other:?}"),
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_group_goes_in_with_one_call_and_a_refused_one_step_by_step() {
        let Some(app) = spawn_app(Backend::Postgres).await else {
            return;
        };
        // One session, which counts its calls of PL/pgSQL functions and reports them as soon
        // as its next transaction ends.
        let mut options = ConnectOptions::new(app.database_url.clone());
        options.max_connections(1).min_connections(1);
        let db = Database::connect(options).await.unwrap();
        db.execute_unprepared("SET track_functions = 'pl'")
            .await
            .unwrap();
        let tombstones = TombstoneKey::new(b"writer").unwrap();

        let mut first = new_response("one-call-a", 1, "one-call-1");
        // A score with no short decimal form reads back bit for bit.
        first.row.score_maturity = 1.0 / 3.0;
        let second = new_response("one-call-b", 1, "one-call-2");
        db.execute_unprepared("SELECT pg_stat_force_next_flush()")
            .await
            .unwrap();
        let results = ResponseStore::insert_groups(
            &db,
            vec![vec![first.clone()], vec![second.clone()]],
            &tombstones,
        )
        .await
        .unwrap();
        let stored_first = created(&results[0]);
        created(&results[1]);
        assert_eq!(
            calls(&app, 1).await,
            1,
            "both requests went in with one call"
        );
        let read = ResponseStore::by_id(&app.db, first.row.id)
            .await
            .unwrap()
            .expect("the row is stored");
        assert_eq!(read.row, stored_first);
        assert_eq!(
            read.row,
            response::Model {
                firm_id: read.row.firm_id,
                ..first.row.clone()
            }
        );
        assert_eq!(read.firm_ref, "one-call-a");
        assert_eq!(app.firm_rows().await, 2);

        // A replay in the group: the function refuses the whole group (it returns no rows and
        // keeps nothing), and the general path replays the first request and stores the
        // second.
        let third = new_response("one-call-c", 1, "one-call-3");
        db.execute_unprepared("SELECT pg_stat_force_next_flush()")
            .await
            .unwrap();
        let results = ResponseStore::insert_groups(
            &db,
            vec![vec![first.clone()], vec![third.clone()]],
            &tombstones,
        )
        .await
        .unwrap();
        assert!(
            matches!(&results[0].as_ref().unwrap()[..], [Outcome::Replayed(stored)] if stored.row == stored_first),
            "the first request replays its original: {:?}",
            results[0]
        );
        assert_eq!(created(&results[1]).id, third.row.id);
        assert_eq!(
            calls(&app, 2).await,
            2,
            "the function was called and refused"
        );
        assert_eq!(app.response_rows().await, 3);
        assert_eq!(app.firm_rows().await, 3);
    }
}
