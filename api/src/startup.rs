//! Building and running the server.

use std::net::TcpListener;

use actix_web::dev::Server;
use actix_web::middleware::from_fn;
use actix_web::{App, HttpRequest, HttpResponse, web};
use anyhow::Context;
use migration::{Migrator, MigratorTrait};
use sea_orm::DatabaseConnection;
use tokio::sync::OnceCell;
use utoipa::OpenApi;
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::SwaggerUi;

use crate::catalog::Catalog;
use crate::domain::share_token::ShareSigner;
use crate::export::Pseudonymiser;
use crate::ingest::{GroupCommit, Writer};
use crate::metrics::Metrics;
use crate::openapi::ApiDoc;
use crate::problem::ApiError;
use crate::rate_limit::RateLimits;
use crate::report_snapshot::ReportSnapshot;
use crate::routes;
use crate::settings::{Secret, Settings};
use crate::store::lookups::Lookups;
use crate::store::report_rows::ReportRowQuery;
use crate::{auth, metrics, rate_limit, request_id};

/// Shared transactions in flight at once on PostgreSQL: while one waits for its commit to
/// reach the disk, the next is being written. SQLite has one writer at a time, so one
/// writer thread.
const POSTGRES_WRITERS: usize = 4;

/// What every handler can reach.
#[derive(Debug)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub catalog: Catalog,
    pub reports: ReportSnapshot,
    pub metrics: Metrics,
    pub rate_limits: RateLimits,
    /// Signs and checks share links to report pages.
    pub share: ShareSigner,
    /// The configured pseudonym key; `None` = the key kept in the database.
    pub pseudonym_key: Option<Secret>,
    /// Built on the first pseudonymised export.
    pub pseudonymiser: OnceCell<Pseudonymiser>,
    /// The reads every submission makes (its key, its survey).
    pub lookups: Lookups,
    /// Where submissions are stored: the group-commit writer.
    pub writer: Writer,
}

/// A bound, migrated, ready-to-run server.
pub struct Application {
    port: u16,
    server: Server,
}

impl Application {
    /// Connects to the database, applies pending migrations and binds the listener (port 0
    /// picks a free port; [`Application::port`] tells which).
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        if let Some(key) = &settings.pseudonym_key {
            crate::export::pseudonym::check_configured(key)?;
        }
        let db = crate::db::connect(&settings.database_url).await?;
        Migrator::up(&db, None)
            .await
            .context("applying database migrations failed")?;
        let listener = TcpListener::bind(&settings.bind)
            .with_context(|| format!("cannot listen on {}", settings.bind))?;
        let port = listener.local_addr()?.port();
        let share = share_signer(settings.share_secret.as_ref().map(Secret::expose))?;
        let writer = match ReportRowQuery::sqlite_file(&db) {
            Some(path) => Writer::start_sqlite(path.as_path(), settings.group_commit)?,
            None => {
                let writers = if crate::db::is_sqlite(&settings.database_url) {
                    1
                } else {
                    POSTGRES_WRITERS
                };
                let writer_db = crate::db::connect_pool(
                    &settings.database_url,
                    u32::try_from(writers).unwrap_or(1),
                )
                .await?;
                let config = GroupCommit {
                    writers,
                    ..settings.group_commit
                };
                Writer::start(writer_db, config)
            }
        };
        let state = web::Data::new(AppState {
            lookups: Lookups::new(&db),
            db,
            catalog: Catalog::default(),
            reports: ReportSnapshot::new(settings.report_refresh),
            metrics: Metrics::new().context("setting up the metrics registry")?,
            rate_limits: RateLimits::new(settings.rate_limit_per_minute),
            share,
            pseudonym_key: settings.pseudonym_key.clone(),
            pseudonymiser: OnceCell::new(),
            writer,
        });
        let mut server = actix_web::HttpServer::new(move || app(state.clone()))
            .listen(listener)?
            .shutdown_timeout(30);
        if let Some(workers) = settings.workers {
            server = server.workers(workers);
        }
        Ok(Self {
            port,
            server: server.run(),
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until SIGINT/SIGTERM; in-flight requests are finished first.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

/// The configured share secret, or a random one with a warning.
fn share_signer(secret: Option<&str>) -> anyhow::Result<ShareSigner> {
    match secret {
        Some(secret) => ShareSigner::new(secret.as_bytes()).context("invalid share_secret"),
        None => {
            tracing::warn!(
                "share_secret is not set (READINESS_SHARE_SECRET); share links are signed with a \
                 random secret, stop working when this process stops, and do not open on other \
                 replicas"
            );
            ShareSigner::random().context("generating a share secret")
        }
    }
}

/// The actix application with every route, the OpenAPI document and Swagger UI.
fn app(
    state: web::Data<AppState>,
) -> App<
    impl actix_web::dev::ServiceFactory<
        actix_web::dev::ServiceRequest,
        Config = (),
        Response = actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let (app, mut api) = App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .app_data(state)
        .app_data(web::PathConfig::default().error_handler(|error, _| {
            ApiError::NotFound(format!("no such resource: {error}")).into()
        }))
        .app_data(web::QueryConfig::default().error_handler(|error, _| {
            ApiError::BadRequest {
                code: "invalid_query",
                detail: error.to_string(),
            }
            .into()
        }))
        .configure(routes::configure)
        .split_for_parts();
    crate::openapi::complete(&mut api);
    // The last `wrap` runs first: every request gets its id, is measured, then its caller is
    // known, then it is rate-limited.
    app.service(SwaggerUi::new("/docs/{_:.*}").url("/openapi.json", api))
        .default_service(web::to(not_found))
        .wrap(from_fn(rate_limit::limit))
        .wrap(from_fn(auth::authenticate))
        .wrap(from_fn(metrics::track))
        .wrap(from_fn(request_id::assign))
}

async fn not_found(req: HttpRequest) -> HttpResponse {
    use actix_web::ResponseError;
    ApiError::NotFound(format!("no route for {} {}", req.method(), req.path())).error_response()
}

/// The OpenAPI document exactly as the server serves it at `/openapi.json`.
pub fn openapi_document() -> utoipa::openapi::OpenApi {
    let (_, mut api) = App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .configure(routes::configure)
        .split_for_parts();
    crate::openapi::complete(&mut api);
    api
}
