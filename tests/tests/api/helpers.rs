//! Spawning the real server on a random port with a fresh database, and typed calls to it.

use std::path::PathBuf;
use std::sync::LazyLock;
use std::time::{SystemTime, UNIX_EPOCH};

use readiness_api::domain::api_key::Role;
use readiness_api::http::server::Application;
use readiness_api::services::keys::{IssuedKey, issue_key};
use readiness_api::settings::{DisclosureTable, Settings};
use readiness_api::store::audit::AuditContext;
use readiness_api::store::entities::{firm, response};
use readiness_api::store::keys::NewKey;
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, EntityTrait, PaginatorTrait};
use serde_json::{Map, Value, json};
use tokio::sync::OnceCell;
use uuid::Uuid;

pub const POSTGRES_ENV: &str = "READINESS_TEST_POSTGRES_URL";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A running server and a direct connection to its database.
pub struct TestApp {
    pub address: String,
    /// The server's database, as `--database-url` names it.
    pub database_url: String,
    pub client: reqwest::Client,
    pub db: DatabaseConnection,
    /// A key of each role, created through the store before the first request.
    pub admin_key: String,
    pub analyst_key: String,
    pub collector_key: String,
    /// The id of `admin_key`, as the audit log names it.
    pub admin_key_id: Uuid,
    scratch: Option<PathBuf>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(dir) = &self.scratch {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

static TRACING: LazyLock<()> = LazyLock::new(|| {
    if std::env::var_os("TEST_LOG").is_some() {
        readiness_api::telemetry::init(readiness_api::telemetry::LogFormat::Pretty, "debug");
    }
});

/// Starts the server on port 0 with a fresh database. `None` for PostgreSQL when
/// `READINESS_TEST_POSTGRES_URL` is not set (a notice is printed).
pub async fn spawn_app(backend: Backend) -> Option<TestApp> {
    spawn_app_with(backend, |_| {}).await
}

/// Like [`spawn_app`], with settings changed by `configure` first.
pub async fn spawn_app_with(
    backend: Backend,
    configure: impl FnOnce(&mut Settings),
) -> Option<TestApp> {
    LazyLock::force(&TRACING);
    let (database_url, scratch) = match backend {
        Backend::Sqlite => {
            let dir = std::env::temp_dir().join(format!("readiness-test-{}", uuid::Uuid::new_v4()));
            std::fs::create_dir_all(&dir).expect("create a scratch directory");
            let url = format!("sqlite://{}?mode=rwc", dir.join("readiness.db").display());
            (url, Some(dir))
        }
        Backend::Postgres => {
            let Ok(admin_url) = std::env::var(POSTGRES_ENV) else {
                eprintln!(
                    "notice: {POSTGRES_ENV} is not set; skipping the PostgreSQL variant of this test"
                );
                return None;
            };
            (fresh_postgres_database(&admin_url).await, None)
        }
    };
    let mut settings = Settings::new("127.0.0.1:0", database_url.clone());
    settings.workers = Some(2);
    // Reports see every committed response at once.
    settings.report_refresh = std::time::Duration::ZERO;
    // The statistics are checked exactly: no noise, and the lowest threshold the tests ask
    // for. The disclosure tests (`disclosure.rs`) configure the shipped tables instead.
    settings.disclosure_table = DisclosureTable::Unperturbed;
    settings.disclosure_threshold = Some(3);
    configure(&mut settings);
    // A test may point the server at another database (a second server on the first's).
    let database_url = settings.database_url.clone();
    let app = Application::build(settings)
        .await
        .expect("build the application");
    let address = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    let db = Database::connect(&database_url)
        .await
        .expect("connect to the test database");
    let admin = create_key(&db, "test-admin", Role::Admin).await;
    let analyst = create_key(&db, "test-analyst", Role::Analyst).await;
    let collector = create_key(&db, "test-collector", Role::Collector).await;
    Some(TestApp {
        admin_key: admin.token,
        admin_key_id: admin.key.id,
        analyst_key: analyst.token,
        collector_key: collector.token,
        address,
        database_url,
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("build an HTTP client"),
        db,
        scratch,
    })
}

/// Creates a key directly through the store, as `readiness keys create` does.
pub async fn create_key(db: &DatabaseConnection, name: &str, role: Role) -> IssuedKey {
    issue_key(
        db,
        NewKey {
            name: name.to_owned(),
            role,
            expires_at: None,
            rate_limit_per_minute: None,
        },
        &AuditContext::default(),
    )
    .await
    .expect("create an API key")
}

/// Creates a new, empty database on the configured server and returns its URL. Databases
/// left by runs more than an hour old are dropped first.
async fn fresh_postgres_database(admin_url: &str) -> String {
    static CLEANED: OnceCell<()> = OnceCell::const_new();
    let admin = Database::connect(admin_url)
        .await
        .unwrap_or_else(|e| panic!("{POSTGRES_ENV} is set but PostgreSQL is not reachable: {e}"));
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    CLEANED
        .get_or_init(|| async {
            let rows = admin
                .query_all_raw(sea_orm::Statement::from_string(
                    admin.get_database_backend(),
                    "SELECT datname FROM pg_database WHERE datname LIKE 'readiness_t_%'",
                ))
                .await
                .expect("list test databases");
            for row in rows {
                let name: String = row.try_get("", "datname").expect("datname");
                let created: u64 = name
                    .split('_')
                    .nth(2)
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(u64::MAX);
                if now.saturating_sub(created) > 3600 && created != u64::MAX {
                    let _ = admin
                        .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\""))
                        .await;
                }
            }
        })
        .await;
    let name = format!("readiness_t_{now}_{}", uuid::Uuid::new_v4().simple());
    admin
        .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
        .await
        .expect("create a test database");
    let base = admin_url.split('?').next().unwrap_or(admin_url);
    let server = &base[..base.rfind('/').expect("a database URL has a path")];
    format!("{server}/{name}")
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// Sends a request and checks the response against the OpenAPI document
    /// (see [`crate::contract`]).
    pub async fn send(&self, request: reqwest::RequestBuilder) -> Reply {
        let request = request.build().expect("build a request");
        let method = request.method().as_str().to_owned();
        let path = request.url().path().to_owned();
        let response = self.client.execute(request).await.expect("send a request");
        Reply::checked(&method, &path, response).await
    }

