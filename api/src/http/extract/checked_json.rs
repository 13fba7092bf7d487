//! A JSON body read into a `serde_json::Value`, noting what the `Value` would hide: a key that
//! appears twice in one object (`serde_json` keeps the last one silently) and the NUL
//! character (U+0000), which PostgreSQL cannot store in text. Each is a problem named by its
//! JSON pointer, so the whole body is refused with `422`.

use std::fmt;

use readiness_analytics::FieldProblem;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use crate::domain::pointer;

/// A parsed body and the problems found while reading it.
#[derive(Debug)]
pub struct CheckedJson {
    pub value: Value,
    pub problems: Vec<FieldProblem>,
}

impl<'de> de::Deserialize<'de> for CheckedJson {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut problems = Vec::new();
        let value = Node {
            at: &Step::Root,
            problems: &mut problems,
        }
        .deserialize(deserializer)?;
        Ok(Self { value, problems })
    }
}

const NUL: &str = "must not contain the NUL character (U+0000)";

/// Where a value sits in the document: the steps from the root. Its JSON pointer is written
/// only when a problem is found there, so a clean body costs no string per value.
enum Step<'a> {
    Root,
    Key(&'a Step<'a>, &'a str),
    Index(&'a Step<'a>, usize),
}

impl Step<'_> {
    fn pointer(&self) -> String {
        match self {
            Step::Root => String::new(),
            Step::Key(parent, key) => pointer::child(&parent.pointer(), key),
            Step::Index(parent, index) => format!("{}/{index}", parent.pointer()),
        }
    }
}

/// One value of the document, at `at`.
struct Node<'a, 'p> {
    at: &'a Step<'a>,
    problems: &'p mut Vec<FieldProblem>,
}

impl Node<'_, '_> {
    fn string(self, text: String) -> Value {
        if text.contains('\0') {
            self.problems
                .push(FieldProblem::new(self.at.pointer(), NUL));
        }
        Value::String(text)
    }
}

impl<'de> DeserializeSeed<'de> for Node<'_, '_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Node<'_, '_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, value: bool) -> Result<Value, E> {
        Ok(Value::Bool(value))
    }

    fn visit_i64<E>(self, value: i64) -> Result<Value, E> {
        Ok(Value::from(value))
    }

    fn visit_u64<E>(self, value: u64) -> Result<Value, E> {
        Ok(Value::from(value))
    }

    fn visit_f64<E>(self, value: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(value).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, value: &str) -> Result<Value, E> {
        Ok(self.string(value.to_owned()))
    }

    fn visit_string<E>(self, value: String) -> Result<Value, E> {
        Ok(self.string(value))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        loop {
            let at = Step::Index(self.at, items.len());
            let node = Node {
                at: &at,
                problems: &mut *self.problems,
            };
            match seq.next_element_seed(node)? {
                Some(item) => items.push(item),
                None => return Ok(Value::Array(items)),
            }
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(key) = access.next_key::<String>()? {
            let at = Step::Key(self.at, &key);
            if key.contains('\0') {
                self.problems.push(FieldProblem::new(at.pointer(), NUL));
            }
            let value = access.next_value_seed(Node {
                at: &at,
                problems: &mut *self.problems,
            })?;
            let twice = object.contains_key(&key).then(|| at.pointer());
            object.insert(key, value);
            if let Some(pointer) = twice {
                self.problems.push(FieldProblem::new(
                    pointer,
                    "appears more than once in its object",
                ));
            }
        }
        Ok(Value::Object(object))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn read(text: &str) -> CheckedJson {
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn duplicate_keys_and_nul_are_named_by_pointer() {
        let checked = read(r#"{"firm": {"ref": "a", "ref": "b"}, "x/y": ["ok", "n\u0000l"]}"#);
        let pointers: Vec<&str> = checked
            .problems
            .iter()
            .map(|p| p.pointer.as_str())
            .collect();
        assert_eq!(pointers, ["/firm/ref", "/x~1y/1"]);
        assert_eq!(checked.value["firm"]["ref"], "b");
    }

    #[test]
    fn a_clean_document_reads_as_serde_json_would() {
        let text = r#"{"a": [1, -2, 3.5, true, null, {"b": "c"}], "d": {}}"#;
        let checked = read(text);
        assert!(checked.problems.is_empty());
        assert_eq!(checked.value, serde_json::from_str::<Value>(text).unwrap());
    }
}
