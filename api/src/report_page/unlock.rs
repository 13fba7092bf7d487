//! The unlock ranking of the report page: for the firms one tier below each tier, the gates
//! that are their only blocker, ranked, and how many firms have 1, 2, 3 or 4+ blockers, as the
//! blockers report's `unlock` section publishes them. A table, no chart: the page's charts
//! stay those of the other sections.

use std::fmt::Write as _;

use readiness_analytics::reports::{TierBlockers, UnlockFigure};

use super::page::{Page, escape, percent, thousands};

impl Page<'_> {
    /// The unlock ranking of the overall cell of `blockers`; nothing when the cell is
    /// suppressed (the blockers section already says so).
    pub(super) fn unlock_ranking(&mut self, blockers: &TierBlockers) {
        let Some(unlock) = &blockers.overall.unlock else {
            return;
        };
        let units = self.units;
        let subject = if units == "firms" {
            "Firms"
        } else {
            "Responses"
        };
        let weighted = self.input.params.weights.is_some();
        let weighted_head = if weighted { "<th>Weighted</th>" } else { "" };
        let _ = writeln!(
            self.out,
            "<div class=\"unlock\" id=\"unlock-{}\">\n<h4>What one fix would unlock</h4>\n\
             <p class=\"note\">{subject} for which the gate is the only blocker: fixing it alone \
             moves them up to {}.</p>\n<table class=\"figures unlock-ranking\"><thead><tr>\
             <th>Sole blocker</th><th>Share</th><th>95 % CI</th><th>{units}</th>{weighted_head}\
             </tr></thead><tbody>",
            escape(&blockers.tier),
            escape(&blockers.label),
        );
        for gate in &unlock.sole_blockers {
            let label = format!(
                "<th title=\"{}\">{}</th>",
                escape(&gate.gate),
                escape(&gate.reason)
            );
            self.unlock_row(&label, &gate.figure, weighted);
        }
        let _ = writeln!(
            self.out,
            "</tbody></table>\n<table class=\"figures blocker-counts\"><thead><tr>\
             <th>Blockers</th><th>Share</th><th>95 % CI</th><th>{units}</th>{weighted_head}\
             </tr></thead><tbody>"
        );
        for count in &unlock.blocker_counts {
            let label = format!("<th>{}</th>", escape(&count.blockers));
            self.unlock_row(&label, &count.figure, weighted);
        }
        self.w("</tbody></table>\n</div>\n");
    }

    fn unlock_row(&mut self, label: &str, figure: &UnlockFigure, weighted: bool) {
        let weighted_cell = |text: String| {
            if weighted {
                format!("<td>{text}</td>")
            } else {
                String::new()
            }
        };
        match &figure.estimate {
            Some(estimate) => {
                let weighted_share = figure
                    .weighted
                    .as_ref()
                    .map_or_else(String::new, |w| percent(w.share));
                let _ = writeln!(
                    self.out,
                    "<tr>{label}<td>{}</td><td>{:.1}–{:.1} %</td><td>{}</td>{}</tr>",
                    percent(estimate.share),
                    estimate.ci_low * 100.0,
                    estimate.ci_high * 100.0,
                    thousands(estimate.count),
                    weighted_cell(weighted_share)
                );
            }
            None => {
                let _ = writeln!(
                    self.out,
                    "<tr class=\"suppressed\" data-suppressed=\"true\">{label}<td colspan=\"3\">\
                     suppressed</td>{}</tr>",
                    weighted_cell(String::new())
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use chrono::Utc;
    use readiness_analytics::reports::{
        BlockerCell, BlockerCount, BlockerTiers, Cell, Estimate, Readiness, SoleBlocker, Unlock,
    };
    use readiness_analytics::{AI_READINESS_V1, Instrument};

    use super::*;
    use crate::domain::params::ReportParams;
    use crate::report_page::{Access, PageInput, ReportModels};

    fn figure(count: Option<u64>) -> UnlockFigure {
        UnlockFigure {
            suppressed: count.is_none(),
            estimate: count.map(|count| Estimate {
                count,
                share: 0.5,
                ci_low: 0.25,
                ci_high: 0.75,
            }),
            weighted: None,
        }
    }

    #[test]
    fn every_string_of_the_ranking_is_escaped() {
        let instrument = Instrument::parse(AI_READINESS_V1).unwrap();
        let params = ReportParams::default();
        let models = ReportModels {
            readiness: Readiness {
                overall: Cell {
                    n: None,
                    suppressed: true,
                    tiers: None,
                    ready_to_customise: None,
                    dimension_means: None,
                    weighted: None,
                },
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
        let blockers = TierBlockers {
            tier: "t<2>".to_owned(),
            rank: 2,
            label: "\"Label\" & <b>".to_owned(),
            overall: BlockerCell {
                n: Some(8),
                suppressed: false,
                gates: Some(Vec::new()),
                weighted: None,
                unlock: Some(Unlock {
                    sole_blockers: vec![
                        SoleBlocker {
                            gate: "t.<g>".to_owned(),
                            reason: "<script>x</script>".to_owned(),
                            figure: figure(Some(4)),
                        },
                        SoleBlocker {
                            gate: "t.h'".to_owned(),
                            reason: "a & b".to_owned(),
                            figure: figure(None),
                        },
                    ],
                    blocker_counts: vec![BlockerCount {
                        blockers: "4+".to_owned(),
                        figure: figure(Some(4)),
                    }],
                }),
            },
            segments: Vec::new(),
        };
        page.unlock_ranking(&blockers);
        let out = page.out;
        assert!(out.contains("id=\"unlock-t&lt;2&gt;\""), "{out}");
        assert!(out.contains("moves them up to &quot;Label&quot; &amp; &lt;b&gt;."));
        assert!(out.contains(
            "<tr><th title=\"t.&lt;g&gt;\">&lt;script&gt;x&lt;/script&gt;</th><td>50.0 %</td>\
             <td>25.0–75.0 %</td><td>4</td></tr>"
        ));
        assert!(out.contains("<th title=\"t.h&#39;\">a &amp; b</th><td colspan=\"3\">suppressed"));
        assert!(!out.contains("<script") && !out.contains("<b>"));
    }
}
