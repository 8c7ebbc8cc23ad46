//! Keys: JWK (RFC 7517) parsing, key–algorithm binding, and selection by `kid`.
//!
//! Keys are parsed and validated once, when a policy is built, and bound to the algorithms they
//! may be used with: the allowlisted algorithms of their family (`oct` → HS*, `RSA` → RS*/PS*,
//! `EC` P-256 → ES256, `OKP` Ed25519 → EdDSA), narrowed to the JWK's own `alg` when it has one,
//! and for `oct` keys to the hashes the secret is long enough for. A token can only ever pick a
//! key from this set, by `kid`: keys carried in the token (`jwk`, `jku`, `x5u`, `x5c`) are refused
//! before key selection, so an attacker cannot supply the key that verifies their own signature.

use crate::alg::ecdsa::P256Key;
use crate::alg::eddsa::Ed25519Key;
use crate::alg::hmac::HmacKey;
use crate::alg::rsa::{RsaKey, RsaKeyError, MIN_BITS};
use crate::alg::{AlgSet, Algorithm, Family, HashAlg};
use crate::error::{Code, Error, Result};
use crate::{b64, json};
use serde_json::{Map, Value};

#[derive(Clone)]
// A key set holds a handful of keys, built once: variant sizes do not matter here.
#[allow(clippy::large_enum_variant)]
enum Material {
    Oct(HmacKey),
    Rsa(RsaKey),
    P256(P256Key),
    Ed25519(Ed25519Key),
}

/// One validated key, bound to the algorithms it may be used with.
#[derive(Clone)]
pub struct Key {
    kid: Option<String>,
    algorithms: AlgSet,
    can_verify: bool,
    can_sign: bool,
    material: Material,
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never prints key material.
        f.debug_struct("Key")
            .field("kid", &self.kid)
            .field("algorithms", &self.algorithms)
            .field("can_verify", &self.can_verify)
            .field("can_sign", &self.can_sign)
            .finish_non_exhaustive()
    }
}

fn get<'a>(jwk: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    jwk.get(name).filter(|v| !v.is_null())
}

fn str_member<'a>(jwk: &'a Map<String, Value>, name: &str, field: &str) -> Result<Option<&'a str>> {
    match get(jwk, name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(Error::config(
            format!("{field}.{name}"),
            "JWK member must be a string",
        )),
    }
}

fn bytes_member(jwk: &Map<String, Value>, name: &str, field: &str) -> Result<Option<Vec<u8>>> {
    match str_member(jwk, name, field)? {
        None => Ok(None),
        Some(s) => b64::decode(s.as_bytes()).map(Some).map_err(|_| {
            Error::config(
                format!("{field}.{name}"),
                "JWK member is not strict base64url",
            )
        }),
    }
}

fn required_bytes(jwk: &Map<String, Value>, name: &str, field: &str) -> Result<Vec<u8>> {
    bytes_member(jwk, name, field)?
        .ok_or_else(|| Error::config(format!("{field}.{name}"), "required JWK member is missing"))
}

/// The error for a signature that does not verify with the selected key.
pub(crate) fn bad_signature() -> Error {
    Error::new(Code::Signature, "signature does not verify")
}

impl Key {
    /// Parses one JWK (JSON text) and binds it to the algorithms of `allowed` that fit it.
    ///
    /// Fails with a `config` error if the JWK is invalid, has an RSA modulus under 2048 bits, an
    /// HMAC secret shorter than every allowed hash, or fits none of `allowed`.
    pub fn from_jwk_json(jwk: &str, allowed: &[Algorithm]) -> Result<Key> {
        let value = json::parse(jwk.as_bytes())
            .map_err(|_| Error::config("jwk", "not a strict JSON object"))?;
        Key::from_jwk(&value, allowed.iter().copied().collect(), "jwk")
    }

