//! `readiness openapi`: print or write the OpenAPI document the server serves.

use std::path::PathBuf;

use anyhow::Context;

use crate::http::server::openapi_document;

pub fn run(output: Option<PathBuf>) -> anyhow::Result<()> {
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
