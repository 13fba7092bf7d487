//! The first load of a PostgreSQL database: every response in one `COPY … TO STDOUT` in
//! binary, decoded as it streams in, instead of pages of rows through the pool.
//!
//! The server sends each value in its binary form (a UUID as 16 bytes, a time as
//! microseconds), so nothing is parsed from text but the strings themselves. The firms' record
//! keys are read first, into a map by firm id, and given to each row as it is decoded: without
//! a join, PostgreSQL sends the rows as it walks the index by receipt time, while the server
//! decodes them, instead of joining and sorting the whole table before it sends the first.

use std::collections::HashMap;

use futures::TryStreamExt;
use readiness_analytics::reports::{Blockers, RowBatch, RowRef};
use sea_orm::sqlx::{self, PgPool};
use tokio::sync::mpsc::Sender;

use super::{RecordKeys, Watermark, record_key_in};

/// The response columns as [`super::response_columns`] names them, each cast to the type
/// decoded below.
const COLUMNS: &str = "r.id, r.firm_id, r.survey_id::int4, r.industry::text, \
     r.size_band::text, r.country::text, r.region::text, r.tier_rank::int2, \
     r.ready_to_customise, r.blockers::text, r.score_maturity::float8, \
     r.score_clarity::float8, r.score_vendor_gap::float8, r.score_capability::float8, \
     r.score_governance::float8, r.submitted_at, r.received_at";
const FIELDS: usize = 17;

/// The binary copy format's signature, flags and header extension length.
const HEADER: &[u8] = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0";

/// Microseconds from the Unix epoch to PostgreSQL's (2000-01-01).
const POSTGRES_EPOCH_MICROS: i64 = 946_684_800_000_000;

/// Rows per batch handed over.
const BATCH: usize = 50_000;

/// Every response received up to `until` (inclusive), sent to `sink` as batches in receipt
/// order. The copy goes on while the receiver works on a batch (up to the channel's
/// capacity); it stops with an error if the receiver is dropped.
pub async fn copy(
    pool: &PgPool,
    until: Watermark,
    versions: &HashMap<i32, i32>,
    sink: &Sender<RowBatch>,
) -> Result<(), String> {
    let (at, id) = until;
    // Values of our own making (a time and a UUID), written as literals: COPY takes no
    // parameters.
    let statement = format!(
        "COPY (SELECT {COLUMNS} FROM responses r \
         WHERE (r.received_at, r.id) <= ('{}'::timestamptz, '{}'::uuid) \
         ORDER BY r.received_at, r.id) TO STDOUT (FORMAT binary)",
        at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        id.hyphenated()
    );
    // In a transaction of its own, so that JIT compilation is off for this statement only:
    // compiling its expressions cost about 0.1 s of a 1.7 s copy of a million rows, which
    // the one pass over them does not win back.
    let mut transaction = pool
        .begin()
        .await
        .map_err(|e| format!("starting the copy: {e}"))?;
    sqlx::query("SET LOCAL jit = off")
        .execute(&mut *transaction)
        .await
        .map_err(|e| format!("starting the copy: {e}"))?;
    // Every firm of a response up to `until` committed with it, before `until` was read.
    let mut record_keys = RecordKeys::default();
    let mut firms =
        sqlx::query_as::<_, (uuid::Uuid, Option<i16>)>("SELECT id, record_key::int2 FROM firms")
            .fetch(&mut *transaction);
    while let Some((firm, key)) = firms
        .try_next()
        .await
        .map_err(|e| format!("reading the firms' record keys: {e}"))?
    {
        record_keys.insert(firm.as_u128(), super::record_key_of(key.map(i64::from)));
    }
    drop(firms);
    let mut stream = transaction
        .copy_out_raw(&statement)
        .await
        .map_err(|e| format!("starting the copy: {e}"))?;
    let mut decoder = Decoder::new(versions, &record_keys);
    let mut pending: Vec<u8> = Vec::new();
    while let Some(chunk) = stream
        .try_next()
        .await
        .map_err(|e| format!("reading the copy: {e}"))?
    {
        pending.extend_from_slice(&chunk);
        let used = decoder.decode(&pending)?;
        pending.drain(..used);
        for batch in decoder.full.drain(..) {
            send(sink, batch).await?;
        }
    }
    drop(stream);
    transaction
        .commit()
        .await
        .map_err(|e| format!("ending the copy: {e}"))?;
    if !decoder.finished {
        return Err("the copy ended before its trailer".to_owned());
    }
    send(sink, decoder.batch).await
}

async fn send(sink: &Sender<RowBatch>, batch: RowBatch) -> Result<(), String> {
    sink.send(batch)
        .await
        .map_err(|_| "the rows' receiver stopped".to_owned())
}

struct Decoder<'v> {
    versions: &'v HashMap<i32, i32>,
    record_keys: &'v RecordKeys,
    header_read: bool,
    finished: bool,
    batch: RowBatch,
    /// Full batches not yet handed over.
    full: Vec<RowBatch>,
}

/// A field's bytes (`None` for NULL).
type Field<'a> = Option<&'a [u8]>;

