//! `GET /api/v1/responses/{id}/plan`: the action plan read from the rubric, the peer
//! benchmark with its widening groups and threshold, and who may read it.

use serde_json::{Value, json};

use crate::helpers::{FINE_TUNE, TestApp, answers, assert_problem, pointers, submission};

const ZH: &str = include_str!("../../../analytics/instruments/texts/ai-readiness-v1.zh-Hans.json");

fn zh(key: &str) -> Value {
    serde_json::from_str::<Value>(ZH).unwrap()[key].clone()
}

/// Submits one response as the collector with an idempotency key; returns its id.
async fn submit(app: &TestApp, body: &Value, key: &str) -> String {
    let reply = app.submit(body, Some(key)).await;
    assert_eq!(reply.status().as_u16(), 201);
    let created: Value = reply.json().await.unwrap();
    created["id"].as_str().unwrap().to_owned()
}

fn firm(reference: &str, segment: (&str, &str, &str), answers: Value) -> Value {
    json!({
        "firm": {"ref": reference, "industry": segment.0, "size_band": segment.1, "country": segment.2},
        "answers": answers,
        "submitted_at": "2026-10-01T12:00:00Z"
    })
}

/// `count` other firms in `segment`, in one batch.
async fn peers(app: &TestApp, prefix: &str, segment: (&str, &str, &str), count: usize) {
    let items: Vec<Value> = (0..count)
        .map(|i| firm(&format!("{prefix}-{i}"), segment, answers(&[FINE_TUNE])))
        .collect();
    let reply = app.submit_batch(&json!({ "responses": items })).await;
    assert_eq!(reply.status().as_u16(), 200);
}

async fn plan(app: &TestApp, id: &str, query: &str) -> Value {
    let reply = app
        .get_as(
            &app.analyst_key,
            &format!("/api/v1/responses/{id}/plan{query}"),
        )
        .await;
    assert_eq!(reply.status().as_u16(), 200);
    reply.json().await.unwrap()
}

const HOME: (&str, &str, &str) = ("C", "small", "DE");

async fn the_plan_names_the_least_answer_that_passes_each_blocker(app: TestApp) {
    let id = submit(&app, &firm("planned", HOME, answers(&[])), "p-1").await;
    let body = plan(&app, &id, "").await;
    assert_eq!(body["assessment"]["id"], id.as_str());
    assert_eq!(body["assessment"]["tier"]["key"], "vendor_prompting");
    let steps = body["steps"].as_array().unwrap();
    let gates: Vec<&str> = steps.iter().map(|s| s["gate"].as_str().unwrap()).collect();
    assert_eq!(
        gates,
        [
            "vendor_rag.task_definition",
            "vendor_rag.knowledge_organisation",
            "vendor_rag.inhouse_skill",
            "vendor_rag.prior_attempts"
        ]
    );
    let first = &steps[0];
    assert!(first["next_step"].as_str().is_some_and(|s| s.len() > 20));
    assert_eq!(first["alternatives"].as_array().unwrap().len(), 1);
    let requirement = &first["alternatives"][0];
    assert_eq!(requirement["question"], "task_definition");
    assert_eq!(requirement["given"]["key"], "none");
    assert_eq!(requirement["least"]["key"], "named_task");
    let passing: Vec<&str> = requirement["passing"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["key"].as_str().unwrap())
        .collect();
    assert_eq!(passing, ["named_task", "success_measure", "test_cases"]);
    // Too few other firms for any group.
    assert_eq!(body["benchmark"], Value::Null);

    // The same plan in Chinese: texts change, keys do not.
    let reply = app
        .get_as(
            &app.analyst_key,
            &format!("/api/v1/responses/{id}/plan?lang=zh-Hans"),
        )
        .await;
    assert_eq!(reply.headers().get("content-language").unwrap(), "zh-Hans");
    let chinese: Value = reply.json().await.unwrap();
    let step = &chinese["steps"][0];
    assert_eq!(step["gate"], "vendor_rag.task_definition");
    assert_eq!(step["reason"], zh("gate.vendor_rag.task_definition.reason"));
    assert_eq!(
        step["next_step"],
        zh("gate.vendor_rag.task_definition.next_step")
    );
    assert_eq!(
        step["alternatives"][0]["text"],
        zh("question.task_definition")
    );
    assert_eq!(
        step["alternatives"][0]["least"]["label"],
        zh("option.task_definition.named_task")
    );
    assert_eq!(
        chinese["assessment"]["tier"]["label"],
        zh("tier.vendor_prompting.label")
    );
}

