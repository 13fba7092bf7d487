//! The questionnaire's steps: the firm's segment, then one section per step. Plain HTML
//! forms that work without scripts; errors are listed in a summary that links to each field.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::LazyLock;

use fluent_bundle::FluentValue;
use readiness_analytics::Dimension;
use readiness_analytics::texts::{Language, Localised};

use super::frame::{escape, page};
use super::ui::Ui;
use crate::domain::firm::{SIZE_BANDS, country_codes};
use crate::services::assessments::Step;

/// NACE Rev. 2 sections.
pub const NACE_SECTIONS: [char; 21] = [
    'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J', 'K', 'L', 'M', 'N', 'O', 'P', 'Q', 'R', 'S',
    'T', 'U',
];

/// Every country code with its English name, by name (built once).
static COUNTRIES: LazyLock<Vec<(&'static str, &'static str)>> = LazyLock::new(|| {
    let mut countries: Vec<(&str, &str)> = country_codes()
        .map(|code| {
            (
                code,
                rust_iso3166::from_alpha2(code).map_or(code, |c| c.name),
            )
        })
        .collect();
    countries.sort_by(|a, b| a.1.cmp(b.1));
    countries
});

/// The segment as entered so far (strings, so a refused entry is shown back as typed).
#[derive(Debug, Clone, Default)]
pub struct SegmentValues {
    pub industry: String,
    pub size_band: String,
    pub country: String,
    pub region: String,
}

/// Why a field was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    Required,
    Invalid,
    Region,
}

/// A refused field: a segment field (`industry`, `size_band`, `country`, `region`) or a
/// question key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub problem: Problem,
}

/// Everything one step's page shows.
pub struct StepPage<'a> {
    pub texts: Localised<'a>,
    pub language: Language,
    /// Where the form posts to.
    pub action: String,
    /// The page's own address without `lang`, for the language switch.
    pub here: String,
    pub csrf: String,
    /// Further hidden fields (the invitation, the step).
    pub hidden: Vec<(&'static str, String)>,
    /// 0-based position and number of steps.
    pub index: usize,
    pub steps: usize,
    pub kind: Step,
    /// The start page shows the introduction above the first step.
    pub intro: bool,
    pub segment: SegmentValues,
    pub answers: &'a BTreeMap<String, String>,
    pub errors: Vec<FieldError>,
    /// Whether a draft exists, so "continue later" and "back" are offered.
    pub draft: bool,
}

/// The id of the control an error summary entry links to: the field, or a group's first
/// radio button.
fn field_id(field: &str, kind: Step) -> String {
    match kind {
        Step::Segment if field == "size_band" => "size_band-0".to_owned(),
        Step::Segment => field.to_owned(),
        Step::Section(_) => format!("q-{field}-0"),
    }
}

fn field_label(field: &str, kind: Step, ui: Ui, texts: &Localised<'_>) -> String {
    match kind {
        Step::Segment => ui.t(&format!("field-{}", field.replace('_', "-"))),
        Step::Section(_) => texts.question(field),
    }
}

/// The message of a refused field, in the page's language.
pub fn error_message(error: &FieldError, kind: Step, ui: Ui, texts: &Localised<'_>) -> String {
    let label = field_label(&error.field, kind, ui, texts);
    match error.problem {
        Problem::Required => ui.t_with("error-required", &[("field", FluentValue::from(label))]),
        Problem::Invalid => ui.t_with("error-invalid", &[("field", FluentValue::from(label))]),
        Problem::Region => ui.t("error-region"),
    }
}

