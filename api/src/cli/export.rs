//! `readiness export`: responses to a CSV, Parquet or NDJSON file, the rows and columns of
//! `GET /api/v1/exports/responses`.

use std::path::PathBuf;

use anyhow::Context;
use chrono::NaiveDate;
use clap::Args;
use sea_orm::DatabaseConnection;

use super::{DatabaseArgs, PseudonymArgs, SegmentArgs, file_layer, migrated, refusal, usage};
use crate::domain::params::DEFAULT_SURVEY;
use crate::services::catalog::Catalog;
use crate::services::exports::{self, ExportFormat, ExportPlan, ExportRequest, Pseudonymiser};
use crate::settings::{Secret, Settings, SettingsLayer};

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The file to write.
    #[arg(long, short)]
    output: PathBuf,
    /// File format [default: from the output's extension]
    #[arg(long, value_enum)]
    format: Option<FormatArg>,
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
    /// Replace firm references and response ids by keyed pseudonyms and cut the times to
    /// the day (such a file cannot be imported).
    #[arg(long)]
    pseudonymise: bool,
    #[command(flatten)]
    segments: SegmentArgs,
    #[command(flatten)]
    pseudonym: PseudonymArgs,
    #[command(flatten)]
    database: DatabaseArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BasisArg {
    Latest,
    All,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FormatArg {
    Csv,
    Parquet,
    Ndjson,
}

impl From<FormatArg> for ExportFormat {
    fn from(format: FormatArg) -> Self {
        match format {
            FormatArg::Csv => ExportFormat::Csv,
            FormatArg::Parquet => ExportFormat::Parquet,
            FormatArg::Ndjson => ExportFormat::Ndjson,
        }
    }
}

/// The flag of an export parameter.
fn flag(name: &str) -> String {
    match name {
        "version" => "--survey-version".to_owned(),
        other => super::same_name(other),
    }
}

pub async fn run(args: ExportArgs) -> anyhow::Result<()> {
    let format = args
        .format
        .map(ExportFormat::from)
        .or_else(|| ExportFormat::from_path(&args.output))
        .ok_or_else(|| {
            usage(format!(
                "cannot tell the format from `{}`; name a .csv, .parquet or .ndjson file or give --format",
                args.output.display()
            ))
        })?;
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
        segments: args.segments.filter(),
    };
    let plan = exports::plan(&db, &Catalog::default(), &request)
        .await
        .map_err(|error| refusal(error, flag))?;
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
    plan: ExportPlan,
    format: ExportFormat,
    pseudonymiser: Option<Pseudonymiser>,
    path: &std::path::Path,
) -> anyhow::Result<(u64, u64)> {
    use std::io::Write;

    let file =
        std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    let mut out = std::io::BufWriter::new(file);
    let (sender, mut receiver) = tokio::sync::mpsc::channel(exports::CHANNEL_PAGES);
    let producer = tokio::spawn(exports::stream(db, plan, format, pseudonymiser, sender));
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
