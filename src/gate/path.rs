//! One canonical request path: what the gate matches its rules on *and* what it forwards.
//!
//! Why: if the gate matched the raw path while the upstream decoded, folded or split it, a rule
//! could be skipped: `/%61dmin` is `/admin` to an upstream that decodes, `/admin;x` is `/admin`
//! to a servlet container, `/health/..%2Fadmin` is public to a gate matching `/health` yet served
//! as `/admin` by nginx. So the path is canonicalised once, ambiguous forms are refused with 400,
//! and the canonical form is both matched and forwarded: the upstream never sees a path the gate
//! did not judge.
//!
//! Canonicalisation: percent-escapes of unreserved characters (RFC 3986 §2.3: `A-Z a-z 0-9 - . _
//! ~`) are decoded, every other escape is kept with upper-case hex. Refused: an escape that is
//! not two hex digits; an encoded `/` or `\`, or a raw `\`; a `.` or `..` segment (encoded or
//! not); an empty segment (`//`); a `;` (path parameters), raw or encoded; NUL, control bytes
//! and DEL, raw or encoded; a raw space and bytes outside ASCII (a URL parser has already
//! escaped them).

use std::fmt;

/// Why a path was refused (the gate answers 400 `invalid_request`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PathError {
    /// A `%` not followed by two hex digits.
    BadEscape,
    /// `%2F`, `%5C` or a raw `\`: a separator the upstream may read differently.
    EncodedSeparator,
    /// A `.` or `..` segment.
    DotSegment,
    /// An empty segment (`//`), or a path not starting with `/`.
    EmptySegment,
    /// A `;` (servlet path parameters), raw or encoded.
    PathParameter,
    /// NUL, a control byte, DEL, a non-ASCII byte or a raw space.
    ControlByte,
}

impl PathError {
    /// The stable code, e.g. `"dot_segment"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            PathError::BadEscape => "bad_escape",
            PathError::EncodedSeparator => "encoded_separator",
            PathError::DotSegment => "dot_segment",
            PathError::EmptySegment => "empty_segment",
            PathError::PathParameter => "path_parameter",
            PathError::ControlByte => "control_byte",
        }
    }
}

impl fmt::Display for PathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The canonical form of a request path (the part before `?`), or why it is refused.
pub fn canonical_path(raw: &str) -> Result<String, PathError> {
    let bytes = raw.as_bytes();
    if bytes.first() != Some(&b'/') {
        return Err(PathError::EmptySegment);
    }
    let mut out = String::with_capacity(raw.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            b'%' => {
                match crate::uri::escape_at(bytes, i).ok_or(PathError::BadEscape)? {
                    b'/' | b'\\' => return Err(PathError::EncodedSeparator),
                    b';' => return Err(PathError::PathParameter),
                    0..=0x1f | 0x7f => return Err(PathError::ControlByte),
                    d => crate::uri::push_escape(&mut out, d),
                }
                i += 3;
            }
            b'\\' => return Err(PathError::EncodedSeparator),
            b';' => return Err(PathError::PathParameter),
            // A raw space too: a serialised URL escapes it, and a request line cannot hold it.
            0..=0x20 | 0x7f..=0xff => return Err(PathError::ControlByte),
            _ => {
                out.push(b as char);
                i += 1;
            }
        }
    }
    // Segments, on the decoded form: no empty one (but a trailing `/` is fine), no dot segment.
    let segments: Vec<&str> = out[1..].split('/').collect();
    let last = segments.len() - 1;
    for (n, seg) in segments.iter().enumerate() {
        match *seg {
            "" if n == last => {}
            "" => return Err(PathError::EmptySegment),
            "." | ".." => return Err(PathError::DotSegment),
            _ => {}
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_unreserved_and_normalises_other_escapes() {
        assert_eq!(canonical_path("/%61dmin").unwrap(), "/admin");
        assert_eq!(canonical_path("/a%7eb%2D%5f").unwrap(), "/a~b-_");
        assert_eq!(canonical_path("/caf%c3%a9").unwrap(), "/caf%C3%A9");
        assert_eq!(canonical_path("/a%20b").unwrap(), "/a%20b");
        assert_eq!(canonical_path("/").unwrap(), "/");
        assert_eq!(canonical_path("/orders/").unwrap(), "/orders/");
        assert_eq!(canonical_path("/Admin/users").unwrap(), "/Admin/users");
    }

    #[test]
    fn refuses_ambiguous_forms() {
        let cases = [
            ("/health/..%2Fadmin", PathError::EncodedSeparator),
            ("/health/%2e%2e/admin", PathError::DotSegment),
            ("/health/../admin", PathError::DotSegment),
            ("/./admin", PathError::DotSegment),
            ("/health/%2E", PathError::DotSegment),
            ("/a%5cb", PathError::EncodedSeparator),
            ("/a\\b", PathError::EncodedSeparator),
            ("/admin;x", PathError::PathParameter),
            ("/admin%3bx", PathError::PathParameter),
            ("//admin", PathError::EmptySegment),
            ("/a//b", PathError::EmptySegment),
            ("admin", PathError::EmptySegment),
            ("", PathError::EmptySegment),
            ("/a%00", PathError::ControlByte),
            ("/a%0a", PathError::ControlByte),
            ("/a%7F", PathError::ControlByte),
            ("/a\u{1}", PathError::ControlByte),
            ("/é", PathError::ControlByte),
            ("/a b", PathError::ControlByte),
            ("/a%", PathError::BadEscape),
            ("/a%4", PathError::BadEscape),
            ("/a%zz", PathError::BadEscape),
        ];
        for (raw, want) in cases {
            assert_eq!(canonical_path(raw), Err(want), "{raw:?}");
        }
    }

    #[test]
    fn canonical_is_a_fixed_point() {
        // Every accepted path canonicalises to itself the second time: what is forwarded is
        // judged the same way again by anything that re-canonicalises it.
        let alphabet = [
            "/", "a", "A", "%61", "%2e", ".", "%20", "%C3%A9", "-", "~", "%7E",
        ];
        let mut n = 0;
        for a in alphabet {
            for b in alphabet {
                for c in alphabet {
                    let raw = format!("/{a}{b}{c}");
                    if let Ok(p) = canonical_path(&raw) {
                        assert_eq!(canonical_path(&p).as_deref(), Ok(p.as_str()), "{raw}");
                        n += 1;
                    }
                }
            }
        }
        assert!(n > 500, "{n}");
    }
}
