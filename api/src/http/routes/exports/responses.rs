//! `GET /api/v1/exports/responses`: every matching response as CSV, Parquet or NDJSON,
//! streamed.

use actix_web::http::header::{self, ContentDisposition, DispositionParam, DispositionType};
use actix_web::{HttpRequest, HttpResponse, get, web};
use chrono::Utc;

use super::params::{ExportParams, ExportParamsDoc};
use crate::http::conditional::{self, Precondition, Validator};
use crate::http::extract::caller::{Authorized, ReadMicrodata};
use crate::http::openapi::AnalystOnly;
use crate::http::problem::{ApiError, Problem};
use crate::http::routes::query::FilterParamsDoc;
use crate::http::state::AppState;
use crate::services::exports;

/// A Parquet file (binary).
#[derive(utoipa::ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct ParquetFile(#[allow(dead_code)] Vec<u8>);

/// Export responses: one row per response with the firm's segment attributes, one column per
/// question (`answer_<key>`), the tier, the blockers (`;`-separated in CSV) and the dimension
/// scores, in the order the responses were received.
///
/// The body is streamed: rows are read and sent page by page, so memory stays flat for any
/// number of rows. An error after the first bytes can only cut the stream short (the
/// connection is closed without the final chunk).
#[utoipa::path(
    tag = "exports",
    security(("bearer" = [])),
    params(FilterParamsDoc, ExportParamsDoc),
    responses(
        (status = 200, description = "The export as an attachment", headers(
            ("Content-Disposition" = String, description = "`attachment; filename=\"responses-<survey>-<UTC time>.<format>\"`"),
        ), content(
            (String = "text/csv", example = "response_id,survey,version,firm_ref,industry,size_band,country,region,submitted_at,received_at,answer_business_age,…,tier,tier_rank,ready_to_customise,blockers,score_maturity,…\n"),
            (ParquetFile = "application/vnd.apache.parquet"),
            (String = "application/x-ndjson"),
        )),
        (status = 400, description = "Malformed query string", body = Problem, content_type = "application/problem+json"),
        AnalystOnly,
        (status = 404, description = "No released survey `survey`, or no released version `version` of it; the problem names the parameter", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unknown parameter or value, or a report-only parameter; every one named", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/exports/responses")]
#[tracing::instrument(skip_all)]
pub async fn export_responses(
    _analyst: Authorized<ReadMicrodata>,
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<Vec<(String, String)>>,
) -> Result<HttpResponse, ApiError> {
    let params = ExportParams::parse(&query)?;
    let validator = Validator::new(&state, "export", &params, conditional::NO_STORE);
    match validator.precondition(&req) {
        Precondition::Matches => return Ok(validator.not_modified(&state.services)),
        Precondition::Any => {
            exports::plan(&state.db, &state.catalog, &params.request).await?;
            return Ok(validator.not_modified(&state.services));
        }
        Precondition::Absent => {}
    }
    let format = params.format;
    let receiver = exports::start(&state, &params.request, format, params.pseudonymise).await?;
    let body = futures::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|chunk| (chunk, receiver))
    });
    let filename = format!(
        "responses-{}-{}.{}",
        params.request.survey,
        Utc::now().format("%Y%m%dT%H%M%SZ"),
        format.key()
    );
    Ok(validator.respond(
        HttpResponse::Ok()
            .insert_header((header::CONTENT_TYPE, format.content_type()))
            .insert_header(ContentDisposition {
                disposition: DispositionType::Attachment,
                parameters: vec![DispositionParam::Filename(filename)],
            })
            .streaming(body),
    ))
}
