//! Erasing a firm removes it and every response of it, in one audited transaction.

use readiness_api::store::entities::{audit_event, firm, response};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

use crate::helpers::{FINE_TUNE, TestApp, answers, assert_problem, submission};

async fn erasing_a_firm_removes_it_and_all_its_responses(app: TestApp) {
    let mut ids = Vec::new();
    for (firm_ref, overrides) in [("gone", &[][..]), ("gone", FINE_TUNE), ("kept", &[][..])] {
        let reply: Value = app
            .submit(&submission(firm_ref, answers(&[overrides])), None)
            .await
            .json()
            .await
            .unwrap();
        ids.push(reply["id"].as_str().unwrap().to_owned());
    }
    let gone_id = firm::Entity::find()
        .filter(firm::Column::ExternalRef.eq("gone"))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap()
        .id;

    let erased = app
        .send(
            app.client
                .delete(app.url("/api/v1/firms/gone"))
                .bearer_auth(&app.admin_key)
                .header("X-Request-Id", "erase-gone"),
        )
        .await;
    assert_eq!(erased.status(), 204);

    let firms: Vec<String> = firm::Entity::find()
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|f| f.external_ref)
        .collect();
    assert_eq!(firms, ["kept"]);
    let left = response::Entity::find().all(&app.db).await.unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].id.to_string(), ids[2]);
    for id in &ids[..2] {
        assert_problem(
            app.get_as(&app.analyst_key, &format!("/api/v1/responses/{id}"))
                .await,
            404,
            "not_found",
        )
        .await;
    }

    let event = audit_event::Entity::find()
        .filter(audit_event::Column::Action.eq("firm.erase"))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(event.actor, Some(app.admin_key_id));
    assert_eq!(event.target, format!("firm:{gone_id}"));
    assert_eq!(event.client_request_id.as_deref(), Some("erase-gone"));
    assert_eq!(event.details, json!({"ref": "gone", "responses_erased": 2}));

    assert_problem(
        app.delete_as(&app.admin_key, "/api/v1/firms/gone").await,
        404,
        "not_found",
    )
    .await;
    assert_eq!(
        audit_event::Entity::find()
            .filter(audit_event::Column::Action.eq("firm.erase"))
            .all(&app.db)
            .await
            .unwrap()
            .len(),
        1,
        "an unknown firm is not audited"
    );
}

async fn a_firm_can_answer_again_after_erasure(app: TestApp) {
    let body = submission("returning", answers(&[]));
    assert_eq!(app.submit(&body, Some("ret-1")).await.status(), 201);
    assert_eq!(
        app.delete_as(&app.admin_key, "/api/v1/firms/returning")
            .await
            .status(),
        204
    );
    // The idempotency key went with the erased response.
    assert_eq!(app.submit(&body, Some("ret-1")).await.status(), 201);
    assert_eq!(app.response_rows().await, 1);
    assert_eq!(app.firm_rows().await, 1);
}

crate::on_both_databases!(
    erasing_a_firm_removes_it_and_all_its_responses,
    a_firm_can_answer_again_after_erasure,
);
