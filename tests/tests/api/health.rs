use crate::helpers::TestApp;

async fn liveness_and_readiness_answer(app: TestApp) {
    let live = app.get("/healthz").await;
    assert_eq!(live.status().as_u16(), 200);
    assert_eq!(
        live.json::<serde_json::Value>().await.unwrap()["status"],
        "ok"
    );

    let ready = app.get("/readyz").await;
    assert_eq!(ready.status().as_u16(), 200);
    assert_eq!(
        ready.json::<serde_json::Value>().await.unwrap()["status"],
        "ready"
    );
}

async fn unknown_routes_are_problem_documents(app: TestApp) {
    let response = app.get("/api/v1/nothing-here").await;
    crate::helpers::assert_problem(response, 404, "not_found").await;
}

crate::on_both_databases!(
    liveness_and_readiness_answer,
    unknown_routes_are_problem_documents
);
