//! The npm package surface: `Verifier`, `Signer`, `Refresher` and `AuthJsCookie` classes over
//! the Rust core, one file per class (`verifier.rs`, `signer.rs`, `refresher.rs`, `authjs.rs`;
//! `tools.rs` for the free functions), with the helpers they share here.
//!
//! A thin adapter, by design: JavaScript values cross as JSON text (`JSON.stringify` in, the
//! strict parser of the core on the Rust side; `JSON.parse` out), so JavaScript gets exactly the
//! checks Rust gets, including duplicate-member and type rules. Errors become `Error` objects with
//! `name = "JwtGateError"`, a stable `code`, and `claim` / `field` where one applies.

use crate::error::{Code, Error};
use crate::host_crypto::{host_verify, import_host_keys, public_jwk_js, to_js, HostKeys};
use crate::platform::js::object;
use crate::{unix_now, Algorithm, Key, Policy, Signer, SignerOptions, Verified, Verifier};
use js_sys::{Reflect, JSON};
use serde_json::{Map, Value};
use wasm_bindgen::prelude::*;

#[cfg(feature = "jwe-reader")]
mod authjs;
mod refresher;
mod signer;
mod tools;
mod verifier;

#[cfg(feature = "jwe-reader")]
pub use authjs::JsAuthJsCookie;
pub use refresher::JsRefresher;
pub use signer::JsSigner;
pub use tools::{check_revocation, explain, revocation_keys, signing_algorithms, verify_signature};
pub use verifier::JsVerifier;

// The TypeScript declarations of the types the classes below name (`Policy`, `Claims`,
// `HostCrypto`, `JwtGateError`, …) live in `js/types.d.ts`: scripts/build-pkg.sh appends them to
// each build's `jwtgate.d.ts`, and the test command type-checks them with `tsc` against
// `tests/types/usage.ts`.

/// Registers native signature checks used by `Verifier`s built from now on (`null` removes
/// them). The Node entry of the package registers `node:crypto` itself.
///
/// Process-wide: the registration belongs to the loaded module (one per process under Node, one
/// per isolate in workerd), not to a verifier; verifiers already built keep the host handles
/// they imported. To keep one verifier off host crypto, pass `{ nativeCrypto: false }`.
#[wasm_bindgen(js_name = setHostCrypto)]
pub fn set_host_crypto(
    #[wasm_bindgen(unchecked_param_type = "HostCrypto | null | undefined")] host: JsValue,
) {
    crate::host_crypto::register(host);
}

/// Whether host crypto is registered (e.g. `node:crypto` under the Node entry).
#[wasm_bindgen(js_name = hasHostCrypto)]
pub fn has_host_crypto() -> bool {
    crate::host_crypto::registered()
}

/// For `verifyAsync` (see `js/extend.js`): WebCrypto's `[importParams, verifyParams]` for `alg`
/// (crate::platform's table), `undefined` for HMAC or an unknown name.
#[wasm_bindgen(js_name = __jwtgate_webCryptoParams, skip_typescript)]
pub fn webcrypto_params(alg: &str) -> JsValue {
    match Algorithm::from_name(alg).and_then(crate::platform::PlatformAlg::of) {
        Some(p) => crate::platform::js::webcrypto_pair(&p),
        None => JsValue::UNDEFINED,
    }
}

/// The token argument of a `verify*` call.
fn token_string(token: &JsValue) -> Result<String, Error> {
    token
        .as_string()
        .ok_or_else(|| Error::new(Code::Malformed, "the token must be a string"))
}

/// `config` for asking a build with no arithmetic of its own (the Node and web builds) to check
/// a signature itself.
fn host_only(field: &'static str) -> Error {
    Error::config(
        field,
        "this build (jwtgate's Node and web builds) has no RSA, ECDSA or Ed25519 code of its \
         own: those signatures are checked by host crypto (node:crypto) or WebCrypto \
         (jwtgate/pure has its own)",
    )
}

/// `config` for a synchronous method used with a deferred key (one loaded with no host crypto
/// registered: only WebCrypto, through `method`, checks and uses it).
fn async_only(method: &str) -> Error {
    Error::config(
        "keys",
        format!(
            "no host crypto was registered when this key was loaded, and this build has no \
             RSA, ECDSA, Ed25519 or AES code of its own: use {method} (WebCrypto), or register \
             synchronous host crypto with setHostCrypto before building (node:crypto: \
             jwtgate/host/node-crypto)"
        ),
    )
}

