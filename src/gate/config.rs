//! The gate's settings, read from the Worker's environment (vars and secrets), all validated
//! up front. Any missing or invalid setting makes the gate answer every request with
//! 500 `{"error":"misconfigured"}` and log one line naming the setting: a request is never
//! passed through on a configuration error.
//!
//! The settings (name, kind, default, meaning) are tabled once, in `docs/gate.md` (checked against
//! [`SETTINGS`] by `tests/docs.rs`); this module is their one parser, and its tests name every
//! refusal.
//!
//! At least one key source is required: policy `keys`, `JWTGATE_KEYS`, `JWTGATE_JWKS_URL`, or
//! `JWTGATE_AUTHJS_SECRET` (Auth.js's own encrypted session cookies, see [`crate::jwe`]).
//! Any other variable named `JWTGATE_*` (or a known name in another case) is a configuration
//! error: a misspelt setting never falls back to its default.

use crate::json;
use crate::jwk::KeySet;
use crate::policy::Policy;
use serde_json::Value;
use std::fmt;

/// Default cookie name: Auth.js v5's session cookie on HTTPS.
pub const DEFAULT_COOKIES: &str = "__Secure-authjs.session-token";
/// The default `JWTGATE_IDENTITY_HEADER_MAX_BYTES`: nginx's default header-line buffer is 8 KB
/// and Node's whole request head 16 KB, so one identity header stays well under both.
pub const DEFAULT_IDENTITY_HEADER_MAX_BYTES: usize = 4096;

/// Default cookie names with `JWTGATE_PLAIN_HTTP` (Auth.js on plain HTTP drops the prefix).
pub const DEFAULT_COOKIES_PLAIN_HTTP: &str = "__Secure-authjs.session-token,authjs.session-token";

/// The value the Worker passes for `JWTGATE_REVOKED` when it is bound to a KV namespace; any
/// other value (a plain variable, another kind of binding) is a configuration error.
pub const KV_BINDING: &str = "\u{0}kv-namespace";

/// The value the Worker passes for `JWTGATE_STATE` when it is bound to a Durable Object
/// namespace (the gate's own class, `JwtgateState`); any other value is a configuration error.
pub const DO_BINDING: &str = "\u{0}durable-object-namespace";

/// Whether, and how, the gate takes DPoP-bound tokens (`JWTGATE_DPOP`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DpopMode {
    /// `Authorization: DPoP` is accepted beside `Bearer` (bound tokens need their proof; unbound
    /// tokens may still come as bearer tokens).
    Allowed,
    /// Only `Authorization: DPoP`: every bearer token, token header and session cookie is
    /// refused.
    Required,
}

/// Every setting the gate reads: the one list (the Worker reads exactly these, once per
/// isolate, and refuses any other `JWTGATE_*` name).
pub const SETTINGS: [&str; 28] = [
    "JWTGATE_POLICY",
    "JWTGATE_KEYS",
    "JWTGATE_AUTHJS_SECRET",
    "JWTGATE_JWKS_URL",
    "JWTGATE_PROVIDERS",
    "JWTGATE_PROVIDER_ROUTES",
    "UPSTREAM_URL",
    "JWTGATE_COOKIES",
    "JWTGATE_TOKEN_HEADER",
    "JWTGATE_PLAIN_HTTP",
    "JWTGATE_PUBLIC_PATHS",
    "JWTGATE_PREFLIGHT_PATHS",
    "JWTGATE_SCOPES",
    "JWTGATE_LOGIN_URL",
    "JWTGATE_FORWARD_AUTHORIZATION",
    "JWTGATE_CLAIM_HEADERS",
    "JWTGATE_IDENTITY_HEADER_MAX_BYTES",
    "JWTGATE_JWKS_CACHE_SECONDS",
    "JWTGATE_JWKS_STALE_SECONDS",
    "JWTGATE_JWKS_COOLDOWN_SECONDS",
    "JWTGATE_JWKS_TIMEOUT_MS",
    "JWTGATE_REVOCATION_FAIL_OPEN",
    "JWTGATE_CACHE_SIZE",
    "JWTGATE_REVOKED",
    "JWTGATE_DPOP",
    "JWTGATE_STATE",
    "JWTGATE_REFRESH_PATH",
    "JWTGATE_DPOP_NONCE_SECRET",
];

/// Refuses an environment name that looks like a gate setting but is not one: any other
/// `JWTGATE_*` (in any case), or a known setting spelt in another case.
pub fn check_setting_names<'a>(
    names: impl IntoIterator<Item = &'a str>,
) -> Result<(), ConfigError> {
    for name in names {
        if SETTINGS.contains(&name) {
            continue;
        }
        let upper = name.to_ascii_uppercase();
        if upper.starts_with("JWTGATE") || SETTINGS.contains(&upper.as_str()) {
            let shown: String = name.chars().take(64).collect();
            return Err(err(
                "JWTGATE_*",
                format!(
                    "unknown setting {shown:?} (misspelt? settings are listed in docs/gate.md)"
                ),
            ));
        }
    }
    Ok(())
}

/// A setting that is missing or invalid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The setting's name, e.g. `UPSTREAM_URL`.
    pub setting: &'static str,
    /// What is wrong (never the setting's value: it may be a secret).
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.setting, self.message)
    }
}

impl std::error::Error for ConfigError {}

fn err(setting: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError {
        setting,
        message: message.into(),
    }
}

/// `JWTGATE_DPOP` and `JWTGATE_STATE`, checked against the policies and the other credentials:
/// DPoP needs the replay store and a policy `dpop` member; a policy `dpop` member needs
/// `JWTGATE_DPOP`; `required` needs every provider's policy to have one and no other credential
/// source (cookies, token headers) configured; the store bound without DPoP is refused.
fn dpop_mode(
    get: &impl Fn(&str) -> Option<String>,
    policy: &Policy,
    providers: &[Provider],
    cookies: &[String],
    token_headers: &[(String, usize)],
    other_store_users: usize,
) -> Result<Option<DpopMode>, ConfigError> {
    let mode = match get("JWTGATE_DPOP").as_deref().map(str::trim) {
        None => None,
        Some("allowed") => Some(DpopMode::Allowed),
        Some("required") => Some(DpopMode::Required),
        Some(_) => return Err(err("JWTGATE_DPOP", "must be \"allowed\" or \"required\"")),
    };
    let store = match get("JWTGATE_STATE") {
        None => false,
        Some(v) if v == DO_BINDING => true,
        Some(_) => {
            return Err(err(
                "JWTGATE_STATE",
                "must be a Durable Object namespace binding of class JwtgateState ([[durable_objects.bindings]] in wrangler.toml), not a variable",
            ))
        }
    };
    let policies: Vec<&Policy> = std::iter::once(policy)
        .chain(providers.iter().map(|p| &p.policy))
        .collect();
    let with_rules = policies.iter().filter(|p| p.dpop().is_some()).count();
    match mode {
        None if with_rules > 0 => Err(err(
            "JWTGATE_DPOP",
            "a policy has a dpop member but JWTGATE_DPOP is not set (\"allowed\" or \"required\")",
        )),
        None if store && other_store_users == 0 => Err(err(
            "JWTGATE_STATE",
            "is bound but neither JWTGATE_DPOP nor JWTGATE_REFRESH_PATH is set: nothing would use it",
        )),
        None => Ok(None),
        Some(_) if !store => Err(err(
            "JWTGATE_DPOP",
            "needs the JWTGATE_STATE Durable Object binding: the replay store every isolate shares",
        )),
        Some(_) if with_rules == 0 => Err(err(
            "JWTGATE_DPOP",
            "no policy has a dpop member ({\"algorithms\": [...]}): no proof could pass",
        )),
        Some(DpopMode::Required) if with_rules < policies.len() => Err(err(
            "JWTGATE_DPOP",
            "is required, so every provider's policy needs a dpop member",
        )),
        Some(DpopMode::Required) if !cookies.is_empty() || !token_headers.is_empty() => Err(err(
            "JWTGATE_DPOP",
            "is required, which refuses every session cookie and token header: set JWTGATE_COOKIES = \"none\" and no token header",
        )),
        Some(m) => Ok(Some(m)),
    }
}

/// `JWTGATE_REFRESH_PATH`: the refresh endpoint, for a default policy with a `refresh` member
/// (which then requires it: without the endpoint the gate could not see a family revoked). It
/// needs the family store (`JWTGATE_STATE`) and a signing key (`JWTGATE_KEYS`), a canonical
/// path, and no public path over it.
fn refresh_endpoint(
    get: &impl Fn(&str) -> Option<String>,
    policy: &Policy,
    plain_http: bool,
    public_paths: &[String],
) -> Result<Option<RefreshEndpoint>, ConfigError> {
    const SETTING: &str = "JWTGATE_REFRESH_PATH";
    let path = match (get(SETTING), policy.refresh()) {
        (None, None) => return Ok(None),
        (None, Some(_)) => {
            return Err(err(
                SETTING,
                "required with a policy refresh member: the gate rotates the refresh tokens and must see a family revoked",
            ))
        }
        (Some(_), None) => {
            return Err(err(
                SETTING,
                "is set but JWTGATE_POLICY has no refresh member ({\"audience\": ...})",
            ))
        }
        (Some(p), Some(_)) => p.trim().to_owned(),
    };
    if super::canonical_path(&path).ok().as_deref() != Some(path.as_str()) || path == "/" {
        return Err(err(
            SETTING,
            "must be a canonical path such as /.jwtgate/refresh",
        ));
    }
    if public_paths.iter().any(|p| path.starts_with(p.as_str())) {
        return Err(err(SETTING, "lies under a JWTGATE_PUBLIC_PATHS prefix"));
    }
    if get("JWTGATE_STATE").as_deref() != Some(DO_BINDING) {
        return Err(err(
            SETTING,
            "needs the JWTGATE_STATE Durable Object binding: the family store",
        ));
    }
    let refresher = crate::refresh::Refresher::new(policy).map_err(|e| {
        err(
            SETTING,
            format!(
                "the policy cannot issue tokens here (a private key belongs in JWTGATE_KEYS): {e}"
            ),
        )
    })?;
    Ok(Some(RefreshEndpoint {
        path,
        cookie: if plain_http {
            REFRESH_COOKIE_PLAIN_HTTP
        } else {
            REFRESH_COOKIE
        },
        refresher,
        plain_http,
    }))
}

