//! JWS algorithms (RFC 7518 §3, RFC 8037) and the key families they bind to.
//!
//! An algorithm name is matched byte for byte: `none`, `None`, `hs256` and every other spelling
//! that is not on this list is refused. Each algorithm belongs to exactly one key family, and a key
//! is only ever used with the algorithms of its own family: an RSA public key can never become an
//! HMAC secret (the RS256→HS256 "key confusion" attack), whatever the token header says.

// Each asymmetric family is a cargo feature (all on by default; ECDSA one per curve). Without
// one, its key type is uninhabited (`*_off.rs`; for ECDSA the curve's variant is left out) and
// JWKs of that kty or curve are refused as configuration errors. With `host-keys` instead (the
// npm package's Node build) every family is in, with no arithmetic in jwtgate: the key types of
// `alg/host.rs` hand checks, verification and signing to the registered host crypto.
#[cfg(all(
    feature = "host-keys",
    any(
        feature = "rsa",
        feature = "ecdsa",
        feature = "ecdsa-p384",
        feature = "ecdsa-p521",
        feature = "eddsa"
    )
))]
compile_error!(
    "`host-keys` replaces the rsa, ecdsa* and eddsa features: build it with --no-default-features"
);

#[cfg(not(feature = "host-keys"))]
pub(crate) mod ecdsa;
pub(crate) mod ed25519_form;
#[cfg(feature = "eddsa")]
pub(crate) mod eddsa;
#[cfg(not(any(feature = "eddsa", feature = "host-keys")))]
#[path = "alg/eddsa_off.rs"]
pub(crate) mod eddsa;
pub(crate) mod hmac;
#[cfg(feature = "host-keys")]
pub(crate) mod host;
#[cfg(feature = "rsa")]
pub(crate) mod rsa;
#[cfg(not(any(feature = "rsa", feature = "host-keys")))]
#[path = "alg/rsa_off.rs"]
pub(crate) mod rsa;

#[cfg(feature = "host-keys")]
pub(crate) mod ecdsa {
    pub(crate) use super::host::EcKey;
}
#[cfg(feature = "host-keys")]
pub(crate) mod eddsa {
    pub(crate) use super::host::Ed25519Key;
}
#[cfg(feature = "host-keys")]
pub(crate) mod rsa {
    pub(crate) use super::host::RsaKey;
    pub(crate) use super::{RsaKeyError, MIN_BITS};
}

/// Whether keys of `family` can be used: its cargo feature is in this build, or (`host-keys`)
/// host crypto able to check, verify and sign is registered now, or the key may be deferred to
/// WebCrypto ([`host::keys_usable`]).
pub(crate) fn built(family: KeyFamily) -> bool {
    #[cfg(feature = "host-keys")]
    if !matches!(family, KeyFamily::Hmac(_)) {
        return host::keys_usable();
    }
    match family {
        KeyFamily::Hmac(_) => true,
        KeyFamily::RsaPkcs1(_) | KeyFamily::RsaPss(_) => cfg!(feature = "rsa"),
        KeyFamily::Ecdsa(curve) => match curve {
            EcCurve::P256 => cfg!(feature = "ecdsa"),
            EcCurve::P384 => cfg!(feature = "ecdsa-p384"),
            EcCurve::P521 => cfg!(feature = "ecdsa-p521"),
        },
        KeyFamily::Ed25519 => cfg!(feature = "eddsa"),
    }
}

/// The smallest RSA modulus accepted, in bits.
pub(crate) const MIN_BITS: usize = 2048;

/// Why an RSA JWK was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(not(feature = "rsa"), allow(dead_code))]
pub(crate) enum RsaKeyError {
    /// The modulus is shorter than [`MIN_BITS`].
    TooSmall,
    /// Anything else: bad exponent, inconsistent private parts, oversized modulus (or, without
    /// the `rsa` feature, any RSA key).
    Invalid,
    /// A private key without all of `p`, `q`, `dp`, `dq` and `qi` (`host-keys` only: the host,
    /// node:crypto, takes no other form).
    #[cfg_attr(not(feature = "host-keys"), allow(dead_code))]
    IncompleteCrt,
}

/// A big-endian integer without its leading zero bytes (an RSA JWK's `n` or `e`).
#[cfg_attr(not(any(feature = "rsa", feature = "host-keys")), allow(dead_code))]
pub(crate) fn strip_zeros(b: &[u8]) -> &[u8] {
    let first = b.iter().position(|&x| x != 0).unwrap_or(b.len());
    &b[first..]
}

