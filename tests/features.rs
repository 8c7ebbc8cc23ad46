//! Builds without some algorithm families (`cargo test --no-default-features --test features`):
//! HMAC still works end to end, and keys of a family that is not compiled in are refused at
//! construction as configuration errors naming the missing feature. With every family enabled
//! (the default) this file holds no tests.
#![cfg(not(all(
    feature = "rsa",
    feature = "ecdsa",
    feature = "ecdsa-p384",
    feature = "ecdsa-p521",
    feature = "eddsa"
)))]

mod common;

use common::*;
use jwtgate::{Code, Policy, Verifier};
use serde_json::json;

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn hmac_round_trips_without_the_asymmetric_families() {
    let s = signer(&["HS256"], vec![jwk("hs64", "")]);
    let v = verifier(&["HS256"], vec![jwk("hs64", "")]);
    let claims = json!({"sub": "user_1"}).as_object().unwrap().clone();
    let token = s.sign(claims, NOW).unwrap();
    assert_eq!(v.verify(&token, NOW).unwrap().claims["sub"], "user_1");
    assert_eq!(outcome(&v, &token, NOW + 3600), "expired");
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn keys_of_a_missing_family_are_configuration_errors() {
    let cases = [
        ("rsa", "RS256", cfg!(feature = "rsa")),
        ("ec", "ES256", cfg!(feature = "ecdsa")),
        ("ec384", "ES384", cfg!(feature = "ecdsa-p384")),
        ("ec521", "ES512", cfg!(feature = "ecdsa-p521")),
        ("ed", "EdDSA", cfg!(feature = "eddsa")),
    ];
    for (name, alg, enabled) in cases {
        let policy = Policy::from_value(&policy_value(&[alg], vec![jwk(name, "public")]));
        let result = policy.and_then(Verifier::new);
        if enabled {
            assert!(result.is_ok(), "{alg}");
            continue;
        }
        let Err(e) = result else {
            panic!("{alg}: accepted without its feature")
        };
        assert_eq!(e.code(), Code::Config, "{alg}");
        assert!(e.to_string().contains("cargo feature"), "{alg}: {e}");
        assert_eq!(e.field(), Some("keys.keys[0].kty"), "{alg}: {e}");
    }
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn keys_of_a_missing_family_that_no_pinned_algorithm_needs_are_inert() {
    let keys = vec![
        jwk("hs64", ""),
        jwk("rsa", "public"),
        jwk("ec", "public"),
        jwk("ec384", "public"),
        jwk("ed", "public"),
    ];
    let v = verifier(&["HS256"], keys);
    let inert: Vec<_> = v.keys().iter().map(|k| k.inert).collect();
    let expect = |enabled: bool| {
        if enabled {
            Some(jwtgate::Inert::KeyTypeNotAllowed)
        } else {
            Some(jwtgate::Inert::FeatureDisabled)
        }
    };
    assert_eq!(
        inert,
        vec![
            None,
            expect(cfg!(feature = "rsa")),
            expect(cfg!(feature = "ecdsa")),
            expect(cfg!(feature = "ecdsa-p384")),
            expect(cfg!(feature = "eddsa")),
        ]
    );
}
