//! An instrument's texts in each supported language, kept beside the instrument as data.
//!
//! The definition of a published version is immutable and holds its texts as written; the
//! catalogs here are looked up by key (`question.business_age`, `gate.fine_tune.ai_ownership.reason`,
//! …), so adding or correcting a translation changes neither the rubric, nor a published
//! definition, nor any stored score. A key a catalog lacks falls back to the definition's own
//! text; the tests require every built-in catalog to hold every key of its instrument.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, LazyLock};

use serde::{Deserialize, Serialize};

use crate::instrument::{Definition, Dimension, Instrument};

/// A language the texts are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Language {
    /// English, the default.
    #[serde(rename = "en")]
    En,
    /// Simplified Chinese.
    #[serde(rename = "zh-Hans")]
    ZhHans,
}

impl Language {
    pub const ALL: [Language; 2] = [Language::En, Language::ZhHans];
    pub const DEFAULT: Language = Language::En;

    /// The BCP 47 tag, as sent in `Content-Language`.
    pub fn tag(self) -> &'static str {
        match self {
            Language::En => "en",
            Language::ZhHans => "zh-Hans",
        }
    }

    /// The language a BCP 47 tag asks for, case-insensitively: `en` and any English
    /// variant; `zh-Hans` with any region, and `zh`, `zh-CN`, `zh-SG` and `zh-MY`, which are
    /// written in simplified characters. Traditional Chinese (`zh-Hant`, `zh-TW`, `zh-HK`,
    /// `zh-MO`) is not offered, so it matches nothing.
    pub fn from_tag(tag: &str) -> Option<Language> {
        let lower = tag.trim().to_ascii_lowercase();
        let mut subtags = lower.split(['-', '_']);
        match subtags.next()? {
            "en" => Some(Language::En),
            "zh" => match subtags.next() {
                None | Some("hans" | "cn" | "sg" | "my") => Some(Language::ZhHans),
                Some(_) => None,
            },
            _ => None,
        }
    }

    /// The best language for an `Accept-Language` header (RFC 9110, section 12.5.4): the
    /// supported range with the highest weight, the earlier one on a tie; `*` stands for the
    /// default. `None` when the header names nothing offered.
    pub fn negotiate(accept_language: &str) -> Option<Language> {
        let mut best: Option<(u16, Language)> = None;
        for range in accept_language.split(',') {
            let mut parts = range.split(';');
            let tag = parts.next().unwrap_or_default().trim();
            let weight = parts
                .find_map(|p| p.trim().strip_prefix("q=").or(p.trim().strip_prefix("Q=")))
                .map_or(Some(1000), weight_of);
            let (Some(weight), false) = (weight, tag.is_empty()) else {
                continue;
            };
            let language = if tag == "*" {
                Some(Language::DEFAULT)
            } else {
                Language::from_tag(tag)
            };
            if let Some(language) = language
                && weight > 0
                && best.is_none_or(|(w, _)| weight > w)
            {
                best = Some((weight, language));
            }
        }
        best.map(|(_, language)| language)
    }
}

/// A quality value in thousandths (`0.8` → 800), or `None` when malformed.
fn weight_of(value: &str) -> Option<u16> {
    let value = value.trim();
    let (whole, fraction) = value.split_once('.').unwrap_or((value, ""));
    if fraction.len() > 3 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let thousandths = format!("{fraction:0<3}").parse::<u16>().ok()?;
    match whole {
        "0" => Some(thousandths),
        "1" if thousandths == 0 => Some(1000),
        _ => None,
    }
}

/// Why a catalog of texts was refused.
#[derive(Debug, thiserror::Error)]
pub enum TextsError {
    #[error("texts of {slug} v{version} in {language} are not a JSON object of strings: {source}")]
    Format {
        slug: String,
        version: i32,
        language: &'static str,
        source: serde_json::Error,
    },
}

/// The texts of one instrument version in every language it has been written in.
#[derive(Debug, Clone)]
pub struct InstrumentTexts {
    slug: String,
    version: i32,
    by_language: HashMap<Language, BTreeMap<String, String>>,
}