    /// Parses one JWK value; `field` names it in errors (e.g. `keys.keys[2]`).
    pub(crate) fn from_jwk(value: &Value, allowed: AlgSet, field: &str) -> Result<Key> {
        let Value::Object(jwk) = value else {
            return Err(Error::config(
                field.to_owned(),
                "a JWK must be a JSON object",
            ));
        };
        let kid = str_member(jwk, "kid", field)?.map(str::to_owned);

        // `use` and `key_ops` (RFC 7517 §4.2, §4.3): only signature keys are ever used.
        let use_ok = match str_member(jwk, "use", field)? {
            None | Some("sig") => true,
            Some(_) => false,
        };
        let ops: Option<Vec<&str>> = match get(jwk, "key_ops") {
            None => None,
            Some(Value::Array(items)) => Some(
                items
                    .iter()
                    .map(|v| v.as_str())
                    .collect::<Option<Vec<_>>>()
                    .ok_or_else(|| {
                        Error::config(format!("{field}.key_ops"), "must be an array of strings")
                    })?,
            ),
            Some(_) => {
                return Err(Error::config(
                    format!("{field}.key_ops"),
                    "must be an array of strings",
                ))
            }
        };
        let op_ok = |op: &str| ops.as_ref().is_none_or(|ops| ops.contains(&op));

        let kty = str_member(jwk, "kty", field)?.ok_or_else(|| {
            Error::config(format!("{field}.kty"), "required JWK member is missing")
        })?;
        let material = match kty {
            "oct" => {
                let k = required_bytes(jwk, "k", field)?;
                if k.len() < HashAlg::Sha256.output_len() {
                    return Err(Error::config(
                        format!("{field}.k"),
                        "HMAC secret is shorter than its hash (HS256 needs 32 bytes, HS384 48, HS512 64)",
                    ));
                }
                Material::Oct(HmacKey::new(&k))
            }
            "RSA" => {
                if !cfg!(feature = "rsa") {
                    return Err(Error::config(
                        format!("{field}.kty"),
                        "RSA keys need jwtgate's `rsa` cargo feature (not in this build)",
                    ));
                }
                let n = required_bytes(jwk, "n", field)?;
                let e = required_bytes(jwk, "e", field)?;
                let d = bytes_member(jwk, "d", field)?;
                let p = bytes_member(jwk, "p", field)?;
                let q = bytes_member(jwk, "q", field)?;
                let primes = match (&p, &q) {
                    (Some(p), Some(q)) => Some((p.as_slice(), q.as_slice())),
                    (None, None) => None,
                    _ => {
                        return Err(Error::config(
                            format!("{field}.p"),
                            "RSA private JWK has only one of p and q",
                        ))
                    }
                };
                let private = d.as_deref().map(|d| (d, primes));
                match RsaKey::new(&n, &e, private) {
                    Ok(k) => Material::Rsa(k),
                    Err(RsaKeyError::TooSmall) => {
                        return Err(Error::config(
                            format!("{field}.n"),
                            format!("RSA modulus is shorter than {MIN_BITS} bits"),
                        ))
                    }
                    Err(RsaKeyError::Invalid) => {
                        return Err(Error::config(field.to_owned(), "invalid RSA key"))
                    }
                }
            }
            "EC" => {
                if !cfg!(feature = "ecdsa") {
                    return Err(Error::config(
                        format!("{field}.kty"),
                        "EC (P-256) keys need jwtgate's `ecdsa` cargo feature (not in this build)",
                    ));
                }
                match str_member(jwk, "crv", field)? {
                    Some("P-256") => {}
                    _ => {
                        return Err(Error::config(
                            format!("{field}.crv"),
                            "only EC keys on P-256 are supported (ES256)",
                        ))
                    }
                }
                let x = required_bytes(jwk, "x", field)?;
                let y = required_bytes(jwk, "y", field)?;
                let d = bytes_member(jwk, "d", field)?;
                Material::P256(P256Key::new(&x, &y, d.as_deref()).ok_or_else(|| {
                    Error::config(
                        field.to_owned(),
                        "invalid P-256 key (point or private scalar)",
                    )
                })?)
            }
            "OKP" => {
                if !cfg!(feature = "eddsa") {
                    return Err(Error::config(
                        format!("{field}.kty"),
                        "OKP (Ed25519) keys need jwtgate's `eddsa` cargo feature (not in this build)",
                    ));
                }
                match str_member(jwk, "crv", field)? {
                    Some("Ed25519") => {}
                    _ => {
                        return Err(Error::config(
                            format!("{field}.crv"),
                            "only OKP keys on Ed25519 are supported (EdDSA)",
                        ))
                    }
                }
                let x = required_bytes(jwk, "x", field)?;
                let d = bytes_member(jwk, "d", field)?;
                Material::Ed25519(Ed25519Key::new(&x, d.as_deref()).ok_or_else(|| {
                    Error::config(field.to_owned(), "invalid or weak Ed25519 key")
                })?)
            }
            _ => {
                return Err(Error::config(
                    format!("{field}.kty"),
                    "unsupported key type (expected oct, RSA, EC or OKP)",
                ))
            }
        };

        let mut algorithms: AlgSet = allowed.iter().filter(|a| material.fits(*a)).collect();
        if let Some(name) = str_member(jwk, "alg", field)? {
            let alg = Algorithm::from_name(name).filter(|a| algorithms.contains(*a));
            algorithms = match alg {
                Some(a) => [a].into_iter().collect(),
                None => {
                    return Err(Error::config(
                        format!("{field}.alg"),
                        "the JWK's alg is not an allowed algorithm for this key type",
                    ))
                }
            };
        }
        if algorithms.is_empty() {
            return Err(Error::config(
                field.to_owned(),
                "key fits none of the allowed algorithms",
            ));
        }
        let has_private = material.has_private();
        Ok(Key {
            kid,
            algorithms,
            can_verify: use_ok && op_ok("verify"),
            can_sign: use_ok && op_ok("sign") && has_private,
            material,
        })
    }

