//! A firm's identity and segment attributes as a collector submits them.

use readiness_analytics::FieldProblem;
use readiness_analytics::reports::SegmentField;
use serde_json::Value;

/// ISO 3166-1 alpha-2: every officially assigned code, in order, three bytes apart.
const ISO_3166_ALPHA2: &str = "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG \
BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY \
CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ \
GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP \
KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU \
MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA \
RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK \
TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW";

/// The size bands, smallest first.
pub const SIZE_BANDS: [&str; 4] = ["micro", "small", "medium", "large"];

pub const MAX_REF_CHARS: usize = 128;
pub const MAX_REGION_CHARS: usize = 64;

/// A firm as submitted: stable reference plus segment attributes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FirmProfile {
    external_ref: String,
    industry: String,
    size_band: String,
    country: String,
    region: Option<String>,
}

impl FirmProfile {
    pub fn external_ref(&self) -> &str {
        &self.external_ref
    }
    pub fn industry(&self) -> &str {
        &self.industry
    }
    pub fn size_band(&self) -> &str {
        &self.size_band
    }
    pub fn country(&self) -> &str {
        &self.country
    }
    pub fn region(&self) -> Option<&str> {
        self.region.as_deref()
    }

    /// Parses the `firm` object; every problem is reported, with pointers under `base`.
    pub fn parse(value: Option<&Value>, base: &str) -> Result<Self, Vec<FieldProblem>> {
        let pointer = |field: &str| super::pointer::child(base, field);
        let Some(object) = value.and_then(Value::as_object) else {
            let message = if value.is_some() {
                "must be an object with ref, industry, size_band, country and optional region"
            } else {
                "is required"
            };
            return Err(vec![FieldProblem::new(base, message)]);
        };
        let mut problems = Vec::new();
        for key in object.keys() {
            if !["ref", "industry", "size_band", "country", "region"].contains(&key.as_str()) {
                problems.push(FieldProblem::new(pointer(key), "unknown field"));
            }
        }
        // A check returns its complaint; the pointer is only written for a problem.
        let mut field = |name: &str, check: fn(&str) -> Result<String, String>| {
            let checked = match object.get(name) {
                Some(Value::String(value)) => check(value),
                None | Some(Value::Null) => Err("is required".to_owned()),
                Some(_) => Err("must be a string".to_owned()),
            };
            checked
                .map_err(|message| problems.push(FieldProblem::new(pointer(name), message)))
                .ok()
        };
        let external_ref = field("ref", check_ref);
        let industry = field("industry", check_industry);
        let size_band = field("size_band", check_size_band);
        let country = field("country", check_country);
        let region = match object.get("region") {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(region)) => check_region(region, country.as_deref()).map(Some),
            Some(_) => Err("must be a string".to_owned()),
        }
        .map_err(|message| problems.push(FieldProblem::new(pointer("region"), message)))
        .ok();
        match (external_ref, industry, size_band, country, region) {
            (Some(external_ref), Some(industry), Some(size_band), Some(country), Some(region))
                if problems.is_empty() =>
            {
                Ok(Self {
                    external_ref,
                    industry,
                    size_band,
                    country,
                    region,
                })
            }
            _ => Err(problems),
        }
    }
}

pub fn check_ref(value: &str) -> Result<String, String> {
    if value.trim().is_empty() || value.trim() != value {
        Err("must be non-empty, without leading or trailing spaces".to_owned())
    } else if value.chars().count() > MAX_REF_CHARS {
        Err(format!("must be at most {MAX_REF_CHARS} characters"))
    } else if value.chars().any(char::is_control) {
        Err("must not contain control characters".to_owned())
    } else if value.chars().any(is_format_character) {
        Err("must not contain invisible format characters (Unicode category Cf, such as bidirectional overrides or zero-width spaces)".to_owned())
    } else if !unicode_normalization::is_nfkc(value) {
        Err("must not contain compatibility characters such as full-width letters; send them in their plain form (Unicode NFKC)".to_owned())
    } else {
        Ok(value.to_owned())
    }
}

/// Every ISO 3166-1 alpha-2 code, in order.
pub fn country_codes() -> impl Iterator<Item = &'static str> {
    ISO_3166_ALPHA2.split(' ')
}

/// Every ISO 3166-2 subdivision code a region may be, sorted.
pub fn region_codes() -> Vec<&'static str> {
    let mut codes: Vec<&'static str> = rust_iso3166::iso3166_2::SUBDIVISION_MAP
        .keys()
        .copied()
        .collect();
    codes.sort_unstable();
    codes
}

/// Checks a value of a segment filter (`industry=C`, `region=DE-BY`) as a firm's own
/// attribute is checked, so a filter can only name a segment a firm could be in. The message
/// says what is expected.
pub fn check_segment_value(field: SegmentField, value: &str) -> Result<(), String> {
    match field {
        SegmentField::Industry => check_industry(value).map(drop),
        SegmentField::SizeBand => check_size_band(value).map(drop),
        SegmentField::Country => check_country(value).map(drop),
        SegmentField::Region => check_region(value, None).map(drop),
        SegmentField::Version => Err("is not a segment attribute".to_owned()),
    }
}

fn is_format_character(c: char) -> bool {
    unicode_general_category::get_general_category(c)
        == unicode_general_category::GeneralCategory::Format
}

