//! Shared helpers for the integration tests: fixture keys, policies, and a forger that signs
//! arbitrary headers and payloads with a real key (so each test isolates one rule).
#![allow(dead_code)]

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jwtgate::{Algorithm, Key, Policy, Signer, SignerOptions, Verifier};
use serde_json::{json, Map, Value};

/// A fixed "now" for every test: 2027-01-15T08:00:00Z.
pub const NOW: i64 = 1_800_000_000;
pub const ISS: &str = "https://pay.example.com";
pub const AUD: &str = "pay-api";

pub fn fixtures() -> Value {
    serde_json::from_str(include_str!("../fixtures/keys.json")).expect("fixtures")
}

/// `fixtures()[name][part]` (`part` is `public` or `private`).
pub fn jwk(name: &str, part: &str) -> Value {
    let f = fixtures();
    let entry = &f[name];
    if entry.get("kty").is_some() {
        entry.clone() // oct keys are stored as a bare JWK
    } else {
        entry[part].clone()
    }
}

pub fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn obj(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        other => panic!("not an object: {other}"),
    }
}

/// A policy value with the default issuer and audience.
pub fn policy_value(algs: &[&str], keys: Vec<Value>) -> Value {
    json!({
        "issuer": ISS,
        "audience": AUD,
        "algorithms": algs,
        "keys": { "keys": keys },
        "requiredClaims": ["sub"],
    })
}

pub fn verifier(algs: &[&str], keys: Vec<Value>) -> Verifier {
    Verifier::new(Policy::from_value(&policy_value(algs, keys)).expect("policy")).expect("verifier")
}

pub fn verifier_with(policy: Value) -> Verifier {
    Verifier::new(Policy::from_value(&policy).expect("policy")).expect("verifier")
}

pub fn signer(algs: &[&str], keys: Vec<Value>) -> Signer {
    Signer::new(
        Policy::from_value(&policy_value(algs, keys)).expect("policy"),
        SignerOptions::default(),
    )
    .expect("signer")
}

/// Claims valid at NOW for the default policy.
pub fn good_claims() -> Value {
    json!({
        "iss": ISS, "aud": AUD, "sub": "user_1",
        "iat": NOW, "nbf": NOW, "exp": NOW + 600,
    })
}

/// Signs an arbitrary header and payload (JSON text, used byte for byte) with `signing_jwk`.
pub fn forge_raw(header: &str, payload: &str, signing_jwk: &Value, alg: Algorithm) -> String {
    let key = Key::from_jwk_json(&signing_jwk.to_string(), &[alg]).expect("signing key");
    let input = format!("{}.{}", b64(header.as_bytes()), b64(payload.as_bytes()));
    let sig = key.sign(alg, input.as_bytes()).expect("sign");
    format!("{input}.{}", b64(&sig))
}

pub fn forge(header: Value, payload: Value, signing_jwk: &Value, alg: Algorithm) -> String {
    forge_raw(&header.to_string(), &payload.to_string(), signing_jwk, alg)
}

/// The code of a verification failure, as its string form ("ok" on success).
pub fn outcome(v: &Verifier, token: &str, now: i64) -> String {
    match v.verify(token, now) {
        Ok(_) => "ok".into(),
        Err(e) => {
            // Error messages never carry token material.
            for part in token.split('.').filter(|p| p.len() >= 8) {
                assert!(!e.to_string().contains(part), "error echoes the token: {e}");
            }
            e.code().as_str().to_owned()
        }
    }
}
