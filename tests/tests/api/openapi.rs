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
        "/api/v1/exports/responses",
        "/metrics",
        "/api/v1/keys",
        "/api/v1/keys/{id}",
        "/api/v1/audit",
        "/api/v1/firms/{ref}",
        "/api/v1/surveys/{slug}/versions/{version}/publish",
        "/api/v1/reports/readiness.html",
        "/api/v1/reports/share",
        "/api/v1/reports/shared/{token}",
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

/// The statuses a client must be ready for, declared on every operation with the problem
/// schema and its content type; tags on every operation; a key required where one is.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_operation_declares_its_problems_tags_and_security() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let served: Value = app.get("/openapi.json").await.json().await.unwrap();
    let probes = ["/healthz", "/readyz", "/metrics"];
    let submissions = [
        "/api/v1/surveys/{slug}/responses",
        "/api/v1/surveys/{slug}/responses/batch",
    ];
    let problem = serde_json::json!({
        "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
    });
    let mut operations = 0;
    for (path, item) in served["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            operations += 1;
            let name = format!("{} {path}", method.to_uppercase());
            let tags = operation["tags"].as_array();
            assert!(tags.is_some_and(|t| !t.is_empty()), "{name} has a tag");
            let responses = operation["responses"].as_object().unwrap();
            for (status, response) in responses {
                assert!(
                    response["description"]
                        .as_str()
                        .is_some_and(|d| !d.is_empty()),
                    "{name} {status} is described"
                );
                // The assessment pages answer people with pages, machines (a malformed
                // form, a bad key, too many requests, a failure) with problem documents; a
                // refused form is a page, and NUL in the path a problem, so 422 is both.
                let content = response["content"].as_object();
                let html = content.and_then(|c| c.get("text/html"));
                if let Some(html) = html.filter(|_| status.starts_with('4')) {
                    assert!(path.starts_with("/assess/"), "{name} {status} is HTML");
                    assert_eq!(
                        html["schema"]["type"], "string",
                        "{name} {status} is a page"
                    );
                    if let Some(problem_too) =
                        content.and_then(|c| c.get("application/problem+json"))
                    {
                        assert_eq!(
                            problem_too, &problem["application/problem+json"],
                            "{name} {status}"
                        );
                    }
                } else if status.starts_with('4') || status.starts_with('5') {
                    assert_eq!(
                        response["content"], problem,
                        "{name} {status} is a problem document"
                    );
                }
            }
            let mut expected = vec!["401", "500"];
            if !probes.contains(&path.as_str()) {
                expected.push("429");
            }
            for status in expected {
                assert!(responses.contains_key(status), "{name} declares {status}");
            }
            // Survey definitions are public; a share link is its own credential.
            let public_read = method == "get"
                && (path.starts_with("/api/v1/surveys")
                    || path == "/api/v1/reports/shared/{token}");
            let security = &operation["security"];
            if submissions.contains(&path.as_str()) {
                assert_eq!(security, &serde_json::json!([{"bearer": []}, {}]), "{name}");
            } else if path.starts_with("/api/v1/") && !public_read {
                assert_eq!(security, &serde_json::json!([{"bearer": []}]), "{name}");
                assert!(responses.contains_key("403"), "{name} declares 403");
            } else {
                assert!(security.is_null(), "{name} needs no key");
            }
        }
    }
    assert!(operations >= 22, "{operations} operations");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closed_value_sets_are_enums() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let served: Value = app.get("/openapi.json").await.json().await.unwrap();
    let schemas = &served["components"]["schemas"];
    let strings = |value: &Value| -> Vec<String> {
        value
            .as_array()
            .unwrap_or_else(|| panic!("an enum: {value}"))
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        strings(&schemas["SizeBand"]["enum"]),
        ["micro", "small", "medium", "large"]
    );
    assert_eq!(
        strings(&schemas["Role"]["enum"]),
        ["admin", "analyst", "collector", "viewer"]
    );
    assert_eq!(
        schemas["FirmView"]["properties"]["size_band"]["$ref"],
        "#/components/schemas/SizeBand"
    );
    let trend = &served["paths"]["/api/v1/reports/trend"]["get"]["parameters"];
    let parameter = |name: &str| {
        trend
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("parameter {name}"))["schema"]
            .clone()
    };
    assert_eq!(strings(&parameter("basis")["enum"]), ["latest", "all"]);
    assert_eq!(
        strings(&parameter("interval")["enum"]),
        ["month", "quarter"]
    );
    assert_eq!(
        strings(&parameter("by")["items"]["enum"]),
        ["industry", "size_band", "country", "region", "version"]
    );
}
