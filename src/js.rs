//! The npm package surface: `Verifier` and `Signer` classes over the Rust core.
//!
//! A thin adapter, by design: JavaScript values cross as JSON text (`JSON.stringify` in, the
//! strict parser of the core on the Rust side; `JSON.parse` out), so JavaScript gets exactly the
//! checks Rust gets, including duplicate-member and type rules. Errors become `Error` objects with
//! `name = "JwtGateError"`, a stable `code`, and `claim` / `field` where one applies.

use crate::error::{Code, Error};
use crate::host_crypto::{host_verify, import_host_keys, public_jwk_js, to_js, HostKeys};
use crate::{unix_now, Algorithm, Key, Policy, Signer, SignerOptions, Verified, Verifier};
use js_sys::{Reflect, JSON};
use serde_json::{Map, Value};
use wasm_bindgen::prelude::*;

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

/// `config` for asking the host-only build (the Node build) to check a signature itself.
fn host_only(field: &'static str) -> Error {
    Error::config(
        field,
        "this build (jwtgate's Node build) has no RSA, ECDSA or Ed25519 code of its own: \
         those signatures are checked by host crypto (node:crypto)",
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

/// A key report as a JS array of plain objects.
fn key_report_js(report: &[crate::KeyInfo]) -> JsValue {
    let list = Value::Array(report.iter().map(crate::KeyInfo::to_json).collect());
    JSON::parse(&list.to_string()).unwrap_or(JsValue::UNDEFINED)
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

/// The default number of verified tokens a `Verifier` keeps.
const DEFAULT_CACHE_SIZE: usize = 1000;
/// The largest accepted `cacheSize`.
const MAX_CACHE_SIZE: usize = 1 << 20;

/// Verifies tokens against one policy. Keys are parsed once, in the constructor.
#[wasm_bindgen(js_name = Verifier)]
pub struct JsVerifier {
    inner: Verifier,
    /// Host handles per key index (all empty without host crypto).
    host_keys: Vec<HostKeys>,
    /// Entries for the verified-token cache kept by the package's JS entry (0: off).
    cache_size: usize,
    /// The DPoP proofs seen in their window (`verifyDpop`), in this instance's memory.
    replay: std::cell::RefCell<crate::dpop::ReplayWindow>,
}

/// How many DPoP proofs a `Verifier` remembers at once, and of one holder key: past it, new
/// proofs (of that key) are refused until old ones leave their window (it fails closed).
const REPLAY_CAPACITY: usize = 100_000;
const REPLAY_PER_KEY: usize = 1_000;

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

impl JsVerifier {
    /// The core's stages with the raw signature check offered to the host (node:crypto) first,
    /// then jwtgate's own code.
    fn verify_inner(&self, token: &str, now: i64) -> Result<Verified, Error> {
        self.verify_presented(token, now, crate::Presentation::Bearer)
    }

    /// [`verify_inner`](JsVerifier::verify_inner) for a token presented as `presentation`.
    fn verify_presented(
        &self,
        token: &str,
        now: i64,
        presentation: crate::Presentation,
    ) -> Result<Verified, Error> {
        let prepared = self.inner.prepare_as(token, now, presentation)?;
        if self.deferred(prepared.key_index()) {
            return Err(async_only("verifyAsync"));
        }
        let host = self.host_keys.get(prepared.key_index()).and_then(|keys| {
            host_verify(
                keys,
                prepared.alg(),
                prepared.signing_input(),
                prepared.signature(),
            )
        });
        let valid = host.unwrap_or_else(|| prepared.check_here(&self.inner));
        prepared.finish(valid)
    }

    /// Whether key `index` is deferred (no host checked it; only `verifyAsync` uses it).
    fn deferred(&self, index: usize) -> bool {
        self.inner
            .policy()
            .keys
            .keys()
            .get(index)
            .is_some_and(Key::deferred)
    }

    /// A JS verifier over `inner`, with the `VerifierOptions` (cache size, native crypto).
    fn with_options(inner: Verifier, options: &Option<JsValue>) -> Result<JsVerifier, Error> {
        let cache_size = match option(options, "cacheSize") {
            v if v.is_undefined() || v.is_null() => DEFAULT_CACHE_SIZE,
            v => match v.as_f64() {
                Some(n) if n.fract() == 0.0 && (0.0..=MAX_CACHE_SIZE as f64).contains(&n) => {
                    n as usize
                }
                _ => {
                    return Err(Error::config(
                        "cacheSize",
                        "must be a whole number from 0 to 1048576",
                    ))
                }
            },
        };
        let native = match option(options, "nativeCrypto") {
            v if v.is_undefined() || v.is_null() => true,
            v => v
                .as_bool()
                .ok_or_else(|| Error::config("nativeCrypto", "must be true or false"))?,
        };
        if cfg!(feature = "host-keys") && !native {
            return Err(host_only("nativeCrypto"));
        }
        let host_keys: Vec<HostKeys> = inner
            .policy()
            .keys
            .keys()
            .iter()
            .map(|k| {
                if native {
                    import_host_keys(k)
                } else {
                    Vec::new()
                }
            })
            .collect();
        // Host-only build: each key the host checked must also import for each of its algorithms
        // (a host that accepts a key and then will not verify with it is broken).
        #[cfg(feature = "host-keys")]
        for (i, (key, handles)) in inner
            .policy()
            .keys
            .keys()
            .iter()
            .zip(&host_keys)
            .enumerate()
        {
            if key.public_jwk().is_some()
                && !key.deferred()
                && handles.len() != key.algorithms().iter().count()
            {
                return Err(Error::config(
                    format!("keys.keys[{i}]"),
                    "host crypto checked this key but would not import it",
                ));
            }
        }
        Ok(JsVerifier {
            inner,
            host_keys,
            cache_size,
            replay: std::cell::RefCell::new(crate::dpop::ReplayWindow::new(
                REPLAY_CAPACITY,
                REPLAY_PER_KEY,
            )),
        })
    }

    /// `{ payload, from, until }` for the token cache: the payload text and the whole-second
    /// window `from <= now < until` in which every time rule holds (`TimeWindow::bounds`).
    fn cache_entry(&self, verified: &Verified) -> Result<js_sys::Object, Error> {
        let rules = self.inner.policy().rules();
        let (from, until) = rules.time_window(&verified.claims)?.bounds();
        Ok(object(&[
            ("payload", JsValue::from_str(&verified.payload_json)),
            ("from", JsValue::from_f64(from as f64)),
            ("until", JsValue::from_f64(until as f64)),
        ]))
    }
}

/// A plain JS object with these members.
fn object(members: &[(&str, JsValue)]) -> js_sys::Object {
    let o = js_sys::Object::new();
    for (name, value) in members {
        let _ = Reflect::set(&o, &JsValue::from_str(name), value);
    }
    o
}

#[wasm_bindgen(js_class = Verifier)]
impl JsVerifier {
    /// Builds a verifier. Throws a `JwtGateError` with `code: "config"` and `field` when the
    /// policy or an option is incomplete or invalid.
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_param_type = "Policy | string")] policy: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "VerifierOptions")] options: Option<JsValue>,
    ) -> Result<JsVerifier, JsValue> {
        let run = || JsVerifier::with_options(Verifier::new(policy_from(&policy)?)?, &options);
        run().map_err(|e| js_error(&e))
    }

    /// A verifier for the tokens a `Signer` of this same policy makes: the policy over the
    /// public halves of its keys (a key that may sign verifies instead, whatever its `key_ops`;
    /// an HMAC secret stays), so an issuer never writes a second, private-key-free copy of its
    /// policy by hand, and the verifier holds no private key.
    #[wasm_bindgen(js_name = forSigner)]
    pub fn for_signer(
        #[wasm_bindgen(unchecked_param_type = "Policy | string")] policy: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "VerifierOptions")] options: Option<JsValue>,
    ) -> Result<JsVerifier, JsValue> {
        let run =
            || JsVerifier::with_options(Verifier::for_signer(policy_from(&policy)?)?, &options);
        run().map_err(|e| js_error(&e))
    }

    /// Verifies a compact JWS and returns its payload (a new object on every call). Throws a
    /// `JwtGateError` otherwise. The package entries wrap this method with the verified-token
    /// cache (`js/extend.js`); this Rust method itself keeps nothing between calls.
    #[wasm_bindgen(unchecked_return_type = "Claims")]
    pub fn verify(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] token: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "TimeOptions")] options: Option<JsValue>,
    ) -> Result<JsValue, JsValue> {
        let run = || -> Result<JsValue, Error> {
            let (token, now) = token_at(&token, &options)?;
            let verified = self.verify_inner(&token, now)?;
            JSON::parse(&verified.payload_json)
                .map_err(|_| Error::new(Code::Malformed, "payload is not JSON"))
        };
        run().map_err(|e| js_error(&e))
    }

    /// Verifies a DPoP-bound token (RFC 9449) with its proof, the request's `DPoP` header, for
    /// the request `{ method, url, now? }`, and returns the token's payload. The token as
    /// `verify` checks it, except that it must carry `cnf.jkt` (`verify` refuses such a token);
    /// then every proof rule (docs/policy.md#dpop-sender-constrained-tokens), the binding of the
    /// proof's key to `cnf.jkt`, and replay: a proof is accepted once per `Verifier` instance
    /// (`replayed` after). Instances that share tokens (several processes) do not share this
    /// memory. `config` if the policy has no `dpop` member.
    #[wasm_bindgen(js_name = verifyDpop, unchecked_return_type = "Claims")]
    pub fn verify_dpop(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] token: JsValue,
        #[wasm_bindgen(unchecked_param_type = "string")] proof: JsValue,
        #[wasm_bindgen(unchecked_param_type = "DpopRequest")] request: JsValue,
    ) -> Result<JsValue, JsValue> {
        let run = || -> Result<JsValue, Error> {
            let rules = self.inner.policy().dpop().ok_or_else(|| {
                Error::config(
                    "dpop",
                    "the policy has no dpop member: it accepts no DPoP proof",
                )
            })?;
            // A proof is signed with the client's own RSA, EC or OKP key: in a build with no
            // arithmetic of its own, only a registered host can check it.
            #[cfg(feature = "host-keys")]
            if !crate::alg::host::available() {
                return Err(Error::config(
                    "dpop",
                    "verifyDpop checks the proof's signature with synchronous host crypto, and \
                     none is registered: register node:crypto with setHostCrypto \
                     (jwtgate/host/node-crypto)",
                ));
            }
            let token = token_string(&token)?;
            let proof = proof.as_string().ok_or_else(|| {
                Error::claim(Code::DpopProof, "proof", "the DPoP proof must be a string")
            })?;
            let options = Some(request);
            let method = required_string(&options, "method")?;
            let url = required_string(&options, "url")?;
            let now = now_from(&options)?;
            let verified = self.verify_presented(&token, now, crate::Presentation::Proven)?;
            let request = crate::dpop::ProofRequest {
                method: &method,
                url: &url,
            };
            let checked = crate::dpop::check_proof(rules, &proof, &request, &token, now)?;
            crate::dpop::check_binding(&verified.claims, &checked)?;
            self.replay.borrow_mut().record(&checked, now)?;
            JSON::parse(&verified.payload_json)
                .map_err(|_| Error::new(Code::Malformed, "payload is not JSON"))
        };
        run().map_err(|e| js_error(&e))
    }

    /// What the verifier made of each JWK of its set, in order: a usable key's `kid` and the one
    /// algorithm it is bound to, or why a key is inert (kept out of selection). No key material.
    #[wasm_bindgen(unchecked_return_type = "KeyInfo[]")]
    pub fn keys(&self) -> JsValue {
        key_report_js(self.inner.keys())
    }

    /// The `cacheSize` this verifier was built with (the package's JS entry keeps the cache).
    #[wasm_bindgen(getter, js_name = cacheSize)]
    pub fn cache_size(&self) -> usize {
        self.cache_size
    }

    /// Whether RSA, ECDSA and Ed25519 signatures go to host crypto (some key has a host handle).
    #[wasm_bindgen(getter, js_name = nativeCrypto)]
    pub fn native_crypto(&self) -> bool {
        self.host_keys.iter().any(|k| !k.is_empty())
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

/// The default Auth.js session cookie on HTTPS (the key salt when none is given).
#[cfg(feature = "jwe-reader")]
const DEFAULT_AUTHJS_COOKIE: &str = "__Secure-authjs.session-token";

/// Reads Auth.js's own session cookies (the JWE `@auth/core` writes) outside Auth.js, e.g. in
/// another backend of the same site, under a jwtgate policy: decryption exactly as Auth.js
/// writes it (any other shape refused), then every claim rule. The policy's `keys` are not
/// needed (the key is derived from the secret); its `algorithms` are still required.
#[cfg(feature = "jwe-reader")]
#[wasm_bindgen(js_name = AuthJsCookie)]
pub struct JsAuthJsCookie {
    inner: crate::jwe::AuthJsCookie,
}

#[cfg(feature = "jwe-reader")]
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
            let token = token_string(&token)?;
            let opened = self.inner.open(&token, now_from(&options)?)?;
            JSON::parse(&opened.payload_json)
                .map_err(|_| Error::new(Code::Malformed, "payload is not JSON"))
        };
        run().map_err(|e| js_error(&e))
    }

    /// The cookie name (the key salt) this reader opens.
    #[wasm_bindgen(getter, js_name = cookieName)]
    pub fn cookie_name(&self) -> String {
        self.inner.cookie_name().to_owned()
    }
}

