//! `readiness report --html`: the analyst report page, written from the database.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use readiness_analytics::reports::{Basis, DroppedCategories, Interval, SegmentField};

use super::{DatabaseArgs, DisclosureArgs, SegmentArgs, file_layer, migrated, refusal, usage};
use crate::domain::params::{DEFAULT_SURVEY, ReportParams, Windows};
use crate::services::reports::page;
use crate::settings::Settings;

#[derive(Debug, Args)]
pub struct ReportArgs {
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
    /// Smallest published cell, in firms; it may only raise the threshold in force
    /// [default: the threshold in force]
    #[arg(long)]
    min_cell: Option<u64>,
    /// Name of stored population margins to rake the sample to.
    #[arg(long)]
    weights: Option<String>,
    /// With --weights: `refuse` fails when a margin category has no firm in the sample
    /// instead of weighting to the others and naming it on the page.
    #[arg(long, value_enum, default_value_t = DroppedArg::Report)]
    dropped_categories: DroppedArg,
    /// Period length of the trend.
    #[arg(long, value_enum, default_value_t = IntervalArg::Month)]
    interval: IntervalArg,
    /// First day of the baseline window of the transition chart (with the three other
    /// window flags), e.g. 2026-01-01.
    #[arg(long)]
    baseline_from: Option<chrono::NaiveDate>,
    /// Last day of the baseline window (included).
    #[arg(long)]
    baseline_to: Option<chrono::NaiveDate>,
    /// First day of the follow-up window; after --baseline-to.
    #[arg(long)]
    followup_from: Option<chrono::NaiveDate>,
    /// Last day of the follow-up window (included).
    #[arg(long)]
    followup_to: Option<chrono::NaiveDate>,
    #[command(flatten)]
    segments: SegmentArgs,
    #[command(flatten)]
    disclosure: DisclosureArgs,
    #[command(flatten)]
    database: DatabaseArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BasisArg {
    Latest,
    All,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum ByArg {
    Industry,
    #[value(name = "size_band")]
    SizeBand,
    Country,
    Region,
    Version,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum DroppedArg {
    Report,
    Refuse,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum IntervalArg {
    Month,
    Quarter,
}

impl ReportArgs {
    /// The flags as report parameters; they are checked by the service, as every report's.
    fn params(&self) -> ReportParams {
        ReportParams {
            survey: self.survey.clone(),
            version: self.survey_version,
            from: self.from,
            to: self.to,
            basis: match self.basis {
                BasisArg::Latest => Basis::Latest,
                BasisArg::All => Basis::All,
            },
            by: self
                .by
                .iter()
                .map(|field| match field {
                    ByArg::Industry => SegmentField::Industry,
                    ByArg::SizeBand => SegmentField::SizeBand,
                    ByArg::Country => SegmentField::Country,
                    ByArg::Region => SegmentField::Region,
                    ByArg::Version => SegmentField::Version,
                })
                .collect(),
            segments: self.segments.filter(),
            min_cell: self.min_cell,
            weights: self.weights.clone(),
            dropped_categories: match self.dropped_categories {
                DroppedArg::Report => DroppedCategories::Report,
                DroppedArg::Refuse => DroppedCategories::Refuse,
            },
            interval: match self.interval {
                IntervalArg::Month => Interval::Month,
                IntervalArg::Quarter => Interval::Quarter,
            },
            windows: Windows {
                baseline_from: self.baseline_from,
                baseline_to: self.baseline_to,
                followup_from: self.followup_from,
                followup_to: self.followup_to,
            },
        }
    }
}

/// The flag of a report parameter.
pub fn flag(name: &str) -> String {
    match name {
        "version" => "--survey-version".to_owned(),
        other => super::same_name(other),
    }
}

pub async fn run(args: ReportArgs) -> anyhow::Result<()> {
    let params = args.params();
    let db = migrated(&args.database).await?;
    let settings = Settings::layered(&[
        &args.disclosure.layer(),
        &file_layer(args.database.config.as_deref())?,
    ]);
    let policy = settings.disclosure().map_err(|e| usage(format!("{e:#}")))?;
    let page = page::offline(&db, &policy, &params)
        .await
        .map_err(|error| refusal(error, flag))?;
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
