//! The gate's own answers (RFC 6750 §3): status, headers and a small JSON body. The token is
//! never part of an answer.

/// An HTTP answer produced by the gate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// Status code.
    pub status: u16,
    /// Headers (besides `content-type: application/json` and `cache-control: no-store`, which
    /// every answer carries unless it names its own).
    pub headers: Vec<(String, String)>,
    /// JSON body.
    pub body: String,
}

/// A quoted-string for a `WWW-Authenticate` parameter (`"` and `\` escaped, controls dropped).
fn quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars().filter(|c| !c.is_control()) {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

fn json_answer(status: u16, headers: Vec<(String, String)>, body: serde_json::Value) -> Answer {
    Answer {
        status,
        headers,
        body: body.to_string(),
    }
}

/// No token: 401 with a bare Bearer challenge.
pub fn missing_token(realm: &str) -> Answer {
    missing_token_for(realm, &[("Bearer", None)])
}

/// `scheme realm="…"` with the scheme's parameters (`algs` for DPoP), then `extra` (already
/// formatted `, name="value"` pairs): one challenge of a `WWW-Authenticate` header.
fn challenge(scheme: &str, algs: Option<&str>, realm: &str, extra: &str) -> String {
    let mut c = format!("{scheme} realm={}", quoted(realm));
    if let Some(algs) = algs {
        c.push_str(&format!(", algs={}", quoted(algs)));
    }
    c.push_str(extra);
    c
}

/// No token, on a gate that takes these schemes (`(scheme, DPoP algs)`): 401 with one challenge
/// per scheme (RFC 9449 §7.1: `Bearer` and `DPoP` side by side).
pub fn missing_token_for(realm: &str, schemes: &[(&str, Option<&str>)]) -> Answer {
    let value: Vec<String> = schemes
        .iter()
        .map(|(s, algs)| challenge(s, *algs, realm, ""))
        .collect();
    json_answer(
        401,
        vec![("www-authenticate".into(), value.join(", "))],
        serde_json::json!({"error": "missing_token"}),
    )
}

/// A refusal under these schemes: 401 with `error` (`invalid_token`, or DPoP's
/// `invalid_dpop_proof`) and the jwtgate code as `error_description`.
pub fn refused_for(
    realm: &str,
    error: &str,
    code: &str,
    schemes: &[(&str, Option<&str>)],
) -> Answer {
    let extra = format!(
        ", error={}, error_description={}",
        quoted(error),
        quoted(code)
    );
    let value: Vec<String> = schemes
        .iter()
        .map(|(s, algs)| challenge(s, *algs, realm, &extra))
        .collect();
    json_answer(
        401,
        vec![("www-authenticate".into(), value.join(", "))],
        serde_json::json!({"error": error, "reason": code}),
    )
}

/// A browser navigation without a token, with a login URL: 302 to it, with the original URL
/// as `callbackUrl`.
pub fn login_redirect(login_url: &str, original_url: &str) -> Answer {
    let sep = if login_url.contains('?') { '&' } else { '?' };
    let location = format!(
        "{login_url}{sep}callbackUrl={}",
        percent_encode(original_url)
    );
    Answer {
        status: 302,
        headers: vec![("location".into(), location)],
        body: String::new(),
    }
}

/// A browser navigation whose session has ended (`expired`, `too_old`, `revoked`) or is broken
/// (a cookie that does not verify, chunks that do not join): the login redirect, with each of
/// `cookies` cleared (`Max-Age=0`, `Path=/`, `Secure` unless `plain_http` allows a plain name),
/// so the browser does not bring the dead session back, as Auth.js's middleware and
/// oauth2-proxy do.
pub fn session_ended(
    login_url: &str,
    original_url: &str,
    cookies: &[String],
    plain_http: bool,
) -> Answer {
    let mut answer = login_redirect(login_url, original_url);
    for name in cookies {
        let lower = name.to_ascii_lowercase();
        let secure = !plain_http || lower.starts_with("__secure-") || lower.starts_with("__host-");
        let secure = if secure { "; Secure" } else { "" };
        answer.headers.push((
            "set-cookie".into(),
            format!("{name}=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax{secure}"),
        ));
    }
    answer
}

/// An invalid token: 401 `invalid_token` with the jwtgate code as `error_description`.
pub fn invalid_token(realm: &str, code: &str) -> Answer {
    refused_for(realm, "invalid_token", code, &[("Bearer", None)])
}

/// A valid token without the scopes the path needs: 403 `insufficient_scope`.
pub fn insufficient_scope(realm: &str, required: &[String]) -> Answer {
    let scope = required.join(" ");
    json_answer(
        403,
        vec![(
            "www-authenticate".into(),
            format!(
                "Bearer realm={}, error=\"insufficient_scope\", scope={}",
                quoted(realm),
                quoted(&scope)
            ),
        )],
        serde_json::json!({"error": "insufficient_scope", "scope": scope}),
    )
}

/// A valid token for another tenant than the request's (`JWTGATE_TENANTS`): 403
/// `insufficient_scope` (the token does not reach this resource), `reason` the code (`tenant`,
/// or `missing_claim` / `malformed` for a tenant claim that cannot be read).
pub fn wrong_tenant(realm: &str, code: &str) -> Answer {
    json_answer(
        403,
        vec![(
            "www-authenticate".into(),
            format!(
                "Bearer realm={}, error=\"insufficient_scope\", error_description={}",
                quoted(realm),
                quoted(code)
            ),
        )],
        serde_json::json!({"error": "insufficient_scope", "reason": code}),
    )
}

/// A dependency (JWKS past its stale bound, or the revocation list) is unavailable: 503.
pub fn unavailable(reason: &str, retry_after: i64) -> Answer {
    json_answer(
        503,
        vec![("retry-after".into(), retry_after.max(1).to_string())],
        serde_json::json!({"error": "temporarily_unavailable", "reason": reason}),
    )
}

/// A request the gate refuses to judge (RFC 6750 `invalid_request`, 400): a path that is not
/// canonical, or session cookies that could be read two ways. `reason` is a stable code.
pub fn invalid_request(realm: &str, reason: &str) -> Answer {
    json_answer(
        400,
        vec![(
            "www-authenticate".into(),
            format!(
                "Bearer realm={}, error=\"invalid_request\", error_description={}",
                quoted(realm),
                quoted(reason)
            ),
        )],
        serde_json::json!({"error": "invalid_request", "reason": reason}),
    )
}

/// A CORS preflight the gate answers itself (no `JWTGATE_PREFLIGHT_PATHS` prefix covers it):
/// 204 without any `Access-Control-Allow-*` header, so the browser does not send the request.
pub fn preflight_refused() -> Answer {
    Answer {
        status: 204,
        headers: vec![("vary".into(), "origin".into())],
        body: String::new(),
    }
}

/// The gate's published JWKS (its signing keys' public halves, `body`): cacheable for
/// `max_age` seconds by anyone, readable cross-origin (public keys).
pub fn published_jwks(body: &str, max_age: i64) -> Answer {
    Answer {
        status: 200,
        headers: vec![
            ("content-type".into(), "application/jwk-set+json".into()),
            ("cache-control".into(), format!("public, max-age={max_age}")),
            ("access-control-allow-origin".into(), "*".into()),
        ],
        body: body.to_owned(),
    }
}

/// A JSON answer of the gate's own (the admin endpoint's).
pub fn json(status: u16, body: serde_json::Value) -> Answer {
    json_answer(status, Vec::new(), body)
}

/// No such path (the admin endpoint's): 404.
pub fn not_found() -> Answer {
    json_answer(404, Vec::new(), serde_json::json!({"error": "not_found"}))
}

/// A method the path does not take: 405 with `Allow`.
pub fn method_not_allowed(allow: &str) -> Answer {
    json_answer(
        405,
        vec![("allow".into(), allow.into())],
        serde_json::json!({"error": "method_not_allowed"}),
    )
}

/// A request the gate will not serve (a cross-site refresh): 403 with a stable reason.
pub fn forbidden(reason: &str) -> Answer {
    json_answer(
        403,
        Vec::new(),
        serde_json::json!({"error": "forbidden", "reason": reason}),
    )
}

/// `Set-Cookie` attributes of the refresh cookie: host-only, every path, never sent cross-site,
/// unreadable by scripts; `Secure` unless the site is plain HTTP.
fn refresh_cookie_attributes(plain_http: bool) -> &'static str {
    if plain_http {
        "Path=/; HttpOnly; SameSite=Strict"
    } else {
        "Path=/; Secure; HttpOnly; SameSite=Strict"
    }
}

