//! Synthetic but plausible firms and answers, so a new installation shows a real report.
//!
//! The distributions (documented here, and the same for the same seed):
//! - size band: micro 60 %, small 28 %, medium 10 %, large 2 % (volunteer samples of small
//!   firms are dominated by micro firms);
//! - industry (NACE section): G trade 22 %, M professional services 16 %, C manufacturing
//!   12 %, F construction 10 %, J ICT 9 %, I accommodation and food 8 %, S other services 7 %,
//!   N administrative services 6 %, H transport 5 %, Q health 5 %;
//! - country: DE 20 %, FR 15 %, IT 14 %, ES 12 %, NL 8 %, PL 8 %, AT 5 %, BE 5 %, SE 5 %,
//!   IE 4 %, PT 4 %; a third of firms give an ISO 3166-2 region;
//! - each firm has a latent capability in 0–1: 0.36 (micro), 0.50 (small), 0.62 (medium),
//!   0.72 (large), +0.15 for ICT and +0.05 for professional services, ± up to 0.35 at random;
//!   each answer is the option nearest to capability ± up to 0.15 at random (a firm answers
//!   consistently), so larger and more digital firms answer higher; a firm answering again
//!   has grown by 0.04;
//! - `vendor_result` is categorical: firms below capability 0.6 have mostly not measured their
//!   vendor results (not measured 40 %, good enough 25 %, missing company facts 15 %, format
//!   or consistency 15 %, hard constraint 5 %); more capable firms have (not measured 10 %,
//!   good enough 30 %, missing company facts 25 %, format or consistency 25 %, hard
//!   constraint 10 %);
//! - submissions are spread evenly over the 22 months from January 2025;
//! - the follow-up wave (`readiness demo --follow-up`, 0.2 by default): that share of the
//!   firms, drawn independently of everything above, answers once more 90 to 270 days after
//!   its last response (halfway to the end of the 22 months when that would be later), having grown
//!   by 0.05–0.30 in capability (60 % of them) or not at all, so the change report between a
//!   baseline and a later window finds firms that moved up and firms that stayed. The wave
//!   draws from a generator of its own, so the rest of the data is the same with or without
//!   it, and the same seed and share give the same wave.
//!
//! With seed 42 and 5,000 firms this gives 2.4 % ready to customise (micro 0.3 %, small
//! 2.6 %, medium 9.7 %, large 28 %; ICT 7.6 %), most firms at vendor prompting: the sample a
//! small-firm survey would plausibly collect.
//!
//! Answers are validated and scored by the real rubric before they are stored.

use chrono::{DateTime, Duration, TimeZone, Utc};
use readiness_analytics::{Instrument, validate};
use serde_json::{Map, Value, json};

use anyhow::Context;
use sea_orm::DatabaseConnection;

use crate::domain::Submission;
use crate::services::catalog::{Catalog, Entry};
use crate::services::submissions::{Source, new_response};
use crate::store::responses::NewResponse;
use crate::store::responses::ResponseStore;
use crate::store::surveys::SurveyQuery;

/// A small, fast, deterministic generator (SplitMix64).
pub struct Random(u64);

impl Random {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in [-spread, spread).
    fn jitter(&mut self, spread: f64) -> f64 {
        (self.unit() * 2.0 - 1.0) * spread
    }

    fn pick<'a, T>(&mut self, weighted: &'a [(T, f64)]) -> &'a T {
        let total: f64 = weighted.iter().map(|(_, w)| w).sum();
        let mut target = self.unit() * total;
        for (value, weight) in weighted {
            if target < *weight {
                return value;
            }
            target -= weight;
        }
        &weighted[weighted.len() - 1].0
    }
}

