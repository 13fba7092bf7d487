//! Request ids, metrics and rate limits.

use serde_json::{Value, json};

use crate::helpers::{
    Backend, FINE_TUNE, Reply, TestApp, answers, assert_problem, pointers, spawn_app_with,
    submission,
};

fn request_id(response: &Reply) -> String {
    response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned()
}

async fn every_response_carries_a_request_id(app: TestApp) {
    let generated = request_id(&app.get("/healthz").await);
    assert!(uuid::Uuid::parse_str(&generated).is_ok(), "{generated}");
    assert_ne!(generated, request_id(&app.get("/healthz").await));

    let send = |id: &'static str, path: &'static str| {
        app.send(app.client.get(app.url(path)).header("X-Request-Id", id))
    };
    let echoed = send("client-abc.123:4", "/api/v1/surveys").await;
    assert_eq!(request_id(&echoed), "client-abc.123:4");
    let refused = send("client-401", "/api/v1/keys").await;
    assert_eq!(refused.status(), 401);
    assert_eq!(request_id(&refused), "client-401");
    let missing = send("client-404", "/nowhere").await;
    assert_eq!(missing.status(), 404);
    assert_eq!(request_id(&missing), "client-404");

    let too_long: &'static str = "x".repeat(65).leak();
    for insane in ["has space", "new\tline", too_long] {
        let replaced = send(insane, "/healthz").await;
        assert!(
            uuid::Uuid::parse_str(&request_id(&replaced)).is_ok(),
            "{insane}"
        );
    }
}

fn metric(text: &str, name_and_labels: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(name_and_labels)?.strip_prefix(' '))
        .map(|value| value.parse().unwrap())
}

async fn metrics_count_requests_submissions_and_the_pool(app: TestApp) {
    let stored: Value = app
        .submit(&submission("m-1", answers(&[FINE_TUNE])), None)
        .await
        .json()
        .await
        .unwrap();
    let mut invalid = submission("m-2", answers(&[]));
    invalid["answers"]["business_age"] = json!("ancient");
    assert_eq!(app.submit(&invalid, None).await.status(), 422);
    let batch = json!({"responses": [submission("m-3", answers(&[])), invalid]});
    assert_eq!(app.submit_batch(&batch).await.status(), 200);
    let path = format!("/api/v1/responses/{}", stored["id"].as_str().unwrap());
    assert_eq!(app.get_as(&app.analyst_key, &path).await.status(), 200);
    assert_eq!(app.get(&path).await.status(), 401);
    assert_eq!(app.get("/no/such/route").await.status(), 404);

    let response = app.get("/metrics").await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    let text = response.text().await.unwrap();
    let requests = |method: &str, route: &str, status: u16| {
        metric(
            &text,
            &format!(
                "readiness_http_requests_total{{method=\"{method}\",route=\"{route}\",status=\"{status}\"}}"
            ),
        )
    };
    assert_eq!(
        requests("POST", "/api/v1/surveys/{slug}/responses", 201),
        Some(1.0)
    );
    assert_eq!(
        requests("POST", "/api/v1/surveys/{slug}/responses", 422),
        Some(1.0)
    );
    assert_eq!(
        requests("POST", "/api/v1/surveys/{slug}/responses/batch", 200),
        Some(1.0)
    );
    assert_eq!(requests("GET", "/api/v1/responses/{id}", 200), Some(1.0));
    assert_eq!(requests("GET", "/api/v1/responses/{id}", 401), Some(1.0));
    assert_eq!(requests("GET", "unmatched", 404), Some(1.0));
    assert_eq!(
        metric(
            &text,
            "readiness_http_request_duration_seconds_count{method=\"GET\",route=\"/api/v1/responses/{id}\",status=\"200\"}"
        ),
        Some(1.0)
    );
    for (source, outcome, count) in [
        ("api", "accepted", 1.0),
        ("api", "rejected", 1.0),
        ("batch", "accepted", 1.0),
        ("batch", "rejected", 1.0),
    ] {
        assert_eq!(
            metric(
                &text,
                &format!(
                    "readiness_submissions_total{{outcome=\"{outcome}\",source=\"{source}\"}}"
                )
            ),
            Some(count),
            "{source} {outcome}"
        );
    }
    let max = metric(&text, "readiness_db_pool_connections{state=\"max\"}").unwrap();
    assert!([8.0, 16.0].contains(&max), "{max}");
    let open = metric(&text, "readiness_db_pool_connections{state=\"open\"}").unwrap();
    assert!(open >= 1.0 && open <= max, "{open}");
    assert!(!text.contains("rdy_"), "no key is ever exposed");
}

async fn a_client_over_its_limit_gets_429_with_retry_after(app: TestApp) {
    let path = "/api/v1/responses/0192f0c1-0000-7000-8000-000000000000";
    for _ in 0..3 {
        assert_eq!(app.get_as(&app.analyst_key, path).await.status(), 404);
    }
    let limited = app.get_as(&app.analyst_key, path).await;
    let retry_after: u64 = limited.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=20).contains(&retry_after), "{retry_after}");
    assert_problem(limited, 429, "rate_limited").await;

    // Another key has its own budget; so has a client without a key.
    assert_eq!(app.get_as(&app.admin_key, path).await.status(), 404);
    for _ in 0..3 {
        assert_eq!(app.get("/api/v1/surveys").await.status(), 200);
    }
    assert_problem(app.get("/api/v1/surveys").await, 429, "rate_limited").await;
    // Probes and metrics are never limited.
    for probe in ["/healthz", "/readyz", "/metrics"] {
        assert_eq!(app.get(probe).await.status(), 200, "{probe}");
    }
}

