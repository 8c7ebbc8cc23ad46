//! Keys: JWK (RFC 7517) parsing, key–algorithm binding, and selection by `kid`.
//!
//! Keys are parsed and validated once, when a policy is built, and bound to the algorithms they
//! may be used with: the allowlisted algorithms of their family (`oct` → HS*, `RSA` → RS*/PS*,
//! `EC` P-256/P-384/P-521 → ES256/ES384/ES512, `OKP` Ed25519 → EdDSA), narrowed to the JWK's own `alg` when it has one,
//! and for `oct` keys to the hashes the secret is long enough for. A token can only ever pick a
//! key from this set, by `kid`: keys carried in the token (`jwk`, `jku`, `x5u`, `x5c`) are refused
//! before key selection, so an attacker cannot supply the key that verifies their own signature.

use crate::alg::ecdsa::EcKey;
use crate::alg::eddsa::Ed25519Key;
use crate::alg::hmac::HmacKey;
use crate::alg::rsa::{RsaKey, RsaKeyError, MIN_BITS};
use crate::alg::RsaPrivateParts;
use crate::alg::{AlgSet, Algorithm, EcCurve, HashAlg, KeyFamily};
use crate::error::{Code, Error, Result};
use crate::{b64, json};
use serde_json::{Map, Value};

#[derive(Clone)]
// A key set holds a handful of keys, built once: variant sizes do not matter here.
#[allow(clippy::large_enum_variant)]
enum Material {
    Oct(HmacKey),
    Rsa(RsaKey),
    Ec(EcKey),
    Ed25519(Ed25519Key),
}

/// One validated key, bound to the algorithms it may be used with.
#[derive(Clone)]
pub struct Key {
    kid: Option<String>,
    algorithm: Algorithm,
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
            .field("algorithm", &self.algorithm)
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

/// Why a well-formed JWK is kept out of key selection (an *inert* key).
///
/// A JWKS as issuers publish it holds keys for several algorithms (and sometimes for
/// encryption). A verifier pinned to some algorithms keeps the keys that fit none of them out of
/// selection instead of refusing the whole set, the way jose's `createLocalJWKSet` or Envoy's
/// `jwt_authn` do. A token naming an inert key's `kid` gets `key_not_found`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Inert {
    /// The JWK's own `alg` is not one of the policy's algorithms (or not one jwtgate knows).
    AlgorithmNotAllowed,
    /// No algorithm of the policy fits the key's type and curve (e.g. an EC key under `RS256`).
    KeyTypeNotAllowed,
    /// A key type or curve jwtgate does not verify with (e.g. `EC` secp256k1, `OKP` X25519).
    UnsupportedKeyType,
    /// A key type whose cargo feature is not in this build (and that no pinned algorithm needs).
    FeatureDisabled,
    /// `use` or `key_ops` exclude signatures (an encryption key).
    NotForSignatures,
    /// Remote JWKS only: no `alg`, and several pinned algorithms of its family fit it (a
    /// configured key is a `config` error instead).
    AmbiguousAlgorithm,
    /// Remote JWKS only: another usable key has the same `kid` (a configured set is a `config`
    /// error instead).
    DuplicateKid,
    /// Remote JWKS only: the JWK is malformed (a configured key is a `config` error instead).
    Invalid,
}

impl Inert {
    /// The stable string form, e.g. `"algorithm_not_allowed"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Inert::AlgorithmNotAllowed => "algorithm_not_allowed",
            Inert::KeyTypeNotAllowed => "key_type_not_allowed",
            Inert::UnsupportedKeyType => "unsupported_key_type",
            Inert::FeatureDisabled => "feature_disabled",
            Inert::NotForSignatures => "not_for_signatures",
            Inert::AmbiguousAlgorithm => "ambiguous_algorithm",
            Inert::DuplicateKid => "duplicate_kid",
            Inert::Invalid => "invalid",
        }
    }

    /// A sentence for operators (never key material).
    pub const fn reason(self) -> &'static str {
        match self {
            Inert::AlgorithmNotAllowed => "its alg is not one of the policy's algorithms",
            Inert::KeyTypeNotAllowed => "none of the policy's algorithms fits its key type",
            Inert::UnsupportedKeyType => "jwtgate does not verify with this key type or curve",
            Inert::FeatureDisabled if cfg!(feature = "host-keys") => {
                "its key type needs host crypto, and none is registered"
            }
            Inert::FeatureDisabled => "its key type's cargo feature is not in this build",
            Inert::NotForSignatures => "use or key_ops exclude signatures",
            Inert::AmbiguousAlgorithm => {
                "no alg, and several of the policy's algorithms fit it (one key, one algorithm)"
            }
            Inert::DuplicateKid => "another usable key has the same kid",
            Inert::Invalid => "the JWK is malformed or weak",
        }
    }
}

