//! Erasing a firm removes it and every response of it, in one audited transaction.

use readiness_api::store::entities::{audit_event, erasure_tombstone, firm, response};
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
    // The audit log keeps a keyed digest of the reference, never the reference.
    assert_eq!(event.details["responses_erased"], json!(2));
    let digest = event.details["ref_digest"].as_str().unwrap();
    assert_eq!(digest.len(), 64);
    assert!(digest.bytes().all(|b| b.is_ascii_hexdigit()));
    assert!(!event.details.to_string().contains("gone"));

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

/// A collector's retry queue replays an erased firm's submissions: with the old key, without
/// a key, in a batch, or the old key with another firm. Each is refused with `410
/// firm_erased` and nothing is stored.
async fn replays_after_erasure_are_refused_and_store_nothing(app: TestApp) {
    let body = submission("returning", answers(&[]));
    assert_eq!(app.submit(&body, Some("ret-1")).await.status(), 201);
    assert_eq!(
        app.delete_as(&app.admin_key, "/api/v1/firms/returning")
            .await
            .status(),
        204
    );

    assert_problem(app.submit(&body, Some("ret-1")).await, 410, "firm_erased").await;
    assert_problem(app.submit(&body, None).await, 410, "firm_erased").await;
    let other_firm = submission("someone-else", answers(&[]));
    assert_problem(
        app.submit(&other_firm, Some("ret-1")).await,
        410,
        "firm_erased",
    )
    .await;
    let mut replayed = body.clone();
    replayed["idempotency_key"] = json!("ret-2");
    let batch: Value = app
        .submit_batch(&json!({"responses": [
            replayed,
            {"firm": {"ref": "fresh", "industry": "C", "size_band": "small", "country": "DE"},
             "answers": body["answers"]},
        ]}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(batch["results"][0]["status"], 410, "{batch}");
    assert_eq!(
        batch["results"][0]["errors"][0]["pointer"],
        "/responses/0/firm/ref"
    );
    assert_eq!(batch["results"][1]["status"], 201, "{batch}");
    assert_eq!(app.response_rows().await, 1);
    assert_eq!(app.firm_rows().await, 1);
    let tombstones: Vec<String> = erasure_tombstone::Entity::find()
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.digest)
        .collect();
    assert_eq!(tombstones.len(), 2, "the firm and its one key");
    assert!(
        tombstones
            .iter()
            .all(|d| d.len() == 64 && !d.contains("returning") && !d.contains("ret-1"))
    );
}

/// After an erasure nothing of the firm is left in the SQLite files: not its reference, not
/// its idempotency keys, not its response ids, neither in the database nor in the WAL.
async fn an_erased_firm_leaves_no_bytes_in_the_database_files() {
    let app = crate::helpers::spawn_app(crate::helpers::Backend::Sqlite)
        .await
        .unwrap();
    let firm_ref = "erased-firm-7f3a9c";
    let keys = ["erased-key-51d0e2", "erased-key-9b44c7"];
    let mut ids = Vec::new();
    for (key, overrides) in keys.iter().zip([&[][..], FINE_TUNE]) {
        let reply: Value = app
            .submit(&submission(firm_ref, answers(&[overrides])), Some(key))
            .await
            .json()
            .await
            .unwrap();
        ids.push(uuid::Uuid::parse_str(reply["id"].as_str().unwrap()).unwrap());
    }
    // Other firms' rows around it, so its pages are shared and not simply dropped.
    for at in 0..40 {
        app.submit(&submission(&format!("neighbour-{at}"), answers(&[])), None)
            .await;
    }
    let path = app
        .database_url
        .trim_start_matches("sqlite://")
        .split('?')
        .next()
        .unwrap()
        .to_owned();
    let files = || {
        ["", "-wal"]
            .iter()
            .map(|suffix| std::fs::read(format!("{path}{suffix}")).unwrap_or_default())
            .collect::<Vec<_>>()
            .concat()
    };
    let contains =
        |haystack: &[u8], needle: &[u8]| haystack.windows(needle.len()).any(|w| w == needle);
    let before = files();
    assert!(
        contains(&before, firm_ref.as_bytes()),
        "the check can see the firm"
    );

    assert_eq!(
        app.delete_as(&app.admin_key, &format!("/api/v1/firms/{firm_ref}"))
            .await
            .status(),
        204
    );

    let after = files();
    assert!(
        !contains(&after, firm_ref.as_bytes()),
        "the reference is left"
    );
    for key in keys {
        assert!(!contains(&after, key.as_bytes()), "key {key} is left");
    }
    // The responses' ids stay only in the change feed's tombstone, for mirrors to delete
    // their copies, until the tombstones' time is up.
    let feed: Value = app
        .get_as(&app.analyst_key, "/api/v1/changes?limit=1000")
        .await
        .json()
        .await
        .unwrap();
    let tombstone = feed["changes"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(tombstone["kind"], "firm.erased");
    let mut named: Vec<String> = ids.iter().map(ToString::to_string).collect();
    named.sort();
    assert_eq!(tombstone["response_ids"], serde_json::json!(named));
    let server = readiness_api::store::db::connect(&app.database_url)
        .await
        .unwrap();
    let later = chrono::Utc::now() + chrono::Duration::days(1);
    readiness_api::services::erasure::purge_tombstones_before(&server, later)
        .await
        .unwrap();
    readiness_api::store::firms::truncate_wal(&server).await;
    let after = files();
    for id in ids {
        assert!(!contains(&after, id.as_bytes()), "response {id} is left");
        assert!(
            !contains(&after, id.to_string().as_bytes()),
            "response {id} is left"
        );
    }
    assert_eq!(app.firm_rows().await, 40);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn erased_rows_leave_no_bytes_in_sqlite_files() {
    an_erased_firm_leaves_no_bytes_in_the_database_files().await;
}

crate::on_both_databases!(
    erasing_a_firm_removes_it_and_all_its_responses,
    replays_after_erasure_are_refused_and_store_nothing,
);
