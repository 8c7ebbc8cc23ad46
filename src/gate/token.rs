//! Where the token comes from: `Authorization: Bearer` first, then the configured cookies in
//! order, joining Auth.js chunked cookies (`name.0`, `name.1`, … in index order).

/// The first token found, or `None`. The bearer scheme is matched case-insensitively (RFC 7235);
/// a cookie value may be double-quoted. For each cookie name, an unchunked cookie wins over
/// chunks; chunks are joined from `.0` upward and stop at the first missing index.
pub fn extract_token(
    authorization: Option<&str>,
    cookie_header: Option<&str>,
    cookie_names: &[String],
) -> Option<String> {
    if let Some(auth) = authorization {
        let auth = auth.trim();
        if let Some((scheme, rest)) = auth.split_once(' ') {
            let token = rest.trim();
            if scheme.eq_ignore_ascii_case("bearer") && !token.is_empty() {
                return Some(token.to_owned());
            }
        }
    }
    let cookies = parse_cookies(cookie_header?);
    for name in cookie_names {
        if let Some((_, v)) = cookies.iter().find(|(n, _)| n == name) {
            if !v.is_empty() {
                return Some((*v).to_owned());
            }
        }
        let mut joined = String::new();
        for i in 0.. {
            let chunk_name = format!("{name}.{i}");
            match cookies.iter().find(|(n, _)| *n == chunk_name) {
                Some((_, v)) => joined.push_str(v),
                None => break,
            }
            if i > 64 {
                break; // far beyond any real session: stop, the size check will refuse it
            }
        }
        if !joined.is_empty() {
            return Some(joined);
        }
    }
    None
}

/// `name=value` pairs of a `Cookie` header (first occurrence first), quotes removed.
fn parse_cookies(header: &str) -> Vec<(&str, &str)> {
    header
        .split(';')
        .filter_map(|pair| {
            let (n, v) = pair.split_once('=')?;
            let v = v.trim();
            let v = v
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .unwrap_or(v);
            Some((n.trim(), v))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Vec<String> {
        vec![
            "__Secure-authjs.session-token".into(),
            "authjs.session-token".into(),
        ]
    }

    #[test]
    fn bearer_wins() {
        assert_eq!(
            extract_token(
                Some("Bearer abc"),
                Some("authjs.session-token=zzz"),
                &names()
            )
            .as_deref(),
            Some("abc")
        );
        assert_eq!(
            extract_token(Some("bearer   abc "), None, &names()).as_deref(),
            Some("abc")
        );
        assert_eq!(
            extract_token(Some("Basic dXNlcjpwYXNz"), None, &names()),
            None
        );
        assert_eq!(extract_token(Some("Bearer "), None, &names()), None);
        assert_eq!(extract_token(Some("Bearer"), None, &names()), None);
        // A non-bearer Authorization falls through to cookies.
        assert_eq!(
            extract_token(Some("Basic x"), Some("authjs.session-token=c"), &names()).as_deref(),
            Some("c")
        );
    }

    #[test]
    fn cookies_in_configured_order() {
        let h = "theme=dark; authjs.session-token=plain; __Secure-authjs.session-token=secure";
        assert_eq!(
            extract_token(None, Some(h), &names()).as_deref(),
            Some("secure")
        );
        let h = "authjs.session-token=\"quoted\"";
        assert_eq!(
            extract_token(None, Some(h), &names()).as_deref(),
            Some("quoted")
        );
        assert_eq!(extract_token(None, Some("other=1"), &names()), None);
        assert_eq!(
            extract_token(None, Some("authjs.session-token="), &names()),
            None
        );
    }

    #[test]
    fn chunked_cookies_join_in_index_order() {
        let h = "authjs.session-token.1=BBB; x=y; authjs.session-token.0=AAA; authjs.session-token.2=CC";
        assert_eq!(
            extract_token(None, Some(h), &names()).as_deref(),
            Some("AAABBBCC")
        );
        // A gap ends the token.
        let h = "authjs.session-token.0=AAA; authjs.session-token.2=CC";
        assert_eq!(
            extract_token(None, Some(h), &names()).as_deref(),
            Some("AAA")
        );
        // No `.0`: nothing.
        let h = "authjs.session-token.1=BBB";
        assert_eq!(extract_token(None, Some(h), &names()), None);
    }
}
