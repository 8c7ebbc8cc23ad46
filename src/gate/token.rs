//! Where the token comes from, and which credentials go on to the upstream.
//!
//! `Authorization: Bearer` first, then the configured token headers in order
//! (`JWTGATE_TOKEN_HEADER`, then the providers' own, e.g. Cloudflare Access's
//! `Cf-Access-Jwt-Assertion`: the whole value is the token), then the configured session cookies
//! in order. Cookies are read
//! exactly as Auth.js's `SessionStore` reads them (every cookie whose name starts with the
//! configured name is a piece, pieces are joined in the order of their numeric suffix), but only
//! when that reading is unambiguous: one cookie named exactly `name`, or chunks `name.0` …
//! `name.k` with no gap, each once, and nothing else starting with `name`. Any other cookie set
//! (a duplicate, an unchunked cookie beside chunks, a gap, a stray `name.x`) could be read one way
//! here and another way by the app, so it is refused ([`Ambiguous`]).
//!
//! A request authenticated with one credential never carries another to the upstream:
//! [`forwarded_cookies`] drops every configured session cookie (all chunks) other than the one
//! the gate verified, and the Worker drops `Authorization` unless the bearer token was the one
//! verified, and every spelling of each token header unless it was the one verified. The app behind the gate can only act on the credential the gate checked.

/// Where the verified token came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// `Authorization: Bearer`.
    Bearer,
    /// `Authorization: DPoP` (with `JWTGATE_DPOP`): the token with its `DPoP` proof header.
    Dpop,
    /// The configured token header at this index of the gate's list (`JWTGATE_TOKEN_HEADER`,
    /// then the providers' own).
    Header(usize),
    /// The configured cookie at this index of the cookie-name list.
    Cookie(usize),
}

/// A token and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential {
    /// The token text.
    pub token: String,
    /// Its source.
    pub source: Source,
}

/// A session-cookie set that Auth.js and the gate could read differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ambiguous;

/// The bearer token, else the first configured token header the request has non-empty
/// (`token_headers`: their values, in the gate's order), else the first configured session
/// cookie present; `Ok(None)` when there is none; `Err(Ambiguous)` when a configured cookie's
/// pieces are not an unambiguous set. The bearer scheme is matched case-insensitively
/// (RFC 7235); a cookie value may be double-quoted.
pub fn extract_token(
    authorization: Option<&str>,
    token_headers: &[Option<String>],
    cookie_header: Option<&str>,
    cookie_names: &[&str],
) -> Result<Option<Credential>, Ambiguous> {
    if let Some(header) = cookie_header {
        hidden_session_cookie(header, cookie_names)?;
    }
    let cookies = cookie_header.map(parse_cookies).unwrap_or_default();
    // Every configured cookie set must be unambiguous, used or not: the app may read any of them.
    let mut first = None;
    for (i, name) in cookie_names.iter().enumerate() {
        if let Some(token) = session_cookie(&cookies, name)? {
            first.get_or_insert(Credential {
                token,
                source: Source::Cookie(i),
            });
        }
    }
    if let Some(token) = bearer_token(authorization) {
        return Ok(Some(Credential {
            token: token.to_owned(),
            source: Source::Bearer,
        }));
    }
    for (i, value) in token_headers.iter().enumerate() {
        if let Some(token) = value.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
            return Ok(Some(Credential {
                token: token.to_owned(),
                source: Source::Header(i),
            }));
        }
    }
    Ok(first)
}

/// The token of an `Authorization: DPoP <token>` header (RFC 9449 §7.1; the scheme matched
/// case-insensitively, as RFC 7235 asks), `None` for another scheme or an empty token.
pub fn dpop_token(authorization: Option<&str>) -> Option<&str> {
    scheme_token(authorization, "dpop")
}

/// The token of an `Authorization: Bearer <token>` header (the scheme in any case), `None` for
/// another scheme or an empty token.
pub fn bearer_token(authorization: Option<&str>) -> Option<&str> {
    scheme_token(authorization, "bearer")
}

fn scheme_token<'a>(authorization: Option<&'a str>, scheme: &str) -> Option<&'a str> {
    let (given, rest) = authorization?.trim().split_once(' ')?;
    let token = rest.trim();
    (given.eq_ignore_ascii_case(scheme) && !token.is_empty()).then_some(token)
}

