//! A response's action plan and peer benchmark: what the firm should work on next, and where
//! it stands among comparable firms.

use std::sync::Arc;

use readiness_analytics::reports::{
    Benchmark, DEFAULT_PEER_MIN, PeerGroup, PeerQuery, ReportError, benchmark,
};
use readiness_analytics::texts::{Language, Localised};
use readiness_analytics::{Dimension, assess, plan, validate};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::Services;
use super::catalog::Entry;
use super::error::ServiceError;
use super::reports::run;
use super::submissions::{AssessmentView, assessment_view};
use crate::store::responses::Stored;

/// The largest `peer_min` a request may ask for.
pub const MAX_PEER_MIN: u64 = 1_000_000_000;

/// An option of a question, with its label.
#[derive(Debug, Serialize, ToSchema)]
pub struct OptionView {
    #[schema(example = "named_owner")]
    pub key: String,
    #[schema(example = "A named person owns it")]
    pub label: String,
}

/// An answer that would pass a gate.
#[derive(Debug, Serialize, ToSchema)]
pub struct RequirementView {
    #[schema(example = "ai_ownership")]
    pub question: String,
    /// The question as asked.
    pub text: String,
    /// The firm's answer; `null` when it gave none.
    pub given: Option<OptionView>,
    /// The lowest option that passes the gate, in the question's order, as read from the
    /// rubric.
    pub least: OptionView,
    /// Every option that passes, in the question's order.
    pub passing: Vec<OptionView>,
}

/// One blocker and what would clear it.
#[derive(Debug, Serialize, ToSchema)]
pub struct PlanStepView {
    #[schema(example = "fine_tune.ai_ownership")]
    pub gate: String,
    pub reason: String,
    /// A concrete next step; `null` when the instrument's texts have none.
    pub next_step: Option<String>,
    /// Ways to pass the gate: meeting any one suffices (a plain gate has one).
    pub alternatives: Vec<RequirementView>,
}

/// Peers at one tier.
#[derive(Debug, Serialize, ToSchema)]
pub struct PeerTierView {
    #[schema(example = "fine_tune")]
    pub key: String,
    pub rank: u8,
    pub label: String,
    /// Peers at this tier (published count).
    pub count: u64,
    /// Share of the peers, 0–1, with its 95 % Wilson interval.
    pub share: f64,
    pub ci_low: f64,
    pub ci_high: f64,
}

/// Where the firm stands on one dimension among its peers.
#[derive(Debug, Serialize, ToSchema)]
pub struct StandingView {
    #[schema(example = "capability")]
    pub dimension: String,
    pub label: String,
    /// The firm's score, 0–100.
    pub score: f64,
    /// Peers scoring lower (published count).
    pub below: u64,
    /// Peers scoring the same (published count).
    pub level: u64,
    /// Percentile rank, 0–100: (below + level / 2) / peers.
    pub percentile: u8,
}

/// The peer group used and the firm's standing in it.
#[derive(Debug, Serialize, ToSchema)]
pub struct BenchmarkView {
    /// The narrowest group holding at least `peer_min` other firms.
    pub group: PeerGroup,
    /// The attributes peers share with the firm in this group.
    #[schema(example = json!({"industry": "C", "size_band": "small"}))]
    pub segment: std::collections::BTreeMap<String, String>,
    /// Other firms in the group, each by its latest response (published count).
    pub peers: u64,
    /// The smallest group shown.
    pub peer_min: u64,
    pub tiers: Vec<PeerTierView>,
    pub dimensions: Vec<StandingView>,
}

/// A response's assessment, its action plan and its peer benchmark.
#[derive(Debug, Serialize, ToSchema)]
pub struct PlanView {
    pub assessment: AssessmentView,
    /// One step per blocker, in the rubric's order; empty at the top tier.
    pub steps: Vec<PlanStepView>,
    /// `null` when not even all other firms together reach `peer_min`.
    pub benchmark: Option<BenchmarkView>,
}

