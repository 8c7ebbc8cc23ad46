//! Auth.js session cookies (src/jwe.rs) against cookies made by the real `@auth/core`
//! (`tests/fixtures/authjs/cookies.json`, from `scripts/gen-authjs-cookies.mjs`): what opens,
//! and each refusal with its code. The npm and gate suites make fresh cookies with
//! `@auth/core` at test time.
#![cfg(feature = "jwe")]

mod common;

use common::b64;
use jwtgate::jwe::{AuthJsCookie, Encryption};
use jwtgate::{Code, Policy};
use serde_json::{json, Value};

fn fx() -> Value {
    serde_json::from_str(include_str!("fixtures/authjs/cookies.json")).unwrap()
}

fn s(v: &Value, k: &str) -> String {
    v[k].as_str().unwrap().to_owned()
}

fn policy(extra: Value) -> Policy {
    let mut p =
        json!({ "issuer": "https://app.example", "audience": "app", "algorithms": ["HS256"] });
    p.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    Policy::from_value_keys_optional(&p).unwrap()
}

fn reader(secrets: &[String], cookie: &str) -> AuthJsCookie {
    AuthJsCookie::new(secrets, cookie, &policy(json!({}))).unwrap()
}

fn now(f: &Value) -> i64 {
    f["iat"].as_i64().unwrap() + 10
}

fn code(r: &AuthJsCookie, token: &str, at: i64) -> Code {
    r.open(token, at).unwrap_err().code()
}

#[test]
fn opens_what_auth_js_encodes() {
    let f = fx();
    let r = reader(&[s(&f, "secret")], &s(&f, "secureCookie"));
    let o = r.open(&s(&f, "cbc"), now(&f)).unwrap();
    assert_eq!(o.enc, Encryption::A256CbcHs512);
    assert_eq!(o.secret_index, 0);
    for (k, v) in f["claims"].as_object().unwrap() {
        assert_eq!(&o.claims[k], v, "claim {k}");
    }
    // Auth.js's own additions: iat, exp = iat + maxAge, a jti.
    assert_eq!(o.claims["iat"], f["iat"]);
    assert_eq!(
        o.claims["exp"].as_i64().unwrap(),
        f["iat"].as_i64().unwrap() + f["maxAge"].as_i64().unwrap()
    );
    assert!(o.claims["jti"].is_string());
    let reparsed: Value = serde_json::from_str(&o.payload_json).unwrap();
    assert_eq!(reparsed, Value::Object(o.claims.clone()));
    // The kid is the header's, as Auth.js wrote it.
    let header = s(&f, "cbc").split('.').next().unwrap().to_owned();
    assert!(String::from_utf8(
        base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, header).unwrap()
    )
    .unwrap()
    .contains(&o.kid));
}

#[test]
fn a256gcm_as_auth_js_decode_accepts() {
    let f = fx();
    let r = reader(&[s(&f, "secret")], &s(&f, "secureCookie"));
    let o = r.open(&s(&f, "gcm"), now(&f)).unwrap();
    assert_eq!(o.enc, Encryption::A256Gcm);
    assert_eq!(o.claims["sub"], "user_1");
}

#[test]
fn rotation_tries_each_secret_by_kid() {
    let f = fx();
    let cookie = s(&f, "secureCookie");
    let old = s(&f, "cbcOldSecret");
    assert_eq!(
        code(&reader(&[s(&f, "secret")], &cookie), &old, now(&f)),
        Code::KeyNotFound
    );
    let both = reader(&[s(&f, "secret"), s(&f, "oldSecret")], &cookie);
    assert_eq!(both.open(&old, now(&f)).unwrap().secret_index, 1);
    assert_eq!(both.open(&s(&f, "cbc"), now(&f)).unwrap().secret_index, 0);
}

#[test]
fn the_cookie_name_is_part_of_the_key() {
    let f = fx();
    let plain_token = s(&f, "cbcPlainCookie");
    let secure = reader(&[s(&f, "secret")], &s(&f, "secureCookie"));
    assert_eq!(code(&secure, &plain_token, now(&f)), Code::KeyNotFound);
    let plain = reader(&[s(&f, "secret")], &s(&f, "plainCookie"));
    assert!(plain.open(&plain_token, now(&f)).is_ok());
    assert_eq!(code(&plain, &s(&f, "cbc"), now(&f)), Code::KeyNotFound);
}