    /// The key id, if the JWK had one.
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// The algorithms this key is bound to.
    pub fn algorithms(&self) -> AlgSet {
        self.algorithms
    }

    /// Whether this is an HMAC secret (`kty: "oct"`) rather than an asymmetric key.
    pub fn is_symmetric(&self) -> bool {
        matches!(self.material, Material::Oct(_))
    }

    /// Whether the key may verify (`use` absent or `sig`; `key_ops` absent or with `verify`).
    pub fn can_verify(&self) -> bool {
        self.can_verify
    }

    /// Whether the key holds a private part and may sign.
    pub fn can_sign(&self) -> bool {
        self.can_sign
    }

    /// Verifies a raw JWS signature over `signing_input` (`BASE64URL(header) "." BASE64URL(payload)`).
    ///
    /// `algorithm` if the key is not bound to `alg` or may not verify; `signature` if the
    /// signature is wrong (including a wrong length, or DER instead of P1363 for ES256).
    pub fn verify_signature(&self, alg: Algorithm, signing_input: &[u8], sig: &[u8]) -> Result<()> {
        self.verify_signature_via(alg, signing_input, sig, |_, _, _| None)
    }

    /// [`verify_signature`](Key::verify_signature) with the raw signature check offered first to
    /// `native` (e.g. the host platform's crypto): `Some(valid)` decides, `None` leaves it to
    /// jwtgate's own implementation. Key binding and the signature's form (length; for Ed25519
    /// `S < L` and no small-order `R`) are checked here before `native` is asked, so a host that
    /// is laxer on those points cannot change an answer.
    pub fn verify_signature_via(
        &self,
        alg: Algorithm,
        signing_input: &[u8],
        sig: &[u8],
        native: impl FnOnce(Algorithm, &[u8], &[u8]) -> Option<bool>,
    ) -> Result<()> {
        if !self.can_verify || !self.algorithms.contains(alg) {
            return Err(Error::new(
                Code::Algorithm,
                "the selected key is not bound to the token's algorithm",
            ));
        }
        let form_ok = match &self.material {
            Material::Oct(_) => true,
            Material::Rsa(k) => sig.len() == k.size(),
            Material::P256(_) => sig.len() == 64,
            Material::Ed25519(_) => Ed25519Key::strict_form(sig),
        };
        let ok = form_ok
            && match native(alg, signing_input, sig) {
                Some(valid) => valid,
                None => match (&self.material, alg.family()) {
                    (Material::Oct(k), Family::Hmac(h)) => k.verify(h, signing_input, sig),
                    (Material::Rsa(k), Family::RsaPkcs1(h)) => {
                        k.verify(false, h, signing_input, sig)
                    }
                    (Material::Rsa(k), Family::RsaPss(h)) => k.verify(true, h, signing_input, sig),
                    (Material::P256(k), Family::EcdsaP256) => k.verify(signing_input, sig),
                    (Material::Ed25519(k), Family::Ed25519) => k.verify(signing_input, sig),
                    _ => false,
                },
            };
        if ok {
            Ok(())
        } else {
            Err(bad_signature())
        }
    }

