//! HTTP beyond the routes: `HEAD`, `405` with `Allow`, `Cache-Control` on keyed answers, and
//! the body timeout.

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use crate::helpers::{Backend, TestApp, answers, assert_problem, spawn_app_with, submission};

async fn head_answers_like_get_without_a_body(app: TestApp) {
    for (path, key) in [
        ("/api/v1/surveys", None),
        ("/healthz", None),
        ("/api/v1/surveys/ai-readiness", Some(&app.analyst_key)),
    ] {
        let get = |method: reqwest::Method| {
            let request = app.client.request(method, app.url(path));
            match key {
                Some(key) => request.bearer_auth(key),
                None => request,
            }
        };
        let full = get(reqwest::Method::GET).send().await.unwrap();
        assert_eq!(full.status(), 200, "{path}");
        let length = full.bytes().await.unwrap().len();
        let head = get(reqwest::Method::HEAD).send().await.unwrap();
        assert_eq!(head.status(), 200, "{path}");
        assert_eq!(
            head.headers()["content-length"],
            length.to_string().as_str(),
            "{path}"
        );
        assert!(head.bytes().await.unwrap().is_empty(), "{path}");
    }
}

async fn other_methods_on_a_known_path_are_405_with_allow(app: TestApp) {
    for (method, path, allow) in [
        (reqwest::Method::PUT, "/api/v1/surveys", "GET, HEAD, POST"),
        (reqwest::Method::GET, "/api/v1/firms/acme-001", "DELETE"),
        (reqwest::Method::PATCH, "/api/v1/keys", "GET, HEAD, POST"),
        (reqwest::Method::POST, "/healthz", "GET, HEAD"),
    ] {
        let reply = app
            .send(
                app.client
                    .request(method.clone(), app.url(path))
                    .bearer_auth(&app.admin_key),
            )
            .await;
        assert_eq!(reply.headers()["allow"], allow, "{method} {path}");
        assert_problem(reply, 405, "method_not_allowed").await;
    }
    assert_problem(app.get("/api/v1/nowhere").await, 404, "not_found").await;
}

async fn keyed_answers_are_not_stored_by_caches(app: TestApp) {
    // A report may be kept by the browser that asked for it, and revalidated (`ETag`).
    let report = app
        .get_as(&app.analyst_key, "/api/v1/reports/readiness")
        .await;
    assert_eq!(report.headers()["cache-control"], "private, no-cache");
    let keyed = [
        app.get_as(&app.admin_key, "/api/v1/keys").await,
        app.submit(&submission("cached", answers(&[])), None).await,
        app.get_as("rdy_not_a_key", "/api/v1/surveys").await,
    ];
    for reply in keyed {
        assert_eq!(
            reply.headers()["cache-control"],
            "no-store",
            "{}",
            reply.status()
        );
    }
    let public = app.get("/healthz").await;
    assert!(public.headers().get("cache-control").is_none());
}

crate::on_both_databases!(
    head_answers_like_get_without_a_body,
    other_methods_on_a_known_path_are_405_with_allow,
    keyed_answers_are_not_stored_by_caches,
);

/// A body sent one byte every 2 s is cut at the body timeout (3 s here): `408`, the
/// connection closed, nothing stored.
async fn a_trickling_body_is_cut(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |settings| {
        settings.body_timeout = Duration::from_secs(3);
    })
    .await
    else {
        return;
    };
    let address = app.address.trim_start_matches("http://").to_owned();
    let key = app.collector_key.clone();
    let (reply, elapsed) = tokio::task::spawn_blocking(move || {
        let mut stream = std::net::TcpStream::connect(address).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        let head = format!(
            "POST /api/v1/surveys/ai-readiness/responses HTTP/1.1\r\nHost: x\r\n\
             Authorization: Bearer {key}\r\nContent-Type: application/json\r\n\
             Content-Length: 1000\r\n\r\n"
        );
        stream.write_all(head.as_bytes()).unwrap();
        let started = Instant::now();
        let mut reply = Vec::new();
        let mut buffer = [0; 4096];
        let mut next_byte = Instant::now();
        while started.elapsed() < Duration::from_secs(20) {
            if Instant::now() >= next_byte {
                // A write after the server closed may fail; the reply is what counts.
                let _ = stream.write_all(b" ");
                next_byte += Duration::from_secs(2);
            }
            match stream.read(&mut buffer) {
                Ok(0) => break,
                Ok(n) => reply.extend_from_slice(&buffer[..n]),
                Err(e)
                    if e.kind() == std::io::ErrorKind::WouldBlock
                        || e.kind() == std::io::ErrorKind::TimedOut => {}
                Err(_) => break,
            }
        }
        (
            String::from_utf8_lossy(&reply).into_owned(),
            started.elapsed(),
        )
    })
    .await
    .unwrap();
    assert!(reply.starts_with("HTTP/1.1 408"), "{reply}");
    assert!(reply.contains("request_timeout"), "{reply}");
    assert!(
        elapsed < Duration::from_secs(8),
        "the connection was held for {elapsed:?}"
    );
    assert_eq!(app.response_rows().await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trickling_body_is_cut_on_sqlite() {
    a_trickling_body_is_cut(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trickling_body_is_cut_on_postgres() {
    a_trickling_body_is_cut(Backend::Postgres).await;
}
