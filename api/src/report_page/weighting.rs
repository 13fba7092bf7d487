//! The weighting section of the report page: how each cross-section was raked, in the words
//! of the reports' `weighting` fields, and the weighted dimension means. Shown only when the
//! report is weighted.

use std::fmt::Write as _;

use readiness_analytics::reports::Weighting;

use super::page::{Page, escape, percent};

impl Page<'_> {
    pub(super) fn weighting(&mut self) {
        let input = self.input;
        let Some(weights) = input.params.weights.as_deref() else {
            return;
        };
        let models = input.models;
        let _ = writeln!(
            self.out,
            "<section id=\"weighting\" class=\"card\">\n<h2>Weighting</h2>\n<p class=\"note\">\
             Each cross-section (the report’s window, and each period of the trend) is raked to \
             the margins of <code>{}</code> on its own; segments take the weights of theirs. \
             Raking is calibrated when every margin category’s weighted share is within the \
             tolerance of its population share.</p>",
            escape(weights)
        );
        match &models.readiness.weighting {
            Some(weighting) => {
                self.w("<h3>The report’s window</h3>\n");
                self.weighting_figures(weighting, "window");
            }
            None => self.w("<p class=\"note\">The window has no responses to weight.</p>\n"),
        }
        let flagged: Vec<(&str, &Weighting)> = models
            .trend
            .iter()
            .filter_map(|p| {
                p.readiness
                    .weighting
                    .as_ref()
                    .map(|w| (p.period.as_str(), w))
            })
            .filter(|(_, w)| !w.converged || !w.dropped.is_empty())
            .collect();
        if flagged.is_empty() {
            let _ = writeln!(
                self.out,
                "<p data-weighting=\"trend\">Trend: each of the {} periods is calibrated to every \
                 margin category.</p>",
                models.trend.len()
            );
        } else {
            self.w("<h3>Trend periods not calibrated to every category</h3>\n");
            for (period, weighting) in flagged {
                let _ = writeln!(self.out, "<h4>{}</h4>", escape(period));
                self.weighting_figures(weighting, period);
            }
        }
        if let Some(means) = models
            .readiness
            .overall
            .weighted
            .as_ref()
            .map(|w| &w.dimension_means)
        {
            let _ = writeln!(
                self.out,
                "<p data-figure=\"weighted-means\">Weighted dimension means (0–100): maturity \
                 {:.1} · clarity {:.1} · vendor gap {:.1} · capability {:.1} · governance {:.1}. \
                 The dimension means chart and table show the unweighted sample.</p>",
                means.maturity, means.clarity, means.vendor_gap, means.capability, means.governance
            );
        }
        self.w("</section>\n");
    }

    fn weighting_figures(&mut self, weighting: &Weighting, of: &str) {
        let state = if weighting.converged {
            "calibrated"
        } else {
            "not calibrated: the margins cannot all be met on this sample"
        };
        let _ = writeln!(
            self.out,
            "<p data-weighting=\"{}\" data-converged=\"{}\"{}>{} rounds of raking; the largest \
             remaining margin discrepancy is {:.2} percentage points against a tolerance of \
             {:.2}: <b>{state}</b>.</p>",
            escape(of),
            weighting.converged,
            if weighting.converged {
                ""
            } else {
                " class=\"flag\""
            },
            weighting.iterations,
            weighting.max_discrepancy * 100.0,
            weighting.tolerance * 100.0,
        );
        if weighting.dropped.is_empty() {
            return;
        }
        let _ = writeln!(
            self.out,
            "<p class=\"flag\" data-dropped=\"{}\">The sample has no firm in these margin \
             categories, so they were left out and the weighted figures describe the population \
             without them:</p>\n<ul class=\"dropped\">",
            escape(of)
        );
        for dropped in &weighting.dropped {
            let _ = writeln!(
                self.out,
                "<li><code>{}</code> {}: {} of the population</li>",
                escape(&dropped.dimension),
                escape(&dropped.category),
                percent(dropped.population_share)
            );
        }
        self.w("</ul>\n");
    }
}
