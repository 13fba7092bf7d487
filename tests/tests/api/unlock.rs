//! The unlock analysis of the blockers report over HTTP: exact figures on the test server's
//! unperturbed table with its threshold of 3 firms.

use serde_json::{Value, json};

use crate::helpers::{TestApp, answers, dated_submission};

/// Answers that pass every gate of vendor_rag.
const RAG: &[(&str, &str)] = &[
    ("task_definition", "named_task"),
    ("knowledge_organisation", "one_place"),
    ("inhouse_skill", "no_code"),
    ("prior_attempts", "tested_prompts"),
];
const TD: &str = "vendor_rag.task_definition";
const KO: &str = "vendor_rag.knowledge_organisation";

/// Ten firms at vendor_prompting. Small: s1–s4 blocked by the task definition alone (s1
/// answered all-lowest first), s5 and s6 by all four gates. Micro: m1–m3 by the knowledge
/// organisation alone, m4 by both.
async fn seed(app: &TestApp) {
    let only_task = answers(&[RAG, &[("task_definition", "general_area")]]);
    let only_knowledge = answers(&[RAG, &[("knowledge_organisation", "scattered_files")]]);
    let both = answers(&[
        RAG,
        &[
            ("task_definition", "general_area"),
            ("knowledge_organisation", "scattered_files"),
        ],
    ]);
    let lowest = answers(&[]);
    let at = |day: u32| format!("2026-10-{day:02}T10:00:00Z");
    let batch = json!({"responses": [
        dated_submission("s1", "small", lowest.clone(), &at(1)),
        dated_submission("s1", "small", only_task.clone(), &at(2)),
        dated_submission("s2", "small", only_task.clone(), &at(3)),
        dated_submission("s3", "small", only_task.clone(), &at(4)),
        dated_submission("s4", "small", only_task.clone(), &at(5)),
        dated_submission("s5", "small", lowest.clone(), &at(6)),
        dated_submission("s6", "small", lowest.clone(), &at(7)),
        dated_submission("m1", "micro", only_knowledge.clone(), &at(8)),
        dated_submission("m2", "micro", only_knowledge.clone(), &at(9)),
        dated_submission("m3", "micro", only_knowledge.clone(), &at(10)),
        dated_submission("m4", "micro", both, &at(11)),
    ]});
    let body: Value = app.submit_batch(&batch).await.json().await.unwrap();
    assert_eq!(body["created"], 11);
}

async fn blockers(app: &TestApp, query: &str) -> Value {
    let path = format!("/api/v1/reports/blockers{query}");
    let response = app.get_as(&app.analyst_key, &path).await;
    assert_eq!(response.status().as_u16(), 200, "{path}");
    response.json().await.unwrap()
}

/// (gate, count) in the published order, `None` for a suppressed figure.
fn sole(unlock: &Value) -> Vec<(String, Option<u64>)> {
    unlock["sole_blockers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            assert_eq!(g["suppressed"], g["estimate"].is_null());
            (
                g["gate"].as_str().unwrap().to_owned(),
                g["estimate"]["count"].as_u64(),
            )
        })
        .collect()
}

fn bins(unlock: &Value) -> Vec<(String, Option<u64>)> {
    unlock["blocker_counts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["blockers"].as_str().unwrap().to_owned(),
                b["estimate"]["count"].as_u64(),
            )
        })
        .collect()
}

fn figures(list: &[(&str, Option<u64>)]) -> Vec<(String, Option<u64>)> {
    list.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect()
}