/// Remote JWKS settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwksSettings {
    /// The JWKS URL.
    pub url: String,
    /// Seconds a fetched set is fresh.
    pub cache_seconds: i64,
    /// Seconds past freshness the last good set is still served while refetches fail.
    pub stale_seconds: i64,
    /// Least seconds between refetches (unknown `kid`, or after a failure).
    pub cooldown_seconds: i64,
    /// Fetch timeout in milliseconds.
    pub timeout_ms: u32,
}

/// One more token issuer the gate accepts (`JWTGATE_PROVIDERS`), beside the default provider
/// (`JWTGATE_POLICY` with `JWTGATE_KEYS`, `JWTGATE_JWKS_URL`, `JWTGATE_AUTHJS_SECRET`). Signed
/// tokens only, public keys only; its JWKS has its own cache, stale bound and cooldown state.
#[derive(Debug, Clone)]
pub struct Provider {
    /// Its name in `JWTGATE_PROVIDER_ROUTES` and in `x-jwtgate-provider`.
    pub name: String,
    /// Its policy, with its configured (public) keys.
    pub policy: Policy,
    /// Its remote JWKS, if any.
    pub jwks: Option<JwksSettings>,
    /// Its own token header (`tokenHeader`): a token there is this provider's, whatever its `iss`.
    pub token_header: Option<String>,
    /// Its own session cookies (`cookies`): a token there is this provider's.
    pub cookies: Vec<String>,
}

/// The name of the default provider (index 0) in routes and headers.
pub const DEFAULT_PROVIDER: &str = "default";

/// What a request path needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route<'a> {
    /// Passed through without a token (public prefix).
    Public,
    /// A CORS preflight: forwarded (without body or credentials) or answered by the gate.
    Preflight {
        /// Whether a `JWTGATE_PREFLIGHT_PATHS` prefix covers it.
        forward: bool,
    },
    /// A valid token is required, with these scopes (possibly none).
    Protected(&'a [String]),
}

/// The validated gate configuration.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct GateConfig {
    /// The policy, with the keys of the policy and of `JWTGATE_KEYS` (remote keys are added
    /// per refresh).
    pub policy: Policy,
    /// Remote JWKS settings, if `JWTGATE_JWKS_URL` is set.
    pub jwks: Option<JwksSettings>,
    /// Further providers (`JWTGATE_PROVIDERS`): provider `i + 1` (the default provider, 0, is
    /// `policy` with `jwks` and `authjs`).
    pub providers: Vec<Provider>,
    /// `JWTGATE_PROVIDER_ROUTES`: (path prefix, accepted provider indexes), longest first.
    /// A path no rule covers accepts the default provider only.
    pub provider_routes: Vec<(String, Vec<usize>)>,
    /// The upstream origin, without a trailing slash.
    pub upstream: String,
    /// Cookie names searched for a token, in order: `JWTGATE_COOKIES`, then each provider's.
    pub cookies: Vec<String>,
    /// The provider each of `cookies` belongs to (0: `JWTGATE_COOKIES`, whose tokens' `iss`
    /// picks the provider).
    pub cookie_providers: Vec<usize>,
    /// Request headers whose whole value is the token, read after `Authorization: Bearer` and
    /// before the cookies, in order (lower-case names): `JWTGATE_TOKEN_HEADER` (provider 0: the
    /// token's `iss` picks), then each provider's own `tokenHeader` (that provider's).
    pub token_headers: Vec<(String, usize)>,
    /// Path prefixes passed through without a token.
    pub public_paths: Vec<String>,
    /// Path prefixes where CORS preflights are forwarded.
    pub preflight_paths: Vec<String>,
    /// Scope rules: (path prefix, required scopes), longest prefix first.
    pub scopes: Vec<(String, Vec<String>)>,
    /// Where browser navigations without a token are sent.
    pub login_url: Option<String>,
    /// Auth.js session-cookie readers, one per entry of `cookies` (same order), when
    /// `JWTGATE_AUTHJS_SECRET` is set: cookie credentials are then Auth.js's JWE, opened with
    /// the reader of the cookie's name (the key's salt); bearer tokens stay JWS. Empty otherwise.
    #[cfg(feature = "jwe-reader")]
    pub authjs: Vec<crate::jwe::AuthJsCookie>,
    /// Whether `Authorization` is forwarded upstream.
    pub forward_authorization: bool,
    /// Claim → header map.
    pub claim_headers: Vec<(Vec<String>, String)>,
    /// The longest value of `x-jwtgate-claims` and of each claim header
    /// (`JWTGATE_IDENTITY_HEADER_MAX_BYTES`, default 4096): a longer one is left out, with a
    /// log line, rather than making the request too large for the upstream. `0` never sends
    /// `x-jwtgate-claims` (claim headers are then capped at the default).
    pub identity_header_max: usize,
    /// Whether cookies the gate clears are set without `Secure` (`JWTGATE_PLAIN_HTTP`).
    pub plain_http: bool,
    /// Whether a revocation list (`JWTGATE_REVOKED`, a KV namespace) is bound.
    pub revocation_list: bool,
    /// Whether a failed revocation-list lookup is skipped (the others still apply).
    pub revocation_fail_open: bool,
    /// Verified-token cache size.
    pub cache_size: usize,
    /// DPoP (`JWTGATE_DPOP`), with its replay store bound (`JWTGATE_STATE`).
    pub dpop: Option<DpopMode>,
    /// Refresh-token rotation at `JWTGATE_REFRESH_PATH` (the default provider's policy
    /// `refresh`), with its family store bound (`JWTGATE_STATE`).
    pub refresh: Option<RefreshEndpoint>,
    /// Server-issued DPoP nonces (`JWTGATE_DPOP_NONCE_SECRET`): every proof must carry one.
    pub dpop_nonces: Option<crate::dpop::Nonces>,
}

/// The gate's refresh endpoint ([`crate::refresh`]).
#[derive(Debug, Clone)]
pub struct RefreshEndpoint {
    /// Its canonical path (`JWTGATE_REFRESH_PATH`).
    pub path: String,
    /// The refresh cookie's name: `__Host-jwtgate-refresh` (`jwtgate-refresh` with
    /// `JWTGATE_PLAIN_HTTP`).
    pub cookie: &'static str,
    /// Verifies refresh tokens and signs the next ones and the access tokens.
    pub refresher: crate::refresh::Refresher,
    /// Whether cookies are set without `Secure` (`JWTGATE_PLAIN_HTTP`).
    pub plain_http: bool,
}

/// The refresh cookie's name on HTTPS: host-only, path `/`, `Secure` (the `__Host-` prefix makes
/// browsers refuse it otherwise).
pub const REFRESH_COOKIE: &str = "__Host-jwtgate-refresh";
/// The refresh cookie's name with `JWTGATE_PLAIN_HTTP` (no `Secure`, so no prefix).
pub const REFRESH_COOKIE_PLAIN_HTTP: &str = "jwtgate-refresh";

