//! New survey versions: drafts from a definition, publication, immutability.

use readiness_api::store::entities::{audit_event, response, survey};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

use crate::helpers::{FINE_TUNE, TestApp, answers, assert_problem, pointers, submission};

fn definition(slug: &str, title: &str) -> Value {
    let mut definition: Value = serde_json::from_str(readiness_analytics::AI_READINESS_V1).unwrap();
    definition["slug"] = json!(slug);
    definition["title"] = json!(title);
    definition
}

async fn a_draft_is_hidden_until_published_and_then_scores_new_submissions(app: TestApp) {
    let before: Value = app
        .submit(&submission("v1-firm", answers(&[FINE_TUNE])), None)
        .await
        .json()
        .await
        .unwrap();

    let created = app
        .post_as(
            &app.admin_key,
            "/api/v1/surveys",
            &definition("ai-readiness", "AI adoption readiness, second edition"),
        )
        .await;
    assert_eq!(created.status(), 201);
    let draft: Value = created.json().await.unwrap();
    assert_eq!(draft["slug"], "ai-readiness");
    assert_eq!(draft["version"], 2);
    assert_eq!(draft["status"], "draft");
    assert_eq!(draft["public"], false);
    assert_eq!(draft["published_at"], Value::Null);
    assert_eq!(draft["definition"]["version"], 2);

    let listed: Value = app.get("/api/v1/surveys").await.json().await.unwrap();
    assert_eq!(listed["surveys"].as_array().unwrap().len(), 1);
    assert_problem(
        app.get("/api/v1/surveys/ai-readiness/versions/2").await,
        404,
        "not_found",
    )
    .await;
    let still_v1: Value = app
        .submit(&submission("draft-time", answers(&[])), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(still_v1["survey"]["version"], 1);

    let published = app
        .post_as(
            &app.admin_key,
            "/api/v1/surveys/ai-readiness/versions/2/publish",
            &json!(null),
        )
        .await;
    assert_eq!(published.status(), 200);
    let published: Value = published.json().await.unwrap();
    assert_eq!(published["status"], "published");
    assert!(published["published_at"].is_string());
    let latest: Value = app
        .get("/api/v1/surveys/ai-readiness")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(latest["version"], 2);
    assert_eq!(latest["title"], "AI adoption readiness, second edition");

    let after: Value = app
        .submit(&submission("v2-firm", answers(&[FINE_TUNE])), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        after["survey"],
        json!({"slug": "ai-readiness", "version": 2})
    );
    let rubric_versions: Vec<(String, String)> = response::Entity::find()
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.id.to_string(), r.rubric_version))
        .collect();
    assert!(rubric_versions.contains(&(
        after["id"].as_str().unwrap().to_owned(),
        "ai-readiness@2".to_owned()
    )));
    // A response keeps the version that scored it.
    let old: Value = app
        .get_as(
            &app.analyst_key,
            &format!("/api/v1/responses/{}", before["id"].as_str().unwrap()),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(old["survey"]["version"], 1);

    let actions: Vec<(String, String, Option<uuid::Uuid>)> = audit_event::Entity::find()
        .filter(audit_event::Column::Action.starts_with("survey."))
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.action, e.target, e.actor))
        .collect();
    assert_eq!(
        actions,
        [
            (
                "survey.create".to_owned(),
                "survey:ai-readiness@2".to_owned(),
                Some(app.admin_key_id)
            ),
            (
                "survey.publish".to_owned(),
                "survey:ai-readiness@2".to_owned(),
                Some(app.admin_key_id)
            ),
        ]
    );
}

async fn a_published_version_cannot_be_published_again(app: TestApp) {
    for path in [
        "/api/v1/surveys/ai-readiness/versions/1/publish",
        "/api/v1/surveys/ai-readiness/versions/1/publish",
    ] {
        let problem = assert_problem(
            app.post_as(&app.admin_key, path, &json!(null)).await,
            409,
            "version_immutable",
        )
        .await;
        assert_eq!(
            problem["detail"],
            "version 1 of `ai-readiness` is published; a released version cannot be changed"
        );
    }
    for path in [
        "/api/v1/surveys/ai-readiness/versions/9/publish",
        "/api/v1/surveys/ai-readiness/versions/one/publish",
        "/api/v1/surveys/nothing/versions/1/publish",
    ] {
        assert_problem(
            app.post_as(&app.admin_key, path, &json!(null)).await,
            404,
            "not_found",
        )
        .await;
    }
    let v1 = survey::Entity::find().all(&app.db).await.unwrap();
    assert_eq!(v1.len(), 1);
    assert_eq!(v1[0].status, "published");
}

async fn a_new_slug_starts_at_version_1(app: TestApp) {
    let first: Value = app
        .post_as(
            &app.admin_key,
            "/api/v1/surveys",
            &definition("pilot", "Pilot"),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(first["version"], 1);
    let second: Value = app
        .post_as(
            &app.admin_key,
            "/api/v1/surveys",
            &definition("pilot", "Pilot"),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(second["version"], 2);
}

async fn every_problem_of_an_invalid_definition_is_reported(app: TestApp) {
    let mut inconsistent = definition("broken", "Broken");
    inconsistent["questions"][0]["key"] = json!("business_age_renamed");
    inconsistent["questions"][1]["key"] = json!("business_age_renamed");
    let problem = assert_problem(
        app.post_as(&app.admin_key, "/api/v1/surveys", &inconsistent)
            .await,
        422,
        "validation_failed",
    )
    .await;
    let messages: Vec<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["message"].as_str().unwrap())
        .collect();
    assert!(messages.len() >= 2, "{messages:?}");
    assert!(
        messages.iter().any(|m| m.contains("defined twice")),
        "{messages:?}"
    );
    assert!(
        messages.iter().any(|m| m.contains("business_age")),
        "{messages:?}"
    );

    let mut no_slug = definition("x", "X");
    no_slug["slug"] = json!("Not A Slug");
    let problem = assert_problem(
        app.post_as(&app.admin_key, "/api/v1/surveys", &no_slug)
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(pointers(&problem), ["/slug"]);

    let mut wrong_shape = definition("shape", "Shape");
    wrong_shape["sections"] = json!("none");
    let problem = assert_problem(
        app.post_as(&app.admin_key, "/api/v1/surveys", &wrong_shape)
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(pointers(&problem), [""]);

    assert_eq!(survey::Entity::find().all(&app.db).await.unwrap().len(), 1);
}

crate::on_both_databases!(
    a_draft_is_hidden_until_published_and_then_scores_new_submissions,
    a_published_version_cannot_be_published_again,
    a_new_slug_starts_at_version_1,
    every_problem_of_an_invalid_definition_is_reported,
);