async fn the_blockers_report_ranks_sole_blockers(app: TestApp) {
    seed(&app).await;
    let body = blockers(&app, "").await;
    let tier = &body["tiers"][0];
    assert_eq!(tier["tier"], "vendor_rag");
    assert_eq!(tier["overall"]["n"], 10);
    let unlock = &tier["overall"]["unlock"];
    // Counts of 0, 1 and 2 are below the threshold of 3.
    assert_eq!(
        sole(unlock),
        figures(&[
            (TD, Some(4)),
            (KO, Some(3)),
            ("vendor_rag.inhouse_skill", None),
            ("vendor_rag.prior_attempts", None),
        ])
    );
    assert_eq!(
        bins(unlock),
        figures(&[("1", Some(7)), ("2", None), ("3", None), ("4+", None)])
    );
    let task = &unlock["sole_blockers"][0];
    assert_eq!(task["estimate"]["share"], 0.4);
    assert!(task["reason"].as_str().unwrap().contains("task"));
    let (low, high) = wilson(4.0, 10.0);
    assert!((task["estimate"]["ci_low"].as_f64().unwrap() - low).abs() < 1e-12);
    assert!((task["estimate"]["ci_high"].as_f64().unwrap() - high).abs() < 1e-12);
    assert!(task.get("weighted").is_none());
    // Nobody is at vendor_rag: the cell below fine_tune is suppressed whole.
    assert_eq!(body["tiers"][1]["overall"]["suppressed"], true);
    assert_eq!(body["tiers"][1]["overall"]["unlock"], Value::Null);

    // By size band: each segment's only figure of 3 or more beside zeros would be the
    // overall figure minus the other segment's, so both are hidden.
    let body = blockers(&app, "?by=size_band").await;
    let tier = &body["tiers"][0];
    assert_eq!(
        sole(&tier["overall"]["unlock"]),
        figures(&[
            (TD, Some(4)),
            (KO, Some(3)),
            ("vendor_rag.inhouse_skill", None),
            ("vendor_rag.prior_attempts", None),
        ])
    );
    let segments = tier["segments"].as_array().unwrap();
    assert_eq!(segments[0]["key"]["size_band"], "micro");
    assert_eq!(segments[0]["n"], 4);
    assert_eq!(segments[1]["n"], 6);
    for (segment, ones) in segments.iter().zip([3, 4]) {
        let unlock = &segment["unlock"];
        assert!(
            sole(unlock).iter().all(|(_, count)| count.is_none()),
            "{unlock}"
        );
        assert_eq!(
            bins(unlock),
            figures(&[("1", Some(ones)), ("2", None), ("3", None), ("4+", None)])
        );
    }
}

/// The rows of a table of the page's unlock section: the cells of each row joined by `|`.
fn rows(section: &str, class: &str) -> Vec<String> {
    let start = section
        .find(&format!("<table class=\"figures {class}\">"))
        .unwrap();
    let table = &section[start..start + section[start..].find("</table>").unwrap()];
    let body = &table[table.find("<tbody>").unwrap() + "<tbody>".len()..];
    body.split("</tr>")
        .filter(|row| row.contains("<tr"))
        .map(|row| {
            let cells: Vec<&str> = row
                .split(['<', '>'])
                .enumerate()
                .filter(|(i, _)| i % 2 == 0)
                .map(|(_, text)| text.trim())
                .filter(|text| !text.is_empty())
                .collect();
            cells.join("|")
        })
        .collect()
}

async fn the_report_page_shows_the_unlock_ranking(app: TestApp) {
    seed(&app).await;
    let json = blockers(&app, "").await;
    let reason = |i: usize| {
        json["tiers"][0]["overall"]["unlock"]["sole_blockers"][i]["reason"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let response = app
        .get_as(&app.analyst_key, "/api/v1/reports/readiness.html")
        .await;
    assert_eq!(response.status().as_u16(), 200);
    let page = response.text().await.unwrap();
    let start = page
        .find("<div class=\"unlock\" id=\"unlock-vendor_rag\">")
        .unwrap();
    let section = &page[start..start + page[start..].find("</div>").unwrap()];
    assert!(section.contains("moves them up to "));
    let (low, high) = wilson(4.0, 10.0);
    let (low_k, high_k) = wilson(3.0, 10.0);
    assert_eq!(
        rows(section, "unlock-ranking"),
        [
            format!(
                "{}|40.0 %|{:.1}–{:.1} %|4",
                reason(0),
                low * 100.0,
                high * 100.0
            ),
            format!(
                "{}|30.0 %|{:.1}–{:.1} %|3",
                reason(1),
                low_k * 100.0,
                high_k * 100.0
            ),
            format!("{}|suppressed", reason(2)),
            format!("{}|suppressed", reason(3)),
        ]
    );
    let (low, high) = wilson(7.0, 10.0);
    assert_eq!(
        rows(section, "blocker-counts"),
        [
            format!("1|70.0 %|{:.1}–{:.1} %|7", low * 100.0, high * 100.0),
            "2|suppressed".to_owned(),
            "3|suppressed".to_owned(),
            "4+|suppressed".to_owned(),
        ]
    );
    // The tier below fine_tune is suppressed whole: no ranking for it.
    assert!(!page.contains("id=\"unlock-fine_tune\""));
}

/// The 95 % Wilson score interval, written out.
fn wilson(x: f64, n: f64) -> (f64, f64) {
    let z = 1.959_963_984_540_054_f64;
    let p = x / n;
    let centre = (p + z * z / (2.0 * n)) / (1.0 + z * z / n);
    let half = z * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt() / (1.0 + z * z / n);
    (centre - half, centre + half)
}

crate::on_both_databases!(
    the_blockers_report_ranks_sole_blockers,
    the_report_page_shows_the_unlock_ranking,
);
