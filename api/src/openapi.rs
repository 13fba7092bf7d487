//! The OpenAPI document's fixed parts; paths and schemas are collected from the routes.

use utoipa::OpenApi;

use crate::problem::{FieldError, Problem};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Readiness API",
        description = "Collects AI-adoption readiness surveys from firms and tells, firm by firm and in aggregate, whether a business is ready to customise its own model or should stay on vendor models.",
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
    ),
    components(schemas(Problem, FieldError)),
    tags(
        (name = "surveys", description = "Instrument definitions, to render forms"),
        (name = "responses", description = "Submitting and reading responses"),
        (name = "reports", description = "Aggregated readiness, trends and blockers for analysts"),
        (name = "populations", description = "Population margins that reports can be weighted to"),
        (name = "operations", description = "Health and readiness probes"),
    )
)]
pub struct ApiDoc;
