//! Segment filters (`industry`, `size_band`, `country`, `region`) on the reports, the report
//! page, share links and exports: OR within an attribute, AND across, checked like every
//! other parameter, and never a way around disclosure control (a filtered figure is the
//! same cell an unfiltered breakdown publishes; the differencing attacks are in
//! `disclosure.rs`).

use std::collections::BTreeMap;

use readiness_api::settings::DisclosureTable;
use readiness_api::store::entities::{response, share_link};
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::{Value, json};

use crate::helpers::{
    Backend, FINE_TUNE, TestApp, answers, assert_problem, pointers, spawn_app, spawn_app_with,
};

const READINESS: &str = "/api/v1/reports/readiness";

async fn get_json(app: &TestApp, path: &str) -> Value {
    let reply = app.get_as(&app.analyst_key, path).await;
    assert_eq!(reply.status(), 200, "{path}");
    reply.json().await.unwrap()
}

/// Asserts that a filtered report's overall cell is the breakdown's cell for the same
/// segment: the same figures when the breakdown publishes it; when the breakdown suppresses
/// it, suppressed too, or, if the breakdown hid it only as the partner of a smaller segment
/// (secondary suppression), published with at least `min_cell` firms.
fn same_cell(filtered: &Value, cell: &Value, min_cell: i64, what: &str) {
    let (filtered, cell) = (figures(filtered), figures(cell));
    if cell["suppressed"] == false || filtered["suppressed"] == true {
        assert_eq!(filtered, cell, "{what}");
    } else {
        assert!(
            filtered["n"].as_i64().unwrap() >= min_cell,
            "{what}: {filtered}"
        );
    }
}

/// A cell's figures without its key.
fn figures(cell: &Value) -> Value {
    let mut cell = cell.clone();
    if let Some(object) = cell.as_object_mut() {
        object.remove("key");
    }
    cell
}