/// The private members of an RSA JWK (read only where some RSA is built: `rsa` or `host-keys`).
#[derive(Clone, Copy)]
#[cfg_attr(not(any(feature = "rsa", feature = "host-keys")), allow(dead_code))]
pub(crate) struct RsaPrivateParts<'a> {
    /// `d`.
    pub(crate) d: &'a [u8],
    /// `p` and `q`, when present.
    pub(crate) primes: Option<(&'a [u8], &'a [u8])>,
    /// `dp`, `dq` and `qi`, when all three are present. jwtgate's own RSA recomputes them (they
    /// are not trusted); a host (node:crypto) needs them.
    #[cfg_attr(not(feature = "host-keys"), allow(dead_code))]
    pub(crate) crt: Option<[&'a [u8]; 3]>,
}

use std::fmt;

/// A supported JWS algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Algorithm {
    /// HMAC with SHA-256.
    HS256,
    /// HMAC with SHA-384.
    HS384,
    /// HMAC with SHA-512.
    HS512,
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    RS256,
    /// RSASSA-PKCS1-v1_5 with SHA-384.
    RS384,
    /// RSASSA-PKCS1-v1_5 with SHA-512.
    RS512,
    /// RSASSA-PSS with SHA-256 and a 32-byte salt.
    PS256,
    /// RSASSA-PSS with SHA-384 and a 48-byte salt.
    PS384,
    /// RSASSA-PSS with SHA-512 and a 64-byte salt.
    PS512,
    /// ECDSA on P-256 with SHA-256, signature as 64-byte `r || s` (IEEE P1363).
    ES256,
    /// ECDSA on P-384 with SHA-384, signature as 96-byte `r || s`.
    ES384,
    /// ECDSA on P-521 with SHA-512, signature as 132-byte `r || s` (each 66 bytes).
    ES512,
    /// EdDSA with Ed25519 (RFC 8037).
    EdDSA,
    /// Ed25519 under its fully-specified name (RFC 9864): the same signature as `EdDSA` with an
    /// Ed25519 key, and what WebCrypto writes into exported Ed25519 JWKs.
    Ed25519,
}

/// The hash function an algorithm uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HashAlg {
    Sha256,
    Sha384,
    Sha512,
}

impl HashAlg {
    /// The digest length in bytes (also the minimum HMAC key length).
    pub(crate) const fn output_len(self) -> usize {
        match self {
            HashAlg::Sha256 => 32,
            HashAlg::Sha384 => 48,
            HashAlg::Sha512 => 64,
        }
    }
}

/// The key family an algorithm needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyFamily {
    Hmac(HashAlg),
    RsaPkcs1(HashAlg),
    RsaPss(HashAlg),
    Ecdsa(EcCurve),
    Ed25519,
}

/// The NIST curve of an ECDSA algorithm (RFC 7518 §3.4: each `ES*` names one curve and hash).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EcCurve {
    P256,
    P384,
    P521,
}

impl EcCurve {
    /// Every curve, in algorithm order.
    pub(crate) const ALL: [EcCurve; 3] = [EcCurve::P256, EcCurve::P384, EcCurve::P521];

    /// The JWK `crv` (and WebCrypto `namedCurve`) name.
    pub(crate) const fn name(self) -> &'static str {
        match self {
            EcCurve::P256 => "P-256",
            EcCurve::P384 => "P-384",
            EcCurve::P521 => "P-521",
        }
    }

    /// The curve with this JWK `crv` name.
    pub(crate) fn from_name(crv: &str) -> Option<EcCurve> {
        EcCurve::ALL.into_iter().find(|c| c.name() == crv)
    }

    /// The length of a coordinate, a private scalar and each half of a P1363 signature.
    pub(crate) const fn coordinate_len(self) -> usize {
        match self {
            EcCurve::P256 => 32,
            EcCurve::P384 => 48,
            EcCurve::P521 => 66,
        }
    }

    /// The hash its `ES*` algorithm signs with.
    pub(crate) const fn hash(self) -> HashAlg {
        match self {
            EcCurve::P256 => HashAlg::Sha256,
            EcCurve::P384 => HashAlg::Sha384,
            EcCurve::P521 => HashAlg::Sha512,
        }
    }

    /// The cargo feature that builds it in.
    pub(crate) const fn feature(self) -> &'static str {
        match self {
            EcCurve::P256 => "ecdsa",
            EcCurve::P384 => "ecdsa-p384",
            EcCurve::P521 => "ecdsa-p521",
        }
    }
}

