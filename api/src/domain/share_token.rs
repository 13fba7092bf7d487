//! Signed, expiring links to a report page. A token carries the link's id, the report's query
//! parameters and an expiry, signed with HMAC-SHA256 under the server's share secret, so the
//! link opens one report read-only without an API key, and nothing in it can be changed. The
//! id names the link's row in the database, which says whether it was revoked.
//!
//! Format: `<claims>.<signature>`, both base64url without padding; the claims are the JSON
//! `{"id": "<uuid>", "exp": <unix seconds>, "q": [[name, value], …]}`. A token without an id
//! (made before links had rows) is not genuine.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use uuid::Uuid;

type HmacSha256 = Hmac<Sha256>;

/// A configured share secret must have at least this many bytes.
pub const MIN_SECRET_BYTES: usize = 32;
/// Bytes of a secret generated when none is configured.
const RANDOM_SECRET_BYTES: usize = 32;
/// Separates these signatures from any other use of the same secret.
const CONTEXT: &[u8] = b"readiness share link v1\n";

/// Signs and verifies share tokens with one secret.
#[derive(Clone)]
pub struct ShareSigner {
    mac: HmacSha256,
}

impl std::fmt::Debug for ShareSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ShareSigner { secret: *** }")
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SecretError {
    #[error("share_secret must be at least {MIN_SECRET_BYTES} bytes long")]
    TooShort,
    #[error("the operating system's random source failed: {0}")]
    Random(String),
}

/// Why a token does not open a report.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ShareError {
    /// Malformed, not signed with this server's secret, or altered.
    #[error("the link is not valid")]
    Invalid,
    /// Genuine, but past its expiry.
    #[error("the link expired at {0}")]
    Expired(DateTime<Utc>),
}

/// What a genuine token grants: one report, until `expires_at`, unless link `id` is revoked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharedReport {
    pub id: Uuid,
    pub query: Vec<(String, String)>,
    pub expires_at: DateTime<Utc>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Claims {
    id: Uuid,
    exp: i64,
    q: Vec<(String, String)>,
}

impl ShareSigner {
    /// A signer with a configured secret.
    pub fn new(secret: &[u8]) -> Result<Self, SecretError> {
        if secret.len() < MIN_SECRET_BYTES {
            return Err(SecretError::TooShort);
        }
        Self::keyed(secret)
    }

    /// A signer with a fresh random secret: its links stop working when the process ends,
    /// and another replica cannot open them.
    pub fn random() -> Result<Self, SecretError> {
        let mut secret = [0u8; RANDOM_SECRET_BYTES];
        getrandom::fill(&mut secret).map_err(|e| SecretError::Random(e.to_string()))?;
        Self::keyed(&secret)
    }

    fn keyed(secret: &[u8]) -> Result<Self, SecretError> {
        // HMAC takes a key of any length; the error cannot occur.
        let mac = HmacSha256::new_from_slice(secret).map_err(|_| SecretError::TooShort)?;
        Ok(Self { mac })
    }

    fn signature(&self, claims: &str) -> HmacSha256 {
        let mut mac = self.mac.clone();
        mac.update(CONTEXT);
        mac.update(claims.as_bytes());
        mac
    }

    /// An HMAC-SHA256 of `data` under this secret for another purpose than share links,
    /// named by `context` (one per purpose, so a tag made for one never passes for another).
    pub fn tag(&self, context: &[u8], data: &[u8]) -> Vec<u8> {
        let mut mac = self.mac.clone();
        mac.update(context);
        mac.update(data);
        mac.finalize().into_bytes().to_vec()
    }

    /// Whether `tag` is [`ShareSigner::tag`] of `data` for `context`, compared in constant
    /// time.
    pub fn check(&self, context: &[u8], data: &[u8], tag: &[u8]) -> bool {
        let mut mac = self.mac.clone();
        mac.update(context);
        mac.update(data);
        mac.verify_slice(tag).is_ok()
    }

