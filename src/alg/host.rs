//! Built with `host-keys` (the npm package's Node build and the edge gate): RSA, EC and Ed25519 keys with no
//! arithmetic in jwtgate. Every check that needs none stays here (lengths, RSA modulus size and
//! exponent, Ed25519 small-order points, the signature forms in `jwk.rs`); the rest goes to the
//! host crypto registered with `setHostCrypto` (`node:crypto` under the Node entry) or by the edge
//! gate (workerd's `node:crypto`), through `js/host/node-crypto.js`:
//!
//! - on load, `checkKey`: the public key must import (node:crypto refuses an EC point off its
//!   curve, an Ed25519 `x` that is no point is refused by the adapter), and a private half must
//!   belong to it (the public key it derives is the JWK's, or, for RSA, a test signature made
//!   with it verifies with the public key);
//! - `verify` and `sign`: the raw operation, with the platform names of `crate::platform`.
//!
//! A host that fails, throws or answers anything but the expected type makes a key refused, a
//! signature invalid, a signing attempt an error: never a pass.

use super::{
    ed25519_form, strip_zeros, Algorithm, EcCurve, HashAlg, RsaKeyError, RsaPrivateParts, MIN_BITS,
};
use crate::b64;
use serde_json::{Map, Value};
use std::sync::OnceLock;

/// A public or private JWK, as the host takes it.
type Jwk = Map<String, Value>;

/// The host's key operations, as `crate::host_crypto` provides them (installed when the npm
/// surface's `setHostCrypto` or the edge gate registers a host): this module stays below the JavaScript layer it is called
/// from. Before they are installed there is no host: every RSA, EC and OKP key is refused.
#[derive(Clone, Copy)]
pub(crate) struct HostOps {
    /// Whether a host able to check, verify and sign is registered now.
    pub(crate) available: fn() -> bool,
    /// The host's `checkKey(jwk)`: only exactly `true` accepts.
    pub(crate) check_key: fn(&Jwk) -> bool,
    /// One raw check with a handle imported for it: only exactly `true` is valid.
    pub(crate) verify_once: fn(&Jwk, Algorithm, &[u8], &[u8]) -> bool,
    /// The host's raw signature with a private JWK.
    pub(crate) sign: fn(&Jwk, Algorithm, &[u8]) -> Option<Vec<u8>>,
    /// Whether the host has `decrypt` (AES-256 for Auth.js cookies).
    pub(crate) can_decrypt: fn() -> bool,
    /// The host's AES-256 decryption.
    pub(crate) decrypt: Decrypt,
}

/// `(cipher, key, iv, aad, ciphertext, tag)` → the plaintext, or `None`.
pub(crate) type Decrypt = fn(Cipher, &[u8], &[u8], &[u8], &[u8], &[u8]) -> Option<Vec<u8>>;

/// The AES-256 modes a host decrypts with (Auth.js's JWE: `A256CBC-HS512`, whose HMAC tag
/// jwtgate checks itself, and `A256GCM`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(any(feature = "jwe", not(feature = "jwe-reader")), allow(dead_code))]
pub(crate) enum Cipher {
    /// AES-256-CBC; the host removes the PKCS#7 padding.
    Aes256Cbc,
    /// AES-256-GCM with additional data and a 16-byte tag.
    Aes256Gcm,
}

impl Cipher {
    /// node:crypto's name for it.
    #[cfg_attr(not(any(feature = "js", feature = "worker")), allow(dead_code))]
    pub(crate) const fn name(self) -> &'static str {
        match self {
            Cipher::Aes256Cbc => "aes-256-cbc",
            Cipher::Aes256Gcm => "aes-256-gcm",
        }
    }
}

/// Whether host crypto with `decrypt` is registered now.
#[cfg_attr(any(feature = "jwe", not(feature = "jwe-reader")), allow(dead_code))]
pub(crate) fn can_decrypt() -> bool {
    OPS.get().is_some_and(|o| (o.can_decrypt)())
}

/// The host's AES-256 decryption of `data`, or `None` (no host, a throw, a wrong tag or
/// padding, an answer that is not bytes).
#[cfg_attr(any(feature = "jwe", not(feature = "jwe-reader")), allow(dead_code))]
pub(crate) fn decrypt(
    cipher: Cipher,
    key: &[u8],
    iv: &[u8],
    aad: &[u8],
    data: &[u8],
    tag: &[u8],
) -> Option<Vec<u8>> {
    OPS.get()
        .and_then(|o| (o.decrypt)(cipher, key, iv, aad, data, tag))
}

