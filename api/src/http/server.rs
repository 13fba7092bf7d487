//! Building and running the server.

use std::collections::HashMap;
use std::net::TcpListener;
use std::sync::LazyLock;

use actix_web::dev::Server;
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::from_fn;
use actix_web::{App, HttpRequest, HttpResponse, web};
use anyhow::Context;
use utoipa::OpenApi;
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::SwaggerUi;

use super::middleware::cors::CorsOrigins;
use super::middleware::rate_limit::RateLimits;
use super::middleware::{auth, body_timeout, cors, head, metrics, nul, rate_limit, request_id};
use super::openapi::ApiDoc;
use super::problem::{ApiError, Problem, problem_response};
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
    /// Binds the listener (port 0 picks a free port; [`Application::port`] tells which),
    /// then connects to the database and applies pending migrations: an address that cannot
    /// be listened on is refused before the database is touched.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(&settings.bind)
            .with_context(|| format!("cannot listen on {}", settings.bind))?;
        let port = listener.local_addr()?.port();
        let services = Services::start(settings.services()?).await?;
        crate::services::webhooks::spawn_worker(
            services.db.clone(),
            services.writer.clone(),
            settings.webhooks,
        );
        let state = web::Data::new(AppState {
            services,
            rate_limits: RateLimits::new(settings.rate_limit_per_minute),
            body_timeout: settings.body_timeout,
            cors_origins: CorsOrigins::new(&settings.cors_origins),
            webhooks: settings.webhooks,
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

/// The largest form the assessment pages accept: a step's answers are far smaller.
const FORM_LIMIT: usize = 16 * 1024;

/// Why a form body was refused, as a problem.
fn form_error(error: &actix_web::error::UrlencodedError) -> ApiError {
    use actix_web::error::UrlencodedError;
    match error {
        UrlencodedError::ContentType => ApiError::BadRequest {
            code: "invalid_form",
            detail: "the body must be sent as `Content-Type: application/x-www-form-urlencoded`"
                .to_owned(),
        },
        UrlencodedError::Overflow { .. } | UrlencodedError::UnknownLength => {
            ApiError::PayloadTooLarge { limit: FORM_LIMIT }
        }
        other => ApiError::BadRequest {
            code: "invalid_form",
            detail: format!("the body is not a form: {other}"),
        },
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
    let threshold = state.disclosure.min_cell();
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
        .app_data(
            web::FormConfig::default()
                .limit(FORM_LIMIT)
                .error_handler(|error, _| form_error(&error).into()),
        )
        .configure(routes::configure)
        .split_for_parts();
    super::openapi::complete(&mut api, threshold);
    // The last `wrap` runs first: a preflight from an allowed origin is answered at once (it
    // carries no key), and every other request gets its id, is measured, then its caller is
    // known, then it is rate-limited; NUL in its path or query is refused, its body gets a
    // deadline, and a `HEAD` is routed as a `GET`.
    app.service(SwaggerUi::new("/docs/{_:.*}").url("/openapi.json", api))
        .default_service(web::to(not_found))
        .wrap(from_fn(head::as_get))
        .wrap(from_fn(body_timeout::limit))
        .wrap(from_fn(nul::refuse))
        .wrap(from_fn(rate_limit::limit))
        .wrap(from_fn(auth::authenticate))
        .wrap(from_fn(metrics::track))
        .wrap(from_fn(request_id::assign))
        .wrap(from_fn(cors::allow))
}

/// No route took the request: a path the API has with another method is `405` with `Allow`,
/// any other `404`.
async fn not_found(req: HttpRequest) -> HttpResponse {
    use actix_web::ResponseError;
    let allowed = req
        .match_pattern()
        .and_then(|pattern| ALLOWED_METHODS.get(&pattern));
    let Some(allow) = allowed else {
        return ApiError::NotFound(format!("no route for {} {}", req.method(), req.path()))
            .error_response();
    };
    let mut response = problem_response(&Problem {
        kind: "/problems/method-not-allowed".to_owned(),
        title: "Method not allowed".to_owned(),
        status: 405,
        detail: format!("{} is not allowed here; allowed: {allow}", req.method()),
        code: "method_not_allowed".to_owned(),
        errors: Vec::new(),
    });
    if let Ok(value) = HeaderValue::from_str(allow) {
        response.headers_mut().insert(header::ALLOW, value);
    }
    response
}

/// The methods of each documented path pattern (`HEAD` wherever `GET` is), for `Allow`.
static ALLOWED_METHODS: LazyLock<HashMap<String, String>> = LazyLock::new(|| {
    openapi_document()
        .paths
        .paths
        .into_iter()
        .map(|(path, item)| {
            let methods = [
                ("GET", item.get.is_some()),
                ("HEAD", item.get.is_some() || item.head.is_some()),
                ("POST", item.post.is_some()),
                ("PUT", item.put.is_some()),
                ("PATCH", item.patch.is_some()),
                ("DELETE", item.delete.is_some()),
            ];
            let allow: Vec<&str> = methods
                .iter()
                .filter(|(_, has)| *has)
                .map(|(method, _)| *method)
                .collect();
            (path, allow.join(", "))
        })
        .collect()
});

/// The OpenAPI document exactly as the server serves it at `/openapi.json`.
pub fn openapi_document() -> utoipa::openapi::OpenApi {
    let (_, mut api) = App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .configure(routes::configure)
        .split_for_parts();
    let threshold = crate::settings::Settings::default()
        .disclosure()
        .map_or(3, |policy| policy.min_cell());
    super::openapi::complete(&mut api, threshold);
    api
}
