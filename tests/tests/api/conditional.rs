//! Conditional GET: strong `ETag`s on reports, report pages, survey definitions and exports,
//! and `304` without a body and without recomputing the report.

use reqwest::Method;
use serde_json::Value;

use crate::helpers::{FINE_TUNE, TestApp, answers, submission};

const READINESS: &str = "/api/v1/reports/readiness";

/// A GET (or HEAD) with an optional key and an optional `If-None-Match`.
async fn conditional(
    app: &TestApp,
    method: Method,
    key: Option<&str>,
    path: &str,
    if_none_match: Option<&str>,
) -> crate::helpers::Reply {
    let head = method == Method::HEAD;
    let mut request = app.client.request(method, app.url(path));
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    if let Some(tags) = if_none_match {
        request = request.header("If-None-Match", tags);
    }
    if head {
        // The document lists `GET`; a `HEAD` answers as it does, without the body.
        let response = request.send().await.unwrap();
        return crate::helpers::Reply::checked("GET", path, response).await;
    }
    app.send(request).await
}

fn etag(reply: &crate::helpers::Reply) -> String {
    let value = reply.headers()["etag"].to_str().unwrap().to_owned();
    let opaque = value.strip_prefix("W/").unwrap_or(&value);
    assert!(
        opaque.starts_with('"') && opaque.ends_with('"') && opaque.len() > 2,
        "an entity tag: {value}"
    );
    value
}

/// How many readiness reports the server has computed, from its own metrics.
async fn readiness_computations(app: &TestApp) -> f64 {
    let text = app.get("/metrics").await.text().await.unwrap();
    text.lines()
        .find_map(|line| {
            line.strip_prefix("readiness_report_duration_seconds_count{report=\"readiness\"} ")
        })
        .map_or(0.0, |value| value.parse().unwrap())
}

async fn seed(app: &TestApp, refs: &[&str]) {
    for firm in refs {
        let reply = app
            .submit(&submission(firm, answers(&[FINE_TUNE])), None)
            .await;
        assert_eq!(reply.status(), 201);
    }
}

async fn a_report_revalidates_with_304_and_no_recomputation(app: TestApp) {
    seed(&app, &["c-1", "c-2", "c-3"]).await;
    let key = Some(app.analyst_key.as_str());
    let first = conditional(&app, Method::GET, key, READINESS, None).await;
    assert_eq!(first.status(), 200);
    assert_eq!(first.headers()["cache-control"], "private, no-cache");
    let tag = etag(&first);
    let body: Value = first.json().await.unwrap();

    // The same data and the same parameters, spelt differently: the same tag and body.
    let again = conditional(
        &app,
        Method::GET,
        key,
        &format!("{READINESS}?basis=latest&survey=ai-readiness"),
        None,
    )
    .await;
    assert_eq!(etag(&again), tag);
    assert_eq!(again.json::<Value>().await.unwrap(), body);
    // Other parameters, another representation.
    let by_size = conditional(
        &app,
        Method::GET,
        key,
        &format!("{READINESS}?by=size_band"),
        None,
    )
    .await;
    assert_eq!(by_size.status(), 200);
    assert_ne!(etag(&by_size), tag);

    let computed = readiness_computations(&app).await;
    for tags in [
        tag.clone(),
        format!("\"something else\", W/{tag}"),
        "*".to_owned(),
    ] {
        let unchanged = conditional(&app, Method::GET, key, READINESS, Some(&tags)).await;
        assert_eq!(unchanged.status(), 304, "{tags}");
        assert_eq!(etag(&unchanged), tag);
        assert_eq!(unchanged.headers()["cache-control"], "private, no-cache");
        assert!(unchanged.bytes().await.unwrap().is_empty());
    }
    let head = conditional(&app, Method::HEAD, key, READINESS, Some(&tag)).await;
    assert_eq!(head.status(), 304);
    assert_eq!(etag(&head), tag);
    assert_eq!(
        readiness_computations(&app).await,
        computed,
        "a 304 computes no report"
    );
    // A tag that does not match gets the report, computed.
    let other = conditional(&app, Method::GET, key, READINESS, Some("\"stale\"")).await;
    assert_eq!(other.status(), 200);
    assert_eq!(etag(&other), tag);
    assert_eq!(readiness_computations(&app).await, computed + 1.0);

    // A new submission changes the data version: the old tag no longer matches.
    seed(&app, &["c-4"]).await;
    let changed = conditional(&app, Method::GET, key, READINESS, Some(&tag)).await;
    assert_eq!(changed.status(), 200);
    let new_tag = etag(&changed);
    assert_ne!(new_tag, tag);
    assert_ne!(changed.json::<Value>().await.unwrap(), body);
    let head = conditional(&app, Method::HEAD, key, READINESS, Some(&new_tag)).await;
    assert_eq!(head.status(), 304);
}

