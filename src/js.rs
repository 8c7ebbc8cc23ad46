//! The npm package surface: `Verifier` and `Signer` classes over the Rust core.
//!
//! A thin adapter, by design: JavaScript values cross as JSON text (`JSON.stringify` in, the
//! strict parser of the core on the Rust side; `JSON.parse` out), so JavaScript gets exactly the
//! checks Rust gets, including duplicate-member and type rules. Errors become `Error` objects with
//! `name = "JwtGateError"`, a stable `code`, and `claim` / `field` where one applies.

use crate::error::{Code, Error};
use crate::{unix_now, Policy, Signer, SignerOptions, Verifier};
use js_sys::{Reflect, JSON};
use serde_json::{Map, Value};
use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &'static str = r#"
/** A JSON Web Key (RFC 7517). Private members (`d`, `p`, `q`, `k`) are needed only for signing. */
export interface Jwk {
  kty: "oct" | "RSA" | "EC" | "OKP";
  kid?: string;
  alg?: string;
  use?: string;
  key_ops?: string[];
  crv?: string;
  [member: string]: unknown;
}

/** The one policy shape shared by the issuer, every verifier and the edge gate. */
export interface Policy {
  /** Accepted `iss` value(s). Required, non-empty. Signing needs exactly one. */
  issuer: string | string[];
  /** Accepted `aud` value(s). Required, non-empty. */
  audience: string | string[];
  /** Algorithm allowlist, exact names. Required, non-empty; `none` is never allowed. */
  algorithms: Array<"HS256" | "HS384" | "HS512" | "RS256" | "RS384" | "RS512" | "PS256" | "PS384" | "PS512" | "ES256" | "EdDSA" | "Ed25519">;
  /** The key set (JWKS). Required, non-empty. */
  keys: { keys: Jwk[] };
  /** Clock tolerance in seconds. Default 30, allowed 0..=300. */
  leewaySeconds?: number;
  /** Absolute age limit in seconds, from `auth_time` (else `iat`). Default: none. */
  maxAgeSeconds?: number;
  /** Claims required in addition to `exp`, `iss`, `aud` (and `iat` with `maxAgeSeconds`). Default []. */
  requiredClaims?: string[];
  /** Expected header `typ` (case-insensitive, `application/` optional). Signers write it (default "JWT"). */
  typ?: string;
  /** Longest accepted token in bytes. Default 16384, allowed 256..=1048576. */
  maxTokenBytes?: number;
}

/** Options for a single call. */
export interface TimeOptions {
  /** The current time in seconds since the epoch. Default: `Date.now() / 1000`, rounded down. */
  now?: number;
}

/** Options for a `Signer`. */
export interface SignerOptions {
  /** Token lifetime in seconds. Default 900, allowed 1..=31536000; never past `auth_time + maxAgeSeconds`. */
  ttlSeconds?: number;
}

/** A JWT claims set. */
export type Claims = Record<string, unknown>;

/** The stable error codes. */
export type JwtGateErrorCode =
  | "malformed" | "too_large" | "algorithm" | "header" | "key_not_found" | "signature"
  | "expired" | "not_yet_valid" | "issued_in_future" | "too_old" | "audience" | "issuer"
  | "missing_claim" | "type" | "revoked" | "config";

/** What every jwtgate failure throws. */
export interface JwtGateError extends Error {
  name: "JwtGateError";
  code: JwtGateErrorCode;
  /** The claim concerned, for claim errors (`"exp"`, `"aud"`, ...). */
  claim?: string;
  /** The policy field or argument concerned, for `config` errors. */
  field?: string;
}
"#;

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

fn to_js(map: &Map<String, Value>) -> Result<JsValue, Error> {
    let text = serde_json::to_string(map)
        .map_err(|_| Error::new(Code::Malformed, "claims could not be encoded"))?;
    JSON::parse(&text).map_err(|_| Error::new(Code::Malformed, "claims could not be encoded"))
}

fn policy_from(value: &JsValue) -> Result<Policy, Error> {
    let text = json_text(value, || {
        Error::config("policy", "the policy must be a JSON object")
    })?;
    Policy::from_json(&text)
}

/// Verifies tokens against one policy. Keys are parsed once, in the constructor.
#[wasm_bindgen(js_name = Verifier)]
pub struct JsVerifier {
    inner: Verifier,
}

