//! One request's whole decision, in plain Rust: the Worker reads the request into a
//! [`RequestView`], asks [`plan`], and carries out the [`Plan`]: answer, forward with exactly
//! these header edits, or verify the token (the only step that needs I/O: keys, WebCrypto,
//! the revocation list) and then ask [`after_verify`]. The Worker decides nothing itself, so
//! every decision here is tested natively.
//!
//! Order of the checks (each can end the request): the canonical path (400); the route
//! (public → forward, preflight → forward or the gate's own answer); the credential (ambiguous
//! cookies → 400; none → 401, or a login redirect for a browser navigation); the token's size
//! (401 `too_large`, before any key or cache work); then, after verification, the scopes (403)
//! and the forward with identity headers.

use super::answer::{self, Answer};
use super::config::DpopMode;
use super::same_header;
use super::token::{
    dpop_token, extract_token, forwarded_cookies, session_cookies_to_clear, single_cookie,
    without_cookie, Credential, Source,
};
use super::{canonical_path, has_scopes, identity_headers, is_stripped_header, rejection_log};
use super::{omitted_log, Identity};
use super::{Authenticated, GateConfig, ProviderId, Route};
use crate::error::{Code, Error};
use crate::revocation::RevocationVerdict;

/// What the gate needs to know about a request, read by the Worker (no I/O here).
#[derive(Debug, Clone, Copy)]
pub struct RequestView<'a> {
    /// The method.
    pub method: &'a str,
    /// The full URL (a login redirect's `callbackUrl`).
    pub url: &'a str,
    /// The URL's host: the RFC 6750 realm.
    pub host: &'a str,
    /// The URL's path as received (percent-encoded).
    pub raw_path: &'a str,
    /// The names of the request's headers (any case).
    pub header_names: &'a [String],
    /// `Authorization`.
    pub authorization: Option<&'a str>,
    /// The values of the configured token headers ([`GateConfig::token_headers`], same order).
    pub token_headers: &'a [Option<String>],
    /// `Cookie`.
    pub cookie: Option<&'a str>,
    /// `Accept`.
    pub accept: Option<&'a str>,
    /// Whether both `Origin` and `Access-Control-Request-Method` are present (a preflight).
    pub preflight_headers: bool,
    /// `cf-ray`, for the logs.
    pub ray: Option<&'a str>,
    /// `DPoP` (RFC 9449's proof header), as the runtime gives it: several `DPoP` headers come
    /// joined by `, `, which no compact JWS contains.
    pub dpop: Option<&'a str>,
    /// `Origin`, for the refresh endpoint's same-origin check.
    pub origin: Option<&'a str>,
    /// `Sec-Fetch-Site`, likewise.
    pub sec_fetch_site: Option<&'a str>,
}

/// A log line the Worker writes for a refused request (never the token).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// The JSON line ([`rejection_log`]).
    pub line: String,
    /// Written as an error (the gate could not judge: 503), not as a plain log line.
    pub error: bool,
}

/// How to forward a request upstream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForwardPlan {
    /// The canonical path, the one that was judged (the query goes on as it came).
    pub path: String,
    /// Request headers to delete (lower-case names), before `set`.
    pub remove: Vec<String>,
    /// Request headers to set.
    pub set: Vec<(String, String)>,
    /// Whether the body goes on (not for a preflight).
    pub with_body: bool,
    /// A line for the Worker to log (identity headers left out for their size), never a token.
    pub log: Option<String>,
}

/// A final decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Done {
    /// Answer this without contacting the upstream, and log the rejection if there is one.
    Answer(Answer, Option<Rejection>),
    /// Forward as planned.
    Forward(ForwardPlan),
}

/// The first decision: final, or "verify this token, then [`after_verify`]".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// Final.
    Done(Done),
    /// Verify [`Pending::token`], then call [`after_verify`].
    Verify(Pending),
    /// A refresh at `JWTGATE_REFRESH_PATH` with this refresh token: rotate it in the family
    /// store, then call [`after_refresh`].
    Refresh(String),
    /// An authenticated request to the sessions admin endpoint: carry it out with
    /// [`super::admin::run`].
    Admin(super::admin::AdminOp),
}

/// A request waiting for its token to be verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    /// The token (never logged).
    pub token: String,
    /// The provider whose keys verify it.
    pub provider: ProviderId,
    source: Source,
    required: Vec<String>,
    path: String,
    /// The DPoP proof, for a token presented as `Authorization: DPoP` (never logged).
    proof: Option<String>,
}

impl Pending {
    /// How the token was presented, for the claim rules' `cnf` rule: with a DPoP proof (checked
    /// next, by [`prepare_dpop`] and [`finish_dpop`]) or as a bearer credential (a bound token is then refused).
    pub fn presentation(&self) -> crate::Presentation {
        if self.proof.is_some() {
            crate::Presentation::Proven
        } else {
            crate::Presentation::Bearer
        }
    }

    /// The Auth.js session-cookie reader for this credential, when it must be opened as
    /// Auth.js's JWE (`JWTGATE_AUTHJS_SECRET` set and the credential came from a cookie: the
    /// reader of that cookie's name); `None` when it is verified as a signed token.
    #[cfg(feature = "jwe-reader")]
    pub fn session_reader<'c>(
        &self,
        config: &'c GateConfig,
    ) -> Option<&'c crate::jwe::AuthJsCookie> {
        session_reader(config, self.source)
    }
}

/// The Auth.js reader of a cookie credential's name, when `JWTGATE_AUTHJS_SECRET` makes that
/// cookie Auth.js's JWE (the default provider's cookies only).
#[cfg(feature = "jwe-reader")]
fn session_reader(config: &GateConfig, source: Source) -> Option<&crate::jwe::AuthJsCookie> {
    match source {
        Source::Cookie(i) => config.cookies().nth(i)?.1.reader.as_ref(),
        Source::Bearer | Source::Dpop | Source::Header(_) => None,
    }
}

/// Why verification did not give a token.
#[derive(Debug, Clone, PartialEq)]
pub enum Refusal {
    /// The token is invalid (401 with the code).
    Invalid(Error),
    /// The gate cannot judge now (503 with this reason and `Retry-After` seconds).
    Unavailable(Unavailable, i64),
}

/// Why the gate cannot judge a request now (a 503's `reason`, documented in `docs/gate.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unavailable {
    /// No usable remote key set (never fetched, or past its stale bound).
    Jwks,
    /// The revocation list (KV) did not answer.
    Revocation,
    /// The DPoP replay store (the gate's Durable Object) did not answer.
    Replay,
    /// The refresh-family store (the gate's Durable Object) did not answer.
    Session,
    /// The refresh endpoint could not sign (no signing key, or a generation at its limit).
    Refresh,
    /// The provider has no key set at all.
    NoKeys,
}

impl Unavailable {
    /// Every reason.
    pub const ALL: [Unavailable; 6] = [
        Unavailable::Jwks,
        Unavailable::Revocation,
        Unavailable::Replay,
        Unavailable::Session,
        Unavailable::Refresh,
        Unavailable::NoKeys,
    ];

    /// The stable string the 503 body and the log line carry.
    pub const fn as_str(self) -> &'static str {
        match self {
            Unavailable::Jwks => "jwks_unavailable",
            Unavailable::Revocation => "revocation_unavailable",
            Unavailable::Replay => "replay_unavailable",
            Unavailable::Session => "session_unavailable",
            Unavailable::Refresh => "refresh_unavailable",
            Unavailable::NoKeys => "no_keys",
        }
    }
}

/// The revocation list's verdict as verification's outcome (503 when a lookup failed and the
/// gate does not fail open).
pub fn revocation_outcome(verdict: RevocationVerdict) -> Result<(), Refusal> {
    match verdict {
        RevocationVerdict::Pass => Ok(()),
        RevocationVerdict::Revoked(e) => Err(Refusal::Invalid(e)),
        RevocationVerdict::Unavailable => Err(Refusal::Unavailable(Unavailable::Revocation, 5)),
    }
}

/// Whether a verification failure is worth one JWKS refetch: an unknown `kid` with a remote
/// key set (the issuer may have rotated). The refetch itself is rate-limited by the JWKS state.
pub fn refetch_for(config: &GateConfig, provider: ProviderId, error: &Error) -> bool {
    error.code() == Code::KeyNotFound && config.provider(provider).is_some_and(|p| p.jwks.is_some())
}