/// The `Set-Cookie` value that removes the refresh cookie.
pub fn clear_cookie(name: &str, plain_http: bool) -> String {
    format!(
        "{name}=; Max-Age=0; {}",
        refresh_cookie_attributes(plain_http)
    )
}

/// A refused refresh (OAuth 2.0's `invalid_grant`, RFC 6749 §5.2): `status` with the reason,
/// and the refresh cookie cleared (`clear`, from [`clear_cookie`]).
pub fn refresh_refused(status: u16, reason: &str, clear: &str) -> Answer {
    json_answer(
        status,
        vec![("set-cookie".into(), clear.to_owned())],
        serde_json::json!({"error": "invalid_grant", "reason": reason}),
    )
}

/// A refresh that rotated: the access token in an RFC 6749 §5.1 body, the next refresh token
/// as the refresh cookie (never in the body, so scripts never see it).
pub fn refreshed(issued: &crate::refresh::Issued, cookie: &str, plain_http: bool) -> Answer {
    json_answer(
        200,
        vec![(
            "set-cookie".into(),
            format!(
                "{cookie}={}; Max-Age={}; {}",
                issued.refresh_token,
                issued.refresh_expires_in,
                refresh_cookie_attributes(plain_http)
            ),
        )],
        serde_json::json!({
            "access_token": issued.access_token,
            "token_type": "Bearer",
            "expires_in": issued.access_expires_in,
        }),
    )
}

