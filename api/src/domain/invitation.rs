//! Personal links to the self-assessment. A token names the collector's key that made it,
//! the survey, and may fix the firm's reference and segment, so that repeated assessments of
//! one firm line up over time; it is signed (HMAC-SHA256) and expires.
//!
//! Format: `<claims>.<tag>`, both base64url without padding; the claims are JSON.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::share_token::ShareSigner;

const CONTEXT: &[u8] = b"readiness invitation v1\n";

/// What an invitation carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Invitation {
    /// The key that made it (the collector), recorded with the draft.
    pub key: Uuid,
    pub survey: String,
    /// The firm's reference; responses are stored under it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub firm_ref: Option<String>,
    /// The firm's segment, all of industry, size band and country (and a region) or none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segment: Option<Segment>,
    /// Unix seconds.
    pub exp: i64,
}

/// A firm's segment as an invitation or the segment step gives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Segment {
    pub industry: String,
    pub size_band: String,
    pub country: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
}

/// Why an invitation does not open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum InvitationError {
    #[error("the invitation is not genuine")]
    Invalid,
    #[error("the invitation has expired")]
    Expired,
}

impl Invitation {
    pub fn expires_at(&self) -> Option<DateTime<Utc>> {
        DateTime::from_timestamp(self.exp, 0)
    }

    /// The signed token.
    pub fn sign(&self, signer: &ShareSigner) -> String {
        // Serialising strings and integers cannot fail.
        let claims = URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).unwrap_or_default());
        let tag = URL_SAFE_NO_PAD.encode(signer.tag(CONTEXT, claims.as_bytes()));
        format!("{claims}.{tag}")
    }

    /// Checks the tag (in constant time), then the expiry against `now`.
    pub fn verify(
        token: &str,
        signer: &ShareSigner,
        now: DateTime<Utc>,
    ) -> Result<Self, InvitationError> {
        let (claims, tag) = token.split_once('.').ok_or(InvitationError::Invalid)?;
        let tag = URL_SAFE_NO_PAD
            .decode(tag)
            .map_err(|_| InvitationError::Invalid)?;
        if !signer.check(CONTEXT, claims.as_bytes(), &tag) {
            return Err(InvitationError::Invalid);
        }
        let json = URL_SAFE_NO_PAD
            .decode(claims)
            .map_err(|_| InvitationError::Invalid)?;
        let invitation: Invitation =
            serde_json::from_slice(&json).map_err(|_| InvitationError::Invalid)?;
        if invitation.exp <= now.timestamp() {
            return Err(InvitationError::Expired);
        }
        Ok(invitation)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn invitation(exp: i64) -> Invitation {
        Invitation {
            key: Uuid::nil(),
            survey: "ai-readiness".into(),
            firm_ref: Some("acme".into()),
            segment: None,
            exp,
        }
    }

    #[test]
    fn a_signed_invitation_opens_until_it_expires_and_not_when_altered() {
        let signer = ShareSigner::new(&[7; 32]).unwrap();
        let now = Utc::now();
        let token = invitation(now.timestamp() + 60).sign(&signer);
        assert_eq!(
            Invitation::verify(&token, &signer, now).unwrap(),
            invitation(now.timestamp() + 60)
        );
        let expired = invitation(now.timestamp() - 1).sign(&signer);
        assert_eq!(
            Invitation::verify(&expired, &signer, now),
            Err(InvitationError::Expired)
        );
        let other = ShareSigner::new(&[8; 32]).unwrap();
        assert_eq!(
            Invitation::verify(&token, &other, now),
            Err(InvitationError::Invalid)
        );
        let (claims, tag) = token.split_once('.').unwrap();
        let mut altered = claims.to_owned();
        altered.replace_range(0..1, if claims.starts_with('e') { "f" } else { "e" });
        assert_eq!(
            Invitation::verify(&format!("{altered}.{tag}"), &signer, now),
            Err(InvitationError::Invalid)
        );
        assert_eq!(
            Invitation::verify("garbage", &signer, now),
            Err(InvitationError::Invalid)
        );
    }
}
