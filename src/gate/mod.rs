//! The edge gate's logic, in plain Rust: configuration, routing, token extraction, the JWKS
//! refresh state machine, the verified-token cache and the RFC 6750 answers.
//!
//! The Cloudflare Worker (`src/worker.rs`, feature `worker`) is the I/O around this module: it
//! reads the request into a [`request::RequestView`], carries out the [`request::Plan`] (answer,
//! forward with the planned header edits, or verify: keys, WebCrypto, KV), and decides nothing
//! itself; every decision is made here and tested natively.

pub mod admin;
pub mod answer;
pub mod cache;
pub mod config;
pub mod flow;
pub mod jwks;
pub mod path;
pub mod request;
pub mod routes;
pub mod state;
pub mod tenants;
pub mod token;

pub use answer::Answer;
pub use cache::VerifiedCache;
pub use config::{ConfigError, GateConfig, Provider, ProviderId};
pub use jwks::{JwksAction, JwksState};
pub use path::{canonical_path, PathError};
pub use routes::{Route, Routes};
pub use token::{extract_token, forwarded_cookies, Ambiguous, Credential, Source};

use crate::verify::Verified;
use serde_json::{Map, Value};

/// What the gate knows of a request's verified credential, whatever its form (a signed token,
/// or an Auth.js session cookie it decrypted): the claims, and the payload exactly as received.
#[derive(Debug, Clone)]
pub struct Authenticated {
    /// The claims set.
    pub claims: Map<String, Value>,
    /// The payload as signed or encrypted (UTF-8 JSON text).
    pub payload_json: String,
}

impl From<Verified> for Authenticated {
    fn from(v: Verified) -> Self {
        Authenticated {
            claims: v.claims,
            payload_json: v.payload_json,
        }
    }
}

#[cfg(feature = "jwe-reader")]
impl From<crate::jwe::Opened> for Authenticated {
    fn from(o: crate::jwe::Opened) -> Self {
        Authenticated {
            claims: o.claims,
            payload_json: o.payload_json,
        }
    }
}

/// The log line the gate writes once per (re)load of a key set (`source`: `config` for the
/// configured keys, `jwks` for a fetched JWKS): each key's `kid`, bound algorithm, or why it is
/// inert. Never key material.
pub fn keys_loaded_log(source: &str, keys: &[crate::KeyInfo]) -> String {
    let keys: Vec<Value> = keys.iter().map(crate::KeyInfo::to_json).collect();
    serde_json::json!({"jwtgate": "keys_loaded", "source": source, "keys": keys}).to_string()
}

/// The prefix of every header the gate adds; client-sent headers with it are removed first.
pub const HEADER_PREFIX: &str = "x-jwtgate-";

/// Whether a request header must be stripped before forwarding: any name that normalises
/// (ASCII case, `_` read as `-`) to `x-jwtgate-*`. CGI-style servers (WSGI, Rack, PHP) expose both
/// `x-jwtgate-email` and `x_jwtgate_email` as `HTTP_X_JWTGATE_EMAIL`, so a client must not be
/// able to send either spelling.
pub fn is_gate_header(name: &str) -> bool {
    let n = name.as_bytes();
    n.len() >= HEADER_PREFIX.len()
        && n.iter()
            .zip(HEADER_PREFIX.as_bytes())
            .all(|(a, p)| a.to_ascii_lowercase() == *p || (*a == b'_' && *p == b'-'))
}

/// Headers some frameworks route on instead of the request line (IIS URL Rewrite, Symfony and
/// Zend's `X-Original-URL`/`X-Rewrite-URL`, proxies' `X-Forwarded-Uri`/`-Prefix`): a client that
/// sent one could have the upstream serve a path the gate never judged (`GET /health` with
/// `X-Original-URL: /admin`). Stripped on every forward, in any spelling.
pub const PATH_OVERRIDE_HEADERS: [&str; 7] = [
    "x-original-url",
    "x-original-uri",
    "x-rewrite-url",
    "x-override-url",
    "x-forwarded-uri",
    "x-forwarded-path",
    "x-forwarded-prefix",
];

