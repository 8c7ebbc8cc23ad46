//! The verify phase of one request, in order, against a [`Host`]: what happens between
//! [`request::plan`](super::request::plan) and [`request::after_verify`](super::request::after_verify)
//! (or `after_refresh`). The Worker implements [`Host`] over workerd (JWKS and the token cache,
//! WebCrypto, KV, the Durable Object, the console) and does nothing else; the tests below play a
//! host that fails in every way it can, natively.
//!
//! The order is the rule: the token (or session cookie) first; a DPoP proof's window judged
//! after any key fetch and its signature checked; the revocation list; the refresh family; and
//! last, once everything else passed, the proof recorded in the replay store, so a refused
//! request uses up no proof. A store that cannot answer is a 503, never a pass.

use super::cache::{token_hash, VerifiedCache};
use super::request::{self, refetch_for, Pending, Refusal, RequestView, Unavailable};
use super::state::{self, path, Judged, SeenRequest, StateAnswer, SubjectAnswer};
use super::{Authenticated, GateConfig, ProviderId};
use crate::dpop::PreparedProof;
use crate::revocation::{self, check_revocation, revocation_keys, EntryKind};
use crate::{Code, Error, Presentation, Verified};
use serde_json::{Map, Value};

/// What the verify phase needs from its runtime. Every answer may fail: `None` (or a
/// [`Refusal`]) is never read as a pass.
// One thread (workerd, and the tests' executor): the futures need no `Send` bound.
#[allow(async_fn_in_trait)]
pub trait Host {
    /// The current time, in seconds (read again after a key fetch).
    fn now(&self) -> i64;
    /// A provider's keys as the runtime holds them (the Worker: its WebCrypto verifier).
    type Keys;
    /// Provider `provider`'s keys as of `now`, the JWKS fetched first when the provider's state
    /// says so (`unknown_kid`: a token named a `kid` the set lacks, worth one refetch), with the
    /// key set's generation; a 503 refusal when there are none usable.
    async fn keys(
        &self,
        provider: ProviderId,
        now: i64,
        unknown_kid: bool,
    ) -> Result<(Self::Keys, u64), Refusal>;
    /// `token` verified with `keys` (the signature by the platform where it can).
    async fn check(
        &self,
        keys: &Self::Keys,
        token: &str,
        presentation: Presentation,
        now: i64,
    ) -> Result<Verified, Error>;
    /// Provider `provider`'s verified-token cache, if the provider exists.
    fn with_cache<T>(
        &self,
        provider: ProviderId,
        f: impl FnOnce(&mut VerifiedCache) -> T,
    ) -> Option<T>;
    /// A DPoP proof's signature as the platform checks it: `None` where it cannot answer (the
    /// core then checks it).
    async fn proof_signature(&self, proof: &PreparedProof<'_>) -> Option<bool>;
    /// The revocation list's value for each key, in order (`Some(None)`: absent; `None`: that
    /// lookup failed); `None` when the list cannot be read at all.
    async fn revocation_values(&self, keys: &[&str]) -> Option<Vec<Option<Option<String>>>>;
    /// One request to the gate's state object `object` at `path` (a POST with `body`, else a
    /// GET): its status and body, or `None` if it could not be reached in time or is not the
    /// gate's own class.
    async fn state(&self, object: &str, path: &str, body: Option<String>) -> Option<(u16, String)>;
    /// One error line for the operator (never a token, a signature or key material).
    fn log_error(&self, line: String);
}

/// A bearer, header or DPoP token, all the way: [`authorize`]; for a DPoP token its proof
/// (`request::prepare_dpop`, [`Host::proof_signature`], `request::finish_dpop`); the
/// revocation list; the refresh family (default provider); and last the proof's `jti` recorded
/// in the shared replay store.
pub async fn verify_token<H: Host>(
    config: &GateConfig,
    host: &H,
    view: &RequestView<'_>,
    pending: &Pending,
    now: i64,
) -> Result<Authenticated, Refusal> {
    let verified = authorize(
        config,
        host,
        pending.provider,
        &pending.token,
        pending.presentation(),
        now,
    )
    .await?;
    // The proof's window is judged now, after any key fetch, not at the request's start.
    let proof = match request::prepare_dpop(config, view, pending, host.now())? {
        None => None,
        Some(prepared) => {
            let valid = match host.proof_signature(&prepared).await {
                Some(valid) => valid,
                None => prepared.check_here(),
            };
            Some(request::finish_dpop(
                config,
                prepared,
                valid,
                &verified.claims,
                host.now(),
            )?)
        }
    };
    revocation(config, host, &verified.claims).await?;
    if pending.provider == ProviderId::DEFAULT {
        family_alive(config, host, &verified.claims).await?;
    }
    if let Some(proof) = proof {
        record_proof(host, &proof).await?;
    }
    Ok(verified.into())
}

/// Verifies a token (its size checked by `request::plan`) with provider `provider`'s keys.
/// Keys first: a cache hit is only as good as the key set that verified it, so past the JWKS
/// stale bound even cached tokens fail closed (and a new set empties the cache). A hit is
/// re-checked against every claim rule; a miss is verified, once more after one JWKS refetch
/// if its `kid` is unknown to a remote set; only tokens that verified are cached.
pub async fn authorize<H: Host>(
    config: &GateConfig,
    host: &H,
    provider: ProviderId,
    token: &str,
    presentation: Presentation,
    now: i64,
) -> Result<Verified, Refusal> {
    let policy = &config
        .provider(provider)
        .ok_or(Refusal::Unavailable(Unavailable::NoKeys, 60))?
        .policy;
    let (keys, generation) = host.keys(provider, now, false).await?;
    let hash = token_hash(token);
    let rules = policy.rules();
    if let Some(hit) = host
        .with_cache(provider, |c| c.hit(&hash, rules, presentation, now))
        .flatten()
    {
        return hit.map_err(Refusal::Invalid);
    }
    let (verified, generation) = match host.check(&keys, token, presentation, now).await {
        Err(e) if refetch_for(config, provider, &e) => {
            let (keys, generation) = host.keys(provider, now, true).await?;
            let verified = host
                .check(&keys, token, presentation, now)
                .await
                .map_err(Refusal::Invalid)?;
            (verified, generation)
        }
        other => (other.map_err(Refusal::Invalid)?, generation),
    };
    host.with_cache(provider, |c| c.insert(generation, hash, verified.clone()));
    Ok(verified)
}

/// An Auth.js session cookie (`JWTGATE_AUTHJS_SECRET`): decryption and the claim rules in the
/// core, then the revocation list and the refresh family.
#[cfg(feature = "jwe-reader")]
pub async fn open_session<H: Host>(
    config: &GateConfig,
    host: &H,
    reader: &crate::jwe::AuthJsCookie,
    token: &str,
    now: i64,
) -> Result<Authenticated, Refusal> {
    let opened: Authenticated = reader.open(token, now).map_err(Refusal::Invalid)?.into();
    revocation(config, host, &opened.claims).await?;
    family_alive(config, host, &opened.claims).await?;
    Ok(opened)
}

/// The revocation list (`JWTGATE_REVOKED`), when there is one: every entry the claims name,
/// looked up at once. A list that cannot be read is a 503 (failing open skips only failed
/// lookups, where the operator chose it).
async fn revocation<H: Host>(
    config: &GateConfig,
    host: &H,
    claims: &Map<String, Value>,
) -> Result<(), Refusal> {
    if !config.revocation_list {
        return Ok(());
    }
    let keys = revocation_keys(claims).map_err(Refusal::Invalid)?;
    let names: Vec<&str> = keys.iter().map(|(_, key)| key.as_str()).collect();
    let values = host
        .revocation_values(&names)
        .await
        .filter(|v| v.len() == keys.len())
        .ok_or(Refusal::Unavailable(Unavailable::Revocation, 5))?;
    let answers: Vec<(EntryKind, revocation::Lookup<'_>)> = keys
        .iter()
        .zip(&values)
        .map(|((kind, _), value)| {
            let answer = match value {
                None => revocation::Lookup::Unavailable,
                Some(None) => revocation::Lookup::Absent,
                Some(Some(v)) => revocation::Lookup::Present(v),
            };
            (*kind, answer)
        })
        .collect();
    request::revocation_outcome(check_revocation(
        claims,
        &answers,
        config.revocation_fail_open,
    ))
}

/// With refresh rotation on, a token with a `sid` passes only while its family is not revoked
/// (one state read per request: revocation by reuse takes effect at once, in every isolate).
/// A `sid` that is not a string is refused, never skipped.
async fn family_alive<H: Host>(
    config: &GateConfig,
    host: &H,
    claims: &Map<String, Value>,
) -> Result<(), Refusal> {
    if config.refresh.is_none() {
        return Ok(());
    }
    let sid = match claims.get("sid") {
        None | Some(Value::Null) => return Ok(()),
        Some(Value::String(sid)) => sid,
        Some(_) => {
            return Err(Refusal::Invalid(Error::claim(
                Code::Malformed,
                "sid",
                "sid must be a string",
            )))
        }
    };
    let answer = host
        .state(&format!("family:{sid}"), path::FAMILY_STATUS, None)
        .await;
    match state::judge_family_status(decoded(&answer)) {
        Judged::Pass => Ok(()),
        Judged::Refused(e) => Err(Refusal::Invalid(e)),
        Judged::Reused | Judged::StoreFailed => Err(store_failed(
            host,
            "family_store_failed",
            Unavailable::Session,
            &answer,
        )),
    }
}

/// The refresh endpoint's work: verify the refresh token, apply the revocation list, sign the
/// next tokens, and let the family's state object decide (one object per family: two
/// concurrent refreshes of one token are serialised there, one rotates and the other is a
/// reuse, which revokes the family).
pub async fn rotate<H: Host>(
    config: &GateConfig,
    host: &H,
    token: &str,
    user_agent: Option<&str>,
    now: i64,
) -> Result<crate::refresh::Issued, Refusal> {
    let endpoint = config
        .refresh
        .as_ref()
        .ok_or(Refusal::Unavailable(Unavailable::Refresh, 60))?;
    let refresher = &endpoint.refresher;
    let (verified, presented) = refresher.verify(token, now).map_err(Refusal::Invalid)?;
    revocation(config, host, &verified.claims).await?;
    // Signed before the store moves on: a failure here leaves the family where it was, so the
    // client's retry with the same token is not taken for a reuse. A rotation always moves to
    // the presented generation + 1 (`refresh::decide`), and the store must say exactly that.
    let next = crate::refresh::Family {
        generation: presented
            .generation
            .checked_add(1)
            .ok_or(Refusal::Unavailable(Unavailable::Refresh, 60))?,
        revoked: false,
    };
    let issued = refresher.issue(&verified.claims, next, now).map_err(|e| {
        if e.code() == Code::Config {
            Refusal::Unavailable(Unavailable::Refresh, 5)
        } else {
            // The session is at its absolute end (within the leeway the refresh token
            // still verified in): over, not unavailable.
            Refusal::Invalid(e)
        }
    })?;
    let body = serde_json::json!({"gen": presented.generation}).to_string();
    let answer = host
        .state(
            &format!("family:{}", presented.sid),
            path::ROTATE,
            Some(body),
        )
        .await;
    match state::judge_rotation(decoded(&answer), next.generation) {
        Judged::Pass => {
            let seen = SeenRequest {
                sid: presented.sid.clone(),
                provider: crate::gate::config::DEFAULT_PROVIDER.to_owned(),
                started: auth_time(&verified.claims)?,
                generation: next.generation,
                user_agent: user_agent.map(str::to_owned),
                expires: now.saturating_add(issued.refresh_expires_in),
                cap: config.sessions.as_ref().and_then(|s| s.cap),
            };
            register(config, host, &verified.claims, seen).await?;
            Ok(issued)
        }
        Judged::Refused(e) => Err(Refusal::Invalid(e)),
        Judged::Reused => {
            if config.sessions.is_some() {
                if let Some(sub) = subject(&verified.claims) {
                    // Best effort: the family is revoked whatever the registry says.
                    let body = serde_json::json!({"sid": presented.sid});
                    tell_subject(host, sub, path::SUBJECT_REUSED, body).await;
                }
            }
            // The incident: the family is revoked. Its id is logged hashed, never the token.
            let id = crate::b64::encode(&<sha2::Sha256 as sha2::Digest>::digest(
                presented.sid.as_bytes(),
            ));
            host.log_error(
                serde_json::json!({"jwtgate": "refresh_reuse", "family": &id[..16], "generation": presented.generation})
                    .to_string(),
            );
            Err(Refusal::Invalid(Error::claim(
                Code::Revoked,
                "sid",
                "a refresh token was used twice: the session was revoked",
            )))
        }
        Judged::StoreFailed => Err(store_failed(
            host,
            "family_store_failed",
            Unavailable::Session,
            &answer,
        )),
    }
}

/// A session's subject: its non-empty string `sub`.
fn subject(claims: &Map<String, Value>) -> Option<&str> {
    claims
        .get("sub")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

/// A verified refresh token's `auth_time` (refresh tokens require it).
fn auth_time(claims: &Map<String, Value>) -> Result<i64, Refusal> {
    claims
        .get("auth_time")
        .and_then(Value::as_f64)
        .map(|t| t.floor() as i64)
        .ok_or_else(|| {
            Refusal::Invalid(Error::claim(
                Code::MissingClaim,
                "auth_time",
                "a session needs its auth_time",
            ))
        })
}

fn subject_answer(answer: &Option<(u16, String)>) -> Option<SubjectAnswer> {
    answer
        .as_ref()
        .and_then(|(status, body)| SubjectAnswer::decode(*status, body))
}

/// Registers a rotated session in its subject's registry (when the gate keeps one): the
/// sessions the cap ends are revoked before the new tokens go out; a session the cap refuses
/// has its family revoked and is `revoked`. A registry or family store that does not answer
/// is 503 `session_unavailable`, never a pass.
async fn register<H: Host>(
    config: &GateConfig,
    host: &H,
    claims: &Map<String, Value>,
    seen: SeenRequest,
) -> Result<(), Refusal> {
    if config.sessions.is_none() {
        return Ok(());
    }
    let sub = subject(claims).ok_or_else(|| {
        Refusal::Invalid(Error::claim(
            Code::MissingClaim,
            "sub",
            "a session needs its subject",
        ))
    })?;
    let answer = host
        .state(
            &state::subject_object(sub),
            path::SUBJECT_SEEN,
            Some(seen.encode()),
        )
        .await;
    match subject_answer(&answer) {
        Some(SubjectAnswer::Admitted(ended)) => {
            for sid in &ended {
                revoke_family(host, sid).await?;
            }
            if !ended.is_empty() {
                // Best effort: until the registry hears it, it hands them out again (and the
                // revocations are repeated, which changes nothing).
                let body = serde_json::json!({ "sids": ended });
                tell_subject(host, sub, path::SUBJECT_REVOKED, body).await;
            }
            Ok(())
        }
        Some(SubjectAnswer::Refused) => {
            revoke_family(host, &seen.sid).await?;
            Err(Refusal::Invalid(Error::claim(
                Code::Revoked,
                "sid",
                "the subject has the most concurrent sessions allowed",
            )))
        }
        _ => Err(store_failed(
            host,
            "subject_store_failed",
            Unavailable::Session,
            &answer,
        )),
    }
}

/// Tells the subject's registry something that already happened (best effort: a failure is
/// logged, and changes no outcome).
async fn tell_subject<H: Host>(host: &H, sub: &str, at: &str, body: Value) {
    let answer = host
        .state(&state::subject_object(sub), at, Some(body.to_string()))
        .await;
    if subject_answer(&answer) != Some(SubjectAnswer::Recorded) {
        store_failed(host, "subject_store_failed", Unavailable::Session, &answer);
    }
}

/// Revokes the family `sid` in its object: its next refresh fails, and every access token of
/// it is refused from the next request on, in every isolate.
pub async fn revoke_family<H: Host>(host: &H, sid: &str) -> Result<(), Refusal> {
    let answer = host
        .state(
            &format!("family:{sid}"),
            path::FAMILY_REVOKE,
            Some("{}".to_owned()),
        )
        .await;
    match decoded(&answer) {
        Some(StateAnswer::Revoked { to_rotation: false }) => Ok(()),
        _ => Err(store_failed(
            host,
            "family_store_failed",
            Unavailable::Session,
            &answer,
        )),
    }
}

/// Records a DPoP proof in the replay store, the state object of its key's thumbprint (one
/// object per holder key: two isolates racing with one proof cannot both win): `replayed` if
/// it was seen within its window; 503 `replay_unavailable` if the store cannot answer.
async fn record_proof<H: Host>(host: &H, proof: &crate::dpop::Proof) -> Result<(), Refusal> {
    let body = serde_json::json!({"key": proof.replay_key, "until": proof.replay_until});
    let answer = host
        .state(
            &format!("dpop:{}", proof.jkt),
            path::REPLAY,
            Some(body.to_string()),
        )
        .await;
    match state::judge_replay(decoded(&answer)) {
        Judged::Pass => Ok(()),
        Judged::Refused(e) => Err(Refusal::Invalid(e)),
        Judged::Reused | Judged::StoreFailed => Err(store_failed(
            host,
            "replay_store_failed",
            Unavailable::Replay,
            &answer,
        )),
    }
}

/// The protocol answer in what [`Host::state`] got, if it is one.
fn decoded(answer: &Option<(u16, String)>) -> Option<StateAnswer> {
    answer
        .as_ref()
        .and_then(|(status, body)| StateAnswer::decode(*status, body))
}

/// The state object gave no usable answer: one error line `{"jwtgate": event, "status"}`
/// (never the body), and 503 `reason`.
fn store_failed<H: Host>(
    host: &H,
    event: &str,
    reason: Unavailable,
    answer: &Option<(u16, String)>,
) -> Refusal {
    host.log_error(
        serde_json::json!({"jwtgate": event, "status": answer.as_ref().map(|a| a.0)}).to_string(),
    );
    Refusal::Unavailable(reason, 5)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gate::config::{DO_BINDING, KV_BINDING};
    use crate::verify::Header;
    use crate::Algorithm;
    use serde_json::json;
    use std::cell::{Cell, RefCell};
    use std::future::Future;
    use std::task::{Context, Poll, Waker};

    const NOW: i64 = 1_800_000_000;
    const KEYS: &str = r#"{"keys":[{"kty":"oct","kid":"k","k":"c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA"}]}"#;

    /// `extra` over claims every rule accepts at [`NOW`] (a cache hit re-checks them).
    fn valid(extra: Value) -> Value {
        let mut c = json!({"iss": "https://iss.example", "aud": "api", "exp": NOW + 600});
        c.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        c
    }

    /// The fake host's futures are ready at once: one poll settles them.
    fn run<F: Future>(f: F) -> F::Output {
        let mut f = std::pin::pin!(f);
        match f.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
            Poll::Ready(v) => v,
            Poll::Pending => panic!("the fake host never waits"),
        }
    }

    type StateFn = Box<dyn Fn(&str, &str, Option<&str>) -> Option<(u16, String)>>;

    /// A host that answers as told and records what it was asked.
    struct Fake {
        claims: Value,
        /// `None`: the list cannot be read; per key, `Err(())` fails that lookup.
        kv: Option<Vec<(&'static str, Result<&'static str, ()>)>>,
        state: StateFn,
        state_calls: RefCell<Vec<(String, String, Option<String>)>>,
        kv_calls: RefCell<Vec<String>>,
        logs: RefCell<Vec<String>>,
        cache: RefCell<VerifiedCache>,
        /// The key set's generation; each refetch for an unknown kid makes a new one.
        generation: Cell<u64>,
        /// The first generation that has the token's kid.
        known_from: Cell<u64>,
        keys_down: Cell<bool>,
        invalid: Cell<bool>,
        key_calls: RefCell<Vec<bool>>,
        checks: RefCell<Vec<u64>>,
    }

    impl Fake {
        fn new(claims: Value) -> Fake {
            Fake {
                claims,
                kv: Some(Vec::new()),
                state: Box::new(|_, _, _| Some(StateAnswer::Live.encode())),
                state_calls: RefCell::new(Vec::new()),
                kv_calls: RefCell::new(Vec::new()),
                logs: RefCell::new(Vec::new()),
                cache: RefCell::new(VerifiedCache::new(16)),
                generation: Cell::new(0),
                known_from: Cell::new(0),
                keys_down: Cell::new(false),
                invalid: Cell::new(false),
                key_calls: RefCell::new(Vec::new()),
                checks: RefCell::new(Vec::new()),
            }
        }
        fn answering(
            mut self,
            f: impl Fn(&str, &str, Option<&str>) -> Option<(u16, String)> + 'static,
        ) -> Fake {
            self.state = Box::new(f);
            self
        }
    }

    impl Host for Fake {
        fn now(&self) -> i64 {
            NOW
        }
        type Keys = u64;
        async fn keys(
            &self,
            _: ProviderId,
            _: i64,
            unknown_kid: bool,
        ) -> Result<(u64, u64), Refusal> {
            self.key_calls.borrow_mut().push(unknown_kid);
            let generation = self.generation.get() + u64::from(unknown_kid);
            self.generation.set(generation);
            match self.keys_down.get() {
                true => Err(Refusal::Unavailable(Unavailable::Jwks, 30)),
                false => Ok((generation, generation)),
            }
        }
        async fn check(
            &self,
            keys: &u64,
            _: &str,
            _: Presentation,
            _: i64,
        ) -> Result<Verified, Error> {
            self.checks.borrow_mut().push(*keys);
            // Keys older than `known_from` lack the token's kid.
            if *keys < self.known_from.get() {
                return Err(Error::new(Code::KeyNotFound, "unknown kid"));
            }
            if self.invalid.get() {
                return Err(Error::new(Code::Signature, "bad signature"));
            }
            Ok(Verified {
                header: Header {
                    alg: Algorithm::HS256,
                    kid: None,
                    typ: None,
                },
                claims: self.claims.as_object().unwrap().clone(),
                payload_json: self.claims.to_string(),
            })
        }
        fn with_cache<T>(
            &self,
            _: ProviderId,
            f: impl FnOnce(&mut VerifiedCache) -> T,
        ) -> Option<T> {
            Some(f(&mut self.cache.borrow_mut()))
        }
        async fn proof_signature(&self, _: &PreparedProof<'_>) -> Option<bool> {
            None
        }
        async fn revocation_values(&self, keys: &[&str]) -> Option<Vec<Option<Option<String>>>> {
            let kv = self.kv.as_ref()?;
            Some(
                keys.iter()
                    .map(|k| {
                        self.kv_calls.borrow_mut().push((*k).to_owned());
                        match kv.iter().find(|(name, _)| name == k) {
                            None => Some(None),
                            Some((_, Ok(v))) => Some(Some((*v).to_owned())),
                            Some((_, Err(()))) => None,
                        }
                    })
                    .collect(),
            )
        }
        async fn state(
            &self,
            object: &str,
            path: &str,
            body: Option<String>,
        ) -> Option<(u16, String)> {
            self.state_calls
                .borrow_mut()
                .push((object.to_owned(), path.to_owned(), body.clone()));
            (self.state)(object, path, body.as_deref())
        }
        fn log_error(&self, line: String) {
            self.logs.borrow_mut().push(line);
        }
    }

    fn policy(refresh: bool) -> String {
        let mut p =
            json!({"issuer": "https://iss.example", "audience": "api", "algorithms": ["HS256"]});
        if refresh {
            p["maxAgeSeconds"] = json!(86400);
            p["refresh"] = json!({"audience": "https://iss.example/refresh", "ttlSeconds": 3600});
        }
        p.to_string()
    }

    fn config(extra: &[(&str, &str)], refresh: bool) -> GateConfig {
        let policy = policy(refresh);
        let mut pairs = vec![
            ("JWTGATE_POLICY", policy.as_str()),
            ("UPSTREAM_URL", "https://app.example"),
            ("JWTGATE_KEYS", KEYS),
        ];
        if refresh {
            pairs.push(("JWTGATE_REFRESH_PATH", "/.jwtgate/refresh"));
            pairs.push(("JWTGATE_STATE", DO_BINDING));
        }
        pairs.extend_from_slice(extra);
        crate::gate::config::from_pairs(&pairs).expect("config")
    }

    const NAMES: &[String] = &[];

    fn view() -> RequestView<'static> {
        RequestView {
            method: "GET",
            url: "https://app.example/orders",
            host: "app.example",
            raw_path: "/orders",
            header_names: NAMES,
            authorization: Some("Bearer t"),
            token_headers: &[],
            cookie: None,
            accept: None,
            preflight_headers: false,
            ray: None,
            dpop: None,
            origin: None,
            sec_fetch_site: None,
        }
    }

    /// The request of [`view`] as `plan` leaves it: a bearer token to verify.
    fn pending(c: &GateConfig) -> Pending {
        match request::plan(c, &view()) {
            request::Plan::Verify(p) => p,
            other => panic!("{other:?}"),
        }
    }

    fn code(r: Result<Authenticated, Refusal>) -> String {
        match r {
            Ok(_) => "pass".into(),
            Err(Refusal::Invalid(e)) => e.code().as_str().to_owned(),
            Err(Refusal::Unavailable(u, _)) => format!("503 {}", u.as_str()),
        }
    }

    #[test]
    fn revocation_list_unreadable_or_failing_is_503_and_fail_open_skips_only_failed_lookups() {
        let claims = valid(json!({"sub": "u1", "jti": "j1"}));
        let revoked = config(&[("JWTGATE_REVOKED", KV_BINDING)], false);
        let verify = |c: &GateConfig, host: &Fake| {
            code(run(verify_token(c, host, &view(), &pending(c), NOW)))
        };
        // Nothing listed: a pass, after one lookup per entry the claims name.
        let host = Fake::new(claims.clone());
        assert_eq!(verify(&revoked, &host), "pass");
        assert_eq!(*host.kv_calls.borrow(), ["jti:j1", "sub:u1"]);
        // The list cannot be read at all.
        let host = Fake {
            kv: None,
            ..Fake::new(claims.clone())
        };
        assert_eq!(verify(&revoked, &host), "503 revocation_unavailable");
        // One lookup fails: 503, unless the operator fails open, which skips only that one.
        let host = Fake {
            kv: Some(vec![("jti:j1", Err(()))]),
            ..Fake::new(claims.clone())
        };
        assert_eq!(verify(&revoked, &host), "503 revocation_unavailable");
        let open = config(
            &[
                ("JWTGATE_REVOKED", KV_BINDING),
                ("JWTGATE_REVOCATION_FAIL_OPEN", "true"),
            ],
            false,
        );
        assert_eq!(verify(&open, &host), "pass");
        let host = Fake {
            kv: Some(vec![("jti:j1", Err(())), ("sub:u1", Ok("1"))]),
            ..Fake::new(claims.clone())
        };
        assert_eq!(verify(&open, &host), "revoked");
        // Without a list, nothing is looked up.
        let host = Fake {
            kv: None,
            ..Fake::new(claims)
        };
        assert_eq!(verify(&config(&[], false), &host), "pass");
        assert!(host.kv_calls.borrow().is_empty());
    }

    #[test]
    fn the_family_check_refuses_odd_sids_and_fails_closed_on_the_store() {
        let c = config(&[], true);
        let verify = |host: &Fake| code(run(verify_token(&c, host, &view(), &pending(&c), NOW)));
        // No sid: nothing to check.
        let host = Fake::new(valid(json!({"sub": "u"})));
        assert_eq!(verify(&host), "pass");
        assert!(host.state_calls.borrow().is_empty());
        // A sid that is not a string is refused, and the store is not asked.
        for sid in [json!(42), json!(["s"]), json!({"id": "s"}), json!(true)] {
            let host = Fake::new(valid(json!({"sub": "u", "sid": sid})));
            assert_eq!(verify(&host), "malformed", "{sid}");
            assert!(host.state_calls.borrow().is_empty());
        }
        // A live family passes; the object asked is the family's.
        let host = Fake::new(valid(json!({"sub": "u", "sid": "s-1"})));
        assert_eq!(verify(&host), "pass");
        assert_eq!(
            *host.state_calls.borrow(),
            [(
                "family:s-1".to_owned(),
                path::FAMILY_STATUS.to_owned(),
                None
            )]
        );
        // Revoked: refused. No answer, or one that is not the protocol's: 503, with one log line
        // that carries the status, never the body.
        let revoked = Fake::new(valid(json!({"sub": "u", "sid": "s-1"})))
            .answering(|_, _, _| Some(StateAnswer::Revoked { to_rotation: false }.encode()));
        assert_eq!(verify(&revoked), "revoked");
        for (answer, status) in [
            (None, "null"),
            (Some((200, "banana".to_owned())), "200"),
            (Some((500, "live".to_owned())), "500"),
        ] {
            let host = Fake::new(valid(json!({"sub": "u", "sid": "s-1"})))
                .answering(move |_, _, _| answer.clone());
            assert_eq!(verify(&host), "503 session_unavailable");
            let logs = host.logs.borrow();
            assert_eq!(logs.len(), 1);
            assert!(
                logs[0].contains("family_store_failed")
                    && logs[0].contains(&format!("\"status\":{status}")),
                "{}",
                logs[0]
            );
            assert!(!logs[0].contains("banana"));
        }
    }

    /// A store that plays the gate's Durable Object for families and subjects (the registry
    /// decisions are `sessions`' own), recording every family it revokes.
    #[derive(Default)]
    struct Store {
        registry: RefCell<crate::sessions::SubjectSessions>,
        revoked: RefCell<Vec<String>>,
        registry_down: Cell<bool>,
        revoke_down: Cell<bool>,
    }

    fn store_answer(
        store: &Store,
        object: &str,
        at: &str,
        body: Option<&str>,
    ) -> Option<(u16, String)> {
        let body = body.unwrap_or("");
        if at == path::ROTATE {
            let gen = state::read_rotation(body)?;
            return Some(StateAnswer::Rotated(gen + 1).encode());
        }
        if at == path::FAMILY_REVOKE {
            if store.revoke_down.get() {
                return None;
            }
            let sid = object.strip_prefix("family:")?.to_owned();
            store.revoked.borrow_mut().push(sid);
            return Some(StateAnswer::Revoked { to_rotation: false }.encode());
        }
        if store.registry_down.get() {
            return None;
        }
        // The subject object's own dispatch, on the store's registry.
        let method = if body.is_empty() { "GET" } else { "POST" };
        let kind = state::StateRequest::route(method, at)?;
        let mut registry = store.registry.borrow_mut();
        let answer = state::apply_subject(kind, body, &mut registry, NOW)?;
        Some(answer.encode())
    }

    const ADMIN_TOKEN: &str = "an-admin-secret-of-at-least-32-bytes";

    #[test]
    fn sessions_are_registered_capped_listed_and_ended_through_the_store() {
        use crate::gate::admin::{self, AdminOp};
        use std::rc::Rc;
        let refuse = |mode: &'static str| {
            config(
                &[
                    ("JWTGATE_MAX_SESSIONS", "1"),
                    ("JWTGATE_SESSION_CAP", mode),
                    ("JWTGATE_ADMIN_PATH", "/.jwtgate/admin"),
                    ("JWTGATE_ADMIN_TOKEN", ADMIN_TOKEN),
                ],
                true,
            )
        };
        let c = refuse("end_oldest");
        let refresher = &c.refresh.as_ref().unwrap().refresher;
        let start = |sid: &str, at: i64| {
            let claims = json!({"sub": "ada", "sid": sid, "auth_time": at});
            refresher
                .start(claims.as_object().unwrap().clone(), NOW)
                .unwrap()
        };
        let store = Rc::new(Store::default());
        let s = store.clone();
        let host = Fake::new(json!({})).answering(move |o, p, b| store_answer(&s, o, p, b));
        // The first session rotates and is registered, with its client's family.
        assert!(run(rotate(
            &c,
            &host,
            &start("one", NOW - 100),
            Some("curl/8.5"),
            NOW
        ))
        .is_ok());
        assert_eq!(store.registry.borrow().sessions()[0].client, "curl");
        // A second one: the cap (1) ends the oldest, whose family is revoked at once.
        assert!(run(rotate(&c, &host, &start("two", NOW - 50), None, NOW)).is_ok());
        assert_eq!(*store.revoked.borrow(), ["one"]);
        assert_eq!(store.registry.borrow().to_json()["pending"], json!([]));
        let sids: Vec<String> = store
            .registry
            .borrow()
            .sessions()
            .iter()
            .map(|k| k.sid.clone())
            .collect();
        assert_eq!(sids, ["two"]);
        // The admin endpoint lists it and ends it: the family revoked first.
        let list = run(admin::run(&host, AdminOp::Sessions { sub: "ada".into() }));
        assert_eq!(list.status, 200);
        assert!(list.body.contains(r#""sid":"two""#) && !list.body.contains("curl/8.5"));
        let ended = run(admin::run(
            &host,
            AdminOp::End {
                sub: "ada".into(),
                sid: None,
            },
        ));
        assert_eq!(
            (ended.status, ended.body.as_str()),
            (200, r#"{"ended":["two"],"revoked":["two"]}"#)
        );
        assert_eq!(*store.revoked.borrow(), ["one", "two"]);
        assert!(store.registry.borrow().sessions().is_empty());
        let audit = run(admin::run(&host, AdminOp::Audit { sub: "ada".into() }));
        assert!(audit.body.contains(r#""event":"cap""#) && audit.body.contains(r#""event":"end""#));
        // A family the cap ended that the store could not revoke stays pending: the rotation
        // is 503, and the next admission of the subject revokes it.
        let store = Rc::new(Store::default());
        let s = store.clone();
        let host = Fake::new(json!({})).answering(move |o, p, b| store_answer(&s, o, p, b));
        assert!(run(rotate(&c, &host, &start("one", NOW - 100), None, NOW)).is_ok());
        store.revoke_down.set(true);
        assert!(matches!(
            run(rotate(&c, &host, &start("two", NOW - 50), None, NOW)),
            Err(Refusal::Unavailable(Unavailable::Session, _))
        ));
        assert_eq!(store.registry.borrow().to_json()["pending"], json!(["one"]));
        store.revoke_down.set(false);
        assert!(run(rotate(&c, &host, &start("three", NOW - 10), None, NOW)).is_ok());
        assert!(store.revoked.borrow().contains(&"one".to_owned()));
        assert!(store.revoked.borrow().contains(&"two".to_owned()));
        assert_eq!(store.registry.borrow().to_json()["pending"], json!([]));
        // Refusing instead: the new session is refused and its family revoked.
        let c = refuse("refuse");
        let store = Rc::new(Store::default());
        let s = store.clone();
        let host = Fake::new(json!({})).answering(move |o, p, b| store_answer(&s, o, p, b));
        assert!(run(rotate(&c, &host, &start("one", NOW - 100), None, NOW)).is_ok());
        match run(rotate(&c, &host, &start("two", NOW - 50), None, NOW)) {
            Err(Refusal::Invalid(e)) => assert_eq!(e.code(), Code::Revoked),
            _ => panic!("the cap let a second session through"),
        }
        assert_eq!(*store.revoked.borrow(), ["two"]);
        // The registry down: 503, never a pass (nor tokens issued).
        store.registry_down.set(true);
        assert!(matches!(
            run(rotate(&c, &host, &start("three", NOW), None, NOW)),
            Err(Refusal::Unavailable(Unavailable::Session, _))
        ));
        let listed = run(admin::run(&host, AdminOp::Sessions { sub: "ada".into() }));
        assert_eq!(listed.status, 503);
    }

    #[test]
    fn the_admin_endpoint_takes_its_own_secret_only() {
        use crate::gate::admin::{plan, AdminOp};
        let c = config(
            &[
                ("JWTGATE_ADMIN_PATH", "/.jwtgate/admin/"),
                ("JWTGATE_ADMIN_TOKEN", ADMIN_TOKEN),
            ],
            true,
        );
        let admin = c.sessions.as_ref().unwrap().admin.as_ref().unwrap();
        assert_eq!(admin.path, "/.jwtgate/admin");
        let bearer = format!("Bearer {ADMIN_TOKEN}");
        let ok = |method: &str, at: &str, query: &str| {
            plan(admin, method, at, Some(query), Some(&bearer)).map_err(|a| a.status)
        };
        assert_eq!(
            ok("GET", "/.jwtgate/admin/sessions", "sub=user%40example.com"),
            Ok(AdminOp::Sessions {
                sub: "user@example.com".into()
            })
        );
        assert_eq!(
            ok("POST", "/.jwtgate/admin/sessions/end", "sub=u&sid=s"),
            Ok(AdminOp::End {
                sub: "u".into(),
                sid: Some("s".into())
            })
        );
        assert_eq!(
            ok("GET", "/.jwtgate/admin/audit", "x=1&sub=u"),
            Ok(AdminOp::Audit { sub: "u".into() })
        );
        for (method, at, query, status) in [
            ("POST", "/.jwtgate/admin/sessions", "sub=u", 405),
            ("GET", "/.jwtgate/admin/sessions/end", "sub=u", 405),
            ("GET", "/.jwtgate/admin", "sub=u", 404),
            ("GET", "/.jwtgate/admin/users", "sub=u", 404),
            ("GET", "/.jwtgate/admin/sessions", "", 400),
            ("GET", "/.jwtgate/admin/sessions", "sub=", 400),
            ("GET", "/.jwtgate/admin/sessions", "sub=a&sub=b", 400),
            ("GET", "/.jwtgate/admin/sessions", "sub=%zz", 400),
            ("GET", "/.jwtgate/admin/sessions", "sub=%FF", 400),
            ("GET", "/.jwtgate/admin/sessions", "sub=u&sid=s", 400),
        ] {
            assert_eq!(ok(method, at, query), Err(status), "{method} {at}?{query}");
        }
        // Any other credential is 401: a user's token, a near miss, another scheme, none.
        for auth in [
            None,
            Some("Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1In0.c2ln"),
            Some("Bearer an-admin-secret-of-at-least-32-byteS"),
            Some("Basic YWRtaW46YWRtaW4="),
            Some("DPoP an-admin-secret-of-at-least-32-bytes"),
        ] {
            let r = plan(
                admin,
                "GET",
                "/.jwtgate/admin/sessions",
                Some("sub=u"),
                auth,
            );
            assert_eq!(r.map_err(|a| a.status), Err(401), "{auth:?}");
        }
        assert!(admin.authorized(Some("bearer an-admin-secret-of-at-least-32-bytes")));
    }

    #[test]
    fn a_rotation_moves_the_family_once_and_a_reuse_revokes_it() {
        let c = config(&[], true);
        let refresher = &c.refresh.as_ref().unwrap().refresher;
        let token = refresher
            .start(
                json!({"sub": "u", "sid": "fam-1"})
                    .as_object()
                    .unwrap()
                    .clone(),
                NOW,
            )
            .unwrap();
        // The store moves the family to generation 1: the next tokens are issued.
        let host = Fake::new(json!({})).answering(|_, _, _| Some(StateAnswer::Rotated(1).encode()));
        let issued = run(rotate(&c, &host, &token, None, NOW))
            .map_err(|_| ())
            .expect("rotated");
        assert!(!issued.access_token.is_empty());
        assert_eq!(
            *host.state_calls.borrow(),
            [(
                "family:fam-1".to_owned(),
                path::ROTATE.to_owned(),
                Some(r#"{"gen":0}"#.to_owned())
            )]
        );
        // Any other generation than the one asked for is no rotation.
        let host = Fake::new(json!({})).answering(|_, _, _| Some(StateAnswer::Rotated(2).encode()));
        assert!(matches!(
            run(rotate(&c, &host, &token, None, NOW)),
            Err(Refusal::Unavailable(Unavailable::Session, _))
        ));
        // A reuse: refused as revoked, logged with the family id hashed.
        let host = Fake::new(json!({})).answering(|_, _, _| Some(StateAnswer::Reused.encode()));
        match run(rotate(&c, &host, &token, None, NOW)) {
            Err(Refusal::Invalid(e)) => assert_eq!(e.code(), Code::Revoked),
            _ => panic!("a reuse passed"),
        }
        let logs = host.logs.borrow();
        assert!(
            logs[0].contains("refresh_reuse") && !logs[0].contains("fam-1"),
            "{}",
            logs[0]
        );
        // No store: 503, and nothing issued.
        let host = Fake::new(json!({})).answering(|_, _, _| None);
        assert!(matches!(
            run(rotate(&c, &host, &token, None, NOW)),
            Err(Refusal::Unavailable(Unavailable::Session, _))
        ));
        // A token that is not a refresh token never reaches the store.
        let host = Fake::new(json!({}));
        assert!(matches!(
            run(rotate(&c, &host, "a.b.c", None, NOW)),
            Err(Refusal::Invalid(_))
        ));
        assert!(host.state_calls.borrow().is_empty());
        // Without a refresh endpoint configured: 503, never a pass.
        assert!(matches!(
            run(rotate(
                &config(&[], false),
                &Fake::new(json!({})),
                &token,
                None,
                NOW
            )),
            Err(Refusal::Unavailable(Unavailable::Refresh, _))
        ));
    }

    #[test]
    fn keys_come_before_the_cache_failures_are_never_cached_and_an_unknown_kid_refetches_once() {
        let c = config(&[], false);
        let claims =
            json!({"sub": "u", "iss": "https://iss.example", "aud": "api", "exp": NOW + 600});
        let auth = |host: &Fake| {
            run(authorize(
                &c,
                host,
                ProviderId::DEFAULT,
                "tok",
                Presentation::Bearer,
                NOW,
            ))
        };
        // A miss is checked and cached; the next call is a hit (no second check).
        let host = Fake::new(claims.clone());
        assert!(auth(&host).is_ok());
        assert!(auth(&host).is_ok());
        assert_eq!(host.checks.borrow().len(), 1);
        // No usable keys: 503 even though the token is cached.
        host.keys_down.set(true);
        assert!(matches!(
            auth(&host),
            Err(Refusal::Unavailable(Unavailable::Jwks, _))
        ));
        // A failure is never cached: every call checks again.
        let host = Fake::new(claims.clone());
        host.invalid.set(true);
        for _ in 0..2 {
            assert!(matches!(auth(&host), Err(Refusal::Invalid(e)) if e.code() == Code::Signature));
        }
        assert_eq!(host.checks.borrow().len(), 2);
        // A cache hit is re-checked against the claim rules: past exp it is refused.
        let host = Fake::new(claims.clone());
        assert!(auth(&host).is_ok());
        let late = run(authorize(
            &c,
            &host,
            ProviderId::DEFAULT,
            "tok",
            Presentation::Bearer,
            NOW + 3600,
        ));
        assert!(matches!(late, Err(Refusal::Invalid(e)) if e.code() == Code::Expired));

        // An unknown kid with static keys: refused, no refetch.
        let host = Fake::new(claims.clone());
        host.known_from.set(1);
        assert!(matches!(auth(&host), Err(Refusal::Invalid(e)) if e.code() == Code::KeyNotFound));
        assert_eq!(*host.key_calls.borrow(), [false]);
        // With a remote set: one refetch, the token checked with the new keys.
        let remote = config(
            &[("JWTGATE_JWKS_URL", "https://iss.example/jwks.json")],
            false,
        );
        let host = Fake::new(claims.clone());
        host.known_from.set(1);
        assert!(run(authorize(
            &remote,
            &host,
            ProviderId::DEFAULT,
            "tok",
            Presentation::Bearer,
            NOW
        ))
        .is_ok());
        assert_eq!(*host.key_calls.borrow(), [false, true]);
        assert_eq!(*host.checks.borrow(), [0, 1]);
        // Still unknown after the refetch: refused, and only one refetch was made.
        let host = Fake::new(claims);
        host.known_from.set(5);
        let r = run(authorize(
            &remote,
            &host,
            ProviderId::DEFAULT,
            "tok",
            Presentation::Bearer,
            NOW,
        ));
        assert!(matches!(r, Err(Refusal::Invalid(e)) if e.code() == Code::KeyNotFound));
        assert_eq!(*host.key_calls.borrow(), [false, true]);
    }
}
