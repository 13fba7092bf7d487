//! The first load of a SQLite file: every response, read by rowid range on several
//! read-only connections at once, each decoding straight into its own [`RowBatch`].
//!
//! This is the path a cold report waits on, a million rows at a time. The pool's driver
//! copies every value of every row into an owned row before it can be decoded; here the
//! values are read where SQLite keeps them, and strings are looked up without being copied.
//! Rows committed while the scan runs are picked up by the next refresh, which starts from
//! the position read before the scan began.

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use readiness_analytics::reports::{Blockers, RowBatch, RowRef};
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags};
use uuid::Uuid;

use super::report_columns;

const BY_ROWID: &str = concat!(report_columns!(), "WHERE rowid BETWEEN ?1 AND ?2");

/// A scan that failed, with what it was doing.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error("scanning {path}: {source}")]
    Sqlite {
        path: String,
        source: rusqlite::Error,
    },
    #[error("decoding a report row (rowids {from} to {to}): {reason}")]
    Decode { from: i64, to: i64, reason: String },
    #[error("a scanning thread panicked")]
    Panicked,
}

/// Every response in the file, as one batch per rowid range (in rowid order), read by up to
/// `threads` connections at once.
pub fn scan(
    path: &Path,
    versions: &HashMap<i32, i32>,
    threads: usize,
) -> Result<Vec<RowBatch>, ScanError> {
    let sqlite = |source| ScanError::Sqlite {
        path: path.display().to_string(),
        source,
    };
    let connection = open(path).map_err(sqlite)?;
    let (first, last): (Option<i64>, Option<i64>) = connection
        .query_row("SELECT min(rowid), max(rowid) FROM responses", [], |row| {
            Ok((row.get(0)?, row.get(1)?))
        })
        .map_err(sqlite)?;
    drop(connection);
    let (Some(first), Some(last)) = (first, last) else {
        return Ok(Vec::new());
    };
    let ranges = split(first, last, threads.max(1));
    std::thread::scope(|scope| {
        let workers: Vec<_> = ranges
            .iter()
            .map(|&(from, to)| scope.spawn(move || read_range(path, from, to, versions)))
            .collect();
        workers
            .into_iter()
            .map(|worker| worker.join().map_err(|_| ScanError::Panicked)?)
            .collect()
    })
}

/// `[first, last]` in `parts` contiguous ranges of about equal width.
fn split(first: i64, last: i64, parts: usize) -> Vec<(i64, i64)> {
    let parts = i64::try_from(parts).unwrap_or(1);
    let width = (last - first) / parts + 1;
    let mut ranges = Vec::new();
    let mut from = first;
    while from <= last {
        let to = from.saturating_add(width - 1).min(last);
        ranges.push((from, to));
        from = to + 1;
    }
    ranges
}

fn open(path: &Path) -> rusqlite::Result<Connection> {
    let connection = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    connection.busy_timeout(Duration::from_secs(30))?;
    Ok(connection)
}

fn read_range(
    path: &Path,
    from: i64,
    to: i64,
    versions: &HashMap<i32, i32>,
) -> Result<RowBatch, ScanError> {
    let sqlite = |source| ScanError::Sqlite {
        path: path.display().to_string(),
        source,
    };
    let connection = open(path).map_err(sqlite)?;
    let mut statement = connection.prepare(BY_ROWID).map_err(sqlite)?;
    let mut rows = statement.query([from, to]).map_err(sqlite)?;
    let expected = usize::try_from(to - from + 1).unwrap_or(0);
    let mut batch = RowBatch::with_capacity(expected);
    while let Some(row) = rows.next().map_err(sqlite)? {
        let bad = |reason: String| ScanError::Decode { from, to, reason };
        let value = |index: usize| row.get_ref(index).map_err(|e| bad(e.to_string()));
        let survey_id = i32::try_from(integer(value(2)?).map_err(&bad)?)
            .map_err(|e| bad(format!("survey_id: {e}")))?;
        let region = match value(6)? {
            ValueRef::Null => None,
            other => Some(text(other).map_err(&bad)?),
        };
        batch
            .push(
                RowRef {
                    id: uuid(value(0)?).map_err(&bad)?,
                    firm: uuid(value(1)?).map_err(&bad)?,
                    survey_id,
                    version: versions.get(&survey_id).copied().unwrap_or_default(),
                    industry: text(value(3)?).map_err(&bad)?,
                    size_band: text(value(4)?).map_err(&bad)?,
                    country: text(value(5)?).map_err(&bad)?,
                    region,
                    submitted_at: timestamp(value(15)?).map_err(&bad)?,
                    tier_rank: u8::try_from(integer(value(7)?).map_err(&bad)?)
                        .map_err(|e| bad(format!("tier_rank: {e}")))?,
                    ready_to_customise: integer(value(8)?).map_err(&bad)? != 0,
                    scores: [
                        real(value(10)?).map_err(&bad)?,
                        real(value(11)?).map_err(&bad)?,
                        real(value(12)?).map_err(&bad)?,
                        real(value(13)?).map_err(&bad)?,
                        real(value(14)?).map_err(&bad)?,
                    ],
                },
                Blockers::Json(text(value(9)?).map_err(&bad)?),
            )
            .map_err(|e| bad(e.to_string()))?;
    }
    Ok(batch)
}

fn integer(value: ValueRef<'_>) -> Result<i64, String> {
    match value {
        ValueRef::Integer(i) => Ok(i),
        other => Err(format!(
            "expected an integer, found {:?}",
            other.data_type()
        )),
    }
}

