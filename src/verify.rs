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
//! * **signature** → `signature` (the form here; the raw check is the caller's stage, see
//!   [`Prepared`]).
//! * **claims**: [`ClaimRules::check`](crate::ClaimRules::check).

use crate::alg::Algorithm;
use crate::claims::Presentation;
use crate::error::{Code, Error, Result};
use crate::jws::{split, typ_matches, Decoded, REFRESH_TYP};
use crate::policy::Policy;
use serde_json::{Map, Value};

/// Header members that are refused outright: extensions jwtgate does not implement (`crit`,
/// `b64`, `zip`) and members that would let a token choose its own verification key.
pub const FORBIDDEN_HEADER_MEMBERS: [&str; 7] = ["crit", "b64", "zip", "jwk", "jku", "x5u", "x5c"];

/// The stages of verification, in their order (see the module docs): where a refusal stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// `maxTokenBytes`.
    Size,
    /// Three segments, strict base64url, strict JSON objects.
    Structure,
    /// `alg` allowlisted.
    Algorithm,
    /// Forbidden members, `kid`'s type, the policy's `typ`.
    Header,
    /// The key by `kid` and its binding to `alg`.
    Key,
    /// The signature: its form, then its check.
    Signature,
    /// The claim rules.
    Claims,
}

impl Stage {
    /// Every stage, in order.
    pub const ALL: [Stage; 7] = [
        Stage::Size,
        Stage::Structure,
        Stage::Algorithm,
        Stage::Header,
        Stage::Key,
        Stage::Signature,
        Stage::Claims,
    ];

    /// Its name in reports (`"size"`, `"structure"`, …).
    pub const fn name(self) -> &'static str {
        match self {
            Stage::Size => "size",
            Stage::Structure => "structure",
            Stage::Algorithm => "algorithm",
            Stage::Header => "header",
            Stage::Key => "key",
            Stage::Signature => "signature",
            Stage::Claims => "claims",
        }
    }
}

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

/// A token that passed every stage before the raw signature check, from [`Verifier::prepare`]:
/// size, structure, header, key selection, the key's binding to `alg` and the signature's form
/// (its length; for Ed25519 a canonical `S` and no small-order `R`). The claim rules have run
/// too, and their outcome is held back: [`finish`](Prepared::finish) reports it only once the
/// signature is known to be valid, so a claim failure never shows for a forgery.
///
/// Callers compose the stages: [`Verifier::verify`] is `prepare`, jwtgate's own signature check
/// ([`check_here`](Prepared::check_here)), `finish`; the npm package and the edge gate hand the
/// raw check to the platform's crypto (node:crypto, WebCrypto) instead, falling back to
/// `check_here` where the platform cannot take the key.
#[derive(Debug)]
pub struct Prepared<'t> {
    key_index: usize,
    alg: Algorithm,
    signing_input: &'t [u8],
    signature: Vec<u8>,
    symmetric: bool,
    /// What verification gives if the signature is valid: the token, or the first claim failure.
    outcome: Result<Verified>,
}

impl<'t> Prepared<'t> {
    /// The selected key's index in the policy's key set.
    pub fn key_index(&self) -> usize {
        self.key_index
    }

    /// The token's (allowlisted) algorithm, the one the selected key is bound to.
    pub fn alg(&self) -> Algorithm {
        self.alg
    }

