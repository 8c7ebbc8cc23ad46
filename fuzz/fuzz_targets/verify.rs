//! Fuzzes (policy JSON, token bytes): input is `policy \0 token` (no NUL: token only).
//!
//! Properties checked, beyond "never panics":
//! * a fixed multi-algorithm verifier answers every token with `Ok` or a typed error;
//! * so does a fixed Auth.js session-cookie reader (src/jwe.rs; seeded with a real cookie);
//! * any policy the fuzzer makes either fails with `config` or builds;
//! * when a policy builds both a signer and a verifier, a token the signer issues verifies
//!   (the signer never issues what its own policy refuses);
//! * the token as a DPoP proof (src/dpop.rs) gets a typed DPoP error, never `config`, and
//!   never passes (the fixed request's URL and the token's `ath` cannot both be met by chance);
//! * the token as a URI: `normalize_htu` is idempotent, and its output is plain visible ASCII;
//!   the gate's request-URL reader reads what it splits off back the same, sees the host DPoP's
//!   `htu` reader sees, and agrees with the WHATWG parser (the `url` crate) on every serialised
//!   http(s) URL both read: never two readings of one URL; the gate's path canonicaliser is
//!   idempotent and agrees with `htu`'s path normalisation wherever it takes a path;
//! * the gate's Durable Object messages and the sessions registry read back what they write.
#![no_main]

use jwtgate::{Code, Policy, Signer, SignerOptions, Verifier};
use libfuzzer_sys::fuzz_target;
use std::sync::LazyLock;

const NOW: i64 = 1_800_000_000;

static FIXED: LazyLock<Verifier> = LazyLock::new(|| {
    Verifier::from_json(include_str!("../seeds/policy.json")).expect("seed policy")
});

static AUTHJS: LazyLock<jwtgate::jwe::AuthJsCookie> = LazyLock::new(|| {
    let f: Value =
        serde_json::from_str(include_str!("../../tests/fixtures/authjs/cookies.json")).unwrap();
    let policy = Policy::from_value_keys_optional(&serde_json::json!({
        "issuer": "https://app.example", "audience": "app", "algorithms": ["HS256"]
    }))
    .unwrap();
    let secret = f["secret"].as_str().unwrap();
    jwtgate::jwe::AuthJsCookie::new(&[secret], f["secureCookie"].as_str().unwrap(), &policy)
        .expect("fixture reader")
});

static DPOP: LazyLock<jwtgate::dpop::DpopRules> = LazyLock::new(|| {
    let policy = Policy::from_value_keys_optional(&serde_json::json!({
        "issuer": "https://as.example", "audience": "api", "algorithms": ["ES256"],
        "dpop": {"algorithms": ["ES256", "EdDSA", "RS256", "PS256"]}
    }))
    .unwrap();
    policy.dpop().unwrap().clone()
});