/// What the verifier (or signer) made of one JWK of its set, for operators: never key material.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct KeyInfo {
    /// Where the JWK was, e.g. `keys.keys[3]` (configured) or `jwks.keys[0]` (remote).
    pub field: String,
    /// The JWK's `kid`, if it had a string one.
    pub kid: Option<String>,
    /// The JWK's `kty`, if it had a string one.
    pub kty: Option<String>,
    /// The one algorithm a usable key is bound to; `None` for an inert key.
    pub algorithm: Option<Algorithm>,
    /// Whether the key may verify (usable keys only).
    pub verify: bool,
    /// Whether the key may sign (usable keys with private material only).
    pub sign: bool,
    /// Why the key is inert; `None` for a usable key.
    pub inert: Option<Inert>,
}

/// The algorithms a JWK is for, read from its members alone (nothing is decoded or checked): its
/// `alg` if that names an algorithm jwtgate knows, else every algorithm of its key type (and
/// curve), in [`Algorithm::ALL`] order; none for a type or curve jwtgate does not verify with.
/// For operators' messages (which algorithms a set could be pinned to), never for a decision.
pub fn jwk_algorithms(jwk: &Value) -> Vec<Algorithm> {
    let member = |name: &str| jwk.get(name).and_then(Value::as_str);
    if let Some(own) = member("alg").and_then(Algorithm::from_name) {
        return vec![own];
    }
    let (kty, crv) = (member("kty"), member("crv"));
    Algorithm::ALL
        .into_iter()
        .filter(|a| match (a.family(), kty) {
            (KeyFamily::Hmac(_), Some("oct")) => true,
            (KeyFamily::RsaPkcs1(_) | KeyFamily::RsaPss(_), Some("RSA")) => true,
            (KeyFamily::Ecdsa(c), Some("EC")) => crv == Some(c.name()),
            (KeyFamily::Ed25519, Some("OKP")) => crv == Some("Ed25519"),
            _ => false,
        })
        .collect()
}

impl KeyInfo {
    /// The entry as a JSON object: `field`, `kid`, `kty`, then `alg`, `verify`, `sign` for a
    /// usable key or `inert` (the code) and `reason` for an inert one.
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("field".into(), Value::String(self.field.clone()));
        if let Some(kid) = &self.kid {
            m.insert("kid".into(), Value::String(kid.clone()));
        }
        if let Some(kty) = &self.kty {
            m.insert("kty".into(), Value::String(kty.clone()));
        }
        match (self.algorithm, self.inert) {
            (_, Some(why)) => {
                m.insert("inert".into(), Value::String(why.as_str().into()));
                m.insert("reason".into(), Value::String(why.reason().into()));
            }
            (alg, None) => {
                if let Some(alg) = alg {
                    m.insert("alg".into(), Value::String(alg.name().into()));
                }
                m.insert("verify".into(), Value::Bool(self.verify));
                m.insert("sign".into(), Value::Bool(self.sign));
            }
        }
        Value::Object(m)
    }
}

/// How a key set is being loaded: configured keys are strict (a doubtful key is a `config` error
/// the operator fixes), a remote JWKS is lenient (a doubtful key is inert and logged: the
/// operator cannot edit the issuer's set).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Strict,
    Lenient,
}

/// One JWK, read: usable (bound to one algorithm) or inert. Built once per key when a set is
/// loaded: the variant sizes do not matter.
#[allow(clippy::large_enum_variant)]
enum Loaded {
    Usable(Key),
    Inert(Inert),
}

/// The algorithms that are the same signature scheme as `alg`: `EdDSA` with an Ed25519 key and
/// RFC 9864's `Ed25519` are one scheme under two names; every other algorithm is its own.
fn same_scheme(a: Algorithm, b: Algorithm) -> bool {
    a == b || (a.family() == KeyFamily::Ed25519 && b.family() == KeyFamily::Ed25519)
}