// ---------------------------------------------------------------- package internals
//
// For the package's own JS (js/extend.js), never part of its API: these hand out a payload
// before its signature is checked, or check a signature out of its token. They are free
// functions, not methods (so no `Verifier` exposes them), named `__jwtgate_*`, and the package
// entries take them out of the module's exports before handing it to users.

/// For the package's verified-token cache (see `js/extend.js`): verifies like `verify` and
/// returns `{ payload, from, until }`, the payload text and the whole-second window
/// `from <= now < until` in which every time rule holds for it (`TimeWindow::bounds`). The
/// other rules do not depend on the time, so a token inside its window passes all of them.
#[wasm_bindgen(js_name = __jwtgate_verifyForCache, skip_typescript)]
pub fn verify_for_cache(
    verifier: &JsVerifier,
    token: JsValue,
    options: Option<JsValue>,
) -> Result<js_sys::Object, JsValue> {
    let run = || -> Result<js_sys::Object, Error> {
        let (token, now) = token_at(&token, &options)?;
        verifier.cache_entry(&verifier.verify_inner(&token, now)?)
    };
    run().map_err(|e| js_error(&e))
}

/// For `verifyAsync` (see `js/extend.js`): the core's `prepare` stage. Throws for any failure
/// found before the signature. For an HMAC key the signature is checked here and the answer is
/// final: `{ payload, from, until }` as `verifyForCache` gives. Otherwise the raw RSA, ECDSA or
/// Ed25519 check is left to the caller (WebCrypto, or the host's handle): `{ pending: { keyIndex,
/// alg, signingInput, signature, deferred } }`, where the key, its binding and the signature's
/// form have been checked. Nothing about the claims is handed out: the caller passes the
/// check's answer to `finishVerify`, which settles the token.
#[wasm_bindgen(js_name = __jwtgate_prepareVerify, skip_typescript)]
pub fn prepare_verify(
    verifier: &JsVerifier,
    token: JsValue,
    options: Option<JsValue>,
) -> Result<js_sys::Object, JsValue> {
    let run = || -> Result<js_sys::Object, Error> {
        let (token, now) = token_at(&token, &options)?;
        let prepared = verifier.inner.prepare(&token, now)?;
        if prepared.is_symmetric() {
            return verifier.cache_entry(&prepared.finish_here(&verifier.inner)?);
        }
        let pending = object(&[
            ("keyIndex", JsValue::from_f64(prepared.key_index() as f64)),
            ("alg", JsValue::from_str(prepared.alg().name())),
            (
                "signingInput",
                js_sys::Uint8Array::from(prepared.signing_input()).into(),
            ),
            (
                "signature",
                js_sys::Uint8Array::from(prepared.signature()).into(),
            ),
            ("deferred", verifier.deferred(prepared.key_index()).into()),
        ]);
        Ok(object(&[("pending", pending.into())]))
    };
    run().map_err(|e| js_error(&e))
}

