//! `readiness config`: print the effective configuration, secrets masked.

use super::serve::ServeArgs;

pub fn run(args: ServeArgs) -> anyhow::Result<()> {
    print!("{}", args.settings()?.to_masked_toml()?);
    Ok(())
}
