//! Retries with the same Idempotency-Key never duplicate.

use futures::future::join_all;
use serde_json::{Value, json};

use crate::helpers::{FINE_TUNE, TestApp, answers, assert_problem, submission};

async fn a_retry_with_the_same_key_and_body_replays_the_original(app: TestApp) {
    let body = submission("acme", answers(&[FINE_TUNE]));
    let first = app.submit(&body, Some("acme-2026-10")).await;
    assert_eq!(first.status().as_u16(), 201);
    let original: Value = first.json().await.unwrap();

    // Same payload with its keys in another order is the same request.
    let reordered: Value = serde_json::from_str(&{
        let mut fields: Vec<(String, Value)> =
            body.as_object().unwrap().clone().into_iter().collect();
        fields.reverse();
        let map: serde_json::Map<String, Value> = fields.into_iter().collect();
        serde_json::to_string(&map).unwrap()
    })
    .unwrap();
    let retry = app.submit(&reordered, Some("acme-2026-10")).await;
    assert_eq!(retry.status().as_u16(), 200);
    assert_eq!(retry.headers()["idempotent-replayed"], "true");
    let replayed: Value = retry.json().await.unwrap();
    assert_eq!(replayed, original);
    assert_eq!(app.response_rows().await, 1);
}

async fn the_same_key_with_another_body_is_422(app: TestApp) {
    let body = submission("acme", answers(&[FINE_TUNE]));
    assert_eq!(
        app.submit(&body, Some("key-1")).await.status().as_u16(),
        201
    );
    let mut changed = body.clone();
    changed["answers"]["staff_ai_usage"] = json!("few");
    assert_problem(
        app.submit(&changed, Some("key-1")).await,
        422,
        "idempotency_key_reused",
    )
    .await;
    assert_eq!(app.response_rows().await, 1);
    // Without a key the same body is simply a new response.
    assert_eq!(app.submit(&body, None).await.status().as_u16(), 201);
    assert_eq!(app.response_rows().await, 2);
}

async fn twenty_concurrent_identical_submissions_store_one_row(app: TestApp) {
    let body = submission("burst", answers(&[FINE_TUNE]));
    let replies = join_all((0..20).map(|_| app.submit(&body, Some("burst-key")))).await;
    let mut statuses: Vec<u16> = Vec::new();
    let mut ids = Vec::new();
    for reply in replies {
        let status = reply.status().as_u16();
        statuses.push(status);
        if status == 200 || status == 201 {
            let body: Value = reply.json().await.unwrap();
            ids.push(body["id"].as_str().unwrap().to_owned());
        }
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
    ids.dedup();
    assert_eq!(ids.len(), 1, "every success names the same response");
    assert_eq!(app.response_rows().await, 1);
    assert_eq!(app.firm_rows().await, 1);
}

crate::on_both_databases!(
    a_retry_with_the_same_key_and_body_replays_the_original,
    the_same_key_with_another_body_is_422,
    twenty_concurrent_identical_submissions_store_one_row,
);
