//! Webhooks (admin): `POST/GET /api/v1/webhooks`, `GET/DELETE /api/v1/webhooks/{id}`,
//! `GET /api/v1/webhooks/{id}/deliveries` and
//! `POST /api/v1/webhooks/{id}/deliveries/{delivery}/redeliver`.

use actix_web::http::header;
use actix_web::{HttpResponse, delete, get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::http::extract::body::{Json, SINGLE_LIMIT};
use crate::http::extract::caller::{Administer, Authorized};
use crate::http::middleware::request_id::RequestId;
use crate::http::openapi::{AdminOnly, JsonBodyProblems};
use crate::http::problem::{ApiError, Problem};
use crate::http::state::AppState;
use crate::services::webhooks::{self, parse_new_webhook};
use crate::store::entities::{webhook_delivery, webhook_endpoint};
use crate::store::webhooks::WebhookStore;

pub fn configure(config: &mut utoipa_actix_web::service_config::ServiceConfig) {
    config
        .service(create_webhook)
        .service(list_webhooks)
        .service(get_webhook)
        .service(delete_webhook)
        .service(list_deliveries)
        .service(redeliver);
}

/// An event type an endpoint receives.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
pub enum WebhookEvent {
    /// A response was stored; `data.response_id` names it.
    #[serde(rename = "response.created")]
    ResponseCreated,
    /// A firm was erased on request; `data.response_ids` are its responses, to delete.
    #[serde(rename = "firm.erased")]
    FirmErased,
}

/// An endpoint to register.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"url": "https://hooks.example.org/readiness", "events": ["response.created", "firm.erased"], "description": "warehouse sync"}))]
#[serde(deny_unknown_fields)]
pub struct CreateWebhook {
    /// Where events are POSTed: an `http` or `https` URL without credentials, whose host
    /// resolves to public addresses (loopback and private ones only when the operator allows
    /// them; link-local and metadata addresses never).
    #[schema(format = "uri", max_length = 2048)]
    pub url: String,
    /// The event types to receive (default: all).
    #[schema(min_items = 1)]
    pub events: Option<std::collections::BTreeSet<WebhookEvent>>,
    /// What it is for (at most 200 characters).
    #[schema(max_length = 200)]
    pub description: Option<String>,
}

/// A registered endpoint, never its secret.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookView {
    pub id: Uuid,
    #[schema(example = "https://hooks.example.org/readiness")]
    pub url: String,
    pub events: Vec<WebhookEvent>,
    pub description: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// A registered endpoint with its signing secret, shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedWebhook {
    #[serde(flatten)]
    pub webhook: WebhookView,
    /// The Standard Webhooks secret (`whsec_…`) that signs every delivery
    /// (`webhook-signature`); verify with any Standard Webhooks library.
    #[schema(example = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")]
    pub secret: String,
}

/// Every endpoint, oldest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookList {
    pub webhooks: Vec<WebhookView>,
}

/// What became of one event for one endpoint.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryView {
    pub id: i64,
    /// `webhook-id`: the same on every attempt, for the receiver to deduplicate on.
    #[schema(example = "msg_0_1234")]
    pub event_id: String,
    pub kind: WebhookEvent,
    /// `pending` (due, retried or in progress), `delivered` (a 2xx answered) or `failed`
    /// (every attempt failed; redeliver to try again).
    #[schema(example = "delivered")]
    pub status: String,
    pub attempts: i32,
    pub created_at: DateTime<Utc>,
    /// When a pending delivery is tried next.
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub last_attempt_at: Option<DateTime<Utc>>,
    /// The HTTP status of the last attempt; `null` when there was no answer.
    pub last_status: Option<i32>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    pub delivered_at: Option<DateTime<Utc>>,
    /// The body, as every attempt sends it.
    pub payload: serde_json::Value,
}

/// A page of deliveries, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryPage {
    pub deliveries: Vec<DeliveryView>,
    /// Pass as `cursor` for the next (older) page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// Paging through deliveries.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeliveryQuery {
    /// Deliveries per page, 1–500 (default 50).
    #[param(minimum = 1, maximum = 500, default = 50)]
    pub limit: Option<u64>,
    /// `next_cursor` of the previous page.
    #[param(pattern = "^[1-9][0-9]{0,17}$")]
    pub cursor: Option<String>,
}