#[test]
fn the_policy_applies_after_decryption() {
    let f = fx();
    let cookie = s(&f, "secureCookie");
    let secrets = [s(&f, "secret")];
    let r = reader(&secrets, &cookie);
    // Auth.js writes no iss/aud: an app that does not stamp them is refused, never passed.
    let e = r.open(&s(&f, "cbcNoIssuer"), now(&f)).unwrap_err();
    assert_eq!(
        (e.code(), e.claim_name()),
        (Code::MissingClaim, Some("iss"))
    );
    // exp = iat + maxAge, with the policy's 30 s leeway.
    let exp = f["iat"].as_i64().unwrap() + f["maxAge"].as_i64().unwrap();
    assert!(r.open(&s(&f, "cbc"), exp + 29).is_ok());
    assert_eq!(code(&r, &s(&f, "cbc"), exp + 30), Code::Expired);
    // Another audience, another issuer, a max age counted from auth_time, required claims.
    let other = |extra: Value| AuthJsCookie::new(&secrets, &cookie, &policy(extra)).unwrap();
    let token = s(&f, "cbc");
    assert_eq!(
        code(&other(json!({"audience": "api"})), &token, now(&f)),
        Code::Audience
    );
    assert_eq!(
        code(
            &other(json!({"issuer": "https://x.example"})),
            &token,
            now(&f)
        ),
        Code::Issuer
    );
    let aged = other(json!({"maxAgeSeconds": 3600}));
    assert!(aged.open(&token, now(&f)).is_ok());
    // Auth.js renews iat on every refresh: with a max age, only auth_time may bound it.
    let no_auth_time = s(&f, "cbcNoAuthTime");
    assert!(r.open(&no_auth_time, now(&f)).is_ok());
    let e = aged.open(&no_auth_time, now(&f)).unwrap_err();
    assert_eq!(
        (e.code(), e.claim_name()),
        (Code::MissingClaim, Some("auth_time"))
    );
    assert_eq!(code(&aged, &token, now(&f) + 3600 + 30), Code::TooOld);
    let e = other(json!({"requiredClaims": ["role"]}))
        .open(&token, now(&f))
        .unwrap_err();
    assert_eq!(
        (e.code(), e.claim_name()),
        (Code::MissingClaim, Some("role"))
    );
    // The size limit comes first.
    let small = other(json!({"maxTokenBytes": 256}));
    assert_eq!(code(&small, &token, now(&f)), Code::TooLarge);
}

/// The token with one segment replaced.
fn with_segment(token: &str, i: usize, value: &str) -> String {
    let mut parts: Vec<&str> = token.split('.').collect();
    parts[i] = value;
    parts.join(".")
}

/// The token with one character of segment `i` changed (to another base64url character).
fn flip(token: &str, i: usize) -> String {
    let seg = token.split('.').nth(i).unwrap();
    let mut b = seg.as_bytes().to_vec();
    let at = b.len() / 2;
    b[at] = if b[at] == b'A' { b'B' } else { b'A' };
    with_segment(token, i, std::str::from_utf8(&b).unwrap())
}

#[test]
fn any_altered_byte_fails_the_tag() {
    let f = fx();
    let r = reader(&[s(&f, "secret")], &s(&f, "secureCookie"));
    for name in ["cbc", "gcm"] {
        let token = s(&f, name);
        for i in [2, 3, 4] {
            assert_eq!(
                code(&r, &flip(&token, i), now(&f)),
                Code::Signature,
                "{name} segment {i}"
            );
        }
        // Whole blocks cut off the end, or the first block dropped: well-formed, so the tag
        // decides.
        let c = token.split('.').nth(3).unwrap();
        let bytes =
            base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, c).unwrap();
        assert!(bytes.len() >= 32, "{name}: at least two blocks");
        for cut in [&bytes[..bytes.len() - 16], &bytes[16..]] {
            assert_eq!(
                code(&r, &with_segment(&token, 3, &b64(cut)), now(&f)),
                Code::Signature,
                "{name} truncated"
            );
        }
        // Not whole blocks: for CBC, malformed before any key work; GCM has no blocks.
        let odd = with_segment(&token, 3, &b64(&bytes[..bytes.len() - 1]));
        let expected = if name == "cbc" {
            Code::Malformed
        } else {
            Code::Signature
        };
        assert_eq!(code(&r, &odd, now(&f)), expected, "{name} cut by a byte");
    }
}

