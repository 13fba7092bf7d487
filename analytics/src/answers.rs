//! Validation of a firm's answers against an instrument.

use serde_json::Value;

use crate::instrument::Instrument;

/// One offending field: where (an RFC 6901 JSON pointer into the request) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldProblem {
    pub pointer: String,
    pub message: String,
}

impl FieldProblem {
    pub fn new(pointer: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            pointer: pointer.into(),
            message: message.into(),
        }
    }
}

/// Answers that passed validation: the option position of each question, in question order
/// (`None` only for an optional question left unanswered).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answers {
    positions: Vec<Option<u8>>,
}

impl Answers {
    /// The option position given for the question at `question` (its place in the instrument).
    pub fn position(&self, question: usize) -> Option<u8> {
        self.positions.get(question).copied().flatten()
    }

    /// The option key given for each answered question, in question order.
    pub fn to_keys<'a>(&self, instrument: &'a Instrument) -> Vec<(&'a str, &'a str)> {
        instrument
            .questions()
            .iter()
            .zip(&self.positions)
            .filter_map(|(question, position)| {
                position.map(|p| {
                    (
                        question.key.as_str(),
                        question.options[usize::from(p)].key.as_str(),
                    )
                })
            })
            .collect()
    }
}

/// Escapes a key for use in a JSON pointer (RFC 6901 §3).
pub(crate) fn pointer_token(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// Checks `answers` (the JSON object of question key → option key) and returns every problem
/// at once: unknown questions, unknown options, wrong types and missing required answers.
/// Pointers are rooted at `/answers`.
pub fn validate(instrument: &Instrument, answers: &Value) -> Result<Answers, Vec<FieldProblem>> {
    let Some(object) = answers.as_object() else {
        return Err(vec![FieldProblem::new(
            "/answers",
            "must be an object of question key to option key",
        )]);
    };
    let mut problems = Vec::new();
    let mut positions = vec![None; instrument.questions().len()];
    for (key, value) in object {
        // Built only for a problem: a valid answer allocates nothing here.
        let pointer = || format!("/answers/{}", pointer_token(key));
        let Some(index) = instrument.question_position(key) else {
            problems.push(FieldProblem::new(
                pointer(),
                format!("unknown question `{key}`"),
            ));
            continue;
        };
        let question = &instrument.questions()[index];
        let Some(option) = value.as_str() else {
            problems.push(FieldProblem::new(
                pointer(),
                format!("must be a string, one of: {}", option_list(question)),
            ));
            continue;
        };
        match question.options.iter().position(|o| o.key == option) {
            Some(position) => positions[index] = u8::try_from(position).ok(),
            None => problems.push(FieldProblem::new(
                pointer(),
                format!(
                    "unknown option `{option}`; expected one of: {}",
                    option_list(question)
                ),
            )),
        }
    }
    for question in instrument.questions() {
        if question.required && !object.contains_key(&question.key) {
            problems.push(FieldProblem::new(
                format!("/answers/{}", pointer_token(&question.key)),
                format!(
                    "required question is not answered; expected one of: {}",
                    option_list(question)
                ),
            ));
        }
    }
    if problems.is_empty() {
        Ok(Answers { positions })
    } else {
        problems.sort_by(|a, b| a.pointer.cmp(&b.pointer));
        Err(problems)
    }
}

fn option_list(question: &crate::Question) -> String {
    question
        .options
        .iter()
        .map(|o| o.key.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn instrument() -> Instrument {
        Instrument::parse(crate::AI_READINESS_V1).unwrap_or_else(|e| panic!("{e}"))
    }

    fn lowest_answers(instrument: &Instrument) -> serde_json::Map<String, Value> {
        instrument
            .questions()
            .iter()
            .map(|q| (q.key.clone(), Value::from(q.options[0].key.clone())))
            .collect()
    }

    #[test]
    fn complete_answers_are_accepted() {
        let instrument = instrument();
        let answers = validate(&instrument, &Value::Object(lowest_answers(&instrument)))
            .unwrap_or_else(|p| panic!("{p:?}"));
        assert_eq!(answers.to_keys(&instrument).len(), 14);
        assert_eq!(answers.position(0), Some(0));
    }

    #[test]
    fn every_problem_is_reported_with_its_pointer() {
        let instrument = instrument();
        let mut answers = lowest_answers(&instrument);
        answers.remove("business_age");
        answers.remove("staff_ai_usage");
        answers.insert("revenue_trend".into(), json!("booming"));
        answers.insert("inhouse_skill".into(), json!(3));
        answers.insert("favourite/colour".into(), json!("blue"));
        let problems = validate(&instrument, &Value::Object(answers))
            .err()
            .unwrap_or_default();
        let pointers: Vec<&str> = problems.iter().map(|p| p.pointer.as_str()).collect();
        assert_eq!(
            pointers,
            [
                "/answers/business_age",
                "/answers/favourite~1colour",
                "/answers/inhouse_skill",
                "/answers/revenue_trend",
                "/answers/staff_ai_usage",
            ]
        );
        assert!(problems[1].message.contains("unknown question"));
        assert!(problems[2].message.starts_with("must be a string"));
        assert!(problems[3].message.contains("unknown option `booming`"));
        assert!(problems[0].message.contains("required"));
    }

    #[test]
    fn answers_must_be_an_object() {
        let problems = validate(&instrument(), &json!(["gt_5y"]))
            .err()
            .unwrap_or_default();
        assert_eq!(
            problems,
            [FieldProblem::new(
                "/answers",
                "must be an object of question key to option key"
            )]
        );
    }
}
