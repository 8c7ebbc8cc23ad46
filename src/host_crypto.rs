//! The JavaScript host crypto binding, shared by the npm surface (`crate::js`, which exposes
//! `setHostCrypto`) and the edge gate (`crate::worker`, which registers workerd's `node:crypto`
//! at start): the `HostCrypto` object of `js/host/node-crypto.js`, held once per module
//! instance, and the key operations the `host-keys` build's key types call through it
//! ([`crate::alg::host`]).
//!
//! Every answer is read strictly: a host that is missing, throws, or answers anything but the
//! expected type refuses the key, invalidates the signature or fails the signing. Never a pass.
//! Built with `host-keys` alone (no `js` or `worker` surface) nothing registers a host, and
//! every RSA, EC and OKP key is refused.
#![cfg_attr(not(any(feature = "js", feature = "worker")), allow(dead_code))]

use crate::error::{Code, Error};
use crate::Algorithm;
#[cfg(feature = "js")]
use crate::Key;
use js_sys::JSON;
use serde_json::{Map, Value};
use std::cell::RefCell;
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    /// A host key handle (`HostKey` in TypeScript).
    #[wasm_bindgen(typescript_type = "HostKey")]
    pub type HostKey;
    #[wasm_bindgen(method, catch)]
    fn verify(this: &HostKey, data: &[u8], signature: &[u8]) -> Result<JsValue, JsValue>;

    /// Native signature checks supplied by the host (`HostCrypto` in TypeScript).
    #[wasm_bindgen(typescript_type = "HostCrypto")]
    pub type HostCrypto;
    #[wasm_bindgen(method, catch, js_name = importKey)]
    fn import_key(
        this: &HostCrypto,
        jwk: &JsValue,
        alg: &str,
        params: &JsValue,
    ) -> Result<JsValue, JsValue>;
    #[cfg(feature = "host-keys")]
    #[wasm_bindgen(method, catch, js_name = checkKey)]
    fn check_key(this: &HostCrypto, jwk: &JsValue) -> Result<JsValue, JsValue>;
    #[cfg(feature = "host-keys")]
    #[wasm_bindgen(method, catch, js_name = sign)]
    fn sign(
        this: &HostCrypto,
        jwk: &JsValue,
        alg: &str,
        params: &JsValue,
        data: &[u8],
    ) -> Result<JsValue, JsValue>;
    #[cfg(feature = "host-keys")]
    #[wasm_bindgen(method, catch, js_name = decrypt)]
    fn decrypt(
        this: &HostCrypto,
        cipher: &str,
        key: &[u8],
        iv: &[u8],
        data: &[u8],
        aad: &[u8],
        tag: &[u8],
    ) -> Result<JsValue, JsValue>;
}

thread_local! {
    static HOST: RefCell<Option<HostCrypto>> = const { RefCell::new(None) };
}

/// Registers `host` (`null`/`undefined` removes it) for this module instance: verifiers built
/// from now on import their keys through it, and (`host-keys`) every RSA, EC and OKP key is
/// checked, verified and used to sign through it.
pub(crate) fn register(host: JsValue) {
    let host = (!host.is_undefined() && !host.is_null()).then(|| host.unchecked_into());
    HOST.with(|h| *h.borrow_mut() = host);
    // The key types of the `host-keys` build call the host through these (crate::alg::host).
    #[cfg(feature = "host-keys")]
    crate::alg::host::install(crate::alg::host::HostOps {
        available: host_ops::available,
        check_key: host_ops::check_key,
        verify_once: host_ops::verify_once,
        sign: host_ops::sign,
        can_decrypt: host_ops::can_decrypt,
        decrypt: host_ops::decrypt,
    });
}

/// Whether host crypto is registered.
pub(crate) fn registered() -> bool {
    HOST.with(|h| h.borrow().is_some())
}

/// The registered host, cloned out of its cell (so no borrow is held while JavaScript runs).
fn host() -> Option<HostCrypto> {
    HOST.with(|h| {
        h.borrow()
            .as_ref()
            .map(|h| AsRef::<JsValue>::as_ref(h).clone().unchecked_into())
    })
}

/// A JSON object as a JS object.
pub(crate) fn to_js(map: &Map<String, Value>) -> Result<JsValue, Error> {
    let text = serde_json::to_string(map)
        .map_err(|_| Error::new(Code::Malformed, "claims could not be encoded"))?;
    JSON::parse(&text).map_err(|_| Error::new(Code::Malformed, "claims could not be encoded"))
}

/// The key operations of the `host-keys` build, installed into `crate::alg::host` by
/// [`register`]: every RSA, ECDSA and Ed25519 check, verification and signature goes through
/// the registered host.
#[cfg(feature = "host-keys")]
mod host_ops {
    use super::{host, host_params, to_js, HostCrypto, HostKey};
    use crate::Algorithm;
    use serde_json::{Map, Value};
    use wasm_bindgen::{JsCast, JsValue};

    fn has_method(host: &HostCrypto, name: &str) -> bool {
        js_sys::Reflect::get(host, &JsValue::from_str(name)).is_ok_and(|f| f.is_function())
    }