#[wasm_bindgen(js_class = Verifier)]
impl JsVerifier {
    /// Builds a verifier. Throws a `JwtGateError` with `code: "config"` and `field` when the
    /// policy is incomplete or invalid.
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_param_type = "Policy | string")] policy: JsValue,
    ) -> Result<JsVerifier, JsValue> {
        let policy = policy_from(&policy).map_err(|e| js_error(&e))?;
        Verifier::new(policy)
            .map(|inner| JsVerifier { inner })
            .map_err(|e| js_error(&e))
    }

    /// Verifies a compact JWS and returns its payload. Throws a `JwtGateError` otherwise.
    #[wasm_bindgen(unchecked_return_type = "Claims")]
    pub fn verify(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] token: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "TimeOptions")] options: Option<JsValue>,
    ) -> Result<JsValue, JsValue> {
        let run = || -> Result<JsValue, Error> {
            let token = token
                .as_string()
                .ok_or_else(|| Error::new(Code::Malformed, "the token must be a string"))?;
            let now = now_from(&options)?;
            let verified = self.inner.verify(&token, now)?;
            JSON::parse(&verified.payload_json)
                .map_err(|_| Error::new(Code::Malformed, "payload is not JSON"))
        };
        run().map_err(|e| js_error(&e))
    }

    /// Applies every claim rule to a payload object, without a signature. Throws a
    /// `JwtGateError` on the first failure.
    #[wasm_bindgen(js_name = checkClaims)]
    pub fn check_claims(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Claims")] claims: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "TimeOptions")] options: Option<JsValue>,
    ) -> Result<(), JsValue> {
        let run = || -> Result<(), Error> {
            let claims = claims_object(&claims)?;
            self.inner.check_claims(&claims, now_from(&options)?)
        };
        run().map_err(|e| js_error(&e))
    }
}

/// Stamps and signs tokens for one policy (which must hold a private key).
#[wasm_bindgen(js_name = Signer)]
pub struct JsSigner {
    inner: Signer,
}

#[wasm_bindgen(js_class = Signer)]
impl JsSigner {
    /// Builds a signer. Throws a `JwtGateError` with `code: "config"` when the policy has no
    /// private key for an allowed algorithm, names several issuers, or is otherwise invalid.
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_param_type = "Policy | string")] policy: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "SignerOptions")] options: Option<JsValue>,
    ) -> Result<JsSigner, JsValue> {
        let run = || -> Result<JsSigner, Error> {
            let policy = policy_from(&policy)?;
            let mut opts = SignerOptions::default();
            if let Some(o) = options
                .as_ref()
                .filter(|o| !o.is_undefined() && !o.is_null())
            {
                let ttl = Reflect::get(o, &"ttlSeconds".into()).unwrap_or(JsValue::UNDEFINED);
                if !ttl.is_undefined() && !ttl.is_null() {
                    opts.ttl_seconds = match ttl.as_f64() {
                        Some(t) if t.fract() == 0.0 && t.abs() < 1e15 => t as i64,
                        _ => {
                            return Err(Error::config(
                                "ttlSeconds",
                                "must be a whole number from 1 to 31536000",
                            ))
                        }
                    };
                }
            }
            Signer::new(policy, opts).map(|inner| JsSigner { inner })
        };
        run().map_err(|e| js_error(&e))
    }

    /// Stamps `claims` (`iss`, `aud`, `iat`, `nbf`, `exp`, `jti`, `auth_time`) and signs them.
    pub fn sign(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Claims")] claims: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "TimeOptions")] options: Option<JsValue>,
    ) -> Result<String, JsValue> {
        let run = || -> Result<String, Error> {
            let claims = claims_object(&claims)?;
            self.inner.sign(claims, now_from(&options)?)
        };
        run().map_err(|e| js_error(&e))
    }

    /// Signs `claims` exactly as given (no stamping) if they pass every claim rule: re-signing a
    /// token's own claims gives the identical token with HS*, RS*, ES256 and EdDSA.
    #[wasm_bindgen(js_name = signAsIs)]
    pub fn sign_as_is(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Claims")] claims: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "TimeOptions")] options: Option<JsValue>,
    ) -> Result<String, JsValue> {
        let run = || -> Result<String, Error> {
            let claims = claims_object(&claims)?;
            self.inner.sign_as_is(&claims, now_from(&options)?)
        };
        run().map_err(|e| js_error(&e))
    }

    /// Returns a copy of `claims` with the context claims stamped, without signing (for callers
    /// that encode tokens themselves, such as Auth.js callbacks).
    #[wasm_bindgen(unchecked_return_type = "Claims")]
    pub fn stamp(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Claims")] claims: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "TimeOptions")] options: Option<JsValue>,
    ) -> Result<JsValue, JsValue> {
        let run = || -> Result<JsValue, Error> {
            let claims = claims_object(&claims)?;
            let stamped = self.inner.stamp(claims, now_from(&options)?)?;
            to_js(&stamped)
        };
        run().map_err(|e| js_error(&e))
    }

    /// The algorithm this signer uses.
    #[wasm_bindgen(getter)]
    pub fn algorithm(&self) -> String {
        self.inner.algorithm().name().to_owned()
    }
}
