//! Effective server configuration, layered: command-line flags, then `READINESS_*`
//! environment variables (both handled by clap), then an optional TOML file, then the
//! defaults here.

use std::path::Path;

use anyhow::Context;
use serde::{Deserialize, Serialize};

use std::sync::Arc;
use std::time::Duration;

use readiness_analytics::reports::disclosure::{DisclosurePolicy, PerturbationTable};

use crate::services::reports::snapshot::DEFAULT_REFRESH_EVERY;
use crate::services::webhooks::WebhookConfig;
use crate::store::ingest::GroupCommit;
use crate::telemetry::LogFormat;

pub use crate::domain::secret::{MASK, Secret};

/// Where the embedded default database lives.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://readiness.db?mode=rwc";
/// The default listen address.
pub const DEFAULT_BIND: &str = "127.0.0.1:8080";
/// How long a request body may take to arrive by default.
pub const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(30);
/// The default rate limit per key and per client address.
pub const DEFAULT_RATE_LIMIT_PER_MINUTE: u32 = 600;

#[derive(Debug, Clone)]
pub struct Settings {
    /// `host:port` to listen on; port 0 picks a free port.
    pub bind: String,
    /// `sqlite://…` or `postgres://…`.
    pub database_url: String,
    /// HTTP worker threads; `None` = one per core.
    pub workers: Option<usize>,
    /// How stale a report may be before the snapshot reads new responses.
    pub report_refresh: Duration,
    /// Requests a minute per key, and per client address for requests without a key;
    /// `0` turns rate limiting off.
    pub rate_limit_per_minute: u32,
    pub log_format: LogFormat,
    /// The secret share links are signed with (at least 32 bytes); `None` = a random one per
    /// process, so links stop working on restart and on other replicas.
    pub share_secret: Option<Secret>,
    /// The key that pseudonymises firm references in exports; `None` = the key the server
    /// generated and keeps in the database.
    pub pseudonym_key: Option<Secret>,
    /// How submissions are gathered into shared transactions.
    pub group_commit: GroupCommit,
    /// The perturbation table every published count passes through.
    pub disclosure_table: DisclosureTable,
    /// The smallest published cell, in firms; `None` = what the table implies.
    pub disclosure_threshold: Option<u64>,
    /// How long a request body may take to arrive, from when the request reaches the server.
    pub body_timeout: Duration,
    /// Origins (`scheme://host[:port]`) whose browser pages may call the API; empty = no
    /// CORS headers at all.
    pub cors_origins: Vec<String>,
    /// How webhooks are delivered.
    pub webhooks: WebhookConfig,
}

/// The default perturbation table: at most 2 off, unbiased, never a 1 or a 2, so that a
/// survey of a few hundred firms keeps most of its segments.
pub const DEFAULT_DISCLOSURE_TABLE: &str = "ptable_3_2_unbiased";

/// Which perturbation table reports use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DisclosureTable {
    /// A table the server ships, by name (`ptable_3_2_unbiased`, `ptable_10_5_rule`).
    Shipped(String),
    /// Exact counts, for tests and checks of the statistics only: no flag, environment
    /// variable or configuration file can choose it.
    Unperturbed,
}

impl Settings {
    pub fn new(bind: impl Into<String>, database_url: impl Into<String>) -> Self {
        Self {
            bind: bind.into(),
            database_url: database_url.into(),
            workers: None,
            report_refresh: DEFAULT_REFRESH_EVERY,
            rate_limit_per_minute: DEFAULT_RATE_LIMIT_PER_MINUTE,
            log_format: LogFormat::Pretty,
            share_secret: None,
            pseudonym_key: None,
            group_commit: GroupCommit::default(),
            disclosure_table: DisclosureTable::Shipped(DEFAULT_DISCLOSURE_TABLE.to_owned()),
            disclosure_threshold: None,
            body_timeout: DEFAULT_BODY_TIMEOUT,
            cors_origins: Vec::new(),
            webhooks: WebhookConfig::default(),
        }
    }

