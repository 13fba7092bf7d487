//! The `readiness` command line.
//!
//! One file per verb; each maps its flags onto the services' typed values and calls the
//! services directly. A usage error (clap's, or [`UsageError`]) exits with 2, any other error
//! with 1, each as one line on standard error.

mod config;
mod demo;
mod export;
mod import;
mod keys;
mod migrate;
mod openapi;
mod report;
mod serve;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use migration::{Migrator, MigratorTrait};
use sea_orm::DatabaseConnection;

use readiness_analytics::reports::{SegmentField, SegmentFilter};

use crate::domain::firm::check_segment_value;
use crate::services::error::ServiceError;
use crate::settings::{Settings, SettingsLayer};

#[derive(Debug, Parser)]
#[command(
    name = "readiness",
    version,
    about = "Readiness: AI-adoption readiness surveys, scored and reported",
    after_help = "Exit codes: 0 success, 1 failure, 2 usage error (including invalid report parameters)."
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the HTTP server (migrations are applied first).
    #[command(
        after_help = "Examples:\n  readiness serve\n  readiness serve --bind 0.0.0.0:8080 --database-url postgres://app@db/readiness"
    )]
    Serve(serve::ServeArgs),
    /// Print the effective configuration (flags > environment > config file > defaults),
    /// with the database password and the secrets masked, in the config file's format.
    #[command(
        after_help = "Example:\n  READINESS_BIND=0.0.0.0:8080 readiness config --config readiness.toml"
    )]
    Config(serve::ServeArgs),
    /// Apply pending database migrations and exit.
    #[command(
        after_help = "Example:\n  readiness migrate --database-url postgres://app@db/readiness"
    )]
    Migrate(DatabaseArgs),
    /// Fill the database with synthetic but plausible firms and answers.
    #[command(
        after_help = "Examples:\n  readiness demo\n  readiness demo --firms 200000 --responses-per-firm 5 --seed 7"
    )]
    Demo(demo::DemoArgs),
    /// Write the analyst report page (HTML with charts, self-contained) from the database.
    #[command(
        after_help = "The page is the one GET /api/v1/reports/readiness.html serves for the same parameters.\n\nExamples:\n  readiness report --html report.html\n  readiness report --html report.html --by size_band --from 2026-01-01 --to 2026-12-31\n  readiness report --html - --by industry,size_band --min-cell 10 --interval quarter > report.html\n\nExit codes: 0 written, 1 failure (database, file), 2 usage error (including parameters the\nreport refuses, e.g. an unknown survey or population margins)."
    )]
    Report(report::ReportArgs),
    /// Create, list and revoke API keys (migrations are applied first).
    #[command(
        subcommand,
        after_help = "Examples:\n  readiness keys create --role admin --name ops\n  readiness keys list\n  readiness keys revoke 0192f0c1-0000-7000-8000-000000000000"
    )]
    Keys(keys::KeysCommand),
    /// Export responses to a CSV, Parquet or NDJSON file (the same rows and columns as
    /// `GET /api/v1/exports/responses`).
    #[command(
        after_help = "The format follows the file's extension (.csv, .parquet, .ndjson or .jsonl) unless --format is given.\n\nExamples:\n  readiness export --output responses.csv\n  readiness export --output responses.parquet --from 2026-01-01 --to 2026-06-30 --basis latest\n  READINESS_PSEUDONYM_KEY=... readiness export --output shared.ndjson --pseudonymise\n\nExit codes: 0 written, 1 failure (no partial file is left), 2 usage error."
    )]
    Export(Box<export::ExportArgs>),
    /// Import an export (CSV or NDJSON): each row is validated and scored like a submission,
    /// good rows are stored once, and rejected rows go to a rejects file with the reason.
    #[command(
        after_help = "Rows are identified by their response_id, so importing a file again stores nothing twice. The tier, blockers and scores in the file are recomputed, not read.\n\nExamples:\n  readiness import responses.csv\n  readiness import export.jsonl --format ndjson --rejects /tmp/rejects.csv --database-url postgres://app@db/readiness\n\nExit codes: 0 every row stored or already present, 1 a row was rejected (the others are stored) or the import failed, 2 usage error."
    )]
    Import(import::ImportArgs),
    /// Print the OpenAPI document (or write it to a file).
    #[command(after_help = "Example:\n  readiness openapi --output openapi/openapi.json")]
    Openapi {
        /// Write to this file instead of standard output.
        #[arg(long)]
        output: Option<PathBuf>,
    },
}

