//! Analyst reports over HTTP, computed from what was submitted.

use serde_json::{Value, json};

use crate::helpers::{
    FINE_TUNE, OWN_MODEL_EXTRA, TestApp, answers, assert_problem, dated_submission, pointers,
};

/// Seven small firms and two micro firms; small firm s1 answered twice.
async fn seed(app: &TestApp) {
    let t1 = answers(&[]);
    let t3 = answers(&[FINE_TUNE]);
    let t4 = answers(&[FINE_TUNE, OWN_MODEL_EXTRA]);
    let batch = json!({"responses": [
        dated_submission("s1", "small", t4.clone(), "2026-09-15T10:00:00Z"),
        dated_submission("s1", "small", t1.clone(), "2026-10-02T10:00:00Z"),
        dated_submission("s2", "small", t1.clone(), "2026-10-03T10:00:00Z"),
        dated_submission("s3", "small", t3.clone(), "2026-10-04T10:00:00Z"),
        dated_submission("s4", "small", t3.clone(), "2026-10-05T10:00:00Z"),
        dated_submission("s5", "small", t4.clone(), "2026-10-06T10:00:00Z"),
        dated_submission("s6", "small", t1.clone(), "2026-11-07T10:00:00Z"),
        dated_submission("s7", "small", t1.clone(), "2026-11-08T10:00:00Z"),
        dated_submission("m1", "micro", t1.clone(), "2026-11-09T10:00:00Z"),
        dated_submission("m2", "micro", t3.clone(), "2026-11-10T10:00:00Z"),
    ]});
    let body: Value = app.submit_batch(&batch).await.json().await.unwrap();
    assert_eq!(body["created"], 10);
}

async fn report(app: &TestApp, path: &str) -> Value {
    let response = app.get_as(&app.analyst_key, path).await;
    assert_eq!(response.status().as_u16(), 200, "{path}");
    response.json().await.unwrap()
}

