use super::*;
use crate::gate::Route;

const POLICY: &str = r#"{"issuer":"https://iss.example","audience":"app","algorithms":["HS256"]}"#;
const KEYS: &str =
    r#"{"keys":[{"kty":"oct","kid":"k","k":"c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA"}]}"#;

fn base() -> Vec<(&'static str, &'static str)> {
    vec![
        ("JWTGATE_POLICY", POLICY),
        ("JWTGATE_KEYS", KEYS),
        ("UPSTREAM_URL", "http://127.0.0.1:8788/"),
    ]
}

/// The token headers in search order, with their provider's place.
fn headers(c: &GateConfig) -> Vec<(String, usize)> {
    c.token_headers()
        .map(|(p, h)| (h.to_owned(), p.id.index()))
        .collect()
}

/// The session cookies' names in search order.
fn cookie_names(c: &GateConfig) -> Vec<&str> {
    c.cookie_names()
}

/// The places of `accepted_providers(path)`.
fn accepted(c: &GateConfig, path: &str) -> Vec<usize> {
    c.routes
        .accepted_providers(path)
        .iter()
        .map(|p| p.index())
        .collect()
}

fn setting_of(extra: &[(&'static str, &'static str)]) -> &'static str {
    let mut pairs = base();
    for (k, v) in extra {
        pairs.retain(|(name, _)| name != k);
        pairs.push((k, v));
    }
    match from_pairs(&pairs) {
        Ok(_) => "ok",
        Err(e) => e.setting,
    }
}

#[test]
fn defaults() {
    let c = from_pairs(&base()).unwrap();
    assert_eq!(c.upstream, "http://127.0.0.1:8788");
    assert_eq!(cookie_names(&c), vec!["__Secure-authjs.session-token"]);
    assert!(c.forward_authorization);
    assert!(!c.revocation_fail_open);
    assert_eq!(c.cache_size, 1024);
    assert!(c.default_provider().jwks.is_none());
    assert_eq!(c.providers().len(), 1);
    assert!(!c.has_providers());
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
    let routes = r#"{"/api": ["api", "default"], "/staff/": ["staff"], "/api/admin": ["staff"]}"#;
    let mut pairs = base();
    pairs.push(("JWTGATE_PROVIDERS", p));
    pairs.push(("JWTGATE_PROVIDER_ROUTES", routes));
    let c = from_pairs(&pairs).unwrap();
    let names: Vec<&str> = c.providers().iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["default", "api", "staff"]);
    for (i, p) in c.providers().iter().enumerate() {
        assert_eq!(p.id.index(), i);
        // Only the default provider's sources are the gate's, where `iss` picks.
        assert_eq!(p.pins_sources, i != 0);
    }
    let at = |i| c.provider(ProviderId::at(i));
    assert_eq!(
        at(1).unwrap().jwks.as_ref().unwrap().url,
        "http://127.0.0.1:9/jwks"
    );
    assert!(at(2).unwrap().jwks.is_none() && at(3).is_none());
    assert_eq!(
        c.provider_for_issuer("https://iss.example"),
        Some(ProviderId::DEFAULT)
    );
    assert_eq!(
        c.provider_for_issuer("https://staff.example"),
        Some(ProviderId::at(2))
    );
    assert_eq!(c.provider_for_issuer("https://staff.example/"), None);
    // Longest prefix first, ignoring case; elsewhere the default provider only.
    assert_eq!(accepted(&c, "/api/orders"), vec![1, 0]);
    assert_eq!(accepted(&c, "/API/Admin/x"), vec![2]);
    assert_eq!(accepted(&c, "/staff"), vec![2]);
    assert_eq!(accepted(&c, "/orders"), vec![0]);
    // Where a plain prefix and whole segments read a rule apart, no provider is accepted:
    // neither the route's (on a path nobody named) nor the default (where it was restricted).
    assert_eq!(accepted(&c, "/apiary"), vec![0]);
    assert_eq!(accepted(&c, "/api/admin.json"), Vec::<usize>::new());
    assert_eq!(accepted(&c, "/staffing"), Vec::<usize>::new());
    // Without routes, providers would pass nowhere: a configuration error.
    let mut pairs = base();
    pairs.push(("JWTGATE_PROVIDERS", p));
    assert_eq!(
        from_pairs(&pairs).unwrap_err().setting,
        "JWTGATE_PROVIDER_ROUTES"
    );
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
    let c = from_pairs(&pairs).unwrap();
    assert_eq!(
        headers(&c),
        vec![
            ("x-api-token".to_owned(), 0),
            ("cf-access-jwt-assertion".to_owned(), 3)
        ]
    );
    let cookies: Vec<(&str, usize)> = c
        .cookies()
        .map(|(p, k)| (k.name.as_str(), p.id.index()))
        .collect();
    assert_eq!(
        cookies,
        vec![("__Secure-authjs.session-token", 0), ("__Host-access", 3)]
    );
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
    let with = |extra: &str| -> &'static str { Box::leak(providers_json(extra).into_boxed_str()) };
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
    assert!(cookie_names(&from_pairs(&pairs).unwrap()).is_empty());
    // `none` is the whole value, not a name in a list.
    assert_eq!(
        setting_of(&[("JWTGATE_COOKIES", "__Secure-a,none")]),
        "JWTGATE_COOKIES"
    );
}