fn check_industry(value: &str) -> Result<String, String> {
    if value.len() == 1 && value.bytes().all(|b| (b'A'..=b'U').contains(&b)) {
        Ok(value.to_owned())
    } else {
        Err("must be a NACE Rev.2 section letter, A to U (upper case)".to_owned())
    }
}

fn check_size_band(value: &str) -> Result<String, String> {
    if SIZE_BANDS.contains(&value) {
        Ok(value.to_owned())
    } else {
        Err(format!("must be one of: {}", SIZE_BANDS.join(", ")))
    }
}

/// Binary search of [`ISO_3166_ALPHA2`] (the codes are in order).
pub fn is_country_code(value: &str) -> bool {
    let (codes, value) = (ISO_3166_ALPHA2.as_bytes(), value.as_bytes());
    if value.len() != 2 {
        return false;
    }
    let (mut low, mut high) = (0, codes.len().div_ceil(3));
    while low < high {
        let middle = low + (high - low) / 2;
        match codes
            .get(middle * 3..middle * 3 + 2)
            .map(|code| code.cmp(value))
        {
            Some(std::cmp::Ordering::Less) => low = middle + 1,
            Some(std::cmp::Ordering::Greater) => high = middle,
            Some(std::cmp::Ordering::Equal) => return true,
            None => return false,
        }
    }
    false
}

fn check_country(value: &str) -> Result<String, String> {
    if is_country_code(value) {
        return Ok(value.to_owned());
    }
    let hint = match value {
        "EL" => " (Greece is GR; EL is Eurostat's code)",
        "UK" => " (the United Kingdom is GB; UK is Eurostat's code)",
        _ if is_country_code(&value.to_ascii_uppercase()) => " (use upper case)",
        _ => "",
    };
    Err(format!("must be an ISO 3166-1 alpha-2 country code{hint}"))
}

/// An ISO 3166-2 subdivision code, looked up in the list the `rust_iso3166` crate keeps.
fn check_region(value: &str, country: Option<&str>) -> Result<String, String> {
    let subdivision = (value.len() <= MAX_REGION_CHARS)
        .then(|| rust_iso3166::iso3166_2::from_code(value))
        .flatten();
    let Some(subdivision) = subdivision else {
        return Err("must be an ISO 3166-2 subdivision code such as DE-BY".to_owned());
    };
    match country {
        Some(country) if subdivision.country_code != country => Err(format!(
            "must be a subdivision of the firm's country {country}"
        )),
        _ => Ok(value.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_country_list_has_every_assigned_code() {
        let codes: Vec<&str> = ISO_3166_ALPHA2.split(' ').collect();
        assert_eq!(codes.len(), 249);
        assert!(
            codes.windows(2).all(|pair| pair[0] < pair[1]),
            "in order, for the binary search"
        );
        assert!(codes.iter().all(|code| is_country_code(code)));
        assert!(is_country_code("DE") && is_country_code("GR") && !is_country_code("EL"));
        for absent in ["AA", "ZZ", "A", "DEU", "", "de", "D ", " D"] {
            assert!(!is_country_code(absent), "{absent:?}");
        }
    }

    #[test]
    fn a_valid_firm_parses() {
        let firm = FirmProfile::parse(
            Some(&json!({"ref": "acme-001", "industry": "C", "size_band": "small", "country": "DE", "region": "DE-BY"})),
            "/firm",
        )
        .unwrap_or_else(|p| panic!("{p:?}"));
        assert_eq!(firm.region(), Some("DE-BY"));
    }

    #[test]
    fn every_bad_field_is_named() {
        let problems = FirmProfile::parse(
            Some(&json!({"ref": " ", "industry": "Z", "size_band": "huge", "country": "EL", "region": "bavaria", "colour": 1})),
            "/firm",
        )
        .err()
        .unwrap_or_default();
        let pointers: Vec<&str> = problems.iter().map(|p| p.pointer.as_str()).collect();
        assert_eq!(
            pointers,
            [
                "/firm/colour",
                "/firm/ref",
                "/firm/industry",
                "/firm/size_band",
                "/firm/country",
                "/firm/region"
            ]
        );
        assert!(problems[4].message.contains("Greece is GR"));
    }

    #[test]
    fn a_region_must_be_an_assigned_subdivision_of_the_country() {
        let region = |region: &str, country: &str| {
            FirmProfile::parse(
                Some(&json!({"ref": "r", "industry": "C", "size_band": "small", "country": country, "region": region})),
                "/firm",
            )
            .map(|firm| firm.region().map(str::to_owned))
        };
        assert_eq!(region("DE-BY", "DE"), Ok(Some("DE-BY".to_owned())));
        assert_eq!(region("FR-IDF", "FR"), Ok(Some("FR-IDF".to_owned())));
        for (unassigned, country) in [
            ("DE-ZZ", "DE"),
            ("DE-BY", "FR"),
            ("XX-1", "DE"),
            ("de-by", "DE"),
        ] {
            assert!(
                region(unassigned, country).is_err(),
                "{unassigned} in {country}"
            );
        }
    }

    #[test]
    fn refs_with_format_or_compatibility_characters_are_refused() {
        for bad in [
            "acme\u{202E}100",
            "acme\u{200B}",
            "\u{FF41}cme",
            "ａｃｍｅ-001",
        ] {
            assert!(check_ref(bad).is_err(), "{bad:?}");
        }
        assert!(check_ref("Müller GmbH – 北京").is_ok());
    }
}