#[derive(Debug, Args)]
pub struct DatabaseArgs {
    /// `sqlite://FILE?mode=rwc` or `postgres://USER@HOST/DB` [default: sqlite://readiness.db?mode=rwc]
    #[arg(long, env = "READINESS_DATABASE_URL")]
    pub database_url: Option<String>,
    /// A TOML file with settings; flags and environment variables win over it.
    #[arg(long, env = "READINESS_CONFIG")]
    pub config: Option<PathBuf>,
}

impl DatabaseArgs {
    pub fn database_url(&self) -> anyhow::Result<String> {
        let flags = SettingsLayer {
            database_url: self.database_url.clone(),
            ..SettingsLayer::default()
        };
        Ok(Settings::layered(&[&flags, &file_layer(self.config.as_deref())?]).database_url)
    }
}

/// How reports protect the firms: the perturbation table and the threshold.
#[derive(Debug, Args)]
pub struct DisclosureArgs {
    /// The perturbation table every published count passes through: ptable_3_2_unbiased (at
    /// most 2 off, never 1 or 2) or ptable_10_5_rule (the UK ONS table: nothing under 10)
    /// [default: ptable_3_2_unbiased]
    #[arg(long, env = "READINESS_DISCLOSURE_TABLE")]
    pub disclosure_table: Option<String>,
    /// The smallest published cell, in firms; requests may raise it, never lower it
    /// [default: the smallest count the table publishes]
    #[arg(long, env = "READINESS_DISCLOSURE_THRESHOLD", value_parser = clap::value_parser!(u64).range(1..))]
    pub disclosure_threshold: Option<u64>,
}

impl DisclosureArgs {
    /// These flags as a settings layer.
    pub fn layer(&self) -> SettingsLayer {
        SettingsLayer {
            disclosure_table: self.disclosure_table.clone(),
            disclosure_threshold: self.disclosure_threshold,
            ..SettingsLayer::default()
        }
    }
}

/// The segments a report or an export is narrowed to: OR within an attribute, AND across.
#[derive(Debug, Args)]
pub struct SegmentArgs {
    /// Only firms in these NACE Rev.2 sections, comma-separated or repeated (e.g. C,F)
    #[arg(long, value_delimiter = ',', value_parser = segment_value(SegmentField::Industry))]
    pub industry: Vec<String>,
    /// Only firms of these size bands: micro, small, medium, large
    #[arg(long, value_delimiter = ',', value_parser = segment_value(SegmentField::SizeBand))]
    pub size_band: Vec<String>,
    /// Only firms in these ISO 3166-1 alpha-2 countries (e.g. DE,FR)
    #[arg(long, value_delimiter = ',', value_parser = segment_value(SegmentField::Country))]
    pub country: Vec<String>,
    /// Only firms in these ISO 3166-2 regions (e.g. DE-BY)
    #[arg(long, value_delimiter = ',', value_parser = segment_value(SegmentField::Region))]
    pub region: Vec<String>,
}

impl SegmentArgs {
    /// The flags as a segment filter.
    pub fn filter(&self) -> SegmentFilter {
        let mut filter = SegmentFilter::default();
        for (field, values) in [
            (SegmentField::Industry, &self.industry),
            (SegmentField::SizeBand, &self.size_band),
            (SegmentField::Country, &self.country),
            (SegmentField::Region, &self.region),
        ] {
            for value in values {
                filter.insert(field, value);
            }
        }
        filter
    }
}

