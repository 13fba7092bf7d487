//! The report snapshot's two ways in: a server that loads every response in bulk at its first
//! report (a parallel scan of the SQLite file, one binary `COPY` from PostgreSQL) holds what a
//! server that read the same responses page by page holds, record keys included.

use readiness_api::settings::{DisclosureTable, Settings};
use serde_json::Value;

use crate::helpers::{Backend, TestApp, spawn_app_with};

const REPORTS: [&str; 6] = [
    "/api/v1/reports/readiness?by=industry,size_band",
    "/api/v1/reports/readiness?by=region&basis=all",
    "/api/v1/reports/readiness?by=country&from=2026-03-01&to=2026-08-31",
    "/api/v1/reports/trend?interval=month&by=size_band",
    "/api/v1/reports/trend?interval=quarter",
    "/api/v1/reports/blockers?by=size_band",
];

/// Perturbed counts: a record key read wrongly changes the published figures.
fn perturbed(settings: &mut Settings) {
    settings.disclosure_threshold = None;
    settings.disclosure_table = DisclosureTable::Shipped("ptable_3_2_unbiased".to_owned());
}

async fn report(app: &TestApp, path: &str) -> Value {
    let response = app.get_as(&app.analyst_key, path).await;
    assert_eq!(response.status().as_u16(), 200, "{path}");
    response.json().await.unwrap()
}

async fn a_bulk_load_holds_what_paging_reads(backend: Backend) {
    let Some(paging) = spawn_app_with(backend, perturbed).await else {
        return;
    };
    // Loaded while the database is empty: every response then arrives by paging.
    let empty = report(&paging, REPORTS[0]).await;
    assert_eq!(empty["overall"]["suppressed"], true);
    readiness_api::services::demo::fill(&paging.db, 600, 3, 11, |_| {})
        .await
        .unwrap();
    let url = paging.database_url.clone();
    let bulk = spawn_app_with(backend, |settings: &mut Settings| {
        perturbed(settings);
        settings.database_url = url;
    })
    .await
    .unwrap();
    let mut published = 0;
    for path in REPORTS {
        let (paged, loaded) = (report(&paging, path).await, report(&bulk, path).await);
        assert_eq!(paged, loaded, "{path}");
        published += loaded.to_string().matches("\"count\":").count();
    }
    // The comparison is of figures, not of suppressed cells.
    assert!(published > 200, "only {published} counts published");
}

mod sqlite {
    use crate::helpers::Backend;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_bulk_load_holds_what_paging_reads() {
        super::a_bulk_load_holds_what_paging_reads(Backend::Sqlite).await;
    }
}

mod postgres {
    use crate::helpers::Backend;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_bulk_load_holds_what_paging_reads() {
        super::a_bulk_load_holds_what_paging_reads(Backend::Postgres).await;
    }
}