/// The gate's configuration is invalid: 500 for every request.
pub fn misconfigured() -> Answer {
    json_answer(
        500,
        Vec::new(),
        serde_json::json!({"error": "misconfigured"}),
    )
}

/// Whether a request is a browser navigation: `GET`/`HEAD` whose `Accept` lists `text/html`
/// before any JSON type.
pub fn is_navigation(method: &str, accept: Option<&str>) -> bool {
    if !method.eq_ignore_ascii_case("GET") && !method.eq_ignore_ascii_case("HEAD") {
        return false;
    }
    let accept = accept.unwrap_or("").to_ascii_lowercase();
    match (accept.find("text/html"), accept.find("json")) {
        (Some(h), Some(j)) => h < j,
        (Some(_), None) => true,
        _ => false,
    }
}

fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenges() {
        let a = invalid_token("app.example", "expired");
        assert_eq!(a.status, 401);
        assert_eq!(
            a.headers[0].1,
            r#"Bearer realm="app.example", error="invalid_token", error_description="expired""#
        );
        assert_eq!(a.body, r#"{"error":"invalid_token","reason":"expired"}"#);
        let a = missing_token("a\"b");
        assert_eq!(a.headers[0].1, r#"Bearer realm="a\"b""#);
        let a = insufficient_scope("h", &["admin".into(), "billing".into()]);
        assert_eq!(a.status, 403);
        assert!(a.headers[0]
            .1
            .contains(r#"error="insufficient_scope", scope="admin billing""#));
    }

    #[test]
    fn redirects_and_navigation() {
        let a = login_redirect("/login", "https://app.example/a?b=c");
        assert_eq!(a.status, 302);
        assert_eq!(
            a.headers[0].1,
            "/login?callbackUrl=https%3A%2F%2Fapp.example%2Fa%3Fb%3Dc"
        );
        let a = login_redirect("https://id.example/login?x=1", "https://app.example/");
        assert!(a.headers[0]
            .1
            .starts_with("https://id.example/login?x=1&callbackUrl="));
        assert!(is_navigation(
            "GET",
            Some("text/html,application/xhtml+xml,*/*;q=0.8")
        ));
        assert!(!is_navigation("GET", Some("application/json, text/html")));
        assert!(!is_navigation("GET", Some("*/*")));
        assert!(!is_navigation("POST", Some("text/html")));
        assert!(!is_navigation("GET", None));
    }
}
