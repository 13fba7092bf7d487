//! What the report tests share: the instrument, a deterministic generator and the gates of
//! `ai-readiness` v1 by the rank of the tier they lead to.

#![allow(dead_code)]

use readiness_analytics::{AI_READINESS_V1, Instrument};

pub fn instrument() -> Instrument {
    Instrument::parse(AI_READINESS_V1).unwrap()
}

/// A small deterministic generator (SplitMix64), so failures reproduce.
pub struct Random(pub u64);

impl Random {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    pub fn pick<'a>(&mut self, values: &[&'a str]) -> &'a str {
        values[usize::try_from(self.below(values.len() as u64)).unwrap()]
    }
}

/// The gates of the tiers of rank 2, 3 and 4, in the instrument's order.
pub const GATES_BY_RANK: [&[&str]; 3] = [
    &[
        "vendor_rag.task_definition",
        "vendor_rag.knowledge_organisation",
        "vendor_rag.inhouse_skill",
        "vendor_rag.prior_attempts",
    ],
    &[
        "fine_tune.business_age",
        "fine_tune.revenue_trend",
        "fine_tune.vendor_gap",
        "fine_tune.training_examples",
    ],
    &[
        "own_model.data_or_spend",
        "own_model.inhouse_skill",
        "own_model.ai_ownership",
    ],
];
