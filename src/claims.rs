//! The claim rules: one module for both directions, so the issuer stamps exactly what every
//! verifier checks.
//!
//! * [`ClaimRules::check`] answers "is this claims set valid for this system, at this moment?"
//!   It is used by [`Verifier::verify`](crate::Verifier::verify) after the signature, and on its
//!   own by [`Verifier::check_claims`](crate::Verifier::check_claims).
//! * `ClaimRules::stamp` (used by [`Signer`](crate::Signer)) writes `iss`, `aud`, `iat`, `nbf`, `exp`, `jti`, `auth_time` and then
//!   runs `check` on the result, so a stamped token that its own policy would refuse is never
//!   produced.
//!
//! Rules (now in whole seconds, leeway `L`; a claim whose value is `null` counts as absent):
//!
//! | claim | rule | code |
//! |---|---|---|
//! | `exp` | required; a number; refused iff `now >= exp + L` | `expired` |
//! | `nbf` | if present; refused iff `now < nbf - L` | `not_yet_valid` |
//! | `iat` | if present (required with `maxAgeSeconds`); refused iff `iat > now + L` | `issued_in_future` |
//! | `auth_time` | if present; refused iff `auth_time > now + L` | `issued_in_future` |
//! | max age `M` | refused iff `now - L > (auth_time, else iat) + M` | `too_old` |
//! | `iss` | required; a string equal to one of the issuers | `issuer` |
//! | `aud` | required; a string or array of strings naming one of the audiences | `audience` |
//! | `requiredClaims` | each present and not `null` | `missing_claim` |
//!
//! A registered claim of the wrong JSON type (`exp` a string, `aud` an array holding a number,
//! `sub` or `jti` not a string) is `malformed`, naming the claim. Missing `exp`, `iss` or `aud` is
//! `missing_claim`: there is no way to switch these checks off.

use crate::error::{Code, Error, Result};
use serde_json::{Map, Value};

/// The claim part of a policy: issuers, audiences, leeway, maximum age and required claims.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimRules {
    pub(crate) issuers: Vec<String>,
    pub(crate) audiences: Vec<String>,
    pub(crate) leeway: i64,
    pub(crate) max_age: Option<i64>,
    pub(crate) required: Vec<String>,
}

fn present<'a>(claims: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    claims.get(name).filter(|v| !v.is_null())
}

fn number(claims: &Map<String, Value>, name: &'static str) -> Result<Option<f64>> {
    match present(claims, name) {
        None => Ok(None),
        Some(Value::Number(n)) => n
            .as_f64()
            .filter(|f| f.is_finite())
            .map(Some)
            .ok_or_else(|| Error::claim(Code::Malformed, name, "claim is not a finite number")),
        Some(_) => Err(Error::claim(
            Code::Malformed,
            name,
            "claim must be a NumericDate (a number)",
        )),
    }
}

fn string<'a>(claims: &'a Map<String, Value>, name: &'static str) -> Result<Option<&'a str>> {
    match present(claims, name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(Error::claim(
            Code::Malformed,
            name,
            "claim must be a string",
        )),
    }
}

fn missing(name: &'static str) -> Error {
    Error::claim(Code::MissingClaim, name, "required claim is missing")
}

impl ClaimRules {
    /// The accepted issuers.
    pub fn issuers(&self) -> &[String] {
        &self.issuers
    }

    /// The accepted audiences.
    pub fn audiences(&self) -> &[String] {
        &self.audiences
    }

    /// The clock tolerance in seconds.
    pub fn leeway_seconds(&self) -> i64 {
        self.leeway
    }

    /// The absolute age limit in seconds, if any.
    pub fn max_age_seconds(&self) -> Option<i64> {
        self.max_age
    }