fn real(value: ValueRef<'_>) -> Result<f64, String> {
    match value {
        ValueRef::Real(r) => Ok(r),
        // SQLite keeps a REAL that is a whole number as written.
        ValueRef::Integer(i) => Ok(i as f64),
        other => Err(format!("expected a number, found {:?}", other.data_type())),
    }
}

fn text(value: ValueRef<'_>) -> Result<&str, String> {
    match value {
        ValueRef::Text(bytes) => std::str::from_utf8(bytes).map_err(|e| e.to_string()),
        other => Err(format!("expected text, found {:?}", other.data_type())),
    }
}

/// UUIDs are stored as 16-byte blobs; text is accepted too.
fn uuid(value: ValueRef<'_>) -> Result<u128, String> {
    match value {
        ValueRef::Blob(bytes) => Uuid::from_slice(bytes)
            .map(|u| u.as_u128())
            .map_err(|e| e.to_string()),
        ValueRef::Text(bytes) => std::str::from_utf8(bytes)
            .map_err(|e| e.to_string())
            .and_then(|t| Uuid::parse_str(t).map_err(|e| e.to_string()))
            .map(|u| u.as_u128()),
        other => Err(format!("expected a UUID, found {:?}", other.data_type())),
    }
}

/// Microseconds since the epoch of a stored timestamp (RFC 3339 text as the driver writes it,
/// or any form the driver itself reads back).
fn timestamp(value: ValueRef<'_>) -> Result<i64, String> {
    let text = text(value)?;
    if let Some(micros) = rfc3339_micros(text) {
        return Ok(micros);
    }
    chrono::DateTime::parse_from_rfc3339(text)
        .map(|t| t.timestamp_micros())
        .or_else(|_| {
            chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f")
                .map(|t| t.and_utc().timestamp_micros())
        })
        .map_err(|e| format!("timestamp {text:?}: {e}"))
}

/// The common form `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`, parsed without allocating;
/// `None` for anything else.
fn rfc3339_micros(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    let digits = |from: usize, len: usize| -> Option<i64> {
        let mut value = 0i64;
        for byte in b.get(from..from + len)? {
            if !byte.is_ascii_digit() {
                return None;
            }
            value = value * 10 + i64::from(byte - b'0');
        }
        Some(value)
    };
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b' ') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (year, month, day) = (digits(0, 4)?, digits(5, 2)?, digits(8, 2)?);
    let (hour, minute, second) = (digits(11, 2)?, digits(14, 2)?, digits(17, 2)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 {
        return None;
    }
    if second > 60 {
        return None;
    }
    let mut at = 19;
    let mut micros = 0i64;
    if b.get(at) == Some(&b'.') {
        at += 1;
        let start = at;
        while b.get(at).is_some_and(u8::is_ascii_digit) {
            if at - start < 6 {
                micros = micros * 10 + i64::from(b[at] - b'0');
            }
            at += 1;
        }
        let places = (at - start).min(6);
        if places == 0 {
            return None;
        }
        micros *= 10i64.pow(u32::try_from(6 - places).ok()?);
    }
    let offset_seconds = match b.get(at..)? {
        [b'Z'] => 0,
        [sign @ (b'+' | b'-'), _, _, b':', _, _] => {
            let hours = digits(at + 1, 2)?;
            let minutes = digits(at + 4, 2)?;
            let total = hours * 3600 + minutes * 60;
            if *sign == b'+' { total } else { -total }
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset_seconds;
    Some(seconds * 1_000_000 + micros)
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_from_march = (month + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, SecondsFormat, TimeZone, Utc};

    #[test]
    fn timestamps_parse_like_chrono() {
        let samples = [
            Utc.with_ymd_and_hms(2026, 11, 28, 23, 59, 59).unwrap(),
            Utc.with_ymd_and_hms(2024, 2, 29, 0, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(1999, 12, 31, 12, 30, 1).unwrap()
                + chrono::Duration::microseconds(123_456),
            Utc.with_ymd_and_hms(2030, 3, 1, 5, 6, 7).unwrap() + chrono::Duration::milliseconds(5),
            Utc.with_ymd_and_hms(1969, 7, 20, 20, 17, 40).unwrap()
                + chrono::Duration::nanoseconds(987_654_321),
        ];
        for at in samples {
            for format in [
                SecondsFormat::AutoSi,
                SecondsFormat::Micros,
                SecondsFormat::Secs,
            ] {
                for z in [false, true] {
                    let text = at.to_rfc3339_opts(format, z);
                    let expected = DateTime::parse_from_rfc3339(&text)
                        .unwrap()
                        .timestamp_micros();
                    assert_eq!(rfc3339_micros(&text), Some(expected), "{text}");
                }
            }
        }
        let offset = "2026-01-01T01:30:00.5+01:30";
        assert_eq!(
            rfc3339_micros(offset),
            Some(
                DateTime::parse_from_rfc3339(offset)
                    .unwrap()
                    .timestamp_micros()
            )
        );
        for odd in [
            "2026-13-01T00:00:00Z",
            "2026-01-01T00:00:00",
            "2026-01-01T00:00:00.Z",
            "garbage",
        ] {
            assert_eq!(rfc3339_micros(odd), None, "{odd}");
        }
    }

    #[test]
    fn ranges_cover_every_rowid_once() {
        for (first, last, parts) in [(1, 1, 2), (1, 10, 3), (5, 1_000_000, 2), (1, 7, 8)] {
            let ranges = split(first, last, parts);
            assert_eq!(ranges.first().map(|r| r.0), Some(first));
            assert_eq!(ranges.last().map(|r| r.1), Some(last));
            for pair in ranges.windows(2) {
                assert_eq!(pair[0].1 + 1, pair[1].0);
            }
            assert!(ranges.len() <= parts);
        }
    }
}
