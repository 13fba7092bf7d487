//! The change report: the same firms at a baseline and a follow-up window.
//!
//! Each window's rows are selected like any report's (`pipeline::counted_rows`, each firm's
//! latest response in the window), and the panel is the firms found in both. Segments are
//! the firms' attributes in their baseline response, and with margins the panel's baseline
//! responses are raked and each firm keeps its weight at follow-up.
//!
//! # Disclosure
//!
//! Every count is published by the disclosure policy from its true count and the cell key
//! of the firms it counts (the sum of their record keys): the panel (the cell's size), each
//! transition (from × to, keyed by the firms in it), the baseline and follow-up tier counts
//! (the matrix's margins) and the four cells of each measure's paired table (held at both,
//! lost, gained, neither). A cell whose published panel is below the threshold is hidden
//! whole, with a partner segment when one alone is hidden. Inside a shown cell, any of
//! these counts published below the threshold is hidden, zeros included, and
//! [`suppress_related`] then hides partners until no relation has exactly one hidden member:
//! each row and column of the matrix beside its margin, the margins beside the cell's size,
//! each paired-table cell beside the block of transitions it sums, each paired table's rows
//! and columns beside the margins they equal and its total beside the size, and every count
//! across the segments beside the overall one. A measure with a hidden cell publishes
//! nothing, and a row share needs its row's margin. Shares, differences and intervals come
//! from the published counts; mean changes carry noise of their own.

use std::collections::BTreeMap;

use polars::prelude::*;

use super::compute::{Margins, ReportError, segment_keys, sorted_order, weigh};
use super::disclosure::{DisclosurePolicy, Published, scaled_total};
use super::model::*;
use super::paired::{PairedTable, mcnemar_exact, newcombe_paired, paired_t_interval};
use super::pipeline::{self, ReadAs, Table, WEIGHT, segment_column};
use super::snapshot::{Snapshot, columns};
use super::stats::kish_n_eff;
use super::suppression::{Relation, suppress, suppress_related};
use crate::instrument::Instrument;

/// Follow-up columns of the panel.
const F_TIER: &str = "f_tier_rank";
const MATCHED: &str = "matched";
/// The dimension names of [`columns::SCORES`], in order.
pub const DIMENSIONS: [&str; 5] = [
    "maturity",
    "clarity",
    "vendor_gap",
    "capability",
    "governance",
];

fn f_score(i: usize) -> String {
    format!("f_{}", columns::SCORES[i])
}

/// A paired measure: firms at `threshold` (a tier rank) or above.
struct Measure {
    name: &'static str,
    tier: Option<String>,
    threshold: u8,
}

/// The paired-table cells of a measure, in order: both, lost, gained, neither.
const QUADRANTS: [&str; 4] = ["a", "b", "c", "d"];

fn quadrant_alias(measure: usize, quadrant: usize) -> String {
    format!("m{measure}{}", QUADRANTS[quadrant])
}

fn transition_alias(from: usize, to: usize) -> String {
    format!("x{from}_{to}")
}

