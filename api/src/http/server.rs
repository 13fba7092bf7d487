//! Building and running the server.

use std::net::TcpListener;

use actix_web::dev::Server;
use actix_web::middleware::from_fn;
use actix_web::{App, HttpRequest, HttpResponse, web};
use anyhow::Context;
use utoipa::OpenApi;
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::SwaggerUi;

use super::middleware::rate_limit::RateLimits;
use super::middleware::{auth, metrics, rate_limit, request_id};
use super::openapi::ApiDoc;
use super::problem::ApiError;
use super::routes;
use super::state::AppState;
use crate::services::Services;
use crate::settings::Settings;

/// A bound, migrated, ready-to-run server.
pub struct Application {
    port: u16,
    server: Server,
}

impl Application {
    /// Connects to the database, applies pending migrations and binds the listener (port 0
    /// picks a free port; [`Application::port`] tells which).
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let services = Services::start(settings.services()?).await?;
        let listener = TcpListener::bind(&settings.bind)
            .with_context(|| format!("cannot listen on {}", settings.bind))?;
        let port = listener.local_addr()?.port();
        let state = web::Data::new(AppState {
            services,
            rate_limits: RateLimits::new(settings.rate_limit_per_minute),
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
    super::openapi::complete(&mut api);
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
    super::openapi::complete(&mut api);
    api
}
