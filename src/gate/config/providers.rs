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

/// The default provider's keys: `JWTGATE_POLICY` with `JWTGATE_KEYS`, `JWTGATE_JWKS_URL` and
/// `JWTGATE_AUTHJS_SECRET`, of which at least one must give a key.
pub(super) struct DefaultKeys {
    policy: Policy,
    jwks: Option<JwksSettings>,
    authjs_secrets: Option<Vec<String>>,
}

/// Reads the default provider's key settings (before `UPSTREAM_URL`: a gate with no key is
/// told so first).
pub(super) fn default_keys(
    get: &impl Fn(&str) -> Option<String>,
) -> Result<DefaultKeys, ConfigError> {
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
            let jwks =
                json::parse(text.as_bytes()).map_err(|_| err("JWTGATE_KEYS", "not strict JSON"))?;
            let keys = KeySet::from_jwks(&jwks, policy.algorithms())
                .map_err(|e| err("JWTGATE_KEYS", e.to_string()))?;
            policy
                .with_keys(&keys)
                .map_err(|e| err("JWTGATE_KEYS", e.to_string()))?
        }
    };
    let jwks = match get("JWTGATE_JWKS_URL") {
        None => None,
        Some(u) => Some(jwks_settings(get, url("JWTGATE_JWKS_URL", &u, false)?)?),
    };
    let authjs_secrets = authjs_secrets(get("JWTGATE_AUTHJS_SECRET"))?;
    if jwks.is_none() && policy.keys().verifying_count() == 0 && authjs_secrets.is_none() {
        return Err(err(
            "JWTGATE_KEYS",
            "no verification key: set JWTGATE_KEYS, JWTGATE_JWKS_URL, policy keys or JWTGATE_AUTHJS_SECRET",
        ));
    }
    Ok(DefaultKeys {
        policy,
        jwks,
        authjs_secrets,
    })
}

