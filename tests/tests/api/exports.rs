//! Exports over HTTP: every format holds exactly what was stored, filters select the right
//! rows, firm references can be pseudonymised, and an export imports back unchanged.

use std::collections::BTreeMap;

use readiness_api::services::exports::Pseudonymiser;
use readiness_api::services::imports::{ImportFormat, ImportSummary, import};
use readiness_api::settings::Secret;
use readiness_api::store::entities::server_secret;
use sea_orm::EntityTrait;
use serde_json::{Map, Value, json};

use crate::helpers::{
    Backend, FINE_TUNE, OWN_MODEL_EXTRA, Reply, TestApp, answers, assert_problem, pointers,
    spawn_app, spawn_app_with,
};

const PATH: &str = "/api/v1/exports/responses";

const QUESTIONS: [&str; 14] = [
    "business_age",
    "revenue_trend",
    "task_definition",
    "workflow_integration",
    "prior_attempts",
    "vendor_result",
    "monthly_ai_spend",
    "data_restrictions",
    "training_examples",
    "knowledge_organisation",
    "inhouse_skill",
    "customisation_budget",
    "ai_ownership",
    "staff_ai_usage",
];

/// The columns every export has for `ai-readiness` v1, in order.
fn columns() -> Vec<String> {
    let leading = [
        "response_id",
        "survey",
        "version",
        "firm_ref",
        "industry",
        "size_band",
        "country",
        "region",
        "submitted_at",
        "received_at",
    ];
    let trailing = [
        "tier",
        "tier_rank",
        "ready_to_customise",
        "blockers",
        "score_maturity",
        "score_clarity",
        "score_vendor_gap",
        "score_capability",
        "score_governance",
    ];
    leading
        .iter()
        .map(|c| (*c).to_owned())
        .chain(QUESTIONS.iter().map(|q| format!("answer_{q}")))
        .chain(trailing.iter().map(|c| (*c).to_owned()))
        .collect()
}

fn item(firm: Value, answers: Value, at: &str) -> Value {
    json!({"firm": firm, "answers": answers, "submitted_at": at})
}

/// Three firms, four responses: f1 answers in September and again in October.
/// Returns the response ids in the order they were stored.
async fn seed(app: &TestApp) -> Vec<String> {
    let f1 = json!({"ref": "f1", "industry": "C", "size_band": "small", "country": "DE", "region": "DE-BY"});
    let f2 = json!({"ref": "f2", "industry": "G", "size_band": "micro", "country": "FR"});
    let f3 = json!({"ref": "f3, \"quoted\"", "industry": "J", "size_band": "medium", "country": "IT", "region": "IT-25"});
    let batch = json!({"responses": [
        item(f1.clone(), answers(&[FINE_TUNE, OWN_MODEL_EXTRA]), "2026-09-15T10:00:00Z"),
        item(f2, answers(&[FINE_TUNE]), "2026-10-05T08:30:00.250Z"),
        item(f1, answers(&[]), "2026-10-20T10:00:00Z"),
        item(f3, answers(&[FINE_TUNE]), "2026-11-07T23:59:59Z"),
    ]});
    let body: Value = app.submit_batch(&batch).await.json().await.unwrap();
    assert_eq!(body["created"], 4, "{body}");
    body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect()
}