    /// The disclosure policy these settings name; an unknown table, or a threshold below the
    /// smallest count the table publishes, is refused.
    pub fn disclosure(&self) -> anyhow::Result<DisclosurePolicy> {
        let table = match &self.disclosure_table {
            DisclosureTable::Shipped(name) => {
                PerturbationTable::shipped(name).with_context(|| {
                    let names: Vec<&str> = PerturbationTable::shipped_names().collect();
                    format!(
                        "disclosure_table `{name}` is not one of {}",
                        names.join(", ")
                    )
                })?
            }
            DisclosureTable::Unperturbed => PerturbationTable::unperturbed(),
        };
        if let Some(threshold) = self.disclosure_threshold {
            anyhow::ensure!(
                threshold >= table.smallest_publishable(),
                "disclosure_threshold {threshold} is below {}, the smallest count table `{}` publishes",
                table.smallest_publishable(),
                table.name()
            );
        }
        Ok(DisclosurePolicy::new(
            Arc::new(table),
            self.disclosure_threshold,
        ))
    }

    /// Checks what can be checked without the database, so that a bad setting is refused
    /// before anything is touched: the worker count, the listen address, the lengths of the
    /// secrets and the disclosure policy. The message names the setting.
    pub fn check(&self) -> anyhow::Result<()> {
        anyhow::ensure!(self.workers != Some(0), "workers must be at least 1");
        anyhow::ensure!(
            !self.body_timeout.is_zero(),
            "body_timeout_secs must be at least 1"
        );
        let resolved = std::net::ToSocketAddrs::to_socket_addrs(self.bind.as_str())
            .map(|mut addresses| addresses.next().is_some());
        anyhow::ensure!(
            matches!(resolved, Ok(true)),
            "bind `{}` is not an address to listen on such as 127.0.0.1:8080",
            self.bind
        );
        if let Some(secret) = &self.share_secret {
            anyhow::ensure!(
                secret.expose().len() >= crate::domain::share_token::MIN_SECRET_BYTES,
                "share_secret must be at least {} bytes long",
                crate::domain::share_token::MIN_SECRET_BYTES
            );
        }
        if let Some(key) = &self.pseudonym_key {
            crate::services::exports::pseudonym::check_configured(key)?;
        }
        anyhow::ensure!(
            !self.webhooks.timeout.is_zero() && !self.webhooks.retry_base.is_zero(),
            "webhook_timeout_ms and webhook_retry_base_ms must be at least 1"
        );
        for origin in &self.cors_origins {
            anyhow::ensure!(
                is_origin(origin),
                "cors_origins: `{origin}` is not an origin such as https://dash.example.org \
                 (scheme, host and port only)"
            );
        }
        self.disclosure().map(|_| ())
    }

    /// What the services need of these settings.
    pub fn services(&self) -> anyhow::Result<crate::services::Config> {
        Ok(crate::services::Config {
            database_url: self.database_url.clone(),
            report_refresh: self.report_refresh,
            share_secret: self.share_secret.clone(),
            pseudonym_key: self.pseudonym_key.clone(),
            group_commit: self.group_commit,
            disclosure: self.disclosure()?,
        })
    }

