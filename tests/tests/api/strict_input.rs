//! Input that looks harmless but is not accepted: each is a `422` naming the field, and
//! nothing is stored. Pointers escape `~` and `/` (RFC 6901).

use serde_json::{Value, json};

use crate::helpers::{TestApp, answers, assert_problem, pointers, submission};

const RESPONSES: &str = "/api/v1/surveys/ai-readiness/responses";

/// Asserts a `422` naming exactly `expected`; returns nothing stored so far as a check.
async fn refused(app: &TestApp, reply: crate::helpers::Reply, expected: &[&str]) {
    let problem = assert_problem(reply, 422, "validation_failed").await;
    assert_eq!(pointers(&problem), expected, "{problem}");
    assert_eq!(app.response_rows().await, 0);
}

fn with(mut body: Value, pointer: &str, value: Value) -> Value {
    *body.pointer_mut(pointer).unwrap() = value;
    body
}

async fn submitted_at_before_2000_or_a_leap_second_is_refused(app: TestApp) {
    let base = submission("dated", answers(&[]));
    for at in [
        "0001-01-01T00:00:00Z",
        "1900-06-01T00:00:00Z",
        "1999-12-31T23:59:59.999999Z",
        "2016-12-31T23:59:60Z",
        "2016-12-31T23:59:60.5+00:00",
    ] {
        let body = with(base.clone(), "/submitted_at", json!(at));
        refused(&app, app.submit(&body, None).await, &["/submitted_at"]).await;
    }
    let earliest = with(base, "/submitted_at", json!("2000-01-01T00:00:00Z"));
    let stored = app.submit(&earliest, None).await;
    assert_eq!(stored.status(), 201);
    let body: Value = stored.json().await.unwrap();
    assert_eq!(body["submitted_at"], "2000-01-01T00:00:00Z");
}

async fn a_key_given_twice_in_a_body_is_refused(app: TestApp) {
    let answers = answers(&[]).to_string();
    let text = format!(
        r#"{{"firm": {{"ref": "first", "industry": "C", "size_band": "small", "country": "DE", "ref": "second"}}, "answers": {answers}}}"#
    );
    let reply = app
        .send(
            app.client
                .post(app.url(RESPONSES))
                .bearer_auth(&app.collector_key)
                .header("content-type", "application/json")
                .body(text),
        )
        .await;
    refused(&app, reply, &["/firm/ref"]).await;
}

async fn two_idempotency_keys_are_refused(app: TestApp) {
    let reply = app
        .send(
            app.client
                .post(app.url(RESPONSES))
                .bearer_auth(&app.collector_key)
                .header("Idempotency-Key", "one")
                .header("Idempotency-Key", "two")
                .json(&submission("twice", answers(&[]))),
        )
        .await;
    refused(&app, reply, &["Idempotency-Key"]).await;
}

async fn refs_with_invisible_or_lookalike_characters_are_refused(app: TestApp) {
    for firm_ref in [
        "acme\u{202E}100",  // right-to-left override
        "acme\u{200B}-001", // zero-width space
        "acme\u{2066}",     // left-to-right isolate
        "ａｃｍｅ-001",     // full-width letters
        "acme-００1",       // full-width digits
    ] {
        let body = submission(firm_ref, answers(&[]));
        refused(&app, app.submit(&body, None).await, &["/firm/ref"]).await;
    }
    let plain = app
        .submit(&submission("Müller-北京-001", answers(&[])), None)
        .await;
    assert_eq!(plain.status(), 201);
}

async fn a_region_must_be_a_subdivision_of_the_country(app: TestApp) {
    let base = submission("regional", answers(&[]));
    for (country, region) in [
        ("DE", "DE-ZZ"),
        ("DE", "FR-IDF"),
        ("FR", "FR-XYZ"),
        ("DE", "DE-1"),
    ] {
        let body = with(
            with(base.clone(), "/firm/country", json!(country)),
            "/firm/region",
            json!(region),
        );
        refused(&app, app.submit(&body, None).await, &["/firm/region"]).await;
    }
    let body = with(
        with(base, "/firm/country", json!("FR")),
        "/firm/region",
        json!("FR-IDF"),
    );
    assert_eq!(app.submit(&body, None).await.status(), 201);
}

async fn nul_in_admin_input_is_422_naming_it(app: TestApp) {
    let keys = |app: &TestApp| {
        let db = app.db.clone();
        async move {
            use sea_orm::{EntityTrait, PaginatorTrait};
            readiness_api::store::entities::api_key::Entity::find()
                .count(&db)
                .await
                .unwrap()
        }
    };
    let before = keys(&app).await;
    let reply = app
        .post_as(
            &app.admin_key,
            "/api/v1/keys",
            &json!({"name": "ops\u{0}", "role": "viewer"}),
        )
        .await;
    let problem = assert_problem(reply, 422, "validation_failed").await;
    assert_eq!(pointers(&problem), ["/name"]);
    assert_eq!(keys(&app).await, before);

    let reply = app.delete_as(&app.admin_key, "/api/v1/firms/acme%00").await;
    let problem = assert_problem(reply, 422, "validation_failed").await;
    assert_eq!(pointers(&problem), ["/path"]);

    let reply = app
        .get_as(&app.admin_key, "/api/v1/audit?action=key.create%00")
        .await;
    let problem = assert_problem(reply, 422, "validation_failed").await;
    assert_eq!(pointers(&problem), ["/query/action"]);

    let body = with(
        submission("nul", answers(&[])),
        "/firm/region",
        json!("DE-BY\u{0}"),
    );
    let problem = assert_problem(app.submit(&body, None).await, 422, "validation_failed").await;
    assert!(pointers(&problem).contains(&"/firm/region".to_owned()));
}

async fn pointers_escape_tilde_and_slash(app: TestApp) {
    let mut body = submission("escaped", answers(&[]));
    body["firm"]["a/b"] = json!(1);
    body["x~y"] = json!(1);
    body["answers"]["q/1"] = json!("x");
    let problem = assert_problem(app.submit(&body, None).await, 422, "validation_failed").await;
    let mut found = pointers(&problem);
    found.sort();
    assert_eq!(found, ["/answers/q~11", "/firm/a~1b", "/x~0y"]);

    let reply = app
        .get_as(&app.analyst_key, "/api/v1/reports/readiness?a/b=1")
        .await;
    let problem = assert_problem(reply, 422, "validation_failed").await;
    assert_eq!(pointers(&problem), ["/query/a~1b"]);
}

crate::on_both_databases!(
    submitted_at_before_2000_or_a_leap_second_is_refused,
    a_key_given_twice_in_a_body_is_refused,
    two_idempotency_keys_are_refused,
    refs_with_invisible_or_lookalike_characters_are_refused,
    a_region_must_be_a_subdivision_of_the_country,
    nul_in_admin_input_is_422_naming_it,
    pointers_escape_tilde_and_slash,
);