    /// The exact bytes that were signed (`header.payload`).
    pub fn signing_input(&self) -> &'t [u8] {
        self.signing_input
    }

    /// The decoded signature (its form already checked).
    pub fn signature(&self) -> &[u8] {
        &self.signature
    }

    /// Whether the selected key is an HMAC secret (no platform crypto is asked for those).
    pub fn is_symmetric(&self) -> bool {
        self.symmetric
    }

    /// The final answer, given whether the signature verified: `signature` if it did not,
    /// otherwise the outcome of the claim rules.
    pub fn finish(self, signature_valid: bool) -> Result<Verified> {
        if signature_valid {
            self.outcome
        } else {
            Err(crate::jwk::bad_signature())
        }
    }

    /// The signature check by jwtgate's own code (RustCrypto) with `verifier`'s key: the
    /// binding and form again (cheap; so a `verifier` other than the one that prepared cannot
    /// skip them), then the arithmetic.
    pub fn check_here(&self, verifier: &Verifier) -> bool {
        verifier
            .policy
            .keys
            .keys()
            .get(self.key_index)
            .is_some_and(|k| {
                k.verify_signature(self.alg, self.signing_input, &self.signature)
                    .is_ok()
            })
    }

    /// [`check_here`](Prepared::check_here), then [`finish`](Prepared::finish).
    pub fn finish_here(self, verifier: &Verifier) -> Result<Verified> {
        let valid = self.check_here(verifier);
        self.finish(valid)
    }
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

    /// A verifier for the tokens a [`Signer`](crate::Signer) of `policy` makes: the same policy
    /// over the public halves of its keys ([`KeySet::into_public_halves`]: a key that may sign
    /// verifies instead, whatever its `key_ops`; an HMAC secret stays), so that an issuer never
    /// writes a second, private-key-free copy of its policy by hand, and the verifier holds no
    /// private key.
    ///
    /// [`KeySet::into_public_halves`]: crate::KeySet::into_public_halves
    pub fn for_signer(mut policy: Policy) -> Result<Verifier> {
        policy.keys = policy.keys.into_public_halves();
        Verifier::new(policy)
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

    /// Verifies a compact JWS at `now` (seconds since the epoch; see [`crate::unix_now`]):
    /// [`prepare`](Verifier::prepare), jwtgate's own signature check, then
    /// [`finish`](Prepared::finish).
    pub fn verify(&self, token: &str, now: i64) -> Result<Verified> {
        self.prepare(token, now)?.finish_here(self)
    }

    /// Every stage of [`verify`](Verifier::verify) but the raw signature check, in the usual
    /// order (see [`Prepared`]). An error here is final (it comes before the signature); an
    /// `Ok` must be [`finish`](Prepared::finish)ed with the signature's validity before
    /// anything in it is used.
    pub fn prepare<'t>(&self, token: &'t str, now: i64) -> Result<Prepared<'t>> {
        self.prepare_as(token, now, Presentation::Bearer)
    }

    /// [`prepare`](Verifier::prepare) for a token presented as `presentation` (the claim rules'
    /// `cnf` rule, see [`Presentation`]). With [`Presentation::Proven`] the caller must check
    /// the DPoP proof and its binding ([`crate::dpop`]) before it uses the token.
    pub fn prepare_as<'t>(
        &self,
        token: &'t str,
        now: i64,
        presentation: Presentation,
    ) -> Result<Prepared<'t>> {
        self.prepare_staged(token, now, presentation)
            .map_err(|(_, e)| e)
    }

    /// [`prepare_as`](Verifier::prepare_as), with the [`Stage`] an error stopped at.
    pub(crate) fn prepare_staged<'t>(
        &self,
        token: &'t str,
        now: i64,
        presentation: Presentation,
    ) -> std::result::Result<Prepared<'t>, (Stage, Error)> {
        let policy = &self.policy;
        let bytes = token.as_bytes();
        if bytes.len() > policy.max_token_bytes {
            return Err((
                Stage::Size,
                Error::new(
                    Code::TooLarge,
                    "token is longer than the policy's maxTokenBytes",
                ),
            ));
        }

        // Structure.
        let parts = split(token).map_err(|e| (Stage::Structure, e))?;
        let Decoded {
            header,
            claims,
            signature,
            payload_bytes,
            signing_input_len,
        } = parts;

        // Header.
        let alg = match header.get("alg") {
            Some(Value::String(name)) => Algorithm::from_name(name)
                .filter(|a| policy.algorithms.contains(a))
                .ok_or_else(|| {
                    (
                        Stage::Algorithm,
                        Error::new(Code::Algorithm, "alg is not an allowed algorithm"),
                    )
                })?,
            _ => {
                return Err((
                    Stage::Algorithm,
                    Error::new(Code::Algorithm, "alg is missing or not a string"),
                ))
            }
        };
        let header_error = |e| (Stage::Header, e);
        if FORBIDDEN_HEADER_MEMBERS
            .iter()
            .any(|m| header.contains_key(*m))
        {
            return Err(header_error(Error::new(
                Code::Header,
                "header carries a forbidden member (crit, b64, zip, jwk, jku, x5u or x5c)",
            )));
        }
        let kid = match header.get("kid") {
            None => None,
            Some(Value::String(k)) => Some(k.as_str()),
            Some(_) => {
                return Err(header_error(Error::new(
                    Code::Header,
                    "kid must be a string",
                )))
            }
        };
        let typ = header.get("typ").and_then(Value::as_str);
        if let Some(expected) = &policy.typ {
            if !typ.is_some_and(|t| typ_matches(expected, t)) {
                return Err(header_error(Error::new(
                    Code::Type,
                    "header typ does not match the policy",
                )));
            }
        } else if typ.is_some_and(|t| typ_matches(REFRESH_TYP, t)) {
            // A refresh token is only ever a refresh token, whatever the audiences say.
            return Err(header_error(Error::new(
                Code::Type,
                "a refresh token (typ jwtgate-refresh+jwt) is not an access token",
            )));
        }

        // Key, its binding to alg, and the signature's form; the signature itself is the
        // caller's next stage, over the exact bytes received.
        let key_index = policy
            .keys
            .select_index(kid, alg)
            .map_err(|e| (Stage::Key, e))?;
        let key = &policy.keys.keys()[key_index];
        key.check_binding_and_form(alg, &signature)
            .map_err(|e| match e.code() {
                Code::Signature => (Stage::Signature, e),
                _ => (Stage::Key, e),
            })?;
        let signing_input = &bytes[..signing_input_len];

        // Claims, held back until the signature is known.
        let outcome = policy
            .rules
            .check_as(&claims, now, presentation)
            .and_then(|()| {
                Ok(Verified {
                    header: Header {
                        alg,
                        kid: kid.map(str::to_owned),
                        typ: typ.map(str::to_owned),
                    },
                    claims,
                    // Valid UTF-8: the strict JSON parser accepted it.
                    payload_json: String::from_utf8(payload_bytes)
                        .map_err(|_| malformed("payload"))?,
                })
            });
        Ok(Prepared {
            key_index,
            alg,
            signing_input,
            signature,
            symmetric: key.is_symmetric(),
            outcome,
        })
    }

    /// Applies the claim rules alone, without a signature: for callers that encode and decode
    /// tokens themselves (e.g. Auth.js callbacks).
    pub fn check_claims(&self, claims: &Map<String, Value>, now: i64) -> Result<()> {
        self.policy.rules.check(claims, now)
    }

    /// Whether verified `claims` are for `tenant`, the tenant the request is for: the claim the
    /// policy's `tenantClaim` names must equal it exactly (a string, or an integer as its
    /// decimal text). `tenant` when it names another; `missing_claim` / `malformed` for an absent
    /// or unusable tenant claim; `config` when the policy has no `tenantClaim`.
    pub fn check_tenant(&self, claims: &Map<String, Value>, tenant: &str) -> Result<()> {
        self.policy.rules.check_tenant(claims, tenant)
    }
}
