//! The one evaluator of the rubric: the same function scores a single submission and every
//! row of a report.

use crate::answers::Answers;
use crate::instrument::{CompiledRule, Dimension, Instrument, TierDef, rank_of};

/// A tier as reported: key, rank (1 = lowest), label and advice.
#[derive(Debug, Clone, PartialEq)]
pub struct TierRef {
    pub key: String,
    pub rank: u8,
    pub label: String,
    pub advice: String,
}

impl TierRef {
    fn new(index: usize, tier: &TierDef) -> Self {
        Self {
            key: tier.key.clone(),
            rank: rank_of(index),
            label: tier.label.clone(),
            advice: tier.advice.clone(),
        }
    }
}

/// A failed gate of the next tier: what the firm should work on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blocker {
    pub gate: String,
    pub reason: String,
}

/// Descriptive scores, 0–100: the mean of each section's normalised ordinal answers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DimensionScores {
    pub maturity: f64,
    pub clarity: f64,
    pub vendor_gap: f64,
    pub capability: f64,
    pub governance: f64,
}

impl DimensionScores {
    pub fn get(&self, dimension: Dimension) -> f64 {
        match dimension {
            Dimension::Maturity => self.maturity,
            Dimension::Clarity => self.clarity,
            Dimension::VendorGap => self.vendor_gap,
            Dimension::Capability => self.capability,
            Dimension::Governance => self.governance,
        }
    }
}

/// The verdict for one set of answers.
#[derive(Debug, Clone, PartialEq)]
pub struct Assessment {
    pub tier: TierRef,
    pub ready_to_customise: bool,
    pub next_tier: Option<TierRef>,
    pub blockers: Vec<Blocker>,
    pub dimension_scores: DimensionScores,
}

/// Scores `answers`: the firm is at the highest tier whose gates, and every lower tier's
/// gates, all pass. The blockers are the failed gates of the tier just above.
pub fn assess(instrument: &Instrument, answers: &Answers) -> Assessment {
    let compiled = instrument.compiled_tiers();
    let tiers = instrument.tiers();
    let reached = compiled
        .iter()
        .skip(1)
        .take_while(|rules| rules.iter().all(|rule| holds(rule, answers)))
        .count();
    let tier = &tiers[reached];
    let next_index = reached + 1;
    let blockers = tiers
        .get(next_index)
        .map(|next| {
            next.gates
                .iter()
                .zip(&compiled[next_index])
                .filter(|(_, rule)| !holds(rule, answers))
                .map(|(gate, _)| Blocker {
                    gate: gate.id.clone(),
                    reason: gate.reason.clone(),
                })
                .collect()
        })
        .unwrap_or_default();
    Assessment {
        tier: TierRef::new(reached, tier),
        ready_to_customise: tier.ready_to_customise,
        next_tier: tiers.get(next_index).map(|t| TierRef::new(next_index, t)),
        blockers,
        dimension_scores: dimension_scores(instrument, answers),
    }
}

fn holds(rule: &CompiledRule, answers: &Answers) -> bool {
    match rule {
        CompiledRule::AtLeast { question, min } => {
            answers.position(*question).is_some_and(|p| p >= *min)
        }
        CompiledRule::AnyOf { question, options } => answers
            .position(*question)
            .is_some_and(|p| options.contains(&p)),
        CompiledRule::Any(rules) => rules.iter().any(|r| holds(r, answers)),
    }
}

