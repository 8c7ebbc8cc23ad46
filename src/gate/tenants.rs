//! Tenant bindings (`JWTGATE_TENANTS`): a token opens only its own tenant's resources.
//!
//! A rule binds the tenant claim of a provider's policy (`tenantClaim`) to a part of the request
//! on the paths its route covers ([`super::routes`]):
//!
//! - **the path**: `{"route": "/firms/{tenant}"}`: the segment after `/firms` must name the
//!   token's tenant, exactly, once percent-decoded from the canonical path (`/firms/%61cme` is
//!   `acme`, as the upstream reads it; `/firms/ACME` is not `acme`);
//! - **the host**: `{"route": "/", "host": "{tenant}.app.example"}`: the host's first label must
//!   name it (ignoring ASCII case, as DNS does), and the rest of the host must be exactly
//!   `app.example`: a request whose host names no tenant that way is refused;
//! - **a header the gate writes**: `{"route": "/api", "header": "x-jwtgate-tenant"}`: the
//!   upstream reads the verified tenant there (a client's own is stripped, as every
//!   `x-jwtgate-*` is).
//!
//! A rule applies to every provider, or to those it names (`"providers": ["default"]`); each
//! provider it applies to must have a `tenantClaim`, so its tokens always carry a tenant. Every
//! rule that covers a path applies. A request whose tenant differs from the token's is refused
//! with 403 `insufficient_scope` and `reason` `tenant` before anything reaches the upstream.

use super::config::ProviderId;
use super::GateConfig;
use crate::claims::{tenant_of, TenantMatch};
use crate::error::{Code, Error};
use serde_json::{Map, Value};

/// Where a rule reads the request's tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Binding {
    /// The path segment after the rule's prefix.
    Path,
    /// The host's first label; the rest of the host must be this suffix (lower case, with its
    /// leading `.`).
    Host(String),
    /// No comparison: the gate writes the token's tenant in this header (lower case,
    /// `x-jwtgate-*`).
    Header(String),
}

/// One tenant rule (its route prefix is its key in [`super::Routes`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantRule {
    /// Where the request names its tenant.
    pub binding: Binding,
    /// The providers it applies to (`None`: every one).
    pub providers: Option<Vec<ProviderId>>,
}

impl TenantRule {
    fn applies_to(&self, provider: ProviderId) -> bool {
        self.providers
            .as_ref()
            .is_none_or(|p| p.contains(&provider))
    }
}

/// Every tenant rule covering `path` for a token of `provider` with these (verified) claims:
/// the headers to write when all hold, else the first failure (`tenant`, or `missing_claim` /
/// `malformed` for a tenant claim that cannot be read, or `config` for a provider without a
/// tenant claim, which the configuration already refuses).
pub fn check(
    config: &GateConfig,
    provider: ProviderId,
    path: &str,
    host: &str,
    claims: &Map<String, Value>,
) -> Result<Vec<(String, String)>, Error> {
    let mut headers: Vec<(String, String)> = Vec::new();
    for (rule, segment) in config.routes.tenants(path) {
        if !rule.applies_to(provider) {
            continue;
        }
        let rules = config
            .provider(provider)
            .map(|p| p.policy.rules())
            .ok_or_else(|| Error::config("JWTGATE_TENANTS", "unknown provider"))?;
        let named = |tenant: Option<String>, how| match tenant {
            Some(t) => rules.check_tenant(claims, &t, how),
            // The request names no tenant where the rule says it must: never a pass.
            None => Err(Error::new(
                Code::Tenant,
                "the request names no tenant where its route binds one",
            )),
        };
        match &rule.binding {
            Binding::Path => named(segment.and_then(decoded), TenantMatch::Exact)?,
            Binding::Host(suffix) => {
                let label = host
                    .strip_suffix(suffix.as_str())
                    .filter(|l| !l.is_empty() && !l.contains('.'));
                named(label.map(str::to_owned), TenantMatch::IgnoreAsciiCase)?
            }
            Binding::Header(name) => {
                let path = rules.tenant_claim().ok_or_else(|| {
                    Error::config("tenantClaim", "the provider's policy names no tenant claim")
                })?;
                let tenant = tenant_of(claims, path)?;
                if !headers.iter().any(|(h, _)| h == name) {
                    headers.push((name.clone(), super::header_safe(&tenant)));
                }
            }
        }
    }
    Ok(headers)
}

/// A canonical path segment with every percent-escape decoded, as the upstream reads it; `None`
/// if that is not UTF-8 (no tenant is named by it).
fn decoded(segment: &str) -> Option<String> {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match crate::uri::escape_at(bytes, i) {
            Some(b) => {
                out.push(b);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_segment_is_read_as_the_upstream_decodes_it() {
        assert_eq!(decoded("acme").as_deref(), Some("acme"));
        assert_eq!(decoded("acme%20corp").as_deref(), Some("acme corp"));
        assert_eq!(decoded("caf%C3%A9").as_deref(), Some("café"));
        assert_eq!(decoded("%FF"), None);
    }
}
