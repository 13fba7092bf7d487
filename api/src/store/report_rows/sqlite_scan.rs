//! The first load of a SQLite file: every response, read by rowid range on several
//! read-only connections at once, each decoding straight into its own [`RowBatch`].
//!
//! This is the path a cold report waits on, a million rows at a time. The pool's driver
//! copies every value of every row into an owned row before it can be decoded; here the
//! values are read where SQLite keeps them, and strings are looked up without being copied.
//! Rows committed while the scan runs are picked up by the next refresh, which starts from
//! the position read before the scan began. The firms' record keys are read once into a map
//! rather than looked up in the firms' index for each response.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use readiness_analytics::reports::{Blockers, RowBatch, RowRef};
use rusqlite::types::ValueRef;

use super::{RecordKeys, record_key_in, response_columns};
use crate::store::sqlite_values::{integer, open_read_only, real, text, timestamp, uuid};

const BY_ROWID: &str = concat!(
    "SELECT ",
    response_columns!(),
    " FROM responses WHERE rowid BETWEEN ?1 AND ?2"
);
const RECORD_KEYS: &str = "SELECT id, record_key FROM firms";

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
    #[error("decoding a firm's record key: {0}")]
    RecordKey(String),
    #[error("a scanning thread panicked")]
    Panicked,
    #[error("the scan's reader stopped")]
    Stopped,
}

/// Rowids per batch handed over.
const RANGE_ROWIDS: i64 = 65_536;

/// Every response in the file, read by `threads` connections at once, each taking the next
/// range of [`RANGE_ROWIDS`] rowids when done with one. Each range's batch goes to `sink` with
/// its index, so the caller can take them in rowid order; a `sink` that returns false (its
/// reader stopped) ends the scan.
pub fn scan(
    path: &Path,
    versions: &HashMap<i32, i32>,
    threads: usize,
    sink: &(dyn Fn(usize, RowBatch) -> bool + Sync),
) -> Result<(), ScanError> {
    let sqlite = |source| ScanError::Sqlite {
        path: path.display().to_string(),
        source,
    };
    let connection = open_read_only(path, Duration::from_secs(30)).map_err(sqlite)?;
    let (first, last): (Option<i64>, Option<i64>) = connection
        .query_row("SELECT min(rowid), max(rowid) FROM responses", [], |row| {
            Ok((row.get(0)?, row.get(1)?))
        })
        .map_err(sqlite)?;
    let (Some(first), Some(last)) = (first, last) else {
        return Ok(());
    };
    // Read after the range: every response in it was committed with its firm before.
    let keys = record_keys(&connection, sqlite)?;
    drop(connection);
    let keys = &keys;
    let parts = usize::try_from((last - first) / RANGE_ROWIDS + 1).unwrap_or(1);
    let ranges = &split(first, last, parts);
    let next = &AtomicUsize::new(0);
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads.max(1))
            .map(|_| {
                scope.spawn(move || {
                    let connection =
                        open_read_only(path, Duration::from_secs(30)).map_err(sqlite)?;
                    let mut statement = connection.prepare(BY_ROWID).map_err(sqlite)?;
                    loop {
                        let index = next.fetch_add(1, Ordering::Relaxed);
                        let Some(&(from, to)) = ranges.get(index) else {
                            return Ok(());
                        };
                        let batch = read_range(path, &mut statement, (from, to), versions, keys)?;
                        if !sink(index, batch) {
                            return Err(ScanError::Stopped);
                        }
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .try_for_each(|worker| worker.join().map_err(|_| ScanError::Panicked)?)
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

/// Every firm's record key (0–255).
fn record_keys(
    connection: &rusqlite::Connection,
    sqlite: impl Fn(rusqlite::Error) -> ScanError,
) -> Result<RecordKeys, ScanError> {
    let mut statement = connection.prepare(RECORD_KEYS).map_err(&sqlite)?;
    let mut rows = statement.query([]).map_err(&sqlite)?;
    let mut keys = RecordKeys::default();
    while let Some(row) = rows.next().map_err(&sqlite)? {
        let value = |index| row.get_ref(index).map_err(&sqlite);
        let firm = uuid(value(0)?).map_err(ScanError::RecordKey)?;
        let key = match value(1)? {
            ValueRef::Null => None,
            other => Some(integer(other).map_err(ScanError::RecordKey)?),
        };
        keys.insert(firm, super::record_key_of(key));
    }
    Ok(keys)
}

/// The rows of rowids `from` to `to` (of the file at `path`, for errors).
fn read_range(
    path: &Path,
    statement: &mut rusqlite::Statement<'_>,
    (from, to): (i64, i64),
    versions: &HashMap<i32, i32>,
    keys: &RecordKeys,
) -> Result<RowBatch, ScanError> {
    let sqlite = |source| ScanError::Sqlite {
        path: path.display().to_string(),
        source,
    };
    let mut rows = statement.query([from, to]).map_err(sqlite)?;
    let expected = usize::try_from(to - from + 1).unwrap_or(0);
    let mut batch = RowBatch::with_capacity(expected);
    while let Some(row) = rows.next().map_err(sqlite)? {
        let bad = |reason: String| ScanError::Decode { from, to, reason };
        let value = |index: usize| row.get_ref(index).map_err(|e| bad(e.to_string()));
        let firm = uuid(value(1)?).map_err(&bad)?;
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
                    firm,
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
                    record_key: record_key_in(keys, firm),
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

#[cfg(test)]
mod tests {
    use super::*;

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
