//! The HTML of the report page: the frame, the headline and the helpers every section uses
//! (the figure sections are in `sections.rs`). Every dynamic string goes through [`escape`];
//! a suppressed cell is written as "suppressed" and nothing else.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use plotters::style::RGBColor;
use readiness_analytics::Instrument;
use readiness_analytics::reports::{
    Basis, Estimate, FILTER_FIELDS, SegmentField, SegmentKey, reference_figures,
};

use super::ReportModels;
use super::charts::Share;
use crate::domain::params::ReportParams;

/// How the page is being read; said in its header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// By an analyst with a key.
    Analyst,
    /// Through a share link, read-only, until it expires.
    Shared { expires_at: DateTime<Utc> },
    /// Written to a file by `readiness report --html`.
    Offline,
}

pub struct PageInput<'a> {
    pub params: &'a ReportParams,
    /// The threshold in force: the publisher's, or the higher one the request asked for.
    pub min_cell: u64,
    /// The name of the perturbation table the counts went through.
    pub table: String,
    pub instrument: &'a Instrument,
    pub models: &'a ReportModels,
    pub access: Access,
    pub generated_at: DateTime<Utc>,
}

const STAY_COLORS: [RGBColor; 4] = [
    RGBColor(0x9e, 0xca, 0xe1),
    RGBColor(0x31, 0x82, 0xbd),
    RGBColor(0x08, 0x51, 0x9c),
    RGBColor(0x08, 0x30, 0x6b),
];
const READY_COLORS: [RGBColor; 3] = [
    RGBColor(0xfd, 0xae, 0x6b),
    RGBColor(0xe6, 0x55, 0x0d),
    RGBColor(0xa6, 0x36, 0x03),
];

const STYLE: &str = include_str!("page.css");

/// HTML-escapes text for element content and quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A fraction as a percentage with one decimal, as everywhere on the page.
pub fn percent(share: f64) -> String {
    format!("{:.1} %", share * 100.0)
}

fn interval(low: f64, high: f64) -> String {
    format!("95 % CI {:.1}–{:.1} %", low * 100.0, high * 100.0)
}

pub(super) fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// The headline in words: per 100, or per 1,000 when either side is under 5 %, so a small
/// share does not read as none.
fn verdict(ready: f64, ready_count: u64, units: &str) -> String {
    let base: u32 = if ready.min(1.0 - ready) >= 0.05 {
        100
    } else {
        1000
    };
    let per_base = (ready * f64::from(base)).round() as u32;
    let ready_words = if per_base == 0 && ready_count > 0 {
        format!("fewer than <b>1 in {}</b>", thousands(u64::from(base)))
    } else {
        format!("<b>{per_base} in {}</b>", thousands(u64::from(base)))
    };
    format!(
        "About <b>{} in {}</b> {units} should stay on vendor models and improve prompts or add \
         a knowledge base first; {ready_words} {} ready to customise a model.",
        base - per_base.min(base),
        thousands(u64::from(base)),
        if per_base <= 1 { "is" } else { "are" }
    )
}

pub(super) fn hex(color: RGBColor) -> String {
    format!("#{:02x}{:02x}{:02x}", color.0, color.1, color.2)
}

pub(super) fn share_of(estimate: &Estimate) -> Share {
    Share {
        share: estimate.share,
        low: estimate.ci_low,
        high: estimate.ci_high,
    }
}

/// NACE Rev.2 sections, shortened.
fn industry_name(section: &str) -> &'static str {
    match section {
        "A" => "Agriculture",
        "B" => "Mining",
        "C" => "Manufacturing",
        "D" => "Energy",
        "E" => "Water and waste",
        "F" => "Construction",
        "G" => "Trade",
        "H" => "Transport",
        "I" => "Accommodation and food",
        "J" => "Information and communication",
        "K" => "Finance and insurance",
        "L" => "Real estate",
        "M" => "Professional services",
        "N" => "Administrative services",
        "O" => "Public administration",
        "P" => "Education",
        "Q" => "Health and social work",
        "R" => "Arts and recreation",
        "S" => "Other services",
        "T" => "Households",
        "U" => "Extraterritorial bodies",
        _ => "",
    }
}