fn int(
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

fn boolean(
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

fn json_object(
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
fn parse_url(v: &str) -> Option<(bool, String)> {
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
fn is_loopback(host: &str) -> bool {
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
fn url(setting: &'static str, value: &str, allow_http: bool) -> Result<String, ConfigError> {
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

impl GateConfig {
    /// Reads and validates every setting. `get(name)` returns a var's or secret's value; an
    /// empty or blank value counts as unset.
    pub fn from_env(get: impl Fn(&str) -> Option<String>) -> Result<GateConfig, ConfigError> {
        let get = |name: &str| get(name).filter(|v| !v.trim().is_empty());

        let policy_text = get("JWTGATE_POLICY").ok_or_else(|| err("JWTGATE_POLICY", "required"))?;
        let policy_value = json::parse(policy_text.as_bytes())
            .map_err(|_| err("JWTGATE_POLICY", "not strict JSON"))?;
        let policy = Policy::from_value_keys_optional(&policy_value)
            .map_err(|e| err("JWTGATE_POLICY", e.to_string()))?;
        if policy.keys().has_private_material() {
            return Err(err(
                "JWTGATE_POLICY",
                "keys with private material (d, or an oct secret) belong in the JWTGATE_KEYS secret",
            ));
        }
        let policy = match get("JWTGATE_KEYS") {
            None => policy,
            Some(text) => {
                let jwks = json::parse(text.as_bytes())
                    .map_err(|_| err("JWTGATE_KEYS", "not strict JSON"))?;
                let keys = KeySet::from_jwks(&jwks, policy.algorithms())
                    .map_err(|e| err("JWTGATE_KEYS", e.to_string()))?;
                policy
                    .with_keys(&keys)
                    .map_err(|e| err("JWTGATE_KEYS", e.to_string()))?
            }
        };

        let jwks = match get("JWTGATE_JWKS_URL") {
            None => None,
            Some(u) => Some(jwks_settings(&get, url("JWTGATE_JWKS_URL", &u, false)?)?),
        };
        let authjs_secrets = authjs_secrets(get("JWTGATE_AUTHJS_SECRET"))?;
        if jwks.is_none() && policy.keys().verifying_count() == 0 && authjs_secrets.is_none() {
            return Err(err(
                "JWTGATE_KEYS",
                "no verification key: set JWTGATE_KEYS, JWTGATE_JWKS_URL, policy keys or JWTGATE_AUTHJS_SECRET",
            ));
        }

        let upstream = get("UPSTREAM_URL").ok_or_else(|| err("UPSTREAM_URL", "required"))?;
        let upstream = url("UPSTREAM_URL", &upstream, true)?
            .trim_end_matches('/')
            .to_owned();

        let plain_http = boolean(&get, "JWTGATE_PLAIN_HTTP", false)?;
        let default_cookies = if plain_http {
            DEFAULT_COOKIES_PLAIN_HTTP
        } else {
            DEFAULT_COOKIES
        };
        // `none`: no session cookies at all (tokens come only as Bearer or in the token header).
        let cookie_list = get("JWTGATE_COOKIES").unwrap_or_else(|| default_cookies.to_owned());
        let cookie_list = if cookie_list.trim() == "none" {
            ""
        } else {
            cookie_list.as_str()
        };
        let cookies: Vec<String> = cookie_list
            .split(',')
            .map(|c| c.trim().to_owned())
            .filter(|c| !c.is_empty())
            .collect();
        if cookies.iter().any(|c| !crate::cookie::is_cookie_name(c)) {
            return Err(err("JWTGATE_COOKIES", "cookie names must be plain tokens"));
        }
        // A cookie without the `__Secure-`/`__Host-` prefix can be planted over plain HTTP (or by
        // a sibling subdomain): only accepted when the operator says the site is plain HTTP.
        if cookies.iter().any(|c| !session_cookie_name(c, plain_http)) {
            return Err(err(
                "JWTGATE_COOKIES",
                "cookie names need the __Secure- or __Host- prefix (set JWTGATE_PLAIN_HTTP=true for local plain-HTTP development)",
            ));
        }

        if authjs_secrets.is_some() && cookies.is_empty() {
            return Err(err(
                "JWTGATE_AUTHJS_SECRET",
                "is set but JWTGATE_COOKIES names no cookie to open",
            ));
        }
        #[cfg(feature = "jwe-reader")]
        let authjs = match &authjs_secrets {
            None => Vec::new(),
            Some(secrets) => cookies
                .iter()
                .map(|name| crate::jwe::AuthJsCookie::new(secrets, name, &policy))
                .collect::<crate::Result<Vec<_>>>()
                .map_err(|e| err("JWTGATE_AUTHJS_SECRET", e.to_string()))?,
        };
        #[cfg(not(feature = "jwe-reader"))]
        if authjs_secrets.is_some() {
            return Err(err(
                "JWTGATE_AUTHJS_SECRET",
                "this build has no Auth.js cookie support (the crate's jwe feature)",
            ));
        }

        let token_header = match get("JWTGATE_TOKEN_HEADER") {
            None => None,
            Some(name) => Some(token_header_name(&name).ok_or_else(|| {
                err(
                    "JWTGATE_TOKEN_HEADER",
                    "must be Cf-Access-Jwt-Assertion or one x- header name of letters, digits and inner '-' (x-goog-iap-jwt-assertion, x-api-token), not one with another meaning (x-forwarded-*, x-real-ip, method overrides) nor one the gate strips (x-jwtgate-*, path overrides)",
                )
            })?),
        };
        if token_header.is_some() && jwks.is_none() && policy.keys().verifying_count() == 0 {
            return Err(err(
                "JWTGATE_TOKEN_HEADER",
                "is set but no JWS key source is (JWTGATE_AUTHJS_SECRET opens cookies only): every header token would be refused",
            ));
        }

        let providers = providers(&get, &policy, plain_http)?;
        let provider_routes = provider_routes(&get, &providers)?;
        // Every credential source names one provider, and no name is two sources.
        let mut token_headers: Vec<(String, usize)> =
            token_header.into_iter().map(|h| (h, 0)).collect();
        let mut cookie_providers = vec![0; cookies.len()];
        let mut cookies = cookies;
        for (i, p) in providers.iter().enumerate() {
            token_headers.extend(p.token_header.iter().map(|h| (h.clone(), i + 1)));
            cookies.extend(p.cookies.iter().cloned());
            cookie_providers.resize(cookies.len(), i + 1);
        }
        if repeats(token_headers.iter().map(|(h, _)| h.as_str())) {
            return Err(err(
                "JWTGATE_PROVIDERS",
                "two providers read one token header",
            ));
        }
        if repeats(cookies.iter().map(String::as_str)) {
            return Err(err(
                "JWTGATE_PROVIDERS",
                "two providers (or JWTGATE_COOKIES and a provider) read one cookie",
            ));
        }

        let public_paths = path_list(&get, "JWTGATE_PUBLIC_PATHS")?;
        let preflight_paths = path_list(&get, "JWTGATE_PREFLIGHT_PATHS")?;

        // A scope rule is a plain prefix: `/admin` (or `/admin/`) also covers `/admin.json` and
        // `/administrator`, which frameworks may route to the same handler (format suffixes):
        // over-protecting is the fail-closed side.
        let scopes = match json_object(&get, "JWTGATE_SCOPES")? {
            None => Vec::new(),
            Some(rules) => prefix_rules(
                rules,
                "JWTGATE_SCOPES",
                "must map canonical path prefixes (starting with /, no escapes of letters or digits, no dot segments) to space-separated scopes",
                |required| {
                    let list: Vec<String> = required
                        .as_str()?
                        .split(' ')
                        .filter(|s| !s.is_empty())
                        .map(str::to_owned)
                        .collect();
                    (!list.is_empty()).then_some(list)
                },
            )?,
        };

        let login_url = match get("JWTGATE_LOGIN_URL") {
            None => None,
            // A relative login URL: one leading `/`, and no `\` (browsers read `/\` as `//`,
            // another host) nor control bytes or spaces (it goes into a Location header).
            Some(u)
                if u.starts_with('/')
                    && !u.starts_with("//")
                    && !u.bytes().any(|b| b <= b' ' || b == 0x7f || b == b'\\') =>
            {
                Some(u)
            }
            Some(u) => Some(url("JWTGATE_LOGIN_URL", &u, true)?),
        };

        let mut claim_headers = Vec::new();
        if let Some(map) = json_object(&get, "JWTGATE_CLAIM_HEADERS")? {
            for (claim, header) in map {
                let header = header.as_str().unwrap_or("").to_ascii_lowercase();
                let valid = super::is_gate_header(&header)
                    && header.len() > super::HEADER_PREFIX.len()
                    && header
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-');
                let Some(path) = claim_path(&claim).filter(|_| valid) else {
                    return Err(err(
                        "JWTGATE_CLAIM_HEADERS",
                        "must map claim paths (name, org.id, [\"https://ns.example/roles\"]) to header names starting with x-jwtgate-",
                    ));
                };
                if [
                    "x-jwtgate-sub",
                    "x-jwtgate-claims",
                    "x-jwtgate-expires-in",
                    "x-jwtgate-provider",
                ]
                .contains(&header.as_str())
                {
                    return Err(err(
                        "JWTGATE_CLAIM_HEADERS",
                        "x-jwtgate-sub, -claims, -expires-in and -provider are the gate's own headers",
                    ));
                }
                if claim_headers.iter().any(|(_, h)| *h == header) {
                    return Err(err("JWTGATE_CLAIM_HEADERS", "two claims map to one header"));
                }
                claim_headers.push((path, header));
            }
        }

        let revocation_list = match get("JWTGATE_REVOKED") {
            None => false,
            Some(v) if v == KV_BINDING => true,
            Some(_) => {
                return Err(err(
                    "JWTGATE_REVOKED",
                    "must be a KV namespace binding ([[kv_namespaces]] in wrangler.toml), not a variable",
                ))
            }
        };
        let revocation_fail_open = boolean(&get, "JWTGATE_REVOCATION_FAIL_OPEN", false)?;
        if revocation_fail_open && !revocation_list {
            return Err(err(
                "JWTGATE_REVOCATION_FAIL_OPEN",
                "is set but there is no JWTGATE_REVOKED binding to fail open from",
            ));
        }

        if providers.iter().any(|p| p.policy.refresh().is_some()) {
            return Err(err(
                "JWTGATE_PROVIDERS",
                "a provider's policy has a refresh member: the gate rotates refresh tokens for the default provider only",
            ));
        }
        let refresh = refresh_endpoint(&get, &policy, plain_http, &public_paths)?;
        if let Some(r) = &refresh {
            // A session cookie name that the refresh cookie's name starts with (or the other
            // way round) would read the one as the other's chunk: every request ambiguous.
            let clash = cookies.iter().any(|c| {
                let (c, r) = (
                    super::token::cookie_base(c),
                    super::token::cookie_base(r.cookie),
                );
                r.starts_with(c.as_str()) || c.starts_with(r.as_str())
            });
            if clash {
                return Err(err(
                    "JWTGATE_COOKIES",
                    "a session cookie name overlaps the refresh cookie's (__Host-jwtgate-refresh / jwtgate-refresh)",
                ));
            }
        }
        let store_users = usize::from(refresh.is_some());
        let dpop = dpop_mode(
            &get,
            &policy,
            &providers,
            &cookies,
            &token_headers,
            store_users,
        )?;
        let dpop_nonces = match (get("JWTGATE_DPOP_NONCE_SECRET"), dpop) {
            (None, _) => None,
            (Some(_), None) => {
                return Err(err(
                    "JWTGATE_DPOP_NONCE_SECRET",
                    "is set but JWTGATE_DPOP is not: no proof would ever carry a nonce",
                ))
            }
            (Some(secret), Some(_)) => Some(
                crate::dpop::Nonces::new(secret.as_bytes())
                    .map_err(|_| err("JWTGATE_DPOP_NONCE_SECRET", "needs at least 32 bytes"))?,
            ),
        };
        if dpop == Some(DpopMode::Required) && refresh.is_some() {
            return Err(err(
                "JWTGATE_DPOP",
                "is required, but the refresh endpoint issues bearer access tokens: every one would be refused",
            ));
        }

        Ok(GateConfig {
            policy,
            jwks,
            providers,
            provider_routes,
            upstream,
            cookies,
            cookie_providers,
            token_headers,
            public_paths,
            preflight_paths,
            scopes,
            login_url,
            #[cfg(feature = "jwe-reader")]
            authjs,
            forward_authorization: boolean(&get, "JWTGATE_FORWARD_AUTHORIZATION", true)?,
            claim_headers,
            identity_header_max: int(
                &get,
                "JWTGATE_IDENTITY_HEADER_MAX_BYTES",
                DEFAULT_IDENTITY_HEADER_MAX_BYTES as i64,
                (0, 65_536),
            )? as usize,
            plain_http,
            revocation_list,
            revocation_fail_open,
            cache_size: int(&get, "JWTGATE_CACHE_SIZE", 1024, (0, 100_000))? as usize,
            dpop,
            refresh,
            dpop_nonces,
        })
    }

    /// The longest identity header value sent: `JWTGATE_IDENTITY_HEADER_MAX_BYTES`, or its
    /// default where it is `0` (which only turns `x-jwtgate-claims` off).
    pub fn identity_header_cap(&self) -> usize {
        match self.identity_header_max {
            0 => DEFAULT_IDENTITY_HEADER_MAX_BYTES,
            n => n,
        }
    }

    /// The DPoP rules for provider `p`'s tokens, when the gate takes DPoP and its policy has a
    /// `dpop` member.
    pub fn dpop_rules(&self, p: usize) -> Option<&crate::dpop::DpopRules> {
        self.dpop?;
        self.provider(p).and_then(|(policy, _)| policy.dpop())
    }

    /// Provider `i`'s policy and JWKS settings (0: the default provider).
    pub fn provider(&self, i: usize) -> Option<(&Policy, Option<&JwksSettings>)> {
        match i {
            0 => Some((&self.policy, self.jwks.as_ref())),
            _ => self
                .providers
                .get(i - 1)
                .map(|p| (&p.policy, p.jwks.as_ref())),
        }
    }

    /// Provider `i`'s name (`default` for 0).
    pub fn provider_name(&self, i: usize) -> &str {
        match i {
            0 => DEFAULT_PROVIDER,
            _ => self.providers.get(i - 1).map_or("", |p| p.name.as_str()),
        }
    }

    /// The provider whose policy lists `iss` among its issuers (at most one: config checks).
    pub fn provider_for_issuer(&self, iss: &str) -> Option<usize> {
        (0..=self.providers.len()).find(|&i| {
            self.provider(i)
                .is_some_and(|(p, _)| p.rules().issuers().iter().any(|x| x == iss))
        })
    }

    /// The providers whose tokens `path` (canonical) accepts: the longest matching
    /// `JWTGATE_PROVIDER_ROUTES` rule's, else the default provider only.
    ///
    /// Both readings of a rule must agree before a provider is admitted: the longest rule that is
    /// a plain prefix of the path (ignoring ASCII case: `/admin` covers `/ADMIN` and
    /// `/admin.json`, which upstreams may route alike) and the longest that covers it in whole
    /// segments (`/admin` covers `/Admin/x`, not `/administrator`). A provider is accepted only
    /// if both lists hold it, so a rule neither lets the default provider through where it was
    /// restricted nor admits its providers on a path nobody named (`/staff` does not admit its
    /// providers on `/staffing`, and there no provider is accepted at all).
    pub fn accepted_providers(&self, path: &str) -> Vec<usize> {
        let longest = |covers: &dyn Fn(&str) -> bool| -> &[usize] {
            self.provider_routes
                .iter()
                .find(|(p, _)| covers(p))
                .map_or(&[0], |(_, list)| list.as_slice())
        };
        let head = |p: &str| starts_ignoring_case(path, p);
        let plain = longest(&|p| head(p));
        let segments =
            longest(&|p| head(p) && matches!(path.as_bytes().get(p.len()), None | Some(b'/')));
        plain
            .iter()
            .copied()
            .filter(|i| segments.contains(i))
            .collect()
    }

    /// The largest `maxTokenBytes` of any provider: the size every token is held to before
    /// anything else is done with it (its provider's own bound applies once it is chosen).
    pub fn max_token_bytes(&self) -> usize {
        self.providers
            .iter()
            .map(|p| p.policy.max_token_bytes())
            .fold(self.policy.max_token_bytes(), usize::max)
    }

    /// Whether bearer (JWS) tokens can be verified at all: a JWKS URL or a verifying key. A gate
    /// that has only `JWTGATE_AUTHJS_SECRET` refuses every bearer token (`key_not_found`).
    pub fn verifies_jws(&self) -> bool {
        self.jwks.is_some() || self.policy.keys().verifying_count() > 0
    }

    /// What a request needs, for its canonical path ([`super::canonical_path`]).
    ///
    /// A CORS preflight (`OPTIONS` with `Origin` and `Access-Control-Request-Method`) is
    /// [`Route::Preflight`]: forwarded under a `JWTGATE_PREFLIGHT_PATHS` prefix, answered by the
    /// gate elsewhere. Paths under a public prefix pass; everything else needs a token, with the
    /// scopes of the longest matching scope rule. Both fail closed: public and preflight
    /// prefixes match whole segments, case-sensitively (`/public` covers `/public` and
    /// `/public/x`, not `/publicity` nor `/PUBLIC`; a prefix ending in `/` covers what follows);
    /// scope rules are plain prefixes ignoring ASCII case (`/admin` covers `/Admin`,
    /// `/admin.json` and `/administrator`, for upstreams that route case-insensitively or
    /// strip format suffixes).
    pub fn route(&self, method: &str, path: &str, preflight: bool) -> Route<'_> {
        if method.eq_ignore_ascii_case("OPTIONS") && preflight {
            let forward = self.preflight_paths.iter().any(|p| prefix_matches(p, path));
            return Route::Preflight { forward };
        }
        if self.public_paths.iter().any(|p| prefix_matches(p, path)) {
            return Route::Public;
        }
        match self
            .scopes
            .iter()
            .find(|(p, _)| starts_ignoring_case(path, p))
        {
            Some((_, required)) => Route::Protected(required),
            None => Route::Protected(&[]),
        }
    }
}

/// A JWKS URL's settings: the timing ones (`JWTGATE_JWKS_*`) are the gate's, shared by every
/// provider; each provider's set keeps its own state under them.
fn jwks_settings(
    get: &impl Fn(&str) -> Option<String>,
    url: String,
) -> Result<JwksSettings, ConfigError> {
    Ok(JwksSettings {
        url,
        cache_seconds: int(get, "JWTGATE_JWKS_CACHE_SECONDS", 600, (10, 86_400))?,
        stale_seconds: int(get, "JWTGATE_JWKS_STALE_SECONDS", 3600, (0, 604_800))?,
        cooldown_seconds: int(get, "JWTGATE_JWKS_COOLDOWN_SECONDS", 30, (1, 3600))?,
        timeout_ms: int(get, "JWTGATE_JWKS_TIMEOUT_MS", 5000, (100, 30_000))? as u32,
    })
}

/// A JSON object of path-prefix rules (`JWTGATE_SCOPES`, `JWTGATE_PROVIDER_ROUTES`) as
/// (prefix without a trailing `/`, value), longest prefix first: each key a canonical prefix and
/// each value one `value` accepts (else `invalid`), no two prefixes equal ignoring ASCII case and
/// a trailing `/`.
fn prefix_rules<T>(
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

/// Whether the plain prefix `prefix` starts `path`, ignoring ASCII case (a scope or provider
/// rule's reading; see [`GateConfig::route`]).
fn starts_ignoring_case(path: &str, prefix: &str) -> bool {
    path.get(..prefix.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
}

/// Whether a name comes twice.
fn repeats<'a>(mut names: impl Iterator<Item = &'a str>) -> bool {
    let mut seen = std::collections::BTreeSet::new();
    names.any(|n| !seen.insert(n))
}

/// A provider's members in `JWTGATE_PROVIDERS`.
const PROVIDER_MEMBERS: [&str; 5] = ["name", "policy", "jwksUrl", "tokenHeader", "cookies"];

/// Whether `name` may be a session cookie's: a plain cookie name with the `__Secure-` or
/// `__Host-` prefix (any plain name with `JWTGATE_PLAIN_HTTP`).
fn session_cookie_name(name: &str, plain_http: bool) -> bool {
    crate::cookie::is_cookie_name(name)
        && (plain_http || name.starts_with("__Secure-") || name.starts_with("__Host-"))
}

/// `JWTGATE_PROVIDERS`: a JSON array of `{"name", "policy", "jwksUrl"?, "tokenHeader"?,
/// "cookies"?}` (no other member); a token read from a provider's own header or cookies is that
/// provider's, whatever its `iss`.
/// Names are 1–32 of `a-z`, `0-9`, `-`, unique and not `default`; each policy is validated as
/// `JWTGATE_POLICY` is (public keys only) and needs keys or a `jwksUrl`; no issuer may belong to
/// two providers (the default one included), so a token's `iss` picks at most one.
fn providers(
    get: &impl Fn(&str) -> Option<String>,
    default: &Policy,
    plain_http: bool,
) -> Result<Vec<Provider>, ConfigError> {
    const S: &str = "JWTGATE_PROVIDERS";
    let Some(text) = get(S) else {
        return Ok(Vec::new());
    };
    let Ok(Value::Array(list)) = json::parse(text.as_bytes()) else {
        return Err(err(S, "must be a strict JSON array of providers"));
    };
    if list.is_empty() || list.len() > 16 {
        return Err(err(S, "must list 1 to 16 providers"));
    }
    let mut out: Vec<Provider> = Vec::new();
    for entry in &list {
        let Value::Object(entry) = entry else {
            return Err(err(S, "each provider is an object"));
        };
        if let Some(other) = entry
            .keys()
            .find(|k| !PROVIDER_MEMBERS.contains(&k.as_str()))
        {
            let shown: String = other.chars().take(32).collect();
            return Err(err(
                S,
                format!(
                    "unknown provider member {shown:?} ({})",
                    PROVIDER_MEMBERS.join(", ")
                ),
            ));
        }
        let name = entry.get("name").and_then(Value::as_str).unwrap_or("");
        let named = (1..=32).contains(&name.len())
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !named || name == DEFAULT_PROVIDER || out.iter().any(|p| p.name == name) {
            return Err(err(
                S,
                "each provider needs a unique name of 1 to 32 a-z, 0-9, - (not \"default\")",
            ));
        }
        let at = |e: String| err(S, format!("provider {name:?}: {e}"));
        let policy = entry
            .get("policy")
            .ok_or_else(|| at("policy is required".into()))
            .and_then(|p| Policy::from_value_keys_optional(p).map_err(|e| at(e.to_string())))?;
        if policy.keys().has_private_material() {
            return Err(at(
                "keys with private material do not belong in a provider's policy".into(),
            ));
        }
        let jwks = match entry.get("jwksUrl") {
            None => None,
            Some(Value::String(u)) => Some(jwks_settings(get, url(S, u, false)?)?),
            Some(_) => return Err(at("jwksUrl must be a string".into())),
        };
        if jwks.is_none() && policy.keys().verifying_count() == 0 {
            return Err(at("needs policy keys or a jwksUrl".into()));
        }
        // Public keys only: an HMAC secret would sit in a var, or come from a published JWKS.
        if policy
            .algorithms()
            .iter()
            .any(|a| a.name().starts_with("HS"))
        {
            return Err(at(
                "HS* algorithms need a shared secret: a provider takes public keys only".into(),
            ));
        }
        let taken = std::iter::once(default)
            .chain(out.iter().map(|p| &p.policy))
            .any(|other| {
                other
                    .rules()
                    .issuers()
                    .iter()
                    .any(|i| policy.rules().issuers().contains(i))
            });
        if taken {
            return Err(at(
                "an issuer of this provider is another provider's too (iss must pick one)".into(),
            ));
        }
        let token_header = match entry.get("tokenHeader") {
            None => None,
            Some(h) => Some(h.as_str().and_then(token_header_name).ok_or_else(|| {
                at("tokenHeader must be a header name as JWTGATE_TOKEN_HEADER takes".into())
            })?),
        };
        let cookies: Vec<String> = match entry.get("cookies") {
            None => Vec::new(),
            Some(Value::Array(list)) => list
                .iter()
                .map(|c| c.as_str().map(str::to_owned))
                .collect::<Option<Vec<_>>>()
                .filter(|list| list.iter().all(|c| session_cookie_name(c, plain_http)))
                .ok_or_else(
                    || at("cookies must be cookie names as JWTGATE_COOKIES takes".into()),
                )?,
            Some(_) => return Err(at("cookies must be an array of cookie names".into())),
        };
        out.push(Provider {
            name: name.to_owned(),
            policy,
            jwks,
            token_header,
            cookies,
        });
    }
    Ok(out)
}

/// `JWTGATE_PROVIDER_ROUTES`: `{"/api": ["api", "default"]}`, path prefix → the providers whose
/// tokens it accepts (names from `JWTGATE_PROVIDERS`, or `default`). Prefixes match as
/// `JWTGATE_SCOPES`'s do (plain prefixes ignoring ASCII case and a trailing `/`: restricting
/// more paths is the fail-closed side), the longest first.
fn provider_routes(
    get: &impl Fn(&str) -> Option<String>,
    providers: &[Provider],
) -> Result<Vec<(String, Vec<usize>)>, ConfigError> {
    const S: &str = "JWTGATE_PROVIDER_ROUTES";
    let Some(rules) = json_object(get, S)? else {
        if providers.is_empty() {
            return Ok(Vec::new());
        }
        return Err(err(
            S,
            "is required with JWTGATE_PROVIDERS: it says which paths accept which provider",
        ));
    };
    if providers.is_empty() {
        return Err(err(S, "is set but JWTGATE_PROVIDERS is not"));
    }
    let index = |name: &str| {
        if name == DEFAULT_PROVIDER {
            return Some(0);
        }
        providers.iter().position(|p| p.name == name).map(|i| i + 1)
    };
    let out = prefix_rules(
        rules,
        S,
        "must map canonical path prefixes to non-empty arrays of provider names (from JWTGATE_PROVIDERS, or \"default\")",
        |names| match names {
            Value::Array(names) if !names.is_empty() => {
                names.iter().map(|n| n.as_str().and_then(index)).collect::<Option<Vec<usize>>>()
            }
            _ => None,
        },
    )?;
    // A provider no route names could verify nothing: a configuration mistake, not a pass.
    for (i, p) in providers.iter().enumerate() {
        if !out.iter().any(|(_, list)| list.contains(&(i + 1))) {
            return Err(err(
                S,
                format!(
                    "provider {:?} is on no route (its tokens would pass nowhere)",
                    p.name
                ),
            ));
        }
    }
    Ok(out)
}

/// `x-` headers that already mean something to proxies or frameworks: never a token header.
const RESERVED_HEADERS: [&str; 6] = [
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
fn token_header_name(name: &str) -> Option<String> {
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
        || super::is_stripped_header(&name);
    (shaped && !taken).then_some(name)
}

/// A `JWTGATE_CLAIM_HEADERS` key as the member names from the claims set down: `email`,
/// `org.id` (nested objects), and a member whose name has a `.` or `[` as a JSON string in
/// brackets, `["https://ns.example/roles"]` or `org["a.b"]`. `None` for an empty segment, an
/// unterminated or non-string bracket, or anything after a bracket but `.` or `[`.
pub fn claim_path(key: &str) -> Option<Vec<String>> {
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
            let name = match json::parse(after.get(..end)?.as_bytes()).ok()? {
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

/// `JWTGATE_AUTHJS_SECRET`: one secret (Auth.js's `AUTH_SECRET`, as it is), or a JSON array of
/// secrets for rotation (the current one and older ones: each cookie names its key).
fn authjs_secrets(value: Option<String>) -> Result<Option<Vec<String>>, ConfigError> {
    const SETTING: &str = "JWTGATE_AUTHJS_SECRET";
    let Some(text) = value else {
        return Ok(None);
    };
    if !text.trim_start().starts_with('[') {
        return Ok(Some(vec![text]));
    }
    let bad = || {
        err(
            SETTING,
            "must be a secret, or a strict JSON array of non-empty secret strings",
        )
    };
    match json::parse(text.as_bytes()).map_err(|_| bad())? {
        Value::Array(items) if !items.is_empty() => items
            .into_iter()
            .map(|v| match v {
                Value::String(s) if !s.trim().is_empty() => Ok(s),
                _ => Err(bad()),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        _ => Err(bad()),
    }
}

/// Whole-segment, case-sensitive prefix match (public and preflight paths).
fn prefix_matches(prefix: &str, path: &str) -> bool {
    match path.strip_prefix(prefix) {
        Some(rest) => prefix.ends_with('/') || rest.is_empty() || rest.starts_with('/'),
        None => false,
    }
}

/// A rule prefix must be in canonical form, or it could never match a canonical path.
fn canonical_prefix(p: &str) -> bool {
    super::canonical_path(p).is_ok_and(|c| c == p)
}

fn path_list(
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    const POLICY: &str =
        r#"{"issuer":"https://iss.example","audience":"app","algorithms":["HS256"]}"#;
    const KEYS: &str = r#"{"keys":[{"kty":"oct","kid":"k","k":"c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA"}]}"#;

    fn env(pairs: &[(&str, &str)]) -> Result<GateConfig, ConfigError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        GateConfig::from_env(move |k| map.get(k).cloned())
    }

    fn base() -> Vec<(&'static str, &'static str)> {
        vec![
            ("JWTGATE_POLICY", POLICY),
            ("JWTGATE_KEYS", KEYS),
            ("UPSTREAM_URL", "http://127.0.0.1:8788/"),
        ]
    }

    fn setting_of(extra: &[(&'static str, &'static str)]) -> &'static str {
        let mut pairs = base();
        for (k, v) in extra {
            pairs.retain(|(name, _)| name != k);
            pairs.push((k, v));
        }
        match env(&pairs) {
            Ok(_) => "ok",
            Err(e) => e.setting,
        }
    }

    #[test]
    fn defaults() {
        let c = env(&base()).unwrap();
        assert_eq!(c.upstream, "http://127.0.0.1:8788");
        assert_eq!(c.cookies, vec!["__Secure-authjs.session-token"]);
        assert!(c.forward_authorization);
        assert!(!c.revocation_fail_open);
        assert_eq!(c.cache_size, 1024);
        assert!(c.jwks.is_none());
    }

    const EC: &str = r#"{"keys":[{"kty":"EC","crv":"P-256","kid":"e1","x":"V0BV-YWLCkrr7REPDoKT86gPDv6Jo61ASTcB3k_mNJo","y":"X23-GU7KvQ6xULhdP4j6LcrcauUBC59kMn4otNE_IEA"}]}"#;

    fn providers_json(extra: &str) -> String {
        format!(
            r#"[{{"name":"api","policy":{{"issuer":"https://api.example","audience":"api","algorithms":["ES256"]}},"jwksUrl":"http://127.0.0.1:9/jwks"}},
               {{"name":"staff","policy":{{"issuer":["https://staff.example"],"audience":"staff","algorithms":["ES256"],"keys":{EC}}}}}{extra}]"#
        )
    }

    #[test]
    fn providers_each_with_their_issuers_keys_and_routes() {
        let p: &'static str = Box::leak(providers_json("").into_boxed_str());
        let routes =
            r#"{"/api": ["api", "default"], "/staff/": ["staff"], "/api/admin": ["staff"]}"#;
        let mut pairs = base();
        pairs.push(("JWTGATE_PROVIDERS", p));
        pairs.push(("JWTGATE_PROVIDER_ROUTES", routes));
        let c = env(&pairs).unwrap();
        assert_eq!(c.providers.len(), 2);
        assert_eq!(
            (c.provider_name(0), c.provider_name(1), c.provider_name(2)),
            ("default", "api", "staff")
        );
        assert_eq!(
            c.provider(1).unwrap().1.unwrap().url,
            "http://127.0.0.1:9/jwks"
        );
        assert!(c.provider(2).unwrap().1.is_none() && c.provider(3).is_none());
        assert_eq!(c.provider_for_issuer("https://iss.example"), Some(0));
        assert_eq!(c.provider_for_issuer("https://staff.example"), Some(2));
        assert_eq!(c.provider_for_issuer("https://staff.example/"), None);
        // Longest prefix first, ignoring case; elsewhere the default provider only.
        assert_eq!(c.accepted_providers("/api/orders"), vec![1, 0]);
        assert_eq!(c.accepted_providers("/API/Admin/x"), vec![2]);
        assert_eq!(c.accepted_providers("/staff"), vec![2]);
        assert_eq!(c.accepted_providers("/orders"), vec![0]);
        // Where a plain prefix and whole segments read a rule apart, no provider is accepted:
        // neither the route's (on a path nobody named) nor the default (where it was restricted).
        assert_eq!(c.accepted_providers("/apiary"), vec![0]);
        assert_eq!(c.accepted_providers("/api/admin.json"), Vec::<usize>::new());
        assert_eq!(c.accepted_providers("/staffing"), Vec::<usize>::new());
        // Without routes, providers would pass nowhere: a configuration error.
        let mut pairs = base();
        pairs.push(("JWTGATE_PROVIDERS", p));
        assert_eq!(env(&pairs).unwrap_err().setting, "JWTGATE_PROVIDER_ROUTES");
    }

    #[test]
    fn providers_may_name_their_own_token_header_and_cookies() {
        let p: &'static str = Box::leak(
            providers_json(r#",{"name":"access","policy":{"issuer":"https://acme.cloudflareaccess.com","audience":"tag","algorithms":["ES256"],"keys":EC_KEYS},"tokenHeader":"Cf-Access-Jwt-Assertion","cookies":["__Host-access"]}"#)
                .replace("EC_KEYS", EC)
                .into_boxed_str(),
        );
        let routes = (
            "JWTGATE_PROVIDER_ROUTES",
            r#"{"/a": ["api", "staff", "access"]}"#,
        );
        let mut pairs = base();
        pairs.push(("JWTGATE_PROVIDERS", p));
        pairs.push(("JWTGATE_TOKEN_HEADER", "x-api-token"));
        pairs.push(routes);
        let c = env(&pairs).unwrap();
        assert_eq!(
            c.token_headers,
            vec![
                ("x-api-token".to_owned(), 0),
                ("cf-access-jwt-assertion".to_owned(), 3)
            ]
        );
        assert_eq!(
            c.cookies,
            vec!["__Secure-authjs.session-token", "__Host-access"]
        );
        assert_eq!(c.cookie_providers, vec![0, 3]);
        // One source, one provider: a header or cookie two of them read is refused.
        let twice = p.replace("Cf-Access-Jwt-Assertion", "x-api-token");
        let twice: &'static str = Box::leak(twice.into_boxed_str());
        assert_eq!(
            setting_of(&[
                ("JWTGATE_PROVIDERS", twice),
                ("JWTGATE_TOKEN_HEADER", "X-Api-Token"),
                routes
            ]),
            "JWTGATE_PROVIDERS"
        );
        let shared = p.replace("__Host-access", "__Secure-authjs.session-token");
        let shared: &'static str = Box::leak(shared.into_boxed_str());
        assert_eq!(
            setting_of(&[("JWTGATE_PROVIDERS", shared), routes]),
            "JWTGATE_PROVIDERS"
        );
        // The same name rules as the gate's own settings.
        for (from, to) in [
            ("__Host-access", "CF_Authorization"),
            ("__Host-access", "__Host-a;b"),
            ("Cf-Access-Jwt-Assertion", "Authorization"),
        ] {
            let bad: &'static str = Box::leak(p.replace(from, to).into_boxed_str());
            assert_eq!(
                setting_of(&[("JWTGATE_PROVIDERS", bad)]),
                "JWTGATE_PROVIDERS",
                "{to}"
            );
        }
        // Unprefixed cookie names only on plain HTTP, as for JWTGATE_COOKIES.
        let plain: &'static str = Box::leak(
            p.replace("__Host-access", "CF_Authorization")
                .into_boxed_str(),
        );
        assert_eq!(
            setting_of(&[
                ("JWTGATE_PROVIDERS", plain),
                ("JWTGATE_PLAIN_HTTP", "true"),
                routes
            ]),
            "ok"
        );
    }

    #[test]
    fn provider_settings_that_are_refused() {
        let with =
            |extra: &str| -> &'static str { Box::leak(providers_json(extra).into_boxed_str()) };
        let cases: Vec<&'static str> = vec![
            "{}",
            "[]",
            "[1]",
            "not json",
            with(
                r#",{"name":"api","policy":{"issuer":"https://x.example","audience":"a","algorithms":["ES256"]},"jwksUrl":"https://x.example/j"}"#,
            ),
            with(
                r#",{"name":"default","policy":{"issuer":"https://x.example","audience":"a","algorithms":["ES256"]},"jwksUrl":"https://x.example/j"}"#,
            ),
            with(
                r#",{"name":"Bad_Name","policy":{"issuer":"https://x.example","audience":"a","algorithms":["ES256"]},"jwksUrl":"https://x.example/j"}"#,
            ),
            with(
                r#",{"name":"x","policy":{"issuer":"https://x.example","audience":"a","algorithms":["ES256"]},"jwks_url":"https://x.example/j"}"#,
            ),
            with(
                r#",{"name":"x","policy":{"issuer":"https://x.example","audience":"a","algorithms":["ES256"]}}"#,
            ),
            with(
                r#",{"name":"x","policy":{"issuer":"https://x.example","audience":"a","algorithms":["ES256"]},"jwksUrl":"http://jwks.example/j"}"#,
            ),
            with(
                r#",{"name":"x","policy":{"issuer":"https://iss.example","audience":"a","algorithms":["ES256"]},"jwksUrl":"https://x.example/j"}"#,
            ),
            with(
                r#",{"name":"x","policy":{"issuer":["https://y.example","https://api.example"],"audience":"a","algorithms":["ES256"]},"jwksUrl":"https://x.example/j"}"#,
            ),
            with(
                r#",{"name":"x","policy":{"issuer":"https://x.example","audience":"a","algorithms":["HS256"],"keys":{"keys":[{"kty":"oct","k":"c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA"}]}}}"#,
            ),
            with(
                r#",{"name":"x","policy":{"issuer":"https://x.example","algorithms":["ES256"]},"jwksUrl":"https://x.example/j"}"#,
            ),
            with(
                r#",{"name":"x","policy":{"issuer":"https://x.example","audience":"a","algorithms":["HS256","ES256"]},"jwksUrl":"https://x.example/j"}"#,
            ),
        ];
        for p in cases {
            assert_eq!(
                setting_of(&[("JWTGATE_PROVIDERS", p)]),
                "JWTGATE_PROVIDERS",
                "{p}"
            );
        }
        let p = with("");
        for routes in [
            r#"{"/api": []}"#,
            r#"{"/api": ["nobody"]}"#,
            r#"{"/api": "api"}"#,
            r#"{"api": ["api"]}"#,
            r#"{"/a/../b": ["api"]}"#,
            r#"{"/api": ["api"], "/API/": ["staff"]}"#,
        ] {
            assert_eq!(
                setting_of(&[
                    ("JWTGATE_PROVIDERS", p),
                    ("JWTGATE_PROVIDER_ROUTES", routes)
                ]),
                "JWTGATE_PROVIDER_ROUTES",
                "{routes}"
            );
        }
        // Every provider on some route.
        assert_eq!(
            setting_of(&[
                ("JWTGATE_PROVIDERS", p),
                ("JWTGATE_PROVIDER_ROUTES", r#"{"/api": ["api"]}"#)
            ]),
            "JWTGATE_PROVIDER_ROUTES"
        );
        // The gate's own identity headers are not claim headers.
        for h in ["x-jwtgate-provider", "X-Jwtgate-Sub", "x-jwtgate-claims"] {
            let map: &'static str = Box::leak(format!(r#"{{"email": "{h}"}}"#).into_boxed_str());
            assert_eq!(
                setting_of(&[("JWTGATE_CLAIM_HEADERS", map)]),
                "JWTGATE_CLAIM_HEADERS",
                "{h}"
            );
        }
        // Routes without providers name nothing.
        assert_eq!(
            setting_of(&[("JWTGATE_PROVIDER_ROUTES", r#"{"/api": ["default"]}"#)]),
            "JWTGATE_PROVIDER_ROUTES"
        );
    }

    #[test]
    fn cookies_none_reads_no_cookie() {
        let mut pairs = base();
        pairs.push(("JWTGATE_COOKIES", " none "));
        assert!(env(&pairs).unwrap().cookies.is_empty());
        // `none` is the whole value, not a name in a list.
        assert_eq!(
            setting_of(&[("JWTGATE_COOKIES", "__Secure-a,none")]),
            "JWTGATE_COOKIES"
        );
    }

    #[test]
    fn token_header_is_one_plain_header_name_with_no_other_meaning() {
        let c = env(&base()).unwrap();
        assert!(c.token_headers.is_empty());
        let mut pairs = base();
        pairs.push(("JWTGATE_TOKEN_HEADER", "Cf-Access-Jwt-Assertion"));
        let c = env(&pairs).unwrap();
        assert_eq!(
            c.token_headers,
            vec![("cf-access-jwt-assertion".to_owned(), 0)]
        );
        assert_eq!(setting_of(&[("JWTGATE_TOKEN_HEADER", "X-Api-Token")]), "ok");
        // Blank is unset, as for every setting: no token header.
        assert_eq!(setting_of(&[("JWTGATE_TOKEN_HEADER", " ")]), "ok");
        for bad in [
            "x-api token",
            "x_api_token",
            "-x",
            "x-",
            "x:y",
            "Authorization",
            "cookie",
            "HOST",
            "DPoP",
            "x-jwtgate-sub",
            "X_JWTGATE_SUB",
            "x-original-url",
            "cf-connecting-ip",
            "a,b",
            "api-token",
            "x-",
            "x-forwarded-host",
            "X-Real-IP",
            "x-http-method-override",
        ] {
            assert_eq!(
                setting_of(&[("JWTGATE_TOKEN_HEADER", bad)]),
                "JWTGATE_TOKEN_HEADER",
                "{bad:?}"
            );
        }
        #[cfg(feature = "jwe-reader")]
        {
            let mut pairs = base();
            pairs.retain(|(k, _)| *k != "JWTGATE_KEYS");
            pairs.push((
                "JWTGATE_AUTHJS_SECRET",
                "an-auth-secret-of-at-least-32-bytes!",
            ));
            pairs.push(("JWTGATE_TOKEN_HEADER", "x-api-token"));
            assert_eq!(env(&pairs).unwrap_err().setting, "JWTGATE_TOKEN_HEADER");
        }
        let long: &'static str = Box::leak(format!("x-{}", "a".repeat(63)).into_boxed_str());
        assert_eq!(
            setting_of(&[("JWTGATE_TOKEN_HEADER", long)]),
            "JWTGATE_TOKEN_HEADER"
        );
    }

    #[cfg(feature = "jwe-reader")]
    #[test]
    fn authjs_secret_is_a_key_source_with_a_reader_per_cookie() {
        const S: &str = "an-auth-secret-of-at-least-32-bytes!";
        let mut pairs = base();
        pairs.retain(|(k, _)| *k != "JWTGATE_KEYS");
        pairs.push(("JWTGATE_AUTHJS_SECRET", S));
        pairs.push(("JWTGATE_PLAIN_HTTP", "true"));
        let c = env(&pairs).unwrap();
        assert!(!c.verifies_jws());
        let names: Vec<&str> = c.authjs.iter().map(|r| r.cookie_name()).collect();
        assert_eq!(
            names,
            c.cookies.iter().map(String::as_str).collect::<Vec<_>>()
        );
        assert_eq!(names.len(), 2);
        // Without it, no reader: cookies are signed tokens.
        assert!(env(&base()).unwrap().authjs.is_empty());
        let rotated = format!(r#"["{S}","{S}-older"]"#);
        let array = setting_of(&[("JWTGATE_AUTHJS_SECRET", Box::leak(rotated.into_boxed_str()))]);
        assert_eq!(array, "ok");
        let spaces = format!("[{:?}]", " ".repeat(40));
        let spaces: &'static str = Box::leak(spaces.into_boxed_str());
        assert_eq!(
            setting_of(&[("JWTGATE_AUTHJS_SECRET", S), ("JWTGATE_COOKIES", ",")]),
            "JWTGATE_AUTHJS_SECRET"
        );
        assert_eq!(
            setting_of(&[("JWTGATE_COOKIES", "__Secure-a\"b")]),
            "JWTGATE_COOKIES"
        );
        for bad in [
            spaces,
            "tiny-secret-value",
            "[]",
            "[1]",
            r#"[""]"#,
            "[nope",
            r#"{"a":1}"#,
        ] {
            let e = env(&[base(), vec![("JWTGATE_AUTHJS_SECRET", bad)]].concat()).unwrap_err();
            assert_eq!(e.setting, "JWTGATE_AUTHJS_SECRET", "{bad}");
            assert!(!e.message.contains("tiny-secret"), "{}", e.message);
        }
    }

    #[test]
    fn claim_paths() {
        let p = |k: &str| claim_path(k);
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
    fn every_bad_setting_is_named() {
        assert_eq!(setting_of(&[("JWTGATE_POLICY", "")]), "JWTGATE_POLICY");
        assert_eq!(setting_of(&[("JWTGATE_POLICY", "{")]), "JWTGATE_POLICY");
        assert_eq!(
            setting_of(&[("JWTGATE_POLICY", r#"{"issuer":"x","algorithms":["HS256"]}"#)]),
            "JWTGATE_POLICY"
        );
        assert_eq!(setting_of(&[("JWTGATE_KEYS", "")]), "JWTGATE_KEYS");
        assert_eq!(
            setting_of(&[("JWTGATE_KEYS", r#"{"keys":[]}"#)]),
            "JWTGATE_KEYS"
        );
        assert_eq!(setting_of(&[("UPSTREAM_URL", "")]), "UPSTREAM_URL");
        assert_eq!(setting_of(&[("UPSTREAM_URL", "ftp://x")]), "UPSTREAM_URL");
        assert_eq!(
            setting_of(&[("UPSTREAM_URL", "https:///x")]),
            "UPSTREAM_URL"
        );
        assert_eq!(
            setting_of(&[("JWTGATE_JWKS_URL", "http://idp.example/jwks")]),
            "JWTGATE_JWKS_URL"
        );
        assert_eq!(
            setting_of(&[("JWTGATE_JWKS_URL", "https://idp.example/jwks")]),
            "ok"
        );
        assert_eq!(
            setting_of(&[("JWTGATE_JWKS_URL", "http://127.0.0.1:9/jwks")]),
            "ok"
        );
        // Loopback is parsed, not string-matched.
        for ok in [
            "http://localhost:8080/jwks",
            "http://[::1]:9/jwks",
            "http://127.1.2.3/jwks",
            "https://IDP.example:443/a?b#c",
        ] {
            assert_eq!(setting_of(&[("JWTGATE_JWKS_URL", ok)]), "ok", "{ok}");
        }
        for bad in [
            "http://127.evil.example/jwks",
            "http://evil.example\\@127.0.0.1/jwks",
            "http://evil.example@127.0.0.1/jwks",
            "https://user:pw@idp.example/jwks",
            "http://localhost.evil.example/",
            "http://127.0.0.1.evil.example/",
            "http://127.0.0.256/",
            "http://[::1]evil/",
            "https://idp..example/",
            "https://idp.example:99999/",
            "https://idp.example:/",
            "https://idp%2eexample/",
            "https:// idp.example/",
            "https://idp.example/\u{7f}",
            "https://",
        ] {
            assert_eq!(
                setting_of(&[("JWTGATE_JWKS_URL", bad)]),
                "JWTGATE_JWKS_URL",
                "{bad}"
            );
        }
        assert_eq!(
            setting_of(&[
                ("JWTGATE_JWKS_URL", "https://idp.example/jwks"),
                ("JWTGATE_JWKS_CACHE_SECONDS", "5")
            ]),
            "JWTGATE_JWKS_CACHE_SECONDS"
        );
        assert_eq!(
            setting_of(&[("JWTGATE_PUBLIC_PATHS", "health")]),
            "JWTGATE_PUBLIC_PATHS"
        );
        assert_eq!(
            setting_of(&[("JWTGATE_SCOPES", r#"{"/admin": ""}"#)]),
            "JWTGATE_SCOPES"
        );
        assert_eq!(setting_of(&[("JWTGATE_SCOPES", "[]")]), "JWTGATE_SCOPES");
        assert_eq!(
            setting_of(&[("JWTGATE_CLAIM_HEADERS", r#"{"email":"x-user"}"#)]),
            "JWTGATE_CLAIM_HEADERS"
        );
        assert_eq!(
            setting_of(&[("JWTGATE_CLAIM_HEADERS", r#"{"email":"x-jwtgate-email"}"#)]),
            "ok"
        );
        assert_eq!(
            setting_of(&[("JWTGATE_FORWARD_AUTHORIZATION", "yes")]),
            "JWTGATE_FORWARD_AUTHORIZATION"
        );
        assert_eq!(setting_of(&[("JWTGATE_COOKIES", "a=b")]), "JWTGATE_COOKIES");
        assert_eq!(
            setting_of(&[("JWTGATE_CACHE_SIZE", "-1")]),
            "JWTGATE_CACHE_SIZE"
        );
        assert_eq!(
            setting_of(&[("JWTGATE_LOGIN_URL", "//evil.example")]),
            "JWTGATE_LOGIN_URL"
        );
        for bad in ["/\\evil.example", "/login\\x", "/login\r\nx: y", "/log in"] {
            assert_eq!(
                setting_of(&[("JWTGATE_LOGIN_URL", bad)]),
                "JWTGATE_LOGIN_URL",
                "{bad:?}"
            );
        }
        assert_eq!(setting_of(&[("JWTGATE_LOGIN_URL", "/login?next=1")]), "ok");
        assert_eq!(setting_of(&[("JWTGATE_LOGIN_URL", "/login")]), "ok");
        // The revocation list must be a KV binding; failing open needs one.
        assert_eq!(setting_of(&[("JWTGATE_REVOKED", KV_BINDING)]), "ok");
        assert_eq!(
            setting_of(&[("JWTGATE_REVOKED", "my-namespace")]),
            "JWTGATE_REVOKED"
        );
        assert_eq!(
            setting_of(&[("JWTGATE_REVOCATION_FAIL_OPEN", "true")]),
            "JWTGATE_REVOCATION_FAIL_OPEN"
        );
        assert_eq!(
            setting_of(&[
                ("JWTGATE_REVOKED", KV_BINDING),
                ("JWTGATE_REVOCATION_FAIL_OPEN", "true")
            ]),
            "ok"
        );
        // Private material in the (visible) policy var is refused.
        assert_eq!(
            setting_of(&[(
                "JWTGATE_POLICY",
                r#"{"issuer":"x","audience":"y","algorithms":["HS256"],"keys":{"keys":[{"kty":"oct","k":"c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA"}]}}"#
            )]),
            "JWTGATE_POLICY"
        );
        // The error never echoes a secret value.
        let e = env(&[
            ("JWTGATE_POLICY", POLICY),
            (
                "JWTGATE_KEYS",
                "{\"keys\":[{\"kty\":\"oct\",\"k\":\"c2hvcnQ\"}]}",
            ),
            ("UPSTREAM_URL", "http://127.0.0.1"),
        ])
        .unwrap_err();
        assert!(!e.to_string().contains("c2hvcnQ"), "{e}");
    }

    #[test]
    fn routing() {
        let c = env(&[
            ("JWTGATE_POLICY", POLICY),
            ("JWTGATE_KEYS", KEYS),
            ("UPSTREAM_URL", "https://app.example"),
            ("JWTGATE_PUBLIC_PATHS", "/health, /public/,/login"),
            (
                "JWTGATE_SCOPES",
                r#"{"/admin":"admin","/admin/billing":"admin billing"}"#,
            ),
        ])
        .unwrap();
        assert_eq!(c.route("GET", "/health", false), Route::Public);
        assert_eq!(c.route("GET", "/health/deep", false), Route::Public);
        assert_eq!(c.route("GET", "/healthz", false), Route::Protected(&[]));
        assert_eq!(c.route("GET", "/public/x.css", false), Route::Public);
        assert_eq!(c.route("GET", "/public", false), Route::Protected(&[]));
        assert_eq!(
            c.route("OPTIONS", "/api", true),
            Route::Preflight { forward: false }
        );
        assert_eq!(c.route("OPTIONS", "/api", false), Route::Protected(&[]));
        // Case: public prefixes are exact, scope rules ignore ASCII case.
        assert_eq!(c.route("GET", "/HEALTH", false), Route::Protected(&[]));
        let admin = ["admin".to_owned()];
        let billing = ["admin".to_owned(), "billing".to_owned()];
        assert_eq!(
            c.route("GET", "/admin/users", false),
            Route::Protected(&admin)
        );
        assert_eq!(
            c.route("GET", "/admin/billing/1", false),
            Route::Protected(&billing)
        );
        // Scope rules are plain prefixes: format suffixes and longer names are covered too
        // (Rails' `(.:format)`, Spring's suffix matching route `/admin.json` to `/admin`).
        for covered in [
            "/admin",
            "/admin.json",
            "/Admin.JSON",
            "/administrator",
            "/admin/",
        ] {
            assert_eq!(
                c.route("GET", covered, false),
                Route::Protected(&admin),
                "{covered}"
            );
        }
        assert_eq!(
            c.route("GET", "/admin/billing.json", false),
            Route::Protected(&billing)
        );
        assert_eq!(c.route("GET", "/adm", false), Route::Protected(&[]));
        assert_eq!(
            c.route("GET", "/Admin/users", false),
            Route::Protected(&admin)
        );
        assert_eq!(
            c.route("GET", "/ADMIN/Billing/1", false),
            Route::Protected(&billing)
        );
    }

    #[test]
    fn scope_rules_drop_a_trailing_slash_and_refuse_twins() {
        let with = |rules: &str| {
            let mut pairs = base();
            pairs.push(("JWTGATE_SCOPES", rules));
            env(&pairs)
        };
        let c = with(r#"{"/admin/":"admin"}"#).unwrap();
        let admin = ["admin".to_owned()];
        assert_eq!(c.route("GET", "/admin", false), Route::Protected(&admin));
        assert_eq!(
            c.route("GET", "/admin.json", false),
            Route::Protected(&admin)
        );
        let e = with(r#"{"/admin":"a","/Admin/":"b"}"#).unwrap_err();
        assert_eq!(e.setting, "JWTGATE_SCOPES");
        // "/" covers everything.
        let c = with(r#"{"/":"user"}"#).unwrap();
        assert_eq!(
            c.route("GET", "/x", false),
            Route::Protected(&["user".to_owned()])
        );
    }

    #[test]
    fn preflights_cookies_and_unknown_names() {
        let mut pairs = base();
        pairs.push(("JWTGATE_PREFLIGHT_PATHS", "/api/public"));
        let c = env(&pairs).unwrap();
        assert_eq!(
            c.route("OPTIONS", "/api/public/x", true),
            Route::Preflight { forward: true }
        );
        assert_eq!(
            c.route("OPTIONS", "/api/private", true),
            Route::Preflight { forward: false }
        );
        // Rule prefixes must be canonical, or they could never match.
        for bad in ["/%61pi", "/a/../b", "/a;b", "//a", "a"] {
            assert_eq!(
                setting_of(&[("JWTGATE_PUBLIC_PATHS", bad)]),
                "JWTGATE_PUBLIC_PATHS",
                "{bad}"
            );
            assert_eq!(
                setting_of(&[("JWTGATE_PREFLIGHT_PATHS", bad)]),
                "JWTGATE_PREFLIGHT_PATHS"
            );
        }
        assert_eq!(
            setting_of(&[("JWTGATE_SCOPES", r#"{"/%61dmin":"admin"}"#)]),
            "JWTGATE_SCOPES"
        );
        // Unprefixed cookie names only on plain HTTP.
        assert_eq!(
            setting_of(&[("JWTGATE_COOKIES", "authjs.session-token")]),
            "JWTGATE_COOKIES"
        );
        assert_eq!(
            setting_of(&[
                ("JWTGATE_COOKIES", "authjs.session-token"),
                ("JWTGATE_PLAIN_HTTP", "true")
            ]),
            "ok"
        );
        let mut pairs = base();
        pairs.push(("JWTGATE_PLAIN_HTTP", "true"));
        assert_eq!(
            env(&pairs).unwrap().cookies,
            vec!["__Secure-authjs.session-token", "authjs.session-token"]
        );
        assert_eq!(
            setting_of(&[("JWTGATE_PLAIN_HTTP", "yes")]),
            "JWTGATE_PLAIN_HTTP"
        );
        // Misspelt or unknown settings.
        assert!(check_setting_names(SETTINGS).is_ok());
        assert!(check_setting_names(["UPSTREAM_URL", "OTHER_VAR", "AUTH_SECRET"]).is_ok());
        for bad in [
            "JWTGATE_PUBLIC_PATH",
            "JWTGATE_REVOCATION_FAILOPEN",
            "jwtgate_policy",
            "Upstream_Url",
        ] {
            let e = check_setting_names([bad]).unwrap_err();
            assert_eq!(e.setting, "JWTGATE_*");
            assert!(e.message.contains(bad), "{e}");
        }
    }

    #[test]
    fn dpop_needs_its_store_a_policy_member_and_for_required_no_other_credential() {
        const DPOP_POLICY: &str = r#"{"issuer":"https://iss.example","audience":"api","algorithms":["HS256"],"dpop":{"algorithms":["ES256"]}}"#;
        let with = |extra: &[(&'static str, &'static str)]| {
            let mut all = vec![("JWTGATE_POLICY", DPOP_POLICY)];
            all.extend_from_slice(extra);
            setting_of(&all)
        };
        let state = ("JWTGATE_STATE", DO_BINDING);
        assert_eq!(with(&[("JWTGATE_DPOP", "allowed"), state]), "ok");
        assert_eq!(
            with(&[
                ("JWTGATE_DPOP", "required"),
                state,
                ("JWTGATE_COOKIES", "none")
            ]),
            "ok"
        );
        for bad in [
            vec![("JWTGATE_DPOP", "allowed")],
            vec![("JWTGATE_DPOP", "true"), state],
            vec![("JWTGATE_DPOP", "Allowed"), state],
            vec![state],
            vec![],
            vec![("JWTGATE_DPOP", "required"), state],
            vec![
                ("JWTGATE_DPOP", "required"),
                state,
                ("JWTGATE_COOKIES", "none"),
                ("JWTGATE_TOKEN_HEADER", "x-api-token"),
            ],
        ] {
            assert_eq!(with(&bad), "JWTGATE_DPOP", "{bad:?}");
        }
        assert_eq!(setting_of(&[state]), "JWTGATE_STATE", "store without DPoP");
        assert_eq!(
            with(&[("JWTGATE_DPOP", "allowed"), ("JWTGATE_STATE", "my-ns")]),
            "JWTGATE_STATE"
        );
        // No policy with dpop: nothing could pass.
        assert_eq!(
            setting_of(&[("JWTGATE_DPOP", "allowed"), state]),
            "JWTGATE_DPOP"
        );
        // HMAC proof algorithms are the policy's error.
        assert_eq!(
            setting_of(&[(
                "JWTGATE_POLICY",
                r#"{"issuer":"https://iss.example","audience":"api","algorithms":["HS256"],"dpop":{"algorithms":["HS256"]}}"#
            )]),
            "JWTGATE_POLICY"
        );
    }

    #[test]
    fn refresh_settings_that_would_break_every_request_are_refused() {
        const REFRESH_POLICY: &str = r#"{"issuer":"https://iss.example","audience":"api","algorithms":["HS256"],"maxAgeSeconds":3600,"refresh":{"audience":"r"},"dpop":{"algorithms":["ES256"]}}"#;
        let with = |extra: &[(&'static str, &'static str)]| {
            let mut all = vec![
                ("JWTGATE_POLICY", REFRESH_POLICY),
                ("JWTGATE_REFRESH_PATH", "/.jwtgate/refresh"),
                ("JWTGATE_STATE", DO_BINDING),
                ("JWTGATE_DPOP", "allowed"),
            ];
            all.extend_from_slice(extra);
            setting_of(&all)
        };
        assert_eq!(with(&[]), "ok");
        assert_eq!(
            with(&[("JWTGATE_COOKIES", "__Host-jwtgate")]),
            "JWTGATE_COOKIES"
        );
        assert_eq!(
            with(&[("JWTGATE_COOKIES", "__Host-jwtgate-refresh.x")]),
            "JWTGATE_COOKIES"
        );
        assert_eq!(
            with(&[("JWTGATE_DPOP", "required"), ("JWTGATE_COOKIES", "none")]),
            "JWTGATE_DPOP"
        );
        assert_eq!(
            with(&[("JWTGATE_REFRESH_PATH", "/")]),
            "JWTGATE_REFRESH_PATH"
        );
    }
}
