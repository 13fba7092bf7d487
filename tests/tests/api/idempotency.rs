//! Retries with the same Idempotency-Key never duplicate.

use futures::future::join_all;
use serde_json::{Value, json};

use readiness_api::domain::api_key::Role;
use readiness_api::store::entities::response;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use crate::helpers::{
    Backend, FINE_TUNE, Reply, TestApp, answers, assert_problem, create_key, spawn_app_with,
    submission,
};

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

async fn submit_as(app: &TestApp, key: Option<&str>, body: &Value, idempotency: &str) -> Reply {
    let mut request = app
        .client
        .post(app.url("/api/v1/surveys/ai-readiness/responses"))
        .header("Idempotency-Key", idempotency)
        .json(body);
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    app.send(request).await
}

/// Idempotency keys belong to the API key that sent them: another collector can neither read
/// a response through a key it guessed nor claim keys before their owner uses them.
async fn keys_are_scoped_to_the_sender(app: TestApp) {
    let a = app.collector_key.clone();
    let b = create_key(&app.db, "collector b", Role::Collector)
        .await
        .token;
    let body = submission("acme", answers(&[FINE_TUNE]));

    // B claims the key first, with another body: A is not affected.
    let mut other = body.clone();
    other["firm"]["ref"] = json!("b-firm");
    assert_eq!(submit_as(&app, Some(&b), &other, "k-1").await.status(), 201);
    let first = submit_as(&app, Some(&a), &body, "k-1").await;
    assert_eq!(first.status(), 201);
    let original: Value = first.json().await.unwrap();

    // B sends A's key with A's body: a new response of B's, not A's id.
    let copied = submit_as(&app, Some(&b), &body, "k-2").await;
    assert_eq!(copied.status(), 201);
    let theirs = submit_as(&app, Some(&b), &body, "k-1").await;
    assert_eq!(theirs.status(), 422, "B's own k-1 holds another body");

    // A's retry replays A's response.
    let retry = submit_as(&app, Some(&a), &body, "k-1").await;
    assert_eq!(retry.status(), 200);
    assert_eq!(retry.json::<Value>().await.unwrap()["id"], original["id"]);
    assert_eq!(app.response_rows().await, 3);

    // Anonymous submissions to a public survey have a scope of their own.
    let public = app.set_public(true).await;
    assert_eq!(public.status(), 200);
    assert_eq!(submit_as(&app, None, &body, "k-1").await.status(), 201);
    assert_eq!(submit_as(&app, None, &body, "k-1").await.status(), 200);
    assert_eq!(app.response_rows().await, 4);
}

/// Rows stored before keys were scoped were migrated to the `legacy` scope; a retry of such a
/// request still replays it instead of storing it twice.
async fn a_retry_of_a_request_stored_before_scoping_replays_it(app: TestApp) {
    let body = submission("acme", answers(&[FINE_TUNE]));
    let first: Value = app
        .submit(&body, Some("before-upgrade"))
        .await
        .json()
        .await
        .unwrap();
    let id = uuid::Uuid::parse_str(first["id"].as_str().unwrap()).unwrap();
    response::Entity::update_many()
        .col_expr(
            response::Column::IdempotencyKey,
            Expr::value("legacy before-upgrade"),
        )
        .filter(response::Column::Id.eq(id))
        .exec(&app.db)
        .await
        .unwrap();

    // A server started after the migration (as every server is) finds the row.
    let backend = match app.db.get_database_backend() {
        sea_orm::DbBackend::Postgres => Backend::Postgres,
        _ => Backend::Sqlite,
    };
    let url = app.database_url.clone();
    let upgraded = spawn_app_with(backend, |settings| settings.database_url = url)
        .await
        .unwrap();
    let send = |body: &Value, path: &str| {
        upgraded.send(
            upgraded
                .client
                .post(upgraded.url(path))
                .bearer_auth(&app.collector_key)
                .header("Idempotency-Key", "before-upgrade")
                .json(body),
        )
    };
    let retry = send(&body, "/api/v1/surveys/ai-readiness/responses").await;
    assert_eq!(retry.status(), 200);
    assert_eq!(retry.json::<Value>().await.unwrap()["id"], first["id"]);
    let mut item = body.clone();
    item["idempotency_key"] = json!("before-upgrade");
    let batch: Value = upgraded
        .send(
            upgraded
                .client
                .post(upgraded.url("/api/v1/surveys/ai-readiness/responses/batch"))
                .bearer_auth(&app.collector_key)
                .json(&json!({"responses": [item]})),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(batch["results"][0]["status"], 200, "{batch}");
    assert_eq!(app.response_rows().await, 1);
}

crate::on_both_databases!(
    a_retry_with_the_same_key_and_body_replays_the_original,
    the_same_key_with_another_body_is_422,
    twenty_concurrent_identical_submissions_store_one_row,
    keys_are_scoped_to_the_sender,
    a_retry_of_a_request_stored_before_scoping_replays_it,
);