async fn a_disjunction_lists_each_way_and_the_top_tier_has_no_steps(app: TestApp) {
    // fine_tune everywhere but no vendor gap: one blocker with two ways to pass.
    let mut gapless = answers(&[FINE_TUNE]);
    gapless["vendor_result"] = json!("good_enough");
    let id = submit(&app, &firm("gapless", HOME, gapless), "p-2").await;
    let body = plan(&app, &id, "").await;
    assert_eq!(body["assessment"]["tier"]["key"], "vendor_rag");
    let step = &body["steps"][0];
    assert_eq!(step["gate"], "fine_tune.vendor_gap");
    let ways: Vec<(&str, &str, &str)> = step["alternatives"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["question"].as_str().unwrap(),
                r["given"]["key"].as_str().unwrap(),
                r["least"]["key"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        ways,
        [
            ("vendor_result", "good_enough", "format_or_consistency"),
            ("monthly_ai_spend", "100_1k", "1k_5k"),
        ]
    );
    assert_eq!(body["steps"].as_array().unwrap().len(), 1);
}

async fn the_benchmark_widens_until_a_group_holds_enough_other_firms(app: TestApp) {
    let me = submit(&app, &firm("me", HOME, answers(&[])), "me-1").await;
    // The firm answers twice: it is never its own peer.
    let me_again = submit(&app, &firm("me", HOME, answers(&[])), "me-2").await;

    // 19 others in the firm's own segment: one short of the default 20.
    peers(&app, "same", HOME, 19).await;
    let body = plan(&app, &me_again, "").await;
    assert_eq!(body["benchmark"], Value::Null, "{}", body["benchmark"]);

    // One more in the same industry and size, another country: industry × size band.
    peers(&app, "abroad", ("C", "small", "FR"), 1).await;
    let body = plan(&app, &me_again, "").await;
    let benchmark = &body["benchmark"];
    assert_eq!(benchmark["group"], "industry_size_band");
    assert_eq!(
        benchmark["segment"],
        json!({"industry": "C", "size_band": "small"})
    );
    assert_eq!(benchmark["peers"], 20);
    assert_eq!(benchmark["peer_min"], 20);

    // One more at home: exactly 20 in the narrowest group.
    peers(&app, "home", HOME, 1).await;
    let body = plan(&app, &me, "").await;
    let benchmark = &body["benchmark"];
    assert_eq!(benchmark["group"], "industry_size_band_country");
    assert_eq!(
        benchmark["segment"],
        json!({"industry": "C", "size_band": "small", "country": "DE"})
    );
    assert_eq!(benchmark["peers"], 20);
    // All peers are at fine_tune; the firm is not counted (it is at vendor_prompting).
    let counts: Vec<(&str, u64)> = benchmark["tiers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["key"].as_str().unwrap(), t["count"].as_u64().unwrap()))
        .collect();
    assert_eq!(
        counts,
        [
            ("vendor_prompting", 0),
            ("vendor_rag", 0),
            ("fine_tune", 20),
            ("own_model", 0)
        ]
    );
    // Every peer scores above the firm's zeros on every dimension.
    for standing in benchmark["dimensions"].as_array().unwrap() {
        assert_eq!(standing["score"], 0.0);
        assert_eq!(standing["percentile"], 0, "{standing}");
        assert_eq!(standing["below"], 0);
    }

    // A request may raise the threshold: 21 widens to industry × size band (20 at home + 1 abroad).
    let body = plan(&app, &me, "?peer_min=21").await;
    assert_eq!(body["benchmark"]["group"], "industry_size_band");
    assert_eq!(body["benchmark"]["peers"], 21);
    assert_eq!(body["benchmark"]["peer_min"], 21);
    // It may not lower it: 5 is read as 20.
    let body = plan(&app, &me, "?peer_min=5").await;
    assert_eq!(body["benchmark"]["peer_min"], 20);
    assert_eq!(body["benchmark"]["group"], "industry_size_band_country");
    let body = plan(&app, &me, "?peer_min=23").await;
    assert_eq!(body["benchmark"], Value::Null);
}

async fn firms_added_today_are_peers_from_tomorrow(app: TestApp) {
    let me = submit(&app, &firm("me", HOME, answers(&[])), "me-today").await;
    // 25 firms answer today (no `submitted_at`: the time of receipt), as an attacker filling
    // a group would, one request after another.
    let today: Vec<Value> = (0..25)
        .map(|i| {
            let mut body = firm(&format!("today-{i}"), HOME, answers(&[FINE_TUNE]));
            body.as_object_mut().unwrap().remove("submitted_at");
            body
        })
        .collect();
    let reply = app.submit_batch(&json!({ "responses": today })).await;
    assert_eq!(reply.status().as_u16(), 200);
    let body = plan(&app, &me, "").await;
    assert_eq!(body["benchmark"], Value::Null, "{}", body["benchmark"]);
    // Firms that answered before today are peers at once.
    peers(&app, "earlier", HOME, 20).await;
    let body = plan(&app, &me, "").await;
    assert_eq!(body["benchmark"]["peers"], 20);
}

async fn who_may_read_a_plan(app: TestApp) {
    let keyed = submit(&app, &submission("owned", answers(&[])), "own-1").await;
    let reply = app.submit(&submission("unkeyed", answers(&[])), None).await;
    let unkeyed: Value = reply.json().await.unwrap();
    let unkeyed = unkeyed["id"].as_str().unwrap();
    let path = |id: &str| format!("/api/v1/responses/{id}/plan");

    // The collector that sent it with an Idempotency-Key.
    let own = app.get_as(&app.collector_key, &path(&keyed)).await;
    assert_eq!(own.status().as_u16(), 200);
    // Not one it sent without a key, nor another collector's.
    assert_problem(
        app.get_as(&app.collector_key, &path(unkeyed)).await,
        404,
        "not_found",
    )
    .await;
    let other = app
        .create_key_over_http("other collector", "collector")
        .await;
    let other = other["token"].as_str().unwrap();
    assert_problem(app.get_as(other, &path(&keyed)).await, 404, "not_found").await;
    // Analysts read any; a viewer (aggregates only) none; without a key, 401.
    assert_eq!(
        app.get_as(&app.analyst_key, &path(unkeyed))
            .await
            .status()
            .as_u16(),
        200
    );
    let viewer = app.create_key_over_http("viewer", "viewer").await;
    assert_problem(
        app.get_as(viewer["token"].as_str().unwrap(), &path(&keyed))
            .await,
        403,
        "forbidden",
    )
    .await;
    assert_problem(app.get(&path(&keyed)).await, 401, "unauthorized").await;
    // Unknown ids and bad parameters.
    assert_problem(
        app.get_as(
            &app.analyst_key,
            &path("00000000-0000-0000-0000-000000000000"),
        )
        .await,
        404,
        "not_found",
    )
    .await;
    for bad in ["0", "abc", "1000000001", "-1", "20&peer_min=20"] {
        let problem = assert_problem(
            app.get_as(
                &app.analyst_key,
                &format!("{}?peer_min={bad}", path(&keyed)),
            )
            .await,
            422,
            "validation_failed",
        )
        .await;
        assert_eq!(pointers(&problem), ["/query/peer_min"]);
    }
}

crate::on_both_databases!(
    the_plan_names_the_least_answer_that_passes_each_blocker,
    a_disjunction_lists_each_way_and_the_top_tier_has_no_steps,
    the_benchmark_widens_until_a_group_holds_enough_other_firms,
    firms_added_today_are_peers_from_tomorrow,
    who_may_read_a_plan,
);