/// Paired change between two windows. `baseline` gives the segments (`by`), the surveys and
/// the disclosure policy; `followup` its window (its other fields are those of `baseline`).
/// Both count each firm's latest response in their window.
pub fn change(
    snapshot: &Snapshot,
    instrument: &Instrument,
    baseline: &ReportQuery,
    followup: &ReportQuery,
    margins: Option<&Margins>,
) -> Result<Change, ReportError> {
    let policy = &baseline.disclosure;
    let latest = |query: &ReportQuery| ReportQuery {
        basis: Basis::Latest,
        ..query.clone()
    };
    let (baseline, followup) = (latest(baseline), latest(followup));
    // Segment filters apply to the firms as they were at baseline (after the raking, as in
    // the other reports); a firm seen only at follow-up counts in the segments it had then.
    let base_all = pipeline::counted_rows(snapshot, &baseline, &[], ReadAs::Values)?.collect()?;
    let base =
        pipeline::narrowed(snapshot, &baseline.segments, base_all.clone().lazy()).collect()?;
    let mut follow_columns = vec![col(columns::FIRM), col(columns::TIER_RANK).alias(F_TIER)];
    follow_columns.extend((0..5).map(|i| col(columns::SCORES[i]).alias(f_score(i))));
    let follow =
        pipeline::counted_rows(snapshot, &followup, &[], ReadAs::Values)?.select(follow_columns);
    let follow = follow.collect()?;

    // Firms in one window only.
    let matched = |frame: &DataFrame| {
        frame
            .clone()
            .lazy()
            .select([col(columns::FIRM), lit(true).alias(MATCHED)])
    };
    let one_window = |rows: LazyFrame, other: LazyFrame| -> PolarsResult<DataFrame> {
        rows.join(
            other,
            [col(columns::FIRM)],
            [col(columns::FIRM)],
            JoinArgs::new(JoinType::Left),
        )
        .filter(col(MATCHED).is_null())
        .select(pipeline::count())
        .collect()
    };
    let followup_rows = pipeline::narrowed(
        snapshot,
        &followup.segments,
        pipeline::counted_rows(snapshot, &followup, &[], ReadAs::Values)?,
    )
    .select([col(columns::FIRM), col(columns::RECORD_KEY)]);
    let baseline_only = one_window(base.lazy(), matched(&follow))?;
    let base_firms = base_all
        .clone()
        .lazy()
        .select([col(columns::FIRM)])
        .collect()?;
    let followup_only = one_window(followup_rows, matched(&base_firms))?;

    let panel = base_all
        .lazy()
        .join(
            follow.lazy(),
            [col(columns::FIRM)],
            [col(columns::FIRM)],
            JoinArgs::new(JoinType::Inner),
        )
        .collect()?;
    let (rows, mut weighting) = match margins {
        Some(margins) => weigh(snapshot, &baseline, panel, &[], margins)?,
        None => (panel.lazy(), BTreeMap::new()),
    };
    let rows = pipeline::narrowed(snapshot, &baseline.segments, rows);
    let weighted = margins.is_some();

    let tiers = instrument.tiers();
    let ranks = tiers.len();
    let mut measures = Vec::new();
    if let Some(first_ready) = tiers.iter().position(|t| t.ready_to_customise)
        && first_ready > 0
    {
        measures.push(Measure {
            name: "ready_to_customise",
            tier: None,
            threshold: u8::try_from(first_ready + 1).unwrap_or(u8::MAX),
        });
    }
    for (index, tier) in tiers.iter().enumerate().skip(1) {
        measures.push(Measure {
            name: "at_least",
            tier: Some(tier.key.clone()),
            threshold: u8::try_from(index + 1).unwrap_or(u8::MAX),
        });
    }

    let tier = || col(columns::TIER_RANK);
    let f_tier = || col(F_TIER);
    let rank = |index: usize| lit(i32::try_from(index + 1).unwrap_or(i32::MAX));
    let mut aggregates = pipeline::count().to_vec();
    for from in 0..ranks {
        for to in 0..ranks {
            aggregates.extend(pipeline::count_where(
                tier().eq(rank(from)).and(f_tier().eq(rank(to))),
                &transition_alias(from, to),
            ));
        }
        aggregates.extend(pipeline::count_where(
            tier().eq(rank(from)),
            &format!("r{from}"),
        ));
        aggregates.extend(pipeline::count_where(
            f_tier().eq(rank(from)),
            &format!("c{from}"),
        ));
    }
    let quadrant = |measure: &Measure, q: usize| -> Expr {
        let at = lit(i32::from(measure.threshold));
        let (before, after) = (tier().gt_eq(at.clone()), f_tier().gt_eq(at));
        match q {
            0 => before.and(after),
            1 => before.and(after.not()),
            2 => before.not().and(after),
            _ => before.not().and(after.not()),
        }
    };
    for (m, measure) in measures.iter().enumerate() {
        for q in 0..4 {
            aggregates.extend(pipeline::count_where(
                quadrant(measure, q),
                &quadrant_alias(m, q),
            ));
            if weighted {
                aggregates.push(pipeline::weighted_count(
                    quadrant(measure, q),
                    &format!("w{}", quadrant_alias(m, q)),
                ));
            }
        }
    }
    let difference = |i: usize| {
        col(f_score(i)).cast(DataType::Float64) - col(columns::SCORES[i]).cast(DataType::Float64)
    };
    for i in 0..5 {
        aggregates.push(difference(i).sum().alias(format!("d{i}")));
        aggregates.push(
            (difference(i) * difference(i))
                .sum()
                .alias(format!("dd{i}")),
        );
        if weighted {
            aggregates.push((col(WEIGHT) * difference(i)).sum().alias(format!("wd{i}")));
            aggregates.push(
                (col(WEIGHT) * difference(i) * difference(i))
                    .sum()
                    .alias(format!("wdd{i}")),
            );
        }
    }
    if weighted {
        aggregates.push(pipeline::sum_of_weights());
        aggregates.push(pipeline::sum_of_squared_weights());
    }
    let rows = rows.collect()?;
    let overall = rows.clone().lazy().select(aggregates.clone()).collect()?;
    let by: Vec<Expr> = baseline
        .by
        .iter()
        .map(|f| col(segment_column(*f)))
        .collect();
    let segments = if by.is_empty() {
        DataFrame::empty()
    } else {
        rows.lazy().group_by(by).agg(aggregates).collect()?
    };
    let overall_table = Table(&overall);
    let segment_table = Table(&segments);
    let keys = segment_keys(snapshot, &baseline, &segment_table)?;
    let order = sorted_order(&keys);

    let size = |table: &Table, row: usize| -> PolarsResult<Published> {
        Ok(policy.size(table.tally("n", row)?))
    };
    let overall_n = size(&overall_table, 0)?;
    let segment_n = order
        .iter()
        .map(|&row| Ok(size(&segment_table, row)?.get()))
        .collect::<PolarsResult<Vec<_>>>()?;
    let (overall_hidden, hidden) = suppress(overall_n.get(), &segment_n, policy.min_cell());
    let mut cells = vec![(&overall_table, 0, overall_hidden)];
    cells.extend(
        order
            .iter()
            .zip(&hidden)
            .map(|(&row, &hidden)| (&segment_table, row, hidden)),
    );
    let layout = Layout {
        ranks,
        measures: &measures,
    };
    let items = layout.hidden_items(policy, &cells)?;
    let width = layout.width();
    let method = CellMethod {
        policy,
        layout: &layout,
        instrument,
        weighted,
    };
    let mut built = cells
        .iter()
        .enumerate()
        .map(|(r, (table, row, hidden))| {
            if *hidden {
                Ok(hidden_change_cell())
            } else {
                method.cell(table, *row, &items[r * width..(r + 1) * width])
            }
        })
        .collect::<PolarsResult<Vec<_>>>()?
        .into_iter();
    let overall = built.next().unwrap_or_else(hidden_change_cell);
    let segments = order
        .iter()
        .zip(built)
        .map(|(&row, cell)| ChangeSegment {
            key: keys[row].0.clone(),
            cell,
        })
        .collect();
    let published = |frame: &DataFrame| -> PolarsResult<Option<u64>> {
        let tally = Table(frame).tally("n", 0)?;
        Ok(policy.publish(tally.count, tally.key))
    };
    Ok(Change {
        panel: Panel {
            firms: (!overall_hidden).then_some(overall_n.get()),
            baseline_only: published(&baseline_only)?,
            followup_only: published(&followup_only)?,
        },
        overall,
        segments,
        weighting: weighting.remove(&0),
    })
}

