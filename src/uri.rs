//! The one reading of an absolute `http(s)` URL ([`split_url`]) and of its authority
//! (`host[:port]`, `[v6][:port]`), shared by the gate's settings (`JWTGATE_JWKS_URL`,
//! `UPSTREAM_URL`, …), DPoP's `htu` normalisation and the gate's request URLs
//! ([`request_url`]); each caller then applies its own rule to the host's characters and the
//! port. Percent-escapes are read ([`escape_at`]) and normalised ([`push_escape`]) here too.

/// An absolute URL split once: `scheme://authority[path][?query][#fragment]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UrlParts<'a> {
    /// The scheme, lower-cased: `http` or `https`.
    pub(crate) scheme: &'static str,
    /// The host, lower-cased (an IPv6 literal in its brackets); its characters unchecked.
    pub(crate) host: String,
    /// The port's text after a `:` (unchecked), if there is a `:`.
    pub(crate) port: Option<&'a str>,
    /// Everything from the first `/` after the authority to the query (maybe empty).
    pub(crate) path: &'a str,
    /// The query without its `?`.
    pub(crate) query: Option<&'a str>,
}

/// Splits `http(s)://authority…` (the scheme in any case). `None` for another scheme, no
/// `://`, userinfo (`@` in the authority) or an IPv6 literal [`split_authority`] refuses. The
/// fragment is dropped.
pub(crate) fn split_url(url: &str) -> Option<UrlParts<'_>> {
    let (scheme, rest) = url.split_once("://")?;
    let scheme = if scheme.eq_ignore_ascii_case("https") {
        "https"
    } else if scheme.eq_ignore_ascii_case("http") {
        "http"
    } else {
        return None;
    };
    let rest = rest.split_once('#').map_or(rest, |(before, _)| before);
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, rest) = rest.split_at(end);
    if authority.contains('@') {
        return None;
    }
    let (path, query) = match rest.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (rest, None),
    };
    let (host, port) = split_authority(authority)?;
    Some(UrlParts {
        scheme,
        host,
        port,
        path,
        query,
    })
}

/// Splits an authority (no userinfo) into its host, lower-cased (an IPv6 literal kept in its
/// brackets), and its port text (`None` without a `:`). `None` for an IPv6 literal that is
/// empty, unclosed, holds anything but hex digits, `:` and `.`, or is followed by anything but
/// `:port`. A host's own characters are the caller's to check.
pub(crate) fn split_authority(authority: &str) -> Option<(String, Option<&str>)> {
    if let Some(v6) = authority.strip_prefix('[') {
        let (inner, after) = v6.split_once(']')?;
        if inner.is_empty()
            || !inner
                .bytes()
                .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.')
        {
            return None;
        }
        let port = match after {
            "" => None,
            p => Some(p.strip_prefix(':')?),
        };
        return Some((format!("[{}]", inner.to_ascii_lowercase()), port));
    }
    let (host, port) = match authority.split_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (authority, None),
    };
    Some((host.to_ascii_lowercase(), port))
}

/// The byte a percent-escape at `bytes[i]` (the `%`) stands for: `%` and exactly two hex
/// digits, in either case (`u8::from_str_radix` would also take `%+F`). `None` otherwise.
pub(crate) fn escape_at(bytes: &[u8], i: usize) -> Option<u8> {
    let digit = |b: u8| (b as char).to_digit(16);
    match bytes.get(i..i + 3)? {
        [b'%', h, l] => Some((digit(*h)? * 16 + digit(*l)?) as u8),
        _ => None,
    }
}

/// Text with every percent-escape decoded, as an application reads a path segment or a query
/// value; `None` for a `%` not followed by two hex digits, or a result that is not UTF-8.
pub(crate) fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            out.push(escape_at(bytes, i)?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Whether a byte is unreserved (RFC 3986 §2.3: `A-Z a-z 0-9 - . _ ~`): its escape and the
/// byte itself mean the same.
pub(crate) fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

/// Appends an escaped byte in normal form (RFC 3986 §6.2.2): an unreserved byte as itself,
/// any other as `%XY` in upper-case hex. The one normalisation of escapes, for the gate's
/// canonical paths and DPoP's `htu`.
pub(crate) fn push_escape(out: &mut String, b: u8) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    if is_unreserved(b) {
        out.push(b as char);
    } else {
        out.push('%');
        out.push(HEX[usize::from(b >> 4)] as char);
        out.push(HEX[usize::from(b & 0xf)] as char);
    }
}

/// Whether a split host is an IPv6 literal (kept in brackets).
pub(crate) fn is_bracketed(host: &str) -> bool {
    host.starts_with('[')
}

/// A request's URL as the runtime hands it over, split once: the gate reads its host, path and
/// query from here (not from a general URL parser: workerd has already parsed and serialised
/// it, the WHATWG way).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestUrl<'a> {
    /// The host, lower-cased, an IPv6 literal in its brackets; no port.
    pub host: String,
    /// The path exactly as serialised (percent-escapes untouched), `/` at least.
    pub path: &'a str,
    /// The query without its `?`, if there is one (possibly empty).
    pub query: Option<&'a str>,
}

