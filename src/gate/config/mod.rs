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

use super::routes::{Routes, Rule};

mod modes;
mod providers;
mod tenants;
mod values;

use modes::{authjs_secrets, dpop_mode, published_jwks, refresh_endpoint, session_settings};
use providers::{default_keys, default_provider, provider_routes, providers};
use tenants::tenant_rules;
use values::{
    boolean, identity_header_name, int, json_object, path_list, prefix_rules, repeats,
    token_header_name, url,
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
pub const SETTINGS: [&str; 34] = [
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
    "JWTGATE_TENANTS",
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
    "JWTGATE_JWKS_PATH",
    "JWTGATE_MAX_SESSIONS",
    "JWTGATE_SESSION_CAP",
    "JWTGATE_ADMIN_PATH",
    "JWTGATE_ADMIN_TOKEN",
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

/// A provider's place in [`GateConfig::providers`]: the default provider is
/// [`ProviderId::DEFAULT`], the `JWTGATE_PROVIDERS` entries follow in order. Only the
/// configuration makes them, so each names a provider that exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ProviderId(u8);

impl ProviderId {
    /// The default provider (`JWTGATE_POLICY` with its key settings).
    pub const DEFAULT: ProviderId = ProviderId(0);

    /// Its index in [`GateConfig::providers`] (and in any per-provider state kept beside it).
    pub const fn index(self) -> usize {
        self.0 as usize
    }

    /// The provider at `i` (tests name providers by their place).
    #[cfg(test)]
    pub(crate) const fn at(i: u8) -> ProviderId {
        ProviderId(i)
    }
}

/// A session cookie a provider reads its tokens from.
#[derive(Debug, Clone)]
pub struct SessionCookie {
    /// The cookie's name (chunks `name.0`, `name.1` … are read as one).
    pub name: String,
    /// Its Auth.js reader, when `JWTGATE_AUTHJS_SECRET` makes the default provider's cookies
    /// Auth.js's JWE (the key's salt is the cookie's name); `None`: a signed token.
    #[cfg(feature = "jwe-reader")]
    pub reader: Option<crate::jwe::AuthJsCookie>,
}

impl SessionCookie {
    /// Whether the cookie holds Auth.js's encrypted session (opened, not verified as a JWS).
    pub fn is_authjs(&self) -> bool {
        #[cfg(feature = "jwe-reader")]
        return self.reader.is_some();
        #[cfg(not(feature = "jwe-reader"))]
        false
    }
}

/// A token issuer the gate accepts, with everything that is its own: its policy and keys, its
/// remote JWKS, where its tokens come from and how they are read; its DPoP rules are its
/// policy's ([`GateConfig::dpop_rules`]).
///
/// The default provider is built from the single-provider settings (`JWTGATE_POLICY`,
/// `JWTGATE_KEYS`, `JWTGATE_JWKS_URL`, `JWTGATE_AUTHJS_SECRET`, `JWTGATE_COOKIES`,
/// `JWTGATE_TOKEN_HEADER`); each `JWTGATE_PROVIDERS` entry is one more (signed tokens only, public
/// keys only), its JWKS with its own cache, stale bound and cooldown state.
#[derive(Debug, Clone)]
pub struct Provider {
    /// Its place in [`GateConfig::providers`].
    pub id: ProviderId,
    /// Its name in `JWTGATE_PROVIDER_ROUTES` and in `x-jwtgate-provider` (`default` for the
    /// default provider).
    pub name: String,
    /// Its policy, with its configured keys.
    pub policy: Policy,
    /// Its remote JWKS, if any.
    pub jwks: Option<JwksSettings>,
    /// Whether a token from its own header or cookies is its, whatever its `iss` says. The
    /// default provider's sources are the gate's (`JWTGATE_TOKEN_HEADER`, `JWTGATE_COOKIES`):
    /// there a token's `iss` picks among the providers, except in an Auth.js cookie, which only
    /// the default provider opens.
    pub pins_sources: bool,
    /// Its token header (lower case): the header's whole value is the token.
    pub token_header: Option<String>,
    /// Its session cookies, in the order they are searched.
    pub cookies: Vec<SessionCookie>,
}

impl Provider {
    /// Whether it can verify a signed token at all: a JWKS URL or a verifying key (a default
    /// provider with only `JWTGATE_AUTHJS_SECRET` refuses every bearer token, `key_not_found`).
    pub fn verifies_jws(&self) -> bool {
        self.jwks.is_some() || self.policy.keys().verifying_count() > 0
    }
}

/// The name of the default provider in routes and headers.
pub const DEFAULT_PROVIDER: &str = "default";

/// The validated gate configuration.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct GateConfig {
    /// Every provider ([`GateConfig::providers`]): never empty, the default one first.
    providers: Vec<Provider>,
    /// The path rules: `JWTGATE_PUBLIC_PATHS`, `JWTGATE_PREFLIGHT_PATHS`, `JWTGATE_SCOPES` and
    /// `JWTGATE_PROVIDER_ROUTES` in one table.
    pub routes: Routes,
    /// The upstream origin, without a trailing slash.
    pub upstream: String,
    /// Where browser navigations without a token are sent.
    pub login_url: Option<String>,
    /// Whether `Authorization` is forwarded upstream.
    pub forward_authorization: bool,
    /// Claim → header map.
    pub claim_headers: Vec<(crate::claims::ClaimPath, String)>,
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
    /// The gate's own JWKS, served at `JWTGATE_JWKS_PATH` when it signs tokens.
    pub published_jwks: Option<PublishedJwks>,
    /// The sessions registry (per subject, in the gate's Durable Object), when a session cap
    /// or the admin endpoint is configured.
    pub sessions: Option<SessionSettings>,
}

/// The sessions registry's settings: the per-subject cap and the admin endpoint.
#[derive(Debug, Clone)]
pub struct SessionSettings {
    /// `JWTGATE_MAX_SESSIONS` with `JWTGATE_SESSION_CAP`.
    pub cap: Option<crate::sessions::Cap>,
    /// `JWTGATE_ADMIN_PATH` with `JWTGATE_ADMIN_TOKEN`.
    pub admin: Option<AdminEndpoint>,
}

/// The admin endpoint: its canonical path prefix and the SHA-256 of its bearer secret.
#[derive(Clone)]
pub struct AdminEndpoint {
    /// `JWTGATE_ADMIN_PATH`.
    pub path: String,
    digest: [u8; 32],
}

impl fmt::Debug for AdminEndpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AdminEndpoint")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl AdminEndpoint {
    /// Whether `authorization` is `Bearer <the admin secret>` (compared as SHA-256 digests in
    /// constant time; any other credential, a user's token included, is not).
    pub fn authorized(&self, authorization: Option<&str>) -> bool {
        use sha2::Digest;
        let Some(token) = super::token::bearer_token(authorization) else {
            return false;
        };
        let presented: [u8; 32] = sha2::Sha256::digest(token.as_bytes()).into();
        presented
            .iter()
            .zip(&self.digest)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
    }
}

