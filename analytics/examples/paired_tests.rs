//! The paired statistics of the change report for given 2×2 tables, for checking them against
//! statsmodels and an independent implementation (`analytics/check/change_crosscheck.py` runs
//! it).
//!
//! ```text
//! paired_tests < tables.txt
//! ```
//!
//! Each input line holds one table as four whole numbers `both lost gained neither` (held at
//! baseline and follow-up, at baseline only, at follow-up only, at neither). Each output line
//! is a JSON object with the exact McNemar p-value and mid-p, and Newcombe's method 10
//! interval of the follow-up minus baseline share (`null` for an empty table).

use std::error::Error;
use std::io::{BufRead, Write};

use readiness_analytics::reports::paired::{PairedTable, mcnemar_exact, newcombe_paired};

fn main() -> Result<(), Box<dyn Error>> {
    let stdin = std::io::stdin();
    let mut out = std::io::stdout().lock();
    for line in stdin.lock().lines() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let counts = line
            .split_whitespace()
            .map(str::parse::<u64>)
            .collect::<Result<Vec<_>, _>>()?;
        let [both, lost, gained, neither] = counts[..] else {
            return Err(format!("expected four counts, got `{line}`").into());
        };
        let (p, mid_p) = mcnemar_exact(lost, gained);
        let interval = newcombe_paired(PairedTable {
            both: both as f64,
            baseline_only: lost as f64,
            followup_only: gained as f64,
            neither: neither as f64,
        });
        let report = serde_json::json!({
            "table": [both, lost, gained, neither],
            "mcnemar_p": p,
            "mcnemar_mid_p": mid_p,
            "difference": interval.map(|i| i.0),
            "ci_low": interval.map(|i| i.1),
            "ci_high": interval.map(|i| i.2),
        });
        writeln!(out, "{report}")?;
    }
    Ok(())
}