/// The plan and benchmark of a stored response, texts in `language`. `peer_min` may raise
/// the default group threshold (20), never lower it, and it never goes below the publisher's
/// disclosure threshold. Peers are the responses submitted before today (UTC): the groups
/// change once a day, not with every request.
pub async fn plan_of(
    services: &Arc<Services>,
    stored: &Stored,
    entry: &Arc<Entry>,
    language: Language,
    peer_min: Option<u64>,
) -> Result<PlanView, ServiceError> {
    let texts = entry.localised(language);
    let row = &stored.row;
    let answers = validate(&entry.instrument, &row.answers)
        .map_err(|_| anyhow::anyhow!("response {} has answers its instrument refuses", row.id))?;
    let assessment = assess(&entry.instrument, &answers);
    let steps = plan(&entry.instrument, &answers, &assessment)
        .into_iter()
        .map(|step| PlanStepView {
            reason: texts.gate_reason(&step.gate),
            next_step: texts.gate_next_step(&step.gate),
            alternatives: step
                .alternatives
                .into_iter()
                .map(|r| {
                    let option = |key: String| OptionView {
                        label: texts.option(&r.question, &key),
                        key,
                    };
                    RequirementView {
                        text: texts.question(&r.question),
                        given: r.given.clone().map(option),
                        least: option(r.least.clone()),
                        passing: r.passing.iter().cloned().map(option).collect(),
                        question: r.question.clone(),
                    }
                })
                .collect(),
            gate: step.gate,
        })
        .collect();
    let released = services
        .catalog
        .released(&services.db, &entry.slug, None)
        .await?;
    let peer_min = peer_min.unwrap_or(DEFAULT_PEER_MIN).max(DEFAULT_PEER_MIN);
    let query = PeerQuery {
        survey_ids: released.iter().map(|e| e.survey_id).collect(),
        firm: row.firm_id.as_u128(),
        industry: row.industry.clone(),
        size_band: row.size_band.clone(),
        country: row.country.clone(),
        scores: [
            row.score_maturity,
            row.score_clarity,
            row.score_vendor_gap,
            row.score_capability,
            row.score_governance,
        ],
        tier_keys: entry
            .instrument
            .tiers()
            .iter()
            .map(|t| t.key.clone())
            .collect(),
        peer_min,
        until: start_of_today(),
        disclosure: services.disclosure.for_request(None),
    };
    let (found, _) = run::on_snapshot(services, "benchmark", move |snapshot| {
        benchmark(snapshot, &query).map_err(ReportError::Polars)
    })
    .await?;
    Ok(PlanView {
        assessment: assessment_view(stored, entry, language)?,
        steps,
        benchmark: found.map(|b| benchmark_view(b, stored, &texts, peer_min)),
    })
}

fn benchmark_view(
    found: Benchmark,
    stored: &Stored,
    texts: &Localised<'_>,
    peer_min: u64,
) -> BenchmarkView {
    let row = &stored.row;
    let segment = found
        .group
        .fields()
        .iter()
        .filter_map(|field| {
            let value = match field.key() {
                "industry" => &row.industry,
                "size_band" => &row.size_band,
                "country" => &row.country,
                _ => return None,
            };
            Some((field.key().to_owned(), value.clone()))
        })
        .collect();
    BenchmarkView {
        group: found.group,
        segment,
        peers: found.peers,
        peer_min,
        tiers: found
            .tiers
            .into_iter()
            .map(|t| PeerTierView {
                label: texts.tier_label(&t.key),
                key: t.key,
                rank: t.rank,
                count: t.estimate.count,
                share: t.estimate.share,
                ci_low: t.estimate.ci_low,
                ci_high: t.estimate.ci_high,
            })
            .collect(),
        dimensions: found
            .dimensions
            .into_iter()
            .zip(Dimension::ALL)
            .map(|(d, dimension)| StandingView {
                label: texts.section(dimension),
                dimension: d.dimension,
                score: d.score,
                below: d.below,
                level: d.level,
                percentile: d.percentile,
            })
            .collect(),
    }
}

/// Whether the response `id` is one `owner`'s key submitted with an `Idempotency-Key`:
/// stored keys carry the sending API key's id as their scope.
pub fn submitted_by(stored: &Stored, owner: Uuid) -> bool {
    stored
        .row
        .idempotency_key
        .as_deref()
        .and_then(|key| key.split_once(' '))
        .is_some_and(|(scope, _)| scope == owner.simple().to_string())
}

/// The peers' cut: the start of the current day (UTC), in microseconds since the epoch.
fn start_of_today() -> Option<i64> {
    chrono::Utc::now()
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .map(|midnight| midnight.and_utc().timestamp_micros())
}
