//! ES256, ES384, ES512: ECDSA on P-256 with SHA-256, P-384 with SHA-384 and P-521 with SHA-512
//! (RFC 7518 §3.4), via RustCrypto `p256`, `p384` and `p521`. Each curve is its own cargo feature
//! (`ecdsa`, `ecdsa-p384`, `ecdsa-p521`); a curve left out of the build has no [`EcKey`] variant,
//! and with none of them the type is uninhabited.
//!
//! JWS signatures are the IEEE P1363 form `r || s` (64, 96 or 132 bytes), not DER: any other
//! length fails. Public keys are validated on load (on the curve, not the identity), and a
//! private scalar must belong to its public point.

use super::EcCurve;

/// One curve's key type, from its RustCrypto crate (the same code for each: only the crate and
/// the coordinate length differ).
macro_rules! curve_key {
    ($feature:literal, $module:ident, $krate:ident, $len:literal) => {
        #[cfg(feature = $feature)]
        pub(crate) mod $module {
            use $krate::ecdsa::signature::{Signer, Verifier};
            use $krate::ecdsa::{Signature, SigningKey, VerifyingKey};

            /// The coordinate (and scalar) length in bytes.
            pub(crate) const LEN: usize = $len;

            /// A public key, with its private half when the JWK carried `d`.
            #[derive(Clone)]
            pub(crate) struct CurveKey {
                public: VerifyingKey,
                /// The public point, uncompressed SEC1 (`04 || x || y`), for the public JWK.
                sec1: Box<[u8]>,
                private: Option<SigningKey>,
            }

            impl CurveKey {
                pub(crate) fn new(x: &[u8], y: &[u8], d: Option<&[u8]>) -> Option<CurveKey> {
                    if x.len() != LEN || y.len() != LEN {
                        return None;
                    }
                    let mut sec1 = Vec::with_capacity(1 + 2 * LEN);
                    sec1.push(0x04);
                    sec1.extend_from_slice(x);
                    sec1.extend_from_slice(y);
                    let public = VerifyingKey::from_sec1_bytes(&sec1).ok()?;
                    let private = match d {
                        None => None,
                        Some(d) if d.len() == LEN => {
                            let sk = SigningKey::from_slice(d).ok()?;
                            if *sk.verifying_key() != public {
                                return None;
                            }
                            Some(sk)
                        }
                        Some(_) => return None,
                    };
                    Some(CurveKey {
                        public,
                        sec1: sec1.into_boxed_slice(),
                        private,
                    })
                }

                pub(crate) fn public_xy(&self) -> (&[u8], &[u8]) {
                    (&self.sec1[1..1 + LEN], &self.sec1[1 + LEN..])
                }

                pub(crate) fn into_public_half(self) -> CurveKey {
                    CurveKey {
                        private: None,
                        ..self
                    }
                }

                pub(crate) fn has_private(&self) -> bool {
                    self.private.is_some()
                }

                pub(crate) fn verify(&self, input: &[u8], sig: &[u8]) -> bool {
                    sig.len() == 2 * LEN
                        && Signature::from_slice(sig)
                            .is_ok_and(|sig| self.public.verify(input, &sig).is_ok())
                }

                pub(crate) fn sign(&self, input: &[u8]) -> Option<Vec<u8>> {
                    let sig: Signature = self.private.as_ref()?.try_sign(input).ok()?;
                    Some(sig.to_bytes().to_vec())
                }
            }
        }
    };
}

curve_key!("ecdsa", p256_key, p256, 32);
curve_key!("ecdsa-p384", p384_key, p384, 48);
curve_key!("ecdsa-p521", p521_key, p521, 66);

/// An EC public key on one of the curves in the build, with its private half when the JWK
/// carried `d`.
#[derive(Clone)]
pub(crate) enum EcKey {
    #[cfg(feature = "ecdsa")]
    P256(p256_key::CurveKey),
    #[cfg(feature = "ecdsa-p384")]
    P384(p384_key::CurveKey),
    #[cfg(feature = "ecdsa-p521")]
    P521(p521_key::CurveKey),
}

