//! What a submission stores and what can be read back.

use chrono::{DateTime, Duration, Utc};
use readiness_api::store::entities::{firm, response};
use sea_orm::EntityTrait;
use serde_json::{Value, json};

use crate::helpers::{FINE_TUNE, TestApp, answers, assert_problem, submission};

async fn a_submission_is_stored_with_its_segment_and_assessment(app: TestApp) {
    let body = submission("acme-001", answers(&[FINE_TUNE]));
    let response = app.submit(&body, None).await;
    assert_eq!(response.status().as_u16(), 201);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let reply: Value = response.json().await.unwrap();
    let id = reply["id"].as_str().unwrap().to_owned();
    assert_eq!(location, format!("/api/v1/responses/{id}"));
    assert_eq!(
        reply["survey"],
        json!({"slug": "ai-readiness", "version": 1})
    );
    assert_eq!(reply["firm_ref"], "acme-001");
    assert_eq!(reply["submitted_at"], "2026-10-01T12:00:00Z");

    let rows = response::Entity::find().all(&app.db).await.unwrap();
    assert_eq!(rows.len(), 1);
    let row = &rows[0];
    assert_eq!(row.id.to_string(), id);
    assert_eq!(
        (
            row.industry.as_str(),
            row.size_band.as_str(),
            row.country.as_str(),
            row.region.as_deref()
        ),
        ("C", "small", "DE", Some("DE-BY"))
    );
    assert_eq!(row.tier, "fine_tune");
    assert_eq!(row.tier_rank, 3);
    assert!(row.ready_to_customise);
    assert_eq!(row.rubric_version, "ai-readiness@1");
    assert_eq!(row.source, "api");
    assert_eq!(row.answers, body["answers"]);
    assert_eq!(row.blockers.as_array().unwrap().len(), 5);
    assert_eq!(
        row.submitted_at,
        "2026-10-01T12:00:00Z".parse::<DateTime<Utc>>().unwrap()
    );
    let firms = firm::Entity::find().all(&app.db).await.unwrap();
    assert_eq!(firms.len(), 1);
    assert_eq!(firms[0].external_ref, "acme-001");
    assert_eq!(firms[0].id, row.firm_id);

    let stored = app.get_as(&app.analyst_key, &location).await;
    assert_eq!(stored.status().as_u16(), 200);
    let stored: Value = stored.json().await.unwrap();
    for field in [
        "id",
        "survey",
        "firm_ref",
        "submitted_at",
        "tier",
        "ready_to_customise",
        "next_tier",
        "blockers",
        "dimension_scores",
    ] {
        assert_eq!(stored[field], reply[field], "{field}");
    }
    assert_eq!(stored["answers"], body["answers"]);
    assert_eq!(stored["firm"], body["firm"]);
    assert_eq!(stored["source"], "api");
}

async fn a_firm_answering_again_keeps_one_firm_row_and_both_responses(app: TestApp) {
    let first = submission("acme-002", answers(&[]));
    assert_eq!(app.submit(&first, None).await.status().as_u16(), 201);
    let mut second = submission("acme-002", answers(&[FINE_TUNE]));
    second["firm"]["size_band"] = json!("medium");
    second["submitted_at"] = json!("2026-11-01T12:00:00Z");
    assert_eq!(app.submit(&second, None).await.status().as_u16(), 201);

    assert_eq!(app.response_rows().await, 2);
    let firms = firm::Entity::find().all(&app.db).await.unwrap();
    assert_eq!(firms.len(), 1);
    assert_eq!(firms[0].size_band, "medium");
    let mut bands: Vec<String> = response::Entity::find()
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.size_band)
        .collect();
    bands.sort();
    assert_eq!(
        bands,
        ["medium", "small"],
        "each response keeps its attributes as submitted"
    );
}

async fn submitted_at_defaults_to_now_and_may_not_lie_in_the_future(app: TestApp) {
    let mut body = submission("clock-1", answers(&[]));
    body.as_object_mut().unwrap().remove("submitted_at");
    let before = Utc::now() - Duration::seconds(1);
    let reply: Value = app.submit(&body, None).await.json().await.unwrap();
    let at: DateTime<Utc> = reply["submitted_at"].as_str().unwrap().parse().unwrap();
    assert!(at >= before && at <= Utc::now() + Duration::seconds(1));

    let mut near = submission("clock-2", answers(&[]));
    near["submitted_at"] = json!((Utc::now() + Duration::minutes(4)).to_rfc3339());
    assert_eq!(app.submit(&near, None).await.status().as_u16(), 201);

    let mut far = submission("clock-3", answers(&[]));
    far["submitted_at"] = json!((Utc::now() + Duration::minutes(6)).to_rfc3339());
    let problem = assert_problem(app.submit(&far, None).await, 422, "validation_failed").await;
    assert_eq!(crate::helpers::pointers(&problem), ["/submitted_at"]);
    assert_eq!(app.response_rows().await, 2);
}

async fn unknown_response_ids_are_404(app: TestApp) {
    assert_problem(
        app.get_as(
            &app.analyst_key,
            "/api/v1/responses/0192f0c1-0000-7000-8000-000000000000",
        )
        .await,
        404,
        "not_found",
    )
    .await;
    assert_problem(
        app.get_as(&app.analyst_key, "/api/v1/responses/not-a-uuid")
            .await,
        404,
        "not_found",
    )
    .await;
}

crate::on_both_databases!(
    a_submission_is_stored_with_its_segment_and_assessment,
    a_firm_answering_again_keeps_one_firm_row_and_both_responses,
    submitted_at_defaults_to_now_and_may_not_lie_in_the_future,
    unknown_response_ids_are_404,
);
