//! `Signer`: stamping and signing, and the internals of `signAsync` (js/extend.js).

use super::*;

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
            if self.inner.deferred() {
                return Err(async_only("signAsync"));
            }
            let claims = claims_object(&claims)?;
            self.inner.sign(claims, now_from(&options)?)
        };
        run().map_err(|e| js_error(&e))
    }

    /// Signs `claims` exactly as given (no stamping) if they pass every claim rule: re-signing a
    /// token's own claims gives the identical token with HS*, RS*, ES* and EdDSA. The signer's
    /// bounds hold as for `sign`: an `exp` past `iat + ttlSeconds` or `auth_time +
    /// maxAgeSeconds` is refused (`malformed` on `exp`), never signed.
    #[wasm_bindgen(js_name = signAsIs)]
    pub fn sign_as_is(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Claims")] claims: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "TimeOptions")] options: Option<JsValue>,
    ) -> Result<String, JsValue> {
        let run = || -> Result<String, Error> {
            if self.inner.deferred() {
                return Err(async_only("signAsIsAsync"));
            }
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

    /// What the signer made of each JWK of its set, in order (see `Verifier.keys`).
    #[wasm_bindgen(unchecked_return_type = "KeyInfo[]")]
    pub fn keys(&self) -> JsValue {
        key_report_js(self.inner.keys())
    }

    /// The JWKS to publish for this signer's verifiers (at `/.well-known/jwks.json`, say): the
    /// public halves of the policy's RSA, EC and OKP keys with `kid`, `alg` and `use: "sig"`,
    /// the signing key first, then the others the policy holds (the next key, published ahead;
    /// retired keys, until their tokens have expired). Never a private member or an HMAC secret:
    /// throws `config` when the signing key is an HMAC secret (its verifiers share it).
    #[wasm_bindgen(js_name = publicJwks, unchecked_return_type = "Jwks")]
    pub fn public_jwks(&self) -> Result<JsValue, JsValue> {
        json_result(self.inner.public_jwks())
    }
}

/// For `signAsync` / `signAsIsAsync` (see `js/extend.js`): `{ token }` where the signer signs
/// synchronously (HMAC, or a key host crypto checked), else `{ input, alg, jwk? }`: the stamped
/// (`asIs`: checked as `signAsIs` checks them) claims' signing input, and (`withJwk`: only
/// until the caller holds the CryptoKey) the deferred signing key's private JWK, for WebCrypto
/// to sign; then `finishSign`.
#[wasm_bindgen(js_name = __jwtgate_prepareSign, skip_typescript)]
pub fn prepare_sign(
    signer: &JsSigner,
    claims: JsValue,
    options: Option<JsValue>,
    as_is: bool,
    with_jwk: bool,
) -> Result<JsValue, JsValue> {
    let run = || -> Result<JsValue, Error> {
        let claims = claims_object(&claims)?;
        let now = now_from(&options)?;
        let signer = &signer.inner;
        if !signer.deferred() {
            let token = if as_is {
                signer.sign_as_is(&claims, now)?
            } else {
                signer.sign(claims, now)?
            };
            return Ok(object(&[("token", token.into())]));
        }
        let (input, jwk) = signer.prepare(claims, now, as_is)?;
        let jwk = if with_jwk {
            to_js(jwk)?
        } else {
            JsValue::UNDEFINED
        };
        Ok(object(&[
            ("input", input.into()),
            ("jwk", jwk),
            ("alg", signer.algorithm().name().into()),
        ]))
    };
    run().map_err(|e| js_error(&e))
}

/// For `signAsync`: the token from `prepareSign`'s `input` and WebCrypto's `signature`.
/// `checked` says whether WebCrypto answered with bytes and, for a signer's first signature,
/// whether they verified under the key's public half (a private JWK whose members do not
/// belong together signs nothing): anything but `true` is `config`, as is a signature of the
/// wrong form. Only for a deferred signer (the others sign in `prepareSign`).
#[wasm_bindgen(js_name = __jwtgate_finishSign, skip_typescript)]
pub fn finish_sign(
    signer: &JsSigner,
    input: String,
    signature: &[u8],
    checked: JsValue,
) -> Result<String, JsValue> {
    let run = || -> Result<String, Error> {
        if !signer.inner.deferred() {
            return Err(Error::config("keys", "this signer signs synchronously"));
        }
        if checked.as_bool() != Some(true) {
            return Err(Error::config(
                "keys",
                format!(
                    "WebCrypto could not make a {} signature that verifies with the signing \
                     key's public half (the key's members do not belong together, or this \
                     runtime does not support the algorithm)",
                    signer.inner.algorithm()
                ),
            ));
        }
        signer.inner.finish(input, signature)
    };
    run().map_err(|e| js_error(&e))
}
