//! How the host platforms' own crypto checks a JWS signature: the one table, derived from each
//! algorithm's family, that the npm package (`node:crypto` as host crypto, WebCrypto in
//! `verifyAsync`) and the edge gate (workerd's WebCrypto) read; both hand the WebCrypto check
//! itself to one JS module, `js/webcrypto.js`. Only the raw signature check
//! ever goes to a platform: parsing, key selection, the key–algorithm binding, the signature's
//! form and the claims stay in the core ([`crate::Verifier::prepare`]).
//!
//! HMAC has no entry: it is checked in the core (as fast in wasm, and the secret never leaves
//! it). Adding an algorithm means its `alg/` file, its JWK mapping in `jwk.rs`, and (for a new
//! family) one arm in [`PlatformAlg::of`].

use crate::alg::{Algorithm, HashAlg, KeyFamily};

/// How `node:crypto`'s `crypto.verify` must be told about the key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeKeyForm {
    /// The `KeyObject` as it is (RSASSA-PKCS1-v1_5, Ed25519).
    Plain,
    /// `{ key, padding: RSA_PKCS1_PSS_PADDING, saltLength }`.
    Pss {
        /// The salt length in bytes.
        salt_length: u32,
    },
    /// `{ key, dsaEncoding: "ieee-p1363" }`: a JWS ECDSA signature is `r || s`, not DER.
    P1363,
}

/// One algorithm's names on the platforms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlatformAlg {
    /// WebCrypto algorithm name: `RSASSA-PKCS1-v1_5`, `RSA-PSS`, `ECDSA` or `Ed25519`.
    pub webcrypto_name: &'static str,
    /// The hash in WebCrypto's spelling (`SHA-256`), where the algorithm takes one.
    pub webcrypto_hash: Option<&'static str>,
    /// ECDSA's named curve (`P-256`, `P-384`, `P-521`).
    pub named_curve: Option<&'static str>,
    /// RSA-PSS's salt length in bytes (the hash's length, RFC 7518 §3.5).
    pub salt_length: Option<u32>,
    /// `crypto.verify`'s digest name (`sha256`); `None` for Ed25519, which takes none.
    pub node_digest: Option<&'static str>,
    /// How `crypto.verify` must be given the key.
    pub node_key: NodeKeyForm,
}

const fn webcrypto_hash(h: HashAlg) -> &'static str {
    match h {
        HashAlg::Sha256 => "SHA-256",
        HashAlg::Sha384 => "SHA-384",
        HashAlg::Sha512 => "SHA-512",
    }
}

const fn node_digest(h: HashAlg) -> &'static str {
    match h {
        HashAlg::Sha256 => "sha256",
        HashAlg::Sha384 => "sha384",
        HashAlg::Sha512 => "sha512",
    }
}

impl PlatformAlg {
    /// The platform names for `alg`; `None` for HMAC (never handed to a platform).
    pub const fn of(alg: Algorithm) -> Option<PlatformAlg> {
        Some(match alg.family() {
            KeyFamily::Hmac(_) => return None,
            KeyFamily::RsaPkcs1(h) => PlatformAlg {
                webcrypto_name: "RSASSA-PKCS1-v1_5",
                webcrypto_hash: Some(webcrypto_hash(h)),
                named_curve: None,
                salt_length: None,
                node_digest: Some(node_digest(h)),
                node_key: NodeKeyForm::Plain,
            },
            KeyFamily::RsaPss(h) => PlatformAlg {
                webcrypto_name: "RSA-PSS",
                webcrypto_hash: Some(webcrypto_hash(h)),
                named_curve: None,
                salt_length: Some(h.output_len() as u32),
                node_digest: Some(node_digest(h)),
                node_key: NodeKeyForm::Pss {
                    salt_length: h.output_len() as u32,
                },
            },
            KeyFamily::Ecdsa(curve) => PlatformAlg {
                webcrypto_name: "ECDSA",
                webcrypto_hash: Some(webcrypto_hash(curve.hash())),
                named_curve: Some(curve.name()),
                salt_length: None,
                node_digest: Some(node_digest(curve.hash())),
                node_key: NodeKeyForm::P1363,
            },
            KeyFamily::Ed25519 => PlatformAlg {
                webcrypto_name: "Ed25519",
                webcrypto_hash: None,
                named_curve: None,
                salt_length: None,
                node_digest: None,
                node_key: NodeKeyForm::Plain,
            },
        })
    }
}

/// The table as JS objects, for the wasm32 surfaces (npm package and Worker).
#[cfg(any(feature = "js", feature = "worker", feature = "host-keys"))]
#[cfg_attr(not(any(feature = "js", feature = "worker")), allow(dead_code))]
pub(crate) mod js {
    use super::{NodeKeyForm, PlatformAlg};
    use js_sys::{Object, Reflect};
    use wasm_bindgen::JsValue;

