//! Webhooks: registering endpoints, and the worker that delivers the change feed's events
//! to them per the Standard Webhooks specification.
//!
//! Every event is in the change feed, written in the transaction of the write it reports
//! (`store::changes`), so a crash can neither lose an event nor report a write that was
//! rolled back. The worker, one per server, loops: it claims the due delivery rows with a
//! lease, fans new feed rows out into delivery rows (`WebhookStore::fan_out`) when fewer than
//! a round's worth were due, sends what it claimed at once, and settles it in one
//! transaction. Its writes take turns with the group-commit writer (`WriteTurn`), and while
//! submissions wait for that writer it pauses between rounds: deliveries wait, durable. A failure (no 2xx within the timeout, a refused address,
//! no connection) is retried with exponential backoff, with the same `webhook-id` and body
//! every time; a delivery whose attempt was cut by a crash is sent again when its lease ends.
//! Delivery is therefore at least once: receivers deduplicate on `webhook-id`.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::StreamExt;
use readiness_analytics::FieldProblem;
use sea_orm::DatabaseConnection;
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use super::error::ServiceError;
use crate::domain::pointer::child;
use crate::domain::webhook::{EVENT_TYPES, allowed, new_secret, parse_url, refusal, signature};
use crate::store::audit::AuditContext;
use crate::store::changes::{Change, FIRM_ERASED};
use crate::store::entities::{webhook_delivery, webhook_endpoint};
use crate::store::ingest::{WriteTurn, Writer};
use crate::store::webhooks::{Attempt, Due, NewEndpoint, WebhookStore};

/// Attempts before a delivery is given up (about a day with the default backoff).
pub const MAX_ATTEMPTS: i32 = 30;
/// The longest wait between two attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(3600);
/// Feed rows fanned out per endpoint and round.
const FAN_OUT_ROWS: u64 = 500;
/// Deliveries claimed and sent at once per round.
const CLAIM: u64 = 64;
/// Deliveries sent in parallel.
const PARALLEL: usize = 16;
/// How long an idle worker sleeps between rounds.
const IDLE: Duration = Duration::from_millis(200);
/// How long a worker with work pauses between rounds while submissions are waiting for the
/// writer: deliveries wait in the outbox, durable, and catch up once the load eases, so
/// under a saturating load they take a small share of the machine (and of SQLite's one
/// writer) instead of an equal one.
const YIELD: Duration = Duration::from_millis(250);
/// How long delivered and failed deliveries stay in the log.
const LOG_DAYS: i64 = 30;
/// Longest description of an endpoint.
const MAX_DESCRIPTION: usize = 200;

/// How webhooks are delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WebhookConfig {
    /// Whether endpoints may be on loopback, private or shared networks (an internal
    /// receiver); link-local and metadata addresses are refused regardless.
    pub allow_private: bool,
    /// How long one attempt may take, connecting included.
    pub timeout: Duration,
    /// The wait after the first failure; each later one doubles it, up to an hour.
    pub retry_base: Duration,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        Self {
            allow_private: false,
            timeout: Duration::from_secs(10),
            retry_base: Duration::from_secs(5),
        }
    }
}

impl WebhookConfig {
    /// When to try again after `attempts` failed attempts; `None` once there were
    /// [`MAX_ATTEMPTS`].
    pub fn retry_at(&self, attempts: i32, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        if attempts >= MAX_ATTEMPTS {
            return None;
        }
        let doublings = u32::try_from(attempts.saturating_sub(1))
            .unwrap_or(0)
            .min(20);
        let wait = self
            .retry_base
            .saturating_mul(1 << doublings)
            .min(MAX_BACKOFF);
        Some(now + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::MAX))
    }

    /// How long a claimed delivery is left to its attempt before another may take it.
    fn lease(&self) -> Duration {
        self.timeout + Duration::from_secs(1)
    }
}

/// An endpoint to register, checked.
#[derive(Debug, Clone)]
pub struct NewWebhook {
    pub url: reqwest::Url,
    pub events: Vec<String>,
    pub description: Option<String>,
}

