//! The free functions: `explain`, `signingAlgorithms`, the revocation helpers and
//! `verifySignature`.

use super::*;

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
        if key.deferred() {
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