/// What an export row must hold, built from the stored response as `GET /responses/{id}`
/// returns it (NDJSON types: `null` for absent values, blockers as an array).
async fn expected(app: &TestApp, id: &str) -> Map<String, Value> {
    let stored: Value = app
        .get_as(&app.analyst_key, &format!("/api/v1/responses/{id}"))
        .await
        .json()
        .await
        .unwrap();
    let mut row = Map::new();
    row.insert("response_id".into(), stored["id"].clone());
    row.insert("survey".into(), stored["survey"]["slug"].clone());
    row.insert("version".into(), stored["survey"]["version"].clone());
    row.insert("firm_ref".into(), stored["firm"]["ref"].clone());
    for field in ["industry", "size_band", "country", "region"] {
        row.insert(field.into(), stored["firm"][field].clone());
    }
    row.insert("submitted_at".into(), stored["submitted_at"].clone());
    row.insert("received_at".into(), stored["received_at"].clone());
    for question in QUESTIONS {
        row.insert(
            format!("answer_{question}"),
            stored["answers"][question].clone(),
        );
    }
    row.insert("tier".into(), stored["tier"]["key"].clone());
    row.insert("tier_rank".into(), stored["tier"]["rank"].clone());
    row.insert(
        "ready_to_customise".into(),
        stored["ready_to_customise"].clone(),
    );
    let gates: Vec<Value> = stored["blockers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["gate"].clone())
        .collect();
    row.insert("blockers".into(), Value::Array(gates));
    for dimension in [
        "maturity",
        "clarity",
        "vendor_gap",
        "capability",
        "governance",
    ] {
        row.insert(
            format!("score_{dimension}"),
            stored["dimension_scores"][dimension].clone(),
        );
    }
    row
}

async fn expected_rows(app: &TestApp, ids: &[&String]) -> Vec<Map<String, Value>> {
    let mut rows = Vec::new();
    for id in ids {
        rows.push(expected(app, id).await);
    }
    rows
}

/// A value as a CSV cell: empty for null, blockers joined with `;`, numbers as Rust prints
/// them.
fn cell(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) if n.is_f64() => n.as_f64().unwrap().to_string(),
        Value::Number(n) => n.to_string(),
        Value::Array(items) => items
            .iter()
            .map(|i| i.as_str().unwrap())
            .collect::<Vec<_>>()
            .join(";"),
        Value::Object(_) => panic!("no objects in an export row"),
    }
}

async fn export(app: &TestApp, query: &str) -> Reply {
    app.get_as(&app.analyst_key, &format!("{PATH}?{query}"))
        .await
}

async fn export_bytes(app: &TestApp, query: &str, content_type: &str) -> Vec<u8> {
    let response = export(app, query).await;
    assert_eq!(response.status().as_u16(), 200, "{query}");
    assert_eq!(
        response.headers()["content-type"].to_str().unwrap(),
        content_type
    );
    let disposition = response.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        disposition.starts_with("attachment; filename=\"responses-ai-readiness-"),
        "{disposition}"
    );
    response.bytes().await.unwrap().to_vec()
}

fn parse_csv(bytes: &[u8]) -> (Vec<String>, Vec<Vec<String>>) {
    let mut reader = csv::Reader::from_reader(bytes);
    let header = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    let rows = reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect();
    (header, rows)
}

fn parse_ndjson(bytes: &[u8]) -> Vec<Map<String, Value>> {
    std::str::from_utf8(bytes)
        .unwrap()
        .lines()
        .map(|line| match serde_json::from_str(line).unwrap() {
            Value::Object(row) => row,
            other => panic!("not an object: {other}"),
        })
        .collect()
}

fn parse_parquet(bytes: Vec<u8>) -> Vec<Map<String, Value>> {
    use polars::prelude::{AnyValue, ParquetReader, SerReader};

    let frame = ParquetReader::new(std::io::Cursor::new(bytes))
        .finish()
        .unwrap();
    let names: Vec<String> = frame
        .get_column_names()
        .iter()
        .map(|n| n.to_string())
        .collect();
    assert_eq!(names, columns());
    let json = |value: AnyValue| -> Value {
        match value {
            AnyValue::Null => Value::Null,
            AnyValue::String(s) => json!(s),
            AnyValue::StringOwned(s) => json!(s.as_str()),
            AnyValue::Int32(i) => json!(i),
            AnyValue::Boolean(b) => json!(b),
            AnyValue::Float64(f) => json!(f),
            AnyValue::List(items) => {
                let items = items.str().unwrap();
                Value::Array(
                    (0..items.len())
                        .map(|i| json!(items.get(i).unwrap()))
                        .collect(),
                )
            }
            other => panic!("unexpected Parquet value {other:?}"),
        }
    };
    (0..frame.height())
        .map(|index| {
            names
                .iter()
                .map(|name| {
                    let value = frame.column(name).unwrap().get(index).unwrap();
                    (name.clone(), json(value))
                })
                .collect()
        })
        .collect()
}

