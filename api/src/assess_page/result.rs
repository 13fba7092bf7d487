//! The result page: the tier and what it means, the dimension scores as a chart drawn on the
//! server, the action plan and the peer benchmark. Every figure is a field of the
//! [`PlanView`] the API returns for the same response; the page computes none.

use std::fmt::Write as _;

use fluent_bundle::FluentValue;
use readiness_analytics::texts::{Language, Localised};

use super::frame::{escape, page};
use super::ui::Ui;
use crate::services::plans::{BenchmarkView, PlanStepView, PlanView};

/// The result page of `plan`.
pub fn render(language: Language, texts: &Localised<'_>, here: &str, plan: &PlanView) -> String {
    let ui = Ui(language);
    let assessment = &plan.assessment;
    let tiers = texts.instrument().tiers().len();
    let mut body = String::new();
    let _ = writeln!(
        body,
        "<h1>{}</h1>\n<section class=\"card\" aria-labelledby=\"tier-heading\">\n<h2 id=\"tier-heading\">{}</h2>\n<p class=\"tier\">{}</p>\n<p>{}</p>\n<p><span class=\"badge\">{}</span></p>\n</section>",
        escape(&ui.t("result-title")),
        escape(&ui.t("result-tier")),
        escape(&assessment.tier.label),
        escape(&ui.t_with(
            "result-tier-of",
            &[
                ("rank", assessment.tier.rank.into()),
                ("tiers", tiers.into())
            ]
        )),
        escape(&ui.t(if assessment.ready_to_customise {
            "result-ready"
        } else {
            "result-stay"
        })),
    );
    let _ = writeln!(
        body,
        "<h2>{}</h2>\n<p>{}</p>",
        escape(&ui.t("result-advice")),
        escape(&assessment.tier.advice)
    );
    scores_chart(&mut body, ui, texts, plan);
    plan_section(&mut body, ui, plan);
    benchmark_section(&mut body, ui, plan.benchmark.as_ref());
    let _ = writeln!(
        body,
        "<p class=\"note print-hide\">{}</p>",
        escape(&ui.t("result-print"))
    );
    let title = format!("{} – {}", ui.t("result-title"), texts.title());
    page(language, &title, here, &body)
}

/// Horizontal bars of the five dimension scores; the figures are also in the chart's
/// description, which screen readers read for the image.
fn scores_chart(body: &mut String, ui: Ui, texts: &Localised<'_>, plan: &PlanView) {
    let scores = &plan.assessment.dimension_scores;
    let rows = [
        ("maturity", scores.maturity),
        ("clarity", scores.clarity),
        ("vendor_gap", scores.vendor_gap),
        ("capability", scores.capability),
        ("governance", scores.governance),
    ];
    let figures: Vec<String> = rows
        .iter()
        .zip(readiness_analytics::Dimension::ALL)
        .map(|((_, score), dimension)| format!("{}: {score:.0}", texts.section(dimension)))
        .collect();
    let description = format!("{} {}", ui.t("result-scores-caption"), figures.join("; "));
    // Each dimension's label above its bar: readable on a phone as on a wide screen.
    let (width, bar_width, row_height) = (360.0, 300.0, 50.0);
    let height = row_height * rows.len() as f64 + 6.0;
    let _ = writeln!(
        body,
        "<h2 id=\"scores-heading\">{title}</h2>\n<svg class=\"chart\" data-chart=\"scores\" viewBox=\"0 0 {width} {height}\" role=\"img\" aria-labelledby=\"scores-heading scores-desc\">\n<desc id=\"scores-desc\">{desc}</desc>",
        title = escape(&ui.t("result-scores")),
        desc = escape(&description),
    );
    for (index, (dimension, score)) in rows.iter().enumerate() {
        let y = index as f64 * row_height + 4.0;
        let label = readiness_analytics::Dimension::ALL
            .get(index)
            .map_or_else(|| (*dimension).to_owned(), |d| texts.section(*d));
        let filled = bar_width * score.clamp(0.0, 100.0) / 100.0;
        let _ = writeln!(
            body,
            "<text x=\"0\" y=\"{ty}\" font-size=\"15\" fill=\"#1b1f24\">{label}</text>\
             <rect x=\"0\" y=\"{by}\" width=\"{bar_width}\" height=\"18\" rx=\"3\" fill=\"#e3e7ed\"/>\
             <rect x=\"0\" y=\"{by}\" width=\"{filled:.1}\" height=\"18\" rx=\"3\" fill=\"#0b5cab\"/>\
             <text x=\"{tx}\" y=\"{vy}\" font-size=\"15\" fill=\"#1b1f24\">{score:.0}</text>",
            ty = y + 14.0,
            by = y + 22.0,
            vy = y + 36.0,
            label = escape(&label),
            tx = bar_width + 8.0,
        );
    }
    body.push_str("</svg>\n");
}

