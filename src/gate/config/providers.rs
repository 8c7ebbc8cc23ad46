//! `JWTGATE_PROVIDERS` and `JWTGATE_PROVIDER_ROUTES`: the extra providers, their routes, and
//! the JWKS settings every provider's remote key set shares.

use super::*;

/// A JWKS URL's settings: the timing ones (`JWTGATE_JWKS_*`) are the gate's, shared by every
/// provider; each provider's set keeps its own state under them.
pub(super) fn jwks_settings(
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

/// A provider's members in `JWTGATE_PROVIDERS`.
pub(super) const PROVIDER_MEMBERS: [&str; 5] =
    ["name", "policy", "jwksUrl", "tokenHeader", "cookies"];

/// Whether `name` may be a session cookie's: a plain cookie name with the `__Secure-` or
/// `__Host-` prefix (any plain name with `JWTGATE_PLAIN_HTTP`).
pub(super) fn session_cookie_name(name: &str, plain_http: bool) -> bool {
    crate::cookie::is_cookie_name(name)
        && (plain_http || name.starts_with("__Secure-") || name.starts_with("__Host-"))
}

/// `JWTGATE_PROVIDERS`: a JSON array of `{"name", "policy", "jwksUrl"?, "tokenHeader"?,
/// "cookies"?}` (no other member); a token read from a provider's own header or cookies is that
/// provider's, whatever its `iss`.
/// Names are 1–32 of `a-z`, `0-9`, `-`, unique and not `default`; each policy is validated as
/// `JWTGATE_POLICY` is (public keys only) and needs keys or a `jwksUrl`; no issuer may belong to
/// two providers (the default one included), so a token's `iss` picks at most one.
pub(super) fn providers(
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
pub(super) fn provider_routes(
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