fn size_band_name(band: &str) -> String {
    match band {
        "micro" => "micro (1–9)".to_owned(),
        "small" => "small (10–49)".to_owned(),
        "medium" => "medium (50–249)".to_owned(),
        "large" => "large (250+)".to_owned(),
        other => other.to_owned(),
    }
}

/// A segment's name: its attributes in the order of `by`.
pub fn segment_label(key: &SegmentKey, by: &[SegmentField]) -> String {
    let parts: Vec<String> = by
        .iter()
        .filter_map(|field| match field {
            SegmentField::Industry => key.industry.as_ref().map(|s| {
                let name = industry_name(s);
                if name.is_empty() {
                    s.clone()
                } else {
                    format!("{s} {name}")
                }
            }),
            SegmentField::SizeBand => key.size_band.as_deref().map(size_band_name),
            SegmentField::Country => key.country.clone(),
            SegmentField::Region => key
                .region
                .as_ref()
                .map(|r| r.clone().unwrap_or_else(|| "no region".to_owned())),
            SegmentField::Version => key.version.map(|v| format!("version {v}")),
        })
        .collect();
    parts.join(" · ")
}

fn field_name(field: SegmentField) -> &'static str {
    match field {
        SegmentField::Industry => "industry",
        SegmentField::SizeBand => "size band",
        SegmentField::Country => "country",
        SegmentField::Region => "region",
        SegmentField::Version => "survey version",
    }
}

/// The colour of each tier: blues for staying on vendor models, oranges for customising.
pub(super) fn tier_colors(instrument: &Instrument) -> Vec<RGBColor> {
    let (mut stay, mut ready) = (0, 0);
    instrument
        .tiers()
        .iter()
        .map(|tier| {
            let (palette, used): (&[RGBColor], &mut usize) = if tier.ready_to_customise {
                (&READY_COLORS, &mut ready)
            } else {
                (&STAY_COLORS, &mut stay)
            };
            let color = palette[(*used).min(palette.len() - 1)];
            *used += 1;
            color
        })
        .collect()
}

pub(super) struct Page<'a> {
    pub(super) input: &'a PageInput<'a>,
    /// "firms" (latest response of each) or "responses".
    pub(super) units: &'static str,
    pub(super) out: String,
}

/// The whole page.
pub fn render(input: &PageInput<'_>) -> anyhow::Result<String> {
    let mut page = Page {
        input,
        units: match input.params.basis {
            Basis::Latest => "firms",
            Basis::All => "responses",
        },
        out: String::with_capacity(64 * 1024),
    };
    page.head();
    page.header();
    page.out.push_str("<main>\n");
    page.headline();
    page.weighting();
    page.out.push_str("<div class=\"grid\">\n");
    page.tiers()?;
    page.trend()?;
    page.out.push_str("</div>\n");
    page.blockers()?;
    if let Some(change) = &input.models.change {
        page.change(change)?;
    }
    page.out.push_str("<div class=\"grid\">\n");
    page.dimensions()?;
    page.disclosure();
    page.out.push_str("</div>\n");
    page.reference()?;
    page.out.push_str("</main>\n");
    page.footer();
    Ok(page.out)
}

