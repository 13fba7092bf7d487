//! The committed contract equals what the server serves.

use serde_json::Value;

use crate::helpers::{Backend, spawn_app};

const COMMITTED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../openapi/openapi.json");

/// Regenerate with `UPDATE_EXPECT=1 cargo test -p readiness-tests openapi`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_committed_openapi_document_matches_the_served_one() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let response = app.get("/openapi.json").await;
    assert_eq!(response.status().as_u16(), 200);
    let served: Value = response.json().await.unwrap();

    if std::env::var_os("UPDATE_EXPECT").is_some() {
        let pretty = serde_json::to_string_pretty(&served).unwrap();
        std::fs::write(COMMITTED, format!("{pretty}\n")).unwrap();
    }
    let committed: Value = serde_json::from_str(
        &std::fs::read_to_string(COMMITTED).expect("openapi/openapi.json exists"),
    )
    .expect("openapi/openapi.json is JSON");
    assert!(
        committed == served,
        "openapi/openapi.json differs from GET /openapi.json; regenerate it with \
         `UPDATE_EXPECT=1 cargo test -p readiness-tests openapi` and review the diff"
    );
    assert!(served["openapi"].as_str().unwrap().starts_with("3.1"));
    for path in [
        "/healthz",
        "/readyz",
        "/api/v1/surveys",
        "/api/v1/surveys/{slug}",
        "/api/v1/surveys/{slug}/versions/{version}",
        "/api/v1/surveys/{slug}/responses",
        "/api/v1/surveys/{slug}/responses/batch",
        "/api/v1/responses/{id}",
        "/metrics",
        "/api/v1/keys",
        "/api/v1/keys/{id}",
        "/api/v1/audit",
        "/api/v1/firms/{ref}",
        "/api/v1/surveys/{slug}/versions/{version}/publish",
    ] {
        assert!(served["paths"].get(path).is_some(), "{path} is described");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_document_declares_the_bearer_scheme() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let served: Value = app.get("/openapi.json").await.json().await.unwrap();
    assert_eq!(
        served["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    assert_eq!(
        served["paths"]["/api/v1/keys"]["get"]["security"],
        serde_json::json!([{"bearer": []}])
    );
    assert_eq!(
        served["paths"]["/api/v1/surveys/{slug}/responses"]["post"]["security"],
        serde_json::json!([{"bearer": []}, {}]),
        "a key is optional for a public survey"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn swagger_ui_is_served_from_the_binary() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let response = app.get("/docs/").await;
    assert_eq!(response.status().as_u16(), 200);
    let html = response.text().await.unwrap();
    assert!(html.contains("swagger-ui"), "{html}");
}
