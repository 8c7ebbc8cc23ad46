//! `AuthJsCookie`: Auth.js's own session cookies, and the internals of `openAsync`
//! (js/extend.js).

use super::*;

/// The default Auth.js session cookie on HTTPS (the key salt when none is given).
const DEFAULT_AUTHJS_COOKIE: &str = "__Secure-authjs.session-token";

/// Reads Auth.js's own session cookies (the JWE `@auth/core` writes) outside Auth.js, e.g. in
/// another backend of the same site, under a jwtgate policy: decryption exactly as Auth.js
/// writes it (any other shape refused), then every claim rule. The policy's `keys` are not
/// needed (the key is derived from the secret); its `algorithms` are still required.
#[wasm_bindgen(js_name = AuthJsCookie)]
pub struct JsAuthJsCookie {
    inner: crate::jwe::AuthJsCookie,
}

#[wasm_bindgen(js_class = AuthJsCookie)]
impl JsAuthJsCookie {
    /// Builds a reader. Throws a `JwtGateError` with `code: "config"` and `field` when the
    /// policy, a secret or the cookie name is missing or invalid (never naming a secret's value).
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_param_type = "Omit<Policy, \"keys\"> | string")] policy: JsValue,
        #[wasm_bindgen(unchecked_param_type = "AuthJsCookieOptions")] options: JsValue,
    ) -> Result<JsAuthJsCookie, JsValue> {
        let run = || -> Result<JsAuthJsCookie, Error> {
            let policy = Policy::from_value_keys_optional(&policy_json(&policy)?)?;
            let options = Some(options);
            let secret = option(&options, "secret");
            let secrets: Vec<String> = if let Some(s) = secret.as_string() {
                vec![s]
            } else if js_sys::Array::is_array(&secret) {
                js_sys::Array::from(&secret)
                    .iter()
                    .map(|v| v.as_string())
                    .collect::<Option<Vec<_>>>()
                    .ok_or_else(|| Error::config("secret", "each secret must be a string"))?
            } else {
                return Err(Error::config(
                    "secret",
                    "required: the app's AUTH_SECRET, or an array of secrets",
                ));
            };
            let cookie = match option(&options, "cookieName") {
                v if v.is_undefined() || v.is_null() => DEFAULT_AUTHJS_COOKIE.to_owned(),
                v => v
                    .as_string()
                    .ok_or_else(|| Error::config("cookieName", "must be a string"))?,
            };
            let inner = crate::jwe::AuthJsCookie::new(&secrets, &cookie, &policy)?;
            Ok(JsAuthJsCookie { inner })
        };
        run().map_err(|e| js_error(&e))
    }

    /// Opens a session cookie's value (chunks joined, as Auth.js joins them) and returns its
    /// claims, after every claim rule. Throws a `JwtGateError` otherwise (`key_not_found` for a
    /// cookie made under a secret this reader does not list or under another cookie name: its
    /// `kid` names no key here; `signature` for one altered after it was made; `missing_claim`
    /// when the app did not stamp `iss`/`aud` (or `auth_time`, under `maxAgeSeconds`), ...).
    #[wasm_bindgen(unchecked_return_type = "Claims")]
    pub fn open(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] token: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "TimeOptions")] options: Option<JsValue>,
    ) -> Result<JsValue, JsValue> {
        let run = || -> Result<JsValue, Error> {
            let (token, now) = token_at(&token, &options)?;
            payload_js(&self.inner.open(&token, now)?.payload_json)
        };
        run().map_err(|e| js_error(&e))
    }

    /// The cookie name (the key salt) this reader opens.
    #[wasm_bindgen(getter, js_name = cookieName)]
    pub fn cookie_name(&self) -> String {
        self.inner.cookie_name().to_owned()
    }
}

/// For `openAsync` (see `js/extend.js`): `{ payload }` where the reader decrypts
/// synchronously (RustCrypto's AES, or host crypto's), else the one AES-256 decryption the
/// cookie needs, after every check before it: `{ cipher: "AES-CBC" | "AES-GCM", key, iv, aad,
/// data, tag }`; then `openFinish` with WebCrypto's plaintext.
#[wasm_bindgen(js_name = __jwtgate_openRequest, skip_typescript)]
pub fn open_request(
    reader: &JsAuthJsCookie,
    token: JsValue,
    options: Option<JsValue>,
) -> Result<JsValue, JsValue> {
    let run = || -> Result<JsValue, Error> {
        let (token, now) = token_at(&token, &options)?;
        if !reader.inner.deferred() {
            let opened = reader.inner.open(&token, now)?;
            return Ok(object(&[("payload", opened.payload_json.into())]));
        }
        let mut request = None;
        let asked = reader.inner.open_with(&token, now, &mut |d| {
            let bytes = |b: &[u8]| JsValue::from(js_sys::Uint8Array::from(b));
            let cipher = match d.enc {
                crate::jwe::Encryption::A256CbcHs512 => "AES-CBC",
                crate::jwe::Encryption::A256Gcm => "AES-GCM",
            };
            request = Some(object(&[
                ("cipher", cipher.into()),
                ("key", bytes(d.key)),
                ("iv", bytes(d.iv)),
                ("aad", bytes(d.aad)),
                ("data", bytes(d.data)),
                ("tag", bytes(d.tag)),
            ]));
            Ok(None)
        });
        // Only an error before decryption is final here; the request's own (`None`) is not.
        match (asked, request) {
            (Err(_), Some(request)) => Ok(request),
            (Err(e), None) => Err(e),
            (Ok(_), _) => Err(Error::config("secret", "the cookie opened without AES")),
        }
    };
    run().map_err(|e| js_error(&e))
}

/// For `openAsync`: opens `token` with `plaintext`, WebCrypto's answer to `openRequest`'s
/// decryption (`null`: it refused, a wrong tag or padding; anything else but bytes: no
/// WebCrypto, an import it refused or an odd answer, `config`), and every check after it (its
/// length, the claims): the payload text, or the `JwtGateError`.
#[wasm_bindgen(js_name = __jwtgate_openFinish, skip_typescript)]
pub fn open_finish(
    reader: &JsAuthJsCookie,
    token: JsValue,
    options: Option<JsValue>,
    plaintext: JsValue,
) -> Result<String, JsValue> {
    let run = || -> Result<String, Error> {
        if !reader.inner.deferred() {
            return Err(Error::config(
                "secret",
                "this reader decrypts synchronously",
            ));
        }
        let (token, now) = token_at(&token, &options)?;
        let answer = if plaintext.is_null() {
            None
        } else {
            let bytes = plaintext.dyn_ref::<js_sys::Uint8Array>().ok_or_else(|| {
                Error::config(
                    "secret",
                    "WebCrypto could not decrypt (no crypto.subtle, a key it would not import, \
                     or an answer that is not bytes)",
                )
            })?;
            Some(bytes.to_vec())
        };
        let mut answer = answer;
        let opened = reader
            .inner
            .open_with(&token, now, &mut |_| Ok(answer.take()))?;
        Ok(opened.payload_json)
    };
    run().map_err(|e| js_error(&e))
}