impl InstrumentTexts {
    /// Reads one flat JSON object (key → text) per language.
    pub fn parse(slug: &str, version: i32, files: &[(Language, &str)]) -> Result<Self, TextsError> {
        let by_language = files
            .iter()
            .map(|(language, json)| {
                serde_json::from_str(json)
                    .map(|texts| (*language, texts))
                    .map_err(|source| TextsError::Format {
                        slug: slug.to_owned(),
                        version,
                        language: language.tag(),
                        source,
                    })
            })
            .collect::<Result<_, _>>()?;
        Ok(Self {
            slug: slug.to_owned(),
            version,
            by_language,
        })
    }

    pub fn slug(&self) -> &str {
        &self.slug
    }

    pub fn version(&self) -> i32 {
        self.version
    }

    /// Whether texts in `language` exist.
    pub fn has(&self, language: Language) -> bool {
        self.by_language.contains_key(&language)
    }

    /// The text of `key` in `language`, if written (an empty text counts as missing).
    pub fn get(&self, language: Language, key: &str) -> Option<&str> {
        self.by_language
            .get(&language)
            .and_then(|texts| texts.get(key))
            .map(String::as_str)
            .filter(|text| !text.trim().is_empty())
    }

    /// Every key `instrument` needs that lacks a text, per language, and every key a
    /// catalog holds that the instrument does not have (a misspelt key would otherwise
    /// never be shown).
    pub fn problems(&self, instrument: &Instrument) -> Vec<String> {
        let needed = keys(instrument);
        let mut problems = Vec::new();
        for language in Language::ALL {
            for key in &needed {
                if self.get(language, key).is_none() {
                    problems.push(format!("{}: no text for `{key}`", language.tag()));
                }
            }
            for key in self
                .by_language
                .get(&language)
                .into_iter()
                .flatten()
                .map(|(k, _)| k)
            {
                if !needed.contains(key) {
                    problems.push(format!(
                        "{}: `{key}` is not a text of the instrument",
                        language.tag()
                    ));
                }
            }
        }
        problems
    }
}

/// Every text key of an instrument, in the order of its definition.
pub fn keys(instrument: &Instrument) -> Vec<String> {
    let definition = instrument.definition();
    let mut keys = vec!["title".to_owned()];
    if !definition.description.is_empty() {
        keys.push("description".to_owned());
    }
    keys.extend(
        definition
            .sections
            .iter()
            .map(|s| format!("section.{}", s.key.key())),
    );
    for question in &definition.questions {
        keys.push(format!("question.{}", question.key));
        keys.extend(
            question
                .options
                .iter()
                .map(|o| format!("option.{}.{}", question.key, o.key)),
        );
    }
    for tier in &definition.tiers {
        keys.push(format!("tier.{}.label", tier.key));
        keys.push(format!("tier.{}.advice", tier.key));
        for gate in &tier.gates {
            keys.push(format!("gate.{}.reason", gate.id));
            keys.push(format!("gate.{}.next_step", gate.id));
        }
    }
    keys
}

/// A catalog file: its language and its JSON.
type CatalogFile = (Language, &'static str);

/// The texts of the instruments the binary ships with: slug, version and files.
const BUILTIN: &[(&str, i32, &[CatalogFile])] = &[(
    "ai-readiness",
    1,
    &[
        (
            Language::En,
            include_str!("../instruments/texts/ai-readiness-v1.en.json"),
        ),
        (
            Language::ZhHans,
            include_str!("../instruments/texts/ai-readiness-v1.zh-Hans.json"),
        ),
    ],
)];

static BUILTIN_TEXTS: LazyLock<Result<Vec<Arc<InstrumentTexts>>, String>> = LazyLock::new(|| {
    BUILTIN
        .iter()
        .map(|(slug, version, files)| {
            InstrumentTexts::parse(slug, *version, files)
                .map(Arc::new)
                .map_err(|e| e.to_string())
        })
        .collect()
});

/// The shipped texts of `slug` version `version`, if it is a built-in instrument. An error
/// means a shipped catalog is malformed (the tests rule that out).
pub fn builtin_texts(slug: &str, version: i32) -> Result<Option<Arc<InstrumentTexts>>, String> {
    let all = BUILTIN_TEXTS.as_ref().map_err(Clone::clone)?;
    Ok(all
        .iter()
        .find(|texts| texts.slug == slug && texts.version == version)
        .cloned())
}

/// An instrument read in one language: each text from the catalog when it has one, else as
/// the definition wrote it.
#[derive(Debug, Clone, Copy)]
pub struct Localised<'a> {
    instrument: &'a Instrument,
    texts: Option<&'a InstrumentTexts>,
    language: Language,
}