/// Headers frameworks read the request's host from instead of `Host` (which, upstream, is
/// `UPSTREAM_URL`'s): Express's `trust proxy`, Rails, Django's `USE_X_FORWARDED_HOST`, Next.js
/// read `X-Forwarded-Host`; others `Forwarded: host=`, `X-Host`, `X-Original-Host`. A client
/// that sent one could have the upstream serve another host than the one the gate judged (a
/// tenant's subdomain, see [`tenants`]). Stripped on every forward, in any spelling; the gate
/// writes `X-Forwarded-Host` itself, with the host it read.
pub const HOST_OVERRIDE_HEADERS: [&str; 4] =
    ["x-forwarded-host", "forwarded", "x-host", "x-original-host"];

/// Whether a client-sent header is removed before any forward: the gate's own
/// ([`is_gate_header`]), the path overrides ([`PATH_OVERRIDE_HEADERS`]) and the host overrides
/// ([`HOST_OVERRIDE_HEADERS`]), names compared ignoring ASCII case with `_` read as `-`.
pub fn is_stripped_header(name: &str) -> bool {
    is_gate_header(name)
        || PATH_OVERRIDE_HEADERS
            .iter()
            .chain(&HOST_OVERRIDE_HEADERS)
            .any(|h| same_header(name, h))
}

/// Whether the header `name` is `expected` (lower-case, with `-`) as a CGI-style upstream reads
/// it: ASCII case ignored, `_` read as `-`.
pub fn same_header(name: &str, expected: &str) -> bool {
    name.len() == expected.len()
        && name
            .bytes()
            .zip(expected.bytes())
            .all(|(a, e)| a.to_ascii_lowercase() == e || (a == b'_' && e == b'-'))
}

/// The identity headers for a verified request, and the ones left out for their size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The headers to set.
    pub headers: Vec<(String, String)>,
    /// Headers left out because their value was longer than
    /// `JWTGATE_IDENTITY_HEADER_MAX_BYTES`: (name, value length). Logged, never their values.
    pub omitted: Vec<(String, usize)>,
}

/// The identity headers for a verified request: `x-jwtgate-sub` (a non-empty string `sub`),
/// `x-jwtgate-claims` (base64url of the payload exactly as signed, or as encrypted),
/// `x-jwtgate-expires-in` (whole seconds to `exp`, never negative), and the configured claim
/// path → header map (strings as they are, other JSON values as JSON text; absent claims, or a
/// path through a non-object, add no header). `x-jwtgate-sub`, `x-jwtgate-claims` and the claim
/// headers are bounded by `JWTGATE_IDENTITY_HEADER_MAX_BYTES` each and by twice that together,
/// in that order (one that does not fit is left out and listed in [`Identity::omitted`]; `0`
/// never sends `x-jwtgate-claims`): a large Auth.js session must not make the request head too
/// large for the upstream (Node answers 431 past 16 KB, nginx past an 8 KB line).
pub fn identity_headers(config: &GateConfig, verified: &Authenticated, now: i64) -> Identity {
    let claims = &verified.claims;
    let mut out = Identity {
        headers: Vec::with_capacity(3 + config.claim_headers.len()),
        omitted: Vec::new(),
    };
    let max = config.identity_header_cap();
    // Each header at most `max`, and all of them together at most twice that.
    let mut budget = 2 * max;
    let mut bounded = |name: &str, value: String, max: usize| {
        if value.len() > max.min(budget) {
            out.omitted.push((name.to_owned(), value.len()));
        } else {
            budget -= value.len();
            out.headers.push((name.to_owned(), value));
        }
    };
    // An empty `sub` (Cloudflare Access service tokens) names no subject: no header.
    if let Some(sub) = claims
        .get("sub")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
    {
        bounded("x-jwtgate-sub", header_safe(sub), max);
    }
    if config.identity_header_max > 0 {
        let encoded = crate::b64::encode(verified.payload_json.as_bytes());
        bounded("x-jwtgate-claims", encoded, max);
    }
    for (path, header) in &config.claim_headers {
        let value = match path.get(claims) {
            None => continue,
            Some(Value::String(s)) => header_safe(s),
            Some(other) => header_safe(&other.to_string()),
        };
        bounded(header, value, max);
    }
    let expires_in = claims
        .get("exp")
        .and_then(Value::as_f64)
        .map_or(0, |exp| ((exp - now as f64).floor().max(0.0)) as i64);
    out.headers
        .push(("x-jwtgate-expires-in".to_owned(), expires_in.to_string()));
    out
}

