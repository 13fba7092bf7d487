//! The OpenAPI document's fixed parts; paths and schemas are collected from the routes.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::problem::{FieldError, Problem};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Readiness API",
        description = "Collects AI-adoption readiness surveys from firms and tells, firm by firm and in aggregate, whether a business is ready to customise its own model or should stay on vendor models.",
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
    ),
    components(schemas(Problem, FieldError)),
    modifiers(&BearerKeys),
    tags(
        (name = "surveys", description = "Instrument definitions, to render forms"),
        (name = "responses", description = "Submitting and reading responses"),
        (name = "reports", description = "Aggregated readiness, trends and blockers for analysts"),
        (name = "populations", description = "Population margins that reports can be weighted to"),
        (name = "keys", description = "API keys (admin)"),
        (name = "firms", description = "Erasure of a firm's data (admin)"),
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
                         reports, exports), `collector` (submit). Create the first admin key \
                         with `readiness keys create --role admin --name ops`.",
                    ))
                    .build(),
            ),
        );
    }
}
