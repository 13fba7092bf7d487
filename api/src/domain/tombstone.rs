//! What an erasure leaves behind: keyed hashes of the erased firm's reference and of its
//! responses' idempotency keys, so that a replay of its submissions can be refused without
//! keeping the values themselves.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::idempotency::legacy_form;

/// How long a tombstone is kept after the erasure. Within it, a submission naming the erased
/// firm, or carrying one of its idempotency keys, is refused (`410 firm_erased`); after it,
/// the firm may be submitted again as a new firm.
pub const TOMBSTONE_DAYS: u64 = 365;

/// Hashes references and keys into tombstone digests (HMAC-SHA256, 64 hex digits). The key is
/// the same on every replica, so a tombstone written by one is found by all.
#[derive(Clone)]
pub struct TombstoneKey(Hmac<Sha256>);

impl std::fmt::Debug for TombstoneKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TombstoneKey")
    }
}

impl TombstoneKey {
    pub fn new(secret: &[u8]) -> Result<Self, String> {
        Hmac::<Sha256>::new_from_slice(secret)
            .map(Self)
            .map_err(|e| format!("unusable tombstone key: {e}"))
    }

    fn digest(&self, kind: &str, value: &str) -> String {
        let mut mac = self.0.clone();
        mac.update(kind.as_bytes());
        mac.update(b"\n");
        mac.update(value.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// The digest standing for a firm reference.
    pub fn firm(&self, firm_ref: &str) -> String {
        self.digest("firm", firm_ref)
    }

    /// The digest standing for an idempotency key as stored (with its scope).
    pub fn idempotency_key(&self, stored: &str) -> String {
        self.digest("idempotency-key", stored)
    }

    /// Every digest that refuses a new submission: its firm's, its key's, and the key's in
    /// its form from before keys were scoped.
    pub fn marks(&self, firm_ref: &str, stored_key: Option<&str>) -> Vec<String> {
        let mut marks = vec![self.firm(firm_ref)];
        if let Some(key) = stored_key {
            marks.push(self.idempotency_key(key));
            marks.extend(legacy_form(key).map(|legacy| self.idempotency_key(&legacy)));
        }
        marks
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_are_keyed_and_kinds_do_not_collide() {
        let a = TombstoneKey::new(b"key one").unwrap();
        let b = TombstoneKey::new(b"key two").unwrap();
        assert_ne!(a.firm("acme"), b.firm("acme"));
        assert_ne!(a.firm("acme"), a.idempotency_key("acme"));
        assert_eq!(a.firm("acme").len(), 64);
        assert!(!a.firm("acme").contains("acme"));
        let marks = a.marks("acme", Some("public k-1"));
        assert_eq!(
            marks,
            vec![
                a.firm("acme"),
                a.idempotency_key("public k-1"),
                a.idempotency_key("legacy k-1")
            ]
        );
    }
}