impl Key {
    /// Parses one JWK (JSON text) and binds it to the one algorithm of `allowed` it serves.
    ///
    /// Fails with a `config` error if the JWK is invalid, has an RSA modulus under 2048 bits, an
    /// HMAC secret too short for its algorithm, fits none of `allowed`, or (without `alg`) fits
    /// several of them.
    pub fn from_jwk_json(jwk: &str, allowed: &[Algorithm]) -> Result<Key> {
        let value = json::parse(jwk.as_bytes())
            .map_err(|_| Error::config("jwk", "not a strict JSON object"))?;
        let allowed: AlgSet = allowed.iter().copied().collect();
        match Key::load(&value, allowed, "jwk", Mode::Strict)? {
            Loaded::Usable(k) => Ok(k),
            Loaded::Inert(why) => Err(Error::config("jwk", why.reason())),
        }
    }

    /// The public key a DPoP proof carries in its header (RFC 9449 §4.2), bound to the proof's
    /// `alg`: refused (`dpop_proof`, member `jwk`) if it is not a JSON object, has a private
    /// member (`d`, `p`, `q`, `dp`, `dq`, `qi`, `oth`, or an HMAC `k`), or is not a usable
    /// public key for `alg` (wrong type or curve, an RSA modulus under 2048 bits, a `use` or
    /// `key_ops` that excludes verifying).
    pub(crate) fn from_proof_header(jwk: &Value, alg: Algorithm) -> Result<Key> {
        let refused = |message: &'static str| Error::claim(Code::DpopProof, "jwk", message);
        let Value::Object(members) = jwk else {
            return Err(refused("the DPoP proof's jwk is not a JSON object"));
        };
        const PRIVATE: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];
        if PRIVATE.iter().any(|m| members.contains_key(*m)) {
            return Err(refused(
                "the DPoP proof's jwk carries private key material: only a public key may be sent",
            ));
        }
        let allowed: AlgSet = [alg].into_iter().collect();
        match Key::load(jwk, allowed, "jwk", Mode::Strict) {
            Ok(Loaded::Usable(k)) if k.can_verify && !k.is_symmetric() => Ok(k),
            _ => Err(refused(
                "the DPoP proof's jwk is not a public key usable with its alg",
            )),
        }
    }

    /// Reads one JWK value; `field` names it in errors (e.g. `keys.keys[2]`).
    fn load(value: &Value, allowed: AlgSet, field: &str, mode: Mode) -> Result<Loaded> {
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
        let alg_name = str_member(jwk, "alg", field)?;

        let kty = str_member(jwk, "kty", field)?.ok_or_else(|| {
            Error::config(format!("{field}.kty"), "required JWK member is missing")
        })?;
        // A family this build leaves out is inert, unless the policy pins one of its algorithms:
        // then the operator asked for something the build cannot do.
        let disabled = |feature: &str, kty_name: &str, fam: &dyn Fn(KeyFamily) -> bool| {
            if allowed.iter().any(|a| fam(a.family())) {
                let need = if cfg!(feature = "host-keys") {
                    let _ = feature;
                    "host crypto with importKey, checkKey and sign (this build has no arithmetic \
                     of its own; jwtgate's Node entry registers node:crypto, and the edge gate \
                     workerd's node:crypto, under the `nodejs_compat` compatibility flag)"
                        .to_owned()
                } else {
                    format!("jwtgate's `{feature}` cargo feature (not in this build)")
                };
                Err(Error::config(
                    format!("{field}.kty"),
                    format!("{kty_name} keys need {need}"),
                ))
            } else {
                Ok(Loaded::Inert(Inert::FeatureDisabled))
            }
        };
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
                if !crate::alg::built(KeyFamily::RsaPkcs1(HashAlg::Sha256)) {
                    return disabled("rsa", "RSA", &|f| {
                        matches!(f, KeyFamily::RsaPkcs1(_) | KeyFamily::RsaPss(_))
                    });
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
                let crt = [
                    bytes_member(jwk, "dp", field)?,
                    bytes_member(jwk, "dq", field)?,
                    bytes_member(jwk, "qi", field)?,
                ];
                let crt = match &crt {
                    [Some(dp), Some(dq), Some(qi)] => {
                        Some([dp.as_slice(), dq.as_slice(), qi.as_slice()])
                    }
                    _ => None,
                };
                let private = d.as_deref().map(|d| RsaPrivateParts { d, primes, crt });
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
                    Err(RsaKeyError::IncompleteCrt) => {
                        return Err(Error::config(
                            field.to_owned(),
                            "an RSA private key needs p, q, dp, dq and qi in this build (node:crypto takes no other form)",
                        ))
                    }
                }
            }
            "EC" => {
                let curve = match str_member(jwk, "crv", field)? {
                    Some(crv) => match EcCurve::from_name(crv) {
                        Some(curve) => curve,
                        None => return Ok(Loaded::Inert(Inert::UnsupportedKeyType)),
                    },
                    None => {
                        return Err(Error::config(
                            format!("{field}.crv"),
                            "required JWK member is missing",
                        ))
                    }
                };
                if !crate::alg::built(KeyFamily::Ecdsa(curve)) {
                    let what = format!("EC ({})", curve.name());
                    return disabled(curve.feature(), &what, &|f| f == KeyFamily::Ecdsa(curve));
                }
                let x = required_bytes(jwk, "x", field)?;
                let y = required_bytes(jwk, "y", field)?;
                let d = bytes_member(jwk, "d", field)?;
                Material::Ec(EcKey::new(curve, &x, &y, d.as_deref()).ok_or_else(|| {
                    Error::config(
                        field.to_owned(),
                        format!("invalid {} key (point or private scalar)", curve.name()),
                    )
                })?)
            }
            "OKP" => {
                match str_member(jwk, "crv", field)? {
                    Some("Ed25519") => {}
                    Some(_) => return Ok(Loaded::Inert(Inert::UnsupportedKeyType)),
                    None => {
                        return Err(Error::config(
                            format!("{field}.crv"),
                            "required JWK member is missing",
                        ))
                    }
                }
                if !crate::alg::built(KeyFamily::Ed25519) {
                    return disabled("eddsa", "OKP (Ed25519)", &|f| f == KeyFamily::Ed25519);
                }
                let x = required_bytes(jwk, "x", field)?;
                let d = bytes_member(jwk, "d", field)?;
                Material::Ed25519(Ed25519Key::new(&x, d.as_deref()).ok_or_else(|| {
                    Error::config(field.to_owned(), "invalid or weak Ed25519 key")
                })?)
            }
            _ => return Ok(Loaded::Inert(Inert::UnsupportedKeyType)),
        };

        let can_verify = use_ok && op_ok("verify");
        let can_sign = use_ok && op_ok("sign") && material.has_private();
        if !can_verify && !can_sign {
            return Ok(Loaded::Inert(Inert::NotForSignatures));
        }

        // One key, one algorithm (RFC 8725bis): the JWK's own `alg`, else the single pinned
        // algorithm its family and strength fit.
        let bound = match alg_name {
            Some(name) => {
                let Some(alg) = Algorithm::from_name(name) else {
                    return Ok(Loaded::Inert(Inert::AlgorithmNotAllowed));
                };
                if !material.fits(alg) {
                    return Err(Error::config(
                        format!("{field}.alg"),
                        match material {
                            Material::Oct(_) if matches!(alg.family(), KeyFamily::Hmac(_)) => {
                                "HMAC secret is shorter than its alg's hash (HS256 needs 32 bytes, HS384 48, HS512 64)"
                            }
                            _ => "the JWK's alg does not fit its key type",
                        },
                    ));
                }
                if !allowed.contains(alg) {
                    return Ok(Loaded::Inert(Inert::AlgorithmNotAllowed));
                }
                alg
            }
            None => {
                let mut fitting = allowed.iter().filter(|a| material.fits(*a));
                let Some(first) = fitting.next() else {
                    let weak_hmac = matches!(material, Material::Oct(_))
                        && allowed
                            .iter()
                            .any(|a| matches!(a.family(), KeyFamily::Hmac(_)));
                    if weak_hmac {
                        return Err(Error::config(
                            format!("{field}.k"),
                            "HMAC secret is shorter than every allowed HMAC hash (HS256 needs 32 bytes, HS384 48, HS512 64)",
                        ));
                    }
                    return Ok(Loaded::Inert(Inert::KeyTypeNotAllowed));
                };
                if fitting.any(|a| !same_scheme(a, first)) {
                    if mode == Mode::Lenient {
                        return Ok(Loaded::Inert(Inert::AmbiguousAlgorithm));
                    }
                    let names: Vec<&str> = allowed
                        .iter()
                        .filter(|a| material.fits(*a))
                        .map(Algorithm::name)
                        .collect();
                    return Err(Error::config(
                        format!("{field}.alg"),
                        format!(
                            "several allowed algorithms fit this key ({}): give the JWK an alg (one key, one algorithm)",
                            names.join(", ")
                        ),
                    ));
                }
                first
            }
        };
        // `EdDSA` and `Ed25519` name one scheme: a key bound to it answers to the pinned names.
        let algorithms: AlgSet = allowed.iter().filter(|a| same_scheme(*a, bound)).collect();
        Ok(Loaded::Usable(Key {
            kid,
            algorithm: bound,
            algorithms,
            can_verify,
            can_sign,
            material,
        }))
    }

    /// The one algorithm this key is bound to (for an Ed25519 key bound to `EdDSA` or
    /// `Ed25519`, [`algorithms`](Key::algorithms) also holds the other name if it is pinned).
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The key id, if the JWK had one.
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// The names this key answers to: its one algorithm (plus, for Ed25519, the other pinned name
    /// of the same scheme).
    pub fn algorithms(&self) -> AlgSet {
        self.algorithms
    }

    /// Whether this is an HMAC secret (`kty: "oct"`) rather than an asymmetric key.
    pub fn is_symmetric(&self) -> bool {
        matches!(self.material, Material::Oct(_))
    }

    /// The key as host crypto is given it (`host-keys` builds; `None` for an HMAC secret).
    #[cfg(feature = "host-keys")]
    fn host_jwk(&self) -> Option<&crate::alg::host::HostJwk> {
        match &self.material {
            Material::Oct(_) => None,
            Material::Rsa(k) => Some(k.host()),
            Material::Ec(k) => Some(k.host()),
            Material::Ed25519(k) => Some(k.host()),
        }
    }

    /// Whether the key was loaded with no host crypto to check it (the npm package's builds,
    /// none registered): only WebCrypto, through the async methods, checks and uses it.
    pub(crate) fn deferred(&self) -> bool {
        #[cfg(feature = "host-keys")]
        return self.host_jwk().is_some_and(|h| h.deferred());
        #[cfg(not(feature = "host-keys"))]
        false
    }

    /// The private half as a JWK (`kty`, `crv` and key members only) of a deferred signing
    /// key, for WebCrypto to sign with (`Signer.signAsync`); `None` otherwise.
    #[cfg_attr(not(feature = "js"), allow(dead_code))]
    pub(crate) fn deferred_private_jwk(&self) -> Option<&Map<String, Value>> {
        #[cfg(feature = "host-keys")]
        return self
            .host_jwk()
            .filter(|h| h.deferred())
            .and_then(|h| h.private());
        #[cfg(not(feature = "host-keys"))]
        None
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
        self.check_binding_and_form(alg, sig)?;
        let ok = match native(alg, signing_input, sig) {
            Some(valid) => valid,
            None => self.signature_math(alg, signing_input, sig),
        };
        if ok {
            Ok(())
        } else {
            Err(bad_signature())
        }
    }

    /// The checks before any signature arithmetic: the key may verify and is bound to `alg`
    /// (else `algorithm`), and the signature has its algorithm's form (else `signature`).
    pub(crate) fn check_binding_and_form(&self, alg: Algorithm, sig: &[u8]) -> Result<()> {
        if !self.can_verify || !self.algorithms.contains(alg) {
            return Err(Error::new(
                Code::Algorithm,
                "the selected key is not bound to the token's algorithm",
            ));
        }
        if self.signature_form(alg, sig) {
            Ok(())
        } else {
            Err(bad_signature())
        }
    }

    /// Whether `sig` has `alg`'s form for this key (its exact length; for Ed25519 `S < L`),
    /// as [`Key::check_binding_and_form`] checks it.
    pub(crate) fn signature_form(&self, alg: Algorithm, sig: &[u8]) -> bool {
        self.algorithms.contains(alg)
            && match &self.material {
                Material::Oct(_) => true,
                Material::Rsa(k) => sig.len() == k.size(),
                Material::Ec(k) => sig.len() == 2 * k.curve().coordinate_len(),
                Material::Ed25519(_) => Ed25519Key::strict_form(sig),
            }
    }

    /// The signature arithmetic alone (RustCrypto), after [`Key::check_binding_and_form`].
    pub(crate) fn signature_math(&self, alg: Algorithm, signing_input: &[u8], sig: &[u8]) -> bool {
        match (&self.material, alg.family()) {
            (Material::Oct(k), KeyFamily::Hmac(h)) => k.verify(h, signing_input, sig),
            (Material::Rsa(k), KeyFamily::RsaPkcs1(h)) => k.verify(false, h, signing_input, sig),
            (Material::Rsa(k), KeyFamily::RsaPss(h)) => k.verify(true, h, signing_input, sig),
            (Material::Ec(k), KeyFamily::Ecdsa(c)) if k.curve() == c => {
                k.verify(signing_input, sig)
            }
            (Material::Ed25519(k), KeyFamily::Ed25519) => k.verify(signing_input, sig),
            _ => false,
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
            Material::Ec(k) => {
                let (x, y) = k.public_xy();
                put("kty", "EC".into());
                put("crv", k.curve().name().into());
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
            (Material::Oct(k), KeyFamily::Hmac(h)) => k.sign(h, signing_input),
            (Material::Rsa(k), KeyFamily::RsaPkcs1(h)) => k.sign(false, h, signing_input),
            (Material::Rsa(k), KeyFamily::RsaPss(h)) => k.sign(true, h, signing_input),
            (Material::Ec(k), KeyFamily::Ecdsa(c)) if k.curve() == c => k.sign(signing_input),
            (Material::Ed25519(k), KeyFamily::Ed25519) => k.sign(signing_input),
            _ => None,
        };
        sig.ok_or_else(|| Error::config("keys", "signing failed (no private key or no randomness)"))
    }
}

