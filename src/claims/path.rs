//! Claim paths: a claim named from the claims set down, as settings and policies write it.

use serde_json::{Map, Value};

/// A claim named by its path from the claims set down: `email`, `org.id` (nested objects), and a
/// member whose name has a `.` or `[` as a JSON string in brackets, `["https://ns.example/roles"]`
/// or `org["a.b"]`. Used by the gate's claim headers and by tenant bindings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimPath {
    text: String,
    names: Vec<String>,
}

impl ClaimPath {
    /// Reads a claim path. `None` for an empty segment, an unterminated or non-string bracket,
    /// or anything after a bracket but `.` or `[`.
    pub fn parse(key: &str) -> Option<ClaimPath> {
        Some(ClaimPath {
            names: names(key)?,
            text: key.to_owned(),
        })
    }

    /// The path as it was written (for messages: a name, never a value).
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The member names from the claims set down.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The claim's value, if every member on the way is there (`null` counts as absent, as for
    /// every claim rule).
    pub fn get<'a>(&self, claims: &'a Map<String, Value>) -> Option<&'a Value> {
        let (first, rest) = self.names.split_first()?;
        rest.iter()
            .try_fold(claims.get(first)?, |v, name| v.as_object()?.get(name))
            .filter(|v| !v.is_null())
    }
}

fn names(key: &str) -> Option<Vec<String>> {
    let mut out = Vec::new();
    let mut rest = key;
    loop {
        if let Some(after) = rest.strip_prefix('[') {
            // A JSON string (its closing quote is the first one not escaped), then `]`.
            let bytes = after.as_bytes();
            if bytes.first() != Some(&b'"') {
                return None;
            }
            let mut i = 1;
            while *bytes.get(i)? != b'"' {
                i += if bytes[i] == b'\\' { 2 } else { 1 };
            }
            let end = i + 1;
            if bytes.get(end) != Some(&b']') {
                return None;
            }
            let name = match crate::json::parse(after.get(..end)?.as_bytes()).ok()? {
                Value::String(name) => name,
                _ => return None,
            };
            if name.is_empty() {
                return None;
            }
            out.push(name);
            rest = &after[end + 1..];
        } else {
            let end = rest.find(['.', '[']).unwrap_or(rest.len());
            if end == 0 {
                return None;
            }
            out.push(rest[..end].to_owned());
            rest = &rest[end..];
        }
        match rest.as_bytes().first() {
            None => return Some(out),
            Some(b'.') => rest = &rest[1..],
            Some(b'[') => {}
            Some(_) => return None,
        }
        if rest.is_empty() {
            return None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claim_paths() {
        let p = |k: &str| ClaimPath::parse(k).map(|p| p.names().to_vec());
        let v = |l: &[&str]| Some(l.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>());
        assert_eq!(p("email"), v(&["email"]));
        assert_eq!(p("org.id"), v(&["org", "id"]));
        assert_eq!(p("a.b.c"), v(&["a", "b", "c"]));
        assert_eq!(
            p(r#"["https://ns.example/roles"]"#),
            v(&["https://ns.example/roles"])
        );
        assert_eq!(p(r#"org["a.b"].id"#), v(&["org", "a.b", "id"]));
        assert_eq!(p(r#"["a\"]"]"#), v(&["a\"]"]));
        for bad in [
            "",
            ".",
            "a.",
            ".a",
            "a..b",
            "[",
            "[]",
            r#"[""]"#,
            "[a]",
            r#"["a"]b"#,
            r#"["a"."#,
            r#"["a""#,
            "[1]",
        ] {
            assert_eq!(p(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_path_reads_nested_members_and_null_is_absent() {
        let claims = serde_json::json!({"org": {"id": "acme", "a.b": 1, "gone": null}, "n": null});
        let claims = claims.as_object().unwrap();
        let get = |k: &str| ClaimPath::parse(k).unwrap().get(claims).cloned();
        assert_eq!(get("org.id"), Some(Value::from("acme")));
        assert_eq!(get(r#"org["a.b"]"#), Some(Value::from(1)));
        assert_eq!(get("org.gone"), None);
        assert_eq!(get("n"), None);
        assert_eq!(get("org.id.x"), None);
        assert_eq!(get("missing"), None);
        assert_eq!(ClaimPath::parse("org.id").unwrap().as_str(), "org.id");
    }
}