/// Reads a registration body; every problem is named by its pointer.
pub fn parse_new_webhook(body: &Value) -> Result<NewWebhook, Vec<FieldProblem>> {
    let Some(object) = body.as_object() else {
        return Err(vec![FieldProblem::new("", "must be an object")]);
    };
    let mut problems: Vec<FieldProblem> = object
        .keys()
        .filter(|key| !["url", "events", "description"].contains(&key.as_str()))
        .map(|key| FieldProblem::new(child("", key), "unknown field"))
        .collect();
    let url = match object.get("url").and_then(Value::as_str) {
        Some(raw) => parse_url(raw)
            .map_err(|why| problems.push(FieldProblem::new("/url", why)))
            .ok(),
        None => {
            problems.push(FieldProblem::new(
                "/url",
                "is required: the http or https URL events are sent to",
            ));
            None
        }
    };
    let events = match object.get("events") {
        None | Some(Value::Null) => EVENT_TYPES.map(str::to_owned).to_vec(),
        Some(Value::Array(items)) if !items.is_empty() => {
            let mut events = Vec::new();
            for (index, item) in items.iter().enumerate() {
                match item.as_str().filter(|kind| EVENT_TYPES.contains(kind)) {
                    Some(kind) if !events.iter().any(|e| e == kind) => events.push(kind.to_owned()),
                    Some(_) => problems.push(FieldProblem::new(
                        format!("/events/{index}"),
                        "is listed twice",
                    )),
                    None => problems.push(FieldProblem::new(
                        format!("/events/{index}"),
                        format!("must be one of {}", EVENT_TYPES.join(", ")),
                    )),
                }
            }
            events
        }
        Some(_) => {
            problems.push(FieldProblem::new(
                "/events",
                format!(
                    "must be a non-empty list of event types ({})",
                    EVENT_TYPES.join(", ")
                ),
            ));
            Vec::new()
        }
    };
    let description = match object.get("description") {
        None | Some(Value::Null) => None,
        Some(Value::String(text)) if text.chars().count() <= MAX_DESCRIPTION => Some(text.clone()),
        Some(_) => {
            problems.push(FieldProblem::new(
                "/description",
                format!("must be a string of at most {MAX_DESCRIPTION} characters"),
            ));
            None
        }
    };
    match url {
        Some(url) if problems.is_empty() => Ok(NewWebhook {
            url,
            events,
            description,
        }),
        _ => Err(problems),
    }
}

/// Registers an endpoint once its host resolves only to addresses it may call; returns it
/// with its secret, which is shown this once.
pub async fn register(
    db: &DatabaseConnection,
    config: &WebhookConfig,
    new: NewWebhook,
    context: &AuditContext,
) -> Result<webhook_endpoint::Model, ServiceError> {
    let addresses = resolve(&new.url)
        .await
        .map_err(|why| ServiceError::fields([FieldProblem::new("/url", why)]))?;
    if let Some(ip) = addresses
        .iter()
        .find(|ip| !allowed(**ip, config.allow_private))
    {
        let why = match refusal(*ip) {
            Some(crate::domain::webhook::Refusal::Private) => format!(
                "resolves to {ip}, a loopback or private address; the operator allows those \
                 with webhooks_allow_private"
            ),
            _ => format!("resolves to {ip}, a link-local or metadata address, never called"),
        };
        return Err(ServiceError::fields([FieldProblem::new("/url", why)]));
    }
    let endpoint = NewEndpoint {
        url: new.url.to_string(),
        secret: new_secret()?,
        events: new.events,
        description: new.description,
    };
    Ok(WebhookStore::create(db, endpoint, Utc::now(), context).await?)
}

/// The addresses of a URL's host (the host itself when it is an address).
async fn resolve(url: &reqwest::Url) -> Result<Vec<IpAddr>, String> {
    let host = url.host_str().ok_or("must name a host")?;
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = bare.parse::<IpAddr>() {
        return Ok(vec![ip]);
    }
    let port = url.port_or_known_default().unwrap_or(443);
    let found: Vec<IpAddr> = tokio::net::lookup_host((host, port))
        .await
        .map_err(|_| format!("names a host that does not resolve: {host}"))?
        .map(|addr| addr.ip())
        .collect();
    if found.is_empty() {
        return Err(format!("names a host that does not resolve: {host}"));
    }
    Ok(found)
}

/// The body of an event, as every attempt sends it (Standard Webhooks' `type`,
/// `timestamp`, `data`).
#[derive(Serialize)]
struct Payload<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    timestamp: DateTime<Utc>,
    data: PayloadData,
}

#[derive(Serialize)]
struct PayloadData {
    /// The position in the change feed (`GET /api/v1/changes?after=`).
    cursor: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    response_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    response_ids: Option<Vec<Uuid>>,
}

