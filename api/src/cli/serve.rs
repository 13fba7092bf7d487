//! `readiness serve`: run the HTTP server.

use clap::Args;

use super::{DatabaseArgs, DisclosureArgs, PseudonymArgs, file_layer};
use crate::http::server::Application;
use crate::settings::{Secret, Settings, SettingsLayer};
use crate::telemetry::{self, LogFormat};

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on [default: 127.0.0.1:8080]
    #[arg(long, env = "READINESS_BIND")]
    bind: Option<String>,
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// How stale a report may be (milliseconds) before new responses are read into it
    /// [default: 1000]
    #[arg(long, env = "READINESS_REPORT_REFRESH_MS")]
    report_refresh_ms: Option<u64>,
    /// Log line format [default: pretty]
    #[arg(long, env = "READINESS_LOG_FORMAT", value_enum)]
    log_format: Option<LogFormat>,
    /// HTTP worker threads [default: one per core]
    #[arg(long, env = "READINESS_WORKERS")]
    workers: Option<usize>,
    /// Requests a minute per API key, and per client address without a key; 0 = no limit
    /// [default: 600]
    #[arg(long, env = "READINESS_RATE_LIMIT_PER_MINUTE")]
    rate_limit_per_minute: Option<u32>,
    /// Secret share links are signed with, at least 32 bytes; prefer the environment variable
    /// to the flag [default: random per process: links die on restart and do not open on
    /// other replicas]
    #[arg(long, env = "READINESS_SHARE_SECRET", hide_env_values = true)]
    share_secret: Option<String>,
    /// Rows stored in one transaction at most when submissions arrive together; 1 turns
    /// group commit off [default: 512]
    #[arg(long, env = "READINESS_GROUP_COMMIT_MAX_ITEMS", value_parser = clap::value_parser!(u64).range(1..=100_000))]
    group_commit_max_items: Option<u64>,
    /// Microseconds the writer waits for more submissions before committing; 0 takes only
    /// those already waiting [default: 0]
    #[arg(long, env = "READINESS_GROUP_COMMIT_WAIT_US", value_parser = clap::value_parser!(u64).range(0..=1_000_000))]
    group_commit_wait_us: Option<u64>,
    /// Seconds a request body may take to arrive; a slower body is cut with 408 [default: 30]
    #[arg(long, env = "READINESS_BODY_TIMEOUT_SECS", value_parser = clap::value_parser!(u64).range(1..=3600))]
    body_timeout_secs: Option<u64>,
    /// Origins whose browser pages may call the API (CORS), comma-separated, such as
    /// `https://dash.example.org`; each exactly `scheme://host[:port]` [default: none, and no
    /// CORS headers]
    #[arg(
        long = "cors-origins",
        env = "READINESS_CORS_ORIGINS",
        value_delimiter = ','
    )]
    cors_origins: Option<Vec<String>>,
    /// Let webhook endpoints be on loopback, private or shared networks (an internal
    /// receiver); link-local and cloud metadata addresses are refused regardless [default:
    /// false]
    #[arg(long, env = "READINESS_WEBHOOKS_ALLOW_PRIVATE", num_args = 0..=1, default_missing_value = "true")]
    webhooks_allow_private: Option<bool>,
    /// Milliseconds one webhook delivery attempt may take [default: 10000]
    #[arg(long, env = "READINESS_WEBHOOK_TIMEOUT_MS", value_parser = clap::value_parser!(u64).range(1..=600_000))]
    webhook_timeout_ms: Option<u64>,
    /// Milliseconds before a failed webhook delivery is tried again; the wait doubles with
    /// each failure, up to an hour [default: 5000]
    #[arg(long, env = "READINESS_WEBHOOK_RETRY_BASE_MS", value_parser = clap::value_parser!(u64).range(1..=3_600_000))]
    webhook_retry_base_ms: Option<u64>,
    #[command(flatten)]
    pub pseudonym: PseudonymArgs,
    #[command(flatten)]
    pub disclosure: DisclosureArgs,
}

impl ServeArgs {
    /// Flags and environment first, then the config file, then the defaults.
    pub fn settings(&self) -> anyhow::Result<Settings> {
        let flags = SettingsLayer {
            bind: self.bind.clone(),
            database_url: self.database.database_url.clone(),
            workers: self.workers,
            report_refresh_ms: self.report_refresh_ms,
            rate_limit_per_minute: self.rate_limit_per_minute,
            log_format: self.log_format,
            share_secret: self.share_secret.clone().map(Secret::new),
            pseudonym_key: self.pseudonym.pseudonym_key.clone().map(Secret::new),
            group_commit_max_items: self
                .group_commit_max_items
                .and_then(|n| usize::try_from(n).ok()),
            group_commit_wait_us: self.group_commit_wait_us,
            body_timeout_secs: self.body_timeout_secs,
            cors_origins: self.cors_origins.clone(),
            webhooks_allow_private: self.webhooks_allow_private,
            webhook_timeout_ms: self.webhook_timeout_ms,
            webhook_retry_base_ms: self.webhook_retry_base_ms,
            ..self.disclosure.layer()
        };
        let file = file_layer(self.database.config.as_deref())?;
        Ok(Settings::layered(&[&flags, &file]))
    }
}

/// Settings that cannot work are a usage error, refused before the database is touched.
pub async fn run(args: ServeArgs) -> anyhow::Result<()> {
    let settings = args.settings()?;
    settings
        .check()
        .map_err(|error| super::usage(format!("{error:#}")))?;
    telemetry::init(settings.log_format, "info");
    let app = Application::build(settings).await?;
    tracing::info!(port = app.port(), "readiness is listening");
    app.run_until_stopped().await?;
    Ok(())
}
