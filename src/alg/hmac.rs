//! HS256 / HS384 / HS512 (RFC 7518 §3.2).
//!
//! The keyed HMAC state is prepared once per key and hash when the key is loaded, so a
//! verification clones it instead of re-hashing the secret. Comparison is constant-time
//! (`Mac::verify_slice`).

use super::HashAlg;
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Sha256, Sha384, Sha512};

/// A shared secret with its prepared HMAC states (one per hash the secret is long enough for).
#[derive(Clone)]
pub(crate) struct HmacKey {
    sha256: Option<Hmac<Sha256>>,
    sha384: Option<Hmac<Sha384>>,
    sha512: Option<Hmac<Sha512>>,
}

impl HmacKey {
    /// Prepares the secret. A hash is enabled only when the secret is at least as long as its
    /// output (RFC 7518 §3.2): shorter secrets cannot be used with it at all.
    pub(crate) fn new(secret: &[u8]) -> Self {
        fn prep<M: KeyInit>(secret: &[u8], min: usize) -> Option<M> {
            if secret.len() >= min {
                M::new_from_slice(secret).ok()
            } else {
                None
            }
        }
        HmacKey {
            sha256: prep(secret, HashAlg::Sha256.output_len()),
            sha384: prep(secret, HashAlg::Sha384.output_len()),
            sha512: prep(secret, HashAlg::Sha512.output_len()),
        }
    }

    /// Whether this secret may be used with `hash`.
    pub(crate) fn supports(&self, hash: HashAlg) -> bool {
        match hash {
            HashAlg::Sha256 => self.sha256.is_some(),
            HashAlg::Sha384 => self.sha384.is_some(),
            HashAlg::Sha512 => self.sha512.is_some(),
        }
    }

    /// Constant-time check of `tag` over `input`.
    pub(crate) fn verify(&self, hash: HashAlg, input: &[u8], tag: &[u8]) -> bool {
        fn check<M: Mac + Clone>(m: &Option<M>, input: &[u8], tag: &[u8]) -> bool {
            match m {
                Some(m) => {
                    let mut m = m.clone();
                    m.update(input);
                    m.verify_slice(tag).is_ok()
                }
                None => false,
            }
        }
        match hash {
            HashAlg::Sha256 => check(&self.sha256, input, tag),
            HashAlg::Sha384 => check(&self.sha384, input, tag),
            HashAlg::Sha512 => check(&self.sha512, input, tag),
        }
    }

    /// The tag over `input`, or `None` if the secret is too short for `hash`.
    pub(crate) fn sign(&self, hash: HashAlg, input: &[u8]) -> Option<Vec<u8>> {
        fn tag<M: Mac + Clone>(m: &Option<M>, input: &[u8]) -> Option<Vec<u8>> {
            let mut m = m.clone()?;
            m.update(input);
            Some(m.finalize().into_bytes().to_vec())
        }
        match hash {
            HashAlg::Sha256 => tag(&self.sha256, input),
            HashAlg::Sha384 => tag(&self.sha384, input),
            HashAlg::Sha512 => tag(&self.sha512, input),
        }
    }
}