static OPS: OnceLock<HostOps> = OnceLock::new();

/// Installs the host's key operations (once; later calls change nothing).
#[cfg_attr(not(any(feature = "js", feature = "worker")), allow(dead_code))]
pub(crate) fn install(ops: HostOps) {
    let _ = OPS.set(ops);
}

/// Whether host crypto able to check, verify and sign is registered now.
pub(crate) fn available() -> bool {
    OPS.get().is_some_and(|o| (o.available)())
}

/// Whether RSA, EC and OKP keys may be loaded now: with host crypto registered, or in the npm
/// package's builds (`js`) without one, as *deferred* keys ([`HostJwk::deferred`]), which
/// WebCrypto checks and uses through the async methods. The edge gate (no `js`) refuses them.
pub(crate) fn keys_usable() -> bool {
    available() || cfg!(feature = "js")
}

/// The installed operations, each failing closed when none are installed.
mod host_ops {
    use super::{Algorithm, Map, Value, OPS};

    pub(super) fn check_key(jwk: &Map<String, Value>) -> bool {
        OPS.get().is_some_and(|o| (o.check_key)(jwk))
    }

    pub(super) fn verify_once(
        jwk: &Map<String, Value>,
        alg: Algorithm,
        input: &[u8],
        sig: &[u8],
    ) -> bool {
        OPS.get()
            .is_some_and(|o| (o.verify_once)(jwk, alg, input, sig))
    }

    pub(super) fn sign(jwk: &Map<String, Value>, alg: Algorithm, input: &[u8]) -> Option<Vec<u8>> {
        OPS.get().and_then(|o| (o.sign)(jwk, alg, input))
    }
}

/// The largest RSA modulus accepted, in bits (jwtgate's own RSA, the `rsa` crate, refuses
/// larger ones too).
const MAX_BITS: usize = 8192;

/// The largest RSA public exponent accepted (the `rsa` crate's bound, 2^33 - 1).
const MAX_EXPONENT: u64 = (1 << 33) - 1;

/// A JWK of `kty` (and `crv`) with these base64url members.
fn jwk(kty: &str, crv: Option<&str>, members: &[(&str, &[u8])]) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("kty".into(), Value::String(kty.into()));
    if let Some(crv) = crv {
        m.insert("crv".into(), Value::String(crv.into()));
    }
    for (name, bytes) in members {
        m.insert((*name).into(), Value::String(b64::encode(bytes)));
    }
    m
}

/// A key as the host is given it: its public JWK and, when it has one, its private JWK.
#[derive(Clone)]
pub(crate) struct HostJwk {
    public: Map<String, Value>,
    private: Option<Map<String, Value>>,
    deferred: bool,
}

impl HostJwk {
    /// Both JWKs, after the host's `checkKey` accepted the private one (or the public one).
    /// With no host registered, in the npm package's builds ([`keys_usable`]), the key is
    /// accepted unchecked as *deferred*: only the async methods use it, and WebCrypto's import
    /// checks it there (the synchronous ones refuse it with a `config` error naming them).
    fn checked(public: Map<String, Value>, private: Option<Map<String, Value>>) -> Option<Self> {
        if !available() && cfg!(feature = "js") {
            return Some(HostJwk {
                public,
                private,
                deferred: true,
            });
        }
        host_ops::check_key(private.as_ref().unwrap_or(&public)).then_some(HostJwk {
            public,
            private,
            deferred: false,
        })
    }

    /// Whether no host checked this key when it was loaded (see [`HostJwk::checked`]).
    pub(crate) fn deferred(&self) -> bool {
        self.deferred
    }

    /// The private JWK (`kty`, `crv` and the key's members only), if the key has one.
    pub(crate) fn private(&self) -> Option<&Map<String, Value>> {
        self.private.as_ref()
    }

    /// The same key without its private half.
    fn public_half(mut self) -> Self {
        self.private = None;
        self
    }

    fn verify(&self, alg: Algorithm, input: &[u8], sig: &[u8]) -> bool {
        host_ops::verify_once(&self.public, alg, input, sig)
    }

    /// A signature of exactly `len` bytes from the host, or `None`.
    fn sign(&self, alg: Algorithm, input: &[u8], len: usize) -> Option<Vec<u8>> {
        host_ops::sign(self.private.as_ref()?, alg, input).filter(|s| s.len() == len)
    }
}