    /// The public half as a JWK (`kty` and the public members only: no `kid`, `alg`, `use`),
    /// for handing the key to another crypto implementation. `None` for an HMAC secret.
    pub fn public_jwk(&self) -> Option<Map<String, Value>> {
        let mut jwk = Map::new();
        let mut put = |name: &str, value: String| {
            jwk.insert(name.to_owned(), Value::String(value));
        };
        match &self.material {
            Material::Oct(_) => return None,
            Material::Rsa(k) => {
                let (n, e) = k.public_parts();
                put("kty", "RSA".into());
                put("n", b64::encode(n));
                put("e", b64::encode(e));
            }
            Material::P256(k) => {
                let (x, y) = k.public_xy();
                put("kty", "EC".into());
                put("crv", "P-256".into());
                put("x", b64::encode(x));
                put("y", b64::encode(y));
            }
            Material::Ed25519(k) => {
                put("kty", "OKP".into());
                put("crv", "Ed25519".into());
                put("x", b64::encode(k.public_x()));
            }
        }
        Some(jwk)
    }

    /// Signs raw JWS signing input with `alg` (a low-level primitive: [`crate::Signer`] is the
    /// API that stamps claims). `config` if the key has no private part or is not bound to `alg`.
    pub fn sign(&self, alg: Algorithm, signing_input: &[u8]) -> Result<Vec<u8>> {
        if !self.can_sign || !self.algorithms.contains(alg) {
            return Err(Error::config(
                "keys",
                "no private key for the signing algorithm",
            ));
        }
        let sig = match (&self.material, alg.family()) {
            (Material::Oct(k), Family::Hmac(h)) => k.sign(h, signing_input),
            (Material::Rsa(k), Family::RsaPkcs1(h)) => k.sign(false, h, signing_input),
            (Material::Rsa(k), Family::RsaPss(h)) => k.sign(true, h, signing_input),
            (Material::P256(k), Family::EcdsaP256) => k.sign(signing_input),
            (Material::Ed25519(k), Family::Ed25519) => k.sign(signing_input),
            _ => None,
        };
        sig.ok_or_else(|| Error::config("keys", "signing failed (no private key or no randomness)"))
    }
}

impl Material {
    fn fits(&self, alg: Algorithm) -> bool {
        match (self, alg.family()) {
            (Material::Oct(k), Family::Hmac(h)) => k.supports(h),
            (Material::Rsa(_), Family::RsaPkcs1(_) | Family::RsaPss(_)) => true,
            (Material::P256(_), Family::EcdsaP256) => true,
            (Material::Ed25519(_), Family::Ed25519) => true,
            _ => false,
        }
    }

    fn has_private(&self) -> bool {
        match self {
            Material::Oct(_) => true,
            Material::Rsa(k) => k.has_private(),
            Material::P256(k) => k.has_private(),
            Material::Ed25519(k) => k.has_private(),
        }
    }
}

/// A validated set of keys (a JWKS), searched by `kid`.
#[derive(Clone, Debug, Default)]
pub struct KeySet {
    keys: Vec<Key>,
}

impl KeySet {
    /// Strict loading for configured keys: any invalid key, or one that fits none of `allowed`,
    /// is a `config` error naming it. Keys whose `use`/`key_ops` exclude signatures are kept out
    /// of the set without error (a JWKS may carry encryption keys too).
    pub fn from_jwks(jwks: &Value, allowed: &[Algorithm]) -> Result<KeySet> {
        KeySet::load(jwks, allowed, "keys", Err).map(|(set, _)| set)
    }

