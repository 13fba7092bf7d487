//! Domain types parsed at the edge: invalid data never travels inward.

pub mod api_key;
pub mod firm;
pub mod idempotency;
pub mod invitation;
pub mod params;
pub mod pointer;
pub mod secret;
pub mod share_token;
pub mod submission;
pub mod tombstone;
pub mod webhook;

pub use firm::FirmProfile;
pub use idempotency::{IdempotencyKey, KeyScope, ScopedKey, payload_hash};
pub use submission::Submission;

/// Lower-case hex of a digest. `hex::encode` builds its string one character at a time;
/// this writes the bytes at once (it runs twice on every submission: key and fingerprint).
pub fn hex_digest(bytes: &[u8]) -> String {
    let mut out = vec![0; bytes.len() * 2];
    // The buffer is exactly twice the input's length, the one thing encode_to_slice checks.
    let _ = hex::encode_to_slice(bytes, &mut out);
    String::from_utf8(out).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #[test]
    fn hex_digest_is_hex_encode() {
        let bytes: Vec<u8> = (0..=255).collect();
        assert_eq!(super::hex_digest(&bytes), hex::encode(&bytes));
        assert_eq!(super::hex_digest(&[]), "");
    }
}