fn hidden_change_cell() -> ChangeCell {
    ChangeCell {
        n: None,
        suppressed: true,
        transitions: None,
        followup_tiers: None,
        shares: None,
        score_changes: None,
        n_eff: None,
    }
}

/// The published counts of one cell, any of which may be hidden: the transitions
/// (row-major), the baseline tier counts (the matrix's row totals), the follow-up tier counts
/// (its column totals), then the four paired-table cells of each measure.
struct Layout<'a> {
    ranks: usize,
    measures: &'a [Measure],
}

impl Layout<'_> {
    fn width(&self) -> usize {
        self.ranks * self.ranks + 2 * self.ranks + 4 * self.measures.len()
    }

    fn transition(&self, from: usize, to: usize) -> usize {
        from * self.ranks + to
    }

    fn baseline_tier(&self, tier: usize) -> usize {
        self.ranks * self.ranks + tier
    }

    fn followup_tier(&self, tier: usize) -> usize {
        self.ranks * self.ranks + self.ranks + tier
    }

    fn quadrant(&self, measure: usize, quadrant: usize) -> usize {
        self.ranks * self.ranks + 2 * self.ranks + 4 * measure + quadrant
    }

    fn alias(&self, item: usize) -> String {
        let square = self.ranks * self.ranks;
        if item < square {
            transition_alias(item / self.ranks, item % self.ranks)
        } else if item < square + self.ranks {
            format!("r{}", item - square)
        } else if item < square + 2 * self.ranks {
            format!("c{}", item - square - self.ranks)
        } else {
            let rest = item - square - 2 * self.ranks;
            quadrant_alias(rest / 4, rest % 4)
        }
    }

    /// The threshold of a measure as a 0-based tier index.
    fn threshold(&self, measure: usize) -> usize {
        usize::from(self.measures[measure].threshold).saturating_sub(1)
    }

    /// The transitions a paired-table cell of `measure` sums (quadrant 0–3: held at both,
    /// lost, gained, neither).
    fn block(&self, measure: usize, quadrant: usize) -> Vec<usize> {
        let t = self.threshold(measure);
        let n = self.ranks;
        (0..n)
            .flat_map(|i| (0..n).map(move |j| (i, j)))
            .filter(|&(i, j)| {
                let (before, after) = (i >= t, j >= t);
                match quadrant {
                    0 => before && after,
                    1 => before && !after,
                    2 => !before && after,
                    _ => !before && !after,
                }
            })
            .map(|(i, j)| self.transition(i, j))
            .collect()
    }

    /// The relations among one shown cell's items (offset by `base`): each matrix row and
    /// column beside its margin, the margins beside the published size, each paired-table
    /// cell beside the transitions it sums, and each paired table's rows and columns beside
    /// the margins they equal, and its total beside the size.
    fn relations(&self, base: usize, relations: &mut Vec<Relation>) {
        let n = self.ranks;
        for i in 0..n {
            relations.push(Relation {
                total: Some(base + self.baseline_tier(i)),
                parts: (0..n).map(|j| base + self.transition(i, j)).collect(),
            });
            relations.push(Relation {
                total: Some(base + self.followup_tier(i)),
                parts: (0..n).map(|j| base + self.transition(j, i)).collect(),
            });
        }
        relations.push(Relation {
            total: None,
            parts: (0..n).map(|i| base + self.baseline_tier(i)).collect(),
        });
        relations.push(Relation {
            total: None,
            parts: (0..n).map(|j| base + self.followup_tier(j)).collect(),
        });
        for m in 0..self.measures.len() {
            let t = self.threshold(m);
            let at = |q: usize| base + self.quadrant(m, q);
            for q in 0..4 {
                relations.push(Relation {
                    total: Some(at(q)),
                    parts: self.block(m, q).into_iter().map(|x| base + x).collect(),
                });
            }
            // Held at baseline (both + lost) is the baseline tiers from the threshold up, and
            // so on; every member of such a relation is a part.
            let tiers = |above: bool, of: &dyn Fn(usize) -> usize| -> Vec<usize> {
                (0..n)
                    .filter(|&i| (i >= t) == above)
                    .map(|i| base + of(i))
                    .collect()
            };
            let sides: [([usize; 2], bool, bool); 4] = [
                ([0, 1], true, true),
                ([2, 3], false, true),
                ([0, 2], true, false),
                ([1, 3], false, false),
            ];
            for (pair, above, baseline) in sides {
                let mut parts: Vec<usize> = pair.iter().map(|q| at(*q)).collect();
                if baseline {
                    parts.extend(tiers(above, &|i| self.baseline_tier(i)));
                } else {
                    parts.extend(tiers(above, &|j| self.followup_tier(j)));
                }
                relations.push(Relation { total: None, parts });
            }
            relations.push(Relation {
                total: None,
                parts: (0..4).map(at).collect(),
            });
        }
    }

    /// Which items of each cell are hidden: every item of a hidden cell; in a shown cell
    /// those published below the threshold, then partners until no relation has a single
    /// hidden member.
    fn hidden_items(
        &self,
        policy: &DisclosurePolicy,
        cells: &[(&Table, usize, bool)],
    ) -> PolarsResult<Vec<bool>> {
        let width = self.width();
        let mut sizes = vec![0; cells.len() * width];
        let mut hidden = vec![true; cells.len() * width];
        let mut relations = Vec::new();
        for (r, (table, row, cell_hidden)) in cells.iter().enumerate() {
            if *cell_hidden {
                continue;
            }
            let n = policy.size(table.tally("n", *row)?);
            for item in 0..width {
                let published = policy.part(table.tally(&self.alias(item), *row)?, n);
                sizes[r * width + item] = published.get();
                hidden[r * width + item] = !policy.shows(published);
            }
            self.relations(r * width, &mut relations);
        }
        if cells.len() > 1 {
            for item in 0..width {
                relations.push(Relation {
                    total: Some(item),
                    parts: (1..cells.len()).map(|r| r * width + item).collect(),
                });
            }
        }
        suppress_related(&sizes, &mut hidden, &relations);
        Ok(hidden)
    }
}