impl<'a> Localised<'a> {
    pub fn new(
        instrument: &'a Instrument,
        texts: Option<&'a InstrumentTexts>,
        language: Language,
    ) -> Self {
        Self {
            instrument,
            texts,
            language,
        }
    }

    pub fn instrument(&self) -> &'a Instrument {
        self.instrument
    }

    /// The language served: the one asked for when the instrument's texts are written in
    /// it, `None` when the definition's own texts are served (their language is not known).
    pub fn served(&self) -> Option<Language> {
        self.texts
            .filter(|texts| texts.has(self.language))
            .map(|_| self.language)
    }

    fn text(&self, key: &str) -> Option<&'a str> {
        self.texts.and_then(|texts| texts.get(self.language, key))
    }

    fn or<'b>(&self, key: &str, written: &'b str) -> String
    where
        'a: 'b,
    {
        self.text(key).unwrap_or(written).to_owned()
    }

    pub fn title(&self) -> String {
        self.or("title", &self.instrument.definition().title)
    }

    pub fn section(&self, dimension: Dimension) -> String {
        let written = self
            .instrument
            .definition()
            .sections
            .iter()
            .find(|s| s.key == dimension)
            .map_or("", |s| s.title.as_str());
        self.or(&format!("section.{}", dimension.key()), written)
    }

    pub fn question(&self, question: &str) -> String {
        let written = self
            .instrument
            .question_position(question)
            .map_or("", |p| self.instrument.questions()[p].text.as_str());
        self.or(&format!("question.{question}"), written)
    }

    pub fn option(&self, question: &str, option: &str) -> String {
        let written = self
            .instrument
            .question_position(question)
            .and_then(|p| {
                self.instrument.questions()[p]
                    .options
                    .iter()
                    .find(|o| o.key == option)
            })
            .map_or(option, |o| o.label.as_str());
        self.or(&format!("option.{question}.{option}"), written)
    }

    pub fn tier_label(&self, tier: &str) -> String {
        let written = self
            .instrument
            .tier(tier)
            .map_or("", |(_, t)| t.label.as_str());
        self.or(&format!("tier.{tier}.label"), written)
    }

    pub fn tier_advice(&self, tier: &str) -> String {
        let written = self
            .instrument
            .tier(tier)
            .map_or("", |(_, t)| t.advice.as_str());
        self.or(&format!("tier.{tier}.advice"), written)
    }

    pub fn gate_reason(&self, gate: &str) -> String {
        let written = self.instrument.gate(gate).map_or("", |g| g.reason.as_str());
        self.or(&format!("gate.{gate}.reason"), written)
    }

    /// The concrete next step for a failed gate: only catalogs hold these.
    pub fn gate_next_step(&self, gate: &str) -> Option<String> {
        self.text(&format!("gate.{gate}.next_step"))
            .or_else(|| {
                self.texts.and_then(|texts| {
                    texts.get(Language::DEFAULT, &format!("gate.{gate}.next_step"))
                })
            })
            .map(str::to_owned)
    }

    /// The definition with every text in this language; keys, order and rules unchanged.
    pub fn definition(&self) -> Definition {
        let mut definition = self.instrument.definition().clone();
        definition.title = self.title();
        if !definition.description.is_empty() {
            definition.description = self.or("description", &definition.description);
        }
        for section in &mut definition.sections {
            section.title = self.section(section.key);
        }
        for question in &mut definition.questions {
            question.text = self.question(&question.key);
            for option in &mut question.options {
                option.label = self.option(&question.key, &option.key);
            }
        }
        for tier in &mut definition.tiers {
            tier.label = self.tier_label(&tier.key);
            tier.advice = self.tier_advice(&tier.key);
            for gate in &mut tier.gates {
                gate.reason = self.gate_reason(&gate.id);
            }
        }
        definition
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::BUILTIN_INSTRUMENTS;

    #[test]
    fn every_builtin_instrument_has_every_text_in_every_language() {
        for json in BUILTIN_INSTRUMENTS {
            let instrument = Instrument::parse(json).unwrap();
            let texts = builtin_texts(instrument.slug(), instrument.version())
                .unwrap()
                .unwrap_or_else(|| panic!("no texts for {}", instrument.slug()));
            let problems = texts.problems(&instrument);
            assert!(problems.is_empty(), "{problems:#?}");
        }
    }

    #[test]
    fn a_missing_or_stray_key_is_named() {
        let instrument = Instrument::parse(crate::AI_READINESS_V1).unwrap();
        let texts = InstrumentTexts::parse(
            "ai-readiness",
            1,
            &[
                (Language::En, r#"{"title": "T", "question.nope": "x"}"#),
                (Language::ZhHans, "{}"),
            ],
        )
        .unwrap();
        let problems = texts.problems(&instrument);
        assert!(problems.contains(&"en: no text for `description`".to_owned()));
        assert!(problems.contains(&"zh-Hans: no text for `title`".to_owned()));
        assert!(
            problems.contains(&"en: `question.nope` is not a text of the instrument".to_owned())
        );
        // Every key but the English title is missing somewhere, and one key is stray.
        assert_eq!(problems.len(), 2 * keys(&instrument).len());
    }

    #[test]
    fn a_localised_definition_keeps_keys_and_rules() {
        let instrument = Instrument::parse(crate::AI_READINESS_V1).unwrap();
        let texts = builtin_texts("ai-readiness", 1).unwrap().unwrap();
        let zh = Localised::new(&instrument, Some(&texts), Language::ZhHans).definition();
        let original = instrument.definition();
        assert_eq!(zh.slug, original.slug);
        assert_ne!(zh.title, original.title);
        for (a, b) in zh.questions.iter().zip(&original.questions) {
            assert_eq!(a.key, b.key);
            assert_ne!(a.text, b.text);
            let keys =
                |q: &crate::Question| q.options.iter().map(|o| o.key.clone()).collect::<Vec<_>>();
            assert_eq!(keys(a), keys(b));
        }
        for (a, b) in zh.tiers.iter().zip(&original.tiers) {
            let rules = |t: &crate::TierDef| {
                t.gates
                    .iter()
                    .map(|g| (g.id.clone(), g.rule.clone()))
                    .collect::<Vec<_>>()
            };
            assert_eq!(rules(a), rules(b));
        }
        // Localising never changes the definition the rubric is compiled from.
        assert_eq!(
            Instrument::from_definition(zh)
                .unwrap()
                .compiled_tiers()
                .len(),
            instrument.compiled_tiers().len()
        );
    }

    #[test]
    fn without_texts_the_definition_is_served_as_written() {
        let instrument = Instrument::parse(crate::AI_READINESS_V1).unwrap();
        let plain = Localised::new(&instrument, None, Language::ZhHans);
        assert_eq!(plain.served(), None);
        assert_eq!(&plain.definition(), instrument.definition());
        assert_eq!(plain.gate_next_step("fine_tune.ai_ownership"), None);
    }

    #[test]
    fn tags_and_accept_language() {
        for (tag, expected) in [
            ("en", Some(Language::En)),
            ("EN-gb", Some(Language::En)),
            ("zh-Hans", Some(Language::ZhHans)),
            ("zh-hans-CN", Some(Language::ZhHans)),
            ("zh", Some(Language::ZhHans)),
            ("zh-CN", Some(Language::ZhHans)),
            ("zh_SG", Some(Language::ZhHans)),
            ("zh-TW", None),
            ("zh-Hant", None),
            ("fr", None),
            ("", None),
        ] {
            assert_eq!(Language::from_tag(tag), expected, "{tag}");
        }
        for (header, expected) in [
            ("zh-CN,zh;q=0.9,en;q=0.8", Some(Language::ZhHans)),
            ("en-US,en;q=0.9,zh-CN;q=0.8", Some(Language::En)),
            ("fr-FR, zh;q=0.5, en;q=0.4", Some(Language::ZhHans)),
            ("zh-TW, en;q=0.1", Some(Language::En)),
            ("fr, de;q=0.7", None),
            ("*", Some(Language::En)),
            ("zh;q=0, *;q=0.1", Some(Language::En)),
            ("en;q=0.5, zh-Hans;q=0.5", Some(Language::En)),
            ("en;q=0.500, zh-Hans;q=0.501", Some(Language::ZhHans)),
            ("zh;q=2, en;q=abc", None),
            ("", None),
        ] {
            assert_eq!(Language::negotiate(header), expected, "{header}");
        }
    }
}