/// The value of one configured session cookie, joined from its chunks.
fn session_cookie(cookies: &[(&str, &str)], name: &str) -> Result<Option<String>, Ambiguous> {
    let pieces: Vec<(&str, &str)> = cookies
        .iter()
        .copied()
        .filter(|(n, _)| n.starts_with(name))
        .collect();
    match pieces.as_slice() {
        [] => return Ok(None),
        // A lone empty cookie (a cleared session) is no cookie, as for Auth.js.
        [(n, "")] if *n == name => return Ok(None),
        [(n, v)] if *n == name => return Ok(Some((*v).to_owned())),
        _ => {}
    }
    let mut joined = String::new();
    for index in 0..pieces.len() {
        let chunk = format!("{name}.{index}");
        let mut found = pieces.iter().filter(|(n, _)| *n == chunk);
        match (found.next(), found.next()) {
            (Some((_, v)), None) if !v.is_empty() => joined.push_str(v),
            _ => return Err(Ambiguous),
        }
    }
    // Every piece was a distinct `name.0 .. name.k`: nothing else starts with `name`.
    Ok(Some(joined))
}

/// A cookie name (or any cookie text) as some upstream may match it: ASCII lower case, `.`, ` `
/// and `[` read as `_`, without a leading `__Secure-` or `__Host-` in any case. Auth.js on plain
/// HTTP reads the unprefixed name, ASP.NET's cookie collection ignores case, PHP turns `.`, ` `
/// and `[` in names into `_`, other frameworks strip the prefixes: every one of those spellings
/// must be treated as the cookie itself. (Names a framework would decode further, with `%` or
/// bytes outside visible ASCII, are refused outright: see [`extract_token`].)
pub fn cookie_base(name: &str) -> String {
    let folded: String = name
        .trim()
        .chars()
        .map(|c| match c.to_ascii_lowercase() {
            '.' | ' ' | '[' => '_',
            c => c,
        })
        .collect();
    for prefix in ["__secure-", "__host-"] {
        if let Some(rest) = folded.strip_prefix(prefix) {
            return rest.to_owned();
        }
    }
    folded
}

/// Whether a cookie name is one some framework would decode or fold into another name before
/// matching it: a `%` (PHP, old Rack and ASP.NET Core URL-decode names), a byte outside visible
/// ASCII (Unicode case folding: the Kelvin sign is `k` to Java's `equalsIgnoreCase`, Go's
/// `EqualFold` and Python's `casefold`), or a control byte. RFC 6265 names have none of these.
fn foldable_name(name: &str) -> bool {
    name.bytes()
        .any(|b| b == b'%' || !(0x20..0x7f).contains(&b))
}

/// Whether the cookie `name` is a spelling of the configured `configured` or of one of its
/// pieces: the same [`cookie_base`], or one with more after it (`.0`, `.1`, a stray suffix).
fn spelling_of(name: &str, configured: &str) -> bool {
    cookie_base(name).starts_with(&cookie_base(configured))
}

/// Refuses a `Cookie` header where a configured session-cookie name, in any spelling
/// ([`cookie_base`]), appears anywhere but at the start of a `;`-separated pair's name: inside a
/// value (`a=1 __Secure-authjs.session-token=x`, or after a `,`, which is how a runtime joins two
/// `Cookie` fields), or after other bytes in a name. Parsers that also split on spaces or commas
/// (Python's `SimpleCookie`, legacy Tomcat) would find a session cookie there that the gate
/// neither read nor stripped. Also refuses, when session cookies are configured, any name a
/// framework would decode or fold into another ([`foldable_name`]: `authjs%2Esession-token` is
/// PHP's `authjs_session-token`): the gate could not tell which cookie the app would see.
fn hidden_session_cookie(header: &str, cookie_names: &[&str]) -> Result<(), Ambiguous> {
    if cookie_names.is_empty() {
        return Ok(());
    }
    let bases: Vec<String> = cookie_names.iter().map(|c| cookie_base(c)).collect();
    for pair in header.split(';') {
        let (name, value) = match pair.split_once('=') {
            Some((n, v)) => (n.trim(), Some(cookie_base(v))),
            None => (pair.trim(), None),
        };
        let folded = cookie_base(name);
        let mentions = |text: &str| bases.iter().any(|b| text.contains(b.as_str()));
        let in_value = value.as_deref().is_some_and(mentions);
        let in_name = mentions(&folded) && !cookie_names.iter().any(|c| spelling_of(name, c));
        let bare = value.is_none() && mentions(&folded);
        if in_value || in_name || bare || foldable_name(name) {
            return Err(Ambiguous);
        }
    }
    Ok(())
}