impl<'v> Decoder<'v> {
    fn new(versions: &'v HashMap<i32, i32>, record_keys: &'v RecordKeys) -> Self {
        Self {
            versions,
            record_keys,
            header_read: false,
            finished: false,
            batch: RowBatch::with_capacity(BATCH),
            full: Vec::new(),
        }
    }

    /// Decodes every whole tuple at the start of `bytes`; returns how many bytes it used.
    fn decode(&mut self, bytes: &[u8]) -> Result<usize, String> {
        let mut at = 0;
        if !self.header_read {
            if bytes.len() < HEADER.len() {
                return Ok(0);
            }
            if bytes.get(..HEADER.len()) != Some(HEADER) {
                return Err("the copy does not start with the binary header".to_owned());
            }
            self.header_read = true;
            at = HEADER.len();
        }
        while !self.finished {
            let Some((fields, next)) = tuple(bytes, at)? else {
                break;
            };
            match fields {
                None => self.finished = true,
                Some(fields) => self.push(&fields)?,
            }
            at = next;
        }
        Ok(at)
    }

    fn push(&mut self, fields: &[Field<'_>; FIELDS]) -> Result<(), String> {
        let [
            id,
            firm,
            survey_id,
            industry,
            size_band,
            country,
            region,
            tier_rank,
            ready,
            blockers,
            maturity,
            clarity,
            vendor_gap,
            capability,
            governance,
            submitted_at,
            _received_at,
        ] = fields;
        let survey_id = i32::from_be_bytes(fixed(*survey_id, "survey_id")?);
        let score = |field: &Field<'_>, name| fixed(*field, name).map(f64::from_be_bytes);
        let firm = u128::from_be_bytes(fixed(*firm, "firm_id")?);
        let row = RowRef {
            id: u128::from_be_bytes(fixed(*id, "id")?),
            firm,
            record_key: record_key_in(self.record_keys, firm),
            survey_id,
            version: self.versions.get(&survey_id).copied().unwrap_or_default(),
            industry: text(*industry, "industry")?,
            size_band: text(*size_band, "size_band")?,
            country: text(*country, "country")?,
            region: region.map(|r| text(Some(r), "region")).transpose()?,
            submitted_at: i64::from_be_bytes(fixed(*submitted_at, "submitted_at")?)
                + POSTGRES_EPOCH_MICROS,
            tier_rank: u8::try_from(i16::from_be_bytes(fixed(*tier_rank, "tier_rank")?))
                .map_err(|e| format!("tier_rank: {e}"))?,
            ready_to_customise: fixed::<1>(*ready, "ready_to_customise")? != [0],
            scores: [
                score(maturity, "score_maturity")?,
                score(clarity, "score_clarity")?,
                score(vendor_gap, "score_vendor_gap")?,
                score(capability, "score_capability")?,
                score(governance, "score_governance")?,
            ],
        };
        self.batch
            .push(row, Blockers::Json(text(*blockers, "blockers")?))
            .map_err(|e| e.to_string())?;
        if self.batch.len() >= BATCH {
            let full = std::mem::replace(&mut self.batch, RowBatch::with_capacity(BATCH));
            self.full.push(full);
        }
        Ok(())
    }
}

/// The tuple starting at `at`, if it is all in `bytes`: its fields (`None` for the trailer)
/// and the position after it.
#[allow(clippy::type_complexity)]
fn tuple(bytes: &[u8], at: usize) -> Result<Option<(Option<[Field<'_>; FIELDS]>, usize)>, String> {
    let Some(count) = read::<2>(bytes, at).map(i16::from_be_bytes) else {
        return Ok(None);
    };
    let mut at = at + 2;
    if count == -1 {
        return Ok(Some((None, at)));
    }
    if usize::try_from(count).ok() != Some(FIELDS) {
        return Err(format!("a row of {count} fields, not {FIELDS}"));
    }
    let mut fields = [None; FIELDS];
    for field in &mut fields {
        let Some(length) = read::<4>(bytes, at).map(i32::from_be_bytes) else {
            return Ok(None);
        };
        at += 4;
        match usize::try_from(length) {
            // -1: NULL
            Err(_) => *field = None,
            Ok(length) => match bytes.get(at..at + length) {
                Some(value) => {
                    *field = Some(value);
                    at += length;
                }
                None => return Ok(None),
            },
        }
    }
    Ok(Some((Some(fields), at)))
}

fn read<const N: usize>(bytes: &[u8], at: usize) -> Option<[u8; N]> {
    bytes.get(at..at + N)?.try_into().ok()
}

/// A fixed-width value, refused when NULL or of another width.
fn fixed<const N: usize>(field: Field<'_>, name: &str) -> Result<[u8; N], String> {
    field
        .and_then(|value| value.try_into().ok())
        .ok_or_else(|| format!("{name}: expected {N} bytes"))
}

fn text<'a>(field: Field<'a>, name: &str) -> Result<&'a str, String> {
    std::str::from_utf8(field.ok_or_else(|| format!("{name}: unexpected NULL"))?)
        .map_err(|e| format!("{name}: {e}"))
}
