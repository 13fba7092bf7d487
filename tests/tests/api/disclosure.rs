//! Disclosure control under attack: an analyst who may make any number of requests tries to
//! single out a firm, on random data sets, against the shipped perturbation tables, on both
//! databases. Each attack's success rate is printed for the exact counts (the old behaviour,
//! through the test-only unperturbed table) and for the perturbed ones.
//!
//! How an attack is judged: it targets a quantity of one firm, or of a cell below the
//! threshold, that the true data fixes. Its success rate is the share of targets it gets
//! exactly right. The test fails when, against a shipped table, that rate is more than 10
//! points above what guessing from the published figures alone achieves: always answering
//! the most common true value among the targets (the attacker's best constant guess, known
//! here from the true data, which flatters the guess). For the five scores of one firm, which
//! no constant guess gets right, the bar is 5 %. With exact counts every attack succeeds
//! every time, which the printed "exact" rates show.

use std::collections::{BTreeMap, HashMap};

use readiness_api::settings::{DisclosureTable, Settings};
use readiness_api::store::entities::response;
use sea_orm::EntityTrait;
use serde_json::Value;

use readiness_api::domain::api_key::Role;

use crate::helpers::{Backend, TestApp, assert_problem, create_key, pointers, spawn_app_with};

/// Random data sets per table and database.
const DATA_SETS: u64 = 3;
/// Firms per data set, each answering twice over 22 months.
const FIRMS: u64 = 240;
/// Day pairs tried per data set and basis.
const DAY_PAIRS: usize = 40;

/// One response as the database holds it.
#[derive(Debug, Clone)]
struct Row {
    firm: String,
    industry: String,
    size_band: String,
    country: String,
    day: chrono::NaiveDate,
    submitted_at: i64,
    tier_rank: usize,
    /// The failed gates of the next tier.
    blockers: Vec<String>,
    scores: [f64; 5],
}

async fn rows(app: &TestApp) -> Vec<Row> {
    response::Entity::find()
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|row| Row {
            firm: row.firm_id.to_string(),
            industry: row.industry,
            size_band: row.size_band,
            country: row.country,
            day: row.submitted_at.date_naive(),
            submitted_at: row.submitted_at.timestamp_micros(),
            tier_rank: usize::try_from(row.tier_rank).unwrap(),
            blockers: serde_json::from_value(row.blockers).unwrap(),
            scores: [
                row.score_maturity,
                row.score_clarity,
                row.score_vendor_gap,
                row.score_capability,
                row.score_governance,
            ],
        })
        .collect()
}

/// Each firm's latest response up to the end of `to` (all of them when `None`).
fn latest(rows: &[Row], to: Option<chrono::NaiveDate>) -> Vec<Row> {
    let mut by_firm: HashMap<&str, &Row> = HashMap::new();
    for row in rows.iter().filter(|r| to.is_none_or(|to| r.day <= to)) {
        let keep = by_firm
            .get(row.firm.as_str())
            .is_none_or(|held| row.submitted_at > held.submitted_at);
        if keep {
            by_firm.insert(&row.firm, row);
        }
    }
    by_firm.into_values().cloned().collect()
}

/// Tallies of how an attack fared, and of the true values of its targets.
#[derive(Default)]
struct Tally {
    tries: u64,
    hits: u64,
    truths: BTreeMap<String, u64>,
}

impl Tally {
    fn record(&mut self, hit: bool, truth: impl ToString) {
        self.tries += 1;
        self.hits += u64::from(hit);
        *self.truths.entry(truth.to_string()).or_default() += 1;
    }

    fn rate(&self) -> f64 {
        self.hits as f64 / self.tries.max(1) as f64
    }

    /// The best constant guess's success rate.
    fn guess(&self) -> f64 {
        self.truths.values().max().copied().unwrap_or(0) as f64 / self.tries.max(1) as f64
    }
}

#[derive(Default)]
struct Attacks {
    margins: Tally,
    filters: Tally,
    unlock: Tally,
    day_latest: Tally,
    day_all: Tally,
    means: Tally,
    change: Tally,
    change_means: Tally,
}

