//! The self-assessment pages: the questionnaire a firm fills in itself (one section per
//! step), the page that keeps its link, and its result with the action plan and the peer
//! benchmark. Server-rendered HTML that needs no script, fonts or outside requests; the
//! pages' strings are Fluent messages (`ui`), the instrument's texts come in the same
//! language from the instrument's catalogs.
//!
//! **Architecture Invariant:** the pages compute nothing. The result page shows the fields of
//! the [`crate::services::plans::PlanView`] that `GET /api/v1/responses/{id}/plan` returns.
//! They know nothing of HTTP: the routes parse forms and cookies and call these.

pub mod form;
pub mod frame;
pub mod result;
pub mod ui;

use std::fmt::Write as _;

use readiness_analytics::texts::Language;

use frame::{escape, page};
use ui::Ui;

/// The page that hands out a draft's link.
pub fn saved(language: Language, here: &str, link: &str) -> String {
    let ui = Ui(language);
    let mut body = String::new();
    let _ = writeln!(
        body,
        "<h1>{title}</h1>\n<p>{text}</p>\n<p class=\"link-box\" id=\"resume-link\">{link}</p>\n<p><a href=\"{link}\">{again}</a></p>",
        title = escape(&ui.t("saved-title")),
        text = escape(&ui.t("saved-body")),
        link = escape(link),
        again = escape(&ui.t("saved-continue")),
    );
    page(language, &ui.t("saved-title"), here, &body)
}

/// One of the pages that only say something: `title` and `text` are message ids.
pub fn notice(
    language: Language,
    here: &str,
    title: &str,
    text: &str,
    link: Option<(&str, &str)>,
) -> String {
    let ui = Ui(language);
    let label = link.map(|(href, id)| (href, ui.t(id)));
    frame::message(
        language,
        here,
        &ui.t(title),
        &ui.t(text),
        label.as_ref().map(|(href, l)| (*href, l.as_str())),
    )
}
