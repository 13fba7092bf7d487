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

/// Each firm's responses in time order: (firm id, tier rank, submitted at).
async fn by_firm(app: &TestApp) -> std::collections::BTreeMap<String, Vec<(u8, String)>> {
    let ranks = ["vendor_prompting", "vendor_rag", "fine_tune", "own_model"];
    let mut firms: std::collections::BTreeMap<String, Vec<(u8, String)>> = Default::default();
    for r in response::Entity::find()
        .order_by_asc(response::Column::SubmittedAt)
        .all(&app.db)
        .await
        .unwrap()
    {
        let rank = ranks.iter().position(|t| *t == r.tier).unwrap() as u8 + 1;
        firms
            .entry(r.firm_id.to_string())
            .or_default()
            .push((rank, r.submitted_at.to_rfc3339()));
    }
    firms
}

async fn the_follow_up_wave_adds_later_answers(app: TestApp) {
    let stored =
        readiness_api::services::demo::fill_with_follow_up(&app.db, 300, 1, 0.4, 7, |_| {})
            .await
            .unwrap();
    let wave = stored - 300;
    // 40 % of 300 firms, give or take the draw.
    assert!((90..=150).contains(&wave), "{wave}");
    let firms = by_firm(&app).await;
    assert_eq!(firms.len(), 300);
    let again: Vec<&Vec<(u8, String)>> = firms.values().filter(|r| r.len() == 2).collect();
    assert_eq!(again.len() as u64, wave);
    // Later, within 90–270 days (or before now), and some moved up a tier.
    for responses in &again {
        let first = chrono::DateTime::parse_from_rfc3339(&responses[0].1).unwrap();
        let second = chrono::DateTime::parse_from_rfc3339(&responses[1].1).unwrap();
        assert!(second > first && second - first <= chrono::Duration::days(270));
    }
    let improved = again.iter().filter(|r| r[1].0 > r[0].0).count();
    assert!(improved > 0, "nobody improved");

    // The same seed gives the same wave, and the wave leaves the rest of the data as it was.
    let other = crate::helpers::spawn_app(crate::helpers::Backend::Sqlite)
        .await
        .unwrap();
    readiness_api::services::demo::fill_with_follow_up(&other.db, 300, 1, 0.4, 7, |_| {})
        .await
        .unwrap();
    assert_eq!(tiers(&app).await, tiers(&other).await);
    let plain = crate::helpers::spawn_app(crate::helpers::Backend::Sqlite)
        .await
        .unwrap();
    readiness_api::services::demo::fill(&plain.db, 300, 1, 7, |_| {})
        .await
        .unwrap();
    let plain_rows = tiers(&plain).await;
    let all_rows = tiers(&app).await;
    assert_eq!(plain_rows.len(), 300);
    assert!(plain_rows.iter().all(|row| all_rows.contains(row)));
}

crate::on_both_databases!(
    the_same_seed_gives_the_same_data,
    the_follow_up_wave_adds_later_answers,
);
