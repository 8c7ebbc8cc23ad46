//! Errors: one type, one closed set of stable codes.
//!
//! Callers branch on [`Code`] (or its string form, [`Code::as_str`]), never on the message. The
//! message is for people and is built only from static text and names (claim names, policy field
//! names): it never contains the token, a signature, key material or a claim *value*, so an error
//! can be logged as it is.

use std::borrow::Cow;
use std::fmt;

/// The stable error codes. Their string forms ([`Code::as_str`]) are the public contract shared by
/// the Rust API, the npm package (`err.code`) and the edge gate (`error_description`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Code {
    /// Not a compact JWS of strict base64url segments holding UTF-8 JSON objects without duplicate
    /// members; or a claim of the wrong JSON type.
    Malformed,
    /// The token is longer than the policy's `maxTokenBytes`.
    TooLarge,
    /// The header `alg` is missing, not a string, `none`, not on the allowlist, or not one the
    /// selected key may be used with.
    Algorithm,
    /// A forbidden or malformed header member: `crit`, `b64`, `zip`, `jwk`, `jku`, `x5u`, `x5c`, or
    /// a `kid` that is not a string.
    Header,
    /// No usable key for the token's `kid` (or, without `kid`, more than one candidate key).
    KeyNotFound,
    /// The signature does not verify with the selected key.
    Signature,
    /// `now >= exp + leeway`.
    Expired,
    /// `now < nbf - leeway`.
    NotYetValid,
    /// `iat > now + leeway` (or, when stamping, `auth_time` in the future).
    IssuedInFuture,
    /// Older than the policy's `maxAgeSeconds`, counted from `auth_time` (else `iat`).
    TooOld,
    /// `aud` does not name any of the policy's audiences.
    Audience,
    /// `iss` is not (one of) the policy's issuer(s).
    Issuer,
    /// A required claim (`exp`, `iss`, `aud`, `iat` with `maxAgeSeconds`, or one listed in
    /// `requiredClaims`) is missing or `null`.
    MissingClaim,
    /// The header `typ` does not match the policy's `typ`.
    Type,
    /// The token's tenant (the claim the policy's `tenantClaim` names) is not the tenant the
    /// request is for (a path segment, the host's first label, or the caller's value).
    Tenant,
    /// The token was revoked (used by the edge gate's revocation list).
    Revoked,
    /// A DPoP proof (RFC 9449) is missing, malformed, or fails one of its rules (`typ`, `alg`,
    /// its public `jwk`, the signature, `htm`, `htu`, `iat`, `ath`, `jti`).
    DpopProof,
    /// The token and how it was presented disagree: a sender-constrained token (`cnf`) without
    /// its proof, a proof with a token that is not bound to a key, a proof by another key than
    /// `cnf.jkt`, or a confirmation method jwtgate does not check.
    DpopBinding,
    /// A DPoP proof's `jti` was already seen within its window: a replayed proof.
    Replayed,
    /// The server asks DPoP proofs for a nonce it issued (RFC 9449 §8), and this proof has
    /// none, or a stale or foreign one: retry with the `DPoP-Nonce` the answer carries.
    DpopNonce,
    /// The policy, a key, or an argument is invalid: raised at construction, never at a pass.
    Config,
}

impl Code {
    /// Every code, in documentation order.
    pub const ALL: [Code; 21] = [
        Code::Malformed,
        Code::TooLarge,
        Code::Algorithm,
        Code::Header,
        Code::KeyNotFound,
        Code::Signature,
        Code::Expired,
        Code::NotYetValid,
        Code::IssuedInFuture,
        Code::TooOld,
        Code::Audience,
        Code::Issuer,
        Code::MissingClaim,
        Code::Type,
        Code::Tenant,
        Code::Revoked,
        Code::DpopProof,
        Code::DpopBinding,
        Code::Replayed,
        Code::DpopNonce,
        Code::Config,
    ];

    /// The stable string form, e.g. `"not_yet_valid"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Code::Malformed => "malformed",
            Code::TooLarge => "too_large",
            Code::Algorithm => "algorithm",
            Code::Header => "header",
            Code::KeyNotFound => "key_not_found",
            Code::Signature => "signature",
            Code::Expired => "expired",
            Code::NotYetValid => "not_yet_valid",
            Code::IssuedInFuture => "issued_in_future",
            Code::TooOld => "too_old",
            Code::Audience => "audience",
            Code::Issuer => "issuer",
            Code::MissingClaim => "missing_claim",
            Code::Type => "type",
            Code::Tenant => "tenant",
            Code::Revoked => "revoked",
            Code::DpopProof => "dpop_proof",
            Code::DpopBinding => "dpop_binding",
            Code::Replayed => "replayed",
            Code::DpopNonce => "use_dpop_nonce",
            Code::Config => "config",
        }
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A jwtgate error: a [`Code`], the claim or policy field it concerns (if any), and a message
/// that is safe to log.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Error {
    code: Code,
    claim: Option<Cow<'static, str>>,
    field: Option<Cow<'static, str>>,
    message: Cow<'static, str>,
}

impl Error {
    /// An error with a code and a message. The message must not contain token material.
    pub(crate) fn new(code: Code, message: impl Into<Cow<'static, str>>) -> Self {
        Error {
            code,
            claim: None,
            field: None,
            message: message.into(),
        }
    }

    /// A claim error naming the claim.
    pub(crate) fn claim(
        code: Code,
        claim: impl Into<Cow<'static, str>>,
        message: impl Into<Cow<'static, str>>,
    ) -> Self {
        Error {
            claim: Some(claim.into()),
            ..Error::new(code, message)
        }
    }

    /// A `config` error naming the policy field (a path such as `keys.keys[0].k`).
    pub(crate) fn config(
        field: impl Into<Cow<'static, str>>,
        message: impl Into<Cow<'static, str>>,
    ) -> Self {
        Error {
            field: Some(field.into()),
            ..Error::new(Code::Config, message)
        }
    }

    /// The stable code.
    pub fn code(&self) -> Code {
        self.code
    }

    /// The claim this error is about (`"exp"`, `"aud"`, …), for claim errors.
    pub fn claim_name(&self) -> Option<&str> {
        self.claim.as_deref()
    }

    /// The policy field or argument this error is about, for `config` errors.
    pub fn field(&self) -> Option<&str> {
        self.field.as_deref()
    }

    /// A human-readable message, safe to log: it never contains the token or a signature.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)?;
        if let Some(claim) = &self.claim {
            write!(f, " (claim `{claim}`)")?;
        }
        if let Some(field) = &self.field {
            write!(f, " (field `{field}`)")?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}

/// Shorthand for results in this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_distinct_snake_case() {
        let mut seen = std::collections::HashSet::new();
        for code in Code::ALL {
            let s = code.as_str();
            assert!(seen.insert(s), "duplicate code {s}");
            assert!(s.chars().all(|c| c.is_ascii_lowercase() || c == '_'));
        }
        assert_eq!(seen.len(), Code::ALL.len());
    }

    #[test]
    fn display_names_claim_and_field() {
        let e = Error::claim(Code::Expired, "exp", "token expired");
        assert_eq!(e.to_string(), "expired: token expired (claim `exp`)");
        let e = Error::config("leewaySeconds", "out of range");
        assert_eq!(e.field(), Some("leewaySeconds"));
        assert_eq!(e.code(), Code::Config);
    }
}
