//! Reading SQLite files straight through `rusqlite`: read-only connections, and values in the
//! forms the pool's driver writes them (UUIDs as 16-byte blobs, timestamps as RFC 3339 text).

use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, Utc};
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags, Row};
use uuid::Uuid;

/// A read-only connection that waits up to `busy_timeout` for a lock (a reader of a WAL
/// database waits only while the WAL is recovered).
pub(crate) fn open_read_only(path: &Path, busy_timeout: Duration) -> rusqlite::Result<Connection> {
    let connection = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    connection.busy_timeout(busy_timeout)?;
    Ok(connection)
}

/// A column of a row, with SQLite's error as text (as the decoders below report theirs).
pub(crate) fn column<'r>(row: &'r Row<'_>, index: usize) -> Result<ValueRef<'r>, String> {
    row.get_ref(index).map_err(|e| e.to_string())
}

pub(crate) fn integer(value: ValueRef<'_>) -> Result<i64, String> {
    match value {
        ValueRef::Integer(i) => Ok(i),
        other => Err(format!(
            "expected an integer, found {:?}",
            other.data_type()
        )),
    }
}

pub(crate) fn real(value: ValueRef<'_>) -> Result<f64, String> {
    match value {
        ValueRef::Real(r) => Ok(r),
        // SQLite keeps a REAL that is a whole number as written.
        ValueRef::Integer(i) => Ok(i as f64),
        other => Err(format!("expected a number, found {:?}", other.data_type())),
    }
}

pub(crate) fn text(value: ValueRef<'_>) -> Result<&str, String> {
    match value {
        ValueRef::Text(bytes) => std::str::from_utf8(bytes).map_err(|e| e.to_string()),
        other => Err(format!("expected text, found {:?}", other.data_type())),
    }
}

/// UUIDs are stored as 16-byte blobs; text is accepted too.
pub(crate) fn uuid(value: ValueRef<'_>) -> Result<u128, String> {
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
pub(crate) fn timestamp(value: ValueRef<'_>) -> Result<i64, String> {
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

/// A stored timestamp as a `DateTime<Utc>`.
pub(crate) fn datetime(value: ValueRef<'_>) -> Result<DateTime<Utc>, String> {
    let micros = timestamp(value)?;
    DateTime::from_timestamp_micros(micros)
        .ok_or_else(|| format!("timestamp {micros} out of range"))
}

/// A nullable stored timestamp.
pub(crate) fn optional_datetime(value: ValueRef<'_>) -> Result<Option<DateTime<Utc>>, String> {
    match value {
        ValueRef::Null => Ok(None),
        other => datetime(other).map(Some),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{SecondsFormat, TimeZone};

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
}
