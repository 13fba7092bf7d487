//! Webhook endpoints: registering (checked, audited, the secret shown once), listing,
//! deleting, and the addresses an endpoint may not reach. Deliveries themselves, verified
//! with the Standard Webhooks reference package, with failures and a crash of the server,
//! are checked by `tests/webhooks/deliveries.py`.

use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_problem, pointers, spawn_app_with};

async fn register(app: &TestApp, body: &Value) -> crate::helpers::Reply {
    app.post_as(&app.admin_key, "/api/v1/webhooks", body).await
}

fn sorted(mut pointers: Vec<String>) -> Vec<String> {
    pointers.sort();
    pointers
}

/// Registered, listed without its secret, audited, deleted.
async fn endpoints_are_registered_listed_and_deleted(app: TestApp) {
    let reply = register(
        &app,
        &json!({"url": "https://93.184.216.34/hooks?team=data", "description": "warehouse"}),
    )
    .await;
    assert_eq!(reply.status(), 201);
    let location = reply.headers()["location"].to_str().unwrap().to_owned();
    let created: Value = reply.json().await.unwrap();
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(location, format!("/api/v1/webhooks/{id}"));
    assert_eq!(
        created["events"],
        json!(["response.created", "firm.erased"])
    );
    assert_eq!(created["description"], "warehouse");
    let secret = created["secret"].as_str().unwrap();
    assert!(
        secret.starts_with("whsec_") && secret.len() > 40,
        "{secret}"
    );

    let only_erasures = register(
        &app,
        &json!({"url": "http://93.184.216.34:8443/", "events": ["firm.erased"]}),
    )
    .await;
    assert_eq!(only_erasures.status(), 201);

    let listed: Value = app
        .get_as(&app.admin_key, "/api/v1/webhooks")
        .await
        .json()
        .await
        .unwrap();
    let webhooks = listed["webhooks"].as_array().unwrap();
    assert_eq!(webhooks.len(), 2);
    assert_eq!(webhooks[0]["id"], json!(id));
    assert_eq!(webhooks[1]["events"], json!(["firm.erased"]));
    assert!(webhooks.iter().all(|w| w.get("secret").is_none()));
    let one: Value = app
        .get_as(&app.admin_key, &format!("/api/v1/webhooks/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(one["url"], "https://93.184.216.34/hooks?team=data");
    assert!(one.get("secret").is_none());
    let deliveries: Value = app
        .get_as(&app.admin_key, &format!("/api/v1/webhooks/{id}/deliveries"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(deliveries, json!({"deliveries": [], "next_cursor": null}));

    let deleted = app
        .delete_as(&app.admin_key, &format!("/api/v1/webhooks/{id}"))
        .await;
    assert_eq!(deleted.status(), 204);
    for path in [
        format!("/api/v1/webhooks/{id}"),
        format!("/api/v1/webhooks/{id}/deliveries"),
    ] {
        assert_problem(app.get_as(&app.admin_key, &path).await, 404, "not_found").await;
    }
    assert_problem(
        app.delete_as(&app.admin_key, &format!("/api/v1/webhooks/{id}"))
            .await,
        404,
        "not_found",
    )
    .await;
    assert_problem(
        app.post_as(
            &app.admin_key,
            &format!("/api/v1/webhooks/{id}/deliveries/1/redeliver"),
            &json!({}),
        )
        .await,
        404,
        "not_found",
    )
    .await;

    let audit: Value = app
        .get_as(&app.admin_key, "/api/v1/audit?limit=10")
        .await
        .json()
        .await
        .unwrap();
    let actions: Vec<&str> = audit["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        &actions[..3],
        ["webhook.delete", "webhook.create", "webhook.create"]
    );
    let text = audit.to_string();
    assert!(!text.contains(secret), "the audit log holds no secret");
}

/// Every bad field is named; addresses an endpoint may never reach are refused, and private
/// ones unless the operator allows them; only admins may manage webhooks. Nothing is stored.
async fn bad_endpoints_are_refused(app: TestApp) {
    let problem = assert_problem(
        register(
            &app,
            &json!({"url": "ftp://example.org/", "events": ["response.created", "x"], "extra": 1}),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(sorted(pointers(&problem)), ["/events/1", "/extra", "/url"]);
    let problem = assert_problem(
        register(&app, &json!({"events": []})).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(sorted(pointers(&problem)), ["/events", "/url"]);
    for url in [
        "http://169.254.169.254/latest/meta-data/",
        "http://[fe80::1]/",
        "http://[fd00:ec2::254]/",
        "http://0.0.0.0:8080/",
        "http://127.0.0.1:9000/hook",
        "http://localhost:9000/hook",
        "http://10.0.0.7/",
        "http://[::1]/",
        "https://user:pw@93.184.216.34/",
        "http://readiness-no-such-host.invalid/",
    ] {
        let problem = assert_problem(
            register(&app, &json!({ "url": url })).await,
            422,
            "validation_failed",
        )
        .await;
        assert_eq!(pointers(&problem), ["/url"], "{url}");
    }
    let listed: Value = app
        .get_as(&app.admin_key, "/api/v1/webhooks")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed["webhooks"], json!([]));
    for key in [&app.analyst_key, &app.collector_key] {
        assert_problem(
            app.post_as(
                key,
                "/api/v1/webhooks",
                &json!({"url": "https://93.184.216.34/"}),
            )
            .await,
            403,
            "forbidden",
        )
        .await;
        assert_problem(app.get_as(key, "/api/v1/webhooks").await, 403, "forbidden").await;
    }
}

/// With private targets allowed, loopback and private networks may be registered; link-local
/// and metadata addresses still may not.
async fn private_targets_when_the_operator_allows_them(backend: crate::helpers::Backend) {
    let Some(app) =
        spawn_app_with(backend, |settings| settings.webhooks.allow_private = true).await
    else {
        return;
    };
    for url in [
        "http://127.0.0.1:9000/hook",
        "http://localhost:9000/",
        "http://10.0.0.7/",
    ] {
        assert_eq!(
            register(&app, &json!({ "url": url })).await.status(),
            201,
            "{url}"
        );
    }
    for url in ["http://169.254.169.254/", "http://[fe80::1]/"] {
        assert_problem(
            register(&app, &json!({ "url": url })).await,
            422,
            "validation_failed",
        )
        .await;
    }
}

crate::on_both_databases!(
    endpoints_are_registered_listed_and_deleted,
    bad_endpoints_are_refused,
);

mod private_sqlite {
    #[tokio::test]
    async fn private_targets_when_the_operator_allows_them() {
        super::private_targets_when_the_operator_allows_them(crate::helpers::Backend::Sqlite).await;
    }
}

mod private_postgres {
    #[tokio::test]
    async fn private_targets_when_the_operator_allows_them() {
        super::private_targets_when_the_operator_allows_them(crate::helpers::Backend::Postgres)
            .await;
    }
}
