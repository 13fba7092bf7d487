//! The instrument format: sections, questions with ordered options, and the rubric (tiers
//! with their gates). Definitions are data (JSON); [`Instrument::parse`] checks one and
//! compiles it into the form the evaluator uses.

use std::collections::{BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

/// An instrument as written in its JSON definition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Definition {
    /// 1 to 64 lower-case letters, digits and hyphens, not starting with a hyphen.
    #[cfg_attr(feature = "openapi", schema(pattern = "^[a-z0-9][a-z0-9-]{0,63}$"))]
    pub slug: String,
    #[cfg_attr(feature = "openapi", schema(minimum = 1))]
    pub version: i32,
    pub title: String,
    #[serde(default)]
    pub description: String,
    /// Exactly the five dimensions, each once.
    #[cfg_attr(feature = "openapi", schema(min_items = 5, max_items = 5))]
    pub sections: Vec<Section>,
    pub questions: Vec<Question>,
    /// Tiers from the lowest (the default, no gates) to the highest.
    pub tiers: Vec<TierDef>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Section {
    pub key: Dimension,
    pub title: String,
}

/// The five scored dimensions; every instrument has exactly these sections.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Dimension {
    Maturity,
    Clarity,
    VendorGap,
    Capability,
    Governance,
}

impl Dimension {
    pub const ALL: [Dimension; 5] = [
        Dimension::Maturity,
        Dimension::Clarity,
        Dimension::VendorGap,
        Dimension::Capability,
        Dimension::Governance,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Dimension::Maturity => "maturity",
            Dimension::Clarity => "clarity",
            Dimension::VendorGap => "vendor_gap",
            Dimension::Capability => "capability",
            Dimension::Governance => "governance",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Question {
    pub key: String,
    pub section: Dimension,
    pub text: String,
    /// Options from the lowest to the highest; the position is the score.
    pub options: Vec<OptionDef>,
    /// Whether the question counts towards its section's dimension score.
    #[serde(default = "yes")]
    pub scored: bool,
    /// Whether an answer is mandatory.
    #[serde(default = "yes")]
    pub required: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct OptionDef {
    pub key: String,
    pub label: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TierDef {
    pub key: String,
    pub label: String,
    pub advice: String,
    /// Whether a firm at this tier is ready to customise a model.
    pub ready_to_customise: bool,
    /// All must pass (together with every lower tier's gates) for a firm to reach the tier.
    pub gates: Vec<Gate>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Gate {
    /// Stable id, `<tier_key>.<name>`.
    pub id: String,
    /// Plain-language reason shown to a firm that fails the gate.
    pub reason: String,
    pub rule: Rule,
}

/// A gate's condition on the answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Rule {
    /// The answer is this option or a higher one.
    AtLeast { question: String, option: String },
    /// The answer is one of these options.
    AnyOf {
        question: String,
        options: Vec<String>,
    },
    /// At least one of these rules holds.
    #[cfg_attr(feature = "openapi", schema(no_recursion))]
    Any(Vec<Rule>),
}

/// Why an instrument definition was rejected.
#[derive(Debug, thiserror::Error)]
pub enum InstrumentError {
    #[error("instrument definition is not valid JSON for the instrument format: {0}")]
    Format(#[from] serde_json::Error),
    #[error("instrument {slug} v{version} is inconsistent: {}", problems.join("; "))]
    Inconsistent {
        slug: String,
        version: i32,
        problems: Vec<String>,
    },
}

/// A checked instrument, ready to validate and assess answers.
#[derive(Debug, Clone)]
pub struct Instrument {
    definition: Definition,
    question_index: HashMap<String, usize>,
    compiled_tiers: Vec<Vec<CompiledRule>>,
}

/// A rule with question and option names resolved to positions.
#[derive(Debug, Clone)]
pub(crate) enum CompiledRule {
    AtLeast { question: usize, min: u8 },
    AnyOf { question: usize, options: Vec<u8> },
    Any(Vec<CompiledRule>),
}

impl Instrument {
    /// Parses and checks a JSON definition.
    pub fn parse(json: &str) -> Result<Self, InstrumentError> {
        Self::from_definition(serde_json::from_str(json)?)
    }

    /// Checks a definition: every gate must name known questions and options, keys must be
    /// unique, sections must be exactly the five dimensions, and so on. All problems are
    /// reported together.
    pub fn from_definition(definition: Definition) -> Result<Self, InstrumentError> {
        let mut problems = Vec::new();
        check_sections(&definition, &mut problems);

        let mut question_index = HashMap::new();
        for (position, question) in definition.questions.iter().enumerate() {
            if question_index
                .insert(question.key.clone(), position)
                .is_some()
            {
                problems.push(format!("question `{}` is defined twice", question.key));
            }
            check_options(question, &mut problems);
        }
        for dimension in Dimension::ALL {
            let scored = definition
                .questions
                .iter()
                .any(|q| q.section == dimension && q.scored && q.options.len() > 1);
            if !scored {
                problems.push(format!(
                    "section `{}` has no scored question",
                    dimension.key()
                ));
            }
        }

        let mut compiled_tiers = Vec::new();
        check_tier_shape(&definition, &mut problems);
        let mut gate_ids = BTreeSet::new();
        for tier in &definition.tiers {
            let mut rules = Vec::new();
            for gate in &tier.gates {
                if !gate_ids.insert(gate.id.as_str()) {
                    problems.push(format!("gate `{}` is defined twice", gate.id));
                }
                if gate.id.split_once('.').map(|(tier_key, _)| tier_key) != Some(&tier.key) {
                    problems.push(format!(
                        "gate `{}` must be named `{}.<name>`",
                        gate.id, tier.key
                    ));
                }
                let context = format!("gate `{}`", gate.id);
                if let Some(rule) = compile_rule(
                    &gate.rule,
                    &definition,
                    &question_index,
                    &context,
                    &mut problems,
                ) {
                    rules.push(rule);
                }
            }
            compiled_tiers.push(rules);
        }

        if problems.is_empty() {
            Ok(Self {
                definition,
                question_index,
                compiled_tiers,
            })
        } else {
            Err(InstrumentError::Inconsistent {
                slug: definition.slug,
                version: definition.version,
                problems,
            })
        }
    }

    pub fn definition(&self) -> &Definition {
        &self.definition
    }

    pub fn slug(&self) -> &str {
        &self.definition.slug
    }

    pub fn version(&self) -> i32 {
        self.definition.version
    }

    pub fn questions(&self) -> &[Question] {
        &self.definition.questions
    }

    pub fn tiers(&self) -> &[TierDef] {
        &self.definition.tiers
    }

    /// The position of a question, by key.
    pub fn question_position(&self, key: &str) -> Option<usize> {
        self.question_index.get(key).copied()
    }

    /// The tier with this key and its rank (1 = lowest).
    pub fn tier(&self, key: &str) -> Option<(u8, &TierDef)> {
        self.definition
            .tiers
            .iter()
            .enumerate()
            .find(|(_, tier)| tier.key == key)
            .map(|(index, tier)| (rank_of(index), tier))
    }

    /// A gate by id, in any tier.
    pub fn gate(&self, id: &str) -> Option<&Gate> {
        self.definition
            .tiers
            .iter()
            .flat_map(|tier| tier.gates.iter())
            .find(|gate| gate.id == id)
    }

    pub(crate) fn compiled_tiers(&self) -> &[Vec<CompiledRule>] {
        &self.compiled_tiers
    }
}

/// Tier ranks start at 1 for the lowest tier.
pub(crate) fn rank_of(index: usize) -> u8 {
    u8::try_from(index + 1).unwrap_or(u8::MAX)
}

fn check_sections(definition: &Definition, problems: &mut Vec<String>) {
    let keys: Vec<Dimension> = definition.sections.iter().map(|s| s.key).collect();
    let unique: BTreeSet<Dimension> = keys.iter().copied().collect();
    if unique.len() != keys.len() || unique.len() != Dimension::ALL.len() {
        problems.push(
            "sections must be exactly maturity, clarity, vendor_gap, capability and governance, each once"
                .to_owned(),
        );
    }
}

fn check_options(question: &Question, problems: &mut Vec<String>) {
    if question.options.len() < 2 {
        problems.push(format!(
            "question `{}` needs at least two options",
            question.key
        ));
    }
    if question.options.len() > usize::from(u8::MAX) {
        problems.push(format!("question `{}` has too many options", question.key));
    }
    let mut seen = BTreeSet::new();
    for option in &question.options {
        if !seen.insert(option.key.as_str()) {
            problems.push(format!(
                "question `{}` lists option `{}` twice",
                question.key, option.key
            ));
        }
    }
}

fn check_tier_shape(definition: &Definition, problems: &mut Vec<String>) {
    let tiers = &definition.tiers;
    match tiers.first() {
        None => problems.push("the rubric needs at least one tier".to_owned()),
        Some(lowest) if !lowest.gates.is_empty() => problems.push(format!(
            "the lowest tier `{}` is the default and may not have gates",
            lowest.key
        )),
        Some(_) => {}
    }
    for (index, tier) in tiers.iter().enumerate().skip(1) {
        if tier.gates.is_empty() {
            problems.push(format!("tier `{}` has no gates", tier.key));
        }
        if tiers[index - 1].ready_to_customise && !tier.ready_to_customise {
            problems.push(format!(
                "tier `{}` is above a ready-to-customise tier and must be one too",
                tier.key
            ));
        }
    }
    let mut seen = BTreeSet::new();
    for tier in tiers {
        if !seen.insert(tier.key.as_str()) {
            problems.push(format!("tier `{}` is defined twice", tier.key));
        }
    }
}

fn compile_rule(
    rule: &Rule,
    definition: &Definition,
    question_index: &HashMap<String, usize>,
    context: &str,
    problems: &mut Vec<String>,
) -> Option<CompiledRule> {
    let resolve_question = |key: &str, problems: &mut Vec<String>| {
        let position = question_index.get(key).copied();
        if position.is_none() {
            problems.push(format!("{context} names unknown question `{key}`"));
        }
        position
    };
    let resolve_option = |question: usize, option: &str, problems: &mut Vec<String>| {
        let q = &definition.questions[question];
        let position = q.options.iter().position(|o| o.key == option);
        if position.is_none() {
            problems.push(format!(
                "{context} names unknown option `{option}` of question `{}`",
                q.key
            ));
        }
        position.and_then(|p| u8::try_from(p).ok())
    };
    match rule {
        Rule::AtLeast { question, option } => {
            let question = resolve_question(question, problems)?;
            let min = resolve_option(question, option, problems)?;
            Some(CompiledRule::AtLeast { question, min })
        }
        Rule::AnyOf { question, options } => {
            let question = resolve_question(question, problems)?;
            if options.is_empty() {
                problems.push(format!("{context} has an empty option list"));
            }
            let resolved: Vec<Option<u8>> = options
                .iter()
                .map(|option| resolve_option(question, option, problems))
                .collect();
            let options = resolved.into_iter().collect::<Option<Vec<u8>>>()?;
            Some(CompiledRule::AnyOf { question, options })
        }
        Rule::Any(rules) => {
            if rules.is_empty() {
                problems.push(format!("{context} has an empty `any`"));
            }
            let compiled: Vec<Option<CompiledRule>> = rules
                .iter()
                .map(|r| compile_rule(r, definition, question_index, context, problems))
                .collect();
            Some(CompiledRule::Any(
                compiled.into_iter().collect::<Option<Vec<_>>>()?,
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn builtin() -> Definition {
        serde_json::from_str(crate::AI_READINESS_V1).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn the_builtin_instrument_is_consistent() {
        let instrument =
            Instrument::parse(crate::AI_READINESS_V1).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(instrument.slug(), "ai-readiness");
        assert_eq!(instrument.version(), 1);
        assert_eq!(instrument.questions().len(), 14);
        let tier_keys: Vec<&str> = instrument.tiers().iter().map(|t| t.key.as_str()).collect();
        assert_eq!(
            tier_keys,
            ["vendor_prompting", "vendor_rag", "fine_tune", "own_model"]
        );
        let gate_counts: Vec<usize> = instrument.tiers().iter().map(|t| t.gates.len()).collect();
        assert_eq!(gate_counts, [0, 4, 10, 5]);
    }

    #[test]
    fn gates_naming_unknown_questions_or_options_are_rejected_with_every_problem() {
        let mut definition = builtin();
        definition.tiers[1].gates[0].rule = Rule::AtLeast {
            question: "task_defintion".into(),
            option: "named_task".into(),
        };
        definition.tiers[2].gates[5].rule = Rule::Any(vec![Rule::AnyOf {
            question: "vendor_result".into(),
            options: vec!["perfect".into()],
        }]);
        let error = Instrument::from_definition(definition)
            .err()
            .unwrap_or_else(|| panic!("an inconsistent instrument was accepted"));
        let message = error.to_string();
        assert!(
            message.contains(
                "gate `vendor_rag.task_definition` names unknown question `task_defintion`"
            ),
            "{message}"
        );
        assert!(
            message.contains(
                "gate `fine_tune.vendor_gap` names unknown option `perfect` of question `vendor_result`"
            ),
            "{message}"
        );
    }

    #[test]
    fn gate_ids_must_carry_their_tier_key() {
        let mut definition = builtin();
        definition.tiers[3].gates[0].id = "fine_tune.data_or_spend".into();
        let message = Instrument::from_definition(definition)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            message.contains("is defined twice")
                || message.contains("must be named `own_model.<name>`"),
            "{message}"
        );
        assert!(
            message.contains("must be named `own_model.<name>`"),
            "{message}"
        );
    }

    #[test]
    fn unknown_fields_in_a_definition_are_rejected() {
        let json = crate::AI_READINESS_V1.replacen("\"slug\"", "\"colour\": 1, \"slug\"", 1);
        assert!(matches!(
            Instrument::parse(&json),
            Err(InstrumentError::Format(_))
        ));
    }
}
