//! The change report over HTTP: exact figures on the test server's unperturbed table with its
//! threshold of 3 firms, the windows' checks, and the page's transition chart.

use serde_json::{Value, json};

use crate::helpers::{
    FINE_TUNE, OWN_MODEL_EXTRA, TestApp, answers, assert_problem, dated_submission, pointers,
};

/// Answers that pass every gate of vendor_rag (and fail fine_tune's business age).
const RAG: &[(&str, &str)] = &[
    ("task_definition", "named_task"),
    ("knowledge_organisation", "one_place"),
    ("inhouse_skill", "no_code"),
    ("prior_attempts", "tested_prompts"),
];

const WINDOWS: &str = "baseline_from=2026-01-01&baseline_to=2026-01-31\
                       &followup_from=2026-07-01&followup_to=2026-07-31";

/// Answers that score tier `rank` (1–4).
fn at_tier(rank: usize) -> Value {
    match rank {
        1 => answers(&[]),
        2 => answers(&[RAG]),
        3 => answers(&[FINE_TUNE]),
        _ => answers(&[FINE_TUNE, OWN_MODEL_EXTRA]),
    }
}

/// Panel firms moving from tier `from` to tier `to` (0-based): 3 to 5 each.
fn moved(from: usize, to: usize) -> u64 {
    3 + ((from + 2 * to) % 3) as u64
}

fn day(month: u32, day: usize) -> String {
    format!("2026-{month:02}-{:02}T10:00:00Z", day % 28 + 1)
}

/// The panel of [`moved`], with: firm p-0-0-0 answering at the top tier earlier in the
/// baseline window and firm p-0-1-0 at the top tier earlier in the follow-up window (only
/// the later answers count), firm `gone` answering in both windows and then erased, firms
/// a1–a4 only at baseline and f1–f3 only at follow-up, and a response between the windows.
async fn seed(app: &TestApp) {
    let mut items = Vec::new();
    let mut number = 0;
    for from in 0..4 {
        for to in 0..4 {
            for k in 0..moved(from, to) {
                let firm = format!("p-{from}-{to}-{k}");
                items.push(dated_submission(
                    &firm,
                    "small",
                    at_tier(from + 1),
                    &day(1, number + 1),
                ));
                items.push(dated_submission(
                    &firm,
                    "small",
                    at_tier(to + 1),
                    &day(7, number + 1),
                ));
                number += 1;
            }
        }
    }
    let earlier = |firm: &str, month: u32| {
        dated_submission(
            firm,
            "small",
            at_tier(4),
            &format!("2026-{month:02}-01T00:00:00Z"),
        )
    };
    items.push(earlier("p-0-0-0", 1));
    items.push(earlier("p-0-1-0", 7));
    items.push(dated_submission(
        "p-1-1-0",
        "small",
        at_tier(4),
        "2026-04-15T10:00:00Z",
    ));
    for firm in ["a1", "a2", "a3", "a4"] {
        items.push(dated_submission(firm, "small", at_tier(2), &day(1, 3)));
    }
    for firm in ["f1", "f2", "f3"] {
        items.push(dated_submission(firm, "small", at_tier(2), &day(7, 3)));
    }
    items.push(dated_submission("gone", "small", at_tier(1), &day(1, 5)));
    items.push(dated_submission("gone", "small", at_tier(4), &day(7, 5)));
    let count = items.len();
    let body: Value = app
        .submit_batch(&json!({ "responses": items }))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["created"], count);
    let erased = app.delete_as(&app.admin_key, "/api/v1/firms/gone").await;
    assert_eq!(erased.status().as_u16(), 204);
}

async fn change(app: &TestApp, query: &str) -> Value {
    let path = format!("/api/v1/reports/change?{query}");
    let response = app.get_as(&app.analyst_key, &path).await;
    assert_eq!(response.status().as_u16(), 200, "{path}");
    response.json().await.unwrap()
}

/// Newcombe's method 10, follow-up minus baseline, written out.
fn newcombe(a: f64, b: f64, c: f64, d: f64) -> (f64, f64, f64) {
    let z = 1.959_963_984_540_054_f64;
    let n = a + b + c + d;
    let wilson = |x: f64| {
        let p = x / n;
        let centre = (p + z * z / (2.0 * n)) / (1.0 + z * z / n);
        let half = z * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt() / (1.0 + z * z / n);
        (centre - half, centre + half)
    };
    let (p1, p2) = ((a + c) / n, (a + b) / n);
    let ((l1, u1), (l2, u2)) = (wilson(a + c), wilson(a + b));
    let cross = a * d - b * c;
    let corrected = if cross > n / 2.0 {
        cross - n / 2.0
    } else if cross >= 0.0 {
        0.0
    } else {
        cross
    };
    let phi = corrected / ((a + c) * (b + d) * (a + b) * (c + d)).sqrt();
    let low = p1
        - p2
        - ((p1 - l1).powi(2) - 2.0 * phi * (p1 - l1) * (u2 - p2) + (u2 - p2).powi(2)).sqrt();
    let high = p1 - p2
        + ((u1 - p1).powi(2) - 2.0 * phi * (u1 - p1) * (p2 - l2) + (p2 - l2).powi(2)).sqrt();
    (p1 - p2, low, high)
}