/// For `verifyAsync`: the host handle (`HostKey`) of key `index` for `alg`, or `undefined`
/// where the verifier has none (no host crypto, `nativeCrypto: false`, HMAC, a refused key).
#[wasm_bindgen(js_name = __jwtgate_hostKeyAt, skip_typescript)]
pub fn host_key_at(verifier: &JsVerifier, index: usize, alg: &str) -> JsValue {
    let found = Algorithm::from_name(alg).and_then(|alg| {
        let keys = verifier.host_keys.get(index)?;
        keys.iter()
            .find(|(a, _)| *a == alg)
            .map(|(_, h)| AsRef::<JsValue>::as_ref(h).clone())
    });
    found.unwrap_or(JsValue::UNDEFINED)
}

/// For `verifyAsync`: the public JWK of key `index` (`undefined` for an HMAC secret or an
/// index out of range), to import into WebCrypto.
#[wasm_bindgen(js_name = __jwtgate_publicJwkAt, skip_typescript)]
pub fn public_jwk_at(verifier: &JsVerifier, index: usize) -> JsValue {
    verifier
        .inner
        .policy()
        .keys
        .keys()
        .get(index)
        .and_then(public_jwk_js)
        .unwrap_or(JsValue::UNDEFINED)
}

/// For `verifyAsync`: settles a token `prepareVerify` left pending, once its raw signature
/// check answered `valid` (`true` or `false`; anything else: no answer). The one rule, as
/// `verify` applies it: `signature` unless valid, then the first claim failure, else
/// `{ payload, from, until }` as `verifyForCache` gives. With no answer, jwtgate's own check
/// decides, or, for a deferred key (which only WebCrypto checks), `config` naming the key.
/// `prepare` runs again on the same token and time (a few µs beside the signature check), so
/// no payload is held between the two calls.
#[wasm_bindgen(js_name = __jwtgate_finishVerify, skip_typescript)]
pub fn finish_verify(
    verifier: &JsVerifier,
    token: JsValue,
    options: Option<JsValue>,
    valid: JsValue,
) -> Result<js_sys::Object, JsValue> {
    let run = || -> Result<js_sys::Object, Error> {
        let (token, now) = token_at(&token, &options)?;
        let prepared = verifier.inner.prepare(&token, now)?;
        let index = prepared.key_index();
        let valid = match valid.as_bool() {
            Some(valid) => valid,
            None if verifier.deferred(index) => {
                return Err(Error::config(
                    format!("keys.keys[{index}]"),
                    format!(
                        "WebCrypto could not check a {} signature with this key (it refused the \
                         key, or this runtime has no crypto.subtle or no {} support)",
                        prepared.alg(),
                        prepared.alg()
                    ),
                ))
            }
            None => prepared.check_here(&verifier.inner),
        };
        verifier.cache_entry(&prepared.finish(valid)?)
    };
    run().map_err(|e| js_error(&e))
}