struct CellMethod<'a> {
    policy: &'a DisclosurePolicy,
    layout: &'a Layout<'a>,
    instrument: &'a Instrument,
    weighted: bool,
}

impl CellMethod<'_> {
    /// The figures of a shown cell; `hidden` says which of its items are suppressed.
    fn cell(&self, table: &Table, row: usize, hidden: &[bool]) -> PolarsResult<ChangeCell> {
        let policy = self.policy;
        let layout = self.layout;
        let tiers = self.instrument.tiers();
        let rank = |index: usize| u8::try_from(index + 1).unwrap_or(u8::MAX);
        let size = table.tally("n", row)?;
        let n = policy.size(size);
        // An item's true count and its published count, `None` when hidden.
        let item = |item: usize| -> PolarsResult<(u64, Option<Published>)> {
            let tally = table.tally(&layout.alias(item), row)?;
            Ok((tally.count, (!hidden[item]).then(|| policy.part(tally, n))))
        };
        let count =
            |at: usize| -> PolarsResult<Option<u64>> { Ok(item(at)?.1.map(Published::get)) };
        let mut transitions = Vec::new();
        for (from, from_tier) in tiers.iter().enumerate() {
            let row_n = count(layout.baseline_tier(from))?;
            let mut to = Vec::new();
            for (j, to_tier) in tiers.iter().enumerate() {
                let at = layout.transition(from, j);
                let moved = count(at)?;
                to.push(Transition {
                    to: to_tier.key.clone(),
                    to_rank: rank(j),
                    suppressed: hidden[at],
                    count: moved,
                    row_share: match (moved, row_n) {
                        (Some(moved), Some(row_n)) if row_n > 0 => {
                            Some(moved as f64 / row_n as f64)
                        }
                        (Some(_), Some(_)) => Some(0.0),
                        _ => None,
                    },
                });
            }
            transitions.push(TransitionRow {
                from: from_tier.key.clone(),
                from_rank: rank(from),
                suppressed: row_n.is_none(),
                n: row_n,
                to,
            });
        }
        let followup_tiers = tiers
            .iter()
            .enumerate()
            .map(|(j, t)| {
                let count = count(layout.followup_tier(j))?;
                Ok(TierCount {
                    tier: t.key.clone(),
                    rank: rank(j),
                    suppressed: count.is_none(),
                    count,
                })
            })
            .collect::<PolarsResult<Vec<_>>>()?;
        let (total_w, n_eff) = if self.weighted {
            let total = scaled_total(table.float("w_sum", row)?, size.count, n);
            let squares = scaled_total(table.float("w2_sum", row)?, size.count, n);
            (total, Some(kish_n_eff(total, squares)))
        } else {
            (0.0, None)
        };
        let mut shares = Vec::new();
        for (m, measure) in layout.measures.iter().enumerate() {
            let quadrants = (0..4)
                .map(|q| item(layout.quadrant(m, q)))
                .collect::<PolarsResult<Vec<_>>>()?;
            let published: Option<Vec<Published>> = quadrants.iter().map(|q| q.1).collect();
            let Some(published) = published else {
                shares.push(suppressed_share(measure));
                continue;
            };
            let value = |q: usize| published[q].get() as f64;
            let paired = PairedTable {
                both: value(0),
                baseline_only: value(1),
                followup_only: value(2),
                neither: value(3),
            };
            let total = paired.n();
            let share = |x: f64| if total > 0.0 { x / total } else { 0.0 };
            let interval = newcombe_paired(paired);
            let (p, mid_p) = mcnemar_exact(published[1].get(), published[2].get());
            let weighted = match n_eff {
                Some(n_eff) if total_w > 0.0 => {
                    let scaled = (0..4)
                        .map(|q| {
                            let column = format!("w{}", quadrant_alias(m, q));
                            Ok(scaled_total(
                                table.float(&column, row)?,
                                quadrants[q].0,
                                published[q],
                            ))
                        })
                        .collect::<PolarsResult<Vec<f64>>>()?;
                    let sum: f64 = scaled.iter().sum();
                    let at = |q: usize| if sum > 0.0 { scaled[q] / sum } else { 0.0 };
                    let table = PairedTable {
                        both: at(0) * n_eff,
                        baseline_only: at(1) * n_eff,
                        followup_only: at(2) * n_eff,
                        neither: at(3) * n_eff,
                    };
                    newcombe_paired(table).map(|(difference, ci_low, ci_high)| {
                        WeightedPairedShare {
                            baseline_share: at(0) + at(1),
                            followup_share: at(0) + at(2),
                            difference,
                            ci_low,
                            ci_high,
                        }
                    })
                }
                _ => None,
            };
            shares.push(PairedShare {
                measure: measure.name.to_owned(),
                tier: measure.tier.clone(),
                suppressed: false,
                baseline_share: Some(share(value(0) + value(1))),
                followup_share: Some(share(value(0) + value(2))),
                difference: Some(share(value(2) - value(1))),
                ci_low: interval.map(|i| i.1),
                ci_high: interval.map(|i| i.2),
                lost: Some(published[1].get()),
                gained: Some(published[2].get()),
                mcnemar_p: Some(p),
                mcnemar_mid_p: Some(mid_p),
                weighted,
            });
        }
        let exact = policy.table().is_exact();
        let round = |x: f64| if exact { x } else { (x * 10.0).round() / 10.0 };
        let true_n = size.count as f64;
        let mut score_changes = Vec::new();
        for (i, dimension) in DIMENSIONS.iter().enumerate() {
            let sum = table.float(&format!("d{i}"), row)?;
            let squares = table.float(&format!("dd{i}"), row)?;
            let mean = policy.mean_change(sum, size, n, i);
            let sd = sample_sd(sum, squares, true_n);
            let interval = sd.and_then(|sd| paired_t_interval(mean, sd, n.get() as f64));
            let weighted = match n_eff {
                Some(n_eff) => {
                    let w_sum = table.float("w_sum", row)?;
                    let wd = table.float(&format!("wd{i}"), row)?;
                    let wdd = table.float(&format!("wdd{i}"), row)?;
                    policy
                        .weighted_mean_change(wd, w_sum, size, n, i)
                        .map(|mean_change| {
                            let interval = weighted_sd(wd, wdd, w_sum, true_n)
                                .and_then(|sd| paired_t_interval(mean_change, sd, n_eff));
                            WeightedScoreChange {
                                mean_change,
                                ci_low: interval.map(|i| round(i.0)),
                                ci_high: interval.map(|i| round(i.1)),
                            }
                        })
                }
                None => None,
            };
            score_changes.push(ScoreChange {
                dimension: (*dimension).to_owned(),
                mean_change: mean,
                ci_low: interval.map(|i| round(i.0)),
                ci_high: interval.map(|i| round(i.1)),
                weighted,
            });
        }
        Ok(ChangeCell {
            n: Some(n.get()),
            suppressed: false,
            transitions: Some(transitions),
            followup_tiers: Some(followup_tiers),
            shares: Some(shares),
            score_changes: Some(score_changes),
            n_eff,
        })
    }
}

