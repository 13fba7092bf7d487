//! The `readiness` command line.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use migration::{Migrator, MigratorTrait};

use crate::settings::{DEFAULT_BIND, DEFAULT_DATABASE_URL, Settings};
use crate::startup::{Application, openapi_document};
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
    /// Print the OpenAPI document (or write it to a file).
    #[command(after_help = "Example:\n  readiness openapi --output openapi/openapi.json")]
    Openapi {
        /// Write to this file instead of standard output.
        #[arg(long)]
        output: Option<PathBuf>,
    },
}

#[derive(Debug, Args)]
struct DatabaseArgs {
    /// `sqlite://FILE?mode=rwc` or `postgres://USER@HOST/DB`.
    #[arg(long, env = "READINESS_DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
    database_url: String,
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
    /// Address to listen on.
    #[arg(long, env = "READINESS_BIND", default_value = DEFAULT_BIND)]
    bind: String,
    #[command(flatten)]
    database: DatabaseArgs,
    /// How stale a report may be (milliseconds) before new responses are read into it.
    #[arg(long, env = "READINESS_REPORT_REFRESH_MS", default_value_t = 1000)]
    report_refresh_ms: u64,
    /// Log line format.
    #[arg(
        long,
        env = "READINESS_LOG_FORMAT",
        value_enum,
        default_value = "pretty"
    )]
    log_format: LogFormat,
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
            telemetry::init(args.log_format, "info");
            let mut settings = Settings::new(args.bind, args.database.database_url);
            settings.report_refresh = std::time::Duration::from_millis(args.report_refresh_ms);
            let app = Application::build(settings).await?;
            tracing::info!(port = app.port(), "readiness is listening");
            app.run_until_stopped().await?;
            Ok(())
        }
        Command::Migrate(args) => {
            let db = crate::db::connect(&args.database_url).await?;
            Migrator::up(&db, None)
                .await
                .context("applying migrations failed")?;
            println!("migrations applied");
            Ok(())
        }
        Command::Demo(args) => demo(args).await,
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
    let db = crate::db::connect(&args.database.database_url).await?;
    Migrator::up(&db, None)
        .await
        .context("applying migrations failed")?;
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
