//! The auth matrix: every route × every kind of caller → exactly the expected status, and a
//! 401 or 403 never tells whether a resource exists.

use chrono::{Duration, Utc};
use readiness_api::domain::api_key::{GeneratedKey, Role};
use readiness_api::services::keys::issue_key;
use readiness_api::store::audit::AuditContext;
use readiness_api::store::keys::{KeyStore, NewKey};
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{FINE_TUNE, Reply, TestApp, answers, assert_problem, create_key, submission};

/// The callers of the matrix, in the order of each route's expectations.
const CALLERS: [&str; 9] = [
    "no header",
    "malformed header",
    "unknown key",
    "revoked key",
    "expired key",
    "collector",
    "viewer",
    "analyst",
    "admin",
];

/// The `Authorization` header of each caller.
async fn caller_headers(app: &TestApp) -> Vec<Option<String>> {
    let revoked = create_key(&app.db, "revoked", Role::Admin).await;
    KeyStore::revoke(&app.db, revoked.key.id, &AuditContext::default())
        .await
        .unwrap()
        .unwrap();
    let expired = issue_key(
        &app.db,
        NewKey {
            name: "expired".to_owned(),
            role: Role::Admin,
            expires_at: Some(Utc::now() - Duration::hours(1)),
            rate_limit_per_minute: None,
        },
        &AuditContext::default(),
    )
    .await
    .unwrap();
    let viewer = create_key(&app.db, "viewer", Role::Viewer).await;
    let unknown = GeneratedKey::generate().unwrap().token();
    let bearer = |token: &str| Some(format!("Bearer {token}"));
    vec![
        None,
        Some("Bearer rdy_not-a-key".to_owned()),
        bearer(&unknown),
        bearer(&revoked.token),
        bearer(&expired.token),
        bearer(&app.collector_key),
        bearer(&viewer.token),
        bearer(&app.analyst_key),
        bearer(&app.admin_key),
    ]
}

struct Case {
    method: Method,
    path: String,
    body: Option<Value>,
    expect: [u16; 9],
}

fn case(method: Method, path: &str, body: Option<Value>, expect: [u16; 9]) -> Case {
    Case {
        method,
        path: path.to_owned(),
        body,
        expect,
    }
}

const PUBLIC: [u16; 9] = [200, 401, 401, 401, 401, 200, 200, 200, 200];
const ADMIN_ONLY: [u16; 9] = [401, 401, 401, 401, 401, 403, 403, 403, 200];
/// Aggregates: reports, the report page, share links, population margins.
const AGGREGATES: [u16; 9] = [401, 401, 401, 401, 401, 403, 200, 200, 200];
/// Microdata: single responses and exports; a viewer may not read them.
const MICRODATA: [u16; 9] = [401, 401, 401, 401, 401, 403, 403, 200, 200];

async fn send(app: &TestApp, case: &Case, header: Option<&str>) -> Reply {
    let mut request = app.client.request(case.method.clone(), app.url(&case.path));
    if let Some(header) = header {
        request = request.header("Authorization", header);
    }
    if let Some(body) = &case.body {
        request = request.json(body);
    }
    app.send(request).await
}

fn new_definition(slug: &str) -> Value {
    let mut definition: Value = serde_json::from_str(readiness_analytics::AI_READINESS_V1).unwrap();
    definition["slug"] = json!(slug);
    definition
}