fn suppressed_share(measure: &Measure) -> PairedShare {
    PairedShare {
        measure: measure.name.to_owned(),
        tier: measure.tier.clone(),
        suppressed: true,
        baseline_share: None,
        followup_share: None,
        difference: None,
        ci_low: None,
        ci_high: None,
        lost: None,
        gained: None,
        mcnemar_p: None,
        mcnemar_mid_p: None,
        weighted: None,
    }
}

/// The sample standard deviation of `n` values from their sum and sum of squares; `None`
/// below two values.
fn sample_sd(sum: f64, squares: f64, n: f64) -> Option<f64> {
    (n >= 2.0).then(|| ((squares - sum * sum / n) / (n - 1.0)).max(0.0).sqrt())
}

/// The weighted standard deviation of `n` values, `√(n / (n − 1) · (Σwd² / Σw − μ²))`.
fn weighted_sd(
    weighted_sum: f64,
    weighted_squares: f64,
    sum_of_weights: f64,
    n: f64,
) -> Option<f64> {
    if n < 2.0 || sum_of_weights <= 0.0 {
        return None;
    }
    let mean = weighted_sum / sum_of_weights;
    let variance = (weighted_squares / sum_of_weights - mean * mean).max(0.0);
    Some((variance * n / (n - 1.0)).sqrt())
}
