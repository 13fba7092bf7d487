//! The rubric seen through the API: every tier, every gate's boundary, cumulative tiers.

use serde_json::{Value, json};

use crate::helpers::{FINE_TUNE, OWN_MODEL_EXTRA, TestApp, answers, submission};

fn blocker_ids(body: &Value) -> Vec<String> {
    body["blockers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["gate"].as_str().unwrap().to_owned())
        .collect()
}

async fn assess(app: &TestApp, firm: &str, answers: Value) -> Value {
    let response = app.submit(&submission(firm, answers), None).await;
    assert_eq!(response.status().as_u16(), 201);
    response.json().await.unwrap()
}

/// Every question at its highest option: the top tier.
const HIGHEST: &[(&str, &str)] = &[
    ("business_age", "gt_5y"),
    ("revenue_trend", "growing"),
    ("task_definition", "test_cases"),
    ("workflow_integration", "integrated_with_review"),
    ("prior_attempts", "prompts_and_knowledge_base"),
    ("vendor_result", "hard_constraint"),
    ("monthly_ai_spend", "gt_5k"),
    ("data_restrictions", "all_data"),
    ("training_examples", "ge_500"),
    ("knowledge_organisation", "structured_owned"),
    ("inhouse_skill", "ml_team"),
    ("customisation_budget", "gt_50k"),
    ("ai_ownership", "owner_policy_review"),
    ("staff_ai_usage", "most"),
];

async fn all_lowest_stays_on_vendor_prompting(app: TestApp) {
    let body = assess(&app, "t1", answers(&[])).await;
    assert_eq!(body["tier"]["key"], "vendor_prompting");
    assert_eq!(body["tier"]["rank"], 1);
    assert!(body["tier"]["label"].is_string() && body["tier"]["advice"].is_string());
    assert_eq!(body["ready_to_customise"], false);
    assert_eq!(body["next_tier"]["key"], "vendor_rag");
    assert_eq!(body["next_tier"]["rank"], 2);
    assert_eq!(
        blocker_ids(&body),
        [
            "vendor_rag.task_definition",
            "vendor_rag.knowledge_organisation",
            "vendor_rag.inhouse_skill",
            "vendor_rag.prior_attempts"
        ]
    );
    assert!(
        body["blockers"][0]["reason"]
            .as_str()
            .is_some_and(|r| !r.is_empty())
    );
    assert_eq!(
        body["dimension_scores"],
        json!({"maturity": 0.0, "clarity": 0.0, "vendor_gap": 0.0, "capability": 0.0, "governance": 0.0})
    );
}

async fn rag_answers_reach_vendor_rag(app: TestApp) {
    let rag = [
        ("task_definition", "named_task"),
        ("knowledge_organisation", "one_place"),
        ("inhouse_skill", "no_code"),
        ("prior_attempts", "tested_prompts"),
    ];
    let body = assess(&app, "t2", answers(&[&rag])).await;
    assert_eq!(body["tier"]["key"], "vendor_rag");
    assert_eq!(body["ready_to_customise"], false);
    assert_eq!(
        blocker_ids(&body),
        [
            "fine_tune.business_age",
            "fine_tune.revenue_trend",
            "fine_tune.task_definition",
            "fine_tune.workflow_integration",
            "fine_tune.prior_attempts",
            "fine_tune.vendor_gap",
            "fine_tune.training_examples",
            "fine_tune.inhouse_skill",
            "fine_tune.customisation_budget",
            "fine_tune.ai_ownership"
        ]
    );
}

async fn the_fine_tune_example_is_ready_to_customise(app: TestApp) {
    let body = assess(&app, "t3", answers(&[FINE_TUNE])).await;
    assert_eq!(body["tier"]["key"], "fine_tune");
    assert_eq!(body["tier"]["rank"], 3);
    assert_eq!(body["ready_to_customise"], true);
    assert_eq!(
        body["next_tier"],
        json!({"key": "own_model", "rank": 4, "label": "Ready to train or privately deploy an own model"})
    );
    assert_eq!(
        blocker_ids(&body),
        [
            "own_model.data_or_spend",
            "own_model.inhouse_skill",
            "own_model.customisation_budget",
            "own_model.training_examples",
            "own_model.ai_ownership"
        ]
    );
    let scores = &body["dimension_scores"];
    assert_eq!(scores["maturity"], 100.0);
    assert_eq!(scores["clarity"], 100.0);
    // monthly_ai_spend 1/3 and data_restrictions 0/3; vendor_result is not scored.
    assert!((scores["vendor_gap"].as_f64().unwrap() - 100.0 / 6.0).abs() < 1e-9);
    // training_examples 3/4, knowledge_organisation 3/3, inhouse_skill 2/4, budget 2/3.
    let capability = 100.0 * (0.75 + 1.0 + 0.5 + 2.0 / 3.0) / 4.0;
    assert!((scores["capability"].as_f64().unwrap() - capability).abs() < 1e-9);
    assert!(
        (scores["governance"].as_f64().unwrap() - 100.0 * (2.0 / 3.0 + 1.0) / 2.0).abs() < 1e-9
    );
}

async fn the_own_model_example_is_the_top_tier(app: TestApp) {
    let body = assess(&app, "t4", answers(&[FINE_TUNE, OWN_MODEL_EXTRA])).await;
    assert_eq!(body["tier"]["key"], "own_model");
    assert_eq!(body["tier"]["rank"], 4);
    assert_eq!(body["ready_to_customise"], true);
    assert_eq!(body["next_tier"], Value::Null);
    assert_eq!(body["blockers"], json!([]));
}

async fn tiers_are_cumulative(app: TestApp) {
    let body = assess(
        &app,
        "cumulative",
        answers(&[HIGHEST, &[("knowledge_organisation", "scattered_files")]]),
    )
    .await;
    assert_eq!(body["tier"]["key"], "vendor_prompting");
    assert_eq!(blocker_ids(&body), ["vendor_rag.knowledge_organisation"]);
}

/// (gate, tier rank it guards, question, the threshold option, the option just below).
const AT_LEAST_GATES: &[(&str, u64, &str, &str, &str)] = &[
    (
        "vendor_rag.task_definition",
        2,
        "task_definition",
        "named_task",
        "general_area",
    ),
    (
        "vendor_rag.knowledge_organisation",
        2,
        "knowledge_organisation",
        "one_place",
        "scattered_files",
    ),
    (
        "vendor_rag.inhouse_skill",
        2,
        "inhouse_skill",
        "no_code",
        "none",
    ),
    (
        "vendor_rag.prior_attempts",
        2,
        "prior_attempts",
        "tested_prompts",
        "adhoc_chat",
    ),
    ("fine_tune.business_age", 3, "business_age", "3_5y", "1_3y"),
    (
        "fine_tune.revenue_trend",
        3,
        "revenue_trend",
        "stable",
        "volatile",
    ),
    (
        "fine_tune.task_definition",
        3,
        "task_definition",
        "test_cases",
        "success_measure",
    ),
    (
        "fine_tune.workflow_integration",
        3,
        "workflow_integration",
        "one_step",
        "copy_paste",
    ),
    (
        "fine_tune.prior_attempts",
        3,
        "prior_attempts",
        "prompts_and_knowledge_base",
        "tested_prompts",
    ),
    (
        "fine_tune.training_examples",
        3,
        "training_examples",
        "100_499",
        "50_99",
    ),
    (
        "fine_tune.inhouse_skill",
        3,
        "inhouse_skill",
        "scripts_api",
        "no_code",
    ),
    (
        "fine_tune.customisation_budget",
        3,
        "customisation_budget",
        "10k_50k",
        "1k_10k",
    ),
    (
        "fine_tune.ai_ownership",
        3,
        "ai_ownership",
        "named_owner",
        "informal",
    ),
    (
        "own_model.inhouse_skill",
        4,
        "inhouse_skill",
        "trained_model",
        "scripts_api",
    ),
    (
        "own_model.customisation_budget",
        4,
        "customisation_budget",
        "gt_50k",
        "10k_50k",
    ),
    (
        "own_model.training_examples",
        4,
        "training_examples",
        "ge_500",
        "100_499",
    ),
    (
        "own_model.ai_ownership",
        4,
        "ai_ownership",
        "owner_policy_review",
        "named_owner",
    ),
];

async fn each_gate_fails_one_option_below_its_threshold_and_passes_at_it(app: TestApp) {
    for (n, (gate, rank, question, threshold, below)) in AT_LEAST_GATES.iter().enumerate() {
        let failing = assess(
            &app,
            &format!("below-{n}"),
            answers(&[HIGHEST, &[(question, below)]]),
        )
        .await;
        assert_eq!(failing["tier"]["rank"], rank - 1, "{gate} one option below");
        assert_eq!(blocker_ids(&failing), [*gate], "{gate} one option below");

        let passing = assess(
            &app,
            &format!("at-{n}"),
            answers(&[HIGHEST, &[(question, threshold)]]),
        )
        .await;
        assert!(
            passing["tier"]["rank"].as_u64().unwrap() >= *rank,
            "{gate} at the threshold"
        );
        assert!(
            !blocker_ids(&passing).contains(&(*gate).to_owned()),
            "{gate} at the threshold"
        );
    }
}

/// Answers that differ from a base set.
type Overrides<'a> = &'a [(&'a str, &'a str)];

async fn either_branch_of_a_disjunctive_gate_passes_it(app: TestApp) {
    // fine_tune.vendor_gap: a format/consistency or hard-constraint gap, or spend ≥ 1k_5k.
    let cases: &[(Overrides, u64, &[&str])] = &[
        (
            &[
                ("vendor_result", "missing_company_facts"),
                ("monthly_ai_spend", "100_1k"),
            ],
            2,
            &["fine_tune.vendor_gap"],
        ),
        (
            &[
                ("vendor_result", "format_or_consistency"),
                ("monthly_ai_spend", "lt_100"),
            ],
            4,
            &[],
        ),
        (
            &[
                ("vendor_result", "good_enough"),
                ("monthly_ai_spend", "1k_5k"),
            ],
            4,
            &[],
        ),
        // own_model.data_or_spend: data barred from hosted APIs, or spend > 5k.
        (
            &[
                ("data_restrictions", "unsure"),
                ("monthly_ai_spend", "1k_5k"),
            ],
            3,
            &["own_model.data_or_spend"],
        ),
        (
            &[
                ("data_restrictions", "some_data"),
                ("monthly_ai_spend", "lt_100"),
            ],
            4,
            &[],
        ),
        (
            &[("data_restrictions", "none"), ("monthly_ai_spend", "gt_5k")],
            4,
            &[],
        ),
    ];
    for (n, (overrides, rank, blockers)) in cases.iter().enumerate() {
        let body = assess(&app, &format!("any-{n}"), answers(&[HIGHEST, overrides])).await;
        assert_eq!(body["tier"]["rank"], *rank, "case {n}: {overrides:?}");
        assert_eq!(blocker_ids(&body), *blockers, "case {n}: {overrides:?}");
    }
}

crate::on_both_databases!(
    all_lowest_stays_on_vendor_prompting,
    rag_answers_reach_vendor_rag,
    the_fine_tune_example_is_ready_to_customise,
    the_own_model_example_is_the_top_tier,
    tiers_are_cumulative,
    each_gate_fails_one_option_below_its_threshold_and_passes_at_it,
    either_branch_of_a_disjunctive_gate_passes_it,
);
