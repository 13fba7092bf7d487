//! Share links have a life of their own: each has a row, an admin lists them and revokes one
//! by id, and a link dies with the key that made it.

use chrono::{Duration, Utc};
use readiness_api::domain::api_key::Role;
use readiness_api::store::entities::{api_key, share_link};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait, IntoActiveModel};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{TestApp, assert_problem, create_key};

const SHARE: &str = "/api/v1/reports/share";
const SHARES: &str = "/api/v1/reports/shares";

/// A link made with `key`: its id and its path.
async fn share(app: &TestApp, key: &str, query: &str) -> (Uuid, String) {
    let response = app
        .send(
            app.client
                .post(app.url(&format!("{SHARE}{query}")))
                .bearer_auth(key),
        )
        .await;
    assert_eq!(response.status(), 201);
    let body: Value = response.json().await.unwrap();
    (
        body["id"].as_str().unwrap().parse().unwrap(),
        body["url"].as_str().unwrap().to_owned(),
    )
}

async fn opens(app: &TestApp, url: &str) -> bool {
    let response = app.get(url).await;
    match response.status().as_u16() {
        200 => true,
        410 => {
            assert_problem(response, 410, "share_link_revoked").await;
            false
        }
        other => panic!("unexpected status {other} for {url}"),
    }
}

async fn listed(app: &TestApp) -> Vec<Value> {
    let response = app.get_as(&app.admin_key, SHARES).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    body["links"].as_array().unwrap().clone()
}

async fn row(app: &TestApp, id: Uuid) -> Option<share_link::Model> {
    share_link::Entity::find_by_id(id)
        .one(&app.db)
        .await
        .unwrap()
}

async fn audit(app: &TestApp, action: &str) -> Vec<Value> {
    let body: Value = app
        .get_as(&app.admin_key, &format!("/api/v1/audit?action={action}"))
        .await
        .json()
        .await
        .unwrap();
    body["events"].as_array().unwrap().clone()
}

