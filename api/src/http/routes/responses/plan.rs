//! `GET /api/v1/responses/{id}/plan`: the action plan and peer benchmark of a response.

use actix_web::{HttpRequest, HttpResponse, get, web};
use readiness_analytics::FieldProblem;
use uuid::Uuid;

use crate::http::extract::caller::{Caller, Permission, ReadMicrodata, Submit};
use crate::http::extract::language::{
    AcceptLanguage, LangParam, Negotiated, label, single_query_value,
};
use crate::http::problem::{ApiError, Problem};
use crate::http::state::AppState;
use crate::services::plans::{MAX_PEER_MIN, PlanView, plan_of, submitted_by};
use crate::store::responses::ResponseStore;

/// `peer_min` for the OpenAPI document.
#[derive(Debug, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PeerMinParam {
    /// The smallest number of other firms a peer group must hold; a request may raise the
    /// default of 20, not lower it, and the group is never below the disclosure threshold.
    #[param(minimum = 1, maximum = 1_000_000_000, example = 20)]
    pub peer_min: Option<u64>,
}

/// The action plan and peer benchmark of a stored response.
///
/// For each blocker (a failed gate of the next tier): the answer the firm gave, the least
/// answer that passes the gate (read from the rubric), and a next step. The benchmark
/// compares the firm with the latest response of each other firm in the narrowest group of
/// industry × size band × country, industry × size band, size band, or everyone that holds
/// at least `peer_min` of them; every count passes the reports' disclosure control.
///
/// An analyst (or admin) may read any response's plan; a collector only the plans of the
/// responses its key submitted with an `Idempotency-Key` (others are `404` to it).
#[utoipa::path(
    tag = "responses",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Response id"), PeerMinParam, LangParam, AcceptLanguage),
    responses(
        (status = 200, description = "The plan and the benchmark", body = PlanView,
            headers(("Content-Language" = String, description = "The language of the texts, when the instrument's texts are written in the one asked for"))),
        (status = 401, description = "No valid API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The key's role may not read plans", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No response with this id that this key may read", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`peer_min` or `lang` is invalid", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/responses/{id}/plan")]
pub async fn get_plan(
    caller: Caller,
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let analyst = caller.has_any(ReadMicrodata::ROLES);
    let collector = caller.has_any(Submit::ROLES);
    if !analyst && !collector {
        return Err(caller.refusal());
    }
    let language = Negotiated::of(&req)?;
    let peer_min = peer_min(&req)?;
    let not_found = || ApiError::NotFound(format!("no response `{id}`"));
    let uuid = Uuid::parse_str(&id).map_err(|_| not_found())?;
    let stored = ResponseStore::by_id(&state.db, uuid)
        .await?
        .ok_or_else(not_found)?;
    let owner = caller.principal().map(|p| p.key_id);
    if !analyst && !owner.is_some_and(|key| submitted_by(&stored, key)) {
        return Err(not_found());
    }
    let entry = state.catalog.by_id(&state.db, stored.row.survey_id).await?;
    let view = plan_of(&state.services, &stored, &entry, language.0, peer_min).await?;
    let mut response = HttpResponse::Ok().json(view);
    label(&mut response, entry.localised(language.0).served());
    Ok(response)
}

fn peer_min(req: &HttpRequest) -> Result<Option<u64>, ApiError> {
    single_query_value(req, "peer_min")?
        .map(|value| {
            value
                .parse::<u64>()
                .ok()
                .filter(|n| (1..=MAX_PEER_MIN).contains(n))
                .ok_or_else(|| {
                    ApiError::validation([FieldProblem::new(
                        "/query/peer_min",
                        format!("must be a whole number from 1 to {MAX_PEER_MIN}"),
                    )])
                })
        })
        .transpose()
}