#[test]
fn only_auth_js_shape_is_read() {
    let f = fx();
    let r = reader(&[s(&f, "secret")], &s(&f, "secureCookie"));
    let token = s(&f, "cbc");
    let header: Value = serde_json::from_slice(
        &base64::Engine::decode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            token.split('.').next().unwrap(),
        )
        .unwrap(),
    )
    .unwrap();
    let kid = header["kid"].clone();
    let with_header = |h: Value| with_segment(&token, 0, &b64(h.to_string().as_bytes()));
    let cases: Vec<(Value, Code)> = vec![
        (
            json!({"alg": "A256KW", "enc": "A256CBC-HS512", "kid": kid}),
            Code::Algorithm,
        ),
        (
            json!({"alg": "DIR", "enc": "A256CBC-HS512", "kid": kid}),
            Code::Algorithm,
        ),
        (
            json!({"alg": "HS256", "enc": "A256CBC-HS512", "kid": kid}),
            Code::Algorithm,
        ),
        (json!({"enc": "A256CBC-HS512", "kid": kid}), Code::Algorithm),
        (
            json!({"alg": "dir", "enc": "A128CBC-HS256", "kid": kid}),
            Code::Algorithm,
        ),
        (
            json!({"alg": "dir", "enc": "A128GCM", "kid": kid}),
            Code::Algorithm,
        ),
        (json!({"alg": "dir", "kid": kid}), Code::Algorithm),
        (json!({"alg": "dir", "enc": "A256CBC-HS512"}), Code::Header),
        (
            json!({"alg": "dir", "enc": "A256CBC-HS512", "kid": 7}),
            Code::Header,
        ),
        (
            json!({"alg": "dir", "enc": "A256CBC-HS512", "kid": kid, "zip": "DEF"}),
            Code::Header,
        ),
        (
            json!({"alg": "dir", "enc": "A256CBC-HS512", "kid": kid, "crit": ["x"]}),
            Code::Header,
        ),
        (
            json!({"alg": "dir", "enc": "A256CBC-HS512", "kid": kid, "typ": "JWT"}),
            Code::Header,
        ),
        (
            json!({"alg": "dir", "enc": "A256CBC-HS512", "kid": kid, "jwk": {"kty": "oct"}}),
            Code::Header,
        ),
        (
            json!({"alg": "dir", "enc": "A256CBC-HS512", "kid": "other"}),
            Code::KeyNotFound,
        ),
    ];
    for (h, expected) in cases {
        assert_eq!(code(&r, &with_header(h.clone()), now(&f)), expected, "{h}");
    }
    // The same members, written with a space: the AAD is the header as received, so the tag
    // fails.
    let spaced = format!(r#"{{"alg": "dir","enc":"A256CBC-HS512","kid":{kid}}}"#);
    assert_eq!(
        code(
            &r,
            &with_segment(&token, 0, &b64(spaced.as_bytes())),
            now(&f)
        ),
        Code::Signature
    );
    // Structure.
    let parts: Vec<&str> = token.split('.').collect();
    let m = |t: String| code(&r, &t, now(&f));
    assert_eq!(m(parts[..4].join(".")), Code::Malformed);
    assert_eq!(m(format!("{token}.")), Code::Malformed);
    assert_eq!(m(with_segment(&token, 1, "AAAA")), Code::Malformed);
    assert_eq!(m(with_segment(&token, 2, "AAAA")), Code::Malformed); // 3-byte IV
    assert_eq!(m(with_segment(&token, 4, "AAAA")), Code::Malformed); // 3-byte tag
    assert_eq!(m(with_segment(&token, 3, "")), Code::Malformed);
    assert_eq!(m(with_segment(&token, 3, "a+b/")), Code::Malformed);
    assert_eq!(m(with_segment(&token, 0, "e30")), Code::Algorithm); // {}
    assert_eq!(m(with_segment(&token, 0, "W10")), Code::Malformed); // []
    assert_eq!(m(String::new()), Code::Malformed);
    // A signed JWT is not a session cookie here.
    assert_eq!(m(parts[..3].join(".")), Code::Malformed);
}

#[test]
fn bad_settings_are_config_errors() {
    let p = policy(json!({}));
    let long = "s".repeat(32);
    let err = |secrets: &[&str], cookie: &str| AuthJsCookie::new(secrets, cookie, &p).unwrap_err();
    for (secrets, cookie, field) in [
        (&[][..], "authjs.session-token", "secret"),
        (&["short"][..], "authjs.session-token", "secret[0]"),
        (
            &[long.as_str(), ""][..],
            "authjs.session-token",
            "secret[1]",
        ),
        (
            &[long.as_str(), long.as_str()][..],
            "authjs.session-token",
            "secret[1]",
        ),
        (&[long.as_str()][..], "", "cookie"),
        (&[long.as_str()][..], "a;b", "cookie"),
        (&[long.as_str()][..], "a b", "cookie"),
    ] {
        let e = err(secrets, cookie);
        assert_eq!(
            (e.code(), e.field()),
            (Code::Config, Some(field)),
            "{secrets:?} {cookie:?}"
        );
        assert!(!e.message().contains(&long));
    }
    let nine: Vec<String> = (0..9).map(|i| format!("{long}{i}")).collect();
    assert_eq!(
        AuthJsCookie::new(&nine, "a", &p).unwrap_err().field(),
        Some("secret")
    );
}