impl Material {
    fn fits(&self, alg: Algorithm) -> bool {
        match (self, alg.family()) {
            (Material::Oct(k), KeyFamily::Hmac(h)) => k.supports(h),
            (Material::Rsa(_), KeyFamily::RsaPkcs1(_) | KeyFamily::RsaPss(_)) => true,
            (Material::Ec(k), KeyFamily::Ecdsa(c)) => k.curve() == c,
            (Material::Ed25519(_), KeyFamily::Ed25519) => true,
            _ => false,
        }
    }

    /// The material a verifier needs: the public half (an HMAC secret is its own).
    // A family left out of the build has an uninhabited key type: its arm never runs.
    #[allow(unreachable_code)]
    fn into_public_half(self) -> Material {
        match self {
            Material::Oct(k) => Material::Oct(k),
            Material::Rsa(k) => Material::Rsa(k.into_public_half()),
            Material::Ec(k) => Material::Ec(k.into_public_half()),
            Material::Ed25519(k) => Material::Ed25519(k.into_public_half()),
        }
    }

    fn has_private(&self) -> bool {
        match self {
            Material::Oct(_) => true,
            Material::Rsa(k) => k.has_private(),
            Material::Ec(k) => k.has_private(),
            Material::Ed25519(k) => k.has_private(),
        }
    }
}