    /// Each setting from the first layer that has it, else its default.
    pub fn layered(layers: &[&SettingsLayer]) -> Self {
        let pick = |get: &dyn Fn(&SettingsLayer) -> Option<_>| layers.iter().find_map(|l| get(l));
        let defaults = Self::default();
        Self {
            bind: pick(&|l| l.bind.clone()).unwrap_or(defaults.bind),
            database_url: pick(&|l| l.database_url.clone()).unwrap_or(defaults.database_url),
            workers: layers.iter().find_map(|l| l.workers),
            report_refresh: layers
                .iter()
                .find_map(|l| l.report_refresh_ms)
                .map_or(defaults.report_refresh, Duration::from_millis),
            rate_limit_per_minute: layers
                .iter()
                .find_map(|l| l.rate_limit_per_minute)
                .unwrap_or(defaults.rate_limit_per_minute),
            log_format: layers
                .iter()
                .find_map(|l| l.log_format)
                .unwrap_or(defaults.log_format),
            share_secret: layers.iter().find_map(|l| l.share_secret.clone()),
            pseudonym_key: layers.iter().find_map(|l| l.pseudonym_key.clone()),
            group_commit: GroupCommit {
                max_items: layers
                    .iter()
                    .find_map(|l| l.group_commit_max_items)
                    .unwrap_or(defaults.group_commit.max_items),
                max_wait: layers
                    .iter()
                    .find_map(|l| l.group_commit_wait_us)
                    .map_or(defaults.group_commit.max_wait, Duration::from_micros),
                ..defaults.group_commit
            },
            disclosure_table: layers
                .iter()
                .find_map(|l| l.disclosure_table.clone())
                .map_or(defaults.disclosure_table, DisclosureTable::Shipped),
            disclosure_threshold: layers.iter().find_map(|l| l.disclosure_threshold),
            body_timeout: layers
                .iter()
                .find_map(|l| l.body_timeout_secs)
                .map_or(defaults.body_timeout, Duration::from_secs),
            cors_origins: layers
                .iter()
                .find_map(|l| l.cors_origins.clone())
                .unwrap_or(defaults.cors_origins),
            webhooks: WebhookConfig {
                allow_private: layers
                    .iter()
                    .find_map(|l| l.webhooks_allow_private)
                    .unwrap_or(defaults.webhooks.allow_private),
                timeout: layers
                    .iter()
                    .find_map(|l| l.webhook_timeout_ms)
                    .map_or(defaults.webhooks.timeout, Duration::from_millis),
                retry_base: layers
                    .iter()
                    .find_map(|l| l.webhook_retry_base_ms)
                    .map_or(defaults.webhooks.retry_base, Duration::from_millis),
            },
        }
    }

    /// The settings as TOML, in the format of the config file, with the database password
    /// and the secrets (share secret, pseudonym key) masked.
    pub fn to_masked_toml(&self) -> anyhow::Result<String> {
        let layer = SettingsLayer {
            bind: Some(self.bind.clone()),
            database_url: Some(crate::store::db::redact(&self.database_url)),
            workers: self.workers,
            report_refresh_ms: Some(
                u64::try_from(self.report_refresh.as_millis()).unwrap_or(u64::MAX),
            ),
            rate_limit_per_minute: Some(self.rate_limit_per_minute),
            log_format: Some(self.log_format),
            share_secret: self.share_secret.as_ref().map(|_| Secret::new(MASK)),
            pseudonym_key: self.pseudonym_key.as_ref().map(|_| Secret::new(MASK)),
            group_commit_max_items: Some(self.group_commit.max_items),
            group_commit_wait_us: Some(
                u64::try_from(self.group_commit.max_wait.as_micros()).unwrap_or(u64::MAX),
            ),
            disclosure_table: match &self.disclosure_table {
                DisclosureTable::Shipped(name) => Some(name.clone()),
                DisclosureTable::Unperturbed => None,
            },
            disclosure_threshold: self.disclosure_threshold,
            body_timeout_secs: Some(self.body_timeout.as_secs()),
            cors_origins: Some(self.cors_origins.clone()),
            webhooks_allow_private: Some(self.webhooks.allow_private),
            webhook_timeout_ms: Some(
                u64::try_from(self.webhooks.timeout.as_millis()).unwrap_or(u64::MAX),
            ),
            webhook_retry_base_ms: Some(
                u64::try_from(self.webhooks.retry_base.as_millis()).unwrap_or(u64::MAX),
            ),
        };
        toml::to_string(&layer).context("serialising the configuration")
    }
}

