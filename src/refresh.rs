//! Refresh-token rotation with reuse detection: the pure part (token format, the family state
//! machine, an in-memory store); the edge gate runs it on a Durable Object per family.
//!
//! A session is a **family** of refresh tokens, named by the session id `sid` the signer stamps
//! at sign-in. Each refresh token carries its generation `gen`; the family's store keeps the
//! current generation. Presenting the current one **rotates**: a new refresh token of the next
//! generation and a new access token are issued, and the store moves on. Presenting an older one
//! means two parties hold the family's tokens (a thief and its owner): the family is **revoked**
//! at once, so every later refresh fails, and every access token of that `sid` is refused by the
//! gate on its next request. Two concurrent refreshes of one token are the same case: one wins,
//! the other is a reuse (the store serialises them).
//!
//! Lifetimes: a refresh token lives `refresh.ttlSeconds` (the idle bound: unused that long, the
//! session ends) and never past `auth_time + maxAgeSeconds` (the absolute bound, which a policy
//! with `refresh` must set); both are the signer's and the verifier's ordinary `exp` and max-age
//! rules, applied to refresh tokens by [`refresh_policy`].
//!
//! Refresh tokens are kept apart from access tokens twice over: their audience is the policy's
//! `refresh.audience` (never one of the access audiences, so an access verifier refuses them as
//! `audience`), and their header `typ` is [`REFRESH_TYP`] (so a refresh verifier refuses an
//! access token as `type`).

use crate::claims::ClaimRules;
use crate::error::{Code, Error, Result};
use crate::policy::Policy;
use crate::sign::{Signer, SignerOptions};
use crate::verify::{Verified, Verifier};
use serde_json::{Map, Value};
use std::collections::HashMap;

pub use crate::jws::REFRESH_TYP;
pub use crate::policy::refresh::{
    RefreshRules, DEFAULT_ACCESS_TTL_SECONDS, DEFAULT_REFRESH_TTL_SECONDS,
};

/// The policy refresh tokens are signed and verified under: `policy` with the refresh
/// audience, the header `typ` [`REFRESH_TYP`], and `sid`, `gen` and `auth_time` required.
/// `config` if `policy` has no `refresh` member.
pub fn refresh_policy(policy: &Policy) -> Result<Policy> {
    let rules = policy
        .refresh
        .as_ref()
        .ok_or_else(|| Error::config("refresh", "the policy has no refresh member"))?;
    let mut required = policy.rules.required.clone();
    for claim in ["sid", "gen", "auth_time"] {
        if !required.iter().any(|r| r == claim) {
            required.push(claim.to_owned());
        }
    }
    Ok(Policy {
        rules: ClaimRules {
            audiences: vec![rules.audience().to_owned()],
            required,
            ..policy.rules.clone()
        },
        typ: Some(REFRESH_TYP.to_owned()),
        refresh: None,
        dpop: None,
        ..policy.clone()
    })
}

/// What a verified refresh token names: its family and generation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Presented {
    /// The family: the session id `sid`.
    pub sid: String,
    /// The token's generation `gen` (0 for the one issued at sign-in).
    pub generation: u64,
}

/// A family's state in its store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Family {
    /// The generation of the family's one valid refresh token.
    pub generation: u64,
    /// Whether the family is revoked (a reuse was seen): nothing of it passes any more.
    pub revoked: bool,
}

/// What the store does with a presented refresh token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The current generation: store this state and issue tokens of its generation.
    Rotated(Family),
    /// An older generation (a reuse: theft, or two concurrent refreshes): store this revoked
    /// state and refuse. Log the incident.
    Reused(Family),
    /// The family is already revoked: refuse.
    Revoked,
    /// A later generation than the store knows, or a family the store never saw past
    /// generation 0: the store and the tokens disagree, so it fails closed by revoking (store
    /// this state and refuse).
    Inconsistent(Family),
}

/// A family's state once revoked from outside the state machine (a session ended, or refused
/// by a cap): its generation kept (0 if the store never saw it), nothing of it passing any more.
pub fn revoked(state: Option<Family>) -> Family {
    Family {
        generation: state.map_or(0, |f| f.generation),
        revoked: true,
    }
}

/// The state machine: the store's `state` of the family (`None`: never seen) and the presented
/// generation.
pub fn decide(state: Option<Family>, presented: u64) -> Outcome {
    let revoked = |generation| Family {
        generation,
        revoked: true,
    };
    match state {
        Some(f) if f.revoked => Outcome::Revoked,
        None if presented == 0 => Outcome::Rotated(Family {
            generation: 1,
            revoked: false,
        }),
        None => Outcome::Inconsistent(revoked(presented)),
        Some(f) if presented == f.generation => match f.generation.checked_add(1) {
            Some(generation) => Outcome::Rotated(Family {
                generation,
                revoked: false,
            }),
            None => Outcome::Inconsistent(revoked(f.generation)),
        },
        Some(f) if presented < f.generation => Outcome::Reused(revoked(f.generation)),
        Some(f) => Outcome::Inconsistent(revoked(f.generation)),
    }
}