/// An RSA public key, with its private half when the JWK carried `d`, `p`, `q`, `dp`, `dq`, `qi`.
#[derive(Clone)]
pub(crate) struct RsaKey {
    n: Vec<u8>,
    e: Vec<u8>,
    jwk: HostJwk,
}

impl RsaKey {
    /// From the JWK members. Checked here: modulus from [`MIN_BITS`] to 8192 bits and odd,
    /// exponent odd from 3 to 2^33 - 1; a private key needs all its CRT members (node:crypto
    /// takes no other form). Then by the host ([`host_ops::check_key`]).
    pub(crate) fn new(
        n: &[u8],
        e: &[u8],
        private: Option<RsaPrivateParts<'_>>,
    ) -> Result<Self, RsaKeyError> {
        let n = strip_zeros(n);
        let e = strip_zeros(e);
        // An empty (or all-zero) modulus has no bits: refused below, never an underflow.
        let bits =
            (n.len() * 8).saturating_sub(n.first().map_or(0, |b| b.leading_zeros() as usize));
        if bits < MIN_BITS {
            return Err(RsaKeyError::TooSmall);
        }
        let exponent = (e.len() <= 8).then(|| e.iter().fold(0u64, |a, &b| a << 8 | u64::from(b)));
        let odd = |b: &[u8]| b.last().is_some_and(|x| x & 1 == 1);
        if bits > MAX_BITS
            || !odd(n)
            || !odd(e)
            || !exponent.is_some_and(|x| (3..=MAX_EXPONENT).contains(&x))
        {
            return Err(RsaKeyError::Invalid);
        }
        let public = jwk("RSA", None, &[("n", n), ("e", e)]);
        let private = match private {
            None => None,
            Some(RsaPrivateParts {
                d,
                primes: Some((p, q)),
                crt: Some([dp, dq, qi]),
            }) => Some(jwk(
                "RSA",
                None,
                &[
                    ("n", n),
                    ("e", e),
                    ("d", d),
                    ("p", p),
                    ("q", q),
                    ("dp", dp),
                    ("dq", dq),
                    ("qi", qi),
                ],
            )),
            Some(_) => return Err(RsaKeyError::IncompleteCrt),
        };
        let jwk = HostJwk::checked(public, private).ok_or(RsaKeyError::Invalid)?;
        Ok(RsaKey {
            n: n.to_vec(),
            e: e.to_vec(),
            jwk,
        })
    }

    /// The same key without its private half.
    pub(crate) fn into_public_half(mut self) -> Self {
        self.jwk = self.jwk.public_half();
        self
    }

    pub(crate) fn has_private(&self) -> bool {
        self.jwk.private.is_some()
    }

    /// The key as the host is given it.
    pub(crate) fn host(&self) -> &HostJwk {
        &self.jwk
    }

    /// The public members `n` and `e`, big-endian without leading zeros.
    pub(crate) fn public_parts(&self) -> (&[u8], &[u8]) {
        (&self.n, &self.e)
    }

    /// The modulus length in bytes (the exact length of every signature).
    pub(crate) fn size(&self) -> usize {
        self.n.len()
    }

    pub(crate) fn verify(&self, pss: bool, hash: HashAlg, input: &[u8], sig: &[u8]) -> bool {
        sig.len() == self.size() && self.jwk.verify(rsa_alg(pss, hash), input, sig)
    }

    pub(crate) fn sign(&self, pss: bool, hash: HashAlg, input: &[u8]) -> Option<Vec<u8>> {
        self.jwk.sign(rsa_alg(pss, hash), input, self.size())
    }
}

fn rsa_alg(pss: bool, hash: HashAlg) -> Algorithm {
    match (pss, hash) {
        (false, HashAlg::Sha256) => Algorithm::RS256,
        (false, HashAlg::Sha384) => Algorithm::RS384,
        (false, HashAlg::Sha512) => Algorithm::RS512,
        (true, HashAlg::Sha256) => Algorithm::PS256,
        (true, HashAlg::Sha384) => Algorithm::PS384,
        (true, HashAlg::Sha512) => Algorithm::PS512,
    }
}

/// An EC public key on P-256, P-384 or P-521, with its private half when the JWK carried `d`.
#[derive(Clone)]
pub(crate) struct EcKey {
    curve: EcCurve,
    x: Vec<u8>,
    y: Vec<u8>,
    jwk: HostJwk,
}