async fn a_link_dies_with_the_key_that_made_it(app: TestApp) {
    let viewer = create_key(&app.db, "dashboard", Role::Viewer).await;
    let (by_viewer, viewer_url) = share(&app, &viewer.token, "?by=size_band").await;
    let (_, analyst_url) = share(&app, &app.analyst_key, "?by=industry").await;
    assert!(opens(&app, &viewer_url).await);

    let revoked = app
        .delete_as(&app.admin_key, &format!("/api/v1/keys/{}", viewer.key.id))
        .await;
    assert_eq!(revoked.status(), 204);
    let response = app.get(&viewer_url).await;
    let problem = assert_problem(response, 410, "share_link_revoked").await;
    assert!(
        problem["detail"].as_str().unwrap().contains("key"),
        "{problem}"
    );
    // Another key's link still opens; the listing tells which one is dead.
    assert!(opens(&app, &analyst_url).await);
    let links = listed(&app).await;
    let dead = links.iter().find(|l| l["id"] == json!(by_viewer)).unwrap();
    assert_eq!(dead["active"], json!(false));
    assert_eq!(
        dead["revoked_at"],
        Value::Null,
        "the link itself was not revoked"
    );
    assert_eq!(dead["key_id"], json!(viewer.key.id));
    assert_eq!(dead["key_name"], json!("dashboard"));

    // A key that expires takes its links with it too.
    let expiring = create_key(&app.db, "expiring", Role::Analyst).await;
    let (_, expiring_url) = share(&app, &expiring.token, "").await;
    assert!(opens(&app, &expiring_url).await);
    let mut key = api_key::Entity::find_by_id(expiring.key.id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap()
        .into_active_model();
    key.expires_at = Set(Some(Utc::now() - Duration::seconds(1)));
    key.update(&app.db).await.unwrap();
    assert!(!opens(&app, &expiring_url).await);
}

async fn an_admin_lists_links_and_revokes_one_by_id(app: TestApp) {
    let before = Utc::now();
    let (first, first_url) = share(&app, &app.analyst_key, "?by=size_band&expires_in=600").await;
    let (second, second_url) = share(&app, &app.analyst_key, "?interval=quarter").await;

    // Listed newest first, with the key that made each link, never the link itself.
    let links = listed(&app).await;
    assert_eq!(links.len(), 2, "{links:?}");
    assert_eq!(links[0]["id"], json!(second));
    assert_eq!(links[1]["id"], json!(first));
    assert_eq!(links[1]["key_name"], json!("test-analyst"));
    assert_eq!(links[1]["query"], json!([["by", "size_band"]]));
    assert_eq!(links[0]["query"], json!([["interval", "quarter"]]));
    assert_eq!(links[1]["revoked_at"], Value::Null);
    assert_eq!(links[1]["active"], json!(true));
    let expires_at: chrono::DateTime<Utc> =
        links[1]["expires_at"].as_str().unwrap().parse().unwrap();
    assert!(expires_at > before + Duration::seconds(598));
    let token = first_url.rsplit('/').next().unwrap();
    assert!(!json!(links).to_string().contains(token));
    // The row holds no token either.
    let stored = row(&app, first).await.unwrap();
    assert!(!format!("{stored:?}").contains(token));
    // Creating a link is audited under its id.
    let created = audit(&app, "report.share").await;
    assert_eq!(created[1]["target"], format!("share:{first}"));

    // Revoked by id: that link is gone at once, the other still opens.
    let revoked = app
        .delete_as(&app.admin_key, &format!("{SHARES}/{first}"))
        .await;
    assert_eq!(revoked.status(), 204);
    let problem = assert_problem(app.get(&first_url).await, 410, "share_link_revoked").await;
    assert!(
        problem["detail"].as_str().unwrap().contains("revoked"),
        "{problem}"
    );
    assert!(opens(&app, &second_url).await);
    assert!(row(&app, first).await.unwrap().revoked_at.is_some());
    assert!(row(&app, second).await.unwrap().revoked_at.is_none());
    let links = listed(&app).await;
    assert_eq!(links[1]["active"], json!(false));
    assert!(links[1]["revoked_at"].is_string());
    assert_eq!(links[0]["active"], json!(true));

    // Audited once: revoking again changes nothing and records nothing.
    let events = audit(&app, "report.share_revoke").await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["target"], format!("share:{first}"));
    assert_eq!(events[0]["actor"], json!(app.admin_key_id));
    assert_eq!(events[0]["details"]["query"], json!([["by", "size_band"]]));
    let again = app
        .delete_as(&app.admin_key, &format!("{SHARES}/{first}"))
        .await;
    assert_eq!(again.status(), 204);
    assert_eq!(audit(&app, "report.share_revoke").await.len(), 1);

    // Unknown ids.
    for unknown in [Uuid::new_v4().to_string(), "not-a-uuid".to_owned()] {
        let response = app
            .delete_as(&app.admin_key, &format!("{SHARES}/{unknown}"))
            .await;
        assert_problem(response, 404, "not_found").await;
    }
}

async fn only_admins_list_and_revoke_links(app: TestApp) {
    let (id, url) = share(&app, &app.analyst_key, "").await;
    let viewer = create_key(&app.db, "viewer", Role::Viewer).await;
    for key in [&app.collector_key, &viewer.token, &app.analyst_key] {
        assert_problem(app.get_as(key, SHARES).await, 403, "forbidden").await;
        let response = app.delete_as(key, &format!("{SHARES}/{id}")).await;
        assert_problem(response, 403, "forbidden").await;
    }
    assert_problem(app.get(SHARES).await, 401, "unauthorized").await;
    assert!(row(&app, id).await.unwrap().revoked_at.is_none());
    assert!(opens(&app, &url).await);
    assert!(audit(&app, "report.share_revoke").await.is_empty());
}

/// A link's row serves only until the link expires: the next link made removes it.
async fn expired_links_leave_no_rows(app: TestApp) {
    let (old, _) = share(&app, &app.analyst_key, "").await;
    let mut link = row(&app, old).await.unwrap().into_active_model();
    link.expires_at = Set(Utc::now() - Duration::seconds(1));
    link.update(&app.db).await.unwrap();
    assert!(
        listed(&app).await.is_empty(),
        "an expired link is not listed"
    );

    let (new, _) = share(&app, &app.analyst_key, "").await;
    assert!(row(&app, old).await.is_none());
    assert!(row(&app, new).await.is_some());
    let response = app
        .delete_as(&app.admin_key, &format!("{SHARES}/{old}"))
        .await;
    assert_problem(response, 404, "not_found").await;
}

crate::on_both_databases!(
    a_link_dies_with_the_key_that_made_it,
    an_admin_lists_links_and_revokes_one_by_id,
    only_admins_list_and_revoke_links,
    expired_links_leave_no_rows,
);
