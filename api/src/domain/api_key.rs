//! API keys and roles.
//!
//! A key reads `rdy_<prefix>_<secret>`. The prefix (64 random bits, 16 hex digits) finds the
//! row; the secret (256 random bits, 64 hex digits) proves possession. Both come from the
//! operating system's CSPRNG. Only the SHA-256 of the secret is stored, and it is compared in
//! constant time. A high-entropy secret needs no slow password hash: nobody can guess it.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use utoipa::ToSchema;

const SCHEME: &str = "rdy";
const PREFIX_BYTES: usize = 8;
const SECRET_BYTES: usize = 32;

/// What a key may do. `admin` may do everything.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Everything: keys, survey versions, erasure, audit, and what the other roles do.
    Admin,
    /// Reads microdata (single responses, exports) and everything a viewer reads.
    Analyst,
    /// Submits responses.
    Collector,
    /// Reads aggregates only: reports, the report page, share links, population margins.
    /// The role of dashboards and of published figures.
    Viewer,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Analyst => "analyst",
            Role::Collector => "collector",
            Role::Viewer => "viewer",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "admin" => Some(Role::Admin),
            "analyst" => Some(Role::Analyst),
            "collector" => Some(Role::Collector),
            "viewer" => Some(Role::Viewer),
            _ => None,
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A key name is 1–100 characters, not blank, without control characters.
pub fn valid_name(name: &str) -> bool {
    let length = name.chars().count();
    (1..=100).contains(&length) && !name.chars().any(char::is_control) && !name.trim().is_empty()
}

/// A freshly generated key. The token is shown once and never stored.
pub struct GeneratedKey {
    pub prefix: String,
    secret: String,
}

impl GeneratedKey {
    /// Draws a prefix and a secret from the operating system's CSPRNG.
    pub fn generate() -> Result<Self, getrandom::Error> {
        let mut prefix = [0u8; PREFIX_BYTES];
        let mut secret = [0u8; SECRET_BYTES];
        getrandom::fill(&mut prefix)?;
        getrandom::fill(&mut secret)?;
        Ok(Self {
            prefix: hex::encode(prefix),
            secret: hex::encode(secret),
        })
    }

    /// The whole key, `rdy_<prefix>_<secret>`, as the client must send it.
    pub fn token(&self) -> String {
        format!("{SCHEME}_{}_{}", self.prefix, self.secret)
    }

    /// What is stored: the SHA-256 of the secret, in hex.
    pub fn secret_hash(&self) -> String {
        hash_secret(&self.secret)
    }
}

impl std::fmt::Debug for GeneratedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GeneratedKey")
            .field("prefix", &self.prefix)
            .field("secret", &"***")
            .finish()
    }
}

/// A key as a client presented it, well-formed but not yet checked against the store.
pub struct PresentedKey {
    pub prefix: String,
    secret: String,
}

impl PresentedKey {
    /// `None` unless the token has exactly the shape of a key.
    pub fn parse(token: &str) -> Option<Self> {
        let rest = token.strip_prefix(SCHEME)?.strip_prefix('_')?;
        let (prefix, secret) = rest.split_once('_')?;
        let is_hex = |s: &str, bytes: usize| {
            s.len() == bytes * 2 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        };
        (is_hex(prefix, PREFIX_BYTES) && is_hex(secret, SECRET_BYTES)).then(|| Self {
            prefix: prefix.to_owned(),
            secret: secret.to_owned(),
        })
    }

    /// Whether the secret hashes to `stored_hash`, compared in constant time.
    pub fn matches(&self, stored_hash: &str) -> bool {
        hash_secret(&self.secret)
            .as_bytes()
            .ct_eq(stored_hash.as_bytes())
            .into()
    }
}

impl std::fmt::Debug for PresentedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PresentedKey")
            .field("prefix", &self.prefix)
            .field("secret", &"***")
            .finish()
    }
}

fn hash_secret(secret: &str) -> String {
    super::hex_digest(&Sha256::digest(secret.as_bytes()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn a_generated_key_parses_back_and_matches_its_hash() {
        let key = GeneratedKey::generate().unwrap();
        let token = key.token();
        assert_eq!(token.len(), 4 + 16 + 1 + 64);
        let presented = PresentedKey::parse(&token).unwrap();
        assert_eq!(presented.prefix, key.prefix);
        assert!(presented.matches(&key.secret_hash()));
        assert!(!presented.matches(&GeneratedKey::generate().unwrap().secret_hash()));
        assert_eq!(key.secret_hash().len(), 64);
        assert!(!key.secret_hash().contains(&key.secret));
    }

    #[test]
    fn two_keys_differ() {
        let a = GeneratedKey::generate().unwrap();
        let b = GeneratedKey::generate().unwrap();
        assert_ne!(a.token(), b.token());
        assert_ne!(a.prefix, b.prefix);
    }

    #[test]
    fn malformed_tokens_are_rejected() {
        let good = GeneratedKey::generate().unwrap().token();
        for bad in [
            "",
            "rdy",
            "rdy__",
            &good.replacen("rdy_", "xyz_", 1),
            &good[..good.len() - 1],
            &format!("{good}0"),
            &good.to_uppercase(),
            &good.replacen('_', "-", 2),
        ] {
            assert!(PresentedKey::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn debug_output_hides_the_secret() {
        let key = GeneratedKey::generate().unwrap();
        assert!(!format!("{key:?}").contains(&key.secret));
    }
}
