//! `JWTGATE_TENANTS`: the tenant rules ([`crate::gate::tenants`]).

use super::*;
use crate::gate::tenants::{Binding, TenantRule};

/// A tenant rule's members.
const MEMBERS: [&str; 4] = ["route", "host", "header", "providers"];

/// `JWTGATE_TENANTS`: a JSON array of 1 to 32 rules `{"route", "host"?, "header"?,
/// "providers"?}` (no other member). `route` is a canonical path prefix; ending in the segment
/// `{tenant}` it binds the tenant to that path segment, else `host` (`{tenant}.` and one or
/// more DNS labels) or `header` (an `x-jwtgate-` name the gate writes, not a claim header's)
/// says where: exactly one binding per rule. `providers` names the providers it applies to
/// (default: all), and each of them needs a policy `tenantClaim`.
pub(super) fn tenant_rules(
    get: &impl Fn(&str) -> Option<String>,
    providers: &[Provider],
    claim_headers: &[(crate::claims::ClaimPath, String)],
) -> Result<Vec<(String, Rule)>, ConfigError> {
    const S: &str = "JWTGATE_TENANTS";
    let Some(text) = get(S) else {
        return Ok(Vec::new());
    };
    let Ok(Value::Array(list)) = json::parse(text.as_bytes()) else {
        return Err(err(S, "must be a strict JSON array of tenant rules"));
    };
    if list.is_empty() || list.len() > 32 {
        return Err(err(S, "must list 1 to 32 tenant rules"));
    }
    let mut out: Vec<(String, Rule)> = Vec::new();
    for entry in &list {
        let Value::Object(entry) = entry else {
            return Err(err(S, "each tenant rule is an object"));
        };
        if let Some(other) = entry.keys().find(|k| !MEMBERS.contains(&k.as_str())) {
            let shown: String = other.chars().take(32).collect();
            return Err(err(
                S,
                format!(
                    "unknown tenant rule member {shown:?} ({})",
                    MEMBERS.join(", ")
                ),
            ));
        }
        let text = |name: &str| match entry.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.as_str())),
            Some(_) => Err(err(S, format!("a tenant rule's {name} must be a string"))),
        };
        let route = text("route")?.ok_or_else(|| err(S, "each tenant rule needs a route"))?;
        let (prefix, in_path) = match route.strip_suffix("/{tenant}") {
            Some(literal) => (literal, true),
            None => (route, false),
        };
        let prefix_ok = (prefix.is_empty() && in_path) || values::canonical_prefix(prefix);
        if !prefix_ok || prefix.contains(['{', '}']) {
            return Err(err(
                S,
                "a tenant rule's route is a canonical path prefix, with {tenant} only as its last segment (/firms/{tenant})",
            ));
        }
        let binding = match (in_path, text("host")?, text("header")?) {
            (true, None, None) => Binding::Path,
            (false, Some(host), None) => Binding::Host(host_suffix(host).ok_or_else(|| {
                err(
                    S,
                    "a tenant rule's host is {tenant} followed by a DNS name: {tenant}.app.example",
                )
            })?),
            (false, None, Some(header)) => {
                let name = identity_header_name(header).ok_or_else(|| {
                    err(
                        S,
                        "a tenant rule's header is an x-jwtgate- name of letters, digits and - (not the gate's own)",
                    )
                })?;
                if claim_headers.iter().any(|(_, h)| *h == name) {
                    return Err(err(S, "a tenant rule's header is a JWTGATE_CLAIM_HEADERS header too"));
                }
                Binding::Header(name)
            }
            _ => {
                return Err(err(
                    S,
                    "each tenant rule binds the tenant once: {tenant} in its route, or a host, or a header",
                ))
            }
        };
        let ids = match entry.get("providers") {
            None => None,
            Some(Value::Array(names)) if !names.is_empty() => Some(
                names
                    .iter()
                    .map(|n| {
                        let n = n.as_str()?;
                        providers.iter().find(|p| p.name == n).map(|p| p.id)
                    })
                    .collect::<Option<Vec<_>>>()
                    .ok_or_else(|| {
                        err(S, "a tenant rule's providers are names from JWTGATE_PROVIDERS, or \"default\"")
                    })?,
            ),
            Some(_) => {
                return Err(err(S, "a tenant rule's providers is a non-empty array of provider names"))
            }
        };
        // Each provider the rule applies to must name its tokens' tenant.
        let without = providers.iter().find(|p| {
            ids.as_ref().is_none_or(|ids| ids.contains(&p.id))
                && p.policy.rules().tenant_claim().is_none()
        });
        if let Some(p) = without {
            return Err(err(
                S,
                format!(
                    "provider {:?} has no tenantClaim in its policy: its tokens name no tenant",
                    p.name
                ),
            ));
        }
        let prefix = prefix.trim_end_matches('/').to_owned();
        let rule = TenantRule {
            binding,
            providers: ids,
        };
        if out
            .iter()
            .any(|(p, r)| p.eq_ignore_ascii_case(&prefix) && *r == Rule::Tenant(rule.clone()))
        {
            return Err(err(S, "the same tenant rule twice"));
        }
        out.push((prefix, Rule::Tenant(rule)));
    }
    Ok(out)
}

/// A `host` pattern's suffix, with its leading `.`, lower-cased: `{tenant}.app.example` gives
/// `.app.example`. `None` unless the pattern is `{tenant}.` and DNS labels of letters, digits
/// and inner `-`.
fn host_suffix(host: &str) -> Option<String> {
    let rest = host.strip_prefix("{tenant}.")?.to_ascii_lowercase();
    let label = |l: &str| {
        (1..=63).contains(&l.len())
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    rest.split('.').all(label).then(|| format!(".{rest}"))
}
