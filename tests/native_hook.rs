//! The core's stages as the platform adapters compose them (`Verifier::prepare`, then the
//! host's answer, then `Prepared::finish`; and `Key::verify_signature_via`): the host decides
//! only the raw signature check, after key selection, algorithm binding and the signature's form
//! have been checked in Rust; claims are applied after it either way. And `Key::public_jwk`, the
//! form in which a key is handed to a host.

mod common;

use common::*;
use jwtgate::{Algorithm, Code, Key, Verified, Verifier};
use serde_json::{json, Value};
use std::cell::Cell;

/// The composition the npm package's host crypto uses: `prepare`, the host's answer (`None`:
/// jwtgate's own check), `finish`.
trait Via {
    fn verify_via(
        &self,
        token: &str,
        now: i64,
        host: impl FnOnce(usize, Algorithm, &[u8], &[u8]) -> Option<bool>,
    ) -> jwtgate::Result<Verified>;
}

impl Via for Verifier {
    fn verify_via(
        &self,
        token: &str,
        now: i64,
        host: impl FnOnce(usize, Algorithm, &[u8], &[u8]) -> Option<bool>,
    ) -> jwtgate::Result<Verified> {
        let p = self.prepare(token, now)?;
        let valid = host(p.key_index(), p.alg(), p.signing_input(), p.signature())
            .unwrap_or_else(|| p.check_here(self));
        p.finish(valid)
    }
}

