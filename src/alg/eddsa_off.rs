//! Built without the `eddsa` feature: no Ed25519 key can exist ([`Ed25519Key`] is uninhabited),
//! and `Key::from_jwk` refuses `kty: "OKP"` with a `config` error naming the feature.
#![allow(dead_code)]

/// No value of this type exists in a build without the `eddsa` feature.
#[derive(Clone)]
pub(crate) enum Ed25519Key {}

impl Ed25519Key {
    pub(crate) fn new(_x: &[u8], _d: Option<&[u8]>) -> Option<Self> {
        None
    }
    pub(crate) fn public_x(&self) -> &[u8; 32] {
        match *self {}
    }
    pub(crate) fn into_public_half(self) -> Self {
        match self {}
    }
    pub(crate) fn has_private(&self) -> bool {
        match *self {}
    }
    pub(crate) fn verify(&self, _input: &[u8], _sig: &[u8]) -> bool {
        match *self {}
    }
    /// Never reached (there is no key to check a signature with).
    pub(crate) fn strict_form(_sig: &[u8]) -> bool {
        false
    }
    pub(crate) fn sign(&self, _input: &[u8]) -> Option<Vec<u8>> {
        match *self {}
    }
}