/// An origin as a browser sends it: `http` or `https`, a host, an optional port, nothing else.
fn is_origin(origin: &str) -> bool {
    let Some((scheme, rest)) = origin.split_once("://") else {
        return false;
    };
    let (host, port) = match rest.rfind(':') {
        Some(at) if !rest[at..].contains(']') => (&rest[..at], Some(&rest[at + 1..])),
        _ => (rest, None),
    };
    matches!(scheme, "http" | "https")
        && !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-.[]:".contains(&b))
        && port.is_none_or(|p| p.parse::<u16>().is_ok_and(|p| p > 0))
}

impl Default for Settings {
    fn default() -> Self {
        Self::new(DEFAULT_BIND, DEFAULT_DATABASE_URL)
    }
}

/// One layer of configuration: what the flags and environment set, or what a file sets.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SettingsLayer {
    pub bind: Option<String>,
    pub database_url: Option<String>,
    pub workers: Option<usize>,
    /// How stale a report may be, in milliseconds.
    pub report_refresh_ms: Option<u64>,
    pub rate_limit_per_minute: Option<u32>,
    pub log_format: Option<LogFormat>,
    /// The secret share links are signed with.
    pub share_secret: Option<Secret>,
    pub pseudonym_key: Option<Secret>,
    /// Rows per shared transaction at most.
    pub group_commit_max_items: Option<usize>,
    /// How long a writer waits for more submissions before it commits, in microseconds.
    pub group_commit_wait_us: Option<u64>,
    /// The perturbation table of reports, by name.
    pub disclosure_table: Option<String>,
    /// The smallest published cell, in firms.
    pub disclosure_threshold: Option<u64>,
    /// How long a request body may take to arrive, in seconds.
    pub body_timeout_secs: Option<u64>,
    /// Origins whose browser pages may call the API (CORS).
    pub cors_origins: Option<Vec<String>>,
    /// Whether webhook endpoints may be on loopback or private networks.
    pub webhooks_allow_private: Option<bool>,
    /// How long one webhook delivery attempt may take, in milliseconds.
    pub webhook_timeout_ms: Option<u64>,
    /// The wait after a webhook delivery's first failure, in milliseconds (doubling after).
    pub webhook_retry_base_ms: Option<u64>,
}

