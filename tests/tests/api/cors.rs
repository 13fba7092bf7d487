//! CORS: preflights and headers for the configured origins only, and none without a list.

use reqwest::Method;

use crate::helpers::{Backend, TestApp, spawn_app_with};

const DASHBOARD: &str = "http://127.0.0.1:8081";
const READINESS: &str = "/api/v1/reports/readiness";

/// A preflight as a browser sends it before a keyed, conditional GET (not a documented
/// operation, so not checked against the document).
async fn preflight(app: &TestApp, origin: &str) -> reqwest::Response {
    app.client
        .request(Method::OPTIONS, app.url(READINESS))
        .header("Origin", origin)
        .header("Access-Control-Request-Method", "GET")
        .header(
            "Access-Control-Request-Headers",
            "authorization,if-none-match",
        )
        .send()
        .await
        .unwrap()
}

async fn keyed_get(app: &TestApp, origin: &str, key: &str) -> crate::helpers::Reply {
    app.send(
        app.client
            .get(app.url(READINESS))
            .header("Origin", origin)
            .bearer_auth(key),
    )
    .await
}

fn header<'a>(headers: &'a reqwest::header::HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).map(|v| v.to_str().unwrap())
}

async fn allowed_origins_get_preflights_and_exposed_headers(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |s| s.cors_origins = vec![DASHBOARD.to_owned()]).await
    else {
        return;
    };
    let answer = preflight(&app, DASHBOARD).await;
    assert_eq!(answer.status(), 204);
    let headers = answer.headers();
    assert_eq!(
        header(headers, "access-control-allow-origin"),
        Some(DASHBOARD)
    );
    let allowed = header(headers, "access-control-allow-headers").unwrap();
    assert!(allowed.contains("Authorization") && allowed.contains("If-None-Match"));
    assert!(
        header(headers, "access-control-allow-methods")
            .unwrap()
            .contains("GET")
    );
    assert!(header(headers, "vary").unwrap().contains("Origin"));
    assert!(header(headers, "access-control-allow-credentials").is_none());

    let report = keyed_get(&app, DASHBOARD, &app.analyst_key).await;
    assert_eq!(report.status(), 200);
    let headers = report.headers();
    assert_eq!(
        header(headers, "access-control-allow-origin"),
        Some(DASHBOARD)
    );
    assert_eq!(
        header(headers, "access-control-expose-headers"),
        Some("ETag, X-Request-Id, Retry-After, Location, Link")
    );
    assert_eq!(header(headers, "vary"), Some("Origin"));
    // A refusal is readable by the page too, so it can tell a bad key from a network error.
    let refused = keyed_get(&app, DASHBOARD, "rdy_not_a_key").await;
    assert_eq!(refused.status(), 401);
    assert_eq!(
        header(refused.headers(), "access-control-allow-origin"),
        Some(DASHBOARD)
    );

    // Another origin, or the same host on another port, is not told anything.
    for other in ["http://127.0.0.1:8082", "https://127.0.0.1:8081", "null"] {
        let answer = preflight(&app, other).await;
        assert_eq!(answer.status(), 405, "{other}");
        assert!(header(answer.headers(), "access-control-allow-origin").is_none());
        assert!(header(answer.headers(), "access-control-allow-headers").is_none());
        let report = keyed_get(&app, other, &app.analyst_key).await;
        assert_eq!(report.status(), 200);
        assert!(header(report.headers(), "access-control-allow-origin").is_none());
        assert!(header(report.headers(), "access-control-expose-headers").is_none());
        assert_eq!(header(report.headers(), "vary"), Some("Origin"));
    }
}

async fn without_a_list_no_cors_header_is_sent(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |_| {}).await else {
        return;
    };
    let answer = preflight(&app, DASHBOARD).await;
    assert_eq!(answer.status(), 405);
    let report = keyed_get(&app, DASHBOARD, &app.analyst_key).await;
    assert_eq!(report.status(), 200);
    for headers in [answer.headers(), report.headers()] {
        let cors: Vec<_> = headers
            .keys()
            .filter(|name| name.as_str().starts_with("access-control-"))
            .collect();
        assert!(cors.is_empty(), "{cors:?}");
        assert!(headers.get("vary").is_none());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allowed_origins_get_preflights_and_exposed_headers_on_sqlite() {
    allowed_origins_get_preflights_and_exposed_headers(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allowed_origins_get_preflights_and_exposed_headers_on_postgres() {
    allowed_origins_get_preflights_and_exposed_headers(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_list_no_cors_header_is_sent_on_sqlite() {
    without_a_list_no_cors_header_is_sent(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_list_no_cors_header_is_sent_on_postgres() {
    without_a_list_no_cors_header_is_sent(Backend::Postgres).await;
}