/// Register a webhook endpoint.
///
/// From now on, each event of the chosen types is POSTed to the URL as JSON (`type`,
/// `timestamp`, `data`) with the Standard Webhooks headers `webhook-id`, `webhook-timestamp`
/// and `webhook-signature` (HMAC-SHA256 with the secret returned here, once). A delivery
/// that does not get a 2xx within the timeout is retried with exponential backoff (5 s,
/// doubling, up to an hour between attempts, 30 attempts), with the same id and body each
/// time. Recorded in the audit log.
#[utoipa::path(
    tag = "webhooks",
    security(("bearer" = [])),
    request_body(content = CreateWebhook, content_type = "application/json"),
    responses(
        (status = 201, description = "Registered; `secret` is shown only now", body = CreatedWebhook,
            headers(("Location" = String, description = "The endpoint's URL"))),
        JsonBodyProblems,
        AdminOnly,
        (status = 422, description = "Invalid fields (every one named), or a URL whose host may not be called", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/webhooks")]
#[tracing::instrument(skip_all)]
pub async fn create_webhook(
    admin: Authorized<Administer>,
    request_id: RequestId,
    state: web::Data<AppState>,
    body: Json<SINGLE_LIMIT>,
) -> Result<HttpResponse, ApiError> {
    let new = parse_new_webhook(&body.0).map_err(ApiError::validation)?;
    let context = request_id.audit_context(&admin.principal);
    let endpoint = webhooks::register(&state.db, &state.webhooks, new, &context).await?;
    let secret = endpoint.secret.clone();
    let view = WebhookView::try_from(endpoint)?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/webhooks/{}", view.id)))
        .json(CreatedWebhook {
            webhook: view,
            secret,
        }))
}

/// The registered webhook endpoints.
#[utoipa::path(
    tag = "webhooks",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Every endpoint, oldest first", body = WebhookList),
        AdminOnly,
    )
)]
#[get("/webhooks")]
pub async fn list_webhooks(
    _admin: Authorized<Administer>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let webhooks = WebhookStore::list(&state.db)
        .await?
        .into_iter()
        .map(WebhookView::try_from)
        .collect::<Result<_, _>>()?;
    Ok(HttpResponse::Ok().json(WebhookList { webhooks }))
}

