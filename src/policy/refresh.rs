//! A policy's `refresh` member: the refresh tokens' audience and lifetimes. Rotation itself is
//! in [`crate::refresh`].

use super::members::member_object;
use crate::error::{Error, Result};
use serde_json::Value;

/// The default refresh-token (idle) lifetime: 14 days.
pub const DEFAULT_REFRESH_TTL_SECONDS: i64 = 14 * 24 * 3600;
/// The default lifetime of the access tokens a refresh issues: 15 minutes.
pub const DEFAULT_ACCESS_TTL_SECONDS: i64 = 900;

/// A policy's `refresh` member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshRules {
    audience: String,
    ttl: i64,
    access_ttl: i64,
}

impl RefreshRules {
    /// Reads `{"audience": "...", "ttlSeconds"?: n, "accessTtlSeconds"?: n}`; `audiences` are
    /// the policy's access audiences (the refresh audience must be none of them) and `max_age`
    /// its `maxAgeSeconds` (required: a refreshable session needs an absolute end).
    pub(crate) fn from_value(
        value: &Value,
        audiences: &[String],
        max_age: Option<i64>,
    ) -> Result<RefreshRules> {
        let obj = member_object(
            value,
            "refresh",
            &["audience", "ttlSeconds", "accessTtlSeconds"],
            "{\"audience\": \"...\", \"ttlSeconds\": n, \"accessTtlSeconds\": n}",
        )?;
        let audience = match obj.get("audience") {
            Some(Value::String(a)) if !a.trim().is_empty() => a.clone(),
            _ => {
                return Err(Error::config(
                    "refresh.audience",
                    "required: the refresh tokens' own audience (a non-empty string)",
                ))
            }
        };
        if audiences.contains(&audience) {
            return Err(Error::config(
                "refresh.audience",
                "must differ from every access audience: an access verifier would accept refresh tokens",
            ));
        }
        if max_age.is_none() {
            return Err(Error::config(
                "maxAgeSeconds",
                "required with refresh: rotation would otherwise extend a session for ever",
            ));
        }
        let seconds = |name: &'static str, default: i64| -> Result<i64> {
            match obj.get(name).filter(|v| !v.is_null()) {
                None => Ok(default),
                Some(v) => match v.as_i64() {
                    Some(n) if (60..=31_536_000).contains(&n) => Ok(n),
                    _ => Err(Error::config(
                        if name == "ttlSeconds" {
                            "refresh.ttlSeconds"
                        } else {
                            "refresh.accessTtlSeconds"
                        },
                        "must be a whole number from 60 to 31536000",
                    )),
                },
            }
        };
        Ok(RefreshRules {
            audience,
            ttl: seconds("ttlSeconds", DEFAULT_REFRESH_TTL_SECONDS)?,
            access_ttl: seconds("accessTtlSeconds", DEFAULT_ACCESS_TTL_SECONDS)?,
        })
    }

    /// The refresh tokens' audience.
    pub fn audience(&self) -> &str {
        &self.audience
    }

    /// A refresh token's (idle) lifetime in seconds.
    pub fn ttl_seconds(&self) -> i64 {
        self.ttl
    }

    /// The lifetime of the access tokens a refresh issues, in seconds.
    pub fn access_ttl_seconds(&self) -> i64 {
        self.access_ttl
    }
}
