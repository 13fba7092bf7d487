//! The change report: the same firms in a baseline and a follow-up window.

use std::sync::Arc;

use readiness_analytics::reports::{self, Change, ReportError, Snapshot};

use super::run::{DataVersion, Resolved, report};
use crate::domain::params::ReportParams;
use crate::services::Services;
use crate::services::error::ServiceError;

/// The change report of `resolved`, `None` when its parameters have no windows.
pub fn model(snapshot: &Snapshot, resolved: &Resolved) -> Result<Option<Change>, ReportError> {
    let Some((baseline, followup)) = &resolved.windows else {
        return Ok(None);
    };
    reports::change(
        snapshot,
        &resolved.entry.instrument,
        baseline,
        followup,
        resolved.margins.as_ref(),
    )
    .map(Some)
}

/// The change report for `params` from the server's snapshot. The windows are required.
pub async fn change(
    services: &Arc<Services>,
    params: &ReportParams,
) -> Result<(Change, DataVersion), ServiceError> {
    let missing = params.windows.check(true);
    if !missing.is_empty() {
        return Err(ServiceError::InvalidParams(missing));
    }
    let (change, version) = report(services, params, "change", model).await?;
    let change = change.ok_or_else(|| {
        ServiceError::Internal(anyhow::anyhow!("the change report lost its windows"))
    })?;
    Ok((change, version))
}
