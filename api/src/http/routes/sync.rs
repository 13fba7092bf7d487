//! Incremental sync: `GET /api/v1/responses?after=` and `GET /api/v1/changes?after=`.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::query::{FilterParamsDoc, Filters, Name, QueryPairs, filter_name};
use super::responses::{DimensionScoresView, FirmView, SurveyRef};
use crate::http::extract::caller::{Authorized, ReadMicrodata};
use crate::http::openapi::AnalystOnly;
use crate::http::problem::{ApiError, Problem};
use crate::http::state::AppState;
use crate::services::sync::{self, DEFAULT_LIMIT, MAX_LIMIT, SyncRequest};
use crate::store::changes::{FIRM_ERASED, Position, SyncRow};

pub fn configure(config: &mut utoipa_actix_web::service_config::ServiceConfig) {
    config.service(list_responses).service(list_changes);
}

/// Paging through the feed.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct SyncParamsDoc {
    /// `next_cursor` of the previous page; absent: from the beginning. A cursor is a
    /// position in commit order, not a time, and stays valid for ever.
    #[param(
        pattern = r"^(0|[1-9][0-9]{0,17})\.(0|[1-9][0-9]{0,17})$",
        example = "0.1234"
    )]
    after: Option<String>,
    /// Rows per page, 1–1000 (default 100).
    #[param(minimum = 1, maximum = 1000, default = 100)]
    limit: Option<u64>,
}

/// A stored response and its position in commit order: the data of a row of an export (the
/// advice and the gates' reasons are the instrument's, in the survey definition).
#[derive(Debug, Serialize, ToSchema)]
pub struct SyncedResponse {
    /// Its position: passing it as `after` continues after it.
    #[schema(example = "0.1234")]
    pub cursor: String,
    pub id: Uuid,
    pub survey: SurveyRef,
    pub firm: FirmView,
    /// Question key → option key, as submitted.
    #[schema(value_type = std::collections::BTreeMap<String, String>)]
    pub answers: Box<RawValue>,
    /// The tier's key, e.g. `vendor_rag`.
    #[schema(example = "vendor_rag")]
    pub tier: String,
    /// 1 = lowest.
    pub tier_rank: u8,
    pub ready_to_customise: bool,
    /// The gates of the next tier this response fails.
    #[schema(value_type = Vec<String>)]
    pub blockers: Box<RawValue>,
    pub scores: DimensionScoresView,
    pub submitted_at: DateTime<Utc>,
    pub received_at: DateTime<Utc>,
}

/// A page of stored responses in commit order.
#[derive(Debug, Serialize, ToSchema)]
pub struct ResponsesPage {
    pub responses: Vec<SyncedResponse>,
    /// Pass as `after` for the next page. Always present: on the last page it is where new
    /// responses will follow, so a client polls with it.
    #[schema(example = "0.1234")]
    pub next_cursor: String,
    /// Whether more rows were waiting when this page was read; `false` means the client has
    /// caught up.
    pub has_more: bool,
}

/// What a change is.
#[derive(Debug, Serialize, ToSchema)]
pub enum ChangeKind {
    /// A response was stored.
    #[serde(rename = "response.created")]
    ResponseCreated,
    /// A firm was erased on request, with all its responses.
    #[serde(rename = "firm.erased")]
    FirmErased,
}

/// One entry of the change feed.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChangeView {
    /// Its position: passing it as `after` continues after it.
    #[schema(example = "0.1234")]
    pub cursor: String,
    pub kind: ChangeKind,
    /// When the response was received, or when the firm was erased.
    pub at: DateTime<Utc>,
    /// The stored response (`response.created`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_id: Option<Uuid>,
    /// The erased firm's responses (`firm.erased`): a mirror deletes them. The firm's
    /// reference is not repeated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_ids: Option<Vec<Uuid>>,
}

/// A page of the change feed in commit order.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChangesPage {
    pub changes: Vec<ChangeView>,
    /// Pass as `after` for the next page; always present (see `ResponsesPage`).
    #[schema(example = "0.1234")]
    pub next_cursor: String,
    pub has_more: bool,
}

