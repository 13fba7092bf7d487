//! The audit log: newest first, cursor-paginated, filtered by action and time.

use serde_json::Value;

use crate::helpers::{TestApp, assert_problem};

async fn page(app: &TestApp, query: &str) -> Value {
    let response = app
        .get_as(&app.admin_key, &format!("/api/v1/audit{query}"))
        .await;
    assert_eq!(response.status(), 200, "{query}");
    response.json().await.unwrap()
}

fn ids(page: &Value) -> Vec<i64> {
    page["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_i64().unwrap())
        .collect()
}

async fn events_are_paged_newest_first_with_an_opaque_cursor(app: TestApp) {
    // The three keys of the test app were created from outside HTTP: no actor.
    let mut created = Vec::new();
    for n in 0..4 {
        let key = app
            .create_key_over_http(&format!("k{n}"), "collector")
            .await;
        created.push(key["id"].as_str().unwrap().to_owned());
    }
    assert_eq!(
        app.delete_as(&app.admin_key, &format!("/api/v1/keys/{}", created[0]))
            .await
            .status(),
        204
    );

    let mut all = Vec::new();
    let mut query = "?limit=3".to_owned();
    let mut pages = 0;
    loop {
        let body = page(&app, &query).await;
        pages += 1;
        all.extend(ids(&body));
        match body["next_cursor"].as_str() {
            Some(cursor) => query = format!("?limit=3&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(all.len(), 8);
    assert!(all.windows(2).all(|w| w[0] > w[1]), "newest first: {all:?}");

    let newest = page(&app, "").await;
    assert_eq!(newest["next_cursor"], Value::Null);
    let first = &newest["events"][0];
    assert_eq!(first["action"], "key.revoke");
    assert_eq!(first["actor"], app.admin_key_id.to_string());
    assert_eq!(first["target"], format!("key:{}", created[0]));
    assert!(
        first["request_id"]
            .as_str()
            .is_some_and(|id| !id.is_empty())
    );
    let oldest = &newest["events"][7];
    assert_eq!(oldest["action"], "key.create");
    assert_eq!(oldest["actor"], Value::Null);
    assert_eq!(oldest["details"]["name"], "test-admin");
}

async fn events_are_filtered_by_action_and_time(app: TestApp) {
    let key = app.create_key_over_http("filtered", "analyst").await;
    let id = key["id"].as_str().unwrap();
    app.delete_as(&app.admin_key, &format!("/api/v1/keys/{id}"))
        .await;

    let revocations = page(&app, "?action=key.revoke").await;
    assert_eq!(ids(&revocations).len(), 1);
    assert_eq!(revocations["events"][0]["target"], format!("key:{id}"));
    assert_eq!(ids(&page(&app, "?action=key.create").await).len(), 4);
    assert_eq!(ids(&page(&app, "?action=firm.erase").await).len(), 0);

    let window = "?from=2000-01-01T00:00:00Z&to=2100-01-01T00:00:00Z";
    assert_eq!(ids(&page(&app, window).await).len(), 5);
    assert_eq!(
        ids(&page(&app, "?from=2100-01-01T00:00:00Z").await).len(),
        0
    );
    assert_eq!(ids(&page(&app, "?to=2000-01-01T00:00:00Z").await).len(), 0);
    let at = revocations["events"][0]["at"]
        .as_str()
        .unwrap()
        .replace('+', "%2B");
    let from_revocation = page(&app, &format!("?from={at}&action=key.revoke")).await;
    assert_eq!(ids(&from_revocation).len(), 1, "`from` is inclusive");
    let to_revocation = page(&app, &format!("?to={at}&action=key.revoke")).await;
    assert_eq!(ids(&to_revocation).len(), 0, "`to` is exclusive");
}

async fn bad_paging_parameters_are_400(app: TestApp) {
    for (query, code) in [
        ("?limit=0", "invalid_query"),
        ("?limit=501", "invalid_query"),
        ("?limit=many", "invalid_query"),
        ("?from=yesterday", "invalid_query"),
        ("?cursor=not-a-cursor", "invalid_cursor"),
        ("?cursor=YXVkaXQ6eA", "invalid_cursor"),
    ] {
        assert_problem(
            app.get_as(&app.admin_key, &format!("/api/v1/audit{query}"))
                .await,
            400,
            code,
        )
        .await;
    }
    assert_eq!(ids(&page(&app, "?limit=500").await).len(), 3);
}

/// The server's own id is the event's `request_id`; the client's `X-Request-Id`, which a
/// client may reuse, is kept beside it.
async fn events_carry_the_servers_request_id_and_the_clients_apart(app: TestApp) {
    for name in ["first", "second"] {
        let created = app
            .send(
                app.client
                    .post(app.url("/api/v1/keys"))
                    .bearer_auth(&app.admin_key)
                    .header("X-Request-Id", "same-client-id")
                    .json(&serde_json::json!({"name": name, "role": "viewer"})),
            )
            .await;
        assert_eq!(created.status(), 201);
        assert_eq!(created.headers()["x-request-id"], "same-client-id");
    }
    let events = page(&app, "?action=key.create&limit=2").await;
    let events = events["events"].as_array().unwrap();
    assert_eq!(events.len(), 2);
    let server_ids: Vec<&str> = events
        .iter()
        .map(|e| e["request_id"].as_str().unwrap())
        .collect();
    for (event, id) in events.iter().zip(&server_ids) {
        assert_eq!(event["client_request_id"], "same-client-id");
        assert!(uuid::Uuid::parse_str(id).is_ok(), "{id}");
    }
    assert_ne!(server_ids[0], server_ids[1]);

    // Without an X-Request-Id the client's id is null.
    app.create_key_over_http("third", "viewer").await;
    let newest = page(&app, "?action=key.create&limit=1").await;
    assert_eq!(newest["events"][0]["client_request_id"], Value::Null);
    assert!(newest["events"][0]["request_id"].as_str().is_some());
}

crate::on_both_databases!(
    events_carry_the_servers_request_id_and_the_clients_apart,
    events_are_paged_newest_first_with_an_opaque_cursor,
    events_are_filtered_by_action_and_time,
    bad_paging_parameters_are_400,
);
