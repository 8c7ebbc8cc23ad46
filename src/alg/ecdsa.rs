//! ES256: ECDSA on P-256 with SHA-256 (RFC 7518 §3.4), via RustCrypto `p256`.
//!
//! JWS signatures are the 64-byte IEEE P1363 form `r || s`, not DER: any other length fails.
//! Public keys are validated on load (on the curve, not the identity).

use p256::ecdsa::signature::{Signer, Verifier};
use p256::ecdsa::{Signature, SigningKey, VerifyingKey};

/// A P-256 public key, with its private half when the JWK carried `d`.
#[derive(Clone)]
pub(crate) struct P256Key {
    public: VerifyingKey,
    /// The public point, uncompressed SEC1 (`04 || x || y`), for the public JWK.
    sec1: [u8; 65],
    private: Option<SigningKey>,
}

impl P256Key {
    /// From the JWK `x`, `y` (32 bytes each) and optional `d` (32 bytes). `None` if the point is
    /// not on the curve, a length is wrong, or `d` does not belong to the point.
    pub(crate) fn new(x: &[u8], y: &[u8], d: Option<&[u8]>) -> Option<Self> {
        if x.len() != 32 || y.len() != 32 {
            return None;
        }
        let mut sec1 = [0u8; 65];
        sec1[0] = 0x04;
        sec1[1..33].copy_from_slice(x);
        sec1[33..].copy_from_slice(y);
        let public = VerifyingKey::from_sec1_bytes(&sec1).ok()?;
        let private = match d {
            None => None,
            Some(d) => {
                if d.len() != 32 {
                    return None;
                }
                let sk = SigningKey::from_slice(d).ok()?;
                if *sk.verifying_key() != public {
                    return None;
                }
                Some(sk)
            }
        };
        Some(P256Key {
            public,
            sec1,
            private,
        })
    }

    /// The public coordinates `x` and `y` (32 bytes each).
    pub(crate) fn public_xy(&self) -> (&[u8], &[u8]) {
        (&self.sec1[1..33], &self.sec1[33..])
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

    pub(crate) fn verify(&self, input: &[u8], sig: &[u8]) -> bool {
        if sig.len() != 64 {
            return false;
        }
        match Signature::from_slice(sig) {
            Ok(sig) => self.public.verify(input, &sig).is_ok(),
            Err(_) => false,
        }
    }

    pub(crate) fn sign(&self, input: &[u8]) -> Option<Vec<u8>> {
        let sig: Signature = self.private.as_ref()?.try_sign(input).ok()?;
        Some(sig.to_bytes().to_vec())
    }
}
