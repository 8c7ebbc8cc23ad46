//! RS256/384/512 (RSASSA-PKCS1-v1_5) and PS256/384/512 (RSASSA-PSS), RFC 7518 §3.3 and §3.5,
//! via RustCrypto `rsa` (constant-time `crypto-bigint` arithmetic).
//!
//! Keys under 2048 bits are refused on load (RFC 7518 §3.3), as are moduli over 8192 bits and
//! unusual public exponents (the `rsa` crate's checks). PSS uses MGF1 with the same hash and a salt
//! as long as the hash, exactly as RFC 7518 §3.5 fixes it: other salt lengths do not verify.

use super::{strip_zeros, HashAlg};
use rsa::pkcs1v15::Pkcs1v15Sign;
use rsa::pss::Pss;
use rsa::traits::PublicKeyParts;
use rsa::{BoxedUint, RsaPrivateKey, RsaPublicKey};
use sha2::{Digest, Sha256, Sha384, Sha512};

pub(crate) use super::{RsaKeyError, RsaPrivateParts, MIN_BITS};

/// An RSA public key, with its private half when the JWK carried `d`.
#[derive(Clone)]
pub(crate) struct RsaKey {
    public: RsaPublicKey,
    /// The modulus and exponent as big-endian bytes without leading zeros (for the public JWK).
    n: Vec<u8>,
    e: Vec<u8>,
    private: Option<RsaPrivateKey>,
}

fn uint(bytes: &[u8], bits: u32) -> Result<BoxedUint, RsaKeyError> {
    BoxedUint::from_be_slice(strip_zeros(bytes), bits).map_err(|_| RsaKeyError::Invalid)
}

impl RsaKey {
    /// From the JWK members `n`, `e` and, for a private key, `d` with optional `p`, `q`
    /// (the CRT members `dp`, `dq`, `qi` are recomputed, not trusted).
    pub(crate) fn new(
        n: &[u8],
        e: &[u8],
        private: Option<RsaPrivateParts<'_>>,
    ) -> Result<Self, RsaKeyError> {
        let n = strip_zeros(n);
        let e = strip_zeros(e);
        if n.is_empty() || e.is_empty() || e.len() > 8 {
            return Err(RsaKeyError::Invalid);
        }
        let n_bits = u32::try_from(n.len() * 8).map_err(|_| RsaKeyError::Invalid)?;
        let n_uint = uint(n, n_bits)?;
        let e_uint = uint(
            e,
            u32::try_from(e.len() * 8).map_err(|_| RsaKeyError::Invalid)?,
        )?;
        if (n_uint.bits_vartime() as usize) < MIN_BITS {
            return Err(RsaKeyError::TooSmall);
        }
        let public =
            RsaPublicKey::new(n_uint.clone(), e_uint.clone()).map_err(|_| RsaKeyError::Invalid)?;
        let private = match private {
            None => None,
            Some(parts) => {
                let d = uint(parts.d, n_bits)?;
                let primes = match parts.primes {
                    Some((p, q)) => vec![uint(p, n_bits)?, uint(q, n_bits)?],
                    None => Vec::new(),
                };
                let key = RsaPrivateKey::from_components(n_uint, e_uint, d, primes)
                    .map_err(|_| RsaKeyError::Invalid)?;
                if key.to_public_key() != public {
                    return Err(RsaKeyError::Invalid);
                }
                Some(key)
            }
        };
        Ok(RsaKey {
            public,
            n: n.to_vec(),
            e: e.to_vec(),
            private,
        })
    }

    /// The same key without its private half.
    pub(crate) fn into_public_half(self) -> Self {
        Self {
            private: None,
            ..self
        }
    }

    pub(crate) fn has_private(&self) -> bool {
        self.private.is_some()
    }

    /// The public members `n` and `e`, big-endian without leading zeros.
    pub(crate) fn public_parts(&self) -> (&[u8], &[u8]) {
        (&self.n, &self.e)
    }

    /// The modulus length in bytes (the exact length of every signature).
    pub(crate) fn size(&self) -> usize {
        self.public.size()
    }

    pub(crate) fn verify(&self, pss: bool, hash: HashAlg, input: &[u8], sig: &[u8]) -> bool {
        if sig.len() != self.size() {
            return false;
        }
        let k = &self.public;
        let ok = match (pss, hash) {
            (false, HashAlg::Sha256) => k.verify(pkcs1::<Sha256>(), &Sha256::digest(input), sig),
            (false, HashAlg::Sha384) => k.verify(pkcs1::<Sha384>(), &Sha384::digest(input), sig),
            (false, HashAlg::Sha512) => k.verify(pkcs1::<Sha512>(), &Sha512::digest(input), sig),
            (true, HashAlg::Sha256) => k.verify(Pss::<Sha256>::new(), &Sha256::digest(input), sig),
            (true, HashAlg::Sha384) => k.verify(Pss::<Sha384>::new(), &Sha384::digest(input), sig),
            (true, HashAlg::Sha512) => k.verify(Pss::<Sha512>::new(), &Sha512::digest(input), sig),
        };
        ok.is_ok()
    }

    /// Signs with the private key (blinded; PSS salts from the system RNG). `None` without a
    /// private key or if the RNG fails.
    pub(crate) fn sign(&self, pss: bool, hash: HashAlg, input: &[u8]) -> Option<Vec<u8>> {
        let k = self.private.as_ref()?;
        let sig = match (pss, hash) {
            (false, HashAlg::Sha256) => k.sign(pkcs1::<Sha256>(), &Sha256::digest(input)),
            (false, HashAlg::Sha384) => k.sign(pkcs1::<Sha384>(), &Sha384::digest(input)),
            (false, HashAlg::Sha512) => k.sign(pkcs1::<Sha512>(), &Sha512::digest(input)),
            (true, HashAlg::Sha256) => k.sign(Pss::<Sha256>::new(), &Sha256::digest(input)),
            (true, HashAlg::Sha384) => k.sign(Pss::<Sha384>::new(), &Sha384::digest(input)),
            (true, HashAlg::Sha512) => k.sign(Pss::<Sha512>::new(), &Sha512::digest(input)),
        };
        sig.ok()
    }
}

fn pkcs1<D: Digest + sha2::digest::const_oid::AssociatedOid>() -> Pkcs1v15Sign {
    Pkcs1v15Sign::new::<D>()
}