/// A validated set of keys (a JWKS), searched by `kid`.
///
/// Only usable keys take part in selection ([`keys`](KeySet::keys)); inert ones are listed in
/// the [`report`](KeySet::report) with the reason, beside the usable ones, in JWKS order.
#[derive(Clone, Debug, Default)]
pub struct KeySet {
    keys: Vec<Key>,
    report: Vec<KeyInfo>,
    /// Whether any JWK, usable or inert, held private material (checked for keys that are
    /// parsed; an unsupported key type is checked for the private members RFC 7518 names).
    private_material: bool,
}

impl KeySet {
    /// Strict loading for configured keys. A key that fits none of `allowed` (by `kty`/`crv`, by
    /// its own `alg`, or by `use`/`key_ops`) is inert: kept out of selection, listed in the
    /// [`report`](KeySet::report). A `config` error names the key for: a malformed or weak key
    /// (even an inert one), a key without `alg` that several allowed algorithms fit, two usable
    /// keys with one `kid`, and a set with no usable key.
    pub fn from_jwks(jwks: &Value, allowed: &[Algorithm]) -> Result<KeySet> {
        let set = KeySet::load(jwks, allowed, "keys", Mode::Strict)?;
        if set.keys.is_empty() {
            return Err(Error::config(
                "keys",
                "no key in the set fits the policy's algorithms (see the key report)",
            ));
        }
        Ok(set)
    }

