//! Readiness analytics: the questionnaire (instrument), its rubric, answer validation and
//! scoring.
//!
//! **Architecture Invariant:** this crate knows nothing of HTTP or databases. It takes plain
//! values in and returns plain structs, so the verdict a firm gets when it submits and the
//! figures analysts read can never disagree.

mod answers;
mod assess;
mod instrument;
mod plan;
pub mod reports;
pub mod texts;

pub use answers::{Answers, FieldProblem, validate};
pub use assess::{Assessment, Blocker, DimensionScores, TierRef, assess};
pub use instrument::{
    Definition, Dimension, Gate, Instrument, InstrumentError, OptionDef, Question, Rule, Section,
    TierDef,
};
pub use plan::{PlanStep, Requirement, plan};

/// The definition of the built-in `ai-readiness` v1 instrument, as shipped.
pub const AI_READINESS_V1: &str = include_str!("../instruments/ai-readiness-v1.json");

/// Every instrument the binary ships with, in installation order.
pub const BUILTIN_INSTRUMENTS: &[&str] = &[AI_READINESS_V1];