/// The log line for identity headers left out for their size (names and lengths, never values).
pub fn omitted_log(
    omitted: &[(String, usize)],
    max: usize,
    path: &str,
    ray: Option<&str>,
) -> String {
    let headers: Vec<Value> = omitted
        .iter()
        .map(|(name, bytes)| serde_json::json!({"header": name, "bytes": bytes}))
        .collect();
    let path: String = path.chars().take(256).collect();
    serde_json::json!({
        "jwtgate": "identity_header_omitted",
        "headers": headers,
        "max": max,
        "path": path,
        "ray": ray,
    })
    .to_string()
}

/// Header values must be visible ASCII: anything else is percent-encoded, so a claim can never
/// inject a header line or be mangled by the runtime. Leading and trailing spaces are encoded
/// too: HTTP strips them from header values, and `"admin "` must not arrive as `admin`.
pub(crate) fn header_safe(s: &str) -> String {
    let bytes = s.as_bytes();
    let lead = bytes.iter().take_while(|b| **b == b' ').count();
    let trail = bytes.len() - bytes.iter().rev().take_while(|b| **b == b' ').count();
    let mut out = String::with_capacity(s.len());
    for (i, &b) in bytes.iter().enumerate() {
        let edge_space = b == b' ' && (i < lead || i >= trail);
        if (0x20..0x7f).contains(&b) && b != b'%' && !edge_space {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The space-separated `scope` claim contains every required scope.
pub fn has_scopes(verified: &Authenticated, required: &[String]) -> bool {
    let granted = verified
        .claims
        .get("scope")
        .and_then(Value::as_str)
        .unwrap_or("");
    required.iter().all(|r| granted.split(' ').any(|g| g == r))
}

/// One structured JSON log line for a rejection. Never contains the token: `kid` and `iss` are
/// read without verification, cut to 128 characters, and labelled as such.
pub fn rejection_log(reason: &str, token: Option<&str>, path: &str, ray: Option<&str>) -> String {
    let (kid, iss) = token
        .map(crate::jws::peek_unverified)
        .unwrap_or((None, None));
    let path: String = path.chars().take(256).collect();
    serde_json::json!({
        "jwtgate": "rejected",
        "reason": reason,
        "kid": kid,
        "iss": iss,
        "path": path,
        "ray": ray,
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gate_headers_are_recognised_case_insensitively() {
        assert!(is_gate_header("x-jwtgate-sub"));
        assert!(is_gate_header("X-JwtGate-Claims"));
        assert!(!is_gate_header("x-jwtgat"));
        assert!(!is_gate_header("authorization"));
        assert!(!is_gate_header("é-jwtgate-sub"));
        // Underscore spellings reach CGI-style servers as the same variable.
        assert!(is_gate_header("x_jwtgate_email"));
        assert!(is_gate_header("X_JWTGATE-sub"));
        assert!(is_gate_header("x-jwtgate_claims"));
        assert!(!is_gate_header("x-jwtgatesub"));
        for h in [
            "x-jwtgate-sub",
            "X-Original-URL",
            "x_original_url",
            "X-Rewrite-Url",
            "x-forwarded-prefix",
            "X_FORWARDED_URI",
        ] {
            assert!(is_stripped_header(h), "{h}");
        }
        for h in [
            "x-original-urls",
            "x-forwarded-for",
            "x-forwarded-proto",
            "cookie",
        ] {
            assert!(!is_stripped_header(h), "{h}");
        }
    }

    #[test]
    fn header_values_are_safe() {
        assert_eq!(header_safe("alice@example.com"), "alice@example.com");
        assert_eq!(header_safe("a\r\nx-evil: 1"), "a%0D%0Ax-evil: 1");
        assert_eq!(header_safe("é%"), "%C3%A9%25");
        assert_eq!(header_safe("admin "), "admin%20");
        assert_eq!(header_safe("  a b  "), "%20%20a b%20%20");
        assert_eq!(header_safe("   "), "%20%20%20");
        assert_eq!(header_safe("\tadmin"), "%09admin");
    }
}