/// `$body` with `$k` bound to the variant's key, for each curve in the build.
macro_rules! each_curve {
    ($key:expr, $k:ident => $body:expr) => {
        match *$key {
            #[cfg(feature = "ecdsa")]
            EcKey::P256(ref $k) => $body,
            #[cfg(feature = "ecdsa-p384")]
            EcKey::P384(ref $k) => $body,
            #[cfg(feature = "ecdsa-p521")]
            EcKey::P521(ref $k) => $body,
        }
    };
}

// With no curve in the build the enum is uninhabited and every body below is unreachable.
#[allow(unreachable_code, unused_variables)]
impl EcKey {
    /// From the JWK `x`, `y` and optional `d` (each the curve's coordinate length). `None` if
    /// the curve is not in the build, the point is not on the curve, a length is wrong, or `d`
    /// does not belong to the point.
    pub(crate) fn new(curve: EcCurve, x: &[u8], y: &[u8], d: Option<&[u8]>) -> Option<Self> {
        match curve {
            #[cfg(feature = "ecdsa")]
            EcCurve::P256 => p256_key::CurveKey::new(x, y, d).map(EcKey::P256),
            #[cfg(feature = "ecdsa-p384")]
            EcCurve::P384 => p384_key::CurveKey::new(x, y, d).map(EcKey::P384),
            #[cfg(feature = "ecdsa-p521")]
            EcCurve::P521 => p521_key::CurveKey::new(x, y, d).map(EcKey::P521),
            #[allow(unreachable_patterns)]
            _ => None,
        }
    }

    /// The key's curve.
    pub(crate) fn curve(&self) -> EcCurve {
        match *self {
            #[cfg(feature = "ecdsa")]
            EcKey::P256(_) => EcCurve::P256,
            #[cfg(feature = "ecdsa-p384")]
            EcKey::P384(_) => EcCurve::P384,
            #[cfg(feature = "ecdsa-p521")]
            EcKey::P521(_) => EcCurve::P521,
        }
    }

    /// The public coordinates `x` and `y`.
    pub(crate) fn public_xy(&self) -> (&[u8], &[u8]) {
        each_curve!(self, k => k.public_xy())
    }

    /// The same key without its private half.
    pub(crate) fn into_public_half(self) -> Self {
        match self {
            #[cfg(feature = "ecdsa")]
            EcKey::P256(k) => EcKey::P256(k.into_public_half()),
            #[cfg(feature = "ecdsa-p384")]
            EcKey::P384(k) => EcKey::P384(k.into_public_half()),
            #[cfg(feature = "ecdsa-p521")]
            EcKey::P521(k) => EcKey::P521(k.into_public_half()),
        }
    }

    pub(crate) fn has_private(&self) -> bool {
        each_curve!(self, k => k.has_private())
    }

    /// Verifies a P1363 signature over `input` with the curve's hash.
    pub(crate) fn verify(&self, input: &[u8], sig: &[u8]) -> bool {
        each_curve!(self, k => k.verify(input, sig))
    }

    /// Signs `input` (deterministic nonces, RFC 6979), P1363 form.
    pub(crate) fn sign(&self, input: &[u8]) -> Option<Vec<u8>> {
        each_curve!(self, k => k.sign(input))
    }
}

#[cfg(all(
    test,
    any(feature = "ecdsa", feature = "ecdsa-p384", feature = "ecdsa-p521")
))]
mod tests {
    use super::*;

    #[test]
    fn coordinate_lengths_match_the_curve_table() {
        #[cfg(feature = "ecdsa")]
        assert_eq!(p256_key::LEN, EcCurve::P256.coordinate_len());
        #[cfg(feature = "ecdsa-p384")]
        assert_eq!(p384_key::LEN, EcCurve::P384.coordinate_len());
        #[cfg(feature = "ecdsa-p521")]
        assert_eq!(p521_key::LEN, EcCurve::P521.coordinate_len());
    }
}
