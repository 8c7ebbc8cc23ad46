//! The npm package's API end to end, under `wasm-bindgen-test` in Node (`wasm-pack test --node`)
//! and headless Chromium (`WASM_BINDGEN_USE_BROWSER=1 wasm-pack test --headless --chrome`):
//! JavaScript values in, JavaScript values and `JwtGateError` objects out.
#![cfg(all(target_arch = "wasm32", feature = "js"))]

mod common;

use common::*;
use js_sys::{Reflect, JSON};
use jwtgate::js::{JsSigner, JsVerifier};
use serde_json::json;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::wasm_bindgen_test;

fn js(v: &serde_json::Value) -> JsValue {
    JSON::parse(&v.to_string()).unwrap()
}

fn get(v: &JsValue, name: &str) -> JsValue {
    Reflect::get(v, &name.into()).unwrap()
}

fn at(now: i64) -> Option<JsValue> {
    Some(js(&json!({ "now": now })))
}

fn error_of(e: JsValue) -> (String, String, Option<String>, Option<String>) {
    assert!(e.is_instance_of::<js_sys::Error>(), "not an Error");
    (
        get(&e, "name").as_string().unwrap(),
        get(&e, "code").as_string().unwrap(),
        get(&e, "claim").as_string(),
        get(&e, "field").as_string(),
    )
}

fn policy(algs: &[&str], key: serde_json::Value) -> JsValue {
    js(&policy_value(algs, vec![key]))
}

#[wasm_bindgen_test]
fn sign_then_verify_every_family() {
    for (alg, key) in [
        ("HS256", "hs64"),
        ("RS256", "rsa"),
        ("PS256", "rsa"),
        ("ES256", "ec"),
        ("EdDSA", "ed"),
    ] {
        let s = JsSigner::new(
            policy(&[alg], jwk(key, "private")),
            Some(js(&json!({"ttlSeconds": 60}))),
        )
        .unwrap();
        assert_eq!(s.algorithm(), alg);
        let v = JsVerifier::new(policy(&[alg], jwk(key, "public")), None).unwrap();
        let token = s
            .sign(js(&json!({"sub": "user_1", "n": 1.5})), at(NOW))
            .unwrap();
        let claims = v.verify(JsValue::from_str(&token), at(NOW + 10)).unwrap();
        assert_eq!(get(&claims, "sub").as_string().as_deref(), Some("user_1"));
        assert_eq!(get(&claims, "n").as_f64(), Some(1.5));
        assert_eq!(get(&claims, "exp").as_f64(), Some((NOW + 60) as f64));
        let e = v
            .verify(JsValue::from_str(&token), at(NOW + 90))
            .unwrap_err();
        assert_eq!(
            error_of(e),
            (
                "JwtGateError".into(),
                "expired".into(),
                Some("exp".into()),
                None
            )
        );
    }
}

#[wasm_bindgen_test]
fn policy_as_json_text_and_default_clock() {
    let text = policy_value(&["ES256"], vec![jwk("ec", "private")]).to_string();
    let s = JsSigner::new(JsValue::from_str(&text), None).unwrap();
    let v = JsVerifier::new(JsValue::from_str(&text), None).unwrap();
    // No `now`: the host clock (Date.now()) is used on both sides.
    let token = s.sign(js(&json!({"sub": "u"})), None).unwrap();
    assert!(v.verify(JsValue::from_str(&token), None).is_ok());
    assert!(v
        .verify(JsValue::from_str(&token), Some(js(&json!({}))))
        .is_ok());
}

#[wasm_bindgen_test]
fn config_errors_name_the_field() {
    let cases = [
        (JsValue::UNDEFINED, "policy"),
        (JsValue::NULL, "policy"),
        (js(&json!({})), "issuer"),
        (
            js(
                &json!({"issuer": "x", "audience": "y", "algorithms": ["none"], "keys": {"keys": []}}),
            ),
            "algorithms[0]",
        ),
        (policy(&["HS256"], jwk("hs31", "")), "keys.keys[0].k"),
        (
            policy(&["RS256"], jwk("rsa1024", "public")),
            "keys.keys[0].n",
        ),
    ];
    for (p, field) in cases {
        let e = JsVerifier::new(p, None).err().expect("must throw");
        let (name, code, _, f) = error_of(e);
        assert_eq!(
            (name.as_str(), code.as_str(), f.as_deref()),
            ("JwtGateError", "config", Some(field))
        );
    }
    // A signer needs a private key; a bad ttl and a bad `now` are config errors too.
    let e = JsSigner::new(policy(&["ES256"], jwk("ec", "public")), None)
        .err()
        .unwrap();
    assert_eq!(error_of(e).3.as_deref(), Some("keys"));
    let e = JsSigner::new(
        policy(&["ES256"], jwk("ec", "private")),
        Some(js(&json!({"ttlSeconds": 1.5}))),
    )
    .err()
    .unwrap();
    assert_eq!(error_of(e).3.as_deref(), Some("ttlSeconds"));
    let v = JsVerifier::new(policy(&["ES256"], jwk("ec", "public")), None).unwrap();
    let nan = js_sys::Object::new();
    Reflect::set(&nan, &"now".into(), &JsValue::from_f64(f64::NAN)).unwrap();
    let e = v
        .verify(JsValue::from_str("a.b.c"), Some(nan.into()))
        .unwrap_err();
    assert_eq!(error_of(e).1, "config");
}