/// For `signAsync` / `signAsIsAsync` (see `js/extend.js`): `{ token }` where the signer signs
/// synchronously (HMAC, or a key host crypto checked), else `{ input, jwk, alg }`: the stamped
/// (`asIs`: checked as `signAsIs` checks them) claims' signing input, and the deferred signing
/// key's private JWK, for WebCrypto to sign; then `finishSign`.
#[wasm_bindgen(js_name = __jwtgate_prepareSign, skip_typescript)]
pub fn prepare_sign(
    signer: &JsSigner,
    claims: JsValue,
    options: Option<JsValue>,
    as_is: bool,
) -> Result<js_sys::Object, JsValue> {
    let run = || -> Result<js_sys::Object, Error> {
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
        Ok(object(&[
            ("input", input.into()),
            ("jwk", to_js(jwk)?),
            ("alg", signer.algorithm().name().into()),
        ]))
    };
    run().map_err(|e| js_error(&e))
}

/// For `signAsync`: the token from `prepareSign`'s `input` and WebCrypto's `signature`.
/// `checked` says whether that signature verified under the key's public half (the package
/// checks a signer's first signature so; a private JWK whose members do not belong together
/// signs nothing): anything but `true` is `config`, as is a signature of the wrong form.
#[wasm_bindgen(js_name = __jwtgate_finishSign, skip_typescript)]
pub fn finish_sign(
    signer: &JsSigner,
    input: String,
    signature: &[u8],
    checked: JsValue,
) -> Result<String, JsValue> {
    let run = || -> Result<String, Error> {
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

/// For `openAsync` (see `js/extend.js`): `{ payload }` where the reader decrypts
/// synchronously (RustCrypto's AES, or host crypto's), else the one AES-256 decryption the
/// cookie needs, after every check before it: `{ cipher: "AES-CBC" | "AES-GCM", key, iv, aad,
/// data, tag }`; then `openFinish` with WebCrypto's plaintext.
#[cfg(feature = "jwe-reader")]
#[wasm_bindgen(js_name = __jwtgate_openRequest, skip_typescript)]
pub fn open_request(
    reader: &JsAuthJsCookie,
    token: JsValue,
    options: Option<JsValue>,
) -> Result<js_sys::Object, JsValue> {
    let run = || -> Result<js_sys::Object, Error> {
        let (token, now) = token_at(&token, &options)?;
        if !reader.inner.deferred() {
            let opened = reader.inner.open(&token, now)?;
            return Ok(object(&[("payload", opened.payload_json.into())]));
        }
        let mut request = None;
        let asked = reader.inner.open_with(&token, now, |d| {
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
/// decryption (`null`: it refused, a wrong tag or padding; `undefined`: there is no
/// WebCrypto, `config`), and every check after it (its
/// length, the claims): the payload text, or the `JwtGateError`.
#[cfg(feature = "jwe-reader")]
#[wasm_bindgen(js_name = __jwtgate_openFinish, skip_typescript)]
pub fn open_finish(
    reader: &JsAuthJsCookie,
    token: JsValue,
    options: Option<JsValue>,
    plaintext: JsValue,
) -> Result<String, JsValue> {
    let run = || -> Result<String, Error> {
        let (token, now) = token_at(&token, &options)?;
        let answer = if plaintext.is_null() {
            None
        } else {
            let bytes = plaintext.dyn_ref::<js_sys::Uint8Array>().ok_or_else(|| {
                Error::config("secret", "openAsync needs WebCrypto (crypto.subtle)")
            })?;
            Some(bytes.to_vec())
        };
        let opened = reader.inner.open_with(&token, now, |_| Ok(answer))?;
        Ok(opened.payload_json)
    };
    run().map_err(|e| js_error(&e))
}

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
            ])
            .into())
        };
        run().map_err(|e| js_error(&e))
    }

    /// Whether the session `sid` is revoked in this instance's store (refuse its access tokens).
    #[wasm_bindgen(js_name = isRevoked)]
    pub fn is_revoked(&self, sid: &str) -> bool {
        self.families.borrow().is_revoked(sid)
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
}

/// Explains a token locally (what `npx jwtgate explain` prints): its parts decoded, unverified,
/// and with a policy each verification stage's verdict, every claim rule's, and the `result`
/// `verify` gives. The signature is never included (only `signatureBytes`). Throws a `config`
/// `JwtGateError` only for an invalid policy or `now`; any token, however malformed, is explained.
#[wasm_bindgen(unchecked_return_type = "Explanation")]
pub fn explain(
    #[wasm_bindgen(unchecked_param_type = "string")] token: JsValue,
    #[wasm_bindgen(unchecked_optional_param_type = "Policy | string | null")] policy: Option<
        JsValue,
    >,
    #[wasm_bindgen(unchecked_optional_param_type = "TimeOptions")] options: Option<JsValue>,
) -> Result<JsValue, JsValue> {
    let run = || -> Result<JsValue, Error> {
        let token = token.as_string().unwrap_or_default();
        let now = now_from(&options)?;
        let verifier = match policy.filter(|p| !p.is_undefined() && !p.is_null()) {
            Some(p) => Some(Verifier::new(policy_from(&p)?)?),
            None => None,
        };
        let text = crate::explain::explain(verifier.as_ref(), &token, now)
            .to_json()
            .to_string();
        JSON::parse(&text).map_err(|_| Error::new(Code::Malformed, "explanation"))
    };
    run().map_err(|e| js_error(&e))
}

/// The algorithms to pin for a key set's signing keys (an issuer's whole set, with its private
/// key in it), so that its other keys are inert: each private key's own `alg`, else its type's
/// default (`oct` HS256, `RSA` RS256, `EC` P-256 ES256, P-384 ES384, P-521 ES512, `OKP` Ed25519
/// EdDSA); the public keys' when none is private. Throws a `config` `JwtGateError` naming a malformed or weak key.
#[wasm_bindgen(js_name = signingAlgorithms, unchecked_return_type = "Algorithm[]")]
pub fn signing_algorithms(
    #[wasm_bindgen(unchecked_param_type = "Jwks | string")] keys: JsValue,
) -> Result<JsValue, JsValue> {
    let run = || -> Result<JsValue, Error> {
        let text = json_text(&keys, || {
            Error::config("keys", "a JWKS is an object with a \"keys\" array")
        })?;
        let jwks = crate::json::parse(text.as_bytes())
            .map_err(|_| Error::config("keys", "not a strict JSON object"))?;
        let algs = crate::KeySet::signing_algorithms(&jwks)?;
        Ok(algs
            .iter()
            .map(|a| JsValue::from_str(a.name()))
            .collect::<js_sys::Array>()
            .into())
    };
    run().map_err(|e| js_error(&e))
}

/// The revocation-list keys to look up for verified claims: `jti:<jti>`, `sid:<sid>` and
/// `sub:<sub>`, for each of those claims present. Throws `malformed` for a non-string one, and
/// `revoked` for one too long to be a list key (512 bytes): it could never be listed.
#[wasm_bindgen(js_name = revocationKeys, unchecked_return_type = "string[]")]
pub fn revocation_keys(
    #[wasm_bindgen(unchecked_param_type = "Claims")] claims: JsValue,
) -> Result<JsValue, JsValue> {
    let run = || -> Result<JsValue, Error> {
        let keys = crate::revocation::revocation_keys(&claims_object(&claims)?)?;
        let list = js_sys::Array::new();
        for (_, key) in keys {
            list.push(&JsValue::from_str(&key));
        }
        Ok(list.into())
    };
    run().map_err(|e| js_error(&e))
}

/// Applies a revocation list's answers to verified claims: `answers` maps every key of
/// `revocationKeys(claims)` to the entry's value (a string) or `null` (no entry). Throws
/// `revoked` if an entry denies the token, its session (`sid`) or its subject's sessions started
/// before a `sub:` cut-off; `config` if an answer is missing or of another type.
#[wasm_bindgen(js_name = checkRevocation)]
pub fn check_revocation(
    #[wasm_bindgen(unchecked_param_type = "Claims")] claims: JsValue,
    #[wasm_bindgen(unchecked_param_type = "Record<string, string | null>")] answers: JsValue,
) -> Result<(), JsValue> {
    use crate::revocation::{check_revocation, revocation_keys, Lookup, RevocationVerdict};
    let run = || -> Result<(), Error> {
        let claims = claims_object(&claims)?;
        let keys = revocation_keys(&claims)?;
        let values: Vec<Option<String>> = keys
            .iter()
            .map(|(_, key)| {
                let v = if answers.is_object() {
                    Reflect::get(&answers, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
                } else {
                    JsValue::UNDEFINED
                };
                if v.is_null() {
                    Ok(None)
                } else {
                    v.as_string().map(Some).ok_or_else(|| {
                        Error::config(
                            "answers",
                            "must map every key of revocationKeys(claims) to a string or null",
                        )
                    })
                }
            })
            .collect::<Result<_, Error>>()?;
        let answers: Vec<_> = keys
            .iter()
            .zip(&values)
            .map(|((kind, _), v)| (*kind, v.as_deref().map_or(Lookup::Absent, Lookup::Present)))
            .collect();
        match check_revocation(&claims, &answers, false) {
            RevocationVerdict::Revoked(e) => Err(e),
            _ => Ok(()),
        }
    };
    run().map_err(|e| js_error(&e))
}

/// Low-level: checks one raw JWS signature over `message` with one JWK bound to `alg`, with the
/// same key rules as a `Verifier` (through host crypto when `native` is true and one is
/// registered). Returns whether it verifies; throws a `JwtGateError` (`config`) for an unusable
/// key or algorithm. For cross-checking implementations; tokens go through `Verifier`.
#[wasm_bindgen(js_name = verifySignature)]
pub fn verify_signature(
    #[wasm_bindgen(unchecked_param_type = "Jwk | string")] jwk: JsValue,
    alg: &str,
    message: &[u8],
    signature: &[u8],
    native: bool,
) -> Result<bool, JsValue> {
    let run = || -> Result<bool, Error> {
        let alg = Algorithm::from_name(alg)
            .ok_or_else(|| Error::config("alg", "not a supported algorithm"))?;
        let text = json_text(&jwk, || Error::config("jwk", "must be a JSON object"))?;
        let key = Key::from_jwk_json(&text, &[alg])?;
        if cfg!(feature = "host-keys") && !native {
            return Err(host_only("native"));
        }
        let host = if native {
            import_host_keys(&key)
        } else {
            Vec::new()
        };
        if host.is_empty() && key.deferred() {
            return Err(Error::config(
                "jwk",
                "no host crypto is registered, and this build has no RSA, ECDSA or Ed25519 code \
                 of its own (jwtgate/pure has)",
            ));
        }
        Ok(key
            .verify_signature_via(alg, message, signature, |a, i, s| {
                host_verify(&host, a, i, s)
            })
            .is_ok())
    };
    run().map_err(|e| js_error(&e))
}
