//! Demo data: plausible, scored by the real rubric, and the same for the same seed.

use readiness_api::store::entities::response;
use sea_orm::{EntityTrait, QueryOrder};
use serde_json::Value;

use crate::helpers::TestApp;

async fn tiers(app: &TestApp) -> Vec<(String, String, String)> {
    response::Entity::find()
        .order_by_asc(response::Column::SubmittedAt)
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.tier, r.size_band, r.submitted_at.to_rfc3339()))
        .collect()
}

async fn the_same_seed_gives_the_same_data(app: TestApp) {
    let stored = readiness_api::services::demo::fill(&app.db, 120, 2, 7, |_| {})
        .await
        .unwrap();
    assert_eq!(stored, 240);
    assert_eq!(app.response_rows().await, 240);
    assert_eq!(app.firm_rows().await, 120);

    let other = crate::helpers::spawn_app(crate::helpers::Backend::Sqlite)
        .await
        .unwrap();
    readiness_api::services::demo::fill(&other.db, 120, 2, 7, |_| {})
        .await
        .unwrap();
    assert_eq!(tiers(&app).await, tiers(&other).await);

    let third = crate::helpers::spawn_app(crate::helpers::Backend::Sqlite)
        .await
        .unwrap();
    readiness_api::services::demo::fill(&third.db, 120, 2, 8, |_| {})
        .await
        .unwrap();
    assert_ne!(tiers(&app).await, tiers(&third).await);

    // The data makes a real report: more than one tier occurs, and it is stored as imported.
    let report: Value = app
        .get_as(&app.analyst_key, "/api/v1/reports/readiness?by=size_band")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(report["overall"]["n"], 120);
    let populated = report["overall"]["tiers"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["count"].as_u64().unwrap() > 0)
        .count();
    assert!(populated >= 2, "{report}");
    let sources: Vec<String> = response::Entity::find()
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.source)
        .collect();
    assert!(sources.iter().all(|s| s == "import"));
}

crate::on_both_databases!(the_same_seed_gives_the_same_data);
