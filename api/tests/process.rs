//! The `readiness` binary as an operator runs it: what it refuses before touching the
//! database, and what its logs contain. Each test starts the real binary and reads its
//! standard error. The PostgreSQL variants run when `READINESS_TEST_POSTGRES_URL` is set.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use common::{Scratch, Server, fresh_postgres, key, readiness};

const FIRM_REF: &str = "firm-ref-7d1c9e0b";

/// Logs name a request by its route pattern: neither a firm's reference nor a share token
/// reaches them, while every request is still logged.
async fn logs_carry_route_patterns_not_refs_or_tokens(database_url: String) {
    let key = key(&database_url, "admin");
    let server = Server::start(&database_url, &["--log-format", "json"]);
    let client = reqwest::Client::new();
    let answers: serde_json::Map<String, Value> = [
        "business_age",
        "revenue_trend",
        "task_definition",
        "workflow_integration",
        "prior_attempts",
        "vendor_result",
        "monthly_ai_spend",
        "data_restrictions",
        "training_examples",
        "knowledge_organisation",
        "inhouse_skill",
        "customisation_budget",
        "ai_ownership",
        "staff_ai_usage",
    ]
    .iter()
    .zip([
        "lt_1y",
        "declining",
        "none",
        "undecided",
        "nothing",
        "not_measured",
        "lt_100",
        "none",
        "none",
        "in_heads",
        "none",
        "lt_1k",
        "none",
        "none",
    ])
    .map(|(k, v)| ((*k).to_owned(), json!(v)))
    .collect();
    let submitted = client
        .post(server.url("/api/v1/surveys/ai-readiness/responses"))
        .bearer_auth(&key)
        .json(&json!({"firm": {"ref": FIRM_REF, "industry": "C", "size_band": "small", "country": "DE"}, "answers": answers}))
        .send()
        .await
        .unwrap();
    assert_eq!(submitted.status(), 201);
    let shared: Value = client
        .post(server.url("/api/v1/reports/share"))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let link = shared["url"].as_str().unwrap().to_owned();
    let token = link.rsplit('/').next().unwrap().to_owned();
    let page = client.get(server.url(&link)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let erased = client
        .delete(server.url(&format!("/api/v1/firms/{FIRM_REF}")))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(erased.status(), 204);
    let unknown = client
        .get(server.url(&format!("/nowhere/{FIRM_REF}")))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);

    server.wait_for(r#""route":"unmatched""#);
    let log = server.log();
    assert!(
        !log.contains(FIRM_REF),
        "the firm's reference is logged:\n{log}"
    );
    assert!(!log.contains(&token), "the share token is logged:\n{log}");
    let finished: Vec<Value> = log
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|line| line["fields"]["message"] == "request finished")
        .collect();
    let routes: Vec<(&str, &str, u64)> = finished
        .iter()
        .map(|line| {
            (
                line["span"]["method"].as_str().unwrap(),
                line["span"]["route"].as_str().unwrap(),
                line["fields"]["status"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        routes,
        [
            ("POST", "/api/v1/surveys/{slug}/responses", 201),
            ("POST", "/api/v1/reports/share", 201),
            ("GET", "/api/v1/reports/shared/{token}", 200),
            ("DELETE", "/api/v1/firms/{ref}", 204),
            ("GET", "unmatched", 404),
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_carry_route_patterns_not_refs_or_tokens_on_sqlite() {
    let scratch = Scratch::new();
    logs_carry_route_patterns_not_refs_or_tokens(scratch.sqlite_url()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_carry_route_patterns_not_refs_or_tokens_on_postgres() {
    if let Some(url) = fresh_postgres().await {
        logs_carry_route_patterns_not_refs_or_tokens(url).await;
    }
}

/// Pretty logs written to a pipe have no colour codes, and a request actix cannot parse is
/// the client's fault: a warning, not an error.
#[test]
fn logs_to_a_pipe_are_plain_and_client_parse_errors_are_warnings() {
    let scratch = Scratch::new();
    let server = Server::start(&scratch.sqlite_url(), &["--log-format", "pretty"]);
    let mut stream = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header Line\r\n\r\n")
        .unwrap();
    let mut reply = String::new();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let _ = stream.read_to_string(&mut reply);
    assert!(reply.starts_with("HTTP/1.1 400"), "{reply}");

    let line = server.wait_for("stream error");
    assert!(line.contains("WARN"), "{line}");
    let log = server.log();
    assert!(!log.contains('\u{1b}'), "colour codes in a pipe:\n{log}");
    assert!(!log.contains("ERROR"), "{log}");
}

/// Each setting that cannot work is refused with exit code 2 and one line on standard error,
/// and the database is never created.
#[test]
fn settings_that_cannot_work_exit_2_with_one_line_before_the_database() {
    let scratch = Scratch::new();
    let database = scratch.sqlite_url();
    let bad_toml = scratch.0.join("bad.toml");
    std::fs::write(&bad_toml, "bind = \"127.0.0.1:8080\"\nworkers = \"four\n").unwrap();
    let bad_toml = bad_toml.to_str().unwrap().to_owned();
    let cases: [(&[&str], &str); 6] = [
        (&["--workers", "0"], "workers"),
        (&["--bind", "nonsense"], "bind `nonsense`"),
        (&["--share-secret", "too short"], "share_secret"),
        (&["--config", &bad_toml], "line 2"),
        (&["--body-timeout-secs", "0"], "--body-timeout-secs"),
        (&["--disclosure-threshold", "1"], "disclosure_threshold"),
    ];
    for (extra, named) in cases {
        let mut args = vec!["serve", "--database-url", &database];
        args.extend_from_slice(extra);
        let out = readiness(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{extra:?}: {stderr}");
        assert_eq!(stderr.trim_end().lines().count(), 1, "{extra:?}: {stderr}");
        assert!(stderr.contains(named), "{extra:?}: {stderr}");
        assert!(
            !scratch.0.join("readiness.db").exists(),
            "{extra:?} touched the database"
        );
    }
}

/// A PostgreSQL server that is not there is reported within seconds, with its cause.
#[test]
fn an_unreachable_database_fails_fast_with_its_cause() {
    // Nothing listens on port 1.
    let started = Instant::now();
    let out = readiness(&[
        "serve",
        "--bind",
        "127.0.0.1:0",
        "--database-url",
        "postgres://postgres@127.0.0.1:1/readiness",
    ]);
    let elapsed = started.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(elapsed < Duration::from_secs(8), "took {elapsed:?}");
    let last = stderr.trim_end().lines().last().unwrap_or_default();
    assert!(
        last.starts_with("error: cannot connect to the database"),
        "{stderr}"
    );
    assert!(last.to_lowercase().contains("refused"), "{stderr}");
}