impl Algorithm {
    /// Every supported algorithm.
    pub const ALL: [Algorithm; 14] = [
        Algorithm::HS256,
        Algorithm::HS384,
        Algorithm::HS512,
        Algorithm::RS256,
        Algorithm::RS384,
        Algorithm::RS512,
        Algorithm::PS256,
        Algorithm::PS384,
        Algorithm::PS512,
        Algorithm::ES256,
        Algorithm::ES384,
        Algorithm::ES512,
        Algorithm::EdDSA,
        Algorithm::Ed25519,
    ];

    /// The registered JWS name, e.g. `"ES256"`.
    pub const fn name(self) -> &'static str {
        match self {
            Algorithm::HS256 => "HS256",
            Algorithm::HS384 => "HS384",
            Algorithm::HS512 => "HS512",
            Algorithm::RS256 => "RS256",
            Algorithm::RS384 => "RS384",
            Algorithm::RS512 => "RS512",
            Algorithm::PS256 => "PS256",
            Algorithm::PS384 => "PS384",
            Algorithm::PS512 => "PS512",
            Algorithm::ES256 => "ES256",
            Algorithm::ES384 => "ES384",
            Algorithm::ES512 => "ES512",
            Algorithm::EdDSA => "EdDSA",
            Algorithm::Ed25519 => "Ed25519",
        }
    }

    /// The algorithm with exactly this name (case-sensitive), if supported.
    pub fn from_name(name: &str) -> Option<Algorithm> {
        Algorithm::ALL.into_iter().find(|a| a.name() == name)
    }

    pub(crate) const fn family(self) -> KeyFamily {
        use HashAlg::*;
        match self {
            Algorithm::HS256 => KeyFamily::Hmac(Sha256),
            Algorithm::HS384 => KeyFamily::Hmac(Sha384),
            Algorithm::HS512 => KeyFamily::Hmac(Sha512),
            Algorithm::RS256 => KeyFamily::RsaPkcs1(Sha256),
            Algorithm::RS384 => KeyFamily::RsaPkcs1(Sha384),
            Algorithm::RS512 => KeyFamily::RsaPkcs1(Sha512),
            Algorithm::PS256 => KeyFamily::RsaPss(Sha256),
            Algorithm::PS384 => KeyFamily::RsaPss(Sha384),
            Algorithm::PS512 => KeyFamily::RsaPss(Sha512),
            Algorithm::ES256 => KeyFamily::Ecdsa(EcCurve::P256),
            Algorithm::ES384 => KeyFamily::Ecdsa(EcCurve::P384),
            Algorithm::ES512 => KeyFamily::Ecdsa(EcCurve::P521),
            Algorithm::EdDSA | Algorithm::Ed25519 => KeyFamily::Ed25519,
        }
    }

    const fn bit(self) -> u16 {
        1 << (self as u16)
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A small set of algorithms (a bit mask), used for a key's allowed algorithms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AlgSet(u16);

impl AlgSet {
    /// The empty set.
    pub const EMPTY: AlgSet = AlgSet(0);

    /// Whether `alg` is in the set.
    pub const fn contains(self, alg: Algorithm) -> bool {
        self.0 & alg.bit() != 0
    }

    /// Adds `alg`.
    pub fn insert(&mut self, alg: Algorithm) {
        self.0 |= alg.bit();
    }

    /// Whether the set is empty.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The algorithms in the set, in [`Algorithm::ALL`] order.
    pub fn iter(self) -> impl Iterator<Item = Algorithm> {
        Algorithm::ALL
            .into_iter()
            .filter(move |a| self.contains(*a))
    }
}

impl FromIterator<Algorithm> for AlgSet {
    fn from_iter<I: IntoIterator<Item = Algorithm>>(iter: I) -> Self {
        let mut set = AlgSet::EMPTY;
        for a in iter {
            set.insert(a);
        }
        set
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_are_case_sensitive() {
        for a in Algorithm::ALL {
            assert_eq!(Algorithm::from_name(a.name()), Some(a));
            assert_eq!(Algorithm::from_name(&a.name().to_lowercase()), None);
        }
        for none in ["none", "None", "NONE", "nOnE", "", " HS256", "HS256 "] {
            assert_eq!(Algorithm::from_name(none), None);
        }
    }

    #[test]
    fn alg_set() {
        let s: AlgSet = [Algorithm::ES256, Algorithm::HS256].into_iter().collect();
        assert!(s.contains(Algorithm::ES256) && s.contains(Algorithm::HS256));
        assert!(!s.contains(Algorithm::RS256));
        assert_eq!(
            s.iter().collect::<Vec<_>>(),
            vec![Algorithm::HS256, Algorithm::ES256]
        );
    }
}