/// The JWKS the gate serves for the services behind it: the public halves of the keys it signs
/// access and refresh tokens with (and of the keys kept beside them), built once.
#[derive(Debug, Clone)]
pub struct PublishedJwks {
    /// Its canonical path (`JWTGATE_JWKS_PATH`, default `/.well-known/jwks.json`).
    pub path: String,
    /// The JWKS text.
    pub body: String,
    /// `Cache-Control: max-age` (`JWTGATE_JWKS_CACHE_SECONDS`, default 600).
    pub max_age: i64,
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

        let keys = default_keys(&get)?;
        let upstream = get("UPSTREAM_URL").ok_or_else(|| err("UPSTREAM_URL", "required"))?;
        let upstream = url("UPSTREAM_URL", &upstream, true)?
            .trim_end_matches('/')
            .to_owned();
        let plain_http = boolean(&get, "JWTGATE_PLAIN_HTTP", false)?;
        let default = default_provider(&get, keys, plain_http)?;
        let providers = providers(&get, default, plain_http)?;
        let mut rules = provider_routes(&get, &providers)?;
        // Every credential source names one provider, and no name is two sources.
        let headers = providers.iter().filter_map(|p| p.token_header.as_deref());
        if repeats(headers) {
            return Err(err(
                "JWTGATE_PROVIDERS",
                "two providers read one token header",
            ));
        }
        let cookies = providers.iter().flat_map(|p| &p.cookies);
        if repeats(cookies.map(|c| c.name.as_str())) {
            return Err(err(
                "JWTGATE_PROVIDERS",
                "two providers (or JWTGATE_COOKIES and a provider) read one cookie",
            ));
        }

        let public_paths = path_list(&get, "JWTGATE_PUBLIC_PATHS")?;
        rules.extend(public_paths.into_iter().map(|p| (p, Rule::Public)));
        let preflight_paths = path_list(&get, "JWTGATE_PREFLIGHT_PATHS")?;
        rules.extend(preflight_paths.into_iter().map(|p| (p, Rule::Preflight)));

