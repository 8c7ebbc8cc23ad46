//! The policy: one JSON shape, read the same way by the Rust API, the npm package and the edge
//! gate, validated completely when it is built.
//!
//! ```json
//! {
//!   "issuer": "https://pay.example.com",
//!   "audience": "calmony-pay",
//!   "algorithms": ["ES256"],
//!   "keys": { "keys": [ { "kty": "EC", "crv": "P-256", "kid": "2026-01", "x": "…", "y": "…" } ] },
//!   "leewaySeconds": 30,
//!   "maxAgeSeconds": 28800,
//!   "requiredClaims": ["sub"],
//!   "typ": "JWT",
//!   "maxTokenBytes": 16384
//! }
//! ```
//!
//! | field | type | default | rule |
//! |---|---|---|---|
//! | `issuer` | string or non-empty array of strings | — (required) | accepted `iss` values; signing needs exactly one |
//! | `audience` | string or non-empty array of strings | — (required) | accepted `aud` values; signing writes them all |
//! | `algorithms` | non-empty array of names | — (required) | allowlist, exact names; `none` in any spelling is refused |
//! | `keys` | JWKS object `{"keys": [...]}` | — (required) | every key validated; a usable key is bound to one algorithm, a key that fits none is inert (see [`KeySet`]) |
//! | `leewaySeconds` | integer | `30` | `0..=300` |
//! | `maxAgeSeconds` | integer or absent | absent | `1..=315360000` (10 years); makes `iat` required |
//! | `requiredClaims` | array of strings | `[]` | in addition to `exp`, `iss`, `aud` (and `iat` with max age) |
//! | `tenantClaim` | claim path or absent | absent | the claim naming a token's tenant (`tenant_id`, `org.id`, `["https://ns.example/tenant"]`): then required in every token, a non-empty string or an integer; checked against the request by `check_tenant` and the gate's tenant bindings |
//! | `typ` | string or absent | absent | expected header `typ` (case-insensitive, `application/` optional); the signer writes it, default `JWT` |
//! | `maxTokenBytes` | integer | `16384` | `256..=1048576` |
//!
//! Any other member is a `config` error (a misspelt option must not silently fall back to a
//! default), as is any missing, empty or out-of-range required field. An empty string is never an
//! issuer or an audience: the `undefined !== undefined` fail-open cannot be expressed.

use crate::alg::Algorithm;
use crate::claims::ClaimRules;
use crate::error::{Error, Result};
use crate::json;
use crate::jwk::KeySet;
use serde_json::Value;

pub(crate) mod dpop;
mod members;
pub(crate) mod refresh;

use crate::jws::{typ_matches, REFRESH_TYP};
use dpop::DpopRules;
use members::{algorithms, field, integer, string_list};
use refresh::RefreshRules;

/// Default clock tolerance in seconds.
pub const DEFAULT_LEEWAY_SECONDS: i64 = 30;
/// Largest accepted clock tolerance in seconds.
pub const MAX_LEEWAY_SECONDS: i64 = 300;
/// Default maximum token length in bytes.
pub const DEFAULT_MAX_TOKEN_BYTES: usize = 16384;
/// Largest accepted `maxAgeSeconds` (10 years).
pub const MAX_MAX_AGE_SECONDS: i64 = 315_360_000;

/// Every member a policy may have (any other is a `config` error), as documented in
/// `docs/policy.md` (`tests/docs.rs` checks the two agree).
pub const FIELDS: [&str; 12] = [
    "issuer",
    "audience",
    "algorithms",
    "keys",
    "leewaySeconds",
    "maxAgeSeconds",
    "requiredClaims",
    "tenantClaim",
    "typ",
    "maxTokenBytes",
    "dpop",
    "refresh",
];

/// A complete, validated policy. Build it once (keys are parsed here) and share it.
#[derive(Debug, Clone)]
pub struct Policy {
    pub(crate) rules: ClaimRules,
    pub(crate) algorithms: Vec<Algorithm>,
    pub(crate) keys: KeySet,
    pub(crate) typ: Option<String>,
    pub(crate) max_token_bytes: usize,
    pub(crate) dpop: Option<DpopRules>,
    pub(crate) refresh: Option<RefreshRules>,
}

impl Policy {
    /// Parses and validates a policy from JSON text.
    pub fn from_json(text: &str) -> Result<Policy> {
        let value = json::parse(text.as_bytes())
            .map_err(|_| Error::config("policy", "not strict JSON (or a duplicate member)"))?;
        Policy::from_value(&value)
    }

    /// Parses and validates a policy from a JSON value.
    pub fn from_value(value: &Value) -> Result<Policy> {
        Policy::parse(value, true)
    }

    /// Like [`Policy::from_value`], but `keys` may be absent: for verifiers that receive their
    /// keys separately (the edge gate's secret or remote JWKS). Such a policy has an empty key
    /// set until [`Policy::with_keys`] gives it one, and a [`Verifier`](crate::Verifier) refuses
    /// to be built from it before that.
    pub fn from_value_keys_optional(value: &Value) -> Result<Policy> {
        Policy::parse(value, false)
    }

