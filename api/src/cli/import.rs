//! `readiness import`: an export read back, each row validated and scored like a submission.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;

use super::{DatabaseArgs, migrated, usage};
use crate::services::imports::{self, ImportFormat};

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The file to read: an export as CSV or NDJSON.
    file: PathBuf,
    /// File format [default: from the file's extension: .csv, .ndjson or .jsonl]
    #[arg(long, value_enum)]
    format: Option<FormatArg>,
    /// Where rejected rows are written, with their line number and reason
    /// [default: FILE.rejects.csv]
    #[arg(long)]
    rejects: Option<PathBuf>,
    #[command(flatten)]
    database: DatabaseArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FormatArg {
    Csv,
    Ndjson,
}

pub async fn run(args: ImportArgs) -> anyhow::Result<()> {
    use std::io::IsTerminal;

    let format = args
        .format
        .map(|format| match format {
            FormatArg::Csv => ImportFormat::Csv,
            FormatArg::Ndjson => ImportFormat::Ndjson,
        })
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
    let summary = imports::import(
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
