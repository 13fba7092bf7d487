//! The action plan: for each blocker (a failed gate of the next tier), the answer the firm
//! gave and the least answer that would pass the gate, read from the rubric itself.

use crate::answers::Answers;
use crate::assess::Assessment;
use crate::instrument::{CompiledRule, Instrument};

/// One failed gate and what would pass it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanStep {
    /// The gate id.
    pub gate: String,
    /// Ways to pass the gate: any one suffices (a plain gate has exactly one).
    pub alternatives: Vec<Requirement>,
}

/// An answer that passes a gate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    /// The question key.
    pub question: String,
    /// The option the firm chose; `None` when it did not answer.
    pub given: Option<String>,
    /// The lowest option (in the question's order) that passes.
    pub least: String,
    /// Every option that passes, in the question's order.
    pub passing: Vec<String>,
}

/// The plan for `assessment`, made from `answers` by `instrument`'s rubric: one step per
/// blocker, in the rubric's order of the gates.
pub fn plan(instrument: &Instrument, answers: &Answers, assessment: &Assessment) -> Vec<PlanStep> {
    let Some(next) = &assessment.next_tier else {
        return Vec::new();
    };
    let index = usize::from(next.rank) - 1;
    let (Some(tier), Some(rules)) = (
        instrument.tiers().get(index),
        instrument.compiled_tiers().get(index),
    ) else {
        return Vec::new();
    };
    tier.gates
        .iter()
        .zip(rules)
        .filter(|(gate, _)| assessment.blockers.iter().any(|b| b.gate == gate.id))
        .map(|(gate, rule)| {
            let mut alternatives = Vec::new();
            requirements(instrument, answers, rule, &mut alternatives);
            PlanStep {
                gate: gate.id.clone(),
                alternatives,
            }
        })
        .collect()
}

fn requirements(
    instrument: &Instrument,
    answers: &Answers,
    rule: &CompiledRule,
    into: &mut Vec<Requirement>,
) {
    let (question, passes): (usize, Box<dyn Fn(u8) -> bool>) = match rule {
        CompiledRule::Any(rules) => {
            for rule in rules {
                requirements(instrument, answers, rule, into);
            }
            return;
        }
        CompiledRule::AtLeast { question, min } => (*question, Box::new(move |p| p >= *min)),
        CompiledRule::AnyOf { question, options } => {
            (*question, Box::new(move |p| options.contains(&p)))
        }
    };
    let definition = &instrument.questions()[question];
    let option_key = |position: u8| definition.options[usize::from(position)].key.clone();
    let positions = (0..definition.options.len()).filter_map(|p| u8::try_from(p).ok());
    let passing: Vec<String> = positions.filter(|p| passes(*p)).map(option_key).collect();
    let Some(least) = passing.first().cloned() else {
        return;
    };
    into.push(Requirement {
        question: definition.key.clone(),
        given: answers.position(question).map(option_key),
        least,
        passing,
    });
}
