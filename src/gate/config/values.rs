//! The readers of single setting values: numbers, booleans, JSON objects, URLs (through
//! [`crate::uri`]), path prefixes and lists, header names, claim paths.

use super::*;

pub(super) fn int(
    get: &impl Fn(&str) -> Option<String>,
    setting: &'static str,
    default: i64,
    range: (i64, i64),
) -> Result<i64, ConfigError> {
    match get(setting) {
        None => Ok(default),
        Some(s) => match s.trim().parse::<i64>() {
            Ok(n) if n >= range.0 && n <= range.1 => Ok(n),
            _ => Err(err(
                setting,
                format!("must be a whole number from {} to {}", range.0, range.1),
            )),
        },
    }
}

pub(super) fn boolean(
    get: &impl Fn(&str) -> Option<String>,
    setting: &'static str,
    default: bool,
) -> Result<bool, ConfigError> {
    match get(setting).as_deref().map(str::trim) {
        None => Ok(default),
        Some("true") | Some("1") => Ok(true),
        Some("false") | Some("0") => Ok(false),
        Some(_) => Err(err(setting, "must be true or false")),
    }
}

pub(super) fn json_object(
    get: &impl Fn(&str) -> Option<String>,
    setting: &'static str,
) -> Result<Option<serde_json::Map<String, Value>>, ConfigError> {
    match get(setting) {
        None => Ok(None),
        Some(text) => json::parse_object(text.as_bytes())
            .map(Some)
            .map_err(|_| err(setting, "must be a strict JSON object")),
    }
}

/// The host of an absolute URL, parsed strictly: `http(s)://host[:port][/path][?query]`, where
/// host is a DNS name of letters, digits, `-` and `.`, an IPv4 address, or `[v6]`. No userinfo
/// (`user@`), no `\`, no whitespace or control bytes, no empty host, no percent-escapes in the
/// host: every form a URL parser and a string test could read differently is refused.
pub(super) fn parse_url(v: &str) -> Option<(bool, String)> {
    if v.bytes().any(|b| b <= b' ' || b == 0x7f || b == b'\\') || !v.is_ascii() {
        return None;
    }
    // The scheme exactly in lower case (the one reader takes any case).
    let https = v.starts_with("https://");
    if !https && !v.starts_with("http://") {
        return None;
    }
    let crate::uri::UrlParts { host, port, .. } = crate::uri::split_url(v)?;
    let labels_ok = crate::uri::is_bracketed(&host)
        || host
            .split('.')
            .all(|l| !l.is_empty() && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'));
    if !labels_ok {
        return None;
    }
    if let Some(p) = port {
        if !p.bytes().all(|b| b.is_ascii_digit()) || p.parse::<u16>().map_or(true, |n| n == 0) {
            return None;
        }
    }
    Some((https, host))
}

/// Whether a parsed host is a loopback address: `localhost`, `127.0.0.0/8` as a dotted IPv4
/// literal, or `[::1]`.
pub(super) fn is_loopback(host: &str) -> bool {
    if host == "localhost" || host == "[::1]" {
        return true;
    }
    let octets: Vec<&str> = host.split('.').collect();
    octets.len() == 4
        && octets[0] == "127"
        && octets
            .iter()
            .all(|o| !o.is_empty() && o.len() <= 3 && o.parse::<u8>().is_ok())
}

/// `http(s)://host…`: `https` anywhere, `http` only when `allow_http` or to a loopback host
/// (parsed, not string-matched: `http://127.evil.example/` is not loopback).
pub(super) fn url(
    setting: &'static str,
    value: &str,
    allow_http: bool,
) -> Result<String, ConfigError> {
    let v = value.trim();
    let Some((https, host)) = parse_url(v) else {
        return Err(err(
            setting,
            "must be an http:// or https:// URL with a plain host (no user@, no backslash)",
        ));
    };
    if !https && !allow_http && !is_loopback(&host) {
        return Err(err(
            setting,
            "must be an https:// URL (http:// only for loopback hosts)",
        ));
    }
    Ok(v.to_owned())
}

/// A JSON object of path-prefix rules (`JWTGATE_SCOPES`, `JWTGATE_PROVIDER_ROUTES`) as
/// (prefix without a trailing `/`, value), longest prefix first: each key a canonical prefix and
/// each value one `value` accepts (else `invalid`), no two prefixes equal ignoring ASCII case and
/// a trailing `/`.
pub(super) fn prefix_rules<T>(
    rules: serde_json::Map<String, Value>,
    setting: &'static str,
    invalid: &'static str,
    value: impl Fn(&Value) -> Option<T>,
) -> Result<Vec<(String, T)>, ConfigError> {
    let mut out: Vec<(String, T)> = Vec::new();
    for (prefix, v) in rules {
        let (Some(v), true) = (value(&v), canonical_prefix(&prefix)) else {
            return Err(err(setting, invalid));
        };
        let prefix = prefix.trim_end_matches('/').to_owned();
        if out.iter().any(|(p, _)| p.eq_ignore_ascii_case(&prefix)) {
            return Err(err(
                setting,
                "two rules for one path prefix (matching ignores case and a trailing /)",
            ));
        }
        out.push((prefix, v));
    }
    out.sort_by_key(|(prefix, _)| std::cmp::Reverse(prefix.len()));
    Ok(out)
}

/// An identity header name the operator chooses (`JWTGATE_CLAIM_HEADERS`, a tenant rule's
/// `header`), lower-cased: `x-jwtgate-` and letters, digits and `-`, and not one of the gate's
/// own (`x-jwtgate-sub`, `-claims`, `-expires-in`, `-provider`).
pub(super) fn identity_header_name(name: &str) -> Option<String> {
    let header = name.to_ascii_lowercase();
    let shaped = crate::gate::is_gate_header(&header)
        && header.len() > crate::gate::HEADER_PREFIX.len()
        && header
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-');
    let own = [
        "x-jwtgate-sub",
        "x-jwtgate-claims",
        "x-jwtgate-expires-in",
        "x-jwtgate-provider",
    ]
    .contains(&header.as_str());
    (shaped && !own).then_some(header)
}

/// Whether a name comes twice.
pub(super) fn repeats<'a>(mut names: impl Iterator<Item = &'a str>) -> bool {
    let mut seen = std::collections::BTreeSet::new();
    names.any(|n| !seen.insert(n))
}

