//! The columns of an export, the same in every format.

use std::collections::HashMap;
use std::sync::Arc;

use crate::services::catalog::Entry;
use crate::store::export_rows::ExportRow;

/// Columns before the answers.
pub const LEADING: [&str; 10] = [
    "response_id",
    "survey",
    "version",
    "firm_ref",
    "industry",
    "size_band",
    "country",
    "region",
    "submitted_at",
    "received_at",
];
/// Columns after the answers: the assessment.
pub const TRAILING: [&str; 9] = [
    "tier",
    "tier_rank",
    "ready_to_customise",
    "blockers",
    "score_maturity",
    "score_clarity",
    "score_vendor_gap",
    "score_capability",
    "score_governance",
];
/// An answer column is this prefix and the question key.
pub const ANSWER_PREFIX: &str = "answer_";

/// The columns of one export: the questions of every exported instrument version (the newest
/// version's in its order, then any that only older versions ask), and the slug and version
/// of each survey row.
#[derive(Debug, Clone)]
pub struct Layout {
    questions: Vec<String>,
    versions: HashMap<i32, (String, i32)>,
}

impl Layout {
    /// `entries` newest version first.
    pub fn new(entries: &[Arc<Entry>]) -> Self {
        let mut questions: Vec<String> = Vec::new();
        for entry in entries {
            for question in entry.instrument.questions() {
                if !questions.contains(&question.key) {
                    questions.push(question.key.clone());
                }
            }
        }
        let versions = entries
            .iter()
            .map(|entry| (entry.survey_id, (entry.slug.clone(), entry.version)))
            .collect();
        Self {
            questions,
            versions,
        }
    }

    /// Question keys, in column order.
    pub fn questions(&self) -> &[String] {
        &self.questions
    }

    /// Every column name, in order.
    pub fn columns(&self) -> Vec<String> {
        LEADING
            .iter()
            .map(|c| (*c).to_owned())
            .chain(self.questions.iter().map(|q| format!("{ANSWER_PREFIX}{q}")))
            .chain(TRAILING.iter().map(|c| (*c).to_owned()))
            .collect()
    }

    /// The survey slug and instrument version of a row.
    pub fn version_of(&self, row: &ExportRow) -> (&str, i32) {
        self.versions
            .get(&row.survey_id)
            .map_or(("", 0), |(slug, version)| (slug.as_str(), *version))
    }

    /// The option a row gives for each question, in column order (`None` when not answered).
    pub fn answers_of<'a>(&'a self, row: &'a ExportRow) -> impl Iterator<Item = Option<&'a str>> {
        self.questions
            .iter()
            .map(|key| row.answers.get(key).and_then(serde_json::Value::as_str))
    }
}