/// At most this many cookies are cleared in one answer (Auth.js splits a session into chunks of
/// about 4 KB, so a real session has a handful).
pub const MAX_CLEARED_COOKIES: usize = 24;

/// The session cookies to clear when a browser's session has ended or is broken: the name of
/// every cookie of the request that is a spelling of a configured session cookie (chunks
/// included, each once, as the browser sent it; at most [`MAX_CLEARED_COOKIES`]), else the
/// configured names themselves.
pub fn session_cookies_to_clear(cookie_header: Option<&str>, cookie_names: &[&str]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (name, _) in cookie_header.map(parse_cookies).unwrap_or_default() {
        let ours = cookie_names.iter().any(|c| spelling_of(name, c));
        if ours && crate::cookie::is_cookie_name(name) && !out.iter().any(|n| n == name) {
            out.push(name.to_owned());
        }
        if out.len() == MAX_CLEARED_COOKIES {
            break;
        }
    }
    if out.is_empty() {
        out = cookie_names.iter().map(|c| (*c).to_owned()).collect();
    }
    out
}

/// `name=value` pairs of a `Cookie` header, in order, quotes removed.
fn parse_cookies(header: &str) -> Vec<(&str, &str)> {
    header
        .split(';')
        .filter_map(|pair| {
            let (n, v) = pair.split_once('=')?;
            let v = v.trim();
            let v = v
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .unwrap_or(v);
            Some((n.trim(), v))
        })
        .collect()
}

/// The value of the one cookie named exactly `name` (quotes removed): `Ok(None)` without one,
/// `Err(Ambiguous)` when there are several (a client, or a sibling site writing cookies, could
/// make the gate and a browser disagree on which one is meant).
pub fn single_cookie(cookie_header: Option<&str>, name: &str) -> Result<Option<String>, Ambiguous> {
    let Some(header) = cookie_header else {
        return Ok(None);
    };
    let cookies = parse_cookies(header);
    let mut found = cookies.iter().filter(|(n, _)| *n == name);
    match (found.next(), found.next()) {
        (None, _) => Ok(None),
        (Some((_, "")), None) => Ok(None),
        (Some((_, v)), None) => Ok(Some((*v).to_owned())),
        (Some(_), Some(_)) => Err(Ambiguous),
    }
}

/// `cookie_header` without the gate's own refresh cookie `name`, which never goes upstream: every
/// `;`-separated pair that mentions it in any spelling ([`cookie_base`]: any case, with or
/// without `__Host-`/`__Secure-`, chunks and suffixes) is dropped, in its name or in its value
/// (`a=1, __Host-jwtgate-refresh=…`, two `Cookie` fields joined by a runtime), and so is every
/// pair whose name has a `%` or a byte outside visible ASCII. `None` when nothing is left.
pub fn without_cookie(cookie_header: &str, name: &str) -> Option<String> {
    let base = cookie_base(name);
    let kept: Vec<&str> = cookie_header
        .split(';')
        .map(str::trim)
        .filter(|pair| !pair.is_empty())
        .filter(|pair| !cookie_base(pair).contains(base.as_str()))
        // A name some framework decodes or folds (it could become the refresh cookie's):
        // dropped as well.
        .filter(|pair| !foldable_name(pair.split_once('=').map_or(*pair, |(n, _)| n)))
        .collect();
    (!kept.is_empty()).then(|| kept.join("; "))
}