/// Run with a server-wide limit of 3 a minute.
async fn a_key_with_its_own_limit_gets_that_limit(app: TestApp) {
    let create = async |name: &str, limit: u64| {
        let body = json!({"name": name, "role": "collector", "rate_limit_per_minute": limit});
        app.post_as(&app.admin_key, "/api/v1/keys", &body).await
    };
    let trusted = create("crm-sync", 100_000).await;
    assert_eq!(trusted.status().as_u16(), 201);
    let trusted: Value = trusted.json().await.unwrap();
    assert_eq!(trusted["rate_limit_per_minute"], 100_000);
    let tight: Value = create("tight", 2).await.json().await.unwrap();
    let listed: Value = app
        .get_as(&app.admin_key, "/api/v1/keys")
        .await
        .json()
        .await
        .unwrap();
    let limits: Vec<&Value> = listed["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| &k["rate_limit_per_minute"])
        .collect();
    assert_eq!(
        limits,
        [
            &Value::Null,
            &Value::Null,
            &Value::Null,
            &json!(100_000),
            &json!(2)
        ]
    );

    let trusted = trusted["token"].as_str().unwrap();
    for n in 0..12 {
        assert_eq!(
            app.get_as(trusted, "/api/v1/surveys").await.status(),
            200,
            "request {n} of the trusted key"
        );
    }
    let tight = tight["token"].as_str().unwrap();
    for _ in 0..2 {
        assert_eq!(app.get_as(tight, "/api/v1/surveys").await.status(), 200);
    }
    assert_problem(
        app.get_as(tight, "/api/v1/surveys").await,
        429,
        "rate_limited",
    )
    .await;
    // The admin key has used its 3 requests of the server-wide limit.
    assert_problem(
        app.get_as(&app.admin_key, "/api/v1/keys").await,
        429,
        "rate_limited",
    )
    .await;
}

async fn a_key_limit_outside_its_range_is_422(app: TestApp) {
    for limit in [json!(0), json!(-5), json!(100_000_001), json!("lots")] {
        let reply = app
            .post_as(
                &app.admin_key,
                "/api/v1/keys",
                &json!({"name": "x", "role": "collector", "rate_limit_per_minute": limit}),
            )
            .await;
        let problem = assert_problem(reply, 422, "validation_failed").await;
        assert_eq!(pointers(&problem), ["/rate_limit_per_minute"], "{limit}");
    }
}

/// Refused keys count against the client address, under the server-wide limit (600 a minute
/// by default): of 700 random keys, the first 600 (and those the budget refills meanwhile)
/// get `401`, the rest `429`.
async fn refused_keys_count_against_the_client_address(app: TestApp) {
    let started = std::time::Instant::now();
    let mut statuses = Vec::new();
    for _ in 0..700 {
        let guess = format!(
            "rdy_{}_{}",
            &uuid::Uuid::new_v4().simple().to_string()[..16],
            uuid::Uuid::new_v4().simple().to_string().repeat(2)
        );
        statuses.push(
            app.get_as(&guess, "/api/v1/surveys")
                .await
                .status()
                .as_u16(),
        );
    }
    // 600 at once, then one more every 100 ms while the guesses go on.
    let refused = statuses.iter().take_while(|s| **s == 401).count();
    let refilled = usize::try_from(started.elapsed().as_millis() / 100).unwrap();
    assert!(
        (600..=600 + refilled + 1).contains(&refused),
        "{refused} refused in {:?}",
        started.elapsed()
    );
    let allowed = statuses.iter().filter(|s| **s == 401).count();
    assert!(allowed <= 600 + refilled + 1, "{allowed}");
    let limited = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!(allowed + limited, 700, "{statuses:?}");
    assert!(limited >= 50, "{limited}");
    // A valid key from the same address has its own budget; a request without a key shares
    // the address's, which the guesses spent (bar a refill every 100 ms).
    assert_eq!(
        app.get_as(&app.analyst_key, "/api/v1/surveys")
            .await
            .status(),
        200
    );
    let mut keyless = Vec::new();
    for _ in 0..3 {
        keyless.push(app.get("/api/v1/surveys").await);
    }
    let limited = keyless.into_iter().find(|r| r.status() == 429).unwrap();
    assert!(limited.headers().contains_key("retry-after"));
    assert_problem(limited, 429, "rate_limited").await;
}

crate::on_both_databases!(
    refused_keys_count_against_the_client_address,
    a_key_limit_outside_its_range_is_422,
    every_response_carries_a_request_id,
    metrics_count_requests_submissions_and_the_pool,
);

mod limited {
    use super::*;

    async fn limited_app(backend: Backend) -> Option<TestApp> {
        spawn_app_with(backend, |settings| settings.rate_limit_per_minute = 3).await
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite_a_client_over_its_limit_gets_429_with_retry_after() {
        let app = limited_app(Backend::Sqlite).await.unwrap();
        a_client_over_its_limit_gets_429_with_retry_after(app).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres_a_client_over_its_limit_gets_429_with_retry_after() {
        if let Some(app) = limited_app(Backend::Postgres).await {
            a_client_over_its_limit_gets_429_with_retry_after(app).await;
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite_a_key_with_its_own_limit_gets_that_limit() {
        let app = limited_app(Backend::Sqlite).await.unwrap();
        a_key_with_its_own_limit_gets_that_limit(app).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres_a_key_with_its_own_limit_gets_that_limit() {
        if let Some(app) = limited_app(Backend::Postgres).await {
            a_key_with_its_own_limit_gets_that_limit(app).await;
        }
    }
}