async fn csv_holds_one_row_per_response_with_every_column(app: TestApp) {
    let ids = seed(&app).await;
    let bytes = export_bytes(&app, "format=csv", "text/csv; charset=utf-8").await;
    let (header, rows) = parse_csv(&bytes);
    assert_eq!(header, columns());
    let expected = expected_rows(&app, &ids.iter().collect::<Vec<_>>()).await;
    let expected: Vec<Vec<String>> = expected
        .iter()
        .map(|row| columns().iter().map(|c| cell(&row[c])).collect())
        .collect();
    assert_eq!(rows, expected);
    // spot checks of the CSV conventions
    assert_eq!(rows[1][7], "", "no region is an empty cell");
    assert_eq!(rows[3][3], "f3, \"quoted\"");
    assert_eq!(
        rows[0][24], "own_model",
        "the first response reached the top tier"
    );
    assert_eq!(rows[0][27], "", "the top tier has no blockers");
    assert!(rows[1][27].starts_with("own_model.") && rows[1][27].contains(';'));
}

async fn ndjson_and_parquet_hold_the_same_rows_with_types(app: TestApp) {
    let ids = seed(&app).await;
    let expected = expected_rows(&app, &ids.iter().collect::<Vec<_>>()).await;

    let ndjson = parse_ndjson(&export_bytes(&app, "format=ndjson", "application/x-ndjson").await);
    assert_eq!(ndjson, expected);
    let keys: Vec<&String> = ndjson[0].keys().collect();
    assert_eq!(keys.len(), columns().len());
    assert_eq!(ndjson[1]["region"], Value::Null);
    assert!(ndjson[1]["blockers"].is_array());

    let parquet =
        parse_parquet(export_bytes(&app, "format=parquet", "application/vnd.apache.parquet").await);
    assert_eq!(parquet, expected);
}

async fn filters_select_versions_windows_and_each_firms_latest_response(app: TestApp) {
    let ids = seed(&app).await;
    let response_ids = |bytes: &[u8]| -> Vec<String> {
        parse_ndjson(bytes)
            .iter()
            .map(|row| row["response_id"].as_str().unwrap().to_owned())
            .collect()
    };
    let select = |query: &'static str| {
        let app = &app;
        async move {
            response_ids(
                &export_bytes(
                    app,
                    &format!("format=ndjson&{query}"),
                    "application/x-ndjson",
                )
                .await,
            )
        }
    };
    assert_eq!(select("basis=all").await, ids);
    assert_eq!(
        select("from=2026-10-01&to=2026-10-31").await,
        [ids[1].clone(), ids[2].clone()]
    );
    assert_eq!(
        select("to=2026-11-07").await,
        ids,
        "`to` includes its whole day"
    );
    assert_eq!(select("from=2026-11-08").await, Vec::<String>::new());
    assert_eq!(
        select("basis=latest").await,
        [ids[1].clone(), ids[2].clone(), ids[3].clone()],
        "f1's September answer is superseded"
    );
    assert_eq!(
        select("basis=latest&to=2026-09-30").await,
        [ids[0].clone()],
        "latest within the window"
    );
    assert_eq!(select("survey=ai-readiness&version=1").await, ids);

    // an empty export is still a valid file with its header
    let (header, rows) =
        parse_csv(&export_bytes(&app, "from=2030-01-01", "text/csv; charset=utf-8").await);
    assert_eq!(header, columns());
    assert!(rows.is_empty());
}

/// Every row of an export in `format`, each cell as NDJSON types it (CSV cells as strings).
async fn export_rows(app: &TestApp, query: &str, format: &str) -> Vec<Map<String, Value>> {
    let query = format!("format={format}&{query}");
    match format {
        "csv" => {
            let (header, rows) =
                parse_csv(&export_bytes(app, &query, "text/csv; charset=utf-8").await);
            rows.into_iter()
                .map(|row| {
                    header
                        .iter()
                        .cloned()
                        .zip(row.into_iter().map(Value::String))
                        .collect()
                })
                .collect()
        }
        "ndjson" => parse_ndjson(&export_bytes(app, &query, "application/x-ndjson").await),
        _ => parse_parquet(export_bytes(app, &query, "application/vnd.apache.parquet").await),
    }
}

