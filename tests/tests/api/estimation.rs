//! How weighted and clustered estimates are made and what a weighted report says about its
//! weighting: each period raked on its own, dropped margin categories (named or refused),
//! zero populations refused, raking that cannot converge flagged, firms without a region,
//! clustered intervals of basis `all`, weighted means, and the ranking of weighted blockers.

use serde_json::{Value, json};

use crate::helpers::{FINE_TUNE, TestApp, answers, assert_problem, pointers};

async fn save_margins(app: &TestApp, name: &str, margins: Value) {
    let reply = app
        .post_as(
            &app.admin_key,
            "/api/v1/populations",
            &json!({"name": name, "margins": margins}),
        )
        .await;
    assert_eq!(reply.status().as_u16(), 201);
}

async fn report(app: &TestApp, path: &str) -> Value {
    let reply = app.get_as(&app.analyst_key, path).await;
    assert_eq!(reply.status().as_u16(), 200, "{path}");
    reply.json().await.unwrap()
}

async fn page(app: &TestApp, query: &str) -> String {
    let reply = app
        .get_as(
            &app.analyst_key,
            &format!("/api/v1/reports/readiness.html?{query}"),
        )
        .await;
    assert_eq!(reply.status().as_u16(), 200);
    reply.text().await.unwrap()
}

fn item(
    firm: &str,
    industry: &str,
    size: &str,
    region: Option<&str>,
    ready: bool,
    at: &str,
) -> Value {
    let mut firm = json!({"ref": firm, "industry": industry, "size_band": size, "country": "DE"});
    if let Some(region) = region {
        firm["region"] = json!(region);
    }
    let answers = if ready {
        answers(&[FINE_TUNE])
    } else {
        answers(&[])
    };
    json!({"firm": firm, "answers": answers, "submitted_at": at})
}

async fn store(app: &TestApp, items: Vec<Value>) {
    let count = items.len();
    let body: Value = app
        .submit_batch(&json!({ "responses": items }))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["created"], count, "{body}");
}

fn share(value: &Value) -> f64 {
    value["share"].as_f64().unwrap()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-12
}

/// Six small firms in C at the lowest tier, three micro firms in G at fine_tune: industry
/// and size band are one variable in this sample.
async fn seed_confounded(app: &TestApp) {
    let mut items = Vec::new();
    for n in 0..6 {
        items.push(item(
            &format!("s{n}"),
            "C",
            "small",
            None,
            false,
            "2026-10-05T10:00:00Z",
        ));
    }
    for n in 0..3 {
        items.push(item(
            &format!("m{n}"),
            "G",
            "micro",
            None,
            true,
            "2026-10-06T10:00:00Z",
        ));
    }
    store(app, items).await;
}