    /// A token for link `id` on `query` that expires at `expires_at` (to the second).
    pub fn sign(&self, id: Uuid, query: &[(String, String)], expires_at: DateTime<Utc>) -> String {
        let claims = Claims {
            id,
            exp: expires_at.timestamp(),
            q: query.to_vec(),
        };
        // Serialising strings and an integer cannot fail.
        let claims = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap_or_default());
        let signature = URL_SAFE_NO_PAD.encode(self.signature(&claims).finalize().into_bytes());
        format!("{claims}.{signature}")
    }

    /// Checks the signature (in constant time) first, then the expiry against `now`.
    pub fn verify(&self, token: &str, now: DateTime<Utc>) -> Result<SharedReport, ShareError> {
        let (claims, signature) = token.split_once('.').ok_or(ShareError::Invalid)?;
        let signature = URL_SAFE_NO_PAD
            .decode(signature)
            .map_err(|_| ShareError::Invalid)?;
        self.signature(claims)
            .verify_slice(&signature)
            .map_err(|_| ShareError::Invalid)?;
        let json = URL_SAFE_NO_PAD
            .decode(claims)
            .map_err(|_| ShareError::Invalid)?;
        let claims: Claims = serde_json::from_slice(&json).map_err(|_| ShareError::Invalid)?;
        let expires_at = DateTime::from_timestamp(claims.exp, 0).ok_or(ShareError::Invalid)?;
        if expires_at <= now {
            return Err(ShareError::Expired(expires_at));
        }
        Ok(SharedReport {
            id: claims.id,
            query: claims.q,
            expires_at,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use chrono::Duration;

    use super::*;

    fn signer() -> ShareSigner {
        ShareSigner::new(b"0123456789abcdef0123456789abcdef").unwrap()
    }

    fn query() -> Vec<(String, String)> {
        vec![
            ("by".to_owned(), "size_band".to_owned()),
            ("min_cell".to_owned(), "7".to_owned()),
        ]
    }

    #[test]
    fn a_signed_token_opens_until_it_expires() {
        let now = Utc::now();
        let expires = now + Duration::hours(1);
        let id = Uuid::new_v4();
        let token = signer().sign(id, &query(), expires);
        let shared = signer().verify(&token, now).unwrap();
        assert_eq!(shared.id, id);
        assert_eq!(shared.query, query());
        assert_eq!(shared.expires_at.timestamp(), expires.timestamp());
        assert_eq!(
            signer().verify(&token, expires + Duration::seconds(1)),
            Err(ShareError::Expired(shared.expires_at))
        );
    }

    #[test]
    fn altered_foreign_and_garbage_tokens_are_invalid() {
        let now = Utc::now();
        let id = Uuid::new_v4();
        let token = signer().sign(id, &query(), now + Duration::hours(1));
        let (claims, signature) = token.split_once('.').unwrap();
        let forged_claims = URL_SAFE_NO_PAD.encode(
            serde_json::to_vec(&Claims {
                id,
                exp: (now + Duration::days(365)).timestamp(),
                q: query(),
            })
            .unwrap(),
        );
        let other = ShareSigner::new(b"another secret of at least 32 bytes!").unwrap();
        for bad in [
            format!("{forged_claims}.{signature}"),
            format!("{claims}.{}", &signature[1..]),
            format!("{claims}x.{signature}"),
            other.sign(id, &query(), now + Duration::hours(1)),
            "garbage".to_owned(),
            String::new(),
            ".".to_owned(),
        ] {
            assert_eq!(
                signer().verify(&bad, now),
                Err(ShareError::Invalid),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_token_without_an_id_is_invalid() {
        let now = Utc::now();
        let claims = URL_SAFE_NO_PAD.encode(
            serde_json::to_vec(&serde_json::json!({
                "exp": (now + Duration::hours(1)).timestamp(),
                "q": query(),
            }))
            .unwrap(),
        );
        let signature = URL_SAFE_NO_PAD.encode(signer().signature(&claims).finalize().into_bytes());
        assert_eq!(
            signer().verify(&format!("{claims}.{signature}"), now),
            Err(ShareError::Invalid)
        );
    }

    #[test]
    fn a_short_secret_is_refused_and_random_secrets_differ() {
        assert_eq!(
            ShareSigner::new(b"short").unwrap_err(),
            SecretError::TooShort
        );
        let now = Utc::now();
        let token =
            ShareSigner::random()
                .unwrap()
                .sign(Uuid::new_v4(), &query(), now + Duration::hours(1));
        assert_eq!(
            ShareSigner::random().unwrap().verify(&token, now),
            Err(ShareError::Invalid)
        );
    }
}
