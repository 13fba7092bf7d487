//! The figure sections of the report page: tiers by segment, trend, blockers, dimension
//! means, reference figures, and the disclosure note.

use std::fmt::Write as _;

use plotters::style::RGBColor;
use readiness_analytics::reports::{
    Basis, BlockerCell, Cell, Interval, TierBlockers, reference_figures,
};

use super::charts::{self, Bar, Scale, Share, StackedBar, TrendPoint};
use super::page::{Page, escape, hex, percent, segment_label, share_of, thousands, tier_colors};

/// Segments drawn in the tier chart; the table below it lists every one.
const MAX_CHART_SEGMENTS: usize = 30;
/// Above this many bars the tier chart spans the page.
const WIDE_FROM_BARS: usize = 12;
/// Gates drawn per tier in the blockers charts; the table lists every one.
const MAX_CHART_GATES: usize = 6;
const SCORE_COLOR: RGBColor = RGBColor(0x31, 0x82, 0xbd);
const REFERENCE_COLOR: RGBColor = RGBColor(0x99, 0x99, 0x99);

impl Page<'_> {
    pub(super) fn legend(&mut self, colors: &[RGBColor]) {
        let input = self.input;
        self.w("<ul class=\"legend\">");
        for (rank, (tier, color)) in input.instrument.tiers().iter().zip(colors).enumerate() {
            let _ = write!(
                self.out,
                "<li><span class=\"swatch\" style=\"background:{}\"></span>T{} {}</li>",
                hex(*color),
                rank + 1,
                escape(&tier.label)
            );
        }
        self.w("</ul>\n");
    }

    pub(super) fn tiers(&mut self) -> anyhow::Result<()> {
        let input = self.input;
        let colors = tier_colors(input.instrument);
        let readiness = &input.models.readiness;
        let by = &input.params.by;
        let tier_shares = |cell: &Cell| -> Option<Vec<f64>> {
            cell.tiers
                .as_ref()
                .filter(|_| !cell.suppressed)
                .map(|tiers| tiers.iter().map(|t| t.estimate.share).collect())
        };
        let mut bars = vec![StackedBar {
            label: format!("All {}", self.units),
            shares: tier_shares(&readiness.overall),
        }];
        bars.extend(
            readiness
                .segments
                .iter()
                .take(MAX_CHART_SEGMENTS)
                .map(|segment| StackedBar {
                    label: segment_label(&segment.key, by),
                    shares: tier_shares(&segment.cell),
                }),
        );
        // Many segments take the page's whole width, beside nothing.
        let wide = bars.len() > WIDE_FROM_BARS;
        let chart = charts::stacked_tiers(&bars, &colors, if wide { 1140 } else { 560 })?;
        self.w(if wide {
            "<section id=\"tiers\" class=\"card wide\">\n<h2>Tiers by segment</h2>\n"
        } else {
            "<section id=\"tiers\" class=\"card\">\n<h2>Tiers by segment</h2>\n"
        });
        self.legend(&colors);
        self.w(&chart);
        if readiness.segments.len() > MAX_CHART_SEGMENTS {
            let _ = writeln!(
                self.out,
                "<p class=\"note\">The chart shows the first {MAX_CHART_SEGMENTS} of {} segments; \
                 the table lists them all.</p>",
                readiness.segments.len()
            );
        } else if by.is_empty() {
            self.w(
                "<p class=\"note\">No breakdown was asked for; add <code>by</code> (industry, \
                 size_band, country, region, version) for one bar per segment.</p>\n",
            );
        }
        let tier_count = input.instrument.tiers().len();
        self.w("<details><summary>Figures by segment</summary>\n<table class=\"figures\">\n<thead><tr><th>Segment</th><th>n</th>");
        for rank in 1..=tier_count {
            let _ = write!(self.out, "<th>T{rank}</th>");
        }
        self.w("<th>Ready to customise</th><th>95 % CI</th></tr></thead>\n<tbody>\n");
        let rows: Vec<(String, Cell)> =
            std::iter::once((format!("All {}", self.units), readiness.overall.clone()))
                .chain(
                    readiness
                        .segments
                        .iter()
                        .map(|s| (segment_label(&s.key, by), s.cell.clone())),
                )
                .collect();
        for (label, cell) in rows {
            match (&cell.tiers, &cell.ready_to_customise, cell.n) {
                (Some(tiers), Some(ready), Some(n)) if !cell.suppressed => {
                    let _ = write!(
                        self.out,
                        "<tr><th>{}</th><td>{}</td>",
                        escape(&label),
                        thousands(n)
                    );
                    for tier in tiers {
                        let _ = write!(self.out, "<td>{}</td>", percent(tier.estimate.share));
                    }
                    let _ = writeln!(
                        self.out,
                        "<td>{}</td><td>{:.1}–{:.1} %</td></tr>",
                        percent(ready.share),
                        ready.ci_low * 100.0,
                        ready.ci_high * 100.0
                    );
                }
                _ => self.suppressed_row(&label, tier_count + 3),
            }
        }
        self.w("</tbody></table></details>\n</section>\n");
        Ok(())
    }

    pub(super) fn suppressed_row(&mut self, label: &str, columns: usize) {
        let _ = writeln!(
            self.out,
            "<tr class=\"suppressed\" data-suppressed=\"true\"><th>{}</th><td colspan=\"{columns}\">suppressed</td></tr>",
            escape(label)
        );
    }

    pub(super) fn trend(&mut self) -> anyhow::Result<()> {
        let input = self.input;
        let min_cell = input.min_cell;
        let units = self.units;
        let period = match input.params.interval {
            Interval::Month => "month",
            Interval::Quarter => "quarter",
        };
        let trend = &input.models.trend;
        let points: Vec<TrendPoint> = trend
            .iter()
            .map(|p| TrendPoint {
                label: p.period.clone(),
                value: p
                    .readiness
                    .overall
                    .ready_to_customise
                    .as_ref()
                    .filter(|_| !p.readiness.overall.suppressed)
                    .map(share_of),
            })
            .collect();
        self.w("<section id=\"trend\" class=\"card\">\n<h2>Trend: ready to customise</h2>\n");
        if points.is_empty() {
            self.w("<p class=\"note\">No responses fall in the window.</p>\n</section>\n");
            return Ok(());
        }
        let chart = charts::trend(&points)?;
        self.w(&chart);
        let within = match input.params.basis {
            Basis::Latest => format!("each firm’s latest response in the {period}"),
            Basis::All => format!("every response in the {period}"),
        };
        let _ = writeln!(
            self.out,
            "<p class=\"note\"><span class=\"key line\"></span>share ready to customise per {period} \
             ({within}); <span class=\"key band\"></span>its 95 % Wilson interval; \
             <span class=\"key gap\"></span>{period}s with fewer than {min_cell} {units}, \
             suppressed.</p>"
        );
        self.w("<details><summary>Figures by period</summary>\n<table class=\"figures\">\n<thead><tr><th>Period</th><th>n</th><th>Ready to customise</th><th>95 % CI</th></tr></thead>\n<tbody>\n");
        for p in trend {
            let cell = &p.readiness.overall;
            match (&cell.ready_to_customise, cell.n) {
                (Some(ready), Some(n)) if !cell.suppressed => {
                    let _ = writeln!(
                        self.out,
                        "<tr><th>{}</th><td>{}</td><td>{}</td><td>{:.1}–{:.1} %</td></tr>",
                        escape(&p.period),
                        thousands(n),
                        percent(ready.share),
                        ready.ci_low * 100.0,
                        ready.ci_high * 100.0
                    );
                }
                _ => self.suppressed_row(&p.period, 3),
            }
        }
        self.w("</tbody></table></details>\n</section>\n");
        Ok(())
    }

    pub(super) fn blockers(&mut self) -> anyhow::Result<()> {
        let input = self.input;
        let min_cell = input.min_cell;
        let units = self.units;
        self.w(
            "<section id=\"blockers\" class=\"card\">\n<h2>Top blockers</h2>\n\
                <p class=\"note\">For the firms one tier below each tier: the share failing each \
                of its gates (a firm can fail several), with 95 % intervals.</p>\n",
        );
        let tiers = input.instrument.tiers();
        for blockers in &input.models.blockers.tiers {
            let rank = usize::from(blockers.rank);
            let below = rank
                .checked_sub(2)
                .and_then(|i| tiers.get(i))
                .map(|t| t.label.as_str())
                .unwrap_or_default();
            let _ = writeln!(
                self.out,
                "<div class=\"blocker-tier\">\n<h3>From T{} to T{}: {}</h3>",
                rank - 1,
                rank,
                escape(&blockers.label)
            );
            let cell = &blockers.overall;
            match (&cell.gates, cell.n) {
                (Some(gates), Some(n)) if !cell.suppressed => {
                    let bars: Vec<Bar> = gates
                        .iter()
                        .take(MAX_CHART_GATES)
                        .map(|gate| Bar {
                            label: gate_name(&gate.gate),
                            value: Some(share_of(&gate.estimate)),
                            color: charts::READY,
                        })
                        .collect();
                    let highest = gates.iter().map(|g| g.estimate.ci_high).fold(0.0, f64::max);
                    let chart = charts::bars(
                        &format!("blockers-{}", blockers.tier),
                        &format!(
                            "Gates of {} failed by the firms one tier below",
                            blockers.tier
                        ),
                        &bars,
                        Scale::Percent {
                            max: (highest * 1.1).min(1.0),
                        },
                        560,
                    )?;
                    let _ = writeln!(
                        self.out,
                        "<div class=\"split\"><div>{chart}</div><div>\n<p class=\"note\">{} {units} \
                         at T{}: {}</p>\n<table class=\"figures\"><thead><tr><th>Gate</th><th>Failing</th>\
                         <th>95 % CI</th><th>{units}</th></tr></thead><tbody>",
                        thousands(n),
                        rank - 1,
                        escape(below)
                    );
                    for gate in gates {
                        let _ = writeln!(
                            self.out,
                            "<tr><th title=\"{}\">{}</th><td>{}</td><td>{:.1}–{:.1} %</td><td>{}</td></tr>",
                            escape(&gate.gate),
                            escape(&gate.reason),
                            percent(gate.estimate.share),
                            gate.estimate.ci_low * 100.0,
                            gate.estimate.ci_high * 100.0,
                            thousands(gate.estimate.count)
                        );
                    }
                    self.w("</tbody></table></div></div>\n");
                    self.unlock_ranking(blockers);
                }
                _ => {
                    let _ = writeln!(
                        self.out,
                        "<p class=\"suppressed\" data-suppressed=\"true\">Suppressed: fewer than \
                         {min_cell} {units} at T{} ({}).</p>",
                        rank - 1,
                        escape(below)
                    );
                }
            }
            self.w("</div>\n");
        }
        self.w("</section>\n");
        Ok(())
    }

    pub(super) fn dimensions(&mut self) -> anyhow::Result<()> {
        let input = self.input;
        let sections = &input.instrument.definition().sections;
        let title = |key: &str| {
            sections
                .iter()
                .find(|s| s.key.key() == key)
                .map_or_else(|| key.to_owned(), |s| s.title.clone())
        };
        let means = |cell: &Cell| {
            cell.dimension_means
                .as_ref()
                .filter(|_| !cell.suppressed)
                .map(|m| {
                    [
                        ("maturity", m.maturity),
                        ("clarity", m.clarity),
                        ("vendor_gap", m.vendor_gap),
                        ("capability", m.capability),
                        ("governance", m.governance),
                    ]
                })
        };
        let readiness = &input.models.readiness;
        let keys = [
            "maturity",
            "clarity",
            "vendor_gap",
            "capability",
            "governance",
        ];
        let overall = means(&readiness.overall);
        let bars: Vec<Bar> = keys
            .iter()
            .enumerate()
            .map(|(i, key)| Bar {
                label: title(key),
                value: overall.map(|m| Share {
                    share: m[i].1,
                    low: m[i].1,
                    high: m[i].1,
                }),
                color: SCORE_COLOR,
            })
            .collect();
        let chart = charts::bars(
            "dimensions",
            "Mean dimension scores, 0 to 100",
            &bars,
            Scale::Score,
            560,
        )?;
        self.w("<section id=\"dimensions\" class=\"card\">\n<h2>Dimension means</h2>\n");
        self.w(&chart);
        self.w("<p class=\"note\">Mean scores from 0 (lowest answers) to 100 (highest), descriptive only; \
                the rubric’s gates decide the tiers.</p>\n");
        if input.params.weights.is_some() {
            self.w(
                "<p class=\"note\" data-means=\"unweighted\">These are the means of the \
                    unweighted sample; the weighted means are under Weighting.</p>\n",
            );
        }
        if !readiness.segments.is_empty() {
            let by = &input.params.by;
            self.w("<details><summary>Means by segment</summary>\n<table class=\"figures\">\n<thead><tr><th>Segment</th>");
            for key in keys {
                let _ = write!(self.out, "<th>{}</th>", escape(&title(key)));
            }
            self.w("</tr></thead>\n<tbody>\n");
            for segment in &readiness.segments {
                let label = segment_label(&segment.key, by);
                match means(&segment.cell) {
                    Some(values) => {
                        let _ = write!(self.out, "<tr><th>{}</th>", escape(&label));
                        for (_, value) in values {
                            let _ = write!(self.out, "<td>{value:.0}</td>");
                        }
                        self.w("</tr>\n");
                    }
                    None => self.suppressed_row(&label, keys.len()),
                }
            }
            self.w("</tbody></table></details>\n");
        }
        self.w("</section>\n");
        Ok(())
    }

    pub(super) fn reference(&mut self) -> anyhow::Result<()> {
        let input = self.input;
        let figures = reference_figures();
        let overall = &input.models.readiness.overall;
        let sample = overall
            .ready_to_customise
            .as_ref()
            .filter(|_| !overall.suppressed)
            .map(share_of);
        let mut bars = vec![Bar {
            label: "This sample: ready to customise".to_owned(),
            value: sample,
            color: charts::READY,
        }];
        bars.extend(figures.iter().map(|f| Bar {
            label: format!("{} {}: {}", f.source, f.year, f.population),
            value: Some(Share {
                share: f.share,
                low: f.share,
                high: f.share,
            }),
            color: REFERENCE_COLOR,
        }));
        let highest = bars
            .iter()
            .filter_map(|b| b.value.map(|v| v.high))
            .fold(0.0, f64::max);
        let chart = charts::bars(
            "reference",
            "The sample's ready-to-customise share beside official statistics",
            &bars,
            Scale::Percent {
                max: (highest * 1.1).min(1.0),
            },
            1140,
        )?;
        self.w("<section id=\"reference\" class=\"card\">\n<h2>Reference figures beside the sample</h2>\n");
        self.w(&chart);
        self.w("<p class=\"note\">The official figures measure <em>use</em> of AI (Eurostat) and of \
                customised AI (OECD); the sample measures <em>readiness</em> to customise. Read them \
                side by side, not as the same quantity.</p>\n<table class=\"figures sources\"><thead><tr>\
                <th>Source</th><th>Year</th><th>Population</th><th>Measure</th><th>Share</th></tr></thead><tbody>\n");
        for figure in figures {
            let _ = writeln!(
                self.out,
                "<tr><th><a href=\"{}\" rel=\"noreferrer\">{}</a></th><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(&figure.url),
                escape(&figure.source),
                figure.year,
                escape(&figure.population),
                escape(&figure.measure),
                percent(figure.share)
            );
        }
        self.w("</tbody></table>\n</section>\n");
        Ok(())
    }

    pub(super) fn disclosure(&mut self) {
        let input = self.input;
        let min_cell = input.min_cell;
        let units = self.units;
        let by_empty = input.params.by.is_empty();
        let by = input.params.by.clone();
        let models = input.models;
        let overall = &input.models.readiness.overall;
        let sample = match (overall.n, overall.suppressed) {
            (Some(n), false) => format!("<b data-figure=\"sample\">{}</b> {units}", thousands(n)),
            _ => format!("fewer than {min_cell} {units} (suppressed)"),
        };
        let scope = self.scope();
        let _ = writeln!(
            self.out,
            "<section id=\"disclosure\" class=\"card\">\n<h2>Sample and disclosure control</h2>\n\
             <p>Sample: {sample}. {scope}.</p>\n\
             <p class=\"rule\">Perturbation: {noise} Each firm has a secret random key; the \
             noise of a cell is picked by the sum of its firms’ keys, so the same firms always \
             show the same number, and repeating or combining requests does not average it away. \
             Shares and intervals are computed from the perturbed counts and means carry noise of \
             their own, so tier counts need not add up to the sample, nor segments to the \
             total.</p>\n\
             <p class=\"rule\">Suppression rule: a cell with fewer than <b>{min_cell}</b> firms \
             (after perturbation) is suppressed and shows no count, share, interval or mean. When \
             exactly one segment of a breakdown (of the report, of a period, or of a tier’s \
             blockers) is suppressed, the smallest other one is suppressed too, so the hidden one \
             cannot be recovered by subtracting from the total; when the whole sample is below \
             {min_cell}, everything is.</p>\n<h3>Suppressed on this page</h3>\n<ul class=\"suppressed-list\">",
            noise = noise_rule(&input.table)
        );
        let hidden: Vec<String> = models
            .readiness
            .segments
            .iter()
            .filter(|s| s.cell.suppressed)
            .map(|s| escape(&segment_label(&s.key, &by)))
            .collect();
        let segments = models.readiness.segments.len();
        let line = if by_empty {
            "Segments: no breakdown was asked for.".to_owned()
        } else if hidden.is_empty() {
            format!("Segments: none of the {segments} segments.")
        } else {
            format!(
                "Segments: {} of {segments}: {}.",
                hidden.len(),
                hidden.join(", ")
            )
        };
        let _ = writeln!(self.out, "<li>{line}</li>");
        let periods: Vec<String> = models
            .trend
            .iter()
            .filter(|p| p.readiness.overall.suppressed)
            .map(|p| escape(&p.period))
            .collect();
        let line = if periods.is_empty() {
            format!("Trend: none of the {} periods.", models.trend.len())
        } else {
            format!(
                "Trend: {} of {} periods: {}.",
                periods.len(),
                models.trend.len(),
                periods.join(", ")
            )
        };
        let _ = writeln!(self.out, "<li>{line}</li>");
        let blocked: Vec<String> = models
            .blockers
            .tiers
            .iter()
            .filter(|t| blocker_hidden(t))
            .map(|t| format!("T{} ({})", t.rank, escape(&t.label)))
            .collect();
        let line = if blocked.is_empty() {
            "Blockers: none.".to_owned()
        } else {
            format!("Blockers of {}.", blocked.join("; "))
        };
        let _ = writeln!(self.out, "<li>{line}</li>\n</ul>\n</section>");
    }
}

fn blocker_hidden(tier: &TierBlockers) -> bool {
    let cell: &BlockerCell = &tier.overall;
    cell.suppressed
}

/// `fine_tune.training_examples` → `training examples`.
fn gate_name(id: &str) -> String {
    id.rsplit('.').next().unwrap_or(id).replace('_', " ")
}

/// What the perturbation table does to a count, in plain words.
fn noise_rule(table: &str) -> String {
    match table {
        "ptable_3_2_unbiased" => "every count on this page is the true count plus a noise of \
             at most 2 firms that is zero on average, and no count of 1 or 2 is ever shown."
            .to_owned(),
        "ptable_10_5_rule" => "every count on this page is perturbed with the UK ONS table: no \
             count under 10 is shown, and larger counts move by at most 2."
            .to_owned(),
        "unperturbed" => "the counts on this page are exact (this server is configured for \
             checks of the statistics, not for publishing)."
            .to_owned(),
        other => format!(
            "every count on this page is perturbed with the table `{}`.",
            escape(other)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::gate_name;

    #[test]
    fn gates_are_named_without_their_tier() {
        assert_eq!(
            gate_name("fine_tune.training_examples"),
            "training examples"
        );
        assert_eq!(gate_name("plain"), "plain");
    }
}