/// A report as a viewer (aggregates only) reads it.
async fn report(app: &TestApp, path: &str) -> Value {
    let viewer = viewer_key(app).await;
    let reply = app.get_as(&viewer, path).await;
    assert_eq!(reply.status().as_u16(), 200, "{path}");
    reply.json().await.unwrap()
}

fn n(cell: &Value) -> Option<i64> {
    cell["n"].as_i64()
}

fn tier_counts(cell: &Value) -> Option<Vec<i64>> {
    cell["tiers"]
        .as_array()
        .map(|tiers| tiers.iter().map(|t| t["count"].as_i64().unwrap()).collect())
}

fn means(cell: &Value) -> Option<[f64; 5]> {
    let means = cell.get("dimension_means")?;
    if means.is_null() {
        return None;
    }
    Some(
        [
            "maturity",
            "clarity",
            "vendor_gap",
            "capability",
            "governance",
        ]
        .map(|d| means[d].as_f64().unwrap()),
    )
}

/// The value of a segment attribute of a response.
fn attribute<'r>(row: &'r Row, field: &str) -> &'r str {
    match field {
        "industry" => &row.industry,
        "size_band" => &row.size_band,
        _ => &row.country,
    }
}

/// Margin differencing: a segment's published size in a one-way breakdown minus its published
/// cells in a two-way breakdown leaves the one hidden cell.
async fn attack_margins(app: &TestApp, truth: &[Row], tally: &mut Tally) {
    let latest = latest(truth, None);
    for (outer, inner) in [
        ("industry", "size_band"),
        ("size_band", "industry"),
        ("country", "size_band"),
        ("size_band", "country"),
        ("industry", "country"),
        ("country", "industry"),
    ] {
        let one = report(app, &format!("/api/v1/reports/readiness?by={outer}")).await;
        let two = report(
            app,
            &format!("/api/v1/reports/readiness?by={outer},{inner}"),
        )
        .await;
        for segment in one["segments"].as_array().unwrap() {
            let Some(outer_n) = n(segment) else {
                continue;
            };
            let value = segment["key"][outer].as_str().unwrap();
            let cells: Vec<&Value> = two["segments"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|s| s["key"][outer] == value)
                .collect();
            let hidden: Vec<&&Value> = cells.iter().filter(|s| n(s).is_none()).collect();
            let [hidden] = hidden.as_slice() else {
                continue;
            };
            let estimate = outer_n - cells.iter().filter_map(|s| n(s)).sum::<i64>();
            let inner_value = hidden["key"][inner].as_str().unwrap();
            let true_n = latest
                .iter()
                .filter(|r| attribute(r, outer) == value && attribute(r, inner) == inner_value)
                .count() as i64;
            tally.record(estimate == true_n, true_n);
        }
    }
}

