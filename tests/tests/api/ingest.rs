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
