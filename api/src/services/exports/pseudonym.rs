//! Pseudonymous firm references: an HMAC-SHA256 of the reference under a key that is the same
//! on every replica and after every restart, so the same firm gets the same pseudonym in every
//! export, and nobody without the key can link a pseudonym back to the firm.

use hmac::{Hmac, Mac};
use sea_orm::DatabaseConnection;
use sha2::Sha256;

use crate::domain::secret::Secret;
use crate::store::secrets::SecretStore;

/// The name of the generated key in `server_secrets`.
const SECRET_NAME: &str = "pseudonym_key";
/// The shortest key an operator may configure.
pub const MIN_KEY_CHARS: usize = 32;

/// Turns firm references into pseudonyms.
#[derive(Clone)]
pub struct Pseudonymiser {
    mac: Hmac<Sha256>,
}

impl std::fmt::Debug for Pseudonymiser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pseudonymiser")
    }
}

impl Pseudonymiser {
    /// A pseudonymiser keyed with the text of `key`.
    pub fn new(key: &str) -> anyhow::Result<Self> {
        let mac = Hmac::<Sha256>::new_from_slice(key.as_bytes())
            .map_err(|e| anyhow::anyhow!("unusable pseudonym key: {e}"))?;
        Ok(Self { mac })
    }

    /// The configured key, else the one kept in the database (generated on first use).
    pub async fn resolve(
        db: &DatabaseConnection,
        configured: Option<&Secret>,
    ) -> anyhow::Result<Self> {
        match configured {
            Some(key) => {
                check_configured(key)?;
                Self::new(key.expose())
            }
            None => {
                let mut random = [0u8; 32];
                getrandom::fill(&mut random)
                    .map_err(|e| anyhow::anyhow!("no randomness for a pseudonym key: {e}"))?;
                let stored =
                    SecretStore::get_or_create(db, SECRET_NAME, || hex::encode(random)).await?;
                Self::new(&stored)
            }
        }
    }

    /// The pseudonym of `firm_ref`: 64 lower-case hex digits.
    pub fn pseudonym(&self, firm_ref: &str) -> String {
        let mut mac = self.mac.clone();
        mac.update(firm_ref.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }
}

/// A configured key must be long enough to resist guessing.
pub fn check_configured(key: &Secret) -> anyhow::Result<()> {
    anyhow::ensure!(
        key.expose().chars().count() >= MIN_KEY_CHARS,
        "the pseudonym key (READINESS_PSEUDONYM_KEY) must be at least {MIN_KEY_CHARS} characters"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn a_pseudonym_is_the_hmac_of_the_reference_and_depends_on_the_key() {
        let one = Pseudonymiser::new("key").unwrap();
        // RFC 4231 is keyed with bytes; this vector is HMAC-SHA256("key", "The quick brown fox
        // jumps over the lazy dog"), the widely published example.
        assert_eq!(
            one.pseudonym("The quick brown fox jumps over the lazy dog"),
            "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
        );
        assert_eq!(one.pseudonym("acme-001"), one.pseudonym("acme-001"));
        assert_ne!(one.pseudonym("acme-001"), one.pseudonym("acme-002"));
        let other = Pseudonymiser::new("another key").unwrap();
        assert_ne!(one.pseudonym("acme-001"), other.pseudonym("acme-001"));
    }

    #[test]
    fn a_configured_key_must_be_long_enough() {
        assert!(check_configured(&Secret::new("short")).is_err());
        assert!(check_configured(&Secret::new("x".repeat(MIN_KEY_CHARS))).is_ok());
    }
}
