//! `readiness migrate`: apply pending migrations.

use super::{DatabaseArgs, migrated};

pub async fn run(args: DatabaseArgs) -> anyhow::Result<()> {
    migrated(&args).await?;
    println!("migrations applied");
    Ok(())
}