    /// GET without a key.
    pub async fn get(&self, path: &str) -> Reply {
        self.send(self.client.get(self.url(path))).await
    }

    /// GET with `Authorization: Bearer <key>`.
    pub async fn get_as(&self, key: &str, path: &str) -> Reply {
        self.send(self.client.get(self.url(path)).bearer_auth(key))
            .await
    }

    /// POSTs a JSON body with `Authorization: Bearer <key>`.
    pub async fn post_as(&self, key: &str, path: &str, body: &Value) -> Reply {
        self.send(self.client.post(self.url(path)).bearer_auth(key).json(body))
            .await
    }

    /// Creates a key through `POST /api/v1/keys` as the admin; returns the reply's body (the
    /// key with its `id` and its `token`).
    pub async fn create_key_over_http(&self, name: &str, role: &str) -> Value {
        self.post_as(
            &self.admin_key,
            "/api/v1/keys",
            &json!({"name": name, "role": role}),
        )
        .await
        .json()
        .await
        .unwrap()
    }

    /// DELETE with `Authorization: Bearer <key>`.
    /// Makes `ai-readiness` v1 public (or not) as the admin.
    pub async fn set_public(&self, public: bool) -> Reply {
        self.send(
            self.client
                .patch(self.url("/api/v1/surveys/ai-readiness/versions/1"))
                .bearer_auth(&self.admin_key)
                .json(&json!({ "public": public })),
        )
        .await
    }

    pub async fn delete_as(&self, key: &str, path: &str) -> Reply {
        self.send(self.client.delete(self.url(path)).bearer_auth(key))
            .await
    }

    /// POSTs a submission to `ai-readiness` as the collector, with an optional
    /// Idempotency-Key.
    pub async fn submit(&self, body: &Value, key: Option<&str>) -> Reply {
        let mut request = self
            .client
            .post(self.url("/api/v1/surveys/ai-readiness/responses"))
            .bearer_auth(&self.collector_key)
            .json(body);
        if let Some(key) = key {
            request = request.header("Idempotency-Key", key);
        }
        self.send(request).await
    }

    /// POSTs a batch to `ai-readiness` as the collector.
    pub async fn submit_batch(&self, body: &Value) -> Reply {
        self.send(
            self.client
                .post(self.url("/api/v1/surveys/ai-readiness/responses/batch"))
                .bearer_auth(&self.collector_key)
                .json(body),
        )
        .await
    }

    pub async fn response_rows(&self) -> u64 {
        response::Entity::find()
            .count(&self.db)
            .await
            .expect("count responses")
    }

    pub async fn firm_rows(&self) -> u64 {
        firm::Entity::find()
            .count(&self.db)
            .await
            .expect("count firms")
    }
}

/// A response read in full and checked against the OpenAPI document, with the parts of
/// `reqwest::Response` the tests use.
#[derive(Debug)]
pub struct Reply {
    status: reqwest::StatusCode,
    headers: reqwest::header::HeaderMap,
    body: Vec<u8>,
}