/// `x-` headers that already mean something to proxies or frameworks: never a token header.
pub(super) const RESERVED_HEADERS: [&str; 6] = [
    "x-real-ip",
    "x-http-method-override",
    "x-http-method",
    "x-method-override",
    "x-csrf-token",
    "x-requested-with",
];

/// A `JWTGATE_TOKEN_HEADER` value as the lower-case header name, if it is one: Cloudflare
/// Access's `cf-access-jwt-assertion`, or an `x-` name (Google IAP's `x-goog-iap-jwt-assertion`,
/// an API's `x-api-token`) of at most 64 letters, digits and inner `-` that is not reserved
/// ([`RESERVED_HEADERS`], `x-forwarded-*`) nor one the gate strips from every request
/// ([`super::is_stripped_header`]). Standard headers (`Authorization`, `Cookie`, hop-by-hop
/// ones) never qualify.
pub(super) fn token_header_name(name: &str) -> Option<String> {
    let name = name.to_ascii_lowercase();
    if name == "cf-access-jwt-assertion" {
        return Some(name);
    }
    let shaped = (3..=64).contains(&name.len())
        && name.starts_with("x-")
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !name.ends_with('-')
        && !name.contains("--");
    let taken = RESERVED_HEADERS.contains(&name.as_str())
        || name.starts_with("x-forwarded-")
        || crate::gate::is_stripped_header(&name);
    (shaped && !taken).then_some(name)
}

/// A rule prefix must be in canonical form, or it could never match a canonical path.
pub(super) fn canonical_prefix(p: &str) -> bool {
    crate::gate::canonical_path(p).is_ok_and(|c| c == p)
}

pub(super) fn path_list(
    get: &impl Fn(&str) -> Option<String>,
    setting: &'static str,
) -> Result<Vec<String>, ConfigError> {
    let list: Vec<String> = match get(setting) {
        None => Vec::new(),
        Some(list) => list
            .split(',')
            .map(|p| p.trim().to_owned())
            .filter(|p| !p.is_empty())
            .collect(),
    };
    if list.iter().any(|p| !canonical_prefix(p)) {
        return Err(err(
            setting,
            "each prefix must be a canonical path starting with / (no escapes of letters or digits, no dot segments, no ;)",
        ));
    }
    Ok(list)
}