/// The columns a pseudonymised export changes.
const PSEUDONYMISED: [&str; 4] = ["response_id", "firm_ref", "submitted_at", "received_at"];

async fn pseudonymised_exports_hold_no_refs_ids_or_times_of_day(app: TestApp) {
    let ids = seed(&app).await;
    let refs = ["f1", "f2", "f1", "f3, \"quoted\""];
    let plain = parse_ndjson(&export_bytes(&app, "format=ndjson", "application/x-ndjson").await);
    // The first pseudonymised export generates the key.
    export_rows(&app, "pseudonymise=true", "ndjson").await;
    let stored = server_secret::Entity::find_by_id("pseudonym_key")
        .one(&app.db)
        .await
        .unwrap()
        .expect("the generated key is stored");
    assert_eq!(stored.value.len(), 64);
    // The key was generated once and kept in the database, so a restarted server or
    // another replica derives the same pseudonyms.
    let replica = Pseudonymiser::new(&stored.value).unwrap();
    let mut first_ids: Option<Vec<Value>> = None;
    for format in ["csv", "ndjson", "parquet"] {
        let rows = export_rows(&app, "pseudonymise=true", format).await;
        let again = export_rows(&app, "pseudonymise=true", format).await;
        assert_eq!(rows, again, "{format}: stable between exports");
        assert_eq!(rows.len(), ids.len(), "{format}");
        for (index, row) in rows.iter().enumerate() {
            // No cell holds a firm reference or a response id, whole or in part.
            for (column, cell) in row {
                let text = cell.to_string();
                for id in &ids {
                    assert!(!text.contains(id.as_str()), "{format} {column}: {text}");
                }
                assert!(
                    !refs.iter().any(|r| cell.as_str() == Some(r)),
                    "{format} {column}: {text}"
                );
            }
            let firm = row["firm_ref"].as_str().unwrap();
            assert_eq!(firm, replica.pseudonym(refs[index]), "{format}");
            assert_eq!(firm.len(), 64);
            let response_id = row["response_id"].as_str().unwrap();
            let real = uuid::Uuid::parse_str(&ids[index]).unwrap();
            assert_eq!(
                response_id,
                replica.response_id(real).to_string(),
                "{format}"
            );
            assert_eq!(
                uuid::Uuid::parse_str(response_id)
                    .unwrap()
                    .get_version_num(),
                8
            );
            // The two pseudonyms cannot be matched: the response's is not the firm-style
            // hash of the id.
            assert!(
                !replica
                    .pseudonym(&ids[index])
                    .starts_with(&response_id[..8])
            );
            // Times are cut to the day (midnight UTC) of the real ones.
            for column in ["submitted_at", "received_at"] {
                let day = &plain[index][column].as_str().unwrap()[..10];
                assert_eq!(
                    row[column].as_str().unwrap(),
                    format!("{day}T00:00:00Z"),
                    "{format} {column}"
                );
            }
            // Everything else is as in the plain export.
            if format == "ndjson" {
                let mut rest = row.clone();
                let mut expected = plain[index].clone();
                for column in PSEUDONYMISED {
                    rest.remove(column);
                    expected.remove(column);
                }
                assert_eq!(rest, expected);
            }
        }
        let response_ids: Vec<Value> = rows.iter().map(|r| r["response_id"].clone()).collect();
        match &first_ids {
            Some(first) => assert_eq!(&response_ids, first, "{format}: the same in every format"),
            None => first_ids = Some(response_ids),
        }
        assert_eq!(
            rows[0]["firm_ref"], rows[2]["firm_ref"],
            "one firm, one pseudonym"
        );
        assert_ne!(rows[0]["firm_ref"], rows[1]["firm_ref"]);
        assert_ne!(rows[0]["response_id"], rows[2]["response_id"]);
    }
    // A pseudonymous id opens no response.
    let pseudonym = first_ids.unwrap()[1].as_str().unwrap().to_owned();
    assert_problem(
        app.get_as(&app.analyst_key, &format!("/api/v1/responses/{pseudonym}"))
            .await,
        404,
        "not_found",
    )
    .await;
}

