//! The readiness and blockers reports of given responses with basis `all`, for checking the
//! clustered intervals against statsmodels (`analytics/check/cluster_crosscheck.py` runs it).
//!
//! ```text
//! cluster_intervals <responses.csv> [<margins.json>]
//! ```
//!
//! The responses are plain CSV without quoting, with the header
//! `id,firm,industry,size_band,tier_rank,blockers` (`blockers` joined by `;`). Counts are
//! published unperturbed with a threshold of 1, by `size_band`, weighted when margins
//! (dimension → category → count) are given. It writes `{"readiness": …, "blockers": …}`
//! to standard output, as the reports serialise.

use std::collections::BTreeMap;
use std::error::Error;
use std::sync::Arc;

use readiness_analytics::reports::disclosure::{DisclosurePolicy, PerturbationTable};
use readiness_analytics::reports::{
    Basis, DroppedCategories, Margins, ReportQuery, ResponseRow, SegmentField, SegmentFilter,
    Snapshot, blockers, readiness,
};
use readiness_analytics::{AI_READINESS_V1, Instrument};

fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (rows, margins) = match args.as_slice() {
        [rows] => (rows, None),
        [rows, margins] => (rows, Some(margins)),
        _ => return Err("usage: cluster_intervals <responses.csv> [<margins.json>]".into()),
    };
    let margins: Option<Margins> = match margins {
        Some(path) => Some(serde_json::from_str(&std::fs::read_to_string(path)?)?),
        None => None,
    };
    let mut snapshot = Snapshot::new();
    snapshot.append(read(&std::fs::read_to_string(rows)?)?)?;
    let instrument = Instrument::parse(AI_READINESS_V1)?;
    let query = ReportQuery {
        survey_ids: vec![1],
        from: None,
        until: None,
        basis: Basis::All,
        by: vec![SegmentField::SizeBand],
        segments: SegmentFilter::default(),
        disclosure: DisclosurePolicy::new(Arc::new(PerturbationTable::unperturbed()), Some(1)),
        dropped_categories: DroppedCategories::Report,
    };
    let report = serde_json::json!({
        "readiness": readiness(&snapshot, &instrument, &query, margins.as_ref())?,
        "blockers": blockers(&snapshot, &instrument, &query, margins.as_ref())?,
    });
    println!("{report}");
    Ok(())
}

fn read(text: &str) -> Result<Vec<ResponseRow>, Box<dyn Error>> {
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let header = lines.next().ok_or("the responses are empty")?;
    if header != "id,firm,industry,size_band,tier_rank,blockers" {
        return Err(format!("unexpected header `{header}`").into());
    }
    let mut keys = BTreeMap::new();
    let mut rows = Vec::new();
    for line in lines {
        let fields: Vec<&str> = line.split(',').collect();
        let [id, firm, industry, size_band, tier_rank, blockers] = fields.as_slice() else {
            return Err(format!("expected 6 fields: `{line}`").into());
        };
        let firm: u128 = firm.parse()?;
        let next_key = u8::try_from(keys.len() % 256)?;
        let record_key = *keys.entry(firm).or_insert(next_key);
        let tier_rank: u8 = tier_rank.parse()?;
        rows.push(ResponseRow {
            id: id.parse()?,
            firm,
            record_key,
            survey_id: 1,
            version: 1,
            industry: (*industry).to_owned(),
            size_band: (*size_band).to_owned(),
            country: "DE".to_owned(),
            region: None,
            submitted_at: 1_790_812_800_000_000 + i64::try_from(rows.len())?,
            tier_rank,
            ready_to_customise: tier_rank >= 3,
            blockers: blockers
                .split(';')
                .filter(|b| !b.is_empty())
                .map(str::to_owned)
                .collect(),
            scores: [0.0; 5],
        });
    }
    Ok(rows)
}