/// A clap parser that checks a segment filter's value as a firm's attribute is checked.
fn segment_value(field: SegmentField) -> impl Fn(&str) -> Result<String, String> + Clone {
    move |value: &str| {
        check_segment_value(field, value)
            .map(|()| value.to_owned())
            .map_err(|expected| format!("`{value}` {expected}"))
    }
}

#[derive(Debug, Args)]
pub struct PseudonymArgs {
    /// Key (at least 32 characters) that pseudonymises firm references in exports; prefer the
    /// environment variable to the flag [default: a key generated once and kept in the database]
    #[arg(long, env = "READINESS_PSEUDONYM_KEY", hide_env_values = true)]
    pub pseudonym_key: Option<String>,
}

/// The config file's layer; a file that cannot be read or parsed is a usage error.
pub fn file_layer(path: Option<&std::path::Path>) -> anyhow::Result<SettingsLayer> {
    path.map_or_else(
        || Ok(SettingsLayer::default()),
        |path| SettingsLayer::from_file(path).map_err(|error| usage(format!("{error:#}"))),
    )
}

/// Parses the command line and runs the verb; errors are one line on standard error.
pub fn run() -> ExitCode {
    run_from(std::env::args_os())
}

/// Like [`run`], with the arguments given (the first is the program name). It builds its own
/// runtime, so call it from a thread that is not inside one.
pub fn run_from<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(error)
            if error.use_stderr()
                && error.kind()
                    != clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand =>
        {
            // clap adds a blank line and a pointer to --help; one line is easier to log.
            let rendered = error.render().to_string();
            let first = rendered.lines().next().unwrap_or("error: invalid usage");
            eprintln!("{first} (see --help)");
            return ExitCode::from(u8::try_from(error.exit_code()).unwrap_or(2));
        }
        Err(error) => {
            let _ = error.print();
            return ExitCode::from(u8::try_from(error.exit_code()).unwrap_or(2));
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(execute(cli.command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) if error.is::<UsageError>() => {
            eprintln!("error: {error}");
            ExitCode::from(2)
        }
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn execute(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Serve(args) => serve::run(args).await,
        Command::Config(args) => config::run(args),
        Command::Migrate(args) => migrate::run(args).await,
        Command::Demo(args) => demo::run(args).await,
        Command::Report(args) => report::run(args).await,
        Command::Export(args) => export::run(*args).await,
        Command::Import(args) => import::run(args).await,
        Command::Keys(command) => keys::run(command).await,
        Command::Openapi { output } => openapi::run(output),
    }
}

/// A command line the verb refuses; exits with status 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(String);

/// A usage error with this message.
pub fn usage(message: impl Into<String>) -> anyhow::Error {
    UsageError(message.into()).into()
}

/// A service's refusal as the command line tells it: a refused parameter is named by its
/// flag (`flag` maps a parameter name such as `min_cell` to `--min-cell`) and is a usage
/// error; an internal error keeps its cause, which the server would only log.
pub fn refusal(error: ServiceError, flag: impl Fn(&str) -> String) -> anyhow::Error {
    match error {
        ServiceError::UnknownParam(problem) => {
            usage(format!("{}: {}", flag(problem.name), problem.message))
        }
        ServiceError::InvalidParams(problems) => usage(
            problems
                .iter()
                .map(|p| format!("{}: {}", flag(p.name), p.message))
                .collect::<Vec<_>>()
                .join("; "),
        ),
        ServiceError::Internal(cause)
        | ServiceError::Unavailable(cause)
        | ServiceError::StorageUnavailable(cause) => cause,
        other => usage(other.to_string()),
    }
}

/// The flag of a parameter of the same name (`min_cell` → `--min-cell`).
pub fn same_name(name: &str) -> String {
    format!("--{}", name.replace('_', "-"))
}

/// Connects and applies pending migrations, so the key verbs work on a fresh database.
pub async fn migrated(args: &DatabaseArgs) -> anyhow::Result<DatabaseConnection> {
    let db = crate::store::db::connect(&args.database_url()?).await?;
    Migrator::up(&db, None)
        .await
        .context("applying migrations failed")?;
    Ok(db)
}
