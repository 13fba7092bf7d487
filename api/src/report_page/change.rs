//! The change section of the report page, when the request has the change report's two
//! windows: the panel, the tier transitions as a heat table (server-side SVG), and the paired
//! shares and score changes as the change report publishes them.

use std::fmt::Write as _;

use readiness_analytics::reports::{Change, PairedShare};

use super::charts::{self, HeatCell};
use super::page::{Page, escape, percent, thousands};

fn count(value: Option<u64>) -> String {
    value.map_or_else(|| "suppressed".to_owned(), thousands)
}

fn points(value: f64) -> String {
    format!("{:+.1} pp", value * 100.0)
}

fn p_value(value: f64) -> String {
    if value < 0.001 {
        "&lt; 0.001".to_owned()
    } else {
        format!("{value:.3}")
    }
}

impl Page<'_> {
    pub(super) fn change(&mut self, change: &Change) -> anyhow::Result<()> {
        let params = self.input.params;
        let windows = params.windows.pair();
        let scope = windows.map_or_else(String::new, |((bf, bt), (ff, ft))| {
            format!("baseline {bf} to {bt}, follow-up {ff} to {ft}")
        });
        let _ = writeln!(
            self.out,
            "<section class=\"card wide\" id=\"change\">\n<h2>Did the same firms move?</h2>\n\
             <p class=\"note\">Firms with a response in both windows ({}), each firm’s latest \
             in each: <b data-figure=\"panel\">{}</b> firms; {} seen at baseline only, {} at \
             follow-up only.</p>",
            escape(&scope),
            count(change.panel.firms),
            count(change.panel.baseline_only),
            count(change.panel.followup_only),
        );
        let cell = &change.overall;
        let (Some(transitions), Some(shares)) = (&cell.transitions, &cell.shares) else {
            let _ = writeln!(
                self.out,
                "<p class=\"suppressed\" data-figure=\"change\">The panel has fewer than {} \
                 firms, so every figure is suppressed.</p>\n</section>",
                self.input.min_cell
            );
            return Ok(());
        };
        let columns: Vec<String> = transitions
            .first()
            .map(|row| row.to.iter().map(|t| self.tier_label(&t.to)).collect())
            .unwrap_or_default();
        let rows: Vec<(String, Vec<Option<HeatCell>>)> = transitions
            .iter()
            .map(|row| {
                (
                    format!("{} ({})", self.tier_label(&row.from), count(row.n)),
                    row.to
                        .iter()
                        .map(|t| match (t.count, t.row_share) {
                            (Some(count), Some(row_share)) => Some(HeatCell { count, row_share }),
                            _ => None,
                        })
                        .collect(),
                )
            })
            .collect();
        self.w("<h3>Tier at baseline (rows) and at follow-up (columns)</h3>\n");
        self.w(&charts::transition_heat(&rows, &columns)?);
        self.w(
            "\n<p class=\"note\">Each cell: firms, and their share of the baseline tier’s firms. \
             Counts below the threshold, and partners that would reveal them, are suppressed.\
             </p>\n<table class=\"figures paired-shares\"><thead><tr><th>Firms</th>\
             <th>Baseline</th><th>Follow-up</th><th>Change</th><th>95 % CI (Newcombe)</th>\
             <th>Lost</th><th>Gained</th><th>McNemar p</th><th>mid-p</th></tr></thead><tbody>\n",
        );
        for share in shares {
            self.paired_row(share);
        }
        self.w("</tbody></table>\n");
        if let Some(scores) = &cell.score_changes {
            self.w(
                "<table class=\"figures score-changes\"><thead><tr><th>Dimension</th>\
                 <th>Mean change</th><th>95 % CI (paired t)</th></tr></thead><tbody>\n",
            );
            for score in scores {
                let interval = match (score.ci_low, score.ci_high) {
                    (Some(low), Some(high)) => format!("{low:+.1} to {high:+.1}"),
                    _ => "–".to_owned(),
                };
                let _ = writeln!(
                    self.out,
                    "<tr><th>{}</th><td>{:+.1}</td><td>{}</td></tr>",
                    escape(&score.dimension.replace('_', " ")),
                    score.mean_change,
                    interval
                );
            }
            self.w("</tbody></table>\n");
        }
        self.w("</section>\n");
        Ok(())
    }

    fn paired_row(&mut self, share: &PairedShare) {
        let label = match &share.tier {
            Some(tier) => format!("At least {}", self.tier_label(tier)),
            None => "Ready to customise".to_owned(),
        };
        let figures = (
            share.baseline_share,
            share.followup_share,
            share.difference,
            share.ci_low,
            share.ci_high,
            share.mcnemar_p,
            share.mcnemar_mid_p,
        );
        match figures {
            (
                Some(baseline),
                Some(followup),
                Some(difference),
                Some(low),
                Some(high),
                Some(p),
                Some(mid),
            ) => {
                let _ = writeln!(
                    self.out,
                    "<tr><th>{}</th><td>{}</td><td>{}</td><td>{}</td><td>{} to {}</td>\
                     <td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                    escape(&label),
                    percent(baseline),
                    percent(followup),
                    points(difference),
                    points(low),
                    points(high),
                    count(share.lost),
                    count(share.gained),
                    p_value(p),
                    p_value(mid),
                );
            }
            _ => {
                let _ = writeln!(
                    self.out,
                    "<tr class=\"suppressed\" data-suppressed=\"true\"><th>{}</th>\
                     <td colspan=\"8\">suppressed</td></tr>",
                    escape(&label)
                );
            }
        }
    }

    /// A tier's label from the instrument, or its key.
    fn tier_label(&self, key: &str) -> String {
        self.input
            .instrument
            .tiers()
            .iter()
            .find(|t| t.key == key)
            .map_or_else(|| key.to_owned(), |t| t.label.clone())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use chrono::{NaiveDate, Utc};
    use readiness_analytics::reports::{
        BlockerTiers, Cell, ChangeCell, Panel, Readiness, ScoreChange, TierCount, Transition,
        TransitionRow,
    };
    use readiness_analytics::{AI_READINESS_V1, Instrument};

    use super::*;
    use crate::domain::params::{ReportParams, Windows};
    use crate::report_page::{Access, PageInput, ReportModels};

    fn share(tier: Option<&str>, count: Option<u64>) -> PairedShare {
        PairedShare {
            measure: "at_least".to_owned(),
            tier: tier.map(str::to_owned),
            suppressed: count.is_none(),
            baseline_share: count.map(|_| 0.25),
            followup_share: count.map(|_| 0.5),
            difference: count.map(|_| 0.25),
            ci_low: count.map(|_| 0.1),
            ci_high: count.map(|_| 0.4),
            lost: count.map(|_| 3),
            gained: count,
            mcnemar_p: count.map(|_| 0.0001),
            mcnemar_mid_p: count.map(|_| 0.5),
            weighted: None,
        }
    }

    #[test]
    fn the_change_section_escapes_and_marks_what_is_suppressed() {
        let instrument = Instrument::parse(AI_READINESS_V1).unwrap();
        let day = |d: u32| NaiveDate::from_ymd_opt(2026, 1, d);
        let params = ReportParams {
            windows: Windows {
                baseline_from: day(1),
                baseline_to: day(10),
                followup_from: day(11),
                followup_to: day(20),
            },
            ..ReportParams::default()
        };
        let hidden = Cell {
            n: None,
            suppressed: true,
            tiers: None,
            ready_to_customise: None,
            dimension_means: None,
            weighted: None,
        };
        let transition = |to: &str, count: Option<u64>| Transition {
            to: to.to_owned(),
            to_rank: 1,
            suppressed: count.is_none(),
            count,
            row_share: count.map(|_| 0.5),
        };
        let change = Change {
            panel: Panel {
                firms: Some(12),
                baseline_only: None,
                followup_only: Some(4),
            },
            overall: ChangeCell {
                n: Some(12),
                suppressed: false,
                transitions: Some(vec![TransitionRow {
                    from: "<tier>".to_owned(),
                    from_rank: 1,
                    suppressed: false,
                    n: Some(12),
                    to: vec![transition("vendor_rag", Some(6)), transition("x", None)],
                }]),
                followup_tiers: Some(vec![TierCount {
                    tier: "vendor_rag".to_owned(),
                    rank: 2,
                    suppressed: false,
                    count: Some(6),
                }]),
                shares: Some(vec![share(Some("<b>"), Some(5)), share(None, None)]),
                score_changes: Some(vec![ScoreChange {
                    dimension: "<i>x</i>".to_owned(),
                    mean_change: 2.5,
                    ci_low: Some(1.0),
                    ci_high: None,
                    weighted: None,
                }]),
                n_eff: None,
            },
            segments: Vec::new(),
            weighting: None,
        };
        let models = ReportModels {
            readiness: Readiness {
                overall: hidden,
                segments: Vec::new(),
                weighting: None,
            },
            trend: Vec::new(),
            blockers: BlockerTiers {
                tiers: Vec::new(),
                weighting: None,
            },
            change: None,
        };
        let input = PageInput {
            params: &params,
            min_cell: 3,
            table: "unperturbed".to_owned(),
            instrument: &instrument,
            models: &models,
            access: Access::Offline,
            generated_at: Utc::now(),
        };
        let mut page = Page {
            input: &input,
            units: "firms",
            out: String::new(),
        };
        page.change(&change).unwrap();
        let out = page.out;
        assert!(
            out.contains("baseline 2026-01-01 to 2026-01-10, follow-up 2026-01-11 to 2026-01-20")
        );
        assert!(out.contains(
            "<b data-figure=\"panel\">12</b> firms; suppressed seen at baseline only, 4 at"
        ));
        assert!(out.contains("data-chart=\"transitions\""));
        assert!(out.contains("6 · 50 %") && out.contains(">suppressed<"));
        assert!(out.contains(
            "<tr><th>At least &lt;b&gt;</th><td>25.0 %</td><td>50.0 %</td><td>+25.0 pp</td>\
             <td>+10.0 pp to +40.0 pp</td><td>3</td><td>5</td><td>&lt; 0.001</td><td>0.500</td></tr>"
        ));
        assert!(out.contains(
            "<tr class=\"suppressed\" data-suppressed=\"true\"><th>Ready to customise</th>"
        ));
        assert!(out.contains("<tr><th>&lt;i&gt;x&lt;/i&gt;</th><td>+2.5</td><td>–</td></tr>"));
        assert!(!out.contains("<tier>") && !out.contains("<b>") && !out.contains("<i>"));
    }
}
