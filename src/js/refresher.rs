//! `Refresher`: refresh-token rotation against an in-memory family store.

use super::*;

/// Refresh-token rotation with reuse detection for one policy (its `refresh` member and a
/// private key): the first refresh token of a session, and refreshes against a family store in
/// this instance's memory (one process; behind the edge gate, the gate rotates instead).
#[wasm_bindgen(js_name = Refresher)]
pub struct JsRefresher {
    inner: crate::refresh::Refresher,
    families: std::cell::RefCell<crate::refresh::MemoryFamilies>,
}

#[wasm_bindgen(js_class = Refresher)]
impl JsRefresher {
    /// Builds a refresher. Throws `config` when the policy has no `refresh` member, no
    /// `maxAgeSeconds`, or no private key.
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_param_type = "Policy | string")] policy: JsValue,
    ) -> Result<JsRefresher, JsValue> {
        let run = || -> Result<JsRefresher, Error> {
            let policy = policy_from(&policy)?;
            let inner = crate::refresh::Refresher::new(&policy)?;
            if inner.deferred() {
                return Err(Error::config(
                    "keys",
                    "a Refresher signs synchronously: with an RSA, EC or OKP signing key it needs \
                     host crypto registered with setHostCrypto before it is built (node:crypto: \
                     jwtgate/host/node-crypto), or an HMAC key",
                ));
            }
            Ok(JsRefresher {
                inner,
                families: Default::default(),
            })
        };
        run().map_err(|e| js_error(&e))
    }

    /// The JWKS to publish for verifiers of the access and refresh tokens it issues (one key
    /// signs both): as `Signer.publicJwks`.
    #[wasm_bindgen(js_name = publicJwks, unchecked_return_type = "Jwks")]
    pub fn public_jwks(&self) -> JsValue {
        json_js(&self.inner.public_jwks())
    }

    /// The first refresh token of a new session (generation 0), at sign-in: `claims` are the
    /// user's (`sub`, and whatever the access tokens should carry); `sid` and `auth_time` are
    /// stamped fresh unless given.
    pub fn start(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Claims")] claims: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "TimeOptions")] options: Option<JsValue>,
    ) -> Result<String, JsValue> {
        let run = || {
            self.inner
                .start(claims_object(&claims)?, now_from(&options)?)
        };
        run().map_err(|e| js_error(&e))
    }

    /// Rotates: verifies the refresh token, applies the family state machine in this
    /// instance's store and issues the next refresh token with a new access token. Throws the
    /// token's error, or `revoked` (claim `sid`) for a revoked family or a reuse (which revokes
    /// it: every later refresh of the session fails too).
    #[wasm_bindgen(unchecked_return_type = "RefreshResult")]
    pub fn refresh(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] token: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "TimeOptions")] options: Option<JsValue>,
    ) -> Result<JsValue, JsValue> {
        use crate::refresh::Outcome;
        let run = || -> Result<JsValue, Error> {
            let (token, now) = token_at(&token, &options)?;
            let (verified, presented) = self.inner.verify(&token, now)?;
            let outcome = self.families.borrow_mut().rotate(&presented);
            let Outcome::Rotated(next) = outcome else {
                return Err(Error::claim(
                    Code::Revoked,
                    "sid",
                    "the session's refresh family is revoked (a refresh token was used twice)",
                ));
            };
            let issued = self.inner.issue(&verified.claims, next, now)?;
            Ok(object(&[
                ("accessToken", JsValue::from_str(&issued.access_token)),
                (
                    "accessExpiresIn",
                    JsValue::from_f64(issued.access_expires_in as f64),
                ),
                ("refreshToken", JsValue::from_str(&issued.refresh_token)),
                (
                    "refreshExpiresIn",
                    JsValue::from_f64(issued.refresh_expires_in as f64),
                ),
            ]))
        };
        run().map_err(|e| js_error(&e))
    }

    /// Whether the session `sid` is revoked in this instance's store (refuse its access tokens).
    #[wasm_bindgen(js_name = isRevoked)]
    pub fn is_revoked(&self, sid: &str) -> bool {
        self.families.borrow().is_revoked(sid)
    }
}