    /// Lenient loading for keys fetched at run time (a remote JWKS): a malformed key, a key
    /// without `alg` that several allowed algorithms fit, and keys sharing a `kid` are inert too
    /// (the operator cannot fix the issuer's set), each listed in the
    /// [`report`](KeySet::report) for the caller to log. Only the outer shape (an object with a
    /// non-empty `keys` array) is required; the set may end up with no usable key.
    pub fn from_jwks_lenient(jwks: &Value, allowed: &[Algorithm]) -> Result<KeySet> {
        KeySet::load(jwks, allowed, "jwks", Mode::Lenient)
    }

    fn load(jwks: &Value, allowed: &[Algorithm], field: &str, mode: Mode) -> Result<KeySet> {
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
        let mut set = KeySet::default();
        for (i, jwk) in list.iter().enumerate() {
            let here = format!("{field}.keys[{i}]");
            let member = |name: &str| jwk.get(name).and_then(Value::as_str).map(str::to_owned);
            let mut info = KeyInfo {
                field: here.clone(),
                kid: member("kid"),
                kty: member("kty"),
                algorithm: None,
                verify: false,
                sign: false,
                inert: None,
            };
            // Private members of any key type (RFC 7518 §6.2.2, §6.3.2, §6.4; RFC 8037 §2).
            set.private_material |= ["d", "k", "p", "q", "dp", "dq", "qi", "oth"]
                .iter()
                .any(|m| jwk.get(*m).is_some_and(|v| !v.is_null()));
            match Key::load(jwk, allowed, &here, mode) {
                Ok(Loaded::Usable(k)) => {
                    info.algorithm = Some(k.algorithm);
                    info.verify = k.can_verify;
                    info.sign = k.can_sign;
                    set.keys.push(k);
                }
                Ok(Loaded::Inert(why)) => info.inert = Some(why),
                Err(e) if mode == Mode::Strict => return Err(e),
                Err(_) => info.inert = Some(Inert::Invalid),
            }
            set.report.push(info);
        }
        set.check_kids(mode)?;
        Ok(set)
    }

