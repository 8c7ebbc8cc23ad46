//! Readers for the members of a policy object: each turns one JSON member into a typed value or
//! a `config` error naming it. They own no feature's rules; the policy and its `dpop` and
//! `refresh` members use them alike.

use crate::alg::Algorithm;
use crate::error::{Error, Result};
use serde_json::{Map, Value};

/// The member `name`, where a JSON `null` counts as absent.
pub(crate) fn field<'a>(obj: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    obj.get(name).filter(|v| !v.is_null())
}

/// A required string or non-empty array of non-empty strings (`issuer`, `audience`).
pub(crate) fn string_list(obj: &Map<String, Value>, name: &'static str) -> Result<Vec<String>> {
    let bad = || {
        Error::config(
            name,
            "required: a non-empty string or a non-empty array of non-empty strings",
        )
    };
    let list = match field(obj, name) {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(items)) if !items.is_empty() => items
            .iter()
            .map(|v| v.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(bad)?,
        _ => return Err(bad()),
    };
    if list.iter().any(|s| s.trim().is_empty()) {
        return Err(bad());
    }
    Ok(list)
}

/// A policy member that is itself an object of known members (`dpop`, `refresh`): `config`
/// naming `field` if it is not an object (`shape` shows the expected one), or naming the
/// first member not in `members`.
pub(crate) fn member_object<'a>(
    value: &'a Value,
    field: &'static str,
    members: &[&str],
    shape: &str,
) -> Result<&'a Map<String, Value>> {
    let Value::Object(obj) = value else {
        return Err(Error::config(field, format!("must be an object: {shape}")));
    };
    if let Some(unknown) = obj.keys().find(|k| !members.contains(&k.as_str())) {
        return Err(Error::config(
            format!("{field}.{unknown}"),
            format!("unknown {field} field ({})", members.join(", ")),
        ));
    }
    Ok(obj)
}

/// An optional whole number within `range` (inclusive).
pub(crate) fn integer(
    obj: &Map<String, Value>,
    name: &'static str,
    range: (i64, i64),
) -> Result<Option<i64>> {
    match field(obj, name) {
        None => Ok(None),
        Some(v) => match v.as_i64() {
            Some(n) if n >= range.0 && n <= range.1 => Ok(Some(n)),
            _ => Err(Error::config(
                name,
                format!("must be a whole number from {} to {}", range.0, range.1),
            )),
        },
    }
}

/// Parses the `algorithms` allowlist: exact names, `none` refused in every spelling.
pub(crate) fn algorithms(value: Option<&Value>) -> Result<Vec<Algorithm>> {
    let list = match value {
        Some(Value::Array(items)) if !items.is_empty() => items,
        _ => {
            return Err(Error::config(
                "algorithms",
                "required: a non-empty array of algorithm names",
            ))
        }
    };
    let mut out = Vec::with_capacity(list.len());
    for (i, v) in list.iter().enumerate() {
        let name = v.as_str().unwrap_or_default();
        if name.eq_ignore_ascii_case("none") {
            return Err(Error::config(
                format!("algorithms[{i}]"),
                "\"none\" is never an allowed algorithm",
            ));
        }
        let alg = Algorithm::from_name(name).ok_or_else(|| {
            Error::config(
                format!("algorithms[{i}]"),
                format!(
                    "unknown algorithm (supported: {})",
                    Algorithm::ALL.map(Algorithm::name).join(" ")
                ),
            )
        })?;
        if !out.contains(&alg) {
            out.push(alg);
        }
    }
    Ok(out)
}
