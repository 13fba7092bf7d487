use serde_json::Value;

use crate::helpers::{TestApp, assert_problem};

async fn the_builtin_survey_is_listed(app: TestApp) {
    let response = app.get("/api/v1/surveys").await;
    assert_eq!(response.status().as_u16(), 200);
    let body: Value = response.json().await.unwrap();
    let surveys = body["surveys"].as_array().unwrap();
    assert_eq!(surveys.len(), 1);
    assert_eq!(surveys[0]["slug"], "ai-readiness");
    assert_eq!(surveys[0]["version"], 1);
    assert_eq!(surveys[0]["status"], "published");
    assert!(surveys[0]["published_at"].is_string());
}

async fn the_latest_version_carries_the_whole_definition(app: TestApp) {
    let latest: Value = app
        .get("/api/v1/surveys/ai-readiness")
        .await
        .json()
        .await
        .unwrap();
    let pinned_response = app.get("/api/v1/surveys/ai-readiness/versions/1").await;
    assert_eq!(pinned_response.status().as_u16(), 200);
    let pinned: Value = pinned_response.json().await.unwrap();
    assert_eq!(latest, pinned);

    let definition = &latest["definition"];
    let questions = definition["questions"].as_array().unwrap();
    assert_eq!(questions.len(), 14);
    assert_eq!(questions[0]["key"], "business_age");
    assert_eq!(questions[0]["section"], "maturity");
    let options: Vec<&str> = questions[0]["options"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["key"].as_str().unwrap())
        .collect();
    assert_eq!(options, ["lt_1y", "1_3y", "3_5y", "gt_5y"]);
    assert!(questions[0]["options"][0]["label"].is_string());
    let tiers: Vec<&str> = definition["tiers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["key"].as_str().unwrap())
        .collect();
    assert_eq!(
        tiers,
        ["vendor_prompting", "vendor_rag", "fine_tune", "own_model"]
    );
    assert_eq!(definition["sections"].as_array().unwrap().len(), 5);
}

async fn unknown_surveys_and_versions_are_404(app: TestApp) {
    assert_problem(
        app.get("/api/v1/surveys/no-such-survey").await,
        404,
        "not_found",
    )
    .await;
    assert_problem(
        app.get("/api/v1/surveys/ai-readiness/versions/2").await,
        404,
        "not_found",
    )
    .await;
    assert_problem(
        app.get("/api/v1/surveys/ai-readiness/versions/one").await,
        404,
        "not_found",
    )
    .await;
}

crate::on_both_databases!(
    the_builtin_survey_is_listed,
    the_latest_version_carries_the_whole_definition,
    unknown_surveys_and_versions_are_404,
);