/// Filter differencing, the segment filters' version of margin differencing: the overall size
/// under `outer=X,Y` minus that under `outer=X` is Y's size; the size under `outer=X` minus
/// that under `outer=X&inner=<every other value>` is the cell (X, s); and a segment that a
/// breakdown suppresses only as a partner, read under a filter, would give away the segment
/// it protects. Targets are segments and cells that no single report publishes.
async fn attack_filters(app: &TestApp, truth: &[Row], threshold: i64, tally: &mut Tally) {
    let latest = latest(truth, None);
    let count = |pairs: &[(&str, &str)]| {
        latest
            .iter()
            .filter(|r| pairs.iter().all(|(f, v)| attribute(r, f) == *v))
            .count() as i64
    };
    let size = |query: String| async move {
        n(&report(app, &format!("/api/v1/reports/readiness?{query}")).await["overall"])
    };
    for (outer, inner) in [
        ("industry", "size_band"),
        ("country", "size_band"),
        ("size_band", "industry"),
    ] {
        let mut values: Vec<&str> = latest.iter().map(|r| attribute(r, outer)).collect();
        values.sort_unstable();
        values.dedup();
        values.sort_by_key(|v| std::cmp::Reverse(count(&[(outer, v)])));
        let Some(big) = values.first().copied() else {
            continue;
        };
        // A segment a breakdown hides only as the partner of a smaller one, read alone under
        // a filter: the total minus the published segments minus it is the smaller one.
        let breakdown = report(app, &format!("/api/v1/reports/readiness?by={outer}")).await;
        let hidden: Vec<&str> = breakdown["segments"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| n(s).is_none())
            .map(|s| s["key"][outer].as_str().unwrap())
            .collect();
        if let ([first, second], Some(total)) = (hidden.as_slice(), n(&breakdown["overall"])) {
            let published: i64 = breakdown["segments"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(n)
                .sum();
            for (read, target) in [(first, second), (second, first)] {
                if let Some(alone) = size(format!("{outer}={read}")).await {
                    let true_n = count(&[(outer, target)]);
                    tally.record(total - published - alone == true_n, true_n);
                }
            }
        }
        let big_n = size(format!("{outer}={big}")).await;
        for small in values.iter().skip(1) {
            let true_n = count(&[(outer, small)]);
            if true_n >= threshold {
                continue;
            }
            if let (Some(a), Some(b)) = (big_n, size(format!("{outer}={big},{small}")).await) {
                tally.record(b - a == true_n, true_n);
            }
        }
        let mut inner_values: Vec<&str> = latest.iter().map(|r| attribute(r, inner)).collect();
        inner_values.sort_unstable();
        inner_values.dedup();
        for x in values.iter().take(4) {
            let x_n = size(format!("{outer}={x}")).await;
            for s in &inner_values {
                let true_n = count(&[(outer, x), (inner, s)]);
                if true_n == 0 || true_n >= threshold {
                    continue;
                }
                let others: Vec<&str> = inner_values.iter().copied().filter(|v| v != s).collect();
                let rest = size(format!("{outer}={x}&{inner}={}", others.join(","))).await;
                if let (Some(a), Some(b)) = (x_n, rest) {
                    tally.record(a - b == true_n, true_n);
                }
            }
        }
    }
}

/// Unlock differencing: a segment's sole-blocker count of a gate is the count under
/// `outer=X,Y` minus that under `outer=X`. Targets are sole-blocker counts from 1 to below
/// the threshold: the firms no single report publishes. (Where the segment has no such firm,
/// both requests count the same firms and so publish the same number: the cell key method
/// gives equal sets equal noise, which is what keeps repeated requests from averaging it
/// away. A difference of 0 then says that no firm of the segment is held back by that gate
/// alone, which singles out no firm; those cases are left out of the tally.)
async fn attack_unlock(app: &TestApp, truth: &[Row], threshold: i64, tally: &mut Tally) {
    let latest = latest(truth, None);
    let sole = |report: &Value| -> BTreeMap<(String, String), i64> {
        let mut counts = BTreeMap::new();
        for tier in report["tiers"].as_array().unwrap() {
            let Some(unlock) = tier["overall"]["unlock"].as_object() else {
                continue;
            };
            for gate in unlock["sole_blockers"].as_array().unwrap() {
                if let Some(count) = gate["estimate"]["count"].as_i64() {
                    let key = (
                        tier["tier"].as_str().unwrap().to_owned(),
                        gate["gate"].as_str().unwrap().to_owned(),
                    );
                    counts.insert(key, count);
                }
            }
        }
        counts
    };
    for outer in ["industry", "country"] {
        let mut values: Vec<&str> = latest.iter().map(|r| attribute(r, outer)).collect();
        values.sort_unstable();
        values.dedup();
        let size = |value: &str| {
            latest
                .iter()
                .filter(|r| attribute(r, outer) == value)
                .count()
        };
        values.sort_by_key(|v| std::cmp::Reverse(size(v)));
        let Some(big) = values.first().copied() else {
            continue;
        };
        let base = sole(&report(app, &format!("/api/v1/reports/blockers?{outer}={big}")).await);
        for small in values.iter().skip(1).take(8) {
            let both = sole(
                &report(
                    app,
                    &format!("/api/v1/reports/blockers?{outer}={big},{small}"),
                )
                .await,
            );
            for ((tier, gate), count) in &both {
                let Some(before) = base.get(&(tier.clone(), gate.clone())) else {
                    continue;
                };
                let true_n = latest
                    .iter()
                    .filter(|r| attribute(r, outer) == *small)
                    .filter(|r| r.blockers.len() == 1 && r.blockers[0] == *gate)
                    .count() as i64;
                if (1..threshold).contains(&true_n) {
                    tally.record(count - before == true_n, true_n);
                }
            }
        }
    }
}

/// Windows a day apart: when one firm (or response) enters, the difference of the two
/// reports is its tier, and `mean × n` differenced is its five scores.
async fn attack_days(
    app: &TestApp,
    truth: &[Row],
    basis: &str,
    tally: &mut Tally,
    means_tally: &mut Tally,
) {
    let mut days: Vec<chrono::NaiveDate> = truth.iter().map(|r| r.day).collect();
    days.sort();
    days.dedup();
    let mut tried = 0;
    for day in days.iter().skip(20) {
        if tried == DAY_PAIRS {
            break;
        }
        let before = day.pred_opt().unwrap();
        // The one thing that changes between the windows, by the true data.
        let entering: Vec<&Row> = truth.iter().filter(|r| r.day == *day).collect();
        let [entering] = entering.as_slice() else {
            continue;
        };
        if basis == "latest"
            && truth
                .iter()
                .any(|r| r.firm == entering.firm && r.day < *day)
        {
            continue;
        }
        tried += 1;
        let path =
            |to: chrono::NaiveDate| format!("/api/v1/reports/readiness?basis={basis}&to={to}");
        let old = report(app, &path(before)).await;
        let new = report(app, &path(*day)).await;
        let (old, new) = (&old["overall"], &new["overall"]);
        let (Some(old_n), Some(new_n)) = (n(old), n(new)) else {
            continue;
        };
        let (old_tiers, new_tiers) = (tier_counts(old).unwrap(), tier_counts(new).unwrap());
        let moved: Vec<usize> = (0..old_tiers.len())
            .filter(|&i| new_tiers[i] != old_tiers[i])
            .collect();
        let inferred = (new_n - old_n == 1
            && moved.len() == 1
            && new_tiers[moved[0]] - old_tiers[moved[0]] == 1)
            .then(|| moved[0] + 1);
        tally.record(inferred == Some(entering.tier_rank), entering.tier_rank);
        if let (Some(old_means), Some(new_means)) = (means(old), means(new)) {
            let recovered: Vec<f64> = (0..5)
                .map(|d| new_means[d] * new_n as f64 - old_means[d] * old_n as f64)
                .collect();
            let hit = (0..5).all(|d| (recovered[d] - entering.scores[d]).abs() <= 1.0);
            means_tally.record(hit, format!("{:?}", entering.scores));
        }
    }
}

/// The change report with follow-up windows a day apart: when one firm enters the panel, the
/// difference of the two transition matrices' margins is its move (the baseline tier whose
/// row grew, the follow-up tier whose column grew),
/// and `mean_change × n` differenced is the change of its five scores. The baseline window
/// is fixed; a target is a day with exactly one response, from a firm with a response in
/// the baseline window and none earlier in the follow-up window (so it joins the panel),
/// where both reports publish the row and the column of its move (where they do not,
/// suppression hides it whatever the noise).
async fn attack_change(app: &TestApp, truth: &[Row], tally: &mut Tally, means_tally: &mut Tally) {
    let day = |y, m, d| chrono::NaiveDate::from_ymd_opt(y, m, d).unwrap();
    let (baseline_from, baseline_to, followup_from) =
        (day(2025, 1, 1), day(2025, 10, 31), day(2025, 11, 1));
    let in_baseline = |r: &Row| (baseline_from..=baseline_to).contains(&r.day);
    let mut days: Vec<chrono::NaiveDate> = truth
        .iter()
        .map(|r| r.day)
        .filter(|d| *d > followup_from)
        .collect();
    days.sort();
    days.dedup();
    let path = |to: chrono::NaiveDate| {
        format!(
            "/api/v1/reports/change?baseline_from={baseline_from}&baseline_to={baseline_to}\
             &followup_from={followup_from}&followup_to={to}"
        )
    };
    // The matrix's margins: panel firms by baseline tier (each row's `n`) and by follow-up
    // tier (`followup_tiers`); a hidden count reads as -1.
    let margins = |cell: &Value| -> Option<(Vec<i64>, Vec<i64>)> {
        let rows = cell["transitions"].as_array()?;
        let columns = cell["followup_tiers"].as_array()?;
        let count = |v: &Value, field: &str| v[field].as_i64().unwrap_or(-1);
        Some((
            rows.iter().map(|row| count(row, "n")).collect(),
            columns.iter().map(|c| count(c, "count")).collect(),
        ))
    };
    // The one place a count grew by one, as a rank.
    let grown = |before: &[i64], after: &[i64]| -> Option<usize> {
        let moved: Vec<usize> = (0..before.len())
            .filter(|&i| after[i] != before[i])
            .collect();
        match moved.as_slice() {
            [i] if before[*i] >= 0 && after[*i] - before[*i] == 1 => Some(i + 1),
            _ => None,
        }
    };
    let score_changes = |cell: &Value| -> Option<Vec<f64>> {
        cell["score_changes"].as_array().map(|c| {
            c.iter()
                .map(|s| s["mean_change"].as_f64().unwrap())
                .collect()
        })
    };
    let mut tried = 0;
    for day in days {
        if tried == DAY_PAIRS {
            break;
        }
        let entering: Vec<&Row> = truth.iter().filter(|r| r.day == day).collect();
        let [entering] = entering.as_slice() else {
            continue;
        };
        let own = |r: &&Row| r.firm == entering.firm;
        let Some(baseline) = latest(
            &truth
                .iter()
                .filter(own)
                .filter(|r| in_baseline(r))
                .cloned()
                .collect::<Vec<_>>(),
            None,
        )
        .pop() else {
            continue;
        };
        if truth
            .iter()
            .filter(own)
            .any(|r| r.day >= followup_from && r.day < day)
        {
            continue;
        }
        tried += 1;
        let old = report(app, &path(day.pred_opt().unwrap())).await;
        let new = report(app, &path(day)).await;
        let (old, new) = (&old["overall"], &new["overall"]);
        let truth_move = (baseline.tier_rank, entering.tier_rank);
        if let (Some(old_n), Some(new_n), Some((old_rows, old_columns)), Some((rows, columns))) =
            (n(old), n(new), margins(old), margins(new))
        {
            // Only where both reports publish the firm's row and column: elsewhere
            // suppression, not perturbation, is what hides the move.
            let (from, to) = (truth_move.0 - 1, truth_move.1 - 1);
            if [old_rows[from], rows[from], old_columns[to], columns[to]]
                .iter()
                .all(|count| *count >= 0)
            {
                let inferred = (new_n - old_n == 1)
                    .then(|| grown(&old_rows, &rows).zip(grown(&old_columns, &columns)))
                    .flatten();
                tally.record(inferred == Some(truth_move), format!("{truth_move:?}"));
            }
        }
        if let (Some(old_n), Some(new_n), Some(before), Some(after)) =
            (n(old), n(new), score_changes(old), score_changes(new))
        {
            let hit = (0..5).all(|d| {
                let recovered = after[d] * new_n as f64 - before[d] * old_n as f64;
                (recovered - (entering.scores[d] - baseline.scores[d])).abs() <= 1.0
            });
            means_tally.record(hit, format!("{:?}", entering.scores));
        }
    }
}

async fn attack(app: &TestApp, threshold: i64, attacks: &mut Attacks) {
    let truth = rows(app).await;
    attack_margins(app, &truth, &mut attacks.margins).await;
    attack_filters(app, &truth, threshold, &mut attacks.filters).await;
    attack_unlock(app, &truth, threshold, &mut attacks.unlock).await;
    attack_days(
        app,
        &truth,
        "latest",
        &mut attacks.day_latest,
        &mut attacks.means,
    )
    .await;
    attack_days(app, &truth, "all", &mut attacks.day_all, &mut attacks.means).await;
    attack_change(app, &truth, &mut attacks.change, &mut attacks.change_means).await;
}

/// The data set's viewer key, made on first use. Keys are kept by database, not by address:
/// a later server of the same test binary may be given a port an earlier one had.
async fn viewer_key(app: &TestApp) -> String {
    static KEYS: std::sync::Mutex<Vec<(String, String)>> = std::sync::Mutex::new(Vec::new());
    if let Some((_, key)) = KEYS
        .lock()
        .unwrap()
        .iter()
        .find(|(database, _)| *database == app.database_url)
    {
        return key.clone();
    }
    let key = create_key(&app.db, "viewer", Role::Viewer).await.token;
    KEYS.lock()
        .unwrap()
        .push((app.database_url.clone(), key.clone()));
    key
}

async fn data_set(backend: Backend, table: DisclosureTable, seed: u64) -> Option<TestApp> {
    let app = spawn_app_with(backend, |settings: &mut Settings| {
        // Exact counts keep the old rule: nothing under 3 firms; a shipped table implies its
        // own threshold (3, or 10 for the ONS table).
        settings.disclosure_threshold = (table == DisclosureTable::Unperturbed).then_some(3);
        settings.disclosure_table = table;
    })
    .await?;
    readiness_api::services::demo::fill(&app.db, FIRMS, 2, seed, |_| {})
        .await
        .unwrap();
    Some(app)
}

fn print(backend: Backend, table: &str, attacks: &Attacks) {
    for (name, tally) in [
        (
            "margin differencing (one-way minus two-way breakdowns)",
            &attacks.margins,
        ),
        (
            "filter differencing (filters one segment or cell apart)",
            &attacks.filters,
        ),
        (
            "unlock differencing (sole-blocker counts, filters one segment apart)",
            &attacks.unlock,
        ),
        (
            "windows a day apart, basis=latest: the firm's tier",
            &attacks.day_latest,
        ),
        (
            "windows a day apart, basis=all: the response's tier",
            &attacks.day_all,
        ),
        (
            "dimension_means x n differenced: all five scores",
            &attacks.means,
        ),
        (
            "change report, follow-up windows a day apart: the firm's move",
            &attacks.change,
        ),
        (
            "change report, mean_change x n differenced: the five score changes",
            &attacks.change_means,
        ),
    ] {
        println!(
            "{backend:?} {table}: {name}: {}/{} = {:.1} % (best constant guess {:.1} %)",
            tally.hits,
            tally.tries,
            100.0 * tally.rate(),
            100.0 * tally.guess()
        );
    }
}

async fn attacks_fail_against_the_shipped_tables(backend: Backend) {
    let mut exact = Attacks::default();
    for seed in 0..DATA_SETS {
        let Some(app) = data_set(backend, DisclosureTable::Unperturbed, 100 + seed).await else {
            return;
        };
        attack(&app, 3, &mut exact).await;
    }
    print(backend, "exact counts", &exact);
    // Without perturbation the attacks work: the test measures something.
    assert!(exact.margins.tries > 0 && exact.margins.rate() > 0.99);
    assert!(exact.filters.tries > 0 && exact.filters.rate() > 0.99);
    assert!(exact.unlock.tries > 0 && exact.unlock.rate() > 0.99);
    assert!(exact.day_latest.tries > 0 && exact.day_latest.rate() > 0.99);
    assert!(exact.means.tries > 0 && exact.means.rate() > 0.99);
    assert!(exact.change.tries > 0 && exact.change.rate() > 0.99);
    assert!(exact.change_means.tries > 0 && exact.change_means.rate() > 0.99);

    for table in ["ptable_3_2_unbiased", "ptable_10_5_rule"] {
        let mut perturbed = Attacks::default();
        for seed in 0..DATA_SETS {
            let shipped = DisclosureTable::Shipped(table.to_owned());
            let app = data_set(backend, shipped, 100 + seed).await.unwrap();
            let threshold = if table == "ptable_10_5_rule" { 10 } else { 3 };
            attack(&app, threshold, &mut perturbed).await;
        }
        print(backend, table, &perturbed);
        for (name, tally) in [
            ("margins", &perturbed.margins),
            ("filters", &perturbed.filters),
            ("unlock", &perturbed.unlock),
            ("day latest", &perturbed.day_latest),
            ("day all", &perturbed.day_all),
            ("change windows", &perturbed.change),
        ] {
            assert!(
                tally.rate() <= tally.guess() + 0.10,
                "{table}: the {name} attack succeeds {:.1} % of the time, guessing {:.1} %",
                100.0 * tally.rate(),
                100.0 * tally.guess()
            );
        }
        assert!(
            perturbed.means.rate() <= 0.05,
            "{table}: a firm's five scores were recovered {:.1} % of the time",
            100.0 * perturbed.means.rate()
        );
        assert!(
            perturbed.change_means.rate() <= 0.05,
            "{table}: a firm's five score changes were recovered {:.1} % of the time",
            100.0 * perturbed.change_means.rate()
        );
    }
}

/// The same request gives the same numbers, the overall cell is the same whatever the
/// breakdown, and a request cannot lower the threshold.
async fn numbers_are_stable_and_the_threshold_is_the_publishers(backend: Backend) {
    let Some(app) = data_set(
        backend,
        DisclosureTable::Shipped("ptable_3_2_unbiased".to_owned()),
        7,
    )
    .await
    else {
        return;
    };
    let path = "/api/v1/reports/readiness?by=industry,size_band&basis=all&to=2026-01-31";
    let first = report(&app, path).await;
    for _ in 0..3 {
        assert_eq!(report(&app, path).await, first);
    }
    let overall = report(&app, "/api/v1/reports/readiness").await["overall"].clone();
    for by in ["industry", "size_band", "industry,size_band,country"] {
        let body = report(&app, &format!("/api/v1/reports/readiness?by={by}")).await;
        assert_eq!(body["overall"], overall, "by={by}");
    }
    // The page and the JSON show the same overall size.
    let page = app
        .get_as(&viewer_key(&app).await, "/api/v1/reports/readiness.html")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains(&format!("data-figure=\"n\">{}<", overall["n"])),
        "{}",
        overall["n"]
    );
    // The table implies a threshold of 3; a request may raise it, not lower it.
    assert_eq!(
        report(&app, "/api/v1/reports/readiness").await["min_cell"],
        3
    );
    assert_eq!(
        report(&app, "/api/v1/reports/readiness?min_cell=8").await["min_cell"],
        8
    );
    let refused = app
        .get_as(
            &viewer_key(&app).await,
            "/api/v1/reports/readiness?min_cell=2",
        )
        .await;
    let problem = assert_problem(refused, 422, "validation_failed").await;
    assert_eq!(pointers(&problem), ["/query/min_cell"]);
}

mod sqlite {
    use crate::helpers::Backend;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn attacks_fail_against_the_shipped_tables() {
        super::attacks_fail_against_the_shipped_tables(Backend::Sqlite).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn numbers_are_stable_and_the_threshold_is_the_publishers() {
        super::numbers_are_stable_and_the_threshold_is_the_publishers(Backend::Sqlite).await;
    }
}

mod postgres {
    use crate::helpers::Backend;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn attacks_fail_against_the_shipped_tables() {
        super::attacks_fail_against_the_shipped_tables(Backend::Postgres).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn numbers_are_stable_and_the_threshold_is_the_publishers() {
        super::numbers_are_stable_and_the_threshold_is_the_publishers(Backend::Postgres).await;
    }
}
