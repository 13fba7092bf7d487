//! Incremental sync: `GET /api/v1/responses?after=` and `GET /api/v1/changes?after=` list
//! what the database committed, in commit order, so that a mirror following the cursors
//! ends with exactly the database's rows while others write and erase.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use readiness_api::settings::Settings;
use readiness_api::store::entities::response;
use sea_orm::EntityTrait;
use serde_json::{Value, json};

use crate::helpers::{
    Backend, TestApp, answers, assert_problem, pointers, spawn_app, spawn_app_with, submission,
};

async fn page(app: &TestApp, path: &str) -> Value {
    let reply = app.get_as(&app.analyst_key, path).await;
    assert_eq!(reply.status(), 200, "{path}");
    assert_eq!(
        reply.headers()["cache-control"],
        "private, no-store",
        "{path}"
    );
    reply.json().await.unwrap()
}

fn ids(page: &Value) -> Vec<String> {
    page["responses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect()
}

/// A submission of `firm_ref` in `industry`, received now.
fn firm(firm_ref: &str, industry: &str) -> Value {
    let mut body = submission(firm_ref, answers(&[]));
    body["firm"]["industry"] = json!(industry);
    body
}

async fn store(app: &TestApp, body: &Value) -> String {
    let reply = app.submit(body, None).await;
    assert_eq!(reply.status(), 201);
    let created: Value = reply.json().await.unwrap();
    created["id"].as_str().unwrap().to_owned()
}

/// Pages in commit order with cursors; filters; erasures leave the list and enter the
/// change feed as one `firm.erased`; the caught-up cursor stays put until something new.
async fn pages_follow_commit_order_and_erasures(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let empty = page(&app, "/api/v1/responses").await;
    assert_eq!(empty["responses"], json!([]));
    assert_eq!(empty["has_more"], false);
    let start = empty["next_cursor"].as_str().unwrap().to_owned();

    let mut stored = Vec::new();
    for (i, industry) in ["C", "F", "C", "J", "C"].iter().enumerate() {
        stored.push(store(&app, &firm(&format!("sync-{i}"), industry)).await);
    }
    // A firm answering twice has two responses.
    stored.push(store(&app, &firm("sync-0", "C")).await);
    let feed = settled(&app, "/api/v1/changes?limit=1000", stored.len()).await;

    // Two at a time, in the order they were stored.
    let mut seen = Vec::new();
    let mut cursor = start.clone();
    loop {
        let next = page(&app, &format!("/api/v1/responses?after={cursor}&limit=2")).await;
        let responses = next["responses"].as_array().unwrap();
        assert!(responses.len() <= 2);
        seen.extend(ids(&next));
        if let Some(last) = responses.last() {
            assert_eq!(next["has_more"], seen.len() < stored.len());
            if next["has_more"] == true {
                assert_eq!(next["next_cursor"], last["cursor"]);
            }
            assert_eq!(last["firm"]["country"], "DE");
            assert!(last["tier"].is_string() && last["answers"].is_object());
            assert_eq!(
                last["survey"],
                json!({"slug": "ai-readiness", "version": 1})
            );
            assert!(last["scores"]["governance"].is_number() && last["blockers"].is_array());
        }
        cursor = next["next_cursor"].as_str().unwrap().to_owned();
        if next["has_more"] == false {
            break;
        }
    }
    assert_eq!(seen, stored);
    // Caught up: nothing new, the same cursor back.
    let again = page(&app, &format!("/api/v1/responses?after={cursor}")).await;
    assert_eq!(again["responses"], json!([]));
    assert_eq!(again["next_cursor"], json!(cursor));

    // Segment and survey filters; the cursor still moves past what they leave out.
    let only_c = page(&app, &format!("/api/v1/responses?after={start}&industry=C")).await;
    let expected: Vec<String> = [0, 2, 4, 5].iter().map(|&i| stored[i].clone()).collect();
    assert_eq!(ids(&only_c), expected);
    assert_eq!(only_c["next_cursor"], json!(cursor));
    // The next page is linked too (RFC 8288), with the same filters.
    let reply = app
        .get_as(
            &app.analyst_key,
            &format!("/api/v1/responses?industry=C&after={start}&limit=2"),
        )
        .await;
    let link = reply.headers()["link"].to_str().unwrap().to_owned();
    let body: Value = reply.json().await.unwrap();
    assert_eq!(
        link,
        format!(
            "</api/v1/responses?industry=C&limit=2&after={}>; rel=\"next\"",
            body["next_cursor"].as_str().unwrap()
        )
    );
    let reply = app.get_as(&app.analyst_key, "/api/v1/changes").await;
    let link = reply.headers()["link"].to_str().unwrap().to_owned();
    let body: Value = reply.json().await.unwrap();
    let next = body["next_cursor"].as_str().unwrap();
    assert_eq!(
        link,
        format!("</api/v1/changes?after={next}>; rel=\"next\"")
    );
    // However the client spelt `after`, the link carries it once.
    let reply = app
        .get_as(&app.analyst_key, &format!("/api/v1/changes?%61fter={next}"))
        .await;
    assert_eq!(reply.status(), 200);
    assert_eq!(
        reply.headers()["link"].to_str().unwrap(),
        format!("</api/v1/changes?after={next}>; rel=\"next\"")
    );
    let c_or_j = page(
        &app,
        "/api/v1/responses?industry=C,J&survey=ai-readiness&version=1",
    )
    .await;
    assert_eq!(ids(&c_or_j).len(), 5);
    let none = page(&app, "/api/v1/responses?industry=Q").await;
    assert_eq!(none["responses"], json!([]));
    assert_eq!(none["next_cursor"], json!(cursor));

    // The feed lists every response once, in the same order and with the same cursors.
    let created: Vec<&str> = feed["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            assert_eq!(c["kind"], "response.created");
            c["response_id"].as_str().unwrap()
        })
        .collect();
    assert_eq!(created, stored);

    // Erasing sync-0 takes its two responses out of both lists and adds one tombstone.
    let erased = app.delete_as(&app.admin_key, "/api/v1/firms/sync-0").await;
    assert_eq!(erased.status(), 204);
    let after_erasure = settled(&app, &format!("/api/v1/changes?after={cursor}"), 1).await;
    let changes = after_erasure["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 1, "{after_erasure}");
    assert_eq!(changes[0]["kind"], "firm.erased");
    assert!(changes[0].get("response_id").is_none());
    let mut gone = vec![stored[0].clone(), stored[5].clone()];
    gone.sort();
    assert_eq!(changes[0]["response_ids"], json!(gone));
    assert_eq!(after_erasure["next_cursor"], changes[0]["cursor"]);
    let all = page(&app, "/api/v1/responses").await;
    assert_eq!(ids(&all), stored[1..5].to_vec());
    let feed = page(&app, "/api/v1/changes").await;
    let kinds: Vec<&str> = feed["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "response.created",
            "response.created",
            "response.created",
            "response.created",
            "firm.erased"
        ]
    );
}

