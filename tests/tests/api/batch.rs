//! Batch submission: a result per item, valid items stored even when others fail.

use serde_json::{Value, json};

use crate::helpers::{FINE_TUNE, TestApp, answers, assert_problem, pointers, submission};

fn item(firm: &str, answers: Value, key: Option<&str>) -> Value {
    let mut item = submission(firm, answers);
    if let Some(key) = key {
        item["idempotency_key"] = json!(key);
    }
    item
}

async fn a_mixed_batch_stores_the_valid_items_and_reports_each(app: TestApp) {
    let mut invalid = item("b-bad", answers(&[]), Some("b-3"));
    invalid["answers"]["business_age"] = json!("ancient");
    invalid["firm"]["country"] = json!("EL");
    let batch = json!({"responses": [
        item("b-1", answers(&[]), Some("b-1")),
        item("b-2", answers(&[FINE_TUNE]), None),
        invalid,
        item("b-4", answers(&[FINE_TUNE]), Some("b-1")),
        item("b-5", answers(&[]), Some("b-5")),
    ]});
    let response = app.submit_batch(&batch).await;
    assert_eq!(response.status().as_u16(), 200);
    let body: Value = response.json().await.unwrap();
    let statuses: Vec<u64> = body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_u64().unwrap())
        .collect();
    assert_eq!(statuses, [201, 201, 422, 422, 201]);
    let indexes: Vec<u64> = body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["index"].as_u64().unwrap())
        .collect();
    assert_eq!(indexes, [0, 1, 2, 3, 4]);
    assert_eq!(
        (
            body["created"].as_u64(),
            body["replayed"].as_u64(),
            body["rejected"].as_u64()
        ),
        (Some(3), Some(0), Some(2))
    );
    assert_eq!(body["results"][1]["tier"], "fine_tune");
    assert!(body["results"][0]["id"].is_string());
    assert_eq!(
        pointers(&body["results"][2]),
        [
            "/responses/2/firm/country",
            "/responses/2/answers/business_age"
        ]
    );
    assert_eq!(
        pointers(&body["results"][3]),
        ["/responses/3/idempotency_key"]
    );
    assert_eq!(app.response_rows().await, 3);

    // Retrying the whole batch stores nothing new for keyed items.
    let retry: Value = app.submit_batch(&batch).await.json().await.unwrap();
    let statuses: Vec<u64> = retry["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_u64().unwrap())
        .collect();
    assert_eq!(statuses, [200, 201, 422, 422, 200]);
    assert_eq!(retry["results"][0]["id"], body["results"][0]["id"]);
    assert_eq!(
        app.response_rows().await,
        4,
        "only the unkeyed item is stored again"
    );

    let stored: Value = app
        .get_as(
            &app.analyst_key,
            &format!(
                "/api/v1/responses/{}",
                body["results"][4]["id"].as_str().unwrap()
            ),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(stored["source"], "batch");
}

async fn a_batch_item_and_a_single_submission_share_keys(app: TestApp) {
    let single = submission("shared", answers(&[FINE_TUNE]));
    let created: Value = app
        .submit(&single, Some("shared-key"))
        .await
        .json()
        .await
        .unwrap();
    let batch = json!({"responses": [item("shared", answers(&[FINE_TUNE]), Some("shared-key"))]});
    let body: Value = app.submit_batch(&batch).await.json().await.unwrap();
    assert_eq!(body["results"][0]["status"], 200);
    assert_eq!(body["results"][0]["id"], created["id"]);
    assert_eq!(app.response_rows().await, 1);
}

async fn more_than_1000_items_is_413(app: TestApp) {
    let one = item("many", answers(&[]), None);
    let batch = json!({"responses": vec![one; 1001]});
    assert_problem(app.submit_batch(&batch).await, 413, "too_many_items").await;
    assert_eq!(app.response_rows().await, 0);
}

async fn a_batch_body_over_4_mib_is_413(app: TestApp) {
    let batch = json!({"responses": [], "padding": "x".repeat(4 * 1024 * 1024)});
    assert_problem(app.submit_batch(&batch).await, 413, "payload_too_large").await;
    assert_eq!(app.response_rows().await, 0);
}

async fn a_batch_without_a_responses_array_is_422(app: TestApp) {
    let problem = assert_problem(
        app.submit_batch(&json!({"items": []})).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(pointers(&problem), ["/items", "/responses"]);
    assert_eq!(app.response_rows().await, 0);
}

async fn a_full_batch_of_1000_is_accepted(app: TestApp) {
    let responses: Vec<Value> = (0..1000)
        .map(|n| item(&format!("firm-{n}"), answers(&[]), Some(&format!("k-{n}"))))
        .collect();
    let body: Value = app
        .submit_batch(&json!({"responses": responses}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["created"], 1000);
    assert_eq!(app.response_rows().await, 1000);
    assert_eq!(app.firm_rows().await, 1000);
}

crate::on_both_databases!(
    a_mixed_batch_stores_the_valid_items_and_reports_each,
    a_batch_item_and_a_single_submission_share_keys,
    more_than_1000_items_is_413,
    a_batch_body_over_4_mib_is_413,
    a_batch_without_a_responses_array_is_422,
    a_full_batch_of_1000_is_accepted,
);
