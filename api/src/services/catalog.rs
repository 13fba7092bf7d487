//! The instruments the server knows, parsed once per survey version. Released versions are
//! immutable, so a parsed instrument never goes stale.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use anyhow::Context;
use readiness_analytics::Instrument;
use readiness_analytics::texts::{InstrumentTexts, Language, Localised, builtin_texts};
use sea_orm::DatabaseConnection;

use crate::services::error::{ParamProblem, ServiceError};
use crate::store::entities::survey;
use crate::store::surveys::SurveyQuery;

/// A survey version with its checked instrument.
#[derive(Debug)]
pub struct Entry {
    pub survey_id: i32,
    pub slug: String,
    pub version: i32,
    pub instrument: Instrument,
    /// The instrument's texts in each language, for the built-in instruments.
    pub texts: Option<Arc<InstrumentTexts>>,
}

impl Entry {
    /// The instrument read in `language`.
    pub fn localised(&self, language: Language) -> Localised<'_> {
        Localised::new(&self.instrument, self.texts.as_deref(), language)
    }
}

#[derive(Debug, Default)]
pub struct Catalog {
    by_survey: RwLock<HashMap<i32, Arc<Entry>>>,
}

impl Catalog {
    /// The released versions of `slug` (only `version` when given), newest first; an unknown
    /// survey or version is [`ServiceError::UnknownParam`] naming `survey` or `version`.
    pub async fn released(
        &self,
        db: &DatabaseConnection,
        slug: &str,
        version: Option<i32>,
    ) -> Result<Vec<Arc<Entry>>, ServiceError> {
        let versions = SurveyQuery::released_versions(db, slug).await?;
        if versions.is_empty() {
            return Err(ServiceError::UnknownParam(ParamProblem::new(
                "survey",
                format!("unknown survey `{slug}`"),
            )));
        }
        let mut entries = versions
            .iter()
            .filter(|s| version.is_none_or(|v| s.version == v))
            .map(|survey| self.entry(survey))
            .collect::<Result<Vec<_>, _>>()?;
        if entries.is_empty() {
            return Err(ServiceError::UnknownParam(ParamProblem::new(
                "version",
                format!(
                    "survey `{slug}` has no released version `{}`",
                    version.unwrap_or_default()
                ),
            )));
        }
        entries.sort_by_key(|entry| std::cmp::Reverse(entry.version));
        Ok(entries)
    }

    /// The entry for a survey row, parsing its definition on first use.
    pub fn entry(&self, survey: &survey::Model) -> Result<Arc<Entry>, ServiceError> {
        if let Some(entry) = self.cached(survey.id) {
            return Ok(entry);
        }
        let instrument = Instrument::from_definition(
            serde_json::from_value(survey.definition.clone())
                .with_context(|| format!("stored definition of survey {}", survey.id))?,
        )
        .with_context(|| format!("stored definition of survey {}", survey.id))?;
        let entry = Arc::new(Entry {
            survey_id: survey.id,
            slug: survey.slug.clone(),
            version: survey.version,
            // Shipped texts fit only the definition they were written for.
            texts: builtin_texts(&survey.slug, survey.version)
                .map_err(|e| anyhow::anyhow!(e))?
                .filter(|texts| texts.problems(&instrument).is_empty()),
            instrument,
        });
        if survey.status != "draft"
            && let Ok(mut cache) = self.by_survey.write()
        {
            cache.insert(survey.id, entry.clone());
        }
        Ok(entry)
    }

    /// The entry for a survey id (e.g. of a stored response).
    pub async fn by_id(
        &self,
        db: &DatabaseConnection,
        id: i32,
    ) -> Result<Arc<Entry>, ServiceError> {
        if let Some(entry) = self.cached(id) {
            return Ok(entry);
        }
        let survey = SurveyQuery::by_id(db, id)
            .await?
            .ok_or_else(|| anyhow::anyhow!("survey {id} referenced but missing"))?;
        self.entry(&survey)
    }

    fn cached(&self, id: i32) -> Option<Arc<Entry>> {
        self.by_survey.read().ok()?.get(&id).cloned()
    }
}