    /// Applies every claim rule at `now` (seconds since the epoch).
    pub fn check(&self, claims: &Map<String, Value>, now: i64) -> Result<()> {
        let now = now as f64;
        let leeway = self.leeway as f64;

        let exp = number(claims, "exp")?.ok_or_else(|| missing("exp"))?;
        if now >= exp + leeway {
            return Err(Error::claim(Code::Expired, "exp", "token has expired"));
        }
        if let Some(nbf) = number(claims, "nbf")? {
            if now < nbf - leeway {
                return Err(Error::claim(
                    Code::NotYetValid,
                    "nbf",
                    "token is not valid yet",
                ));
            }
        }
        let iat = number(claims, "iat")?;
        if let Some(iat) = iat {
            if iat > now + leeway {
                return Err(Error::claim(
                    Code::IssuedInFuture,
                    "iat",
                    "token was issued in the future",
                ));
            }
        }
        let auth_time = number(claims, "auth_time")?;
        if let Some(at) = auth_time {
            if at > now + leeway {
                return Err(Error::claim(
                    Code::IssuedInFuture,
                    "auth_time",
                    "authentication time is in the future",
                ));
            }
        }
        if let Some(max_age) = self.max_age {
            let iat = iat.ok_or_else(|| missing("iat"))?;
            let (from, name) = match auth_time {
                Some(at) => (at, "auth_time"),
                None => (iat, "iat"),
            };
            if now - leeway > from + max_age as f64 {
                return Err(Error::claim(
                    Code::TooOld,
                    name,
                    "token is older than the policy's maximum age",
                ));
            }
        }

        let iss = string(claims, "iss")?.ok_or_else(|| missing("iss"))?;
        if !self.issuers.iter().any(|i| i == iss) {
            return Err(Error::claim(
                Code::Issuer,
                "iss",
                "token is from another issuer",
            ));
        }

        let aud_ok = match present(claims, "aud") {
            None => return Err(missing("aud")),
            Some(Value::String(a)) => self.audiences.contains(a),
            Some(Value::Array(list)) => {
                let mut ok = false;
                for a in list {
                    let a = a.as_str().ok_or_else(|| {
                        Error::claim(Code::Malformed, "aud", "aud must hold only strings")
                    })?;
                    ok |= self.audiences.iter().any(|x| x == a);
                }
                ok
            }
            Some(_) => {
                return Err(Error::claim(
                    Code::Malformed,
                    "aud",
                    "aud must be a string or an array of strings",
                ))
            }
        };
        if !aud_ok {
            return Err(Error::claim(
                Code::Audience,
                "aud",
                "token is meant for another audience",
            ));
        }

        string(claims, "sub")?;
        string(claims, "jti")?;
        for name in &self.required {
            if present(claims, name).is_none() {
                return Err(Error::claim(
                    Code::MissingClaim,
                    name.clone(),
                    "required claim is missing",
                ));
            }
        }
        Ok(())
    }

    /// Stamps the context claims onto `claims` for a token issued at `now` living `ttl` seconds,
    /// then checks the result with [`ClaimRules::check`].
    ///
    /// `iss`, `aud`, `iat`, `nbf`, `exp` and `jti` are always overwritten (caller values are never
    /// trusted); `auth_time` is kept if present (it must be a number, not in the future), else set
    /// to `now`. `exp = now + ttl`, but never past `auth_time + maxAgeSeconds`; `too_old` if that
    /// bound has already passed. Needs exactly one issuer (checked when a `Signer` is built).
    pub(crate) fn stamp(
        &self,
        claims: &mut Map<String, Value>,
        now: i64,
        ttl: i64,
        jti: String,
    ) -> Result<()> {
        let issuer = match self.issuers.as_slice() {
            [one] => one.clone(),
            _ => {
                return Err(Error::config(
                    "issuer",
                    "signing needs exactly one issuer, not a list",
                ))
            }
        };
        let auth_time = match number(claims, "auth_time")? {
            Some(at) => {
                if at > now.saturating_add(self.leeway) as f64 {
                    return Err(Error::claim(
                        Code::IssuedInFuture,
                        "auth_time",
                        "authentication time is in the future",
                    ));
                }
                // The caller's value, unchanged (an integer stays an integer).
                claims.get("auth_time").cloned().unwrap_or(Value::Null)
            }
            None => Value::from(now),
        };
        let mut exp = now.saturating_add(ttl);
        if let Some(max_age) = self.max_age {
            let at = auth_time.as_f64().unwrap_or(now as f64);
            // Saturating float-to-int conversion: a hugely negative auth_time gives i64::MIN.
            let limit = (at + max_age as f64).floor() as i64;
            if limit <= now {
                return Err(Error::claim(
                    Code::TooOld,
                    "auth_time",
                    "the session is older than the policy's maximum age",
                ));
            }
            exp = exp.min(limit);
        }
        claims.insert("iss".into(), Value::String(issuer));
        claims.insert(
            "aud".into(),
            match self.audiences.as_slice() {
                [one] => Value::String(one.clone()),
                many => Value::from(many.to_vec()),
            },
        );
        claims.insert("iat".into(), Value::from(now));
        claims.insert("nbf".into(), Value::from(now));
        claims.insert("exp".into(), Value::from(exp));
        claims.insert("jti".into(), Value::String(jti));
        claims.insert("auth_time".into(), auth_time);
        self.check(claims, now)
    }
}