/// The page of one step.
pub fn render(step: &StepPage<'_>) -> String {
    let ui = Ui(step.language);
    let title = step.texts.title();
    let mut body = String::new();
    if step.intro {
        let questions = step.texts.instrument().questions().len();
        let _ = writeln!(
            body,
            "<h1>{}</h1>\n<p>{}</p>\n<p class=\"hint\">{}</p>",
            escape(&ui.t("intro-title")),
            escape(&ui.t_with(
                "intro-body",
                &[
                    ("questions", questions.into()),
                    ("steps", step.steps.into())
                ]
            )),
            escape(&ui.t("intro-time")),
        );
    }
    let progress = ui.t_with(
        "step-progress",
        &[
            ("step", (step.index + 1).into()),
            ("steps", step.steps.into()),
        ],
    );
    let _ = writeln!(
        body,
        "<p class=\"progress\" id=\"progress\">{p}</p>\n<progress max=\"{max}\" value=\"{value}\" aria-labelledby=\"progress\"></progress>",
        p = escape(&progress),
        max = step.steps,
        value = step.index + 1,
    );
    if !step.errors.is_empty() {
        let _ = writeln!(
            body,
            "<div class=\"error-summary\" role=\"alert\" aria-labelledby=\"errors-title\" tabindex=\"-1\">\n<h2 id=\"errors-title\">{}</h2>\n<ul>",
            escape(&ui.t("errors-title"))
        );
        for error in &step.errors {
            let _ = writeln!(
                body,
                "<li><a href=\"#{}\">{}</a></li>",
                escape(&field_id(&error.field, step.kind)),
                escape(&error_message(error, step.kind, ui, &step.texts))
            );
        }
        body.push_str("</ul>\n</div>\n");
    }
    let _ = writeln!(
        body,
        "<form method=\"post\" action=\"{}\" novalidate>\n<input type=\"hidden\" name=\"csrf\" value=\"{}\">\n<input type=\"hidden\" name=\"lang\" value=\"{}\">",
        escape(&step.action),
        escape(&step.csrf),
        step.language.tag()
    );
    for (name, value) in &step.hidden {
        let _ = writeln!(
            body,
            "<input type=\"hidden\" name=\"{name}\" value=\"{}\">",
            escape(value)
        );
    }
    let heading = if step.intro { "h2" } else { "h1" };
    match step.kind {
        Step::Segment => segment(&mut body, step, ui, heading),
        Step::Section(dimension) => section(&mut body, step, dimension, ui, heading),
    }
    body.push_str("<div class=\"actions\">\n");
    let last = step.index + 1 == step.steps;
    let (primary, label) = match (step.intro, last) {
        (true, _) => ("next", ui.t("button-start")),
        (false, true) => ("submit", ui.t("button-submit")),
        (false, false) => ("next", ui.t("button-next")),
    };
    let _ = writeln!(
        body,
        "<button type=\"submit\" name=\"action\" value=\"{primary}\" class=\"primary\">{}</button>",
        escape(&label)
    );
    if step.draft && step.index > 0 {
        let _ = writeln!(
            body,
            "<button type=\"submit\" name=\"action\" value=\"back\">{}</button>",
            escape(&ui.t("button-back"))
        );
    }
    if step.draft {
        let _ = writeln!(
            body,
            "<button type=\"submit\" name=\"action\" value=\"save\" class=\"link\">{}</button>",
            escape(&ui.t("button-save"))
        );
    }
    body.push_str("</div>\n</form>\n");
    // The title names the step, and says first when the page lists problems.
    let step_title = match step.kind {
        Step::Segment => ui.t("segment-title"),
        Step::Section(dimension) => step.texts.section(dimension),
    };
    let mut page_title = format!(
        "{progress} – {step_title} – {}",
        ui.t_with("page-title", &[("survey", FluentValue::from(title))])
    );
    if !step.errors.is_empty() {
        page_title = ui.t_with("title-error", &[("title", FluentValue::from(page_title))]);
    }
    page(step.language, &page_title, &step.here, &body)
}

fn error_of<'e>(step: &'e StepPage<'_>, field: &str) -> Option<&'e FieldError> {
    step.errors.iter().find(|e| e.field == field)
}

/// `aria-describedby`/`aria-invalid` and the message paragraph of a field.
fn error_parts(step: &StepPage<'_>, field: &str, ui: Ui) -> (String, String, &'static str) {
    match error_of(step, field) {
        Some(error) => (
            format!(" aria-describedby=\"{field}-error\" aria-invalid=\"true\""),
            format!(
                "<p class=\"error\" id=\"{field}-error\">{}</p>\n",
                escape(&error_message(error, step.kind, ui, &step.texts))
            ),
            " invalid",
        ),
        None => (String::new(), String::new(), ""),
    }
}