/// The exact McNemar p and mid-p from binomial coefficients.
fn mcnemar(lost: u64, gained: u64) -> (f64, f64) {
    let n = lost + gained;
    let k = lost.min(gained);
    let choose = |k: u64| (0..k).fold(1u128, |c, i| c * u128::from(n - i) / u128::from(i + 1));
    let tail: u128 = (0..=k).map(choose).sum();
    let total = 2f64.powi(i32::try_from(n).unwrap());
    (
        (2.0 * tail as f64 / total).min(1.0),
        (2.0 * (tail as f64 - choose(k) as f64 / 2.0) / total).min(1.0),
    )
}

fn close(value: &Value, expected: f64) {
    let value = value
        .as_f64()
        .unwrap_or_else(|| panic!("{value} is not a number"));
    assert!((value - expected).abs() < 1e-12, "{value} != {expected}");
}

async fn the_change_report_pairs_each_firms_latest_answers(app: TestApp) {
    seed(&app).await;
    let body = change(&app, WINDOWS).await;
    let panel: u64 = (0..4).flat_map(|i| (0..4).map(move |j| moved(i, j))).sum();
    assert_eq!(body["baseline_from"], "2026-01-01");
    assert_eq!(body["followup_to"], "2026-07-31");
    assert_eq!(body["min_cell"], 3);
    // The erased firm is in neither the panel nor the attrition.
    assert_eq!(
        body["panel"],
        json!({"firms": panel, "baseline_only": 4, "followup_only": 3})
    );
    let overall = &body["overall"];
    assert_eq!(overall["n"], panel);
    assert_eq!(overall["suppressed"], false);
    let rows = overall["transitions"].as_array().unwrap();
    let keys = ["vendor_prompting", "vendor_rag", "fine_tune", "own_model"];
    for (i, row) in rows.iter().enumerate() {
        let row_n: u64 = (0..4).map(|j| moved(i, j)).sum();
        assert_eq!(row["from"], keys[i]);
        assert_eq!(row["n"], row_n);
        for (j, cell) in row["to"].as_array().unwrap().iter().enumerate() {
            assert_eq!(cell["to"], keys[j]);
            assert_eq!(cell["count"], moved(i, j), "{i} → {j}");
            close(&cell["row_share"], moved(i, j) as f64 / row_n as f64);
        }
    }
    for (j, tier) in overall["followup_tiers"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
    {
        assert_eq!(tier["count"], (0..4).map(|i| moved(i, j)).sum::<u64>());
    }
    let shares = overall["shares"].as_array().unwrap();
    assert_eq!(shares.len(), 4);
    assert_eq!(shares[0]["measure"], "ready_to_customise");
    assert_eq!(shares[0]["tier"], Value::Null);
    for (share, threshold) in shares.iter().zip([2usize, 1, 2, 3]) {
        let sum = |before: bool, after: bool| -> u64 {
            (0..4)
                .flat_map(|i| (0..4).map(move |j| (i, j)))
                .filter(|(i, j)| (*i >= threshold) == before && (*j >= threshold) == after)
                .map(|(i, j)| moved(i, j))
                .sum()
        };
        let (a, b, c, d) = (
            sum(true, true),
            sum(true, false),
            sum(false, true),
            sum(false, false),
        );
        let n = (a + b + c + d) as f64;
        assert_eq!(share["suppressed"], false);
        close(&share["baseline_share"], (a + b) as f64 / n);
        close(&share["followup_share"], (a + c) as f64 / n);
        let (difference, low, high) = newcombe(a as f64, b as f64, c as f64, d as f64);
        close(&share["difference"], difference);
        close(&share["ci_low"], low);
        close(&share["ci_high"], high);
        assert_eq!(
            (share["lost"].as_u64(), share["gained"].as_u64()),
            (Some(b), Some(c))
        );
        let (p, mid) = mcnemar(b, c);
        close(&share["mcnemar_p"], p);
        close(&share["mcnemar_mid_p"], mid);
        assert!(share.get("weighted").is_none());
    }
    let dimensions: Vec<&str> = overall["score_changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["dimension"].as_str().unwrap())
        .collect();
    assert_eq!(
        dimensions,
        [
            "maturity",
            "clarity",
            "vendor_gap",
            "capability",
            "governance"
        ]
    );
    assert!(overall.get("n_eff").is_none());
    assert_eq!(body["segments"], json!([]));

    // By size band: one segment, the whole panel.
    let by = change(&app, &format!("{WINDOWS}&by=size_band")).await;
    assert_eq!(by["segments"].as_array().unwrap().len(), 1);
    assert_eq!(by["segments"][0]["key"], json!({"size_band": "small"}));
    assert_eq!(by["segments"][0]["n"], panel);
}

async fn empty_windows_publish_nothing(app: TestApp) {
    seed(&app).await;
    let body = change(
        &app,
        "baseline_from=2025-01-01&baseline_to=2025-01-31\
         &followup_from=2025-02-01&followup_to=2025-02-28",
    )
    .await;
    assert_eq!(
        body["panel"],
        json!({"firms": null, "baseline_only": null, "followup_only": null})
    );
    assert_eq!(body["overall"]["suppressed"], true);
    assert_eq!(body["overall"]["transitions"], Value::Null);
    // Firms at baseline and nobody at follow-up: all of them are attrition.
    let body = change(
        &app,
        "baseline_from=2026-01-01&baseline_to=2026-01-31\
         &followup_from=2026-12-01&followup_to=2026-12-31",
    )
    .await;
    let baseline: u64 = (0..4)
        .flat_map(|i| (0..4).map(move |j| moved(i, j)))
        .sum::<u64>()
        + 4;
    assert_eq!(
        body["panel"],
        json!({"firms": null, "baseline_only": baseline, "followup_only": null})
    );
}

async fn windows_are_required_and_must_not_overlap(app: TestApp) {
    let get = |query: &'static str| {
        let app = &app;
        async move {
            app.get_as(&app.analyst_key, &format!("/api/v1/reports/change{query}"))
                .await
        }
    };
    let problem = assert_problem(get("").await, 422, "validation_failed").await;
    assert_eq!(
        pointers(&problem),
        [
            "/query/baseline_from",
            "/query/baseline_to",
            "/query/followup_from",
            "/query/followup_to"
        ]
    );
    let problem = assert_problem(
        get("?baseline_from=2026-01-01&baseline_to=2026-03-31\
             &followup_from=2026-03-31&followup_to=2026-06-30")
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(pointers(&problem), ["/query/followup_from"]);
    assert!(
        problem["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("overlap"),
        "{problem}"
    );
    let problem = assert_problem(
        get(
            "?baseline_from=2026-01-01&baseline_to=2026-13-01&followup_from=2026-07-01\
             &from=2026-01-01&basis=all",
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(
        pointers(&problem),
        [
            "/query/from",
            "/query/basis",
            "/query/baseline_to",
            "/query/followup_to"
        ]
    );
    // The other reports do not take the windows.
    let problem = assert_problem(
        app.get_as(
            &app.analyst_key,
            "/api/v1/reports/readiness?baseline_from=2026-01-01",
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(pointers(&problem), ["/query/baseline_from"]);
}

async fn the_page_draws_the_transitions_when_asked(app: TestApp) {
    seed(&app).await;
    let page = |query: String| {
        let app = &app;
        async move {
            let response = app
                .get_as(
                    &app.analyst_key,
                    &format!("/api/v1/reports/readiness.html{query}"),
                )
                .await;
            assert_eq!(response.status().as_u16(), 200);
            response.text().await.unwrap()
        }
    };
    let plain = page(String::new()).await;
    assert!(!plain.contains("data-chart=\"transitions\""));
    assert!(!plain.contains("id=\"change\""));
    let with = page(format!("?{WINDOWS}")).await;
    let start = with
        .find("<section class=\"card wide\" id=\"change\">")
        .unwrap();
    let section = &with[start..start + with[start..].find("</section>").unwrap()];
    let panel: u64 = (0..4).flat_map(|i| (0..4).map(move |j| moved(i, j))).sum();
    assert!(section.contains(&format!("<b data-figure=\"panel\">{panel}</b>")));
    assert!(section.contains("data-chart=\"transitions\""));
    // The first cell: 3 firms stayed at the lowest tier, of its row's 12.
    let first: u64 = (0..4).map(|j| moved(0, j)).sum();
    assert!(section.contains(&format!(
        "{} · {:.0} %",
        moved(0, 0),
        moved(0, 0) as f64 / first as f64 * 100.0
    )));
    assert!(!section.contains("<script"));
}

crate::on_both_databases!(
    the_change_report_pairs_each_firms_latest_answers,
    empty_windows_publish_nothing,
    windows_are_required_and_must_not_overlap,
    the_page_draws_the_transitions_when_asked,
);