impl EcKey {
    /// From the JWK `x`, `y` and optional `d` (each the curve's coordinate length). `None` if a
    /// length is wrong or the host refuses the key (a point off the curve, a `d` that does not
    /// belong to it).
    pub(crate) fn new(curve: EcCurve, x: &[u8], y: &[u8], d: Option<&[u8]>) -> Option<Self> {
        let len = curve.coordinate_len();
        if x.len() != len || y.len() != len || d.is_some_and(|d| d.len() != len) {
            return None;
        }
        let crv = Some(curve.name());
        let public = jwk("EC", crv, &[("x", x), ("y", y)]);
        let private = d.map(|d| jwk("EC", crv, &[("x", x), ("y", y), ("d", d)]));
        Some(EcKey {
            curve,
            x: x.to_vec(),
            y: y.to_vec(),
            jwk: HostJwk::checked(public, private)?,
        })
    }

    /// The key's curve.
    pub(crate) fn curve(&self) -> EcCurve {
        self.curve
    }

    /// The public coordinates `x` and `y`.
    pub(crate) fn public_xy(&self) -> (&[u8], &[u8]) {
        (&self.x, &self.y)
    }

    /// The same key without its private half.
    pub(crate) fn into_public_half(mut self) -> Self {
        self.jwk = self.jwk.public_half();
        self
    }

    pub(crate) fn has_private(&self) -> bool {
        self.jwk.private.is_some()
    }

    /// The key as the host is given it.
    pub(crate) fn host(&self) -> &HostJwk {
        &self.jwk
    }

    /// Verifies a P1363 signature over `input` with the curve's hash.
    pub(crate) fn verify(&self, input: &[u8], sig: &[u8]) -> bool {
        sig.len() == 2 * self.curve.coordinate_len() && self.jwk.verify(self.alg(), input, sig)
    }

    /// Signs `input`, P1363 form.
    pub(crate) fn sign(&self, input: &[u8]) -> Option<Vec<u8>> {
        self.jwk
            .sign(self.alg(), input, 2 * self.curve.coordinate_len())
    }

    fn alg(&self) -> Algorithm {
        match self.curve {
            EcCurve::P256 => Algorithm::ES256,
            EcCurve::P384 => Algorithm::ES384,
            EcCurve::P521 => Algorithm::ES512,
        }
    }
}

/// An Ed25519 public key, with its private half when the JWK carried `d`.
#[derive(Clone)]
pub(crate) struct Ed25519Key {
    x: [u8; 32],
    jwk: HostJwk,
}

impl Ed25519Key {
    /// From the JWK `x` (32 bytes) and optional `d` (32 bytes). `None` for a small-order
    /// (weak) `x`, or if the host refuses the key (`x` is no point, `d` does not belong to it).
    pub(crate) fn new(x: &[u8], d: Option<&[u8]>) -> Option<Self> {
        let x: [u8; 32] = x.try_into().ok()?;
        if ed25519_form::small_order(&x) || d.is_some_and(|d| d.len() != 32) {
            return None;
        }
        let crv = Some("Ed25519");
        let public = jwk("OKP", crv, &[("x", &x)]);
        let private = d.map(|d| jwk("OKP", crv, &[("x", &x), ("d", d)]));
        Some(Ed25519Key {
            x,
            jwk: HostJwk::checked(public, private)?,
        })
    }

    /// The public key `x` (32 bytes).
    pub(crate) fn public_x(&self) -> &[u8; 32] {
        &self.x
    }

    /// The same key without its private half.
    pub(crate) fn into_public_half(mut self) -> Self {
        self.jwk = self.jwk.public_half();
        self
    }

    pub(crate) fn has_private(&self) -> bool {
        self.jwk.private.is_some()
    }

    /// The key as the host is given it.
    pub(crate) fn host(&self) -> &HostJwk {
        &self.jwk
    }

    pub(crate) fn verify(&self, input: &[u8], sig: &[u8]) -> bool {
        ed25519_form::strict_signature(sig) && self.jwk.verify(Algorithm::EdDSA, input, sig)
    }

    /// [`ed25519_form::strict_signature`].
    pub(crate) fn strict_form(sig: &[u8]) -> bool {
        ed25519_form::strict_signature(sig)
    }

    pub(crate) fn sign(&self, input: &[u8]) -> Option<Vec<u8>> {
        self.jwk.sign(Algorithm::EdDSA, input, 64)
    }
}
