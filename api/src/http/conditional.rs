//! Conditional GET (RFC 9110 §8.8.3, §13.1.2): strong `ETag`s for reports, survey definitions
//! and exports, weak ones for the report pages (a page states when it was drawn, so two
//! drawings of the same figures differ in that line), and `304 Not Modified` without
//! recomputing anything.
//!
//! A validator is a hash of the data version ([`ReportSnapshot::data_version`]: a random
//! number of this process and a counter of every change it has seen), the route and the
//! normalised parameters (the parsed, typed values, so the order or spelling of a query does
//! not matter). The data version is read before the data, so a body is never labelled newer
//! than it is; it costs one atomic read, so a matching `If-None-Match` is answered after
//! authentication and parsing only: no database query, no snapshot, no report. A match also
//! starts a refresh of the snapshot in the background (at most one per refresh interval), so
//! that changes other replicas make reach the version as they reach reports. Validators of
//! one replica never match on another, which costs a `200`, never a stale `304`.
//!
//! `Cache-Control` says who may keep the body: `private, no-cache` for what a key or a share
//! link reads (the browser may keep it, and asks again with `If-None-Match` each time),
//! `no-store` for exports (rows of firms are kept by the client that asked for them, never by
//! a browser's cache; a sync client still sends the `ETag` back), `no-cache` for the public
//! survey definitions.
//!
//! [`ReportSnapshot::data_version`]: crate::services::reports::snapshot::ReportSnapshot::data_version

use std::fmt::Debug;

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse};
use sha2::{Digest, Sha256};

use crate::services::Services;
use crate::services::reports::DataVersion;

/// The documented paths whose `GET` answers conditionally (declared in the OpenAPI document
/// by [`crate::http::openapi::complete`]).
pub const ROUTES: &[&str] = &[
    "/api/v1/reports/readiness",
    "/api/v1/reports/trend",
    "/api/v1/reports/blockers",
    "/api/v1/reports/change",
    "/api/v1/reports/readiness.html",
    "/api/v1/reports/shared/{token}",
    "/api/v1/surveys",
    "/api/v1/surveys/{slug}",
    "/api/v1/surveys/{slug}/versions/{version}",
    "/api/v1/exports/responses",
];

/// What a key or a share link reads: the browser may keep it and must revalidate.
pub const PRIVATE: &str = "private, no-cache";
/// Microdata: kept by no cache at all.
pub const NO_STORE: &str = "no-store";
/// Public definitions: any cache may keep them and must revalidate.
pub const PUBLIC: &str = "no-cache";

/// A strong validator for one representation.
#[derive(Debug, Clone)]
pub struct Validator {
    etag: String,
    cache_control: &'static str,
}

/// How an `If-None-Match` header relates to a validator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precondition {
    /// No header, or no tag in it matches: answer in full.
    Absent,
    /// One of the tags matches: `304`.
    Matches,
    /// `*`: `304` if the resource exists, which the route must still establish.
    Any,
}

impl Validator {
    /// The validator of `route` with these normalised parameters at the current data version.
    pub fn new(
        services: &Services,
        route: &str,
        params: &impl Debug,
        cache_control: &'static str,
    ) -> Self {
        Self::at(
            services.reports.data_version(),
            route,
            params,
            cache_control,
        )
    }

    /// The validator at a data version read earlier (before the data it labels).
    pub fn at(
        (epoch, generation): DataVersion,
        route: &str,
        params: &impl Debug,
        cache_control: &'static str,
    ) -> Self {
        let mut hash = Sha256::new();
        hash.update(epoch.to_le_bytes());
        hash.update(generation.to_le_bytes());
        hash.update(route.as_bytes());
        hash.update([0]);
        hash.update(format!("{params:?}").as_bytes());
        let digest = hash.finalize();
        Self {
            etag: format!("\"{}\"", hex::encode(&digest[..16])),
            cache_control,
        }
    }

    /// The same validator, weak (`W/`): for a representation that can differ in bytes while
    /// meaning the same, such as a report page, which states when it was drawn.
    pub fn weak(self) -> Self {
        Self {
            etag: format!("W/{}", self.etag),
            ..self
        }
    }

    /// The `ETag` value, quotes included.
    pub fn etag(&self) -> &str {
        &self.etag
    }

    /// The tag without `W/`, as weak comparison sees it.
    fn opaque(&self) -> &str {
        self.etag.strip_prefix("W/").unwrap_or(&self.etag)
    }

    /// Reads the request's `If-None-Match` (every field line, each a list) against this
    /// validator, by the weak comparison RFC 9110 §13.1.2 prescribes for it.
    pub fn precondition(&self, req: &HttpRequest) -> Precondition {
        let mut any = false;
        for value in req.headers().get_all(header::IF_NONE_MATCH) {
            let Ok(value) = value.to_str() else { continue };
            for tag in entity_tags(value) {
                match tag {
                    Tag::Any => any = true,
                    Tag::Opaque(opaque) if opaque == self.opaque() => {
                        return Precondition::Matches;
                    }
                    Tag::Opaque(_) => {}
                }
            }
        }
        if any {
            Precondition::Any
        } else {
            Precondition::Absent
        }
    }

    /// `304 Not Modified`: no body, the validator and the caching rules of the `200`.
    pub fn not_modified(&self, services: &std::sync::Arc<Services>) -> HttpResponse {
        crate::services::reports::run::refresh_in_background(services);
        let mut response = HttpResponse::NotModified().finish();
        self.apply(&mut response);
        response
    }

    /// Adds `ETag` and `Cache-Control` to a full answer.
    pub fn apply(&self, response: &mut HttpResponse) {
        let headers = response.headers_mut();
        if let Ok(etag) = HeaderValue::from_str(&self.etag) {
            headers.insert(header::ETAG, etag);
        }
        headers.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static(self.cache_control),
        );
    }

    /// The answer in full, with the validator.
    pub fn respond(&self, mut response: HttpResponse) -> HttpResponse {
        self.apply(&mut response);
        response
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Tag<'a> {
    Any,
    /// The opaque tag with its quotes, `W/` removed (weak comparison).
    Opaque(&'a str),
}

/// The entity tags of one `If-None-Match` field line (`*` or a comma-separated list of
/// `[W/]"…"`); reading stops at the first thing that is neither.
fn entity_tags(value: &str) -> Vec<Tag<'_>> {
    let mut tags = Vec::new();
    let mut rest = value;
    loop {
        rest = rest.trim_start_matches([' ', '\t', ',']);
        if rest.is_empty() {
            return tags;
        }
        if let Some(after) = rest.strip_prefix('*') {
            tags.push(Tag::Any);
            rest = after;
            continue;
        }
        let quoted = rest.strip_prefix("W/").unwrap_or(rest);
        let Some(inner) = quoted.strip_prefix('"') else {
            return tags;
        };
        let Some(end) = inner.find('"') else {
            return tags;
        };
        tags.push(Tag::Opaque(&quoted[..end + 2]));
        rest = &inner[end + 1..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_star_and_weak_tags_are_read() {
        assert_eq!(
            entity_tags(r#"W/"a", "b",,"c,d" , *"#),
            vec![
                Tag::Opaque("\"a\""),
                Tag::Opaque("\"b\""),
                Tag::Opaque("\"c,d\""),
                Tag::Any
            ]
        );
        assert_eq!(entity_tags(r#""a" junk "b""#), vec![Tag::Opaque("\"a\"")]);
        assert_eq!(entity_tags(r#""unterminated"#), vec![]);
        assert_eq!(entity_tags(""), vec![]);
    }
}
