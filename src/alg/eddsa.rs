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
    /// used by Node's `node:crypto`) might skip: 64 bytes, `S < L` and `R` not a small-order
    /// point. Run before a signature goes to the host, so both paths give the same answers.
    pub(crate) fn strict_form(sig: &[u8]) -> bool {
        let Ok(sig) = <&[u8; 64]>::try_from(sig) else {
            return false;
        };
        let (r, s) = sig.split_at(32);
        // S < L, both little-endian.
        let mut s_lt_l = false;
        for i in (0..32).rev() {
            if s[i] != L[i] {
                s_lt_l = s[i] < L[i];
                break;
            }
        }
        // R's y coordinate (sign bit cleared) against the small-order points, as libsodium does.
        let mut y = [0u8; 32];
        y.copy_from_slice(r);
        y[31] &= 0x7f;
        s_lt_l && !SMALL_ORDER_Y.contains(&y)
    }

    pub(crate) fn sign(&self, input: &[u8]) -> Option<Vec<u8>> {
        Some(self.private.as_ref()?.sign(input).to_bytes().to_vec())
    }
}

/// The group order L = 2^252 + 27742317777372353535851937790883648493, little-endian.
const L: [u8; 32] = [
    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
];

/// The y coordinates (little-endian, sign bit cleared) of the points of order 1, 2, 4 and 8,
/// including the non-canonical encodings p and p + 1 (libsodium's list).
const SMALL_ORDER_Y: [[u8; 32]; 7] = [
    [0; 32],
    [
        1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0,
    ],
    [
        0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4, 0x89, 0xf2, 0xef, 0x98,
        0xf0, 0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6, 0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53,
        0xfc, 0x05,
    ],
    [
        0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b, 0x76, 0x0d, 0x10, 0x67,
        0x0f, 0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39, 0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac,
        0x03, 0x7a,
    ],
    small_order_p_plus(-1),
    small_order_p_plus(0),
    small_order_p_plus(1),
];

/// p + `delta` (p = 2^255 - 19), little-endian, for `delta` in -1..=1.
const fn small_order_p_plus(delta: i8) -> [u8; 32] {
    let mut y = [0xff; 32];
    y[0] = (0xed_i16 + delta as i16) as u8;
    y[31] = 0x7f;
    y
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strict_form_refuses_large_s_and_small_order_r() {
        let mut sig = [0u8; 64];
        sig[0] = 0x58; // R: the base point's y starts 0x58 0x66...: not small-order
        sig[1] = 0x66;
        assert!(Ed25519Key::strict_form(&sig));
        assert!(!Ed25519Key::strict_form(&sig[..63]));
        // S = L and S = L - 1.
        sig[32..].copy_from_slice(&L);
        assert!(!Ed25519Key::strict_form(&sig));
        sig[32] -= 1;
        assert!(Ed25519Key::strict_form(&sig));
        // R = identity (y = 1), with and without the sign bit; R = p - 1 (order 2).
        for y in [SMALL_ORDER_Y[1], SMALL_ORDER_Y[4]] {
            sig[..32].copy_from_slice(&y);
            assert!(!Ed25519Key::strict_form(&sig));
            sig[31] |= 0x80;
            assert!(!Ed25519Key::strict_form(&sig));
        }
        assert_eq!(SMALL_ORDER_Y[4][0], 0xec);
        assert_eq!(SMALL_ORDER_Y[6][0], 0xee);
    }
}