async fn every_route_answers_each_caller_as_its_role_allows(app: TestApp) {
    let headers = caller_headers(&app).await;
    let stored: Value = app
        .submit(&submission("matrix-firm", answers(&[FINE_TUNE])), None)
        .await
        .json()
        .await
        .unwrap();
    let response_id = stored["id"].as_str().unwrap().to_owned();
    assert_eq!(
        app.submit(&submission("erase-me", answers(&[])), None)
            .await
            .status(),
        201
    );
    let sacrificial = create_key(&app.db, "to-revoke", Role::Collector).await;
    let draft = app
        .post_as(
            &app.admin_key,
            "/api/v1/surveys",
            &new_definition("matrix-draft"),
        )
        .await;
    assert_eq!(draft.status(), 201);

    let share: Value = app
        .client
        .post(app.url("/api/v1/reports/share?by=size_band"))
        .bearer_auth(&app.analyst_key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let shared_url = share["url"].as_str().unwrap().to_owned();
    let sacrificial_share: Value = app
        .client
        .post(app.url("/api/v1/reports/share"))
        .bearer_auth(&app.analyst_key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();

    let single = submission("m-single", answers(&[]));
    let batch = json!({"responses": [submission("m-batch", answers(&[]))]});
    let cases = [
        case(Method::GET, "/healthz", None, PUBLIC),
        case(Method::GET, "/readyz", None, PUBLIC),
        case(Method::GET, "/metrics", None, PUBLIC),
        case(Method::GET, "/openapi.json", None, PUBLIC),
        case(Method::GET, "/docs/", None, PUBLIC),
        case(Method::GET, "/api/v1/surveys", None, PUBLIC),
        case(Method::GET, "/api/v1/surveys/ai-readiness", None, PUBLIC),
        case(
            Method::GET,
            "/api/v1/surveys/ai-readiness/versions/1",
            None,
            PUBLIC,
        ),
        case(
            Method::POST,
            "/api/v1/surveys/ai-readiness/responses",
            Some(single),
            [401, 401, 401, 401, 401, 201, 403, 403, 201],
        ),
        case(
            Method::POST,
            "/api/v1/surveys/ai-readiness/responses/batch",
            Some(batch),
            [401, 401, 401, 401, 401, 200, 403, 403, 200],
        ),
        case(
            Method::GET,
            &format!("/api/v1/responses/{response_id}"),
            None,
            MICRODATA,
        ),
        case(
            Method::POST,
            "/api/v1/keys",
            Some(json!({"name": "matrix", "role": "collector"})),
            [401, 401, 401, 401, 401, 403, 403, 403, 201],
        ),
        case(Method::GET, "/api/v1/keys", None, ADMIN_ONLY),
        case(
            Method::DELETE,
            &format!("/api/v1/keys/{}", sacrificial.key.id),
            None,
            [401, 401, 401, 401, 401, 403, 403, 403, 204],
        ),
        case(
            Method::DELETE,
            "/api/v1/firms/erase-me",
            None,
            [401, 401, 401, 401, 401, 403, 403, 403, 204],
        ),
        case(Method::GET, "/api/v1/audit", None, ADMIN_ONLY),
        case(
            Method::POST,
            "/api/v1/surveys",
            Some(new_definition("matrix-created")),
            [401, 401, 401, 401, 401, 403, 403, 403, 201],
        ),
        case(
            Method::POST,
            "/api/v1/surveys/matrix-draft/versions/1/publish",
            None,
            ADMIN_ONLY,
        ),
        case(
            Method::PATCH,
            "/api/v1/surveys/ai-readiness/versions/1",
            Some(json!({"public": false})),
            ADMIN_ONLY,
        ),
        case(
            Method::GET,
            "/api/v1/reports/readiness?by=size_band",
            None,
            AGGREGATES,
        ),
        case(
            Method::GET,
            "/api/v1/reports/trend?interval=quarter",
            None,
            AGGREGATES,
        ),
        case(Method::GET, "/api/v1/reports/blockers", None, AGGREGATES),
        case(
            Method::GET,
            "/api/v1/reports/change?baseline_from=2026-01-01&baseline_to=2026-03-31\
             &followup_from=2026-07-01&followup_to=2026-09-30",
            None,
            AGGREGATES,
        ),
        case(
            Method::GET,
            "/api/v1/reports/readiness.html?by=size_band",
            None,
            AGGREGATES,
        ),
        case(
            Method::POST,
            "/api/v1/reports/share?interval=quarter",
            None,
            [401, 401, 401, 401, 401, 403, 201, 201, 201],
        ),
        case(Method::GET, &shared_url, None, PUBLIC),
        case(Method::GET, "/api/v1/reports/shares", None, ADMIN_ONLY),
        case(
            Method::DELETE,
            &format!(
                "/api/v1/reports/shares/{}",
                sacrificial_share["id"].as_str().unwrap()
            ),
            None,
            [401, 401, 401, 401, 401, 403, 403, 403, 204],
        ),
        case(
            Method::GET,
            "/api/v1/exports/responses?format=ndjson",
            None,
            MICRODATA,
        ),
        case(Method::GET, "/api/v1/populations", None, AGGREGATES),
        case(
            Method::POST,
            "/api/v1/populations",
            Some(json!({"name": "matrix", "margins": {"size_band": {"micro": 1, "small": 1}}})),
            [401, 401, 401, 401, 401, 403, 403, 403, 201],
        ),
    ];

    let mut mismatches = Vec::new();
    for case in &cases {
        for (index, header) in headers.iter().enumerate() {
            let response = send(&app, case, header.as_deref()).await;
            let status = response.status().as_u16();
            if status != case.expect[index] {
                mismatches.push(format!(
                    "{} {} as {}: expected {}, got {status}",
                    case.method, case.path, CALLERS[index], case.expect[index]
                ));
            }
            if status == 401 {
                let challenge = response.headers()["www-authenticate"].to_str().unwrap();
                assert!(challenge.starts_with("Bearer"), "{challenge}");
                assert_problem(response, 401, "unauthorized").await;
            } else if status == 403 {
                assert_problem(response, 403, "forbidden").await;
            }
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));

    // Refused requests changed nothing: the setup's 2 responses, one single and one batch
    // item each by the collector and the admin, less the erased firm's response.
    assert_eq!(app.response_rows().await, 5);
    // The 3 keys of the app, 4 made for the matrix (revoked, expired, viewer, sacrificial,
    // which was revoked), and the one the admin created.
    assert_eq!(KeyStore::list(&app.db).await.unwrap().len(), 3 + 4 + 1);
}

async fn refusals_do_not_tell_whether_a_resource_exists(app: TestApp) {
    let stored: Value = app
        .submit(&submission("known-firm", answers(&[])), None)
        .await
        .json()
        .await
        .unwrap();
    let known_key = create_key(&app.db, "known", Role::Collector).await.key.id;
    let known_share: Value = app
        .client
        .post(app.url("/api/v1/reports/share"))
        .bearer_auth(&app.analyst_key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let unknown = GeneratedKey::generate().unwrap().token();
    // Method, an existing and a missing resource, a body, and a key of a role that is refused.
    let collector = app.collector_key.as_str();
    let analyst = app.analyst_key.as_str();
    let pairs = [
        (
            Method::GET,
            format!("/api/v1/responses/{}", stored["id"].as_str().unwrap()),
            "/api/v1/responses/0192f0c1-0000-7000-8000-000000000000".to_owned(),
            None,
            collector,
        ),
        (
            Method::DELETE,
            "/api/v1/firms/known-firm".to_owned(),
            "/api/v1/firms/no-such-firm".to_owned(),
            None,
            analyst,
        ),
        (
            Method::DELETE,
            format!("/api/v1/keys/{known_key}"),
            "/api/v1/keys/0192f0c1-0000-7000-8000-000000000000".to_owned(),
            None,
            collector,
        ),
        (
            Method::DELETE,
            format!(
                "/api/v1/reports/shares/{}",
                known_share["id"].as_str().unwrap()
            ),
            "/api/v1/reports/shares/0192f0c1-0000-7000-8000-000000000000".to_owned(),
            None,
            analyst,
        ),
        (
            Method::POST,
            "/api/v1/surveys/ai-readiness/responses".to_owned(),
            "/api/v1/surveys/no-such-survey/responses".to_owned(),
            Some(submission("leak", answers(&[]))),
            analyst,
        ),
        (
            Method::POST,
            "/api/v1/surveys/ai-readiness/responses/batch".to_owned(),
            "/api/v1/surveys/no-such-survey/responses/batch".to_owned(),
            Some(json!({"responses": []})),
            analyst,
        ),
        (
            Method::POST,
            "/api/v1/surveys/ai-readiness/versions/1/publish".to_owned(),
            "/api/v1/surveys/no-such-survey/versions/9/publish".to_owned(),
            None,
            collector,
        ),
    ];
    for (method, existing, missing, body, refused_role) in &pairs {
        let callers = [
            (None, 401),
            (Some(format!("Bearer {unknown}")), 401),
            (Some(format!("Bearer {refused_role}")), 403),
        ];
        for (header, status) in &callers {
            let mut bodies = Vec::new();
            for path in [existing, missing] {
                let case = case(method.clone(), path, body.clone(), [0; 9]);
                let response = send(&app, &case, header.as_deref()).await;
                assert_eq!(response.status().as_u16(), *status, "{method} {path}");
                bodies.push(response.text().await.unwrap());
            }
            assert_eq!(bodies[0], bodies[1], "{method} {existing} vs {missing}");
        }
    }
    assert_eq!(app.response_rows().await, 1);
    assert_eq!(app.firm_rows().await, 1);
}

async fn a_public_survey_takes_submissions_without_a_key(app: TestApp) {
    let set_public = |public: bool| app.set_public(public);
    let response = set_public(true).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.json::<Value>().await.unwrap()["public"], true);

    let path = "/api/v1/surveys/ai-readiness/responses";
    let anonymous = app
        .send(
            app.client
                .post(app.url(path))
                .json(&submission("walk-in", answers(&[]))),
        )
        .await;
    assert_eq!(anonymous.status(), 201);
    let batch = app
        .send(
            app.client
                .post(app.url(&format!("{path}/batch")))
                .json(&json!({"responses": [submission("walk-in-2", answers(&[]))]})),
        )
        .await;
    assert_eq!(batch.status(), 200);
    let analyst = app
        .post_as(
            &app.analyst_key,
            path,
            &submission("walk-in-3", answers(&[])),
        )
        .await;
    assert_eq!(analyst.status(), 201);
    // A key that is sent must be valid, even where none is needed.
    let unknown = GeneratedKey::generate().unwrap().token();
    let refused = app
        .post_as(&unknown, path, &submission("walk-in-4", answers(&[])))
        .await;
    assert_problem(refused, 401, "unauthorized").await;
    assert_eq!(app.response_rows().await, 3);

    assert_eq!(set_public(false).await.status(), 200);
    let closed = app
        .send(
            app.client
                .post(app.url(path))
                .json(&submission("walk-in-5", answers(&[]))),
        )
        .await;
    assert_problem(closed, 401, "unauthorized").await;
    assert_eq!(app.response_rows().await, 3);
}

async fn the_challenge_tells_a_missing_key_from_an_invalid_one(app: TestApp) {
    let missing = app.get("/api/v1/keys").await;
    assert_eq!(
        missing.headers()["www-authenticate"],
        r#"Bearer realm="readiness""#
    );
    let body = assert_problem(missing, 401, "unauthorized").await;
    assert_eq!(
        body["detail"],
        "this request needs an API key: send `Authorization: Bearer <key>`"
    );
    for header in [
        "Basic YWRtaW46YWRtaW4=".to_owned(),
        "Bearer".to_owned(),
        format!("Token {}", app.admin_key),
        format!("Bearer {}x", app.admin_key),
    ] {
        let response = app
            .send(
                app.client
                    .get(app.url("/api/v1/keys"))
                    .header("Authorization", header.as_str()),
            )
            .await;
        assert_eq!(
            response.headers()["www-authenticate"],
            r#"Bearer realm="readiness", error="invalid_token""#,
            "{header}"
        );
        let body = assert_problem(response, 401, "unauthorized").await;
        assert_eq!(
            body["detail"],
            "the API key is malformed, unknown, revoked or expired"
        );
    }
    // The scheme is case-insensitive.
    let lower = app
        .send(
            app.client
                .get(app.url("/api/v1/keys"))
                .header("Authorization", format!("bearer {}", app.admin_key)),
        )
        .await;
    assert_eq!(lower.status(), 200);
}

crate::on_both_databases!(
    every_route_answers_each_caller_as_its_role_allows,
    refusals_do_not_tell_whether_a_resource_exists,
    a_public_survey_takes_submissions_without_a_key,
    the_challenge_tells_a_missing_key_from_an_invalid_one,
);
