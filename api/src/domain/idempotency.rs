//! `Idempotency-Key` (draft-ietf-httpapi-idempotency-key-header) and payload fingerprints.

use serde_json::Value;
use sha2::{Digest, Sha256};

pub const MAX_KEY_CHARS: usize = 255;

/// A client-chosen key that makes a retried submission safe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// Accepts 1–255 visible ASCII characters.
    pub fn parse(raw: &str) -> Result<Self, String> {
        if raw.is_empty() || raw.len() > MAX_KEY_CHARS {
            return Err(format!("must be 1 to {MAX_KEY_CHARS} characters long"));
        }
        if !raw.bytes().all(|b| b.is_ascii_graphic()) {
            return Err("must consist of visible ASCII characters only".to_owned());
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The key as stored: `<scope> <key>`, so that two senders' keys never meet. A key has no
    /// space, so the scope cannot be forged by choosing a key.
    pub fn scoped(&self, scope: KeyScope) -> ScopedKey {
        let scope = match scope {
            KeyScope::ApiKey(id) => id.simple().to_string(),
            KeyScope::Public => PUBLIC_SCOPE.to_owned(),
            KeyScope::Assessment => ASSESSMENT_SCOPE.to_owned(),
        };
        ScopedKey(format!("{scope} {}", self.0))
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// The scope of keys sent without an API key (public surveys).
const PUBLIC_SCOPE: &str = "public";
/// The scope of the keys of self-assessment drafts (one per draft), which no request sets.
const ASSESSMENT_SCOPE: &str = "assess";
/// The scope of keys stored before keys were scoped: whoever sent them is not known.
const LEGACY_SCOPE: &str = "legacy";

/// Whose idempotency keys a key belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyScope {
    /// The API key that sent the request.
    ApiKey(uuid::Uuid),
    /// Requests to a public survey without an API key.
    Public,
    /// Submissions of the self-assessment pages.
    Assessment,
}

/// An idempotency key as stored, within its scope (see [`IdempotencyKey::scoped`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopedKey(String);

impl ScopedKey {
    pub fn into_inner(self) -> String {
        self.0
    }
}

/// The form a stored key had if the request was stored before keys were scoped: a retry of
/// such a request still finds its response (from any sender, as it did then).
pub fn legacy_form(stored: &str) -> Option<String> {
    let (scope, key) = stored.split_once(' ')?;
    (scope != LEGACY_SCOPE).then(|| format!("{LEGACY_SCOPE} {key}"))
}

/// SHA-256 (hex) of the survey slug and the payload in canonical form (object keys sorted,
/// no insignificant whitespace), so the same payload sent twice has the same fingerprint
/// whatever its key order.
pub fn payload_hash(slug: &str, payload: &Value) -> String {
    let mut canonical = Vec::with_capacity(1024);
    write_canonical(payload, &mut canonical);
    let mut hasher = Sha256::new();
    hasher.update(slug.as_bytes());
    hasher.update(b"\n");
    hasher.update(&canonical);
    super::hex_digest(&hasher.finalize())
}

/// Writes `value` as compact JSON with object keys in sorted order (strings and numbers
/// exactly as `serde_json` writes them).
fn write_canonical(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push(b'{');
            for (index, (key, value)) in entries.into_iter().enumerate() {
                if index > 0 {
                    out.push(b',');
                }
                write_json(key, out);
                out.push(b':');
                write_canonical(value, out);
            }
            out.push(b'}');
        }
        Value::Array(items) => {
            out.push(b'[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(b',');
                }
                write_canonical(item, out);
            }
            out.push(b']');
        }
        scalar => write_json(scalar, out),
    }
}

fn write_json<T: serde::Serialize + ?Sized>(value: &T, out: &mut Vec<u8>) {
    // Writing a string or scalar into memory cannot fail.
    let _ = serde_json::to_writer(&mut *out, value);
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn key_order_does_not_change_the_fingerprint() {
        let a = json!({"firm": {"ref": "a", "country": "DE"}, "answers": {"x": "1", "y": "2"}});
        let b = json!({"answers": {"y": "2", "x": "1"}, "firm": {"country": "DE", "ref": "a"}});
        assert_eq!(payload_hash("s", &a), payload_hash("s", &b));
        assert_ne!(payload_hash("s", &a), payload_hash("t", &a));
        assert_ne!(
            payload_hash("s", &a),
            payload_hash(
                "s",
                &json!({"firm": {"ref": "b", "country": "DE"}, "answers": {"x": "1", "y": "2"}})
            )
        );
    }

    #[test]
    fn the_fingerprint_hashes_sorted_compact_json() {
        // Stored fingerprints must stay valid: the canonical form is fixed.
        let value = json!({"b": [1, "x\"y\u{e9}", 2.5, true], "a": null, "c": {"z": "", "y": -3}});
        let canonical = r#"{"a":null,"b":[1,"x\"yé",2.5,true],"c":{"y":-3,"z":""}}"#;
        let mut out = Vec::new();
        write_canonical(&value, &mut out);
        assert_eq!(String::from_utf8(out).unwrap(), canonical);
        let expected = hex::encode(Sha256::digest(format!("s\n{canonical}").as_bytes()));
        assert_eq!(payload_hash("s", &value), expected);
    }

    #[test]
    fn scopes_keep_senders_apart_and_legacy_rows_stay_findable() {
        let key = IdempotencyKey::parse("order-42").unwrap();
        let a = key.scoped(KeyScope::ApiKey(uuid::Uuid::from_u128(1)));
        let b = key.scoped(KeyScope::ApiKey(uuid::Uuid::from_u128(2)));
        assert_ne!(a, b);
        assert_ne!(a, key.scoped(KeyScope::Public));
        assert_eq!(
            a.clone().into_inner(),
            "00000000000000000000000000000001 order-42"
        );
        assert_eq!(
            legacy_form(&a.into_inner()).as_deref(),
            Some("legacy order-42")
        );
        assert_eq!(legacy_form("legacy order-42"), None);
    }

    #[test]
    fn keys_are_bounded_visible_ascii() {
        assert!(IdempotencyKey::parse("order-42").is_ok());
        assert!(IdempotencyKey::parse("").is_err());
        assert!(IdempotencyKey::parse(&"k".repeat(256)).is_err());
        assert!(IdempotencyKey::parse("with space").is_err());
    }
}