const SIZE_BANDS: &[(&str, f64)] = &[
    ("micro", 60.0),
    ("small", 28.0),
    ("medium", 10.0),
    ("large", 2.0),
];
const INDUSTRIES: &[(&str, f64)] = &[
    ("G", 22.0),
    ("M", 16.0),
    ("C", 12.0),
    ("F", 10.0),
    ("J", 9.0),
    ("I", 8.0),
    ("S", 7.0),
    ("N", 6.0),
    ("H", 5.0),
    ("Q", 5.0),
];
const COUNTRIES: &[((&str, &[&str]), f64)] = &[
    (("DE", &["DE-BY", "DE-BW", "DE-NW", "DE-BE"]), 20.0),
    (("FR", &["FR-IDF", "FR-ARA", "FR-OCC"]), 15.0),
    (("IT", &["IT-25", "IT-62", "IT-72"]), 14.0),
    (("ES", &["ES-MD", "ES-CT", "ES-AN"]), 12.0),
    (("NL", &["NL-NH", "NL-ZH"]), 8.0),
    (("PL", &["PL-14", "PL-24"]), 8.0),
    (("AT", &["AT-9", "AT-6"]), 5.0),
    (("BE", &["BE-VLG", "BE-WAL"]), 5.0),
    (("SE", &["SE-AB", "SE-O"]), 5.0),
    (("IE", &["IE-D"]), 4.0),
    (("PT", &["PT-11", "PT-13"]), 4.0),
];
const VENDOR_RESULTS: &[(&str, f64)] = &[
    ("not_measured", 40.0),
    ("good_enough", 25.0),
    ("missing_company_facts", 15.0),
    ("format_or_consistency", 15.0),
    ("hard_constraint", 5.0),
];
const VENDOR_RESULTS_MEASURED: &[(&str, f64)] = &[
    ("not_measured", 10.0),
    ("good_enough", 30.0),
    ("missing_company_facts", 25.0),
    ("format_or_consistency", 25.0),
    ("hard_constraint", 10.0),
];

/// Stores `firms` demo firms with `responses_per_firm` responses each to the latest
/// `ai-readiness` version; `progress` hears the running total. Returns the responses stored.
pub async fn fill(
    db: &DatabaseConnection,
    firms: u64,
    responses_per_firm: u32,
    seed: u64,
    progress: impl FnMut(u64),
) -> anyhow::Result<u64> {
    fill_with_follow_up(db, firms, responses_per_firm, 0.0, seed, progress).await
}

/// As [`fill`], and a share `follow_up` (0–1) of the firms answers once more later (the
/// follow-up wave described above).
pub async fn fill_with_follow_up(
    db: &DatabaseConnection,
    firms: u64,
    responses_per_firm: u32,
    follow_up: f64,
    seed: u64,
    mut progress: impl FnMut(u64),
) -> anyhow::Result<u64> {
    let survey = SurveyQuery::latest_published(db, "ai-readiness")
        .await?
        .context("the ai-readiness survey is not published")?;
    let entry = Catalog::default()
        .entry(&survey)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut random = Random::new(seed);
    let now = crate::domain::submission::to_stored_precision(Utc::now());
    let mut stored = 0;
    let mut batch = Vec::new();
    for number in 0..firms {
        batch.extend(firm_responses(
            &mut random,
            &entry,
            seed,
            number,
            (responses_per_firm, follow_up),
            now,
        )?);
        if batch.len() >= 20_000 || number + 1 == firms {
            stored += ResponseStore::insert_bulk(db, std::mem::take(&mut batch)).await?;
            progress(stored);
        }
    }
    Ok(stored)
}

