//! The OpenAPI document's fixed parts; paths and schemas are collected from the routes.

use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::{Operation, ParameterBuilder, ParameterIn};
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Content, PathItem, Ref, RefOr, Required};
use utoipa::{Modify, OpenApi};

use crate::domain::params::MAX_MIN_CELL;
use crate::http::conditional;
use crate::http::middleware::rate_limit;
use crate::http::problem::{FieldError, PROBLEM_CONTENT_TYPE, Problem};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Readiness API",
        description = "Collects AI-adoption readiness surveys from firms and tells, firm by firm and in aggregate, whether a business is ready to customise its own model or should stay on vendor models.",
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
    ),
    components(schemas(Problem, FieldError, readiness_analytics::texts::Language)),
    modifiers(&BearerKeys),
    tags(
        (name = "surveys", description = "Instrument definitions, to render forms"),
        (name = "responses", description = "Submitting and reading responses"),
        (name = "reports", description = "Aggregated readiness, trends and blockers for analysts"),
        (name = "exports", description = "Streamed exports of raw responses (CSV, Parquet, NDJSON) for analysts"),
        (name = "populations", description = "Population margins that reports can be weighted to"),
        (name = "invitations", description = "Personal links to the self-assessment"),
        (name = "assessment pages", description = "The self-assessment as HTML pages for people (forms, not an API): the questionnaire, drafts and results"),
        (name = "keys", description = "API keys (admin)"),
        (name = "firms", description = "Erasure of a firm's data (admin)"),
        (name = "webhooks", description = "Signed event deliveries to registered endpoints (admin), per Standard Webhooks"),
        (name = "operations", description = "Health and readiness probes, the audit log"),
    )
)]
pub struct ApiDoc;

/// The `bearer` security scheme: `Authorization: Bearer rdy_<prefix>_<secret>`.
struct BearerKeys;

impl Modify for BearerKeys {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("rdy_<prefix>_<secret>")
                    .description(Some(
                        "An API key. Roles: `admin` (everything), `analyst` (read responses, \
                         exports and everything a viewer reads), `viewer` (read reports, report \
                         pages, share links and population margins: aggregates only), \
                         `collector` (submit). Create the first admin key \
                         with `readiness keys create --role admin --name ops`.",
                    ))
                    .build(),
            ),
        );
    }
}

/// Completes the document once every route is registered: the statuses that middleware can
/// answer on any route are declared on every operation they apply to.
///
/// `threshold` is the publisher's disclosure threshold, the least `min_cell` a request may
/// ask for: the served document states the server's own, the committed one the default.
pub fn complete(api: &mut utoipa::openapi::OpenApi, threshold: u64) {
    SharedProblems.modify(api);
    ConditionalGets.modify(api);
    MinCell(threshold).modify(api);
}

/// Every `min_cell` parameter's minimum is the publisher's threshold, its maximum
/// [`MAX_MIN_CELL`].
struct MinCell(u64);

impl Modify for MinCell {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for item in openapi.paths.paths.values_mut() {
            for operation in [item.get.as_mut(), item.post.as_mut()]
                .into_iter()
                .flatten()
            {
                for parameter in operation.parameters.iter_mut().flatten() {
                    let RefOr::T(parameter) = parameter else {
                        continue;
                    };
                    if parameter.name != "min_cell" {
                        continue;
                    }
                    parameter.schema = Some(
                        ObjectBuilder::new()
                            .schema_type(Type::Integer)
                            .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
                                utoipa::openapi::KnownFormat::Int64,
                            )))
                            .minimum(Some(self.0 as f64))
                            .maximum(Some(MAX_MIN_CELL as f64))
                            .into(),
                    );
                }
            }
        }
    }
}

/// The routes of [`conditional::ROUTES`] take `If-None-Match`, answer `304`, and send `ETag`
/// and `Cache-Control` with both.
struct ConditionalGets;

impl Modify for ConditionalGets {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for (path, item) in openapi.paths.paths.iter_mut() {
            if !conditional::ROUTES.contains(&path.as_str()) {
                continue;
            }
            let Some(operation) = item.get.as_mut() else {
                continue;
            };
            operation
                .parameters
                .get_or_insert_with(Vec::new)
                .push(if_none_match().into());
            let responses = &mut operation.responses.responses;
            if let Some(RefOr::T(ok)) = responses.get_mut("200") {
                ok.headers.extend(validator_headers());
            }
            let mut not_modified = ResponseBuilder::new()
                .description(
                    "Not modified: an `If-None-Match` tag matches the current `ETag` (or is \
                     `*`); no body, nothing recomputed",
                )
                .build();
            not_modified.headers.extend(validator_headers());
            responses.insert("304".to_owned(), not_modified.into());
        }
    }
}

fn if_none_match() -> utoipa::openapi::path::Parameter {
    ParameterBuilder::new()
        .name("If-None-Match")
        .parameter_in(ParameterIn::Header)
        .required(Required::False)
        .description(Some(
            "`ETag`s of copies the client holds (a list, `W/` tags compared weakly), or `*`: \
             `304` when one is current",
        ))
        .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
        .build()
}

fn validator_headers() -> [(String, RefOr<utoipa::openapi::header::Header>); 2] {
    let text = || ObjectBuilder::new().schema_type(Type::String);
    [
        (
            "ETag".to_owned(),
            HeaderBuilder::new()
                .schema(Some(text()))
                .description(Some(
                    "Strong validator of this representation: the data version and the \
                     normalised parameters; send it back in `If-None-Match`",
                ))
                .build()
                .into(),
        ),
        (
            "Cache-Control".to_owned(),
            HeaderBuilder::new()
                .schema(Some(text()))
                .description(Some(
                    "`private, no-cache` for reports and report pages, `no-store` for exports, \
                     `no-cache` for survey definitions",
                ))
                .build()
                .into(),
        ),
    ]
}

