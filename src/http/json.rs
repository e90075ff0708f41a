//! JSON from a request, refused when any object in it names a key twice.
//!
//! serde_json keeps the last of two equal keys, and other parsers keep the
//! first: a proxy or firewall in front of the service that reads
//! `{"query": "{ a }", "query": "{ b }"}` would inspect one operation while
//! the service ran the other. The value is built in one pass, each object
//! checked against itself as it fills, so the check costs no second parse
//! and no allocation beyond the value.

use std::cell::RefCell;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

#[derive(Debug)]
pub enum JsonError {
    /// Not JSON, or nested past serde_json's recursion limit.
    Syntax(serde_json::Error),
    /// A key named twice in one object, with the path to that object
    /// (`variables.input`; empty at the top).
    RepeatedKey { key: String, path: String },
}

/// Parses `bytes` as one JSON value, refusing repeated keys.
pub fn from_slice(bytes: &[u8]) -> Result<Value, JsonError> {
    let repeated = RefCell::new(None);
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let parsed = UniqueKeys {
        repeated: &repeated,
    }
    .deserialize(&mut deserializer)
    .and_then(|value| deserializer.end().map(|()| value));
    match (parsed, repeated.into_inner()) {
        (Ok(value), _) => Ok(value),
        (Err(_), Some(Repeated { key, mut path })) => {
            // Recorded innermost first, as the error travelled out.
            path.reverse();
            Err(JsonError::RepeatedKey {
                key,
                path: path.join("."),
            })
        }
        (Err(error), None) => Err(JsonError::Syntax(error)),
    }
}

/// Where a repeated key was met, filled in as the error unwinds.
struct Repeated {
    key: String,
    path: Vec<String>,
}

/// One JSON value whose objects must not repeat a key. A seed rather than a
/// plain `Deserialize`, so that the first repeated key can be told from a
/// syntax error without reading serde's error text.
#[derive(Clone, Copy)]
struct UniqueKeys<'r> {
    repeated: &'r RefCell<Option<Repeated>>,
}

impl UniqueKeys<'_> {
    /// Notes that the value at `step` held the repeated key.
    fn inside(&self, step: impl FnOnce() -> String) {
        if let Some(repeated) = self.repeated.borrow_mut().as_mut() {
            repeated.path.push(step());
        }
    }
}

impl<'de> DeserializeSeed<'de> for UniqueKeys<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for UniqueKeys<'_> {
    type Value = Value;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("a JSON value")
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_bool<E>(self, value: bool) -> Result<Value, E> {
        Ok(Value::Bool(value))
    }

    fn visit_i64<E>(self, value: i64) -> Result<Value, E> {
        Ok(Value::Number(value.into()))
    }

    fn visit_u64<E>(self, value: u64) -> Result<Value, E> {
        Ok(Value::Number(value.into()))
    }

    fn visit_f64<E>(self, value: f64) -> Result<Value, E> {
        // JSON has no NaN or infinity: every float it parses is finite.
        Ok(Number::from_f64(value).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, value: &str) -> Result<Value, E> {
        Ok(Value::String(value.to_owned()))
    }

    fn visit_string<E>(self, value: String) -> Result<Value, E> {
        Ok(Value::String(value))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
        loop {
            match seq.next_element_seed(self) {
                Ok(Some(item)) => items.push(item),
                Ok(None) => return Ok(Value::Array(items)),
                Err(error) => {
                    let index = items.len();
                    self.inside(|| index.to_string());
                    return Err(error);
                }
            }
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if object.contains_key(&key) {
                *self.repeated.borrow_mut() = Some(Repeated {
                    key,
                    path: Vec::new(),
                });
                return Err(de::Error::custom("a key is repeated"));
            }
            match map.next_value_seed(self) {
                Ok(value) => {
                    object.insert(key, value);
                }
                Err(error) => {
                    self.inside(|| key);
                    return Err(error);
                }
            }
        }
        Ok(Value::Object(object))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repeated(json: &str) -> Option<(String, String)> {
        match from_slice(json.as_bytes()) {
            Err(JsonError::RepeatedKey { key, path }) => Some((key, path)),
            _ => None,
        }
    }

    #[test]
    fn the_value_is_what_serde_json_parses() {
        let json = r#"{"query": "{ a }", "variables": {"n": [1, -2, 3.5, true, null, "é\u0000"]}, "x": {}}"#;
        let ours = from_slice(json.as_bytes()).expect("valid");
        let theirs: Value = serde_json::from_str(json).expect("valid");
        assert_eq!(ours, theirs);
    }

    #[test]
    fn a_key_named_twice_anywhere_is_found_with_its_path() {
        assert_eq!(
            repeated(r#"{"query": "{ a }", "query": "{ b }"}"#),
            Some(("query".to_owned(), String::new()))
        );
        assert_eq!(
            repeated(r#"{"query": "", "variables": {"input": {"slug": "a", "slug": "b"}}}"#),
            Some(("slug".to_owned(), "variables.input".to_owned()))
        );
        assert_eq!(
            repeated(r#"{"variables": {"ids": [{"a": 1}, {"a": 1, "a": 2}]}}"#),
            Some(("a".to_owned(), "variables.ids.1".to_owned()))
        );
        // Escapes are decoded before keys are compared.
        assert_eq!(
            repeated(r#"{"query": 1, "\u0071uery": 2}"#),
            Some(("query".to_owned(), String::new()))
        );
        assert_eq!(repeated(r#"{"a": {"b": 1}, "b": {"a": 1}}"#), None);
    }

    #[test]
    fn syntax_errors_and_deep_nesting_stay_serde_jsons_errors() {
        for bad in ["{\"query\": ", "{} {}", "[1,]", &"[".repeat(200)] {
            assert!(
                matches!(from_slice(bad.as_bytes()), Err(JsonError::Syntax(_))),
                "{bad}"
            );
        }
        let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
        match from_slice(deep.as_bytes()) {
            Err(JsonError::Syntax(error)) => {
                assert!(error.to_string().starts_with("recursion limit exceeded"))
            }
            other => panic!("{other:?}"),
        }
    }
}