/// The provider that verifies `credential` on `path`: the source's own provider for a provider's
/// own header or cookie and for an Auth.js session cookie; the default one on a gate without
/// `JWTGATE_PROVIDERS`; else the one whose issuers hold the
/// token's `iss` (read unverified: it only picks whose keys may try). `None` when no provider
/// has that issuer or the path's route does not accept it: no key of another provider is ever
/// tried on the token.
fn choose_provider(config: &GateConfig, credential: &Credential, path: &str) -> Option<ProviderId> {
    // The source's provider, when the source decides: a provider's own header or cookie, or an
    // Auth.js cookie (only the default provider opens those).
    let pinned = match credential.source {
        Source::Cookie(i) => config
            .cookies()
            .nth(i)
            .filter(|(p, c)| p.pins_sources || c.is_authjs())
            .map(|(p, _)| p.id),
        Source::Header(i) => config
            .token_headers()
            .nth(i)
            .filter(|(p, _)| p.pins_sources)
            .map(|(p, _)| p.id),
        Source::Bearer | Source::Dpop => None,
    };
    let chosen = match pinned {
        Some(p) => p,
        None if !config.has_providers() => ProviderId::DEFAULT,
        None => config.provider_for_issuer(&crate::jws::peek_issuer(&credential.token)?)?,
    };
    config
        .routes
        .accepted_providers(path)
        .contains(&chosen)
        .then_some(chosen)
}

fn refuse(
    answer: Answer,
    reason: &str,
    token: Option<&str>,
    path: &str,
    req: &RequestView,
) -> Done {
    Done::Answer(
        answer,
        Some(Rejection {
            line: rejection_log(reason, token, path, req.ray),
            error: false,
        }),
    )
}

/// Whether a refusal of a session cookie means the session itself is over or unreadable, so the
/// browser should sign in again and drop it: ended (`expired`, `too_old`, `revoked`) or broken
/// (`signature`, `malformed`). Not a cookie refused for where it was sent (`issuer`: a route of
/// another provider), for a key the gate has not fetched yet (`key_not_found` during a
/// rotation) or for the app's configuration (`missing_claim`): clearing a valid session on a
/// cross-site link would log users out.
fn session_is_dead(code: Code) -> bool {
    matches!(
        code,
        Code::Expired | Code::TooOld | Code::Revoked | Code::Signature | Code::Malformed
    )
}

/// The answer for a browser navigation whose session cookie ended or is broken, on a gate with
/// a login page: the login redirect with the session cookies cleared ([`answer::session_ended`]).
/// `None` for anything else: API requests, credentials that are not cookies, and a request for
/// the login page itself (no redirect loop when it is not public) keep their RFC 6750 answer.
fn session_ended(config: &GateConfig, req: &RequestView, path: &str) -> Option<Answer> {
    let login = config.login_url.as_deref()?;
    let login_path = login.split(['?', '#']).next().unwrap_or(login);
    let navigation = answer::is_navigation(req.method, req.accept) && path != login_path;
    navigation.then(|| {
        let cookies = session_cookies_to_clear(req.cookie, &config.cookie_names());
        answer::session_ended(login, req.url, &cookies, config.plain_http)
    })
}

/// The request URL reader the Worker uses (re-exported for the fuzz target).
pub use crate::uri::{request_url, RequestUrl};

/// The answer to a request whose URL the gate cannot read (`uri::request_url` refused the
/// runtime's serialisation of it): 400, never forwarded.
pub fn unreadable_url() -> Answer {
    answer::invalid_request("", "url")
}

/// The request's first decision.
pub fn plan(config: &GateConfig, req: &RequestView) -> Plan {
    let realm = req.host;
    let path = match canonical_path(req.raw_path) {
        Ok(p) => p,
        Err(e) => {
            return Plan::Done(refuse(
                answer::invalid_request(realm, e.as_str()),
                e.as_str(),
                None,
                req.raw_path,
                req,
            ))
        }
    };
    if let Some(endpoint) = config.refresh.as_ref().filter(|r| r.path == path) {
        return plan_refresh(config, endpoint, req, &path);
    }
    // The sessions admin endpoint: its own credential, never the upstream's.
    if let Some(admin) = config.sessions.as_ref().and_then(|s| s.admin.as_ref()) {
        let under = path
            .strip_prefix(admin.path.as_str())
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'));
        if under {
            let query = crate::uri::request_url(req.url).and_then(|u| u.query);
            return match super::admin::plan(admin, req.method, &path, query, req.authorization) {
                Ok(op) => Plan::Admin(op),
                Err(answer) => Plan::Done(refuse(answer, "admin", None, &path, req)),
            };
        }
    }
    // The gate's own JWKS: public keys, for anyone, whatever the route says.
    if let Some(jwks) = config.published_jwks.as_ref().filter(|j| j.path == path) {
        let answer = match req.method {
            "GET" | "HEAD" => answer::published_jwks(&jwks.body, jwks.max_age),
            _ => answer::method_not_allowed("GET, HEAD"),
        };
        return Plan::Done(Done::Answer(answer, None));
    }
    let required = match config
        .routes
        .route(req.method, &path, req.preflight_headers)
    {
        Route::Public => return Plan::Done(forward(config, req, path, Kind::Public)),
        Route::Preflight { forward: true } => {
            return Plan::Done(forward(config, req, path, Kind::Preflight))
        }
        Route::Preflight { forward: false } => {
            return Plan::Done(Done::Answer(answer::preflight_refused(), None))
        }
        Route::Protected(scopes) => scopes.to_vec(),
    };
    // Token headers are credentials only when configured.
    let configured = req.token_headers.len().min(config.token_headers().count());
    let headers = &req.token_headers[..configured];
    let credential = match extract_token(
        req.authorization,
        headers,
        req.cookie,
        &config.cookie_names(),
    ) {
        Ok(c) => c,
        Err(_) => {
            let answer = session_ended(config, req, &path)
                .unwrap_or_else(|| answer::invalid_request(realm, "ambiguous_cookies"));
            return Plan::Done(refuse(answer, "ambiguous_cookies", None, &path, req));
        }
    };
    // `Authorization: DPoP` wins as `Bearer` does, when the gate takes DPoP.
    let credential = match (config.dpop, dpop_token(req.authorization)) {
        (Some(_), Some(token)) => Some(Credential {
            token: token.to_owned(),
            source: Source::Dpop,
        }),
        _ => credential,
    };
    let challenge = Challenge::of(config);
    let Some(credential) = credential else {
        let answer = match &config.login_url {
            Some(login) if answer::is_navigation(req.method, req.accept) => {
                answer::login_redirect(login, req.url)
            }
            _ => answer::missing_token_for(realm, &challenge.schemes()),
        };
        return Plan::Done(refuse(answer, "missing_token", None, &path, req));
    };
    let invalid = |code: Code| {
        let token = Some(credential.token.as_str());
        let answer = match credential.source {
            Source::Cookie(_) if session_is_dead(code) => session_ended(config, req, &path),
            _ => None,
        };
        Plan::Done(refuse(
            answer.unwrap_or_else(|| challenge.refusal(realm, code, credential.source)),
            code.as_str(),
            token,
            &path,
            req,
        ))
    };
    // Oversized tokens are refused before any hashing, caching or key work.
    if credential.token.len() > config.max_token_bytes() {
        return invalid(Code::TooLarge);
    }
    // Which provider's keys may try it: never those of several, never one the route refuses.
    let Some(provider) = choose_provider(config, &credential, &path) else {
        return invalid(Code::Issuer);
    };
    // DPoP: the proof comes with the DPoP scheme, exactly one; `required` takes nothing else.
    let proof = match (credential.source, req.dpop.map(str::trim)) {
        (Source::Dpop, Some(p)) if !p.is_empty() && !p.contains(',') => Some(p.to_owned()),
        (Source::Dpop, _) => return invalid(Code::DpopProof),
        _ if config.dpop == Some(DpopMode::Required) => return invalid(Code::DpopBinding),
        _ => None,
    };
    // A gate with no JWS key (only Auth.js's cookie secret) verifies no bearer or header token.
    let verifies_jws = config.provider(provider).is_some_and(|p| p.verifies_jws());
    if !verifies_jws && !matches!(credential.source, Source::Cookie(_)) {
        return invalid(Code::KeyNotFound);
    }
    Plan::Verify(Pending {
        token: credential.token,
        provider,
        source: credential.source,
        required,
        path,
        proof,
    })
}

/// `scheme://authority` of an absolute URL (the request's origin).
fn origin_of(url: &str) -> &str {
    let Some(i) = url.find("://") else {
        return url;
    };
    match url[i + 3..].find(['/', '?', '#']) {
        Some(j) => &url[..i + 3 + j],
        None => url,
    }
}

