//! Webhooks as the Standard Webhooks specification has them: endpoint URLs, the addresses
//! they may reach, secrets and signatures.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The event types an endpoint may subscribe to.
pub const EVENT_TYPES: [&str; 2] = ["response.created", "firm.erased"];

/// Longest endpoint URL accepted.
pub const MAX_URL_LEN: usize = 2048;

/// Prefix of a Standard Webhooks secret; the rest is the base64 of the signing key.
const SECRET_PREFIX: &str = "whsec_";

/// Checks an endpoint URL's form: `http` or `https`, a host, no user name or password
/// (secrets in URLs end up in logs), at most [`MAX_URL_LEN`] characters. Returns the URL.
pub fn parse_url(raw: &str) -> Result<reqwest::Url, String> {
    if raw.len() > MAX_URL_LEN {
        return Err(format!("must be at most {MAX_URL_LEN} characters"));
    }
    let url = reqwest::Url::parse(raw).map_err(|_| "must be an absolute http or https URL")?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err("must be an http or https URL".to_owned());
    }
    if url.host().is_none() {
        return Err("must name a host".to_owned());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not carry a user name or password".to_owned());
    }
    if url.fragment().is_some() {
        return Err("must not have a fragment (`#…`)".to_owned());
    }
    Ok(url)
}

/// Why an address may not be called.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Link-local addresses and cloud metadata services: never.
    Forbidden,
    /// Loopback, private, shared and unique-local networks: only when the operator allows
    /// private targets (`webhooks_allow_private`).
    Private,
}

/// Whether a webhook may be delivered to `ip`.
pub fn refusal(ip: IpAddr) -> Option<Refusal> {
    match ip {
        IpAddr::V4(v4) => refusal_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => refusal_v4(v4),
            None => refusal_v6(v6),
        },
    }
}

fn refusal_v4(ip: Ipv4Addr) -> Option<Refusal> {
    let [a, b, ..] = ip.octets();
    if ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || a == 0
        // Alibaba Cloud's metadata service.
        || ip == Ipv4Addr::new(100, 100, 100, 200)
        // Reserved for future use, and the IETF protocol assignments (192.0.0.0/24).
        || a >= 240
        || (a == 192 && b == 0 && ip.octets()[2] == 0)
    {
        return Some(Refusal::Forbidden);
    }
    // 100.64.0.0/10 is carrier-grade NAT, shared address space.
    if ip.is_loopback() || ip.is_private() || (a == 100 && (64..128).contains(&b)) {
        return Some(Refusal::Private);
    }
    None
}

fn refusal_v6(ip: Ipv6Addr) -> Option<Refusal> {
    let first = ip.segments()[0];
    // fe80::/10 link-local; fd00:ec2::254 is AWS's metadata service over IPv6.
    if ip.is_unspecified()
        || ip.is_multicast()
        || (first & 0xffc0) == 0xfe80
        || ip == Ipv6Addr::new(0xfd00, 0x0ec2, 0, 0, 0, 0, 0, 0x0254)
    {
        return Some(Refusal::Forbidden);
    }
    // ::1 loopback, fc00::/7 unique local.
    if ip.is_loopback() || (first & 0xfe00) == 0xfc00 {
        return Some(Refusal::Private);
    }
    None
}

/// Whether `ip` may be called under the operator's choice about private targets.
pub fn allowed(ip: IpAddr, allow_private: bool) -> bool {
    match refusal(ip) {
        None => true,
        Some(Refusal::Private) => allow_private,
        Some(Refusal::Forbidden) => false,
    }
}

/// A new endpoint secret: `whsec_` and the base64 of 32 random bytes.
pub fn new_secret() -> anyhow::Result<String> {
    let mut key = [0u8; 32];
    getrandom::fill(&mut key).map_err(|e| anyhow::anyhow!("no randomness for a secret: {e}"))?;
    Ok(format!("{SECRET_PREFIX}{}", STANDARD.encode(key)))
}

/// The `webhook-signature` header of a message: `v1,` and the base64 of HMAC-SHA256 over
/// `{id}.{timestamp}.{body}` with the secret's key.
pub fn signature(secret: &str, id: &str, timestamp: i64, body: &str) -> anyhow::Result<String> {
    let key = STANDARD
        .decode(secret.strip_prefix(SECRET_PREFIX).unwrap_or(secret))
        .map_err(|e| anyhow::anyhow!("a webhook secret is not base64: {e}"))?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key)
        .map_err(|e| anyhow::anyhow!("a webhook secret cannot key HMAC: {e}"))?;
    mac.update(format!("{id}.{timestamp}.{body}").as_bytes());
    Ok(format!(
        "v1,{}",
        STANDARD.encode(mac.finalize().into_bytes())
    ))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn addresses_are_sorted_into_public_private_and_forbidden() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        for public in ["93.184.216.34", "8.8.8.8", "2606:4700::1111", "100.128.0.1"] {
            assert_eq!(refusal(ip(public)), None, "{public}");
        }
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "100.64.0.1",
            "::1",
            "fd12::1",
            "::ffff:127.0.0.1",
        ] {
            assert_eq!(refusal(ip(private)), Some(Refusal::Private), "{private}");
        }
        for forbidden in [
            "169.254.169.254",
            "169.254.1.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "100.100.100.200",
            "fe80::1",
            "fd00:ec2::254",
            "::",
            "::ffff:169.254.169.254",
        ] {
            assert_eq!(
                refusal(ip(forbidden)),
                Some(Refusal::Forbidden),
                "{forbidden}"
            );
            assert!(!allowed(ip(forbidden), true));
        }
    }

    #[test]
    fn urls_are_http_or_https_with_a_host_and_no_credentials() {
        assert!(parse_url("https://hooks.example.org/readiness?x=1").is_ok());
        assert!(parse_url("http://127.0.0.1:8080/").is_ok());
        for bad in [
            "ftp://example.org/",
            "file:///etc/passwd",
            "https://user:pass@example.org/",
            "example.org/hook",
            "https://example.org/#frag",
            "",
        ] {
            assert!(parse_url(bad).is_err(), "{bad}");
        }
        assert!(parse_url(&format!("https://e.org/{}", "a".repeat(MAX_URL_LEN))).is_err());
    }

    /// The example of the Standard Webhooks specification's reference libraries.
    #[test]
    fn signatures_match_the_specifications_example() {
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let body = r#"{"test": 2432232314}"#;
        let signed = signature(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1_614_265_330, body);
        assert_eq!(
            signed.unwrap(),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn secrets_are_whsec_and_32_bytes() {
        let secret = new_secret().unwrap();
        let key = STANDARD
            .decode(secret.strip_prefix(SECRET_PREFIX).unwrap())
            .unwrap();
        assert_eq!(key.len(), 32);
        assert_ne!(secret, new_secret().unwrap());
    }
}
