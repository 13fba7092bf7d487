//! Structured logs with `tracing`.

use tracing_subscriber::EnvFilter;

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Pretty,
    Json,
}

/// Installs the global subscriber once; later calls are no-ops. `RUST_LOG` overrides the
/// default filter (`info`).
pub fn init(format: LogFormat, default_filter: &str) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _already_installed = match format {
        LogFormat::Pretty => builder.try_init(),
        // Each line carries its innermost span (the request, with its id); the list of all
        // enclosing spans would repeat it.
        LogFormat::Json => builder.json().with_span_list(false).try_init(),
    };
}
