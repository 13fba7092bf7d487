//! The `readiness` command line.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use chrono::Utc;
use clap::{Args, Parser, Subcommand};
use migration::{Migrator, MigratorTrait};
use sea_orm::DatabaseConnection;
use uuid::Uuid;

use crate::auth::issue_key;
use crate::domain::api_key::{Role, valid_name};
use crate::settings::{Settings, SettingsLayer};
use crate::startup::{Application, openapi_document};
use crate::store::audit::AuditContext;
use crate::store::keys::{KeyStore, MAX_KEY_RATE_LIMIT, NewKey};
use crate::telemetry::{self, LogFormat};

#[derive(Debug, Parser)]
#[command(
    name = "readiness",
    version,
    about = "Readiness: AI-adoption readiness surveys, scored and reported",
    after_help = "Exit codes: 0 success, 1 failure, 2 usage error."
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
    /// with the database password masked, in the config file's format.
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
    /// Create, list and revoke API keys (migrations are applied first).
    #[command(
        subcommand,
        after_help = "Examples:\n  readiness keys create --role admin --name ops\n  readiness keys list\n  readiness keys revoke 0192f0c1-0000-7000-8000-000000000000"
    )]
    Keys(KeysCommand),
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
    List {
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Revoke a key by id; it stops working at once.
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
    /// Rows stored in one transaction at most when submissions arrive together; 1 turns
    /// group commit off [default: 512]
    #[arg(long, env = "READINESS_GROUP_COMMIT_MAX_ITEMS", value_parser = clap::value_parser!(u64).range(1..=100_000))]
    group_commit_max_items: Option<u64>,
    /// Microseconds the writer waits for more submissions before committing; 0 takes only
    /// those already waiting [default: 0]
    #[arg(long, env = "READINESS_GROUP_COMMIT_WAIT_US", value_parser = clap::value_parser!(u64).range(0..=1_000_000))]
    group_commit_wait_us: Option<u64>,
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
    let cli = Cli::parse();
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