impl Reply {
    pub async fn checked(method: &str, path: &str, response: reqwest::Response) -> Self {
        let status = response.status();
        let headers = response.headers().clone();
        let body = response
            .bytes()
            .await
            .expect("read a response body")
            .to_vec();
        let content_type = headers
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok());
        crate::contract::check(method, path, status.as_u16(), content_type, &body);
        Self {
            status,
            headers,
            body,
        }
    }

    pub fn status(&self) -> reqwest::StatusCode {
        self.status
    }

    pub fn headers(&self) -> &reqwest::header::HeaderMap {
        &self.headers
    }

    pub async fn json<T: serde::de::DeserializeOwned>(self) -> serde_json::Result<T> {
        serde_json::from_slice(&self.body)
    }

    pub async fn text(self) -> Result<String, std::string::FromUtf8Error> {
        String::from_utf8(self.body)
    }

    pub async fn bytes(self) -> Result<Vec<u8>, std::convert::Infallible> {
        Ok(self.body)
    }
}

/// The lowest option of every question of `ai-readiness` v1.
pub const LOWEST: &[(&str, &str)] = &[
    ("business_age", "lt_1y"),
    ("revenue_trend", "declining"),
    ("task_definition", "none"),
    ("workflow_integration", "undecided"),
    ("prior_attempts", "nothing"),
    ("vendor_result", "not_measured"),
    ("monthly_ai_spend", "lt_100"),
    ("data_restrictions", "none"),
    ("training_examples", "none"),
    ("knowledge_organisation", "in_heads"),
    ("inhouse_skill", "none"),
    ("customisation_budget", "lt_1k"),
    ("ai_ownership", "none"),
    ("staff_ai_usage", "none"),
];

/// The worked example that reaches `fine_tune`.
pub const FINE_TUNE: &[(&str, &str)] = &[
    ("business_age", "gt_5y"),
    ("revenue_trend", "growing"),
    ("task_definition", "test_cases"),
    ("workflow_integration", "integrated_with_review"),
    ("prior_attempts", "prompts_and_knowledge_base"),
    ("vendor_result", "format_or_consistency"),
    ("monthly_ai_spend", "100_1k"),
    ("training_examples", "100_499"),
    ("knowledge_organisation", "structured_owned"),
    ("inhouse_skill", "scripts_api"),
    ("customisation_budget", "10k_50k"),
    ("ai_ownership", "named_owner"),
    ("staff_ai_usage", "most"),
];

/// What the `fine_tune` example adds to reach `own_model`.
pub const OWN_MODEL_EXTRA: &[(&str, &str)] = &[
    ("data_restrictions", "all_data"),
    ("inhouse_skill", "ml_team"),
    ("customisation_budget", "gt_50k"),
    ("training_examples", "ge_500"),
    ("ai_ownership", "owner_policy_review"),
];

/// Answers: every question at its lowest option, then each override in order.
pub fn answers(overrides: &[&[(&str, &str)]]) -> Value {
    let mut map: Map<String, Value> = LOWEST
        .iter()
        .map(|(k, v)| ((*k).to_owned(), json!(v)))
        .collect();
    for set in overrides {
        for (k, v) in *set {
            map.insert((*k).to_owned(), json!(v));
        }
    }
    Value::Object(map)
}

/// A complete submission body for firm `firm_ref`.
pub fn submission(firm_ref: &str, answers: Value) -> Value {
    json!({
        "firm": {"ref": firm_ref, "industry": "C", "size_band": "small", "country": "DE", "region": "DE-BY"},
        "answers": answers,
        "submitted_at": "2026-10-01T12:00:00Z"
    })
}

/// A submission of a firm in industry C, Germany, of this size band, submitted at `at`.
pub fn dated_submission(firm_ref: &str, size_band: &str, answers: Value, at: &str) -> Value {
    json!({
        "firm": {"ref": firm_ref, "industry": "C", "size_band": size_band, "country": "DE"},
        "answers": answers,
        "submitted_at": at
    })
}

/// Asserts a problem+json reply with this status and code; returns the document.
pub async fn assert_problem(response: Reply, status: u16, code: &str) -> Value {
    assert_eq!(response.status().as_u16(), status, "status");
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert_eq!(content_type, "application/problem+json");
    let body: Value = response.json().await.expect("a JSON problem body");
    assert_eq!(body["status"], status);
    assert_eq!(body["code"], code, "{body}");
    assert!(body["type"].as_str().is_some_and(|t| !t.is_empty()));
    assert!(body["title"].as_str().is_some_and(|t| !t.is_empty()));
    assert!(body["detail"].as_str().is_some_and(|t| !t.is_empty()));
    body
}

/// The pointers of a validation problem's `errors`.
pub fn pointers(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| e["pointer"].as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// Defines each listed `async fn name(app: TestApp)` as two tests: `sqlite::name` and
/// `postgres::name` (skipped with a notice when no PostgreSQL is configured).
#[macro_export]
macro_rules! on_both_databases {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let app = $crate::helpers::spawn_app($crate::helpers::Backend::Sqlite)
                        .await
                        .expect("SQLite is always available");
                    super::$name(app).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if let Some(app) = $crate::helpers::spawn_app($crate::helpers::Backend::Postgres).await {
                        super::$name(app).await;
                    }
                }
            )*
        }
    };
}