fn dimension_scores(instrument: &Instrument, answers: &Answers) -> DimensionScores {
    let score = |dimension: Dimension| {
        let normalised: Vec<f64> = instrument
            .questions()
            .iter()
            .enumerate()
            .filter(|(_, q)| q.section == dimension && q.scored)
            .filter_map(|(index, q)| {
                let top = q.options.len().saturating_sub(1).max(1) as f64;
                answers.position(index).map(|p| f64::from(p) / top)
            })
            .collect();
        if normalised.is_empty() {
            0.0
        } else {
            100.0 * normalised.iter().sum::<f64>() / normalised.len() as f64
        }
    };
    DimensionScores {
        maturity: score(Dimension::Maturity),
        clarity: score(Dimension::Clarity),
        vendor_gap: score(Dimension::VendorGap),
        capability: score(Dimension::Capability),
        governance: score(Dimension::Governance),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Map, Value};

    use super::*;
    use crate::validate;

    fn instrument() -> Instrument {
        Instrument::parse(crate::AI_READINESS_V1).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Answers with every unlisted question at its lowest option.
    fn answers(instrument: &Instrument, given: &[(&str, &str)]) -> Answers {
        let mut map: Map<String, Value> = instrument
            .questions()
            .iter()
            .map(|q| (q.key.clone(), Value::from(q.options[0].key.clone())))
            .collect();
        for (key, option) in given {
            map.insert((*key).to_owned(), Value::from(*option));
        }
        validate(instrument, &Value::Object(map)).unwrap_or_else(|p| panic!("{p:?}"))
    }

    fn gate_ids(assessment: &Assessment) -> Vec<&str> {
        assessment
            .blockers
            .iter()
            .map(|b| b.gate.as_str())
            .collect()
    }

    const T3: &[(&str, &str)] = &[
        ("business_age", "gt_5y"),
        ("revenue_trend", "growing"),
        ("task_definition", "test_cases"),
        ("workflow_integration", "integrated_with_review"),
        ("prior_attempts", "prompts_and_knowledge_base"),
        ("vendor_result", "format_or_consistency"),
        ("monthly_ai_spend", "100_1k"),
        ("training_examples", "100_499"),
        ("knowledge_organisation", "structured_owned"),
        ("inhouse_skill", "scripts_api"),
        ("customisation_budget", "10k_50k"),
        ("ai_ownership", "named_owner"),
        ("staff_ai_usage", "most"),
    ];

    #[test]
    fn all_lowest_is_vendor_prompting_blocked_by_every_rag_gate() {
        let instrument = instrument();
        let assessment = assess(&instrument, &answers(&instrument, &[]));
        assert_eq!(assessment.tier.key, "vendor_prompting");
        assert_eq!(assessment.tier.rank, 1);
        assert!(!assessment.ready_to_customise);
        assert_eq!(
            assessment.next_tier.as_ref().map(|t| t.key.as_str()),
            Some("vendor_rag")
        );
        assert_eq!(
            gate_ids(&assessment),
            [
                "vendor_rag.task_definition",
                "vendor_rag.knowledge_organisation",
                "vendor_rag.inhouse_skill",
                "vendor_rag.prior_attempts"
            ]
        );
        let scores = assessment.dimension_scores;
        assert_eq!(
            [
                scores.maturity,
                scores.clarity,
                scores.vendor_gap,
                scores.capability,
                scores.governance
            ],
            [0.0; 5]
        );
    }

    #[test]
    fn rag_answers_reach_vendor_rag_blocked_by_all_ten_fine_tune_gates() {
        let instrument = instrument();
        let assessment = assess(
            &instrument,
            &answers(
                &instrument,
                &[
                    ("task_definition", "named_task"),
                    ("knowledge_organisation", "one_place"),
                    ("inhouse_skill", "no_code"),
                    ("prior_attempts", "tested_prompts"),
                ],
            ),
        );
        assert_eq!(assessment.tier.key, "vendor_rag");
        assert_eq!(assessment.blockers.len(), 10);
        assert!(
            gate_ids(&assessment)
                .iter()
                .all(|g| g.starts_with("fine_tune."))
        );
    }

    #[test]
    fn the_fine_tune_example_is_ready_to_customise() {
        let instrument = instrument();
        let assessment = assess(&instrument, &answers(&instrument, T3));
        assert_eq!(assessment.tier.key, "fine_tune");
        assert_eq!(assessment.tier.rank, 3);
        assert!(assessment.ready_to_customise);
        assert_eq!(
            gate_ids(&assessment),
            [
                "own_model.data_or_spend",
                "own_model.inhouse_skill",
                "own_model.customisation_budget",
                "own_model.training_examples",
                "own_model.ai_ownership"
            ]
        );
        let scores = assessment.dimension_scores;
        assert_eq!(scores.maturity, 100.0);
        // task_definition 4/4, workflow 3/3, prior_attempts 3/3
        assert_eq!(scores.clarity, 100.0);
        // monthly_ai_spend 1/3, data_restrictions 0/3 (vendor_result is not scored)
        assert!((scores.vendor_gap - 100.0 / 6.0).abs() < 1e-12);
        // training_examples 3/4, knowledge 3/3, skill 2/4, budget 2/3
        let capability = 100.0 * (0.75 + 1.0 + 0.5 + 2.0 / 3.0) / 4.0;
        assert!((scores.capability - capability).abs() < 1e-12);
        // named_owner 2/3, most 2/2
        assert!((scores.governance - 100.0 * (2.0 / 3.0 + 1.0) / 2.0).abs() < 1e-12);
    }

    #[test]
    fn the_own_model_example_has_no_next_tier() {
        let instrument = instrument();
        let mut given = T3.to_vec();
        given.extend([
            ("data_restrictions", "all_data"),
            ("inhouse_skill", "ml_team"),
            ("customisation_budget", "gt_50k"),
            ("training_examples", "ge_500"),
            ("ai_ownership", "owner_policy_review"),
        ]);
        let assessment = assess(&instrument, &answers(&instrument, &given));
        assert_eq!(assessment.tier.key, "own_model");
        assert_eq!(assessment.tier.rank, 4);
        assert!(assessment.blockers.is_empty());
        assert!(assessment.next_tier.is_none());
    }
}