#[wasm_bindgen_test]
fn wrong_input_types_are_typed_errors_not_traps() {
    let v = JsVerifier::new(policy(&["ES256"], jwk("ec", "public")), None).unwrap();
    for bad in [
        JsValue::UNDEFINED,
        JsValue::NULL,
        JsValue::from_f64(1.0),
        js(&json!({"t": 1})),
    ] {
        let e = v.verify(bad, at(NOW)).unwrap_err();
        assert_eq!(error_of(e).1, "malformed");
    }
    for bad in [
        JsValue::from_str("{}"),
        JsValue::from_f64(1.0),
        js(&json!([1])),
    ] {
        let e = v.check_claims(bad, at(NOW)).unwrap_err();
        assert_eq!(error_of(e).1, "malformed");
    }
    // BigInt cannot be JSON-encoded: a typed error, not an exception from JSON.stringify.
    let o = js_sys::Object::new();
    Reflect::set(&o, &"n".into(), &js_sys::BigInt::from(1u64).into()).unwrap();
    let e = v.check_claims(o.into(), at(NOW)).unwrap_err();
    assert_eq!(error_of(e).1, "malformed");
}

#[wasm_bindgen_test]
fn stamp_and_check_claims_share_the_rules() {
    let s = JsSigner::new(policy(&["ES256"], jwk("ec", "private")), None).unwrap();
    let v = JsVerifier::new(policy(&["ES256"], jwk("ec", "public")), None).unwrap();
    let stamped = s
        .stamp(
            js(&json!({"sub": "u", "iss": "evil", "aud": "evil"})),
            at(NOW),
        )
        .unwrap();
    assert_eq!(get(&stamped, "iss").as_string().as_deref(), Some(ISS));
    assert_eq!(get(&stamped, "aud").as_string().as_deref(), Some(AUD));
    assert_eq!(get(&stamped, "jti").as_string().map(|s| s.len()), Some(22));
    assert!(v.check_claims(stamped.clone(), at(NOW)).is_ok());
    let e = v.check_claims(stamped, at(NOW + 10_000)).unwrap_err();
    assert_eq!(error_of(e).1, "expired");
    let e = v
        .check_claims(
            js(&json!({"sub": "u", "exp": NOW + 60, "aud": AUD})),
            at(NOW),
        )
        .unwrap_err();
    assert_eq!(
        error_of(e),
        (
            "JwtGateError".into(),
            "missing_claim".into(),
            Some("iss".into()),
            None
        )
    );
}

#[wasm_bindgen_test]
fn tampering_and_alg_none_through_the_js_surface() {
    let s = JsSigner::new(policy(&["ES256"], jwk("ec", "private")), None).unwrap();
    let v = JsVerifier::new(policy(&["ES256"], jwk("ec", "public")), None).unwrap();
    let token = s.sign(js(&json!({"sub": "u"})), at(NOW)).unwrap();
    let parts: Vec<&str> = token.split('.').collect();
    let evil = b64(
        json!({"sub": "admin", "iss": ISS, "aud": AUD, "exp": NOW + 60})
            .to_string()
            .as_bytes(),
    );
    let e = v
        .verify(
            JsValue::from_str(&format!("{}.{evil}.{}", parts[0], parts[2])),
            at(NOW),
        )
        .unwrap_err();
    let msg = get(&e, "message").as_string().unwrap();
    assert_eq!(error_of(e).1, "signature");
    assert!(!msg.contains(parts[2]) && !msg.contains(&evil));
    let none = format!("{}.{evil}.", b64(br#"{"alg":"none"}"#));
    assert_eq!(
        error_of(v.verify(JsValue::from_str(&none), at(NOW)).unwrap_err()).1,
        "algorithm"
    );
}