/// The default provider, from its keys and the gate's own token sources: `JWTGATE_COOKIES`
/// (Auth.js's session cookie by default; `none` for no cookie) and `JWTGATE_TOKEN_HEADER`.
pub(super) fn default_provider(
    get: &impl Fn(&str) -> Option<String>,
    keys: DefaultKeys,
    plain_http: bool,
) -> Result<Provider, ConfigError> {
    let DefaultKeys {
        policy,
        jwks,
        authjs_secrets,
    } = keys;
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
    let names: Vec<String> = cookie_list
        .split(',')
        .map(|c| c.trim().to_owned())
        .filter(|c| !c.is_empty())
        .collect();
    if names.iter().any(|c| !crate::cookie::is_cookie_name(c)) {
        return Err(err("JWTGATE_COOKIES", "cookie names must be plain tokens"));
    }
    // A cookie without the `__Secure-`/`__Host-` prefix can be planted over plain HTTP (or by
    // a sibling subdomain): only accepted when the operator says the site is plain HTTP.
    if names.iter().any(|c| !session_cookie_name(c, plain_http)) {
        return Err(err(
            "JWTGATE_COOKIES",
            "cookie names need the __Secure- or __Host- prefix (set JWTGATE_PLAIN_HTTP=true for local plain-HTTP development)",
        ));
    }
    if authjs_secrets.is_some() && names.is_empty() {
        return Err(err(
            "JWTGATE_AUTHJS_SECRET",
            "is set but JWTGATE_COOKIES names no cookie to open",
        ));
    }
    #[cfg(not(feature = "jwe-reader"))]
    if authjs_secrets.is_some() {
        return Err(err(
            "JWTGATE_AUTHJS_SECRET",
            "this build has no Auth.js cookie support (the crate's jwe feature)",
        ));
    }
    let cookies = names
        .into_iter()
        .map(|name| {
            #[cfg(feature = "jwe-reader")]
            let reader = authjs_secrets
                .as_ref()
                .map(|secrets| crate::jwe::AuthJsCookie::new(secrets, &name, &policy))
                .transpose()
                .map_err(|e| err("JWTGATE_AUTHJS_SECRET", e.to_string()))?;
            Ok(SessionCookie {
                name,
                #[cfg(feature = "jwe-reader")]
                reader,
            })
        })
        .collect::<Result<Vec<_>, ConfigError>>()?;

    let token_header = match get("JWTGATE_TOKEN_HEADER") {
        None => None,
        Some(name) => Some(token_header_name(&name).ok_or_else(|| {
            err(
                "JWTGATE_TOKEN_HEADER",
                "must be Cf-Access-Jwt-Assertion or one x- header name of letters, digits and inner '-' (x-goog-iap-jwt-assertion, x-api-token), not one with another meaning (x-forwarded-*, x-real-ip, method overrides) nor one the gate strips (x-jwtgate-*, path overrides)",
            )
        })?),
    };
    let provider = Provider {
        id: ProviderId::DEFAULT,
        name: DEFAULT_PROVIDER.to_owned(),
        policy,
        jwks,
        pins_sources: false,
        token_header,
        cookies,
    };
    if provider.token_header.is_some() && !provider.verifies_jws() {
        return Err(err(
            "JWTGATE_TOKEN_HEADER",
            "is set but no JWS key source is (JWTGATE_AUTHJS_SECRET opens cookies only): every header token would be refused",
        ));
    }
    Ok(provider)
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

/// Every provider: `default`, then `JWTGATE_PROVIDERS`, a JSON array of `{"name", "policy", "jwksUrl"?, "tokenHeader"?,
/// "cookies"?}` (no other member); a token read from a provider's own header or cookies is that
/// provider's, whatever its `iss`.
/// Names are 1–32 of `a-z`, `0-9`, `-`, unique and not `default`; each policy is validated as
/// `JWTGATE_POLICY` is (public keys only) and needs keys or a `jwksUrl`; no issuer may belong to
/// two providers (the default one included), so a token's `iss` picks at most one.
pub(super) fn providers(
    get: &impl Fn(&str) -> Option<String>,
    default: Provider,
    plain_http: bool,
) -> Result<Vec<Provider>, ConfigError> {
    const S: &str = "JWTGATE_PROVIDERS";
    let mut out = vec![default];
    let Some(text) = get(S) else {
        return Ok(out);
    };
    let Ok(Value::Array(list)) = json::parse(text.as_bytes()) else {
        return Err(err(S, "must be a strict JSON array of providers"));
    };
    if list.is_empty() || list.len() > 16 {
        return Err(err(S, "must list 1 to 16 providers"));
    }
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
        if !named || out.iter().any(|p| p.name == name) {
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
        let taken = out.iter().any(|other| {
            other
                .policy
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
        let cookies: Vec<SessionCookie> = match entry.get("cookies") {
            None => Vec::new(),
            Some(Value::Array(list)) => list
                .iter()
                .map(|c| {
                    c.as_str().map(|name| SessionCookie {
                        name: name.to_owned(),
                        #[cfg(feature = "jwe-reader")]
                        reader: None,
                    })
                })
                .collect::<Option<Vec<_>>>()
                .filter(|list| {
                    list.iter()
                        .all(|c| session_cookie_name(&c.name, plain_http))
                })
                .ok_or_else(
                    || at("cookies must be cookie names as JWTGATE_COOKIES takes".into()),
                )?,
            Some(_) => return Err(at("cookies must be an array of cookie names".into())),
        };
        out.push(Provider {
            id: ProviderId(out.len() as u8),
            name: name.to_owned(),
            policy,
            jwks,
            pins_sources: true,
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
) -> Result<Vec<(String, Rule)>, ConfigError> {
    const S: &str = "JWTGATE_PROVIDER_ROUTES";
    let Some(rules) = json_object(get, S)? else {
        if providers.len() == 1 {
            return Ok(Vec::new());
        }
        return Err(err(
            S,
            "is required with JWTGATE_PROVIDERS: it says which paths accept which provider",
        ));
    };
    if providers.len() == 1 {
        return Err(err(S, "is set but JWTGATE_PROVIDERS is not"));
    }
    let id = |name: &str| providers.iter().find(|p| p.name == name).map(|p| p.id);
    let out = prefix_rules(
        rules,
        S,
        "must map canonical path prefixes to non-empty arrays of provider names (from JWTGATE_PROVIDERS, or \"default\")",
        |names| match names {
            Value::Array(names) if !names.is_empty() => {
                names.iter().map(|n| n.as_str().and_then(id)).collect::<Option<Vec<_>>>().map(Rule::Providers)
            }
            _ => None,
        },
    )?;
    // A provider no route names could verify nothing: a configuration mistake, not a pass.
    for p in &providers[1..] {
        if !out
            .iter()
            .any(|(_, rule)| matches!(rule, Rule::Providers(list) if list.contains(&p.id)))
        {
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