/// The `Cookie` header to forward: every cookie that is a spelling of a configured session name
/// ([`cookie_base`]: any case, with or without `__Secure-`/`__Host-`, chunks included) is
/// removed, except the exact cookie `keep` (the one the gate verified) and its exact chunks.
/// Other cookies pass as they came. `None` when nothing is left.
pub fn forwarded_cookies(
    cookie_header: &str,
    cookie_names: &[&str],
    keep: Option<usize>,
) -> Option<String> {
    let kept: Vec<&str> = cookie_header
        .split(';')
        .map(str::trim)
        .filter(|pair| !pair.is_empty())
        .filter(|pair| {
            let name = pair.split_once('=').map_or(*pair, |(n, _)| n.trim());
            match cookie_names.iter().position(|c| spelling_of(name, c)) {
                None => true,
                Some(_) => keep.is_some_and(|k| {
                    // Kept only if it belongs to the verified cookie and to no other configured
                    // name (`a` and `a.b` configured: `a.b.0` is `a.b`'s).
                    let mine = name.starts_with(cookie_names[k]);
                    let longer = cookie_names.iter().enumerate().any(|(j, c)| {
                        j != k && c.len() > cookie_names[k].len() && name.starts_with(*c)
                    });
                    mine && !longer
                }),
            }
        })
        .collect();
    if kept.is_empty() {
        None
    } else {
        Some(kept.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Vec<&'static str> {
        vec!["__Secure-authjs.session-token", "authjs.session-token"]
    }

    fn token(auth: Option<&str>, cookies: Option<&str>) -> Result<Option<String>, Ambiguous> {
        extract_token(auth, &[], cookies, &names()).map(|c| c.map(|c| c.token))
    }

    #[test]
    fn bearer_wins() {
        let c = extract_token(
            Some("Bearer abc"),
            &[Some("hdr".into())],
            Some("authjs.session-token=zzz"),
            &names(),
        );
        assert_eq!(
            c,
            Ok(Some(Credential {
                token: "abc".into(),
                source: Source::Bearer
            }))
        );
        assert_eq!(token(Some("bearer   abc "), None), Ok(Some("abc".into())));
        assert_eq!(token(Some("Basic dXNlcjpwYXNz"), None), Ok(None));
        assert_eq!(token(Some("Bearer "), None), Ok(None));
        assert_eq!(token(Some("Bearer"), None), Ok(None));
        // A non-bearer Authorization falls through to cookies.
        let c = extract_token(
            Some("Basic x"),
            &[],
            Some("authjs.session-token=c"),
            &names(),
        );
        assert_eq!(
            c,
            Ok(Some(Credential {
                token: "c".into(),
                source: Source::Cookie(1)
            }))
        );
    }

    #[test]
    fn the_token_header_comes_after_bearer_and_before_cookies() {
        let cookie = Some("authjs.session-token=c");
        let headers = [None, Some(" hdr ".to_owned()), Some("later".to_owned())];
        let c = extract_token(Some("Basic x"), &headers, cookie, &names());
        assert_eq!(
            c,
            Ok(Some(Credential {
                token: "hdr".into(),
                source: Source::Header(1)
            }))
        );
        // Empty: no credential there, the cookie is read.
        let c = extract_token(None, &[Some("  ".into())], cookie, &names()).unwrap();
        assert_eq!(c.map(|c| c.source), Some(Source::Cookie(1)));
        // Ambiguous cookies are refused even when the header carries the token.
        let twice = Some("authjs.session-token=a; authjs.session-token=b");
        assert_eq!(
            extract_token(None, &[Some("hdr".into())], twice, &names()),
            Err(Ambiguous)
        );
    }

    #[test]
    fn a_session_cookie_hidden_in_another_pair_is_refused() {
        // Another parser splitting on spaces or commas would read the victim's cookie here.
        for h in [
            "a=1 __Secure-authjs.session-token=victim",
            "a=1,__Secure-authjs.session-token=victim",
            "a=\"x __Secure-authjs.session-token=victim\"",
            "x,__Secure-authjs.session-token=victim; theme=dark",
            "theme=dark; x __Secure-authjs.session-token=victim",
            "__Secure-authjs.session-token",
        ] {
            assert_eq!(token(Some("Bearer mine"), Some(h)), Err(Ambiguous), "{h}");
            assert_eq!(token(None, Some(h)), Err(Ambiguous), "{h}");
        }
        // Names at the start of a pair, chunks, and the plain name inside the prefixed one pass.
        for h in [
            "__Secure-authjs.session-token=t; theme=dark",
            " __Secure-authjs.session-token.0=a;__Secure-authjs.session-token.1=b",
            "authjs.session-token=p; __Secure-authjs.session-token=s",
            "theme=dark; authjs.callback-url=http%3A%2F%2Flocalhost",
        ] {
            assert!(token(None, Some(h)).is_ok(), "{h}");
        }
    }

    #[test]
    fn cookies_in_configured_order() {
        let h = "theme=dark; authjs.session-token=plain; __Secure-authjs.session-token=secure";
        assert_eq!(token(None, Some(h)), Ok(Some("secure".into())));
        assert_eq!(
            token(None, Some("authjs.session-token=\"quoted\"")),
            Ok(Some("quoted".into()))
        );
        assert_eq!(token(None, Some("other=1")), Ok(None));
        assert_eq!(token(None, Some("authjs.session-token=")), Ok(None));
    }

    #[test]
    fn chunked_cookies_join_in_index_order() {
        let h = "authjs.session-token.1=BBB; x=y; authjs.session-token.0=AAA; authjs.session-token.2=CC";
        assert_eq!(token(None, Some(h)), Ok(Some("AAABBBCC".into())));
    }

    #[test]
    fn sets_auth_js_could_read_differently_are_ambiguous() {
        for h in [
            // duplicates: cookie parsers disagree on first or last
            "authjs.session-token=A; authjs.session-token=B",
            "authjs.session-token=; authjs.session-token=B",
            "authjs.session-token.0=A; authjs.session-token.0=B",
            // unchunked beside chunks: Auth.js joins them all
            "authjs.session-token=A; authjs.session-token.0=B",
            // gaps: Auth.js joins across them
            "authjs.session-token.0=AAA; authjs.session-token.2=CC",
            "authjs.session-token.1=BBB",
            // names that start with the cookie name: Auth.js takes them as pieces
            "authjs.session-token.0=A; authjs.session-token.x=B",
            "authjs.session-tokenX=A",
            "authjs.session-token.01=A",
            // an empty chunk
            "authjs.session-token.0=A; authjs.session-token.1=",
        ] {
            assert_eq!(token(None, Some(h)), Err(Ambiguous), "{h}");
            // ... even when a bearer token is what authenticates: the app may read the cookie.
            assert_eq!(token(Some("Bearer t"), Some(h)), Err(Ambiguous), "{h}");
        }
    }

    #[test]
    fn only_the_verified_credential_is_forwarded() {
        let n = names();
        let h = "theme=dark; authjs.session-token.0=A; authjs.session-token.1=B; __Secure-authjs.session-token=S; sid=1";
        // Authenticated by bearer: every session cookie is dropped.
        assert_eq!(
            forwarded_cookies(h, &n, None).as_deref(),
            Some("theme=dark; sid=1")
        );
        // Authenticated by the secure cookie: the plain one's chunks are dropped.
        assert_eq!(
            forwarded_cookies(h, &n, Some(0)).as_deref(),
            Some("theme=dark; __Secure-authjs.session-token=S; sid=1")
        );
        assert_eq!(
            forwarded_cookies(h, &n, Some(1)).as_deref(),
            Some("theme=dark; authjs.session-token.0=A; authjs.session-token.1=B; sid=1")
        );
        assert_eq!(forwarded_cookies("authjs.session-token=x", &n, None), None);
        // Overlapping names: `a.b` is not kept as part of `a`.
        let n2 = vec!["a", "a.b"];
        assert_eq!(
            forwarded_cookies("a=1; a.b=2; c=3", &n2, Some(0)).as_deref(),
            Some("a=1; c=3")
        );
    }

    #[test]
    fn every_spelling_of_a_session_cookie_but_the_verified_one_is_stripped() {
        // Only the prefixed name configured (the default): an Auth.js app on plain HTTP reads the
        // unprefixed one, ASP.NET reads any case, others strip the prefix.
        let n = vec!["__Secure-authjs.session-token"];
        for other in [
            "authjs.session-token=B",
            "AUTHJS.SESSION-TOKEN=B",
            "__secure-authjs.session-token=B",
            "__Host-authjs.session-token=B",
            "__HOST-Authjs.Session-Token.0=B",
            "authjs.session-token.1=B",
        ] {
            let h = format!("theme=dark; {other}; sid=1");
            // Authenticated by a bearer token: none of them goes on.
            assert_eq!(
                forwarded_cookies(&h, &n, None).as_deref(),
                Some("theme=dark; sid=1"),
                "{other}"
            );
            // Authenticated by the exact cookie: it goes on, the other spelling does not.
            let h = format!("__Secure-authjs.session-token=A; {other}");
            assert_eq!(
                forwarded_cookies(&h, &n, Some(0)).as_deref(),
                Some("__Secure-authjs.session-token=A"),
                "{other}"
            );
        }
        // PHP's spelling (`.` read as `_`): stripped like the others.
        for other in [
            "__Secure-authjs_session-token=B",
            "authjs_session-token=B",
            "authjs session-token=B",
        ] {
            let h = format!("__Secure-authjs.session-token=A; {other}");
            assert_eq!(
                forwarded_cookies(&h, &n, Some(0)).as_deref(),
                Some("__Secure-authjs.session-token=A"),
                "{other}"
            );
        }
        // Names a framework would decode or fold into the session cookie's: refused outright.
        for h in [
            "authjs%2Esession-token=B",
            "__Secure-authjs%2esession-token=B",
            "authjs.session-to\u{212A}en=B",
            "authjs.se\u{17F}sion-token=B",
            "authjs.sess\u{131}on-token=B",
            "x\u{7f}=1",
        ] {
            assert_eq!(
                extract_token(Some("Bearer mine"), &[], Some(h), &n),
                Err(Ambiguous),
                "{h}"
            );
        }
        // Without configured session cookies nothing is read, so nothing is refused.
        assert!(extract_token(None, &[], Some("a%2Eb=1"), &[]).is_ok());
        // Hidden after a `,` (two Cookie fields joined) in another case: refused, not read.
        for h in [
            "a=1, AUTHJS.session-token=victim",
            "a=1,__host-authjs.session-token=victim",
            "a=\"x Authjs.Session-Token=victim\"",
        ] {
            assert_eq!(
                extract_token(Some("Bearer mine"), &[], Some(h), &n),
                Err(Ambiguous),
                "{h}"
            );
        }
    }

    #[test]
    fn the_refresh_cookie_never_survives_in_any_spelling() {
        for name in ["__Host-jwtgate-refresh", "jwtgate-refresh"] {
            for h in [
                "a=1; __Host-jwtgate-refresh=R; b=2",
                "a=1; __host-jwtgate-refresh=R; b=2",
                "a=1; __HOST-JWTGATE-REFRESH=R; b=2",
                "a=1; jwtgate-refresh=R; b=2",
                "a=1; __Secure-jwtgate-refresh=R; b=2",
                "a=1; __Host-jwtgate-refresh.0=R; b=2",
            ] {
                assert_eq!(
                    without_cookie(h, name).as_deref(),
                    Some("a=1; b=2"),
                    "{name}: {h}"
                );
            }
            // Decoded or folded by some framework into the refresh cookie's name: dropped.
            assert_eq!(
                without_cookie("a=1; jwtgate%2Drefresh=R; b=2", name).as_deref(),
                Some("a=1; b=2")
            );
            // A value with escapes is no name: kept.
            assert_eq!(
                without_cookie("cb=http%3A%2F%2Fa; b=2", name).as_deref(),
                Some("cb=http%3A%2F%2Fa; b=2")
            );
            // Joined fields: the pair that hides it goes, with what it hid behind.
            assert_eq!(
                without_cookie("a=1, __Host-jwtgate-refresh=R; b=2", name).as_deref(),
                Some("b=2")
            );
            assert_eq!(without_cookie("__Host-jwtgate-refresh=R", name), None);
            assert_eq!(
                without_cookie("theme=dark; x=1", name).as_deref(),
                Some("theme=dark; x=1")
            );
        }
    }
}
