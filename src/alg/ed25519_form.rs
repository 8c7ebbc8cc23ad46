//! The form of Ed25519 signatures and public keys that jwtgate requires whoever does the
//! arithmetic (`ed25519-dalek`'s `verify_strict`, or a host's OpenSSL): a signature is 64 bytes
//! with `S < L` and an `R` that is not a small-order point; a public key is not a small-order
//! point. Plain byte comparisons, no curve arithmetic: the one table for both builds.
#![cfg_attr(not(any(feature = "eddsa", feature = "host-keys")), allow(dead_code))]

/// Whether `sig` has the strict form: 64 bytes, `S < L` and `R` not a small-order point. Run
/// before a signature goes to a host, so every path gives the same answers.
pub(crate) fn strict_signature(sig: &[u8]) -> bool {
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
    s_lt_l && !small_order(r)
}

/// Whether the 32-byte encoding `point` is one of a small-order point (orders 1, 2, 4 and 8),
/// canonical or not, with either sign bit, as libsodium lists them: such a public key is weak
/// (`ed25519-dalek`'s `is_weak`) and such an `R` is refused.
pub(crate) fn small_order(point: &[u8]) -> bool {
    let Ok(point) = <&[u8; 32]>::try_from(point) else {
        return false;
    };
    // The y coordinate with the sign bit cleared.
    let mut y = *point;
    y[31] &= 0x7f;
    SMALL_ORDER_Y.contains(&y)
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
        assert!(strict_signature(&sig));
        assert!(!strict_signature(&sig[..63]));
        // S = L and S = L - 1.
        sig[32..].copy_from_slice(&L);
        assert!(!strict_signature(&sig));
        sig[32] -= 1;
        assert!(strict_signature(&sig));
        // R = identity (y = 1), with and without the sign bit; R = p - 1 (order 2).
        for y in [SMALL_ORDER_Y[1], SMALL_ORDER_Y[4]] {
            sig[..32].copy_from_slice(&y);
            assert!(!strict_signature(&sig));
            sig[31] |= 0x80;
            assert!(!strict_signature(&sig));
        }
        assert_eq!(SMALL_ORDER_Y[4][0], 0xec);
        assert_eq!(SMALL_ORDER_Y[6][0], 0xee);
    }

    /// The table agrees with `ed25519-dalek`: every listed encoding that decodes at all is a
    /// weak key there, and an ordinary public key is not listed.
    #[cfg(feature = "eddsa")]
    #[test]
    fn small_order_matches_dalek_is_weak() {
        use ed25519_dalek::{SigningKey, VerifyingKey};
        for y in SMALL_ORDER_Y {
            for sign in [0, 0x80] {
                let mut bytes = y;
                bytes[31] |= sign;
                assert!(small_order(&bytes));
                if let Ok(k) = VerifyingKey::from_bytes(&bytes) {
                    assert!(k.is_weak(), "{bytes:02x?}");
                }
            }
        }
        let key = SigningKey::from_bytes(&[7; 32]).verifying_key();
        assert!(!key.is_weak() && !small_order(key.as_bytes()));
        assert!(!small_order(&[1; 31]));
    }
}
