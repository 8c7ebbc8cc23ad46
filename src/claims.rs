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
//! | `cnf` | by [`Presentation`]: refused on a bearer token; `cnf.jkt` required with a DPoP proof | `dpop_binding` |
//!
//! A registered claim of the wrong JSON type (`exp` a string, `aud` an array holding a number,
//! `sub` or `jti` not a string) is `malformed`, naming the claim. Missing `exp`, `iss` or `aud` is
//! `missing_claim`: there is no way to switch these checks off.

use crate::error::{Code, Error, Result};
use serde_json::{Map, Value};
use std::ops::ControlFlow;

mod path;
pub use path::ClaimPath;

/// One claim rule, as [`ClaimRules::walk`] names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule<'a> {
    /// The time claims' types and presence (`exp`; `iat` under a maximum age), before any bound.
    TimeClaims,
    /// `exp`.
    Expires,
    /// `nbf` (present).
    NotBefore,
    /// `iat` (present).
    IssuedAt,
    /// `auth_time` (present).
    AuthTime,
    /// The maximum age (with `maxAgeSeconds`).
    MaxAge,
    /// `iss`.
    Issuer,
    /// `aud`.
    Audience,
    /// `sub`'s type (a string when present).
    Subject,
    /// `jti`'s type (a string when present).
    TokenId,
    /// One of `requiredClaims`.
    Required(&'a str),
    /// The tenant claim (the policy's `tenantClaim`): present, a non-empty string or an integer.
    Tenant,
    /// `cnf`, by how the token was presented ([`Presentation`]).
    Confirmation,
}

/// How a token reaches the claim rules, which decides the `cnf` (confirmation, RFC 7800) rule.
/// A sender-constrained token is worthless to a thief only if no verifier accepts it without
/// its holder's proof, so a bearer presentation refuses `cnf` outright.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presentation {
    /// As a bearer token, with no proof of possession: a token with `cnf` is refused
    /// (`dpop_binding`). What [`ClaimRules::check`] and [`Verifier::verify`](crate::Verifier::verify) apply.
    Bearer,
    /// With a DPoP proof (RFC 9449) that the caller checks against `cnf.jkt`
    /// ([`crate::dpop`]): `cnf` must be `{"jkt": <SHA-256 thumbprint>}`.
    Proven,
    /// Being issued by a [`Signer`](crate::Signer): `cnf`, when present, must be
    /// `{"jkt": <SHA-256 thumbprint>}`, the one confirmation method verifiers here check.
    Issuing,
}

impl std::fmt::Display for Rule<'_> {
    /// The rule's name in reports: its claim (`exp`, `iss`, …), `max age`, `time claims`, and
    /// `required <claim>` for a required claim.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Rule::Required(name) => write!(f, "required {name}"),
            other => f.write_str(other.name()),
        }
    }
}

impl Rule<'_> {
    /// The claim the rule reads (`"max age"` and `"time claims"` for the two that read several).
    pub fn name(&self) -> &str {
        match self {
            Rule::TimeClaims => "time claims",
            Rule::Expires => "exp",
            Rule::NotBefore => "nbf",
            Rule::IssuedAt => "iat",
            Rule::AuthTime => "auth_time",
            Rule::MaxAge => "max age",
            Rule::Issuer => "iss",
            Rule::Audience => "aud",
            Rule::Subject => "sub",
            Rule::TokenId => "jti",
            Rule::Required(name) => name,
            Rule::Tenant => "tenant",
            Rule::Confirmation => "cnf",
        }
    }
}

/// What [`ClaimRules::walk`] calls for each rule it applies: `Break` stops the walk.
pub type Visit<'v> = dyn FnMut(Rule<'_>, Result<()>) -> ControlFlow<()> + 'v;