    /// Two usable keys with one `kid` would leave the choice of key to the order of the set:
    /// `config` in strict mode; in lenient mode every key with that `kid` becomes inert.
    fn check_kids(&mut self, mode: Mode) -> Result<()> {
        let mut dup: Vec<String> = Vec::new();
        for (i, k) in self.keys.iter().enumerate() {
            let Some(kid) = k.kid.as_deref() else {
                continue;
            };
            if self.keys[..i].iter().any(|o| o.kid.as_deref() == Some(kid)) {
                if mode == Mode::Strict {
                    return Err(Error::config(
                        "keys",
                        "two usable keys share a kid (each key needs its own kid)",
                    ));
                }
                dup.push(kid.to_owned());
            }
        }
        if dup.is_empty() {
            return Ok(());
        }
        self.keys.retain(|k| {
            !k.kid
                .as_deref()
                .is_some_and(|kid| dup.iter().any(|d| d == kid))
        });
        for info in &mut self.report {
            if info.inert.is_none() && info.kid.as_ref().is_some_and(|kid| dup.contains(kid)) {
                info.inert = Some(Inert::DuplicateKid);
                info.algorithm = None;
                info.verify = false;
                info.sign = false;
            }
        }
        Ok(())
    }

    /// What was made of each JWK, in order: usable keys with their bound algorithm, inert keys
    /// with the reason. Never key material: safe to log.
    pub fn report(&self) -> &[KeyInfo] {
        &self.report
    }

    /// This set followed by the keys of `other` (e.g. policy keys and a secret's keys). `config`
    /// if a usable key of one has the `kid` of a usable key of the other.
    pub fn merged(&self, other: &KeySet) -> Result<KeySet> {
        let mut set = self.clone();
        set.keys.extend(other.keys.iter().cloned());
        set.report.extend(other.report.iter().cloned());
        set.private_material |= other.private_material;
        set.check_kids(Mode::Strict)?;
        Ok(set)
    }

    /// Whether any JWK of the set, usable or inert, holds private material (`d` and the other
    /// private members, or an `oct` secret `k`).
    pub fn has_private_material(&self) -> bool {
        self.private_material
    }

    /// Each kind of key material's default algorithm, for a key without `alg` in
    /// [`signing_algorithms`](KeySet::signing_algorithms): `oct` HS256, `RSA` RS256, `EC` P-256
    /// ES256, P-384 ES384, P-521 ES512, `OKP` Ed25519 EdDSA. Each key fits exactly one of them.
    pub const DEFAULT_ALGORITHMS: [Algorithm; 6] = [
        Algorithm::HS256,
        Algorithm::RS256,
        Algorithm::ES256,
        Algorithm::ES384,
        Algorithm::ES512,
        Algorithm::EdDSA,
    ];