fn js_error(e: &Error) -> JsValue {
    let err = js_sys::Error::new(&e.to_string());
    err.set_name("JwtGateError");
    let _ = Reflect::set(&err, &"code".into(), &e.code().as_str().into());
    if let Some(claim) = e.claim_name() {
        let _ = Reflect::set(&err, &"claim".into(), &claim.into());
    }
    if let Some(field) = e.field() {
        let _ = Reflect::set(&err, &"field".into(), &field.into());
    }
    err.into()
}

/// JSON text of a JS value: a string is taken as JSON text, anything else goes through
/// `JSON.stringify` (which throws on BigInt and cycles: reported as `error`).
fn json_text(value: &JsValue, error: impl Fn() -> Error) -> Result<String, Error> {
    if let Some(s) = value.as_string() {
        return Ok(s);
    }
    JSON::stringify(value)
        .ok()
        .and_then(|s| s.as_string())
        .ok_or_else(error)
}

fn claims_object(value: &JsValue) -> Result<Map<String, Value>, Error> {
    let bad = || Error::new(Code::Malformed, "claims must be a plain JSON object");
    if value.is_string() {
        return Err(bad());
    }
    let text = json_text(value, bad)?;
    crate::json::parse_object(text.as_bytes()).map_err(|_| bad())
}

/// The token argument and the `now` option of a call.
fn token_at(token: &JsValue, options: &Option<JsValue>) -> Result<(String, i64), Error> {
    Ok((token_string(token)?, now_from(options)?))
}

fn now_from(options: &Option<JsValue>) -> Result<i64, Error> {
    let Some(opts) = options
        .as_ref()
        .filter(|o| !o.is_undefined() && !o.is_null())
    else {
        return Ok(unix_now());
    };
    let now = Reflect::get(opts, &"now".into()).unwrap_or(JsValue::UNDEFINED);
    if now.is_undefined() || now.is_null() {
        return Ok(unix_now());
    }
    match now.as_f64() {
        Some(n) if n.is_finite() && n.abs() < 1e15 => Ok(n.floor() as i64),
        _ => Err(Error::config(
            "now",
            "now must be a finite number of seconds",
        )),
    }
}

/// JSON the crate built as a plain JS value (`undefined` only if it were not JSON).
fn json_js(value: &Value) -> JsValue {
    JSON::parse(&value.to_string()).unwrap_or(JsValue::UNDEFINED)
}

/// A JSON result of the crate as a method's JS result: the plain value, or the thrown error.
fn json_result(result: Result<Value, Error>) -> Result<JsValue, JsValue> {
    result.map(|v| json_js(&v)).map_err(|e| js_error(&e))
}

/// A key report as a JS array of plain objects.
fn key_report_js(report: &[crate::KeyInfo]) -> JsValue {
    json_js(&Value::Array(
        report.iter().map(crate::KeyInfo::to_json).collect(),
    ))
}

fn policy_from(value: &JsValue) -> Result<Policy, Error> {
    Policy::from_value(&policy_json(value)?)
}

/// A policy argument (an object, or its JSON text) as strict JSON, as `Policy::from_json` reads it.
fn policy_json(value: &JsValue) -> Result<Value, Error> {
    let text = json_text(value, || {
        Error::config("policy", "the policy must be a JSON object")
    })?;
    crate::json::parse(text.as_bytes())
        .map_err(|_| Error::config("policy", "not strict JSON (or a duplicate member)"))
}

/// A required string member of the options object (`config` naming it otherwise).
fn required_string(options: &Option<JsValue>, name: &'static str) -> Result<String, Error> {
    option(options, name)
        .as_string()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| Error::config(name, "required: a non-empty string"))
}

fn option(options: &Option<JsValue>, name: &str) -> JsValue {
    options
        .as_ref()
        .filter(|o| o.is_object())
        .and_then(|o| Reflect::get(o, &name.into()).ok())
        .unwrap_or(JsValue::UNDEFINED)
}

/// A verified payload's text as a JS object (`JSON.parse`).
fn payload_js(payload_json: &str) -> Result<JsValue, Error> {
    JSON::parse(payload_json).map_err(|_| Error::new(Code::Malformed, "payload is not JSON"))
}

// ---------------------------------------------------------------- package internals
//
// For the package's own JS (js/extend.js), never part of its API: they hand out a payload
// before its signature is checked, a key's JWK, or a decryption's key; each class's file holds
// its own. They are free functions, not methods (so no class exposes them), named
// `__jwtgate_*`, and the package entries take them out of the module's exports before handing
// it to users.