async fn a_margin_category_without_firms_is_named_or_refused(app: TestApp) {
    seed_confounded(&app).await;
    save_margins(
        &app,
        "with-medium",
        json!({"size_band": {"micro": 50, "small": 30, "medium": 20}}),
    )
    .await;
    let body = report(
        &app,
        "/api/v1/reports/readiness?weights=with-medium&by=size_band",
    )
    .await;
    let expected = json!({
        "iterations": 2,
        "max_discrepancy": 0.0,
        "tolerance": 0.001,
        "converged": true,
        "dropped": [{"dimension": "size_band", "category": "medium", "population_share": 0.2}]
    });
    assert_eq!(body["weighting"], expected);
    // micro and small renormalised to 5/8 and 3/8 of 9 firms: every micro firm is ready.
    let weighted = &body["overall"]["weighted"];
    assert!(close(share(&weighted["ready_to_customise"]), 0.625));
    // Weights 5.625 / 3 (micro) and 3.375 / 6 (small): the weighted mean is 0.625 of the
    // micro segment's mean and 0.375 of the small one's, the unweighted 1/3 and 2/3.
    let mean = |cell: &Value| cell["dimension_means"]["maturity"].as_f64().unwrap();
    let (micro, small) = (mean(&body["segments"][0]), mean(&body["segments"][1]));
    assert_eq!(body["segments"][0]["key"]["size_band"], "micro");
    assert!((mean(weighted) - (0.625 * micro + 0.375 * small)).abs() < 1e-9);
    assert!((mean(&body["overall"]) - (micro + 2.0 * small) / 3.0).abs() < 1e-9);
    assert!(micro > small, "the two means differ, so the weights show");

    let blockers = report(&app, "/api/v1/reports/blockers?weights=with-medium").await;
    assert_eq!(blockers["weighting"], expected);
    let trend = report(&app, "/api/v1/reports/trend?weights=with-medium").await;
    assert_eq!(trend["periods"][0]["weighting"], expected);
    let unweighted = report(&app, "/api/v1/reports/readiness").await;
    assert!(unweighted.get("weighting").is_none());

    let html = page(&app, "weights=with-medium").await;
    assert!(html.contains("data-dropped=\"window\""), "{html}");
    assert!(html.contains("<li><code>size_band</code> medium: 20.0 % of the population</li>"));
    assert!(html.contains("data-weighting=\"window\" data-converged=\"true\""));
    assert!(html.contains("data-means=\"unweighted\""));
    assert!(html.contains("data-figure=\"weighted-means\""));

    for path in [
        "/api/v1/reports/readiness?weights=with-medium&dropped_categories=refuse",
        "/api/v1/reports/trend?weights=with-medium&dropped_categories=refuse",
        "/api/v1/reports/readiness.html?weights=with-medium&dropped_categories=refuse",
    ] {
        let problem = assert_problem(
            app.get_as(&app.analyst_key, path).await,
            422,
            "validation_failed",
        )
        .await;
        assert_eq!(pointers(&problem), ["/query/weights"], "{path}");
        assert_eq!(
            problem["errors"][0]["message"],
            "the sample has no firm in size_band `medium` (20.0 % of the population), and \
             dropped_categories=refuse refuses to weight to the other categories alone"
        );
    }
    let problem = assert_problem(
        app.get_as(
            &app.analyst_key,
            "/api/v1/reports/readiness?weights=with-medium&dropped_categories=never",
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(pointers(&problem), ["/query/dropped_categories"]);
}

async fn margins_the_sample_cannot_meet_are_flagged(app: TestApp) {
    seed_confounded(&app).await;
    save_margins(
        &app,
        "contradictory",
        json!({"industry": {"C": 50, "G": 50}, "size_band": {"micro": 90, "small": 10}}),
    )
    .await;
    // C is small and G micro: size band, raked last, ends met (10 % small), which leaves C at
    // 10 % against 50 %.
    let body = report(&app, "/api/v1/reports/readiness?weights=contradictory").await;
    assert_eq!(
        body["weighting"],
        json!({"iterations": 100, "max_discrepancy": 0.4, "tolerance": 0.001,
               "converged": false, "dropped": []})
    );
    let html = page(&app, "weights=contradictory").await;
    assert!(html.contains(
        "data-weighting=\"window\" data-converged=\"false\" class=\"flag\">100 rounds of \
         raking; the largest remaining margin discrepancy is 40.00 percentage points"
    ));
    assert!(html.contains("not calibrated: the margins cannot all be met on this sample"));
}

async fn zero_population_counts_are_refused_and_not_stored(app: TestApp) {
    let body = json!({"name": "zeros", "margins": {"size_band": {"micro": 10, "medium": 0}, "industry": {"C": 0.0, "G": 3}}});
    let reply = app
        .post_as(&app.admin_key, "/api/v1/populations", &body)
        .await;
    let problem = assert_problem(reply, 422, "validation_failed").await;
    let mut found = pointers(&problem);
    found.sort();
    assert_eq!(found, ["/margins/industry/C", "/margins/size_band/medium"]);
    assert_eq!(
        problem["errors"][0]["message"],
        "must be a positive number; leave out a category of no population"
    );
    let list = report(&app, "/api/v1/populations").await;
    assert_eq!(list["populations"], json!([]));
}

async fn firms_without_a_region_weight_as_not_stated(app: TestApp) {
    let at = "2026-10-05T10:00:00Z";
    store(
        &app,
        vec![
            item("r1", "C", "small", Some("DE-BY"), false, at),
            item("r2", "C", "small", Some("DE-BY"), false, at),
            item("n1", "C", "small", None, true, at),
            item("n2", "C", "small", None, false, at),
        ],
    )
    .await;
    save_margins(
        &app,
        "regions",
        json!({"region": {"DE-BY": 300, "not_stated": 100}}),
    )
    .await;
    // Targets 3 and 1 of 4: weights 1.5 (DE-BY) and 0.5 (not stated); n1 is ready.
    let body = report(&app, "/api/v1/reports/readiness?weights=regions").await;
    assert!(close(
        share(&body["overall"]["weighted"]["ready_to_customise"]),
        0.125
    ));
    assert_eq!(body["weighting"]["dropped"], json!([]));

    save_margins(&app, "bavaria", json!({"region": {"DE-BY": 300}})).await;
    let problem = assert_problem(
        app.get_as(
            &app.analyst_key,
            "/api/v1/reports/readiness?weights=bavaria",
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(pointers(&problem), ["/query/weights"]);
    assert_eq!(
        problem["errors"][0]["message"],
        "the sample has firms that gave no region, which the population margins do not list; \
         add them to the region margin as `not_stated`"
    );
}

async fn basis_all_intervals_are_clustered_by_firm(app: TestApp) {
    // A answered three times at fine_tune, B three times at the lowest tier, C once each.
    let mut items = Vec::new();
    for (firm, ready) in [("a", [true, true, true]), ("b", [false, false, false])] {
        for (day, ready) in ready.into_iter().enumerate() {
            let at = format!("2026-10-0{}T10:00:00Z", day + 2);
            items.push(item(firm, "C", "small", None, ready, &at));
        }
    }
    items.push(item("c", "C", "small", None, true, "2026-10-02T10:00:00Z"));
    items.push(item("c", "C", "small", None, false, "2026-10-03T10:00:00Z"));
    store(&app, items).await;
    let body = report(&app, "/api/v1/reports/readiness?basis=all").await;
    // p = 4/8; per firm y − p·m: 1.5, −1.5, 0: V = 3/2 · 4.5 / 64 against 0.25 / 8
    // independent: deff 3.375, Wilson on n = 8 / 3.375 (worked out independently).
    let ready = &body["overall"]["ready_to_customise"];
    assert_eq!(ready["count"], 4);
    assert!(close(share(ready), 0.5));
    assert!(
        close(ready["ci_low"].as_f64().unwrap(), 0.10680467754290135),
        "{ready}"
    );
    assert!(
        close(ready["ci_high"].as_f64().unwrap(), 0.8931953224570987),
        "{ready}"
    );
    // Each firm once (latest): 1 of 3, Wilson on 3.
    let body = report(&app, "/api/v1/reports/readiness").await;
    let ready = &body["overall"]["ready_to_customise"];
    assert_eq!(ready["count"], 1);
    assert!(
        close(ready["ci_low"].as_f64().unwrap(), 0.06149194472039615),
        "{ready}"
    );
    assert!(
        close(ready["ci_high"].as_f64().unwrap(), 0.7923403991979523),
        "{ready}"
    );
}

async fn each_trend_period_is_raked_on_its_own(app: TestApp) {
    // October: micro m1–m3 (ready: m3), small s1 (ready). November: micro m4 (ready), small
    // s2–s4. Pooled, half the firms are micro; neither month is.
    let (oct, nov) = ("2026-10-05T10:00:00Z", "2026-11-05T10:00:00Z");
    store(
        &app,
        vec![
            item("m1", "C", "micro", None, false, oct),
            item("m2", "C", "micro", None, false, oct),
            item("m3", "C", "micro", None, true, oct),
            item("s1", "C", "small", None, true, oct),
            item("m4", "C", "micro", None, true, nov),
            item("s2", "C", "small", None, false, nov),
            item("s3", "C", "small", None, false, nov),
            item("s4", "C", "small", None, false, nov),
        ],
    )
    .await;
    save_margins(
        &app,
        "even",
        json!({"size_band": {"micro": 50, "small": 50}}),
    )
    .await;
    let trend = report(&app, "/api/v1/reports/trend?weights=even").await;
    let periods = trend["periods"].as_array().unwrap();
    assert_eq!(periods.len(), 2);
    // October weights 2/3 (micro) and 2 (small): ready (2/3 + 2) / 4 = 2/3, not the 1/2 of
    // raking both months together. November: micro 2, small 2/3: ready 2 / 4.
    let ready = |period: &Value| share(&period["overall"]["weighted"]["ready_to_customise"]);
    assert!(close(ready(&periods[0]), 2.0 / 3.0), "{}", periods[0]);
    assert!(close(ready(&periods[1]), 0.5), "{}", periods[1]);
    for period in periods {
        assert_eq!(period["weighting"]["iterations"], 2);
        assert_eq!(period["weighting"]["converged"], true);
    }
    // October's period is the October readiness report.
    let october = report(
        &app,
        "/api/v1/reports/readiness?weights=even&from=2026-10-01&to=2026-10-31",
    )
    .await;
    assert_eq!(october["overall"], periods[0]["overall"]);
    assert_eq!(october["weighting"], periods[0]["weighting"]);
}

async fn weighted_blockers_that_tie_rank_by_gate_id(app: TestApp) {
    // Three micro firms fail only task_definition, one small firm only knowledge_organisation,
    // all at the lowest tier. Weighted half micro (2/3 and 2), both gates hold 2 of 4.
    let passes_but = |failing: (&str, &str)| {
        let mut answers = answers(&[&[
            ("task_definition", "named_task"),
            ("knowledge_organisation", "one_place"),
            ("inhouse_skill", "no_code"),
            ("prior_attempts", "tested_prompts"),
        ]]);
        answers[failing.0] = json!(failing.1);
        answers
    };
    let at = "2026-10-05T10:00:00Z";
    let mut items = Vec::new();
    for n in 0..3 {
        items.push(json!({"firm": {"ref": format!("m{n}"), "industry": "C", "size_band": "micro", "country": "DE"},
                          "answers": passes_but(("task_definition", "none")), "submitted_at": at}));
    }
    items.push(json!({"firm": {"ref": "s0", "industry": "C", "size_band": "small", "country": "DE"},
                      "answers": passes_but(("knowledge_organisation", "in_heads")), "submitted_at": at}));
    store(&app, items).await;
    save_margins(
        &app,
        "even",
        json!({"size_band": {"micro": 50, "small": 50}}),
    )
    .await;
    let body = report(&app, "/api/v1/reports/blockers?weights=even&min_cell=3").await;
    let rag = &body["tiers"][0]["overall"];
    let ids = |gates: &Value| -> Vec<String> {
        gates
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g["gate"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        ids(&rag["gates"])[..2],
        [
            "vendor_rag.task_definition",
            "vendor_rag.knowledge_organisation"
        ]
    );
    assert_eq!(
        ids(&rag["weighted"]["gates"]),
        [
            "vendor_rag.knowledge_organisation",
            "vendor_rag.task_definition",
            "vendor_rag.inhouse_skill",
            "vendor_rag.prior_attempts"
        ]
    );
    assert!(close(share(&rag["weighted"]["gates"][0]), 0.5));
    assert!(close(share(&rag["weighted"]["gates"][1]), 0.5));
}

crate::on_both_databases!(
    a_margin_category_without_firms_is_named_or_refused,
    margins_the_sample_cannot_meet_are_flagged,
    zero_population_counts_are_refused_and_not_stored,
    firms_without_a_region_weight_as_not_stated,
    basis_all_intervals_are_clustered_by_firm,
    each_trend_period_is_raked_on_its_own,
    weighted_blockers_that_tie_rank_by_gate_id,
);
