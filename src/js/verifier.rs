//! `Verifier`: verification, `verifyDpop`, the key report, and the internals of the package's
//! token cache and `verifyAsync` (js/extend.js).

use super::*;

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
                // A deferred key (no host checked it) never gets a host handle: only WebCrypto
                // uses it, through verifyAsync.
                if native && !k.deferred() {
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

    /// The token cache's entry as one string (one crossing, no object built field by field):
    /// `"<from> <until> <payload>"`, the whole-second window `from <= now < until` in which
    /// every time rule holds (`TimeWindow::bounds`) and the payload text; with `window` false
    /// (no cache) the payload text alone.
    fn entry_text(&self, verified: Verified, window: bool) -> Result<String, Error> {
        if !window {
            return Ok(verified.payload_json);
        }
        let rules = self.inner.policy().rules();
        let (from, until) = rules.time_window(&verified.claims)?.bounds();
        let mut text = String::with_capacity(verified.payload_json.len() + 24);
        text.push_str(&from.to_string());
        text.push(' ');
        text.push_str(&until.to_string());
        text.push(' ');
        text.push_str(&verified.payload_json);
        Ok(text)
    }
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
            payload_js(&self.verify_inner(&token, now)?.payload_json)
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
            payload_js(&verified.payload_json)
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

    /// Checks that verified claims are for `tenant`, the tenant the request is for (a path
    /// parameter, a subdomain, the resource's owner): the claim the policy's `tenantClaim` names
    /// must equal it exactly (a string, or an integer as its decimal text). Throws `tenant` when
    /// the token is for another tenant, `missing_claim` or `malformed` for an absent or unusable
    /// tenant claim, and `config` when the policy has no `tenantClaim` or `tenant` is not a
    /// non-empty string. Call it on the claims `verify` returned, never on unverified ones.
    #[wasm_bindgen(js_name = checkTenant)]
    pub fn check_tenant(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Claims")] claims: JsValue,
        tenant: JsValue,
    ) -> Result<(), JsValue> {
        let run = || -> Result<(), Error> {
            let tenant = tenant
                .as_string()
                .filter(|t| !t.is_empty())
                .ok_or_else(|| Error::config("tenant", "the tenant must be a non-empty string"))?;
            let claims = claims_object(&claims)?;
            self.inner.check_tenant(&claims, &tenant)
        };
        run().map_err(|e| js_error(&e))
    }
}

/// `now` as the package's JS passes it (a number of seconds, already checked there): checked
/// again here, as `{ now }` is.
fn now_seconds(now: f64) -> Result<i64, Error> {
    if now.is_finite() && now.abs() < 1e15 {
        Ok(now.floor() as i64)
    } else {
        Err(Error::config(
            "now",
            "now must be a finite number of seconds",
        ))
    }
}

/// For the package's `verify` and its verified-token cache (see `js/extend.js`): verifies like
/// `verify` at `now` and returns the cache entry as text (`window`: `"<from> <until>
/// <payload>"`, the whole-second window `from <= now < until` in which every time rule holds
/// for it, `TimeWindow::bounds`, and the payload text; else the payload text alone). The other
/// rules do not depend on the time, so a token inside its window passes all of them.
#[wasm_bindgen(js_name = __jwtgate_verifyText, skip_typescript)]
pub fn verify_text(
    verifier: &JsVerifier,
    token: &str,
    now: f64,
    window: bool,
) -> Result<String, JsValue> {
    let run = || -> Result<String, Error> {
        let verified = verifier.verify_inner(token, now_seconds(now)?)?;
        verifier.entry_text(verified, window)
    };
    run().map_err(|e| js_error(&e))
}