    /// Whether a host with `importKey`, `checkKey` and `sign` is registered.
    pub(super) fn available() -> bool {
        host().is_some_and(|h| {
            ["importKey", "checkKey", "sign"]
                .iter()
                .all(|m| has_method(&h, m))
        })
    }

    /// The host's `checkKey(jwk)`: only exactly `true` accepts.
    pub(super) fn check_key(jwk: &Map<String, Value>) -> bool {
        let (Some(host), Ok(jwk)) = (host(), to_js(jwk)) else {
            return false;
        };
        host.check_key(&jwk).ok().and_then(|v| v.as_bool()) == Some(true)
    }

    /// One raw check with a handle imported for it (verifiers keep their handles; this is for
    /// the other paths). Only exactly `true` is valid.
    pub(super) fn verify_once(
        jwk: &Map<String, Value>,
        alg: Algorithm,
        input: &[u8],
        sig: &[u8],
    ) -> bool {
        let check = || -> Option<bool> {
            let (host, jwk, params) = (host()?, to_js(jwk).ok()?, host_params(alg)?);
            let handle = host.import_key(&jwk, alg.name(), &params).ok()?;
            if !handle.is_object() {
                return None;
            }
            handle
                .unchecked_into::<HostKey>()
                .verify(input, sig)
                .ok()?
                .as_bool()
        };
        check() == Some(true)
    }

    /// Whether the registered host has `decrypt`.
    pub(super) fn can_decrypt() -> bool {
        host().is_some_and(|h| has_method(&h, "decrypt"))
    }

    /// The host's `decrypt(cipher, key, iv, data, aad, tag)`, if it gives a `Uint8Array`.
    pub(super) fn decrypt(
        cipher: crate::alg::host::Cipher,
        key: &[u8],
        iv: &[u8],
        aad: &[u8],
        data: &[u8],
        tag: &[u8],
    ) -> Option<Vec<u8>> {
        let out = host()?
            .decrypt(cipher.name(), key, iv, data, aad, tag)
            .ok()?;
        Some(out.dyn_into::<js_sys::Uint8Array>().ok()?.to_vec())
    }

    /// The host's raw signature with a private JWK, if it gives a `Uint8Array`.
    pub(super) fn sign(jwk: &Map<String, Value>, alg: Algorithm, input: &[u8]) -> Option<Vec<u8>> {
        let (host, jwk, params) = (host()?, to_js(jwk).ok()?, host_params(alg)?);
        let out = host.sign(&jwk, alg.name(), &params, input).ok()?;
        Some(out.dyn_into::<js_sys::Uint8Array>().ok()?.to_vec())
    }
}

/// Host handles for one key: one per algorithm the key is bound to (empty: jwtgate checks it).
#[cfg(feature = "js")]
pub(crate) type HostKeys = Vec<(Algorithm, HostKey)>;

/// A key's public JWK as a JS object (`None` for an HMAC secret).
#[cfg(feature = "js")]
pub(crate) fn public_jwk_js(key: &Key) -> Option<JsValue> {
    key.public_jwk().and_then(|jwk| to_js(&jwk).ok())
}

/// The registered host's handles for `key`, one per algorithm it imported (none without a host).
#[cfg(feature = "js")]
pub(crate) fn import_host_keys(key: &Key) -> HostKeys {
    let Some(jwk) = public_jwk_js(key) else {
        return Vec::new();
    };
    let Some(host) = host() else {
        return Vec::new();
    };
    key.algorithms()
        .iter()
        .filter_map(|alg| {
            let params = host_params(alg)?;
            match host.import_key(&jwk, alg.name(), &params) {
                Ok(v) if v.is_object() => Some((alg, v.unchecked_into())),
                _ => None,
            }
        })
        .collect()
}

/// `HostAlgorithm` for `alg` (crate::platform's table): `{ node: { digest, padding,
/// saltLength }, webCrypto: { importParams, verifyParams } }`; `None` for HMAC.
pub(crate) fn host_params(alg: Algorithm) -> Option<JsValue> {
    use crate::platform::js::{node, object, webcrypto};
    let p = crate::platform::PlatformAlg::of(alg)?;
    let (import, verify) = webcrypto(&p);
    Some(object(&[
        ("node", node(&p)),
        (
            "webCrypto",
            object(&[("importParams", import), ("verifyParams", verify)]),
        ),
    ]))
}

/// The raw check through a host handle: `None` (jwtgate decides) when there is none, it threw,
/// or it answered anything but the booleans `true` or `false` (`1`, `"1"`, a promise: a host
/// that answers that way is broken, and its answer never counts as valid).
#[cfg(feature = "js")]
pub(crate) fn host_verify(
    keys: &HostKeys,
    alg: Algorithm,
    input: &[u8],
    sig: &[u8],
) -> Option<bool> {
    let (_, handle) = keys.iter().find(|(a, _)| *a == alg)?;
    handle.verify(input, sig).ok()?.as_bool()
}