        // A scope rule is a plain prefix: `/admin` (or `/admin/`) also covers `/admin.json` and
        // `/administrator`, which frameworks may route to the same handler (format suffixes):
        // over-protecting is the fail-closed side.
        let scopes = match json_object(&get, "JWTGATE_SCOPES")? {
            None => Vec::new(),
            Some(scope_rules) => prefix_rules(
                scope_rules,
                "JWTGATE_SCOPES",
                "must map canonical path prefixes (starting with /, no escapes of letters or digits, no dot segments) to space-separated scopes",
                |required| {
                    let list: Vec<String> = required
                        .as_str()?
                        .split(' ')
                        .filter(|s| !s.is_empty())
                        .map(str::to_owned)
                        .collect();
                    (!list.is_empty()).then_some(Rule::Scopes(list))
                },
            )?,
        };
        rules.extend(scopes);

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
                let header = header.as_str().and_then(identity_header_name);
                let path = crate::claims::ClaimPath::parse(&claim);
                let (Some(path), Some(header)) = (path, header) else {
                    return Err(err(
                        "JWTGATE_CLAIM_HEADERS",
                        "must map claim paths (name, org.id, [\"https://ns.example/roles\"]) to header names starting with x-jwtgate- (not x-jwtgate-sub, -claims, -expires-in or -provider: the gate's own)",
                    ));
                };
                if claim_headers.iter().any(|(_, h)| *h == header) {
                    return Err(err("JWTGATE_CLAIM_HEADERS", "two claims map to one header"));
                }
                claim_headers.push((path, header));
            }
        }
        rules.extend(tenant_rules(&get, &providers, &claim_headers)?);
        let routes = Routes::new(rules);
        if let Some(p) = routes.tenant_under_public_path() {
            return Err(err(
                "JWTGATE_TENANTS",
                format!("the route {p:?} lies under a JWTGATE_PUBLIC_PATHS prefix: no token is checked there"),
            ));
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

        if providers[1..].iter().any(|p| p.policy.refresh().is_some()) {
            return Err(err(
                "JWTGATE_PROVIDERS",
                "a provider's policy has a refresh member: the gate rotates refresh tokens for the default provider only",
            ));
        }
        let refresh = refresh_endpoint(&get, &providers[0].policy, plain_http, &routes)?;
        if let Some(r) = &refresh {
            // A session cookie name that the refresh cookie's name starts with (or the other
            // way round) would read the one as the other's chunk: every request ambiguous.
            let clash = providers.iter().flat_map(|p| &p.cookies).any(|c| {
                let (c, r) = (
                    super::token::cookie_base(&c.name),
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
        let dpop = dpop_mode(&get, &providers, store_users)?;
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

        let published_jwks = published_jwks(&get, refresh.as_ref())?;
        let sessions = session_settings(&get, refresh.as_ref(), published_jwks.as_ref())?;

        Ok(GateConfig {
            providers,
            routes,
            upstream,
            login_url,
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
            published_jwks,
            sessions,
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
    pub fn dpop_rules(&self, p: ProviderId) -> Option<&crate::dpop::DpopRules> {
        self.dpop?;
        self.provider(p).and_then(|p| p.policy.dpop())
    }

    /// Every provider, the default one first, then `JWTGATE_PROVIDERS` in order (a provider's
    /// [`ProviderId::index`] is its place here).
    pub fn providers(&self) -> &[Provider] {
        &self.providers
    }

    /// The default provider (`JWTGATE_POLICY` and its key settings).
    pub fn default_provider(&self) -> &Provider {
        // Built first by `from_env`, and the list is never emptied (the field is private).
        &self.providers[ProviderId::DEFAULT.index()]
    }

    /// Provider `id` (`None` only for an id from another configuration).
    pub fn provider(&self, id: ProviderId) -> Option<&Provider> {
        self.providers.get(id.index())
    }

    /// Whether more providers than the default one are configured.
    pub fn has_providers(&self) -> bool {
        self.providers.len() > 1
    }

    /// The provider whose policy lists `iss` among its issuers (at most one: config checks).
    pub fn provider_for_issuer(&self, iss: &str) -> Option<ProviderId> {
        self.providers
            .iter()
            .find(|p| p.policy.rules().issuers().iter().any(|x| x == iss))
            .map(|p| p.id)
    }

    /// The token headers in the order they are searched (each provider's, in provider order),
    /// with their provider: [`super::Source::Header`]'s index is a place in this order.
    pub fn token_headers(&self) -> impl Iterator<Item = (&Provider, &str)> {
        self.providers
            .iter()
            .filter_map(|p| p.token_header.as_deref().map(|h| (p, h)))
    }

    /// The session cookies in the order they are searched (each provider's, in provider order),
    /// with their provider: [`super::Source::Cookie`]'s index is a place in this order.
    pub fn cookies(&self) -> impl Iterator<Item = (&Provider, &SessionCookie)> {
        self.providers
            .iter()
            .flat_map(|p| p.cookies.iter().map(move |c| (p, c)))
    }

    /// The session cookies' names, in [`GateConfig::cookies`]'s order.
    pub fn cookie_names(&self) -> Vec<&str> {
        self.cookies().map(|(_, c)| c.name.as_str()).collect()
    }

    /// The largest `maxTokenBytes` of any provider: the size every token is held to before
    /// anything else is done with it (its provider's own bound applies once it is chosen).
    pub fn max_token_bytes(&self) -> usize {
        self.providers
            .iter()
            .map(|p| p.policy.max_token_bytes())
            .max()
            .unwrap_or(0)
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
