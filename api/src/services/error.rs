//! What a service can fail with, in terms of the input it was given, not of a transport: the
//! HTTP layer maps it onto problem documents, the command line onto flags and exit codes.

use readiness_analytics::FieldProblem;

pub use crate::domain::params::ParamProblem;

#[derive(thiserror::Error)]
pub enum ServiceError {
    /// Fields of a body, each named by its JSON pointer.
    #[error("{} fields are invalid", .0.len())]
    InvalidFields(Vec<FieldProblem>),
    /// Parameters, each named by its parameter name.
    #[error("{}", params_detail(.0))]
    InvalidParams(Vec<ParamProblem>),
    #[error("{0}")]
    NotFound(String),
    /// A parameter names something that does not exist (a survey, a version), named by its
    /// parameter name.
    #[error("{}: {}", .0.name, .0.message)]
    UnknownParam(ParamProblem),
    /// The request conflicts with the state of a resource.
    #[error("{detail}")]
    Conflict { code: &'static str, detail: String },
    /// The request is well-formed but cannot be carried out.
    #[error("{detail}")]
    Unprocessable { code: &'static str, detail: String },
    #[error("the database is not reachable")]
    Unavailable(#[source] anyhow::Error),
    /// The database refuses writes: its disk is full, or it or its file is read-only.
    #[error("the database cannot store anything at the moment (its storage is full or read-only)")]
    StorageUnavailable(#[source] anyhow::Error),
    #[error("an internal error occurred")]
    Internal(#[from] anyhow::Error),
}

fn params_detail(problems: &[ParamProblem]) -> String {
    problems
        .iter()
        .map(|p| format!("{}: {}", p.name, p.message))
        .collect::<Vec<_>>()
        .join("; ")
}

impl ServiceError {
    pub fn param(name: &'static str, message: impl Into<String>) -> Self {
        Self::InvalidParams(vec![ParamProblem::new(name, message)])
    }

    pub fn fields(problems: impl IntoIterator<Item = FieldProblem>) -> Self {
        Self::InvalidFields(problems.into_iter().collect())
    }
}

impl std::fmt::Debug for ServiceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write_chain(self, f)
    }
}

/// An error and its whole `source()` chain, one line each, so a log line shows the root
/// cause (the `Debug` of the error types of the services and of HTTP).
pub fn write_chain(
    error: &dyn std::error::Error,
    f: &mut std::fmt::Formatter<'_>,
) -> std::fmt::Result {
    writeln!(f, "{error}")?;
    let mut source = error.source();
    while let Some(cause) = source {
        writeln!(f, "Caused by: {cause}")?;
        source = cause.source();
    }
    Ok(())
}

impl From<sea_orm::DbErr> for ServiceError {
    fn from(error: sea_orm::DbErr) -> Self {
        if crate::store::storage::is_fault(&error) {
            return ServiceError::StorageUnavailable(anyhow::Error::new(error));
        }
        ServiceError::Internal(anyhow::Error::new(error).context("database query failed"))
    }
}

impl From<crate::store::ingest::WriteError> for ServiceError {
    fn from(error: crate::store::ingest::WriteError) -> Self {
        if crate::store::storage::is_fault(&error) {
            return ServiceError::StorageUnavailable(anyhow::Error::new(error));
        }
        ServiceError::Internal(anyhow::Error::new(error))
    }
}
