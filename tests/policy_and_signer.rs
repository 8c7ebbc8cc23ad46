//! Construction fails closed (a `config` error naming the field), and the signer stamps exactly
//! what the verifiers check.

mod common;

use common::*;
use jwtgate::{Code, Policy, Signer, SignerOptions, Verifier};
use serde_json::{json, Value};

fn config_field(policy: Value) -> String {
    match Policy::from_value(&policy).and_then(Verifier::new) {
        Ok(_) => "accepted".into(),
        Err(e) => {
            assert_eq!(e.code(), Code::Config, "{e}");
            e.field().unwrap_or("").to_owned()
        }
    }
}

fn base() -> Value {
    policy_value(&["ES256"], vec![jwk("ec", "public")])
}

fn patched(patch: Value) -> Value {
    let mut p = base();
    for (k, v) in patch.as_object().unwrap() {
        if v == "<remove>" {
            p.as_object_mut().unwrap().remove(k);
        } else {
            p[k] = v.clone();
        }
    }
    p
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn missing_or_empty_required_fields_are_config_errors() {
    for (patch, field) in [
        (json!({"issuer": "<remove>"}), "issuer"),
        (json!({"issuer": null}), "issuer"),
        (json!({"issuer": ""}), "issuer"),
        (json!({"issuer": "  "}), "issuer"),
        (json!({"issuer": []}), "issuer"),
        (json!({"issuer": [""]}), "issuer"),
        (json!({"issuer": [1]}), "issuer"),
        (json!({"audience": "<remove>"}), "audience"),
        (json!({"audience": ""}), "audience"),
        (json!({"audience": ["ok", ""]}), "audience"),
        (json!({"algorithms": "<remove>"}), "algorithms"),
        (json!({"algorithms": []}), "algorithms"),
        (json!({"algorithms": "ES256"}), "algorithms"),
        (json!({"algorithms": ["none"]}), "algorithms[0]"),
        (json!({"algorithms": ["ES256", "None"]}), "algorithms[1]"),
        (json!({"algorithms": ["NONE"]}), "algorithms[0]"),
        (json!({"algorithms": ["es256"]}), "algorithms[0]"),
        (json!({"algorithms": ["ES256K"]}), "algorithms[0]"),
        (json!({"algorithms": [7]}), "algorithms[0]"),
        (json!({"keys": "<remove>"}), "keys"),
        (json!({"keys": {"keys": []}}), "keys.keys"),
        (json!({"keys": []}), "keys"),
        (json!({"keys": {"keys": "x"}}), "keys.keys"),
        (json!({"leewaySeconds": 301}), "leewaySeconds"),
        (json!({"leewaySeconds": -1}), "leewaySeconds"),
        (json!({"leewaySeconds": 1.5}), "leewaySeconds"),
        (json!({"leewaySeconds": "30"}), "leewaySeconds"),
        (json!({"maxAgeSeconds": 0}), "maxAgeSeconds"),
        (json!({"maxAgeSeconds": 400_000_000}), "maxAgeSeconds"),
        (json!({"maxTokenBytes": 10}), "maxTokenBytes"),
        (json!({"requiredClaims": "sub"}), "requiredClaims"),
        (json!({"requiredClaims": [""]}), "requiredClaims"),
        (json!({"typ": ""}), "typ"),
        (json!({"audiences": "pay-api"}), "policy.audiences"),
        (
            json!({"skipAudienceCheck": true}),
            "policy.skipAudienceCheck",
        ),
    ] {
        assert_eq!(config_field(patched(patch.clone())), field, "{patch}");
    }
    assert_eq!(config_field(json!([])), "policy");
    assert_eq!(
        Policy::from_json("{\"issuer\":1,\"issuer\":2}")
            .unwrap_err()
            .field(),
        Some("policy")
    );
    assert_eq!(
        Policy::from_json("not json").unwrap_err().code(),
        Code::Config
    );
    // The defaults.
    let p = Policy::from_value(&base()).unwrap();
    assert_eq!(p.rules().leeway_seconds(), 30);
    assert_eq!(p.rules().max_age_seconds(), None);
    assert_eq!(p.max_token_bytes(), 16384);
    assert_eq!(p.typ(), None);
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn malformed_keys_are_config_errors() {
    let k = |name: &str, part: &str| jwk(name, part);
    // Malformed or weak keys are refused even when they would be inert anyway.
    let cases: Vec<(Vec<&str>, Value, &str)> = vec![
        (vec!["RS256"], k("rsa1024", "public"), "keys.keys[0].n"),
        (vec!["ES256"], k("rsa1024", "public"), "keys.keys[0].n"),
        (vec!["HS256"], k("hs31", ""), "keys.keys[0].k"),
        (vec!["ES256"], k("hs31", ""), "keys.keys[0].k"),
        // A 32-byte secret under HS512 only: weak for the algorithm the policy pins.
        (vec!["HS512"], k("hs32", ""), "keys.keys[0].k"),
        (
            vec!["ES256"],
            json!({"kty": "EC", "crv": "P-256", "x": "AAAA", "y": "AAAA"}),
            "keys.keys[0]",
        ),
        (
            vec!["RS256"],
            json!({"kty": "EC", "crv": "P-256", "x": "AAAA", "y": "AAAA"}),
            "keys.keys[0]",
        ),
        (
            vec!["ES256"],
            json!({"kty": "EC", "crv": "P-256"}),
            "keys.keys[0].x",
        ),
        (vec!["ES256"], json!({"kty": "EC"}), "keys.keys[0].crv"),
        (vec!["ES256"], json!({"crv": "P-256"}), "keys.keys[0].kty"),
        (vec!["ES256"], json!("not a jwk"), "keys.keys[0]"),
        (
            vec!["HS256"],
            json!({"kty": "oct", "k": "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0cw=="}),
            "keys.keys[0].k",
        ),
        (
            vec!["HS256"],
            json!({"kty": "oct", "k": 5}),
            "keys.keys[0].k",
        ),
        (
            vec!["HS256"],
            json!({"kty": "oct", "kid": 5, "k": "x"}),
            "keys.keys[0].kid",
        ),
    ];
    for (algs, key, field) in cases {
        assert_eq!(
            config_field(policy_value(&algs, vec![key.clone()])),
            field,
            "{algs:?} {key}"
        );
    }
    // Keys that are well formed but fit none of the pinned algorithms are inert; a set with
    // nothing else has no usable key, which is a configuration error of the set.
    let inert_only: Vec<(Vec<&str>, Value)> = vec![
        (vec!["ES256"], k("ec384", "public")),
        (vec!["ES256"], k("rsa", "public")),
        (vec!["HS256"], k("rsa", "public")),
        (vec!["HS256"], k("ed", "public")),
        (vec!["ES256"], json!({"kty": "XYZ"})),
    ];
    for (algs, key) in inert_only {
        assert_eq!(
            config_field(policy_value(&algs, vec![key.clone()])),
            "keys",
            "{algs:?} {key}"
        );
    }
    // A JWK alg outside the allowlist (or unknown to jwtgate) makes the key inert.
    let mut pinned = k("ec", "public");
    pinned["alg"] = json!("ES256K");
    assert_eq!(config_field(policy_value(&["ES256"], vec![pinned])), "keys");
    // Another curve's ES* on an EC key is as malformed as another family's alg.
    let mut pinned = k("ec", "public");
    pinned["alg"] = json!("ES384");
    assert_eq!(
        config_field(policy_value(&["ES256", "ES384"], vec![pinned])),
        "keys.keys[0].alg"
    );
    // A JWK alg outside the key's own family is a malformed key.
    let mut pinned = k("rsa", "public");
    pinned["alg"] = json!("HS256");
    assert_eq!(
        config_field(policy_value(&["RS256", "HS256"], vec![pinned])),
        "keys.keys[0].alg"
    );
    // A private key whose public part does not match.
    let mut mixed = k("ec", "private");
    mixed["d"] = k("ec2", "private")["d"].clone();
    assert_eq!(
        config_field(policy_value(&["ES256"], vec![mixed])),
        "keys.keys[0]"
    );
    let mut mixed = k("ed", "private");
    mixed["d"] = k("ed2", "private")["d"].clone();
    assert_eq!(
        config_field(policy_value(&["EdDSA"], vec![mixed])),
        "keys.keys[0]"
    );
    // Only encryption keys: nothing can verify.
    let mut enc = k("ec", "public");
    enc["use"] = json!("enc");
    assert_eq!(config_field(policy_value(&["ES256"], vec![enc])), "keys");
    // Error messages never contain key material.
    let secret = k("hs31", "")["k"].as_str().unwrap().to_owned();
    let e = Policy::from_value(&policy_value(&["HS256"], vec![k("hs31", "")])).unwrap_err();
    assert!(!e.to_string().contains(&secret));
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn lenient_jwks_skips_unusable_keys() {
    let jwks = json!({"keys": [jwk("rsa1024", "public"), jwk("ec", "public"), {"kty": "oct"}]});
    let set = jwtgate::KeySet::from_jwks_lenient(&jwks, &[jwtgate::Algorithm::ES256]).unwrap();
    assert_eq!(set.keys().len(), 1);
    assert_eq!(set.keys()[0].kid(), Some("ec-1"));
    let inert: Vec<_> = set.report().iter().filter_map(|i| i.inert).collect();
    assert_eq!(
        inert,
        vec![jwtgate::Inert::Invalid, jwtgate::Inert::Invalid]
    );
    assert!(
        jwtgate::KeySet::from_jwks_lenient(&json!({"keys": []}), &[jwtgate::Algorithm::ES256])
            .is_err()
    );
}

fn signer_from(policy: Value, ttl: i64) -> Result<Signer, jwtgate::Error> {
    Signer::new(
        Policy::from_value(&policy)?,
        SignerOptions::with_ttl_seconds(ttl),
    )
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn signer_construction_rules() {
    let mut p = policy_value(&["ES256"], vec![jwk("ec", "private")]);
    p["issuer"] = json!(["https://a.example", "https://b.example"]);
    assert_eq!(signer_from(p, 900).unwrap_err().field(), Some("issuer"));
    // Public keys only.
    let p = policy_value(&["ES256"], vec![jwk("ec", "public")]);
    assert_eq!(signer_from(p, 900).unwrap_err().field(), Some("keys"));
    let p = policy_value(&["ES256"], vec![jwk("ec", "private")]);
    assert_eq!(
        signer_from(p.clone(), 0).unwrap_err().field(),
        Some("ttlSeconds")
    );
    assert_eq!(
        signer_from(p.clone(), 31_536_001).unwrap_err().field(),
        Some("ttlSeconds")
    );
    // The first allowlisted algorithm that has a private key wins.
    let p = policy_value(
        &["EdDSA", "ES256", "HS256"],
        vec![jwk("ed", "public"), jwk("hs64", ""), jwk("ec", "private")],
    );
    assert_eq!(signer_from(p, 900).unwrap().algorithm().name(), "ES256");
    // The signing key must be the one verifiers would select: no kid among several keys, or a
    // kid shared with another key, is a configuration error.
    let mut no_kid = jwk("ec", "private");
    no_kid.as_object_mut().unwrap().remove("kid");
    let p = policy_value(&["ES256"], vec![no_kid.clone(), jwk("ec2", "public")]);
    assert_eq!(signer_from(p, 900).unwrap_err().field(), Some("keys"));
    let p = policy_value(&["ES256"], vec![no_kid]);
    assert_eq!(signer_from(p, 900).unwrap().kid(), None);
    let mut twin = jwk("ec2", "public");
    twin["kid"] = json!("ec-1");
    let p = policy_value(&["ES256"], vec![twin, jwk("ec", "private")]);
    assert_eq!(signer_from(p, 900).unwrap_err().field(), Some("keys"));
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn signer_stamps_context_and_overrides_the_caller() {
    let mut p = policy_value(&["ES256"], vec![jwk("ec", "private")]);
    p["audience"] = json!(["pay-api", "pay-web"]);
    let s = signer_from(p.clone(), 900).unwrap();
    let v = verifier_with(p);
    let token = s
        .sign(
            obj(json!({"sub": "u1", "iss": "evil", "aud": "evil", "exp": 9e15, "iat": 0, "nbf": 0, "jti": "fixed", "auth_time": NOW, "sid": "s-caller"})),
            NOW,
        )
        .unwrap();
    let ok = v.verify(&token, NOW).unwrap();
    let c = &ok.claims;
    assert_eq!(c["iss"], ISS);
    assert_eq!(c["aud"], json!(["pay-api", "pay-web"]));
    assert_eq!(
        (c["iat"].as_i64(), c["nbf"].as_i64(), c["exp"].as_i64()),
        (Some(NOW), Some(NOW), Some(NOW + 900))
    );
    assert_eq!(c["auth_time"].as_i64(), Some(NOW));
    let jti = c["jti"].as_str().unwrap();
    assert_eq!(jti.len(), 22); // 128 bits, base64url
    assert_ne!(jti, "fixed");
    // The session's id and start are the caller's (a re-stamp keeps them); a new session gets
    // a fresh random id.
    assert_eq!(c["sid"], "s-caller");
    let fresh = s.stamp(obj(json!({"sub": "u1"})), NOW).unwrap();
    let sid = fresh["sid"].as_str().unwrap();
    assert_eq!(sid.len(), 22);
    assert_ne!(sid, fresh["jti"].as_str().unwrap());
    let mut again = c.clone();
    again.insert("iat".into(), json!(NOW + 10));
    let restamped = s.stamp(again, NOW + 10).unwrap();
    assert_eq!(restamped["sid"], c["sid"]);
    assert_eq!(restamped["auth_time"], c["auth_time"]);
    assert_ne!(restamped["jti"], c["jti"]);
    // A re-stamp that lost the session start (it has an `iat`, so it is not a sign-in) is
    // refused rather than starting a new session: that would make sessions slide forever.
    for (name, dropped) in [("auth_time", None), ("sid", None), ("sid", Some(json!("")))] {
        let mut lost = c.clone();
        match dropped {
            None => lost.remove(name),
            Some(v) => lost.insert(name.into(), v),
        };
        let e = s.stamp(lost, NOW + 10).unwrap_err();
        assert_eq!((e.code(), e.claim_name()), (Code::MissingClaim, Some(name)));
    }
    assert_eq!(ok.header.kid.as_deref(), Some("ec-1"));
    assert_eq!(ok.header.typ.as_deref(), Some("JWT"));
    // Every token gets its own jti.
    let again = v
        .verify(&s.sign(obj(json!({"sub": "u1"})), NOW).unwrap(), NOW)
        .unwrap();
    assert_ne!(again.claims["jti"], c["jti"]);
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn signer_respects_absolute_max_age() {
    let mut p = policy_value(&["EdDSA"], vec![jwk("ed", "private")]);
    p["maxAgeSeconds"] = json!(8 * 3600);
    p["typ"] = json!("authjs-session+jwt");
    let s = signer_from(p.clone(), 900).unwrap();
    let v = verifier_with(p);
    let signed_in = NOW;
    // Re-stamped every few minutes, the session still ends 8 h after sign-in.
    let mut last_exp = 0;
    let mut t = signed_in;
    while t < signed_in + 8 * 3600 {
        let token = s
            .sign(obj(json!({"sub": "u1", "auth_time": signed_in})), t)
            .unwrap();
        let c = v.verify(&token, t).unwrap().claims;
        assert_eq!(c["auth_time"].as_i64(), Some(signed_in));
        last_exp = c["exp"].as_i64().unwrap();
        assert!(last_exp <= signed_in + 8 * 3600);
        t += 7 * 60;
    }
    assert_eq!(last_exp, signed_in + 8 * 3600);
    let e = s
        .sign(
            obj(json!({"sub": "u1", "auth_time": signed_in})),
            signed_in + 8 * 3600,
        )
        .unwrap_err();
    assert_eq!(
        (e.code(), e.claim_name()),
        (Code::TooOld, Some("auth_time"))
    );
    // The header carries the policy typ.
    let token = s.sign(obj(json!({"sub": "u1"})), NOW).unwrap();
    assert_eq!(
        v.verify(&token, NOW).unwrap().header.typ.as_deref(),
        Some("authjs-session+jwt")
    );
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn signer_never_issues_what_its_policy_refuses() {
    let s = signer(&["ES256"], vec![jwk("ec", "private")]);
    // requiredClaims = ["sub"]
    let e = s.sign(obj(json!({"name": "no subject"})), NOW).unwrap_err();
    assert_eq!(
        (e.code(), e.claim_name()),
        (Code::MissingClaim, Some("sub"))
    );
    let e = s.stamp(obj(json!({"sub": 5})), NOW).unwrap_err();
    assert_eq!(e.code(), Code::Malformed);
    let e = s
        .stamp(obj(json!({"sub": "u", "auth_time": NOW + 100})), NOW)
        .unwrap_err();
    assert_eq!(e.code(), Code::IssuedInFuture);
    // Nor a token longer than maxTokenBytes.
    let mut p = policy_value(&["ES256"], vec![jwk("ec", "private")]);
    p["maxTokenBytes"] = json!(440);
    let small = signer_from(p, 900).unwrap();
    assert!(small.sign(obj(json!({"sub": "u"})), NOW).is_ok());
    let e = small
        .sign(obj(json!({"sub": "u", "pad": "x".repeat(200)})), NOW)
        .unwrap_err();
    assert_eq!(e.code(), Code::TooLarge);
    // stamp and check_claims agree.
    let stamped = s.stamp(obj(json!({"sub": "u"})), NOW).unwrap();
    let v = verifier(&["ES256"], vec![jwk("ec", "public")]);
    assert!(v.check_claims(&stamped, NOW).is_ok());
    assert_eq!(
        v.check_claims(&stamped, NOW + 930).unwrap_err().code(),
        Code::Expired
    );
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn extreme_clocks_are_answers_not_panics() {
    let s = signer(&["HS256"], vec![jwk("hs64", "")]);
    let v = verifier(&["HS256"], vec![jwk("hs64", "")]);
    for now in [i64::MIN, -1, 0, i64::MAX] {
        let _ = s.stamp(obj(json!({"sub": "u", "auth_time": 1e300})), now);
        let _ = s.stamp(obj(json!({"sub": "u", "auth_time": -1e300})), now);
        if let Ok(t) = s.sign(obj(json!({"sub": "u"})), now) {
            let _ = v.verify(&t, now);
        }
        let _ = v.check_claims(
            &obj(json!({"exp": 1e308, "nbf": -1e308, "iat": 1e308})),
            now,
        );
    }
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn sign_as_is_reproduces_deterministic_tokens_and_checks_the_policy() {
    for (alg, key) in [
        ("ES256", "ec"),
        ("ES384", "ec384"),
        ("ES512", "ec521"),
        ("EdDSA", "ed"),
        ("HS256", "hs64"),
        ("RS256", "rsa"),
    ] {
        let s = signer(&[alg], vec![jwk(key, "private")]);
        let v = verifier(&[alg], vec![jwk(key, "public")]);
        let token = s
            .sign(obj(json!({"sub": "u", "name": "Ana"})), NOW)
            .unwrap();
        let claims = v.verify(&token, NOW + 60).unwrap().claims;
        assert_eq!(s.sign_as_is(&claims, NOW + 60).unwrap(), token, "{alg}");
    }
    let s = signer(&["ES256"], vec![jwk("ec", "private")]);
    let e = s
        .sign_as_is(
            &obj(json!({"sub": "u", "iss": "other", "aud": AUD, "exp": NOW + 60})),
            NOW,
        )
        .unwrap_err();
    assert_eq!(e.code(), Code::Issuer);
    let stamped = s.stamp(obj(json!({"sub": "u"})), NOW).unwrap();
    assert_eq!(
        s.sign_as_is(&stamped, NOW + 10_000).unwrap_err().code(),
        Code::Expired
    );
    // The signer's bounds hold for claims signed as they are: an `exp` moved out (the idle
    // bound, iat + ttl) is refused, not signed, even though the policy's rules accept it.
    let mut moved = stamped.clone();
    moved.insert("exp".into(), json!(NOW + 901));
    assert!(s.policy().rules().check(&moved, NOW).is_ok());
    let e = s.sign_as_is(&moved, NOW).unwrap_err();
    assert_eq!((e.code(), e.claim_name()), (Code::Malformed, Some("exp")));
    let mut p = policy_value(&["ES256"], vec![jwk("ec", "private")]);
    p["maxAgeSeconds"] = json!(3600);
    let s = signer_from(p, 900).unwrap();
    // The absolute bound: iat and exp look fresh, but the session started long ago.
    let mut old = s.stamp(obj(json!({"sub": "u"})), NOW).unwrap();
    old.insert("auth_time".into(), json!(NOW - 3000));
    let e = s.sign_as_is(&old, NOW).unwrap_err();
    assert_eq!((e.code(), e.claim_name()), (Code::Malformed, Some("exp")));
    old.insert("exp".into(), json!(NOW + 600));
    assert!(s.sign_as_is(&old, NOW).is_ok());
    for missing in ["iat", "exp", "sid"] {
        let mut c = s.stamp(obj(json!({"sub": "u"})), NOW).unwrap();
        c.remove(missing);
        assert!(s.sign_as_is(&c, NOW).is_err(), "{missing}");
    }
}
