//! The `readiness` command line.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use chrono::Utc;
use clap::{Args, Parser, Subcommand};
use migration::{Migrator, MigratorTrait};
use sea_orm::DatabaseConnection;
use uuid::Uuid;

use chrono::NaiveDate;

use crate::auth::issue_key;
use crate::catalog::Catalog;
use crate::domain::api_key::{Role, valid_name};
use crate::export::import::ImportFormat;
use crate::export::{ExportFormat, ExportRequest, PlanError, Pseudonymiser};
use crate::problem::ApiError;
use crate::routes::reports::params::{DEFAULT_SURVEY, ReportParams};
use crate::settings::{Secret, Settings, SettingsLayer};
use crate::startup::{Application, openapi_document};
use crate::store::audit::AuditContext;
use crate::store::keys::{KeyStore, MAX_KEY_RATE_LIMIT, NewKey};
use crate::telemetry::{self, LogFormat};

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
    Serve(ServeArgs),
    /// Print the effective configuration (flags > environment > config file > defaults),
    /// with the database password and the secrets masked, in the config file's format.
    #[command(
        after_help = "Example:\n  READINESS_BIND=0.0.0.0:8080 readiness config --config readiness.toml"
    )]
    Config(ServeArgs),
    /// Apply pending database migrations and exit.
    #[command(
        after_help = "Example:\n  readiness migrate --database-url postgres://app@db/readiness"
    )]
    Migrate(DatabaseArgs),
    /// Fill the database with synthetic but plausible firms and answers.
    #[command(
        after_help = "Examples:\n  readiness demo\n  readiness demo --firms 200000 --responses-per-firm 5 --seed 7"
    )]
    Demo(DemoArgs),
    /// Write the analyst report page (HTML with charts, self-contained) from the database.
    #[command(
        after_help = "The page is the one GET /api/v1/reports/readiness.html serves for the same parameters.\n\nExamples:\n  readiness report --html report.html\n  readiness report --html report.html --by size_band --from 2026-01-01 --to 2026-12-31\n  readiness report --html - --by industry,size_band --min-cell 10 --interval quarter > report.html\n\nExit codes: 0 written, 1 failure (database, file), 2 usage error (including parameters the\nreport refuses, e.g. an unknown survey or population margins)."
    )]
    Report(ReportArgs),
    /// Create, list and revoke API keys (migrations are applied first).
    #[command(
        subcommand,
        after_help = "Examples:\n  readiness keys create --role admin --name ops\n  readiness keys list\n  readiness keys revoke 0192f0c1-0000-7000-8000-000000000000"
    )]
    Keys(KeysCommand),
    /// Export responses to a CSV, Parquet or NDJSON file (the same rows and columns as
    /// `GET /api/v1/exports/responses`).
    #[command(
        after_help = "The format follows the file's extension (.csv, .parquet, .ndjson or .jsonl) unless --format is given.\n\nExamples:\n  readiness export --output responses.csv\n  readiness export --output responses.parquet --from 2026-01-01 --to 2026-06-30 --basis latest\n  READINESS_PSEUDONYM_KEY=... readiness export --output shared.ndjson --pseudonymise\n\nExit codes: 0 written, 1 failure (no partial file is left), 2 usage error."
    )]
    Export(Box<ExportArgs>),
    /// Import an export (CSV or NDJSON): each row is validated and scored like a submission,
    /// good rows are stored once, and rejected rows go to a rejects file with the reason.
    #[command(
        after_help = "Rows are identified by their response_id, so importing a file again stores nothing twice. The tier, blockers and scores in the file are recomputed, not read.\n\nExamples:\n  readiness import responses.csv\n  readiness import export.jsonl --format ndjson --rejects /tmp/rejects.csv --database-url postgres://app@db/readiness\n\nExit codes: 0 every row stored or already present, 1 a row was rejected (the others are stored) or the import failed, 2 usage error."
    )]
    Import(ImportArgs),
    /// Print the OpenAPI document (or write it to a file).
    #[command(after_help = "Example:\n  readiness openapi --output openapi/openapi.json")]
    Openapi {
        /// Write to this file instead of standard output.
        #[arg(long)]
        output: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
enum KeysCommand {
    /// Create a key and print it. The key is shown only now; only its hash is stored.
    #[command(
        after_help = "Examples:\n  readiness keys create --role admin --name ops\n  readiness keys create --role analyst --name dashboard --expires-in-days 90"
    )]
    Create {
        /// What the key is for (1–100 characters).
        #[arg(long)]
        name: String,
        #[arg(long, value_enum)]
        role: Role,
        /// The key stops working after this many days; never when absent.
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..=36_500))]
        expires_in_days: Option<u32>,
        /// Requests a minute this key may send, in place of the server-wide
        /// `--rate-limit-per-minute` (e.g. for a trusted collector) [default: the server's]
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..=i64::from(MAX_KEY_RATE_LIMIT)))]
        rate_limit_per_minute: Option<u32>,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// List keys (never their secrets).
    #[command(
        after_help = "Example:\n  readiness keys list --database-url postgres://app@db/readiness"
    )]
    List {
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Revoke a key by id; it stops working at once.
    #[command(
        after_help = "Example:\n  readiness keys revoke 0192f0c1-0000-7000-8000-000000000000"
    )]
    Revoke {
        id: Uuid,
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

#[derive(Debug, Args)]
struct DatabaseArgs {
    /// `sqlite://FILE?mode=rwc` or `postgres://USER@HOST/DB` [default: sqlite://readiness.db?mode=rwc]
    #[arg(long, env = "READINESS_DATABASE_URL")]
    database_url: Option<String>,
    /// A TOML file with settings; flags and environment variables win over it.
    #[arg(long, env = "READINESS_CONFIG")]
    config: Option<PathBuf>,
}

impl DatabaseArgs {
    fn database_url(&self) -> anyhow::Result<String> {
        let flags = SettingsLayer {
            database_url: self.database_url.clone(),
            ..SettingsLayer::default()
        };
        Ok(Settings::layered(&[&flags, &file_layer(self.config.as_deref())?]).database_url)
    }
}

#[derive(Debug, Args)]
struct ExportArgs {
    /// The file to write.
    #[arg(long, short)]
    output: PathBuf,
    /// File format [default: from the output's extension]
    #[arg(long, value_enum)]
    format: Option<ExportFormat>,
    /// Survey slug.
    #[arg(long, default_value = DEFAULT_SURVEY)]
    survey: String,
    /// Only this instrument version [default: every released version]
    #[arg(long = "survey-version", value_parser = clap::value_parser!(i32).range(1..))]
    version: Option<i32>,
    /// First day included, on `submitted_at` (UTC), e.g. 2026-01-01.
    #[arg(long)]
    from: Option<NaiveDate>,
    /// Last day included, on `submitted_at` (UTC).
    #[arg(long)]
    to: Option<NaiveDate>,
    /// `all`: every response; `latest`: each firm's latest response in the window.
    #[arg(long, value_enum, default_value_t = BasisArg::All)]
    basis: BasisArg,
    /// Replace firm references by their keyed hash (HMAC-SHA256).
    #[arg(long)]
    pseudonymise: bool,
    #[command(flatten)]
    pseudonym: PseudonymArgs,
    #[command(flatten)]
    database: DatabaseArgs,
}

#[derive(Debug, Args)]
struct ImportArgs {
    /// The file to read: an export as CSV or NDJSON.
    file: PathBuf,
    /// File format [default: from the file's extension: .csv, .ndjson or .jsonl]
    #[arg(long, value_enum)]
    format: Option<ImportFormat>,
    /// Where rejected rows are written, with their line number and reason
    /// [default: FILE.rejects.csv]
    #[arg(long)]
    rejects: Option<PathBuf>,
    #[command(flatten)]
    database: DatabaseArgs,
}

#[derive(Debug, Args)]
struct DemoArgs {
    /// How many firms to create.
    #[arg(long, default_value_t = 5000)]
    firms: u64,
    /// Responses per firm (a firm answering again over time).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=100))]
    responses_per_firm: u32,
    /// The same seed gives the same data.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    #[command(flatten)]
    database: DatabaseArgs,
}

#[derive(Debug, Args)]
struct ReportArgs {
    /// Write the HTML page to this file (`-` for standard output).
    #[arg(long, value_name = "FILE")]
    html: PathBuf,
    /// Survey slug.
    #[arg(long, default_value = DEFAULT_SURVEY)]
    survey: String,
    /// Only this instrument version [default: every released version]
    #[arg(long, value_parser = clap::value_parser!(i32).range(1..))]
    survey_version: Option<i32>,
    /// First day included, on submitted_at (UTC), e.g. 2026-01-01.
    #[arg(long)]
    from: Option<chrono::NaiveDate>,
    /// Last day included, on submitted_at (UTC).
    #[arg(long)]
    to: Option<chrono::NaiveDate>,
    /// `latest`: each firm's latest response in the window; `all`: every response.
    #[arg(long, value_enum, default_value_t = BasisArg::Latest)]
    basis: BasisArg,
    /// Segment attributes, comma-separated or repeated [default: overall only]
    #[arg(long, value_enum, value_delimiter = ',')]
    by: Vec<ByArg>,
    /// Smallest published cell.
    #[arg(long, default_value_t = crate::routes::reports::params::DEFAULT_MIN_CELL,
          value_parser = clap::value_parser!(u64).range(crate::routes::reports::params::LOWEST_MIN_CELL..))]
    min_cell: u64,
    /// Name of stored population margins to rake the sample to.
    #[arg(long)]
    weights: Option<String>,
    /// Period length of the trend.
    #[arg(long, value_enum, default_value_t = IntervalArg::Month)]
    interval: IntervalArg,
    #[command(flatten)]
    database: DatabaseArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum BasisArg {
    Latest,
    All,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum ByArg {
    Industry,
    #[value(name = "size_band")]
    SizeBand,
    Country,
    Region,
    Version,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum IntervalArg {
    Month,
    Quarter,
}

impl ReportArgs {
    /// The flags as report query pairs, checked exactly as the HTTP report checks them.
    fn params(&self) -> Result<ReportParams, UsageError> {
        let mut pairs = vec![("survey".to_owned(), self.survey.clone())];
        let mut push = |name: &str, value: String| pairs.push((name.to_owned(), value));
        if let Some(version) = self.survey_version {
            push("version", version.to_string());
        }
        if let Some(from) = self.from {
            push("from", from.to_string());
        }
        if let Some(to) = self.to {
            push("to", to.to_string());
        }
        let basis = match self.basis {
            BasisArg::Latest => "latest",
            BasisArg::All => "all",
        };
        push("basis", basis.to_owned());
        for field in &self.by {
            let key = match field {
                ByArg::Industry => "industry",
                ByArg::SizeBand => "size_band",
                ByArg::Country => "country",
                ByArg::Region => "region",
                ByArg::Version => "version",
            };
            push("by", key.to_owned());
        }
        push("min_cell", self.min_cell.to_string());
        if let Some(weights) = &self.weights {
            push("weights", weights.clone());
        }
        let interval = match self.interval {
            IntervalArg::Month => "month",
            IntervalArg::Quarter => "quarter",
        };
        push("interval", interval.to_owned());
        ReportParams::parse(&pairs, true).map_err(UsageError::from_api)
    }
}

/// A command line the verb refuses; exits with status 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct UsageError(String);

impl UsageError {
    /// Names report parameter problems by their flags (`/query/min_cell` → `--min-cell`).
    fn from_api(error: ApiError) -> Self {
        match error {
            ApiError::Validation(errors) => Self(
                errors
                    .iter()
                    .map(|e| {
                        let name = e.pointer.trim_start_matches("/query/").replace('_', "-");
                        let name = if name == "version" {
                            "survey-version".to_owned()
                        } else {
                            name
                        };
                        format!("--{name}: {}", e.message)
                    })
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
            other => Self(other.to_string()),
        }
    }
}

#[derive(Debug, Args)]
struct ServeArgs {
    /// Address to listen on [default: 127.0.0.1:8080]
    #[arg(long, env = "READINESS_BIND")]
    bind: Option<String>,
    #[command(flatten)]
    database: DatabaseArgs,
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
    #[command(flatten)]
    pseudonym: PseudonymArgs,
}

#[derive(Debug, Args)]
struct PseudonymArgs {
    /// Key (at least 32 characters) that pseudonymises firm references in exports; prefer the
    /// environment variable to the flag [default: a key generated once and kept in the database]
    #[arg(long, env = "READINESS_PSEUDONYM_KEY", hide_env_values = true)]
    pseudonym_key: Option<String>,
}

impl ServeArgs {
    /// Flags and environment first, then the config file, then the defaults.
    fn settings(&self) -> anyhow::Result<Settings> {
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
        };
        let file = file_layer(self.database.config.as_deref())?;
        Ok(Settings::layered(&[&flags, &file]))
    }
}

fn file_layer(path: Option<&std::path::Path>) -> anyhow::Result<SettingsLayer> {
    path.map_or_else(|| Ok(SettingsLayer::default()), SettingsLayer::from_file)
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
        Command::Serve(args) => {
            let settings = args.settings()?;
            telemetry::init(settings.log_format, "info");
            let app = Application::build(settings).await?;
            tracing::info!(port = app.port(), "readiness is listening");
            app.run_until_stopped().await?;
            Ok(())
        }
        Command::Config(args) => {
            print!("{}", args.settings()?.to_masked_toml()?);
            Ok(())
        }
        Command::Migrate(args) => {
            let db = crate::db::connect(&args.database_url()?).await?;
            Migrator::up(&db, None)
                .await
                .context("applying migrations failed")?;
            println!("migrations applied");
            Ok(())
        }
        Command::Demo(args) => demo(args).await,
        Command::Report(args) => report(args).await,
        Command::Export(args) => export(*args).await,
        Command::Import(args) => import(args).await,
        Command::Keys(command) => keys(command).await,
        Command::Openapi { output } => {
            let json = openapi_document()
                .to_pretty_json()
                .context("serialising the OpenAPI document")?;
            match output {
                Some(path) => std::fs::write(&path, format!("{json}\n"))
                    .with_context(|| format!("cannot write {}", path.display())),
                None => {
                    println!("{json}");
                    Ok(())
                }
            }
        }
    }
}

async fn demo(args: DemoArgs) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let db = migrated(&args.database).await?;
    let stored = crate::demo::fill(&db, args.firms, args.responses_per_firm, args.seed, |n| {
        eprint!("\r{n} responses stored");
    })
    .await?;
    eprintln!();
    println!(
        "stored {stored} responses from {} firms (seed {}) in {:.1} s",
        args.firms,
        args.seed,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

async fn report(args: ReportArgs) -> anyhow::Result<()> {
    let params = args.params()?;
    let db = migrated(&args.database).await?;
    let page = crate::report_page::offline(&db, &params)
        .await
        .map_err(|error| match error {
            ApiError::Internal(cause) | ApiError::Unavailable(cause) => cause,
            refused => UsageError::from_api(refused).into(),
        })?;
    if args.html.as_os_str() == "-" {
        use std::io::Write as _;
        std::io::stdout()
            .write_all(page.as_bytes())
            .context("writing the page to standard output")?;
    } else {
        std::fs::write(&args.html, &page)
            .with_context(|| format!("cannot write {}", args.html.display()))?;
        eprintln!(
            "wrote the report page to {} ({} bytes)",
            args.html.display(),
            page.len()
        );
    }
    Ok(())
}

fn usage(message: impl Into<String>) -> anyhow::Error {
    UsageError(message.into()).into()
}

/// An error of the shared server code as one line for the terminal (internal errors keep
/// their cause, which the server would only log).
fn one_line(error: ApiError) -> anyhow::Error {
    match error {
        ApiError::Internal(cause) | ApiError::Unavailable(cause) => cause,
        other => anyhow::anyhow!("{other}"),
    }
}

async fn export(args: ExportArgs) -> anyhow::Result<()> {
    let format = args
        .format
        .or_else(|| ExportFormat::from_path(&args.output))
        .ok_or_else(|| {
            usage(format!(
                "cannot tell the format from `{}`; name a .csv, .parquet or .ndjson file or give --format",
                args.output.display()
            ))
        })?;
    if let (Some(from), Some(to)) = (args.from, args.to)
        && from > to
    {
        return Err(usage("--to lies before --from"));
    }
    let flags = SettingsLayer {
        pseudonym_key: args.pseudonym.pseudonym_key.clone().map(Secret::new),
        ..SettingsLayer::default()
    };
    let settings = Settings::layered(&[&flags, &file_layer(args.database.config.as_deref())?]);
    let db = migrated(&args.database).await?;
    let request = ExportRequest {
        survey: args.survey.clone(),
        version: args.version,
        from: args.from,
        to: args.to,
        latest_only: args.basis == BasisArg::Latest,
    };
    let plan = crate::export::plan(&db, &Catalog::default(), &request)
        .await
        .map_err(|error| match error {
            PlanError::Parameter { name, message } => anyhow::anyhow!("--{name}: {message}"),
            PlanError::Failed(error) => one_line(error),
        })?;
    let pseudonymiser = if args.pseudonymise {
        Some(Pseudonymiser::resolve(&db, settings.pseudonym_key.as_ref()).await?)
    } else {
        None
    };
    let written = write_export(db, plan, format, pseudonymiser, &args.output).await;
    match written {
        Ok((rows, bytes)) => {
            println!(
                "exported {rows} responses ({bytes} bytes) to {}",
                args.output.display()
            );
            Ok(())
        }
        Err(error) => {
            let _ = std::fs::remove_file(&args.output);
            Err(error)
        }
    }
}

/// Streams the export into `path`; returns the rows and bytes written.
async fn write_export(
    db: DatabaseConnection,
    plan: crate::export::ExportPlan,
    format: ExportFormat,
    pseudonymiser: Option<Pseudonymiser>,
    path: &std::path::Path,
) -> anyhow::Result<(u64, u64)> {
    use std::io::Write;

    let file =
        std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    let mut out = std::io::BufWriter::new(file);
    let (sender, mut receiver) = tokio::sync::mpsc::channel(crate::export::CHANNEL_PAGES);
    let producer = tokio::spawn(crate::export::stream(
        db,
        plan,
        format,
        pseudonymiser,
        sender,
    ));
    let mut bytes = 0;
    while let Some(chunk) = receiver.recv().await {
        let Ok(chunk) = chunk else { break };
        out.write_all(&chunk)
            .with_context(|| format!("cannot write {}", path.display()))?;
        bytes += chunk.len() as u64;
    }
    let rows = producer.await.context("the export task failed")??;
    out.flush()
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok((rows, bytes))
}

async fn import(args: ImportArgs) -> anyhow::Result<()> {
    use std::io::IsTerminal;

    let format = args
        .format
        .or_else(|| ImportFormat::from_path(&args.file))
        .ok_or_else(|| {
            usage(format!(
                "cannot tell the format from `{}`; name a .csv, .ndjson or .jsonl file or give --format",
                args.file.display()
            ))
        })?;
    let rejects_path = args.rejects.clone().unwrap_or_else(|| {
        let mut name = args.file.clone().into_os_string();
        name.push(".rejects.csv");
        PathBuf::from(name)
    });
    let input = std::fs::File::open(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?;
    let size = input.metadata().map(|m| m.len()).unwrap_or_default();
    let db = migrated(&args.database).await?;
    let rejects = std::fs::File::create(&rejects_path)
        .with_context(|| format!("cannot create {}", rejects_path.display()))?;

    let bar = if std::io::stderr().is_terminal() {
        let bar = indicatif::ProgressBar::new(size);
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "{bar:40} {bytes}/{total_bytes} read, {elapsed} elapsed, about {eta} left",
        ) {
            bar.set_style(style);
        }
        bar
    } else {
        indicatif::ProgressBar::hidden()
    };
    let summary = crate::export::import::import(
        &db,
        std::io::BufReader::new(input),
        format,
        std::io::BufWriter::new(rejects),
        |bytes| bar.set_position(bytes),
    )
    .await;
    bar.finish_and_clear();
    let summary = summary?;
    println!(
        "read {} rows: {} stored, {} already present, {} rejected",
        summary.read, summary.stored, summary.already_present, summary.rejected
    );
    anyhow::ensure!(
        summary.rejected == 0,
        "{} rows were rejected; the reasons are in {}",
        summary.rejected,
        rejects_path.display()
    );
    Ok(())
}

/// Connects and applies pending migrations, so the key verbs work on a fresh database.
async fn migrated(args: &DatabaseArgs) -> anyhow::Result<DatabaseConnection> {
    let db = crate::db::connect(&args.database_url()?).await?;
    Migrator::up(&db, None)
        .await
        .context("applying migrations failed")?;
    Ok(db)
}

async fn keys(command: KeysCommand) -> anyhow::Result<()> {
    // Writes from the command line are audited without an actor.
    let context = AuditContext::default();
    match command {
        KeysCommand::Create {
            name,
            role,
            expires_in_days,
            rate_limit_per_minute,
            database,
        } => {
            anyhow::ensure!(
                valid_name(&name),
                "--name must be 1 to 100 characters without control characters"
            );
            let db = migrated(&database).await?;
            let expires_at =
                expires_in_days.map(|days| Utc::now() + chrono::Duration::days(i64::from(days)));
            let issued = issue_key(
                &db,
                NewKey {
                    name,
                    role,
                    expires_at,
                    rate_limit_per_minute,
                },
                &context,
            )
            .await?;
            eprintln!(
                "created {} key `{}` (id {}); it is shown only now:",
                issued.key.role, issued.key.name, issued.key.id
            );
            println!("{}", issued.token);
            Ok(())
        }
        KeysCommand::List { database } => {
            let db = migrated(&database).await?;
            println!(
                "id\tname\trole\tprefix\tcreated_at\texpires_at\trevoked_at\tlast_used_at\trate_limit_per_minute"
            );
            let show =
                |at: Option<chrono::DateTime<Utc>>| at.map_or("-".to_owned(), |at| at.to_rfc3339());
            for key in KeyStore::list(&db).await? {
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
                    key.id,
                    key.name,
                    key.role,
                    key.prefix,
                    key.created_at.to_rfc3339(),
                    show(key.expires_at),
                    show(key.revoked_at),
                    show(key.last_used_at),
                    key.rate_limit_per_minute
                        .map_or("-".to_owned(), |n| n.to_string()),
                );
            }
            Ok(())
        }
        KeysCommand::Revoke { id, database } => {
            let db = migrated(&database).await?;
            KeyStore::revoke(&db, id, &context)
                .await?
                .ok_or_else(|| anyhow::anyhow!("no key with id {id}"))?;
            println!("key {id} is revoked");
            Ok(())
        }
    }
}