/// The feed page at `path` once it holds `count` changes. On PostgreSQL a commit enters the
/// feed once every transaction of the cluster that began before it has ended (usually at
/// once; other tests' transactions can hold it back for a moment).
async fn settled(app: &TestApp, path: &str, count: usize) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let feed = page(app, path).await;
        if feed["changes"].as_array().unwrap().len() >= count || Instant::now() > deadline {
            return feed;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Every bad parameter is named; viewers and collectors may not read microdata.
async fn bad_parameters_are_named(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    store(&app, &firm("named", "C")).await;
    let reply = app
        .get_as(
            &app.analyst_key,
            "/api/v1/responses?after=01.2&limit=0&industry=XX&from=2026-13-01&by=size_band",
        )
        .await;
    let problem = assert_problem(reply, 422, "validation_failed").await;
    assert_eq!(
        sorted(pointers(&problem)),
        [
            "/query/after",
            "/query/by",
            "/query/from",
            "/query/industry",
            "/query/limit"
        ]
    );
    let reply = app
        .get_as(&app.analyst_key, "/api/v1/responses?survey=nope")
        .await;
    let problem = assert_problem(reply, 404, "not_found").await;
    assert_eq!(pointers(&problem), ["/query/survey"]);
    let reply = app
        .get_as(&app.analyst_key, "/api/v1/changes?limit=1001&industry=C")
        .await;
    let problem = assert_problem(reply, 422, "validation_failed").await;
    assert_eq!(
        sorted(pointers(&problem)),
        ["/query/industry", "/query/limit"]
    );
    let reply = app
        .get_as(&app.analyst_key, "/api/v1/changes?after=1.2&after=1.3")
        .await;
    let problem = assert_problem(reply, 422, "validation_failed").await;
    assert_eq!(pointers(&problem), ["/query/after"]);
    let viewer = app.create_key_over_http("viewer", "viewer").await;
    let token = viewer["token"].as_str().unwrap();
    for path in ["/api/v1/responses", "/api/v1/changes"] {
        assert_problem(app.get_as(token, path).await, 403, "forbidden").await;
        assert_problem(app.get_as(&app.collector_key, path).await, 403, "forbidden").await;
        assert_problem(app.get(path).await, 401, "unauthorized").await;
    }
}

fn sorted(mut pointers: Vec<String>) -> Vec<String> {
    pointers.sort();
    pointers
}

/// Submissions in this test.
const SUBMISSIONS: usize = 1000;
/// Firms erased while they are written.
const ERASURES: usize = 20;

/// A mirror that follows both lists while 1,000 submissions (from eight concurrent clients,
/// through the group-commit writer, on PostgreSQL split across two server replicas) and 20
/// erasures happen, ends with exactly the database's responses: none missed, none twice.
async fn a_mirror_ends_with_exactly_the_databases_rows(backend: Backend) {
    // The collectors send as fast as they can.
    let unlimited = |settings: &mut Settings| settings.rate_limit_per_minute = 1_000_000;
    let Some(first) = spawn_app_with(backend, unlimited).await else {
        return;
    };
    let mut servers = vec![Arc::new(first)];
    if backend == Backend::Postgres {
        let url = servers[0].database_url.clone();
        let second = spawn_app_with(backend, |settings| {
            unlimited(settings);
            settings.database_url = url;
        })
        .await
        .unwrap();
        servers.push(Arc::new(second));
    }
    let reader = servers[0].clone();
    // The firms to erase have a response before the run starts, and more during it.
    for i in 0..ERASURES {
        store(&reader, &firm(&format!("erase-{i}"), "C")).await;
    }
    let writing = Arc::new(AtomicBool::new(true));
    let mut writers = Vec::new();
    for w in 0..8 {
        let app = servers[w % servers.len()].clone();
        writers.push(tokio::spawn(async move {
            for i in (w..SUBMISSIONS - ERASURES).step_by(8) {
                // Every tenth submission is of a firm about to be erased (it may be refused
                // with 410 once the firm is gone).
                let firm_ref = if i % 10 == 0 {
                    format!("erase-{}", (i / 10) % ERASURES)
                } else {
                    format!("keep-{i}")
                };
                let status = app.submit(&firm(&firm_ref, "C"), None).await.status();
                assert!(
                    status == 201 || (status == 410 && firm_ref.starts_with("erase-")),
                    "{firm_ref}: {status}"
                );
            }
        }));
    }
    let eraser = {
        let app = servers[servers.len() - 1].clone();
        tokio::spawn(async move {
            for i in 0..ERASURES {
                tokio::time::sleep(Duration::from_millis(40)).await;
                let reply = app
                    .delete_as(&app.admin_key, &format!("/api/v1/firms/erase-{i}"))
                    .await;
                assert_eq!(reply.status(), 204);
            }
        })
    };
    let mirror_task = {
        let (app, writing) = (reader.clone(), writing.clone());
        tokio::spawn(async move { follow(&app, &writing).await })
    };
    for writer in writers {
        writer.await.unwrap();
    }
    eraser.await.unwrap();
    writing.store(false, Ordering::SeqCst);
    let (mirror, fed) = mirror_task.await.unwrap();

    let rows: BTreeMap<String, String> = response::Entity::find()
        .all(&reader.db)
        .await
        .unwrap()
        .into_iter()
        .map(|row| (row.id.to_string(), row.tier))
        .collect();
    // Every response of an erased firm is gone (one written after its erasure was refused),
    // and every other stayed.
    let kept = (0..SUBMISSIONS - ERASURES).filter(|i| i % 10 != 0).count();
    assert_eq!(rows.len(), kept);
    assert_eq!(mirror, rows, "the mirror of GET /responses");
    assert_eq!(
        fed,
        rows.keys().cloned().collect::<BTreeSet<_>>(),
        "the mirror of GET /changes"
    );
}

/// Follows `/responses` and `/changes` until the writers are done and both lists are caught
/// up with the database; returns the responses (id → tier) and the ids the feed leaves.
/// Panics on anything seen twice, or on a response listed after its erasure.
async fn follow(
    app: &TestApp,
    writing: &AtomicBool,
) -> (BTreeMap<String, String>, BTreeSet<String>) {
    let mut mirror = BTreeMap::new();
    let mut fed = BTreeSet::new();
    let mut erased = BTreeSet::new();
    let (mut rows_cursor, mut feed_cursor) = ("0.0".to_owned(), "0.0".to_owned());
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let done = !writing.load(Ordering::SeqCst);
        let rows = page(
            app,
            &format!("/api/v1/responses?after={rows_cursor}&limit=37"),
        )
        .await;
        for response in rows["responses"].as_array().unwrap() {
            let id = response["id"].as_str().unwrap().to_owned();
            assert!(!erased.contains(&id), "{id} listed after its erasure");
            let tier = response["tier"].as_str().unwrap().to_owned();
            assert!(mirror.insert(id.clone(), tier).is_none(), "{id} twice");
        }
        rows_cursor = rows["next_cursor"].as_str().unwrap().to_owned();
        let feed = page(
            app,
            &format!("/api/v1/changes?after={feed_cursor}&limit=53"),
        )
        .await;
        for change in feed["changes"].as_array().unwrap() {
            if change["kind"] == "firm.erased" {
                for id in change["response_ids"].as_array().unwrap() {
                    let id = id.as_str().unwrap().to_owned();
                    mirror.remove(&id);
                    fed.remove(&id);
                    erased.insert(id);
                }
            } else {
                let id = change["response_id"].as_str().unwrap().to_owned();
                assert!(!erased.contains(&id), "{id} in the feed after its erasure");
                assert!(fed.insert(id.clone()), "{id} twice in the feed");
            }
        }
        feed_cursor = feed["next_cursor"].as_str().unwrap().to_owned();
        let caught_up = rows["has_more"] == false && feed["has_more"] == false;
        if done && caught_up && mirror.len() == app.response_rows().await as usize {
            // On PostgreSQL the horizon may still lag behind a transaction of another
            // database of the cluster; the rows counted are all committed, and the mirror
            // holds as many.
            return (mirror, fed);
        }
        assert!(Instant::now() < deadline, "the mirror never caught up");
        if caught_up {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

mod sqlite {
    use crate::helpers::Backend;

    #[tokio::test]
    async fn pages_follow_commit_order_and_erasures() {
        super::pages_follow_commit_order_and_erasures(Backend::Sqlite).await;
    }

    #[tokio::test]
    async fn bad_parameters_are_named() {
        super::bad_parameters_are_named(Backend::Sqlite).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_mirror_ends_with_exactly_the_databases_rows() {
        super::a_mirror_ends_with_exactly_the_databases_rows(Backend::Sqlite).await;
    }
}

mod postgres {
    use crate::helpers::Backend;

    #[tokio::test]
    async fn pages_follow_commit_order_and_erasures() {
        super::pages_follow_commit_order_and_erasures(Backend::Postgres).await;
    }

    #[tokio::test]
    async fn bad_parameters_are_named() {
        super::bad_parameters_are_named(Backend::Postgres).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_mirror_ends_with_exactly_the_databases_rows() {
        super::a_mirror_ends_with_exactly_the_databases_rows(Backend::Postgres).await;
    }
}
