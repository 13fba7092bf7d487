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
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "READINESS_BIND", default_value = DEFAULT_BIND)]
    bind: String,
    #[command(flatten)]
    database: DatabaseArgs,
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
            let settings = Settings::new(args.bind, args.database.database_url);
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
