//! Tenant bindings (`JWTGATE_TENANTS`): a token opens only its own tenant's resources.
//!
//! A rule binds the tenant claim of a provider's policy (`tenantClaim`) to a part of the request
//! on the paths its route covers ([`super::routes`]):
//!
//! - **the path**: `{"route": "/firms/{tenant}"}`: the segment after `/firms` must name the
//!   token's tenant, exactly, once percent-decoded from the canonical path (`/firms/%61cme` is
//!   `acme`, as the upstream reads it; `/firms/ACME` is not `acme`);
//! - **the host**: `{"route": "/", "host": "{tenant}.app.example"}`: the host's first label (the
//!   host is lower-cased) must name it exactly, and the rest of the host must be exactly
//!   `app.example`: a request whose host names no tenant that way is refused. The upstream reads
//!   the host from `X-Forwarded-Host`, which the gate writes (a client's own host headers are
//!   stripped, see [`super::HOST_OVERRIDE_HEADERS`]);
//! - **a header the gate writes**: `{"route": "/api", "header": "x-jwtgate-tenant"}`: the
//!   upstream reads the verified tenant there (a client's own is stripped, as every
//!   `x-jwtgate-*` is).
//!
//! A tenant the gate binds is plain: 1 to 128 ASCII letters, digits, `-` and `_` (a request or
//! token naming another is refused), so no upstream can read it as another tenant.
//!
//! A rule applies to every provider, or to those it names (`"providers": ["default"]`); each
//! provider it applies to must have a `tenantClaim`, so its tokens always carry a tenant. Every
//! rule that covers a path applies. A request whose tenant differs from the token's is refused
//! with 403 `insufficient_scope` and `reason` `tenant` before anything reaches the upstream.

use super::config::ProviderId;
use super::GateConfig;
use crate::claims::tenant_of;
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
        // The request's tenant must be the token's, and a plain one: letters, digits, `-` and
        // `_`, so no upstream reads it as something else (`other.json` as tenant `other` with a
        // format, `a,b` as a list).
        let named = |tenant: Option<String>| match tenant.filter(|t| plain(t)) {
            Some(t) => rules.check_tenant(claims, &t),
            // The request names no (plain) tenant where the rule says it must: never a pass.
            None => Err(Error::new(
                Code::Tenant,
                "the request names no plain tenant where its route binds one",
            )),
        };
        match &rule.binding {
            // A canonical segment's escapes are all well formed: decoded as the upstream reads it.
            Binding::Path => named(segment.and_then(crate::uri::percent_decode))?,
            Binding::Host(suffix) => {
                let label = host
                    .strip_suffix(suffix.as_str())
                    .filter(|l| !l.is_empty() && !l.contains('.'));
                named(label.map(str::to_owned))?
            }
            Binding::Header(name) => {
                let path = rules.tenant_claim().ok_or_else(|| {
                    Error::config("tenantClaim", "the provider's policy names no tenant claim")
                })?;
                let tenant = tenant_of(claims, path)?;
                if !plain(&tenant) {
                    return Err(Error::claim(
                        Code::Tenant,
                        path.as_str().to_owned(),
                        "the token's tenant is not plain (letters, digits, - and _): not written",
                    ));
                }
                if !headers.iter().any(|(h, _)| h == name) {
                    headers.push((name.clone(), tenant.into_owned()));
                }
            }
        }
    }
    Ok(headers)
}

/// Whether a tenant is one the gate binds: 1 to 128 ASCII letters, digits, `-` and `_`.
fn plain(tenant: &str) -> bool {
    (1..=128).contains(&tenant.len())
        && tenant
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}