async fn every_report_page_and_definition_answers_304(app: TestApp) {
    seed(&app, &["p-1", "p-2"]).await;
    let shared: Value = app
        .send(
            app.client
                .post(app.url("/api/v1/reports/share?by=industry"))
                .bearer_auth(&app.analyst_key),
        )
        .await
        .json()
        .await
        .unwrap();
    let shared_url = shared["url"].as_str().unwrap().to_owned();
    let analyst = Some(app.analyst_key.as_str());
    for (key, path, cache_control) in [
        (
            analyst,
            "/api/v1/reports/trend?interval=quarter",
            "private, no-cache",
        ),
        (analyst, "/api/v1/reports/blockers", "private, no-cache"),
        (
            analyst,
            "/api/v1/reports/change?baseline_from=2026-01-01&baseline_to=2026-06-30\
             &followup_from=2026-07-01&followup_to=2026-12-31",
            "private, no-cache",
        ),
        (
            analyst,
            "/api/v1/reports/readiness.html",
            "private, no-cache",
        ),
        (None, shared_url.as_str(), "private, no-cache"),
        (None, "/api/v1/surveys", "no-cache"),
        (None, "/api/v1/surveys/ai-readiness", "no-cache"),
        (
            analyst,
            "/api/v1/surveys/ai-readiness/versions/1",
            "no-cache",
        ),
        (
            analyst,
            "/api/v1/exports/responses?format=ndjson",
            "no-store",
        ),
    ] {
        let full = conditional(&app, Method::GET, key, path, None).await;
        assert_eq!(full.status(), 200, "{path}");
        assert_eq!(full.headers()["cache-control"], cache_control, "{path}");
        let tag = etag(&full);
        // A page states when it was drawn, so its tag is weak; every other one is strong.
        let page = path.contains(".html") || path.contains("/shared/");
        assert_eq!(tag.starts_with("W/"), page, "{path}");
        assert!(!full.bytes().await.unwrap().is_empty(), "{path}");
        let unchanged = conditional(&app, Method::GET, key, path, Some(&tag)).await;
        assert_eq!(unchanged.status(), 304, "{path}");
        assert_eq!(etag(&unchanged), tag, "{path}");
        assert_eq!(
            unchanged.headers()["cache-control"],
            cache_control,
            "{path}"
        );
        assert!(unchanged.bytes().await.unwrap().is_empty(), "{path}");
        let head = conditional(&app, Method::HEAD, key, path, Some(&tag)).await;
        assert_eq!(head.status(), 304, "{path}");
        let stale = conditional(&app, Method::GET, key, path, Some("\"stale\"")).await;
        assert_eq!(stale.status(), 200, "{path}");
        assert_eq!(etag(&stale), tag, "{path}");
    }
}

async fn exports_and_definitions_change_their_tag_when_the_data_does(app: TestApp) {
    seed(&app, &["e-1"]).await;
    let export = "/api/v1/exports/responses";
    let key = Some(app.analyst_key.as_str());
    let before = etag(&conditional(&app, Method::GET, key, export, None).await);
    let csv_tag = etag(
        &conditional(
            &app,
            Method::GET,
            key,
            &format!("{export}?format=csv"),
            None,
        )
        .await,
    );
    assert_eq!(csv_tag, before, "csv is the default format");
    let pseudonymised = conditional(
        &app,
        Method::GET,
        key,
        &format!("{export}?pseudonymise=true"),
        None,
    )
    .await;
    assert_ne!(etag(&pseudonymised), before);
    seed(&app, &["e-2"]).await;
    let after = conditional(&app, Method::GET, key, export, Some(&before)).await;
    assert_eq!(after.status(), 200);
    assert_ne!(etag(&after), before);
    assert_eq!(after.text().await.unwrap().lines().count(), 3);

    let surveys = etag(&conditional(&app, Method::GET, None, "/api/v1/surveys", None).await);
    let made_public = app.set_public(true).await;
    assert_eq!(made_public.status(), 200);
    let listed = conditional(&app, Method::GET, None, "/api/v1/surveys", Some(&surveys)).await;
    assert_eq!(listed.status(), 200);
    assert_ne!(etag(&listed), surveys);
    assert_eq!(
        listed.json::<Value>().await.unwrap()["surveys"][0]["public"],
        true
    );
    // `*` on a survey that does not exist is the 404 it would be without the header.
    let missing = conditional(
        &app,
        Method::GET,
        None,
        "/api/v1/surveys/nothing",
        Some("*"),
    )
    .await;
    assert_eq!(missing.status(), 404);
}

crate::on_both_databases!(
    a_report_revalidates_with_304_and_no_recomputation,
    every_report_page_and_definition_answers_304,
    exports_and_definitions_change_their_tag_when_the_data_does,
);