fn token(name: &str, kid: &str, alg: Algorithm, payload: Value) -> String {
    forge(
        json!({"alg": alg.name(), "typ": "JWT", "kid": kid}),
        payload,
        &jwk(name, "private"),
        alg,
    )
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn the_hook_gets_the_selected_key_index_and_exact_signing_input() {
    let v = verifier(
        &["ES256", "EdDSA"],
        vec![
            jwk("ec", "public"),
            jwk("ec2", "public"),
            jwk("ed", "public"),
        ],
    );
    let t = token("ec2", "ec-2", Algorithm::ES256, good_claims());
    let calls = Cell::new(0);
    let verified = v
        .verify_via(&t, NOW, |index, alg, input, sig| {
            calls.set(calls.get() + 1);
            assert_eq!(index, 1);
            assert_eq!(alg, Algorithm::ES256);
            assert_eq!(input, t.rsplit_once('.').unwrap().0.as_bytes());
            assert_eq!(sig.len(), 64);
            None // leave it to Rust
        })
        .expect("verifies");
    assert_eq!(verified.claims["sub"], "user_1");
    assert_eq!(calls.get(), 1);
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn the_hook_decides_the_signature_but_never_the_claims() {
    let v = verifier(&["EdDSA"], vec![jwk("ed", "public")]);
    let good = token("ed", "ed-1", Algorithm::EdDSA, good_claims());
    let e = v
        .verify_via(&good, NOW, |_, _, _, _| Some(false))
        .unwrap_err();
    assert_eq!(e.code(), Code::Signature);
    // A "valid" answer still goes through every claim rule.
    let err = v
        .verify_via(&good, NOW + 3600, |_, _, _, _| Some(true))
        .unwrap_err();
    assert_eq!(err.code(), Code::Expired);
    let wrong_aud = token(
        "ed",
        "ed-1",
        Algorithm::EdDSA,
        json!({"iss": ISS, "aud": "other", "sub": "u", "exp": NOW + 60}),
    );
    let err = v
        .verify_via(&wrong_aud, NOW, |_, _, _, _| Some(true))
        .unwrap_err();
    assert_eq!(err.code(), Code::Audience);
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn malformed_signatures_and_unbound_keys_never_reach_the_hook() {
    let cases: [(&str, &str, Algorithm, usize); 3] = [
        ("ec", "ec-1", Algorithm::ES256, 64),
        ("ed", "ed-1", Algorithm::EdDSA, 64),
        ("rsa", "rsa-1", Algorithm::RS256, 256),
    ];
    for (name, kid, alg, len) in cases {
        let key = Key::from_jwk_json(&jwk(name, "public").to_string(), &[alg]).unwrap();
        let asked = Cell::new(false);
        let hook = |_: Algorithm, _: &[u8], _: &[u8]| {
            asked.set(true);
            Some(true)
        };
        for bad_len in [0, len - 1, len + 1] {
            let e = key
                .verify_signature_via(alg, b"x.y", &vec![1; bad_len], hook)
                .unwrap_err();
            assert_eq!(e.code(), Code::Signature, "{kid} len {bad_len}");
        }
        // Bound to `alg` only: another algorithm of the family is refused before the hook.
        let other = match alg {
            Algorithm::RS256 => Algorithm::PS256,
            Algorithm::ES256 => Algorithm::HS256,
            _ => Algorithm::RS256,
        };
        let e = key
            .verify_signature_via(other, b"x.y", &vec![1; len], hook)
            .unwrap_err();
        assert_eq!(e.code(), Code::Algorithm, "{kid}");
        assert!(
            !asked.get(),
            "{kid}: the hook was asked about a malformed signature"
        );
    }
    // Ed25519: S ≥ L (non-canonical) and a small-order R are refused before the hook.
    let key = Key::from_jwk_json(&jwk("ed", "public").to_string(), &[Algorithm::EdDSA]).unwrap();
    let mut big_s = [0u8; 64];
    big_s[32..].fill(0xff);
    let mut small_r = [0u8; 64];
    small_r[0] = 1; // R = the identity point (order 1), S = 0
    for sig in [big_s, small_r] {
        let e = key
            .verify_signature_via(Algorithm::EdDSA, b"x.y", &sig, |_, _, _| Some(true))
            .unwrap_err();
        assert_eq!(e.code(), Code::Signature);
    }
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn public_jwk_is_the_public_half_and_verifies_what_the_private_key_signs() {
    for (name, alg) in [
        ("rsa", Algorithm::PS384),
        ("ec", Algorithm::ES256),
        ("ed", Algorithm::EdDSA),
    ] {
        let private = Key::from_jwk_json(&jwk(name, "private").to_string(), &[alg]).unwrap();
        let public = private.public_jwk().expect("asymmetric key");
        for secret in ["d", "p", "q", "dp", "dq", "qi", "kid"] {
            assert!(
                !public.contains_key(secret),
                "{name}: {secret} in public_jwk"
            );
        }
        let expected = jwk(name, "public");
        for (member, value) in &public {
            assert_eq!(&expected[member.as_str()], value, "{name}.{member}");
        }
        let sig = private.sign(alg, b"header.payload").unwrap();
        let again = Key::from_jwk_json(&Value::Object(public).to_string(), &[alg]).unwrap();
        assert!(again.verify_signature(alg, b"header.payload", &sig).is_ok());
        assert!(again
            .verify_signature(alg, b"header.payloaD", &sig)
            .is_err());
    }
    let secret = Key::from_jwk_json(&jwk("hs64", "").to_string(), &[Algorithm::HS256]).unwrap();
    assert!(
        secret.public_jwk().is_none(),
        "an HMAC secret has no public half"
    );
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn prepare_then_finish_orders_errors_like_verify() {
    // HMAC is checked in place.
    let hs = verifier(&["HS256"], vec![jwk("hs64", "")]);
    let hs_token = forge(
        json!({"alg": "HS256", "kid": "hs-1"}),
        good_claims(),
        &jwk("hs64", ""),
        Algorithm::HS256,
    );
    let p = hs.prepare(&hs_token, NOW).unwrap();
    assert!(p.is_symmetric());
    assert!(p.finish_here(&hs).is_ok());

    let v = verifier(&["ES256"], vec![jwk("ec", "public")]);
    let good = token("ec", "ec-1", Algorithm::ES256, good_claims());
    fn pending<'t>(v: &Verifier, t: &'t str, now: i64) -> jwtgate::Prepared<'t> {
        let p = v.prepare(t, now).expect("prepared");
        assert!(!p.is_symmetric());
        p
    }
    let pending = |t, now| pending(&v, t, now);
    let p = pending(&good, NOW);
    assert_eq!((p.key_index(), p.alg()), (0, Algorithm::ES256));
    assert_eq!(
        p.signing_input(),
        good.rsplit_once('.').unwrap().0.as_bytes()
    );
    assert!(pending(&good, NOW).finish(true).is_ok());
    assert_eq!(
        pending(&good, NOW).finish(false).unwrap_err().code(),
        Code::Signature
    );
    assert!(pending(&good, NOW).finish_here(&v).is_ok());
    // Checked against another verifier's key set, it never passes: another key, or a key not
    // bound to the prepared algorithm (check_here re-checks the binding and the form).
    let other_key = verifier(&["ES256"], vec![jwk("ec2", "public")]);
    assert!(!pending(&good, NOW).check_here(&other_key));
    let other_alg = verifier(&["EdDSA"], vec![jwk("ed", "public")]);
    assert!(!pending(&good, NOW).check_here(&other_alg));
    // A claim failure shows only once the signature is valid.
    assert_eq!(
        pending(&good, NOW + 3600).finish(true).unwrap_err().code(),
        Code::Expired
    );
    assert_eq!(
        pending(&good, NOW + 3600).finish(false).unwrap_err().code(),
        Code::Signature
    );
    // Failures before the signature (and malformed signatures) are final, not deferred.
    assert!(v.prepare("a.b", NOW).is_err());
    let (head, _) = good.rsplit_once('.').unwrap();
    let short = format!("{head}.{}", b64(&[1; 63]));
    assert_eq!(v.prepare(&short, NOW).unwrap_err().code(), Code::Signature);
    // A forged signature of the right length: the caller's check decides, Rust agrees.
    let forged = format!("{head}.{}", b64(&[1; 64]));
    assert_eq!(
        pending(&forged, NOW).finish_here(&v).unwrap_err().code(),
        Code::Signature
    );
}