/// The family and generation of a verified refresh token's claims (`malformed` for a `sid`
/// that is not a non-empty string of at most 256 bytes, or a `gen` that is not a whole number).
pub fn presented(claims: &Map<String, Value>) -> Result<Presented> {
    let sid = match claims.get("sid") {
        Some(Value::String(s)) if !s.is_empty() && s.len() <= 256 => s.clone(),
        _ => {
            return Err(Error::claim(
                Code::Malformed,
                "sid",
                "a refresh token's sid must be a string of 1 to 256 bytes",
            ))
        }
    };
    let generation = claims.get("gen").and_then(Value::as_u64).ok_or_else(|| {
        Error::claim(
            Code::Malformed,
            "gen",
            "a refresh token's gen must be a whole number",
        )
    })?;
    Ok(Presented { sid, generation })
}

/// Claims a refresh hands on: everything the issuer put in the refresh token but the ones each
/// token gets afresh (`iss`, `aud`, `iat`, `nbf`, `exp`, `jti`) and the generation.
fn carried(claims: &Map<String, Value>) -> Map<String, Value> {
    claims
        .iter()
        .filter(|(k, _)| !["iss", "aud", "iat", "nbf", "exp", "jti", "gen"].contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// Tokens issued by one rotation.
#[derive(Debug, Clone)]
pub struct Issued {
    /// The new access token.
    pub access_token: String,
    /// Its lifetime in seconds.
    pub access_expires_in: i64,
    /// The new refresh token (the family's next generation).
    pub refresh_token: String,
    /// Its lifetime in seconds (for the cookie's `Max-Age`).
    pub refresh_expires_in: i64,
}

/// Signs and verifies one policy's refresh tokens, and the access tokens they are exchanged
/// for. Needs the policy's private key (the issuer's, or the gate's `JWTGATE_KEYS`).
#[derive(Debug, Clone)]
pub struct Refresher {
    verifier: Verifier,
    refresh_signer: Signer,
    access_signer: Signer,
}

impl Refresher {
    /// The JWKS verifiers of the tokens it issues need (access and refresh tokens are signed
    /// by one key): [`Signer::public_jwks`].
    pub fn public_jwks(&self) -> Result<Value> {
        self.access_signer.public_jwks()
    }

    /// Whether it signs with an HMAC secret (which verifiers must share: nothing to publish).
    pub fn signs_symmetric(&self) -> bool {
        self.access_signer.algorithm().name().starts_with("HS")
    }

    /// Built from a policy with a `refresh` member and a signing key; `config` otherwise.
    pub fn new(policy: &Policy) -> Result<Refresher> {
        let rules = policy
            .refresh
            .clone()
            .ok_or_else(|| Error::config("refresh", "the policy has no refresh member"))?;
        let refresh = refresh_policy(policy)?;
        let options = |ttl| SignerOptions { ttl_seconds: ttl };
        Ok(Refresher {
            refresh_signer: Signer::new(refresh.clone(), options(rules.ttl_seconds()))?,
            verifier: Verifier::for_signer(refresh)?,
            access_signer: Signer::new(policy.clone(), options(rules.access_ttl_seconds()))?,
        })
    }

    /// Whether a signing key is deferred (loaded with no host crypto to sign with: see
    /// [`Signer`]); such a refresher cannot sign.
    #[cfg_attr(not(feature = "js"), allow(dead_code))]
    pub(crate) fn deferred(&self) -> bool {
        self.refresh_signer.deferred() || self.access_signer.deferred()
    }

    /// The first refresh token of a new family, at sign-in: `claims` (the user's: `sub` and
    /// whatever the access tokens should carry) with generation 0; `sid` and `auth_time` are
    /// stamped fresh unless given. Give no `sid` (or a fresh random one): a family's `sid` is
    /// its name, and reusing one for another sign-in would mix two families (`cnf` is refused:
    /// refresh tokens travel as cookies, without a DPoP proof).
    pub fn start(&self, mut claims: Map<String, Value>, now: i64) -> Result<String> {
        if claims.get("cnf").is_some_and(|c| !c.is_null()) {
            return Err(Error::claim(
                Code::DpopBinding,
                "cnf",
                "a refresh token is presented as a cookie, never with a DPoP proof: it cannot carry cnf",
            ));
        }
        for registered in ["iat", "gen"] {
            claims.remove(registered);
        }
        claims.insert("gen".into(), Value::from(0));
        self.refresh_signer.sign(claims, now)
    }

    /// Verifies a refresh token (every rule of the refresh policy: signature, `typ`, refresh
    /// audience, idle and absolute bounds) and reads its family and generation.
    pub fn verify(&self, token: &str, now: i64) -> Result<(Verified, Presented)> {
        let verified = self.verifier.verify(token, now)?;
        let presented = presented(&verified.claims)?;
        Ok((verified, presented))
    }

    /// The tokens of a rotation to `next` (an [`Outcome::Rotated`] state) from the verified
    /// refresh token's claims.
    pub fn issue(&self, claims: &Map<String, Value>, next: Family, now: i64) -> Result<Issued> {
        let mut refresh = carried(claims);
        refresh.insert("gen".into(), Value::from(next.generation));
        let refresh_token = self.refresh_signer.sign(refresh, now)?;
        let access_token = self.access_signer.sign(carried(claims), now)?;
        let expires_in = |token: &str| -> i64 {
            let exp = crate::jws::split(token)
                .ok()
                .and_then(|d| d.claims.get("exp").and_then(Value::as_i64));
            exp.map_or(0, |e| (e - now).max(0))
        };
        Ok(Issued {
            access_expires_in: expires_in(&access_token),
            refresh_expires_in: expires_in(&refresh_token),
            access_token,
            refresh_token,
        })
    }
}

/// A family store in memory (one process; tests and single-instance Node issuers). A store an
/// application backs with its own database must apply [`decide`] to a family's record and
/// write the outcome's state in one transaction (a compare-and-set on `generation`), or two
/// concurrent refreshes could both rotate.
#[derive(Debug, Clone, Default)]
pub struct MemoryFamilies {
    families: HashMap<String, Family>,
}

impl MemoryFamilies {
    /// An empty store.
    pub fn new() -> Self {
        MemoryFamilies::default()
    }

    /// Applies [`decide`] to `presented`'s family and keeps the new state.
    pub fn rotate(&mut self, presented: &Presented) -> Outcome {
        let outcome = decide(
            self.families.get(&presented.sid).copied(),
            presented.generation,
        );
        match outcome {
            Outcome::Rotated(f) | Outcome::Reused(f) | Outcome::Inconsistent(f) => {
                self.families.insert(presented.sid.clone(), f);
            }
            Outcome::Revoked => {}
        }
        outcome
    }

    /// Revokes the family `sid` (a session ended, or refused by a cap): its next refresh fails.
    pub fn revoke(&mut self, sid: &str) {
        let state = revoked(self.families.get(sid).copied());
        self.families.insert(sid.to_owned(), state);
    }

    /// Whether the family `sid` is revoked (its access tokens must be refused).
    pub fn is_revoked(&self, sid: &str) -> bool {
        self.families.get(sid).is_some_and(|f| f.revoked)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_state_machine() {
        let live = |g| Family {
            generation: g,
            revoked: false,
        };
        let dead = |g| Family {
            generation: g,
            revoked: true,
        };
        assert_eq!(decide(None, 0), Outcome::Rotated(live(1)));
        assert_eq!(decide(None, 3), Outcome::Inconsistent(dead(3)));
        assert_eq!(decide(Some(live(3)), 3), Outcome::Rotated(live(4)));
        assert_eq!(decide(Some(live(3)), 2), Outcome::Reused(dead(3)));
        assert_eq!(decide(Some(live(3)), 0), Outcome::Reused(dead(3)));
        assert_eq!(decide(Some(live(3)), 4), Outcome::Inconsistent(dead(3)));
        for g in [0, 3, 4] {
            assert_eq!(decide(Some(dead(3)), g), Outcome::Revoked);
        }
    }

    #[test]
    fn a_memory_store_serialises_two_refreshes_of_one_token() {
        let mut store = MemoryFamilies::new();
        let p = |g| Presented {
            sid: "s".into(),
            generation: g,
        };
        assert!(matches!(store.rotate(&p(0)), Outcome::Rotated(_)));
        // Both clients hold generation 1: the first to arrive wins, the second is a reuse.
        assert!(matches!(store.rotate(&p(1)), Outcome::Rotated(_)));
        assert!(!store.is_revoked("s"));
        assert!(matches!(store.rotate(&p(1)), Outcome::Reused(_)));
        assert!(store.is_revoked("s"));
        // The winner's next refresh fails too: the whole family is gone.
        assert_eq!(store.rotate(&p(2)), Outcome::Revoked);
        assert!(!store.is_revoked("other"));
    }
}
