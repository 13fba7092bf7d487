//! API keys over HTTP: shown once, stored as a hash, revocable, audited.

use chrono::Utc;
use readiness_api::store::entities::{api_key, audit_event};
use readiness_api::store::lookups::FRESH_FOR;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};

use crate::helpers::{TestApp, answers, assert_problem, pointers, submission};

async fn an_admin_creates_a_key_that_is_shown_once_and_stored_as_a_hash(app: TestApp) {
    let response = app.send(app.client
        .post(app.url("/api/v1/keys"))
        .bearer_auth(&app.admin_key)
        .header("X-Request-Id", "create-key-1")
        .json(
            &json!({"name": "crm-sync", "role": "collector", "expires_at": "2099-01-01T00:00:00Z"}),
        ))
        .await;
    assert_eq!(response.status(), 201);
    let created: Value = response.json().await.unwrap();
    let token = created["token"].as_str().unwrap().to_owned();
    let prefix = created["prefix"].as_str().unwrap();
    assert_eq!(token.len(), 4 + 16 + 1 + 64);
    assert!(token.starts_with(&format!("rdy_{prefix}_")));
    assert_eq!(created["name"], "crm-sync");
    assert_eq!(created["role"], "collector");
    assert_eq!(created["expires_at"], "2099-01-01T00:00:00Z");
    assert_eq!(created["revoked_at"], Value::Null);
    assert_eq!(created["last_used_at"], Value::Null);

    let row = api_key::Entity::find()
        .filter(api_key::Column::Prefix.eq(prefix))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let secret = token.rsplit('_').next().unwrap();
    assert_eq!(row.secret_hash.len(), 64);
    assert!(row.secret_hash.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_ne!(row.secret_hash, secret);
    for column in [&row.name, &row.role, &row.prefix, &row.secret_hash] {
        assert!(!column.contains(secret), "the secret is not stored");
    }
    assert_eq!(row.id.to_string(), created["id"].as_str().unwrap());

    // The new key works for its role at once.
    let submitted = app
        .post_as(
            &token,
            "/api/v1/surveys/ai-readiness/responses",
            &submission("new-key-firm", answers(&[])),
        )
        .await;
    assert_eq!(submitted.status(), 201);

    let event = audit_event::Entity::find()
        .filter(audit_event::Column::Action.eq("key.create"))
        .filter(audit_event::Column::Actor.eq(app.admin_key_id))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(event.target, format!("key:{}", row.id));
    assert_eq!(event.client_request_id.as_deref(), Some("create-key-1"));
    assert_eq!(event.details["role"], "collector");
    assert!(!event.details.to_string().contains(secret));
}

async fn listing_keys_never_shows_a_secret_or_hash(app: TestApp) {
    let response = app.get_as(&app.admin_key, "/api/v1/keys").await;
    assert_eq!(response.status(), 200);
    let text = response.text().await.unwrap();
    let body: Value = serde_json::from_str(&text).unwrap();
    let names: Vec<&str> = body["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["test-admin", "test-analyst", "test-collector"]);
    for key in [&app.admin_key, &app.analyst_key, &app.collector_key] {
        let secret = key.rsplit('_').next().unwrap();
        assert!(!text.contains(secret));
    }
    for row in api_key::Entity::find().all(&app.db).await.unwrap() {
        assert!(!text.contains(&row.secret_hash));
    }
    let fields: Vec<&String> = body["keys"][0].as_object().unwrap().keys().collect();
    assert_eq!(
        fields,
        [
            "created_at",
            "expires_at",
            "id",
            "last_used_at",
            "name",
            "prefix",
            "rate_limit_per_minute",
            "revoked_at",
            "role"
        ]
    );
}

async fn a_revoked_key_stops_working_at_once(app: TestApp) {
    let created = app.create_key_over_http("short-lived", "analyst").await;
    let token = created["token"].as_str().unwrap();
    let id = created["id"].as_str().unwrap();
    assert_eq!(
        app.get_as(
            token,
            "/api/v1/responses/0192f0c1-0000-7000-8000-000000000000"
        )
        .await
        .status(),
        404
    );

    let revoked = app
        .delete_as(&app.admin_key, &format!("/api/v1/keys/{id}"))
        .await;
    assert_eq!(revoked.status(), 204);
    assert_eq!(revoked.text().await.unwrap(), "");
    assert_problem(
        app.get_as(
            token,
            "/api/v1/responses/0192f0c1-0000-7000-8000-000000000000",
        )
        .await,
        401,
        "unauthorized",
    )
    .await;

    // Revoking again changes nothing and records nothing more.
    assert_eq!(
        app.delete_as(&app.admin_key, &format!("/api/v1/keys/{id}"))
            .await
            .status(),
        204
    );
    let revocations = audit_event::Entity::find()
        .filter(audit_event::Column::Action.eq("key.revoke"))
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(revocations.len(), 1);
    assert_eq!(revocations[0].actor, Some(app.admin_key_id));
    assert_eq!(revocations[0].target, format!("key:{id}"));
    let listed: Value = app
        .get_as(&app.admin_key, "/api/v1/keys")
        .await
        .json()
        .await
        .unwrap();
    let entry = listed["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["id"] == id)
        .unwrap();
    assert!(entry["revoked_at"].is_string());

    assert_problem(
        app.delete_as(
            &app.admin_key,
            "/api/v1/keys/0192f0c1-0000-7000-8000-000000000000",
        )
        .await,
        404,
        "not_found",
    )
    .await;
    assert_problem(
        app.delete_as(&app.admin_key, "/api/v1/keys/not-a-uuid")
            .await,
        404,
        "not_found",
    )
    .await;
}

async fn every_invalid_key_field_is_named(app: TestApp) {
    let problem = assert_problem(
        app.post_as(
            &app.admin_key,
            "/api/v1/keys",
            &json!({"name": "", "role": "root", "expires_at": "2001-01-01T00:00:00Z", "scope": "all"}),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(
        pointers(&problem),
        ["/scope", "/name", "/role", "/expires_at"]
    );
    let problem = assert_problem(
        app.post_as(
            &app.admin_key,
            "/api/v1/keys",
            &json!({"expires_at": "soon"}),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(pointers(&problem), ["/name", "/role", "/expires_at"]);
    assert_eq!(api_key::Entity::find().all(&app.db).await.unwrap().len(), 3);
}

async fn last_use_is_recorded_at_most_once_a_minute(app: TestApp) {
    let used = || async {
        api_key::Entity::find()
            .filter(api_key::Column::Name.eq("test-analyst"))
            .order_by_asc(api_key::Column::Id)
            .one(&app.db)
            .await
            .unwrap()
            .unwrap()
            .last_used_at
    };
    assert_eq!(used().await, None);
    let path = "/api/v1/responses/0192f0c1-0000-7000-8000-000000000000";
    assert_eq!(app.get_as(&app.analyst_key, path).await.status(), 404);
    // Recorded beside the request, so it may land just after the answer.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let first = loop {
        match used().await {
            Some(at) => break Some(at),
            None if std::time::Instant::now() < deadline => {
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
            None => panic!("the key's last use was not recorded within 10 s"),
        }
    };
    for _ in 0..3 {
        assert_eq!(app.get_as(&app.analyst_key, path).await.status(), 404);
    }
    assert_eq!(used().await, first, "no write within the same minute");
}

/// A key revoked by another process (a second replica, the command line) writes the row
/// without this server knowing: the server sees it once its cached row is older than
/// `FRESH_FOR`.
async fn a_key_revoked_by_another_process_stops_working_within_fresh_for(app: TestApp) {
    let path = "/api/v1/responses/0192f0c1-0000-7000-8000-000000000000";
    let created = app.create_key_over_http("elsewhere", "analyst").await;
    let token = created["token"].as_str().unwrap();
    let id: uuid::Uuid = created["id"].as_str().unwrap().parse().unwrap();
    assert_eq!(app.get_as(token, path).await.status(), 404);

    let revoked = api_key::Entity::update_many()
        .col_expr(api_key::Column::RevokedAt, Expr::value(Utc::now()))
        .filter(api_key::Column::Id.eq(id))
        .exec(&app.db)
        .await
        .unwrap();
    assert_eq!(revoked.rows_affected, 1);
    tokio::time::sleep(FRESH_FOR + std::time::Duration::from_millis(100)).await;
    assert_problem(app.get_as(token, path).await, 401, "unauthorized").await;
    // The other keys still work.
    assert_eq!(app.get_as(&app.analyst_key, path).await.status(), 404);
}

crate::on_both_databases!(
    an_admin_creates_a_key_that_is_shown_once_and_stored_as_a_hash,
    a_key_revoked_by_another_process_stops_working_within_fresh_for,
    listing_keys_never_shows_a_secret_or_hash,
    a_revoked_key_stops_working_at_once,
    every_invalid_key_field_is_named,
    last_use_is_recorded_at_most_once_a_minute,
);
