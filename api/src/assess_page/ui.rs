//! The pages' own strings, in Fluent (`api/locales/<language>/assess.ftl`), one bundle per
//! language. The instrument's texts are not here: they are data beside the instrument.

use std::collections::HashMap;
use std::sync::LazyLock;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use readiness_analytics::texts::Language;
use unic_langid::LanguageIdentifier;

const SOURCES: [(Language, &str); 2] = [
    (Language::En, include_str!("../../locales/en/assess.ftl")),
    (
        Language::ZhHans,
        include_str!("../../locales/zh-Hans/assess.ftl"),
    ),
];

type Bundle = FluentBundle<FluentResource>;

/// Each language's bundle, or why it could not be built (a test rules that out).
static BUNDLES: LazyLock<HashMap<Language, Result<Bundle, String>>> = LazyLock::new(|| {
    SOURCES
        .iter()
        .map(|(language, source)| (*language, bundle(*language, source)))
        .collect()
});

fn bundle(language: Language, source: &str) -> Result<Bundle, String> {
    let resource = FluentResource::try_new(source.to_owned())
        .map_err(|(_, errors)| format!("{}: {errors:?}", language.tag()))?;
    let id: LanguageIdentifier = language
        .tag()
        .parse()
        .map_err(|e| format!("{}: {e}", language.tag()))?;
    let mut bundle = FluentBundle::new_concurrent(vec![id]);
    // The pages are HTML with `lang` set; bidi isolation marks would only show as noise.
    bundle.set_use_isolating(false);
    bundle
        .add_resource(resource)
        .map_err(|errors| format!("{}: {errors:?}", language.tag()))?;
    Ok(bundle)
}

/// The strings of one language.
#[derive(Debug, Clone, Copy)]
pub struct Ui(pub Language);

impl Ui {
    /// The message `id`; its id itself if missing (the tests rule that out).
    pub fn t(&self, id: &str) -> String {
        self.format(id, None)
    }

    /// The message `id` with its variables.
    pub fn t_with(&self, id: &str, args: &[(&str, FluentValue<'_>)]) -> String {
        let mut fluent_args = FluentArgs::new();
        for (name, value) in args {
            fluent_args.set(*name, value.clone());
        }
        self.format(id, Some(&fluent_args))
    }

    fn format(&self, id: &str, args: Option<&FluentArgs<'_>>) -> String {
        let Some(Ok(bundle)) = BUNDLES.get(&self.0) else {
            return id.to_owned();
        };
        let Some(pattern) = bundle.get_message(id).and_then(|m| m.value()) else {
            return id.to_owned();
        };
        let mut errors = Vec::new();
        bundle
            .format_pattern(pattern, args, &mut errors)
            .into_owned()
    }
}

/// Every message id of a language's file, in order.
pub fn message_ids(language: Language) -> Vec<String> {
    SOURCES
        .iter()
        .filter(|(l, _)| *l == language)
        .flat_map(|(_, source)| source.lines())
        .filter(|line| !line.starts_with('#') && !line.starts_with(' '))
        .filter_map(|line| line.split_once(" = ").map(|(id, _)| id.trim().to_owned()))
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn both_languages_have_every_message_and_format_cleanly() {
        for (language, _) in SOURCES {
            assert!(
                BUNDLES[&language].is_ok(),
                "{:?}",
                BUNDLES[&language].as_ref().err()
            );
        }
        let english = message_ids(Language::En);
        assert!(english.len() > 80);
        assert_eq!(message_ids(Language::ZhHans), english);
        for language in Language::ALL {
            let bundle = BUNDLES[&language].as_ref().unwrap();
            for id in &english {
                let message = bundle.get_message(id).unwrap();
                let mut args = FluentArgs::new();
                for name in [
                    "survey",
                    "questions",
                    "steps",
                    "step",
                    "field",
                    "rank",
                    "tiers",
                    "tier",
                    "date",
                    "peers",
                    "percentile",
                    "title",
                ] {
                    args.set(name, FluentValue::from(7));
                }
                let mut errors = Vec::new();
                let text =
                    bundle.format_pattern(message.value().unwrap(), Some(&args), &mut errors);
                assert!(errors.is_empty(), "{}: {id}: {errors:?}", language.tag());
                assert!(!text.trim().is_empty());
            }
        }
        assert_eq!(Ui(Language::ZhHans).t("language-zh-Hans"), "简体中文");
        assert_eq!(
            Ui(Language::En).t_with("step-progress", &[("step", 2.into()), ("steps", 6.into())]),
            "Step 2 of 6"
        );
    }
}
