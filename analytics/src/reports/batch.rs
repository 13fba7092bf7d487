//! Rows on their way into a snapshot, held column by column.
//!
//! A store decodes each row straight into a [`RowBatch`]: strings are looked up in the batch's
//! own small dictionaries while they are still borrowed from the driver, and blocker lists are
//! parsed once per distinct list. Several batches can be filled at once (one per reader
//! thread); [`super::Snapshot::append_batch`] translates their codes into the snapshot's.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use super::calendar::{month_index, quarter_index};
use super::snapshot::{Dictionary, NO_REGION, ResponseRow};

/// One scored response, borrowed from wherever it was decoded.
#[derive(Debug, Clone, Copy)]
pub struct RowRef<'a> {
    pub id: u128,
    pub firm: u128,
    /// The firm's record key for disclosure control, drawn once at random and kept with it.
    pub record_key: u8,
    pub survey_id: i32,
    pub version: i32,
    pub industry: &'a str,
    pub size_band: &'a str,
    pub country: &'a str,
    pub region: Option<&'a str>,
    /// Microseconds since the Unix epoch, UTC.
    pub submitted_at: i64,
    pub tier_rank: u8,
    pub ready_to_customise: bool,
    /// maturity, clarity, vendor_gap, capability, governance.
    pub scores: [f64; 5],
}