    /// A plain JS object with these members.
    pub(crate) fn object(members: &[(&str, JsValue)]) -> JsValue {
        let o = Object::new();
        for (name, value) in members {
            let _ = Reflect::set(&o, &JsValue::from_str(name), value);
        }
        o.into()
    }

    fn opt(v: Option<&str>) -> JsValue {
        v.map_or(JsValue::UNDEFINED, JsValue::from_str)
    }

    /// WebCrypto's `importKey` and `verify` algorithm parameters.
    pub(crate) fn webcrypto(p: &PlatformAlg) -> (JsValue, JsValue) {
        let name = ("name", JsValue::from_str(p.webcrypto_name));
        let import = match (p.named_curve, p.webcrypto_hash) {
            (Some(curve), _) => object(&[name.clone(), ("namedCurve", JsValue::from_str(curve))]),
            (None, Some(hash)) => object(&[name.clone(), ("hash", JsValue::from_str(hash))]),
            (None, None) => object(std::slice::from_ref(&name)),
        };
        let verify = match (p.salt_length, p.named_curve) {
            (Some(salt), _) => object(&[name, ("saltLength", JsValue::from(salt))]),
            (None, Some(_)) => object(&[name, ("hash", opt(p.webcrypto_hash))]),
            (None, None) => import.clone(),
        };
        (import, verify)
    }

    /// `[importParams, verifyParams]`: what `js/webcrypto.js` takes.
    pub(crate) fn webcrypto_pair(p: &PlatformAlg) -> JsValue {
        let (import, verify) = webcrypto(p);
        js_sys::Array::of2(&import, &verify).into()
    }

    /// `{ digest, padding, saltLength }` for a `node:crypto` host (see `js/host/node-crypto.js`):
    /// `padding` is `"plain"` (the key as it is), `"pss"` or `"p1363"`.
    #[cfg_attr(not(any(feature = "js", feature = "host-keys")), allow(dead_code))]
    pub(crate) fn node(p: &PlatformAlg) -> JsValue {
        let (padding, salt) = match p.node_key {
            NodeKeyForm::Plain => ("plain", JsValue::UNDEFINED),
            NodeKeyForm::Pss { salt_length } => ("pss", JsValue::from(salt_length)),
            NodeKeyForm::P1363 => ("p1363", JsValue::UNDEFINED),
        };
        object(&[
            (
                "digest",
                p.node_digest.map_or(JsValue::NULL, JsValue::from_str),
            ),
            ("padding", JsValue::from_str(padding)),
            ("saltLength", salt),
        ])
    }
}

/// A verifier with the WebCrypto keys imported for it: the edge gate holds one per key set, so
/// a rotated set starts with no keys (an old key's CryptoKey can never serve a new set). Derefs
/// to the [`Verifier`](crate::Verifier). The keys are imported and used by `js/webcrypto.js`,
/// the same check the npm package's `verifyAsync` makes.
#[cfg(feature = "worker")]
#[derive(Debug)]
pub(crate) struct WebVerifier {
    verifier: crate::Verifier,
    /// `js/webcrypto.js`'s key cache: `"<key index>/<alg>"` → the CryptoKey, or its refusal.
    keys: js_sys::Map,
}

#[cfg(feature = "worker")]
impl WebVerifier {
    pub(crate) fn new(verifier: crate::Verifier) -> Self {
        WebVerifier {
            verifier,
            keys: js_sys::Map::new(),
        }
    }
}

#[cfg(feature = "worker")]
impl std::ops::Deref for WebVerifier {
    type Target = crate::Verifier;
    fn deref(&self) -> &crate::Verifier {
        &self.verifier
    }
}

/// The core's stages with the raw signature check by workerd's WebCrypto, for the edge gate.
#[cfg(all(target_arch = "wasm32", feature = "worker"))]
pub(crate) mod webcrypto {
    use super::{PlatformAlg, WebVerifier};
    use crate::verify::Verified;
    use js_sys::{Promise, Uint8Array};
    use wasm_bindgen::prelude::wasm_bindgen;
    use wasm_bindgen::JsValue;
    use wasm_bindgen_futures::JsFuture;

    #[wasm_bindgen(module = "/js/webcrypto.js")]
    extern "C" {
        #[wasm_bindgen(js_name = hasWebKey)]
        fn has_web_key(keys: &js_sys::Map, id: &str) -> bool;
        #[wasm_bindgen(js_name = webVerify, catch)]
        fn web_verify(
            keys: &js_sys::Map,
            id: &str,
            jwk: &JsValue,
            params: &JsValue,
            signature: &Uint8Array,
            input: &Uint8Array,
        ) -> Result<Promise, JsValue>;
    }