/// The body delivered for a change: its type, time and the ids it concerns; a receiver
/// reads the response itself with a key (`GET /api/v1/responses/{id}`), so no answers travel
/// to an endpoint.
pub fn payload(change: &Change) -> String {
    let erased = change.kind == FIRM_ERASED;
    let body = Payload {
        kind: &change.kind,
        timestamp: change.at,
        data: PayloadData {
            cursor: format!("{}.{}", change.position.txid, change.position.seq),
            response_id: change.response_id,
            response_ids: erased.then(|| change.response_ids.clone()),
        },
    };
    serde_json::to_string(&body).unwrap_or_default()
}

/// Starts the delivery worker of this server.
pub fn spawn_worker(db: DatabaseConnection, writer: Writer, config: WebhookConfig) {
    let turn = writer.turn();
    tokio::spawn(async move {
        let client = match client(&config) {
            Ok(client) => client,
            Err(error) => {
                tracing::error!(error = %error, "webhooks are not delivered: no HTTP client");
                return;
            }
        };
        let mut purged_at = None;
        loop {
            let busy = match round(&db, &turn, &client, &config).await {
                Ok(busy) => busy,
                Err(error) => {
                    tracing::warn!(error = ?error, "a webhook delivery round failed; retrying");
                    false
                }
            };
            let now = Utc::now();
            if purged_at.is_none_or(|at: DateTime<Utc>| now - at > chrono::Duration::hours(1)) {
                purged_at = Some(now);
                let before = now - chrono::Duration::days(LOG_DAYS);
                if let Err(error) = WebhookStore::purge(&db, before).await {
                    tracing::warn!(error = ?error, "old webhook deliveries were not purged");
                }
            }
            if !busy {
                tokio::time::sleep(IDLE).await;
            } else if writer.is_busy() {
                tokio::time::sleep(YIELD).await;
            }
        }
    });
}

/// One round: fan out, then send what is due. Whether it found work.
async fn round(
    db: &DatabaseConnection,
    turn: &WriteTurn,
    client: &reqwest::Client,
    config: &WebhookConfig,
) -> anyhow::Result<bool> {
    let now = Utc::now();
    let endpoints = WebhookStore::list(db).await?;
    if endpoints.is_empty() {
        return Ok(false);
    }
    let lease = now + chrono::Duration::from_std(config.lease()).unwrap_or_default();
    let due = WebhookStore::claim_due(db, turn, now, lease, CLAIM).await?;
    // New events become deliveries only while the outbox holds less than a round's worth:
    // a backlog stays in the change feed, not in rows written ahead of their sending.
    let mut busy = false;
    if (due.len() as u64) < CLAIM {
        for endpoint in endpoints {
            let read =
                WebhookStore::fan_out(db, turn, endpoint.id, FAN_OUT_ROWS, now, payload).await?;
            busy |= read > 0;
        }
    }
    if due.is_empty() {
        return Ok(busy);
    }
    let attempts: Vec<Attempt> = futures::stream::iter(due)
        .map(|due| attempt(client, config, due))
        .buffer_unordered(PARALLEL)
        .collect()
        .await;
    WebhookStore::settle(db, turn, &attempts).await?;
    Ok(true)
}

/// Sends one delivery and says how it went.
async fn attempt(client: &reqwest::Client, config: &WebhookConfig, due: Due) -> Attempt {
    let delivery = &due.delivery;
    let result = send(client, config, &due).await;
    let at = Utc::now();
    let (status, error) = match result {
        Ok(status) if (200..300).contains(&status) => (Some(status), None),
        Ok(status) => (
            Some(status),
            Some(format!("the endpoint answered {status}")),
        ),
        Err(error) => (None, Some(error)),
    };
    let retry_at = error
        .as_ref()
        .and_then(|_| config.retry_at(delivery.attempts.saturating_add(1), at));
    if let Some(error) = &error {
        tracing::info!(
            delivery = delivery.id,
            event = %delivery.event_id,
            attempts = delivery.attempts + 1,
            error = %error,
            "a webhook delivery failed"
        );
    }
    Attempt {
        delivery_id: delivery.id,
        at,
        status,
        error,
        retry_at,
    }
}