/// A row's failed gates of the next tier, as stored or as a list.
#[derive(Debug, Clone, Copy)]
pub enum Blockers<'a> {
    /// A JSON array of gate ids, as the database keeps it.
    Json(&'a str),
    List(&'a [String]),
}

/// A blocker list that is not a JSON array of strings.
#[derive(Debug, thiserror::Error)]
#[error("blockers are not a JSON array of gate ids: {0}")]
pub struct BadBlockers(String);

/// Rows in columns, with codes local to this batch.
#[derive(Debug, Default)]
pub struct RowBatch {
    pub(crate) ids: Vec<u128>,
    pub(crate) firms: Vec<u128>,
    pub(crate) record_keys: Vec<u8>,
    pub(crate) survey: Vec<i32>,
    pub(crate) version: Vec<i32>,
    pub(crate) industry: Vec<i32>,
    pub(crate) size_band: Vec<i32>,
    pub(crate) country: Vec<i32>,
    pub(crate) region: Vec<i32>,
    pub(crate) submitted_at: Vec<i64>,
    pub(crate) month: Vec<i32>,
    pub(crate) quarter: Vec<i32>,
    pub(crate) tier_rank: Vec<u8>,
    pub(crate) ready: Vec<bool>,
    pub(crate) scores: [Vec<f64>; 5],
    /// Index into `blocker_sets` per row.
    pub(crate) blocker_set: Vec<u32>,
    pub(crate) industries: Dictionary,
    pub(crate) size_bands: Dictionary,
    pub(crate) countries: Dictionary,
    pub(crate) regions: Dictionary,
    /// Distinct blocker lists seen, as gate ids.
    pub(crate) blocker_sets: Vec<Vec<String>>,
    blocker_keys: HashMap<String, u32>,
}

impl RowBatch {
    pub fn with_capacity(rows: usize) -> Self {
        Self {
            ids: Vec::with_capacity(rows),
            firms: Vec::with_capacity(rows),
            record_keys: Vec::with_capacity(rows),
            survey: Vec::with_capacity(rows),
            version: Vec::with_capacity(rows),
            industry: Vec::with_capacity(rows),
            size_band: Vec::with_capacity(rows),
            country: Vec::with_capacity(rows),
            region: Vec::with_capacity(rows),
            submitted_at: Vec::with_capacity(rows),
            month: Vec::with_capacity(rows),
            quarter: Vec::with_capacity(rows),
            tier_rank: Vec::with_capacity(rows),
            ready: Vec::with_capacity(rows),
            scores: std::array::from_fn(|_| Vec::with_capacity(rows)),
            blocker_set: Vec::with_capacity(rows),
            ..Self::default()
        }
    }

    /// A batch of owned rows.
    pub fn from_rows(rows: &[ResponseRow]) -> Self {
        let mut batch = Self::with_capacity(rows.len());
        for row in rows {
            // A list never fails to parse.
            let _ = batch.push(
                RowRef {
                    id: row.id,
                    firm: row.firm,
                    record_key: row.record_key,
                    survey_id: row.survey_id,
                    version: row.version,
                    industry: &row.industry,
                    size_band: &row.size_band,
                    country: &row.country,
                    region: row.region.as_deref(),
                    submitted_at: row.submitted_at,
                    tier_rank: row.tier_rank,
                    ready_to_customise: row.ready_to_customise,
                    scores: row.scores,
                },
                Blockers::List(&row.blockers),
            );
        }
        batch
    }

    /// Rows held.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Adds one row; nothing is added when its blockers do not parse.
    pub fn push(&mut self, row: RowRef<'_>, blockers: Blockers<'_>) -> Result<(), BadBlockers> {
        let set = self.blocker_set_of(blockers)?;
        self.ids.push(row.id);
        self.firms.push(row.firm);
        self.record_keys.push(row.record_key);
        self.survey.push(row.survey_id);
        self.version.push(row.version);
        self.industry.push(self.industries.code(row.industry));
        self.size_band.push(self.size_bands.code(row.size_band));
        self.country.push(self.countries.code(row.country));
        self.region
            .push(row.region.map_or(NO_REGION, |r| self.regions.code(r)));
        self.submitted_at.push(row.submitted_at);
        self.month.push(month_index(row.submitted_at));
        self.quarter.push(quarter_index(row.submitted_at));
        self.tier_rank.push(row.tier_rank);
        self.ready.push(row.ready_to_customise);
        for (column, value) in self.scores.iter_mut().zip(row.scores) {
            column.push(value);
        }
        self.blocker_set.push(set);
        Ok(())
    }

    fn blocker_set_of(&mut self, blockers: Blockers<'_>) -> Result<u32, BadBlockers> {
        let joined;
        let key = match blockers {
            Blockers::Json(text) => text,
            Blockers::List(list) => {
                joined = list.join("\n");
                joined.as_str()
            }
        };
        if let Some(set) = self.blocker_keys.get(key) {
            return Ok(*set);
        }
        let gates = match blockers {
            Blockers::Json(text) => serde_json::from_str::<Vec<String>>(text)
                .map_err(|e| BadBlockers(format!("{e}: {text}")))?,
            Blockers::List(list) => list.to_vec(),
        };
        let set = u32::try_from(self.blocker_sets.len()).unwrap_or(u32::MAX);
        self.blocker_sets.push(gates);
        self.blocker_keys.insert(key.to_owned(), set);
        Ok(set)
    }
}

/// Hashes response and firm ids (random or time-ordered UUIDs), and the bits of scores, with
/// one multiply instead of SipHash: a million of them are looked up whenever a snapshot loads.
#[derive(Debug, Default, Clone, Copy)]
pub struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 = (self.0.rotate_left(5) ^ u64::from(*byte)).wrapping_mul(0x517c_c1b7_2722_0a95);
        }
    }

    fn write_u128(&mut self, value: u128) {
        // Both halves count: v7 UUIDs keep their randomness in the low half, sequential
        // test ids in the low bits of it.
        let folded = (value as u64) ^ ((value >> 64) as u64).rotate_left(32);
        self.0 = (self.0 ^ folded).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        self.0 ^= self.0 >> 29;
    }

    fn write_u32(&mut self, value: u32) {
        self.write_u128(u128::from(value));
    }

    fn write_u64(&mut self, value: u64) {
        self.write_u128(u128::from(value));
    }
}

pub type IdMap<V> = HashMap<u128, V, BuildHasherDefault<IdHasher>>;
pub type IdSet = std::collections::HashSet<u128, BuildHasherDefault<IdHasher>>;