/// The refresh endpoint's first decision: `POST` only (405), same-origin only (403: a
/// cross-site page must not be able to rotate a user's family, which would turn the user's
/// own next refresh into a reuse), the one refresh cookie (400 if several, 401 if none).
fn plan_refresh(
    config: &GateConfig,
    endpoint: &super::config::RefreshEndpoint,
    req: &RequestView,
    path: &str,
) -> Plan {
    let answer = |a: Answer, reason: &str| Plan::Done(refuse(a, reason, None, path, req));
    if req.method != "POST" {
        return answer(answer::method_not_allowed("POST"), "method_not_allowed");
    }
    let cross_site = req.sec_fetch_site.is_some_and(|s| s != "same-origin")
        || req.origin.is_some_and(|o| o != origin_of(req.url));
    if cross_site {
        return answer(answer::forbidden("cross_site"), "cross_site");
    }
    let clear = answer::clear_cookie(endpoint.cookie, endpoint.plain_http);
    match single_cookie(req.cookie, endpoint.cookie) {
        Err(_) => answer(
            answer::refresh_refused(400, "ambiguous_cookies", &clear),
            "ambiguous_cookies",
        ),
        Ok(None) => answer(
            answer::refresh_refused(401, "missing_token", &clear),
            "missing_token",
        ),
        Ok(Some(t)) if t.len() > config.max_token_bytes() => answer(
            answer::refresh_refused(401, Code::TooLarge.as_str(), &clear),
            Code::TooLarge.as_str(),
        ),
        Ok(Some(t)) => Plan::Refresh(t),
    }
}

/// The refresh endpoint's answer once the family store decided: the new tokens (the access
/// token in the body, the refresh token as the cookie), or `invalid_grant` with the cookie
/// cleared, or 503.
pub fn after_refresh(
    config: &GateConfig,
    req: &RequestView,
    token: &str,
    outcome: Result<crate::refresh::Issued, Refusal>,
) -> Done {
    let Some(endpoint) = &config.refresh else {
        return Done::Answer(answer::misconfigured(), None);
    };
    let path = endpoint.path.as_str();
    match outcome {
        Ok(issued) => Done::Answer(
            answer::refreshed(&issued, endpoint.cookie, endpoint.plain_http),
            None,
        ),
        Err(Refusal::Invalid(e)) => {
            let clear = answer::clear_cookie(endpoint.cookie, endpoint.plain_http);
            refuse(
                answer::refresh_refused(401, e.code().as_str(), &clear),
                e.code().as_str(),
                Some(token),
                path,
                req,
            )
        }
        Err(Refusal::Unavailable(reason, retry)) => Done::Answer(
            answer::unavailable(reason.as_str(), retry),
            Some(Rejection {
                line: rejection_log(reason.as_str(), Some(token), path, req.ray),
                error: true,
            }),
        ),
    }
}

/// The `WWW-Authenticate` challenges the gate answers with: `Bearer` unless DPoP is required,
/// `DPoP` (with the proof algorithms) when DPoP is taken.
struct Challenge {
    bearer: bool,
    dpop_algs: Option<String>,
}

impl Challenge {
    fn of(config: &GateConfig) -> Challenge {
        let dpop_algs = config.dpop.map(|_| {
            let mut names: Vec<&str> = Vec::new();
            for p in config.providers() {
                for a in config.dpop_rules(p.id).map_or(&[][..], |r| r.algorithms()) {
                    if !names.contains(&a.name()) {
                        names.push(a.name());
                    }
                }
            }
            names.join(" ")
        });
        Challenge {
            bearer: config.dpop != Some(DpopMode::Required),
            dpop_algs,
        }
    }

    /// The schemes to challenge with, each with its parameters after the realm.
    fn schemes(&self) -> Vec<(&'static str, Option<&str>)> {
        let mut out = Vec::new();
        if self.bearer {
            out.push(("Bearer", None));
        }
        if let Some(algs) = &self.dpop_algs {
            out.push(("DPoP", Some(algs.as_str())));
        }
        out
    }

    /// The 401 for `code` on a credential from `source`: a refused proof is the DPoP scheme's
    /// `invalid_dpop_proof`; anything else `invalid_token`, under the scheme the client used
    /// (both schemes when it used another credential on a gate that requires DPoP).
    fn refusal(&self, realm: &str, code: Code, source: Source) -> Answer {
        let dpop = self.dpop_algs.as_deref();
        match (code, dpop) {
            (Code::DpopProof | Code::Replayed, Some(algs)) => answer::refused_for(
                realm,
                "invalid_dpop_proof",
                code.as_str(),
                &[("DPoP", Some(algs))],
            ),
            (Code::DpopNonce, Some(algs)) => answer::refused_for(
                realm,
                "use_dpop_nonce",
                code.as_str(),
                &[("DPoP", Some(algs))],
            ),
            (_, Some(algs)) if source == Source::Dpop || !self.bearer => answer::refused_for(
                realm,
                "invalid_token",
                code.as_str(),
                &[("DPoP", Some(algs))],
            ),
            _ => answer::invalid_token(realm, code.as_str()),
        }
    }
}

/// The DPoP step, once the token verified under [`Pending::presentation`]: for a token that
/// came with a proof, every rule of the proof for this request (its provider's policy `dpop`)
/// but the signature arithmetic, which the caller has the platform do (WebCrypto) before
/// [`finish_dpop`]; `Ok(None)` without a proof (a bound token presented otherwise was already
/// refused by the claim rules).
pub fn prepare_dpop<'p>(
    config: &GateConfig,
    req: &RequestView,
    pending: &'p Pending,
    now: i64,
) -> Result<Option<crate::dpop::PreparedProof<'p>>, Refusal> {
    let Some(proof) = &pending.proof else {
        return Ok(None);
    };
    let rules = config.dpop_rules(pending.provider).ok_or_else(|| {
        Refusal::Invalid(Error::claim(
            Code::DpopBinding,
            "cnf",
            "this provider's policy takes no DPoP-bound tokens (no dpop member)",
        ))
    })?;
    let request = crate::dpop::ProofRequest {
        method: req.method,
        url: req.url,
    };
    crate::dpop::prepare_proof(rules, proof, &request, &pending.token, now)
        .map(Some)
        .map_err(Refusal::Invalid)
}

/// The proof's answer once its signature is known, then its binding to the token's `cnf.jkt`,
/// then, with `JWTGATE_DPOP_NONCE_SECRET`, its nonce at `now`. The proof's replay key is the
/// caller's to record in the shared store.
pub fn finish_dpop(
    config: &GateConfig,
    prepared: crate::dpop::PreparedProof<'_>,
    signature_valid: bool,
    claims: &serde_json::Map<String, serde_json::Value>,
    now: i64,
) -> Result<crate::dpop::Proof, Refusal> {
    let checked = prepared.finish(signature_valid).map_err(Refusal::Invalid)?;
    crate::dpop::check_binding(claims, &checked).map_err(Refusal::Invalid)?;
    if let Some(nonces) = &config.dpop_nonces {
        nonces.check(&checked, now).map_err(Refusal::Invalid)?;
    }
    Ok(checked)
}

/// The decision once the token was verified (or refused) at `now`.
pub fn after_verify(
    config: &GateConfig,
    req: &RequestView,
    pending: Pending,
    outcome: Result<Authenticated, Refusal>,
    now: i64,
) -> Done {
    let realm = req.host;
    let token = Some(pending.token.as_str());
    match outcome {
        Ok(verified) => {
            if !has_scopes(&verified, &pending.required) {
                return refuse(
                    answer::insufficient_scope(realm, &pending.required),
                    "insufficient_scope",
                    token,
                    &pending.path,
                    req,
                );
            }
            // The token's tenant against the one the request names (every rule covering the
            // path): another tenant's resource is refused before the upstream.
            let tenant_headers = match super::tenants::check(
                config,
                pending.provider,
                &pending.path,
                req.host,
                &verified.claims,
            ) {
                Ok(headers) => headers,
                Err(e) => {
                    return refuse(
                        answer::wrong_tenant(realm, e.code().as_str()),
                        "tenant",
                        token,
                        &pending.path,
                        req,
                    )
                }
            };
            let mut identity = identity_headers(config, &verified, now);
            identity.headers.extend(tenant_headers);
            if let Some(p) = config
                .provider(pending.provider)
                .filter(|_| config.has_providers())
            {
                let name = p.name.clone();
                identity
                    .headers
                    .push(("x-jwtgate-provider".to_owned(), name));
            }
            forward(
                config,
                req,
                pending.path,
                Kind::Verified(pending.source, identity),
            )
        }
        Err(Refusal::Invalid(e))
            if matches!(pending.source, Source::Cookie(_)) && session_is_dead(e.code()) =>
        {
            match session_ended(config, req, &pending.path) {
                Some(answer) => refuse(answer, e.code().as_str(), token, &pending.path, req),
                None => refuse(
                    Challenge::of(config).refusal(realm, e.code(), pending.source),
                    e.code().as_str(),
                    token,
                    &pending.path,
                    req,
                ),
            }
        }
        Err(Refusal::Invalid(e)) => {
            let mut answer = Challenge::of(config).refusal(realm, e.code(), pending.source);
            // RFC 9449 §8: the refusal hands out the nonce to retry with.
            if let (Code::DpopNonce, Some(nonces)) = (e.code(), &config.dpop_nonces) {
                answer
                    .headers
                    .push(("dpop-nonce".to_owned(), nonces.issue(now)));
            }
            refuse(answer, e.code().as_str(), token, &pending.path, req)
        }
        Err(Refusal::Unavailable(reason, retry)) => Done::Answer(
            answer::unavailable(reason.as_str(), retry),
            Some(Rejection {
                line: rejection_log(reason.as_str(), token, &pending.path, req.ray),
                error: true,
            }),
        ),
    }
}