/// One demo firm with its responses (and, with probability `follow_up`, one more of the
/// follow-up wave), scored.
pub fn firm_responses(
    random: &mut Random,
    entry: &Entry,
    seed: u64,
    number: u64,
    (responses, follow_up): (u32, f64),
    now: DateTime<Utc>,
) -> anyhow::Result<Vec<NewResponse>> {
    let size = *random.pick(SIZE_BANDS);
    let industry = *random.pick(INDUSTRIES);
    let (country, regions) = *random.pick(COUNTRIES);
    let region = (random.unit() < 1.0 / 3.0)
        .then(|| regions[usize::try_from(random.next_u64() % regions.len() as u64).unwrap_or(0)]);
    let base = match size {
        "micro" => 0.36,
        "small" => 0.50,
        "medium" => 0.62,
        _ => 0.72,
    } + match industry {
        "J" => 0.15,
        "M" => 0.05,
        _ => 0.0,
    } + random.jitter(0.35);

    let start = Utc
        .with_ymd_and_hms(2025, 1, 1, 0, 0, 0)
        .single()
        .unwrap_or(now);
    let span_seconds = 22 * 30 * 24 * 3600;
    let mut times: Vec<DateTime<Utc>> = (0..responses)
        .map(|_| start + Duration::seconds((random.unit() * span_seconds as f64) as i64))
        .collect();
    times.sort();

    let firm = json!({"ref": format!("demo-{seed}-{number:07}"), "industry": industry,
        "size_band": size, "country": country, "region": region});
    // The follow-up wave has a generator of its own, so the rest is the same without it.
    let mut wave = Random::new(seed ^ FOLLOW_UP_SALT ^ number.wrapping_mul(0x2545_f491_4f6c_dd1d));
    let rounds = times.len();
    let last = times.last().copied().unwrap_or(start);
    if wave.unit() < follow_up {
        // Not after the 22 months (not after now either), so the same seed gives the same wave.
        let yesterday = (start + Duration::seconds(span_seconds)).min(now - Duration::days(1));
        let later = last + Duration::seconds((wave.unit() * 180.0 * 86_400.0) as i64 + 90 * 86_400);
        let at = if later <= yesterday {
            later
        } else {
            last + (yesterday - last) / 2
        };
        let growth = if wave.unit() < 0.6 {
            0.05 + 0.25 * wave.unit()
        } else {
            0.0
        };
        times.push(at.max(last));
        let mut out = Vec::with_capacity(times.len());
        for (answer_round, submitted_at) in times.into_iter().enumerate() {
            let capability = if answer_round < rounds {
                base + 0.04 * answer_round as f64
            } else {
                base + 0.04 * (rounds - 1) as f64 + growth
            };
            let source = if answer_round < rounds {
                &mut *random
            } else {
                &mut wave
            };
            out.push(scored(source, entry, &firm, capability, submitted_at, now)?);
        }
        return Ok(out);
    }
    let mut out = Vec::with_capacity(times.len());
    for (answer_round, submitted_at) in times.into_iter().enumerate() {
        let capability = base + 0.04 * answer_round as f64;
        out.push(scored(random, entry, &firm, capability, submitted_at, now)?);
    }
    Ok(out)
}

/// Mixed into the seed of the follow-up wave's generator.
const FOLLOW_UP_SALT: u64 = 0x666f_6c6c_6f77_5f75; // "follow_u"

/// One response of a firm of this capability, scored.
fn scored(
    random: &mut Random,
    entry: &Entry,
    firm: &Value,
    capability: f64,
    submitted_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> anyhow::Result<NewResponse> {
    let answers = answers(random, &entry.instrument, capability);
    let body = json!({"firm": firm, "answers": answers, "submitted_at": submitted_at.to_rfc3339()});
    let submission = Submission::parse(body, &entry.instrument, now, "")
        .map_err(|p| anyhow::anyhow!("generated an invalid submission: {p:?}"))?;
    Ok(new_response(entry, submission, Source::Import, None, now))
}

fn answers(random: &mut Random, instrument: &Instrument, capability: f64) -> Value {
    let mut map = Map::new();
    for question in instrument.questions() {
        let option = if question.key == "vendor_result" {
            let results = if capability < 0.6 {
                VENDOR_RESULTS
            } else {
                VENDOR_RESULTS_MEASURED
            };
            (*random.pick(results)).to_owned()
        } else {
            let top = (question.options.len() - 1) as f64;
            let level = (capability + random.jitter(0.15)).clamp(0.0, 1.0);
            question.options[(level * top).round() as usize].key.clone()
        };
        map.insert(question.key.clone(), Value::String(option));
    }
    let value = Value::Object(map);
    debug_assert!(validate(instrument, &value).is_ok());
    value
}
