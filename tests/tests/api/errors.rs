//! Every error is problem+json, names each offending field, and stores nothing.

use serde_json::{Value, json};

use crate::helpers::{FINE_TUNE, TestApp, answers, assert_problem, pointers, submission};

async fn assert_nothing_stored(app: &TestApp) {
    assert_eq!(app.response_rows().await, 0, "no response row");
    assert_eq!(app.firm_rows().await, 0, "no firm row");
}

async fn malformed_json_is_400(app: TestApp) {
    let response = app
        .send(
            app.client
                .post(app.url("/api/v1/surveys/ai-readiness/responses"))
                .bearer_auth(&app.collector_key)
                .header("content-type", "application/json")
                .body(r#"{"firm": {"ref": "acme"#),
        )
        .await;
    assert_problem(response, 400, "malformed_json").await;
    assert_nothing_stored(&app).await;
}

async fn a_body_that_is_not_json_is_415(app: TestApp) {
    let body = submission("acme", answers(&[])).to_string();
    for content_type in [
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        None,
    ] {
        let mut request = app
            .client
            .post(app.url("/api/v1/surveys/ai-readiness/responses"))
            .bearer_auth(&app.collector_key)
            .body(body.clone());
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        assert_problem(app.send(request).await, 415, "unsupported_media_type").await;
    }
    assert_nothing_stored(&app).await;
}

async fn an_unknown_survey_is_404(app: TestApp) {
    let response = app
        .send(
            app.client
                .post(app.url("/api/v1/surveys/no-such-survey/responses"))
                .bearer_auth(&app.collector_key)
                .json(&submission("acme", answers(&[]))),
        )
        .await;
    assert_problem(response, 404, "not_found").await;
    assert_nothing_stored(&app).await;
}

async fn every_invalid_field_is_named_with_a_pointer(app: TestApp) {
    let mut body = submission("acme", answers(&[FINE_TUNE]));
    body["firm"]["industry"] = json!("Z");
    body["firm"]["size_band"] = json!("huge");
    body["firm"]["country"] = json!("XX");
    body["firm"]["region"] = json!("Bavaria");
    body["answers"]["business_age"] = json!("ancient");
    body["answers"]["revenue_trend"] = json!(3);
    body["answers"]["favourite_colour"] = json!("blue");
    body["answers"]
        .as_object_mut()
        .unwrap()
        .remove("staff_ai_usage");
    body["submitted_at"] = json!("yesterday");
    body["comment"] = json!("hello");
    let problem = assert_problem(
        app.submit(&body, Some("bad-1")).await,
        422,
        "validation_failed",
    )
    .await;
    let mut found = pointers(&problem);
    found.sort();
    assert_eq!(
        found,
        [
            "/answers/business_age",
            "/answers/favourite_colour",
            "/answers/revenue_trend",
            "/answers/staff_ai_usage",
            "/comment",
            "/firm/country",
            "/firm/industry",
            "/firm/region",
            "/firm/size_band",
            "/submitted_at",
        ]
    );
    for error in problem["errors"].as_array().unwrap() {
        assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    assert_nothing_stored(&app).await;
}

async fn missing_parts_are_named(app: TestApp) {
    let problem =
        assert_problem(app.submit(&json!({}), None).await, 422, "validation_failed").await;
    assert_eq!(pointers(&problem), ["/firm", "/answers"]);
    let problem = assert_problem(
        app.submit(&json!([1, 2]), None).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(pointers(&problem), [""]);
    let problem = assert_problem(
        app.submit(&json!({"firm": {}, "answers": "all good"}), None)
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(
        pointers(&problem),
        [
            "/firm/ref",
            "/firm/industry",
            "/firm/size_band",
            "/firm/country",
            "/answers"
        ]
    );
    assert_nothing_stored(&app).await;
}

async fn a_single_body_over_64_kib_is_413(app: TestApp) {
    let mut body = submission("acme", answers(&[]));
    body["padding"] = Value::String("x".repeat(64 * 1024));
    assert_problem(app.submit(&body, None).await, 413, "payload_too_large").await;
    assert_nothing_stored(&app).await;
}

async fn a_bad_idempotency_key_is_400(app: TestApp) {
    let body = submission("acme", answers(&[]));
    let long = "k".repeat(256);
    assert_problem(
        app.submit(&body, Some(&long)).await,
        400,
        "invalid_idempotency_key",
    )
    .await;
    assert_problem(
        app.submit(&body, Some("")).await,
        400,
        "invalid_idempotency_key",
    )
    .await;
    assert_nothing_stored(&app).await;
}

crate::on_both_databases!(
    malformed_json_is_400,
    a_body_that_is_not_json_is_415,
    an_unknown_survey_is_404,
    every_invalid_field_is_named_with_a_pointer,
    missing_parts_are_named,
    a_single_body_over_64_kib_is_413,
    a_bad_idempotency_key_is_400,
);