fuzz_target!(|data: &[u8]| {
    let (policy, token) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (&data[..0], data),
    };
    let token = String::from_utf8_lossy(token);
    if let Err(e) = FIXED.verify(&token, NOW) {
        assert_ne!(e.code(), Code::Config);
    }
    if let Err(e) = AUTHJS.open(&token, NOW) {
        assert_ne!(e.code(), Code::Config);
    }
    // An explanation decodes every part itself and must agree with verify.
    let explained = jwtgate::explain::explain(Some(&FIXED), &token, NOW);
    assert_eq!(
        explained.outcome.clone().map(|r| r.map_err(|e| e.code())),
        Some(FIXED.verify(&token, NOW).map(drop).map_err(|e| e.code()))
    );
    let _ = explained.to_json();
    // The token as a DPoP proof for a fixed request and access token.
    let request = jwtgate::dpop::ProofRequest {
        method: "GET",
        url: "https://api.example/orders",
    };
    match jwtgate::dpop::check_proof(&DPOP, &token, &request, "access.token.here", NOW) {
        Ok(_) => panic!("a fuzzed proof passed"),
        Err(e) => assert!(matches!(e.code(), Code::DpopProof), "{e}"),
    }
    if let Some(n) = jwtgate::dpop::normalize_htu(&token) {
        assert!(n.bytes().all(|b| b.is_ascii_graphic()), "{n:?}");
        assert_eq!(jwtgate::dpop::normalize_htu(&n).as_deref(), Some(n.as_str()));
    }
    // The token as the request URL the gate reads: what it splits off serialises back to itself.
    if let Some(u) = jwtgate::gate::request::request_url(&token) {
        assert!(u.path.starts_with('/') && !u.host.is_empty(), "{u:?}");
        let again = format!(
            "https://{}{}{}",
            u.host,
            u.path,
            u.query.map(|q| format!("?{q}")).unwrap_or_default()
        );
        let v = jwtgate::gate::request::request_url(&again).expect("re-read");
        assert_eq!((v.host.as_str(), v.path, v.query), (u.host.as_str(), u.path, u.query));
        // DPoP's `htu` reader sees the same host in it.
        if let Some(n) = jwtgate::dpop::normalize_htu(&token) {
            let h = jwtgate::gate::request::request_url(&n).expect("a normalised htu reads");
            assert_eq!(h.host, u.host, "{token:?} -> {n:?}");
        }
        // The path canonicaliser is idempotent, and where it takes a path, DPoP's `htu`
        // normalisation of that path is the same (both read escapes with `uri`'s one reader;
        // only `htu` also escapes the raw characters RFC 3986 does not allow in a path).
        if let Ok(c) = jwtgate::gate::canonical_path(u.path) {
            assert_eq!(jwtgate::gate::canonical_path(&c).as_deref(), Ok(c.as_str()));
            if !c.bytes().any(|b| b"\"<>^`{|}".contains(&b)) {
                let n = jwtgate::dpop::normalize_htu(&format!("https://h.example{}", u.path));
                assert_eq!(n, Some(format!("https://h.example{c}")), "{token:?}");
            }
        }
    }
    // Never two readings of one URL: wherever the WHATWG parser reads an http(s) URL that is
    // already in its serialised form (what workerd hands the gate) and the gate reads it too,
    // both see the same host, path and query. (The gate may refuse more: a host with a
    // character WHATWG allows and DNS never has, `"` say, is a 400 `url` at the gate.)
    if let (Ok(parsed), Some(u)) = (
        url::Url::parse(&token),
        jwtgate::gate::request::request_url(&token),
    ) {
        let plain = parsed.username().is_empty() && parsed.password().is_none();
        if matches!(parsed.scheme(), "http" | "https") && plain && parsed.as_str() == token {
            assert_eq!(Some(u.host.as_str()), parsed.host_str(), "{token:?}");
            assert_eq!(u.path, parsed.path(), "{token:?}");
            assert_eq!(u.query, parsed.query(), "{token:?}");
        }
    }
    // The gate's Durable Object protocol and the sessions registry: whatever they read back,
    // they write again the same way (one reading per message), and never panic.
    {
        use jwtgate::gate::state::{EndRequest, SeenRequest, SubjectAnswer};
        if let Some(r) = SeenRequest::decode(&token) {
            assert_eq!(SeenRequest::decode(&r.encode()), Some(r));
        }
        if let Some(r) = EndRequest::decode(&token) {
            assert_eq!(EndRequest::decode(&r.encode()), Some(r));
        }
        for status in [200, 409] {
            if let Some(a) = SubjectAnswer::decode(status, &token) {
                let (s, b) = a.encode();
                assert_eq!(SubjectAnswer::decode(s, &b), Some(a));
            }
        }
        if let Ok(v) = serde_json::from_str::<Value>(&token) {
            if let Some(r) = jwtgate::sessions::SubjectSessions::from_json(&v) {
                let again = jwtgate::sessions::SubjectSessions::from_json(&r.to_json());
                assert_eq!(again, Some(r));
            }
        }
    }
    if let Ok(Value::Object(claims)) = serde_json::from_str::<Value>(&token) {
        let _ = FIXED.check_claims(&claims, NOW);
    }

    let Ok(text) = std::str::from_utf8(policy) else {
        return;
    };
    let policy = match Policy::from_json(text) {
        Ok(p) => p,
        Err(e) => {
            assert_eq!(e.code(), Code::Config);
            return;
        }
    };
    // A signing key whose key_ops exclude "verify" is verified elsewhere (with its public JWK).
    let self_verifying = !policy
        .keys()
        .keys()
        .iter()
        .any(|k| k.can_sign() && !k.can_verify());
    let verifier = Verifier::new(policy.clone()).ok();
    if let Some(v) = &verifier {
        let _ = v.verify(&token, NOW);
    }
    if !self_verifying {
        return;
    }
    if let (Some(v), Ok(s)) = (&verifier, Signer::new(policy, SignerOptions::default())) {
        let mut claims = serde_json::Map::new();
        claims.insert("sub".into(), "fuzz".into());
        if let Ok(Value::Object(extra)) = serde_json::from_str::<Value>(&token) {
            claims.extend(extra);
        }
        if let Ok(t) = s.sign(claims, NOW) {
            if let Err(e) = v.verify(&t, NOW) {
                panic!("the signer issued a token its own policy refuses: {e}");
            }
        }
    }
});

use serde_json::Value;