/// Stored responses in the order the database committed them, for a mirror kept up to date
/// incrementally: each as a row of an export (answers, tier, blockers, scores).
///
/// Start without `after`, then pass each page's `next_cursor`. The order is the database's
/// commit order, not a time: a response that commits later never appears before a position
/// already handed out, so a client that follows the cursors gets every response exactly
/// once, however many are being written meanwhile (and whichever replica wrote them).
/// Responses erased later are gone from this list; `GET /api/v1/changes` tells a mirror
/// which ones to delete. The survey, version, window and segment filters are those of the
/// exports (default survey `ai-readiness`, every released version).
#[utoipa::path(
    tag = "responses",
    security(("bearer" = [])),
    params(SyncParamsDoc, FilterParamsDoc),
    responses(
        (status = 200, description = "A page of responses in commit order", body = ResponsesPage,
            headers(("Link" = String, description = "The next page: `<path?query>; rel=\"next\"` (RFC 8288), the same query with `after` set to `next_cursor`, so a client can follow pages without reading the body"))),
        (status = 400, description = "Malformed query string", body = Problem, content_type = "application/problem+json"),
        AnalystOnly,
        (status = 404, description = "No released survey `survey`, or no released version `version` of it; the problem names the parameter", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "An unknown parameter or value, a bad cursor or limit; every one named", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/responses")]
pub async fn list_responses(
    _analyst: Authorized<ReadMicrodata>,
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<Vec<(String, String)>>,
) -> Result<HttpResponse, ApiError> {
    let request = parse_responses(&query)?;
    let page = sync::responses(&state.db, &state.catalog, &request).await?;
    let responses = page
        .responses
        .into_iter()
        .map(|(SyncRow { position, row }, entry)| {
            let json = |text: String, what: &str| {
                RawValue::from_string(text)
                    .map_err(|e| anyhow::anyhow!("response {} has malformed {what}: {e}", row.id))
            };
            let answers = json(row.answers, "answers")?;
            let blockers = json(row.blockers, "blockers")?;
            let [maturity, clarity, vendor_gap, capability, governance] = row.scores;
            Ok(SyncedResponse {
                cursor: encode(position),
                id: row.id,
                survey: SurveyRef {
                    slug: entry.slug.clone(),
                    version: entry.version,
                },
                firm: FirmView {
                    external_ref: row.firm_ref,
                    industry: row.industry,
                    size_band: row.size_band,
                    country: row.country,
                    region: row.region,
                },
                answers,
                tier: row.tier,
                tier_rank: u8::try_from(row.tier_rank).unwrap_or_default(),
                ready_to_customise: row.ready_to_customise,
                blockers,
                scores: DimensionScoresView {
                    maturity,
                    clarity,
                    vendor_gap,
                    capability,
                    governance,
                },
                submitted_at: row.submitted_at,
                received_at: row.received_at,
            })
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .insert_header((header::LINK, next_link(&req, page.next)))
        .json(ResponsesPage {
            responses,
            next_cursor: encode(page.next),
            has_more: page.has_more,
        }))
}

/// The change feed: every stored response and every erasure, in commit order.
///
/// A mirror follows it with the cursors as for `GET /api/v1/responses` (the two share their
/// positions). `firm.erased` lists the erased responses to delete; the erased responses'
/// own `response.created` entries are taken out of the feed by the erasure.
#[utoipa::path(
    tag = "responses",
    security(("bearer" = [])),
    params(SyncParamsDoc),
    responses(
        (status = 200, description = "A page of changes in commit order", body = ChangesPage,
            headers(("Link" = String, description = "The next page: `<path?query>; rel=\"next\"` (RFC 8288), the same query with `after` set to `next_cursor`"))),
        (status = 400, description = "Malformed query string", body = Problem, content_type = "application/problem+json"),
        AnalystOnly,
        (status = 422, description = "An unknown parameter, a bad cursor or limit; every one named", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/changes")]
pub async fn list_changes(
    _analyst: Authorized<ReadMicrodata>,
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<Vec<(String, String)>>,
) -> Result<HttpResponse, ApiError> {
    let mut pairs = QueryPairs::new(&query, |name| match name {
        "after" | "limit" => Some(Name::Once),
        _ => None,
    });
    let (after, limit) = paging(&mut pairs);
    let (after, limit) = pairs.finish((after, limit), Vec::new())?;
    let page = sync::changes(&state.db, after, limit).await?;
    let changes = page
        .changes
        .into_iter()
        .map(|change| {
            let erased = change.kind == FIRM_ERASED;
            ChangeView {
                cursor: encode(change.position),
                kind: if erased {
                    ChangeKind::FirmErased
                } else {
                    ChangeKind::ResponseCreated
                },
                at: change.at,
                response_id: change.response_id,
                response_ids: erased.then_some(change.response_ids),
            }
        })
        .collect();
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .insert_header((header::LINK, next_link(&req, page.next)))
        .json(ChangesPage {
            changes,
            next_cursor: encode(page.next),
            has_more: page.has_more,
        }))
}

fn parse_responses(pairs: &[(String, String)]) -> Result<SyncRequest, ApiError> {
    let mut query = QueryPairs::new(pairs, |name| {
        filter_name(name).or(match name {
            "after" | "limit" => Some(Name::Once),
            _ => None,
        })
    });
    let (after, limit) = paging(&mut query);
    let Filters {
        survey,
        version,
        from,
        to,
        segments,
    } = query.filters();
    let request = SyncRequest {
        after,
        limit,
        survey,
        version,
        from,
        to,
        segments,
    };
    let checks = request.check();
    query.finish(request, checks)
}

/// `after` and `limit`, each named when unreadable.
fn paging(query: &mut QueryPairs<'_>) -> (Position, u64) {
    let after = match query.get("after") {
        None => Position::default(),
        Some(raw) => decode(raw).unwrap_or_else(|| {
            query.problem(
                "after",
                "is not a cursor this server handed out (`next_cursor` or an item's `cursor`)",
            );
            Position::default()
        }),
    };
    let limit = match query.get("limit") {
        None => DEFAULT_LIMIT,
        Some(raw) => raw
            .parse::<u64>()
            .ok()
            .filter(|limit| (1..=MAX_LIMIT).contains(limit))
            .unwrap_or_else(|| {
                query.problem(
                    "limit",
                    format!("must be a whole number from 1 to {MAX_LIMIT}"),
                );
                DEFAULT_LIMIT
            }),
    };
    (after, limit)
}

/// The `Link` to the next page (RFC 8288): this request's path and query, its `after`
/// replaced by `next`. The other parameters are kept as the client wrote them.
fn next_link(req: &HttpRequest, next: Position) -> String {
    let mut query: Vec<&str> = req
        .query_string()
        .split('&')
        .filter(|pair| !pair.is_empty() && !names_after(pair))
        .collect();
    let after = format!("after={}", encode(next));
    query.push(&after);
    format!("<{}?{}>; rel=\"next\"", req.path(), query.join("&"))
}

/// Whether a raw `name=value` pair of a query string is `after`, however its name is
/// encoded (`%61fter` is `after` to the query parser too).
fn names_after(pair: &str) -> bool {
    let name = pair.split('=').next().unwrap_or_default().as_bytes();
    let mut decoded = Vec::with_capacity(name.len());
    let mut i = 0;
    while i < name.len() {
        let hex = name
            .get(i + 1..i + 3)
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match (name[i], hex) {
            (b'%', Some(byte)) => {
                decoded.push(byte);
                i += 3;
            }
            (byte, _) => {
                decoded.push(if byte == b'+' { b' ' } else { byte });
                i += 1;
            }
        }
    }
    decoded == b"after"
}

/// A position as the contract writes it: `<txid>.<seq>`.
fn encode(position: Position) -> String {
    format!("{}.{}", position.txid, position.seq)
}

/// Reads a position written by [`encode`]: two decimal numbers without leading zeros.
fn decode(raw: &str) -> Option<Position> {
    let number = |part: &str| -> Option<i64> {
        let canonical = !part.is_empty()
            && part.len() <= 18
            && part.bytes().all(|b| b.is_ascii_digit())
            && (part == "0" || !part.starts_with('0'));
        canonical.then(|| part.parse().ok()).flatten()
    };
    let (txid, seq) = raw.split_once('.')?;
    Some(Position {
        txid: number(txid)?,
        seq: number(seq)?,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn the_after_parameter_is_recognised_however_it_is_encoded() {
        for pair in ["after=0.1", "after", "%61fter=0.1", "%61%66ter=", "after="] {
            assert!(names_after(pair), "{pair}");
        }
        for pair in [
            "limit=10", "afters=1", "aft%er=1", "xafter=1", "%6=1", "=after",
        ] {
            assert!(!names_after(pair), "{pair}");
        }
    }

    #[test]
    fn cursors_read_back_and_only_canonical_ones_are_read() {
        for position in [
            Position::default(),
            Position { txid: 0, seq: 7 },
            Position {
                txid: 123_456,
                seq: 999_999_999_999_999_999,
            },
        ] {
            assert_eq!(decode(&encode(position)), Some(position));
        }
        for bad in [
            "",
            "1",
            "1.",
            ".1",
            "01.2",
            "1.02",
            "-1.2",
            "1.2.3",
            "+1.2",
            "1 .2",
            "a.b",
            "1234567890123456789.1",
        ] {
            assert_eq!(decode(bad), None, "{bad}");
        }
    }
}