#[test]
fn token_header_is_one_plain_header_name_with_no_other_meaning() {
    let c = from_pairs(&base()).unwrap();
    assert!(headers(&c).is_empty());
    let mut pairs = base();
    pairs.push(("JWTGATE_TOKEN_HEADER", "Cf-Access-Jwt-Assertion"));
    let c = from_pairs(&pairs).unwrap();
    assert_eq!(headers(&c), vec![("cf-access-jwt-assertion".to_owned(), 0)]);
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
        assert_eq!(
            from_pairs(&pairs).unwrap_err().setting,
            "JWTGATE_TOKEN_HEADER"
        );
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
    let c = from_pairs(&pairs).unwrap();
    assert!(!c.default_provider().verifies_jws());
    // Each cookie's reader is salted with that cookie's own name.
    let readers: Vec<(&str, &str)> = c
        .cookies()
        .map(|(_, k)| (k.name.as_str(), k.reader.as_ref().unwrap().cookie_name()))
        .collect();
    assert_eq!(readers.len(), 2);
    assert!(readers.iter().all(|(name, salt)| name == salt));
    // Without it, no reader: cookies are signed tokens.
    let plain = from_pairs(&base()).unwrap();
    assert!(plain.cookies().all(|(_, k)| !k.is_authjs()));
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
        let e = from_pairs(&[base(), vec![("JWTGATE_AUTHJS_SECRET", bad)]].concat()).unwrap_err();
        assert_eq!(e.setting, "JWTGATE_AUTHJS_SECRET", "{bad}");
        assert!(!e.message.contains("tiny-secret"), "{}", e.message);
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
    let e = from_pairs(&[
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
    let c = from_pairs(&[
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
    assert_eq!(c.routes.route("GET", "/health", false), Route::Public);
    assert_eq!(c.routes.route("GET", "/health/deep", false), Route::Public);
    assert_eq!(
        c.routes.route("GET", "/healthz", false),
        Route::Protected(&[])
    );
    assert_eq!(c.routes.route("GET", "/public/x.css", false), Route::Public);
    assert_eq!(
        c.routes.route("GET", "/public", false),
        Route::Protected(&[])
    );
    assert_eq!(
        c.routes.route("OPTIONS", "/api", true),
        Route::Preflight { forward: false }
    );
    assert_eq!(
        c.routes.route("OPTIONS", "/api", false),
        Route::Protected(&[])
    );
    // Case: public prefixes are exact, scope rules ignore ASCII case.
    assert_eq!(
        c.routes.route("GET", "/HEALTH", false),
        Route::Protected(&[])
    );
    let admin = ["admin".to_owned()];
    let billing = ["admin".to_owned(), "billing".to_owned()];
    assert_eq!(
        c.routes.route("GET", "/admin/users", false),
        Route::Protected(&admin)
    );
    assert_eq!(
        c.routes.route("GET", "/admin/billing/1", false),
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
            c.routes.route("GET", covered, false),
            Route::Protected(&admin),
            "{covered}"
        );
    }
    assert_eq!(
        c.routes.route("GET", "/admin/billing.json", false),
        Route::Protected(&billing)
    );
    assert_eq!(c.routes.route("GET", "/adm", false), Route::Protected(&[]));
    assert_eq!(
        c.routes.route("GET", "/Admin/users", false),
        Route::Protected(&admin)
    );
    assert_eq!(
        c.routes.route("GET", "/ADMIN/Billing/1", false),
        Route::Protected(&billing)
    );
}

#[test]
fn scope_rules_drop_a_trailing_slash_and_refuse_twins() {
    let with = |rules: &str| {
        let mut pairs = base();
        pairs.push(("JWTGATE_SCOPES", rules));
        from_pairs(&pairs)
    };
    let c = with(r#"{"/admin/":"admin"}"#).unwrap();
    let admin = ["admin".to_owned()];
    assert_eq!(
        c.routes.route("GET", "/admin", false),
        Route::Protected(&admin)
    );
    assert_eq!(
        c.routes.route("GET", "/admin.json", false),
        Route::Protected(&admin)
    );
    let e = with(r#"{"/admin":"a","/Admin/":"b"}"#).unwrap_err();
    assert_eq!(e.setting, "JWTGATE_SCOPES");
    // "/" covers everything.
    let c = with(r#"{"/":"user"}"#).unwrap();
    assert_eq!(
        c.routes.route("GET", "/x", false),
        Route::Protected(&["user".to_owned()])
    );
}

#[test]
fn preflights_cookies_and_unknown_names() {
    let mut pairs = base();
    pairs.push(("JWTGATE_PREFLIGHT_PATHS", "/api/public"));
    let c = from_pairs(&pairs).unwrap();
    assert_eq!(
        c.routes.route("OPTIONS", "/api/public/x", true),
        Route::Preflight { forward: true }
    );
    assert_eq!(
        c.routes.route("OPTIONS", "/api/private", true),
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
        cookie_names(&from_pairs(&pairs).unwrap()),
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

#[test]
fn tenant_rules_that_are_refused() {
    const TENANT: &str = r#"{"issuer":"https://iss.example","audience":"app","algorithms":["HS256"],"tenantClaim":"org.id"}"#;
    let with =
        |rules: &'static str| setting_of(&[("JWTGATE_POLICY", TENANT), ("JWTGATE_TENANTS", rules)]);
    for ok in [
        r#"[{"route": "/firms/{tenant}"}]"#,
        r#"[{"route": "/{tenant}"}]"#,
        r#"[{"route": "/", "host": "{tenant}.app.example"}]"#,
        r#"[{"route": "/api/", "header": "X-Jwtgate-Tenant", "providers": ["default"]}]"#,
        r#"[{"route": "/firms/{tenant}"}, {"route": "/", "host": "{tenant}.App.Example"}]"#,
    ] {
        assert_eq!(with(ok), "ok", "{ok}");
    }
    // Blank is unset, as for every setting.
    assert_eq!(with(" "), "ok");
    for bad in [
        "[]",
        "{}",
        r#"[{}]"#,
        r#"["/firms/{tenant}"]"#,
        r#"[{"route": "/firms"}]"#,
        r#"[{"route": "/firms/{tenant}/x"}]"#,
        r#"[{"route": "/{tenant}/{tenant}"}]"#,
        r#"[{"route": "/firms/{tenant}", "host": "{tenant}.app.example"}]"#,
        r#"[{"route": "/", "host": "{tenant}.app.example", "header": "x-jwtgate-tenant"}]"#,
        r#"[{"route": "firms/{tenant}"}]"#,
        r#"[{"route": "/firms/%7Btenant%7D"}]"#,
        r#"[{"route": "/../{tenant}"}]"#,
        r#"[{"route": "/", "host": "app.example"}]"#,
        r#"[{"route": "/", "host": "{tenant}"}]"#,
        r#"[{"route": "/", "host": "{tenant}.app..example"}]"#,
        r#"[{"route": "/", "host": "x.{tenant}.app.example"}]"#,
        r#"[{"route": "/", "header": "x-tenant"}]"#,
        r#"[{"route": "/", "header": "x-jwtgate-sub"}]"#,
        r#"[{"route": "/", "header": "x-jwtgate-"}]"#,
        r#"[{"route": "/firms/{tenant}", "providers": []}]"#,
        r#"[{"route": "/firms/{tenant}", "providers": ["nobody"]}]"#,
        r#"[{"route": "/firms/{tenant}", "tenantClaim": "org.id"}]"#,
        r#"[{"route": "/firms/{tenant}"}, {"route": "/Firms/{tenant}"}]"#,
        r#"[{"route": 1}]"#,
    ] {
        assert_eq!(with(bad), "JWTGATE_TENANTS", "{bad}");
    }
    // Every provider a rule applies to must name its tokens' tenant.
    assert_eq!(
        setting_of(&[("JWTGATE_TENANTS", r#"[{"route": "/firms/{tenant}"}]"#)]),
        "JWTGATE_TENANTS"
    );
    // A bound route under a public path would check no token, so no tenant: in any case, with
    // or without a trailing slash, a host rule under `/` too.
    for (public, rules) in [
        ("/firms", r#"[{"route": "/firms/{tenant}"}]"#),
        ("/firms/", r#"[{"route": "/firms/{tenant}"}]"#),
        ("/Firms", r#"[{"route": "/firms/{tenant}"}]"#),
        ("/", r#"[{"route": "/firms/{tenant}"}]"#),
        ("/", r#"[{"route": "/", "host": "{tenant}.app.example"}]"#),
        (
            "/api",
            r#"[{"route": "/api/v1", "header": "x-jwtgate-tenant"}]"#,
        ),
    ] {
        let got = setting_of(&[
            ("JWTGATE_POLICY", TENANT),
            ("JWTGATE_PUBLIC_PATHS", public),
            ("JWTGATE_TENANTS", rules),
        ]);
        assert_eq!(got, "JWTGATE_TENANTS", "{public} {rules}");
    }
    // A public path beside (or inside) a bound route is the operator's to choose.
    for public in ["/firmsx", "/firms/acme/logo"] {
        let got = setting_of(&[
            ("JWTGATE_POLICY", TENANT),
            ("JWTGATE_PUBLIC_PATHS", public),
            ("JWTGATE_TENANTS", r#"[{"route": "/firms/{tenant}"}]"#),
        ]);
        assert_eq!(got, "ok", "{public}");
    }
    // The tenant header is no claim header's.
    assert_eq!(
        setting_of(&[
            ("JWTGATE_POLICY", TENANT),
            ("JWTGATE_CLAIM_HEADERS", r#"{"org.id": "x-jwtgate-tenant"}"#),
            (
                "JWTGATE_TENANTS",
                r#"[{"route": "/", "header": "x-jwtgate-tenant"}]"#
            ),
        ]),
        "JWTGATE_TENANTS"
    );
}

#[test]
fn the_gate_publishes_its_signing_keys_only_when_it_signs_with_a_public_key() {
    const EC_PRIVATE: &str = r#"{"keys":[{"kty":"EC","crv":"P-256","kid":"e1","x":"zY098tly2jU4sZm3IEenUCypcEXDB61WRISdjqMOyWI","y":"ZkgxfJ7uEMQKeiECoXJ-pnBWzxI0W856PjNQc8OxKJk","d":"uvVZcYFvqeelOOEwC5lnhG6pOS13Hgla9afF1D1HaDM"}]}"#;
    const REFRESHING: &str = r#"{"issuer":"https://iss.example","audience":"app","algorithms":["ES256"],"maxAgeSeconds":3600,"refresh":{"audience":"https://iss.example/refresh"}}"#;
    let signing = |extra: &[(&'static str, &'static str)]| {
        let mut pairs = base();
        pairs.extend([
            ("JWTGATE_POLICY", REFRESHING),
            ("JWTGATE_KEYS", EC_PRIVATE),
            ("JWTGATE_REFRESH_PATH", "/.jwtgate/refresh"),
            ("JWTGATE_STATE", DO_BINDING),
        ]);
        pairs.extend_from_slice(extra);
        from_pairs(&pairs)
    };
    let c = signing(&[]).unwrap();
    let p = c.published_jwks.as_ref().unwrap();
    assert_eq!(p.path, "/.well-known/jwks.json");
    assert_eq!(p.max_age, 600);
    let jwks: Value = serde_json::from_str(&p.body).unwrap();
    let key = jwks["keys"][0].as_object().unwrap();
    let mut names: Vec<&str> = key.keys().map(String::as_str).collect();
    names.sort_unstable();
    assert_eq!(names, ["alg", "crv", "kid", "kty", "use", "x", "y"]);
    let c = signing(&[
        ("JWTGATE_JWKS_PATH", "/keys"),
        ("JWTGATE_JWKS_CACHE_SECONDS", "60"),
    ])
    .unwrap();
    let p = c.published_jwks.unwrap();
    assert_eq!((p.path.as_str(), p.max_age), ("/keys", 60));
    assert!(signing(&[("JWTGATE_JWKS_PATH", "none")])
        .unwrap()
        .published_jwks
        .is_none());
    for bad in ["/", "/.jwtgate/refresh", "keys", "/a/../keys", "/a//b"] {
        let e = signing(&[("JWTGATE_JWKS_PATH", bad)]).unwrap_err();
        assert_eq!(e.setting, "JWTGATE_JWKS_PATH", "{bad}");
    }
    // A gate that signs nothing (or only with an HMAC secret) has nothing to publish.
    assert!(from_pairs(&base()).unwrap().published_jwks.is_none());
    assert_eq!(
        setting_of(&[("JWTGATE_JWKS_PATH", "/keys")]),
        "JWTGATE_JWKS_PATH"
    );
}

#[test]
fn session_settings_need_the_refresh_endpoint_and_their_partner() {
    const REFRESHING: &str = r#"{"issuer":"https://iss.example","audience":"app","algorithms":["HS256"],"maxAgeSeconds":3600,"refresh":{"audience":"https://iss.example/refresh"}}"#;
    const TOKEN: &str = "an-admin-secret-of-at-least-32-bytes";
    let with = |extra: &[(&'static str, &'static str)]| {
        let mut pairs = base();
        pairs.extend([
            ("JWTGATE_POLICY", REFRESHING),
            ("JWTGATE_REFRESH_PATH", "/.jwtgate/refresh"),
            ("JWTGATE_STATE", DO_BINDING),
        ]);
        pairs.extend_from_slice(extra);
        match from_pairs(&pairs) {
            Ok(c) => Ok(c.sessions),
            Err(e) => Err(e.setting),
        }
    };
    assert!(with(&[]).unwrap().is_none());
    let s = with(&[("JWTGATE_MAX_SESSIONS", "3")]).unwrap().unwrap();
    assert_eq!(s.cap, Some(crate::sessions::Cap::EndOldest(3)));
    let s = with(&[
        ("JWTGATE_MAX_SESSIONS", "1"),
        ("JWTGATE_SESSION_CAP", "refuse"),
    ])
    .unwrap()
    .unwrap();
    assert_eq!(s.cap, Some(crate::sessions::Cap::RefuseNew(1)));
    let s = with(&[
        ("JWTGATE_ADMIN_PATH", "/.jwtgate/admin"),
        ("JWTGATE_ADMIN_TOKEN", TOKEN),
    ])
    .unwrap()
    .unwrap();
    assert_eq!(s.admin.unwrap().path, "/.jwtgate/admin");
    for (extra, setting) in [
        (vec![("JWTGATE_MAX_SESSIONS", "0")], "JWTGATE_MAX_SESSIONS"),
        (
            vec![("JWTGATE_MAX_SESSIONS", "257")],
            "JWTGATE_MAX_SESSIONS",
        ),
        (
            vec![("JWTGATE_SESSION_CAP", "refuse")],
            "JWTGATE_SESSION_CAP",
        ),
        (
            vec![
                ("JWTGATE_MAX_SESSIONS", "2"),
                ("JWTGATE_SESSION_CAP", "oldest"),
            ],
            "JWTGATE_SESSION_CAP",
        ),
        (
            vec![("JWTGATE_ADMIN_PATH", "/.jwtgate/admin")],
            "JWTGATE_ADMIN_TOKEN",
        ),
        (vec![("JWTGATE_ADMIN_TOKEN", TOKEN)], "JWTGATE_ADMIN_PATH"),
        (
            vec![
                ("JWTGATE_ADMIN_PATH", "/.jwtgate/admin"),
                ("JWTGATE_ADMIN_TOKEN", "short"),
            ],
            "JWTGATE_ADMIN_TOKEN",
        ),
        (
            vec![("JWTGATE_ADMIN_PATH", "/"), ("JWTGATE_ADMIN_TOKEN", TOKEN)],
            "JWTGATE_ADMIN_PATH",
        ),
        (
            vec![
                ("JWTGATE_ADMIN_PATH", "/.jwtgate"),
                ("JWTGATE_ADMIN_TOKEN", TOKEN),
            ],
            "JWTGATE_ADMIN_PATH",
        ),
        (
            vec![
                ("JWTGATE_ADMIN_PATH", "/a/../admin"),
                ("JWTGATE_ADMIN_TOKEN", TOKEN),
            ],
            "JWTGATE_ADMIN_PATH",
        ),
    ] {
        assert_eq!(with(&extra).map(|_| ()), Err(setting), "{extra:?}");
    }
    // Without the refresh endpoint there are no sessions to keep.
    assert_eq!(
        setting_of(&[("JWTGATE_MAX_SESSIONS", "3")]),
        "JWTGATE_MAX_SESSIONS"
    );
    assert_eq!(
        setting_of(&[
            ("JWTGATE_ADMIN_PATH", "/.jwtgate/admin"),
            ("JWTGATE_ADMIN_TOKEN", TOKEN)
        ]),
        "JWTGATE_ADMIN_PATH"
    );
}
