//! Key sets as issuers publish them: a mixed JWKS is accepted, the keys that fit none of the
//! pinned algorithms are inert (never selected, listed in the key report), and every usable key
//! is bound to exactly one algorithm.

mod common;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use common::*;
use jwtgate::{Algorithm, Code, Inert, KeySet, Policy, Signer, SignerOptions, Verifier};
use serde_json::{json, Value};

/// `jwk(name, part)` with `alg` set (or removed with `None`).
fn with_alg(name: &str, part: &str, alg: Option<&str>) -> Value {
    let mut k = jwk(name, part);
    match alg {
        Some(a) => k["alg"] = json!(a),
        None => {
            k.as_object_mut().unwrap().remove("alg");
        }
    }
    k
}

/// The issuer's whole set: RSA with and without `alg`, EC P-256, Ed25519, an `oct` secret, EC
/// P-384 and P-521, a secp256k1 key jwtgate does not verify with, and an encryption key. `part` is `public` or
/// `private` (the `oct` secret is the same in both).
fn mixed(part: &str) -> Vec<Value> {
    let mut enc = jwk("ec2", part);
    enc["use"] = json!("enc");
    vec![
        with_alg("rsa", part, Some("RS256")),
        with_alg("rsa2", part, None),
        jwk("ec", part),
        jwk("ed", part),
        jwk("hs32", ""),
        jwk("ec384", part),
        jwk("ec521", part),
        jwk("k256", part),
        enc,
    ]
}

fn mixed_verifier(alg: &str) -> Verifier {
    verifier(&[alg], mixed("public"))
}

/// The fixture name of the key that signs for `alg` in the mixed set (`None` for HMAC).
fn signing_fixture(alg: Algorithm) -> (&'static str, &'static str) {
    match alg {
        Algorithm::RS256 => ("rsa", "rsa-1"),
        Algorithm::PS256 => ("rsa2", "rsa-2"),
        Algorithm::ES256 => ("ec", "ec-1"),
        Algorithm::ES384 => ("ec384", "ec-384"),
        Algorithm::ES512 => ("ec521", "ec-521"),
        Algorithm::EdDSA | Algorithm::Ed25519 => ("ed", "ed-1"),
        Algorithm::HS256 => ("hs32", "hs-32"),
        other => panic!("no fixture for {other}"),
    }
}

