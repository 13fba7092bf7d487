//! JSON request bodies with a per-route size limit, and every extraction error as
//! problem+json.
//!
//! The limit is on the decoded body. A body sent with `Content-Encoding: gzip` or `deflate`
//! is decoded as it arrives, a few KiB of output at a time, and reading stops as soon as the
//! decoded bytes pass the limit, so a small compressed body that inflates to gigabytes (a
//! "decompression bomb") costs no more memory than an honest body of the limit's size. Any
//! other coding is refused with `415` rather than read as if it were plain JSON.

use std::future::Future;
use std::io::Write;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpMessage, HttpRequest};
use futures::StreamExt;
use serde_json::Value;

use super::checked_json::CheckedJson;
use crate::http::problem::ApiError;

/// A single submission body may be at most 64 KiB.
pub const SINGLE_LIMIT: usize = 64 * 1024;
/// An instrument definition may be at most 1 MiB.
pub const DEFINITION_LIMIT: usize = 1024 * 1024;
/// A batch body may be at most 4 MiB.
pub const BATCH_LIMIT: usize = 4 * 1024 * 1024;

/// The content codings a body may be sent with, as `Accept-Encoding` lists them.
pub const DECODED_CODINGS: &str = "gzip, deflate";

/// A JSON document of at most `LIMIT` bytes, sent as `application/json` (or `+json`).
/// The shape is checked by the handler, so every offending field can be named at once.
pub struct Json<const LIMIT: usize>(pub Value);

impl<const LIMIT: usize> FromRequest for Json<LIMIT> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let checked = check_headers(req, LIMIT);
        let mut payload = payload.take();
        Box::pin(async move {
            let mut body = Decoding::new(checked?, LIMIT);
            while let Some(chunk) = payload.next().await {
                let chunk = chunk.map_err(|error| unreadable(&error))?;
                body.feed(&chunk)?;
            }
            let bytes = body.finish()?;
            let checked: CheckedJson =
                serde_json::from_slice(&bytes).map_err(|error| ApiError::BadRequest {
                    code: "malformed_json",
                    detail: format!("the request body is not valid JSON: {error}"),
                })?;
            if checked.problems.is_empty() {
                Ok(Json(checked.value))
            } else {
                Err(ApiError::validation(checked.problems))
            }
        })
    }
}

/// Reads a JSON body inside a handler, for routes that must decide who may call them (which
/// can need a database lookup) before a malformed body is reported.
pub async fn read<const LIMIT: usize>(
    req: &HttpRequest,
    payload: actix_web::web::Payload,
) -> Result<Value, ApiError> {
    Json::<LIMIT>::from_request(req, &mut payload.into_inner())
        .await
        .map(|json| json.0)
}

/// How the body's bytes are coded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Coding {
    Identity,
    Gzip,
    /// HTTP's `deflate` is the zlib format (RFC 9110 §8.4.1.2).
    Deflate,
}

/// Checks what can be checked before a byte is read: the media type, the coding and a
/// declared length over the limit.
fn check_headers(req: &HttpRequest, limit: usize) -> Result<Coding, ApiError> {
    let is_json = req.mime_type().ok().flatten().is_some_and(|mime| {
        mime.subtype() == actix_web::mime::JSON || mime.suffix() == Some(actix_web::mime::JSON)
    });
    if !is_json {
        return Err(ApiError::UnsupportedMediaType);
    }
    let coding = coding(req)?;
    // A compressed body longer than the limit would decode to more than the limit anyway.
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok()?.parse::<usize>().ok());
    if declared.is_some_and(|length| length > limit) {
        return Err(ApiError::PayloadTooLarge { limit });
    }
    Ok(coding)
}

fn coding(req: &HttpRequest) -> Result<Coding, ApiError> {
    let mut codings = Vec::new();
    for value in req.headers().get_all(header::CONTENT_ENCODING) {
        let value = value
            .to_str()
            .map_err(|_| ApiError::UnsupportedContentEncoding("(not ASCII)".to_owned()))?;
        codings.extend(
            value
                .split(',')
                .map(|c| c.trim().to_ascii_lowercase())
                .filter(|c| !c.is_empty() && c != "identity"),
        );
    }
    match codings.as_slice() {
        [] => Ok(Coding::Identity),
        [one] if one == "gzip" || one == "x-gzip" => Ok(Coding::Gzip),
        [one] if one == "deflate" => Ok(Coding::Deflate),
        // Two codings on one body are legal, and only ever used to make a bigger bomb.
        _ => Err(ApiError::UnsupportedContentEncoding(codings.join(", "))),
    }
}