    /// The key's public JWK and the algorithm's `[import, verify]` parameters, for its first use.
    fn import_args(v: &WebVerifier, index: usize, alg: crate::Algorithm) -> (JsValue, JsValue) {
        let found = || {
            let params = super::js::webcrypto_pair(&PlatformAlg::of(alg)?);
            let key = v.policy().keys.keys().get(index)?;
            let jwk = js_sys::JSON::parse(&serde_json::to_string(&key.public_jwk()?).ok()?).ok()?;
            Some((jwk, params))
        };
        found().unwrap_or((JsValue::NULL, JsValue::NULL))
    }

    /// One signature checked by WebCrypto with a key used once (a DPoP proof's own key):
    /// imported, then verified. `None` where WebCrypto cannot answer (the caller then checks
    /// it with jwtgate's own code). Binding and form were checked by the core already.
    pub(crate) async fn verify_once(
        key: &crate::Key,
        alg: crate::Algorithm,
        signature: &[u8],
        input: &[u8],
    ) -> Option<bool> {
        let params = super::js::webcrypto_pair(&PlatformAlg::of(alg)?);
        let jwk = js_sys::JSON::parse(&serde_json::to_string(&key.public_jwk()?).ok()?).ok()?;
        let promise = web_verify(
            &js_sys::Map::new(),
            "proof",
            &jwk,
            &params,
            &Uint8Array::from(signature),
            &Uint8Array::from(input),
        )
        .ok()?;
        JsFuture::from(promise).await.ok()?.as_bool()
    }

    /// [`Verifier::verify`](crate::Verifier::verify) with the raw RSA, ECDSA or Ed25519 check
    /// done by WebCrypto (about 10× faster than the same arithmetic in wasm): `prepare`, HMAC in
    /// the core, `js/webcrypto.js` for the rest (the core's own check where WebCrypto cannot
    /// answer), `finish` — so a claim failure is reported only once the signature verified, as
    /// `verify` orders them.
    pub(crate) async fn verify(
        v: &WebVerifier,
        token: &str,
        presentation: crate::Presentation,
        now: i64,
    ) -> crate::Result<Verified> {
        let prepared = v.prepare_as(token, now, presentation)?;
        if prepared.is_symmetric() {
            return prepared.finish_here(v);
        }
        let id = format!("{}/{}", prepared.key_index(), prepared.alg());
        let (jwk, params) = if has_web_key(&v.keys, &id) {
            (JsValue::UNDEFINED, JsValue::UNDEFINED)
        } else {
            import_args(v, prepared.key_index(), prepared.alg())
        };
        let answer = web_verify(
            &v.keys,
            &id,
            &jwk,
            &params,
            &Uint8Array::from(prepared.signature()),
            &Uint8Array::from(prepared.signing_input()),
        );
        let answer = match answer {
            Ok(promise) => JsFuture::from(promise).await.ok().and_then(|r| r.as_bool()),
            Err(_) => None,
        };
        let valid = answer.unwrap_or_else(|| prepared.check_here(v));
        prepared.finish(valid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_asymmetric_algorithm_has_platform_names_and_hmac_none() {
        for alg in Algorithm::ALL {
            let p = PlatformAlg::of(alg);
            assert_eq!(p.is_none(), alg.name().starts_with("HS"), "{alg}");
        }
        let ps384 = PlatformAlg::of(Algorithm::PS384).unwrap();
        assert_eq!(
            (ps384.webcrypto_hash, ps384.salt_length, ps384.node_digest),
            (Some("SHA-384"), Some(48), Some("sha384"))
        );
        assert_eq!(ps384.node_key, NodeKeyForm::Pss { salt_length: 48 });
        let es = PlatformAlg::of(Algorithm::ES256).unwrap();
        assert_eq!(
            (es.named_curve, es.node_key),
            (Some("P-256"), NodeKeyForm::P1363)
        );
        let es512 = PlatformAlg::of(Algorithm::ES512).unwrap();
        assert_eq!(
            (es512.named_curve, es512.webcrypto_hash, es512.node_digest),
            (Some("P-521"), Some("SHA-512"), Some("sha512"))
        );
        let es384 = PlatformAlg::of(Algorithm::ES384).unwrap();
        assert_eq!(
            (es384.named_curve, es384.webcrypto_hash, es384.node_key),
            (Some("P-384"), Some("SHA-384"), NodeKeyForm::P1363)
        );
        // EdDSA and its fully-specified name are one signature.
        assert_eq!(
            PlatformAlg::of(Algorithm::EdDSA),
            PlatformAlg::of(Algorithm::Ed25519)
        );
        assert_eq!(PlatformAlg::of(Algorithm::EdDSA).unwrap().node_digest, None);
        let rs512 = PlatformAlg::of(Algorithm::RS512).unwrap();
        assert_eq!(
            (rs512.webcrypto_name, rs512.webcrypto_hash, rs512.node_key),
            ("RSASSA-PKCS1-v1_5", Some("SHA-512"), NodeKeyForm::Plain)
        );
    }
}