    /// Lenient loading for keys fetched at run time (a remote JWKS): unusable keys are skipped,
    /// and returned as errors for the caller to log. Only the outer shape (an object with a
    /// `keys` array) is required.
    pub fn from_jwks_lenient(jwks: &Value, allowed: &[Algorithm]) -> Result<(KeySet, Vec<Error>)> {
        KeySet::load(jwks, allowed, "jwks", Ok)
    }

    fn load(
        jwks: &Value,
        allowed: &[Algorithm],
        field: &str,
        on_bad_key: impl Fn(Error) -> Result<Error>,
    ) -> Result<(KeySet, Vec<Error>)> {
        let list = match jwks {
            Value::Object(m) => match m.get("keys") {
                Some(Value::Array(list)) if !list.is_empty() => list,
                Some(Value::Array(_)) => {
                    return Err(Error::config(
                        format!("{field}.keys"),
                        "the key set is empty",
                    ))
                }
                _ => {
                    return Err(Error::config(
                        format!("{field}.keys"),
                        "a JWKS is an object with a \"keys\" array",
                    ))
                }
            },
            _ => {
                return Err(Error::config(
                    field.to_owned(),
                    "a JWKS is an object with a \"keys\" array",
                ))
            }
        };
        let allowed: AlgSet = allowed.iter().copied().collect();
        let mut keys = Vec::with_capacity(list.len());
        let mut skipped = Vec::new();
        for (i, jwk) in list.iter().enumerate() {
            let here = format!("{field}.keys[{i}]");
            match Key::from_jwk(jwk, allowed, &here) {
                Ok(k) if k.can_verify || k.can_sign => keys.push(k),
                Ok(_) => {}
                Err(e) => skipped.push(on_bad_key(e)?),
            }
        }
        Ok((KeySet { keys }, skipped))
    }

    /// This set followed by the keys of `other`.
    pub fn merged(&self, other: &KeySet) -> KeySet {
        let mut keys = self.keys.clone();
        keys.extend(other.keys.iter().cloned());
        KeySet { keys }
    }

    /// Whether any key holds private material (a JWK `d`, or an `oct` secret).
    pub fn has_private_material(&self) -> bool {
        self.keys.iter().any(|k| k.material.has_private())
    }

    /// The keys, in JWKS order.
    pub fn keys(&self) -> &[Key] {
        &self.keys
    }

    /// How many keys may verify.
    pub fn verifying_count(&self) -> usize {
        self.keys.iter().filter(|k| k.can_verify).count()
    }

    /// Selects the verification key for a token: the key with exactly this `kid`; without a
    /// `kid`, the set's only verifying key. `key_not_found` if there is none (or several without a
    /// `kid`); `algorithm` if the key exists but is not bound to `alg`.
    pub fn select(&self, kid: Option<&str>, alg: Algorithm) -> Result<&Key> {
        self.select_index(kid, alg).map(|i| &self.keys[i])
    }

    /// [`select`](KeySet::select), giving the key's index in [`keys`](KeySet::keys).
    pub fn select_index(&self, kid: Option<&str>, alg: Algorithm) -> Result<usize> {
        let mut candidates = self.keys.iter().enumerate().filter(|(_, k)| k.can_verify);
        let mut found = false;
        match kid {
            Some(kid) => {
                for (i, k) in candidates.filter(|(_, k)| k.kid.as_deref() == Some(kid)) {
                    if k.algorithms.contains(alg) {
                        return Ok(i);
                    }
                    found = true;
                }
            }
            None => {
                if let (Some((i, k)), None) = (candidates.next(), candidates.next()) {
                    if k.algorithms.contains(alg) {
                        return Ok(i);
                    }
                    found = true;
                }
            }
        }
        if found {
            Err(Error::new(
                Code::Algorithm,
                "the key for this token is not bound to its algorithm",
            ))
        } else {
            Err(Error::new(Code::KeyNotFound, "no key for this token's kid"))
        }
    }

    /// The index of the first signing key for the first algorithm of `order` that has one.
    pub(crate) fn signing_key(&self, order: &[Algorithm]) -> Option<(Algorithm, usize)> {
        order.iter().find_map(|&alg| {
            self.keys
                .iter()
                .position(|k| k.can_sign && k.algorithms.contains(alg))
                .map(|i| (alg, i))
        })
    }
}
