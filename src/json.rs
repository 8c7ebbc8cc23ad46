//! Strict JSON: UTF-8, RFC 8259, no duplicate member names at any depth.
//!
//! Duplicate names are rejected because parsers disagree about them (first wins, last wins): a
//! token `{"sub":"alice","sub":"admin"}` could mean one thing to jwtgate and another to the app
//! behind it. `serde_json` alone keeps the last one silently, so objects are built here through a
//! visitor that refuses a name it has already seen. Nesting depth is bounded by `serde_json`'s
//! recursion limit (128), so deep input is an error, not a stack overflow.

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};
use std::fmt;

/// Why a byte string is not strict JSON. Deliberately carries no detail from the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct InvalidJson;

/// Parses strict JSON (any value).
pub(crate) fn parse(bytes: &[u8]) -> Result<Value, InvalidJson> {
    let text = std::str::from_utf8(bytes).map_err(|_| InvalidJson)?;
    serde_json::from_str::<Strict>(text)
        .map(|s| s.0)
        .map_err(|_| InvalidJson)
}

/// Parses strict JSON that must be an object.
pub(crate) fn parse_object(bytes: &[u8]) -> Result<Map<String, Value>, InvalidJson> {
    match parse(bytes)? {
        Value::Object(map) => Ok(map),
        _ => Err(InvalidJson),
    }
}

struct Strict(Value);

impl<'de> Deserialize<'de> for Strict {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(StrictVisitor).map(Strict)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| E::custom("non-finite number"))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        while let Some(Strict(v)) = seq.next_element()? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if out.contains_key(&key) {
                return Err(de::Error::custom("duplicate member name"));
            }
            let Strict(v) = map.next_value()?;
            out.insert(key, v);
        }
        Ok(Value::Object(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_plain_objects() {
        let m = parse_object(br#"{"a":1,"b":[true,null,"x"],"c":{"d":1.5}}"#).unwrap();
        assert_eq!(m["a"], 1);
        assert_eq!(m["c"]["d"], 1.5);
    }

    #[test]
    fn rejects_duplicates_at_any_depth() {
        assert!(parse_object(br#"{"sub":"alice","sub":"admin"}"#).is_err());
        assert!(parse_object(br#"{"a":{"x":1,"x":2}}"#).is_err());
        assert!(parse_object(br#"{"a":[{"x":1,"x":1}]}"#).is_err());
        // Same name spelled with an escape is still the same name.
        assert!(parse_object(br#"{"sub":1,"s\u0075b":2}"#).is_err());
    }

    #[test]
    fn rejects_non_objects_bad_utf8_and_trailing_data() {
        for bad in [
            &b"[1]"[..],
            b"\"x\"",
            b"1",
            b"null",
            b"{",
            b"{}x",
            b"{} {}",
            b"\xff{}",
            b"{\"a\":\"\xc3\"}",
            b"{\"a\":\"\\ud800\"}",
            b"{'a':1}",
            b"{\"a\":1,}",
            b"{\"a\":NaN}",
            b"{\"a\":1e999}",
        ] {
            assert!(
                parse_object(bad).is_err(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(parse(deep.as_bytes()).is_err());
    }
}
