//! The frame every self-assessment page shares: the document, its strict style policy, the
//! language switch, and the escaping every dynamic string goes through.

use std::fmt::Write as _;
use std::sync::LazyLock;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use readiness_analytics::texts::Language;
use sha2::{Digest, Sha256};

use super::ui::Ui;
pub use crate::report_page::page::escape;

const STYLE: &str = include_str!("assess.css");

/// The pages' Content-Security-Policy: nothing but this document and its one inline style
/// (allowed by its hash), forms posted only to this origin, no scripts at all.
pub static CONTENT_SECURITY_POLICY: LazyLock<String> = LazyLock::new(|| {
    let hash = STANDARD.encode(Sha256::digest(STYLE.as_bytes()));
    format!(
        "default-src 'none'; style-src 'sha256-{hash}'; img-src data:; form-action 'self'; \
         base-uri 'none'; frame-ancestors 'none'"
    )
});

/// A page's frame around `body`. `here` is the page's own path and query without `lang`,
/// for the language switch.
pub fn page(language: Language, title: &str, here: &str, body: &str) -> String {
    let ui = Ui(language);
    let mut html = String::with_capacity(body.len() + STYLE.len() + 1024);
    let _ = write!(
        html,
        "<!doctype html>\n<html lang=\"{lang}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"referrer\" content=\"no-referrer\">\n\
         <title>{title}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n\
         <a class=\"skip\" href=\"#main\">{skip}</a>\n<header>\n<span class=\"brand\">{brand}</span>\n\
         <nav aria-label=\"{switch}\"><ul class=\"langs\">",
        lang = language.tag(),
        title = escape(title),
        skip = escape(&ui.t("skip-link")),
        brand = escape(&ui.t("site-name")),
        switch = escape(&ui.t("language-switch")),
    );
    let separator = if here.contains('?') { "&amp;" } else { "?" };
    for other in Language::ALL {
        let name = ui.t(&format!("language-{}", other.tag()));
        let current = if other == language {
            " aria-current=\"true\""
        } else {
            ""
        };
        let _ = write!(
            html,
            "<li><a href=\"{here}{separator}lang={tag}\" lang=\"{tag}\" hreflang=\"{tag}\"{current}>{name}</a></li>",
            here = escape(here),
            tag = other.tag(),
            name = escape(&name),
        );
    }
    let _ = writeln!(
        html,
        "</ul></nav>\n</header>\n<main id=\"main\">\n{body}\n</main>\n</body>\n</html>"
    );
    html
}

/// A page with a heading, a paragraph and an optional link: the link and error pages.
pub fn message(
    language: Language,
    here: &str,
    title: &str,
    text: &str,
    link: Option<(&str, &str)>,
) -> String {
    let mut body = format!("<h1>{}</h1>\n<p>{}</p>\n", escape(title), escape(text));
    if let Some((href, label)) = link {
        let _ = writeln!(
            body,
            "<p><a href=\"{}\">{}</a></p>",
            escape(href),
            escape(label)
        );
    }
    page(language, title, here, &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_allows_exactly_the_inline_style() {
        let policy = CONTENT_SECURITY_POLICY.as_str();
        assert!(policy.starts_with("default-src 'none'; style-src 'sha256-"));
        assert!(!policy.contains("unsafe"));
        assert!(
            !policy.contains("script-src"),
            "scripts fall back to default-src 'none'"
        );
        let html = page(Language::ZhHans, "T<", "/assess/x?step=2", "<p>b</p>");
        assert!(html.contains("<html lang=\"zh-Hans\">"));
        assert!(html.contains("<title>T&lt;</title>"));
        assert!(html.contains("href=\"/assess/x?step=2&amp;lang=en\""));
        assert!(html.contains(
            "lang=zh-Hans\" lang=\"zh-Hans\" hreflang=\"zh-Hans\" aria-current=\"true\""
        ));
    }
}
