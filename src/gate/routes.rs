//! What a request path falls under: one table of path-prefix rules and the one matcher that
//! reads them.
//!
//! Every rule is a canonical path prefix (checked by the configuration) with what it does:
//!
//! | rule | setting | reading of the prefix |
//! |---|---|---|
//! | [`Rule::Public`] | `JWTGATE_PUBLIC_PATHS` | whole segments, case-sensitive |
//! | [`Rule::Preflight`] | `JWTGATE_PREFLIGHT_PATHS` | whole segments, case-sensitive |
//! | [`Rule::Scopes`] | `JWTGATE_SCOPES` | plain prefix, ignoring ASCII case |
//! | [`Rule::Providers`] | `JWTGATE_PROVIDER_ROUTES` | plain prefix *and* whole segments, ignoring ASCII case: both must agree |
//! | [`Rule::Tenant`], tenant in the path | `JWTGATE_TENANTS` | whole segments ignoring ASCII case, and a segment after them (the tenant) |
//! | [`Rule::Tenant`], tenant in the host or a header | `JWTGATE_TENANTS` | plain prefix, ignoring ASCII case |
//!
//! Each reading fails closed for what its rule does. A path that is public or whose preflight
//! is forwarded needs less than the rest, so those prefixes cover as little as they can
//! (`/public` covers `/public` and `/public/x`, not `/publicity` nor `/PUBLIC`; a prefix ending
//! in `/` covers what follows it). A scope rule asks for more, so it covers as much as an
//! upstream might route alike (`/admin` covers `/Admin`, `/admin.json` and `/administrator`).
//! A provider rule both restricts (the default provider) and admits (its providers), so a
//! provider is accepted only where both readings give it ([`Routes::accepted_providers`]).
//! A tenant rule also asks for more, so it covers as much as it can; with the tenant in the path
//! it needs the segment that names it (`/firms` covers `/Firms/acme/x`, whose tenant is `acme`).
//! Every tenant rule that covers a path applies, not only the longest ([`Routes::tenants`]).

use super::config::ProviderId;
use super::tenants::{Binding, TenantRule};

/// What a rule does to the paths its prefix covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rule {
    /// Passed through without a token.
    Public,
    /// CORS preflights are forwarded (elsewhere the gate answers them).
    Preflight,
    /// A token with these scopes is required (the longest matching rule's).
    Scopes(Vec<String>),
    /// Only these providers' tokens are accepted (the longest matching rule's).
    Providers(Vec<ProviderId>),
    /// The token's tenant must be the one the request names (every matching rule).
    Tenant(TenantRule),
}

/// How a prefix covers a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reading {
    /// Whole segments, case-sensitive.
    Segments,
    /// A plain prefix, ignoring ASCII case.
    Plain,
    /// Whole segments, ignoring ASCII case.
    SegmentsIgnoringCase,
}

/// Whether `prefix` covers the canonical `path` under `reading`: the one matcher.
fn covers(prefix: &str, path: &str, reading: Reading) -> bool {
    let Some(head) = path.get(..prefix.len()) else {
        return false;
    };
    let same = match reading {
        Reading::Segments => head == prefix,
        Reading::Plain | Reading::SegmentsIgnoringCase => head.eq_ignore_ascii_case(prefix),
    };
    let whole =
        || prefix.ends_with('/') || matches!(path.as_bytes().get(prefix.len()), None | Some(b'/'));
    same && (reading == Reading::Plain || whole())
}

/// What a request path needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route<'a> {
    /// Passed through without a token (public prefix).
    Public,
    /// A CORS preflight: forwarded (without body or credentials) or answered by the gate.
    Preflight {
        /// Whether a `JWTGATE_PREFLIGHT_PATHS` prefix covers it.
        forward: bool,
    },
    /// A valid token is required, with these scopes (possibly none).
    Protected(&'a [String]),
}

/// The gate's path rules: one table, longest prefix first.
#[derive(Debug, Clone, Default)]
pub struct Routes {
    rules: Vec<(String, Rule)>,
}

impl Routes {
    /// The table of `rules` (prefixes as the configuration checked them: canonical, scope and
    /// provider prefixes without a trailing `/`).
    pub fn new(mut rules: Vec<(String, Rule)>) -> Routes {
        // Stable: rules of one length keep their order (no two of one kind are equal).
        rules.sort_by_key(|(prefix, _)| std::cmp::Reverse(prefix.len()));
        Routes { rules }
    }