/// Splits a serialised `http(s)://host[:port]/path[?query][#fragment]` URL. `None` for any
/// other shape: another scheme, userinfo, an empty host, a port that is not digits, a host with
/// characters a serialised host never has, or a path that does not start with `/`. The
/// fragment (never sent by a client) is dropped.
pub fn request_url(url: &str) -> Option<RequestUrl<'_>> {
    let parts = split_url(url)?;
    let path = if parts.path.is_empty() {
        "/"
    } else {
        parts.path
    };
    let host = parts.host;
    let host_ok = !host.is_empty()
        && (is_bracketed(&host)
            || host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_')));
    let port_ok = parts
        .port
        .is_none_or(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    (host_ok && port_ok && path.starts_with('/')).then_some(RequestUrl {
        host,
        path,
        query: parts.query,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_decoding_is_strict() {
        assert_eq!(percent_decode("acme").as_deref(), Some("acme"));
        assert_eq!(percent_decode("acme%20corp").as_deref(), Some("acme corp"));
        assert_eq!(percent_decode("caf%C3%A9").as_deref(), Some("café"));
        assert_eq!(percent_decode("a%40b+c").as_deref(), Some("a@b+c"));
        for bad in ["%FF", "%zz", "%4", "100%"] {
            assert_eq!(percent_decode(bad), None, "{bad}");
        }
    }

    #[test]
    fn escapes_read_two_hex_digits_exactly_and_normalise_one_way() {
        let read = |s: &str| escape_at(s.as_bytes(), 0);
        assert_eq!(read("%41"), Some(b'A'));
        assert_eq!(read("%7e"), Some(b'~'));
        assert_eq!(read("%fF/"), Some(0xff));
        for bad in ["%", "%4", "%+F", "%-1", "%4g", "%\u{e9}", "x41", ""] {
            assert_eq!(read(bad), None, "{bad}");
        }
        // Every byte: unreserved ones as themselves, the rest as upper-case %XY, which reads back.
        for b in 0..=255u8 {
            let mut out = String::new();
            push_escape(&mut out, b);
            if is_unreserved(b) {
                assert_eq!(out, (b as char).to_string());
            } else {
                assert_eq!(out, format!("%{b:02X}"));
                assert_eq!(escape_at(out.as_bytes(), 0), Some(b));
            }
        }
    }

    #[test]
    fn a_request_url_splits_into_host_path_and_query() {
        let u = request_url("https://API.example.com:8443/a/%2e%2E/b?x=1&y=%20#frag").unwrap();
        assert_eq!(
            (u.host.as_str(), u.path, u.query),
            ("api.example.com", "/a/%2e%2E/b", Some("x=1&y=%20"))
        );
        let u = request_url("http://[::1]:8787?").unwrap();
        assert_eq!((u.host.as_str(), u.path, u.query), ("[::1]", "/", Some("")));
        let u = request_url("http://h//x?a?b").unwrap();
        assert_eq!((u.path, u.query), ("//x", Some("a?b")));
        for bad in [
            "",
            "/path",
            "ftp://h/",
            "https://user:pw@h/",
            "https:///x",
            "https://h:/x",
            "https://h:8x/x",
            "https://h%2f/x",
            "https://[zz]/x",
            "https://h x/",
        ] {
            assert_eq!(request_url(bad), None, "{bad}");
        }
    }

    /// Against the `url` crate (WHATWG, what workerd's serialisation follows): for every URL it
    /// parses and re-serialises, this reader sees the same host, path and query.
    #[test]
    fn agrees_with_the_url_crate_on_serialised_urls() {
        let hosts = [
            "a.example",
            "A.EXAMPLE",
            "127.0.0.1",
            "[::1]",
            "[2001:DB8::1]",
            "xn--bcher-kva.example",
        ];
        let ports = ["", ":80", ":443", ":8787"];
        let paths = [
            "",
            "/",
            "//",
            "/a/../b",
            "/a/%2e%2e/b",
            "/%2F",
            "/a;b",
            "/ä",
            "/a b",
            "/a%zz",
            "/./x",
            "/\\x",
        ];
        let queries = ["", "?", "?a=1", "?a=%20&b", "?ä", "?a#f", "#f"];
        for scheme in ["http", "https"] {
            for host in hosts {
                for port in ports {
                    for path in paths {
                        for query in queries {
                            let raw = format!("{scheme}://{host}{port}{path}{query}");
                            let Ok(parsed) = url::Url::parse(&raw) else {
                                continue;
                            };
                            let ours = request_url(parsed.as_str())
                                .unwrap_or_else(|| panic!("{raw} -> {parsed}: refused"));
                            assert_eq!(ours.host, parsed.host_str().unwrap(), "{parsed}");
                            assert_eq!(ours.path, parsed.path(), "{parsed}");
                            assert_eq!(ours.query, parsed.query(), "{parsed}");
                        }
                    }
                }
            }
        }
    }
}
