//! One submission: a firm, its answers to an instrument and when it answered.

use chrono::{DateTime, Duration, DurationRound, Timelike, Utc};
use readiness_analytics::{Answers, FieldProblem, Instrument, validate};
use serde_json::Value;

use super::firm::FirmProfile;

/// How far in the future `submitted_at` may lie (clock skew between collector and server).
pub const MAX_CLOCK_SKEW: Duration = Duration::minutes(5);
/// The earliest `submitted_at` accepted: the survey asks about AI adoption, so an earlier
/// date is a client's bug (a zero or default date), not an answer.
pub const EARLIEST_SUBMITTED_AT: &str = "2000-01-01T00:00:00Z";

/// A submission that passed every check.
#[derive(Debug, Clone)]
pub struct Submission {
    pub firm: FirmProfile,
    /// The answers object exactly as submitted (it passed validation).
    pub answers_json: Value,
    pub answers: Answers,
    pub submitted_at: Option<DateTime<Utc>>,
}

impl Submission {
    /// Parses one submission object, taking it apart (the answers object moves into the
    /// result). Pointers are prefixed with `base` (`""` for a single submission,
    /// `/responses/3` for a batch item).
    pub fn parse(
        value: Value,
        instrument: &Instrument,
        now: DateTime<Utc>,
        base: &str,
    ) -> Result<Self, Vec<FieldProblem>> {
        let Value::Object(mut object) = value else {
            let pointer = if base.is_empty() { "" } else { base };
            return Err(vec![FieldProblem::new(
                pointer,
                "must be an object with firm, answers and optional submitted_at",
            )]);
        };
        let mut problems = Vec::new();
        for key in object.keys() {
            if !["firm", "answers", "submitted_at"].contains(&key.as_str()) {
                problems.push(FieldProblem::new(
                    super::pointer::child(base, key),
                    "unknown field",
                ));
            }
        }
        let firm = FirmProfile::parse(object.get("firm"), &format!("{base}/firm"))
            .map_err(|p| problems.extend(p))
            .ok();
        let answers = match object.remove("answers") {
            None | Some(Value::Null) => {
                problems.push(FieldProblem::new(format!("{base}/answers"), "is required"));
                None
            }
            Some(answers) => validate(instrument, &answers)
                .map_err(|found| {
                    problems.extend(found.into_iter().map(|p| FieldProblem {
                        pointer: format!("{base}{}", p.pointer),
                        message: p.message,
                    }))
                })
                .ok()
                .map(|parsed| (answers, parsed)),
        };
        let submitted_at = parse_submitted_at(object.get("submitted_at"), now, base)
            .map_err(|p| problems.push(p))
            .ok();
        match (firm, answers, submitted_at) {
            (Some(firm), Some((answers_json, answers)), Some(submitted_at))
                if problems.is_empty() =>
            {
                Ok(Self {
                    firm,
                    answers_json,
                    answers,
                    submitted_at,
                })
            }
            _ => Err(problems),
        }
    }
}

fn parse_submitted_at(
    value: Option<&Value>,
    now: DateTime<Utc>,
    base: &str,
) -> Result<Option<DateTime<Utc>>, FieldProblem> {
    let pointer = || format!("{base}/submitted_at");
    let raw = match value {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(raw)) => raw,
        Some(_) => {
            return Err(FieldProblem::new(
                pointer(),
                "must be an RFC 3339 date-time string",
            ));
        }
    };
    let parsed = DateTime::parse_from_rfc3339(raw)
        .map_err(|_| {
            FieldProblem::new(
                pointer(),
                "must be an RFC 3339 date-time such as 2026-10-01T12:00:00Z",
            )
        })?
        .with_timezone(&Utc);
    // chrono reads `:60` as a leap second, which PostgreSQL turns into the next second and
    // SQLite keeps as written: refused, so both store the same.
    if parsed.nanosecond() >= 1_000_000_000 {
        return Err(FieldProblem::new(
            pointer(),
            "is a leap second (:60); send 23:59:59 or the next second",
        ));
    }
    if DateTime::parse_from_rfc3339(EARLIEST_SUBMITTED_AT).is_ok_and(|earliest| parsed < earliest) {
        return Err(FieldProblem::new(
            pointer(),
            format!("lies before {EARLIEST_SUBMITTED_AT}, the earliest date accepted"),
        ));
    }
    if parsed > now + MAX_CLOCK_SKEW {
        return Err(FieldProblem::new(
            pointer(),
            "lies more than 5 minutes in the future",
        ));
    }
    Ok(Some(to_stored_precision(parsed)))
}

/// Timestamps are stored to the microsecond (PostgreSQL's precision), so what a client is
/// told equals what is read back later.
pub fn to_stored_precision(at: DateTime<Utc>) -> DateTime<Utc> {
    at.duration_trunc(Duration::microseconds(1)).unwrap_or(at)
}