fn hand_signed(alg: Algorithm, kid: Option<&str>) -> String {
    let (name, _) = signing_fixture(alg);
    let mut header = json!({"alg": alg.name(), "typ": "JWT"});
    if let Some(kid) = kid {
        header["kid"] = json!(kid);
    }
    forge(header, good_claims(), &jwk(name, "private"), alg)
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn a_mixed_set_verifies_under_each_single_pinned_algorithm() {
    // (pinned algorithm, usable kids, whether a token without kid is selectable)
    let cases: [(Algorithm, &[&str], bool); 8] = [
        (Algorithm::RS256, &["rsa-1", "rsa-2"], false),
        (Algorithm::PS256, &["rsa-2"], true),
        (Algorithm::ES256, &["ec-1"], true),
        (Algorithm::ES384, &["ec-384"], true),
        (Algorithm::ES512, &["ec-521"], true),
        (Algorithm::EdDSA, &["ed-1"], true),
        (Algorithm::Ed25519, &["ed-1"], true),
        (Algorithm::HS256, &["hs-32"], true),
    ];
    for (alg, usable, kidless) in cases {
        let v = mixed_verifier(alg.name());
        let listed: Vec<&str> = v
            .keys()
            .iter()
            .filter(|k| k.inert.is_none())
            .filter_map(|k| k.kid.as_deref())
            .collect();
        assert_eq!(listed, usable, "{alg}");
        for k in v.keys().iter().filter(|k| k.inert.is_none()) {
            assert_eq!(k.algorithm, Some(alg), "{alg}: {k:?}");
        }

        let (_, kid) = signing_fixture(alg);
        assert_eq!(
            outcome(&v, &hand_signed(alg, Some(kid)), NOW),
            "ok",
            "{alg}"
        );
        let no_kid = outcome(&v, &hand_signed(alg, None), NOW);
        assert_eq!(no_kid == "ok", kidless, "{alg} without kid: {no_kid}");
        if !kidless {
            assert_eq!(no_kid, "key_not_found", "{alg}");
        }

        // The project's Signer, given the issuer's whole private set, agrees.
        let signer = Signer::new(
            Policy::from_value(&policy_value(&[alg.name()], mixed("private"))).unwrap(),
            SignerOptions::default(),
        )
        .unwrap();
        assert_eq!(signer.algorithm(), alg);
        let claims = obj(json!({"sub": "user_1"}));
        let token = signer.sign(claims, NOW).unwrap();
        assert_eq!(v.verify(&token, NOW).unwrap().claims["sub"], "user_1");
    }
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn tokens_naming_an_inert_key_are_key_not_found() {
    // Under PS256, rsa-1 (alg RS256) is inert: a PS256 token naming it finds no key, although
    // the signature is good for that key.
    let v = mixed_verifier("PS256");
    let t = forge(
        json!({"alg": "PS256", "kid": "rsa-1"}),
        good_claims(),
        &jwk("rsa", "private"),
        Algorithm::PS256,
    );
    assert_eq!(outcome(&v, &t, NOW), "key_not_found");
    // Under ES256: the RSA keys, the P-384 and P-521 keys and the encryption key are inert.
    let v = mixed_verifier("ES256");
    let t = forge(
        json!({"alg": "ES256", "kid": "ec-2"}),
        good_claims(),
        &jwk("ec2", "private"),
        Algorithm::ES256,
    );
    assert_eq!(outcome(&v, &t, NOW), "key_not_found");
    let t = forge(
        json!({"alg": "ES256", "kid": "rsa-2"}),
        good_claims(),
        &jwk("ec", "private"),
        Algorithm::ES256,
    );
    assert_eq!(outcome(&v, &t, NOW), "key_not_found");
    // A token whose alg is not pinned never reaches key selection.
    assert_eq!(
        outcome(&v, &hand_signed(Algorithm::RS256, Some("rsa-1")), NOW),
        "algorithm"
    );
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn ec_keys_verify_only_their_own_curves_algorithm() {
    // All three curves pinned at once: each key is bound to its curve's ES* alone.
    let v = verifier(&["ES256", "ES384", "ES512"], mixed("public"));
    let bound: Vec<(&str, Option<Algorithm>)> = v
        .keys()
        .iter()
        .filter(|k| k.inert.is_none())
        .map(|k| (k.kid.as_deref().unwrap(), k.algorithm))
        .collect();
    assert_eq!(
        bound,
        vec![
            ("ec-1", Some(Algorithm::ES256)),
            ("ec-384", Some(Algorithm::ES384)),
            ("ec-521", Some(Algorithm::ES512)),
        ]
    );
    for (alg, name, kid) in [
        (Algorithm::ES256, "ec", "ec-1"),
        (Algorithm::ES384, "ec384", "ec-384"),
        (Algorithm::ES512, "ec521", "ec-521"),
    ] {
        let t = forge(
            json!({"alg": alg.name(), "kid": kid}),
            good_claims(),
            &jwk(name, "private"),
            alg,
        );
        assert_eq!(outcome(&v, &t, NOW), "ok", "{alg}");
        // The same signature under another curve's alg name: never verified with this key.
        for other in [Algorithm::ES256, Algorithm::ES384, Algorithm::ES512] {
            if other == alg {
                continue;
            }
            let header = format!(r#"{{"alg":"{}","kid":"{kid}"}}"#, other.name());
            let sig = t.rsplit('.').next().unwrap();
            let input = format!(
                "{}.{}",
                b64(header.as_bytes()),
                t.split('.').nth(1).unwrap()
            );
            let confused = format!("{input}.{sig}");
            let got = outcome(&v, &confused, NOW);
            assert!(
                got == "algorithm" || got == "key_not_found",
                "{alg} key under {other}: {got}"
            );
        }
    }
    // A P-1363 signature of the wrong length for the curve is a bad signature, not a panic.
    let t = forge(
        json!({"alg": "ES384", "kid": "ec-384"}),
        good_claims(),
        &jwk("ec384", "private"),
        Algorithm::ES384,
    );
    let (input, sig) = t.rsplit_once('.').unwrap();
    let mut raw = URL_SAFE_NO_PAD.decode(sig).unwrap();
    assert_eq!(raw.len(), 96);
    raw.truncate(64);
    assert_eq!(
        outcome(&v, &format!("{input}.{}", b64(&raw)), NOW),
        "signature"
    );
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn the_key_report_says_why_each_key_is_inert() {
    let v = mixed_verifier("PS256");
    let report: Vec<(Option<&str>, Option<Algorithm>, Option<Inert>)> = v
        .keys()
        .iter()
        .map(|k| (k.kid.as_deref(), k.algorithm, k.inert))
        .collect();
    assert_eq!(
        report,
        vec![
            (Some("rsa-1"), None, Some(Inert::AlgorithmNotAllowed)),
            (Some("rsa-2"), Some(Algorithm::PS256), None),
            (Some("ec-1"), None, Some(Inert::KeyTypeNotAllowed)),
            (Some("ed-1"), None, Some(Inert::KeyTypeNotAllowed)),
            (Some("hs-32"), None, Some(Inert::KeyTypeNotAllowed)),
            (Some("ec-384"), None, Some(Inert::KeyTypeNotAllowed)),
            (Some("ec-521"), None, Some(Inert::KeyTypeNotAllowed)),
            (Some("k256"), None, Some(Inert::UnsupportedKeyType)),
            (Some("ec-2"), None, Some(Inert::NotForSignatures)),
        ]
    );
    assert_eq!(v.keys()[1].field, "keys.keys[1]");
    assert!(v.keys()[1].verify && !v.keys()[1].sign);
    // The report as JSON carries no key material.
    let text = Value::Array(v.keys().iter().map(|k| k.to_json()).collect()).to_string();
    for key in mixed("private") {
        for member in ["n", "e", "d", "x", "y", "k"] {
            if let Some(Value::String(s)) = key.get(member) {
                if s.len() > 8 {
                    assert!(!text.contains(s.as_str()), "report leaks {member}");
                }
            }
        }
    }
    assert!(
        text.contains("\"inert\":\"algorithm_not_allowed\""),
        "{text}"
    );
    assert!(text.contains("\"alg\":\"PS256\""), "{text}");
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn one_key_one_algorithm() {
    // No alg, and two pinned algorithms of its family: the configuration must say which.
    let keys = vec![with_alg("rsa2", "public", None)];
    let e = Policy::from_value(&policy_value(&["RS256", "PS256"], keys)).unwrap_err();
    assert_eq!(e.code(), Code::Config);
    assert_eq!(e.field(), Some("keys.keys[0].alg"));
    assert!(e.to_string().contains("RS256, PS256"), "{e}");
    // Likewise for a 64-byte secret under HS256 and HS512.
    let e = Policy::from_value(&policy_value(&["HS256", "HS512"], vec![jwk("hs64", "")]));
    assert_eq!(e.unwrap_err().field(), Some("keys.keys[0].alg"));
    // A 32-byte secret fits only HS256 of the two: bound to it, no ambiguity.
    let v = verifier(&["HS256", "HS512"], vec![jwk("hs32", "")]);
    assert_eq!(v.keys()[0].algorithm, Some(Algorithm::HS256));

    // With alg it serves only that one: a PS256 token under an alg RS256 key is refused.
    let v = verifier(
        &["RS256", "PS256"],
        vec![with_alg("rsa", "public", Some("RS256"))],
    );
    let ps = forge(
        json!({"alg": "PS256", "kid": "rsa-1"}),
        good_claims(),
        &jwk("rsa", "private"),
        Algorithm::PS256,
    );
    assert_eq!(outcome(&v, &ps, NOW), "algorithm");
    let rs = forge(
        json!({"alg": "RS256", "kid": "rsa-1"}),
        good_claims(),
        &jwk("rsa", "private"),
        Algorithm::RS256,
    );
    assert_eq!(outcome(&v, &rs, NOW), "ok");
    // Several keys of one family, each with its own alg, serve both pinned algorithms.
    let v = verifier(
        &["RS256", "PS256"],
        vec![
            with_alg("rsa", "public", Some("RS256")),
            with_alg("rsa2", "public", Some("PS256")),
        ],
    );
    let ps2 = forge(
        json!({"alg": "PS256", "kid": "rsa-2"}),
        good_claims(),
        &jwk("rsa2", "private"),
        Algorithm::PS256,
    );
    assert_eq!(outcome(&v, &ps2, NOW), "ok");
    assert_eq!(outcome(&v, &rs, NOW), "ok");
    assert_eq!(outcome(&v, &ps, NOW), "algorithm");

    // EdDSA and Ed25519 are one scheme under two names: not ambiguous, and the key answers
    // to both pinned names.
    let v = verifier(&["EdDSA", "Ed25519"], vec![jwk("ed", "public")]);
    assert_eq!(v.keys()[0].algorithm, Some(Algorithm::EdDSA));
    assert_eq!(
        outcome(&v, &hand_signed(Algorithm::Ed25519, Some("ed-1")), NOW),
        "ok"
    );
    assert_eq!(
        outcome(&v, &hand_signed(Algorithm::EdDSA, Some("ed-1")), NOW),
        "ok"
    );
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn configured_sets_stay_strict_where_it_matters() {
    // Duplicate kids among usable keys.
    let mut dup = jwk("rsa2", "public");
    dup["kid"] = json!("rsa-1");
    let e = Policy::from_value(&policy_value(
        &["RS256"],
        vec![jwk("rsa", "public"), dup.clone()],
    ));
    assert_eq!(e.unwrap_err().field(), Some("keys"));
    // ...but an inert key may share a kid with a usable one (it is never selected).
    let mut inert_dup = jwk("ec", "public");
    inert_dup["kid"] = json!("rsa-1");
    let v = verifier(&["RS256"], vec![jwk("rsa", "public"), inert_dup]);
    assert_eq!(v.keys()[1].inert, Some(Inert::KeyTypeNotAllowed));
    // No usable key at all.
    let e = Policy::from_value(&policy_value(&["ES256"], vec![jwk("rsa", "public")]));
    assert_eq!(e.unwrap_err().field(), Some("keys"));
    // A malformed key is refused even when it would be inert.
    let e = Policy::from_value(&policy_value(
        &["ES256"],
        vec![jwk("ec", "public"), jwk("rsa1024", "public")],
    ));
    assert_eq!(e.unwrap_err().field(), Some("keys.keys[1].n"));
    // Private material is seen in inert keys too (the gate refuses it in its public policy).
    let set = KeySet::from_jwks(
        &json!({"keys": [jwk("ec", "public"), jwk("rsa", "private")]}),
        &[Algorithm::ES256],
    )
    .unwrap();
    assert_eq!(set.keys().len(), 1);
    assert!(set.has_private_material());
    let set = KeySet::from_jwks(
        &json!({"keys": [jwk("ec", "public"), jwk("k256", "private")]}),
        &[Algorithm::ES256],
    )
    .unwrap();
    assert!(set.has_private_material());
    // Merging two sets (policy keys and a secret's keys) keeps kids unique.
    let a = KeySet::from_jwks(
        &json!({"keys": [jwk("rsa", "public")]}),
        &[Algorithm::RS256],
    );
    let b = KeySet::from_jwks(&json!({"keys": [dup]}), &[Algorithm::RS256]);
    assert_eq!(
        a.unwrap().merged(&b.unwrap()).unwrap_err().code(),
        Code::Config
    );
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn remote_sets_are_lenient_and_fail_closed() {
    let mut dup_a = jwk("ec", "public");
    dup_a["kid"] = json!("same");
    let mut dup_b = jwk("ec2", "public");
    dup_b["kid"] = json!("same");
    let jwks = json!({"keys": [
        with_alg("rsa2", "public", None), // ambiguous under RS256 + PS256
        with_alg("rsa", "public", Some("RS256")),
        jwk("rsa1024", "public"),         // weak
        dup_a, dup_b,                     // one kid, two keys
        jwk("ed", "public"),
    ]});
    let allowed = [
        Algorithm::RS256,
        Algorithm::PS256,
        Algorithm::ES256,
        Algorithm::EdDSA,
    ];
    let set = KeySet::from_jwks_lenient(&jwks, &allowed).unwrap();
    let inert: Vec<Option<Inert>> = set.report().iter().map(|k| k.inert).collect();
    assert_eq!(
        inert,
        vec![
            Some(Inert::AmbiguousAlgorithm),
            None,
            Some(Inert::Invalid),
            Some(Inert::DuplicateKid),
            Some(Inert::DuplicateKid),
            None,
        ]
    );
    let kids: Vec<_> = set.keys().iter().map(|k| k.kid()).collect();
    assert_eq!(kids, vec![Some("rsa-1"), Some("ed-1")]);
    // Neither key of the shared kid is ever selected.
    assert_eq!(
        set.select(Some("same"), Algorithm::ES256)
            .unwrap_err()
            .code(),
        Code::KeyNotFound
    );
    // A remote set may end up with nothing usable: the caller decides (the gate keeps its old
    // set and logs), it is not a panic.
    let set = KeySet::from_jwks_lenient(
        &json!({"keys": [jwk("k256", "public")]}),
        &[Algorithm::ES256],
    )
    .unwrap();
    assert!(set.keys().is_empty());
    assert_eq!(set.report()[0].inert, Some(Inert::UnsupportedKeyType));
}

#[test]
fn signing_algorithms_follow_the_private_keys_and_each_types_default() {
    let algs = |keys: Vec<Value>| KeySet::signing_algorithms(&json!({ "keys": keys }));
    // An issuer's whole set with one private key: only that key's algorithm.
    let mut set = mixed("public");
    set.retain(|k| k["kty"] != "oct");
    set[2] = jwk("ec", "private");
    assert_eq!(algs(set).unwrap(), vec![Algorithm::ES256]);
    // Each type's default without `alg`; the JWK's own `alg` wins.
    assert_eq!(
        algs(vec![
            with_alg("rsa2", "private", None),
            jwk("ed", "private"),
            jwk("hs64", ""),
            with_alg("rsa", "private", Some("PS256")),
        ])
        .unwrap(),
        vec![
            Algorithm::RS256,
            Algorithm::EdDSA,
            Algorithm::HS256,
            Algorithm::PS256
        ]
    );
    // No private key: the public keys' algorithms; keys that fit none are left out.
    assert_eq!(
        algs(vec![jwk("k256", "public"), jwk("ed", "public")]).unwrap(),
        vec![Algorithm::EdDSA]
    );
    // Each EC curve has its own default: P-384 signs ES384, P-521 ES512.
    assert_eq!(
        algs(vec![jwk("ec521", "private"), jwk("ec384", "private")]).unwrap(),
        vec![Algorithm::ES512, Algorithm::ES384]
    );
    // A weak key is the core's `config` error, naming the key: a 31-byte secret, a 1024-bit RSA key.
    let e = algs(vec![jwk("ed", "private"), jwk("hs31", "")]).unwrap_err();
    assert_eq!(
        (e.code(), e.field()),
        (Code::Config, Some("keys.keys[1].k"))
    );
    let e = algs(vec![jwk("rsa1024", "private")]).unwrap_err();
    assert_eq!(e.code(), Code::Config);
    // A private key that cannot sign (an encryption key here) is named, not skipped.
    let mut enc = jwk("ec", "private");
    enc["use"] = json!("enc");
    let e = algs(vec![jwk("ed", "public"), enc]).unwrap_err();
    assert_eq!((e.code(), e.field()), (Code::Config, Some("keys.keys[1]")));
    // Nothing jwtgate implements: an error, never an empty allowlist.
    let e = algs(vec![jwk("k256", "public")]).unwrap_err();
    assert_eq!(e.code(), Code::Config);
    assert!(KeySet::signing_algorithms(&json!({ "keys": [] })).is_err());
    assert!(KeySet::signing_algorithms(&json!([])).is_err());
}

#[test]
fn a_signers_verifier_holds_only_public_halves_and_verifies_its_tokens() {
    // A WebCrypto-exported private JWK says key_ops ["sign"]: its public half still verifies.
    let mut ec = jwk("ec", "private");
    ec["key_ops"] = json!(["sign"]);
    let keys = vec![ec, jwk("ed", "public"), jwk("rsa2", "private")];
    let s = signer(&["ES256"], keys);
    assert!(s.policy().keys().has_private_material());
    let v = s.verifier().unwrap();
    assert!(!v.policy().keys().has_private_material());
    for (key, info) in v.policy().keys().keys().iter().zip(v.keys()) {
        assert!(!key.can_sign(), "{info:?}");
    }
    assert!(v.keys().iter().all(|k| !k.sign));
    assert_eq!(v.keys()[0].algorithm, Some(Algorithm::ES256));
    assert!(v.keys()[0].verify);
    // The inert keys stay inert (the Ed25519 and RSA keys fit no pinned algorithm).
    assert_eq!(v.keys()[1].inert, Some(Inert::KeyTypeNotAllowed));
    let now = 1_700_000_000;
    let token = s.sign(obj(json!({"sub": "u1"})), now).unwrap();
    assert_eq!(v.verify(&token, now).unwrap().claims["sub"], "u1");
    // The public half cannot sign.
    assert!(v.policy().keys().keys()[0]
        .sign(Algorithm::ES256, b"x.y")
        .is_err());
    // An HMAC secret is its own verification key.
    let s = signer(&["HS256"], vec![jwk("hs32", "")]);
    let v = s.verifier().unwrap();
    let token = s.sign(obj(json!({"sub": "u2"})), now).unwrap();
    assert_eq!(v.verify(&token, now).unwrap().claims["sub"], "u2");
    assert!(v.policy().keys().has_private_material());
}