fn segment(body: &mut String, step: &StepPage<'_>, ui: Ui, heading: &str) {
    let values = &step.segment;
    let _ = writeln!(
        body,
        "<{heading}>{}</{heading}>\n<p class=\"hint\">{}</p>",
        escape(&ui.t("segment-title")),
        escape(&ui.t("segment-hint"))
    );
    // Industry.
    let (aria, message, class) = error_parts(step, "industry", ui);
    let _ = writeln!(
        body,
        "<div class=\"field{class}\"><label for=\"industry\">{}</label>\n{message}<select id=\"industry\" name=\"industry\"{aria}>\n<option value=\"\">{}</option>",
        escape(&ui.t("field-industry")),
        escape(&ui.t("field-industry-choose")),
    );
    for section in NACE_SECTIONS {
        let selected = if values.industry == section.to_string() {
            " selected"
        } else {
            ""
        };
        let _ = writeln!(
            body,
            "<option value=\"{section}\"{selected}>{section} – {}</option>",
            escape(&ui.t(&format!("nace-{section}")))
        );
    }
    body.push_str("</select></div>\n");
    // Size band.
    let (aria, message, class) = error_parts(step, "size_band", ui);
    let _ = writeln!(
        body,
        "<fieldset class=\"field{class}\"{aria}><legend>{}</legend>\n{message}<div class=\"options\">",
        escape(&ui.t("field-size-band"))
    );
    for (index, band) in SIZE_BANDS.iter().enumerate() {
        let checked = if values.size_band == *band {
            " checked"
        } else {
            ""
        };
        let _ = writeln!(
            body,
            "<label class=\"option\" for=\"size_band-{index}\"><input type=\"radio\" id=\"size_band-{index}\" name=\"size_band\" value=\"{band}\"{checked}> {}</label>",
            escape(&ui.t(&format!("size-{band}")))
        );
    }
    body.push_str("</div></fieldset>\n");
    // Country.
    let (aria, message, class) = error_parts(step, "country", ui);
    let _ = writeln!(
        body,
        "<div class=\"field{class}\"><label for=\"country\">{}</label>\n{message}<select id=\"country\" name=\"country\" autocomplete=\"country\"{aria}>\n<option value=\"\">{}</option>",
        escape(&ui.t("field-country")),
        escape(&ui.t("field-country-choose")),
    );
    for (code, name) in COUNTRIES.iter().copied() {
        let selected = if values.country == code {
            " selected"
        } else {
            ""
        };
        let _ = writeln!(
            body,
            "<option value=\"{code}\"{selected}>{} ({code})</option>",
            escape(name)
        );
    }
    body.push_str("</select></div>\n");
    // Region.
    let (aria, message, class) = error_parts(step, "region", ui);
    let described = if aria.is_empty() {
        " aria-describedby=\"region-hint\"".to_owned()
    } else {
        " aria-describedby=\"region-hint region-error\" aria-invalid=\"true\"".to_owned()
    };
    let _ = writeln!(
        body,
        "<div class=\"field{class}\"><label for=\"region\">{} <span class=\"hint\">{}</span></label>\n<p class=\"hint\" id=\"region-hint\">{}</p>\n{message}<input type=\"text\" id=\"region\" name=\"region\" value=\"{}\" maxlength=\"64\" autocomplete=\"off\" spellcheck=\"false\"{described}></div>",
        escape(&ui.t("field-region")),
        escape(&ui.t("optional")),
        escape(&ui.t("field-region-hint")),
        escape(&values.region),
    );
}

fn section(body: &mut String, step: &StepPage<'_>, dimension: Dimension, ui: Ui, heading: &str) {
    let _ = writeln!(
        body,
        "<{heading}>{}</{heading}>\n<p class=\"hint\">{}</p>",
        escape(&step.texts.section(dimension)),
        escape(&ui.t("required-note"))
    );
    let instrument = step.texts.instrument();
    for question in instrument
        .questions()
        .iter()
        .filter(|q| q.section == dimension)
    {
        let key = question.key.as_str();
        let (aria, message, class) = error_parts(step, key, ui);
        let optional = if question.required {
            String::new()
        } else {
            format!(" <span class=\"hint\">{}</span>", escape(&ui.t("optional")))
        };
        let _ = writeln!(
            body,
            "<fieldset class=\"field question{class}\" id=\"field-{key}\"{aria}>\n<legend>{}{optional}</legend>\n{message}<div class=\"options\">",
            escape(&step.texts.question(key)),
        );
        let given = step.answers.get(key);
        for (index, option) in question.options.iter().enumerate() {
            let checked = if given == Some(&option.key) {
                " checked"
            } else {
                ""
            };
            let _ = writeln!(
                body,
                "<label class=\"option\" for=\"q-{key}-{index}\"><input type=\"radio\" id=\"q-{key}-{index}\" name=\"q.{key}\" value=\"{}\"{checked}> {}</label>",
                escape(&option.key),
                escape(&step.texts.option(key, &option.key)),
            );
        }
        body.push_str("</div>\n</fieldset>\n");
    }
}
