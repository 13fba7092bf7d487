//! `GET /api/v1/responses/{id}`: one stored response with its assessment.

use std::collections::BTreeMap;

use actix_web::{HttpResponse, get, web};
use readiness_analytics::texts::Language;
use uuid::Uuid;

use super::{FirmView, StoredResponseView};
use crate::http::extract::caller::{Authorized, ReadMicrodata};
use crate::http::extract::language::{AcceptLanguage, LangParam, Negotiated, label};
use crate::http::openapi::AnalystOnly;
use crate::http::problem::{ApiError, Problem};
use crate::http::state::AppState;
use crate::services::catalog::Entry;
use crate::services::submissions::assessment_view;
use crate::store::responses::{ResponseStore, Stored};

/// A stored response: the assessment it got, the firm as submitted, and its answers.
#[utoipa::path(
    tag = "responses",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Response id"), LangParam, AcceptLanguage),
    responses(
        (status = 200, description = "The stored response", body = StoredResponseView),
        AnalystOnly,
        (status = 404, description = "No response with this id", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`lang` names no supported language", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/responses/{id}")]
pub async fn get_response(
    _analyst: Authorized<ReadMicrodata>,
    state: web::Data<AppState>,
    id: web::Path<String>,
    language: Negotiated,
) -> Result<HttpResponse, ApiError> {
    let not_found = || ApiError::NotFound(format!("no response `{id}`"));
    let uuid = Uuid::parse_str(&id).map_err(|_| not_found())?;
    let stored = ResponseStore::by_id(&state.db, uuid)
        .await?
        .ok_or_else(not_found)?;
    let entry = state.catalog.by_id(&state.db, stored.row.survey_id).await?;
    let mut response =
        HttpResponse::Ok().json(StoredResponseView::new(&stored, &entry, language.0)?);
    label(&mut response, entry.localised(language.0).served());
    Ok(response)
}

impl StoredResponseView {
    /// A stored response as the contract shows it, read with its survey version.
    pub fn new(stored: &Stored, entry: &Entry, language: Language) -> Result<Self, ApiError> {
        let row = &stored.row;
        let answers: BTreeMap<String, String> = serde_json::from_value(row.answers.clone())
            .map_err(|e| anyhow::anyhow!("response {} has malformed answers: {e}", row.id))?;
        Ok(Self {
            assessment: assessment_view(stored, entry, language)?,
            firm: FirmView {
                external_ref: stored.firm_ref.clone(),
                industry: row.industry.clone(),
                size_band: row.size_band.clone(),
                country: row.country.clone(),
                region: row.region.clone(),
            },
            answers,
            received_at: row.received_at,
            source: row.source.clone(),
        })
    }
}