/// One attempt: the signed POST; the status, or why there was none.
async fn send(client: &reqwest::Client, config: &WebhookConfig, due: &Due) -> Result<u16, String> {
    let url = parse_url(&due.url)?;
    // An address in the URL is checked here; a host name is checked by the resolver on
    // every connection, so a name that later points inward is refused too.
    if let Some(host) = url.host_str() {
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        if let Ok(ip) = bare.parse::<IpAddr>()
            && !allowed(ip, config.allow_private)
        {
            return Err(format!("{ip} may not be called"));
        }
    }
    let timestamp = Utc::now().timestamp();
    let delivery: &webhook_delivery::Model = &due.delivery;
    let signed = signature(
        &due.secret,
        &delivery.event_id,
        timestamp,
        &delivery.payload,
    )
    .map_err(|e| e.to_string())?;
    let response = client
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header("webhook-id", &delivery.event_id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signed)
        .body(delivery.payload.clone())
        .send()
        .await
        .map_err(|error| {
            let error = error.without_url();
            if error.is_timeout() {
                "no answer within the timeout".to_owned()
            } else {
                format!("{error:#}")
            }
        })?;
    Ok(response.status().as_u16())
}

/// The worker's HTTP client: no redirects (a redirect could lead anywhere), the attempt's
/// timeout, and a resolver that drops addresses the policy refuses.
fn client(config: &WebhookConfig) -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(config.timeout)
        .connect_timeout(config.timeout)
        .user_agent(concat!("readiness-webhooks/", env!("CARGO_PKG_VERSION")))
        .dns_resolver(Arc::new(PolicyResolver {
            allow_private: config.allow_private,
        }))
        .build()?)
}

/// Resolves with the system resolver and keeps only the addresses webhooks may call.
struct PolicyResolver {
    allow_private: bool,
}

impl reqwest::dns::Resolve for PolicyResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|addr| allowed(addr.ip(), allow_private))
                .collect();
            if found.is_empty() {
                return Err(format!("{host} resolves to no address webhooks may call").into());
            }
            let addrs: reqwest::dns::Addrs = Box::new(found.into_iter());
            Ok(addrs)
        })
    }
}

/// Endpoints, deliveries and redelivery, for the routes.
pub async fn delete(
    db: &DatabaseConnection,
    id: Uuid,
    context: &AuditContext,
) -> Result<(), ServiceError> {
    if WebhookStore::delete(db, id, context).await? {
        Ok(())
    } else {
        Err(ServiceError::NotFound(format!("no webhook `{id}`")))
    }
}

/// The endpoint, or `404`.
pub async fn endpoint(
    db: &DatabaseConnection,
    id: Uuid,
) -> Result<webhook_endpoint::Model, ServiceError> {
    WebhookStore::get(db, id)
        .await?
        .ok_or_else(|| ServiceError::NotFound(format!("no webhook `{id}`")))
}

/// Makes a delivery pending again, due now.
pub async fn redeliver(
    db: &DatabaseConnection,
    endpoint_id: Uuid,
    delivery: i64,
    context: &AuditContext,
) -> Result<webhook_delivery::Model, ServiceError> {
    endpoint(db, endpoint_id).await?;
    WebhookStore::redeliver(db, endpoint_id, delivery, Utc::now(), context)
        .await?
        .ok_or_else(|| {
            ServiceError::NotFound(format!(
                "webhook `{endpoint_id}` has no delivery `{delivery}`"
            ))
        })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn backoff_doubles_up_to_an_hour_and_gives_up() {
        let config = WebhookConfig::default();
        let now = Utc::now();
        let wait = |attempts| (config.retry_at(attempts, now).unwrap() - now).num_seconds();
        assert_eq!(wait(1), 5);
        assert_eq!(wait(2), 10);
        assert_eq!(wait(3), 20);
        assert_eq!(wait(10), 2560);
        assert_eq!(wait(11), 3600);
        assert_eq!(wait(29), 3600);
        assert_eq!(config.retry_at(MAX_ATTEMPTS, now), None);
    }

    #[test]
    fn registrations_name_every_bad_field() {
        let problems = parse_new_webhook(&serde_json::json!({
            "url": "ftp://example.org/", "events": ["response.created", "nope", "response.created"],
            "description": 7, "extra": true
        }))
        .unwrap_err();
        let mut pointers: Vec<&str> = problems.iter().map(|p| p.pointer.as_str()).collect();
        pointers.sort_unstable();
        assert_eq!(
            pointers,
            ["/description", "/events/1", "/events/2", "/extra", "/url"]
        );
        let new = parse_new_webhook(&serde_json::json!({"url": "https://example.org/h"})).unwrap();
        assert_eq!(new.events, ["response.created", "firm.erased"]);
    }
}