    /// A copy of this policy with `keys` added to its own key set (policy keys first). `config`
    /// if a usable key of `keys` has the `kid` of a usable policy key.
    pub fn with_keys(&self, keys: &KeySet) -> Result<Policy> {
        Ok(Policy {
            keys: self.keys.merged(keys)?,
            ..self.clone()
        })
    }

    fn parse(value: &Value, keys_required: bool) -> Result<Policy> {
        let Value::Object(obj) = value else {
            return Err(Error::config("policy", "the policy must be a JSON object"));
        };
        if let Some(unknown) = obj.keys().find(|k| !FIELDS.contains(&k.as_str())) {
            return Err(Error::config(
                format!("policy.{unknown}"),
                "unknown policy field",
            ));
        }
        let issuers = string_list(obj, "issuer")?;
        let audiences = string_list(obj, "audience")?;
        let algorithms = algorithms(field(obj, "algorithms"))?;
        let keys = match field(obj, "keys") {
            Some(jwks) => KeySet::from_jwks(jwks, &algorithms)?,
            None if keys_required => return Err(Error::config("keys", "required: a JWKS object")),
            None => KeySet::default(),
        };
        let leeway = integer(obj, "leewaySeconds", (0, MAX_LEEWAY_SECONDS))?
            .unwrap_or(DEFAULT_LEEWAY_SECONDS);
        let max_age = integer(obj, "maxAgeSeconds", (1, MAX_MAX_AGE_SECONDS))?;
        let required = match field(obj, "requiredClaims") {
            None => Vec::new(),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| v.as_str().filter(|s| !s.is_empty()).map(str::to_owned))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| {
                    Error::config("requiredClaims", "must be an array of claim names")
                })?,
            Some(_) => {
                return Err(Error::config(
                    "requiredClaims",
                    "must be an array of claim names",
                ))
            }
        };
        let tenant = match field(obj, "tenantClaim") {
            None => None,
            Some(v) => Some(
                v.as_str()
                    .and_then(crate::claims::ClaimPath::parse)
                    .ok_or_else(|| {
                        Error::config(
                            "tenantClaim",
                            "must be a claim path: tenant_id, org.id or [\"https://ns.example/tenant\"]",
                        )
                    })?,
            ),
        };
        let typ = match field(obj, "typ") {
            None => None,
            Some(Value::String(s)) if typ_matches(REFRESH_TYP, s) => {
                return Err(Error::config(
                    "typ",
                    "jwtgate-refresh+jwt is the refresh tokens' own typ, not a policy's",
                ))
            }
            Some(Value::String(s)) if !s.trim().is_empty() => Some(s.clone()),
            Some(_) => return Err(Error::config("typ", "must be a non-empty string")),
        };
        let max_token_bytes = integer(obj, "maxTokenBytes", (256, 1_048_576))?
            .map_or(DEFAULT_MAX_TOKEN_BYTES, |n| n as usize);
        let dpop = field(obj, "dpop")
            .map(|v| DpopRules::from_value(v, leeway))
            .transpose()?;
        let refresh = field(obj, "refresh")
            .map(|v| RefreshRules::from_value(v, &audiences, max_age))
            .transpose()?;
        Ok(Policy {
            rules: ClaimRules {
                issuers,
                audiences,
                leeway,
                max_age,
                required,
                tenant,
            },
            algorithms,
            keys,
            typ,
            max_token_bytes,
            dpop,
            refresh,
        })
    }

    /// The DPoP rules (the `dpop` member), when the policy accepts DPoP-bound tokens.
    pub fn dpop(&self) -> Option<&DpopRules> {
        self.dpop.as_ref()
    }

    /// The refresh-token rules (the `refresh` member), when sessions of this policy rotate
    /// refresh tokens ([`crate::refresh`]).
    pub fn refresh(&self) -> Option<&RefreshRules> {
        self.refresh.as_ref()
    }

    /// The claim rules (issuers, audiences, leeway, max age, required claims).
    pub fn rules(&self) -> &ClaimRules {
        &self.rules
    }

    /// The algorithm allowlist, in policy order.
    pub fn algorithms(&self) -> &[Algorithm] {
        &self.algorithms
    }

    /// The validated keys.
    pub fn keys(&self) -> &KeySet {
        &self.keys
    }

    /// The expected header `typ`, if any.
    pub fn typ(&self) -> Option<&str> {
        self.typ.as_deref()
    }

    /// The longest accepted token, in bytes.
    pub fn max_token_bytes(&self) -> usize {
        self.max_token_bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typ_comparison() {
        assert!(typ_matches("JWT", "jwt"));
        assert!(typ_matches("JWT", "application/JWT"));
        assert!(typ_matches("application/at+jwt", "AT+JWT"));
        assert!(!typ_matches("JWT", "at+jwt"));
        assert!(!typ_matches("JWT", "application/"));
        assert!(!typ_matches("authjs-session+jwt", "JWT"));
        // Multi-byte text never panics at the prefix boundary.
        assert!(!typ_matches("JWT", "ééééééé"));
    }
}