/// Replies that do not come from a handler: the authentication middleware refuses a key that
/// is sent but not valid on every route, the rate limiter answers `429` and the NUL check
/// `422` on every route but the probes, a body that does not arrive in time is `408`, and any
/// route can fail internally (without details).
struct SharedProblems;

impl Modify for SharedProblems {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for (path, item) in openapi.paths.paths.iter_mut() {
            let limited = !rate_limit::EXEMPT.contains(&path.as_str());
            for operation in operations(item) {
                let responses = &mut operation.responses.responses;
                responses.entry("401".to_owned()).or_insert_with(|| {
                    problem(
                        "The API key that was sent is malformed, unknown, revoked or expired \
                         (a key that is sent must be valid even where none is needed)",
                    )
                    .into()
                });
                if limited {
                    responses
                        .entry("429".to_owned())
                        .or_insert_with(|| rate_limited().into());
                    responses.entry("422".to_owned()).or_insert_with(|| {
                        problem("The path or a query parameter contains the NUL character").into()
                    });
                }
                if operation.request_body.is_some() {
                    responses.entry("408".to_owned()).or_insert_with(|| {
                        problem(
                            "The request body did not arrive within the body timeout; the \
                             connection is closed",
                        )
                        .into()
                    });
                }
                responses.entry("500".to_owned()).or_insert_with(|| {
                    problem("An internal error; the details are logged, not sent").into()
                });
            }
        }
    }
}

fn operations(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        &mut item.get,
        &mut item.put,
        &mut item.post,
        &mut item.delete,
        &mut item.options,
        &mut item.head,
        &mut item.patch,
        &mut item.trace,
    ]
    .into_iter()
    .filter_map(Option::as_mut)
}

/// A problem+json response with the [`Problem`] schema.
fn problem(description: &str) -> Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            PROBLEM_CONTENT_TYPE,
            Content::new(Some(RefOr::Ref(Ref::from_schema_name("Problem")))),
        )
        .build()
}

fn rate_limited() -> Response {
    let mut response = problem(
        "Too many requests from this key (or, without a key, this address); retry after \
         `Retry-After` seconds",
    );
    response.headers.insert(
        "Retry-After".to_owned(),
        HeaderBuilder::new()
            .schema(Some(
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .minimum(Some(0)),
            ))
            .description(Some("Seconds until a request is accepted again"))
            .build()
            .into(),
    );
    response
}

/// A response set for the `401` and `403` a caller's key decides on a route, with the `403`
/// described for the role the route demands.
macro_rules! key_refusals {
    ($(#[$doc:meta])* $name:ident, $forbidden:tt) => {
        $(#[$doc])*
        #[derive(utoipa::IntoResponses)]
        #[allow(dead_code)]
        pub enum $name {
            /// No valid API key
            #[response(status = 401, content_type = "application/problem+json")]
            Unauthorized(Problem),
            #[doc = $forbidden]
            #[response(status = 403, content_type = "application/problem+json")]
            Forbidden(Problem),
        }
    };
}

key_refusals!(
    /// The refusals of an admin-only route.
    AdminOnly,
    "The key is not an admin key"
);
key_refusals!(
    /// The refusals of a route that reads microdata.
    AnalystOnly,
    "The key is neither an analyst nor an admin key"
);
key_refusals!(
    /// The refusals of a route that reads aggregates.
    AggregateReaders,
    "The key is not a viewer, analyst or admin key"
);

/// The problems of a report's query string: `400`, `404` and `422`.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
pub enum ReportQueryProblems {
    /// Malformed query string
    #[response(status = 400, content_type = "application/problem+json")]
    Malformed(Problem),
    /// No released survey `survey`, or no released version `version` of it; the problem
    /// names the parameter
    #[response(status = 404, content_type = "application/problem+json")]
    UnknownSurvey(Problem),
    /// Unknown parameter or value, every one named
    #[response(status = 422, content_type = "application/problem+json")]
    Invalid(Problem),
}

/// The problems of a JSON body of at most 64 KiB before its fields are read: `400`, `413`
/// and `415`.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
pub enum JsonBodyProblems {
    /// Malformed JSON
    #[response(status = 400, content_type = "application/problem+json")]
    Malformed(Problem),
    /// Body over 64 KiB
    #[response(status = 413, content_type = "application/problem+json")]
    TooLarge(Problem),
    /// Body not sent as application/json, or sent in a content coding other than gzip or deflate
    #[response(status = 415, content_type = "application/problem+json")]
    NotJson(Problem),
}

/// Why a submission route may refuse before reading the answers: the caller and the survey
/// (`401`, `403`, `404`) and the body's type (`415`).
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
pub enum SubmissionRefusals {
    /// No valid API key, and the survey is not public
    #[response(status = 401, content_type = "application/problem+json")]
    Unauthorized(Problem),
    /// The key is neither a collector nor an admin key, and the survey is not public
    #[response(status = 403, content_type = "application/problem+json")]
    Forbidden(Problem),
    /// No published survey with this slug
    #[response(status = 404, content_type = "application/problem+json")]
    NoSurvey(Problem),
    /// The firm was erased on request (`firm_erased`): a submission naming it, or replaying one
    /// of its idempotency keys, is refused for 365 days after the erasure
    #[response(status = 410, content_type = "application/problem+json")]
    FirmErased(Problem),
    /// Body not sent as application/json, or sent in a content coding other than gzip or deflate
    #[response(status = 415, content_type = "application/problem+json")]
    NotJson(Problem),
}
