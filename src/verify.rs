//! The verifier: the whole pipeline a token goes through, in this order, stopping at the first
//! failure: size → structure → header → key → signature → claims.
//!
//! * **size**: longer than `maxTokenBytes` → `too_large` (before any decoding work).
//! * **structure**: exactly three strict-base64url segments; header and payload are strict UTF-8
//!   JSON objects without duplicate members → otherwise `malformed`.
//! * **header**: `alg` byte-identical to an allowlisted name → otherwise `algorithm` (this is where
//!   `none`, `None`, a missing or non-string `alg` stop). `crit`, `b64`, `zip` and the key-carrying
//!   `jwk`, `jku`, `x5u`, `x5c` → `header`: keys are never taken from the token, and no extension
//!   is understood. A non-string `kid` → `header`. With a policy `typ`, the header `typ` must match
//!   → otherwise `type`.
//! * **key**: by exact `kid`; without `kid`, the key set's only verifying key → otherwise
//!   `key_not_found`; a key not bound to `alg` → `algorithm`.
//! * **signature** → `signature`.
//! * **claims**: [`ClaimRules::check`](crate::ClaimRules::check).

use crate::alg::Algorithm;
use crate::error::{Code, Error, Result};
use crate::policy::{typ_matches, Policy};
use crate::{b64, json};
use serde_json::{Map, Value};

/// Header members that are refused outright: extensions jwtgate does not implement (`crit`,
/// `b64`, `zip`) and members that would let a token choose its own verification key.
pub const FORBIDDEN_HEADER_MEMBERS: [&str; 7] = ["crit", "b64", "zip", "jwk", "jku", "x5u", "x5c"];

/// The protected header of a verified token.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Header {
    /// The (allowlisted) algorithm.
    pub alg: Algorithm,
    /// The key id, if the header had one.
    pub kid: Option<String>,
    /// The header `typ`, if present and a string.
    pub typ: Option<String>,
}

/// A token that passed every check.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Verified {
    /// The protected header.
    pub header: Header,
    /// The payload (claims set).
    pub claims: Map<String, Value>,
    /// The payload exactly as signed (UTF-8 JSON text).
    pub payload_json: String,
}

/// An asymmetric signature check that [`Verifier::verify_deferred`] left to the caller (e.g. to
/// WebCrypto), with the answer the rest of the pipeline gave. The key, its binding to `alg` and
/// the signature's form have already been checked.
#[derive(Debug)]
pub struct PendingSignature {
    /// The selected key's index in the policy's key set.
    pub key_index: usize,
    /// The token's (allowlisted) algorithm.
    pub alg: Algorithm,
    /// The exact bytes that were signed (`header.payload`).
    pub signing_input: Vec<u8>,
    /// The decoded signature.
    pub signature: Vec<u8>,
    /// What verification gives if the signature is valid: the token, or the first claim failure.
    pub(crate) outcome: Result<Verified>,
}

impl PendingSignature {
    /// The final answer, given whether the signature verified: `signature` if it did not,
    /// otherwise the outcome of the claim rules (so a claim failure never shows for a forgery).
    pub fn finish(self, valid: bool) -> Result<Verified> {
        if valid {
            self.outcome
        } else {
            Err(crate::jwk::bad_signature())
        }
    }

    /// Checks the signature with jwtgate's own code (where the caller's crypto cannot take the
    /// key), then [`finish`](PendingSignature::finish)es.
    pub fn finish_here(self, verifier: &Verifier) -> Result<Verified> {
        let valid = verifier
            .policy
            .keys
            .keys()
            .get(self.key_index)
            .is_some_and(|k| {
                k.verify_signature(self.alg, &self.signing_input, &self.signature)
                    .is_ok()
            });
        self.finish(valid)
    }
}

/// The answer of [`Verifier::verify_deferred`].
#[derive(Debug)]
pub enum Deferred {
    /// Final: nothing was left to the caller (an HMAC key, or a failure before the signature).
    Done(Result<Verified>),
    /// The caller must check this signature before using anything.
    Pending(PendingSignature),
}

/// Verifies tokens against one [`Policy`]. Keys are parsed once, when the policy is built.
#[derive(Debug, Clone)]
pub struct Verifier {
    policy: Policy,
}

fn malformed(what: &'static str) -> Error {
    Error::new(Code::Malformed, what)
}

impl Verifier {
    /// A verifier for `policy`. `config` error if the policy has no key that may verify.
    pub fn new(policy: Policy) -> Result<Verifier> {
        if policy.keys.verifying_count() == 0 {
            return Err(Error::config(
                "keys",
                "no usable key in the set may verify (check alg, use and key_ops; see the key report)",
            ));
        }
        Ok(Verifier { policy })
    }

    /// What the verifier made of its key set, in JWKS order: each usable key's `kid` and bound
    /// algorithm, and why each inert key is inert. Never key material: safe to log.
    pub fn keys(&self) -> &[crate::KeyInfo] {
        self.policy.keys.report()
    }

    /// Shorthand for `Verifier::new(Policy::from_json(text)?)`.
    pub fn from_json(policy: &str) -> Result<Verifier> {
        Verifier::new(Policy::from_json(policy)?)
    }

    /// The policy.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// Verifies a compact JWS at `now` (seconds since the epoch; see [`crate::unix_now`]).
    pub fn verify(&self, token: &str, now: i64) -> Result<Verified> {
        self.verify_via(token, now, |_, _, _, _| None)
    }