fn unreadable(error: &dyn std::fmt::Display) -> ApiError {
    ApiError::BadRequest {
        code: "unreadable_body",
        detail: format!("the request body could not be read: {error}"),
    }
}

/// The decoded body so far, refusing to grow past the limit.
struct Bounded {
    bytes: Vec<u8>,
    limit: usize,
}

impl Write for Bounded {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.bytes.len() + buf.len() > self.limit {
            return Err(std::io::Error::new(
                std::io::ErrorKind::FileTooLarge,
                "the decoded body passed the limit",
            ));
        }
        self.bytes.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A body being read: chunks go in as they arrive, decoded output lands in a [`Bounded`]
/// buffer. The decoders write their output in pieces of at most 32 KiB, so the limit is
/// checked long before a bomb has inflated.
enum Decoding {
    Identity(Bounded),
    Gzip(flate2::write::MultiGzDecoder<Bounded>),
    Deflate(flate2::write::ZlibDecoder<Bounded>),
}

impl Decoding {
    fn new(coding: Coding, limit: usize) -> Self {
        let out = Bounded {
            bytes: Vec::new(),
            limit,
        };
        match coding {
            Coding::Identity => Self::Identity(out),
            Coding::Gzip => Self::Gzip(flate2::write::MultiGzDecoder::new(out)),
            Coding::Deflate => Self::Deflate(flate2::write::ZlibDecoder::new(out)),
        }
    }

    fn limit(&self) -> usize {
        match self {
            Self::Identity(out) => out.limit,
            Self::Gzip(decoder) => decoder.get_ref().limit,
            Self::Deflate(decoder) => decoder.get_ref().limit,
        }
    }

    fn feed(&mut self, chunk: &[u8]) -> Result<(), ApiError> {
        let limit = self.limit();
        let written = match self {
            Self::Identity(out) => out.write_all(chunk),
            Self::Gzip(decoder) => decoder.write_all(chunk),
            Self::Deflate(decoder) => decoder.write_all(chunk),
        };
        written.map_err(|error| decoding_error(&error, limit))
    }

    fn finish(self) -> Result<Vec<u8>, ApiError> {
        let limit = self.limit();
        let finished = match self {
            Self::Identity(out) => Ok(out),
            Self::Gzip(decoder) => decoder.finish(),
            Self::Deflate(decoder) => decoder.finish(),
        };
        finished
            .map(|out| out.bytes)
            .map_err(|error| decoding_error(&error, limit))
    }
}

/// A decoder's error: the limit passed, or data that does not decode.
fn decoding_error(error: &std::io::Error, limit: usize) -> ApiError {
    if error.kind() == std::io::ErrorKind::FileTooLarge {
        ApiError::PayloadTooLarge { limit }
    } else {
        unreadable(&format!("it is not valid compressed data ({error})"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(bytes).unwrap();
        encoder.finish().unwrap()
    }

    #[test]
    fn a_bomb_stops_at_the_limit_a_few_kib_of_output_at_a_time() {
        let member = gzip(&vec![b' '; 1 << 20]);
        let mut decoding = Decoding::new(Coding::Gzip, 64 * 1024);
        let refused = (0..500).find_map(|_| decoding.feed(&member).err());
        assert!(
            matches!(refused, Some(ApiError::PayloadTooLarge { limit: 65_536 })),
            "{refused:?}"
        );
    }

    #[test]
    fn several_members_and_chunk_boundaries_decode_to_the_whole_body() {
        let body = br#"{"a": 1, "b": [1, 2, 3]}"#;
        let mut stream = gzip(&body[..10]);
        stream.extend(gzip(&body[10..]));
        let mut decoding = Decoding::new(Coding::Gzip, 1024);
        for chunk in stream.chunks(3) {
            assert!(decoding.feed(chunk).is_ok());
        }
        assert_eq!(decoding.finish().ok().as_deref(), Some(&body[..]));
    }

    #[test]
    fn truncated_gzip_is_unreadable() {
        let stream = gzip(b"{\"a\": 1}");
        let mut decoding = Decoding::new(Coding::Gzip, 1024);
        assert!(decoding.feed(&stream[..stream.len() - 4]).is_ok());
        assert!(matches!(
            decoding.finish(),
            Err(ApiError::BadRequest {
                code: "unreadable_body",
                ..
            })
        ));
    }
}
