//! A policy's `dpop` member: which proof algorithms it accepts and how long a proof lives. The
//! checks that use these rules are in [`crate::dpop`].

use super::members::{algorithms, member_object};
use crate::alg::{AlgSet, Algorithm};
use crate::error::{Error, Result};
use serde_json::Value;

/// The default proof lifetime (`dpop.maxAgeSeconds`): how long after its `iat` a proof is
/// accepted, and so how long its `jti` is remembered.
pub const DEFAULT_PROOF_MAX_AGE_SECONDS: i64 = 60;
/// The largest accepted `dpop.maxAgeSeconds`.
pub const MAX_PROOF_MAX_AGE_SECONDS: i64 = 600;
/// A policy's DPoP rules (its `dpop` member): the proof algorithms accepted and a proof's
/// lifetime. The clock tolerance is the policy's `leewaySeconds`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DpopRules {
    pub(crate) algorithms: AlgSet,
    names: Vec<Algorithm>,
    pub(crate) max_age: i64,
    pub(crate) leeway: i64,
}

impl DpopRules {
    /// Reads a policy's `dpop` member: `{"algorithms": [...], "maxAgeSeconds": n}`.
    /// `algorithms` is required (asymmetric algorithms only); `maxAgeSeconds` defaults to
    /// [`DEFAULT_PROOF_MAX_AGE_SECONDS`] and may be 1 to [`MAX_PROOF_MAX_AGE_SECONDS`].
    pub(crate) fn from_value(value: &Value, leeway: i64) -> Result<DpopRules> {
        let obj = member_object(
            value,
            "dpop",
            &["algorithms", "maxAgeSeconds"],
            "{\"algorithms\": [...], \"maxAgeSeconds\": n}",
        )?;
        let names = algorithms(obj.get("algorithms").filter(|v| !v.is_null()))
            .map_err(|e| Error::config("dpop.algorithms", e.message().to_owned()))?;
        if names
            .iter()
            .any(|a| matches!(a, Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512))
        {
            return Err(Error::config(
                "dpop.algorithms",
                "a DPoP proof is signed by its holder's key pair: HMAC algorithms are refused",
            ));
        }
        let max_age = match obj.get("maxAgeSeconds").filter(|v| !v.is_null()) {
            None => DEFAULT_PROOF_MAX_AGE_SECONDS,
            Some(v) => match v.as_i64() {
                Some(n) if (1..=MAX_PROOF_MAX_AGE_SECONDS).contains(&n) => n,
                _ => {
                    return Err(Error::config(
                        "dpop.maxAgeSeconds",
                        format!("must be a whole number from 1 to {MAX_PROOF_MAX_AGE_SECONDS}"),
                    ))
                }
            },
        };
        Ok(DpopRules {
            algorithms: names.iter().copied().collect(),
            names,
            max_age,
            leeway,
        })
    }

    /// The accepted proof algorithms, in the policy's order (the `algs` of a `DPoP` challenge).
    pub fn algorithms(&self) -> &[Algorithm] {
        &self.names
    }

    /// A proof's lifetime after its `iat`, in seconds.
    pub fn max_age_seconds(&self) -> i64 {
        self.max_age
    }
}
