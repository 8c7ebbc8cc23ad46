//! The settings that switch on a capability and must agree with the policies: DPoP
//! (`JWTGATE_DPOP`, `JWTGATE_STATE`), the refresh endpoint (`JWTGATE_REFRESH_PATH`), Auth.js
//! session cookies (`JWTGATE_AUTHJS_SECRET`).

use super::*;

/// `JWTGATE_DPOP` and `JWTGATE_STATE`, checked against the policies and the other credentials:
/// DPoP needs the replay store and a policy `dpop` member; a policy `dpop` member needs
/// `JWTGATE_DPOP`; `required` needs every provider's policy to have one and no other credential
/// source (cookies, token headers) configured; the store bound without DPoP is refused.
pub(super) fn dpop_mode(
    get: &impl Fn(&str) -> Option<String>,
    providers: &[Provider],
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
    let with_rules = providers
        .iter()
        .filter(|p| p.policy.dpop().is_some())
        .count();
    let other_sources = providers
        .iter()
        .any(|p| p.token_header.is_some() || !p.cookies.is_empty());
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
        Some(DpopMode::Required) if with_rules < providers.len() => Err(err(
            "JWTGATE_DPOP",
            "is required, so every provider's policy needs a dpop member",
        )),
        Some(DpopMode::Required) if other_sources => Err(err(
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
pub(super) fn refresh_endpoint(
    get: &impl Fn(&str) -> Option<String>,
    policy: &Policy,
    plain_http: bool,
    routes: &Routes,
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
    if crate::gate::canonical_path(&path).ok().as_deref() != Some(path.as_str()) || path == "/" {
        return Err(err(
            SETTING,
            "must be a canonical path such as /.jwtgate/refresh",
        ));
    }
    if routes.public_over(&path) {
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

/// `JWTGATE_JWKS_PATH`: where the gate publishes the public halves of its signing keys. Served
/// when the gate signs tokens (the refresh endpoint) with an asymmetric key, at
/// `/.well-known/jwks.json` unless set; `none` serves nothing. A canonical path other than `/`
/// and the refresh path; set on a gate that signs nothing, or signs with an HMAC secret (which
/// verifiers share, never fetch), a configuration error: there is nothing to publish.
pub(super) fn published_jwks(
    get: &impl Fn(&str) -> Option<String>,
    refresh: Option<&RefreshEndpoint>,
) -> Result<Option<PublishedJwks>, ConfigError> {
    const SETTING: &str = "JWTGATE_JWKS_PATH";
    let signer = refresh.filter(|r| !r.refresher.signs_symmetric());
    let path = match (get(SETTING).map(|p| p.trim().to_owned()), signer) {
        (Some(p), _) if p == "none" => return Ok(None),
        (None, None) => return Ok(None),
        (Some(_), None) => {
            return Err(err(
                SETTING,
                "is set but the gate signs no tokens with a public key (no JWTGATE_REFRESH_PATH, or an HS* key): there are no keys to publish",
            ))
        }
        (None, Some(_)) => "/.well-known/jwks.json".to_owned(),
        (Some(p), Some(_)) => p,
    };
    let Some(refresh) = signer else {
        return Ok(None);
    };
    if crate::gate::canonical_path(&path).ok().as_deref() != Some(path.as_str())
        || path == "/"
        || path == refresh.path
    {
        return Err(err(
            SETTING,
            "must be a canonical path such as /.well-known/jwks.json, not the refresh path (or none)",
        ));
    }
    let max_age = int(get, "JWTGATE_JWKS_CACHE_SECONDS", 600, (10, 86_400))?;
    let jwks = refresh
        .refresher
        .public_jwks()
        .map_err(|e| err(SETTING, e.to_string()))?;
    Ok(Some(PublishedJwks {
        path,
        body: jwks.to_string(),
        max_age,
    }))
}

/// `JWTGATE_MAX_SESSIONS` (1 to 256) with `JWTGATE_SESSION_CAP` (`end_oldest`, the default, or
/// `refuse`), and `JWTGATE_ADMIN_PATH` with `JWTGATE_ADMIN_TOKEN` (a secret of at least 32
/// bytes): the sessions registry, which needs the refresh endpoint (sessions are its families).
/// The admin path is a canonical path other than `/`, apart from the refresh and JWKS paths.
pub(super) fn session_settings(
    get: &impl Fn(&str) -> Option<String>,
    refresh: Option<&RefreshEndpoint>,
    published: Option<&PublishedJwks>,
) -> Result<Option<SessionSettings>, ConfigError> {
    use crate::sessions::Cap;
    let max = match get("JWTGATE_MAX_SESSIONS") {
        None => None,
        Some(_) => Some(int(get, "JWTGATE_MAX_SESSIONS", 0, (1, 256))? as usize),
    };
    let cap = match (max, get("JWTGATE_SESSION_CAP").as_deref().map(str::trim)) {
        (None, None) => None,
        (None, Some(_)) => {
            return Err(err(
                "JWTGATE_SESSION_CAP",
                "is set but JWTGATE_MAX_SESSIONS is not",
            ))
        }
        (Some(n), None | Some("end_oldest")) => Some(Cap::EndOldest(n)),
        (Some(n), Some("refuse")) => Some(Cap::RefuseNew(n)),
        (Some(_), Some(_)) => {
            return Err(err(
                "JWTGATE_SESSION_CAP",
                "must be \"end_oldest\" or \"refuse\"",
            ))
        }
    };
    let admin = match (get("JWTGATE_ADMIN_PATH"), get("JWTGATE_ADMIN_TOKEN")) {
        (None, None) => None,
        (Some(_), None) => {
            return Err(err(
                "JWTGATE_ADMIN_TOKEN",
                "required with JWTGATE_ADMIN_PATH",
            ))
        }
        (None, Some(_)) => {
            return Err(err(
                "JWTGATE_ADMIN_PATH",
                "required with JWTGATE_ADMIN_TOKEN",
            ))
        }
        (Some(path), Some(token)) => {
            let path = path.trim().trim_end_matches('/').to_owned();
            let canonical =
                crate::gate::canonical_path(&path).ok().as_deref() == Some(path.as_str());
            let apart = |other: &str| !other.starts_with(&path) && !path.starts_with(other);
            let clear =
                refresh.is_none_or(|r| apart(&r.path)) && published.is_none_or(|p| apart(&p.path));
            if !canonical || path.is_empty() || !clear {
                return Err(err(
                    "JWTGATE_ADMIN_PATH",
                    "must be a canonical path such as /.jwtgate/admin, apart from the refresh and JWKS paths",
                ));
            }
            if token.len() < 32 {
                return Err(err("JWTGATE_ADMIN_TOKEN", "needs at least 32 bytes"));
            }
            use sha2::Digest;
            Some(AdminEndpoint {
                path,
                digest: sha2::Sha256::digest(token.as_bytes()).into(),
            })
        }
    };
    if cap.is_none() && admin.is_none() {
        return Ok(None);
    }
    if refresh.is_none() {
        let setting = if cap.is_some() {
            "JWTGATE_MAX_SESSIONS"
        } else {
            "JWTGATE_ADMIN_PATH"
        };
        return Err(err(
            setting,
            "needs JWTGATE_REFRESH_PATH: the sessions are the refresh endpoint's families",
        ));
    }
    Ok(Some(SessionSettings { cap, admin }))
}

/// `JWTGATE_AUTHJS_SECRET`: one secret (Auth.js's `AUTH_SECRET`, as it is), or a JSON array of
/// secrets for rotation (the current one and older ones: each cookie names its key).
pub(super) fn authjs_secrets(value: Option<String>) -> Result<Option<Vec<String>>, ConfigError> {
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
