//! Built without the `rsa` feature: no RSA key can exist ([`RsaKey`] is uninhabited), and
//! `Key::from_jwk` refuses `kty: "RSA"` with a `config` error naming the feature.
#![allow(dead_code)]

use super::HashAlg;

pub(crate) use super::{RsaKeyError, RsaPrivateParts, MIN_BITS};

/// No value of this type exists in a build without the `rsa` feature.
#[derive(Clone)]
pub(crate) enum RsaKey {}

impl RsaKey {
    pub(crate) fn new(
        _n: &[u8],
        _e: &[u8],
        _private: Option<RsaPrivateParts<'_>>,
    ) -> Result<Self, RsaKeyError> {
        Err(RsaKeyError::Invalid)
    }
    pub(crate) fn into_public_half(self) -> Self {
        match self {}
    }
    pub(crate) fn has_private(&self) -> bool {
        match *self {}
    }
    pub(crate) fn public_parts(&self) -> (&[u8], &[u8]) {
        match *self {}
    }
    pub(crate) fn size(&self) -> usize {
        match *self {}
    }
    pub(crate) fn verify(&self, _pss: bool, _hash: HashAlg, _input: &[u8], _sig: &[u8]) -> bool {
        match *self {}
    }
    pub(crate) fn sign(&self, _pss: bool, _hash: HashAlg, _input: &[u8]) -> Option<Vec<u8>> {
        match *self {}
    }
}
