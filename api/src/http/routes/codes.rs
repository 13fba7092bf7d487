//! The codes a segment attribute can take, as schemas of the contract: the same lists the
//! server checks a firm's attributes and a filter's values against, so a generated client
//! can check a value before it sends it. The types only describe; values are parsed in
//! `domain::firm`.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::{PartialSchema, ToSchema};

use crate::domain::firm::{country_codes, region_codes};

/// A NACE Rev.2 section letter.
#[derive(Debug, Deserialize, ToSchema)]
#[allow(dead_code)]
pub enum IndustryCode {
    A,
    B,
    C,
    D,
    E,
    F,
    G,
    H,
    I,
    J,
    K,
    L,
    M,
    N,
    O,
    P,
    Q,
    R,
    S,
    T,
    U,
}

/// A string schema listing `values`.
fn listed(description: &str, values: impl Iterator<Item = String>) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(description))
        .enum_values(Some(values))
        .into()
}

/// A firm's size class by employees.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SizeBand {
    /// 1–9 employees
    Micro,
    /// 10–49 employees
    Small,
    /// 50–249 employees
    Medium,
    /// 250 or more employees
    Large,
}

/// An officially assigned ISO 3166-1 alpha-2 country code.
#[derive(Debug, Deserialize)]
pub struct CountryCode;

impl PartialSchema for CountryCode {
    fn schema() -> RefOr<Schema> {
        listed(
            "An officially assigned ISO 3166-1 alpha-2 country code.",
            country_codes().map(str::to_owned),
        )
    }
}

impl ToSchema for CountryCode {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("CountryCode")
    }
}

/// An ISO 3166-2 subdivision code.
#[derive(Debug, Deserialize)]
pub struct RegionCode;

impl PartialSchema for RegionCode {
    fn schema() -> RefOr<Schema> {
        listed(
            "An ISO 3166-2 subdivision code, such as DE-BY.",
            region_codes().into_iter().map(str::to_owned),
        )
    }
}

impl ToSchema for RegionCode {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("RegionCode")
    }
}
