//! Secret settings (the share secret, the pseudonym key).

use serde::{Deserialize, Serialize};

/// What is shown instead of a secret.
pub const MASK: &str = "***";

/// A secret setting: its `Debug` never shows it, and `readiness config` prints it masked.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Secret({MASK})")
    }
}
