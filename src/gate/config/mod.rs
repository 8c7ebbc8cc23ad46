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

mod modes;
mod providers;
mod values;

use modes::{authjs_secrets, dpop_mode, refresh_endpoint};
use providers::{jwks_settings, provider_routes, providers, session_cookie_name};
pub use values::claim_path;
use values::{
    boolean, int, json_object, path_list, prefix_matches, prefix_rules, repeats,
    starts_ignoring_case, token_header_name, url,
};

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

/// The gate's tests' way in: a configuration from `(name, value)` pairs, as the Worker's
/// environment would hold them (a name given twice: its last value).
#[cfg(test)]
pub(crate) fn from_pairs(pairs: &[(&str, &str)]) -> Result<GateConfig, ConfigError> {
    GateConfig::from_env(|name| {
        pairs
            .iter()
            .rev()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| (*v).to_owned())
    })
}

#[cfg(test)]
mod tests;
