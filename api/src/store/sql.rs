//! Building raw SQL for both databases: bound parameters and the segment filters' clause.

use readiness_analytics::reports::{FILTER_FIELDS, SegmentFilter};
use sea_orm::{DbBackend, Value};

/// Placeholders in the order their values are bound (`?` for SQLite, `$n` for PostgreSQL).
pub struct Params {
    pub backend: DbBackend,
    pub values: Vec<Value>,
}

impl Params {
    pub fn new(backend: DbBackend) -> Self {
        Self {
            backend,
            values: Vec::new(),
        }
    }

    /// Binds `value`; returns its placeholder.
    pub fn bind(&mut self, value: impl Into<Value>) -> String {
        self.values.push(value.into());
        match self.backend {
            DbBackend::Postgres => format!("${}", self.values.len()),
            _ => "?".to_owned(),
        }
    }
}

/// ` AND …` for each attribute of `segments` with values, on the table named `alias`.
pub fn segments(segments: &SegmentFilter, alias: &str, params: &mut Params) -> String {
    let mut sql = String::new();
    for field in FILTER_FIELDS {
        let values = segments.values(field);
        if values.is_empty() {
            continue;
        }
        // The filter's attributes are named as the columns that hold them.
        let column = field.key();
        let placeholders: Vec<String> = values.iter().map(|v| params.bind(v.clone())).collect();
        sql += &format!(" AND {alias}.{column} IN ({})", placeholders.join(", "));
    }
    sql
}