fn plan_section(body: &mut String, ui: Ui, plan: &PlanView) {
    let _ = writeln!(body, "<h2>{}</h2>", escape(&ui.t("plan-title")));
    let Some(next) = &plan.assessment.next_tier else {
        let _ = writeln!(body, "<p>{}</p>", escape(&ui.t("plan-top")));
        return;
    };
    let _ = writeln!(
        body,
        "<p>{}</p>",
        escape(&ui.t_with(
            "plan-intro",
            &[("tier", FluentValue::from(next.label.clone()))]
        ))
    );
    for step in &plan.steps {
        plan_step(body, ui, step);
    }
}

fn plan_step(body: &mut String, ui: Ui, step: &PlanStepView) {
    let _ = writeln!(
        body,
        "<section class=\"plan-step\" data-gate=\"{}\">\n<h3>{}</h3>",
        escape(&step.gate),
        escape(&step.reason)
    );
    if step.alternatives.len() > 1 {
        let _ = writeln!(body, "<p>{}</p>", escape(&ui.t("plan-or")));
    }
    for requirement in &step.alternatives {
        let given = requirement
            .given
            .as_ref()
            .map_or_else(|| ui.t("plan-no-answer"), |o| o.label.clone());
        let _ = writeln!(
            body,
            "<p><strong>{question}</strong></p>\n<dl class=\"answers\" data-question=\"{key}\" data-least=\"{least_key}\">\n<dt>{yours}</dt><dd>{given}</dd>\n<dt>{enough}</dt><dd>{least}</dd>\n</dl>",
            question = escape(&requirement.text),
            key = escape(&requirement.question),
            least_key = escape(&requirement.least.key),
            yours = escape(&ui.t("plan-your-answer")),
            given = escape(&given),
            enough = escape(&ui.t("plan-enough")),
            least = escape(&requirement.least.label),
        );
    }
    if let Some(next_step) = &step.next_step {
        let _ = writeln!(
            body,
            "<p><strong>{}:</strong> {}</p>",
            escape(&ui.t("plan-next-step")),
            escape(next_step)
        );
    }
    body.push_str("</section>\n");
}

fn benchmark_section(body: &mut String, ui: Ui, benchmark: Option<&BenchmarkView>) {
    let _ = writeln!(body, "<h2>{}</h2>", escape(&ui.t("benchmark-title")));
    let Some(benchmark) = benchmark else {
        let _ = writeln!(body, "<p>{}</p>", escape(&ui.t("benchmark-none")));
        return;
    };
    let group = benchmark.group.key();
    let _ = writeln!(
        body,
        "<p data-group=\"{group}\"><strong>{}</strong>. {}</p>",
        escape(&ui.t(&format!("benchmark-group-{group}"))),
        escape(&ui.t_with("benchmark-peers", &[("peers", benchmark.peers.into())])),
    );
    let _ = writeln!(
        body,
        "<table>\n<caption>{}</caption>\n<tbody>",
        escape(&ui.t("benchmark-tiers"))
    );
    for tier in &benchmark.tiers {
        let _ = writeln!(
            body,
            "<tr><th scope=\"row\">{}</th><td class=\"num\">{:.0}\u{a0}%</td></tr>",
            escape(&tier.label),
            tier.share * 100.0
        );
    }
    body.push_str("</tbody>\n</table>\n");
    let _ = writeln!(
        body,
        "<table>\n<thead><tr><th scope=\"col\">{}</th><th scope=\"col\" class=\"num\">{}</th><th scope=\"col\" class=\"num\">{}</th></tr></thead>\n<tbody>",
        escape(&ui.t("benchmark-dimension")),
        escape(&ui.t("benchmark-your-score")),
        escape(&ui.t("benchmark-percentile")),
    );
    for standing in &benchmark.dimensions {
        let _ = writeln!(
            body,
            "<tr><th scope=\"row\">{}</th><td class=\"num\">{:.0}</td><td class=\"num\">{}</td></tr>",
            escape(&standing.label),
            standing.score,
            escape(&ui.t_with(
                "benchmark-percentile-value",
                &[("percentile", standing.percentile.into())]
            )),
        );
    }
    let _ = writeln!(
        body,
        "</tbody>\n</table>\n<p class=\"note\">{}</p>",
        escape(&ui.t("benchmark-note"))
    );
}
