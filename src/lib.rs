//! # jwtgate
//!
//! One fail-closed JWT context policy, shared by the issuer and every verifier.
//!
//! A valid signature proves who signed a token, not that it is meant for *this* service, *now*,
//! for *this* purpose. jwtgate asks all of it, every time: the signature with a pinned algorithm
//! and the right key by `kid`, then `iss`, `aud`, `exp`/`nbf`/`iat`, an absolute maximum age and
//! the header `typ`. There is no switch to skip the audience or issuer check, and a missing or
//! empty issuer, audience, algorithm list or key set is a configuration error when the policy is
//! built, never a pass.
//!
//! The pipeline, one module per step: [`b64`](crate) strict base64url → strict JSON → header
//! rules → key selection ([`KeySet`]) → signature ([`Key::verify_signature`]) → claim rules
//! ([`ClaimRules`]). The npm package (feature `js`) is a thin wasm-bindgen layer over
//! [`Verifier`] and [`Signer`].
//!
//! ```
//! use jwtgate::{Policy, Signer, SignerOptions, Verifier, Code};
//! use serde_json::json;
//!
//! let policy = json!({
//!     "issuer": "https://pay.example.com",
//!     "audience": "pay-api",
//!     "algorithms": ["HS256"],
//!     "keys": { "keys": [ { "kty": "oct", "kid": "k1",
//!                            "k": "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA" } ] },
//!     "requiredClaims": ["sub"]
//! });
//! let policy = Policy::from_value(&policy)?;
//! let signer = Signer::new(policy.clone(), SignerOptions::default())?;
//! let verifier = Verifier::new(policy)?;
//!
//! let now = 1_800_000_000;
//! let claims = json!({ "sub": "user_1" }).as_object().cloned().unwrap();
//! let token = signer.sign(claims, now)?;
//!
//! let ok = verifier.verify(&token, now + 60)?;
//! assert_eq!(ok.claims["sub"], "user_1");
//! assert_eq!(ok.claims["aud"], "pay-api");
//!
//! // 900 s later (the default lifetime) plus the 30 s leeway, it is expired.
//! let err = verifier.verify(&token, now + 930).unwrap_err();
//! assert_eq!(err.code(), Code::Expired);
//! assert_eq!(err.claim_name(), Some("exp"));
//! # Ok::<(), jwtgate::Error>(())
//! ```

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod alg;
mod b64;
pub mod claims;
mod cookie;
pub mod dpop;
pub mod error;
pub mod explain;
mod json;
#[cfg(feature = "jwe-reader")]
pub mod jwe;
#[cfg(all(
    feature = "jwe-reader",
    not(any(feature = "jwe", feature = "host-keys"))
))]
compile_error!("`jwe-reader` needs an AES-256: `jwe` (RustCrypto) or `host-keys` (the host's)");
pub mod jwk;
pub mod jws;
pub mod platform;
pub mod policy;
pub mod refresh;
pub mod revocation;
pub mod sessions;
pub mod sign;
mod time;
mod uri;
pub mod verify;

// The edge gate's decisions (settings, routing, cookies, answers) live in plain Rust so they are
// tested natively, but they are the Worker's, not the library's: hidden from the docs and outside
// the crate's semver (docs/rust.md), so a gate setting can change without a major release.
#[doc(hidden)]
pub mod gate;

#[cfg(feature = "js")]
pub mod js;

#[cfg(any(feature = "js", feature = "host-keys"))]
mod host_crypto;

#[cfg(all(feature = "worker", target_arch = "wasm32"))]
mod worker;

pub use alg::{AlgSet, Algorithm};
pub use claims::{ClaimRules, Presentation, Rule, TimeWindow};
pub use error::{Code, Error, Result};
pub use jwk::{Inert, Key, KeyInfo, KeySet};
pub use policy::Policy;
pub use revocation::{check_revocation, revocation_keys, EntryKind, Lookup, RevocationVerdict};
pub use sign::{Signer, SignerOptions};
pub use time::unix_now;
pub use verify::{Header, Prepared, Stage, Verified, Verifier};
