//! Built without the `ecdsa` feature: no P-256 key can exist ([`P256Key`] is uninhabited), and
//! `Key::from_jwk` refuses `kty: "EC"` with a `config` error naming the feature.
#![allow(dead_code)]

/// No value of this type exists in a build without the `ecdsa` feature.
#[derive(Clone)]
pub(crate) enum P256Key {}

impl P256Key {
    pub(crate) fn new(_x: &[u8], _y: &[u8], _d: Option<&[u8]>) -> Option<Self> {
        None
    }
    pub(crate) fn public_xy(&self) -> (&[u8], &[u8]) {
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
    pub(crate) fn sign(&self, _input: &[u8]) -> Option<Vec<u8>> {
        match *self {}
    }
}