impl SettingsLayer {
    /// Reads a TOML config file; unknown keys are an error, so a typo is not ignored.
    pub fn from_file(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the config file {}", path.display()))?;
        toml::from_str(&text).map_err(|error| {
            // toml's own message spans several lines (a snippet of the file); one line here.
            let at = error.span().map_or_else(String::new, |span| {
                let before = text.get(..span.start).unwrap_or_default();
                let line = before.matches('\n').count() + 1;
                let column = before.len() - before.rfind('\n').map_or(0, |n| n + 1) + 1;
                format!(" at line {line}, column {column}")
            });
            anyhow::anyhow!(
                "invalid config file {}{at}: {}",
                path.display(),
                error.message().trim().replace('\n', " ")
            )
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn the_first_layer_that_sets_a_value_wins_then_the_default() {
        let flags = SettingsLayer {
            bind: Some("0.0.0.0:9000".to_owned()),
            ..SettingsLayer::default()
        };
        let file: SettingsLayer = toml::from_str(
            "bind = \"127.0.0.1:1\"\ndatabase_url = \"postgres://app:pw@db/r\"\nlog_format = \"json\"\ngroup_commit_wait_us = 250\n",
        )
        .unwrap();
        let settings = Settings::layered(&[&flags, &file]);
        assert_eq!(settings.bind, "0.0.0.0:9000");
        assert_eq!(settings.database_url, "postgres://app:pw@db/r");
        assert_eq!(settings.log_format, LogFormat::Json);
        assert_eq!(
            settings.rate_limit_per_minute,
            DEFAULT_RATE_LIMIT_PER_MINUTE
        );
        assert_eq!(settings.workers, None);
        assert_eq!(settings.group_commit.max_wait, Duration::from_micros(250));
        assert_eq!(
            settings.group_commit.max_items,
            GroupCommit::default().max_items
        );
    }

    #[test]
    fn the_printed_configuration_masks_the_password_and_reads_back() {
        let mut settings = Settings::new("127.0.0.1:8080", "postgres://app:s3cret@db/r");
        settings.workers = Some(4);
        settings.share_secret = Some(Secret::new("a share secret of at least 32 bytes"));
        settings.pseudonym_key = Some(Secret::new("k3y-k3y-k3y-k3y-k3y-k3y-k3y-k3y-k3y"));
        let printed = settings.to_masked_toml().unwrap();
        assert!(!printed.contains("s3cret"), "{printed}");
        assert!(!printed.contains("share secret of"), "{printed}");
        assert!(printed.contains("share_secret = \"***\""), "{printed}");
        assert!(!printed.contains("k3y"), "{printed}");
        assert!(!format!("{settings:?}").contains("k3y"));
        assert!(!format!("{settings:?}").contains("share secret of"));
        let read_back: SettingsLayer = toml::from_str(&printed).unwrap();
        assert_eq!(
            read_back.database_url.as_deref(),
            Some("postgres://app:***@db/r")
        );
        assert_eq!(read_back.workers, Some(4));
        assert_eq!(read_back.group_commit_max_items, Some(512));
        assert_eq!(read_back.group_commit_wait_us, Some(0));
        assert_eq!(read_back.log_format, Some(LogFormat::Pretty));
        assert_eq!(read_back.pseudonym_key, Some(Secret::new("***")));
    }

    #[test]
    fn the_pseudonym_key_comes_from_the_first_layer_that_sets_it() {
        let file: SettingsLayer = toml::from_str("pseudonym_key = \"from-the-file\"\n").unwrap();
        let settings = Settings::layered(&[&SettingsLayer::default(), &file]);
        assert_eq!(
            settings.pseudonym_key.as_ref().map(Secret::expose),
            Some("from-the-file")
        );
        assert_eq!(Settings::layered(&[]).pseudonym_key, None);
    }

    #[test]
    fn settings_that_cannot_work_are_refused_by_name() {
        let refused = |change: fn(&mut Settings)| {
            let mut settings = Settings::default();
            change(&mut settings);
            settings
                .check()
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default()
        };
        assert!(Settings::default().check().is_ok());
        assert!(refused(|s| s.workers = Some(0)).contains("workers"));
        assert!(refused(|s| s.bind = "nonsense".to_owned()).contains("bind `nonsense`"));
        assert!(refused(|s| s.share_secret = Some(Secret::new("short"))).contains("share_secret"));
        assert!(refused(|s| s.disclosure_threshold = Some(1)).contains("disclosure_threshold"));
        for origin in [
            "dash.example.org",
            "https://dash.example.org/",
            "https://dash.example.org/app",
            "ftp://dash.example.org",
            "https://dash.example.org:0",
            "https://Dash.example.org",
            "*",
        ] {
            let settings = Settings {
                cors_origins: vec![origin.to_owned()],
                ..Settings::default()
            };
            let refused = settings.check().err().map(|e| e.to_string());
            assert!(
                refused.is_some_and(|e| e.contains("cors_origins")),
                "{origin}"
            );
        }
        let settings = Settings {
            cors_origins: [
                "https://dash.example.org",
                "http://127.0.0.1:8081",
                "http://[::1]:3000",
            ]
            .map(str::to_owned)
            .to_vec(),
            ..Settings::default()
        };
        assert!(settings.check().is_ok());
    }

    #[test]
    fn unknown_keys_in_a_file_are_an_error() {
        assert!(toml::from_str::<SettingsLayer>("bnid = \"x\"").is_err());
    }
}