/// The segments of a breakdown by their keys (`{"industry": "C"}` → cell).
fn segments(report: &Value) -> BTreeMap<String, Value> {
    report["segments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["key"].to_string(), figures(s)))
        .collect()
}

/// A firm's submission with every segment attribute chosen.
fn firm(firm_ref: &str, industry: &str, region: Option<&str>, at: &str) -> Value {
    let mut profile =
        json!({"ref": firm_ref, "industry": industry, "size_band": "small", "country": "DE"});
    if let Some(region) = region {
        profile["region"] = json!(region);
    }
    json!({"firm": profile, "answers": answers(&[FINE_TUNE]), "submitted_at": at})
}

async fn demo_app(backend: Backend) -> Option<TestApp> {
    let app = spawn_app_with(backend, |settings| {
        settings.disclosure_table = DisclosureTable::Shipped("ptable_3_2_unbiased".to_owned());
        settings.disclosure_threshold = None;
    })
    .await?;
    readiness_api::services::demo::fill(&app.db, 400, 2, 11, |_| {})
        .await
        .unwrap();
    Some(app)
}

/// A filtered report publishes exactly what the unfiltered breakdown publishes for the same
/// segments: the same firms, the same cell, the same perturbed figures.
async fn a_filtered_report_is_the_breakdowns_cell(backend: Backend) {
    let Some(app) = demo_app(backend).await else {
        return;
    };
    for basis in ["latest", "all"] {
        let by_industry = get_json(&app, &format!("{READINESS}?by=industry&basis={basis}")).await;
        let cells = segments(&by_industry);
        assert!(cells.len() > 3);
        for (key, cell) in &cells {
            let industry: Value = serde_json::from_str(key).unwrap();
            let industry = industry["industry"].as_str().unwrap();
            let filtered = get_json(
                &app,
                &format!("{READINESS}?industry={industry}&basis={basis}"),
            )
            .await;
            assert_eq!(
                figures(&filtered["overall"]),
                *cell,
                "industry={industry} {basis}"
            );
            assert_eq!(filtered["segments"], json!([]));
            assert_eq!(filtered["filters"]["industry"], json!([industry]));
        }
        // OR within an attribute: the breakdown of a filter on two industries holds exactly
        // their two cells.
        // The two largest industries, which no rule hides.
        let mut largest: Vec<(&String, &Value)> = cells.iter().collect();
        largest.sort_by_key(|(_, cell)| std::cmp::Reverse(cell["n"].as_i64().unwrap_or(0)));
        let expected: BTreeMap<String, Value> = largest[..2]
            .iter()
            .map(|(k, v)| ((*k).clone(), (*v).clone()))
            .collect();
        let two: Vec<String> = expected
            .keys()
            .map(|k| {
                serde_json::from_str::<Value>(k).unwrap()["industry"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect();
        let both = get_json(
            &app,
            &format!(
                "{READINESS}?by=industry&industry={}&industry={}&basis={basis}",
                two[1], two[0]
            ),
        )
        .await;
        assert_eq!(segments(&both), expected);
        let mut sorted = two.clone();
        sorted.sort();
        assert_eq!(
            both["filters"],
            json!({"industry": sorted, "size_band": [], "country": [], "region": []})
        );
    }
    // AND across attributes: industry × size band cells.
    let two_way = get_json(&app, &format!("{READINESS}?by=industry,size_band")).await;
    for (key, cell) in segments(&two_way).into_iter().take(12) {
        let key: Value = serde_json::from_str(&key).unwrap();
        let (industry, size_band) = (
            key["industry"].as_str().unwrap(),
            key["size_band"].as_str().unwrap(),
        );
        let filtered = get_json(
            &app,
            &format!("{READINESS}?industry={industry}&size_band={size_band}"),
        )
        .await;
        assert_eq!(
            figures(&filtered["overall"]),
            cell,
            "{industry} × {size_band}"
        );
    }
    // The trend and the blockers narrow the same way.
    let trend = get_json(&app, "/api/v1/reports/trend?by=size_band").await;
    let small = get_json(&app, "/api/v1/reports/trend?size_band=small").await;
    let periods = trend["periods"].as_array().unwrap();
    assert!(!periods.is_empty());
    for (period, narrowed) in periods.iter().zip(small["periods"].as_array().unwrap()) {
        assert_eq!(period["period"], narrowed["period"]);
        let cell = period["segments"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["key"]["size_band"] == "small");
        match cell {
            Some(cell) => same_cell(&narrowed["overall"], cell, 3, "trend"),
            None => assert_eq!(narrowed["overall"]["n"], Value::Null),
        }
    }
    let blockers = get_json(&app, "/api/v1/reports/blockers?by=country").await;
    let german = get_json(&app, "/api/v1/reports/blockers?country=DE").await;
    for (tier, narrowed) in blockers["tiers"]
        .as_array()
        .unwrap()
        .iter()
        .zip(german["tiers"].as_array().unwrap())
    {
        let cell = tier["segments"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["key"]["country"] == "DE")
            .unwrap();
        same_cell(&narrowed["overall"], cell, 3, "blockers");
    }
}

/// Each firm counts in the segment of its latest response in the window: a firm that moved
/// from industry C to F is in F, and in C only in a window that ends before it moved. A firm
/// that gave no region is in no region.
async fn a_firm_counts_in_the_segment_of_its_latest_response(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let early = "2026-03-01T10:00:00Z";
    let late = "2026-06-01T10:00:00Z";
    let bodies = [
        firm("c-1", "C", Some("DE-BY"), early),
        firm("c-2", "C", Some("DE-BY"), early),
        firm("c-3", "C", None, early),
        firm("mover", "C", Some("DE-BE"), early),
        firm("mover", "F", Some("DE-BE"), late),
        firm("f-1", "F", Some("DE-BE"), late),
        firm("f-2", "F", Some("DE-BE"), late),
    ];
    for body in &bodies {
        assert_eq!(app.submit(body, None).await.status(), 201);
    }
    let n = |query: &'static str| {
        let app = &app;
        async move { get_json(app, &format!("{READINESS}?{query}")).await["overall"]["n"].clone() }
    };
    assert_eq!(n("industry=C").await, 3);
    assert_eq!(n("industry=F").await, 3);
    assert_eq!(n("industry=C,F").await, 6);
    assert_eq!(n("industry=C&to=2026-04-30").await, 4);
    // The region filter: the firm without a region is in none of them.
    assert_eq!(n("region=DE-BE").await, 3);
    assert_eq!(n("region=DE-BE,DE-BY").await, 5);
    // AND across: C and Bavaria is two firms, below the threshold of 3.
    let narrow = get_json(&app, &format!("{READINESS}?industry=C&region=DE-BY")).await;
    assert_eq!(narrow["overall"]["suppressed"], true);
    assert_eq!(narrow["overall"]["n"], Value::Null);
    // A filter on a segment nobody is in is an empty report, not an error.
    assert_eq!(n("industry=A").await, Value::Null);

    // Exports narrow the same rows: every response of C, or the latest of each firm in C.
    let export = |query: &'static str| {
        let app = &app;
        async move {
            let reply = app
                .get_as(
                    &app.analyst_key,
                    &format!("/api/v1/exports/responses?format=ndjson&{query}"),
                )
                .await;
            assert_eq!(reply.status(), 200, "{query}");
            let text = reply.text().await.unwrap();
            text.lines()
                .map(|line| serde_json::from_str::<Value>(line).unwrap())
                .map(|row| {
                    (
                        row["firm_ref"].as_str().unwrap().to_owned(),
                        row["industry"].as_str().unwrap().to_owned(),
                    )
                })
                .collect::<Vec<_>>()
        }
    };
    let mut all_c = export("industry=C").await;
    all_c.sort();
    let refs: Vec<&str> = all_c.iter().map(|(r, _)| r.as_str()).collect();
    assert_eq!(refs, ["c-1", "c-2", "c-3", "mover"]);
    let mut latest_c = export("industry=C&basis=latest").await;
    latest_c.sort();
    let refs: Vec<&str> = latest_c.iter().map(|(r, _)| r.as_str()).collect();
    assert_eq!(refs, ["c-1", "c-2", "c-3"]);
    let german_f: Vec<String> = export("industry=F&country=DE&region=DE-BE")
        .await
        .into_iter()
        .map(|(r, _)| r)
        .collect();
    assert_eq!(german_f.len(), 3);
}

/// Unknown values are named like every other parameter, on every route that takes them, and
/// nothing is stored.
async fn unknown_values_are_named(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let query = "industry=C&industry=Z&size_band=huge&country=UK&region=DE-XX&region=";
    for path in [
        format!("{READINESS}?{query}"),
        format!("/api/v1/reports/trend?{query}"),
        format!("/api/v1/reports/blockers?{query}"),
        format!("/api/v1/reports/readiness.html?{query}"),
        format!(
            "/api/v1/reports/change?baseline_from=2026-01-01&baseline_to=2026-03-31\
             &followup_from=2026-04-01&followup_to=2026-06-30&{query}"
        ),
        format!("/api/v1/exports/responses?{query}"),
    ] {
        let reply = app.get_as(&app.admin_key, &path).await;
        let problem = assert_problem(reply, 422, "validation_failed").await;
        assert_eq!(
            pointers(&problem),
            [
                "/query/industry",
                "/query/size_band",
                "/query/country",
                "/query/region",
                "/query/region"
            ],
            "{path}"
        );
        let messages: Vec<&str> = problem["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["message"].as_str().unwrap())
            .collect();
        assert!(messages[0].contains("`Z`"), "{messages:?}");
        assert!(messages[2].contains("GB"), "the hint for UK: {messages:?}");
    }
    let share = app
        .client
        .post(app.url(&format!("/api/v1/reports/share?{query}")))
        .bearer_auth(&app.analyst_key)
        .send()
        .await
        .unwrap();
    assert_eq!(share.status(), 422);
    assert_eq!(share_link::Entity::find().count(&app.db).await.unwrap(), 0);
    assert_eq!(response::Entity::find().count(&app.db).await.unwrap(), 0);
}

/// The filter is part of what a share link signs, of the page's scope line and of the
/// validators: the same filter spelt differently is the same representation.
async fn filters_travel_with_links_pages_and_validators(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    for i in 0..4 {
        let body = firm(
            &format!("c-{i}"),
            "C",
            Some("DE-BY"),
            "2026-03-01T10:00:00Z",
        );
        assert_eq!(app.submit(&body, None).await.status(), 201);
        let body = firm(&format!("f-{i}"), "F", None, "2026-03-01T10:00:00Z");
        assert_eq!(app.submit(&body, None).await.status(), 201);
    }
    let tag = |path: String| {
        let app = &app;
        async move {
            let reply = app.get_as(&app.analyst_key, &path).await;
            assert_eq!(reply.status(), 200, "{path}");
            reply.headers()["etag"].to_str().unwrap().to_owned()
        }
    };
    let spelt: Vec<String> = [
        "industry=F&industry=C",
        "industry=C,F",
        "industry=C&industry=F&industry=C",
    ]
    .iter()
    .map(|q| format!("{READINESS}?{q}"))
    .collect();
    let first = tag(spelt[0].clone()).await;
    for path in &spelt[1..] {
        assert_eq!(tag(path.clone()).await, first, "{path}");
    }
    assert_ne!(tag(format!("{READINESS}?industry=C")).await, first);

    let page = app
        .get_as(
            &app.analyst_key,
            "/api/v1/reports/readiness.html?industry=C&country=DE",
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("only firms with industry <code>C</code> and country <code>DE</code>"),
        "the scope line names the filter"
    );
    assert!(page.contains("data-figure=\"n\">4<"));

    let link: Value = app
        .post_as(
            &app.analyst_key,
            "/api/v1/reports/share?industry=F",
            &json!({}),
        )
        .await
        .json()
        .await
        .unwrap();
    let shared = app.get(link["url"].as_str().unwrap()).await;
    assert_eq!(shared.status(), 200);
    let shared = shared.text().await.unwrap();
    assert!(shared.contains("only firms with industry <code>F</code>"));
    assert!(shared.contains("data-figure=\"n\">4<"));
    let listed: Value = app
        .get_as(&app.admin_key, "/api/v1/reports/shares")
        .await
        .json()
        .await
        .unwrap();
    let parameters = listed.to_string();
    assert!(parameters.contains("industry"), "{parameters}");
}

mod sqlite {
    use crate::helpers::Backend;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_filtered_report_is_the_breakdowns_cell() {
        super::a_filtered_report_is_the_breakdowns_cell(Backend::Sqlite).await;
    }

    #[tokio::test]
    async fn a_firm_counts_in_the_segment_of_its_latest_response() {
        super::a_firm_counts_in_the_segment_of_its_latest_response(Backend::Sqlite).await;
    }

    #[tokio::test]
    async fn unknown_values_are_named() {
        super::unknown_values_are_named(Backend::Sqlite).await;
    }

    #[tokio::test]
    async fn filters_travel_with_links_pages_and_validators() {
        super::filters_travel_with_links_pages_and_validators(Backend::Sqlite).await;
    }
}

mod postgres {
    use crate::helpers::Backend;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_filtered_report_is_the_breakdowns_cell() {
        super::a_filtered_report_is_the_breakdowns_cell(Backend::Postgres).await;
    }

    #[tokio::test]
    async fn a_firm_counts_in_the_segment_of_its_latest_response() {
        super::a_firm_counts_in_the_segment_of_its_latest_response(Backend::Postgres).await;
    }

    #[tokio::test]
    async fn unknown_values_are_named() {
        super::unknown_values_are_named(Backend::Postgres).await;
    }

    #[tokio::test]
    async fn filters_travel_with_links_pages_and_validators() {
        super::filters_travel_with_links_pages_and_validators(Backend::Postgres).await;
    }
}
