//! `readiness demo`: synthetic firms and answers, scored by the real rubric.

use clap::Args;

use super::{DatabaseArgs, migrated};

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// How many firms to create.
    #[arg(long, default_value_t = 5000)]
    firms: u64,
    /// Responses per firm (a firm answering again over time).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=100))]
    responses_per_firm: u32,
    /// The share of firms (0–1) that answer once more 90 to 270 days after their last
    /// response, some of them having improved (the follow-up wave of the change report).
    #[arg(long, default_value_t = 0.2, value_parser = follow_up_share)]
    follow_up: f64,
    /// The same seed gives the same data.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Leave `ai-readiness` closed to the public. By default the demo opens it, so that its
    /// self-assessment answers at `/assess/ai-readiness` without an invitation.
    #[arg(long)]
    keep_private: bool,
    #[command(flatten)]
    database: DatabaseArgs,
}

pub async fn run(args: DemoArgs) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let db = migrated(&args.database).await?;
    let stored = crate::services::demo::fill_with_follow_up(
        &db,
        args.firms,
        args.responses_per_firm,
        args.follow_up,
        args.seed,
        |n| eprint!("\r{n} responses stored"),
    )
    .await?;
    eprintln!();
    if !args.keep_private {
        crate::store::surveys::SurveyStore::set_public(
            &db,
            "ai-readiness",
            1,
            true,
            &crate::store::audit::AuditContext::default(),
        )
        .await?;
        println!("ai-readiness is public: its self-assessment is at /assess/ai-readiness");
    }
    println!(
        "stored {stored} responses from {} firms (seed {}) in {:.1} s",
        args.firms,
        args.seed,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// A share from 0 to 1.
fn follow_up_share(raw: &str) -> Result<f64, String> {
    raw.parse::<f64>()
        .ok()
        .filter(|share| (0.0..=1.0).contains(share))
        .ok_or_else(|| format!("`{raw}` is not a share from 0 to 1"))
}
