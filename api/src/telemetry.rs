//! Structured logs with `tracing`.
//!
//! Colours only when standard error is a terminal, so a log file or a collector never gets
//! escape codes. actix-http logs what it cannot parse of a client's connection (`stream
//! error: …`) at ERROR; that is the client's fault, so it is logged at WARN here.

use std::io::IsTerminal;

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Metadata, Subscriber};
use tracing_subscriber::filter::filter_fn;
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Pretty,
    Json,
}

/// The target of actix-http's connection errors.
const DISPATCHER: &str = "actix_http::h1::dispatcher";

/// Installs the global subscriber once; later calls are no-ops. `RUST_LOG` overrides the
/// default filter (`info`).
pub fn init(format: LogFormat, default_filter: &str) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    let lines = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    let lines = match format {
        LogFormat::Pretty => lines.boxed(),
        // Each line carries its innermost span (the request, with its id); the list of all
        // enclosing spans would repeat it.
        LogFormat::Json => lines.json().with_span_list(false).boxed(),
    };
    let _already_installed = tracing_subscriber::registry()
        .with(filter)
        .with(lines.with_filter(filter_fn(|meta| !is_dispatcher_error(meta))))
        .with(DispatcherErrors)
        .try_init();
}

fn is_dispatcher_error(meta: &Metadata<'_>) -> bool {
    meta.target() == DISPATCHER && *meta.level() == Level::ERROR
}

/// Logs actix-http's dispatcher errors again, at WARN when the client caused them.
struct DispatcherErrors;

impl<S: Subscriber> Layer<S> for DispatcherErrors {
    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        if !is_dispatcher_error(event.metadata()) {
            return;
        }
        let mut message = Message(String::new());
        event.record(&mut message);
        let message = message.0;
        if message.starts_with("stream error") {
            tracing::warn!(target: "actix_http::h1", "{message}");
        } else {
            tracing::error!(target: "actix_http::h1", "{message}");
        }
    }
}

struct Message(String);

impl Visit for Message {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.0 = format!("{value:?}");
        }
    }
}