/// What kind of request is forwarded, and so which credentials may go with it.
enum Kind {
    /// A public path: the client's credentials pass (the app judges them itself).
    Public,
    /// A CORS preflight: no body, no credentials.
    Preflight,
    /// Verified with the credential at `Source`: only that one goes on, with these identity
    /// headers.
    Verified(Source, Identity),
}

/// The header edits for a forward: client-sent gate and path-override headers removed on every
/// path; then, by kind, the credentials that may not go on.
fn forward(config: &GateConfig, req: &RequestView, path: String, kind: Kind) -> Done {
    let mut remove: Vec<String> = req
        .header_names
        .iter()
        .filter(|n| is_stripped_header(n))
        .map(|n| n.to_ascii_lowercase())
        .collect();
    let mut set = Vec::new();
    let mut with_body = true;
    let mut log = None;
    // The token headers as the request spelt them, each spelling an upstream may read one
    // under (`_` for `-`): the gate read the exact name, a CGI-style app could read another.
    // `keep`: the one whose exact spelling stays (the verified credential).
    let token_header = |keep: Option<usize>| -> Vec<String> {
        let mut out = Vec::new();
        for (i, (_, h)) in config.token_headers().enumerate() {
            let exact_too = keep != Some(i);
            out.extend(
                req.header_names
                    .iter()
                    .filter(|n| same_header(n, h) && (exact_too || !n.eq_ignore_ascii_case(h)))
                    .map(|n| n.to_ascii_lowercase()),
            );
        }
        out
    };
    // The DPoP proof header, in every case the request spelt it: a credential like the others.
    let dpop_names: Vec<String> = req
        .header_names
        .iter()
        .filter(|n| same_header(n, "dpop"))
        .map(|n| n.to_ascii_lowercase())
        .collect();
    // The gate's own refresh cookie never goes upstream, on any path.
    let refresh_cookie = config.refresh.as_ref().map(|r| r.cookie);
    let strip_refresh = |c: String| match refresh_cookie {
        Some(name) => without_cookie(&c, name),
        None => Some(c),
    };
    // The host the gate judged (a tenant's subdomain, say) is the one the upstream reads: a
    // client's own host headers are stripped above, this one is written.
    set.push(("x-forwarded-host".to_owned(), req.host.to_owned()));
    let mut drop = |name: &str| remove.push(name.to_owned());
    match kind {
        Kind::Public => {
            if !config.forward_authorization {
                drop("authorization");
                token_header(None).iter().for_each(|n| drop(n));
            }
            // A proof is good for one request and only the gate keeps its replay state: an
            // unverified one never goes on, not even where the app judges credentials itself.
            dpop_names.iter().for_each(|n| drop(n));
            if let (Some(name), Some(c)) = (refresh_cookie, req.cookie) {
                match without_cookie(c, name) {
                    Some(rest) if rest != c => set.push(("cookie".to_owned(), rest)),
                    Some(_) => {}
                    None => drop("cookie"),
                }
            }
        }
        Kind::Preflight => {
            with_body = false;
            drop("authorization");
            drop("cookie");
            drop("content-length");
            token_header(None).iter().for_each(|n| drop(n));
            dpop_names.iter().for_each(|n| drop(n));
        }
        Kind::Verified(source, identity) => {
            // Never a credential the gate did not verify: Authorization only if it was the
            // bearer token checked, the token header only if it was (in its exact spelling),
            // session cookies only the one checked.
            let from_authorization = matches!(source, Source::Bearer | Source::Dpop);
            if !from_authorization || !config.forward_authorization {
                drop("authorization");
            }
            // The proof goes on only with the token it was checked with.
            if source != Source::Dpop || !config.forward_authorization {
                dpop_names.iter().for_each(|n| drop(n));
            }
            let verified_header = match source {
                Source::Header(i) if config.forward_authorization => Some(i),
                _ => None,
            };
            token_header(verified_header).iter().for_each(|n| drop(n));
            let keep = match source {
                Source::Cookie(i) => Some(i),
                Source::Bearer | Source::Dpop | Source::Header(_) => None,
            };
            match req
                .cookie
                .and_then(|c| forwarded_cookies(c, &config.cookie_names(), keep))
                .and_then(strip_refresh)
            {
                Some(c) => set.push(("cookie".to_owned(), c)),
                None => drop("cookie"),
            }
            set.extend(identity.headers);
            if !identity.omitted.is_empty() {
                let max = config.identity_header_cap();
                log = Some(omitted_log(&identity.omitted, max, &path, req.ray));
            }
        }
    }
    Done::Forward(ForwardPlan {
        path,
        remove,
        set,
        with_body,
        log,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::{Header, Verified};
    use crate::Algorithm;
    use serde_json::json;

    const POLICY: &str =
        r#"{"issuer":"https://iss.example","audience":"api","algorithms":["HS256"]}"#;
    const KEYS: &str = r#"{"keys":[{"kty":"oct","kid":"k","k":"c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA"}]}"#;

    fn config(extra: &[(&str, &str)]) -> GateConfig {
        let mut pairs = vec![
            ("JWTGATE_POLICY", POLICY),
            ("UPSTREAM_URL", "https://app.example"),
            ("JWTGATE_PUBLIC_PATHS", "/health"),
            ("JWTGATE_SCOPES", r#"{"/admin":"admin"}"#),
            ("JWTGATE_LOGIN_URL", "/login"),
        ];
        if !extra.iter().any(|(n, _)| *n == "JWTGATE_JWKS_URL") {
            pairs.push(("JWTGATE_KEYS", KEYS));
        }
        pairs.extend_from_slice(extra);
        // The last value of a name wins: `extra` may override the defaults.
        crate::gate::config::from_pairs(&pairs).expect("config")
    }

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    fn view<'a>(method: &'a str, path: &'a str, header_names: &'a [String]) -> RequestView<'a> {
        RequestView {
            method,
            url: "https://app.example/x",
            host: "app.example",
            raw_path: path,
            header_names,
            authorization: None,
            token_headers: &[],
            cookie: None,
            accept: None,
            preflight_headers: false,
            ray: Some("ray-1"),
            dpop: None,
            origin: None,
            sec_fetch_site: None,
        }
    }

    fn verified(claims: serde_json::Value) -> Authenticated {
        let payload_json = claims.to_string();
        Verified {
            header: Header {
                alg: Algorithm::HS256,
                kid: None,
                typ: None,
            },
            claims: claims.as_object().unwrap().clone(),
            payload_json,
        }
        .into()
    }

    fn done(p: Plan) -> Done {
        match p {
            Plan::Done(d) => d,
            Plan::Verify(v) => panic!("verify: {v:?}"),
            Plan::Refresh(_) => panic!("refresh"),
            Plan::Admin(op) => panic!("admin: {op:?}"),
        }
    }

    fn status(d: &Done) -> u16 {
        match d {
            Done::Answer(a, _) => a.status,
            Done::Forward(_) => 0,
        }
    }

    #[test]
    fn refusals_before_any_verification() {
        let c = config(&[]);
        let none = names(&[]);
        // Not canonical: 400, logged with the raw path.
        let d = done(plan(&c, &view("GET", "/health/..%2Fadmin", &none)));
        assert_eq!(status(&d), 400);
        let Done::Answer(_, Some(r)) = &d else {
            panic!()
        };
        assert!(r.line.contains("..%2Fadmin") && !r.error, "{}", r.line);
        // No token: 401, or the login page for a browser navigation.
        assert_eq!(status(&done(plan(&c, &view("GET", "/orders", &none)))), 401);
        let mut nav = view("GET", "/orders", &none);
        nav.accept = Some("text/html");
        let Done::Answer(a, _) = done(plan(&c, &nav)) else {
            panic!()
        };
        assert_eq!(a.status, 302);
        // Ambiguous cookies: 400 even with a bearer token.
        let mut amb = view("GET", "/orders", &none);
        amb.authorization = Some("Bearer t");
        amb.cookie = Some("a=1 __Secure-authjs.session-token=x");
        assert_eq!(status(&done(plan(&c, &amb))), 400);
        // Too large: 401 too_large before any key work.
        let long = format!("Bearer {}", "a".repeat(20_000));
        let mut big = view("GET", "/orders", &none);
        big.authorization = Some(&long);
        let Done::Answer(a, Some(r)) = done(plan(&c, &big)) else {
            panic!()
        };
        assert_eq!(a.status, 401);
        assert!(a.body.contains("too_large") && !r.line.contains(&"a".repeat(64)));
        // A preflight outside JWTGATE_PREFLIGHT_PATHS is the gate's own answer.
        let mut pre = view("OPTIONS", "/orders", &none);
        pre.preflight_headers = true;
        assert_eq!(status(&done(plan(&c, &pre))), 204);
    }

    #[test]
    fn forwards_strip_gate_and_override_headers_and_unverified_credentials() {
        let c = config(&[("JWTGATE_PREFLIGHT_PATHS", "/api")]);
        let hs = names(&[
            "X-JwtGate-Sub",
            "x_original_url",
            "X-Forwarded-Host",
            "forwarded",
            "x_host",
            "authorization",
            "cookie",
            "accept",
        ]);
        // Public: the client's credentials pass, the gate's headers and host or path overrides
        // do not; the host the gate read goes on as X-Forwarded-Host.
        let mut public = view("GET", "/health", &hs);
        public.authorization = Some("Bearer anything");
        let Done::Forward(f) = done(plan(&c, &public)) else {
            panic!()
        };
        assert_eq!(f.path, "/health");
        assert_eq!(
            f.remove,
            names(&[
                "x-jwtgate-sub",
                "x_original_url",
                "x-forwarded-host",
                "forwarded",
                "x_host"
            ])
        );
        assert_eq!(
            f.set,
            [("x-forwarded-host".to_owned(), "app.example".to_owned())]
        );
        assert!(f.with_body);
        // Preflight: no body, no credentials.
        let mut pre = view("OPTIONS", "/api/x", &hs);
        pre.preflight_headers = true;
        let Done::Forward(f) = done(plan(&c, &pre)) else {
            panic!()
        };
        assert!(!f.with_body);
        for h in ["authorization", "cookie", "content-length", "x-jwtgate-sub"] {
            assert!(f.remove.iter().any(|r| r == h), "{h}");
        }
        // Verified by a cookie: Authorization never goes on; other session cookies dropped.
        let mut req = view("GET", "/orders", &hs);
        req.authorization = Some("Basic dXNlcjpwdw");
        req.cookie = Some("__Secure-authjs.session-token=tok; theme=dark");
        let Plan::Verify(p) = plan(&c, &req) else {
            panic!()
        };
        assert_eq!(p.token, "tok");
        let now = 1_000;
        let d = after_verify(
            &c,
            &req,
            p,
            Ok(verified(json!({"sub": "u", "exp": 1_060}))),
            now,
        );
        let Done::Forward(f) = d else { panic!("{d:?}") };
        assert!(f.remove.iter().any(|r| r == "authorization"));
        let set: std::collections::HashMap<_, _> = f.set.iter().cloned().collect();
        assert_eq!(
            set["cookie"],
            "__Secure-authjs.session-token=tok; theme=dark"
        );
        assert_eq!(set["x-jwtgate-sub"], "u");
        assert_eq!(set["x-jwtgate-expires-in"], "60");
    }

    #[test]
    fn the_token_header_goes_upstream_only_as_the_verified_credential() {
        let header = ("JWTGATE_TOKEN_HEADER", "Cf-Access-Jwt-Assertion");
        let c = config(&[header]);
        let hs = names(&[
            "Cf-Access-Jwt-Assertion",
            "cf_access_jwt_assertion",
            "CF_ACCESS-JWT-ASSERTION",
        ]);
        let forward_of = |c: &GateConfig, req: &RequestView| {
            let Plan::Verify(p) = plan(c, req) else {
                panic!("no verification")
            };
            let d = after_verify(c, req, p, Ok(verified(json!({"sub": "u"}))), 0);
            let Done::Forward(f) = d else { panic!("{d:?}") };
            f
        };
        // Verified from the header: its exact spelling goes on, every other one is removed.
        let mut req = view("GET", "/orders", &hs);
        let tok = [Some("tok".to_owned())];
        req.token_headers = &tok;
        let f = forward_of(&c, &req);
        assert_eq!(
            f.remove
                .iter()
                .filter(|r| r.contains("jwt"))
                .collect::<Vec<_>>(),
            vec!["cf_access_jwt_assertion", "cf_access-jwt-assertion"]
        );
        // With forwarding off, or verified from another credential: no spelling goes on.
        let off = config(&[header, ("JWTGATE_FORWARD_AUTHORIZATION", "false")]);
        let bearer = RequestView {
            authorization: Some("Bearer other"),
            ..req
        };
        for (c, req) in [(&off, &req), (&c, &bearer)] {
            let f = forward_of(c, req);
            for h in [
                "cf-access-jwt-assertion",
                "cf_access_jwt_assertion",
                "cf_access-jwt-assertion",
            ] {
                assert!(f.remove.iter().any(|r| r == h), "{h}: {:?}", f.remove);
            }
        }
        // Without a configured token header the header is not a credential: missing token.
        let plain = config(&[]);
        assert!(matches!(plan(&plain, &req), Plan::Done(Done::Answer(a, _)) if a.status == 401));
        // A public path with forwarding off: no spelling of it goes on either.
        let public = view("GET", "/health", &hs);
        let Done::Forward(f) = done(plan(&off, &public)) else {
            panic!()
        };
        assert_eq!(f.remove.iter().filter(|r| r.contains("jwt")).count(), 3);
        // A preflight carries no spelling of it.
        let mut pre = view("OPTIONS", "/api/x", &hs);
        pre.preflight_headers = true;
        let Done::Forward(f) = done(plan(
            &config(&[header, ("JWTGATE_PREFLIGHT_PATHS", "/api")]),
            &pre,
        )) else {
            panic!()
        };
        assert_eq!(f.remove.iter().filter(|r| r.contains("jwt")).count(), 3);
    }

    #[test]
    fn after_verification_scopes_refusals_and_unavailability() {
        let c = config(&[]);
        let none = names(&[]);
        let mut req = view("GET", "/Admin/users", &none);
        req.authorization = Some("Bearer tok");
        let pending = || match plan(&c, &req) {
            Plan::Verify(p) => p,
            other => panic!("{other:?}"),
        };
        let user = verified(json!({"sub": "u", "scope": "read"}));
        let Done::Answer(a, Some(r)) = after_verify(&c, &req, pending(), Ok(user), 0) else {
            panic!()
        };
        assert_eq!((a.status, r.error), (403, false));
        let admin = verified(json!({"sub": "u", "scope": "read admin"}));
        assert!(matches!(
            after_verify(&c, &req, pending(), Ok(admin), 0),
            Done::Forward(_)
        ));
        let expired = Error::claim(Code::Expired, "exp", "expired");
        let Done::Answer(a, _) =
            after_verify(&c, &req, pending(), Err(Refusal::Invalid(expired)), 0)
        else {
            panic!()
        };
        assert_eq!(a.status, 401);
        assert!(a.body.contains("expired"));
        let Done::Answer(a, Some(r)) = after_verify(
            &c,
            &req,
            pending(),
            Err(Refusal::Unavailable(Unavailable::Jwks, 30)),
            0,
        ) else {
            panic!()
        };
        assert_eq!((a.status, r.error), (503, true));
        assert!(a
            .headers
            .iter()
            .any(|(k, v)| k == "retry-after" && v == "30"));
    }

    #[test]
    fn revocation_and_refetch_decisions() {
        assert_eq!(revocation_outcome(RevocationVerdict::Pass), Ok(()));
        assert!(matches!(
            revocation_outcome(RevocationVerdict::Unavailable),
            Err(Refusal::Unavailable(Unavailable::Revocation, 5))
        ));
        let revoked = Error::claim(Code::Revoked, "sid", "revoked");
        assert!(matches!(
            revocation_outcome(RevocationVerdict::Revoked(revoked)),
            Err(Refusal::Invalid(e)) if e.code() == Code::Revoked
        ));
        let unknown = Error::new(Code::KeyNotFound, "no key");
        assert!(
            !refetch_for(&config(&[]), ProviderId::at(0), &unknown),
            "no remote JWKS"
        );
        let remote = config(&[("JWTGATE_JWKS_URL", "https://idp.example/jwks")]);
        assert!(refetch_for(&remote, ProviderId::at(0), &unknown));
        assert!(!refetch_for(
            &remote,
            ProviderId::at(0),
            &Error::new(Code::Signature, "bad")
        ));
        assert!(
            !refetch_for(&remote, ProviderId::at(1), &unknown),
            "no such provider"
        );
    }

    #[test]
    fn the_tokens_issuer_picks_one_provider_and_the_route_must_accept_it() {
        let providers = r#"[{"name":"api","policy":{"issuer":"https://api.example","audience":"api","algorithms":["ES256"]},"jwksUrl":"https://api.example/jwks"}]"#;
        let c = config(&[
            ("JWTGATE_PROVIDERS", providers),
            (
                "JWTGATE_PROVIDER_ROUTES",
                r#"{"/api": ["api"], "/both": ["api", "default"]}"#,
            ),
        ]);
        let token = |iss: &str| {
            let b = |v: serde_json::Value| crate::b64::encode(v.to_string().as_bytes());
            format!(
                "{}.{}.sig",
                b(json!({"alg": "ES256"})),
                b(json!({"iss": iss, "sub": "u"}))
            )
        };
        let none = names(&[]);
        let plan_for = |path: &'static str, t: String| {
            let mut req = view("GET", path, &none);
            let auth = format!("Bearer {t}");
            req.authorization = Some(Box::leak(auth.into_boxed_str()));
            plan(&c, &req)
        };
        let provider = |p: Plan| match p {
            Plan::Verify(p) => Ok(p.provider.index()),
            Plan::Done(Done::Answer(a, _)) => Err(a.status),
            other => panic!("{other:?}"),
        };
        assert_eq!(
            provider(plan_for("/api/x", token("https://api.example"))),
            Ok(1)
        );
        assert_eq!(
            provider(plan_for("/both", token("https://api.example"))),
            Ok(1)
        );
        assert_eq!(
            provider(plan_for("/both", token("https://iss.example"))),
            Ok(0)
        );
        // The default provider's token on the api-only route, the api's elsewhere, an unknown
        // issuer, no issuer, an undecodable token: refused before any key is tried.
        for (path, t) in [
            ("/api/x", token("https://iss.example")),
            ("/orders", token("https://api.example")),
            ("/api/x", token("https://other.example")),
            ("/api/x", "a.b.c".to_owned()),
        ] {
            assert_eq!(provider(plan_for(path, t)), Err(401), "{path}");
        }
        // The identity says which provider verified it.
        let mut req = view("GET", "/api/x", &none);
        let t = format!("Bearer {}", token("https://api.example"));
        req.authorization = Some(&t);
        let Plan::Verify(p) = plan(&c, &req) else {
            panic!()
        };
        let d = after_verify(&c, &req, p, Ok(verified(json!({"sub": "u"}))), 0);
        let Done::Forward(f) = d else { panic!("{d:?}") };
        assert!(f
            .set
            .contains(&("x-jwtgate-provider".to_owned(), "api".to_owned())));
    }

    /// What the gate does with a verified token for `tenant` (claim `org.id`) on `path` at
    /// `host`: the status, and the forward's header edits when it forwards.
    fn tenant_outcome(
        c: &GateConfig,
        host: &str,
        path: &str,
        tenant: serde_json::Value,
    ) -> (u16, Vec<(String, String)>) {
        let none = names(&[]);
        let mut req = view("GET", path, &none);
        req.host = host;
        // Unsigned: `plan` only peeks at `iss` to choose the provider; verification is faked.
        let b = |v: serde_json::Value| crate::b64::encode(v.to_string().as_bytes());
        let bearer = format!(
            "Bearer {}.{}.sig",
            b(json!({"alg": "HS256"})),
            b(json!({"iss": "https://iss.example"}))
        );
        req.authorization = Some(&bearer);
        let p = match plan(c, &req) {
            Plan::Verify(p) => p,
            Plan::Done(d) => return (status(&d), Vec::new()),
            Plan::Refresh(_) | Plan::Admin(_) => panic!("not a verification"),
        };
        let claims = json!({"sub": "u", "org": {"id": tenant}});
        match after_verify(c, &req, p, Ok(verified(claims)), 0) {
            Done::Forward(f) => (200, f.set),
            d => (status(&d), Vec::new()),
        }
    }

    const TENANT_POLICY: &str = r#"{"issuer":"https://iss.example","audience":"api","algorithms":["HS256"],"tenantClaim":"org.id"}"#;

    #[test]
    fn a_token_opens_only_its_own_tenant_in_the_path() {
        let c = config(&[
            ("JWTGATE_POLICY", TENANT_POLICY),
            ("JWTGATE_TENANTS", r#"[{"route": "/firms/{tenant}"}]"#),
        ]);
        let at = |path: &str, t: serde_json::Value| tenant_outcome(&c, "app.example", path, t).0;
        assert_eq!(at("/firms/acme", json!("acme")), 200);
        assert_eq!(at("/firms/acme/reports/1", json!("acme")), 200);
        assert_eq!(at("/firms/42/x", json!(42)), 200);
        // Percent-encoded as the upstream decodes it: the same tenant passes, another does not.
        assert_eq!(at("/firms/%61cme/x", json!("acme")), 200);
        assert_eq!(at("/firms/acme_2-b", json!("acme_2-b")), 200);
        // Only plain tenants are bound: one an upstream could read otherwise is refused, even
        // when the token names it (`other.json`: tenant `other` with a format to Rails).
        assert_eq!(at("/firms/acme%20corp", json!("acme corp")), 403);
        assert_eq!(at("/firms/other.json", json!("other.json")), 403);
        assert_eq!(at("/firms/a%2Cb", json!("a,b")), 403);
        for path in [
            "/firms/other",
            "/firms/other/acme",
            "/FIRMS/other",
            "/Firms/other/x",
            "/firms/%6Fther",
            "/firms/ACME",
            "/firms/acme.json",
            "/firms/acme%2Bx",
        ] {
            assert_eq!(at(path, json!("acme")), 403, "{path}");
        }
        // Forms a framework could read as another tenant are refused before any token work.
        for path in [
            "/firms/acme/../other",
            "/firms//other",
            "/firms/acme;x",
            "/firms/acme%2Fother",
        ] {
            assert_eq!(at(path, json!("acme")), 400, "{path}");
        }
        // The route itself names no tenant; other routes are not bound.
        assert_eq!(at("/firms", json!("acme")), 200);
        assert_eq!(at("/firmsx/other", json!("acme")), 200);
        assert_eq!(at("/orders/other", json!("acme")), 200);
        // A token whose tenant claim cannot be read is refused on a bound route.
        assert_eq!(at("/firms/acme", json!(null)), 403);
        assert_eq!(at("/firms/acme", json!(["acme"])), 403);
    }

    #[test]
    fn a_token_opens_only_its_own_tenant_in_the_host_and_the_header_is_the_gates() {
        let c = config(&[
            ("JWTGATE_POLICY", TENANT_POLICY),
            (
                "JWTGATE_TENANTS",
                r#"[{"route": "/", "host": "{tenant}.app.example"}, {"route": "/api", "header": "x-jwtgate-tenant"}]"#,
            ),
        ]);
        let at = |host: &str, t: &str| tenant_outcome(&c, host, "/x", json!(t)).0;
        assert_eq!(at("acme.app.example", "acme"), 200);
        // Exact on the lower-cased host: a token for `Acme` is another tenant's.
        assert_eq!(at("acme.app.example", "Acme"), 403);
        for host in [
            "other.app.example",
            "acme.other.app.example",
            "acme.app.example.evil",
            "app.example",
            "acme-app.example",
            "acme.app.examples",
        ] {
            assert_eq!(at(host, "acme"), 403, "{host}");
        }
        // The header rule: the gate writes the verified tenant, whatever the client sent.
        let (code, set) = tenant_outcome(&c, "acme.app.example", "/API/orders", json!("acme"));
        assert_eq!(code, 200);
        assert!(
            set.contains(&("x-jwtgate-tenant".to_owned(), "acme".to_owned())),
            "{set:?}"
        );
        let (_, set) = tenant_outcome(&c, "acme.app.example", "/x", json!("acme"));
        assert!(!set.iter().any(|(h, _)| h == "x-jwtgate-tenant"));
    }

    #[test]
    fn tenant_rules_apply_per_provider() {
        let providers = r#"[{"name":"api","policy":{"issuer":"https://api.example","audience":"api","algorithms":["ES256"]},"jwksUrl":"https://api.example/jwks"}]"#;
        let c = config(&[
            ("JWTGATE_POLICY", TENANT_POLICY),
            ("JWTGATE_PROVIDERS", providers),
            ("JWTGATE_PROVIDER_ROUTES", r#"{"/": ["api", "default"]}"#),
            (
                "JWTGATE_TENANTS",
                r#"[{"route": "/firms/{tenant}", "providers": ["default"]}]"#,
            ),
        ]);
        assert_eq!(
            tenant_outcome(&c, "app.example", "/firms/other", json!("acme")).0,
            403
        );
        let rule = match c.routes.tenants("/firms/other").next() {
            Some((r, Some("other"))) => r.clone(),
            other => panic!("{other:?}"),
        };
        assert_eq!(rule.providers, Some(vec![ProviderId::DEFAULT]));
        let claims = json!({"org": {"id": "acme"}});
        let claims = claims.as_object().unwrap();
        // The api provider's tokens are not bound by this rule (its policy has no tenantClaim).
        let api = ProviderId::at(1);
        assert!(
            super::super::tenants::check(&c, api, "/firms/other", "app.example", claims).is_ok()
        );
        assert!(super::super::tenants::check(
            &c,
            ProviderId::DEFAULT,
            "/firms/other",
            "app.example",
            claims
        )
        .is_err());
    }

    #[test]
    fn a_providers_own_header_decides_its_provider_and_other_headers_never_go_on() {
        let providers = r#"[{"name":"access","policy":{"issuer":"https://acme.cloudflareaccess.com","audience":"tag","algorithms":["ES256"]},"jwksUrl":"https://acme.cloudflareaccess.com/cdn-cgi/access/certs","tokenHeader":"cf-access-jwt-assertion"}]"#;
        let c = config(&[
            ("JWTGATE_PROVIDERS", providers),
            ("JWTGATE_TOKEN_HEADER", "x-api-token"),
            ("JWTGATE_PROVIDER_ROUTES", r#"{"/staff": ["access"]}"#),
        ]);
        let hs = names(&[
            "x-api-token",
            "x_api_token",
            "cf-access-jwt-assertion",
            "cf_access_jwt_assertion",
        ]);
        // Whatever iss it claims, a token in Access's header is Access's (its verifier then
        // checks iss): here one claiming the default issuer.
        let b = |v: serde_json::Value| crate::b64::encode(v.to_string().as_bytes());
        let t = format!(
            "{}.{}.sig",
            b(json!({"alg": "ES256"})),
            b(json!({"iss": "https://iss.example"}))
        );
        let values = [None, Some(t.clone())];
        let mut req = view("GET", "/staff/x", &hs);
        req.token_headers = &values;
        let Plan::Verify(p) = plan(&c, &req) else {
            panic!()
        };
        assert_eq!(p.provider, ProviderId::at(1));
        let d = after_verify(&c, &req, p, Ok(verified(json!({"sub": "u"}))), 0);
        let Done::Forward(f) = d else { panic!("{d:?}") };
        let mut removed: Vec<&str> = f
            .remove
            .iter()
            .map(String::as_str)
            .filter(|r| r.contains("jwt") || r.contains("token"))
            .collect();
        removed.sort();
        assert_eq!(
            removed,
            vec!["cf_access_jwt_assertion", "x-api-token", "x_api_token"]
        );
        // Not on a route that does not accept Access.
        req.raw_path = "/orders";
        assert!(matches!(plan(&c, &req), Plan::Done(Done::Answer(a, _)) if a.status == 401));
    }

    #[test]
    fn dpop_scheme_proof_and_forwarding() {
        const DPOP_POLICY: &str = r#"{"issuer":"https://iss.example","audience":"api","algorithms":["HS256"],"dpop":{"algorithms":["ES256"]}}"#;
        let state = ("JWTGATE_STATE", crate::gate::config::DO_BINDING);
        let c = config(&[
            ("JWTGATE_POLICY", DPOP_POLICY),
            ("JWTGATE_DPOP", "allowed"),
            state,
        ]);
        let hs = names(&["authorization", "DPoP"]);
        let mut req = view("GET", "/orders", &hs);
        req.authorization = Some("dpop tok");
        req.dpop = Some("proof");
        let Plan::Verify(p) = plan(&c, &req) else {
            panic!("no verification")
        };
        assert_eq!((p.token.as_str(), p.source), ("tok", Source::Dpop));
        assert_eq!(p.presentation(), crate::Presentation::Proven);
        // Verified with its proof: Authorization and the proof go on.
        let d = after_verify(&c, &req, p, Ok(verified(json!({"sub": "u"}))), 0);
        let Done::Forward(f) = d else { panic!("{d:?}") };
        assert!(!f.remove.iter().any(|r| r == "authorization" || r == "dpop"));
        // A bearer token with a stray proof header: the proof is removed.
        let bearer = RequestView {
            authorization: Some("Bearer tok"),
            ..req
        };
        let Plan::Verify(p) = plan(&c, &bearer) else {
            panic!()
        };
        assert_eq!(p.presentation(), crate::Presentation::Bearer);
        let d = after_verify(&c, &bearer, p, Ok(verified(json!({"sub": "u"}))), 0);
        let Done::Forward(f) = d else { panic!("{d:?}") };
        assert!(f.remove.iter().any(|r| r == "dpop"));
        // No proof, or two joined by the runtime: 401 invalid_dpop_proof, nothing verified.
        for proof in [None, Some(""), Some("a.b.c, d.e.f")] {
            let r = RequestView { dpop: proof, ..req };
            let Done::Answer(a, _) = done(plan(&c, &r)) else {
                panic!()
            };
            assert_eq!(a.status, 401);
            assert!(
                a.headers[0].1.starts_with(
                    "DPoP realm=\"app.example\", algs=\"ES256\", error=\"invalid_dpop_proof\""
                ),
                "{}",
                a.headers[0].1
            );
        }
        // Without JWTGATE_DPOP the scheme is no credential at all.
        let plain = config(&[]);
        assert!(
            matches!(plan(&plain, &req), Plan::Done(Done::Answer(a, _)) if a.body.contains("missing_token"))
        );
        // Required: a bearer token is refused before any verification.
        let required = config(&[
            ("JWTGATE_POLICY", DPOP_POLICY),
            ("JWTGATE_DPOP", "required"),
            ("JWTGATE_COOKIES", "none"),
            state,
        ]);
        let Done::Answer(a, _) = done(plan(&required, &bearer)) else {
            panic!()
        };
        assert!(a.body.contains("dpop_binding") && a.headers[0].1.starts_with("DPoP "));
        // A public path with forwarding off drops the proof as it drops Authorization.
        let off = config(&[
            ("JWTGATE_POLICY", DPOP_POLICY),
            ("JWTGATE_DPOP", "allowed"),
            ("JWTGATE_FORWARD_AUTHORIZATION", "false"),
            state,
        ]);
        let public = view("GET", "/health", &hs);
        let Done::Forward(f) = done(plan(&off, &public)) else {
            panic!()
        };
        assert!(f.remove.iter().any(|r| r == "dpop"));
        // With forwarding on (the default) too: an unverified proof, still fresh, never goes
        // on, while Authorization does (the app judges it on a public path).
        for gate in [&c, &plain] {
            let Done::Forward(f) = done(plan(gate, &public)) else {
                panic!()
            };
            assert!(f.remove.iter().any(|r| r == "dpop"), "{:?}", f.remove);
            assert!(!f.remove.iter().any(|r| r == "authorization"));
        }
    }

    #[test]
    fn an_ended_or_broken_session_sends_a_navigation_to_the_login_page_with_its_cookies_cleared() {
        let c = config(&[]);
        let hs = names(&["cookie", "accept"]);
        let cookie = "theme=dark; __Secure-authjs.session-token=tok";
        let mut nav = view("GET", "/orders", &hs);
        nav.cookie = Some(cookie);
        nav.accept = Some("text/html,application/xhtml+xml");
        let api = RequestView {
            accept: Some("application/json"),
            ..nav
        };
        let pending = |r: &RequestView| match plan(&c, r) {
            Plan::Verify(p) => p,
            other => panic!("{other:?}"),
        };
        for code in [Code::Expired, Code::TooOld, Code::Revoked, Code::Signature] {
            let refused = Err(Refusal::Invalid(Error::new(code, "x")));
            let Done::Answer(a, Some(r)) = after_verify(&c, &nav, pending(&nav), refused, 0) else {
                panic!()
            };
            assert_eq!(a.status, 302, "{code:?}");
            assert_eq!(
                a.headers[0],
                (
                    "location".to_owned(),
                    "/login?callbackUrl=https%3A%2F%2Fapp.example%2Fx".to_owned()
                )
            );
            assert_eq!(
                a.headers[1],
                (
                    "set-cookie".to_owned(),
                    "__Secure-authjs.session-token=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax; Secure"
                        .to_owned()
                )
            );
            assert!(r.line.contains(code.as_str()), "the log keeps the reason");
            // An API request keeps its RFC 6750 answer.
            let refused = Err(Refusal::Invalid(Error::new(code, "x")));
            let Done::Answer(a, _) = after_verify(&c, &api, pending(&api), refused, 0) else {
                panic!()
            };
            assert_eq!(a.status, 401);
            assert!(!a.headers.iter().any(|(n, _)| n == "set-cookie"));
        }
        // Refusals that say nothing about the session being over keep the 401 and its cookie:
        // a cross-site link to another provider's route must not log the user out.
        for code in [Code::Issuer, Code::KeyNotFound, Code::MissingClaim] {
            let refused = Err(Refusal::Invalid(Error::new(code, "x")));
            let Done::Answer(a, _) = after_verify(&c, &nav, pending(&nav), refused, 0) else {
                panic!()
            };
            assert_eq!(a.status, 401, "{code:?}");
        }
        // The login page itself, protected by mistake: no redirect to itself.
        let at_login = RequestView {
            raw_path: "/login",
            ..nav
        };
        let refused = Err(Refusal::Invalid(Error::new(Code::Expired, "x")));
        let Done::Answer(a, _) = after_verify(&c, &at_login, pending(&at_login), refused, 0) else {
            panic!()
        };
        assert_eq!(a.status, 401);
        // A bearer token in a navigation is no browser session: 401 as before.
        let bearer = RequestView {
            authorization: Some("Bearer tok"),
            ..nav
        };
        let refused = Err(Refusal::Invalid(Error::new(Code::Expired, "x")));
        let Done::Answer(a, _) = after_verify(&c, &bearer, pending(&bearer), refused, 0) else {
            panic!()
        };
        assert_eq!(a.status, 401);
        // Broken chunks: every piece the browser sent is cleared.
        let broken = RequestView {
            cookie: Some("__Secure-authjs.session-token.0=a; __Secure-authjs.session-token.2=c"),
            ..nav
        };
        let Done::Answer(a, _) = done(plan(&c, &broken)) else {
            panic!()
        };
        assert_eq!(a.status, 302);
        let cleared: Vec<&str> = a
            .headers
            .iter()
            .filter(|(n, _)| n == "set-cookie")
            .map(|(_, v)| v.split('=').next().unwrap())
            .collect();
        assert_eq!(
            cleared,
            [
                "__Secure-authjs.session-token.0",
                "__Secure-authjs.session-token.2"
            ]
        );
        let Done::Answer(a, _) = done(plan(
            &c,
            &RequestView {
                accept: None,
                ..broken
            },
        )) else {
            panic!()
        };
        assert_eq!(a.status, 400);
        // Without a login page, a navigation gets the 401 too.
        let no_login = config(&[("JWTGATE_LOGIN_URL", "")]);
        let refused = Err(Refusal::Invalid(Error::new(Code::Expired, "x")));
        let p = match plan(&no_login, &nav) {
            Plan::Verify(p) => p,
            other => panic!("{other:?}"),
        };
        let Done::Answer(a, _) = after_verify(&no_login, &nav, p, refused, 0) else {
            panic!()
        };
        assert_eq!(a.status, 401);
    }

    #[test]
    fn identity_headers_are_bounded() {
        let hs = names(&["authorization"]);
        let mut req = view("GET", "/orders", &hs);
        req.authorization = Some("Bearer tok");
        let big = "x".repeat(5000);
        let claims = json!({"sub": "u", "exp": 100, "email": "a@example.com", "bio": big});
        let forward = |c: &GateConfig| {
            let Plan::Verify(p) = plan(c, &req) else {
                panic!()
            };
            match after_verify(c, &req, p, Ok(verified(claims.clone())), 0) {
                Done::Forward(f) => f,
                other => panic!("{other:?}"),
            }
        };
        let has = |f: &ForwardPlan, h: &str| f.set.iter().any(|(n, _)| n == h);
        let headers = r#"{"email": "x-jwtgate-email", "bio": "x-jwtgate-bio"}"#;
        // Default (4096): the claims header and the bio header are left out, with one log line
        // that names them and their sizes, never their values.
        let c = config(&[("JWTGATE_CLAIM_HEADERS", headers)]);
        let f = forward(&c);
        assert!(has(&f, "x-jwtgate-sub") && has(&f, "x-jwtgate-email"));
        assert!(!has(&f, "x-jwtgate-claims") && !has(&f, "x-jwtgate-bio"));
        let line = f.log.expect("a log line");
        assert!(line.contains("identity_header_omitted") && line.contains("x-jwtgate-claims"));
        assert!(
            line.contains(r#"{"bytes":5000,"header":"x-jwtgate-bio"}"#),
            "{line}"
        );
        assert!(!line.contains("xxxx"), "no value in the log");
        // Raised: everything goes on, no log.
        let c = config(&[
            ("JWTGATE_CLAIM_HEADERS", headers),
            ("JWTGATE_IDENTITY_HEADER_MAX_BYTES", "16384"),
        ]);
        let f = forward(&c);
        assert!(has(&f, "x-jwtgate-claims") && has(&f, "x-jwtgate-bio") && f.log.is_none());
        // Each fits, all together do not: the later ones are left out (twice the cap in all).
        let three = json!({"sub": "u", "exp": 100, "a": "a".repeat(3000), "b": "b".repeat(3000), "c": "c".repeat(3000)});
        let c = config(&[
            (
                "JWTGATE_CLAIM_HEADERS",
                r#"{"a": "x-jwtgate-a", "b": "x-jwtgate-b", "c": "x-jwtgate-c"}"#,
            ),
            ("JWTGATE_IDENTITY_HEADER_MAX_BYTES", "0"),
        ]);
        let Plan::Verify(p) = plan(&c, &req) else {
            panic!()
        };
        let Done::Forward(f) = after_verify(&c, &req, p, Ok(verified(three)), 0) else {
            panic!()
        };
        assert!(has(&f, "x-jwtgate-sub") && has(&f, "x-jwtgate-a") && has(&f, "x-jwtgate-b"));
        assert!(!has(&f, "x-jwtgate-c") && !has(&f, "x-jwtgate-claims"));
        assert!(f
            .log
            .unwrap()
            .contains(r#"{"bytes":3000,"header":"x-jwtgate-c"}"#));
        // 0: never x-jwtgate-claims, the claim headers at the default cap.
        let c = config(&[
            ("JWTGATE_CLAIM_HEADERS", r#"{"email": "x-jwtgate-email"}"#),
            ("JWTGATE_IDENTITY_HEADER_MAX_BYTES", "0"),
        ]);
        let f = forward(&c);
        assert!(!has(&f, "x-jwtgate-claims") && has(&f, "x-jwtgate-email") && f.log.is_none());
        // A setting out of range, or not a number, is a configuration error.
        for bad in ["-1", "65537", "4k"] {
            let pairs = [
                ("JWTGATE_POLICY", POLICY),
                ("UPSTREAM_URL", "https://app.example"),
                ("JWTGATE_KEYS", KEYS),
                ("JWTGATE_IDENTITY_HEADER_MAX_BYTES", bad),
            ];
            let e = crate::gate::config::from_pairs(&pairs)
                .err()
                .unwrap_or_else(|| panic!("{bad:?} accepted"));
            assert!(
                e.to_string().contains("JWTGATE_IDENTITY_HEADER_MAX_BYTES"),
                "{e}"
            );
        }
    }

    #[test]
    fn an_unreadable_url_is_400_invalid_request_and_never_forwarded() {
        let a = unreadable_url();
        assert_eq!(a.status, 400);
        assert!(a.body.contains("\"reason\":\"url\""), "{}", a.body);
        for url in [
            "https://u:p@app.example/x",
            "ftp://app.example/x",
            "https://app.example:x/",
        ] {
            assert!(crate::uri::request_url(url).is_none(), "{url}");
        }
    }
}
