//! The action plan: on random answer sets, every "least answer that passes" passes its gate
//! when substituted and re-scored, and no lesser option does. Gates are checked by a small
//! reference reading of the rubric's rules that shares no code with the evaluator.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;

use common::{Random, instrument};
use readiness_analytics::{Instrument, Rule, assess, plan, validate};
use serde_json::{Map, Value};

/// Whether `rule` holds for `answers` (question → option key), by the options' order.
fn holds(instrument: &Instrument, rule: &Rule, answers: &BTreeMap<String, String>) -> bool {
    let position = |question: &str, option: &str| {
        instrument.questions()[instrument.question_position(question).unwrap()]
            .options
            .iter()
            .position(|o| o.key == option)
            .unwrap()
    };
    match rule {
        Rule::AtLeast { question, option } => answers
            .get(question)
            .is_some_and(|given| position(question, given) >= position(question, option)),
        Rule::AnyOf { question, options } => answers
            .get(question)
            .is_some_and(|given| options.contains(given)),
        Rule::Any(rules) => rules.iter().any(|r| holds(instrument, r, answers)),
    }
}

fn random_answers(instrument: &Instrument, random: &mut Random) -> BTreeMap<String, String> {
    instrument
        .questions()
        .iter()
        .map(|q| {
            let options: Vec<&str> = q.options.iter().map(|o| o.key.as_str()).collect();
            (q.key.clone(), random.pick(&options).to_owned())
        })
        .collect()
}

fn assessed(
    instrument: &Instrument,
    answers: &BTreeMap<String, String>,
) -> readiness_analytics::Assessment {
    let json: Map<String, Value> = answers
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    assess(
        instrument,
        &validate(instrument, &Value::Object(json)).unwrap(),
    )
}

#[test]
fn the_least_passing_answer_passes_and_no_lesser_one_does() {
    let instrument = instrument();
    let mut random = Random(22);
    let mut checked_steps = 0;
    let mut disjunctions = 0;
    for _ in 0..2_000 {
        let answers = random_answers(&instrument, &mut random);
        let json: Map<String, Value> = answers
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        let validated = validate(&instrument, &Value::Object(json)).unwrap();
        let assessment = assess(&instrument, &validated);
        let steps = plan(&instrument, &validated, &assessment);
        let gates: Vec<&str> = steps.iter().map(|s| s.gate.as_str()).collect();
        let blockers: Vec<&str> = assessment
            .blockers
            .iter()
            .map(|b| b.gate.as_str())
            .collect();
        assert_eq!(gates, blockers, "one step per blocker, in order");
        for step in &steps {
            let gate = instrument.gate(&step.gate).unwrap();
            assert!(
                !holds(&instrument, &gate.rule, &answers),
                "{} is a blocker",
                step.gate
            );
            assert!(!step.alternatives.is_empty());
            disjunctions += usize::from(step.alternatives.len() > 1);
            for requirement in &step.alternatives {
                assert_eq!(
                    answers.get(&requirement.question),
                    requirement.given.as_ref()
                );
                let options = &instrument.questions()
                    [instrument.question_position(&requirement.question).unwrap()]
                .options;
                let least = options
                    .iter()
                    .position(|o| o.key == requirement.least)
                    .unwrap();
                for (position, option) in options.iter().enumerate() {
                    let mut changed = answers.clone();
                    changed.insert(requirement.question.clone(), option.key.clone());
                    let passes = holds(&instrument, &gate.rule, &changed);
                    assert_eq!(
                        requirement.passing.contains(&option.key),
                        passes,
                        "{}: {} = {}",
                        step.gate,
                        requirement.question,
                        option.key
                    );
                    if position < least {
                        assert!(!passes, "a lesser option passes {}", step.gate);
                    }
                }
                // Substituted and re-scored by the evaluator, the gate is no longer a blocker.
                let mut fixed = answers.clone();
                fixed.insert(requirement.question.clone(), requirement.least.clone());
                let rescored = assessed(&instrument, &fixed);
                let next_rank = assessment.next_tier.as_ref().unwrap().rank;
                assert!(
                    rescored.tier.rank >= next_rank
                        || !rescored.blockers.iter().any(|b| b.gate == step.gate),
                    "{} still blocks after substituting {}",
                    step.gate,
                    requirement.least
                );
                checked_steps += 1;
            }
        }
    }
    assert!(
        checked_steps > 3_000,
        "only {checked_steps} requirements checked"
    );
    assert!(disjunctions > 50, "only {disjunctions} disjunctions seen");
}

#[test]
fn a_disjunction_lists_each_way_to_pass_and_the_top_tier_has_no_plan() {
    let instrument = instrument();
    let mut answers: BTreeMap<String, String> = instrument
        .questions()
        .iter()
        .map(|q| (q.key.clone(), q.options.last().unwrap().key.clone()))
        .collect();
    let top = assessed(&instrument, &answers);
    assert_eq!(top.tier.key, "own_model");
    let json = |a: &BTreeMap<String, String>| {
        Value::Object(
            a.iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect(),
        )
    };
    let validated = validate(&instrument, &json(&answers)).unwrap();
    assert!(plan(&instrument, &validated, &top).is_empty());

    answers.insert("data_restrictions".into(), "none".into());
    answers.insert("monthly_ai_spend".into(), "1k_5k".into());
    let validated = validate(&instrument, &json(&answers)).unwrap();
    let assessment = assess(&instrument, &validated);
    let steps = plan(&instrument, &validated, &assessment);
    assert_eq!(steps.len(), 1);
    assert_eq!(steps[0].gate, "own_model.data_or_spend");
    let ways: Vec<(&str, Option<&str>, &str, Vec<&str>)> = steps[0]
        .alternatives
        .iter()
        .map(|r| {
            (
                r.question.as_str(),
                r.given.as_deref(),
                r.least.as_str(),
                r.passing.iter().map(String::as_str).collect(),
            )
        })
        .collect();
    assert_eq!(
        ways,
        vec![
            (
                "data_restrictions",
                Some("none"),
                "some_data",
                vec!["some_data", "all_data"]
            ),
            ("monthly_ai_spend", Some("1k_5k"), "gt_5k", vec!["gt_5k"]),
        ]
    );
}