    /// [`verify`](Verifier::verify), except that the raw check of an RSA, ECDSA or Ed25519
    /// signature is handed back to the caller (for an asynchronous crypto API such as
    /// WebCrypto); HMAC is checked here. Every other step runs here, in the usual order.
    pub fn verify_deferred(&self, token: &str, now: i64) -> Deferred {
        let keys = self.policy.keys.keys();
        let mut pending = None;
        let outcome = self.verify_via(token, now, |index, alg, input, sig| {
            if keys.get(index)?.is_symmetric() {
                return None;
            }
            pending = Some((index, alg, input.to_vec(), sig.to_vec()));
            Some(true) // provisionally: `PendingSignature::finish` decides
        });
        match pending {
            None => Deferred::Done(outcome),
            Some((key_index, alg, signing_input, signature)) => {
                Deferred::Pending(PendingSignature {
                    key_index,
                    alg,
                    signing_input,
                    signature,
                    outcome,
                })
            }
        }
    }

    /// [`verify`](Verifier::verify) with the raw signature check offered first to `native`
    /// (see [`Key::verify_signature_via`](crate::Key::verify_signature_via)), called with the
    /// selected key's index in the policy's key set. Everything else (parsing, header rules, key
    /// selection, algorithm binding, claims) runs here either way.
    pub fn verify_via(
        &self,
        token: &str,
        now: i64,
        native: impl FnOnce(usize, Algorithm, &[u8], &[u8]) -> Option<bool>,
    ) -> Result<Verified> {
        let policy = &self.policy;
        let bytes = token.as_bytes();
        if bytes.len() > policy.max_token_bytes {
            return Err(Error::new(
                Code::TooLarge,
                "token is longer than the policy's maxTokenBytes",
            ));
        }

        // Structure.
        let mut parts = bytes.splitn(4, |&b| b == b'.');
        let (Some(h64), Some(p64), Some(s64), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(malformed("a compact JWS has exactly three segments"));
        };
        let header_bytes = b64::decode(h64).map_err(|_| malformed("header is not base64url"))?;
        let header = json::parse_object(&header_bytes)
            .map_err(|_| malformed("header is not a strict JSON object"))?;
        let payload_bytes = b64::decode(p64).map_err(|_| malformed("payload is not base64url"))?;
        let claims = json::parse_object(&payload_bytes)
            .map_err(|_| malformed("payload is not a strict JSON object"))?;
        let signature = b64::decode(s64).map_err(|_| malformed("signature is not base64url"))?;

        // Header.
        let alg = match header.get("alg") {
            Some(Value::String(name)) => Algorithm::from_name(name)
                .filter(|a| policy.algorithms.contains(a))
                .ok_or_else(|| Error::new(Code::Algorithm, "alg is not an allowed algorithm"))?,
            _ => {
                return Err(Error::new(
                    Code::Algorithm,
                    "alg is missing or not a string",
                ))
            }
        };
        if FORBIDDEN_HEADER_MEMBERS
            .iter()
            .any(|m| header.contains_key(*m))
        {
            return Err(Error::new(
                Code::Header,
                "header carries a forbidden member (crit, b64, zip, jwk, jku, x5u or x5c)",
            ));
        }
        let kid = match header.get("kid") {
            None => None,
            Some(Value::String(k)) => Some(k.as_str()),
            Some(_) => return Err(Error::new(Code::Header, "kid must be a string")),
        };
        let typ = header.get("typ").and_then(Value::as_str);
        if let Some(expected) = &policy.typ {
            if !typ.is_some_and(|t| typ_matches(expected, t)) {
                return Err(Error::new(
                    Code::Type,
                    "header typ does not match the policy",
                ));
            }
        }

        // Key, then signature over the exact bytes received.
        let index = policy.keys.select_index(kid, alg)?;
        let signing_input = &bytes[..h64.len() + 1 + p64.len()];
        policy.keys.keys()[index].verify_signature_via(
            alg,
            signing_input,
            &signature,
            |a, i, s| native(index, a, i, s),
        )?;

        // Claims.
        policy.rules.check(&claims, now)?;

        Ok(Verified {
            header: Header {
                alg,
                kid: kid.map(str::to_owned),
                typ: typ.map(str::to_owned),
            },
            claims,
            // Valid UTF-8: the strict JSON parser accepted it.
            payload_json: String::from_utf8(payload_bytes).map_err(|_| malformed("payload"))?,
        })
    }

    /// Applies the claim rules alone, without a signature: for callers that encode and decode
    /// tokens themselves (e.g. Auth.js callbacks).
    pub fn check_claims(&self, claims: &Map<String, Value>, now: i64) -> Result<()> {
        self.policy.rules.check(claims, now)
    }
}

/// The `kid` (header) and `iss` (payload) of a token **without verifying anything**, each cut
/// to 128 characters: for rejection logs only, never for a decision. `None` where a part does
/// not decode.
pub fn peek_unverified(token: &str) -> (Option<String>, Option<String>) {
    fn member(segment: Option<&str>, name: &str) -> Option<String> {
        let bytes = b64::decode(segment?.as_bytes()).ok()?;
        let obj = json::parse_object(&bytes).ok()?;
        let s = obj.get(name)?.as_str()?;
        Some(s.chars().take(128).collect())
    }
    let mut parts = token.split('.');
    let header = parts.next();
    let payload = parts.next();
    (member(header, "kid"), member(payload, "iss"))
}
