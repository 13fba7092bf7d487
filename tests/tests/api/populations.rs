//! Population margins and weighted reports.

use readiness_api::store::entities::audit_event;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};

use crate::helpers::{Reply, TestApp, answers, assert_problem, pointers};

async fn post(app: &TestApp, body: &Value) -> Reply {
    app.post_as(&app.admin_key, "/api/v1/populations", body)
        .await
}

async fn margins_are_stored_listed_and_replaced(app: TestApp) {
    let audited_before = audit_rows(&app).await;
    let body = json!({"name": "eu-2024", "margins": {"size_band": {"micro": 900, "small": 100}}});
    let created = post(&app, &body).await;
    assert_eq!(created.status().as_u16(), 201);
    let created: Value = created.json().await.unwrap();
    assert_eq!(
        created["margins"],
        json!({"size_band": {"micro": 900.0, "small": 100.0}})
    );

    let replaced = post(
        &app,
        &json!({"name": "eu-2024", "margins": {"size_band": {"micro": 1, "small": 1}}}),
    )
    .await;
    assert_eq!(replaced.status().as_u16(), 200);
    let list: Value = app
        .get_as(&app.analyst_key, "/api/v1/populations")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["populations"].as_array().unwrap().len(), 1);
    assert_eq!(list["populations"][0]["margins"]["size_band"]["micro"], 1.0);
    let events: Vec<audit_event::Model> = audit_event::Entity::find()
        .filter(audit_event::Column::Action.eq("population.save"))
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(events.len(), 2, "each save is audited");
    assert_eq!(events[0].target, "population:eu-2024");
    assert_eq!(events[0].actor, Some(app.admin_key_id));
    assert_eq!(audit_rows(&app).await, audited_before + 2);
}

async fn audit_rows(app: &TestApp) -> u64 {
    audit_event::Entity::find().count(&app.db).await.unwrap()
}

async fn invalid_margins_are_422_and_not_stored(app: TestApp) {
    let body = json!({"name": "Bad Name", "margins": {"size_band": {"huge": 3, "micro": -1}, "colour": {"red": 1}}, "extra": 1});
    let problem = assert_problem(post(&app, &body).await, 422, "validation_failed").await;
    let mut found = pointers(&problem);
    found.sort();
    assert_eq!(
        found,
        [
            "/extra",
            "/margins/colour",
            "/margins/size_band/huge",
            "/margins/size_band/micro",
            "/name"
        ]
    );
    let list: Value = app
        .get_as(&app.analyst_key, "/api/v1/populations")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["populations"], json!([]));
}

async fn weighted_reports_rake_to_the_margins(app: TestApp) {
    // Six small firms at the lowest tier, three micro firms at fine_tune.
    let mut items = Vec::new();
    for n in 0..6 {
        items.push(json!({"firm": {"ref": format!("s{n}"), "industry": "C", "size_band": "small", "country": "DE"}, "answers": answers(&[])}));
    }
    for n in 0..3 {
        items.push(json!({"firm": {"ref": format!("m{n}"), "industry": "C", "size_band": "micro", "country": "DE"}, "answers": answers(&[crate::helpers::FINE_TUNE])}));
    }
    let stored: Value = app
        .submit_batch(&json!({"responses": items}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(stored["created"], 9);
    assert_eq!(
        post(
            &app,
            &json!({"name": "even", "margins": {"size_band": {"micro": 50, "small": 50}}})
        )
        .await
        .status()
        .as_u16(),
        201
    );

    let body: Value = app
        .get_as(&app.analyst_key, "/api/v1/reports/readiness?weights=even")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["weights"], "even");
    let weighted = &body["overall"]["weighted"];
    // Weights: small 0.75, micro 1.5 → ready share 0.5; n_eff = 81 / 10.125 = 8.
    assert!((weighted["ready_to_customise"]["share"].as_f64().unwrap() - 0.5).abs() < 1e-9);
    assert!((weighted["n_eff"].as_f64().unwrap() - 8.0).abs() < 1e-9);
    assert!(
        (body["overall"]["ready_to_customise"]["share"]
            .as_f64()
            .unwrap()
            - 1.0 / 3.0)
            .abs()
            < 1e-12
    );

    assert_eq!(
        post(
            &app,
            &json!({"name": "micro-only", "margins": {"size_band": {"micro": 50}}})
        )
        .await
        .status()
        .as_u16(),
        201
    );
    let problem = assert_problem(
        app.get_as(
            &app.analyst_key,
            "/api/v1/reports/readiness?weights=micro-only",
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(pointers(&problem), ["/query/weights"]);
    let problem = assert_problem(
        app.get_as(
            &app.analyst_key,
            "/api/v1/reports/readiness?weights=unknown",
        )
        .await,
        404,
        "not_found",
    )
    .await;
    assert_eq!(pointers(&problem), ["/query/weights"]);
}

crate::on_both_databases!(
    margins_are_stored_listed_and_replaced,
    invalid_margins_are_422_and_not_stored,
    weighted_reports_rake_to_the_margins,
);