/// The first failure of a walk, or `Ok` when every rule passed.
fn first_failure(walk: impl FnOnce(&mut Visit<'_>) -> ControlFlow<()>) -> Result<()> {
    let mut first = Ok(());
    let _ = walk(&mut |_, result| match result {
        Ok(()) => ControlFlow::Continue(()),
        Err(e) => {
            first = Err(e);
            ControlFlow::Break(())
        }
    });
    first
}

/// `Err(e)` when `failed`, else `Ok`.
fn unless(failed: bool, e: impl FnOnce() -> Error) -> Result<()> {
    if failed {
        Err(e())
    } else {
        Ok(())
    }
}

/// The time rules of one claims set, as bounds on `now` in whole seconds: `exp` (with leeway
/// `L`) gives `now < ceil(exp + L)`, `nbf`, `iat` and `auth_time` give `now >= ceil(claim - L)`,
/// a maximum age `M` gives `now <= floor(from + M + L)`. [`ClaimRules::check`] applies it; a
/// cache of verified tokens may keep [`bounds`](TimeWindow::bounds) and test only those on a hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeWindow {
    expires: i64,
    not_before: Option<i64>,
    issued: Option<i64>,
    authenticated: Option<i64>,
    max_age: Option<(i64, &'static str)>,
}

impl TimeWindow {
    /// Applies the window at `now`: `expired`, `not_yet_valid`, `issued_in_future` or `too_old`,
    /// checked in that order.
    pub fn check(&self, now: i64) -> Result<()> {
        first_failure(|visit| self.walk(now, visit))
    }

    /// Each time rule that applies (`exp` always; `nbf`, `iat`, `auth_time` when present; the
    /// maximum age when set), in [`check`](TimeWindow::check)'s order, with its result at `now`.
    pub fn walk(&self, now: i64, visit: &mut Visit<'_>) -> ControlFlow<()> {
        visit(
            Rule::Expires,
            unless(now >= self.expires, || {
                Error::claim(Code::Expired, "exp", "token has expired")
            }),
        )?;
        if let Some(from) = self.not_before {
            visit(
                Rule::NotBefore,
                unless(now < from, || {
                    Error::claim(Code::NotYetValid, "nbf", "token is not valid yet")
                }),
            )?;
        }
        if let Some(from) = self.issued {
            visit(
                Rule::IssuedAt,
                unless(now < from, || {
                    Error::claim(
                        Code::IssuedInFuture,
                        "iat",
                        "token was issued in the future",
                    )
                }),
            )?;
        }
        if let Some(from) = self.authenticated {
            visit(
                Rule::AuthTime,
                unless(now < from, || {
                    Error::claim(
                        Code::IssuedInFuture,
                        "auth_time",
                        "authentication time is in the future",
                    )
                }),
            )?;
        }
        if let Some((until, name)) = self.max_age {
            visit(
                Rule::MaxAge,
                unless(now > until, || {
                    Error::claim(
                        Code::TooOld,
                        name,
                        "token is older than the policy's maximum age",
                    )
                }),
            )?;
        }
        ControlFlow::Continue(())
    }

    /// `(from, until)`: [`check`](TimeWindow::check) passes at `now` iff `from <= now < until`
    /// (an empty window has `from >= until`).
    pub fn bounds(&self) -> (i64, i64) {
        let from = [self.not_before, self.issued, self.authenticated]
            .into_iter()
            .flatten()
            .fold(i64::MIN, i64::max);
        let mut until = self.expires;
        if let Some((last, _)) = self.max_age {
            until = until.min(last.saturating_add(1));
        }
        (from, until)
    }
}

/// The claim part of a policy: issuers, audiences, leeway, maximum age and required claims.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimRules {
    pub(crate) issuers: Vec<String>,
    pub(crate) audiences: Vec<String>,
    pub(crate) leeway: i64,
    pub(crate) max_age: Option<i64>,
    pub(crate) required: Vec<String>,
    pub(crate) tenant: Option<ClaimPath>,
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

/// The `cnf` rule for `presentation` (see [`Presentation`]).
fn confirmation_rule(claims: &Map<String, Value>, presentation: Presentation) -> Result<()> {
    let binding = |message: &'static str| Error::claim(Code::DpopBinding, "cnf", message);
    match (presentation, present(claims, "cnf")) {
        (Presentation::Bearer, None) | (Presentation::Issuing, None) => Ok(()),
        (Presentation::Bearer, Some(_)) => Err(binding(
            "a sender-constrained token (cnf) is accepted only with its holder's proof (DPoP)",
        )),
        (Presentation::Proven, None) => Err(binding(
            "a DPoP proof came with a token that is not bound to a key (no cnf.jkt)",
        )),
        (_, Some(_)) => bound_key(claims).map(drop),
    }
}

/// The key thumbprint a token is bound to: `cnf.jkt` (RFC 9449 §6.1), `None` without `cnf`.
/// `dpop_binding` when `cnf` is anything but `{"jkt": <43 base64url characters>}` (a
/// confirmation method jwtgate does not check, such as mTLS's `x5t#S256`, is refused, never
/// ignored).
pub fn bound_key(claims: &Map<String, Value>) -> Result<Option<&str>> {
    let Some(cnf) = present(claims, "cnf") else {
        return Ok(None);
    };
    let jkt = match cnf {
        Value::Object(o) if o.len() == 1 => o.get("jkt").and_then(Value::as_str),
        _ => None,
    };
    match jkt {
        Some(t) if t.len() == 43 && crate::b64::decode(t.as_bytes()).is_ok() => Ok(Some(t)),
        _ => Err(Error::claim(
            Code::DpopBinding,
            "cnf",
            "cnf must be {\"jkt\": <SHA-256 JWK thumbprint>}: no other confirmation method is checked",
        )),
    }
}

/// The tenant a claims set names at `path`: a non-empty string without control characters, or
/// an integer as its decimal text (`org_id: 42` names tenant `42`; at most 2^53 - 1 in absolute
/// value, which JavaScript holds exactly). `missing_claim` when absent, `malformed` for any
/// other value; the error names the path, never the value.
pub fn tenant_of<'a>(
    claims: &'a Map<String, Value>,
    path: &ClaimPath,
) -> Result<std::borrow::Cow<'a, str>> {
    let name = || path.as_str().to_owned();
    match path.get(claims) {
        None => Err(Error::claim(
            Code::MissingClaim,
            name(),
            "the tenant claim is missing",
        )),
        Some(Value::String(s)) if !s.is_empty() && !s.chars().any(char::is_control) => {
            Ok(std::borrow::Cow::Borrowed(s))
        }
        // Only integers every JSON reader holds exactly (JavaScript's are doubles): beyond
        // 2^53 two tenants' ids could read as one.
        Some(Value::Number(n)) if n.as_i64().is_some_and(|i| i.unsigned_abs() < 1 << 53) => {
            Ok(n.to_string().into())
        }
        Some(_) => Err(Error::claim(
            Code::Malformed,
            name(),
            "the tenant claim must be a non-empty string (no control characters) or an integer of at most 2^53 - 1 in absolute value",
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

    /// The claim that names a token's tenant (the policy's `tenantClaim`), if any.
    pub fn tenant_claim(&self) -> Option<&ClaimPath> {
        self.tenant.as_ref()
    }

    /// Whether `claims` (already verified) are for `tenant`, the tenant the request is for: the
    /// tenant claim must name it exactly ([`tenant_of`]). `tenant` when it names another;
    /// `config` when the policy has no `tenantClaim` (a check that cannot be made never
    /// passes).
    pub fn check_tenant(&self, claims: &Map<String, Value>, tenant: &str) -> Result<()> {
        let path = self.tenant.as_ref().ok_or_else(|| {
            Error::config(
                "tenantClaim",
                "the policy names no tenant claim: set tenantClaim to check tenants",
            )
        })?;
        let theirs = tenant_of(claims, path)?;
        unless(*theirs != *tenant, || {
            Error::claim(
                Code::Tenant,
                path.as_str().to_owned(),
                "the token is for another tenant",
            )
        })
    }

    /// The time rules for `claims` as a [`TimeWindow`] of whole seconds (`malformed` or
    /// `missing_claim` if a time claim has the wrong type, or `exp`, or `iat` under a maximum age,
    /// is missing). [`check`](ClaimRules::check) applies exactly this window.
    pub fn time_window(&self, claims: &Map<String, Value>) -> Result<TimeWindow> {
        let leeway = self.leeway as f64;
        let exp = number(claims, "exp")?.ok_or_else(|| missing("exp"))?;
        let nbf = number(claims, "nbf")?;
        let iat = number(claims, "iat")?;
        let auth_time = number(claims, "auth_time")?;
        // For whole seconds n and a real x: n >= x iff n >= ceil(x), n <= x iff n <= floor(x).
        // `as` saturates, so huge or negative claims give i64::MAX / i64::MIN, never a wrap.
        let ceil = |x: f64| x.ceil() as i64;
        let max_age = match self.max_age {
            None => None,
            Some(max_age) => {
                let iat = iat.ok_or_else(|| missing("iat"))?;
                let (from, name) = match auth_time {
                    Some(at) => (at, "auth_time"),
                    None => (iat, "iat"),
                };
                Some(((from + max_age as f64 + leeway).floor() as i64, name))
            }
        };
        Ok(TimeWindow {
            expires: ceil(exp + leeway),
            not_before: nbf.map(|nbf| ceil(nbf - leeway)),
            issued: iat.map(|iat| ceil(iat - leeway)),
            authenticated: auth_time.map(|at| ceil(at - leeway)),
            max_age,
        })
    }

    /// Applies every claim rule at `now` (seconds since the epoch): the first failure of
    /// [`walk`](ClaimRules::walk).
    pub fn check(&self, claims: &Map<String, Value>, now: i64) -> Result<()> {
        self.check_as(claims, now, Presentation::Bearer)
    }

    /// [`check`](ClaimRules::check) with the `cnf` rule of `presentation`.
    pub fn check_as(
        &self,
        claims: &Map<String, Value>,
        now: i64,
        presentation: Presentation,
    ) -> Result<()> {
        first_failure(|visit| self.walk_as(claims, now, presentation, visit))
    }

    /// Each claim rule in [`check`](ClaimRules::check)'s order, with its result at `now`, until
    /// `visit` breaks: [`check`](ClaimRules::check) stops at the first failure, an explanation
    /// (`jwtgate explain`) runs them all. When the time claims themselves are unusable
    /// ([`Rule::TimeClaims`] fails) no time bound is applied.
    pub fn walk(
        &self,
        claims: &Map<String, Value>,
        now: i64,
        visit: &mut Visit<'_>,
    ) -> ControlFlow<()> {
        self.walk_as(claims, now, Presentation::Bearer, visit)
    }

    /// [`walk`](ClaimRules::walk) with the `cnf` rule of `presentation`.
    pub fn walk_as(
        &self,
        claims: &Map<String, Value>,
        now: i64,
        presentation: Presentation,
        visit: &mut Visit<'_>,
    ) -> ControlFlow<()> {
        match self.time_window(claims) {
            Ok(window) => {
                visit(Rule::TimeClaims, Ok(()))?;
                window.walk(now, visit)?;
            }
            Err(e) => visit(Rule::TimeClaims, Err(e))?,
        }
        visit(Rule::Issuer, self.issuer_rule(claims))?;
        visit(Rule::Audience, self.audience_rule(claims))?;
        visit(Rule::Subject, string(claims, "sub").map(drop))?;
        visit(Rule::TokenId, string(claims, "jti").map(drop))?;
        for name in &self.required {
            let result = unless(present(claims, name).is_none(), || {
                Error::claim(
                    Code::MissingClaim,
                    name.clone(),
                    "required claim is missing",
                )
            });
            visit(Rule::Required(name), result)?;
        }
        if let Some(path) = &self.tenant {
            visit(Rule::Tenant, tenant_of(claims, path).map(drop))?;
        }
        visit(Rule::Confirmation, confirmation_rule(claims, presentation))?;
        ControlFlow::Continue(())
    }

    fn issuer_rule(&self, claims: &Map<String, Value>) -> Result<()> {
        let iss = string(claims, "iss")?.ok_or_else(|| missing("iss"))?;
        unless(!self.issuers.iter().any(|i| i == iss), || {
            Error::claim(Code::Issuer, "iss", "token is from another issuer")
        })
    }

    fn audience_rule(&self, claims: &Map<String, Value>) -> Result<()> {
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
        unless(!aud_ok, || {
            Error::claim(Code::Audience, "aud", "token is meant for another audience")
        })
    }

    /// The signer's bounds on claims it signs as they are: `exp` no later than `iat + ttl` (the
    /// idle bound) nor than `auth_time + maxAgeSeconds` (the absolute bound, from `iat` without
    /// `auth_time`). `iat` and `exp` must be there, and the session id `sid` every token of
    /// this signer carries (a non-empty string).
    pub(crate) fn check_issued_bounds(&self, claims: &Map<String, Value>, ttl: i64) -> Result<()> {
        if string(claims, "sid")?.is_none_or(str::is_empty) {
            return Err(missing("sid"));
        }
        let iat = number(claims, "iat")?.ok_or_else(|| missing("iat"))?;
        let exp = number(claims, "exp")?.ok_or_else(|| missing("exp"))?;
        let mut limit = iat + ttl as f64;
        if let Some(max_age) = self.max_age {
            let start = number(claims, "auth_time")?.unwrap_or(iat);
            limit = limit.min(start + max_age as f64);
        }
        if exp > limit {
            return Err(Error::claim(
                Code::Malformed,
                "exp",
                "exp lies past the signer's bounds (iat + ttlSeconds, auth_time + maxAgeSeconds): sign afresh",
            ));
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
    ///
    /// The session's identity survives re-stamps: `sid` is kept if present (a string), else set
    /// to `sid` (fresh random bits from the signer), so a revocation list can name a session
    /// whatever it is re-issued as (see [`crate::revocation`]). Claims that carry `iat` are a
    /// re-stamp of an earlier token: without `auth_time` or `sid` they are refused
    /// (`missing_claim`), since stamping fresh ones would silently restart the absolute session
    /// lifetime or escape a `sid:` revocation (a refresh callback that rebuilt the claims and
    /// dropped them).
    pub(crate) fn stamp(
        &self,
        claims: &mut Map<String, Value>,
        now: i64,
        ttl: i64,
        (jti, sid): (String, String),
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
            None if present(claims, "iat").is_some() => {
                return Err(Error::claim(
                    Code::MissingClaim,
                    "auth_time",
                    "a re-stamped token (it has iat) must keep its auth_time: the absolute session lifetime would restart",
                ))
            }
            None => Value::from(now),
        };
        match string(claims, "sid")? {
            Some(s) if !s.is_empty() => {}
            // A re-stamp that lost its session id would leave `sid:` revocation behind.
            _ if present(claims, "iat").is_some() => {
                return Err(Error::claim(
                    Code::MissingClaim,
                    "sid",
                    "a re-stamped token (it has iat) must keep its sid: revocation by session would no longer reach it",
                ))
            }
            _ => {
                claims.insert("sid".into(), Value::String(sid));
            }
        }
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
        self.check_as(claims, now, Presentation::Issuing)
    }
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
            tenant: None,
        }
    }

    #[test]
    fn a_tenant_claim_is_required_and_names_one_tenant() {
        let r = ClaimRules {
            tenant: ClaimPath::parse("org.id"),
            ..rules()
        };
        let ok = |org: Value| {
            obj(
                json!({"sub": "u", "iss": "https://iss.example", "aud": "api", "exp": 2000, "org": {"id": org}}),
            )
        };
        // Every token needs it: absent or null is missing, any other type malformed.
        assert_eq!(code(r.check(&ok(json!("acme")), 1000)), None);
        assert_eq!(code(r.check(&ok(json!(42)), 1000)), None);
        for (org, want) in [
            (json!(null), Code::MissingClaim),
            (json!(""), Code::Malformed),
            (json!("a\u{0}b"), Code::Malformed),
            (json!(1.5), Code::Malformed),
            (json!(["acme"]), Code::Malformed),
            (json!({"id": "acme"}), Code::Malformed),
            (json!(true), Code::Malformed),
        ] {
            assert_eq!(
                code(r.check(&ok(org.clone()), 1000)),
                Some((want, "org.id".into())),
                "{org}"
            );
        }
        // The request's tenant, compared exactly.
        let check = |org: Value, t: &str| code(r.check_tenant(&ok(org), t));
        assert_eq!(check(json!("acme"), "acme"), None);
        assert_eq!(check(json!(42), "42"), None);
        assert_eq!(check(json!(-7), "-7"), None);
        let other = Some((Code::Tenant, "org.id".to_owned()));
        for t in ["other", "ACME", "acme ", "acm", "acme/x", "42"] {
            assert_eq!(check(json!("acme"), t), other, "{t}");
        }
        assert_eq!(check(json!("Acme"), "acme"), other);
        assert_eq!(check(json!(42), "042"), other);
        // Integers JavaScript cannot hold exactly name no tenant (two would read as one).
        let big = Some((Code::Malformed, "org.id".to_owned()));
        assert_eq!(
            check(json!(9_007_199_254_740_993_u64), "9007199254740993"),
            big
        );
        assert_eq!(
            check(json!(-9_007_199_254_740_992_i64), "-9007199254740992"),
            big
        );
        assert_eq!(
            check(json!(9_007_199_254_740_991_u64), "9007199254740991"),
            None
        );
        // A tenant claim that is missing is never a pass, whatever the request names.
        let mut c = ok(json!("acme"));
        c.remove("org");
        assert_eq!(
            code(r.check_tenant(&c, "acme")).map(|c| c.0),
            Some(Code::MissingClaim)
        );
        // Without tenantClaim in the policy, a tenant check is a configuration error.
        assert_eq!(
            rules()
                .check_tenant(&ok(json!("acme")), "acme")
                .unwrap_err()
                .code(),
            Code::Config
        );
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
        r.stamp(&mut c, 1000, 900, ("j".into(), "s".into()))
            .unwrap();
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
        r.stamp(&mut c, 4000, 900, ("j".into(), "s".into()))
            .unwrap();
        assert_eq!(c["exp"], 4600);
        assert_eq!(c["auth_time"], 1000);
        let mut c = obj(json!({"sub": "u1", "auth_time": 1000}));
        assert_eq!(
            code(r.stamp(&mut c, 4600, 900, ("j".into(), "s".into()))),
            Some((Code::TooOld, "auth_time".into()))
        );
        let mut c = obj(json!({"sub": "u1", "auth_time": "yesterday"}));
        assert_eq!(
            code(r.stamp(&mut c, 4000, 900, ("j".into(), "s".into()))),
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

    /// The window's bounds agree with its check at every second, for integer and fractional
    /// claims, with and without a maximum age (a cache hit tests only the bounds).
    #[test]
    fn window_bounds_agree_with_check() {
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let t0 = 1_800_000_000_i64;
        for case in 0..2000_u32 {
            let mut r = rules();
            r.leeway = (next() % 4) as i64 * 10;
            r.max_age = (case.is_multiple_of(2)).then(|| (next() % 200) as i64);
            let time = |next: &mut dyn FnMut() -> u64, spread: u64| {
                let base = t0 + (next() % spread) as i64 - (spread / 2) as i64;
                if next().is_multiple_of(3) {
                    json!(base as f64 + (next() % 1000) as f64 / 1000.0)
                } else {
                    json!(base)
                }
            };
            let mut claims = json!({"iss": "https://iss.example", "aud": "api", "sub": "u"});
            claims["exp"] = time(&mut next, 400);
            for name in ["nbf", "iat", "auth_time"] {
                if next().is_multiple_of(2) || (name == "iat" && r.max_age.is_some()) {
                    claims[name] = time(&mut next, 400);
                }
            }
            let claims = claims.as_object().unwrap().clone();
            let window = r.time_window(&claims).unwrap();
            let (from, until) = window.bounds();
            // The rule table of this module, literally, in real seconds.
            let get = |n: &str| claims.get(n).and_then(Value::as_f64);
            let l = r.leeway as f64;
            let reference = |now: f64| {
                let from = get("auth_time").or(get("iat"));
                now < get("exp").unwrap() + l
                    && get("nbf").is_none_or(|nbf| now >= nbf - l)
                    && get("iat").is_none_or(|iat| iat <= now + l)
                    && get("auth_time").is_none_or(|at| at <= now + l)
                    && r.max_age
                        .is_none_or(|m| now - l <= from.unwrap() + m as f64)
            };
            for now in t0 - 300..t0 + 300 {
                let inside = from <= now && now < until;
                assert_eq!(
                    inside,
                    reference(now as f64),
                    "case {case} now {now} {claims:?}"
                );
                assert_eq!(
                    r.check(&claims, now).is_ok(),
                    inside,
                    "case {case} now {now} {claims:?} {window:?}"
                );
            }
        }
    }
}