impl Page<'_> {
    pub(super) fn w(&mut self, text: &str) {
        self.out.push_str(text);
    }

    fn head(&mut self) {
        let input = self.input;
        let title = format!("AI readiness report: {}", input.params.survey);
        let _ = writeln!(
            self.out,
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
             <meta name=\"referrer\" content=\"no-referrer\">\n\
             <meta name=\"robots\" content=\"noindex\">\n\
             <link rel=\"icon\" href=\"data:,\">\n<title>{}</title>\n<style>\n{STYLE}</style>\n\
             </head>\n<body>",
            escape(&title)
        );
    }

    /// What the figures cover, in words.
    pub(super) fn scope(&self) -> String {
        let input = self.input;
        let params = input.params;
        let mut parts = vec![format!(
            "Survey <code>{}</code>, {}",
            escape(&params.survey),
            match params.version {
                Some(v) => format!("version {v}"),
                None => "every released version".to_owned(),
            }
        )];
        parts.push(
            match params.basis {
                Basis::Latest => "each firm’s latest response",
                Basis::All => "every response",
            }
            .to_owned(),
        );
        parts.push(match (params.from, params.to) {
            (Some(from), Some(to)) => format!("submitted {from} to {to}"),
            (Some(from), None) => format!("submitted from {from}"),
            (None, Some(to)) => format!("submitted up to {to}"),
            (None, None) => "all dates".to_owned(),
        });
        let narrowed: Vec<String> = FILTER_FIELDS
            .iter()
            .filter(|field| !params.segments.values(**field).is_empty())
            .map(|field| {
                let values: Vec<String> = params
                    .segments
                    .values(*field)
                    .iter()
                    .map(|v| format!("<code>{}</code>", escape(v)))
                    .collect();
                format!("{} {}", field_name(*field), values.join(" or "))
            })
            .collect();
        if !narrowed.is_empty() {
            parts.push(format!("only firms with {}", narrowed.join(" and ")));
        }
        if !params.by.is_empty() {
            let by: Vec<&str> = params.by.iter().map(|f| field_name(*f)).collect();
            parts.push(format!("by {}", by.join(" × ")));
        }
        if let Some(weights) = &params.weights {
            parts.push(format!("weighted to <code>{}</code>", escape(weights)));
        }
        parts.join(" · ")
    }

    fn header(&mut self) {
        let input = self.input;
        let access = match input.access {
            Access::Analyst => String::new(),
            Access::Shared { expires_at } => format!(
                "<p class=\"access\">Read-only shared view · the link expires {}</p>",
                expires_at.format("%Y-%m-%d %H:%M UTC")
            ),
            Access::Offline => {
                "<p class=\"access\">Written by <code>readiness report</code></p>".to_owned()
            }
        };
        let scope = self.scope();
        let _ = writeln!(
            self.out,
            "<header class=\"top\">\n<div>\n<h1>Should firms customise their own AI model yet?</h1>\n\
             <p class=\"scope\">{scope}</p>\n</div>\n<div class=\"meta\">{access}\
             <p class=\"generated\">Generated {}</p></div>\n</header>",
            input.generated_at.format("%Y-%m-%d %H:%M UTC")
        );
    }

    fn headline(&mut self) {
        let input = self.input;
        let min_cell = input.min_cell;
        let units = self.units;
        let overall = input.models.readiness.overall.clone();
        self.w("<section class=\"headline\" id=\"headline\">\n");
        match (&overall.ready_to_customise, overall.n) {
            (Some(ready), Some(n)) if !overall.suppressed => {
                let stay = 1.0 - ready.share;
                let _ = writeln!(
                    self.out,
                    "<div class=\"kpi ready\"><span class=\"label\">Ready to customise a model</span>\
                     <strong data-figure=\"ready\" data-share=\"{}\">{}</strong>\
                     <span class=\"ci\" data-figure=\"ready-ci\">{}</span>\
                     <span class=\"sub\">fine-tuning or an own model · {} {units}</span></div>",
                    ready.share,
                    percent(ready.share),
                    interval(ready.ci_low, ready.ci_high),
                    thousands(ready.count),
                );
                // The complement of a Wilson interval is the Wilson interval of the complement.
                let _ = writeln!(
                    self.out,
                    "<div class=\"kpi stay\"><span class=\"label\">Stay on vendor models</span>\
                     <strong data-figure=\"stay\">{}</strong><span class=\"ci\">{}</span>\
                     <span class=\"sub\">prompting, then a knowledge base · {} {units}</span></div>",
                    percent(stay),
                    interval(1.0 - ready.ci_high, 1.0 - ready.ci_low),
                    thousands(n.saturating_sub(ready.count)),
                );
                let _ = writeln!(
                    self.out,
                    "<div class=\"kpi sample\"><span class=\"label\">Sample</span>\
                     <strong data-figure=\"n\">{}</strong><span class=\"sub\">{units}</span>\
                     <span class=\"sub\">cells under {min_cell} {units} are suppressed</span></div>",
                    thousands(n)
                );
                if let Some(reference) = reference_figures()
                    .iter()
                    .filter(|f| f.measure.to_lowercase().contains("customised"))
                    .max_by_key(|f| f.year)
                {
                    let _ = writeln!(
                        self.out,
                        "<div class=\"kpi reference\"><span class=\"label\">For reference</span>\
                         <strong>{}</strong><span class=\"sub\">{}: {} ({} {})</span></div>",
                        percent(reference.share),
                        escape(&reference.population),
                        escape(&reference.measure),
                        escape(&reference.source),
                        reference.year
                    );
                }
                let verdict = verdict(ready.share, ready.count, units);
                let _ = writeln!(self.out, "<p class=\"verdict\">{verdict}</p>");
                if let Some(weighted) = &overall.weighted {
                    let _ = writeln!(
                        self.out,
                        "<p class=\"weighted\">Weighted to <code>{}</code> (effective sample size \
                         {:.0}): {} ready to customise, {}. The charts and tables below show \
                         the unweighted sample; see Weighting for how it was raked.</p>",
                        escape(input.params.weights.as_deref().unwrap_or_default()),
                        weighted.n_eff,
                        percent(weighted.ready_to_customise.share),
                        interval(
                            weighted.ready_to_customise.ci_low,
                            weighted.ready_to_customise.ci_high
                        )
                    );
                }
            }
            _ => {
                let _ = writeln!(
                    self.out,
                    "<p class=\"verdict suppressed\" data-figure=\"ready\">The sample has fewer \
                     than {min_cell} {units}, so every figure is suppressed.</p>"
                );
            }
        }
        self.w("</section>\n");
    }

    fn footer(&mut self) {
        let query: Vec<String> = self
            .input
            .params
            .to_pairs(false)
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        let query = if query.is_empty() {
            String::new()
        } else {
            format!("?{}", query.join("&"))
        };
        let _ = writeln!(
            self.out,
            "<footer>Readiness {} · every figure is the one the JSON reports publish with these \
             parameters (<code>GET /api/v1/reports/readiness{}</code>, <code>/trend</code>, \
             <code>/blockers</code>) · shares with 95 % Wilson score intervals.</footer>\n\
             </body>\n</html>",
            env!("CARGO_PKG_VERSION"),
            escape(&query)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_covers_markup_and_quotes() {
        assert_eq!(
            escape(r#"<script>alert("x")</script> & 'y'"#),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;"
        );
    }

    #[test]
    fn numbers_read_as_analysts_expect() {
        assert_eq!(thousands(5000), "5,000");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(percent(0.13456), "13.5 %");
    }

    #[test]
    fn the_verdict_never_rounds_a_real_share_to_none() {
        assert_eq!(
            verdict(0.001, 5, "firms"),
            "About <b>999 in 1,000</b> firms should stay on vendor models and improve prompts or \
             add a knowledge base first; <b>1 in 1,000</b> is ready to customise a model."
        );
        assert!(verdict(0.0002, 1, "firms").contains("fewer than <b>1 in 1,000</b> is ready"));
        assert!(verdict(0.0, 0, "firms").contains("<b>0 in 1,000</b> is ready"));
        assert!(verdict(0.234, 20, "responses").starts_with("About <b>77 in 100</b> responses"));
        assert!(verdict(0.234, 20, "responses").contains("<b>23 in 100</b> are ready"));
    }

    #[test]
    fn segments_are_named_in_the_order_of_by() {
        let key = SegmentKey {
            industry: Some("C".to_owned()),
            size_band: Some("small".to_owned()),
            region: Some(None),
            ..SegmentKey::default()
        };
        assert_eq!(
            segment_label(
                &key,
                &[
                    SegmentField::SizeBand,
                    SegmentField::Industry,
                    SegmentField::Region
                ]
            ),
            "small (10–49) · C Manufacturing · no region"
        );
    }
}