/// An import refuses every row of a pseudonymised export (CSV and NDJSON alike): its firms
/// would come back a second time under their pseudonyms.
async fn a_pseudonymised_export_is_not_imported(app: TestApp) {
    seed(&app).await;
    for (format, query, content_type) in [
        (
            ImportFormat::Csv,
            "format=csv&pseudonymise=true",
            "text/csv; charset=utf-8",
        ),
        (
            ImportFormat::Ndjson,
            "format=ndjson&pseudonymise=true",
            "application/x-ndjson",
        ),
    ] {
        let file = export_bytes(&app, query, content_type).await;
        let (summary, rejects) = import_into(&app, &file, format).await;
        assert_eq!(
            summary,
            ImportSummary {
                read: 4,
                stored: 0,
                already_present: 0,
                rejected: 4
            },
            "{format:?}"
        );
        let (_, rows) = parse_csv(rejects.as_bytes());
        assert_eq!(rows.len(), 4);
        for row in rows {
            assert_eq!(
                row[2],
                readiness_api::services::imports::PSEUDONYMISED,
                "{format:?}"
            );
        }
    }
    assert_eq!(app.response_rows().await, 4);
    assert_eq!(app.firm_rows().await, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_configured_pseudonym_key_is_used_instead_of_the_stored_one() {
    let key = "a-key-the-operator-keeps-in-a-vault-0001";
    let app = spawn_app_with(Backend::Sqlite, |settings| {
        settings.pseudonym_key = Some(Secret::new(key));
    })
    .await
    .unwrap();
    seed(&app).await;
    let rows = parse_ndjson(
        &export_bytes(
            &app,
            "format=ndjson&pseudonymise=true",
            "application/x-ndjson",
        )
        .await,
    );
    let expected = Pseudonymiser::new(key).unwrap();
    assert_eq!(rows[1]["firm_ref"], json!(expected.pseudonym("f2")));
    assert!(
        server_secret::Entity::find_by_id("pseudonym_key")
            .one(&app.db)
            .await
            .unwrap()
            .is_none(),
        "no key is generated when one is configured"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_short_configured_pseudonym_key_stops_the_server_from_starting() {
    let mut settings = readiness_api::settings::Settings::new("127.0.0.1:0", "sqlite::memory:");
    settings.pseudonym_key = Some(Secret::new("too-short"));
    let error = readiness_api::http::server::Application::build(settings)
        .await
        .err()
        .expect("refused");
    assert!(
        error.to_string().contains("at least 32 characters"),
        "{error}"
    );
}

async fn bad_parameters_are_named_and_roles_are_enforced(app: TestApp) {
    let problem = assert_problem(
        export(
            &app,
            "format=xlsx&by=industry&min_cell=3&colour=red&basis=some&pseudonymise=yes&from=2026-02-30",
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(
        pointers(&problem),
        [
            "/query/by",
            "/query/min_cell",
            "/query/colour",
            "/query/format",
            "/query/from",
            "/query/basis",
            "/query/pseudonymise"
        ]
    );
    let problem = assert_problem(export(&app, "survey=nope").await, 404, "not_found").await;
    assert_eq!(pointers(&problem), ["/query/survey"]);
    let problem = assert_problem(export(&app, "version=9").await, 404, "not_found").await;
    assert_eq!(pointers(&problem), ["/query/version"]);
    let problem = assert_problem(
        export(&app, "from=2026-10-02&to=2026-10-01").await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(pointers(&problem), ["/query/to"]);

    assert_problem(app.get(PATH).await, 401, "unauthorized").await;
    assert_problem(app.get_as(&app.collector_key, PATH).await, 403, "forbidden").await;
    let admin = app.get_as(&app.admin_key, PATH).await;
    assert_eq!(admin.status().as_u16(), 200);
}

async fn import_into(
    target: &TestApp,
    bytes: &[u8],
    format: ImportFormat,
) -> (ImportSummary, String) {
    let mut rejects = Vec::new();
    let summary = import(&target.db, bytes, format, &mut rejects, |_| {})
        .await
        .unwrap();
    (summary, String::from_utf8(rejects).unwrap())
}

/// Rows without `received_at` (the time of import), by response id.
fn comparable(rows: Vec<Map<String, Value>>) -> BTreeMap<String, Map<String, Value>> {
    rows.into_iter()
        .map(|mut row| {
            row.remove("received_at");
            (row["response_id"].as_str().unwrap().to_owned(), row)
        })
        .collect()
}

async fn an_export_imports_into_a_fresh_database_unchanged(app: TestApp) {
    seed(&app).await;
    let backend = match app.db.get_database_backend() {
        sea_orm::DbBackend::Postgres => Backend::Postgres,
        _ => Backend::Sqlite,
    };
    let original = parse_ndjson(&export_bytes(&app, "format=ndjson", "application/x-ndjson").await);
    for format in [ImportFormat::Csv, ImportFormat::Ndjson] {
        let query = match format {
            ImportFormat::Csv => "format=csv",
            ImportFormat::Ndjson => "format=ndjson",
        };
        let content_type = match format {
            ImportFormat::Csv => "text/csv; charset=utf-8",
            ImportFormat::Ndjson => "application/x-ndjson",
        };
        let file = export_bytes(&app, query, content_type).await;
        let fresh = spawn_app(backend).await.unwrap();

        let (summary, rejects) = import_into(&fresh, &file, format).await;
        assert_eq!(
            summary,
            ImportSummary {
                read: 4,
                stored: 4,
                already_present: 0,
                rejected: 0
            },
            "{format:?}"
        );
        assert_eq!(rejects, "line,response_id,reason\n");
        let reimported =
            parse_ndjson(&export_bytes(&fresh, "format=ndjson", "application/x-ndjson").await);
        assert_eq!(
            comparable(reimported),
            comparable(original.clone()),
            "{format:?}"
        );

        // Importing the same file again stores nothing.
        let (again, _) = import_into(&fresh, &file, format).await;
        assert_eq!(
            again,
            ImportSummary {
                read: 4,
                stored: 0,
                already_present: 4,
                rejected: 0
            }
        );
        assert_eq!(fresh.response_rows().await, 4);
    }
}

async fn import_rejects_bad_rows_with_their_line_and_reason(app: TestApp) {
    let ids = seed(&app).await;
    let file = export_bytes(&app, "format=csv", "text/csv; charset=utf-8").await;
    let text = String::from_utf8(file).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    // line 3: an unknown industry and an unknown option; line 5 (f3's quoted reference
    // stays on one line): a version that does not exist
    lines[2] = lines[2].replacen(",G,micro,", ",Z,micro,", 1).replacen(
        ",format_or_consistency,",
        ",vague,",
        1,
    );
    lines[4] = lines[4].replacen(",ai-readiness,1,", ",ai-readiness,7,", 1);
    let edited = format!("{}\n", lines.join("\n"));
    let fresh = spawn_app(Backend::Sqlite).await.unwrap();

    let (summary, rejects) = import_into(&fresh, edited.as_bytes(), ImportFormat::Csv).await;
    assert_eq!(
        summary,
        ImportSummary {
            read: 4,
            stored: 2,
            already_present: 0,
            rejected: 2
        }
    );
    let (header, rows) = parse_csv(rejects.as_bytes());
    assert_eq!(header, ["line", "response_id", "reason"]);
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0][0], "3");
    assert_eq!(rows[0][1], ids[1]);
    assert!(
        rows[0][2].contains("`industry` must be a NACE"),
        "{}",
        rows[0][2]
    );
    assert!(
        rows[0][2].contains("`answer_vendor_result` unknown option `vague`"),
        "{}",
        rows[0][2]
    );
    assert_eq!(rows[1][0], "5");
    assert_eq!(rows[1][1], ids[3]);
    assert!(
        rows[1][2].contains("survey `ai-readiness` has no released version 7"),
        "{}",
        rows[1][2]
    );
    assert_eq!(fresh.response_rows().await, 2);

    // The original file under the same ids: the two stored rows are present, the two
    // others are stored now; an edited row under a stored id is refused.
    let (summary, _) = import_into(&fresh, text.as_bytes(), ImportFormat::Csv).await;
    assert_eq!(
        summary,
        ImportSummary {
            read: 4,
            stored: 2,
            already_present: 2,
            rejected: 0
        }
    );
    let changed = text.replacen(",DE-BY,", ",DE-BW,", 1);
    let (summary, rejects) = import_into(&fresh, changed.as_bytes(), ImportFormat::Csv).await;
    assert_eq!(summary.rejected, 1);
    assert!(rejects.contains("a different response with this id is already stored"));
}

/// More rows than one page holds, all received at the same instant (as demo data is), so
/// the keyset walks pages by id.
async fn an_export_of_many_pages_has_every_row_once(app: TestApp) {
    let stored = readiness_api::services::demo::fill(&app.db, 1_300, 2, 7, |_| {})
        .await
        .unwrap();
    assert_eq!(stored, 2_600);
    assert!(stored > readiness_api::services::exports::PAGE_ROWS);
    let ids = |rows: Vec<Map<String, Value>>| -> Vec<String> {
        rows.iter()
            .map(|r| r["response_id"].as_str().unwrap().to_owned())
            .collect()
    };
    let ndjson = ids(parse_ndjson(
        &export_bytes(&app, "format=ndjson", "application/x-ndjson").await,
    ));
    let mut sorted = ndjson.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), 2_600, "every response once");
    assert_eq!(ndjson, sorted, "in receipt order, ties by id");

    let (_, csv_rows) =
        parse_csv(&export_bytes(&app, "format=csv", "text/csv; charset=utf-8").await);
    let csv_ids: Vec<String> = csv_rows.iter().map(|r| r[0].clone()).collect();
    assert_eq!(csv_ids, ndjson);
    let parquet = ids(parse_parquet(
        export_bytes(&app, "format=parquet", "application/vnd.apache.parquet").await,
    ));
    assert_eq!(parquet, ndjson);

    let latest = parse_ndjson(
        &export_bytes(&app, "format=ndjson&basis=latest", "application/x-ndjson").await,
    );
    let mut firms: Vec<&str> = latest
        .iter()
        .map(|r| r["firm_ref"].as_str().unwrap())
        .collect();
    firms.sort_unstable();
    firms.dedup();
    assert_eq!(
        (latest.len(), firms.len()),
        (1_300, 1_300),
        "one row per firm"
    );
}

/// One firm with more responses than a page holds: the first page has no latest response at
/// all, and the export goes on to the next one.
async fn a_latest_export_reads_past_pages_without_a_latest_response(app: TestApp) {
    let stored = readiness_api::services::demo::fill(&app.db, 1, 2_100, 11, |_| {})
        .await
        .unwrap();
    assert!(stored > readiness_api::services::exports::PAGE_ROWS);
    let all = parse_ndjson(&export_bytes(&app, "format=ndjson", "application/x-ndjson").await);
    assert_eq!(all.len(), 2_100);
    let newest = all
        .iter()
        .max_by_key(|row| row["submitted_at"].as_str().unwrap().to_owned())
        .unwrap();
    let latest = parse_ndjson(
        &export_bytes(&app, "format=ndjson&basis=latest", "application/x-ndjson").await,
    );
    assert_eq!(latest.len(), 1, "{latest:?}");
    assert_eq!(latest[0]["response_id"], newest["response_id"]);
    let (_, csv_rows) =
        parse_csv(&export_bytes(&app, "format=csv&basis=latest", "text/csv; charset=utf-8").await);
    assert_eq!(csv_rows.len(), 1);
    assert_eq!(csv_rows[0][0], newest["response_id"].as_str().unwrap());
}

crate::on_both_databases!(
    an_export_of_many_pages_has_every_row_once,
    a_latest_export_reads_past_pages_without_a_latest_response,
    csv_holds_one_row_per_response_with_every_column,
    ndjson_and_parquet_hold_the_same_rows_with_types,
    filters_select_versions_windows_and_each_firms_latest_response,
    pseudonymised_exports_hold_no_refs_ids_or_times_of_day,
    a_pseudonymised_export_is_not_imported,
    bad_parameters_are_named_and_roles_are_enforced,
    an_export_imports_into_a_fresh_database_unchanged,
    import_rejects_bad_rows_with_their_line_and_reason,
);
