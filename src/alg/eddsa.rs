//! EdDSA with Ed25519 (RFC 8037), via `ed25519-dalek`.
//!
//! Verification is `verify_strict`: it rejects non-canonical `S`, and small-order `R` and `A`,
//! so a signature has one accepted form and weak public keys verify nothing.

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};

/// An Ed25519 public key, with its private half when the JWK carried `d`.
#[derive(Clone)]
pub(crate) struct Ed25519Key {
    public: VerifyingKey,
    private: Option<SigningKey>,
}

impl Ed25519Key {
    /// From the JWK `x` (32 bytes) and optional `d` (32 bytes). `None` if either is invalid or
    /// `d` does not belong to `x`.
    pub(crate) fn new(x: &[u8], d: Option<&[u8]>) -> Option<Self> {
        let public = VerifyingKey::from_bytes(x.try_into().ok()?).ok()?;
        if public.is_weak() {
            return None;
        }
        let private = match d {
            None => None,
            Some(d) => {
                let sk = SigningKey::from_bytes(d.try_into().ok()?);
                if sk.verifying_key() != public {
                    return None;
                }
                Some(sk)
            }
        };
        Some(Ed25519Key { public, private })
    }

    /// The public key `x` (32 bytes).
    pub(crate) fn public_x(&self) -> &[u8; 32] {
        self.public.as_bytes()
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
        let Ok(bytes) = <&[u8; 64]>::try_from(sig) else {
            return false;
        };
        let sig = Signature::from_bytes(bytes);
        self.public.verify_strict(input, &sig).is_ok()
    }

    /// The checks `verify_strict` makes on a signature's form that another Ed25519 (OpenSSL,
    /// used by Node's `node:crypto`) might skip ([`super::ed25519_form::strict_signature`]).
    pub(crate) fn strict_form(sig: &[u8]) -> bool {
        super::ed25519_form::strict_signature(sig)
    }

    pub(crate) fn sign(&self, input: &[u8]) -> Option<Vec<u8>> {
        Some(self.private.as_ref()?.sign(input).to_bytes().to_vec())
    }
}