fn counts(cell: &Value) -> Vec<u64> {
    cell["tiers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["count"].as_u64().unwrap())
        .collect()
}

async fn the_readiness_report_counts_each_firms_latest_answer(app: TestApp) {
    seed(&app).await;
    let body = report(&app, "/api/v1/reports/readiness").await;
    assert_eq!(body["survey"], "ai-readiness");
    assert_eq!(body["basis"], "latest");
    // The threshold in force: the test server's configured one.
    assert_eq!(body["min_cell"], 3);
    assert_eq!(body["by"], json!([]));
    let overall = &body["overall"];
    assert_eq!(overall["n"], 9);
    assert_eq!(overall["suppressed"], false);
    // latest answers: s1 t1, s2 t1, s3 t3, s4 t3, s5 t4, s6 t1, s7 t1, m1 t1, m2 t3
    assert_eq!(counts(overall), [5, 0, 3, 1]);
    let ready = &overall["ready_to_customise"];
    assert_eq!(ready["count"], 4);
    assert!((ready["share"].as_f64().unwrap() - 4.0 / 9.0).abs() < 1e-12);
    assert!(
        ready["ci_low"].as_f64().unwrap() < 4.0 / 9.0
            && ready["ci_high"].as_f64().unwrap() > 4.0 / 9.0
    );
    let tier_keys: Vec<&str> = overall["tiers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["key"].as_str().unwrap())
        .collect();
    assert_eq!(
        tier_keys,
        ["vendor_prompting", "vendor_rag", "fine_tune", "own_model"]
    );
    assert!(overall["dimension_means"]["maturity"].is_number());
    assert!(
        body["reference"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["source"] == "Eurostat isoc_eb_ai")
    );

    let all = report(&app, "/api/v1/reports/readiness?basis=all").await;
    assert_eq!(all["overall"]["n"], 10);
    assert_eq!(counts(&all["overall"]), [5, 0, 3, 2]);

    let october = report(
        &app,
        "/api/v1/reports/readiness?from=2026-10-01&to=2026-10-31&min_cell=3",
    )
    .await;
    assert_eq!(october["overall"]["n"], 5);
    assert_eq!(october["from"], "2026-10-01");
}

async fn small_segments_are_suppressed_with_a_partner(app: TestApp) {
    seed(&app).await;
    let body = report(&app, "/api/v1/reports/readiness?by=size_band").await;
    let segments = body["segments"].as_array().unwrap();
    assert_eq!(segments.len(), 2);
    assert_eq!(segments[0]["key"], json!({"size_band": "micro"}));
    assert_eq!(segments[1]["key"], json!({"size_band": "small"}));
    // micro has 2 firms (< 5): hidden, and small with it, so 9 − small cannot reveal it.
    for segment in segments {
        assert_eq!(segment["suppressed"], true);
        assert_eq!(segment["n"], Value::Null);
        assert_eq!(segment["tiers"], Value::Null);
        assert_eq!(segment["ready_to_customise"], Value::Null);
        assert_eq!(segment["dimension_means"], Value::Null);
    }
    assert_eq!(body["overall"]["n"], 9);

    let body = report(&app, "/api/v1/reports/readiness?by=size_band&min_cell=3").await;
    let segments = body["segments"].as_array().unwrap();
    assert_eq!(segments[0]["suppressed"], true, "micro: 2 < 3");
    assert_eq!(segments[1]["suppressed"], true, "small: the partner");
}

/// `by` as generated clients send an array (the parameter repeated) and as people type it
/// (a comma list) gives the same report.
async fn by_may_be_repeated_or_a_comma_list(app: TestApp) {
    seed(&app).await;
    let repeated = report(&app, "/api/v1/reports/readiness?by=size_band&by=industry").await;
    let listed = report(&app, "/api/v1/reports/readiness?by=size_band,industry").await;
    assert_eq!(repeated["by"], json!(["size_band", "industry"]));
    assert_eq!(repeated, listed);

    let response = app
        .get_as(
            &app.analyst_key,
            "/api/v1/reports/readiness?by=size_band&by=size_band",
        )
        .await;
    let problem = assert_problem(response, 422, "validation_failed").await;
    assert_eq!(pointers(&problem), ["/query/by"]);
}

async fn trend_and_blockers_are_reported(app: TestApp) {
    seed(&app).await;
    let trend = report(&app, "/api/v1/reports/trend?interval=month&min_cell=3").await;
    assert_eq!(trend["interval"], "month");
    let periods: Vec<(&str, Value)> = trend["periods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["period"].as_str().unwrap(), p["overall"]["n"].clone()))
        .collect();
    assert_eq!(
        periods,
        [
            ("2026-09", Value::Null),
            ("2026-10", json!(5)),
            ("2026-11", json!(4))
        ]
    );
    let quarters = report(&app, "/api/v1/reports/trend?interval=quarter&min_cell=3").await;
    assert_eq!(quarters["periods"][1]["period"], "2026-Q4");
    assert_eq!(quarters["periods"][1]["overall"]["n"], 9);

    let blockers = report(&app, "/api/v1/reports/blockers?min_cell=3").await;
    let tiers = blockers["tiers"].as_array().unwrap();
    assert_eq!(tiers.len(), 3);
    assert_eq!(tiers[0]["tier"], "vendor_rag");
    assert_eq!(
        tiers[0]["overall"]["n"], 5,
        "five firms at vendor_prompting"
    );
    let gates = tiers[0]["overall"]["gates"].as_array().unwrap();
    assert_eq!(gates.len(), 4);
    for gate in gates {
        assert_eq!(
            gate["count"], 5,
            "all-lowest answers fail every vendor_rag gate"
        );
        assert_eq!(gate["share"], 1.0);
    }
    let ids: Vec<&str> = gates.iter().map(|g| g["gate"].as_str().unwrap()).collect();
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(ids, sorted, "equal shares are ordered by gate id");
    assert_eq!(
        tiers[1]["overall"]["suppressed"], true,
        "nobody is at vendor_rag"
    );
    assert_eq!(tiers[2]["tier"], "own_model");
    assert_eq!(tiers[2]["overall"]["n"], 3);
}

async fn new_submissions_reach_the_next_report(app: TestApp) {
    seed(&app).await;
    assert_eq!(
        report(&app, "/api/v1/reports/readiness").await["overall"]["n"],
        9
    );
    let more = json!({"responses": [dated_submission("late-1", "micro", answers(&[]), "2026-11-20T10:00:00Z")]});
    assert_eq!(app.submit_batch(&more).await.status().as_u16(), 200);
    assert_eq!(
        report(&app, "/api/v1/reports/readiness").await["overall"]["n"],
        10
    );
}

async fn erased_firms_leave_the_reports_at_once(app: TestApp) {
    seed(&app).await;
    assert_eq!(
        report(&app, "/api/v1/reports/readiness?basis=all").await["overall"]["n"],
        10
    );
    let erased = app.delete_as(&app.admin_key, "/api/v1/firms/s1").await;
    assert_eq!(erased.status().as_u16(), 204);
    let after = report(&app, "/api/v1/reports/readiness?basis=all").await;
    assert_eq!(after["overall"]["n"], 8, "both of s1's responses are gone");
    assert_eq!(counts(&after["overall"]), [4, 0, 3, 1]);
}

async fn unknown_parameters_and_values_are_422(app: TestApp) {
    let response = app
        .get_as(
            &app.analyst_key,
            "/api/v1/reports/readiness?by=colour&basis=most&min_cell=2&from=yesterday&foo=1",
        )
        .await;
    let problem = assert_problem(response, 422, "validation_failed").await;
    let mut found = pointers(&problem);
    found.sort();
    assert_eq!(
        found,
        [
            "/query/basis",
            "/query/by",
            "/query/foo",
            "/query/from",
            "/query/min_cell"
        ]
    );
    let problem = assert_problem(
        app.get_as(&app.analyst_key, "/api/v1/reports/trend?interval=week")
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(pointers(&problem), ["/query/interval"]);
    let problem = assert_problem(
        app.get_as(&app.analyst_key, "/api/v1/reports/blockers?survey=nope")
            .await,
        404,
        "not_found",
    )
    .await;
    assert_eq!(pointers(&problem), ["/query/survey"]);
    let problem = assert_problem(
        app.get_as(
            &app.analyst_key,
            "/api/v1/reports/readiness?min_cell=1000000001",
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(pointers(&problem), ["/query/min_cell"]);
    let problem = assert_problem(
        app.get_as(&app.analyst_key, "/api/v1/reports/readiness?version=7")
            .await,
        404,
        "not_found",
    )
    .await;
    assert_eq!(pointers(&problem), ["/query/version"]);
    let problem = assert_problem(
        app.get_as(&app.analyst_key, "/api/v1/reports/readiness?interval=month")
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(
        pointers(&problem),
        ["/query/interval"],
        "interval belongs to the trend only"
    );
}

async fn an_empty_database_reports_everything_suppressed(app: TestApp) {
    let body = report(&app, "/api/v1/reports/readiness?by=industry").await;
    assert_eq!(body["overall"]["suppressed"], true);
    assert_eq!(body["overall"]["n"], Value::Null);
    assert_eq!(body["segments"], json!([]));
    let trend = report(&app, "/api/v1/reports/trend").await;
    assert_eq!(trend["periods"], json!([]));
}

crate::on_both_databases!(
    the_readiness_report_counts_each_firms_latest_answer,
    small_segments_are_suppressed_with_a_partner,
    by_may_be_repeated_or_a_comma_list,
    trend_and_blockers_are_reported,
    new_submissions_reach_the_next_report,
    erased_firms_leave_the_reports_at_once,
    unknown_parameters_and_values_are_422,
    an_empty_database_reports_everything_suppressed,
);