    /// The algorithms to pin for a set's signing keys (e.g. an issuer's whole set, with its
    /// private key in it), so that its other keys are inert: each private key's own `alg`, else
    /// its type's default ([`DEFAULT_ALGORITHMS`](KeySet::DEFAULT_ALGORITHMS)); the public keys'
    /// when none is private. In set order, without repeats. Public keys that fit none (another
    /// key type, an unknown `alg`, an encryption key) are left out; a private key that cannot
    /// sign, a malformed or weak key, and a set with no algorithm at all are `config` errors
    /// naming the key, as in a configured set.
    pub fn signing_algorithms(jwks: &Value) -> Result<Vec<Algorithm>> {
        let list = match jwks.get("keys") {
            Some(Value::Array(list)) if !list.is_empty() => list,
            _ => {
                return Err(Error::config(
                    "keys.keys",
                    "a JWKS is an object with a non-empty \"keys\" array",
                ))
            }
        };
        let mut found: Vec<(Algorithm, bool)> = Vec::new();
        for (i, jwk) in list.iter().enumerate() {
            let own = jwk
                .get("alg")
                .and_then(Value::as_str)
                .and_then(Algorithm::from_name);
            // The defaults of the key families in this build only: a key of a family left out
            // is then inert here, as in a policy that does not pin its algorithm.
            let allowed: AlgSet = match own {
                Some(alg) => [alg].into_iter().collect(),
                None => KeySet::DEFAULT_ALGORITHMS
                    .into_iter()
                    .filter(|a| crate::alg::built(a.family()))
                    .collect(),
            };
            let field = format!("keys.keys[{i}]");
            match Key::load(jwk, allowed, &field, Mode::Strict)? {
                Loaded::Usable(k) => found.push((k.algorithm, k.can_sign)),
                // A private key left out would only move the error to the signer ("no private
                // key"), away from its cause.
                Loaded::Inert(why)
                    if ["d", "k"]
                        .iter()
                        .any(|m| jwk.get(*m).is_some_and(|v| !v.is_null())) =>
                {
                    return Err(Error::config(
                        field,
                        format!("a private key that cannot sign: {}", why.reason()),
                    ));
                }
                Loaded::Inert(_) => {}
            }
        }
        let signing = found.iter().any(|(_, sign)| *sign);
        let mut algs: Vec<Algorithm> = Vec::new();
        for (alg, sign) in found {
            if (sign || !signing) && !algs.contains(&alg) {
                algs.push(alg);
            }
        }
        if algs.is_empty() {
            return Err(Error::config(
                "keys",
                "no key in the set has an algorithm jwtgate implements (see the key report)",
            ));
        }
        Ok(algs)
    }

    /// The set a verifier of this set's tokens needs: every usable key's public half (an HMAC
    /// secret stays), each key that may sign now verifying instead (a private JWK's
    /// `key_ops: ["sign"]` describes the private half; its public half verifies), none signing.
    pub fn into_public_halves(self) -> KeySet {
        let keys: Vec<Key> = self
            .keys
            .into_iter()
            .map(|k| Key {
                can_verify: k.can_verify || k.can_sign,
                can_sign: false,
                material: k.material.into_public_half(),
                ..k
            })
            .collect();
        let mut report = self.report;
        for info in report.iter_mut().filter(|i| i.inert.is_none()) {
            info.verify |= info.sign;
            info.sign = false;
        }
        KeySet {
            private_material: keys.iter().any(Key::is_symmetric),
            keys,
            report,
        }
    }

    /// The usable keys, in JWKS order (the ones selection picks from).
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

    /// The public halves of the set's asymmetric keys, as a JWKS to publish: each usable RSA, EC
    /// or OKP key (one that verifies or signs: a signing key's public half is what verifiers
    /// need), with its `kid`, its one `alg` and `"use": "sig"`; the key at `first` (a signer's
    /// signing key) first. Only public members are ever written (`kty`, `crv`, `n`, `e`, `x`,
    /// `y`, `kid`, `alg`, `use`); HMAC secrets and inert keys are left out.
    pub fn public_jwks(&self, first: Option<usize>) -> Value {
        let order = first
            .into_iter()
            .chain((0..self.keys.len()).filter(|i| Some(*i) != first));
        let keys: Vec<Value> = order
            .filter_map(|i| self.keys.get(i))
            .filter(|k| k.can_verify || k.can_sign)
            .filter_map(|k| {
                let mut jwk = k.public_jwk()?;
                if let Some(kid) = &k.kid {
                    jwk.insert("kid".into(), Value::String(kid.clone()));
                }
                jwk.insert("alg".into(), Value::String(k.algorithm.name().to_owned()));
                jwk.insert("use".into(), Value::String("sig".into()));
                Some(Value::Object(jwk))
            })
            .collect();
        serde_json::json!({ "keys": keys })
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
