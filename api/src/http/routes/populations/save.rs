//! `POST /api/v1/populations`: store (or replace) named population margins.

use actix_web::{HttpResponse, post, web};
use chrono::Utc;
use readiness_analytics::FieldProblem;
use readiness_analytics::reports::SegmentField;
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};

use super::PopulationView;
use crate::domain::firm::{SIZE_BANDS, check_segment_value, country_codes};
use crate::http::extract::body::{Json, SINGLE_LIMIT};
use crate::http::extract::caller::{Administer, Authorized};
use crate::http::middleware::request_id::RequestId;
use crate::http::openapi::{AdminOnly, JsonBodyProblems};
use crate::http::problem::{ApiError, Problem};
use crate::http::state::AppState;
use crate::store::populations::PopulationStore;

/// Named population margins.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"name": "eu-2024", "margins": {"size_band": {"micro": 21_500_000, "small": 1_400_000, "medium": 200_000}}}))]
#[serde(deny_unknown_fields)]
pub struct SavePopulation {
    /// 1–64 characters: lower-case letters, digits, `.`, `_` or `-`.
    #[schema(pattern = "^[a-z0-9._-]{1,64}$")]
    pub name: String,
    /// Dimension (`industry`, `size_band`, `country`, `region`) → category → population count,
    /// each positive (a category of no population is left out, not given 0). The region
    /// margin may list `not_stated` for firms that gave no region; a sample with such firms
    /// can be weighted by region only when it does. A margin category the sample has no firm
    /// in is left out of the weighting and named in the report's `weighting.dropped`.
    #[schema(value_type = MarginsSchema)]
    pub margins: std::collections::BTreeMap<String, std::collections::BTreeMap<String, f64>>,
}

/// The margins as the server checks them: at least one of the four dimensions, each a
/// non-empty map from a category the dimension has to a positive count.
pub struct MarginsSchema;

impl utoipa::PartialSchema for MarginsSchema {
    fn schema() -> RefOr<Schema> {
        let text = || ObjectBuilder::new().schema_type(Type::String);
        let listed = |values: Vec<String>| text().enum_values(Some(values)).build();
        let margin = |categories: Schema| {
            ObjectBuilder::new()
                .schema_type(Type::Object)
                .min_properties(Some(1))
                .property_names(Some(categories))
                .additional_properties(Some(
                    ObjectBuilder::new()
                        .schema_type(Type::Number)
                        .exclusive_minimum(Some(0.0)),
                ))
        };
        let industries = ('A'..='U').map(String::from).collect();
        let bands = SIZE_BANDS.iter().map(|b| (*b).to_owned()).collect();
        let countries = country_codes().map(str::to_owned).collect();
        let regions = text().min_length(Some(1)).max_length(Some(64)).build();
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .min_properties(Some(1))
            .additional_properties(Some(
                utoipa::openapi::schema::AdditionalProperties::FreeForm(false),
            ))
            .property("industry", margin(listed(industries).into()))
            .property("size_band", margin(listed(bands).into()))
            .property("country", margin(listed(countries).into()))
            .property("region", margin(regions.into()))
            .into()
    }
}

impl ToSchema for MarginsSchema {
    fn name() -> std::borrow::Cow<'static, str> {
        std::borrow::Cow::Borrowed("Margins")
    }
}

/// Store population margins (e.g. enterprise counts by size class and industry) that reports
/// can be weighted to with `weights=<name>`. Saving an existing name replaces its margins.
#[utoipa::path(
    tag = "populations",
    security(("bearer" = [])),
    request_body(content = SavePopulation, content_type = "application/json"),
    responses(
        (status = 201, description = "Created", body = PopulationView),
        (status = 200, description = "Replaced", body = PopulationView),
        JsonBodyProblems,
        AdminOnly,
        (status = 422, description = "Invalid fields, every one named", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/populations")]
pub async fn save_population(
    admin: Authorized<Administer>,
    request_id: RequestId,
    state: web::Data<AppState>,
    body: Json<SINGLE_LIMIT>,
) -> Result<HttpResponse, ApiError> {
    let (name, margins) = parse(&body.0).map_err(ApiError::validation)?;
    let context = request_id.audit_context(&admin.principal);
    let (saved, created) =
        PopulationStore::upsert(&state.db, &name, margins, Utc::now(), &context).await?;
    state.reports.touch();
    let view = PopulationView::try_from(saved)?;
    Ok(if created {
        HttpResponse::Created().json(view)
    } else {
        HttpResponse::Ok().json(view)
    })
}

fn parse(body: &Value) -> Result<(String, Value), Vec<FieldProblem>> {
    let Some(object) = body.as_object() else {
        return Err(vec![FieldProblem::new(
            "",
            "must be an object with name and margins",
        )]);
    };
    let mut problems: Vec<FieldProblem> = object
        .keys()
        .filter(|k| !["name", "margins"].contains(&k.as_str()))
        .map(|k| FieldProblem::new(crate::domain::pointer::child("", k), "unknown field"))
        .collect();
    let name = match object.get("name").and_then(Value::as_str) {
        Some(name) if valid_name(name) => Some(name.to_owned()),
        _ => {
            problems.push(FieldProblem::new(
                "/name",
                "must be 1-64 characters: lower-case letters, digits, `.`, `_` or `-`",
            ));
            None
        }
    };
    match object.get("margins").and_then(Value::as_object) {
        Some(margins) if !margins.is_empty() => check_margins(margins, &mut problems),
        _ => problems.push(FieldProblem::new(
            "/margins",
            "must be a non-empty object of dimension to category counts",
        )),
    }
    match name {
        Some(name) if problems.is_empty() => {
            Ok((name, object.get("margins").cloned().unwrap_or_default()))
        }
        _ => Err(problems),
    }
}

fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
}

fn check_margins(margins: &Map<String, Value>, problems: &mut Vec<FieldProblem>) {
    for (dimension, categories) in margins {
        let pointer = crate::domain::pointer::child("/margins", dimension);
        // Industry, size band and country categories are checked as a firm's attributes are;
        // a region margin may also name `not_stated`, and regions the sample may not have.
        let field = match SegmentField::parse(dimension) {
            Some(field) if field != SegmentField::Version => field,
            _ => {
                problems.push(FieldProblem::new(
                    pointer,
                    "unknown dimension; use industry, size_band, country or region",
                ));
                continue;
            }
        };
        let valid_category = |category: &str| match field {
            SegmentField::Region => !category.is_empty() && category.len() <= 64,
            _ => check_segment_value(field, category).is_ok(),
        };
        let Some(categories) = categories.as_object().filter(|c| !c.is_empty()) else {
            problems.push(FieldProblem::new(
                pointer,
                "must be a non-empty object of category to count",
            ));
            continue;
        };
        let mut total = 0.0;
        for (category, count) in categories {
            let pointer = crate::domain::pointer::child(&pointer, category);
            if !valid_category(category) {
                problems.push(FieldProblem::new(
                    &pointer,
                    format!("unknown {dimension} `{category}`"),
                ));
            }
            match count.as_f64() {
                Some(n) if n.is_finite() && n > 0.0 => total += n,
                _ => problems.push(FieldProblem::new(
                    pointer,
                    "must be a positive number; leave out a category of no population",
                )),
            }
        }
        if total <= 0.0 {
            problems.push(FieldProblem::new(
                crate::domain::pointer::child("/margins", dimension),
                "needs at least one positive count",
            ));
        }
    }
}