/// For `verifyAsync` (see `js/extend.js`): the core's `prepare` stage. Throws for any failure
/// found before the signature. For an HMAC key the signature is checked here and the answer is
/// final: the entry text as `verifyText` gives it (with its window). Otherwise the raw RSA,
/// ECDSA or Ed25519 check is left to the caller (WebCrypto, or the host's handle): `{ keyIndex,
/// alg, signingInput, signature, deferred, settle }`, where the key, its binding and the
/// signature's form have been checked, and `settle` is the [`PendingVerify`] that gives the
/// answer once the check has.
#[wasm_bindgen(js_name = __jwtgate_prepareVerify, skip_typescript)]
pub fn prepare_verify(verifier: &JsVerifier, token: &str, now: f64) -> Result<JsValue, JsValue> {
    let run = || -> Result<JsValue, Error> {
        let prepared = verifier.inner.prepare(token, now_seconds(now)?)?;
        if prepared.is_symmetric() {
            let verified = prepared.finish_here(&verifier.inner)?;
            return Ok(verifier.entry_text(verified, true)?.into());
        }
        let (index, alg) = (prepared.key_index(), prepared.alg());
        let input = js_sys::Uint8Array::from(prepared.signing_input());
        let signature = js_sys::Uint8Array::from(prepared.signature());
        let settle = PendingVerify {
            key_index: index,
            alg,
            signing_input: prepared.signing_input().to_vec(),
            signature: prepared.signature().to_vec(),
            // What verification gives *if* the signature is valid: kept in wasm, and only
            // handed out by `PendingVerify::finish` for a valid signature.
            if_valid: prepared
                .finish(true)
                .and_then(|verified| verifier.entry_text(verified, true)),
        };
        Ok(object(&[
            ("keyIndex", JsValue::from_f64(index as f64)),
            ("alg", JsValue::from_str(alg.name())),
            ("signingInput", input.into()),
            ("signature", signature.into()),
            ("deferred", verifier.deferred(index).into()),
            ("settle", settle.into()),
        ]))
    };
    run().map_err(|e| js_error(&e))
}

/// For `verifyAsync`: a token `prepareVerify` left to its caller's signature check, with what
/// verification gives if the signature is valid, held in wasm until the check answers (so
/// nothing is parsed twice and nothing about the claims crosses before the verdict).
#[wasm_bindgen(js_name = __jwtgate_PendingVerify, skip_typescript)]
pub struct PendingVerify {
    key_index: usize,
    alg: Algorithm,
    signing_input: Vec<u8>,
    signature: Vec<u8>,
    if_valid: Result<String, Error>,
}

#[wasm_bindgen(js_class = __jwtgate_PendingVerify)]
impl PendingVerify {
    /// Settles the token once its raw signature check answered `valid` (`true` or `false`;
    /// anything else: no answer). The one rule, as `verify` applies it: `signature` unless valid,
    /// then the first claim failure, else the entry text as `verifyText` gives it (with its
    /// window). With no answer, jwtgate's own check with `verifier`'s key decides, or, for a
    /// deferred key (which only WebCrypto checks), `config` naming the key. Consumes it.
    pub fn finish(self, verifier: &JsVerifier, valid: JsValue) -> Result<String, JsValue> {
        let run = || -> Result<String, Error> {
            let index = self.key_index;
            let valid = match valid.as_bool() {
                Some(valid) => valid,
                None if verifier.deferred(index) => {
                    return Err(Error::config(
                        format!("keys.keys[{index}]"),
                        format!(
                            "WebCrypto could not check a {} signature with this key (it refused \
                             the key, or this runtime has no crypto.subtle or no {} support)",
                            self.alg, self.alg
                        ),
                    ))
                }
                None => verifier
                    .inner
                    .policy()
                    .keys
                    .keys()
                    .get(index)
                    .is_some_and(|key| {
                        key.verify_signature(self.alg, &self.signing_input, &self.signature)
                            .is_ok()
                    }),
            };
            if valid {
                self.if_valid
            } else {
                Err(crate::jwk::bad_signature())
            }
        };
        run().map_err(|e| js_error(&e))
    }
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