    /// The longest rule of the kind `pick` takes that covers `path` under `reading`.
    fn longest<'a, T: ?Sized>(
        &'a self,
        path: &str,
        reading: Reading,
        pick: impl Fn(&'a Rule) -> Option<&'a T>,
    ) -> Option<&'a T> {
        self.rules
            .iter()
            .filter(|(prefix, _)| covers(prefix, path, reading))
            .find_map(|(_, rule)| pick(rule))
    }

    /// Whether a rule of kind `rule` (public or preflight) covers `path`.
    fn any(&self, path: &str, rule: &Rule) -> bool {
        self.longest(path, Reading::Segments, |r| (r == rule).then_some(&()))
            .is_some()
    }

    /// What a request needs, for its canonical path ([`super::canonical_path`]).
    ///
    /// A CORS preflight (`OPTIONS` with `Origin` and `Access-Control-Request-Method`) is
    /// [`Route::Preflight`]: forwarded under a preflight prefix, answered by the gate elsewhere.
    /// Paths under a public prefix pass; everything else needs a token, with the scopes of the
    /// longest matching scope rule (see the module's table for how each prefix reads a path).
    pub fn route(&self, method: &str, path: &str, preflight: bool) -> Route<'_> {
        if method.eq_ignore_ascii_case("OPTIONS") && preflight {
            let forward = self.any(path, &Rule::Preflight);
            return Route::Preflight { forward };
        }
        if self.any(path, &Rule::Public) {
            return Route::Public;
        }
        let scopes = self.longest(path, Reading::Plain, |r| match r {
            Rule::Scopes(s) => Some(s.as_slice()),
            _ => None,
        });
        Route::Protected(scopes.unwrap_or(&[]))
    }

    /// The providers whose tokens `path` (canonical) accepts: the longest matching provider
    /// rule's, else the default provider only.
    ///
    /// Both readings of a rule must agree before a provider is admitted: the longest rule that is
    /// a plain prefix of the path (ignoring ASCII case: `/admin` covers `/ADMIN` and
    /// `/admin.json`, which upstreams may route alike) and the longest that covers it in whole
    /// segments (`/admin` covers `/Admin/x`, not `/administrator`). A provider is accepted only
    /// if both lists hold it, so a rule neither lets the default provider through where it was
    /// restricted nor admits its providers on a path nobody named (`/staff` does not admit its
    /// providers on `/staffing`, and there no provider is accepted at all).
    pub fn accepted_providers(&self, path: &str) -> Vec<ProviderId> {
        let providers = |reading| {
            self.longest(path, reading, |r| match r {
                Rule::Providers(list) => Some(list.as_slice()),
                _ => None,
            })
            .unwrap_or(&[ProviderId::DEFAULT])
        };
        let segments = providers(Reading::SegmentsIgnoringCase);
        providers(Reading::Plain)
            .iter()
            .copied()
            .filter(|p| segments.contains(p))
            .collect()
    }

    /// Every tenant rule that covers `path`, with the tenant segment a path rule reads (the
    /// canonical segment after the rule's prefix; `None` for host and header rules).
    pub fn tenants<'a>(
        &'a self,
        path: &'a str,
    ) -> impl Iterator<Item = (&'a TenantRule, Option<&'a str>)> {
        self.rules.iter().filter_map(move |(prefix, rule)| {
            let Rule::Tenant(t) = rule else {
                return None;
            };
            match t.binding {
                Binding::Path => {
                    if !covers(prefix, path, Reading::SegmentsIgnoringCase) {
                        return None;
                    }
                    let rest = path.get(prefix.len()..)?.strip_prefix('/')?;
                    let segment = rest.split('/').next().filter(|s| !s.is_empty())?;
                    Some((t, Some(segment)))
                }
                Binding::Host(_) | Binding::Header(_) => {
                    covers(prefix, path, Reading::Plain).then_some((t, None))
                }
            }
        })
    }

    /// A tenant rule's prefix that a public prefix covers (its paths would pass with no token,
    /// so with no tenant checked): the configuration's check.
    pub fn tenant_under_public_path(&self) -> Option<&str> {
        self.rules
            .iter()
            .filter(|(_, rule)| matches!(rule, Rule::Tenant(_)))
            .map(|(prefix, _)| prefix.as_str())
            .find(|prefix| {
                // Generously: a public prefix in any case, with or without its trailing `/`,
                // covering the tenant prefix's whole segments (`/`, `/firms/` and `/Firms` all
                // cover `/firms`).
                self.rules.iter().any(|(public, rule)| {
                    *rule == Rule::Public
                        && covers(
                            public.trim_end_matches('/'),
                            prefix,
                            Reading::SegmentsIgnoringCase,
                        )
                })
            })
    }

    /// Whether a public prefix starts `path` even as a plain, case-sensitive prefix: the
    /// configuration's check that no public path lies over an endpoint of the gate's own.
    pub fn public_over(&self, path: &str) -> bool {
        self.rules
            .iter()
            .any(|(prefix, rule)| *rule == Rule::Public && path.starts_with(prefix.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scopes(list: &[&str]) -> Rule {
        Rule::Scopes(list.iter().map(|s| (*s).to_owned()).collect())
    }

    #[test]
    fn each_reading_covers_what_its_table_row_says() {
        let cases: &[(&str, &str, [bool; 3])] = &[
            // prefix, path, [segments, plain, segments ignoring case]
            ("/public", "/public", [true, true, true]),
            ("/public", "/public/x", [true, true, true]),
            ("/public", "/publicity", [false, true, false]),
            ("/public", "/PUBLIC/x", [false, true, true]),
            ("/public/", "/public/x", [true, true, true]),
            ("/public/", "/public", [false, false, false]),
            ("/a", "/", [false, false, false]),
            ("/", "/anything", [true, true, true]),
            ("/admin", "/admin.json", [false, true, false]),
        ];
        for (prefix, path, want) in cases {
            let got = [
                Reading::Segments,
                Reading::Plain,
                Reading::SegmentsIgnoringCase,
            ]
            .map(|r| covers(prefix, path, r));
            assert_eq!(&got, want, "{prefix} {path}");
        }
        // A path shorter than the prefix, or cut inside a UTF-8 sequence, is not covered.
        assert!(!covers("/abc", "/a", Reading::Plain));
        assert!(!covers("/ab", "/a\u{e9}", Reading::Plain));
    }

    #[test]
    fn one_table_answers_every_question() {
        let api = ProviderId::at(1);
        let routes = Routes::new(vec![
            ("/public".into(), Rule::Public),
            ("/api/".into(), Rule::Preflight),
            ("/admin".into(), scopes(&["admin"])),
            ("/admin/audit".into(), scopes(&["admin", "audit"])),
            (
                "/api".into(),
                Rule::Providers(vec![api, ProviderId::DEFAULT]),
            ),
            ("/api/internal".into(), Rule::Providers(vec![api])),
            ("/staff".into(), Rule::Providers(vec![ProviderId::at(2)])),
        ]);
        assert_eq!(routes.route("GET", "/public/x", false), Route::Public);
        assert_eq!(
            routes.route("GET", "/PUBLIC/x", false),
            Route::Protected(&[])
        );
        assert_eq!(
            routes.route("options", "/api/x", true),
            Route::Preflight { forward: true }
        );
        assert_eq!(
            routes.route("OPTIONS", "/public", true),
            Route::Preflight { forward: false }
        );
        // Without the preflight headers an OPTIONS is an ordinary request.
        assert_eq!(routes.route("OPTIONS", "/public", false), Route::Public);
        let admin = ["admin".to_owned()];
        let audit = ["admin".to_owned(), "audit".to_owned()];
        assert_eq!(
            routes.route("GET", "/Administrator", false),
            Route::Protected(&admin)
        );
        assert_eq!(
            routes.route("GET", "/admin/AUDIT.json", false),
            Route::Protected(&audit)
        );
        assert_eq!(
            routes.accepted_providers("/api/x"),
            [api, ProviderId::DEFAULT]
        );
        assert_eq!(routes.accepted_providers("/API/Internal/x"), [api]);
        assert_eq!(routes.accepted_providers("/other"), [ProviderId::DEFAULT]);
        // The readings disagree: only whom both admit (`/api/internal` as a plain prefix, `/api`
        // in whole segments), and where they share nobody, nobody.
        assert_eq!(routes.accepted_providers("/api/internal.json"), [api]);
        assert_eq!(routes.accepted_providers("/staffing"), []);
        assert_eq!(routes.accepted_providers("/apiary"), [ProviderId::DEFAULT]);
        assert!(routes.public_over("/publicity") && !routes.public_over("/pub"));
        assert_eq!(
            Routes::default().accepted_providers("/api"),
            [ProviderId::DEFAULT]
        );
        assert_eq!(
            Routes::default().route("GET", "/", false),
            Route::Protected(&[])
        );
    }
}