/// One webhook endpoint.
#[utoipa::path(
    tag = "webhooks",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Webhook id")),
    responses(
        (status = 200, description = "The endpoint", body = WebhookView),
        AdminOnly,
        (status = 404, description = "No webhook with this id", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/webhooks/{id}")]
pub async fn get_webhook(
    _admin: Authorized<Administer>,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = webhook_id(&id)?;
    let endpoint = webhooks::endpoint(&state.db, id).await?;
    Ok(HttpResponse::Ok().json(WebhookView::try_from(endpoint)?))
}

/// Delete a webhook endpoint and its delivery log; nothing more is sent to it. Recorded in
/// the audit log.
#[utoipa::path(
    tag = "webhooks",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Webhook id")),
    responses(
        (status = 204, description = "Deleted"),
        AdminOnly,
        (status = 404, description = "No webhook with this id", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/webhooks/{id}")]
#[tracing::instrument(skip_all)]
pub async fn delete_webhook(
    admin: Authorized<Administer>,
    request_id: RequestId,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = webhook_id(&id)?;
    webhooks::delete(&state.db, id, &request_id.audit_context(&admin.principal)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// An endpoint's deliveries, newest first: each event's status, attempts and last outcome.
/// Delivered and failed deliveries are kept for 30 days.
#[utoipa::path(
    tag = "webhooks",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Webhook id"), DeliveryQuery),
    responses(
        (status = 200, description = "A page of deliveries", body = DeliveryPage),
        AdminOnly,
        (status = 404, description = "No webhook with this id", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A bad `limit` or `cursor`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/webhooks/{id}/deliveries")]
pub async fn list_deliveries(
    _admin: Authorized<Administer>,
    state: web::Data<AppState>,
    id: web::Path<String>,
    query: web::Query<Vec<(String, String)>>,
) -> Result<HttpResponse, ApiError> {
    let id = webhook_id(&id)?;
    let mut pairs = super::query::QueryPairs::new(&query, |name| match name {
        "limit" | "cursor" => Some(super::query::Name::Once),
        _ => None,
    });
    let limit = match pairs.get("limit") {
        None => 50,
        Some(raw) => raw
            .parse::<u64>()
            .ok()
            .filter(|n| (1..=500).contains(n))
            .unwrap_or_else(|| {
                pairs.problem("limit", "must be a whole number from 1 to 500");
                50
            }),
    };
    let before = match pairs.get("cursor") {
        None => None,
        Some(raw) => {
            let canonical = !raw.starts_with('0') && raw.len() <= 18;
            match raw.parse::<i64>().ok().filter(|n| canonical && *n > 0) {
                Some(id) => Some(id),
                None => {
                    pairs.problem("cursor", "is not a cursor this server handed out");
                    None
                }
            }
        }
    };
    let (limit, before) = pairs.finish((limit, before), Vec::new())?;
    webhooks::endpoint(&state.db, id).await?;
    let mut rows = WebhookStore::deliveries(&state.db, id, before, limit + 1).await?;
    let next_cursor = if rows.len() as u64 > limit {
        rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        rows.last().map(|row| row.id.to_string())
    } else {
        None
    };
    let deliveries = rows
        .into_iter()
        .map(DeliveryView::try_from)
        .collect::<Result<_, _>>()?;
    Ok(HttpResponse::Ok().json(DeliveryPage {
        deliveries,
        next_cursor,
    }))
}

/// Send a delivery again, now, with its id and body, and a fresh count of attempts (e.g. a
/// `failed` one once the receiver is fixed). Recorded in the audit log.
#[utoipa::path(
    tag = "webhooks",
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "Webhook id"),
        ("delivery" = i64, Path, description = "Delivery id", minimum = 1),
    ),
    responses(
        (status = 202, description = "Pending again, due now", body = DeliveryView),
        AdminOnly,
        (status = 404, description = "No such webhook or delivery", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/webhooks/{id}/deliveries/{delivery}/redeliver")]
#[tracing::instrument(skip_all)]
pub async fn redeliver(
    admin: Authorized<Administer>,
    request_id: RequestId,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (id, delivery) = path.into_inner();
    let id = webhook_id(&id)?;
    let delivery = delivery
        .parse::<i64>()
        .map_err(|_| ApiError::NotFound(format!("webhook `{id}` has no delivery `{delivery}`")))?;
    let context = request_id.audit_context(&admin.principal);
    let row = webhooks::redeliver(&state.db, id, delivery, &context).await?;
    Ok(HttpResponse::Accepted().json(DeliveryView::try_from(row)?))
}

fn webhook_id(raw: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw).map_err(|_| ApiError::NotFound(format!("no webhook `{raw}`")))
}

impl TryFrom<webhook_endpoint::Model> for WebhookView {
    type Error = ApiError;

    fn try_from(row: webhook_endpoint::Model) -> Result<Self, ApiError> {
        let events = serde_json::from_value(row.events.clone())
            .map_err(|e| anyhow::anyhow!("webhook {} has malformed events: {e}", row.id))?;
        Ok(Self {
            id: row.id,
            url: row.url,
            events,
            description: row.description,
            created_at: row.created_at,
        })
    }
}

impl TryFrom<webhook_delivery::Model> for DeliveryView {
    type Error = ApiError;

    fn try_from(row: webhook_delivery::Model) -> Result<Self, ApiError> {
        let malformed = |e: serde_json::Error| {
            ApiError::from(anyhow::anyhow!("delivery {} is malformed: {e}", row.id))
        };
        let kind = serde_json::from_value(serde_json::Value::String(row.kind.clone()))
            .map_err(malformed)?;
        let payload = serde_json::from_str(&row.payload).map_err(malformed)?;
        Ok(Self {
            id: row.id,
            event_id: row.event_id,
            kind,
            status: row.status,
            attempts: row.attempts,
            created_at: row.created_at,
            next_attempt_at: row.next_attempt_at,
            last_attempt_at: row.last_attempt_at,
            last_status: row.last_status,
            last_error: row.last_error,
            delivered_at: row.delivered_at,
            payload,
        })
    }
}
