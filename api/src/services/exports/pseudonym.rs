//! Pseudonymised export rows. The firm reference becomes an HMAC-SHA256 of the reference
//! under a key that is the same on every replica and after every restart, so the same firm
//! gets the same pseudonym in every export, and nobody without the key can link a pseudonym
//! back to the firm. The response id becomes a pseudonym too (a version-8 UUID from an HMAC
//! of the id under a key derived from the same key, so firm and response pseudonyms cannot be
//! matched with each other): a real id would lead back to the firm through
//! `GET /responses/{id}`. Submission and receipt times are cut to the day (midnight UTC), so
//! they cannot be matched with the exact times kept in the database either.
//!
//! A key generated and kept in the database protects the export from its readers only: a
//! reader of the database holds the key too. A configured key (`pseudonym_key`) kept outside
//! the database protects it from both.

use chrono::{DateTime, NaiveTime, Utc};
use hmac::{Hmac, Mac};
use sea_orm::DatabaseConnection;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::domain::secret::Secret;
use crate::store::export_rows::ExportRow;
use crate::store::secrets::SecretStore;

/// The name of the generated key in `server_secrets`.
const SECRET_NAME: &str = "pseudonym_key";
/// The shortest key an operator may configure.
pub const MIN_KEY_CHARS: usize = 32;
/// Derives the key of response pseudonyms from the export key: SHA-256 of this and the key.
const RESPONSE_KEY_CONTEXT: &[u8] = b"readiness export response pseudonym v1\0";

/// Turns firm references and response ids into pseudonyms.
#[derive(Clone)]
pub struct Pseudonymiser {
    mac: Hmac<Sha256>,
    response_mac: Hmac<Sha256>,
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
        let response_key = Sha256::new()
            .chain_update(RESPONSE_KEY_CONTEXT)
            .chain_update(key.as_bytes())
            .finalize();
        let response_mac = Hmac::<Sha256>::new_from_slice(&response_key)
            .map_err(|e| anyhow::anyhow!("unusable pseudonym key: {e}"))?;
        Ok(Self { mac, response_mac })
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
                tracing::warn!(
                    "pseudonym_key is not set (READINESS_PSEUDONYM_KEY); pseudonymised exports \
                     use a key kept in the database, which protects them from readers of the \
                     export but not from readers of the database"
                );
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

    /// The pseudonym of a response id: a version-8 UUID made of an HMAC of the id under the
    /// response key, so it keeps the column's form and no reader mistakes it for a stored id
    /// (`readiness import` refuses it by its version).
    pub fn response_id(&self, id: Uuid) -> Uuid {
        let mut mac = self.response_mac.clone();
        mac.update(id.as_bytes());
        let digest = mac.finalize().into_bytes();
        let mut bytes = [0u8; 16];
        bytes.copy_from_slice(&digest[..16]);
        uuid::Builder::from_custom_bytes(bytes).into_uuid()
    }

    /// Pseudonymises one export row: firm reference and response id, and both times cut to
    /// the day.
    pub fn apply(&self, row: &mut ExportRow) {
        row.firm_ref = self.pseudonym(&row.firm_ref);
        row.id = self.response_id(row.id);
        row.submitted_at = to_day(row.submitted_at);
        row.received_at = to_day(row.received_at);
    }
}

/// Whether `id` is a response pseudonym rather than an id the server made (those are
/// versions 4 and 7).
pub fn is_response_pseudonym(id: Uuid) -> bool {
    id.get_version_num() == 8
}

/// Midnight (UTC) of the day of `at`.
fn to_day(at: DateTime<Utc>) -> DateTime<Utc> {
    at.date_naive().and_time(NaiveTime::MIN).and_utc()
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
    fn a_response_pseudonym_is_a_keyed_version_8_uuid_unlike_the_firm_pseudonym() {
        let one = Pseudonymiser::new("key").unwrap();
        let id = Uuid::now_v7();
        let pseudonym = one.response_id(id);
        assert_eq!(pseudonym, one.response_id(id));
        assert!(is_response_pseudonym(pseudonym));
        assert!(!is_response_pseudonym(id));
        assert!(!is_response_pseudonym(Uuid::new_v4()));
        assert_ne!(pseudonym, one.response_id(Uuid::now_v7()));
        assert_ne!(
            pseudonym,
            Pseudonymiser::new("another key").unwrap().response_id(id)
        );
        // Not the firm pseudonym of the id under the same key, in either of its forms.
        let hex = pseudonym.simple().to_string();
        assert!(!one.pseudonym(&id.to_string()).starts_with(&hex[..12]));
        let mut firm_mac = one.mac.clone();
        firm_mac.update(id.as_bytes());
        assert!(!hex::encode(firm_mac.finalize().into_bytes()).starts_with(&hex[..12]));
    }

    #[test]
    fn times_are_cut_to_midnight_utc() {
        let at = DateTime::parse_from_rfc3339("2026-10-05T23:59:59.250001+00:00")
            .unwrap()
            .to_utc();
        assert_eq!(to_day(at).to_rfc3339(), "2026-10-05T00:00:00+00:00");
    }

    #[test]
    fn a_configured_key_must_be_long_enough() {
        assert!(check_configured(&Secret::new("short")).is_err());
        assert!(check_configured(&Secret::new("x".repeat(MIN_KEY_CHARS))).is_ok());
    }
}