/// What a revocation list says about one token: its `jti` is denied, and/or every token of its
/// subject issued before a NumericDate is.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[non_exhaustive]
pub struct Revocation {
    /// The token's `jti` is on the deny list.
    pub jti_denied: bool,
    /// The subject's tokens issued (`iat`) before this NumericDate are denied.
    pub subject_denied_before: Option<f64>,
}

impl Revocation {
    /// A revocation answer.
    pub fn new(jti_denied: bool, subject_denied_before: Option<f64>) -> Self {
        Revocation {
            jti_denied,
            subject_denied_before,
        }
    }
}

/// Applies a revocation answer to verified claims: `revoked` if the `jti` is denied, or if the
/// subject is denied before a time and the token's `iat` is earlier (or missing: fail closed).
pub fn check_revocation(claims: &Map<String, Value>, revocation: &Revocation) -> Result<()> {
    if revocation.jti_denied {
        return Err(Error::claim(Code::Revoked, "jti", "token has been revoked"));
    }
    if let Some(before) = revocation.subject_denied_before {
        match number(claims, "iat")? {
            Some(iat) if iat >= before => {}
            _ => {
                return Err(Error::claim(
                    Code::Revoked,
                    "sub",
                    "the subject's earlier tokens have been revoked",
                ))
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rules() -> ClaimRules {
        ClaimRules {
            issuers: vec!["https://iss.example".into()],
            audiences: vec!["api".into(), "web".into()],
            leeway: 30,
            max_age: None,
            required: vec!["sub".into()],
        }
    }

    fn obj(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => unreachable!(),
        }
    }

    fn code(r: Result<()>) -> Option<(Code, String)> {
        r.err()
            .map(|e| (e.code(), e.claim_name().unwrap_or("").to_owned()))
    }

    #[test]
    fn stamp_then_check_round_trips() {
        let r = rules();
        let mut c = obj(json!({"sub": "u1", "iss": "evil", "aud": "evil", "exp": 1}));
        r.stamp(&mut c, 1000, 900, "j".into()).unwrap();
        assert_eq!(c["iss"], "https://iss.example");
        assert_eq!(c["aud"], json!(["api", "web"]));
        assert_eq!(c["exp"], 1900);
        assert_eq!(c["iat"], 1000);
        assert_eq!(c["nbf"], 1000);
        assert_eq!(c["auth_time"], 1000);
        assert_eq!(code(r.check(&c, 1900 + 29)), None);
        assert_eq!(
            code(r.check(&c, 1900 + 30)),
            Some((Code::Expired, "exp".into()))
        );
    }

    #[test]
    fn stamp_caps_exp_at_auth_time_plus_max_age() {
        let r = ClaimRules {
            max_age: Some(3600),
            ..rules()
        };
        let mut c = obj(json!({"sub": "u1", "auth_time": 1000}));
        r.stamp(&mut c, 4000, 900, "j".into()).unwrap();
        assert_eq!(c["exp"], 4600);
        assert_eq!(c["auth_time"], 1000);
        let mut c = obj(json!({"sub": "u1", "auth_time": 1000}));
        assert_eq!(
            code(r.stamp(&mut c, 4600, 900, "j".into())),
            Some((Code::TooOld, "auth_time".into()))
        );
        let mut c = obj(json!({"sub": "u1", "auth_time": "yesterday"}));
        assert_eq!(
            code(r.stamp(&mut c, 4000, 900, "j".into())),
            Some((Code::Malformed, "auth_time".into()))
        );
    }

    #[test]
    fn null_counts_as_absent() {
        let r = rules();
        let c = obj(json!({"sub": null, "iss": "https://iss.example", "aud": "api", "exp": 2000}));
        assert_eq!(
            code(r.check(&c, 1000)),
            Some((Code::MissingClaim, "sub".into()))
        );
        let c = obj(json!({"sub": "x", "iss": "https://iss.example", "aud": "api", "exp": null}));
        assert_eq!(
            code(r.check(&c, 1000)),
            Some((Code::MissingClaim, "exp".into()))
        );
    }
}
